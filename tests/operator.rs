//! The operator surface tells the truth: the connection gauge follows closes, `last_error`
//! names the last failure, one error-log line per member state change, `ringlb_member_up`
//! means "takes new requests". Real sockets on 127.0.0.1:0, both drivers, no sleeps as
//! synchronisation (every wait polls with a deadline).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::{config, get, member, poll_until, secs, start_proxy, Client, MockMember};
use ringlb::admin::server::{self as admin_server, AdminServer};
use ringlb::config::{AdminConfig, Config, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(connection_gauge_follows_closes, connection_gauge_follows_server_closes);

struct Setup {
    proxy: ServerHandle,
    admin: AdminServer,
}

fn setup(cfg: Config) -> Setup {
    let mut cfg = cfg;
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    cfg.ops.admin = Some(admin_cfg.clone());
    let proxy = start_proxy(cfg);
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    Setup { proxy, admin }
}

/// `GET target` on the admin listener; the body.
fn admin_get(admin: SocketAddr, target: &str) -> String {
    let mut s = TcpStream::connect(admin).unwrap();
    common::set_timeouts(&s);
    write!(
        s,
        "GET {target} HTTP/1.1\r\nHost: {admin}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (_, body) = out.split_once("\r\n\r\n").unwrap();
    body.to_string()
}

/// The sum of the samples of metric `name` (every label set).
fn metric_sum(text: &str, name: &str) -> f64 {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .filter_map(|l| l.rsplit_once(' ')?.1.parse::<f64>().ok())
        .sum()
}

/// The open client connections as `/metrics` and `/api/status` report them (summed over the
/// workers); panics when the two disagree for longer than a few polls.
fn connections(admin: SocketAddr) -> (u64, u64) {
    let metrics = metric_sum(&admin_get(admin, "/metrics"), "ringlb_worker_connections") as u64;
    let status: serde_json::Value =
        serde_json::from_str(&admin_get(admin, "/api/status")).unwrap();
    let page: u64 = status["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| w["connections"].as_u64().unwrap())
        .sum();
    (metrics, page)
}

fn connection_gauge_follows_closes(driver: IoDriver) {
    let mock = MockMember::named("a");
    let mut cfg = config(driver, vec![member(mock.addr(), "a", 100)]);
    cfg.workers = Some(2);
    let s = setup(cfg);
    let addr = common::addr(&s.proxy);
    let admin = s.admin.local_addr();
    let n = 6;
    let mut clients: Vec<Client> = (0..n).map(|_| Client::connect(addr)).collect();
    for c in &mut clients {
        assert_eq!(c.request(&get("/")).status, 200);
    }
    let want = (n as u64, n as u64);
    assert!(
        poll_until(secs(5), || connections(admin) == want),
        "{n} keep-alive connections open: {:?}",
        connections(admin)
    );
    // Close half from the client side while idle (the worker sees EOF) ...
    for c in clients.drain(..n / 2) {
        drop(c);
    }
    let half = ((n - n / 2) as u64, (n - n / 2) as u64);
    assert!(
        poll_until(secs(5), || connections(admin) == half),
        "after closing half: {:?}",
        connections(admin)
    );
    // ... and the rest: nothing new opens, yet the gauge must reach 0.
    clients.clear();
    assert!(
        poll_until(secs(5), || connections(admin) == (0, 0)),
        "after closing all: {:?}",
        connections(admin)
    );
}

/// Connections the proxy ends itself: `Connection: close`, an error response (lingering
/// close), the keep-alive idle timeout (the reaper), a client that never sends a request.
fn connection_gauge_follows_server_closes(driver: IoDriver) {
    let mock = MockMember::named("a");
    let mut cfg = config(driver, vec![member(mock.addr(), "a", 100)]);
    cfg.timeouts.keepalive_idle = common::millis(600);
    cfg.timeouts.client_header = common::millis(600);
    let s = setup(cfg);
    let addr = common::addr(&s.proxy);
    let admin = s.admin.local_addr();
    let mut close = Client::connect(addr);
    let resp = close.request(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    assert_eq!(resp.status, 200);
    let mut refused = Client::connect(addr);
    refused.send(b"GET / HTTP/1.1\r\nHost: x\r\nContent-Length: x\r\n\r\n");
    assert_eq!(refused.read_response().status, 400);
    let mut idle = Client::connect(addr);
    assert_eq!(idle.request(&get("/")).status, 200);
    let silent = Client::connect(addr);
    assert!(
        poll_until(secs(10), || connections(admin) == (0, 0)),
        "every connection ended by the proxy: {:?}",
        connections(admin)
    );
    drop((close, refused, idle, silent));
}
