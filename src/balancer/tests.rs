//! Schedules, eligibility rules (docs/semantics.md §1-§5), sticky picks and property loops.
//! Members are named `a`, `b`, `c`, ... in config order; each one's route is its letter.

use super::*;
use crate::config::{MemberConfig, Sticky};

pub(super) const NO_ROUTES: &[&[u8]] = &[];

pub(super) fn config(method: LbMethod, factors: &[u32], sticky: bool) -> BalancerConfig {
    let members = factors
        .iter()
        .enumerate()
        .map(|(i, &f)| MemberConfig {
            url: format!("http://127.0.0.1:{}", 9001 + i),
            addr: format!("127.0.0.1:{}", 9001 + i).parse().unwrap(),
            dns_name: None,
            authority: format!("127.0.0.1:{}", 9001 + i),
            route: name(i).to_string(),
            lbfactor: f,
            options: Default::default(),
        })
        .collect();
    BalancerConfig {
        name: "test".into(),
        mount: Some(crate::config::PathMount::new("/", "/")),
        lbmethod: method,
        options: Default::default(),
        sticky: sticky.then(|| Sticky {
            cookie_name: "JSESSIONID".into(),
            url_name: "jsessionid".into(),
            sep: Some(b'.'),
            scolonpathdelim: true,
        }),
        members,
    }
}

/// A byrequests balancer with these lbfactors (loadfactor × 100), no stickiness.
fn by_requests(factors: &[u32]) -> Balancer {
    Balancer::new(&config(LbMethod::ByRequests, factors, false))
}

pub(super) fn name(i: usize) -> char {
    char::from(b'a' + u8::try_from(i).unwrap())
}

/// `n` balanced picks (no routes) as member letters; `-` for `None`.
pub(super) fn schedule(b: &mut Balancer, n: usize, avoid: u64, now_ms: u64) -> String {
    (0..n)
        .map(|_| {
            b.pick(NO_ROUTES, avoid, now_ms)
                .map_or('-', |p| name(p.member))
        })
        .collect()
}

fn lbstatuses(b: &Balancer) -> Vec<i64> {
    b.members().iter().map(Member::lbstatus).collect()
}

// ---- byrequests schedules (docs/semantics.md §2; the table in method.rs) ----

#[test]
fn byrequests_1_1_1_2() {
    let mut b = by_requests(&[100, 100, 100, 200]);
    assert_eq!(schedule(&mut b, 10, 0, 0), "dabcddabcd");
    assert_eq!(lbstatuses(&b), [0, 0, 0, 0]);
}

#[test]
fn byrequests_5_1_1() {
    let mut b = by_requests(&[500, 100, 100]);
    assert_eq!(schedule(&mut b, 7, 0, 0), "aabacaa");
    assert_eq!(schedule(&mut b, 7, 0, 0), "aabacaa");
}

#[test]
fn byrequests_schedule_is_scale_free() {
    let mut small = by_requests(&[1, 1, 1, 2]);
    assert_eq!(schedule(&mut small, 10, 0, 0), "dabcddabcd");
}

#[test]
fn byrequests_ties_go_to_the_earliest() {
    let mut b = by_requests(&[100, 100, 100]);
    assert_eq!(schedule(&mut b, 6, 0, 0), "abcabc");
}

#[test]
fn byrequests_split_follows_lbfactor_exactly() {
    let mut b = by_requests(&[100, 300]);
    let mut counts = [0usize; 2];
    for _ in 0..10_000 {
        counts[b.pick(NO_ROUTES, 0, 0).unwrap().member] += 1;
    }
    assert_eq!(counts, [2_500, 7_500]);
}

#[test]
fn byrequests_decimal_loadfactors_keep_their_ratio() {
    // loadfactor 1.5 and 2.5 → 150 and 250: a 3:5 split over every cycle of 8.
    let mut b = by_requests(&[150, 250]);
    let s = schedule(&mut b, 800, 0, 0);
    assert_eq!(s.matches('a').count(), 300);
    assert_eq!(s.matches('b').count(), 500);
}

// ---- eligibility: flags, lbsets, spares, standbys (docs/semantics.md §1, §4, §5) ----

#[test]
fn disabled_stopped_and_hc_failed_are_never_picked() {
    for flag in [Status::DISABLED, Status::STOPPED, Status::HC_FAILED] {
        let mut b = by_requests(&[100, 100, 100]);
        b.set_status(1, flag);
        assert_eq!(schedule(&mut b, 4, 0, u64::MAX), "acac", "{flag}");
    }
}

