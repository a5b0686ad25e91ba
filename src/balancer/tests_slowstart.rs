//! Slow start gated on readiness and a recovered member's byrequests `lbstatus`
//! (`slowstart.rs`): simulated ramps with one pick every 10 ms, and the picks right after a
//! member comes back, with slow start off (Apache's score kept) and on (last in line).

use std::time::Duration;

use super::tests::{config, name, schedule, NO_ROUTES};
use super::*;

/// Members `a`, `b` with these factors; `b` has a 10 s slow start.
fn ramping(method: LbMethod, factors: &[u32]) -> BalancerConfig {
    let mut cfg = config(method, factors, false);
    cfg.members[1].options.slowstart = Duration::from_secs(10);
    cfg
}

/// One pick every 10 ms over `[from_ms, to_ms)`; how many went to each member. Each pick
/// records 1 000 bytes of traffic (for bytraffic).
fn counts(b: &mut Balancer, from_ms: u64, to_ms: u64) -> Vec<u32> {
    let mut c = vec![0u32; b.len()];
    for now in (from_ms..to_ms).step_by(10) {
        if let Ok(p) = b.pick(NO_ROUTES, 0, now) {
            c[p.member] += 1;
            b.record_traffic(p.member, 500, 500);
        }
    }
    c
}

// ---- slow start ----

#[test]
fn slow_start_ramps_from_process_start() {
    let mut b = Balancer::new(&ramping(LbMethod::ByRequests, &[100, 100]));
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 0);
    assert_eq!(
        b.member(1).unwrap().effective_lbfactor(),
        10,
        "10 % at start"
    );
    // Weight 10..19 against 100 over the first second: about 13 %, not 50 %.
    assert_eq!(counts(&mut b, 10, 1_000), [87, 12]);
    // Half way (weight 55..64): about 37 %.
    assert_eq!(counts(&mut b, 5_000, 6_000), [63, 37]);
    // After the ramp: the full, exact share.
    assert_eq!(counts(&mut b, 10_000, 11_000), [50, 50]);
    assert_eq!(b.member(1).unwrap().effective_lbfactor(), 100);
    assert_eq!(
        b.member(0).unwrap().effective_lbfactor(),
        100,
        "no slowstart"
    );
}

#[test]
fn slow_start_waits_for_readiness_then_ramps() {
    // b starts with a failed health check: no traffic, and no ramp time spent.
    let mut cfg = ramping(LbMethod::ByRequests, &[100, 100]);
    cfg.members[1].options.status = Status::HC_FAILED;
    let mut b = Balancer::new(&cfg);
    assert_eq!(counts(&mut b, 0, 30_000), [3_000, 0]);
    assert!(b.set_hc_failed(1, false, 30_000));
    assert_eq!(b.health().usable_since(0, 1), 30_000);
    assert_eq!(counts(&mut b, 30_000, 31_000), [88, 12], "ramp starts now");
    assert_eq!(counts(&mut b, 40_000, 41_000), [50, 50]);
}

#[test]
fn slow_start_restarts_after_an_error_clears() {
    let mut b = Balancer::new(&ramping(LbMethod::ByRequests, &[100, 100]));
    assert_eq!(counts(&mut b, 10_000, 20_000), [500, 500]);
    b.mark_error_at(1, 20_000, 25_000);
    assert_eq!(counts(&mut b, 20_000, 25_000), [500, 0]);
    // Cleared at 25 000 by the first pick that sees the window over.
    assert_eq!(counts(&mut b, 25_000, 26_000), [88, 12]);
    assert_eq!(b.health().usable_since(0, 1), 25_000);
    assert_eq!(counts(&mut b, 35_000, 36_000), [50, 50]);
}

#[test]
fn slow_start_restarts_when_this_core_enables_the_member() {
    let mut b = Balancer::new(&ramping(LbMethod::ByRequests, &[100, 100]));
    assert_eq!(counts(&mut b, 10_000, 11_000), [50, 50]);
    b.change_status(1, Status::DISABLED, Status::NONE);
    assert_eq!(counts(&mut b, 11_000, 12_000), [100, 0]);
    b.change_status(1, Status::NONE, Status::DISABLED);
    assert_eq!(counts(&mut b, 12_000, 13_000), [88, 12]);
    assert_eq!(counts(&mut b, 22_000, 23_000), [50, 50]);
}

