//! Stickiness beyond the plain route: insert-cookie mode, the BALANCER_* request headers,
//! mod_jk's activation header, `nofailover`, and member states set in the config (drain,
//! disabled, hot standby, lbsets) as seen by real requests.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::net::SocketAddr;

use common::{config, member, start_proxy, Client, MockMember};
use ringlb::balancer::Status;
use ringlb::config::{Config, InsertCookie, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    insert_cookie_is_set_on_new_sessions_and_read_back,
    balancer_headers_tell_the_member_what_happened,
    activation_header_says_dis_for_a_draining_member,
    nofailover_refuses_a_session_of_a_disabled_member,
    disabled_member_session_is_rebalanced_without_nofailover,
    drain_member_takes_only_sticky_traffic,
    hot_standby_serves_only_when_the_others_cannot,
    lower_lbset_is_used_first,
    a_url_session_of_a_disabled_member_never_falls_back_to_the_cookie,
    a_url_session_id_without_a_route_is_balanced_not_sent_by_the_cookie,
);

struct Pair {
    node1: MockMember,
    node2: MockMember,
    _proxy: ServerHandle,
    addr: SocketAddr,
}

/// node1 and node2 (loadfactor 1 each), each answering with its name; `tune` adjusts the
/// config before start.
fn pair(driver: IoDriver, tune: impl FnOnce(&mut Config)) -> Pair {
    let node1 = MockMember::named("node1");
    let node2 = MockMember::named("node2");
    let mut cfg = config(
        driver,
        vec![
            member(node1.addr(), "node1", 100),
            member(node2.addr(), "node2", 100),
        ],
    );
    tune(&mut cfg);
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    Pair {
        node1,
        node2,
        _proxy: proxy,
        addr,
    }
}

fn request(path: &str, cookie: Option<&str>) -> Vec<u8> {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    format!("GET {path} HTTP/1.1\r\nHost: example.test\r\n{cookie}\r\n").into_bytes()
}

fn served(addr: SocketAddr, cookie: Option<&str>) -> (u16, String) {
    let resp = Client::connect(addr).request(&request("/", cookie));
    (resp.status, resp.body_text())
}

/// Insert-cookie mode with `ROUTEID` (`HttpOnly; SameSite=Lax`).
fn route_cookie() -> Option<InsertCookie> {
    Some(InsertCookie {
        name: "ROUTEID".into(),
        path: "/".into(),
        domain: None,
        max_age: None,
        http_only: true,
        secure: false,
        same_site: Some("Lax".into()),
    })
}

fn insert_cookie_is_set_on_new_sessions_and_read_back(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].options.insert_cookie = route_cookie();
    });
    let first = Client::connect(p.addr).request(&request("/", None));
    let member = first.body_text();
    let cookie = first
        .header("set-cookie")
        .expect("a route cookie on a new session");
    assert_eq!(
        cookie,
        format!("ROUTEID=.{member}; Path=/; HttpOnly; SameSite=Lax")
    );

    // The cookie brings the client back to the same member, and is not set again.
    let value = cookie.split(';').next().unwrap();
    for _ in 0..6 {
        let resp = Client::connect(p.addr).request(&request("/", Some(value)));
        assert_eq!(resp.body_text(), member);
        assert_eq!(
            resp.header("set-cookie"),
            None,
            "no new cookie for a sticky request"
        );
    }
}

