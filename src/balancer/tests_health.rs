//! The member health shared by all cores (`health.rs`, `recovery.rs`): two balancers built
//! on one `Arc<Health>` stand for two cores; racing state changes from real threads; the
//! retry window, `I`, `S`; `forcerecovery`; the failed health check `C`.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Barrier;
use std::thread;

use super::tests::{config, name, schedule, NO_ROUTES};
use super::*;

/// Two "cores" sharing the health of one byrequests balancer with these factors; sticky.
fn two_cores(factors: &[u32]) -> (Balancer, Balancer) {
    let cfg = config(LbMethod::ByRequests, factors, true);
    let health = Arc::new(Health::new(&[cfg.members.len()]));
    (
        Balancer::with_health(&cfg, Arc::clone(&health), 0),
        Balancer::with_health(&cfg, health, 0),
    )
}

fn member(r: Result<Pick, NoPick>) -> char {
    r.map_or('-', |p| name(p.member))
}

// ---- Health on its own ----

/// One step on member (0, 0) at a time, then (down time, last change) expected after it.
enum Step {
    Error {
        at: u64,
        until: u64,
    },
    Clear {
        at: u64,
    },
    Check {
        at: u64,
        failed: bool,
    },
    /// Only look at `at`.
    Look {
        at: u64,
    },
}

#[test]
fn down_time_and_last_change_follow_every_way_down_and_up() {
    use Step::*;
    /// A step, then the down time and the last change expected after it.
    type Expect = (Step, u64, u64);
    let cases: &[(&str, &[Expect])] = &[
        ("never down", &[(Look { at: 500 }, 0, 0)]),
        (
            "an error window, cleared by a later pick, ends at its own end",
            &[
                (
                    Error {
                        at: 100,
                        until: 400,
                    },
                    0,
                    100,
                ),
                (Look { at: 250 }, 150, 100),
                (Look { at: 900 }, 300, 400),
                (Clear { at: 1_000 }, 300, 400),
                (Look { at: 2_000 }, 300, 400),
            ],
        ),
        (
            "a failed check down until it passes, with an error inside",
            &[
                (
                    Check {
                        at: 100,
                        failed: true,
                    },
                    0,
                    100,
                ),
                (
                    Error {
                        at: 200,
                        until: 300,
                    },
                    100,
                    100,
                ),
                (Clear { at: 900 }, 800, 100),
                (
                    Check {
                        at: 1_100,
                        failed: false,
                    },
                    1_000,
                    1_100,
                ),
                (Look { at: 5_000 }, 1_000, 1_100),
            ],
        ),
        (
            "a new window after one that ended lazily is a second span",
            &[
                (Error { at: 0, until: 100 }, 0, 0),
                (
                    Error {
                        at: 500,
                        until: 700,
                    },
                    100,
                    500,
                ),
                (Look { at: 600 }, 200, 500),
                (Clear { at: 650 }, 250, 650),
            ],
        ),
        (
            "retry 0: an empty window is never down",
            &[
                (
                    Error {
                        at: 100,
                        until: 100,
                    },
                    0,
                    0,
                ),
                (Clear { at: 200 }, 0, 0),
            ],
        ),
    ];
    for (name, steps) in cases {
        let h = Health::new(&[1]);
        for (i, (step, down, change)) in steps.iter().enumerate() {
            let at = match *step {
                Error { at, until } => {
                    h.set_error(0, 0, at, until);
                    at
                }
                Clear { at } => {
                    h.clear_error(0, 0, at);
                    at
                }
                Check { at, failed } => {
                    h.set_hc_failed(0, 0, failed, at);
                    at
                }
                Look { at } => at,
            };
            let got = (h.downtime(0, 0, at), h.last_change(0, 0, at));
            assert_eq!(got, (*down, *change), "{name}: step {i}");
        }
        let next = Health::new(&[1]);
        next.carry_from(0, 0, &h, 0, 0);
        assert_eq!(
            next.downtime(0, 0, 9_999),
            h.downtime(0, 0, 9_999),
            "{name}: carried"
        );
    }
    assert_eq!(Health::new(&[1]).downtime(3, 3, 10), 0, "out of range");
}

