//! One core's counters: a flat array of `AtomicU64` rows, written only by the core that owns it.
//!
//! The array lives on the heap, so wrapping the slot in `CachePadded` (as `Stats` does) pads
//! only the pointer. The array therefore carries its own guard: [`GUARD_WORDS`] unused words
//! before and after the live counters, so no cache line that holds a live counter of one core
//! can hold anything of another core's allocation (no false sharing between writers).
//!
//! # Concurrency
//!
//! Written only by its core, with a plain `load` + `store(Relaxed)` (no read-modify-write, no
//! lock prefix): with one writer, no update can be lost. Read by any core with `Relaxed`
//! loads; a reader sees every counter's own history in order (per-location coherence) but no
//! order between counters, and values may lag the writer by a few updates.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counters kept per member and core, in this order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Field {
    Requests = 0,
    BytesIn = 1,
    BytesOut = 2,
    Busy = 3,
    Errors = 4,
    /// Responses of class 1xx; the next four fields are 2xx to 5xx.
    Status1xx = 5,
    /// Sum of response times in microseconds.
    LatencySumUs = 10,
    /// Response times observed.
    LatencyCount = 11,
    /// Response times up to `LATENCY_BOUNDS_US[0]`; the next fields are the further buckets
    /// (per bucket, not cumulative).
    Latency0 = 12,
    /// The last failure, a packed [`super::LastError`] word (0 = none); stored, not added.
    LastError = 32,
    /// Requests that waited for a connection (member `max`).
    Queued = 33,
    /// Requests that waited `acquire` in vain.
    QueueTimeouts = 34,
    /// Requests refused because `maxqueue` were waiting.
    QueueFull = 35,
    /// Sum of queue waits in microseconds.
    QueueWaitSumUs = 36,
    /// Queue waits up to `LATENCY_BOUNDS_US[0]`; the next fields are the further buckets.
    QueueWait0 = 37,
    /// Health-check probes run (after the queue-wait buckets).
    CheckRuns = 57,
    /// Health-check probes failed.
    CheckFailures = 58,
    /// Sum of probe durations in microseconds.
    CheckSumUs = 59,
    /// The last probe's outcome, a packed [`super::LastCheck`] word (0 = none); stored.
    CheckLast = 60,
    /// Requests with a session route that this member took instead of the route's own.
    RouteChanged = 61,
    /// Requests re-sent to this member on another connection after a pooled one was closed.
    Retries = 62,
    /// Requests moved from this member to another after it failed them.
    Redispatches = 63,
    /// Requests sent over a pooled (reused) connection.
    PoolReuses = 64,
    /// Idle pooled connections on this core now; stored (a gauge), not added.
    PoolIdle = 65,
    /// Exchanges the client cut short (closed, failed or stalled).
    ClientAborts = 66,
    /// Exchanges the member cut short after its response had begun.
    MemberAborts = 67,
}

/// Upper bounds of the response-time histogram buckets, in microseconds: Prometheus' default
/// buckets from 1 ms to 10 s, then on to an hour, so that a bound reaches any usual
/// `timeouts.upstream_response` (the metrics show the bounds up to the first one at or above
/// it); slower responses are only in the count and the sum.
pub const LATENCY_BOUNDS_US: [u64; 20] = [
    1_000,
    2_500,
    5_000,
    10_000,
    25_000,
    50_000,
    100_000,
    250_000,
    500_000,
    1_000_000,
    2_500_000,
    5_000_000,
    10_000_000,
    30_000_000,
    60_000_000,
    120_000_000,
    300_000_000,
    600_000_000,
    1_800_000_000,
    3_600_000_000,
];

/// Words per member: five counters, five response classes, the latency sum, count and buckets,
/// the last failure, then the queue's three counters, wait sum and buckets, then the health
/// check's runs, failures, duration sum and last outcome, then the flow counters
/// ([`super::FlowTotals`]).
pub(super) const FIELDS: usize =
    12 + LATENCY_BOUNDS_US.len() + 1 + 4 + LATENCY_BOUNDS_US.len() + 4 + 7;

/// Unused words before and after the live counters: 128 bytes, the widest prefetch pair on
/// x86_64 (the same width `crossbeam_utils::CachePadded` uses there).
pub(super) const GUARD_WORDS: usize = 128 / std::mem::size_of::<AtomicU64>();

/// One core's counters: `width` words per row (a member: [`FIELDS`]; a listener), the rows
/// back to back.
#[derive(Debug)]
pub(super) struct CoreSlot {
    words: Box<[AtomicU64]>,
    width: usize,
}

impl CoreSlot {
    /// A zeroed slot of `rows` rows of `width` words.
    pub(super) fn new(rows: usize, width: usize) -> CoreSlot {
        let live = rows.saturating_mul(width);
        let len = live.saturating_add(2 * GUARD_WORDS);
        CoreSlot {
            words: (0..len).map(|_| AtomicU64::new(0)).collect(),
            width,
        }
    }

    /// The counter `field` of row `member`; `None` past the end.
    fn word(&self, member: usize, field: usize) -> Option<&AtomicU64> {
        let live = self.words.len() - 2 * GUARD_WORDS;
        let idx = member.checked_mul(self.width)?.checked_add(field)?;
        if field >= self.width || idx >= live {
            return None;
        }
        self.words.get(GUARD_WORDS + idx)
    }

    /// `counter += n`, saturating. Only the owning core may call it (single writer).
    pub(super) fn add(&self, member: usize, field: usize, n: u64) {
        if let Some(w) = self.word(member, field) {
            w.store(w.load(Relaxed).saturating_add(n), Relaxed);
        }
    }

    /// `word = value`; a word that already holds `value` is not written, so a gauge stored
    /// from every tick leaves its cache line shared with the cores that read it. Only the
    /// owning core may call it (single writer).
    pub(super) fn set(&self, member: usize, field: usize, value: u64) {
        if let Some(w) = self.word(member, field) {
            if w.load(Relaxed) != value {
                w.store(value, Relaxed);
            }
        }
    }

    /// `counter -= 1`, floored at 0. Only the owning core may call it (single writer).
    pub(super) fn dec(&self, member: usize, field: usize) {
        if let Some(w) = self.word(member, field) {
            let v = w.load(Relaxed);
            if v > 0 {
                w.store(v - 1, Relaxed);
            }
        }
    }

    /// The counter's current value as seen from this thread (0 past the end).
    pub(super) fn get(&self, member: usize, field: usize) -> u64 {
        self.word(member, field).map_or(0, |w| w.load(Relaxed))
    }

    /// Address range (start, end) of the live counters, for the layout test.
    #[cfg(test)]
    pub(super) fn live_span(&self) -> (usize, usize) {
        let base = self.words.as_ptr() as usize;
        let size = std::mem::size_of::<AtomicU64>();
        (
            base + GUARD_WORDS * size,
            base + (self.words.len() - GUARD_WORDS) * size,
        )
    }
}
