//! Per-listener counters: connections accepted and requests read on each listening address,
//! in per-core single-writer rows like the member counters (see the parent module's
//! concurrency contract). A listener's index is its place among the `listen` addresses and
//! then the `[[listener]]` tables, in config order.

use super::slots::CoreSlot;
use super::{CoreWriter, Stats};

/// Words per listener: connections, requests.
pub(super) const LISTENER_WORDS: usize = 2;
const CONNECTIONS: usize = 0;
const REQUESTS: usize = 1;

/// One listener's counters summed over all cores ([`Stats::listener_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenerTotals {
    /// Client connections accepted.
    pub connections: u64,
    /// Requests read (HTTP/2 streams included), answered by a member or by ringlb.
    pub requests: u64,
}

impl CoreWriter {
    fn listener_slot(&self) -> Option<&CoreSlot> {
        self.stats.listeners.get(self.core).map(|s| &**s)
    }

    /// One connection accepted on listener `l`.
    pub fn add_listener_connection(&self, l: usize) {
        if let Some(slot) = self.listener_slot() {
            slot.add(l, CONNECTIONS, 1);
        }
    }

    /// One request read on listener `l`.
    pub fn add_listener_request(&self, l: usize) {
        if let Some(slot) = self.listener_slot() {
            slot.add(l, REQUESTS, 1);
        }
    }
}

impl Stats {
    /// Listener `l`'s counters summed over the cores (zeros when unknown).
    pub fn listener_totals(&self, l: usize) -> ListenerTotals {
        let mut sum = ListenerTotals::default();
        for slot in self.listeners.iter() {
            sum.connections = sum.connections.saturating_add(slot.get(l, CONNECTIONS));
            sum.requests = sum.requests.saturating_add(slot.get(l, REQUESTS));
        }
        sum
    }

    /// Starts every listener's counters from `from`'s (the previous generation, on reload:
    /// the listening addresses cannot change without a restart). Same rule as
    /// [`Stats::seed`]: only before the workers share it.
    pub fn seed_listeners(&self, from: &Stats) {
        let Some(slot) = self.listeners.first() else {
            return;
        };
        for l in 0..self.listener_count {
            let t = from.listener_totals(l);
            slot.add(l, CONNECTIONS, t.connections);
            slot.add(l, REQUESTS, t.requests);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{ListenerTotals, Stats};

    #[test]
    fn listener_counters_sum_over_cores_and_carry_over() {
        let s = Arc::new(Stats::new(2, &[1]).with_listeners(2));
        let (w0, w1) = (s.writer(0), s.writer(1));
        w0.add_listener_connection(1);
        w1.add_listener_connection(1);
        w1.add_listener_request(1);
        w0.add_listener_request(0);
        w0.add_listener_request(7); // unknown listener: ignored
        let one = ListenerTotals {
            connections: 2,
            requests: 1,
        };
        assert_eq!(s.listener_totals(1), one);
        assert_eq!(s.listener_totals(0).requests, 1);
        assert_eq!(s.listener_totals(7), ListenerTotals::default());
        let next = Stats::new(2, &[1]).with_listeners(2);
        next.seed_listeners(&s);
        assert_eq!(next.listener_totals(1), one);
        assert_eq!(next.listener_count(), 2);
    }
}
