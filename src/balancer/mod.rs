//! Per-core balancer: which member takes a request (SEMANTICS.md 2.1-2.5).
//!
//! [`Balancer::pick`] owns the one generic eligibility loop (sticky routes, lbsets in order,
//! drain, hot spares, hot standbys, the error-retry window, the per-request `avoid` set). The
//! method (`method.rs`) only scores candidates and charges the winner. Member state and its
//! flags live in `member.rs`.
//!
//! This module is pure: no I/O, no clock (the caller passes `now_ms`), no sharing. It does not
//! know about connections, pools or retries; the caller feeds outcomes back through
//! [`Balancer::mark_error`], [`Balancer::record_traffic`] and [`Balancer::busy_inc`] /
//! [`Balancer::busy_dec`].
//!
//! # Concurrency
//!
//! One `Balancer` per core, owned by that core: plain fields, `&mut self`, no atomics. It is
//! `Send` (it can be built on one thread and moved to its core) but is never shared.

mod member;
mod method;
#[cfg(test)]
mod tests;

pub use member::{Member, Status};

use crate::config::{BalancerConfig, LbMethod};

use method::Scorer;

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

/// Why no member was picked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoPick {
    /// No member is usable for this request.
    Unavailable,
    /// `nofailover`: the session's member (some member has its route) is unusable.
    SessionForced,
}

/// One core's balancer state. `!Sync` by design: each core owns its own.
#[derive(Debug)]
pub struct Balancer {
    method: LbMethod,
    /// `stickysession` is configured: every non-sticky pick reports `route_changed`.
    sticky: bool,
    /// In config order; index = member id. At most 64 can be named in an `avoid` mask.
    members: Vec<Member>,
}

/// Whether bit `i` of `avoid` is set; members past bit 63 cannot be avoided.
fn avoided(avoid: u64, i: usize) -> bool {
    i < 64 && (avoid >> i) & 1 == 1
}

impl Balancer {
    /// A fresh balancer for `cfg`: members in config order, no flags, lbset 0, zero counters.
    /// An lbfactor of 0 (which validation rejects) is taken as 1.
    pub fn new(cfg: &BalancerConfig) -> Self {
        Balancer {
            method: cfg.lbmethod,
            sticky: cfg.sticky.is_some(),
            members: cfg.members.iter().map(Member::new).collect(),
        }
    }

    /// Chooses a member, or `None` when no member may take the request (the caller answers
    /// 503). Members whose bit is set in `avoid` (bit *i* = member *i*) are never chosen.
    ///
    /// 1. **Sticky.** For each route of `routes`, in order (URL first, then each session
    ///    cookie, see [`crate::sticky`]): the members whose route equals it exactly, regular
    ///    members first and hot standbys second (Apache `find_route_worker`). The first that is
    ///    usable, after the lazy error retry, and not avoided wins with `sticky: true`. Drain
    ///    (`N`), hot standby (`H`) and hot spare (`R`) members take sticky traffic; lbset is
    ///    ignored. A sticky hit moves `lbstatus` too: every usable member gets
    ///    `+= lbfactor` and the chosen one `-= total`, whatever the method (Apache's default
    ///    `pre_request` bookkeeping).
    /// 2. **Balance** (Apache `get_best_worker`), lbsets in ascending order; within one lbset,
    ///    in config order:
    ///    * an avoided or draining member is not a candidate and, unless it is a spare or a
    ///      standby, counts as one unusable slot;
    ///    * a member that is not usable gets the lazy error retry: `E` clears when
    ///      `now_ms >= error_until_ms` (at once with `I`, never with `S`); `D`, `S`, `C` stay;
    ///    * usable regular members are offered to the method; unusable ones count as slots;
    ///    * then the first *k* usable spares are offered, *k* = the unusable slots;
    ///    * only if still nothing: the usable standbys are offered.
    ///
    ///    The first lbset with a winner ends the search; the method charges the winner.
    ///
    /// `route_changed` is true on a balanced pick when any route was given or stickiness is
    /// configured: Apache sets `BALANCER_ROUTE_CHANGED` whenever a sticky balancer balances,
    /// including for a first request without a session and for an unknown route, which is
    /// what an insert-cookie rule keys on. It is false on a sticky pick (there is no
    /// `redirect` yet, so a sticky pick always lands on the route asked for).
    pub fn pick(&mut self, routes: &[&[u8]], avoid: u64, now_ms: u64) -> Result<Pick, NoPick> {
        for route in routes {
            if let Some(member) = self.route_member(route, avoid, now_ms) {
                self.charge_sticky(member);
                self.check_invariants();
                return Ok(Pick {
                    member,
                    sticky: true,
                    route_changed: false,
                });
            }
        }
        let member = self.balance(avoid, now_ms).ok_or(NoPick::Unavailable)?;
        self.check_invariants();
        Ok(Pick {
            member,
            sticky: false,
            route_changed: self.sticky || !routes.is_empty(),
        })
    }

