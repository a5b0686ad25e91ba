//! Per-core balancer: which member takes a request (docs/semantics.md §1-§5).
//!
//! [`Balancer::pick`] owns the one generic eligibility loop (sticky routes, lbsets in order,
//! drain, hot spares, hot standbys, the error-retry window, the per-request `avoid` set). The
//! method (`method.rs`) only scores candidates and charges the winner. The session lookup it
//! starts with (routes, `redirect` chains, replication domains) is `lookup.rs`. Member state
//! and its flags live in `member.rs`. The member health shared by all cores (`E`, `C`, "usable since")
//! is [`Health`] (`health.rs`); the per-pick refresh that reads it, retries members and forces
//! recovery is `recovery.rs`; slow start and the byrequests re-entry are `slowstart.rs`.
//!
//! This module is pure: no I/O, no clock (the caller passes `now_ms`). It does not
//! know about connections, pools or retries; the caller feeds outcomes back through
//! [`Balancer::mark_error`], [`Balancer::record_traffic`] and [`Balancer::busy_inc`] /
//! [`Balancer::busy_dec`], and the other cores' counters through [`Balancer::merge`].
//!
//! # Concurrency
//!
//! One `Balancer` per core, owned by that core: plain fields, `&mut self`. It is `Send` (it
//! can be built on one thread and moved to its core) but is never shared. The one exception
//! is the [`Health`] it holds as `Arc<Health>`: every core's balancer for the same balancer
//! index reads and writes the same member health words (see its `# Concurrency`), so a member
//! put in error on one core is avoided by all cores from their next pick. The
//! cross-core view for bybusyness and bytraffic arrives as plain values: the worker sums the
//! shared [`crate::stats::Stats`] slots every `stats.merge_interval` and hands the sums to
//! [`Balancer::merge`]. Between merges the balancer adds its own core's exact changes, so
//! only the other cores' changes lag, by at most one interval.

mod decay;
mod health;
mod lookup;
mod member;
mod method;
mod outage;
mod recovery;
mod slowstart;
#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_domain;
#[cfg(test)]
mod tests_global;
#[cfg(test)]
mod tests_health;
#[cfg(test)]
mod tests_slowstart;
#[cfg(test)]
mod tests_sticky;

pub use crate::config::Status;
pub use health::{Health, HealthState};
pub use member::Member;
pub use outage::{Change, Outage, Outages};

use std::sync::Arc;

use crate::config::{BalancerConfig, LbMethod};
use crate::stats::MemberTotals;

use lookup::{Domain, Found};
use method::Scorer;

/// The outcome of a pick.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pick {
    /// Index of the member in the balancer's config order.
    pub member: usize,
    /// The member was found by the session route lookup: the member with the request's route,
    /// a member of its replication domain, or the one its `redirect` names. A member in drain
    /// (`N`) is only ever picked this way.
    pub sticky: bool,
    /// `BALANCER_ROUTE_CHANGED`: the chosen member's route is not the route that selected it
    /// (a domain member or a `redirect` took the session), or the pick was balanced on a balancer with stickiness
    /// configured or for a request that carried a route.
    pub route_changed: bool,
}

/// Why [`Balancer::pick`] chose no member. Both are answered with 503.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoPick {
    /// Nothing usable: every member is unusable, draining or avoided (Apache: "All workers
    /// are in error state").
    Unavailable,
    /// `nofailover`: the session's member (some member has one of the request's routes, or
    /// one of them names a domain) is unusable, so are its domain's members and its redirect,
    /// and the request may not be re-balanced.
    SessionForced,
}

