//! How new sessions spread over members with 2 workers, each core deciding on its own state
//! plus the merged cross-core view: byrequests and bytraffic (equal bodies) land within one
//! percentage point of 25/75 for loadfactors 1:3; bybusyness sends clearly less to a member
//! that answers slowly. Prints the measured split (`cargo test --test distribution -- --nocapture`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::thread;
use std::time::Duration;

use common::{config, member, start_proxy, Client, MockMember, Reply};
use ringlb::config::{IoDriver, LbMethod};

both_drivers!(
    byrequests_two_workers_one_to_three,
    bytraffic_two_workers_one_to_three,
    bybusyness_avoids_a_slow_member
);

const SESSIONS: usize = 10_000;
const CLIENTS: usize = 8;

/// Sends `total` new-session requests from `CLIENTS` keep-alive connections in parallel.
fn load(addr: SocketAddr, total: usize, body: &'static [u8]) {
    let per_client = total / CLIENTS;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || {
                let mut client = Client::connect(addr);
                let request = common::post("/", body);
                for _ in 0..per_client {
                    assert_eq!(client.request(&request).status, 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

/// Share of requests member `a` received, in percent.
fn share(a: &MockMember, b: &MockMember) -> f64 {
    let (na, nb) = (a.requests().len(), b.requests().len());
    assert_eq!(na + nb, SESSIONS / CLIENTS * CLIENTS);
    100.0 * na as f64 / (na + nb) as f64
}

fn one_to_three(driver: IoDriver, method: LbMethod) {
    let light = MockMember::named("light");
    let heavy = MockMember::named("heavy");
    let mut cfg = config(
        driver,
        vec![
            member(light.addr(), "light", 100),
            member(heavy.addr(), "heavy", 300),
        ],
    );
    cfg.workers = Some(2);
    cfg.balancers[0].lbmethod = method;
    let proxy = start_proxy(cfg);
    load(common::addr(&proxy), SESSIONS, b"0123456789abcdef");
    let pct = share(&light, &heavy);
    println!(
        "{method:?} with 2 workers, loadfactors 1:3: {pct:.2}% / {:.2}%",
        100.0 - pct
    );
    assert!(
        (pct - 25.0).abs() <= 1.0,
        "{method:?}: {pct:.2}% to the loadfactor-1 member"
    );
}

fn byrequests_two_workers_one_to_three(driver: IoDriver) {
    one_to_three(driver, LbMethod::ByRequests);
}

fn bytraffic_two_workers_one_to_three(driver: IoDriver) {
    one_to_three(driver, LbMethod::ByTraffic);
}

fn bybusyness_avoids_a_slow_member(driver: IoDriver) {
    let slow = MockMember::respond(|_| {
        Reply::Delay(Duration::from_millis(20), Box::new(Reply::ok("slow")))
    });
    let fast = MockMember::named("fast");
    let mut cfg = config(
        driver,
        vec![
            member(slow.addr(), "slow", 100),
            member(fast.addr(), "fast", 100),
        ],
    );
    cfg.workers = Some(2);
    cfg.balancers[0].lbmethod = LbMethod::ByBusyness;
    let proxy = start_proxy(cfg);
    let addr = common::addr(&proxy);
    let total = 800;
    let per_client = total / CLIENTS;
    let threads: Vec<_> = (0..CLIENTS)
        .map(|_| {
            thread::spawn(move || {
                let mut client = Client::connect(addr);
                for _ in 0..per_client {
                    assert_eq!(client.request(&common::get("/")).status, 200);
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let (ns, nf) = (slow.requests().len(), fast.requests().len());
    let pct = 100.0 * ns as f64 / (ns + nf) as f64;
    println!(
        "bybusyness with 2 workers, one member 20 ms slower: slow {pct:.1}%, fast {:.1}%",
        100.0 - pct
    );
    assert!(pct < 25.0, "the slow member got {pct:.1}% of {total}");
}