#[test]
fn nothing_usable_gives_none() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(0, Status::DISABLED);
    b.set_status(1, Status::STOPPED);
    assert_eq!(b.pick(NO_ROUTES, 0, 0), Err(NoPick::Unavailable));
    let mut empty = by_requests(&[]);
    assert_eq!(empty.pick(&[b"a"], 0, 0), Err(NoPick::Unavailable));
}

#[test]
fn lbsets_are_strict_tiers() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_lbset(1, 1);
    b.set_lbset(2, 1);
    assert_eq!(schedule(&mut b, 3, 0, 0), "aaa");
    b.set_status(0, Status::DISABLED);
    assert_eq!(schedule(&mut b, 4, 0, 0), "bcbc");
    b.set_status(0, Status::NONE);
    assert_eq!(schedule(&mut b, 2, 0, 0), "aa");
}

#[test]
fn lbsets_may_be_sparse_and_unordered() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_lbset(0, 7);
    b.set_lbset(1, 3);
    b.set_lbset(2, 5);
    assert_eq!(schedule(&mut b, 2, 0, 0), "bb");
    b.set_status(1, Status::DISABLED);
    assert_eq!(schedule(&mut b, 2, 0, 0), "cc");
    b.set_status(2, Status::DISABLED);
    assert_eq!(schedule(&mut b, 2, 0, 0), "aa");
}

#[test]
fn drain_takes_no_new_requests() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(0, Status::DRAIN);
    assert_eq!(schedule(&mut b, 3, 0, 0), "bbb");
    b.set_status(1, Status::DRAIN);
    assert_eq!(b.pick(NO_ROUTES, 0, 0), Err(NoPick::Unavailable));
}

#[test]
fn spare_is_unused_while_nothing_is_unusable() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(2, Status::HOT_SPARE);
    assert_eq!(schedule(&mut b, 4, 0, 0), "abab");
}

#[test]
fn spare_takes_the_slot_of_a_draining_member() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(0, Status::DRAIN);
    b.set_status(2, Status::HOT_SPARE);
    assert_eq!(schedule(&mut b, 4, 0, 0), "bcbc");
}

#[test]
fn spares_replace_unusable_members_one_for_one_in_order() {
    // a b regular, c d e spares.
    let mut b = by_requests(&[100, 100, 100, 100, 100]);
    for s in 2..5 {
        b.set_status(s, Status::HOT_SPARE);
    }
    b.set_status(0, Status::DISABLED);
    assert_eq!(schedule(&mut b, 4, 0, 0), "bcbc");
    b.set_status(1, Status::DISABLED);
    assert_eq!(schedule(&mut b, 4, 0, 0), "cdcd");
    // An unusable spare is skipped, the next one takes the slot.
    b.set_status(2, Status::HOT_SPARE | Status::STOPPED);
    assert_eq!(schedule(&mut b, 4, 0, 0), "dede");
}

#[test]
fn spares_replace_only_slots_in_their_own_lbset() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(1, Status::HOT_SPARE);
    b.set_lbset(1, 1);
    b.set_lbset(2, 1);
    b.set_status(0, Status::DISABLED);
    // lbset 0 has one unusable slot but no spare; lbset 1 has a usable regular member.
    assert_eq!(schedule(&mut b, 2, 0, 0), "cc");
}

#[test]
fn standby_only_when_nothing_else_in_its_lbset() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(1, Status::HOT_STANDBY);
    b.set_status(2, Status::HOT_SPARE);
    assert_eq!(schedule(&mut b, 2, 0, 0), "aa");
    b.set_status(0, Status::DISABLED);
    assert_eq!(
        schedule(&mut b, 2, 0, 0),
        "cc",
        "the spare comes before the standby"
    );
    b.set_status(2, Status::HOT_SPARE | Status::DISABLED);
    assert_eq!(schedule(&mut b, 2, 0, 0), "bb");
}

#[test]
fn standby_of_a_lower_lbset_beats_a_higher_lbset() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(0, Status::DISABLED);
    b.set_status(1, Status::HOT_STANDBY);
    b.set_lbset(2, 1);
    assert_eq!(schedule(&mut b, 2, 0, 0), "bb");
    b.set_status(1, Status::HOT_STANDBY | Status::DRAIN);
    assert_eq!(schedule(&mut b, 2, 0, 0), "cc");
}

