//! `lbstatus_decay` (docs/semantics.md): mod_jk's `maintain` decay of the byrequests /
//! bybusyness scores, which httpd does not have. Sticky hits are charged to `lbstatus` (as in
//! Apache), so heavy sticky traffic to one member leaves it far behind; without decay every
//! new session then goes to the others until the debt is paid back in full. Halving the
//! scores every period bounds that catch-up to a few periods.

use super::Balancer;

impl Balancer {
    /// `lbstatus_decay` (mod_jk `maintain`, which does `lb_value >>= elapsed / maintain`):
    /// for each whole period elapsed since the current one started, every member's `lbstatus`
    /// is halved (rounded toward 0), then the sum is brought back to 0. A skew left by sticky
    /// traffic (which is charged to the scores, as in Apache) thus shrinks by half every
    /// period instead of being paid back in full by the next balanced picks. The scores of a
    /// plain byrequests schedule stay within a few lbfactors of 0, so halving them barely
    /// moves it. Lazy: done by the first pick of a new period, so an idle core does nothing.
    pub(super) fn decay(&mut self, now_ms: u64) {
        if self.decay_ms == 0 {
            return;
        }
        let Some(start) = self.decayed_at_ms else {
            self.decayed_at_ms = Some(now_ms);
            return;
        };
        let periods = now_ms.saturating_sub(start) / self.decay_ms;
        if periods == 0 {
            return;
        }
        self.decayed_at_ms = Some(start + periods * self.decay_ms);
        for m in &mut self.members {
            m.load.lbstatus = match u32::try_from(periods) {
                Ok(shift) if shift < 63 => m.load.lbstatus / (1i64 << shift),
                _ => 0,
            };
        }
        self.rezero();
    }

