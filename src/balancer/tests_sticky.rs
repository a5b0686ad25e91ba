//! Sticky lookup against every status flag (docs/semantics.md §3 items 5-7, the §4 table):
//! new and sticky requests, with and without `redirect`, with and without `nofailover`; then
//! redirect chains and cycles, the avoid set, and randomised properties.
//!
//! Members are `a`, `b`, `c`, ... with routes `a`, `b`, `c`; factors are equal, so the first
//! balanced pick is the earliest member that may take a new request.

use super::tests::{config, name, Rng, NO_ROUTES};
use super::*;

/// A pick's outcome, readable in a table.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Got {
    /// Sticky, to the member with the requested route.
    Sticky(char),
    /// Sticky through a `redirect`, to a member with another route (`route_changed`).
    Redirected(char),
    /// Balanced (`route_changed`, as the balancer has stickiness configured).
    Balanced(char),
    Forced,
    Unavailable,
}
use Got::*;

fn got(r: Result<Pick, NoPick>) -> Got {
    match r {
        Ok(p) if p.sticky && !p.route_changed => Sticky(name(p.member)),
        Ok(p) if p.sticky => Redirected(name(p.member)),
        Ok(p) => {
            assert!(
                p.route_changed,
                "a balanced pick of a sticky balancer: {p:?}"
            );
            Balanced(name(p.member))
        }
        Err(NoPick::SessionForced) => Forced,
        Err(NoPick::Unavailable) => Unavailable,
    }
}

/// Three members `a b c`; `a` gets `flags` (through the config, as `status = "+X"` would)
/// and, when `redirect`, `redirect = "c"`; `mark_error(a, 100)` when `error`.
fn three(flags: Status, error: bool, redirect: bool, nofailover: bool) -> Balancer {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100], true);
    cfg.options.nofailover = nofailover;
    cfg.members[0].options.status = flags;
    if redirect {
        cfg.members[0].options.redirect = "c".into();
    }
    let mut b = Balancer::new(&cfg);
    if error {
        b.mark_error(0, 100); // refused with `I`
    }
    b
}

/// The four sticky variants, in the table's column order: (redirect, nofailover).
const VARIANTS: [(bool, bool); 4] = [(false, false), (true, false), (false, true), (true, true)];

