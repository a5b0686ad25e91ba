//! Replication domains (mod_jk `domain`, docs/semantics.md "Replication domains"): a session
//! whose member is unusable goes to the best usable member of its domain, before its
//! `redirect` and before balancing; a route no member has names a domain.
//!
//! Members are `a`, `b`, `c`, `d` with routes `a`..`d`; `a b c` are in domain `east` and `d`,
//! in none, has the highest loadfactor, so a balanced pick would choose `d`.

use super::tests::{config, name, Rng, NO_ROUTES};
use super::*;

/// A pick's outcome, readable in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Got {
    /// Sticky, to the member with the requested route.
    Sticky(char),
    /// Sticky with `route_changed`: to a member of the session's domain or through a redirect.
    Moved(char),
    /// Balanced.
    Balanced(char),
    Forced,
    Unavailable,
}
use Got::*;

fn got(r: Result<Pick, NoPick>) -> Got {
    match r {
        Ok(p) if p.sticky && !p.route_changed => Sticky(name(p.member)),
        Ok(p) if p.sticky => Moved(name(p.member)),
        Ok(p) => Balanced(name(p.member)),
        Err(NoPick::SessionForced) => Forced,
        Err(NoPick::Unavailable) => Unavailable,
    }
}

/// `a b c` in `east` (loadfactor 1 each), `d` in no domain (loadfactor 10).
fn east(method: LbMethod) -> BalancerConfig {
    let mut cfg = config(method, &[100, 100, 100, 1000], true);
    for m in &mut cfg.members[..3] {
        m.options.domain = "east".into();
    }
    cfg
}

/// `east` with these flags on `a` (`mark_error(a, 100)` when `error`).
fn session_member(flags: Status, error: bool) -> Balancer {
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[0].options.status = flags;
    let mut b = Balancer::new(&cfg);
    if error {
        b.mark_error(0, 100);
    }
    b
}

#[test]
fn a_usable_session_member_keeps_its_session() {
    let mut b = Balancer::new(&east(LbMethod::ByRequests));
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Sticky('a'));
    assert_eq!(b.member(0).map(Member::domain), Some(&b"east"[..]));
    assert_eq!(b.member(3).map(Member::domain), Some(&b""[..]));
    // A new request is balanced over everyone, the domain plays no part.
    assert_eq!(got(b.pick(NO_ROUTES, 0, 0)), Balanced('d'));
}

/// Every way the session's member can be unusable, and the connect-failure retry (its bit
/// in `avoid`): the session goes to its domain, never to `d`.
#[test]
fn an_unusable_session_member_hands_its_session_to_its_domain() {
    #[rustfmt::skip]
    let table: &[(&str, Status, bool, u64)] = &[
        ("D", Status::DISABLED, false, 0),
        ("S", Status::STOPPED, false, 0),
        ("C", Status::HC_FAILED, false, 0),
        ("E in window", Status::NONE, true, 0),
        ("avoided (connect failed)", Status::NONE, false, 0b0001),
        ("H + D", Status::HOT_STANDBY | Status::DISABLED, false, 0),
    ];
    for &(label, flags, error, avoid) in table {
        let mut b = session_member(flags, error);
        let picks: Vec<Got> = (0..4).map(|_| got(b.pick(&[b"a"], avoid, 50))).collect();
        // b and c share the session's requests by the method (equal factors: in turn).
        assert_eq!(
            picks,
            [Moved('b'), Moved('c'), Moved('b'), Moved('c')],
            "{label}"
        );
    }
    // The E window over: a is retried and takes its session back.
    let mut b = session_member(Status::NONE, true);
    assert_eq!(got(b.pick(&[b"a"], 0, 100)), Sticky('a'));
}

#[test]
fn a_failover_retry_moves_along_the_domain_then_balances() {
    let mut b = Balancer::new(&east(LbMethod::ByRequests));
    assert_eq!(got(b.pick(&[b"a"], 0b0001, 0)), Moved('b'));
    assert_eq!(got(b.pick(&[b"a"], 0b0011, 0)), Moved('c'));
    assert_eq!(got(b.pick(&[b"a"], 0b0111, 0)), Balanced('d'));
    assert_eq!(got(b.pick(&[b"a"], 0b1111, 0)), Unavailable);
}