#[test]
fn slow_start_applies_to_bytraffic_and_bybusyness() {
    // bytraffic: traffic / effective factor, so the ramping member looks busier.
    let mut b = Balancer::new(&ramping(LbMethod::ByTraffic, &[100, 100]));
    assert_eq!(counts(&mut b, 0, 1_000), [84, 16]);
    // Its bytes are cumulative (no decay, as in Apache): as its weight grows it catches up
    // on what the ramp kept from it, so by the end of the ramp both carried about the same.
    assert_eq!(counts(&mut b, 1_000, 10_000), [419, 481]);
    let [a, bb] = [0, 1].map(|m| b.member(m).unwrap().traffic().0);
    assert_eq!((a, bb), (251_500, 248_500));
    assert_eq!(
        counts(&mut b, 10_000, 12_000),
        [97, 103],
        "the last 3 000 bytes"
    );
    // bybusyness: with equal busy counts the lbstatus tie-break follows the ramp.
    let mut b = Balancer::new(&ramping(LbMethod::ByBusyness, &[100, 100]));
    assert_eq!(counts(&mut b, 0, 1_000), [88, 12]);
    assert_eq!(counts(&mut b, 10_000, 11_000), [50, 50]);
}

#[test]
fn zero_slowstart_is_off() {
    let mut b = Balancer::new(&config(LbMethod::ByRequests, &[100, 100], false));
    assert_eq!(counts(&mut b, 0, 1_000), [50, 50]);
    assert_eq!(b.member(1).unwrap().effective_lbfactor(), 100);
}

// ---- a recovered member's lbstatus under byrequests ----

fn lbstatuses(b: &Balancer) -> Vec<i64> {
    b.members().iter().map(Member::lbstatus).collect()
}

/// `cfg` with this slow start on every member.
fn with_slowstart(mut cfg: BalancerConfig, secs: u64) -> BalancerConfig {
    for m in &mut cfg.members {
        m.options.slowstart = Duration::from_secs(secs);
    }
    cfg
}

/// Issue 9 defect 14: httpd's schedule after a `failonstatus` window, slow start off.
#[test]
fn without_slow_start_a_recovered_member_keeps_its_score_as_in_httpd() {
    let mut b = Balancer::new(&config(LbMethod::ByRequests, &[100, 100], false));
    // a takes the first request and answers with a failonstatus status: in error until 1 000.
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 0);
    assert!(b.mark_error(0, 1_000));
    assert_eq!(lbstatuses(&b), [-100, 100]);
    // b alone during the window: it gains and pays its own 100, a is no candidate.
    assert_eq!(schedule(&mut b, 4, 0, 500), "bbbb");
    assert_eq!(lbstatuses(&b), [-100, 100]);
    // a comes back with the score it left with: httpd's `b a b a b a`.
    assert_eq!(schedule(&mut b, 6, 0, 1_000), "bababa");
}

/// A member that fails holding a large credit (sticky traffic went to the other one): without
/// slow start it keeps it and takes the following new requests, as in Apache; with slow start
/// it enters last in line instead.
#[test]
fn a_credit_held_at_failure_is_kept_without_slow_start_and_dropped_with_it() {
    for secs in [0, 10] {
        let cfg = with_slowstart(config(LbMethod::ByRequests, &[100, 100], true), secs);
        let mut b = Balancer::new(&cfg);
        for _ in 0..100 {
            b.pick(&[b"b"], 0, 20_000).unwrap();
        }
        assert_eq!(lbstatuses(&b), [10_000, -10_000]);
        b.mark_error_at(0, 20_000, 21_000);
        assert_eq!(schedule(&mut b, 5, 0, 20_500), "bbbbb");
        let s = schedule(&mut b, 120, 0, 21_000);
        let leading_a = s.find('b').unwrap_or(s.len());
        if secs == 0 {
            assert_eq!(leading_a, 101, "Apache's burst: {s}");
        } else {
            assert_eq!(leading_a, 0, "last in line: {s}");
            assert!(s[..20].matches('a').count() <= 2, "{s}");
        }
    }
}

/// `n_a` sticky picks of `a`, then `n_b` of `b`, then `n_c` of `c`, the whole `times` times.
fn sticky_mix(n_a: usize, n_b: usize, n_c: usize, times: usize) -> Vec<&'static [u8]> {
    let one = [(&b"a"[..], n_a), (b"b", n_b), (b"c", n_c)];
    let cycle: Vec<&[u8]> = one.iter().flat_map(|&(r, n)| vec![r; n]).collect();
    cycle.repeat(times)
}

