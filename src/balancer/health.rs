//! Member health shared by all cores (DESIGN.md "What crosses threads" item 3): the error
//! window (`E`, docs/semantics.md §4 and §6) and the failed health check (`C`) of every member
//! of every balancer, plus the time each member last became usable again (slow start), and,
//! for the operator, when its usability last changed and how long it has been unusable.
//!
//! A member is *down* while its check has failed or its error window is open. An error window
//! that ends is cleared lazily (by the next pick); its down time ends when the window did.
//!
//! A member that fails on one core is avoided by every core at its next pick, as Apache's
//! scoreboard does across child processes. Everything else a [`super::Balancer`] knows
//! (admin flags, `lbstatus`, the load views) stays per core.
//!
//! # Word layout
//!
//! One `AtomicU64` per member:
//!
//! ```text
//! bit 63      C  the health check failed (mod_proxy_hcheck's `hcfails` reached)
//! bit 62      E  in error
//! bits 0..=61    error-until, ms since the shared epoch; meaningful only with E (0 without)
//! ```
//!
//! A word of 0 is a healthy member. `E` with an error-until of 0 is "in error, window already
//! over" (an initial `status = "+E"`): the next look clears it. Deadlines past 2^62 - 1 ms
//! (146 million years) are clamped.

use std::sync::atomic::{AtomicU64, Ordering};

const HC_FAILED: u64 = 1 << 63;
const IN_ERROR: u64 = 1 << 62;
const UNTIL_MASK: u64 = IN_ERROR - 1;

/// A member's health as a metric or a log line shows it, at a given time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HealthState {
    /// Neither in an open error window nor failed by the health check. A member whose window
    /// is over but whose `E` no pick has cleared yet is `Ok`: the next look clears it.
    Ok,
    /// In error, not to be retried before `until_ms`.
    InError { until_ms: u64 },
    /// The health check failed (`C`); reported even when an error window is also open, since
    /// only a passing check ends it.
    HcFailed,
}

/// The health words of all members of all balancers, shared as `Arc<Health>` by every core.
///
/// Indexed by (balancer index, member index), both in config order. An index out of range
/// reads as a healthy member that became usable at 0, and every change to it is refused
/// (returns false): no method panics.
///
/// # Concurrency
///
/// Written by whichever core sees a failure, a passing or failing health check, or an error
/// window that is over; read by every core at each pick (one load per member). Every change is
/// a `compare_exchange` loop on the member's word (`AcqRel`), so of several cores racing to
/// make the same change exactly one sees `true` (and logs it). Loads are `Acquire`. The
/// "usable since" time is a second word, stored (`Release`) only by the core whose change made
/// the member usable; a reader may see the new health word a moment before the new time, so
/// a slow-start ramp may start from the previous time for one pick. The words of one
/// balancer are contiguous and not padded: they are written rarely (failures, checks) and read
/// often, so sharing cache lines costs nothing in the common case.
#[derive(Debug)]
pub struct Health {
    /// `start[b]` = index of balancer `b`'s first member; `start[len]` = total.
    start: Box<[usize]>,
    words: Box<[AtomicU64]>,
    usable_since: Box<[AtomicU64]>,
    /// When the member last went down or came back, ms.
    changed_at: Box<[AtomicU64]>,
    /// 0: not down; else 1 + when it went down, ms.
    down_since: Box<[AtomicU64]>,
    /// Time down in the spans that have ended, ms.
    down_ms: Box<[AtomicU64]>,
}

impl Health {
    /// All members healthy, usable since 0. `members[b]` = number of members of balancer `b`.
    pub fn new(members: &[usize]) -> Health {
        let mut start = Vec::with_capacity(members.len() + 1);
        let mut total = 0usize;
        start.push(0);
        for &n in members {
            total = total.saturating_add(n);
            start.push(total);
        }
        Health {
            start: start.into(),
            words: zeros(total),
            usable_since: zeros(total),
            changed_at: zeros(total),
            down_since: zeros(total),
            down_ms: zeros(total),
        }
    }

    /// Copies member `om` of balancer `ob` in `old` to member `m` of balancer `b` here (error
    /// window, failed check, usable since, last change, down time): a reload carries health by
    /// member identity. Call it before this `Health` is shared with the workers.
    pub fn carry_from(&self, b: usize, m: usize, old: &Health, ob: usize, om: usize) {
        if let (Some(i), Some(j)) = (self.slot(b, m), old.slot(ob, om)) {
            for (to, from) in [
                (&self.words, &old.words),
                (&self.usable_since, &old.usable_since),
                (&self.changed_at, &old.changed_at),
                (&self.down_since, &old.down_since),
                (&self.down_ms, &old.down_ms),
            ] {
                to[i].store(from[j].load(Ordering::Acquire), Ordering::Release);
            }
        }
    }

