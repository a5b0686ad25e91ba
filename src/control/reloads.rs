//! Reload outcomes for the metrics: how many reloads succeeded and failed, and when the last
//! one succeeded. Written by the control path (a reload at a time, under the controller's
//! lock or before it), read by the admin thread; never on the data path.

use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Counts of reload outcomes since start.
#[derive(Debug, Default)]
pub(super) struct Reloads {
    succeeded: AtomicU64,
    failed: AtomicU64,
    /// Unix milliseconds of the last success; 0: none yet.
    last_success_unix_ms: AtomicU64,
}

/// A copy of [`Reloads`] at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ReloadCounts {
    pub succeeded: u64,
    pub failed: u64,
    /// Unix milliseconds of the last success; `None` when no reload succeeded.
    pub last_success_unix_ms: Option<u64>,
}

impl Reloads {
    /// Counts one reload that ended as `ok` says, at `now_unix_ms`.
    pub(super) fn record(&self, ok: bool, now_unix_ms: u64) {
        if ok {
            self.succeeded.fetch_add(1, Relaxed);
            self.last_success_unix_ms.store(now_unix_ms, Relaxed);
        } else {
            self.failed.fetch_add(1, Relaxed);
        }
    }

    pub(super) fn counts(&self) -> ReloadCounts {
        let last = self.last_success_unix_ms.load(Relaxed);
        ReloadCounts {
            succeeded: self.succeeded.load(Relaxed),
            failed: self.failed.load(Relaxed),
            last_success_unix_ms: (last != 0).then_some(last),
        }
    }
}
