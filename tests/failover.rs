//! Fault injection with real sockets, bounded in time: a member killed mid-run costs no GET
//! (they move to the other member) and duplicates no POST (lost ones get 502); a member that
//! comes back gets traffic again after `retry`; 500s with `failonstatus`, hangs with
//! `failontimeout`, and refused connections put a member in error.
//!
//! `RINGLB_FAULT_SECS` sets the length of the kill runs (default 20 s, as the issue asks).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]
#![allow(clippy::disallowed_types)] // test-side bookkeeping behind a Mutex

#[macro_use]
mod common;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use common::{config, dead_addr, member, millis, poll_until, secs, start_proxy, Client};
use common::{MockMember, Reply};
use ringlb::config::{Config, IoDriver};

both_drivers!(
    gets_survive_a_member_killed_mid_run,
    posts_are_never_duplicated_when_a_member_dies,
    a_member_that_comes_back_gets_traffic_after_retry,
    failonstatus_puts_the_member_in_error,
    failontimeout_moves_a_hung_get_and_the_member_out,
    refused_connections_fail_over_silently,
);

const CONNECTIONS: usize = 64;

fn run_secs() -> Duration {
    let s = std::env::var("RINGLB_FAULT_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    Duration::from_secs(s)
}

fn two(driver: IoDriver, a: &MockMember, b: &MockMember, tune: impl FnOnce(&mut Config)) -> Config {
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    tune(&mut cfg);
    cfg
}

/// Outcome counts of a load run.
#[derive(Debug, Default)]
struct Tally {
    sent: usize,
    by_status: HashMap<u16, usize>,
}

/// `CONNECTIONS` keep-alive clients send `make(client, n)` requests until `stop`; a closed
/// connection is reopened. Returns the tally of responses.
fn load(addr: SocketAddr, stop: &Arc<AtomicBool>, make: fn(usize, usize) -> Vec<u8>) -> Tally {
    let threads: Vec<_> = (0..CONNECTIONS)
        .map(|c| {
            let stop = stop.clone();
            thread::spawn(move || {
                let mut tally = Tally::default();
                let mut client = Client::connect(addr);
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let resp = client.request(&make(c, n));
                    tally.sent += 1;
                    *tally.by_status.entry(resp.status).or_default() += 1;
                    if resp.header("connection") == Some("close") || resp.status >= 500 {
                        client = Client::connect(addr);
                    }
                    n += 1;
                }
                tally
            })
        })
        .collect();
    let mut total = Tally::default();
    for t in threads {
        let part = t.join().unwrap();
        total.sent += part.sent;
        for (k, v) in part.by_status {
            *total.by_status.entry(k).or_default() += v;
        }
    }
    total
}

/// Runs `load` for `run_secs()`, dropping (killing) `victim` a quarter of the way in.
fn kill_mid_run(addr: SocketAddr, victim: MockMember, make: fn(usize, usize) -> Vec<u8>) -> Tally {
    let stop = Arc::new(AtomicBool::new(false));
    let runner = {
        let stop = stop.clone();
        thread::spawn(move || load(addr, &stop, make))
    };
    let total = run_secs();
    thread::sleep(total / 4);
    drop(victim);
    thread::sleep(total - total / 4);
    stop.store(true, Ordering::Relaxed);
    runner.join().unwrap()
}

fn get_request(_: usize, _: usize) -> Vec<u8> {
    common::get("/")
}

fn gets_survive_a_member_killed_mid_run(driver: IoDriver) {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let proxy = start_proxy(two(driver, &a, &b, |_| {}));
    let tally = kill_mid_run(common::addr(&proxy), a, get_request);
    println!(
        "GETs, member a killed mid-run: {tally:?}, b served {}",
        b.requests().len()
    );
    assert!(
        tally.sent > 1000,
        "the run sent too little to mean anything: {tally:?}"
    );
    assert_eq!(
        tally.by_status.get(&200),
        Some(&tally.sent),
        "every GET succeeded: {tally:?}"
    );
}

fn post_request(client: usize, n: usize) -> Vec<u8> {
    common::post("/", format!("{client}-{n}").as_bytes())
}

