//! The session lookup of [`Balancer::pick`]: which member a session route leads to, through
//! `redirect` chains and replication domains (docs/semantics.md §3 items 5 to 7 and
//! "Replication domains").
//!
//! Read-only except [`Balancer::balance_domain`], which scores and charges the domain member
//! it chooses. Nothing here allocates.

use super::method::Scorer;
use super::{avoided, Balancer, Member};

/// What a route lookup is looking for: a route from the request, or the `redirect` route of
/// member *i* (borrowed from the members, so following a redirect allocates nothing).
#[derive(Clone, Copy, Debug)]
pub(super) enum Want<'r> {
    Route(&'r [u8]),
    RedirectOf(usize),
}

/// A replication domain: the one member *i* belongs to, or one named by a session route
/// that is no member's route (mod_jk's "the route is a domain name").
#[derive(Clone, Copy, Debug)]
pub(super) enum Domain<'r> {
    Of(usize),
    Named(&'r [u8]),
}

/// Where a session route leads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Found {
    /// This member takes it: it has the route, or a `redirect` chain reached it.
    Member(usize),
    /// Member *i* (the route's, or one a redirect reached) is unusable and its domain has a
    /// usable member: [`Balancer::balance_domain`] with [`Domain::Of`] *i* chooses which.
    DomainOf(usize),
}

impl Balancer {
    /// Where sticky traffic for `route` goes now (step 1 of [`Balancer::pick`]).
    pub(super) fn route_member(&self, route: &[u8], avoid: u64) -> Option<Found> {
        let mut expanded = 0u64;
        self.find_route(Want::Route(route), avoid, 0, &mut expanded)
    }

    /// Whether member `i`'s route is the one `want` names (never for an empty route).
    fn route_matches(&self, want: Want<'_>, i: usize) -> bool {
        let wanted: &[u8] = match want {
            Want::Route(route) => route,
            Want::RedirectOf(k) => self.members.get(k).map_or(&[], Member::redirect),
        };
        !wanted.is_empty() && self.members.get(i).is_some_and(|m| m.route() == wanted)
    }

    /// Apache `find_route_worker` for `want` at redirect depth `depth`, with mod_jk's domain
    /// step put before the redirect: a member with the route that is unusable or avoided
    /// leads to its domain when the domain has a usable member, else to its `redirect`. Bit
    /// *i* of `expanded` marks member *i* whose redirect was already followed in this lookup:
    /// following it again would find nothing new (no member's state changes during a lookup).
    fn find_route(
        &self,
        want: Want<'_>,
        avoid: u64,
        depth: usize,
        expanded: &mut u64,
    ) -> Option<Found> {
        for standby_pass in [false, true] {
            for i in 0..self.members.len() {
                if !self.route_matches(want, i) {
                    continue;
                }
                let m = &self.members[i];
                if m.is_standby() != standby_pass {
                    continue;
                }
                if !avoided(avoid, i) && m.is_usable() {
                    return Some(Found::Member(i));
                }
                if self.has_domain_member(Domain::Of(i), avoid) {
                    return Some(Found::DomainOf(i));
                }
                let first_visit = i >= 64 || *expanded & (1 << i) == 0;
                if m.redirect().is_empty() || !first_visit || depth + 1 >= self.members.len() {
                    continue;
                }
                if i < 64 {
                    *expanded |= 1 << i;
                }
                let found = self.find_route(Want::RedirectOf(i), avoid, depth + 1, expanded);
                if found.is_some() {
                    return found;
                }
            }
        }
        None
    }

    /// Whether member `i` belongs to `domain` (never for an empty domain).
    pub(super) fn in_domain(&self, domain: Domain<'_>, i: usize) -> bool {
        let name: &[u8] = match domain {
            Domain::Of(k) => self.members.get(k).map_or(&[], Member::domain),
            Domain::Named(name) => name,
        };
        !name.is_empty() && self.members.get(i).is_some_and(|m| m.domain() == name)
    }

    /// Member `i` may take `domain`'s sticky traffic: in it, usable and not avoided. As for
    /// the session's own member, drain (`N`), hot standby (`H`), hot spare (`R`) and `I`
    /// members may; `D`, `S`, `C` and `E` within its window may not.
    fn domain_candidate(&self, domain: Domain<'_>, i: usize, avoid: u64) -> bool {
        self.in_domain(domain, i)
            && !avoided(avoid, i)
            && self.members.get(i).is_some_and(Member::is_usable)
    }

    /// Whether some member may take `domain`'s sticky traffic now.
    pub(super) fn has_domain_member(&self, domain: Domain<'_>, avoid: u64) -> bool {
        (0..self.members.len()).any(|i| self.domain_candidate(domain, i, avoid))
    }

    /// Balances among `domain`'s candidates as [`Balancer::pick`] step 3 does among all
    /// members: the lowest lbset that has a candidate, its regular members (spares
    /// included) offered to the method in config order, its standbys only when it has no
    /// regular one. The method charges the winner, so `lbstatus` stays zero-sum. `None`
    /// exactly when [`Self::has_domain_member`] is false.
    pub(super) fn balance_domain(&mut self, domain: Domain<'_>, avoid: u64) -> Option<usize> {
        let n = self.members.len();
        let lbset = (0..n)
            .filter(|&i| self.domain_candidate(domain, i, avoid))
            .map(|i| self.members[i].lbset())
            .min()?;
        for standby_pass in [false, true] {
            let mut scorer = Scorer::new(self.method);
            for i in 0..n {
                let offered = self.domain_candidate(domain, i, avoid)
                    && self.members[i].lbset() == lbset
                    && self.members[i].is_standby() == standby_pass;
                if offered {
                    scorer.offer(i, &mut self.members[i].load);
                }
            }
            if let Some(winner) = scorer.best() {
                scorer.charge(&mut self.members[winner].load);
                return Some(winner);
            }
        }
        None
    }
}