#[test]
fn health_words_start_healthy_and_report_their_state() {
    let h = Health::new(&[2, 3]);
    assert_eq!(
        (h.balancers(), h.members(0), h.members(1), h.members(2)),
        (2, 2, 3, 0)
    );
    assert_eq!(h.state(1, 2, 0), HealthState::Ok);
    assert!(h.set_error(1, 2, 10, 100));
    assert_eq!(h.error_until(1, 2), 100);
    assert_eq!(h.state(1, 2, 99), HealthState::InError { until_ms: 100 });
    assert_eq!(
        h.state(1, 2, 100),
        HealthState::Ok,
        "window over, not cleared yet"
    );
    assert!(h.in_error(1, 2));
    // The other balancer's members and the neighbours are untouched.
    assert_eq!((h.error_until(0, 2), h.error_until(1, 1)), (0, 0));
    assert!(h.set_hc_failed(1, 2, true, 20));
    assert_eq!(h.state(1, 2, 50), HealthState::HcFailed, "C wins over E");
    assert!(h.clear_error(1, 2, 60));
    assert!(!h.clear_error(1, 2, 61), "no change the second time");
    assert_eq!(h.usable_since(1, 2), 60);
    assert!(h.hc_failed(1, 2), "clearing E keeps C");
    assert!(h.set_hc_failed(1, 2, false, 70));
    assert!(!h.set_hc_failed(1, 2, false, 71));
    assert_eq!(
        (h.usable_since(1, 2), h.state(1, 2, 70)),
        (70, HealthState::Ok)
    );
}

#[test]
fn set_error_keeps_the_later_deadline_and_reports_only_state_changes() {
    let h = Health::new(&[1]);
    assert!(h.set_error(0, 0, 0, 500));
    assert!(!h.set_error(0, 0, 10, 200), "already in error");
    assert_eq!(h.error_until(0, 0), 500, "the later deadline stays");
    assert!(!h.set_error(0, 0, 20, 800));
    assert_eq!(h.error_until(0, 0), 800);
    // The window is over (not yet cleared): a new failure is a new state change.
    assert!(h.set_error(0, 0, 800, 1_800));
    // `retry = 0`: an empty window; only the call that stores the word reports it.
    let h = Health::new(&[1]);
    assert!(h.set_error(0, 0, 5, 5));
    assert!(!h.set_error(0, 0, 5, 5));
    // Deadlines are clamped to the 62 bits of the word.
    assert!(h.set_error(0, 0, 6, u64::MAX));
    assert_eq!(h.error_until(0, 0), (1 << 62) - 1);
    assert!(!h.hc_failed(0, 0));
}

#[test]
fn health_out_of_range_reads_healthy_and_refuses_changes() {
    let h = Health::new(&[1]);
    assert!(!h.set_error(0, 1, 0, 100));
    assert!(!h.set_error(1, 0, 0, 100));
    assert!(!h.clear_error(3, 3, 0));
    assert!(!h.set_hc_failed(0, 1, true, 0));
    assert_eq!(h.state(0, 1, 0), HealthState::Ok);
    assert_eq!((h.error_until(9, 9), h.usable_since(9, 9)), (0, 0));
    assert!(!h.hc_failed(9, 9) && !h.in_error(9, 9));
    let empty = Health::new(&[]);
    assert_eq!((empty.balancers(), empty.members(0)), (0, 0));
}

