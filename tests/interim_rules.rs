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

use std::sync::mpsc::{self, Sender};
use std::sync::Mutex;

use common::{
    assert_error, find, get, lock, millis, proxy_for, raw_exchange, response_bytes, secs, single,
    start_proxy, Client, MemberConn, MockMember, Reply, Request,
};
use ringlb::config::IoDriver;
use ringlb::server::ServerHandle;

both_drivers!(
    http10_client_gets_no_103,
    http10_client_gets_no_100_continue,
    final_answer_before_ping_means_no_100,
    late_member_100_after_ringlbs_own_is_dropped,
    member_answering_without_the_body_is_not_reused,
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
    let member = MockMember::echo_with_continue();
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

fn expect_head(path: &str, body_len: usize) -> Vec<u8> {
    format!(
        "POST {path} HTTP/1.1\r\nHost: example.test\r\nContent-Length: {body_len}\r\n\
         Expect: 100-continue\r\n\r\n"
    )
    .into_bytes()
}

fn final_answer_before_ping_means_no_100(driver: IoDriver) {
    // Answers on the head alone, without waiting for the body.
    let member = MockMember::raw(|conn| {
        if conn.read_head()?.is_some() {
            conn.write_all(b"HTTP/1.1 417 Expectation Failed\r\nContent-Length: 0\r\n\r\n")?;
            conn.wait_for_close();
        }
        Ok(())
    });
    let mut cfg = single(driver, &member);
    cfg.timeouts.ping = secs(5);
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    client.send(&expect_head("/up", 5));
    let resp = client.read_response();
    assert_eq!(resp.status, 417);
    assert!(resp.interim.is_empty(), "no 100 before a final answer");
}

/// What the member does with the `/upload` request once the client has ringlb's own `100`.
type Late = fn(&mut MemberConn, &mut Request) -> std::io::Result<()>;

/// A member that ignores `Expect: 100-continue` on `/upload` until the test says (on the
/// returned sender) that the client has ringlb's own `100`, then does `late`; other requests
/// get `real answer to <path>`, and `/smuggled` only after the next request has arrived.
fn late_member(late: Late) -> (MockMember, Sender<()>) {
    let (tx, rx) = mpsc::channel::<()>();
    let rx = Mutex::new(rx);
    let member = MockMember::raw(move |conn| {
        while let Some(mut req) = conn.read_head()? {
            if req.path == "/upload" {
                if lock(&rx).recv_timeout(secs(10)).is_err() {
                    return Ok(());
                }
                late(conn, &mut req)?;
                continue;
            }
            if req.path == "/smuggled" {
                // Answer only once the next request is in: whoever sent it gets this answer.
                let Some(mut next) = conn.read_head()? else {
                    return Ok(());
                };
                conn.read_body(&mut next)?;
                conn.write_all(&response_bytes(200, "OK", &[], b"real answer to /smuggled"))?;
                req = next;
            }
            conn.read_body(&mut req)?;
            let body = format!("real answer to {}", req.path);
            conn.write_all(&response_bytes(200, "OK", &[], body.as_bytes()))?;
        }
        Ok(())
    });
    (member, tx)
}

/// Starts ringlb in front of `member`, sends the `/upload` head with `Expect: 100-continue`
/// and reads ringlb's own `100`.
fn upload_until_ringlbs_100(
    driver: IoDriver,
    member: &MockMember,
    body_len: usize,
) -> (ServerHandle, Client) {
    let mut cfg = single(driver, member);
    cfg.timeouts.ping = millis(200);
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    client.send(&expect_head("/upload", body_len));
    assert_eq!(client.read_one().status, 100, "ringlb's own 100 after ping");
    (proxy, client)
}

fn late_member_100_after_ringlbs_own_is_dropped(driver: IoDriver) {
    let (member, go) = late_member(|conn, req| {
        conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
        conn.read_body(req)?;
        conn.write_all(&response_bytes(200, "OK", &[], &req.body))
    });
    let (_proxy, mut client) = upload_until_ringlbs_100(driver, &member, 5);
    go.send(()).unwrap();
    client.send(b"hello");
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"hello");
    assert!(
        resp.interim.is_empty(),
        "a second 100 Continue: {:?}",
        resp.interim
    );
}

fn member_answering_without_the_body_is_not_reused(driver: IoDriver) {
    // The member refuses without reading the body; on its connection the body bytes would be
    // read as the next request.
    let (member, go) = late_member(|conn, _req| {
        conn.write_all(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n")
    });
    const SMUGGLED: &[u8] = b"GET /smuggled HTTP/1.1\r\nHost: example.test\r\n\r\n";
    let (_proxy, mut client) = upload_until_ringlbs_100(driver, &member, SMUGGLED.len());
    go.send(()).unwrap();
    client.send(SMUGGLED);
    assert_eq!(client.read_response().status, 401);

    let resp = client.request(&get("/next"));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"real answer to /next");
    assert_eq!(
        member.connections(),
        2,
        "/next went over a new member connection"
    );
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
