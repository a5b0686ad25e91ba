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

use common::{
    assert_error, find, proxy_for, raw_exchange, response_bytes, Client, MockMember, Reply,
};
use ringlb::config::IoDriver;

both_drivers!(
    http10_client_gets_no_103,
    http10_client_gets_no_100_continue,
    switch_to_a_protocol_not_offered_gets_502,
    h2c_upgrade_is_not_forwarded,
);

fn http10_client_gets_no_103(driver: IoDriver) {
    let member = MockMember::fixed(
        b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let (_proxy, a) = proxy_for(driver, &member);
    let out = raw_exchange(a, b"GET /hints HTTP/1.0\r\nHost: example.test\r\n\r\n");
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 "), "got {text:?}");
    assert!(
        find(&out, b" 103 ").is_none(),
        "a 1xx went to a 1.0 client: {text:?}"
    );
    assert!(text.ends_with("\r\n\r\nok"), "got {text:?}");
}

fn http10_client_gets_no_100_continue(driver: IoDriver) {
    // The member honours the Expect header (forwarded as HTTP/1.1) with a 100.
    let member = MockMember::raw(|conn| {
        while let Some(mut req) = conn.read_head()? {
            if req.header("expect").is_some() {
                conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
            }
            conn.read_body(&mut req)?;
            conn.write_all(&response_bytes(200, "OK", &[], &req.body))?;
        }
        Ok(())
    });
    let (_proxy, a) = proxy_for(driver, &member);
    let out = raw_exchange(
        a,
        b"POST /up HTTP/1.0\r\nHost: example.test\r\nContent-Length: 5\r\n\
          Expect: 100-continue\r\n\r\nhello",
    );
    let text = String::from_utf8_lossy(&out);
    assert!(text.starts_with("HTTP/1.1 200 "), "got {text:?}");
    assert!(find(&out, b"100 Continue").is_none(), "got {text:?}");
    assert!(text.ends_with("\r\n\r\nhello"), "got {text:?}");
}

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