fn posts_are_never_duplicated_when_a_member_dies(driver: IoDriver) {
    let received = Arc::new(std::sync::Mutex::new(Vec::<Vec<u8>>::new()));
    let member_for = |name: &'static str| {
        let received = received.clone();
        MockMember::respond(move |req| {
            common::lock(&received).push(req.body.clone());
            Reply::ok(name)
        })
    };
    let (a, b) = (member_for("a"), member_for("b"));
    let proxy = start_proxy(two(driver, &a, &b, |_| {}));
    let tally = kill_mid_run(common::addr(&proxy), a, post_request);
    drop(b);
    let bodies = common::lock(&received).clone();
    let mut seen: HashMap<Vec<u8>, usize> = HashMap::new();
    for body in &bodies {
        *seen.entry(body.clone()).or_default() += 1;
    }
    let duplicated = seen.values().filter(|&&n| n > 1).count();
    let ok = tally.by_status.get(&200).copied().unwrap_or(0);
    let bad_gateway = tally.by_status.get(&502).copied().unwrap_or(0);
    println!(
        "POSTs, member a killed mid-run: sent {}, 200 {ok}, 502 {bad_gateway}, received {}, \
         duplicated {duplicated}",
        tally.sent,
        bodies.len()
    );
    assert_eq!(duplicated, 0, "a POST reached the members twice");
    assert_eq!(ok + bad_gateway, tally.sent, "only 200 or 502: {tally:?}");
    assert!(bodies.len() >= ok, "every answered POST was received once");
}

fn a_member_that_comes_back_gets_traffic_after_retry(driver: IoDriver) {
    let a = MockMember::named("a");
    let a_addr = a.addr();
    let b = MockMember::named("b");
    let proxy = start_proxy(two(driver, &a, &b, |cfg| {
        for m in &mut cfg.balancers[0].members {
            m.options.retry = secs(1);
        }
    }));
    let addr = common::addr(&proxy);
    drop(a);
    // While a is down every request is answered by b.
    for _ in 0..20 {
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_eq!((resp.status, resp.body_text().as_str()), (200, "b"));
    }
    let a = MockMember::respond_at(a_addr, |_| Reply::ok("a"));
    let back = poll_until(secs(10), || {
        Client::connect(addr).request(&common::get("/")).body_text() == "a"
    });
    assert!(back, "member a got no traffic after coming back");
    assert!(!a.requests().is_empty());
}

fn failonstatus_puts_the_member_in_error(driver: IoDriver) {
    let a = MockMember::respond(|_| {
        Reply::Send(common::response_bytes(
            500,
            "Internal Server Error",
            &[],
            b"boom",
        ))
    });
    let b = MockMember::named("b");
    let proxy = start_proxy(two(driver, &a, &b, |cfg| {
        cfg.balancers[0].options.failover.failonstatus = vec![500];
    }));
    let addr = common::addr(&proxy);
    let mut statuses = Vec::new();
    for _ in 0..10 {
        statuses.push(Client::connect(addr).request(&common::get("/")).status);
    }
    // The 500 itself still reaches the client (Apache semantics), then a is avoided.
    assert_eq!(
        statuses.iter().filter(|&&s| s == 500).count(),
        1,
        "{statuses:?}"
    );
    assert_eq!(a.requests().len(), 1);
}

fn failontimeout_moves_a_hung_get_and_the_member_out(driver: IoDriver) {
    let a = MockMember::hang();
    let b = MockMember::named("b");
    let proxy = start_proxy(two(driver, &a, &b, |cfg| {
        cfg.timeouts.upstream_response = millis(300);
        cfg.balancers[0].options.failover.failontimeout = true;
        cfg.workers = Some(1);
    }));
    let addr = common::addr(&proxy);
    let started = Instant::now();
    for _ in 0..6 {
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_eq!((resp.status, resp.body_text().as_str()), (200, "b"));
    }
    assert_eq!(
        a.requests().len(),
        1,
        "a is in error after its first timeout"
    );
    assert!(started.elapsed() < secs(5));
}

fn refused_connections_fail_over_silently(driver: IoDriver) {
    let b = MockMember::named("b");
    let hits = AtomicUsize::new(0);
    let mut cfg = config(
        driver,
        vec![member(dead_addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    for _ in 0..20 {
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_eq!(resp.status, 200);
        hits.fetch_add(1, Ordering::Relaxed);
    }
    assert_eq!(b.requests().len(), hits.load(Ordering::Relaxed));
}
