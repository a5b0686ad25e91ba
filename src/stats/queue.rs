//! The counters of a member's connection queue (member `max`): requests that waited, how long
//! (a histogram with the response-time buckets), and those that got no connection. Written
//! only when a request waits or is refused, in the same per-core slots as the other counters
//! (same concurrency contract).

use super::slots::Field;
use super::{CoreWriter, Stats, LATENCY_BOUNDS_US};

/// One member's queue counters summed over all cores ([`Stats::queue_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct QueueTotals {
    /// Requests that waited for a connection (each wait counts).
    pub queued: u64,
    /// Requests that waited `acquire` and got none.
    pub timeouts: u64,
    /// Requests refused at once because `maxqueue` were waiting.
    pub full: u64,
    /// Sum of the waits, microseconds.
    pub wait_sum_us: u64,
    /// Waits per bucket of [`LATENCY_BOUNDS_US`] (not cumulative); longer ones are only in
    /// `queued` and the sum.
    pub wait_buckets: [u64; LATENCY_BOUNDS_US.len()],
}

impl CoreWriter {
    /// One request that waited `micros` in member `m`'s queue (whatever came of it).
    pub fn observe_queue_wait(&self, b: usize, m: usize, micros: u64) {
        self.add(b, m, Field::Queued as usize, 1);
        self.add(b, m, Field::QueueWaitSumUs as usize, micros);
        if let Some(i) = LATENCY_BOUNDS_US.iter().position(|&bound| micros <= bound) {
            self.add(b, m, Field::QueueWait0 as usize + i, 1);
        }
    }

    /// One request that waited `acquire` for member `m` in vain.
    pub fn add_queue_timeout(&self, b: usize, m: usize) {
        self.add(b, m, Field::QueueTimeouts as usize, 1);
    }

    /// One request refused because member `m`'s queue was full.
    pub fn add_queue_full(&self, b: usize, m: usize) {
        self.add(b, m, Field::QueueFull as usize, 1);
    }
}

impl Stats {
    /// Member `m`'s queue counters summed over all cores (zeros when unknown).
    pub fn queue_totals(&self, b: usize, m: usize) -> QueueTotals {
        let mut sum = QueueTotals::default();
        let Some(flat) = self.flat(b, m) else {
            return sum;
        };
        for slot in self.slots.iter() {
            let get = |f: Field| slot.get(flat, f as usize);
            sum.queued = sum.queued.saturating_add(get(Field::Queued));
            sum.timeouts = sum.timeouts.saturating_add(get(Field::QueueTimeouts));
            sum.full = sum.full.saturating_add(get(Field::QueueFull));
            sum.wait_sum_us = sum.wait_sum_us.saturating_add(get(Field::QueueWaitSumUs));
            for (i, n) in sum.wait_buckets.iter_mut().enumerate() {
                *n = n.saturating_add(slot.get(flat, Field::QueueWait0 as usize + i));
            }
        }
        sum
    }

    /// Starts member `m`'s queue counters from `totals` (carried over on reload); the same
    /// rule as [`Stats::seed`]: only before the `Stats` is shared.
    pub fn seed_queue(&self, b: usize, m: usize, totals: &QueueTotals) {
        let (Some(slot), Some(flat)) = (self.slots.first(), self.flat(b, m)) else {
            return;
        };
        slot.add(flat, Field::Queued as usize, totals.queued);
        slot.add(flat, Field::QueueTimeouts as usize, totals.timeouts);
        slot.add(flat, Field::QueueFull as usize, totals.full);
        slot.add(flat, Field::QueueWaitSumUs as usize, totals.wait_sum_us);
        for (i, n) in totals.wait_buckets.iter().enumerate() {
            slot.add(flat, Field::QueueWait0 as usize + i, *n);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;

    #[test]
    fn queue_waits_sum_over_cores_land_in_buckets_and_seed_carries_them() {
        let s = Arc::new(Stats::new(2, &[2]));
        let (w0, w1) = (s.writer(0), s.writer(1));
        w0.observe_queue_wait(0, 1, 700);
        w1.observe_queue_wait(0, 1, 30_000);
        w1.observe_queue_wait(0, 1, 4_000_000_000); // beyond the last bucket (1 h)
        w0.add_queue_timeout(0, 1);
        w1.add_queue_full(0, 1);
        w1.add_queue_full(0, 1);
        let t = s.queue_totals(0, 1);
        assert_eq!((t.queued, t.timeouts, t.full), (3, 1, 2));
        assert_eq!(t.wait_sum_us, 4_000_030_700);
        assert_eq!(t.wait_buckets[0], 1, "700 us <= 1 ms");
        assert_eq!(t.wait_buckets[5], 1, "30 ms <= 50 ms");
        assert_eq!(t.wait_buckets.iter().sum::<u64>(), 2);
        assert_eq!(
            s.queue_totals(0, 0),
            QueueTotals::default(),
            "another member"
        );
        assert_eq!(
            s.totals(0, 1).requests,
            0,
            "the other counters are untouched"
        );
        let next = Stats::new(2, &[2]);
        next.seed_queue(0, 1, &t);
        assert_eq!(next.queue_totals(0, 1), t);
    }
}