#[test]
fn several_standbys_are_balanced_among_themselves() {
    let mut b = by_requests(&[100, 100, 300]);
    b.set_status(0, Status::DISABLED);
    b.set_status(1, Status::HOT_STANDBY);
    b.set_status(2, Status::HOT_STANDBY);
    assert_eq!(schedule(&mut b, 4, 0, 0), "cbcc");
}

// ---- avoid set ----

#[test]
fn avoided_members_are_never_picked() {
    let mut b = by_requests(&[100, 100, 100]);
    assert_eq!(schedule(&mut b, 4, 0b010, 0), "acac");
    assert_eq!(b.pick(NO_ROUTES, 0b111, 0), Err(NoPick::Unavailable));
    assert_eq!(b.pick(NO_ROUTES, u64::MAX, 0), Err(NoPick::Unavailable));
}

#[test]
fn an_avoided_member_leaves_a_slot_for_a_spare() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_status(2, Status::HOT_SPARE);
    assert_eq!(schedule(&mut b, 4, 0b001, 0), "bcbc");
}

#[test]
fn avoiding_a_whole_lbset_falls_through_to_the_next() {
    let mut b = by_requests(&[100, 100, 100]);
    b.set_lbset(2, 1);
    assert_eq!(schedule(&mut b, 2, 0b011, 0), "cc");
}

#[test]
fn members_past_bit_63_cannot_be_avoided() {
    let mut b = by_requests(&[100; 65]);
    for i in 0..64 {
        b.set_status(i, Status::DISABLED);
    }
    assert_eq!(b.pick(NO_ROUTES, u64::MAX, 0).map(|p| p.member), Ok(64));
}

// ---- error state and retry window ----

#[test]
fn error_member_is_retried_lazily_when_its_window_ends() {
    let mut b = by_requests(&[100, 100]);
    assert!(b.mark_error(0, 1_000));
    assert_eq!(schedule(&mut b, 3, 0, 999), "bbb");
    assert!(b.member(0).unwrap().status().contains(Status::ERROR));
    assert_eq!(b.pick(NO_ROUTES, 0, 1_000).unwrap().member, 0);
    assert_eq!(b.member(0).unwrap().status(), Status::NONE);
}

#[test]
fn stopped_member_in_error_is_never_retried() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(0, Status::STOPPED);
    b.mark_error(0, 10);
    assert_eq!(schedule(&mut b, 2, 0, u64::MAX), "bb");
    assert!(b.member(0).unwrap().status().contains(Status::ERROR));
}

#[test]
fn disabled_member_in_error_stays_disabled_after_the_window() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(0, Status::DISABLED);
    b.mark_error(0, 10);
    assert_eq!(schedule(&mut b, 2, 0, 20), "bb");
    assert_eq!(b.member(0).unwrap().status(), Status::DISABLED);
}

#[test]
fn ignore_errors_member_never_stays_in_error() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(0, Status::IGNORE_ERRORS);
    assert!(!b.mark_error(0, 1_000));
    assert_eq!(b.member(0).unwrap().status(), Status::IGNORE_ERRORS);
    // Set by hand, E on an I member clears at the next look.
    b.set_status(0, Status::IGNORE_ERRORS | Status::ERROR);
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 0);
    assert_eq!(b.member(0).unwrap().status(), Status::IGNORE_ERRORS);
}

#[test]
fn error_members_count_as_slots_for_spares() {
    let mut b = by_requests(&[100, 100]);
    b.set_status(1, Status::HOT_SPARE);
    b.mark_error(0, 100);
    assert_eq!(schedule(&mut b, 2, 0, 50), "bb");
    assert_eq!(schedule(&mut b, 2, 0, 100), "aa");
}

// ---- sticky routes (docs/semantics.md §2, §3 points 5 and 6) ----

fn sticky(factors: &[u32]) -> Balancer {
    Balancer::new(&config(LbMethod::ByRequests, factors, true))
}

const STICKY_B: Pick = Pick {
    member: 1,
    sticky: true,
    route_changed: false,
};

#[test]
fn route_selects_its_member() {
    let mut b = sticky(&[100, 100, 100]);
    for _ in 0..3 {
        assert_eq!(b.pick(&[b"b"], 0, 0), Ok(STICKY_B));
    }
}

#[test]
fn sticky_traffic_reaches_drain_standby_and_spare_members_in_any_lbset() {
    for (flag, lbset) in [
        (Status::DRAIN, 0),
        (Status::HOT_STANDBY, 0),
        (Status::HOT_SPARE, 3),
    ] {
        let mut b = sticky(&[100, 100, 100]);
        b.set_status(1, flag);
        b.set_lbset(1, lbset);
        assert_eq!(b.pick(&[b"b"], 0, 0), Ok(STICKY_B), "{flag} lbset {lbset}");
    }
}

