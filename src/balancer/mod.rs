//! Per-core balancer: member eligibility (lbsets, status flags, error window, `avoid` set) plus
//! a method that only scores candidates and charges the winner (SEMANTICS.md 2.1, 2.2).
//! STUB: interface fixed; implementation by the balancer work.

use crate::config::BalancerConfig;

/// The outcome of a pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    /// Index of the member in the balancer's config order.
    pub member: usize,
    /// The request carried a route and was sent to the member with that route.
    pub sticky: bool,
    /// A route was carried (or stickiness is configured) but another member was chosen
    /// (`BALANCER_ROUTE_CHANGED`).
    pub route_changed: bool,
}

/// One core's balancer state. `!Sync` by design: each core owns its own.
#[derive(Debug)]
pub struct Balancer {
    members: usize,
}

impl Balancer {
    pub fn new(cfg: &BalancerConfig) -> Self {
        Balancer { members: cfg.members.len() }
    }

    /// Chooses a member. `routes` are the session's candidate routes in order (URL first, then
    /// each session cookie); members whose bit is set in `avoid` are never chosen.
    pub fn pick(&mut self, routes: &[&[u8]], avoid: u64, now_ms: u64) -> Option<Pick> {
        let _ = (routes, now_ms);
        (0..self.members)
            .find(|i| avoid & (1 << i) == 0)
            .map(|member| Pick { member, sticky: false, route_changed: false })
    }
}
