//! The flow, listener, last-check, down-time and rate figures of a running ringlb after real
//! traffic: a session moved off a dead member, pooled connections reused, a stale pooled
//! connection retried, a response the member cut short, a request body the client abandoned;
//! read from `/metrics` and `/api/status`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};

use common::admin_api::call;
use common::{
    config, dead_addr, member, millis, poll_until, secs, start_proxy, Client, MockMember, Reply,
};
use ringlb::admin::server as admin_server;
use ringlb::config::{
    AdminConfig, BalancerConfig, HcMethod, HealthCheck, IoDriver, LbMethod, PathMount,
};

both_drivers!(
    flow_and_listener_counters_follow_the_traffic,
    last_check_downtime_and_rates_reach_the_status,
);

/// The value of the sample written exactly as `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn labels(balancer: &str, addr: std::net::SocketAddr, route: &str) -> String {
    format!("balancer=\"{balancer}\",member=\"http://{addr}\",route=\"{route}\"")
}

fn balancer(name: &str, members: Vec<ringlb::config::MemberConfig>) -> BalancerConfig {
    BalancerConfig {
        name: name.into(),
        mount: Some(PathMount::new(&format!("/{name}"), &format!("/{name}"))),
        lbmethod: LbMethod::ByRequests,
        options: Default::default(),
        sticky: None,
        members,
    }
}

fn admin_config() -> AdminConfig {
    AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    }
}

fn flow_and_listener_counters_follow_the_traffic(driver: IoDriver) {
    let a = MockMember::named("a");
    let dead = dead_addr();
    // Answers the first request of each connection and closes on the second unanswered: the
    // second request on a pooled connection must be retried on a new one.
    let flaky = MockMember::raw(|conn| {
        if conn.read_request()?.is_some() {
            conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")?;
        }
        let _ = conn.read_request()?;
        conn.shutdown();
        Ok(())
    });
    let cut = MockMember::respond(|_| {
        Reply::SendAndClose(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort".to_vec())
    });
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(dead, "d", 100)],
    );
    cfg.balancers[0].mount = Some(PathMount::new("/app", "/app"));
    cfg.balancers
        .push(balancer("retry", vec![member(flaky.addr(), "f", 100)]));
    cfg.balancers
        .push(balancer("cut", vec![member(cut.addr(), "c", 100)]));
    cfg.ops.admin = Some(admin_config());
    let proxy = start_proxy(cfg);
    let admin = admin_server::start(&admin_config(), proxy.controller().clone()).unwrap();
    let addr = common::addr(&proxy);

    // Three requests of the session routed to the dead member, on one connection.
    let mut c1 = Client::connect(addr);
    for i in 0..3 {
        let req = format!("GET /app/{i} HTTP/1.1\r\nHost: t\r\nCookie: JSESSIONID=s.d\r\n\r\n");
        let resp = c1.request(req.as_bytes());
        assert_eq!(
            (resp.status, resp.body_text()),
            (200, "a".into()),
            "request {i}"
        );
    }
    // Two requests to the flaky member on one connection: the second is retried.
    let mut c2 = Client::connect(addr);
    for i in 0..2 {
        assert_eq!(c2.request(&common::get(&format!("/retry/{i}"))).status, 200);
    }
    // The member's response is cut short.
    let mut c3 = TcpStream::connect(addr).unwrap();
    c3.write_all(&common::get("/cut/x")).unwrap();
    let mut got = Vec::new();
    c3.read_to_end(&mut got).unwrap();
    assert!(
        got.starts_with(b"HTTP/1.1 200") && got.ends_with(b"\r\n\r\nshort"),
        "{got:?}"
    );
    // A request body the client abandons.
    let mut c4 = TcpStream::connect(addr).unwrap();
    c4.write_all(b"POST /app/up HTTP/1.1\r\nHost: t\r\nContent-Length: 1000\r\n\r\n0123456789")
        .unwrap();

    let scrape = || call(admin.local_addr(), "GET", "/metrics", "", "").2;
    let la = labels("test", a.addr(), "a");
    let client_aborts = format!("ringlb_member_aborts_total{{{la},by=\"client\"}}");
    // The abort is counted once ringlb has sent the head and part of the body to `a`.
    assert!(poll_until(secs(5), || a
        .requests()
        .iter()
        .any(|r| r.path == "/app/up")));
    c4.shutdown(Shutdown::Both).unwrap();
    let mut text = scrape();
    // The flaky member's fresh connection went back to the pool; `a`'s last one went with the
    // abandoned request.
    let lf = labels("retry", flaky.addr(), "f");
    let idle = format!("ringlb_member_pool_idle_connections{{{lf}}}");
    assert!(
        poll_until(secs(5), || {
            text = scrape();
            sample(&text, &client_aborts) == Some(1.0) && sample(&text, &idle) == Some(1.0)
        }),
        "{text}"
    );
    let ld = labels("test", dead, "d");
    let lc = labels("cut", cut.addr(), "c");
    let listener = format!("listener=\"{addr}\"");
    let cases = [
        (format!("ringlb_member_redispatches_total{{{ld}}}"), 1.0),
        (format!("ringlb_member_redispatches_total{{{la}}}"), 0.0),
        (format!("ringlb_member_route_changed_total{{{la}}}"), 3.0),
        (format!("ringlb_member_route_changed_total{{{ld}}}"), 0.0),
        // The second and third session requests, and the abandoned POST.
        (format!("ringlb_member_pool_reuses_total{{{la}}}"), 3.0),
        (format!("ringlb_member_pool_idle_connections{{{la}}}"), 0.0),
        (format!("ringlb_member_retries_total{{{lf}}}"), 1.0),
        (format!("ringlb_member_pool_reuses_total{{{lf}}}"), 1.0),
        (
            format!("ringlb_member_aborts_total{{{lc},by=\"member\"}}"),
            1.0,
        ),
        (
            format!("ringlb_member_aborts_total{{{lc},by=\"client\"}}"),
            0.0,
        ),
        (
            format!("ringlb_member_aborts_total{{{la},by=\"member\"}}"),
            0.0,
        ),
        (
            format!("ringlb_listener_connections_total{{{listener}}}"),
            4.0,
        ),
        (format!("ringlb_listener_requests_total{{{listener}}}"), 7.0),
    ];
    for (series, want) in &cases {
        assert_eq!(sample(&text, series), Some(*want), "{series}\n{text}");
    }
    // The CSV view carries the same figures in HAProxy's columns.
    let csv = call(admin.local_addr(), "GET", "/balancer-manager?csv", "", "").2;
    let header: Vec<&str> = csv
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("# ")
        .split(',')
        .collect();
    let line = csv
        .lines()
        .find(|l| l.contains(&format!("http://{}", flaky.addr())))
        .unwrap();
    let col = |name: &str| {
        line.split(',')
            .nth(header.iter().position(|h| *h == name).unwrap())
    };
    assert_eq!(
        (col("wretr"), col("reuse")),
        (Some("1"), Some("1")),
        "{csv}"
    );
}