/// One row: factors, the member that fails, the sticky picks served before it fails (which
/// build the credits and debts), the members picked before it after its return.
type EntryRow = (&'static [u32], usize, Vec<&'static [u8]>, &'static str);

/// Issue 9 defect 14, slow start on: whatever credit or debt the member left with and however
/// uneven the others are, it re-enters last in line: it is picked only after every other
/// member that is due service (all of them, except one deep in debt from sticky traffic);
/// in its first window it gets fewer picks than each of them and less than its configured
/// share; and it is not starved.
#[test]
fn with_slow_start_a_recovered_member_enters_last_and_is_not_flooded() {
    #[rustfmt::skip]
    let table: &[EntryRow] = &[
        (&[100, 100], 0, vec![], "b"),
        (&[100, 100], 1, sticky_mix(0, 50, 0, 1), "a"),
        (&[100, 100], 0, sticky_mix(50, 0, 0, 1), "b"),
        (&[100, 100, 100], 0, vec![], "bc"),
        (&[100, 100, 100], 0, sticky_mix(0, 1, 1, 20), "bc"),
        (&[100, 100, 100], 2, sticky_mix(0, 30, 0, 1), "a"),
        (&[100, 100, 100], 0, sticky_mix(0, 0, 30, 1), "b"),
        (&[100, 100, 100], 1, sticky_mix(40, 0, 0, 1), "c"),
        (&[100, 200, 300], 2, sticky_mix(5, 7, 0, 10), "ab"),
        (&[100, 200, 300], 0, sticky_mix(0, 0, 20, 1), "b"),
        (&[300, 200, 100], 0, sticky_mix(0, 7, 5, 10), "bc"),
    ];
    for (factors, down, routes, before) in table {
        let cfg = with_slowstart(config(LbMethod::ByRequests, factors, true), 10);
        let mut b = Balancer::new(&cfg);
        let t0 = 20_000;
        b.pick(NO_ROUTES, 0, t0).unwrap();
        for route in routes {
            b.pick(&[route], 0, t0).unwrap();
        }
        b.mark_error_at(*down, t0, t0 + 1_000);
        schedule(&mut b, 7, 0, t0 + 500);
        // 100 picks at the moment it returns: its effective lbfactor stays at 10 %.
        let window = schedule(&mut b, 100, 0, t0 + 1_000);
        let case = format!("{factors:?}, {} fails: {window}", name(*down));
        let first = window.find(name(*down)).unwrap_or(window.len());
        let count = |m: char| window.matches(m).count();
        for other in before.chars() {
            assert!(window[..first].contains(other), "{other} before: {case}");
            assert!(
                count(name(*down)) < count(other),
                "fewer than {other}: {case}"
            );
        }
        let share = 100 * factors[*down] / factors.iter().sum::<u32>();
        let share = usize::try_from(share).unwrap();
        assert!(count(name(*down)) < share, "share {share}: {case}");
        let later = schedule(&mut b, 100, 0, t0 + 2_000);
        assert!(later.contains(name(*down)), "starved: {later}");
    }
}

#[test]
fn re_entry_after_the_admin_enables_a_member_and_on_the_other_core() {
    let cfg = with_slowstart(config(LbMethod::ByRequests, &[100, 100, 100], true), 10);
    let health = Arc::new(Health::new(&[3]));
    let mut core0 = Balancer::with_health(&cfg, Arc::clone(&health), 0);
    let mut core1 = Balancer::with_health(&cfg, health, 0);
    for core in [&mut core0, &mut core1] {
        for _ in 0..15 {
            core.pick(&[b"b"], 0, 20_000).unwrap();
            core.pick(&[b"c"], 0, 20_000).unwrap();
        }
        assert_eq!(lbstatuses(core), [3_000, -1_500, -1_500]);
    }
    // a holds 3 000 of credit on both cores. On core 0 the admin disables it ...
    core0.change_status(0, Status::DISABLED, Status::NONE);
    assert_eq!(schedule(&mut core0, 4, 0, 20_000), "bcbc");
    core0.change_status(0, Status::NONE, Status::DISABLED);
    let s = schedule(&mut core0, 30, 0, 20_000);
    assert!(
        !s.starts_with('a') && s.matches('a').count() <= 3,
        "no burst after D: {s}"
    );
    // ... on core 1 it fails (shared E) and recovers: core 1 re-enters it too.
    core1.mark_error_at(0, 20_000, 20_100);
    assert_eq!(schedule(&mut core1, 4, 0, 20_050), "bcbc");
    let s = schedule(&mut core1, 30, 0, 20_100);
    assert!(
        !s.starts_with('a') && s.matches('a').count() <= 3,
        "no burst after E: {s}"
    );
}

#[test]
fn re_entry_is_only_for_byrequests() {
    // bybusyness keeps the old lbstatus: its primary key is busy, not lbstatus.
    let cfg = with_slowstart(config(LbMethod::ByBusyness, &[100, 100], true), 10);
    let mut b = Balancer::new(&cfg);
    for _ in 0..10 {
        b.pick(&[b"b"], 0, 20_000).unwrap();
    }
    b.mark_error_at(0, 20_000, 20_100);
    b.pick(NO_ROUTES, 0, 20_050).unwrap();
    // a wins on its kept 1 000 of credit, at its ramped weight 10: 1 000 + 10 - 110.
    assert_eq!(b.pick(NO_ROUTES, 0, 20_100).unwrap().member, 0);
    assert_eq!(lbstatuses(&b)[0], 900);
}
