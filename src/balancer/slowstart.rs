//! Slow start and the byrequests `lbstatus` of a recovered member.
//!
//! # Slow start
//!
//! A member with `slowstart` > 0 gets an **effective lbfactor** (`Load::weight`) that ramps
//! linearly from 10 % to 100 % of its lbfactor over `slowstart`, counted from when it last
//! became usable: the later of the shared "usable since" ([`super::Health::usable_since`],
//! set when its error clears or its failed check passes; 0 at process start, so every member
//! with `slowstart` ramps at start) and the time this core saw its own `D` or `S` go away.
//! byrequests adds the effective factor to `lbstatus`, bytraffic divides the traffic by it,
//! bybusyness uses it in the `lbstatus` tie-break, and the sticky bookkeeping charges it.
//!
//! ```text
//! weight = lbfactor × (slowstart + 9 × elapsed) / (10 × slowstart)   for elapsed < slowstart
//!        = lbfactor                                                  afterwards
//! ```
//!
//! (integer, at least 1). Each pick adds and takes back the same weights, so `lbstatus`
//! stays zero-sum whatever the ramp does.
//!
//! # A recovered member's `lbstatus` (byrequests)
//!
//! **Slow start off** (`slowstart` = 0): the member comes back with the `lbstatus` it left
//! with, exactly as in Apache. A member that is not usable is no candidate, so nothing moves
//! its `lbstatus` while it is out (docs/semantics.md §1, §2), and recovery does not touch it.
//! Two equal members, `a` picked and then put in error by `failonstatus`, leave `a` at
//! `-lbfactor` and `b` at `+lbfactor`; the picks during the window go to `b` alone and leave
//! both there, so after it the schedule is `b a b a b a`.
//!
//! **Slow start on**: a member that is usable at a pick but was not at this core's previous
//! pick (its `E` or `C` cleared, its `D` or `S` removed, or a forced recovery) re-enters
//! **last in line**: at the lowest `lbstatus` of the regular members of its lbset that were
//! already usable (the incumbents), but never more than one round below the highest of them
//! (a round is the sum of the effective lbfactors of the lbset's usable regular members,
//! what one pick charges its winner):
//!
//! ```text
//! entry = max(lowest incumbent, highest incumbent - round)
//! ```
//!
//! In a smooth weighted round robin the highest `lbstatus` is served first, so the lowest is
//! last: the recovered member is not flooded (the intent of mod_jk's RECOVER at the current
//! maximum `lb_value`, where the lowest value wins). The one-round floor only matters when an
//! incumbent is deep in debt from sticky traffic: the recovered member then waits behind
//! the members due service, not behind that debt. From there its ramped effective lbfactor
//! (10 % at first) decides how soon it is picked: every incumbent within a round of the top
//! that gains more per pick is served before it. Without regular incumbents in its lbset it
//! keeps its value. The credit or debt it left with is dropped (a credit from sticky traffic
//! to the others would otherwise be a burst).
//!
//! Setting one member's `lbstatus` would break the zero sum, so the difference is taken back
//! from every member evenly (a uniform shift does not change the smooth WRR schedule) and the
//! integer remainder (less than the number of members) from the entering member: it enters
//! at most `members - 1` below its entry. `Balancer::check_invariants` still asserts that
//! the sum is 0.

use crate::config::LbMethod;

use super::member::Member;
use super::Balancer;

/// The effective lbfactor `elapsed_ms` after the member became usable (see the module doc).
pub(super) fn ramp(lbfactor: u32, slowstart_ms: u64, elapsed_ms: u64) -> u32 {
    if slowstart_ms == 0 || elapsed_ms >= slowstart_ms {
        return lbfactor;
    }
    let ss = u128::from(slowstart_ms);
    let w = u128::from(lbfactor) * (ss + 9 * u128::from(elapsed_ms)) / (10 * ss);
    u32::try_from(w)
        .unwrap_or(lbfactor)
        .clamp(1, lbfactor.max(1))
}

