//! The member connection pool never hands one client bytes meant for another: a member that
//! writes anything after a complete response (a body after a `HEAD` response, bytes after a
//! `204` or `304`, a second response) leaves a connection that must not be reused.
//!
//! Each case replays the same bytes: client 1's request gets a complete response, then the
//! member writes the extra bytes on that connection (only once client 1 has its answer, so
//! they arrive after ringlb read the response); client 2, on a fresh client connection, must
//! get the member's real answer to its own request over a new member connection.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};

use common::{find, lock, poll_until, proxy_for, response_bytes, secs, Client, MockMember};
use ringlb::config::IoDriver;

both_drivers!(
    body_after_head_response_is_not_served_to_the_next_client,
    bytes_after_204_are_not_served_to_the_next_client,
    bytes_after_304_are_not_served_to_the_next_client,
    second_response_is_not_served_to_the_next_client,
    second_response_in_the_same_write_is_not_served,
    bytes_after_a_large_body_are_not_served_to_the_next_client,
    bytes_after_a_large_body_in_the_same_write_are_not_served,
);

/// What the member forges after the response to `/first`.
const FORGED: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\nPWNED!";

/// One desync case: client 1's request, the member's complete answer to it, and the bytes it
/// writes after that answer.
struct Case {
    request: &'static [u8],
    head_request: bool,
    answer: Vec<u8>,
    extra: &'static [u8],
    /// The extra bytes go out in the same write as the answer (else only after client 1 read
    /// its answer).
    same_write: bool,
}

/// Hands the member's "write the extra bytes now" signal across threads and reports back
/// when they are written and acknowledged.
struct Gate {
    go: Mutex<Receiver<()>>,
    written: Sender<()>,
}

fn run(driver: IoDriver, case: Case) {
    let (go_tx, go_rx) = mpsc::channel();
    let (written_tx, written_rx) = mpsc::channel();
    let gate = Arc::new(Gate {
        go: Mutex::new(go_rx),
        written: written_tx,
    });
    let (answer, extra, same_write) = (case.answer.clone(), case.extra, case.same_write);
    let member = MockMember::raw(move |conn| {
        while let Some(mut req) = conn.read_head()? {
            conn.read_body(&mut req)?;
            if req.path != "/first" {
                let body = format!("real answer to {}", req.path);
                conn.write_all(&response_bytes(200, "OK", &[], body.as_bytes()))?;
                continue;
            }
            if same_write {
                conn.write_all(&[&answer[..], extra].concat())?;
            } else {
                conn.write_all(&answer)?;
                let go = lock(&gate.go).recv_timeout(secs(10));
                if go.is_err() {
                    return Ok(());
                }
                conn.write_all(extra)?;
            }
            // Acknowledged by ringlb's kernel: the bytes sit unread on the pooled connection.
            let sent = poll_until(secs(5), || conn.unsent_bytes() == Some(0));
            assert!(sent, "the extra bytes were not acknowledged");
            let _ = gate.written.send(());
        }
        Ok(())
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut first = Client::connect(a);
    first.send(case.request);
    let resp = if case.head_request {
        first.read_head_response()
    } else {
        first.read_response()
    };
    assert!(
        resp.status < 300 || resp.status == 304,
        "client 1: {resp:?}"
    );
    go_tx.send(()).unwrap();
    written_rx
        .recv_timeout(secs(10))
        .expect("the member wrote its extra bytes");

    let mut second = Client::connect(a);
    let resp = second.request(&common::get("/second"));
    assert!(
        find(&resp.body, b"PWNED").is_none(),
        "client 2 got the forged bytes: {resp:?}"
    );
    assert_eq!(resp.status, 200, "client 2: {resp:?}");
    assert_eq!(resp.body, b"real answer to /second");
    assert_eq!(
        member.connections(),
        2,
        "the dirty connection was dropped and a new one opened"
    );
}

fn body_after_head_response_is_not_served_to_the_next_client(driver: IoDriver) {
    run(
        driver,
        Case {
            request: b"HEAD /first HTTP/1.1\r\nHost: example.test\r\n\r\n",
            head_request: true,
            answer: b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\n\r\n".to_vec(),
            extra: b"PWNED!",
            same_write: false,
        },
    );
}

fn bytes_after_204_are_not_served_to_the_next_client(driver: IoDriver) {
    run(
        driver,
        Case {
            request: b"GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n",
            head_request: false,
            answer: b"HTTP/1.1 204 No Content\r\n\r\n".to_vec(),
            extra: FORGED,
            same_write: false,
        },
    );
}

fn bytes_after_304_are_not_served_to_the_next_client(driver: IoDriver) {
    run(
        driver,
        Case {
            request: b"GET /first HTTP/1.1\r\nHost: example.test\r\nIf-None-Match: \"v1\"\r\n\r\n",
            head_request: false,
            answer: b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\n\r\n".to_vec(),
            extra: FORGED,
            same_write: false,
        },
    );
}

fn second_response_is_not_served_to_the_next_client(driver: IoDriver) {
    run(
        driver,
        Case {
            request: b"GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n",
            head_request: false,
            answer: response_bytes(200, "OK", &[], b"first"),
            extra: FORGED,
            same_write: false,
        },
    );
}

fn second_response_in_the_same_write_is_not_served(driver: IoDriver) {
    run(
        driver,
        Case {
            request: b"GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n",
            head_request: false,
            answer: response_bytes(200, "OK", &[], b"first"),
            extra: FORGED,
            same_write: true,
        },
    );
}

/// A 1 MB answer to `/first`, read in many steps: the relay must stop reading exactly at its
/// end, whether the extra bytes come in the same write or later.
fn large_body_case(same_write: bool) -> Case {
    let body: Vec<u8> = (0..1_048_576u32).map(|i| b'a' + (i % 26) as u8).collect();
    Case {
        request: b"GET /first HTTP/1.1\r\nHost: example.test\r\n\r\n",
        head_request: false,
        answer: response_bytes(200, "OK", &[], &body),
        extra: FORGED,
        same_write,
    }
}

fn bytes_after_a_large_body_are_not_served_to_the_next_client(driver: IoDriver) {
    run(driver, large_body_case(false));
}

fn bytes_after_a_large_body_in_the_same_write_are_not_served(driver: IoDriver) {
    run(driver, large_body_case(true));
}