fn balancer_headers_tell_the_member_what_happened(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].options.balancer_headers = true
    });
    assert_eq!(served(p.addr, Some("JSESSIONID=abc.node2")).1, "node2");
    let seen = p.node2.requests().pop().unwrap();
    assert_eq!(seen.header("x-balancer-name"), Some("test"));
    assert_eq!(seen.header("x-balancer-worker-route"), Some("node2"));
    assert_eq!(seen.header("x-balancer-session-sticky"), Some("JSESSIONID"));
    assert_eq!(seen.header("x-balancer-session-route"), Some("node2"));
    assert_eq!(seen.header("x-balancer-route-changed"), None);
    let url = format!("http://{}", p.node2.addr());
    assert_eq!(seen.header("x-balancer-worker-name"), Some(url.as_str()));

    // A route nobody has: balanced, and the change is said.
    let (_, who) = served(p.addr, Some("JSESSIONID=abc.node9"));
    let member = if who == "node1" { &p.node1 } else { &p.node2 };
    let seen = member.requests().pop().unwrap();
    assert_eq!(seen.header("x-balancer-session-route"), Some("node9"));
    assert_eq!(seen.header("x-balancer-route-changed"), Some("1"));
}

fn activation_header_says_dis_for_a_draining_member(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].options.activation_header = Some("X-JK-LB-Activation".into());
        cfg.balancers[0].members[0].options.status = Status::DRAIN;
    });
    assert_eq!(served(p.addr, Some("JSESSIONID=s.node1")).1, "node1");
    let seen = p.node1.requests().pop().unwrap();
    assert_eq!(seen.header("x-jk-lb-activation"), Some("DIS"));
    assert_eq!(served(p.addr, None).1, "node2");
    let seen = p.node2.requests().pop().unwrap();
    assert_eq!(seen.header("x-jk-lb-activation"), Some("ACT"));
}

fn nofailover_refuses_a_session_of_a_disabled_member(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].options.nofailover = true;
        cfg.balancers[0].members[0].options.status = Status::DISABLED;
    });
    let (status, _) = served(p.addr, Some("JSESSIONID=s.node1"));
    assert_eq!(status, 503);
    // An unknown route is still balanced.
    assert_eq!(
        served(p.addr, Some("JSESSIONID=s.other")),
        (200, "node2".to_string())
    );
    p.node1.assert_untouched("disabled member");
}

fn disabled_member_session_is_rebalanced_without_nofailover(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].members[0].options.status = Status::DISABLED
    });
    for _ in 0..4 {
        assert_eq!(
            served(p.addr, Some("JSESSIONID=s.node1")),
            (200, "node2".to_string())
        );
    }
    p.node1.assert_untouched("disabled member");
}

fn drain_member_takes_only_sticky_traffic(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].members[0].options.status = Status::DRAIN
    });
    for _ in 0..6 {
        assert_eq!(
            served(p.addr, None).1,
            "node2",
            "new sessions avoid a draining member"
        );
    }
    assert_eq!(
        served(p.addr, Some("JSESSIONID=s.node1")).1,
        "node1",
        "sessions stay"
    );
}

fn hot_standby_serves_only_when_the_others_cannot(driver: IoDriver) {
    let standby = MockMember::named("standby");
    let p = pair(driver, |cfg| {
        let mut m = member(standby.addr(), "spare1", 100);
        m.options.status = Status::HOT_STANDBY;
        cfg.balancers[0].members.push(m);
    });
    for _ in 0..6 {
        assert_ne!(served(p.addr, None).1, "standby");
    }
    standby.assert_untouched("standby while regular members are usable");

    let q = pair(driver, |cfg| {
        let mut m = member(standby.addr(), "spare1", 100);
        m.options.status = Status::HOT_STANDBY;
        cfg.balancers[0].members.push(m);
        for regular in &mut cfg.balancers[0].members[..2] {
            regular.options.status = Status::DISABLED;
        }
    });
    assert_eq!(served(q.addr, None), (200, "standby".to_string()));
}

fn lower_lbset_is_used_first(driver: IoDriver) {
    let p = pair(driver, |cfg| cfg.balancers[0].members[0].options.lbset = 1);
    for _ in 0..6 {
        assert_eq!(served(p.addr, None).1, "node2", "lbset 0 first");
    }
    // Sticky traffic ignores lbset.
    assert_eq!(served(p.addr, Some("JSESSIONID=s.node1")).1, "node1");
    let q = pair(driver, |cfg| {
        cfg.balancers[0].members[0].options.lbset = 1;
        cfg.balancers[0].members[1].options.status = Status::DISABLED;
    });
    assert_eq!(
        served(q.addr, None).1,
        "node1",
        "lbset 1 when lbset 0 has nothing usable"
    );
}

