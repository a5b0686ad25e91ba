//! Many clients at once: 200 connections open together, each doing 5 keep-alive requests, on
//! two workers. Everything must succeed, in bounded time, reusing member connections.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::thread;

use common::{post, secs, single, start_proxy, within, Client, MockMember};
use ringlb::config::IoDriver;

both_drivers!(two_hundred_clients_five_requests_each);

const CLIENTS: usize = 200;
const REQUESTS: usize = 5;

fn two_hundred_clients_five_requests_each(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.workers = Some(2);
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);

    within(secs(60), move || {
        // All connections are open before any request is sent.
        let clients: Vec<Client> = (0..CLIENTS).map(|_| Client::connect(a)).collect();
        let threads: Vec<_> = clients
            .into_iter()
            .enumerate()
            .map(|(c, mut client)| {
                thread::spawn(move || {
                    for r in 0..REQUESTS {
                        let body = format!("client {c} request {r}");
                        let resp = client.request(&post(&format!("/c{c}/r{r}"), body.as_bytes()));
                        assert_eq!(resp.status, 200, "client {c} request {r}");
                        assert_eq!(resp.body_text(), body, "client {c} request {r}");
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
        }
    });

    let seen = member.requests();
    assert_eq!(seen.len(), CLIENTS * REQUESTS);
    for r in &seen {
        let expected = {
            let mut parts = r.path.trim_start_matches("/c").split("/r");
            let c = parts.next().unwrap();
            let n = parts.next().unwrap();
            format!("client {c} request {n}")
        };
        assert_eq!(
            String::from_utf8_lossy(&r.body),
            expected,
            "body arrived with its request"
        );
    }
    // One member connection per in-flight request would give <= CLIENTS; an idle-pool cap may
    // close some, so only require that member connections were reused at all.
    assert!(
        member.connections() < CLIENTS * REQUESTS,
        "{} member connections for {} requests: none reused",
        member.connections(),
        CLIENTS * REQUESTS
    );
    drop(proxy);
}