#[test]
fn unusable_or_avoided_route_member_is_rebalanced() {
    let rebalanced = |b: &mut Balancer, avoid| b.pick(&[b"b"], avoid, 0).unwrap();
    for flag in [Status::DISABLED, Status::STOPPED, Status::HC_FAILED] {
        let mut b = sticky(&[100, 100, 100]);
        b.set_status(1, flag);
        let p = rebalanced(&mut b, 0);
        assert_eq!(
            (p.member, p.sticky, p.route_changed),
            (0, false, true),
            "{flag}"
        );
    }
    let mut b = sticky(&[100, 100, 100]);
    let p = rebalanced(&mut b, 0b010);
    assert_eq!((p.member, p.sticky, p.route_changed), (0, false, true));
}

#[test]
fn route_member_in_error_is_retried_at_lookup() {
    let mut b = sticky(&[100, 100]);
    b.mark_error(1, 500);
    assert!(!b.pick(&[b"b"], 0, 499).unwrap().sticky);
    assert_eq!(b.pick(&[b"b"], 0, 500), Ok(STICKY_B));
}

#[test]
fn later_routes_are_tried_in_order() {
    let mut b = sticky(&[100, 100, 100]);
    b.set_status(0, Status::DISABLED);
    let routes: [&[u8]; 4] = [b"zz", b"a", b"b", b"c"];
    assert_eq!(b.pick(&routes, 0, 0), Ok(STICKY_B));
}

#[test]
fn route_changed_on_every_balanced_pick_of_a_sticky_balancer() {
    let mut b = sticky(&[100, 100]);
    for routes in [NO_ROUTES, &[b"unknown"], &[b""]] {
        let p = b.pick(routes, 0, 0).unwrap();
        assert!(!p.sticky && p.route_changed, "{routes:?}");
    }
    let mut plain = by_requests(&[100, 100]);
    assert!(!plain.pick(NO_ROUTES, 0, 0).unwrap().route_changed);
    assert!(plain.pick(&[b"unknown"], 0, 0).unwrap().route_changed);
}

#[test]
fn regular_members_are_preferred_over_standbys_with_the_same_route() {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100], true);
    cfg.members[0].route = "b".into();
    let mut b = Balancer::new(&cfg);
    b.set_status(0, Status::HOT_STANDBY);
    assert_eq!(b.pick(&[b"b"], 0, 0).map(|p| p.member), Ok(1));
    b.set_status(1, Status::DISABLED);
    assert_eq!(
        b.pick(&[b"b"], 0, 0).map(|p| (p.member, p.sticky)),
        Ok((0, true))
    );
}

#[test]
fn members_without_a_route_never_match() {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100], true);
    cfg.members[0].route = String::new();
    let mut b = Balancer::new(&cfg);
    assert!(!b.pick(&[b""], 0, 0).unwrap().sticky);
}

#[test]
fn sticky_hits_move_lbstatus_of_every_usable_member() {
    let mut b = sticky(&[100, 100, 100, 200]);
    b.set_status(2, Status::DISABLED);
    b.set_lbset(3, 1); // lbset does not matter for this bookkeeping
    b.pick(&[b"a"], 0, 0).unwrap();
    // a, b, d usable: total 400; a pays it. c (disabled) is untouched.
    assert_eq!(lbstatuses(&b), [-300, 100, 0, 200]);
}

#[test]
fn sticky_hits_count_towards_the_byrequests_quota() {
    // Half the requests stick to `a`; with equal factors the balanced half goes to `b`.
    let mut b = sticky(&[100, 100]);
    let mut counts = [0usize; 2];
    for i in 0..1_000 {
        let routes: &[&[u8]] = if i % 2 == 0 { &[b"a"] } else { NO_ROUTES };
        counts[b.pick(routes, 0, 0).unwrap().member] += 1;
    }
    assert_eq!(counts, [500, 500]);
}

// ---- bybusyness and bytraffic ----

#[test]
fn bybusyness_prefers_fewer_in_flight_then_lbstatus() {
    let mut b = Balancer::new(&config(LbMethod::ByBusyness, &[100, 100, 100, 200], false));
    assert_eq!(
        schedule(&mut b, 5, 0, 0),
        "dabcd",
        "equal busy: the byrequests schedule"
    );
    b.busy_inc(0);
    b.busy_inc(3);
    assert_eq!(schedule(&mut b, 4, 0, 0), "bcbc");
    b.busy_dec(0);
    b.busy_dec(0); // floored at 0
    assert_eq!(b.member(0).unwrap().busy(), 0);
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 0);
}

