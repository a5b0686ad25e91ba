//! HTTP/2 to clients as raw frames over TLS (ALPN `h2`): each flood case (PING, SETTINGS, empty
//! DATA, rapid reset, CONTINUATION) answered by `GOAWAY ENHANCE_YOUR_CALM` within a deadline,
//! with the members untouched or nearly so and the proxy still serving; streams beyond the
//! limit refused; an oversized HPACK table, a window overrun and an oversized header list
//! refused; trailers both ways; `103 Early Hints` passed on. Companion of tests/http2.rs
//! (real curl and h2load).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ringlb::config::IoDriver;

use common::h2_frames::*;
use common::tls::Pki;
use common::{poll_until, MockMember, Reply};

both_drivers!(
    floods_are_cut_off,
    streams_beyond_the_limit_are_refused,
    protocol_limits_are_enforced,
    trailers_cross_both_ways,
    early_hints_go_out_as_informational_heads,
);

/// The proxy still answers a plain request on a new connection.
fn still_serving(addr: SocketAddr, pki: &Pki) {
    let mut c = RawH2::connect(addr, pki);
    c.send(&frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &request_block("GET", "/after"),
    ));
    let seen = c.read_until(Duration::from_secs(10), |s| s.answered.contains(&1));
    assert!(
        seen.answered.contains(&1),
        "a new connection is served: {seen:?}"
    );
}

fn floods_are_cut_off(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-floods-{driver:?}"));
    let member = MockMember::respond(|_| Reply::ok("ok"));
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let ping = frame(PING, 0, 0, &[7; 8]);
    let settings = frame(SETTINGS, 0, 0, &[]);
    let post = frame(HEADERS, END_HEADERS, 1, &request_block("POST", "/p"));
    let empty = frame(DATA, 0, 1, &[]);
    let mut rapid = Vec::new();
    for id in (1..700u32).step_by(2) {
        rapid.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &request_block("GET", "/r"),
        ));
        rapid.extend(frame(RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let mut continuation = frame(HEADERS, 0, 1, &request_block("GET", "/c"));
    continuation.extend(frame(CONTINUATION, 0, 1, &block(&[("x", "y")])).repeat(100));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Twice the budgets, small enough to sit in the socket buffers whole: what the proxy
        // left unread cannot block the test's writes.
        ("PING flood", ping.repeat(1200)),
        ("SETTINGS flood", settings.repeat(1200)),
        ("empty DATA flood", [post, empty.repeat(1200)].concat()),
        ("rapid reset", rapid),
        ("CONTINUATION flood", continuation),
    ];
    for (name, bytes) in cases {
        let before = member.requests().len();
        let started = Instant::now();
        let mut c = RawH2::connect(addr, &pki);
        c.send(&bytes);
        let seen = c.read_until(Duration::from_secs(10), |s| s.closed);
        assert!(seen.closed, "{name}: the connection is closed: {seen:?}");
        assert!(seen.goaway.is_some(), "{name}: GOAWAY sent: {seen:?}");
        if name != "CONTINUATION flood" {
            assert_eq!(seen.goaway, Some(ENHANCE_YOUR_CALM), "{name}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: bounded"
        );
        let reached = member.requests().len() - before;
        assert!(
            reached <= 150,
            "{name}: {reached} requests reached the member"
        );
        still_serving(addr, &pki);
    }
}

fn streams_beyond_the_limit_are_refused(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-streams-{driver:?}"));
    let member = MockMember::hang();
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let mut c = RawH2::connect(addr, &pki);
    let mut bytes = Vec::new();
    for id in (1..=301u32).step_by(2) {
        bytes.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &request_block("GET", "/h"),
        ));
    }
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| s.resets.len() >= 51);
    let refused: Vec<u32> = (seen.resets.iter())
        .filter(|(_, code)| *code == REFUSED_STREAM)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(refused.len(), 51, "streams 101..151 refused: {seen:?}");
    assert!(
        refused.iter().all(|id| *id > 200),
        "the first 100 streams were kept"
    );
    assert!(
        poll_until(Duration::from_secs(10), || member.requests().len() == 100),
        "100 streams reached the member"
    );
}