/// One row: label, flags on `b`, `E` window on `b`, then the pick for route `a` (`a`
/// disabled, `b` its only domain member) without / with `a.redirect = "d"`.
type PeerRow = (&'static str, Status, Option<u64>, [Got; 2]);

/// What each flag on the domain member does: it takes the session when it may take sticky
/// traffic (`N`, `H`, `R`, `I`, an elapsed `E`), else the redirect, else balancing.
#[test]
fn flag_table_for_the_domain_member() {
    let takes = [Moved('b'); 2];
    // Without a redirect: balanced to d; with one: moved to d, its target.
    let refuses = [Balanced('d'), Moved('d')];
    #[rustfmt::skip]
    let table: &[PeerRow] = &[
        ("-", Status::NONE, None, takes),
        ("N (drain)", Status::DRAIN, None, takes),
        ("H", Status::HOT_STANDBY, None, takes),
        ("R", Status::HOT_SPARE, None, takes),
        ("I", Status::IGNORE_ERRORS, None, takes),
        ("I + E in window", Status::IGNORE_ERRORS, Some(50), takes),
        ("E elapsed", Status::NONE, Some(100), takes),
        ("D", Status::DISABLED, None, refuses),
        ("S", Status::STOPPED, None, refuses),
        ("C", Status::HC_FAILED, None, refuses),
        ("E in window", Status::NONE, Some(50), refuses),
        ("N + E in window", Status::DRAIN, Some(50), refuses),
    ];
    for &(label, flags, error, want) in table {
        for (v, redirect) in [false, true].into_iter().enumerate() {
            let mut cfg = east(LbMethod::ByRequests);
            cfg.members[0].options.status = Status::DISABLED;
            cfg.members[2].options.domain = String::new();
            if redirect {
                cfg.members[0].options.redirect = "d".into();
            }
            let mut b = Balancer::new(&cfg);
            b.set_status(1, flags);
            if error.is_some() {
                b.mark_error(1, 100);
            }
            let now = error.unwrap_or(0);
            assert_eq!(
                got(b.pick(&[b"a"], 0, now)),
                want[v],
                "{label}, redirect {redirect}"
            );
        }
    }
}

/// The domain comes before the redirect (mod_jk's order is the other way round), the
/// redirect before balancing; `nofailover` forces 503 only when both fail.
#[test]
fn domain_then_redirect_then_balance_or_forced() {
    for nofailover in [false, true] {
        let mut cfg = east(LbMethod::ByRequests);
        cfg.options.nofailover = nofailover;
        cfg.members[0].options.status = Status::DISABLED;
        cfg.members[0].options.redirect = "d".into();
        let mut b = Balancer::new(&cfg);
        let case = format!("nofailover {nofailover}");
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('b'), "{case}");
        b.set_status(1, Status::STOPPED);
        b.set_status(2, Status::STOPPED);
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('d'), "redirect, {case}");
        b.set_status(3, Status::STOPPED);
        let want = if nofailover { Forced } else { Unavailable };
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), want, "{case}");
        // c back, d still stopped: the domain again.
        b.set_status(2, Status::NONE);
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'), "{case}");
    }
    // No redirect: balancing (to d), or forced.
    for (nofailover, want) in [(false, Balanced('d')), (true, Forced)] {
        let mut cfg = east(LbMethod::ByRequests);
        cfg.options.nofailover = nofailover;
        cfg.members[0].options.status = Status::DISABLED;
        for m in &mut cfg.members[1..3] {
            m.options.status = Status::DISABLED;
        }
        let mut b = Balancer::new(&cfg);
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), want, "nofailover {nofailover}");
    }
}

#[test]
fn the_lowest_lbset_of_the_domain_goes_first() {
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[0].options.status = Status::STOPPED;
    cfg.members[1].options.lbset = 1;
    cfg.members[2].options.lbset = 0;
    // d is in lbset 0 and has the best score, but is not in the domain.
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    b.set_status(2, Status::STOPPED);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('b'), "then lbset 1");
}