/// One row: label, flags, `E` window (`Some(now)`), expected new pick, expected sticky picks.
type Row = (&'static str, Status, Option<u64>, Got, [Got; 4]);

/// The docs/semantics.md §4 table for the session's own member `a`.
/// Columns: flags on `a`, `E` window (None = no `E`; Some(now) with the window ending at
/// 100), the first new request, and a request for route `a` with
/// [no redirect, redirect to `c`, nofailover, redirect + nofailover].
#[test]
fn flag_table_for_the_session_member() {
    let usable = [Sticky('a'); 4];
    let excluded = [Balanced('b'), Redirected('c'), Forced, Redirected('c')];
    #[rustfmt::skip]
    let table: &[Row] = &[
        ("-", Status::NONE, None, Balanced('a'), usable),
        ("D", Status::DISABLED, None, Balanced('b'), excluded),
        ("S", Status::STOPPED, None, Balanced('b'), excluded),
        ("I", Status::IGNORE_ERRORS, None, Balanced('a'), usable),
        ("H", Status::HOT_STANDBY, None, Balanced('b'), usable),
        ("R", Status::HOT_SPARE, None, Balanced('b'), usable),
        ("N", Status::DRAIN, None, Balanced('b'), usable),
        ("E in window", Status::NONE, Some(50), Balanced('b'), excluded),
        ("E elapsed", Status::NONE, Some(100), Balanced('a'), usable),
        ("C", Status::HC_FAILED, None, Balanced('b'), excluded),
        // Combinations.
        ("D + E elapsed", Status::DISABLED, Some(100), Balanced('b'), excluded),
        ("S + E elapsed", Status::STOPPED, Some(100), Balanced('b'), excluded),
        ("N + E in window", Status::DRAIN, Some(50), Balanced('b'), excluded),
        ("N + E elapsed", Status::DRAIN, Some(100), Balanced('b'), usable),
        ("H + N", Status::HOT_STANDBY | Status::DRAIN, None, Balanced('b'), usable),
        ("I + E in window", Status::IGNORE_ERRORS, Some(50), Balanced('a'), usable),
        ("H + D", Status::HOT_STANDBY | Status::DISABLED, None, Balanced('b'), excluded),
        ("R + C", Status::HOT_SPARE | Status::HC_FAILED, None, Balanced('b'), excluded),
    ];
    for (label, flags, error, new, sticky) in table {
        let now = error.unwrap_or(0);
        for (v, (redirect, nofailover)) in VARIANTS.into_iter().enumerate() {
            let setup = || three(*flags, error.is_some(), redirect, nofailover);
            let case = format!("{label}, redirect {redirect}, nofailover {nofailover}");
            assert_eq!(got(setup().pick(NO_ROUTES, 0, now)), *new, "new: {case}");
            assert_eq!(
                got(setup().pick(&[b"a"], 0, now)),
                sticky[v],
                "sticky: {case}"
            );
        }
    }
}

/// The same table for the redirect target `c`, with the session member `a` disabled.
/// Columns: flags on `c`, `E` window, and a request for route `a` without / with
/// nofailover.
#[test]
fn flag_table_for_the_redirect_target() {
    let takes = [Redirected('c'); 2];
    let refuses = [Balanced('b'), Forced];
    #[rustfmt::skip]
    let table: &[(&str, Status, Option<u64>, [Got; 2])] = &[
        ("-", Status::NONE, None, takes),
        ("D", Status::DISABLED, None, refuses),
        ("S", Status::STOPPED, None, refuses),
        ("I", Status::IGNORE_ERRORS, None, takes),
        ("H", Status::HOT_STANDBY, None, takes),
        ("R", Status::HOT_SPARE, None, takes),
        ("N", Status::DRAIN, None, takes),
        ("E in window", Status::NONE, Some(50), refuses),
        ("E elapsed", Status::NONE, Some(100), takes),
        ("C", Status::HC_FAILED, None, refuses),
    ];
    for (label, flags, error, want) in table {
        for (v, nofailover) in [false, true].into_iter().enumerate() {
            let mut b = three(Status::DISABLED, false, true, nofailover);
            b.set_status(2, *flags);
            if error.is_some() {
                b.mark_error(2, 100);
            }
            let now = error.unwrap_or(0);
            assert_eq!(
                got(b.pick(&[b"a"], 0, now)),
                want[v],
                "{label}, nofailover {nofailover}"
            );
        }
    }
}

#[test]
fn initial_flags_and_lbsets_come_from_the_config() {
    let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100, 100], false);
    cfg.members[0].options.status = Status::DISABLED;
    cfg.members[1].options.lbset = 1;
    cfg.members[3].options.status = Status::HOT_STANDBY;
    let mut b = Balancer::new(&cfg);
    assert_eq!(b.member(0).map(Member::status), Some(Status::DISABLED));
    assert_eq!(b.member(1).map(Member::lbset), Some(1));
    assert_eq!(super::tests::schedule(&mut b, 3, 0, 0), "ccc");
    b.set_status(2, Status::STOPPED);
    assert_eq!(
        super::tests::schedule(&mut b, 2, 0, 0),
        "dd",
        "lbset 0's standby"
    );
    b.set_status(3, Status::STOPPED);
    assert_eq!(
        super::tests::schedule(&mut b, 2, 0, 0),
        "bb",
        "then lbset 1"
    );
    // An initial E has no window left: the first look clears it.
    cfg.members[0].options.status = Status::ERROR;
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Sticky('a'));
}

#[test]
fn redirects_are_followed_recursively() {
    // a -> b -> c -> d, a b c disabled.
    let mut cfg = config(LbMethod::ByRequests, &[100; 5], true);
    for (i, to) in ["b", "c", "d"].iter().enumerate() {
        cfg.members[i].options.status = Status::DISABLED;
        cfg.members[i].options.redirect = (*to).into();
    }
    let mut b = Balancer::new(&cfg);
    assert_eq!(b.member(0).map(Member::redirect), Some(&b"b"[..]));
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Redirected('d'));
    assert_eq!(got(b.pick(&[b"b"], 0, 0)), Redirected('d'));
    // d in error: its window ends at 10; the lookup retries it at the end of the chain.
    b.mark_error(3, 10);
    assert_eq!(got(b.pick(&[b"a"], 0, 5)), Balanced('e'));
    assert_eq!(got(b.pick(&[b"a"], 0, 10)), Redirected('d'));
    // Avoiding d (it just failed for this request) ends the chain: re-balanced.
    assert_eq!(got(b.pick(&[b"a"], 1 << 3, 10)), Balanced('e'));
}

