//! Replication domains (`domain` on `[[balancer.member]]`) with real sockets: when the
//! session's member dies, its sessions go to the member of its domain, never to the member
//! that plain balancing prefers, and no request fails. Then a route that names a domain, and
//! `nofailover`, which still answers 503 once the whole domain is gone.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::net::SocketAddr;

use common::{config, member, start_proxy, Client, MockMember};
use ringlb::config::{Config, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    a_dead_members_sessions_go_to_its_domain_peer_not_the_heaviest_member,
    a_route_that_names_a_domain_is_served_by_that_domain,
    nofailover_lets_the_domain_take_the_session_then_answers_503,
);

/// `a` and `b` in domain `east` (loadfactor 1), `c` in none (loadfactor 10): balancing alone
/// sends 10 of 11 new requests to `c`.
struct Three {
    a: Option<MockMember>,
    b: Option<MockMember>,
    c: MockMember,
    _proxy: ServerHandle,
    addr: SocketAddr,
}

fn three(driver: IoDriver, tune: impl FnOnce(&mut Config)) -> Three {
    let (a, b, c) = (
        MockMember::named("a"),
        MockMember::named("b"),
        MockMember::named("c"),
    );
    let mut cfg = config(
        driver,
        vec![
            member(a.addr(), "a", 100),
            member(b.addr(), "b", 100),
            member(c.addr(), "c", 1000),
        ],
    );
    cfg.workers = Some(2);
    for m in &mut cfg.balancers[0].members[..2] {
        m.options.domain = "east".into();
    }
    tune(&mut cfg);
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    Three {
        a: Some(a),
        b: Some(b),
        c,
        _proxy: proxy,
        addr,
    }
}

fn get(cookie: Option<&str>) -> Vec<u8> {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    format!("GET / HTTP/1.1\r\nHost: example.test\r\n{cookie}\r\n").into_bytes()
}

/// Status and serving member of one request, on `client` (keep-alive) or a new connection.
fn served(addr: SocketAddr, client: Option<&mut Client>, cookie: Option<&str>) -> (u16, String) {
    let resp = match client {
        Some(c) => c.request(&get(cookie)),
        None => Client::connect(addr).request(&get(cookie)),
    };
    (resp.status, resp.body_text())
}

fn a_dead_members_sessions_go_to_its_domain_peer_not_the_heaviest_member(driver: IoDriver) {
    let mut t = three(driver, |_| {});
    let session = Some("JSESSIONID=0123456789.a");
    let mut kept = Client::connect(t.addr);
    for _ in 0..5 {
        assert_eq!(served(t.addr, Some(&mut kept), session), (200, "a".into()));
        assert_eq!(served(t.addr, None, session), (200, "a".into()));
    }
    // Kill a: its listener and its connections go; the proxy learns it from the next
    // request (a pooled connection found closed, then a refused connect).
    drop(t.a.take());
    let c_before = t.c.requests().len();
    for i in 0..20 {
        let got = if i % 2 == 0 {
            served(t.addr, Some(&mut kept), session)
        } else {
            served(t.addr, None, session)
        };
        assert_eq!(got, (200, "b".into()), "request {i} after a died");
    }
    assert_eq!(
        t.c.requests().len(),
        c_before,
        "c is not in the domain: it got none of the session's requests"
    );
    // c is up and is what balancing prefers: new requests (no session) go there.
    let fresh: Vec<String> = (0..11).map(|_| served(t.addr, None, None).1).collect();
    assert!(
        fresh.iter().filter(|m| *m == "c").count() >= 9,
        "balancing prefers c: {fresh:?}"
    );
    assert!(!fresh.iter().any(|m| m == "a"), "a is dead: {fresh:?}");
    // b gone too: the session is re-balanced to c, still without an error.
    drop(t.b.take());
    assert_eq!(served(t.addr, None, session), (200, "c".into()));
}

fn a_route_that_names_a_domain_is_served_by_that_domain(driver: IoDriver) {
    let t = three(driver, |_| {});
    let picks: Vec<(u16, String)> = (0..6)
        .map(|_| served(t.addr, None, Some("JSESSIONID=xyz.east")))
        .collect();
    for (status, who) in &picks {
        assert_eq!(*status, 200);
        assert!(who == "a" || who == "b", "{picks:?}");
    }
    // Shared by the method between a and b (equal factors), c never.
    assert!(picks.iter().any(|(_, w)| w == "a") && picks.iter().any(|(_, w)| w == "b"));
    assert!(t.c.requests().is_empty(), "c got a request of domain east");
}

fn nofailover_lets_the_domain_take_the_session_then_answers_503(driver: IoDriver) {
    let mut t = three(driver, |cfg| cfg.balancers[0].options.nofailover = true);
    let session = Some("JSESSIONID=s.a");
    assert_eq!(served(t.addr, None, session), (200, "a".into()));
    drop(t.a.take());
    for i in 0..5 {
        assert_eq!(served(t.addr, None, session), (200, "b".into()), "{i}");
    }
    drop(t.b.take());
    // The first request finds b dead (its connect fails, b goes in error), then no member
    // of the session's domain is left: 503, not c.
    for i in 0..3 {
        assert_eq!(served(t.addr, None, session).0, 503, "{i}");
    }
    assert!(
        t.c.requests().is_empty(),
        "nofailover: c never got the session"
    );
    assert_eq!(served(t.addr, None, None), (200, "c".into()));
}