fn protocol_limits_are_enforced(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-limits-{driver:?}"));
    let member = MockMember::hang();
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    // An HPACK table size update beyond the advertised 4096 bytes.
    let mut c = RawH2::connect(addr, &pki);
    let mut update = Vec::new();
    hpack_int(&mut update, 0x20, 5, 1 << 20);
    update.extend(request_block("GET", "/t"));
    c.send(&frame(HEADERS, END_HEADERS | END_STREAM, 1, &update));
    let seen = c.read_until(Duration::from_secs(10), |s| s.closed);
    let refused = matches!(seen.goaway, Some(PROTOCOL_ERROR | COMPRESSION_ERROR));
    assert!(
        refused,
        "an oversized HPACK table is a connection error: {seen:?}"
    );
    // DATA beyond the stream's window to a member that does not read it.
    let mut c = RawH2::connect(addr, &pki);
    let fields = [
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/w"),
        ("content-length", "2000000"),
    ];
    let mut bytes = frame(HEADERS, END_HEADERS, 1, &block(&fields));
    let chunk = frame(DATA, 0, 1, &[1u8; 16 * 1024]);
    bytes.extend(chunk.repeat(40)); // 640 KiB against a 256 KiB window
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| {
        s.closed || s.resets.iter().any(|(_, code)| *code == FLOW_CONTROL_ERROR)
    });
    let overrun = seen.goaway == Some(FLOW_CONTROL_ERROR)
        || seen
            .resets
            .iter()
            .any(|(_, code)| *code == FLOW_CONTROL_ERROR);
    assert!(overrun, "window overrun refused: {seen:?}");
    // A header list over the limit (16 KiB in the test config) never reaches the member.
    let mut c = RawH2::connect(addr, &pki);
    let big = "v".repeat(40 * 1024);
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/big"),
        ("x-big", big.as_str()),
    ];
    let b = block(&fields);
    let (first, rest) = b.split_at(16 * 1024);
    let mut bytes = frame(HEADERS, 0, 1, first);
    let pieces: Vec<&[u8]> = rest.chunks(16 * 1024).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let flags = if i + 1 == pieces.len() {
            END_HEADERS
        } else {
            0
        };
        bytes.extend(frame(CONTINUATION, flags, 1, piece));
    }
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| {
        s.closed || !s.resets.is_empty() || !s.answered.is_empty()
    });
    assert!(
        seen.closed || !seen.resets.is_empty() || seen.answered.contains(&1),
        "an oversized header list is refused: {seen:?}"
    );
    assert!(
        member.requests().iter().all(|r| !r.has_header("x-big")),
        "the oversized request never reached the member"
    );
}

/// Request trailers reach the member as chunked trailers; a member's chunked trailers reach
/// the client as a trailing HEADERS frame that ends the stream.
fn trailers_cross_both_ways(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-trailers-{driver:?}"));
    let received = Arc::new(Mutex::new(Vec::new()));
    let got = received.clone();
    let member = MockMember::raw(move |conn| {
        while conn.read_head()?.is_some() {
            let mut body = Vec::new();
            while common::find(&body, b"\r\n\r\n").is_none() {
                let more = conn.read_some()?;
                if more.is_empty() {
                    return Ok(());
                }
                body.extend(more);
            }
            *common::lock(&got) = body;
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n\
                  5\r\nhello\r\n0\r\nx-sum: 42\r\n\r\n",
            )?;
        }
        Ok(())
    });
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let mut c = RawH2::connect(addr, &pki);
    let mut bytes = frame(HEADERS, END_HEADERS, 1, &request_block("POST", "/t"));
    bytes.extend(frame(DATA, 0, 1, b"abc"));
    bytes.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &block(&[("x-req-sum", "7")]),
    ));
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| s.answered.len() >= 2);
    assert_eq!(
        seen.answered,
        vec![1, 1],
        "a response head and its trailers: {seen:?}"
    );
    assert!(seen.resets.is_empty(), "{seen:?}");
    let body = String::from_utf8_lossy(&common::lock(&received)).to_string();
    assert_eq!(body, "3\r\nabc\r\n0\r\nx-req-sum: 7\r\n\r\n");
}

/// A member's `103 Early Hints` reaches an HTTP/2 client as an informational HEADERS frame
/// before the response's own.
fn early_hints_go_out_as_informational_heads(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-hints-{driver:?}"));
    let member = MockMember::raw(|conn| {
        while conn.read_head()?.is_some() {
            conn.write_all(
                b"HTTP/1.1 103 Early Hints\r\nLink: </app.css>; rel=preload\r\n\r\n\
                  HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            )?;
        }
        Ok(())
    });
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let mut c = RawH2::connect(addr, &pki);
    c.send(&frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &request_block("GET", "/"),
    ));
    let seen = c.read_until(Duration::from_secs(10), |s| s.answered.len() >= 2);
    assert_eq!(
        seen.answered,
        vec![1, 1],
        "103 then 200 on stream 1: {seen:?}"
    );
    assert!(seen.resets.is_empty() && seen.goaway.is_none(), "{seen:?}");
}
