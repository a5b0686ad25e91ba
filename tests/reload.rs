//! Live reconfiguration and stopping, with real sockets: 10 reloads during a bounded load run
//! cost no request, keep the counters and the operator's changes; a graceful stop lets a
//! request in flight finish and refuses new connections; the access log gets one line per
//! request with the balancer values.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::thread;
use std::time::Duration;

use common::load::Load;
use common::{config, member, millis, poll_until, secs, start_proxy, Client, MockMember, Reply};
use ringlb::balancer::Status;
use ringlb::config::{AccessTarget, IoDriver};
use ringlb::control::{Actor, MemberChange};

both_drivers!(
    ten_reloads_under_load_lose_nothing,
    graceful_stop_finishes_requests_in_flight,
    access_log_has_a_line_per_request,
);

fn ten_reloads_under_load_lose_nothing(driver: IoDriver) {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    let proxy = start_proxy(cfg.clone());
    let addr = common::addr(&proxy);
    // An operator change that every reload must keep: b drains.
    let b_url = format!("http://{}", b.addr());
    let drain = MemberChange {
        set: Status::DRAIN,
        ..MemberChange::default()
    };
    proxy
        .controller()
        .change_member(&Actor::Program, "test", &b_url, drain)
        .unwrap();

    let load = Load::start(addr);
    let mut last_total = 0;
    for i in 0..10 {
        thread::sleep(millis(100));
        let mut next = cfg.clone();
        next.balancers[0].members[0].lbfactor = 100 + i * 10;
        let number = proxy.reload(next).unwrap();
        assert_eq!(
            number,
            i as u64 + 2,
            "generation numbers count every reload (the in-place drain kept number 1)"
        );
        let gen = proxy.current();
        let total = gen.stats.totals(0, 0).requests + gen.stats.totals(0, 1).requests;
        assert!(
            total >= last_total,
            "counters carried over: {total} < {last_total}"
        );
        last_total = total;
        assert!(gen.config.balancers[0].members[1]
            .options
            .status
            .contains(Status::DRAIN));
    }
    load.wait_for(100);
    let (ok, failed) = load.finish();
    println!("10 reloads under load: {ok} requests answered, {failed} failed");
    assert!(ok > 100, "the load ran: {ok}");
    assert_eq!(failed, 0);
    // The drain survived: b got no new sessions after it.
    let b_before = b.requests().len();
    for _ in 0..10 {
        assert_eq!(
            Client::connect(addr).request(&common::get("/")).body_text(),
            "a"
        );
    }
    assert_eq!(b.requests().len(), b_before);
}

fn graceful_stop_finishes_requests_in_flight(driver: IoDriver) {
    let slow = MockMember::respond(|_| Reply::Delay(millis(400), Box::new(Reply::ok("done"))));
    let proxy = start_proxy(config(driver, vec![member(slow.addr(), "s", 100)]));
    let addr = common::addr(&proxy);
    let in_flight = thread::spawn(move || Client::connect(addr).request(&common::get("/")));
    assert!(
        poll_until(secs(5), || !slow.requests().is_empty()),
        "the request reached the member"
    );
    let stopper = thread::spawn(move || proxy.shutdown(secs(5)));
    let resp = in_flight.join().unwrap();
    assert_eq!((resp.status, resp.body_text().as_str()), (200, "done"));
    stopper.join().unwrap();
    assert!(std::net::TcpStream::connect_timeout(&addr, Duration::from_secs(1)).is_err());
}

fn access_log_has_a_line_per_request(driver: IoDriver) {
    let a = MockMember::named("a");
    let path = std::env::temp_dir().join(format!(
        "ringlb-access-{}-{driver:?}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    let mut cfg = config(driver, vec![member(a.addr(), "a", 100)]);
    cfg.ops.log.access = Some(AccessTarget::File(path.clone()));
    cfg.ops.log.access_format = "balancer".into();
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    for i in 0..5 {
        let req = format!("GET /p{i} HTTP/1.1\r\nHost: t\r\nCookie: JSESSIONID=x.a\r\n\r\n");
        assert_eq!(Client::connect(addr).request(req.as_bytes()).status, 200);
    }
    let lines = || std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        poll_until(secs(5), || lines().lines().count() == 5),
        "{}",
        lines()
    );
    let text = lines();
    let first = text.lines().next().unwrap();
    assert!(first.starts_with("127.0.0.1 - - ["), "{first}");
    assert!(first.contains("\"GET /p0 HTTP/1.1\" 200 1"), "{first}");
    // combined fields, then BALANCER_WORKER_ROUTE, BALANCER_SESSION_ROUTE, ROUTE_CHANGED.
    assert!(first.contains(" a a - "), "{first}");
    drop(proxy);
    let _ = std::fs::remove_file(&path);
}
