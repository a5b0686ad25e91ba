//! A member's health-check counters: probes run, probes failed, and the time they took, in the
//! same per-core slots as the other counters (same concurrency contract). Written by the
//! probe task of the core that runs it.

use super::slots::Field;
use super::{CoreWriter, Stats};

/// One member's health-check counters summed over all cores ([`Stats::check_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CheckTotals {
    /// Probes that ran to an outcome (passed or failed).
    pub runs: u64,
    /// Probes that failed.
    pub failures: u64,
    /// Sum of the probes' durations, microseconds.
    pub duration_sum_us: u64,
}

impl CoreWriter {
    /// One probe of member `m` that took `micros` and `failed` or passed.
    pub fn observe_check(&self, b: usize, m: usize, failed: bool, micros: u64) {
        self.add(b, m, Field::CheckRuns as usize, 1);
        self.add(b, m, Field::CheckFailures as usize, u64::from(failed));
        self.add(b, m, Field::CheckSumUs as usize, micros);
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
    }
}
