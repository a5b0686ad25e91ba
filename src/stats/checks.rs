//! A member's health-check counters: probes run, probes failed, the time they took, and the
//! last probe's outcome ([`LastCheck`]), in the same per-core slots as the other counters
//! (same concurrency contract). Written by the probe task of the core that runs it.

use super::fault::Fault;
use super::slots::Field;
use super::{CoreWriter, Stats};

/// The outcome of one probe, packed into one word so that a reader never sees the time of
/// one probe with the result of another.
///
/// ```text
/// bits 22..=63  when it ended, Unix milliseconds (clamped to 2^42 - 1, the year 2109)
/// bits 16..=21  the Fault it failed with; 0: it passed
/// bits  0..=15  how long it took, milliseconds (clamped to 65535)
/// ```
///
/// The time is in the high bits, so of two words the larger is the later probe. A word of 0
/// is "no probe yet".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastCheck {
    /// When the probe ended, Unix milliseconds.
    pub unix_ms: u64,
    /// `None`: it passed.
    pub fault: Option<Fault>,
    /// How long it took, milliseconds (65535 for anything longer).
    pub duration_ms: u64,
}

const MAX_CHECK_UNIX_MS: u64 = (1 << 42) - 1;
const MAX_CHECK_MS: u64 = (1 << 16) - 1;

impl LastCheck {
    /// The word for this outcome (layout in the type's doc).
    pub fn encode(self) -> u64 {
        let fault = self.fault.map_or(0, |f| f as u64 & 0x3f);
        (self.unix_ms.min(MAX_CHECK_UNIX_MS) << 22)
            | (fault << 16)
            | self.duration_ms.min(MAX_CHECK_MS)
    }

    /// The outcome a word holds; `None` for 0 or a word whose fault code is unknown.
    pub fn decode(word: u64) -> Option<LastCheck> {
        if word == 0 {
            return None;
        }
        let code = (word >> 16) & 0x3f;
        let fault = match code {
            0 => None,
            code => Some(Fault::from_code(code)?),
        };
        Some(LastCheck {
            unix_ms: word >> 22,
            fault,
            duration_ms: word & MAX_CHECK_MS,
        })
    }
}

/// One member's health-check counters summed over all cores ([`Stats::check_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckTotals {
    /// Probes that ran to an outcome (passed or failed).
    pub runs: u64,
    /// Probes that failed.
    pub failures: u64,
    /// Sum of the probes' durations, microseconds.
    pub duration_sum_us: u64,
    /// The latest probe of any core.
    pub last: Option<LastCheck>,
}

impl CoreWriter {
    /// One probe of member `m` that took `micros` and passed (`fault` `None`) or failed,
    /// ending at `unix_ms`.
    pub fn observe_check(
        &self,
        b: usize,
        m: usize,
        fault: Option<Fault>,
        micros: u64,
        unix_ms: u64,
    ) {
        self.add(b, m, Field::CheckRuns as usize, 1);
        self.add(
            b,
            m,
            Field::CheckFailures as usize,
            u64::from(fault.is_some()),
        );
        self.add(b, m, Field::CheckSumUs as usize, micros);
        let last = LastCheck {
            unix_ms,
            fault,
            duration_ms: micros / 1000,
        };
        if let (Some(slot), Some(flat)) = (self.stats.slots.get(self.core), self.stats.flat(b, m)) {
            slot.set(flat, Field::CheckLast as usize, last.encode());
        }
    }
}

impl Stats {
    /// Member `m`'s health-check counters summed over all cores (zeros when unknown).
    pub fn check_totals(&self, b: usize, m: usize) -> CheckTotals {
        let mut sum = CheckTotals::default();
        let Some(flat) = self.flat(b, m) else {
            return sum;
        };
        for slot in self.slots.iter() {
            let get = |f: Field| slot.get(flat, f as usize);
            sum.runs = sum.runs.saturating_add(get(Field::CheckRuns));
            sum.failures = sum.failures.saturating_add(get(Field::CheckFailures));
            sum.duration_sum_us = sum.duration_sum_us.saturating_add(get(Field::CheckSumUs));
            let last = LastCheck::decode(get(Field::CheckLast));
            if last.map(|l| l.unix_ms) > sum.last.map(|l| l.unix_ms) {
                sum.last = last;
            }
        }
        sum
    }

    /// Starts member `m`'s check counters from `totals` (carried over on reload); the same
    /// rule as [`Stats::seed`]: only before the `Stats` is shared.
    pub fn seed_checks(&self, b: usize, m: usize, totals: &CheckTotals) {
        let (Some(slot), Some(flat)) = (self.slots.first(), self.flat(b, m)) else {
            return;
        };
        slot.add(flat, Field::CheckRuns as usize, totals.runs);
        slot.add(flat, Field::CheckFailures as usize, totals.failures);
        slot.add(flat, Field::CheckSumUs as usize, totals.duration_sum_us);
        if let Some(last) = totals.last {
            slot.set(flat, Field::CheckLast as usize, last.encode());
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{Fault, LastCheck, Stats};

    #[test]
    fn a_last_check_word_round_trips_and_clamps() {
        let cases = [
            (1_764_000_000_123, None, 12),
            (1_764_000_000_123, Some(Fault::CheckTimeout), 2_000),
            (1, Some(Fault::NoPong), 0),
            (u64::MAX, Some(Fault::CheckStatus), u64::MAX),
        ];
        for (unix_ms, fault, duration_ms) in cases {
            let check = LastCheck {
                unix_ms,
                fault,
                duration_ms,
            };
            let want = LastCheck {
                unix_ms: unix_ms.min((1 << 42) - 1),
                fault,
                duration_ms: duration_ms.min(65_535),
            };
            assert_eq!(LastCheck::decode(check.encode()), Some(want), "{check:?}");
        }
        assert_eq!(LastCheck::decode(0), None);
        assert_eq!(
            LastCheck::decode(63 << 16 | 1 << 22),
            None,
            "unknown fault code"
        );
    }

    #[test]
    fn the_latest_probe_of_any_core_is_the_last_and_seed_carries_it() {
        let s = Arc::new(Stats::new(2, &[1]));
        let (w0, w1) = (s.writer(0), s.writer(1));
        w1.observe_check(0, 0, None, 3_000, 2_000);
        w0.observe_check(0, 0, Some(Fault::CheckConnect), 1_500, 1_000);
        let totals = s.check_totals(0, 0);
        assert_eq!(
            (totals.runs, totals.failures, totals.duration_sum_us),
            (2, 1, 4_500)
        );
        let last = totals.last.map(|l| (l.unix_ms, l.fault, l.duration_ms));
        assert_eq!(last, Some((2_000, None, 3)));
        w0.observe_check(0, 0, Some(Fault::CheckStatus), 40_000, 3_000);
        let last = s.check_totals(0, 0).last.map(|l| (l.fault, l.duration_ms));
        assert_eq!(last, Some((Some(Fault::CheckStatus), 40)));

        let next = Stats::new(2, &[1]);
        next.seed_checks(0, 0, &s.check_totals(0, 0));
        assert_eq!(next.check_totals(0, 0), s.check_totals(0, 0));
    }
}
