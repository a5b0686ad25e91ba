//! What happened to a member's requests besides their answers: sticky sessions it took over,
//! retries and redispatches, pooled connections reused and idle, and exchanges either side
//! cut short. Kept in the same per-core slots as the other member counters (same concurrency
//! contract); apart from the pool's idle gauge, every one only grows.

use serde::Serialize;

use super::slots::Field;
use super::{CoreWriter, Stats};

/// One member's flow counters summed over all cores ([`Stats::flow_totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowTotals {
    /// Requests whose session route named another member, sent to this one (the route's
    /// member was unusable, or a domain member or `redirect` took the session).
    pub route_changed: u64,
    /// Requests re-sent to this member on another connection after a pooled one turned out
    /// closed before any response byte.
    pub retries: u64,
    /// Requests this member failed (nothing reached the client) that went on to another.
    pub redispatches: u64,
    /// Requests sent over a pooled connection instead of a new one.
    pub pool_reuses: u64,
    /// Idle pooled connections now, every core together (as of each core's last tick).
    pub pool_idle: u64,
    /// Exchanges the client cut short: it closed, failed or stalled before the end.
    pub client_aborts: u64,
    /// Exchanges the member cut short after its response had begun.
    pub member_aborts: u64,
}

impl CoreWriter {
    fn count(&self, b: usize, m: usize, field: Field) {
        self.add(b, m, field as usize, 1);
    }

    /// A request with a session route for another member sent to member `m`.
    pub fn add_route_changed(&self, b: usize, m: usize) {
        self.count(b, m, Field::RouteChanged);
    }

    /// A request re-sent to member `m` after its pooled connection was found closed.
    pub fn add_retry(&self, b: usize, m: usize) {
        self.count(b, m, Field::Retries);
    }

    /// A request member `m` failed, moved on to another member.
    pub fn add_redispatch(&self, b: usize, m: usize) {
        self.count(b, m, Field::Redispatches);
    }

    /// A request sent to member `m` over a pooled connection.
    pub fn add_pool_reuse(&self, b: usize, m: usize) {
        self.count(b, m, Field::PoolReuses);
    }

    /// Member `m` has `idle` pooled connections on this core now.
    pub fn set_pool_idle(&self, b: usize, m: usize, idle: usize) {
        if let (Some(slot), Some(flat)) = (self.stats.slots.get(self.core), self.stats.flat(b, m)) {
            slot.set(flat, Field::PoolIdle as usize, idle as u64);
        }
    }

    /// An exchange with member `m` the client cut short.
    pub fn add_client_abort(&self, b: usize, m: usize) {
        self.count(b, m, Field::ClientAborts);
    }

    /// An exchange member `m` cut short after its response had begun.
    pub fn add_member_abort(&self, b: usize, m: usize) {
        self.count(b, m, Field::MemberAborts);
    }
}

impl Stats {
    /// Member `m`'s flow counters summed over all cores (zeros when unknown).
    pub fn flow_totals(&self, b: usize, m: usize) -> FlowTotals {
        let mut sum = FlowTotals::default();
        let Some(flat) = self.flat(b, m) else {
            return sum;
        };
        for slot in self.slots.iter() {
            let get = |f: Field| slot.get(flat, f as usize);
            let add = |total: &mut u64, f: Field| *total = total.saturating_add(get(f));
            add(&mut sum.route_changed, Field::RouteChanged);
            add(&mut sum.retries, Field::Retries);
            add(&mut sum.redispatches, Field::Redispatches);
            add(&mut sum.pool_reuses, Field::PoolReuses);
            add(&mut sum.pool_idle, Field::PoolIdle);
            add(&mut sum.client_aborts, Field::ClientAborts);
            add(&mut sum.member_aborts, Field::MemberAborts);
        }
        sum
    }

    /// Starts member `m`'s flow counters from `totals` (carried over on reload), the idle
    /// gauge excepted (the new generation's cores set it); the same rule as [`Stats::seed`]:
    /// only before the `Stats` is shared.
    pub fn seed_flow(&self, b: usize, m: usize, totals: &FlowTotals) {
        let (Some(slot), Some(flat)) = (self.slots.first(), self.flat(b, m)) else {
            return;
        };
        let seed = |f: Field, n: u64| slot.add(flat, f as usize, n);
        seed(Field::RouteChanged, totals.route_changed);
        seed(Field::Retries, totals.retries);
        seed(Field::Redispatches, totals.redispatches);
        seed(Field::PoolReuses, totals.pool_reuses);
        seed(Field::ClientAborts, totals.client_aborts);
        seed(Field::MemberAborts, totals.member_aborts);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::{FlowTotals, Stats};

    #[test]
    fn flow_counters_sum_over_cores_and_seed_carries_all_but_the_idle_gauge() {
        let s = Arc::new(Stats::new(2, &[2]));
        let (w0, w1) = (s.writer(0), s.writer(1));
        w0.add_route_changed(0, 1);
        w1.add_route_changed(0, 1);
        w0.add_retry(0, 1);
        w1.add_redispatch(0, 1);
        w1.add_redispatch(0, 1);
        w0.add_pool_reuse(0, 1);
        w0.set_pool_idle(0, 1, 3);
        w1.set_pool_idle(0, 1, 2);
        w0.set_pool_idle(0, 1, 1); // a gauge: the latest value per core counts
        w1.add_client_abort(0, 1);
        w0.add_member_abort(0, 1);
        w0.add_retry(0, 9); // unknown member: ignored
        let want = FlowTotals {
            route_changed: 2,
            retries: 1,
            redispatches: 2,
            pool_reuses: 1,
            pool_idle: 3,
            client_aborts: 1,
            member_aborts: 1,
        };
        assert_eq!(s.flow_totals(0, 1), want);
        assert_eq!(s.flow_totals(0, 0), FlowTotals::default());
        assert_eq!(s.flow_totals(1, 0), FlowTotals::default());

        let next = Stats::new(2, &[1]);
        next.seed_flow(0, 0, &s.flow_totals(0, 1));
        let carried = FlowTotals {
            pool_idle: 0,
            ..want
        };
        assert_eq!(next.flow_totals(0, 0), carried);
    }
}
