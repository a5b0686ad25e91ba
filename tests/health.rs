//! Active health checks and slow start with real sockets: a member whose probe answers 500, or
//! hangs, or refuses connections gets the failed-check flag `C` after `fails` probes and no more
//! traffic; when its probes pass again (`passes`) it comes back, ramping under slow start.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::sync::atomic::{AtomicU16, Ordering};
use std::sync::Arc;
use std::time::Duration;

use common::{config, member, millis, poll_until, secs, start_proxy, Client, MockMember, Reply};
use ringlb::config::{HcMethod, HealthCheck, IoDriver};

both_drivers!(
    failing_probe_takes_a_member_out_and_passing_brings_it_back,
    hanging_probe_counts_as_failure,
    refused_probe_counts_as_failure,
    recovered_member_ramps_up_under_slow_start,
);

fn check(method: HcMethod) -> HealthCheck {
    HealthCheck {
        method,
        uri: "/health".into(),
        interval: millis(50),
        passes: 2,
        fails: 2,
        status: (200, 399),
    }
}

/// A member whose `/health` answers with the status in `status` (other paths: 200 "a").
fn member_with_health(status: Arc<AtomicU16>) -> MockMember {
    MockMember::respond(move |req| {
        if req.path == "/health" {
            let code = status.load(Ordering::Relaxed);
            Reply::Send(common::response_bytes(code, "X", &[], b""))
        } else {
            Reply::ok("a")
        }
    })
}

fn served_by(addr: std::net::SocketAddr) -> String {
    Client::connect(addr).request(&common::get("/")).body_text()
}

fn failing_probe_takes_a_member_out_and_passing_brings_it_back(driver: IoDriver) {
    let status = Arc::new(AtomicU16::new(200));
    let a = member_with_health(status.clone());
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    cfg.balancers[0].members[0].options.health = Some(check(HcMethod::Get));
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    assert!(poll_until(secs(5), || a
        .requests()
        .iter()
        .any(|r| r.path == "/health")));
    assert!(
        (0..8).any(|_| served_by(addr) == "a"),
        "a takes traffic while healthy"
    );

    status.store(500, Ordering::Relaxed);
    // After two failed probes no new request reaches a.
    assert!(poll_until(secs(5), || (0..6).all(|_| served_by(addr) == "b")));
    let before = a.requests().iter().filter(|r| r.path != "/health").count();
    for _ in 0..10 {
        assert_eq!(served_by(addr), "b");
    }
    let after = a.requests().iter().filter(|r| r.path != "/health").count();
    assert_eq!(
        before, after,
        "a member with a failed check gets no traffic"
    );

    status.store(204, Ordering::Relaxed);
    assert!(
        poll_until(secs(5), || served_by(addr) == "a"),
        "passing probes bring a back"
    );
}

fn hanging_probe_counts_as_failure(driver: IoDriver) {
    let a = MockMember::respond(|req| {
        if req.path == "/health" {
            Reply::Hang
        } else {
            Reply::ok("a")
        }
    });
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.balancers[0].members[0].options.health = Some(check(HcMethod::Head));
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    assert!(poll_until(secs(5), || (0..6).all(|_| served_by(addr) == "b")));
}

fn refused_probe_counts_as_failure(driver: IoDriver) {
    let a = MockMember::named("a");
    let a_addr = a.addr();
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a_addr, "a", 100), member(b.addr(), "b", 100)],
    );
    let mut tcp = check(HcMethod::Tcp);
    tcp.interval = millis(100);
    cfg.balancers[0].members[0].options.health = Some(tcp);
    cfg.balancers[0].members[0].options.retry = Duration::ZERO;
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    drop(a);
    // Refused probes set C; with retry = 0 only the failed check keeps requests away.
    assert!(poll_until(secs(5), || (0..6).all(|_| served_by(addr) == "b")));
    let a = MockMember::respond_at(a_addr, |_| Reply::ok("a"));
    assert!(poll_until(secs(5), || served_by(addr) == "a"));
    drop(a);
}

fn recovered_member_ramps_up_under_slow_start(driver: IoDriver) {
    let a = MockMember::named("a");
    let a_addr = a.addr();
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a_addr, "a", 100), member(b.addr(), "b", 100)],
    );
    for m in &mut cfg.balancers[0].members {
        m.options.retry = millis(200);
    }
    // Only a ramps (b would ramp from process start too, and keep pace with a).
    cfg.balancers[0].members[0].options.slowstart = secs(20);
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    drop(a);
    assert!(poll_until(secs(5), || (0..4).all(|_| served_by(addr) == "b")));
    let _a = MockMember::respond_at(a_addr, |_| Reply::ok("a"));
    assert!(
        poll_until(secs(5), || served_by(addr) == "a"),
        "a is retried after `retry`"
    );
    // Early in its 20 s ramp, a gets far less than its equal share.
    let early: Vec<String> = (0..40).map(|_| served_by(addr)).collect();
    let share = early.iter().filter(|s| *s == "a").count();
    println!("slow start: a served {share} of 40 requests just after recovering");
    assert!(
        share < 12,
        "a got {share} of 40 right after recovering (equal share is 20)"
    );
}