#[test]
fn bytraffic_picks_least_traffic_per_lbfactor() {
    let mut b = Balancer::new(&config(LbMethod::ByTraffic, &[200, 100, 100], false));
    assert_eq!(schedule(&mut b, 3, 0, 0), "aaa", "all zero: the earliest");
    b.record_traffic(0, 100, 50); // 150 / 2 = 75
    b.record_traffic(1, 80, 0); // 80
    b.record_traffic(2, 0, 75); // 75: ties with a, a is earlier
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 0);
    b.record_traffic(0, 2, 0); // 76
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 2);
    assert_eq!(lbstatuses(&b), [0, 0, 0], "no lbstatus bookkeeping");
}

#[test]
fn bytraffic_does_not_overflow() {
    let mut b = Balancer::new(&config(LbMethod::ByTraffic, &[10_000, 100], false));
    b.record_traffic(0, u64::MAX, u64::MAX);
    b.record_traffic(0, 1, 1); // saturates
    b.record_traffic(1, u64::MAX / 50, 0);
    assert_eq!(b.member(0).unwrap().traffic(), (u64::MAX, u64::MAX));
    assert_eq!(b.pick(NO_ROUTES, 0, 0).unwrap().member, 1);
}

#[test]
fn setters_refuse_unknown_members() {
    let mut b = by_requests(&[100]);
    assert!(!b.set_status(1, Status::DISABLED));
    assert!(!b.change_status(1, Status::DISABLED, Status::NONE));
    assert!(!b.mark_error(1, 0));
    assert!(!b.set_lbset(1, 1));
    assert!(!b.set_lbfactor(1, 100));
    assert!(!b.set_lbfactor(0, 0));
    assert!(!b.record_traffic(1, 1, 1));
    assert!(!b.busy_inc(1) && !b.busy_dec(1));
    assert!(b.member(1).is_none());
    assert!(b.set_lbfactor(0, 250));
    assert_eq!(b.member(0).unwrap().lbfactor(), 250);
}

#[test]
fn status_letters_and_changes() {
    assert_eq!(Status::from_letter(b'd'), Some(Status::DISABLED));
    assert_eq!(Status::from_letter(b'R'), Some(Status::HOT_SPARE));
    assert_eq!(Status::from_letter(b'X'), None);
    assert_eq!((Status::ERROR | Status::DRAIN).to_string(), "NE");
    assert_eq!(Status::NONE.to_string(), "-");
    assert_eq!(format!("{:?}", Status::DISABLED), "Status(D)");
    let mut b = by_requests(&[100]);
    b.set_status(0, Status::DISABLED | Status::DRAIN);
    b.change_status(0, Status::HOT_STANDBY, Status::DISABLED);
    assert_eq!(
        b.member(0).unwrap().status(),
        Status::DRAIN | Status::HOT_STANDBY
    );
    assert!(Status::NOT_USABLE.contains(Status::HC_FAILED));
    assert!(!Status::NOT_USABLE.intersects(Status::DRAIN | Status::HOT_STANDBY));
}

// ---- property loops ----

/// xorshift64*: deterministic, good enough to shuffle test inputs.
pub(super) struct Rng(pub(super) u64);

