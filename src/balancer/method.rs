//! The balancing methods as scoring steps (Apache `is_best_*` in `mod_lbmethod_*.c`,
//! SEMANTICS.md 2.2). The eligibility loop in `mod.rs` offers each candidate in scan order to a
//! [`Scorer`], which answers "is this candidate better than the best so far", then charges the
//! winner once. A method sees only a member's [`Load`], never its flags or route, so it cannot
//! change who is eligible.
//!
//! # byrequests (smooth weighted round-robin, identical to nginx's)
//!
//! Every candidate scanned gets `lbstatus += lbfactor` and adds `lbfactor` to `total`; the best
//! is the strictly greatest `lbstatus` (so the earliest member in config order wins a tie); the
//! winner pays `lbstatus -= total`. Worked schedules (columns `a b c d` are `lbstatus` after the
//! `+= lbfactor` step, then the winner and the state it leaves):
//!
//! ```text
//! factors 1,1,1,2 (total 5)             factors 5,1,1 (total 7)
//! pick  a  b  c  d  win  after          pick  a  b  c  win  after
//!  1    1  1  1  2   d    1  1  1 -3     1    5  1  1   a   -2  1  1
//!  2    2  2  2 -1   a   -3  2  2 -1     2    3  2  2   a   -4  2  2
//!  3   -2  3  3  1   b   -2 -2  3  1     3    1  3  3   b    1 -4  3
//!  4   -1 -1  4  3   c   -1 -1 -1  3     4    6 -3  4   a   -1 -3  4
//!  5    0  0  0  5   d    0  0  0  0     5    4 -2  5   c    4 -2 -2
//!                                        6    9 -1 -1   a    2 -1 -1
//!                                        7    7  0  0   a    0  0  0
//! ```
//!
//! so `d a b c d` then the cycle repeats, and `a a b a c a a`. The internal lbfactor is
//! `loadfactor × 100`, which scales every column and leaves the schedule unchanged.
//!
//! # bybusyness
//!
//! The same `lbstatus += lbfactor` bookkeeping; best = fewer `busy`, and on equal `busy` the
//! strictly greater `lbstatus`; the winner pays `lbstatus -= total`. `busy` is this core's
//! in-flight count, fed by the caller (`Balancer::busy_inc` / `busy_dec`). A global view
//! (summing the per-core slots) is a later step; the scoring rule stays this one.
//!
//! # bytraffic
//!
//! Best = least `(bytes_in + bytes_out) / lbfactor`, the earliest on a tie; no `lbstatus`
//! bookkeeping. Apache divides each counter separately in integers
//! (`transferred/lbfactor + read/lbfactor`); ringlb compares `traffic_a × factor_b` against
//! `traffic_b × factor_a` in `u128` instead, which is exact and cannot overflow (a `u64` sum of
//! two `u64` times a `u32` fits in 97 bits). The counters are cumulative with no decay, as in
//! Apache; `Balancer::reset` zeroes them.

use crate::config::LbMethod;

use super::member::Load;

/// One selection's scoring state: the method, the running `total` of the lbfactors offered
/// and the best candidate so far (its index and a copy of its load when it was offered; a
/// member is offered at most once, so the copy stays exact).
#[derive(Debug)]
pub(super) struct Scorer {
    method: LbMethod,
    total: i64,
    best: Option<(usize, Load)>,
}

impl Scorer {
    pub(super) fn new(method: LbMethod) -> Scorer {
        Scorer {
            method,
            total: 0,
            best: None,
        }
    }

    /// Offers member `i` (each candidate at most once, in scan order); it becomes the best
    /// when it beats the best so far. For byrequests and bybusyness this also does the
    /// `lbstatus += lbfactor` bookkeeping on `cand`, as Apache's `is_best` does.
    pub(super) fn offer(&mut self, i: usize, cand: &mut Load) {
        if matches!(self.method, LbMethod::ByRequests | LbMethod::ByBusyness) {
            cand.lbstatus += i64::from(cand.lbfactor);
            self.total += i64::from(cand.lbfactor);
        }
        let better = match &self.best {
            None => true,
            Some((_, best)) => is_better(self.method, cand, best),
        };
        if better {
            self.best = Some((i, *cand));
        }
    }

    /// The index of the best candidate offered so far.
    pub(super) fn best(&self) -> Option<usize> {
        self.best.map(|(i, _)| i)
    }

    /// Charges the winner of this selection: `lbstatus -= total` (nothing for bytraffic).
    pub(super) fn charge(self, winner: &mut Load) {
        match self.method {
            LbMethod::ByRequests | LbMethod::ByBusyness => winner.lbstatus -= self.total,
            LbMethod::ByTraffic => {}
        }
    }
}

/// The method's comparison, after the bookkeeping: is `cand` strictly better than `best`?
/// Strict, so the earliest candidate keeps a tie.
fn is_better(method: LbMethod, cand: &Load, best: &Load) -> bool {
    match method {
        LbMethod::ByRequests => cand.lbstatus > best.lbstatus,
        LbMethod::ByBusyness => {
            cand.busy < best.busy || (cand.busy == best.busy && cand.lbstatus > best.lbstatus)
        }
        LbMethod::ByTraffic => less_traffic(cand, best),
    }
}

/// `traffic(a) / factor(a) < traffic(b) / factor(b)`, cross-multiplied exactly in `u128`.
fn less_traffic(a: &Load, b: &Load) -> bool {
    let traffic = |l: &Load| u128::from(l.bytes_in) + u128::from(l.bytes_out);
    traffic(a) * u128::from(b.lbfactor) < traffic(b) * u128::from(a.lbfactor)
}
