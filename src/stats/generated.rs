//! Responses ringlb generated itself (not relayed from a member), counted by status code in
//! per-core single-writer words, like the member counters (see the parent module's
//! concurrency contract).

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// The codes counted one by one; any other generated status counts as `other`.
pub const GENERATED_CODES: [u16; 17] = [
    400, 403, 404, 405, 408, 411, 413, 414, 417, 421, 431, 500, 501, 502, 503, 504, 505,
];

/// Words per core: one per code of [`GENERATED_CODES`], then `other`.
pub(super) const GENERATED_WORDS: usize = GENERATED_CODES.len() + 1;

/// One core's generated-response counters (padded by the caller).
#[derive(Debug, Default)]
pub(super) struct GeneratedSlot {
    words: [AtomicU64; GENERATED_WORDS],
}

/// The word of `status`: its index in [`GENERATED_CODES`], or the `other` word.
pub fn generated_index(status: u16) -> usize {
    GENERATED_CODES
        .iter()
        .position(|&c| c == status)
        .unwrap_or(GENERATED_CODES.len())
}

impl GeneratedSlot {
    /// Adds `n` to the word `index`, saturating. Only the owning core may call it.
    pub(super) fn add(&self, index: usize, n: u64) {
        if let Some(w) = self.words.get(index) {
            w.store(w.load(Relaxed).saturating_add(n), Relaxed);
        }
    }

    /// Adds this slot's words to `out`, saturating.
    pub(super) fn sum_into(&self, out: &mut [u64; GENERATED_WORDS]) {
        for (sum, w) in out.iter_mut().zip(&self.words) {
            *sum = sum.saturating_add(w.load(Relaxed));
        }
    }
}