#[test]
fn a_redirect_chain_through_every_member_still_ends_on_the_last() {
    let n = 8;
    let mut cfg = config(LbMethod::ByRequests, &vec![100; n], true);
    cfg.options.nofailover = true;
    for i in 0..n - 1 {
        cfg.members[i].options.status = Status::STOPPED;
        cfg.members[i].options.redirect = name(i + 1).to_string();
    }
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Redirected(name(n - 1)));
    b.set_status(n - 1, Status::DISABLED);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Forced);
}

#[test]
fn redirect_cycles_end() {
    for nofailover in [false, true] {
        let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100], true);
        cfg.options.nofailover = nofailover;
        for (i, to) in [(0, "b"), (1, "a")] {
            cfg.members[i].options.status = Status::DISABLED;
            cfg.members[i].options.redirect = to.into();
        }
        // c redirects to itself while it is in error.
        cfg.members[2].options.redirect = "c".into();
        let mut b = Balancer::new(&cfg);
        let want = if nofailover { Forced } else { Balanced('c') };
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), want);
        b.mark_error(2, 100);
        let want = if nofailover { Forced } else { Unavailable };
        assert_eq!(got(b.pick(&[b"c"], 0, 0)), want);
    }
}

#[test]
fn a_redirect_to_an_unknown_or_empty_route_finds_nothing() {
    for to in ["zz", ""] {
        let mut cfg = config(LbMethod::ByRequests, &[100, 100], true);
        cfg.members[0].options.status = Status::DISABLED;
        cfg.members[0].options.redirect = to.into();
        let mut b = Balancer::new(&cfg);
        assert_eq!(got(b.pick(&[b"a"], 0, 0)), Balanced('b'), "{to:?}");
    }
}

#[test]
fn redirect_lookup_prefers_regular_members_over_standbys() {
    // a -> route "x", held by b (hot standby) and c (regular).
    let mut cfg = config(LbMethod::ByRequests, &[100, 100, 100, 100], true);
    cfg.members[0].options.status = Status::DISABLED;
    cfg.members[0].options.redirect = "x".into();
    cfg.members[1].route = "x".into();
    cfg.members[1].options.status = Status::HOT_STANDBY;
    cfg.members[2].route = "x".into();
    let mut b = Balancer::new(&cfg);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Redirected('c'));
    b.set_status(2, Status::STOPPED);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Redirected('b'));
}

#[test]
fn an_avoided_session_member_follows_its_redirect_or_is_forced() {
    // The session member just failed for this request (the caller set its avoid bit).
    let cases = [
        ((false, false), Balanced('b')),
        ((true, false), Redirected('c')),
        ((false, true), Forced),
        ((true, true), Redirected('c')),
    ];
    for ((redirect, nofailover), want) in cases {
        let mut b = three(Status::NONE, false, redirect, nofailover);
        assert_eq!(got(b.pick(&[b"a"], 0b001, 0)), want);
    }
    let mut b = three(Status::NONE, false, true, false);
    assert_eq!(got(b.pick(&[b"a"], 0b101, 0)), Balanced('b'));
}

#[test]
fn nofailover_only_forces_a_known_session_route() {
    let mut b = three(Status::DISABLED, false, false, true);
    assert_eq!(got(b.pick(NO_ROUTES, 0, 0)), Balanced('b'), "no session");
    assert_eq!(got(b.pick(&[b"zz"], 0, 0)), Balanced('c'), "unknown route");
    assert_eq!(got(b.pick(&[b""], 0, 0)), Balanced('b'), "empty route");
    assert_eq!(
        got(b.pick(&[b"zz", b"a"], 0, 0)),
        Forced,
        "a later known route"
    );
    // Another of the session's routes that works wins over forcing.
    assert_eq!(got(b.pick(&[b"a", b"c"], 0, 0)), Sticky('c'));
    assert_eq!(got(b.pick(&[b"zz", b"b"], 0, 0)), Sticky('b'));
    // Without nofailover: re-balanced.
    let mut b = three(Status::DISABLED, false, false, false);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Balanced('b'));
}

