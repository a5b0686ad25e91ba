//! Slow start gated on readiness and the byrequests re-entry (`slowstart.rs`): simulated
//! ramps with one pick every 10 ms, and the picks right after a member comes back.

use std::time::Duration;

use super::tests::{config, schedule, NO_ROUTES};
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

// ---- byrequests re-entry at the current maximum ----

fn lbstatuses(b: &Balancer) -> Vec<i64> {
    b.members().iter().map(Member::lbstatus).collect()
}

#[test]
fn a_recovered_member_enters_at_the_current_max_without_a_burst() {
    let mut b = Balancer::new(&config(LbMethod::ByRequests, &[100, 100], true));
    // Sticky traffic to b gives a a large credit: a's lbstatus 10 000.
    for _ in 0..100 {
        b.pick(&[b"b"], 0, 0).unwrap();
    }
    assert_eq!(lbstatuses(&b), [10_000, -10_000]);
    // a fails with that credit and comes back later.
    b.mark_error_at(0, 0, 1_000);
    assert_eq!(schedule(&mut b, 5, 0, 500), "bbbbb");
    // Without the re-entry a would take the next 100 new requests; it enters at b's
    // lbstatus instead (the difference taken back from both): plain alternation.
    assert_eq!(schedule(&mut b, 10, 0, 1_000), "ababababab");
    assert_eq!(lbstatuses(&b), [0, 0]);
}

#[test]
fn a_recovered_member_gets_at_most_its_fair_share_plus_one() {
    // Factors 1:2:3. Sticky traffic to a and b (5:7) leaves them even and gives c a large
    // credit: +36 000.
    let mut b = Balancer::new(&config(LbMethod::ByRequests, &[100, 200, 300], true));
    for _ in 0..10 {
        for route in [[b'a']; 5].iter().chain(&[[b'b']; 7]) {
            b.pick(&[route], 0, 0).unwrap();
        }
    }
    assert_eq!(lbstatuses(&b), [-18_000, -18_000, 36_000]);
    // c fails holding it, and comes back.
    b.mark_error_at(2, 0, 1_000);
    assert_eq!(schedule(&mut b, 6, 0, 10), "babbab");
    let s = schedule(&mut b, 60, 0, 1_000);
    // c's fair share is half; in every window of N picks from its return it gets at most
    // N/2 + 1 (without the re-entry it would take the next ~150 picks).
    for n in 1..=s.len() {
        let c = s[..n].matches('c').count();
        assert!(c <= n / 2 + 1, "first {n}: {c} c in {s}");
    }
    let first12 = &s[..12];
    assert!(first12.matches('c').count() <= 7, "{first12}");
    assert_eq!(
        ['a', 'b', 'c'].map(|m| s.matches(m).count()),
        [10, 20, 30],
        "{s}"
    );
}

#[test]
fn re_entry_after_the_admin_enables_a_member_and_on_the_other_core() {
    let cfg = config(LbMethod::ByRequests, &[100, 100, 100], true);
    let health = Arc::new(Health::new(&[3]));
    let mut core0 = Balancer::with_health(&cfg, Arc::clone(&health), 0);
    let mut core1 = Balancer::with_health(&cfg, health, 0);
    for core in [&mut core0, &mut core1] {
        for _ in 0..15 {
            core.pick(&[b"b"], 0, 0).unwrap();
            core.pick(&[b"c"], 0, 0).unwrap();
        }
        assert_eq!(lbstatuses(core), [3_000, -1_500, -1_500]);
    }
    // a holds 3 000 of credit on both cores. On core 0 the admin disables it ...
    core0.change_status(0, Status::DISABLED, Status::NONE);
    assert_eq!(schedule(&mut core0, 4, 0, 0), "bcbc");
    core0.change_status(0, Status::NONE, Status::DISABLED);
    let s = schedule(&mut core0, 30, 0, 0);
    assert_eq!(s.matches('a').count(), 10, "no burst after D: {s}");
    // ... on core 1 it fails (shared E) and recovers: core 1 re-enters it too.
    core1.mark_error_at(0, 0, 100);
    assert_eq!(schedule(&mut core1, 4, 0, 50), "bcbc");
    let s = schedule(&mut core1, 30, 0, 100);
    assert_eq!(s.matches('a').count(), 10, "no burst after E: {s}");
    assert!(core1.member(0).unwrap().lbstatus().abs() <= 300);
}

#[test]
fn re_entry_is_only_for_byrequests() {
    // bybusyness keeps the old lbstatus: its primary key is busy, not lbstatus.
    let mut b = Balancer::new(&config(LbMethod::ByBusyness, &[100, 100], true));
    for _ in 0..10 {
        b.pick(&[b"b"], 0, 0).unwrap();
    }
    b.mark_error_at(0, 0, 100);
    b.pick(NO_ROUTES, 0, 50).unwrap();
    b.pick(NO_ROUTES, 0, 100).unwrap();
    assert_eq!(lbstatuses(&b)[0], 1_000 - 100);
}