    /// The member with `route` that can take sticky traffic now (step 1 of [`Self::pick`]).
    fn route_member(&mut self, route: &[u8], avoid: u64, now_ms: u64) -> Option<usize> {
        if route.is_empty() {
            return None;
        }
        for standby_pass in [false, true] {
            for (i, m) in self.members.iter_mut().enumerate() {
                if m.is_standby() == standby_pass
                    && m.route() == route
                    && !avoided(avoid, i)
                    && m.retry(now_ms)
                {
                    return Some(i);
                }
            }
        }
        None
    }

    /// Apache's default sticky bookkeeping: usable members `+= lbfactor`, `chosen -= total`.
    fn charge_sticky(&mut self, chosen: usize) {
        let mut total = 0;
        for m in self.members.iter_mut().filter(|m| m.is_usable()) {
            m.load.lbstatus += i64::from(m.load.lbfactor);
            total += i64::from(m.load.lbfactor);
        }
        if let Some(m) = self.members.get_mut(chosen) {
            m.load.lbstatus -= total;
        }
    }

    /// Step 2 of [`Self::pick`]: lbsets in order, the first with a winner.
    fn balance(&mut self, avoid: u64, now_ms: u64) -> Option<usize> {
        let mut lbset = self.members.iter().map(Member::lbset).min()?;
        loop {
            let (best, next) = self.balance_lbset(lbset, avoid, now_ms);
            if best.is_some() {
                return best;
            }
            lbset = next?;
        }
    }

    /// One lbset of [`Self::balance`]. Returns the winner (already charged) and the next
    /// higher lbset present, if any.
    fn balance_lbset(
        &mut self,
        lbset: u32,
        avoid: u64,
        now_ms: u64,
    ) -> (Option<usize>, Option<u32>) {
        let mut scorer = Scorer::new(self.method);
        let mut unusable = 0usize;
        let mut next: Option<u32> = None;

        // Regular members; retries for everyone; count the unusable slots.
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
            let usable = m.retry(now_ms);
            if reserve {
                continue;
            }
            if usable {
                scorer.offer(i, &mut m.load);
            } else {
                unusable += 1;
            }
        }

        // Spares replace unusable slots one for one, then standbys if nothing else. The
        // flags were settled by the retries above, so these passes only read them.
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

    /// The method in use.
    pub fn method(&self) -> LbMethod {
        self.method
    }

    /// Changes the method and [`reset`](Self::reset)s the counters, as the manager does.
    pub fn set_method(&mut self, method: LbMethod) {
        self.method = method;
        self.reset();
    }