/// One row: label, flags on `a`, `E` window, target, Cookie header, picks without / with
/// nofailover.
type UrlRow = (
    &'static str,
    Status,
    Option<u64>,
    &'static str,
    &'static str,
    [Got; 2],
);

/// Issue 9 defect 13: what the request's URL and cookie give the balancer, through the real
/// parser (`sticky::collect_routes`). The URL's session id decides alone (Apache
/// `find_session_route`): a cookie naming a live member is no fallback behind it.
#[test]
fn a_url_session_decides_alone_against_the_cookie() {
    let sticky = config(LbMethod::ByRequests, &[100; 3], true)
        .sticky
        .unwrap();
    let session = [Sticky('a'); 2];
    let moved = [Balanced('b'), Forced];
    #[rustfmt::skip]
    let table: &[UrlRow] = &[
        ("usable", Status::NONE, None, "/x;jsessionid=1.a", "JSESSIONID=2.c", session),
        ("D", Status::DISABLED, None, "/x;jsessionid=1.a", "JSESSIONID=2.c", moved),
        ("D, query", Status::DISABLED, None, "/x?jsessionid=1.a", "JSESSIONID=2.c", moved),
        ("E in window", Status::NONE, Some(50), "/x;jsessionid=1.a", "JSESSIONID=2.c", moved),
        ("E elapsed", Status::NONE, Some(100), "/x;jsessionid=1.a", "JSESSIONID=2.c", session),
        ("D, two cookies", Status::DISABLED, None, "/x;jsessionid=1.a",
            "JSESSIONID=2.b; JSESSIONID=3.c", moved),
        // A URL id without a route is still the session id: no route, so balanced (to the
        // first member of a fresh balancer), never forced, never the cookie's c.
        ("no route", Status::NONE, None, "/x;jsessionid=nodot", "JSESSIONID=2.c",
            [Balanced('a'); 2]),
        // An unknown URL route (another cluster's) is balanced too.
        ("unknown", Status::NONE, None, "/x;jsessionid=1.zz", "JSESSIONID=2.c",
            [Balanced('a'); 2]),
        // Without a URL id the cookies decide; every duplicate is tried (the deviation stays,
        // among cookies).
        ("cookie", Status::DISABLED, None, "/x", "JSESSIONID=2.c", [Sticky('c'); 2]),
        ("cookies", Status::DISABLED, None, "/x", "JSESSIONID=1.a; JSESSIONID=2.c",
            [Sticky('c'); 2]),
        ("empty URL id", Status::DISABLED, None, "/x;jsessionid=", "JSESSIONID=2.c",
            [Sticky('c'); 2]),
    ];
    for (label, flags, error, target, cookie, want) in table {
        let mut routes = crate::sticky::Routes::new();
        crate::sticky::collect_routes(
            &sticky,
            target.as_bytes(),
            [cookie.as_bytes()].into_iter(),
            &mut routes,
        );
        for (v, nofailover) in [false, true].into_iter().enumerate() {
            let mut b = three(*flags, error.is_some(), false, nofailover);
            let now = error.unwrap_or(0);
            assert_eq!(
                got(b.pick(&routes, 0, now)),
                want[v],
                "{label}: {target} + {cookie}, nofailover {nofailover}"
            );
        }
    }
}

#[test]
fn unavailable_beats_nothing_but_forced_needs_a_session() {
    let mut b = three(Status::DISABLED, false, false, true);
    b.set_status(1, Status::STOPPED);
    b.set_status(2, Status::HC_FAILED);
    assert_eq!(got(b.pick(NO_ROUTES, 0, 0)), Unavailable);
    assert_eq!(got(b.pick(&[b"zz"], 0, 0)), Unavailable);
    assert_eq!(got(b.pick(&[b"b"], 0, 0)), Forced);
}