/// Issue 9 defect 13: the URL's session route names disabled node1, a cookie names live
/// node2. Apache reads the cookie only when the URL has no session id: nofailover answers 503,
/// and without it the request is balanced with the route change said, never sent to node2
/// by the cookie. ringlb's own insert cookie is a cookie like the others.
fn a_url_session_of_a_disabled_member_never_falls_back_to_the_cookie(driver: IoDriver) {
    let tune = |nofailover: bool| {
        move |cfg: &mut Config| {
            let b = &mut cfg.balancers[0];
            b.options.nofailover = nofailover;
            b.options.balancer_headers = true;
            b.options.insert_cookie = route_cookie();
            b.members[0].options.status = Status::DISABLED;
        }
    };
    let cookies = [
        "JSESSIONID=s.node2",
        "ROUTEID=.node2",
        "JSESSIONID=nodot; ROUTEID=.node2",
    ];
    let forced = pair(driver, tune(true));
    for cookie in cookies {
        let resp =
            Client::connect(forced.addr).request(&request("/x;jsessionid=s.node1", Some(cookie)));
        assert_eq!(resp.status, 503, "nofailover, cookie {cookie:?}");
    }
    forced.node1.assert_untouched("disabled member");
    forced.node2.assert_untouched("the cookie's member");
    // Without a URL session id the cookie decides, nofailover or not.
    assert_eq!(
        served(forced.addr, Some("ROUTEID=.node2")),
        (200, "node2".to_string())
    );

    let moved = pair(driver, tune(false));
    for cookie in cookies {
        let resp =
            Client::connect(moved.addr).request(&request("/x;jsessionid=s.node1", Some(cookie)));
        assert_eq!((resp.status, resp.body_text()), (200, "node2".to_string()));
        let set = resp.header("set-cookie");
        assert_eq!(
            set.and_then(|c| c.split(';').next()),
            Some("ROUTEID=.node2"),
            "{cookie:?}"
        );
        let seen = moved.node2.requests().pop().unwrap();
        assert_eq!(
            seen.header("x-balancer-route-changed"),
            Some("1"),
            "{cookie:?}"
        );
        assert_eq!(seen.header("x-balancer-session-sticky"), Some("jsessionid"));
        assert_eq!(seen.header("x-balancer-session-route"), Some("node1"));
    }
    moved.node1.assert_untouched("disabled member");
}

/// Issue 9 defect 13: `;jsessionid=nodot` is a session id without a route. Apache finds it in
/// the URL, so it does not read the cookie (`.node2`): the request is balanced (node1, the
/// first pick of a fresh balancer) with `BALANCER_ROUTE_CHANGED` and no session route, and
/// nofailover has no route to force.
fn a_url_session_id_without_a_route_is_balanced_not_sent_by_the_cookie(driver: IoDriver) {
    let p = pair(driver, |cfg| {
        cfg.balancers[0].options.nofailover = true;
        cfg.balancers[0].options.balancer_headers = true;
    });
    let resp = Client::connect(p.addr).request(&request(
        "/x;jsessionid=nodot",
        Some("JSESSIONID=abc.node2"),
    ));
    assert_eq!((resp.status, resp.body_text()), (200, "node1".to_string()));
    let seen = p.node1.requests().pop().unwrap();
    assert_eq!(seen.header("x-balancer-route-changed"), Some("1"));
    assert_eq!(seen.header("x-balancer-session-sticky"), None);
    assert_eq!(seen.header("x-balancer-session-route"), None);
    p.node2.assert_untouched("the cookie's member");
}