/// One core's balancer state. `!Sync` by design: each core owns its own.
#[derive(Debug)]
pub struct Balancer {
    method: LbMethod,
    /// `stickysession` is configured: every non-sticky pick reports `route_changed`.
    sticky: bool,
    /// `nofailover`: a session whose member is unusable gets [`NoPick::SessionForced`].
    nofailover: bool,
    /// In config order; index = member id. At most 64 can be named in an `avoid` mask.
    members: Vec<Member>,
    /// The shared health of all balancers; this one is balancer `index` in it.
    health: Arc<Health>,
    index: usize,
    /// `failover.forcerecovery`.
    forcerecovery: bool,
    /// Forced recoveries this core ran.
    forced_recoveries: u64,
    /// `now_ms` of the latest pick: the time setters use for "usable since".
    last_now_ms: u64,
    /// `lbstatus_decay` in ms; 0 = off (httpd: the scores never decay).
    decay_ms: u64,
    /// When the current decay period started; `None` until the first pick.
    decayed_at_ms: Option<u64>,
}

/// Whether bit `i` of `avoid` is set; members past bit 63 cannot be avoided.
fn avoided(avoid: u64, i: usize) -> bool {
    i < 64 && (avoid >> i) & 1 == 1
}

impl Balancer {
    /// A fresh balancer for `cfg`: members in config order with their configured initial
    /// status flags, lbset and redirect route; `nofailover` from the balancer options; zero
    /// counters. An lbfactor of 0 (which validation rejects) is taken as 1. A redirect to a
    /// route no member has is kept and simply never finds a member. Its member health is its
    /// own (a private [`Health`]): nothing is shared with other cores.
    pub fn new(cfg: &BalancerConfig) -> Self {
        let health = Arc::new(Health::new(&[cfg.members.len()]));
        Balancer::with_health(cfg, health, 0)
    }

    /// Like [`Self::new`], but the members' `E` and `C` live in `health`, as balancer
    /// `index` (its config order): build every core's balancer with the same `Arc<Health>`
    /// and a failure marked on one core is seen by all. A configured initial `E` (window
    /// already over) or `C` is written to `health` (idempotent, so each core may do it). When
    /// `health` has fewer members for `index` than `cfg`, the balancer falls back to a
    /// private `Health` rather than share a wrong one.
    pub fn with_health(cfg: &BalancerConfig, health: Arc<Health>, index: usize) -> Self {
        let (health, index) = if health.members(index) >= cfg.members.len() {
            (health, index)
        } else {
            (Arc::new(Health::new(&[cfg.members.len()])), 0)
        };
        let mut b = Balancer {
            method: cfg.lbmethod,
            sticky: cfg.sticky.is_some(),
            nofailover: cfg.options.nofailover,
            members: cfg.members.iter().map(Member::new).collect(),
            health,
            index,
            forcerecovery: cfg.options.failover.forcerecovery,
            forced_recoveries: 0,
            last_now_ms: 0,
            decay_ms: cfg.options.lbstatus_decay.period_ms(),
            decayed_at_ms: None,
        };
        for (i, m) in cfg.members.iter().enumerate() {
            if m.options.status.contains(Status::ERROR) {
                b.health.set_error_flag(index, i);
            }
            if m.options.status.contains(Status::HC_FAILED) {
                b.health.set_hc_failed(index, i, true, 0);
            }
            b.reload(i);
        }
        b.check_invariants();
        b
    }

    /// The shared member health this balancer reads and writes.
    pub fn health(&self) -> &Arc<Health> {
        &self.health
    }

    /// How many times this core forced the recovery of all members (`forcerecovery`).
    pub fn forced_recoveries(&self) -> u64 {
        self.forced_recoveries
    }