/// Several threads race the same change, a few thousand times: exactly one sees `true` each
/// time.
#[test]
fn racing_changes_have_exactly_one_winner() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 2_000;
    let h = Health::new(&[3]);
    let barrier = Barrier::new(THREADS);
    // Per round: winners of set_error, of clear_error, of set_hc_failed(true), of (false).
    let wins: Vec<[AtomicU32; 4]> = (0..ROUNDS).map(|_| Default::default()).collect();
    thread::scope(|s| {
        for t in 0..THREADS {
            let (h, barrier, wins) = (&h, &barrier, &wins);
            s.spawn(move || {
                for (round, w) in wins.iter().enumerate() {
                    let now = 10 * round as u64;
                    barrier.wait();
                    // Member 0: each round's deadline opens a new window after the last.
                    if h.set_error(0, 0, now, now + 5) {
                        w[0].fetch_add(1, Ordering::Relaxed);
                    }
                    // Member 1: set by one thread, cleared by all.
                    if t == round % THREADS {
                        h.set_error(0, 1, now, now + 1_000);
                    }
                    barrier.wait();
                    if h.clear_error(0, 1, now) {
                        w[1].fetch_add(1, Ordering::Relaxed);
                    }
                    // Member 2: C set by all, then cleared by all.
                    if h.set_hc_failed(0, 2, true, now) {
                        w[2].fetch_add(1, Ordering::Relaxed);
                    }
                    barrier.wait();
                    if h.set_hc_failed(0, 2, false, now) {
                        w[3].fetch_add(1, Ordering::Relaxed);
                    }
                }
            });
        }
    });
    for (round, w) in wins.iter().enumerate() {
        let got: Vec<u32> = w.iter().map(|a| a.load(Ordering::Relaxed)).collect();
        assert_eq!(got, [1, 1, 1, 1], "round {round}");
    }
    let last = 10 * (ROUNDS as u64 - 1);
    assert_eq!(h.error_until(0, 0), last + 5);
    assert_eq!((h.usable_since(0, 1), h.usable_since(0, 2)), (last, last));
}

// ---- two cores, one health ----

#[test]
fn an_error_marked_on_one_core_is_avoided_by_the_other_at_once() {
    let (mut core0, mut core1) = two_cores(&[100, 100]);
    assert_eq!(core0.mark_error_at(0, 0, 1_000), Some(true));
    assert_eq!(
        core1.mark_error_at(0, 1, 1_000),
        Some(false),
        "already in error"
    );
    assert_eq!(schedule(&mut core1, 4, 0, 10), "bbbb");
    assert_eq!(member(core1.pick(&[b"a"], 0, 10)), 'b', "sticky too");
    assert!(core1.member(0).unwrap().status().contains(Status::ERROR));
    // The window ends on core 1's clock: it clears the shared E, and core 0 sees it clear.
    assert_eq!(member(core1.pick(NO_ROUTES, 0, 1_000)), 'a');
    assert_eq!(core1.health().state(0, 0, 1_000), HealthState::Ok);
    assert!(!core1.health().in_error(0, 0));
    assert_eq!(core1.health().usable_since(0, 0), 1_000);
    assert_eq!(member(core0.pick(&[b"a"], 0, 1_000)), 'a');
    assert_eq!(core0.member(0).unwrap().status(), Status::NONE);
}

#[test]
fn balancers_use_their_own_index_in_the_shared_health() {
    let cfg = config(LbMethod::ByRequests, &[100, 100], false);
    let health = Arc::new(Health::new(&[3, 2]));
    let mut first = Balancer::with_health(&cfg, Arc::clone(&health), 0);
    let mut second = Balancer::with_health(&cfg, Arc::clone(&health), 1);
    second.mark_error(1, 100);
    assert!(health.in_error(1, 1) && !health.in_error(0, 1));
    assert_eq!(schedule(&mut first, 2, 0, 0), "ab");
    assert_eq!(schedule(&mut second, 2, 0, 0), "aa");
    // A health too small for the config: a private one, nothing shared.
    let mut lone = Balancer::with_health(&cfg, Arc::clone(&health), 2);
    assert!(!Arc::ptr_eq(lone.health(), &health));
    assert_eq!(schedule(&mut lone, 2, 0, 0), "ab");
}

#[test]
fn configured_e_and_c_are_written_to_the_shared_health() {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100], false);
    cfg.members[0].options.status = Status::ERROR;
    cfg.members[1].options.status = Status::HC_FAILED | Status::DRAIN;
    let health = Arc::new(Health::new(&[3]));
    let mut b = Balancer::with_health(&cfg, Arc::clone(&health), 0);
    assert!(health.in_error(0, 0) && health.hc_failed(0, 1));
    assert_eq!(health.error_until(0, 0), 0, "window already over");
    assert_eq!(
        b.member(1).unwrap().status(),
        Status::HC_FAILED | Status::DRAIN
    );
    assert_eq!(schedule(&mut b, 2, 0, 0), "ac");
    assert!(!health.in_error(0, 0));
}