    /// Apache's lbmethod `reset`: `lbstatus` and the traffic counters back to 0. `busy` is
    /// left alone: it counts requests still in flight whose `busy_dec` is still to come
    /// (Apache zeroes it, one source of its busy drift).
    pub fn reset(&mut self) {
        for m in &mut self.members {
            m.load.lbstatus = 0;
            m.load.bytes_in = 0;
            m.load.bytes_out = 0;
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

    /// All members in config order.
    pub fn members(&self) -> &[Member] {
        &self.members
    }

    pub fn member(&self, member: usize) -> Option<&Member> {
        self.members.get(member)
    }

    /// Replaces all status flags of `member`. Setting [`Status::ERROR`] this way keeps the
    /// previous `error_until_ms`; use [`Self::mark_error`] to open a window. Returns false
    /// (and changes nothing) when `member` is out of range; so do all the setters below.
    pub fn set_status(&mut self, member: usize, status: Status) -> bool {
        self.update_status(member, |_| status)
    }

    /// `status=+X-Y`: sets the flags of `set`, then clears those of `clear`.
    pub fn change_status(&mut self, member: usize, set: Status, clear: Status) -> bool {
        self.update_status(member, |s| (s | set).without(clear))
    }

    fn update_status(&mut self, member: usize, f: impl FnOnce(Status) -> Status) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_status(f(m.status()));
        true
    }

    /// Puts `member` in error (`E`) until `until_ms`, unless it has `I` (ignore errors).
    /// Returns whether `E` is now set.
    pub fn mark_error(&mut self, member: usize, until_ms: u64) -> bool {
        self.members
            .get_mut(member)
            .is_some_and(|m| m.mark_error(until_ms))
    }

    pub fn set_lbset(&mut self, member: usize, lbset: u32) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.set_lbset(lbset);
        true
    }

    /// Changes the lbfactor (`loadfactor` × 100). `lbstatus` is kept, as in Apache. Returns
    /// false when `member` is out of range or `lbfactor` is 0.
    pub fn set_lbfactor(&mut self, member: usize, lbfactor: u32) -> bool {
        match self.members.get_mut(member) {
            Some(m) if lbfactor > 0 => {
                m.load.lbfactor = lbfactor;
                true
            }
            _ => false,
        }
    }

    /// Adds a finished (or partial) exchange's bytes to `member`'s bytraffic counters:
    /// `bytes_in` received from the member, `bytes_out` sent to it. Saturating.
    pub fn record_traffic(&mut self, member: usize, bytes_in: u64, bytes_out: u64) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.load.bytes_in = m.load.bytes_in.saturating_add(bytes_in);
        m.load.bytes_out = m.load.bytes_out.saturating_add(bytes_out);
        true
    }

    /// Sets the global view from the cross-core totals (STUB: no-op until the stats work).
    pub fn merge(&mut self, totals: &[crate::stats::MemberTotals]) {
        let _ = totals;
    }

    /// One more request in flight on `member` (bybusyness). Call it once per request sent,
    /// whatever the method, and pair it with exactly one [`Self::busy_dec`].
    pub fn busy_inc(&mut self, member: usize) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.load.busy = m.load.busy.saturating_add(1);
        true
    }

    /// One request fewer in flight on `member`; floored at 0 (as mod_jk does).
    pub fn busy_dec(&mut self, member: usize) -> bool {
        let Some(m) = self.members.get_mut(member) else {
            return false;
        };
        m.load.busy = m.load.busy.saturating_sub(1);
        true
    }

    /// Every pick is zero-sum on `lbstatus` (the winner pays exactly what the candidates
    /// gained), so the sum stays 0 from `new` and `reset` on; lbfactors stay ≥ 1.
    #[cfg(debug_assertions)]
    fn check_invariants(&self) {
        let sum: i64 = self.members.iter().map(Member::lbstatus).sum();
        debug_assert_eq!(sum, 0, "lbstatus is not zero-sum: {:?}", self.members);
        debug_assert!(self.members.iter().all(|m| m.lbfactor() >= 1));
    }

    #[cfg(not(debug_assertions))]
    fn check_invariants(&self) {}
}