    /// Chooses a member, or why none may take the request (the caller answers 503 either
    /// way). Members whose bit is set in `avoid` (bit *i* = member *i*) are never chosen.
    /// Allocates nothing.
    ///
    /// 0. **Refresh** (`recovery.rs`): every member's `E` and `C` are read from the shared
    ///    [`Health`]; an `E` whose window is over is cleared (at once with `I`, never with
    ///    `S`); with `forcerecovery`, when every member has `E`, all are cleared. Slow-start
    ///    weights and byrequests re-entries are settled (`slowstart.rs`). Before all that, the
    ///    first pick of a new `lbstatus_decay` period halves the scores (`decay.rs`).
    /// 1. **Sticky** (docs/semantics.md §3 items 5 to 7). For each route of `routes`, in order
    ///    (the URL's one route, or, when the URL carries no session id, each session
    ///    cookie's: see [`crate::sticky`]; empty routes are skipped), Apache's
    ///    `find_route_worker`: the members whose route equals it exactly,
    ///    regular members first and hot standbys second. For each such member:
    ///    * usable (after the refresh) and not avoided: it wins. Drain (`N`), hot
    ///      standby (`H`), hot spare (`R`) and `I` members take sticky traffic; lbset is
    ///      ignored. `D`, `S`, `C` and `E` within its window never do;
    ///    * otherwise, when it has a `domain` and some other member of that domain may take
    ///      sticky traffic (usable, not avoided, by the same flag rules): the best of them
    ///      wins, with `route_changed` (mod_jk's replication domain, `lookup.rs`). "Best" is
    ///      step 3 restricted to the domain: its lowest lbset with a candidate, regular
    ///      members before standbys, the method's score; the method charges the winner;
    ///    * otherwise, when it has a `redirect` route: the same lookup for that route,
    ///      recursively (each member found is retried too, domain first), at most as deep as
    ///      there are members and expanding each member's redirect at most once, so cycles
    ///      end. A member found this way wins with `route_changed` when its route differs.
    ///
    ///    When no member has the route, it is taken as a domain name (mod_jk): the best
    ///    member of the domain of that name wins, as above. mod_jk tries `redirect` before
    ///    the domain; ringlb tries the domain first (docs/semantics.md, "Replication
    ///    domains").
    ///
    ///    A winner with the route or through a redirect moves `lbstatus` too: every usable
    ///    member gets `+= lbfactor` and the winner `-= total`, whatever the method (Apache's
    ///    default `pre_request` bookkeeping).
    /// 2. **nofailover.** When no route found a member, `nofailover` is set and some member
    ///    has one of the routes, or one names a domain: [`NoPick::SessionForced`]. An unknown
    ///    route falls through.
    /// 3. **Balance** (Apache `get_best_worker`), lbsets in ascending order; within one lbset,
    ///    in config order:
    ///    * an avoided or draining member is not a candidate and, unless it is a spare or a
    ///      standby, counts as one unusable slot;
    ///    * (the lazy error retry already ran in the refresh; `D`, `S`, `C` stay);
    ///    * usable regular members are offered to the method; unusable ones count as slots;
    ///    * then the first *k* usable spares are offered, *k* = the unusable slots;
    ///    * only if still nothing: the usable standbys are offered.
    ///
    ///    The first lbset with a winner ends the search; the method charges the winner. No
    ///    winner in any lbset: [`NoPick::Unavailable`].
    ///
    /// `route_changed` is true on a balanced pick when any route was given or stickiness is
    /// configured: Apache sets `BALANCER_ROUTE_CHANGED` whenever a sticky balancer balances,
    /// including for a first request without a session and for an unknown route, which is
    /// what an insert-cookie rule keys on.
    pub fn pick(&mut self, routes: &[&[u8]], avoid: u64, now_ms: u64) -> Result<Pick, NoPick> {
        self.last_now_ms = now_ms;
        self.decay(now_ms);
        self.refresh(now_ms);
        let mut session_exists = false;
        for &route in routes {
            if route.is_empty() {
                continue;
            }
            match self.route_member(route, avoid) {
                Some(Found::Member(member)) => {
                    self.charge_sticky(member);
                    self.check_invariants();
                    let found = self.members.get(member).map(Member::route);
                    return Ok(Pick {
                        member,
                        sticky: true,
                        route_changed: found != Some(route),
                    });
                }
                Some(Found::DomainOf(k)) => {
                    if let Some(pick) = self.domain_pick(Domain::Of(k), avoid) {
                        return Ok(pick);
                    }
                }
                None => {}
            }
            let has_route = self.members.iter().any(|m| m.route() == route);
            if !has_route {
                if let Some(pick) = self.domain_pick(Domain::Named(route), avoid) {
                    return Ok(pick);
                }
            }
            session_exists = session_exists
                || has_route
                || (0..self.members.len()).any(|i| self.in_domain(Domain::Named(route), i));
        }
        if self.nofailover && session_exists {
            return Err(NoPick::SessionForced);
        }
        let member = self.balance(avoid).ok_or(NoPick::Unavailable)?;
        self.check_invariants();
        Ok(Pick {
            member,
            sticky: false,
            route_changed: self.sticky || !routes.is_empty(),
        })
    }

