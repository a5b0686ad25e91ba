//! Responses before the final one and the connection after it: `Expect: 100-continue` (relayed
//! from the member, or made by ringlb after `ping`), `103 Early Hints`, and `Upgrade` tunnels.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::time::Instant;

use common::{
    config, get, member, millis, proxy_for, secs, single, start_proxy, Client, MockMember, Reply,
};
use ringlb::config::IoDriver;

both_drivers!(
    expect_continue_relayed_from_member,
    expect_continue_made_after_ping,
    expect_continue_silence_fails_over_before_the_body,
    expect_continue_silence_with_no_other_usable_member_gets_ringlbs_100,
    early_hints_relayed,
    upgrade_tunnel_carries_bytes_both_ways,
);

const BODY: &[u8] = b"hello world";

fn expect_head() -> Vec<u8> {
    format!(
        "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: {}\r\n\
         Expect: 100-continue\r\n\r\n",
        BODY.len()
    )
    .into_bytes()
}

fn expect_continue_relayed_from_member(driver: IoDriver) {
    // The member answers 100 as soon as it has the head, reads the body, then echoes it.
    let member = MockMember::echo_with_continue();
    let mut cfg = single(driver, &member);
    // Long enough that a 100 arriving before it must be the member's.
    let ping = secs(5);
    cfg.timeouts.ping = ping;
    let proxy = start_proxy(cfg);

    let mut client = Client::connect(common::addr(&proxy));
    let sent = Instant::now();
    client.send(&expect_head());
    let cont = client.read_one();
    assert_eq!(cont.status, 100);
    assert!(
        sent.elapsed() < ping,
        "100 arrived only after ping: not relayed"
    );

    client.send(BODY);
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, BODY);
    assert!(
        resp.interim.is_empty(),
        "one 100 Continue only: {:?}",
        resp.interim
    );

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    let expect = seen[0].header("expect").unwrap_or("");
    assert!(
        expect.eq_ignore_ascii_case("100-continue"),
        "Expect forwarded, got {expect:?}"
    );
    assert_eq!(seen[0].body, BODY);
}

fn expect_continue_made_after_ping(driver: IoDriver) {
    // This member ignores Expect and just waits for the body.
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.timeouts.ping = millis(300);
    let proxy = start_proxy(cfg);

    let mut client = Client::connect(common::addr(&proxy));
    client.send(&expect_head());
    let cont = client.read_one();
    assert_eq!(
        cont.status, 100,
        "ringlb sends 100 Continue itself after ping"
    );

    client.send(BODY);
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, BODY);
    assert_eq!(member.requests()[0].body, BODY);
}

fn expect_continue_silence_fails_over_before_the_body(driver: IoDriver) {
    // httpd's `ping`: node1 ignores Expect (silent past ping), so it is taken as not having
    // received the request, and the body goes to node2 instead, which answers 100.
    let silent = MockMember::echo();
    let answering = MockMember::echo_with_continue();
    let mut cfg = config(
        driver,
        vec![
            member(silent.addr(), "node1", 100),
            member(answering.addr(), "node2", 100),
        ],
    );
    cfg.workers = Some(1);
    cfg.timeouts.ping = millis(300);
    let proxy = start_proxy(cfg);

    let mut client = Client::connect(common::addr(&proxy));
    client.send(&expect_head());
    let cont = client.read_one();
    assert_eq!(cont.status, 100, "node2's 100");
    client.send(BODY);
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, BODY);
    assert!(resp.interim.is_empty(), "one 100 only: {:?}", resp.interim);
    let to_node2 = answering.requests();
    assert_eq!(to_node2.len(), 1);
    assert_eq!(to_node2[0].body, BODY);
    // node1 got the head (first in the byrequests schedule) but never the body.
    let to_node1 = silent.requests();
    assert_eq!(to_node1.len(), 1, "node1 was tried first");
    assert!(to_node1[0].body.is_empty(), "node1 never got the body");
}

fn expect_continue_silence_with_no_other_usable_member_gets_ringlbs_100(driver: IoDriver) {
    // The only other member is disabled: failing over would only give a 503, so ringlb sends
    // its own 100 and the body goes to the silent member, as with a single member.
    let silent = MockMember::echo();
    let disabled = MockMember::echo_with_continue();
    let mut off = member(disabled.addr(), "node2", 100);
    off.options.status = ringlb::config::Status::DISABLED;
    let mut cfg = config(driver, vec![member(silent.addr(), "node1", 100), off]);
    cfg.timeouts.ping = millis(300);
    let proxy = start_proxy(cfg);

    let mut client = Client::connect(common::addr(&proxy));
    client.send(&expect_head());
    assert_eq!(client.read_one().status, 100, "ringlb's own 100");
    client.send(BODY);
    let resp = client.read_response();
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, BODY);
    assert_eq!(silent.requests()[0].body, BODY);
    assert!(disabled.requests().is_empty());
}

fn early_hints_relayed(driver: IoDriver) {
    let member = MockMember::respond(|req| {
        if req.path == "/hints" {
            Reply::Send(
                b"HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload; as=style\r\n\r\n\
                  HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"
                    .to_vec(),
            )
        } else {
            Reply::ok("next")
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    let resp = client.request(&get("/hints"));
    assert_eq!(
        resp.interim.len(),
        1,
        "103 relayed before the final response"
    );
    assert_eq!(resp.interim[0].status, 103);
    assert_eq!(
        resp.interim[0].header("link"),
        Some("</style.css>; rel=preload; as=style")
    );
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body, b"ok");

    let resp = client.request(&get("/next"));
    assert!(resp.interim.is_empty());
    assert_eq!(resp.body, b"next");
}

fn upgrade_tunnel_carries_bytes_both_ways(driver: IoDriver) {
    // The member switches protocols, greets in the same write, then echoes every byte.
    let member = MockMember::raw(|conn| {
        let Some(_req) = conn.read_head()? else {
            return Ok(());
        };
        conn.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhi!",
        )?;
        loop {
            let data = conn.read_some()?;
            if data.is_empty() {
                return Ok(());
            }
            conn.write_all(&data)?;
        }
    });
    let (_proxy, a) = proxy_for(driver, &member);

    let mut client = Client::connect(a);
    client.send(
        b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
          Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n",
    );
    let resp = client.read_response();
    assert_eq!(resp.status, 101);
    assert!(resp
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket")));
    assert_eq!(client.read_exact(3), b"hi!", "bytes sent with the 101 head");

    for msg in [
        &b"first frame"[..],
        &[0u8, 0x81, 0xff, 0x7f, 13, 10, 13, 10],
        &[b'x'; 32 * 1024],
    ] {
        client.send(msg);
        assert!(
            client.read_exact(msg.len()) == msg,
            "echo through the tunnel"
        );
    }

    let seen = member.requests();
    assert_eq!(seen.len(), 1);
    assert!(seen[0]
        .header("upgrade")
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket")));
    let conn = seen[0].header("connection").unwrap_or("");
    assert!(
        conn.split(',')
            .any(|t| t.trim().eq_ignore_ascii_case("upgrade")),
        "Connection: Upgrade kept for a tunnel, got {conn:?}"
    );
    assert_eq!(
        seen[0].header("sec-websocket-key"),
        Some("dGhlIHNhbXBsZSBub25jZQ==")
    );
}
