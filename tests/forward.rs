//! Forwarding: request and response framing (length, chunked, close-delimited), keep-alive and
//! connection reuse, bodiless responses, HTTP/1.0 clients and pipelining.
//!
//! Header rewriting, 1xx responses and upgrades are in `headers.rs` and `interim.rs`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::net::TcpStream;
use std::time::Duration;

use common::{
    addr, get, poll_until, post, proxy_for, secs, single, start_proxy, Client, MockMember, Reply,
};
use ringlb::config::IoDriver;

both_drivers!(
    idle_keepalive_connection_is_closed_after_keepalive_idle,
    start_reports_workers_and_stop_closes_listener,
    get_is_forwarded,
    post_with_content_length,
    chunked_request_body,
    chunked_response_body,
    close_delimited_response,
    keep_alive_reuses_one_member_connection,
    head_response_has_no_body,
    no_body_for_204_and_304,
    http10_client_without_keep_alive,
    http10_client_with_keep_alive,
    http10_client_gets_dechunked_body,
    pipelined_requests_answered_in_order,
);

/// A member answering `200 OK` with the request path as the body.
fn path_member() -> MockMember {
    MockMember::respond(|req| Reply::ok(req.path.as_bytes()))
}

fn start_reports_workers_and_stop_closes_listener(driver: IoDriver) {
    let member = MockMember::named("m");
    let mut cfg = single(driver, &member);
    cfg.workers = Some(2);
    let handle = start_proxy(cfg);
    let a = addr(&handle);
    assert_ne!(a.port(), 0, "port 0 is resolved");
    let mut indexes: Vec<usize> = handle.workers().iter().map(|w| w.index).collect();
    indexes.sort_unstable();
    assert_eq!(indexes, vec![0, 1]);

    let resp = Client::connect(a).request(&get("/"));
    assert_eq!(resp.status, 200);

    handle.stop();
    let refused = poll_until(secs(5), || TcpStream::connect(a).is_err());
    assert!(refused, "listener still accepts after stop()");

    // Dropping the handle stops it too.
    let handle = start_proxy(single(driver, &member));
    let a = addr(&handle);
    assert_eq!(Client::connect(a).request(&get("/")).status, 200);
    drop(handle);
    let refused = poll_until(secs(5), || TcpStream::connect(a).is_err());
    assert!(
        refused,
        "listener still accepts after the handle was dropped"
    );
}

fn get_is_forwarded(driver: IoDriver) {
    let member = path_member();
    let (_proxy, a) = proxy_for(driver, &member);

    let resp = Client::connect(a).request(&get("/hello/world?x=1&y=2"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"/hello/world?x=1&y=2");
    assert_eq!(resp.version, 1);

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "GET");
    assert_eq!(seen[0].path, "/hello/world?x=1&y=2");
    assert_eq!(seen[0].version, 1, "members are spoken to in HTTP/1.1");
    assert!(seen[0].body.is_empty());
}

fn post_with_content_length(driver: IoDriver) {
    let member = MockMember::echo();
    let (_proxy, a) = proxy_for(driver, &member);
    let body = b"name=ringlb&value=\x00\x01\xff binary too";

    let resp = Client::connect(a).request(&post("/submit", body));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, body);

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].method, "POST");
    assert_eq!(seen[0].body, body);
    assert_eq!(
        seen[0].header("content-length"),
        Some(body.len().to_string().as_str())
    );
    assert!(!seen[0].chunked);
}

fn chunked_request_body(driver: IoDriver) {
    let member = MockMember::echo();
    let (_proxy, a) = proxy_for(driver, &member);
    let req = b"POST /upload HTTP/1.1\r\nHost: example.test\r\nTransfer-Encoding: chunked\r\n\r\n\
                5\r\nhello\r\n1;ext=1\r\n \r\nb\r\nchunked wor\r\n2\r\nld\r\n0\r\n\r\n";

    let mut client = Client::connect(a);
    let resp = client.request(req);
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello chunked world");

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0].chunked, "the body is forwarded chunked");
    assert!(!seen[0].has_header("content-length"));
    assert_eq!(seen[0].body, b"hello chunked world");

    // The connection is still usable after a chunked body.
    let resp = client.request(&post("/again", b"x"));
    assert_eq!(resp.body, b"x");
}

