//! What may come before a final response, and what the member may switch to: no 1xx for an
//! HTTP/1.0 client, at most one `100 Continue`, ringlb's own `100` (after `ping`) never leaves
//! the member connection out of step, a `101` only to a protocol the client offered, and
//! `Upgrade: h2c` never reaches a member.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use common::{assert_error, proxy_for, Client, MockMember, Reply};
use ringlb::config::IoDriver;

both_drivers!(
    switch_to_a_protocol_not_offered_gets_502,
    h2c_upgrade_is_not_forwarded,
);

fn switch_to_a_protocol_not_offered_gets_502(driver: IoDriver) {
    for answer in [
        &b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: h2c\r\nConnection: Upgrade\r\n\r\n"[..],
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket, foo\r\nConnection: Upgrade\r\n\r\n",
        b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n\r\n",
    ] {
        let member = MockMember::fixed(answer);
        let (_proxy, a) = proxy_for(driver, &member);
        let mut client = Client::connect(a);
        client.send(
            b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\n\
              Connection: Upgrade\r\n\r\n",
        );
        let resp = client.read_response();
        assert_error(&resp, 502);
    }
    // The protocol offered, in another case, is switched to.
    let member = MockMember::fixed(
        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n",
    );
    let (_proxy, a) = proxy_for(driver, &member);
    let mut client = Client::connect(a);
    client.send(
        b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert_eq!(client.read_response().status, 101);
}

fn h2c_upgrade_is_not_forwarded(driver: IoDriver) {
    let member = MockMember::respond(|_| Reply::ok("h1"));
    let (_proxy, a) = proxy_for(driver, &member);
    let mut client = Client::connect(a);
    let resp = client.request(
        b"GET /page HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade, HTTP2-Settings\r\n\
          Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"h1");
    // Offered with another protocol: only the other one is forwarded.
    let resp = client.request(
        b"GET /page HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\n\
          Upgrade: h2c, websocket\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n",
    );
    assert_eq!(resp.status, 200);
    let seen = member.requests();
    assert_eq!(seen.len(), 2);
    for (i, req) in seen.iter().enumerate() {
        assert!(!req.has_header("http2-settings"), "{i}: {:?}", req.headers);
        for up in req.headers_named("upgrade") {
            assert!(
                !up.to_ascii_lowercase().contains("h2c"),
                "{i}: {:?}",
                req.headers
            );
        }
    }
    assert!(!seen[0].has_header("upgrade"), "{:?}", seen[0].headers);
    let conn = seen[0].header("connection").unwrap_or("");
    assert!(!conn.to_ascii_lowercase().contains("upgrade"), "{conn:?}");
    assert_eq!(seen[1].headers_named("upgrade"), vec!["websocket"]);
}