#[test]
fn redirected_picks_keep_lbstatus_zero_sum() {
    let mut b = three(Status::DISABLED, false, true, false);
    assert_eq!(got(b.pick(&[b"a"], 0, 0)), Redirected('c'));
    // b and c usable: total 200, c pays it.
    let lb: Vec<i64> = b.members().iter().map(Member::lbstatus).collect();
    assert_eq!(lb, [0, 100, -100]);
}

/// Random flags (D, S and N included), redirects, nofailover, errors, avoid sets and routes:
/// a D or S member never gets any request; an N member only gets sticky ones (its own route
/// or a redirect); a sticky pick without `route_changed` lands on a requested route;
/// `SessionForced` only with `nofailover` and a route some member has.
#[test]
fn random_d_and_s_get_nothing_and_n_only_sticky() {
    let flags = [
        Status::NONE,
        Status::NONE,
        Status::DISABLED,
        Status::STOPPED,
        Status::DRAIN,
        Status::DRAIN,
        Status::HOT_STANDBY,
        Status::HOT_SPARE,
        Status::HC_FAILED,
        Status::IGNORE_ERRORS,
        Status::DRAIN | Status::HOT_STANDBY,
    ];
    let methods = [
        LbMethod::ByRequests,
        LbMethod::ByBusyness,
        LbMethod::ByTraffic,
    ];
    let mut rng = Rng(0x5eed_1234_abcd_0042);
    let (mut n_sticky, mut n_redirect, mut n_forced) = (0, 0, 0);
    for round in 0..400 {
        let n = 1 + rng.below(8) as usize;
        let factors: Vec<u32> = (0..n).map(|_| 1 + rng.below(500) as u32).collect();
        let mut cfg = config(methods[round % 3], &factors, true);
        cfg.options.nofailover = rng.below(3) == 0;
        for m in cfg.members.iter_mut() {
            m.options.status = flags[rng.below(flags.len() as u64) as usize];
            m.options.lbset = rng.below(3) as u32;
            if rng.below(2) == 0 {
                // Sometimes to a route nobody has (`a` + 9).
                m.options.redirect = name(rng.below(10) as usize).to_string();
            }
        }
        let mut b = Balancer::new(&cfg);
        for i in 0..n {
            if rng.below(4) == 0 {
                b.mark_error(i, rng.below(100));
            }
        }
        for now in 0..150 {
            let avoid = if rng.below(4) == 0 { rng.next() } else { 0 };
            let r1 = [b'a' + rng.below(10) as u8];
            let r2 = [b'a' + rng.below(10) as u8];
            let routes: &[&[u8]] = match rng.below(3) {
                0 => NO_ROUTES,
                1 => &[&r1],
                _ => &[&r1, &r2],
            };
            let before = b.members().to_vec();
            let known = routes
                .iter()
                .any(|r| before.iter().any(|m| m.route() == *r));
            match b.pick(routes, avoid, now) {
                Ok(p) => {
                    let st = before[p.member].status();
                    assert!(
                        !st.intersects(Status::DISABLED | Status::STOPPED),
                        "round {round}: D/S member got {p:?}: {before:?}"
                    );
                    assert!(!avoided(avoid, p.member), "round {round}: avoided {p:?}");
                    if st.contains(Status::DRAIN) {
                        assert!(p.sticky, "round {round}: N member balanced {p:?}");
                    }
                    if p.sticky && !p.route_changed {
                        assert!(routes.contains(&before[p.member].route()));
                        n_sticky += 1;
                    } else if p.sticky {
                        let redirecting = |r: &&[u8]| {
                            before
                                .iter()
                                .any(|m| m.route() == *r && !m.redirect().is_empty())
                        };
                        assert!(routes.iter().any(redirecting), "round {round}: {p:?}");
                        n_redirect += 1;
                    }
                    if method_busy(&b) {
                        b.busy_inc(p.member);
                    }
                }
                Err(NoPick::SessionForced) => {
                    assert!(cfg.options.nofailover && known, "round {round}: forced");
                    n_forced += 1;
                }
                Err(NoPick::Unavailable) => {
                    assert!(!(cfg.options.nofailover && known), "round {round}");
                }
            }
        }
    }
    // The loop exercised every path.
    assert!(n_sticky > 1_000 && n_redirect > 100 && n_forced > 100);
}

fn method_busy(b: &Balancer) -> bool {
    b.method() == LbMethod::ByBusyness
}