    /// Shifts the scores so that they sum to 0 again, the remainder taken from the first
    /// members (the balancer's invariant).
    pub(super) fn rezero(&mut self) {
        let n = self.members.len() as i64;
        if n > 0 {
            let sum: i64 = self.members.iter().map(|m| m.load.lbstatus).sum();
            let (share, rest) = (sum.div_euclid(n), sum.rem_euclid(n));
            for (i, m) in self.members.iter_mut().enumerate() {
                m.load.lbstatus -= share + i64::from((i as i64) < rest);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{config, schedule, NO_ROUTES};
    use super::super::*;
    use crate::config::LbstatusDecay;

    const MIN: u64 = 60_000;

    /// Two members, byrequests, sticky routes `a` and `b`, the given decay.
    fn pair(decay: LbstatusDecay) -> Balancer {
        let mut cfg = config(LbMethod::ByRequests, &[100, 100], true);
        cfg.options.lbstatus_decay = decay;
        Balancer::new(&cfg)
    }

    fn scores(b: &Balancer) -> Vec<i64> {
        b.members().iter().map(Member::lbstatus).collect()
    }

    /// How `n` balanced picks at `now_ms` split over the members.
    fn split(b: &mut Balancer, n: usize, now_ms: u64) -> Vec<usize> {
        let mut counts = vec![0; b.len()];
        for _ in 0..n {
            counts[b.pick(NO_ROUTES, 0, now_ms).unwrap().member] += 1;
        }
        counts
    }

    /// Table (fake clock): after 1 000 sticky picks to `b` at t=0, `a` holds 100 000 and `b`
    /// −100 000; the scores after the first picks at each later time. The probe is a sticky
    /// pick to `a` then one to `b`, which cancel, so only the decay (run by the first of
    /// them) moves the scores.
    #[test]
    fn halves_once_per_whole_period_elapsed() {
        let mut b = pair(LbstatusDecay::default());
        for _ in 0..1000 {
            b.pick(&[b"b"], 0, 0).unwrap();
        }
        assert_eq!(scores(&b), [100_000, -100_000]);
        // (now_ms, scores after the decay at that time)
        let table: [(u64, [i64; 2]); 7] = [
            (MIN - 1, [100_000, -100_000]), // within the first period: nothing
            (MIN, [50_000, -50_000]),       // one period: halved
            (MIN + 59_999, [50_000, -50_000]),
            (2 * MIN, [25_000, -25_000]),
            (5 * MIN + 5, [3_125, -3_125]), // three periods at once: >> 3
            (6 * MIN, [1_562, -1_562]),     // rounded toward 0, then zero-sum
            (100 * MIN, [0, 0]),            // long idle: everything forgotten
        ];
        for (now, want) in table {
            // A sticky pick to `a` then one to `b` (both usable) leave the scores unchanged:
            // the decay runs in the first of them.
            b.pick(&[b"a"], 0, now).unwrap();
            b.pick(&[b"b"], 0, now).unwrap();
            assert_eq!(scores(&b), want, "at {now} ms");
        }
    }

    #[test]
    fn odd_scores_stay_zero_sum() {
        let mut cfg = config(LbMethod::ByRequests, &[100, 200, 300], true);
        cfg.options.lbstatus_decay = LbstatusDecay::default();
        let mut b = Balancer::new(&cfg);
        for i in 0..777 {
            b.pick(&[b"c"], 0, i).unwrap();
            b.pick(NO_ROUTES, 0, i).unwrap();
        }
        for k in 1..=40 {
            b.pick(NO_ROUTES, 0, k * MIN).unwrap();
            assert_eq!(scores(&b).iter().sum::<i64>(), 0);
        }
    }

    /// The first pick starts the first period: a balancer first used late does not decay at
    /// once, and the scores of a fresh plain schedule are the same as without decay.
    #[test]
    fn first_pick_starts_the_period_and_plain_schedule_is_kept() {
        let mut on = Balancer::new(&config(LbMethod::ByRequests, &[100, 100, 100, 200], false));
        let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100, 200], false);
        cfg.options.lbstatus_decay = LbstatusDecay::OFF;
        let mut off = Balancer::new(&cfg);
        // A whole cycle (scores back to 0) per period: the decay has nothing to change.
        for k in 0..5 {
            let now = 1_000_000 + k * MIN;
            assert_eq!(schedule(&mut on, 5, 0, now), "dabcd");
            assert_eq!(schedule(&mut off, 5, 0, now), "dabcd");
        }
    }

    /// After 10 000 sticky picks to `b`, `a` is owed 10 000 balanced picks. Off (httpd): it
    /// takes all of them, however much time passes. On: the first pick of the next period
    /// halves what is still owed, so the split returns to the loadfactors (1:1) sooner.
    #[test]
    fn share_returns_to_loadfactors_within_the_decay_time() {
        for (decay, after_one_period) in [
            (LbstatusDecay::OFF, [7_500, 2_500]),
            (LbstatusDecay::default(), [6_250, 3_750]),
        ] {
            let mut b = pair(decay);
            for _ in 0..10_000 {
                b.pick(&[b"b"], 0, 0).unwrap();
            }
            // Within the first period both are httpd: `a` takes everything.
            assert_eq!(split(&mut b, 5_000, 1), [5_000, 0], "{decay:?}");
            // One period later 5 000 are still owed: off pays them all, on only 2 500.
            assert_eq!(split(&mut b, 10_000, MIN), after_one_period, "{decay:?}");
            // Then the loadfactors.
            assert_eq!(split(&mut b, 10_000, MIN + 1), [5_000, 5_000], "{decay:?}");
        }
    }

    /// The period in progress survives a new generation (`carry_scores`).
    #[test]
    fn carry_scores_keeps_the_period() {
        let mut old = pair(LbstatusDecay::default());
        old.pick(&[b"b"], 0, 10).unwrap();
        let mut new = pair(LbstatusDecay::default());
        new.carry_scores(&old, Some);
        assert_eq!(scores(&new), [100, -100]);
        new.pick(&[b"a"], 0, MIN + 10).unwrap();
        new.pick(&[b"b"], 0, MIN + 10).unwrap();
        assert_eq!(scores(&new), [50, -50]);
    }

    /// The measurement at 10 000 requests/s on one core: 500 000 sticky requests to
    /// `node2` (50 s), then 500 000 without a session (50 s); the split of the latter per
    /// 10 s. Off (httpd) sends all of them to `node1`; on, `node2` is back to its half
    /// within one period of the end of the sticky burst. Prints the table
    /// (`cargo test --lib sticky_burst -- --nocapture`).
    #[test]
    fn sticky_burst_then_balanced_split_per_10s() {
        let mut shares = Vec::new();
        for decay in [LbstatusDecay::OFF, LbstatusDecay::default()] {
            let mut b = pair(decay);
            for i in 0..500_000u64 {
                b.pick(&[b"b"], 0, i / 10).unwrap(); // 10 per ms
            }
            let mut windows = Vec::new();
            for w in 0..5u64 {
                let mut counts = [0u64; 2];
                for i in 0..100_000u64 {
                    let now = 50_000 + w * 10_000 + i / 10;
                    counts[b.pick(NO_ROUTES, 0, now).unwrap().member] += 1;
                }
                windows.push(counts);
            }
            println!("lbstatus_decay {}: unsticky split node1/node2 per 10 s after the burst: {windows:?}", decay.text());
            shares.push(windows);
        }
        assert!(shares[0].iter().all(|w| w[1] == 0), "httpd: node2 starved");
        let on = &shares[1];
        assert_eq!(on[0], [100_000, 0], "before the first decay");
        assert!(on[4][1] >= 45_000, "back to about half: {on:?}");
    }
}
