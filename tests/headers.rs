//! Header rewriting on the way through: hop-by-hop removal both ways, X-Forwarded-*, and the
//! Host header sent to members. Assertions are on what the member recorded (requests) or what
//! the client read (responses).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{get, proxy_for, Client, MockMember, Reply};
use ringlb::config::IoDriver;

both_drivers!(
    hop_by_hop_request_headers_removed,
    hop_by_hop_response_headers_removed,
    x_forwarded_headers_added,
    x_forwarded_for_of_a_trusted_proxy_appended,
    host_rewritten_to_member_authority,
);

/// Whether a comma-separated header value names `token` (case-insensitive).
fn names(value: &str, token: &str) -> bool {
    value
        .split(',')
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

fn hop_by_hop_request_headers_removed(driver: IoDriver) {
    let member = MockMember::named("m");
    let (_proxy, a) = proxy_for(driver, &member);

    let req = b"GET /hop HTTP/1.1\r\n\
                Host: example.test\r\n\
                Connection: keep-alive, X-Custom-Hop\r\n\
                Keep-Alive: timeout=5\r\n\
                Proxy-Connection: keep-alive\r\n\
                TE: trailers\r\n\
                Trailer: X-Checksum\r\n\
                Upgrade: h2c\r\n\
                X-Custom-Hop: private\r\n\
                X-End-To-End: kept\r\n\
                Accept: text/plain\r\n\r\n";
    let resp = Client::connect(a).request(req);
    assert_eq!(resp.status, 200);

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    for name in [
        "keep-alive",
        "proxy-connection",
        "te",
        "trailer",
        "upgrade",
        "x-custom-hop",
    ] {
        assert!(
            !r.has_header(name),
            "{name} reached the member: {:?}",
            r.headers
        );
    }
    for value in r.headers_named("connection") {
        assert!(
            !names(value, "x-custom-hop"),
            "client's Connection list forwarded: {value}"
        );
        assert!(
            !names(value, "upgrade"),
            "Upgrade without a tunnel forwarded: {value}"
        );
    }
    assert_eq!(r.header("x-end-to-end"), Some("kept"));
    assert_eq!(r.header("accept"), Some("text/plain"));
}

fn hop_by_hop_response_headers_removed(driver: IoDriver) {
    let member = MockMember::respond(|req| {
        if req.path == "/hop" {
            Reply::Send(
                b"HTTP/1.1 200 OK\r\n\
                  Connection: X-Resp-Hop\r\n\
                  X-Resp-Hop: secret\r\n\
                  Keep-Alive: timeout=99\r\n\
                  Proxy-Connection: keep-alive\r\n\
                  Upgrade: h2c\r\n\
                  X-Resp-End: kept\r\n\
                  Content-Length: 2\r\n\r\nok"
                    .to_vec(),
            )
        } else {
            Reply::ok("next")
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(&get("/hop"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"ok");
    for name in ["x-resp-hop", "proxy-connection", "upgrade"] {
        assert!(
            resp.header(name).is_none(),
            "{name} reached the client: {:?}",
            resp.headers
        );
    }
    for value in resp.headers_named("keep-alive") {
        assert!(
            !value.contains("99"),
            "the member's Keep-Alive was relayed: {value}"
        );
    }
    for value in resp.headers_named("connection") {
        assert!(
            !names(value, "x-resp-hop"),
            "member's Connection list relayed: {value}"
        );
    }
    assert_eq!(resp.header("x-resp-end"), Some("kept"));

    let resp = client.request(&get("/next"));
    assert_eq!(resp.body, b"next", "the client connection stays usable");
}

fn x_forwarded_headers_added(driver: IoDriver) {
    let member = MockMember::named("m");
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let client_ip = client.local_addr().ip().to_string();
    let resp = client.request(b"GET /xf HTTP/1.1\r\nHost: shop.example.test:8080\r\n\r\n");
    assert_eq!(resp.status, 200);

    let seen = member.requests();
    let r = &seen[0];
    assert_eq!(r.headers_named("x-forwarded-for"), vec![client_ip.as_str()]);
    assert_eq!(r.headers_named("x-forwarded-proto"), vec!["http"]);
    assert_eq!(
        r.headers_named("x-forwarded-host"),
        vec!["shop.example.test:8080"]
    );
}

/// From a trusted proxy (`trusted_proxies`); an untrusted peer's are replaced
/// (tests/proxy_protocol.rs).
fn x_forwarded_for_of_a_trusted_proxy_appended(driver: IoDriver) {
    let member = MockMember::named("m");
    let mut cfg = common::single(driver, &member);
    cfg.trust.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let proxy = common::start_proxy(cfg);
    let a = common::addr(&proxy);

    let mut client = Client::connect(a);
    let client_ip = client.local_addr().ip().to_string();
    let resp = client.request(
        b"GET /xff HTTP/1.1\r\nHost: example.test\r\nX-Forwarded-For: 203.0.113.7, 10.0.0.1\r\n\r\n",
    );
    assert_eq!(resp.status, 200);

    let seen = member.requests();
    let xff = seen[0].headers_named("x-forwarded-for");
    let expected = format!("203.0.113.7, 10.0.0.1, {client_ip}");
    assert_eq!(
        xff,
        vec![expected.as_str()],
        "one X-Forwarded-For, client appended"
    );
}

fn host_rewritten_to_member_authority(driver: IoDriver) {
    let member = MockMember::named("m");
    let (_proxy, a) = proxy_for(driver, &member);

    let resp = Client::connect(a).request(b"GET / HTTP/1.1\r\nHost: www.example.test\r\n\r\n");
    assert_eq!(resp.status, 200);

    let seen = member.requests();
    let authority = member.addr().to_string();
    assert_eq!(seen[0].headers_named("host"), vec![authority.as_str()]);
}