    /// A sticky pick of the best member of `domain` (`route_changed`: the member was chosen
    /// for its domain, not its route), or `None` when the domain has no usable member.
    fn domain_pick(&mut self, domain: Domain<'_>, avoid: u64) -> Option<Pick> {
        let member = self.balance_domain(domain, avoid)?;
        self.check_invariants();
        Some(Pick {
            member,
            sticky: true,
            route_changed: true,
        })
    }

    /// Apache's default sticky bookkeeping: usable members `+= lbfactor`, `chosen -= total`
    /// (with the effective lbfactors of slow start).
    fn charge_sticky(&mut self, chosen: usize) {
        let mut total = 0;
        for m in self.members.iter_mut().filter(|m| m.is_usable()) {
            m.load.lbstatus += i64::from(m.load.weight);
            total += i64::from(m.load.weight);
        }
        if let Some(m) = self.members.get_mut(chosen) {
            m.load.lbstatus -= total;
        }
    }

    /// Step 2 of [`Self::pick`]: lbsets in order, the first with a winner.
    fn balance(&mut self, avoid: u64) -> Option<usize> {
        let mut lbset = self.members.iter().map(Member::lbset).min()?;
        loop {
            let (best, next) = self.balance_lbset(lbset, avoid);
            if best.is_some() {
                return best;
            }
            lbset = next?;
        }
    }

    /// One lbset of [`Self::balance`]. Returns the winner (already charged) and the next
    /// higher lbset present, if any.
    fn balance_lbset(&mut self, lbset: u32, avoid: u64) -> (Option<usize>, Option<u32>) {
        let mut scorer = Scorer::new(self.method);
        let mut unusable = 0usize;
        let mut next: Option<u32> = None;

        // Regular members; count the unusable slots.
        for (i, m) in self.members.iter_mut().enumerate() {
            if m.lbset() != lbset {
                if m.lbset() > lbset {
                    next = Some(next.map_or(m.lbset(), |n| n.min(m.lbset())));
                }
                continue;
            }
            let reserve = m.is_spare() || m.is_standby();
            if avoided(avoid, i) || m.is_draining() {
                unusable += usize::from(!reserve);
                continue;
            }
            let usable = m.is_usable();
            if reserve {
                continue;
            }
            if usable {
                scorer.offer(i, &mut m.load);
            } else {
                unusable += 1;
            }
        }

        // Spares replace unusable slots one for one, then standbys if nothing else.
        let candidate = |i: usize, m: &Member| {
            m.lbset() == lbset && !avoided(avoid, i) && !m.is_draining() && m.is_usable()
        };
        let spare = |(i, m): &(usize, &mut Member)| m.is_spare() && candidate(*i, m);
        let standby =
            |(i, m): &(usize, &mut Member)| m.is_standby() && !m.is_spare() && candidate(*i, m);
        for (i, m) in self
            .members
            .iter_mut()
            .enumerate()
            .filter(spare)
            .take(unusable)
        {
            scorer.offer(i, &mut m.load);
        }
        if scorer.best().is_none() {
            for (i, m) in self.members.iter_mut().enumerate().filter(standby) {
                scorer.offer(i, &mut m.load);
            }
        }

        let winner = scorer.best();
        if let Some(m) = winner.and_then(|i| self.members.get_mut(i)) {
            scorer.charge(&mut m.load);
        }
        (winner, next)
    }

