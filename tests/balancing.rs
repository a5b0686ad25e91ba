//! Member selection: byrequests follows the load factors (smooth weighted round robin) and a
//! session cookie or path parameter with a known route pins the request to that member.
//! One worker, so the whole schedule runs on one core.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::net::SocketAddr;

use common::{config, member, start_proxy, Client, MockMember};
use ringlb::config::{Config, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    byrequests_follows_loadfactors,
    sticky_cookie_pins_route,
    sticky_path_parameter_pins_route,
    unknown_route_balanced_normally,
);

/// Members `node1` (loadfactor 1) and `node2` (loadfactor 3); each answers with its name.
struct Pair {
    node1: MockMember,
    node2: MockMember,
    _proxy: ServerHandle,
    addr: SocketAddr,
}

fn pair(driver: IoDriver) -> Pair {
    let node1 = MockMember::named("node1");
    let node2 = MockMember::named("node2");
    let cfg: Config = config(
        driver,
        vec![
            member(node1.addr(), "node1", 100),
            member(node2.addr(), "node2", 300),
        ],
    );
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    Pair {
        node1,
        node2,
        _proxy: proxy,
        addr,
    }
}

fn request_with(path: &str, extra: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: example.test\r\n{extra}\r\n").into_bytes()
}

/// Sends `n` requests, the first half each on a new connection and the rest on one keep-alive
/// connection; returns which member answered each, in order.
fn run(addr: SocketAddr, n: usize, extra: &str) -> Vec<String> {
    let mut order = Vec::with_capacity(n);
    for _ in 0..n / 2 {
        let resp = Client::connect(addr).request(&request_with("/", extra));
        assert_eq!(resp.status, 200);
        order.push(resp.body_text());
    }
    let mut client = Client::connect(addr);
    for _ in n / 2..n {
        let resp = client.request(&request_with("/", extra));
        assert_eq!(resp.status, 200);
        order.push(resp.body_text());
    }
    order
}

fn count(order: &[String], name: &str) -> usize {
    order.iter().filter(|s| *s == name).count()
}

/// 1:3 weights over 40 requests: exactly 10/30, and smooth: every aligned group of 4 holds
/// exactly one `node1` (no bursts).
fn assert_one_to_three(p: &Pair, order: &[String]) {
    assert_eq!(order.len(), 40);
    assert_eq!(count(order, "node1"), 10, "order: {order:?}");
    assert_eq!(count(order, "node2"), 30, "order: {order:?}");
    for (i, group) in order.chunks(4).enumerate() {
        assert_eq!(count(group, "node1"), 1, "group {i} not smooth: {order:?}");
    }
    assert_eq!(p.node1.requests().len(), 10);
    assert_eq!(p.node2.requests().len(), 30);
}

fn byrequests_follows_loadfactors(driver: IoDriver) {
    let p = pair(driver);
    let order = run(p.addr, 40, "");
    assert_one_to_three(&p, &order);
}

fn sticky_cookie_pins_route(driver: IoDriver) {
    let p = pair(driver);

    let order = run(p.addr, 10, "Cookie: JSESSIONID=abc123.node2\r\n");
    assert_eq!(count(&order, "node2"), 10, "order: {order:?}");
    let on_node2 = p.node2.requests();
    assert_eq!(on_node2.len(), 10);
    for r in &on_node2 {
        assert_eq!(
            r.header("cookie"),
            Some("JSESSIONID=abc123.node2"),
            "cookie forwarded"
        );
    }
    assert!(p.node1.requests().is_empty());

    // The lighter member too, with the session cookie among others.
    let order = run(
        p.addr,
        10,
        "Cookie: theme=dark; JSESSIONID=zz9.node1; lang=en\r\n",
    );
    assert_eq!(count(&order, "node1"), 10, "order: {order:?}");
    assert_eq!(p.node1.requests().len(), 10);
    assert_eq!(p.node2.requests().len(), 10);
}

fn sticky_path_parameter_pins_route(driver: IoDriver) {
    let p = pair(driver);

    for route in ["node1", "node2"] {
        let path = format!("/app;jsessionid=xyz.{route}?q=1");
        for _ in 0..6 {
            let resp = Client::connect(p.addr).request(&request_with(&path, ""));
            assert_eq!(resp.body_text(), route, "{path}");
        }
    }
    assert_eq!(p.node1.requests().len(), 6);
    assert_eq!(p.node2.requests().len(), 6);
}

fn unknown_route_balanced_normally(driver: IoDriver) {
    let p = pair(driver);
    let order = run(p.addr, 40, "Cookie: JSESSIONID=abc123.node9\r\n");
    assert_one_to_three(&p, &order);
}
