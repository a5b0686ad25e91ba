//! The balancing methods as scoring steps (Apache `is_best_*` in `mod_lbmethod_*.c`,
//! docs/semantics.md §2). The eligibility loop in `mod.rs` offers each candidate in scan order to a
//! [`Scorer`], which answers "is this candidate better than the best so far", then charges the
//! winner once. A method sees only a member's [`Load`], never its flags or route, so it cannot
//! change who is eligible.
//!
//! # byrequests (smooth weighted round-robin, identical to nginx's)
//!
//! Every candidate scanned gets `lbstatus += lbfactor` and adds `lbfactor` to `total`; the best
//! is the strictly greatest `lbstatus` (so the earliest member in config order wins a tie); the
//! winner pays `lbstatus -= total`. Every `lbfactor` in this file is the member's *effective*
//! lbfactor (`Load::weight`), which is lower during a slow-start ramp (`slowstart.rs`).
//! Worked schedules (columns `a b c d` are `lbstatus` after the
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
//! strictly greater `lbstatus`; the winner pays `lbstatus -= total`. `busy` is the **global**
//! in-flight count as this core sees it: the sum over all cores at the last
//! `Balancer::merge`, plus this core's own `busy_inc` / `busy_dec` since, floored at 0 (see
//! `Load`). Apache's `busy` lives in shared memory and is exact across processes; ringlb's
//! lags by at most one merge interval for the other cores' requests, and is exact for this
//! core's. `lbstatus` stays per core.
//!
//! # bytraffic
//!
//! Best = least `(bytes_in + bytes_out) / lbfactor`, the earliest on a tie; no `lbstatus`
//! bookkeeping. The bytes are the global view like `busy` above (last merge + this core's
//! `record_traffic` since). The counters are
//! cumulative with no decay, as in Apache.
//!
//! **Comparison.** Apache computes `transferred/lbfactor + read/lbfactor` with integer
//! division per term, then compares. ringlb compares `traffic_a × factor_b < traffic_b ×
//! factor_a` in `u128` instead:
//!
//! * it is exact: with per-term division, two members whose traffic differs by less than
//!   `lbfactor` (up to 10 000 bytes at loadfactor 100) score the same, and each term loses up
//!   to one unit, so the earliest member wins ties it has not earned;
//! * it cannot overflow: `(u64 + u64) × u32` needs at most 97 bits;
//! * it needs no division: two 64×64→128 multiplies per comparison, which are cheaper than
//!   two 64-bit divisions on current x86_64 and aarch64 (`benches/balancer.rs`,
//!   `bytraffic_compare`, measures both).

use crate::config::LbMethod;

use super::member::Load;

/// One selection's scoring state: the method, the running `total` of the lbfactors offered
/// and the best candidate so far (its index and its [`Key`] when it was offered; a member is
/// offered at most once, so the key stays exact).
#[derive(Debug)]
pub(super) struct Scorer {
    method: LbMethod,
    total: i64,
    best: Option<(usize, Key)>,
}

/// What the comparison of one method needs of a candidate, taken when it is offered.
#[derive(Clone, Copy, Debug)]
struct Key {
    /// The effective lbfactor (`Load::weight`: the lbfactor, lower during slow start).
    lbfactor: u32,
    lbstatus: i64,
    /// The busy view; read only for bybusyness (0 otherwise).
    busy: u64,
    /// `bytes_in + bytes_out` of the traffic view; read only for bytraffic (0 otherwise).
    traffic: u128,
}

impl Key {
    fn of(method: LbMethod, load: &Load) -> Key {
        let mut key = Key {
            lbfactor: load.weight,
            lbstatus: load.lbstatus,
            busy: 0,
            traffic: 0,
        };
        match method {
            LbMethod::ByRequests => {}
            LbMethod::ByBusyness => key.busy = load.busy(),
            LbMethod::ByTraffic => {
                let (bytes_in, bytes_out) = load.traffic();
                key.traffic = u128::from(bytes_in) + u128::from(bytes_out);
            }
        }
        key
    }
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
            cand.lbstatus += i64::from(cand.weight);
            self.total += i64::from(cand.weight);
        }
        let key = Key::of(self.method, cand);
        let better = match &self.best {
            None => true,
            Some((_, best)) => is_better(self.method, &key, best),
        };
        if better {
            self.best = Some((i, key));
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
fn is_better(method: LbMethod, cand: &Key, best: &Key) -> bool {
    match method {
        LbMethod::ByRequests => cand.lbstatus > best.lbstatus,
        LbMethod::ByBusyness => {
            cand.busy < best.busy || (cand.busy == best.busy && cand.lbstatus > best.lbstatus)
        }
        LbMethod::ByTraffic => less_traffic(cand, best),
    }
}

/// `traffic(a) / factor(a) < traffic(b) / factor(b)`, cross-multiplied exactly in `u128`
/// (traffic < 2^65, factor < 2^32: the products fit in 97 bits).
fn less_traffic(a: &Key, b: &Key) -> bool {
    a.traffic * u128::from(b.lbfactor) < b.traffic * u128::from(a.lbfactor)
}