    /// Takes over the byrequests scores (`lbstatus`) of `old`, this balancer's previous
    /// generation: member *i* gets the score of member `origin(i)` of `old`, members without
    /// an origin keep 0. The scores are then shifted to sum to 0 again (a member that left or
    /// came changes the sum), so the schedule continues where it was. The current
    /// `lbstatus_decay` period carries over too.
    pub fn carry_scores(&mut self, old: &Balancer, origin: impl Fn(usize) -> Option<usize>) {
        for (i, m) in self.members.iter_mut().enumerate() {
            if let Some(o) = origin(i).and_then(|o| old.members.get(o)) {
                m.load.lbstatus = o.load.lbstatus;
            }
        }
        self.decayed_at_ms = old.decayed_at_ms;
        self.rezero();
        self.check_invariants();
    }

    /// The method in use.
    pub fn method(&self) -> LbMethod {
        self.method
    }

    /// Takes the global view from the shared statistics: `totals[i]` is member *i* summed over
    /// all cores ([`crate::stats::Stats::totals_into`]), **including this core's own
    /// counts**. It becomes the new base of the busy and traffic views and the local changes
    /// since the previous merge are dropped, as they are now part of the base. Call it every
    /// `stats.merge_interval`, and feed the same events to the stats writer and to this
    /// balancer. Members past `totals.len()` keep their view; extra entries are ignored.
    pub fn merge(&mut self, totals: &[MemberTotals]) {
        for (m, t) in self.members.iter_mut().zip(totals) {
            m.load.base_busy = t.busy;
            m.load.local_busy = 0;
            m.load.base_in = t.bytes_in;
            m.load.base_out = t.bytes_out;
            m.load.local_in = 0;
            m.load.local_out = 0;
        }
        self.check_invariants();
    }

    /// Number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// Whether a balanced pick could find a member outside `avoid` now (usable and not in
    /// drain, any lbset), as of the latest pick's refresh.
    pub fn has_other_member(&self, avoid: u64) -> bool {
        let m = &self.members;
        (0..m.len()).any(|i| !avoided(avoid, i) && m[i].is_usable() && !m[i].is_draining())
    }

