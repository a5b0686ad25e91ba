//! How a core's balancer meets the shared [`Health`]: the changes it writes (errors, health
//! check verdicts) and the refresh at the start of every pick, which reads the shared health,
//! runs the lazy error retry (docs/semantics.md §4 `E`), forces the recovery of an all-in-error
//! balancer (§6 `forcerecovery`), then settles the slow-start weights and re-entries
//! (`slowstart.rs`).
//!
//! Apache retries a member (`ap_proxy_retry_worker`) only when a selection scans it. ringlb
//! retries every member at every pick, before selecting, with the same rule: `E` clears when
//! `now_ms >= error_until`, at once with `I`, never with `S`. The only visible difference is
//! that an `E` whose window is over disappears from the status of a member the pick would not
//! have scanned (a higher lbset, a member in drain) one pick earlier than in Apache. It keeps
//! one load of the shared word per member per pick, and every flag settled before the
//! eligibility loop, which then only reads.

use super::health::{word_in_error, word_until};
use super::Balancer;
#[cfg(doc)]
use super::Health;

impl Balancer {
    /// [`Self::mark_error`] with the caller's time: `None` when nothing was marked (`I`, or
    /// out of range), else `Some(changed)`, where `changed` is [`Health::set_error`]'s answer:
    /// the member was not in error at `now_ms`, and of racing cores exactly this one moved it
    /// (log it then).
    pub fn mark_error_at(&mut self, member: usize, now_ms: u64, until_ms: u64) -> Option<bool> {
        let m = self.members.get(member)?;
        if m.ignores_errors() {
            return None;
        }
        let changed = self.health.set_error(self.index, member, now_ms, until_ms);
        self.reload(member);
        Some(changed)
    }

    /// Sets or clears the failed health check (`C`) of `member` in the shared health (the
    /// health checker's verdict after `hcfails` / `hcpasses`). Returns whether it changed;
    /// a clear restarts "usable since" at `now_ms` (slow start). False when out of range.
    pub fn set_hc_failed(&mut self, member: usize, failed: bool, now_ms: u64) -> bool {
        if member >= self.members.len() {
            return false;
        }
        let changed = self
            .health
            .set_hc_failed(self.index, member, failed, now_ms);
        self.reload(member);
        changed
    }

    /// Reads every member's shared health word into this core's copy, clearing the `E` of the
    /// members whose window is over (the first core to see it does the shared clear, which
    /// restarts "usable since" for slow start). Then, with `forcerecovery`, when every member
    /// still has `E` (Apache checks exactly that: all workers in error, whatever their other
    /// flags), clears `E` on all of them and counts one forced recovery. Finally settles the
    /// slow-start weights and the byrequests re-entries. Allocates nothing.
    pub(super) fn refresh(&mut self, now_ms: u64) {
        let (health, b) = (&self.health, self.index);
        let mut all_in_error = !self.members.is_empty();
        for (i, m) in self.members.iter_mut().enumerate() {
            let mut w = health.word(b, i);
            if word_in_error(w)
                && !m.is_stopped()
                && (now_ms >= word_until(w) || m.ignores_errors())
            {
                health.clear_error(b, i, now_ms);
                w = health.word(b, i);
            }
            m.word = w;
            all_in_error &= word_in_error(w);
        }
        if all_in_error && self.forcerecovery {
            for (i, m) in self.members.iter_mut().enumerate() {
                health.clear_error(b, i, now_ms);
                m.word = health.word(b, i);
            }
            self.forced_recoveries = self.forced_recoveries.saturating_add(1);
        }
        self.settle(now_ms);
    }

    /// Re-reads member `i`'s shared word into this core's copy (after a change this core made).
    pub(super) fn reload(&mut self, i: usize) {
        let w = self.health.word(self.index, i);
        if let Some(m) = self.members.get_mut(i) {
            m.word = w;
        }
    }
}