// ---- the retry window, I and S ----

#[test]
fn retry_window_is_shared_and_the_first_core_to_see_its_end_clears_it() {
    let (mut core0, mut core1) = two_cores(&[100, 100]);
    core0.mark_error_at(1, 0, 60_000);
    assert_eq!(schedule(&mut core0, 3, 0, 59_999), "aaa");
    assert_eq!(schedule(&mut core1, 3, 0, 59_999), "aaa");
    assert_eq!(
        core0.health().state(0, 1, 59_999),
        HealthState::InError { until_ms: 60_000 }
    );
    // b comes back with the lbstatus it left with (no slow start), a's: a tie, which the
    // earlier a wins.
    assert_eq!(schedule(&mut core0, 2, 0, 60_000), "ab");
    assert_eq!(core0.health().usable_since(0, 1), 60_000);
    // Core 1 finds it already clear; "usable since" stays core 0's.
    assert_eq!(schedule(&mut core1, 2, 0, 60_500), "ab");
    assert_eq!(core1.health().usable_since(0, 1), 60_000);
}

#[test]
fn ignore_errors_members_never_enter_error_on_any_core() {
    let (mut core0, mut core1) = two_cores(&[100, 100]);
    for core in [&mut core0, &mut core1] {
        core.set_status(0, Status::IGNORE_ERRORS);
    }
    assert!(!core0.mark_error(0, 1_000));
    assert_eq!(core0.mark_error_at(0, 0, 1_000), None);
    assert!(!core0.health().in_error(0, 0));
    assert_eq!(schedule(&mut core1, 2, 0, 0), "ab");
}

#[test]
fn stopped_members_are_marked_but_never_retried() {
    let (mut core0, mut core1) = two_cores(&[100, 100]);
    for core in [&mut core0, &mut core1] {
        core.set_status(0, Status::STOPPED);
    }
    assert!(core0.mark_error(0, 10));
    assert!(core1.health().in_error(0, 0));
    assert_eq!(schedule(&mut core1, 2, 0, u64::MAX), "bb");
    assert!(
        core1.health().in_error(0, 0),
        "S: E is never cleared by a retry"
    );
    assert!(core1.member(0).unwrap().status().contains(Status::ERROR));
}

// ---- forcerecovery (docs/semantics.md §6) ----

#[test]
fn forcerecovery_clears_every_member_when_all_are_in_error() {
    let (mut core0, mut core1) = two_cores(&[100, 100, 100]);
    for m in 0..3 {
        core0.mark_error_at(m, 0, 60_000);
    }
    // Core 1 finds all three in error: it clears them all (shared) and balances.
    assert_eq!(member(core1.pick(NO_ROUTES, 0, 10)), 'a');
    assert_eq!(core1.forced_recoveries(), 1);
    for m in 0..3 {
        assert_eq!(core1.health().state(0, m, 10), HealthState::Ok);
        assert_eq!(core1.health().usable_since(0, m), 10);
    }
    // Core 0 simply sees them healthy.
    assert_eq!(schedule(&mut core0, 3, 0, 11), "abc");
    assert_eq!(core0.forced_recoveries(), 0);
    // With one member out of error, nothing is forced.
    core0.mark_error_at(0, 20, 60_000);
    core0.mark_error_at(1, 20, 60_000);
    assert_eq!(schedule(&mut core1, 2, 0, 30), "cc");
    assert_eq!(core1.forced_recoveries(), 1);
}

#[test]
fn forcerecovery_counts_every_member_even_disabled_ones() {
    // a is disabled without E: Apache's check (every worker has E) fails: nothing forced.
    let mut b = Balancer::new(&config(LbMethod::ByRequests, &[100, 100], false));
    b.set_status(0, Status::DISABLED);
    b.mark_error(1, 1_000);
    assert_eq!(b.pick(NO_ROUTES, 0, 0), Err(NoPick::Unavailable));
    // Both with E (a still disabled): forced, and b takes the request.
    b.mark_error(0, 1_000);
    assert_eq!(member(b.pick(NO_ROUTES, 0, 0)), 'b');
    assert_eq!(b.forced_recoveries(), 1);
    assert_eq!(b.member(0).unwrap().status(), Status::DISABLED);
}