    /// All members in config order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, member: usize) -> Option<&Member> {
        self.members.get(member)
    }

    /// Replaces all status flags of `member`. `E` and `C` are shared by all cores: setting or
    /// clearing them here writes the shared [`Health`] (as the manager's `w_status_C` does).
    /// Setting [`Status::ERROR`] this way keeps the current error window, if any (else the
    /// window is already over); use [`Self::mark_error`] to open one. A clear restarts the
    /// member's "usable since" at this core's latest pick time. Returns false (and changes
    /// nothing) when `member` is out of range; so do all the setters below.
    pub fn set_status(&mut self, member: usize, status: Status) -> bool {
        let set = status.intersection(Status::SHARED);
        let clear = Status::SHARED.without(status);
        self.update_status(member, status, set, clear)
    }

    /// `status=+X-Y`: sets the flags of `set`, then clears those of `clear`. Only the shared
    /// flags (`E`, `C`) named in `set` or `clear` are written to the shared health; the others
    /// stay as whichever core last changed them.
    pub fn change_status(&mut self, member: usize, set: Status, clear: Status) -> bool {
        let Some(m) = self.members.get(member) else {
            return false;
        };
        let local = (m.status() | set).without(clear);
        let shared_set = set.intersection(Status::SHARED).without(clear);
        let shared_clear = clear.intersection(Status::SHARED);
        self.update_status(member, local, shared_set, shared_clear)
    }

    /// Sets this core's flags to `local` (less `E`, `C`) and writes the shared flags of
    /// `set` and `clear` to the health.
    fn update_status(&mut self, member: usize, local: Status, set: Status, clear: Status) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_local(local);
        let (health, b, now) = (&self.health, self.index, self.last_now_ms);
        if set.contains(Status::ERROR) {
            health.set_error_flag(b, member);
        } else if clear.contains(Status::ERROR) {
            health.clear_error(b, member, now);
        }
        if set.contains(Status::HC_FAILED) {
            health.set_hc_failed(b, member, true, now);
        } else if clear.contains(Status::HC_FAILED) {
            health.set_hc_failed(b, member, false, now);
        }
        self.reload(member);
        true
    }

    /// Puts `member` in error (`E`) until `until_ms` in the shared health (keeping a later
    /// deadline it already has), unless it has `I` (ignore errors): then nothing changes and
    /// the answer is false. A member with `S` is marked too (it is never retried anyway).
    /// Returns whether `E` is now set. See [`Self::mark_error_at`] to learn whether this call
    /// put it in error.
    pub fn mark_error(&mut self, member: usize, until_ms: u64) -> bool {
        let now = self.last_now_ms;
        self.mark_error_at(member, now, until_ms).is_some()
    }

    pub fn set_lbset(&mut self, member: usize, lbset: u32) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_lbset(lbset);
        true
    }

    /// Changes the session route (`jvmRoute`) sticky requests are matched against.
    pub fn set_route(&mut self, member: usize, route: &str) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_route(route);
        true
    }

    /// Changes the route this member's sticky traffic goes to while it is unusable (empty:
    /// none).
    pub fn set_redirect(&mut self, member: usize, redirect: &str) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_redirect(redirect);
        true
    }

    /// Changes the lbfactor (`loadfactor` × 100). `lbstatus` is kept, as in Apache. Returns
    /// false when `member` is out of range or `lbfactor` is 0.
    pub fn set_lbfactor(&mut self, member: usize, lbfactor: u32) -> bool {
        match self.members.get_mut(member) {
            Some(m) if lbfactor > 0 => {
                m.load.lbfactor = lbfactor;
                m.load.weight = m.load.weight.clamp(1, lbfactor);
                true
            }
            _ => false,
        }
    }

    /// Adds a finished (or partial) exchange's bytes to this core's local traffic delta for
    /// `member` (bytraffic): `bytes_in` received from the member, `bytes_out` sent to it.
    /// Saturating. Pair it with the same `CoreWriter::add_bytes`, which the next
    /// [`Self::merge`] reads back.
    pub fn record_traffic(&mut self, member: usize, bytes_in: u64, bytes_out: u64) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.load.local_in = m.load.local_in.saturating_add(bytes_in);
        m.load.local_out = m.load.local_out.saturating_add(bytes_out);
        true
    }

    /// One more request in flight on `member`, in this core's local busy delta (bybusyness).
    /// Call it once per request sent, whatever the method, with the same
    /// `CoreWriter::busy_inc`, and pair it with exactly one [`Self::busy_dec`].
    pub fn busy_inc(&mut self, member: usize) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.load.local_busy = m.load.local_busy.saturating_add(1);
        true
    }

    /// One request fewer in flight on `member`. The view is floored at 0 (as mod_jk does): a
    /// decrement that would take it below 0 is dropped, so it cannot hide a later increment.
    pub fn busy_dec(&mut self, member: usize) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        if m.load.busy() > 0 {
            m.load.local_busy = m.load.local_busy.saturating_sub(1);
        }
        true
    }

    /// Every pick is zero-sum on `lbstatus` (the winner pays exactly what the candidates
    /// gained, counted with the same effective lbfactors, whatever the slow-start ramp does),
    /// and a byrequests re-entry (slow start) shifts every member to take back what it gave
    /// the entering one (`slowstart.rs`), so the sum stays 0 from `new` on (and [`Balancer::carry_scores`] keeps it 0).
    /// lbfactors stay ≥ 1, and the effective ones within `1..=lbfactor`.
    #[cfg(debug_assertions)]
    fn check_invariants(&self) {
        let sum: i64 = self.members.iter().map(Member::lbstatus).sum();
        debug_assert_eq!(sum, 0, "lbstatus is not zero-sum: {:?}", self.members);
        debug_assert!(self
            .members
            .iter()
            .all(|m| m.lbfactor() >= 1 && (1..=m.lbfactor()).contains(&m.effective_lbfactor())));
    }

    #[cfg(not(debug_assertions))]
    fn check_invariants(&self) {}
}