fn last_check_downtime_and_rates_reach_the_status(driver: IoDriver) {
    let a = MockMember::named("a");
    let dead = dead_addr();
    let check = HealthCheck {
        method: HcMethod::Get,
        uri: "/health".into(),
        interval: millis(100),
        passes: 1,
        fails: 1,
        status: (200, 399),
    };
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(dead, "d", 100)],
    );
    for m in &mut cfg.balancers[0].members {
        m.options.health = Some(check.clone());
    }
    cfg.ops.admin = Some(admin_config());
    let proxy = start_proxy(cfg);
    let admin = admin_server::start(&admin_config(), proxy.controller().clone()).unwrap();
    let addr = common::addr(&proxy);
    let status = || -> serde_json::Value {
        serde_json::from_str(&call(admin.local_addr(), "GET", "/api/status", "", "").2).unwrap()
    };
    let members = |s: &serde_json::Value| s["balancers"][0]["members"].clone();
    let mut s = status();
    // The dead member's probes fail and it has been down for a second; `a`'s pass.
    assert!(
        poll_until(secs(10), || {
            s = status();
            let m = members(&s);
            m[1]["downtime_secs"].as_u64() >= Some(1)
                && m[0]["checks"]["last"]["passed"] == serde_json::json!(true)
        }),
        "{s:#}"
    );
    let m = members(&s);
    let last = &m[1]["checks"]["last"];
    assert_eq!(last["passed"], serde_json::json!(false), "{s:#}");
    assert_eq!(last["what"], "health check: connect failed", "{s:#}");
    assert_eq!(last["check_status"], "L4CON", "{s:#}");
    assert_eq!(m[0]["checks"]["last"]["check_status"], "L7OK", "{s:#}");
    assert_eq!(m[0]["downtime_secs"], 0, "{s:#}");
    assert!(
        m[0]["checks"]["last"]["age_secs"].as_u64() <= Some(2),
        "{s:#}"
    );

    // Requests while the sampler runs: a rate shows within a few seconds.
    let mut c = Client::connect(addr);
    assert!(
        poll_until(secs(10), || {
            assert_eq!(c.request(&common::get("/x")).status, 200);
            s = status();
            members(&s)[0]["rates"]["requests_per_sec"].as_f64() > Some(0.0)
        }),
        "{s:#}"
    );
    let page = call(admin.local_addr(), "GET", "/balancer-manager", "", "").2;
    assert!(
        page.contains("connect failed in "),
        "the page shows the last check"
    );
    assert!(page.contains("passed in "), "{page}");
    assert!(
        page.contains(" in all</span>"),
        "the page shows the down time"
    );
    assert!(page.contains("/s</span>"), "the page shows the rate");
}
