//! ringlb-made error responses: 400 for malformed and smuggling-prone requests (never forwarded),
//! 408, 413, 431 from the client side; 502, 503, 504 from the member side. Every error is
//! `HTTP/1.1 <code> <reason>` with a short text body naming the cause.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{
    assert_error, config, dead_addr, get, member, post, proxy_for, secs, single, start_proxy,
    Client, MockMember, Reply,
};
use ringlb::config::IoDriver;

both_drivers!(
    smuggling_requests_rejected_before_forwarding,
    invalid_chunk_size_rejected,
    stalled_head_gets_408,
    body_over_limit_gets_413,
    head_over_limit_gets_431,
    too_many_headers_gets_431,
    garbage_from_member_gets_502,
    member_closing_without_answer_gets_502,
    refused_member_gets_503,
    silent_member_gets_504,
);

/// Requests a proxy must refuse (RFC 9112 sections 5, 6.1 and 6.3; the request-smuggling
/// vectors): each gets 400, the connection is closed, and nothing reaches the member.
const SMUGGLING: &[(&str, &[u8])] = &[
    (
        "Content-Length with Transfer-Encoding",
        b"POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\n\
          Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    ),
    (
        "two different Content-Length headers",
        b"POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n\
          hello!",
    ),
    (
        "a Content-Length list with different values",
        b"POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 5, 6\r\n\r\nhello!",
    ),
    (
        "Transfer-Encoding on HTTP/1.0",
        b"POST / HTTP/1.0\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n\
          5\r\nhello\r\n0\r\n\r\n",
    ),
    (
        "obs-fold header continuation",
        b"GET / HTTP/1.1\r\nHost: example.test\r\nX-Folded: first\r\n second\r\n\r\n",
    ),
    (
        "whitespace between header name and colon",
        b"GET / HTTP/1.1\r\nHost: example.test\r\nX-Spaced : value\r\n\r\n",
    ),
    (
        "bare CR in a header value",
        b"GET / HTTP/1.1\r\nHost: example.test\r\nX-Cr: a\rb\r\n\r\n",
    ),
];

fn smuggling_requests_rejected_before_forwarding(driver: IoDriver) {
    let member = MockMember::echo();
    let (_proxy, a) = proxy_for(driver, &member);

    for (case, bytes) in SMUGGLING {
        let mut client = Client::connect(a);
        client.send(bytes);
        let resp = client.read_response();
        assert_eq!(resp.status, 400, "{case}: body {:?}", resp.body_text());
        assert_error(&resp, 400);
        client.expect_closed();
        member.assert_untouched(case);
    }

    // The proxy still serves well-formed requests afterwards.
    let resp = Client::connect(a).request(&post("/", b"fine"));
    assert_eq!(resp.body, b"fine");
}

fn invalid_chunk_size_rejected(driver: IoDriver) {
    let member = MockMember::echo();
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    // The head is valid and may already have been forwarded; the chunk size is not.
    client.send(
        b"POST / HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n\
          zz\r\nhello\r\n0\r\n\r\n",
    );
    let resp = client.read_response();
    assert_error(&resp, 400);
    client.expect_closed();
}

fn stalled_head_gets_408(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.timeouts.client_header = secs(1);
    let proxy = start_proxy(cfg);

    let mut client = Client::connect(common::addr(&proxy));
    client.send(b"GET /slow HTTP/1.1\r\nHost: example.test\r\nX-Partial: ");
    // Nothing more is sent; the read below waits up to the socket timeout for the 408.
    let resp = client.read_response();
    assert_error(&resp, 408);
    client.expect_closed();
    member.assert_untouched("partial head");
}

fn body_over_limit_gets_413(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.limits.max_body_bytes = 1024;
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);

    let mut client = Client::connect(a);
    // Only the head: the Content-Length alone must decide, before any body is read.
    client.send(b"POST /big HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1025\r\n\r\n");
    let resp = client.read_response();
    assert_error(&resp, 413);
    member.assert_untouched("Content-Length over max_body_bytes");

    // Exactly at the limit is fine.
    let body = vec![b'a'; 1024];
    let resp = Client::connect(a).request(&post("/edge", &body));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, body);
}

fn head_over_limit_gets_431(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.limits.max_head_bytes = 4096;
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);

    let big = "b".repeat(8192);
    let req = format!("GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: {big}\r\n\r\n");
    let mut client = Client::connect(a);
    client.send(req.as_bytes());
    let resp = client.read_response();
    assert_error(&resp, 431);
    member.assert_untouched("head over max_head_bytes");

    // A head under the limit passes.
    let small = "s".repeat(2048);
    let req = format!("GET / HTTP/1.1\r\nHost: example.test\r\nX-Small: {small}\r\n\r\n");
    assert_eq!(Client::connect(a).request(req.as_bytes()).status, 200);
}

fn too_many_headers_gets_431(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.limits.max_headers = 16;
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);

    let mut req = String::from("GET / HTTP/1.1\r\nHost: example.test\r\n");
    for i in 0..40 {
        req.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    req.push_str("\r\n");
    let mut client = Client::connect(a);
    client.send(req.as_bytes());
    let resp = client.read_response();
    assert_error(&resp, 431);
    member.assert_untouched("more headers than max_headers");

    let mut req = String::from("GET / HTTP/1.1\r\nHost: example.test\r\n");
    for i in 0..8 {
        req.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    req.push_str("\r\n");
    assert_eq!(Client::connect(a).request(req.as_bytes()).status, 200);
}

// The 502 cases use POST: a non-idempotent request is never replayed once sent, so the
// member's failure is what the client sees whatever the retry policy.
fn garbage_from_member_gets_502(driver: IoDriver) {
    let member = MockMember::fixed(b"NOT HTTP\r\n\r\n");
    let (_proxy, a) = proxy_for(driver, &member);

    let resp = Client::connect(a).request(&post("/order", b"item=1"));
    assert_error(&resp, 502);
    assert_eq!(member.requests().len(), 1, "sent once, not replayed");
}

fn member_closing_without_answer_gets_502(driver: IoDriver) {
    let member = MockMember::respond(|_| Reply::Close);
    let (_proxy, a) = proxy_for(driver, &member);

    let resp = Client::connect(a).request(&post("/order", b"item=1"));
    assert_error(&resp, 502);
    let seen = member.requests();
    assert_eq!(seen.len(), 1, "sent once, not replayed");
    assert_eq!(seen[0].body, b"item=1");
}

fn refused_member_gets_503(driver: IoDriver) {
    let cfg = config(driver, vec![member(dead_addr(), "node1", 100)]);
    let proxy = start_proxy(cfg);

    let resp = Client::connect(common::addr(&proxy)).request(&get("/"));
    assert_error(&resp, 503);
}

fn silent_member_gets_504(driver: IoDriver) {
    let member = MockMember::hang();
    let mut cfg = single(driver, &member);
    cfg.timeouts.upstream_response = secs(1);
    let proxy = start_proxy(cfg);

    let resp = Client::connect(common::addr(&proxy)).request(&get("/never"));
    assert_error(&resp, 504);
    assert!(
        !member.requests().is_empty(),
        "the request reached the member"
    );
}