#[test]
fn the_domains_standbys_only_when_it_has_no_regular_member() {
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[0].options.status = Status::STOPPED;
    cfg.members[1].options.status = Status::HOT_STANDBY;
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    b.set_status(2, Status::STOPPED);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('b'));
}

/// Within the domain the method scores as it does among all members, and charges the winner
/// (the pick is zero-sum on `lbstatus`, which `check_invariants` asserts).
#[test]
fn the_methods_score_the_domain_members() {
    // byrequests, factors 1 and 3: the smooth round-robin of b and c alone.
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[0].options.status = Status::DISABLED;
    cfg.members[2].lbfactor = 300;
    let mut b = Balancer::new(&cfg);
    let picks: String = (0..8)
        .map(|_| b.pick(&[b"a"], 0, 0).map_or('-', |p| name(p.member)))
        .collect();
    assert_eq!(picks, "cbcccbcc");
    let lbstatus: Vec<i64> = b.members().iter().map(Member::lbstatus).collect();
    assert_eq!(lbstatus, [0, 0, 0, 0], "only b and c moved, and back to 0");

    // bybusyness: the fewest in flight.
    let mut cfg = east(LbMethod::ByBusyness);
    cfg.members[0].options.status = Status::DISABLED;
    let mut b = Balancer::new(&cfg);
    b.busy_inc(1);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    b.busy_inc(2);
    b.busy_inc(2);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('b'));

    // bytraffic: the least traffic per factor.
    let mut cfg = east(LbMethod::ByTraffic);
    cfg.members[0].options.status = Status::DISABLED;
    let mut b = Balancer::new(&cfg);
    b.record_traffic(1, 500, 500);
    b.record_traffic(2, 100, 0);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    b.record_traffic(2, 5_000, 0);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('b'));
}

/// mod_jk: a session route that is no member's route but a domain's name goes to the best
/// member of that domain.
#[test]
fn a_route_that_names_a_domain_goes_to_its_best_member() {
    for nofailover in [false, true] {
        let mut cfg = east(LbMethod::ByRequests);
        cfg.options.nofailover = nofailover;
        let mut b = Balancer::new(&cfg);
        let case = format!("nofailover {nofailover}");
        let picks: Vec<Got> = (0..3).map(|_| got(b.pick(&[b"east"], 0, 0))).collect();
        assert_eq!(picks, [Moved('a'), Moved('b'), Moved('c')], "{case}");
        assert_eq!(got(b.pick(&[b"east"], 0b011, 0)), Moved('c'), "{case}");
        for i in 0..3 {
            b.set_status(i, Status::STOPPED);
        }
        // A known session with nowhere to go: forced with nofailover, else balanced.
        let want = if nofailover { Forced } else { Balanced('d') };
        assert_eq!(got(b.pick(&[b"east"], 0, 0)), want, "{case}");
        // Still an unknown route for anything else.
        assert_eq!(got(b.pick(&[b"west"], 0, 0)), Balanced('d'), "{case}");
        // A later route that works wins over forcing.
        assert_eq!(got(b.pick(&[b"east", b"d"], 0, 0)), Sticky('d'), "{case}");
    }
    // A member's route wins over a domain of the same name.
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[3].route = "east".into();
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"east"], 0, 0)), Sticky('d'));
}

#[test]
fn a_redirect_target_that_is_unusable_leads_to_its_domain() {
    // d redirects to a; a is stopped, so a's domain takes d's session.
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[3].options.status = Status::DISABLED;
    cfg.members[3].options.redirect = "a".into();
    cfg.members[0].options.status = Status::STOPPED;
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"d"], 0, 0)), Moved('b'));
}

#[test]
fn members_without_a_route_or_a_domain_take_no_domain_traffic() {
    // c has no route but is in the domain: it takes a's sessions like any member of it.
    let mut cfg = east(LbMethod::ByRequests);
    cfg.members[0].options.status = Status::STOPPED;
    cfg.members[1].options.domain = String::new();
    cfg.members[2].route = String::new();
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Moved('c'));
    // An empty route never names the domain-less members.
    assert_eq!(got(b.pick(&[b""], 0, 0)), Balanced('d'));
}

