//! The operator surface tells the truth: the connection gauge follows closes, `last_error`
//! names the last failure, one error-log line per member state change, `ringlb_member_up`
//! means "takes new requests". Real sockets on 127.0.0.1:0, both drivers, no sleeps as
//! synchronisation (every wait polls with a deadline).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::admin_api::start_with_admin;
use common::{config, get, member, poll_until, secs, Client, MockMember};
use ringlb::admin::server::AdminServer;
use ringlb::config::{Config, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    connection_gauge_follows_closes,
    connection_gauge_follows_server_closes,
    connection_gauge_follows_a_closed_tunnel,
    draining_member_is_not_up,
    last_error_says_what_failed_and_when,
);

struct Setup {
    proxy: ServerHandle,
    admin: AdminServer,
}

fn setup(cfg: Config) -> Setup {
    let (proxy, admin) = start_with_admin(cfg);
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
    let status: serde_json::Value = serde_json::from_str(&admin_get(admin, "/api/status")).unwrap();
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

/// `POST target` on the admin listener with a JSON body; the status and body.
fn admin_post(admin: SocketAddr, target: &str, json: &str) -> (u16, String) {
    let mut s = TcpStream::connect(admin).unwrap();
    common::set_timeouts(&s);
    write!(
        s,
        "POST {target} HTTP/1.1\r\nHost: {admin}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{json}",
        json.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    (head[9..12].parse().unwrap(), body.to_string())
}

/// The value of `name` for the member with `route` (`None` when absent).
fn member_metric(text: &str, name: &str, route: &str, extra: &str) -> Option<f64> {
    let label = format!("route=\"{route}\"");
    text.lines()
        .filter(|l| l.starts_with(&format!("{name}{{")))
        .find(|l| l.contains(&label) && l.contains(extra))
        .and_then(|l| l.rsplit_once(' ')?.1.parse().ok())
}

fn nonce(admin: SocketAddr) -> String {
    let status: serde_json::Value = serde_json::from_str(&admin_get(admin, "/api/status")).unwrap();
    status["nonce"].as_str().unwrap().to_string()
}

/// `ringlb_member_up` is "takes new requests": a member drained in the file and one drained
/// by the operator are 0 (`health{state="draining"}` 1), while still serving their sessions.
fn draining_member_is_not_up(driver: IoDriver) {
    let (a, b, c) = (
        MockMember::named("a"),
        MockMember::named("b"),
        MockMember::named("c"),
    );
    let mut drained = member(b.addr(), "b", 100);
    drained.options.status = ringlb::balancer::Status::DRAIN;
    let cfg = config(
        driver,
        vec![
            member(a.addr(), "a", 100),
            drained,
            member(c.addr(), "c", 100),
        ],
    );
    let s = setup(cfg);
    let addr = common::addr(&s.proxy);
    let admin = s.admin.local_addr();
    let metrics = admin_get(admin, "/metrics");
    let up = |text: &str, route: &str| member_metric(text, "ringlb_member_up", route, "");
    assert_eq!(up(&metrics, "a"), Some(1.0));
    assert_eq!(up(&metrics, "b"), Some(0.0), "drained in the file");
    let draining = "state=\"draining\"";
    assert_eq!(
        member_metric(&metrics, "ringlb_member_health", "b", draining),
        Some(1.0)
    );
    // The drained member still serves its session.
    let mut client = Client::connect(addr);
    let resp = client.request(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=s.b\r\n\r\n");
    assert_eq!(resp.body_text(), "b");

    let body = format!(
        r#"{{"balancer":"test","member":"http://{}","status":"+N","nonce":"{}"}}"#,
        c.addr(),
        nonce(admin)
    );
    let (status, answer) = admin_post(admin, "/api/members", &body);
    assert_eq!(status, 200, "{answer}");
    assert!(
        poll_until(secs(5), || up(&admin_get(admin, "/metrics"), "c")
            == Some(0.0)),
        "drained by the operator"
    );
    let status: serde_json::Value = serde_json::from_str(&admin_get(admin, "/api/status")).unwrap();
    let members = &status["balancers"][0]["members"];
    let ups: Vec<bool> = (0..3)
        .map(|m| members[m]["up"].as_bool().unwrap())
        .collect();
    assert_eq!(ups, [true, false, false]);
    assert_eq!(members[2]["health"]["state"], "draining");
}

/// `last_error` of every member of balancer 0 as `/api/status` shows it.
fn last_errors(admin: SocketAddr) -> Vec<serde_json::Value> {
    let status: serde_json::Value = serde_json::from_str(&admin_get(admin, "/api/status")).unwrap();
    status["balancers"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["last_error"].clone())
        .collect()
}

fn unix_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64
}

/// Each member fails its own way (refused, a 504, `failonstatus`, a failed health check);
/// `last_error` names it, with a time between the test's clock readings before and after,
/// in RFC 3339 and in Unix milliseconds; `/metrics` carries the same time. A member that
/// never failed shows `null`.
fn last_error_says_what_failed_and_when(driver: IoDriver) {
    let hang = MockMember::hang();
    let five_hundred = MockMember::respond(|_| {
        common::Reply::Send(common::response_bytes(503, "Busy", &[], b"busy"))
    });
    let sick = MockMember::respond(|req| {
        let status = if req.path == "/health" { 500 } else { 200 };
        common::Reply::Send(common::response_bytes(status, "X", &[], b"x"))
    });
    let fine = MockMember::named("fine");
    let routes = ["refused", "hang", "503", "sick", "fine"];
    let addrs = [
        common::dead_addr(),
        hang.addr(),
        five_hundred.addr(),
        sick.addr(),
        fine.addr(),
    ];
    let members = routes
        .iter()
        .zip(addrs)
        .map(|(route, a)| member(a, route, 100))
        .collect();
    let mut cfg = config(driver, members);
    cfg.timeouts.upstream_response = common::millis(300);
    cfg.balancers[0].options.failover.failonstatus = vec![503];
    cfg.balancers[0].options.failover.maxattempts = Some(0);
    cfg.balancers[0].members[3].options.health = Some(ringlb::config::HealthCheck {
        uri: "/health".into(),
        interval: common::millis(50),
        ..Default::default()
    });
    let before = unix_ms();
    let s = setup(cfg);
    let addr = common::addr(&s.proxy);
    let admin = s.admin.local_addr();
    for (route, status) in [("refused", 503), ("hang", 504), ("503", 503)] {
        let mut c = Client::connect(addr);
        let req = format!("GET / HTTP/1.1\r\nHost: x\r\nCookie: JSESSIONID=s.{route}\r\n\r\n");
        assert_eq!(c.request(req.as_bytes()).status, status, "{route}");
    }
    assert!(
        poll_until(secs(5), || !last_errors(admin)[3].is_null()),
        "the health check fails"
    );
    let after = unix_ms();
    let errors = last_errors(admin);
    let want = [
        Some("connect refused"),
        Some("no response in time (504)"),
        Some("failonstatus 503"),
        Some("health check: unexpected status 500"),
        None,
    ];
    let metrics = admin_get(admin, "/metrics");
    for ((route, e), want) in routes.iter().zip(&errors).zip(want) {
        let Some(want) = want else {
            assert!(e.is_null(), "{route}: {e}");
            continue;
        };
        assert_eq!(e["what"], want, "{route}");
        let at_ms = e["at_unix_ms"].as_u64().unwrap();
        assert!((before..=after).contains(&at_ms), "{route}: {at_ms}");
        let at = e["at"].as_str().unwrap();
        assert_eq!(at.len(), 24, "{at}");
        assert!(at.ends_with('Z') && at.as_bytes()[10] == b'T', "{at}");
        assert_eq!(&at[20..23], format!("{:03}", at_ms % 1000), "{at}");
        let gauge = member_metric(
            &metrics,
            "ringlb_member_last_error_timestamp_seconds",
            route,
            "",
        );
        assert!(gauge.is_some(), "{route}: no timestamp gauge");
    }
    let page = admin_get(admin, "/balancer-manager");
    assert!(page.contains("connect refused"), "the page shows it");
}

/// A tunnel (after `101`) counts as one open connection until it ends: the client closes,
/// the member (a WebSocket server) closes on that end of file, and the gauge is back to 0.
fn connection_gauge_follows_a_closed_tunnel(driver: IoDriver) {
    let mock = MockMember::raw(|conn| {
        if conn.read_head()?.is_none() {
            return Ok(());
        }
        conn.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        )?;
        while let Ok(data) = conn.read_some() {
            if data.is_empty() {
                break;
            }
            conn.write_all(&data)?;
        }
        conn.shutdown();
        Ok(())
    });
    let s = setup(common::single(driver, &mock));
    let admin = s.admin.local_addr();
    let mut client = Client::connect(common::addr(&s.proxy));
    client.send(
        b"GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert_eq!(client.read_response().status, 101);
    client.send(b"ping");
    assert_eq!(client.read_exact(4), b"ping", "echo through the tunnel");
    assert_eq!(connections(admin), (1, 1), "the tunnel is open");
    drop(client);
    assert!(
        poll_until(secs(5), || connections(admin) == (0, 0)),
        "after the client closed its tunnel: {:?}",
        connections(admin)
    );
}