#[test]
fn forcerecovery_off_leaves_everyone_in_error() {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100], true);
    cfg.options.failover.forcerecovery = false;
    let mut b = Balancer::new(&cfg);
    b.mark_error(0, 1_000);
    b.mark_error(1, 1_000);
    assert_eq!(b.pick(NO_ROUTES, 0, 10), Err(NoPick::Unavailable));
    assert_eq!(b.pick(&[b"a"], 0, 10), Err(NoPick::Unavailable));
    assert_eq!(b.forced_recoveries(), 0);
    assert!(b.health().in_error(0, 0) && b.health().in_error(0, 1));
    // The windows still end on time.
    assert_eq!(schedule(&mut b, 2, 0, 1_000), "ab");
}

#[test]
fn forcerecovery_runs_before_the_sticky_lookup() {
    // As in Apache (force_recovery in pre_request): a nofailover session finds its member.
    let mut cfg = config(LbMethod::ByRequests, &[100, 100], true);
    cfg.options.nofailover = true;
    let mut b = Balancer::new(&cfg);
    b.mark_error(0, 1_000);
    b.mark_error(1, 1_000);
    let p = b.pick(&[b"b"], 0, 10).unwrap();
    assert!(p.sticky && p.member == 1);
}

// ---- the failed health check C ----

#[test]
fn hc_failed_is_excluded_for_new_and_sticky_traffic_on_every_core() {
    let (mut core0, mut core1) = two_cores(&[100, 100, 100]);
    assert!(core0.set_hc_failed(1, true, 5));
    assert!(!core1.set_hc_failed(1, true, 6), "no change");
    assert_eq!(schedule(&mut core1, 4, 0, 10), "acac");
    assert_eq!(member(core1.pick(&[b"b"], 0, 10)), 'a', "re-balanced");
    assert_eq!(core1.health().state(0, 1, 10), HealthState::HcFailed);
    assert!(core1
        .member(1)
        .unwrap()
        .status()
        .contains(Status::HC_FAILED));
    // No window: time alone never clears C. (So much time has passed that `lbstatus_decay`
    // has reset the scores: the first member wins the tie.)
    assert_eq!(member(core1.pick(&[b"b"], 0, u64::MAX / 2)), 'a');
    // The checker clears it (through the Health, as a checker thread would).
    assert!(core0.health().set_hc_failed(0, 1, false, 20));
    assert_eq!(core1.health().usable_since(0, 1), 20);
    let p = core1.pick(&[b"b"], 0, 20).unwrap();
    assert!(p.sticky && p.member == 1);
    assert_eq!(
        core0.member(1).unwrap().status(),
        Status::HC_FAILED,
        "stale copy"
    );
    core0.pick(NO_ROUTES, 0, 20).unwrap();
    assert_eq!(core0.member(1).unwrap().status(), Status::NONE, "refreshed");
}

#[test]
fn status_setters_write_e_and_c_through_to_the_shared_health() {
    let (mut core0, mut core1) = two_cores(&[100, 100]);
    core0.set_status(0, Status::HC_FAILED | Status::DRAIN);
    assert!(core1.health().hc_failed(0, 0));
    // Core 1's own flags are its own: no N there.
    assert_eq!(schedule(&mut core1, 2, 0, 0), "bb");
    assert_eq!(core1.member(0).unwrap().status(), Status::HC_FAILED);
    // change_status touches only the shared flags it names.
    core1.change_status(0, Status::DISABLED, Status::NONE);
    assert!(core1.health().hc_failed(0, 0), "C not named: kept");
    core1.change_status(0, Status::NONE, Status::HC_FAILED | Status::DISABLED);
    assert!(!core1.health().hc_failed(0, 0));
    assert_eq!(
        core1.health().usable_since(0, 0),
        0,
        "the latest pick's time"
    );
    core1.change_status(0, Status::ERROR, Status::NONE);
    assert!(core0.health().in_error(0, 0));
    assert_eq!(
        core0.health().error_until(0, 0),
        0,
        "no window: over at once"
    );
    core0.set_status(0, Status::NONE);
    assert!(!core1.health().in_error(0, 0));
}