/// Random flags, lbsets, domains, redirects, nofailover, errors and avoid sets: a session
/// whose member is unusable always lands in that member's domain when the domain has a member
/// that may take it; nobody D or S, avoided or in an error window ever gets a request; a
/// moved pick is explained by a domain or a redirect.
#[test]
fn random_sessions_stay_in_their_domain() {
    let flags = [
        Status::NONE,
        Status::NONE,
        Status::NONE,
        Status::DISABLED,
        Status::STOPPED,
        Status::DRAIN,
        Status::HOT_STANDBY,
        Status::HOT_SPARE,
        Status::HC_FAILED,
    ];
    let methods = [
        LbMethod::ByRequests,
        LbMethod::ByBusyness,
        LbMethod::ByTraffic,
    ];
    let domains = ["", "east", "west"];
    let mut rng = Rng(0xd0_a1_2b_3c_4d_5e_6f_70);
    let (mut in_domain, mut moved) = (0, 0);
    for round in 0..400 {
        let n = 2 + rng.below(7) as usize;
        let factors: Vec<u32> = (0..n).map(|_| 1 + rng.below(500) as u32).collect();
        let mut cfg = config(methods[round % 3], &factors, true);
        cfg.options.nofailover = rng.below(3) == 0;
        for m in cfg.members.iter_mut() {
            m.options.status = flags[rng.below(flags.len() as u64) as usize];
            m.options.lbset = rng.below(2) as u32;
            m.options.domain = domains[rng.below(3) as usize].into();
            if rng.below(3) == 0 {
                m.options.redirect = name(rng.below(n as u64) as usize).to_string();
            }
        }
        cfg.options.failover.forcerecovery = false;
        let mut b = Balancer::new(&cfg);
        // Error windows that outlast the loop (its clock stays at 0), so the flags a pick
        // sees are the ones read before it.
        for i in 0..n {
            if rng.below(4) == 0 {
                b.mark_error(i, 1 + rng.below(100));
            }
        }
        let _ = b.pick(NO_ROUTES, 0, 0);
        for _ in 0..100 {
            let avoid = if rng.below(3) == 0 {
                rng.below(1 << n)
            } else {
                0
            };
            let r = [b'a' + rng.below(n as u64) as u8];
            let named = domains[1 + rng.below(2) as usize].as_bytes();
            let routes: [&[u8]; 1] = if rng.below(5) == 0 { [named] } else { [&r] };
            let before = b.members().to_vec();
            let may_take = |i: usize| !avoided(avoid, i) && before[i].is_usable();
            let session = before.iter().position(|m| m.route() == routes[0]);
            let domain: &[u8] = match session {
                Some(k) => before[k].domain(),
                None => routes[0],
            };
            let domain_open =
                !domain.is_empty() && (0..n).any(|i| before[i].domain() == domain && may_take(i));
            let session_lost = session.is_none_or(|k| !may_take(k));
            match b.pick(&routes, avoid, 0) {
                Ok(p) => {
                    let m = &before[p.member];
                    assert!(may_take(p.member), "round {round}: {p:?} {before:?}");
                    assert!(
                        !m.status().intersects(Status::DISABLED | Status::STOPPED),
                        "round {round}: {p:?}"
                    );
                    if session_lost && domain_open {
                        assert!(p.sticky && p.route_changed, "round {round}: {p:?}");
                        assert_eq!(m.domain(), domain, "round {round}: {p:?} {before:?}");
                        in_domain += 1;
                    } else if p.sticky && p.route_changed {
                        let redirects = before.iter().any(|m| !m.redirect().is_empty());
                        assert!(redirects, "round {round}: {p:?} {before:?}");
                        moved += 1;
                    }
                }
                Err(NoPick::SessionForced) => {
                    assert!(cfg.options.nofailover && !domain_open, "round {round}");
                }
                Err(NoPick::Unavailable) => {
                    assert!(!domain_open, "round {round}");
                }
            }
        }
    }
    assert!(in_domain > 1_000 && moved > 100, "{in_domain} {moved}");
}