    /// Number of balancers.
    pub fn balancers(&self) -> usize {
        self.start.len().saturating_sub(1)
    }

    /// Number of members of balancer `b` (0 when out of range).
    pub fn members(&self, b: usize) -> usize {
        match (self.start.get(b), self.start.get(b + 1)) {
            (Some(lo), Some(hi)) => hi - lo,
            _ => 0,
        }
    }

    fn slot(&self, b: usize, m: usize) -> Option<usize> {
        (m < self.members(b)).then(|| self.start[b] + m)
    }

    /// The raw word (layout in the module doc); 0 when out of range.
    pub(super) fn word(&self, b: usize, m: usize) -> u64 {
        self.slot(b, m)
            .map_or(0, |i| self.words[i].load(Ordering::Acquire))
    }

    /// Until when (ms) the member is in error; 0 when it is not in error (or its window is
    /// already over and it was put in error without one).
    pub fn error_until(&self, b: usize, m: usize) -> u64 {
        let w = self.word(b, m);
        if w & IN_ERROR == 0 {
            0
        } else {
            w & UNTIL_MASK
        }
    }

    /// Whether `E` is set, window open or not (Apache's flag, before the lazy retry).
    pub fn in_error(&self, b: usize, m: usize) -> bool {
        word_in_error(self.word(b, m))
    }

    /// Whether the health check failed (`C`).
    pub fn hc_failed(&self, b: usize, m: usize) -> bool {
        word_hc_failed(self.word(b, m))
    }

    /// When (ms) the member last became usable again: its error cleared or its failed
    /// check passed. 0 at process start.
    pub fn usable_since(&self, b: usize, m: usize) -> u64 {
        self.slot(b, m)
            .map_or(0, |i| self.usable_since[i].load(Ordering::Acquire))
    }

    /// The member's state at `now_ms`.
    pub fn state(&self, b: usize, m: usize, now_ms: u64) -> HealthState {
        let w = self.word(b, m);
        if word_hc_failed(w) {
            HealthState::HcFailed
        } else if word_in_error(w) && now_ms < word_until(w) {
            HealthState::InError {
                until_ms: word_until(w),
            }
        } else {
            HealthState::Ok
        }
    }

    /// Puts the member in error until `until_ms` (clamped to 2^62 - 1); when it already is,
    /// the later of the two deadlines stays. Returns true iff this call is a state change: the
    /// member was not in error at `now_ms` (no `E`, or its window ended at or before `now_ms`)
    /// and this call stored the word. Of several cores racing with deadlines after `now_ms`,
    /// exactly one sees true; with a deadline at or before `now_ms` (`retry = 0`) the window
    /// is empty and only the call that changes the stored word sees true.
    pub fn set_error(&self, b: usize, m: usize, now_ms: u64, until_ms: u64) -> bool {
        let until_ms = until_ms.min(UNTIL_MASK);
        let (old, new) = self.update(b, m, |w| {
            let until = if word_in_error(w) {
                word_until(w).max(until_ms)
            } else {
                until_ms
            };
            (w & HC_FAILED) | IN_ERROR | until
        });
        let open = word_in_error(old) && now_ms < word_until(old);
        if old != new {
            self.track_down(b, m, (old, new), now_ms);
        }
        old != new && !open
    }

    /// Sets `E` and keeps the deadline the word has (0, a window already over, when it had
    /// none): what setting the flag by hand or by configuration means. True iff it changed.
    pub fn set_error_flag(&self, b: usize, m: usize) -> bool {
        let (old, new) = self.update(b, m, |w| {
            if word_in_error(w) {
                w
            } else {
                (w & HC_FAILED) | IN_ERROR
            }
        });
        old != new
    }

    /// Clears `E` (and the deadline, whether or not it has passed). Returns true iff `E` was
    /// set; only then is "usable since" set to `now_ms` (by the one core whose change it was).
    pub fn clear_error(&self, b: usize, m: usize, now_ms: u64) -> bool {
        let (old, new) = self.update(b, m, |w| w & HC_FAILED);
        let changed = old != new;
        if changed {
            self.set_usable_since(b, m, now_ms);
            self.track_down(b, m, (old, new), now_ms);
        }
        changed
    }

    /// Sets (`failed`) or clears `C`. Returns true iff it changed; a clearing change also sets
    /// "usable since" to `now_ms`.
    pub fn set_hc_failed(&self, b: usize, m: usize, failed: bool, now_ms: u64) -> bool {
        let (old, new) = self.update(b, m, |w| {
            if failed {
                w | HC_FAILED
            } else {
                w & !HC_FAILED
            }
        });
        let changed = old != new;
        if changed && !failed {
            self.set_usable_since(b, m, now_ms);
        }
        if changed {
            self.track_down(b, m, (old, new), now_ms);
        }
        changed
    }