impl Rng {
    pub(super) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    pub(super) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// Random flags, lbsets, error windows, avoid sets and routes over many picks: a pick never
/// lands on an avoided, D/S/C, or still-in-error member, a balanced pick never on a draining
/// one, a sticky pick always on its route; `None` only when no member could take a request.
#[test]
fn random_picks_respect_eligibility() {
    let flags = [
        Status::NONE,
        Status::NONE,
        Status::NONE,
        Status::DISABLED,
        Status::STOPPED,
        Status::HC_FAILED,
        Status::DRAIN,
        Status::HOT_STANDBY,
        Status::HOT_SPARE,
        Status::IGNORE_ERRORS,
    ];
    let methods = [
        LbMethod::ByRequests,
        LbMethod::ByBusyness,
        LbMethod::ByTraffic,
    ];
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for round in 0..300 {
        let n = 1 + rng.below(8) as usize;
        let factors: Vec<u32> = (0..n).map(|_| 1 + rng.below(1_000) as u32).collect();
        let method = methods[round % methods.len()];
        let mut b = Balancer::new(&config(method, &factors, true));
        for i in 0..n {
            b.set_status(i, flags[rng.below(flags.len() as u64) as usize]);
            b.set_lbset(i, rng.below(3) as u32);
            if rng.below(4) == 0 {
                b.mark_error(i, rng.below(100));
            }
        }
        for now in 0..120 {
            let avoid = if rng.below(3) == 0 { rng.next() } else { 0 };
            let route = [b'a' + rng.below(10) as u8];
            let routes: &[&[u8]] = if rng.below(2) == 0 {
                &[&route]
            } else {
                NO_ROUTES
            };
            let before: Vec<Member> = b.members().to_vec();
            let forced = b.forced_recoveries();
            let pick = b.pick(routes, avoid, now);
            // Every member had E: forcerecovery cleared them all, windows open or not.
            let forced = b.forced_recoveries() > forced;
            if method == LbMethod::ByBusyness {
                if let Ok(p) = pick {
                    b.busy_inc(p.member);
                }
            }
            let Ok(p) = pick else {
                // Nothing was free: every member is avoided, draining, or unusable now.
                for (i, m) in before.iter().enumerate() {
                    let usable_now = m.is_usable()
                        || (m.status().contains(Status::ERROR)
                            && !m
                                .status()
                                .intersects(Status::NOT_USABLE.without(Status::ERROR))
                            && (now >= m.error_until_ms()
                                || m.status().contains(Status::IGNORE_ERRORS)));
                    let blocked = avoided(avoid, i) || m.status().contains(Status::DRAIN);
                    assert!(
                        !usable_now || blocked || m.status().contains(Status::HOT_SPARE),
                        "round {round} now {now}: {i} was free: {before:?}"
                    );
                }
                continue;
            };
            let m = &before[p.member];
            let st = m.status();
            assert!(!avoided(avoid, p.member), "round {round}: avoided {p:?}");
            assert!(!st.intersects(Status::DISABLED | Status::STOPPED | Status::HC_FAILED));
            if st.contains(Status::ERROR) && !st.contains(Status::IGNORE_ERRORS) && !forced {
                assert!(
                    now >= m.error_until_ms(),
                    "round {round}: error window open {p:?}"
                );
            }
            assert!(b.members()[p.member].is_usable());
            if p.sticky {
                assert_eq!(routes, [m.route()]);
            } else {
                assert!(!st.contains(Status::DRAIN), "round {round}: draining {p:?}");
                assert!(p.route_changed);
            }
        }
    }
}

#[test]
fn random_factors_split_exactly_over_a_full_cycle() {
    let mut rng = Rng(42);
    for _ in 0..50 {
        let n = 1 + rng.below(6) as usize;
        let factors: Vec<u32> = (0..n).map(|_| 1 + rng.below(9) as u32).collect();
        let cycle: u32 = factors.iter().sum();
        let mut b = by_requests(&factors);
        let mut counts = vec![0u32; n];
        for _ in 0..cycle * 3 {
            counts[b.pick(NO_ROUTES, 0, 0).unwrap().member] += 1;
        }
        let want: Vec<u32> = factors.iter().map(|f| f * 3).collect();
        assert_eq!(counts, want, "factors {factors:?}");
        assert_eq!(
            lbstatuses(&b),
            vec![0; n],
            "a full cycle returns to the start"
        );
    }
}

#[test]
fn carried_scores_continue_and_stay_zero_sum() {
    let mut old = by_requests(&[100, 200, 300]);
    for _ in 0..4 {
        old.pick(NO_ROUTES, 0, 0).unwrap();
    }
    let before = lbstatuses(&old);
    // Same members: the scores carry unchanged.
    let mut same = by_requests(&[100, 200, 300]);
    same.carry_scores(&old, Some);
    assert_eq!(lbstatuses(&same), before);
    // Member 1 removed, a new member added last: the kept scores shift by the same amount
    // (the remainder spread from the first), the sum is 0 again.
    let mut next = by_requests(&[100, 300, 100]);
    next.carry_scores(&old, |i| [Some(0), Some(2), None][i]);
    let got = lbstatuses(&next);
    assert_eq!(got.iter().sum::<i64>(), 0, "{got:?}");
    let carried = before[0] + before[2];
    let (share, rest) = (carried.div_euclid(3), carried.rem_euclid(3));
    let want: Vec<i64> = [before[0], before[2], 0]
        .iter()
        .enumerate()
        .map(|(i, s)| s - share - i64::from((i as i64) < rest))
        .collect();
    assert_eq!(got, want);
}