/// A member that balancing offers to the method in its lbset (not a spare, a standby or in
/// drain) and that is usable.
fn regular_usable(m: &Member) -> bool {
    m.is_usable() && !m.is_spare() && !m.is_standby() && !m.is_draining()
}

impl Balancer {
    /// The second half of a refresh: for every member, notices this core's own flags letting
    /// it back in, sets its effective lbfactor for this pick, and (byrequests) re-enters the
    /// members with slow start that just became usable; then remembers who is usable for the
    /// next pick.
    pub(super) fn settle(&mut self, now_ms: u64) {
        let mut entering = false;
        for (i, m) in self.members.iter_mut().enumerate() {
            let local_ok = m.local_ok();
            if local_ok && !m.was_local_ok {
                m.local_since_ms = now_ms;
            }
            m.was_local_ok = local_ok;
            m.load.weight = if m.slowstart_ms == 0 {
                m.load.lbfactor
            } else {
                let since = self
                    .health
                    .usable_since(self.index, i)
                    .max(m.local_since_ms);
                ramp(
                    m.load.lbfactor,
                    m.slowstart_ms,
                    now_ms.saturating_sub(since),
                )
            };
            entering |= m.is_usable() && !m.was_usable && m.slowstart_ms > 0;
        }
        if entering && self.method == LbMethod::ByRequests {
            self.reenter();
        }
        for m in &mut self.members {
            m.was_usable = m.is_usable();
        }
    }

    /// Puts each entering member with slow start last in line among its lbset's regular
    /// incumbents (module doc), then shifts everyone to keep the sum at 0. O(members²), only
    /// on the picks where such a member comes back.
    fn reenter(&mut self) {
        let mut delta: i64 = 0;
        let mut first: Option<usize> = None;
        for e in 0..self.members.len() {
            let m = &self.members[e];
            if m.slowstart_ms == 0 || !m.is_usable() || m.was_usable {
                continue;
            }
            let lbset = m.lbset();
            let in_lbset = |j: &&Member| j.lbset() == lbset && regular_usable(j);
            let incumbents = || {
                self.members
                    .iter()
                    .filter(in_lbset)
                    .filter(|j| j.was_usable)
            };
            let lowest = incumbents().map(Member::lbstatus).min();
            let highest = incumbents().map(Member::lbstatus).max();
            let (Some(lowest), Some(highest)) = (lowest, highest) else {
                continue;
            };
            let round: i64 = self
                .members
                .iter()
                .filter(in_lbset)
                .map(|j| i64::from(j.load.weight))
                .sum();
            let entry = lowest.max(highest.saturating_sub(round));
            let m = &mut self.members[e];
            delta = delta.saturating_add(entry.saturating_sub(m.load.lbstatus));
            m.load.lbstatus = entry;
            first.get_or_insert(e);
        }
        let (Some(first), Ok(n)) = (first, i64::try_from(self.members.len())) else {
            return;
        };
        let (q, r) = (delta.div_euclid(n), delta.rem_euclid(n));
        for m in &mut self.members {
            m.load.lbstatus -= q;
        }
        if let Some(m) = self.members.get_mut(first) {
            m.load.lbstatus -= r;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ramp;

    #[test]
    fn ramp_goes_from_ten_percent_to_full() {
        assert_eq!(ramp(1000, 0, 0), 1000, "off");
        assert_eq!(ramp(1000, 10_000, 0), 100);
        assert_eq!(ramp(1000, 10_000, 5_000), 550);
        assert_eq!(ramp(1000, 10_000, 9_999), 999);
        assert_eq!(ramp(1000, 10_000, 10_000), 1000);
        assert_eq!(ramp(1000, 10_000, u64::MAX), 1000);
        assert_eq!(ramp(1, 10_000, 0), 1, "never below 1");
        assert_eq!(ramp(10_000, u64::MAX, u64::MAX - 1), 9_999);
    }
}