    fn set_usable_since(&self, b: usize, m: usize, now_ms: u64) {
        if let Some(i) = self.slot(b, m) {
            self.usable_since[i].store(now_ms, Ordering::Release);
        }
    }

    /// Applies `f` to the word atomically; returns (old, new). Out of range: (0, 0).
    fn update(&self, b: usize, m: usize, f: impl Fn(u64) -> u64) -> (u64, u64) {
        let Some(i) = self.slot(b, m) else {
            return (0, 0);
        };
        let word = &self.words[i];
        let mut old = word.load(Ordering::Acquire);
        loop {
            let new = f(old);
            if new == old {
                return (old, new);
            }
            match word.compare_exchange_weak(old, new, Ordering::AcqRel, Ordering::Acquire) {
                Ok(_) => return (old, new),
                Err(current) => old = current,
            }
        }
    }
}

impl Health {
    /// Records a change of the member's word from `old` to `new` at `now_ms` in its down
    /// spans: a span that ended (the member is up in `new`, or `old`'s window had already
    /// ended) is closed and added to the down time; a member down in `new` and not in a span
    /// opens one. Called by the one core whose `compare_exchange` made the change; cores
    /// racing through opposite changes may misplace a span's end by the race's width.
    fn track_down(&self, b: usize, m: usize, (old, new): (u64, u64), now_ms: u64) {
        let Some(i) = self.slot(b, m) else {
            return;
        };
        let mut since = self.down_since[i].load(Ordering::Acquire);
        let old_down = word_down(old, now_ms);
        if since != 0 && !(old_down && word_down(new, now_ms)) {
            let end = span_end(old, now_ms).max(since - 1);
            self.down_ms[i].fetch_add(end - (since - 1), Ordering::AcqRel);
            self.down_since[i].store(0, Ordering::Release);
            self.changed_at[i].store(end, Ordering::Release);
            since = 0;
        }
        if since == 0 && word_down(new, now_ms) {
            self.down_since[i].store(now_ms.saturating_add(1), Ordering::Release);
            self.changed_at[i].store(now_ms, Ordering::Release);
        }
    }

    /// When (ms) the member last went down or came back up (an error window that ended
    /// counts at its end); 0 when it has not since the process started.
    pub fn last_change(&self, b: usize, m: usize, now_ms: u64) -> u64 {
        let Some(i) = self.slot(b, m) else {
            return 0;
        };
        let w = self.words[i].load(Ordering::Acquire);
        if self.down_since[i].load(Ordering::Acquire) != 0 && !word_down(w, now_ms) {
            return span_end(w, now_ms);
        }
        self.changed_at[i].load(Ordering::Acquire)
    }

    /// How long (ms) the member has been down in total, up to `now_ms` (HAProxy's downtime).
    pub fn downtime(&self, b: usize, m: usize, now_ms: u64) -> u64 {
        let Some(i) = self.slot(b, m) else {
            return 0;
        };
        let closed = self.down_ms[i].load(Ordering::Acquire);
        let since = self.down_since[i].load(Ordering::Acquire);
        if since == 0 {
            return closed;
        }
        let w = self.words[i].load(Ordering::Acquire);
        let end = span_end(w, now_ms).max(since - 1);
        closed.saturating_add(end - (since - 1))
    }
}

fn zeros(n: usize) -> Box<[AtomicU64]> {
    (0..n).map(|_| AtomicU64::new(0)).collect()
}

/// Whether a member with word `w` is down at `now_ms`: its check failed, or its error
/// window is open.
fn word_down(w: u64, now_ms: u64) -> bool {
    word_hc_failed(w) || (word_in_error(w) && now_ms < word_until(w))
}

/// When a down span of a member with word `w` ends, seen at `now_ms`: `now_ms` while it is
/// down; the end of its error window when only that window kept it down.
fn span_end(w: u64, now_ms: u64) -> u64 {
    if word_down(w, now_ms) || !word_in_error(w) || word_until(w) == 0 {
        now_ms
    } else {
        word_until(w).min(now_ms)
    }
}

/// `E` is set in `w`.
pub(super) fn word_in_error(w: u64) -> bool {
    w & IN_ERROR != 0
}

/// `C` is set in `w`.
pub(super) fn word_hc_failed(w: u64) -> bool {
    w & HC_FAILED != 0
}

/// The deadline bits of `w` (0 when `E` is not set).
pub(super) fn word_until(w: u64) -> u64 {
    w & UNTIL_MASK
}