fn chunked_response_body(driver: IoDriver) {
    let member = MockMember::respond(|req| {
        if req.path == "/chunked" {
            Reply::Send(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\
                  4\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\n\r\n"
                    .to_vec(),
            )
        } else {
            Reply::ok("after")
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(&get("/chunked"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"Wikipedia in\r\n\r\nchunks.");

    let resp = client.request(&get("/next"));
    assert_eq!(resp.body, b"after", "keep-alive after a chunked response");
}

fn close_delimited_response(driver: IoDriver) {
    let body: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let mut bytes = b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n\r\n".to_vec();
    bytes.extend_from_slice(&body);
    let member = MockMember::respond(move |_| Reply::SendAndClose(bytes.clone()));
    let (_proxy, a) = proxy_for(driver, &member);

    let resp = Client::connect(a).request(&get("/until-close"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body.len(), body.len());
    assert!(resp.body == body, "body differs");
}

fn keep_alive_reuses_one_member_connection(driver: IoDriver) {
    let member = path_member();
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    for i in 0..10 {
        let path = format!("/k{i}");
        let resp = client.request(&get(&path));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, path.as_bytes());
    }
    assert_eq!(member.requests().len(), 10);
    assert_eq!(
        member.connections(),
        1,
        "one pooled member connection serves all"
    );
}

fn head_response_has_no_body(driver: IoDriver) {
    let member = MockMember::respond(|req| {
        if req.method == "HEAD" {
            Reply::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Head: 1\r\n\r\n".to_vec())
        } else {
            Reply::ok("hello")
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    client.send(b"HEAD /thing HTTP/1.1\r\nHost: example.test\r\n\r\n");
    let resp = client.read_head_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.header("content-length"), Some("5"));
    assert_eq!(resp.header("x-head"), Some("1"));

    // Any stray body bytes would be read as the next response's head.
    let resp = client.request(&get("/thing"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello");
    assert_eq!(member.requests()[0].method, "HEAD");
}

fn no_body_for_204_and_304(driver: IoDriver) {
    let member = MockMember::respond(|req| match req.path.as_str() {
        "/204" => Reply::Send(b"HTTP/1.1 204 No Content\r\nX-Kind: 204\r\n\r\n".to_vec()),
        "/304" => Reply::Send(
            b"HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nX-Kind: 304\r\n\r\n".to_vec(),
        ),
        _ => Reply::ok("after"),
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(&get("/204"));
    assert_eq!(resp.status, 204);
    assert_eq!(resp.header("x-kind"), Some("204"));
    assert!(
        resp.header("transfer-encoding").is_none(),
        "no framing on 204"
    );

    let resp =
        client.request(b"GET /304 HTTP/1.1\r\nHost: example.test\r\nIf-None-Match: \"v1\"\r\n\r\n");
    assert_eq!(resp.status, 304);
    assert_eq!(resp.header("etag"), Some("\"v1\""));

    let resp = client.request(&get("/after"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"after");
}

fn http10_client_without_keep_alive(driver: IoDriver) {
    let member = MockMember::respond(|_| Reply::ok("old client"));
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(b"GET /ten HTTP/1.0\r\nHost: example.test\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"old client");
    client.expect_closed();

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].version, 1, "the member is spoken to in HTTP/1.1");
}

fn http10_client_with_keep_alive(driver: IoDriver) {
    let member = path_member();
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    for path in ["/one", "/two"] {
        let req =
            format!("GET {path} HTTP/1.0\r\nHost: example.test\r\nConnection: keep-alive\r\n\r\n");
        let resp = client.request(req.as_bytes());
        assert_eq!(resp.status, 200);
        assert!(!resp.close_delimited, "a kept-alive response has a length");
        assert!(!resp.chunked, "no chunked framing to an HTTP/1.0 client");
        assert_eq!(resp.body, path.as_bytes());
    }
    assert_eq!(member.requests().len(), 2);
}

fn http10_client_gets_dechunked_body(driver: IoDriver) {
    let member = MockMember::fixed(
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n",
    );
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(b"GET /c HTTP/1.0\r\nHost: example.test\r\n\r\n");
    assert_eq!(resp.status, 200);
    assert!(
        !resp.chunked,
        "HTTP/1.0 clients cannot read chunked framing"
    );
    assert_eq!(resp.body, b"abcdefg");
    client.expect_closed();
}

fn pipelined_requests_answered_in_order(driver: IoDriver) {
    let member = MockMember::respond(|req| {
        // The first answer is the slowest, so an out-of-order proxy would show.
        if req.path == "/first" {
            Reply::Delay(
                common::millis(200),
                Box::new(Reply::ok(req.path.as_bytes())),
            )
        } else {
            Reply::ok(req.path.as_bytes())
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut all = get("/first");
    all.extend_from_slice(&post("/second", b"2nd body"));
    all.extend_from_slice(&get("/third"));
    let mut client = Client::connect(a);
    client.send(&all);
    for path in ["/first", "/second", "/third"] {
        let resp = client.read_response();
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body_text(), path);
    }
    let seen = member.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[1].body, b"2nd body");

    // And the connection goes on afterwards.
    let resp = client.request(&get("/fourth"));
    assert_eq!(resp.body, b"/fourth");
}

fn idle_keepalive_connection_is_closed_after_keepalive_idle(driver: IoDriver) {
    let member = MockMember::named("m");
    let mut cfg = single(driver, &member);
    cfg.timeouts.keepalive_idle = Duration::from_millis(400);
    let handle = start_proxy(cfg);
    let mut client = Client::connect(addr(&handle));
    assert_eq!(client.request(&get("/")).status, 200);
    let started = std::time::Instant::now();
    client.expect_closed();
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300),
        "closed too early: {waited:?}"
    );
    assert!(
        waited < Duration::from_secs(3),
        "closed too late: {waited:?}"
    );
}
