//! `ajp://` members end to end against a scripted AJP13 member (`common::ajp_member`): the
//! forward request's fields and attributes, request bodies by length and chunked, responses
//! with and without a length (chunked to HTTP/1.1 clients, close-delimited to HTTP/1.0), the
//! reuse flag, a response split at every byte, members' garbage and oversized packets (502,
//! never reused), CPING before each request with `ping` and failover when it goes
//! unanswered, the `CPING` health check, `Expect: 100-continue`, and HTTP/2 clients over TLS
//! (`curl --http2`) with the connection's TLS facts as AJP attributes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::Command;

use ringlb::config::{HcMethod, HealthCheck, IoDriver, MemberAjp, MemberConfig};
use ringlb::server::ServerHandle;

use common::ajp_member::{packet, string, AjpMember, Script};
use common::h2_frames::start_tls;
use common::tls::Pki;
use common::{config, get, millis, poll_until, post, secs, start_proxy, Client};

both_drivers!(
    a_get_carries_the_client_facts_and_attributes,
    bodies_by_length_and_chunked_arrive_byte_exact,
    responses_without_a_length_are_chunked_or_close_delimited,
    the_reuse_flag_decides_whether_the_connection_is_pooled,
    a_response_split_at_every_byte_is_relayed,
    garbage_and_oversized_packets_get_502_and_no_reuse,
    cping_goes_before_each_request_and_a_silent_member_fails_over,
    cping_health_checks_mark_a_silent_member_down,
    expect_continue_is_answered_when_the_body_is_needed,
    http2_clients_over_tls_reach_ajp_members_with_the_tls_facts,
    a_304_with_tomcats_content_length_0_goes_out_without_one,
);

const ECHO: Script = Script::Echo {
    length: true,
    chunks: 1,
    reuse: true,
};

fn ajp_member(addr: SocketAddr, route: &str, ajp: MemberAjp) -> MemberConfig {
    let mut m = common::member(addr, route, 100);
    m.url = format!("ajp://{addr}");
    m.options.ajp = Some(ajp);
    m
}

/// ringlb with `member` as its one `ajp://` member, default AJP settings, no route.
fn plain_proxy(driver: IoDriver, member: &AjpMember) -> ServerHandle {
    let ajp = ajp_member(member.addr(), "", MemberAjp::default());
    start_proxy(config(driver, vec![ajp]))
}

fn with_secret() -> MemberAjp {
    MemberAjp {
        secret: Some("s3cret".to_owned()),
        ..MemberAjp::default()
    }
}

fn a_get_carries_the_client_facts_and_attributes(driver: IoDriver) {
    let member = AjpMember::start(ECHO);
    let cfg = config(
        driver,
        vec![ajp_member(member.addr(), "node1", with_secret())],
    );
    let proxy = start_proxy(cfg);
    let mut c = Client::connect(common::addr(&proxy));
    let r = c.request(
        b"GET /shop/cart.jsp?item=7&q=a%20b HTTP/1.1\r\nHost: shop.example:8443\r\n\
          Cookie: JSESSIONID=abc.node1\r\nX-Custom: one\r\nX-Custom: two\r\n\
          Accept-Language: de\r\n\r\n",
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.body, b"ok");
    let r2 = c.request(&get("/again"));
    assert_eq!(r2.status, 200);
    let seen = member.requests();
    assert_eq!(seen.len(), 2);
    let req = &seen[0];
    assert_eq!(req.method, "GET");
    assert_eq!(req.protocol, "HTTP/1.1");
    assert_eq!(req.uri, "/shop/cart.jsp");
    assert_eq!(req.attribute("query_string"), Some("item=7&q=a%20b"));
    assert_eq!(req.remote_addr, "127.0.0.1");
    assert_eq!(req.remote_host, "127.0.0.1");
    let port = c.local_addr().port().to_string();
    assert_eq!(req.attribute("AJP_REMOTE_PORT"), Some(port.as_str()));
    assert_eq!(
        (req.server_name.as_str(), req.server_port),
        ("shop.example", 8443)
    );
    assert!(!req.is_ssl);
    assert_eq!(req.header("host"), Some("shop.example:8443"));
    assert_eq!(req.header("cookie"), Some("JSESSIONID=abc.node1"));
    assert_eq!(req.header("accept-language"), Some("de"));
    let custom: Vec<&str> = (req.headers.iter())
        .filter(|(n, _)| n == "X-Custom")
        .map(|(_, v)| v.as_str())
        .collect();
    assert_eq!(custom, ["one", "two"]);
    // Nothing of ringlb's own forwarding fields: AJP carries the client's address.
    assert!(req.header("x-forwarded-for").is_none(), "{:?}", req.headers);
    assert_eq!(req.attribute("jvm_route"), Some("node1"));
    assert_eq!(req.attribute("JK_LB_ACTIVATION"), Some("ACT"));
    assert_eq!(req.attribute("secret"), Some("s3cret"));
    // Both requests on one pooled member connection.
    assert_eq!((seen[0].connection, seen[1].connection), (0, 0));
    assert_eq!(member.connections(), 1);
    // A method without an AJP code goes by name.
    let r = c.request(b"PATCH /p HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nhi");
    assert_eq!((r.status, r.body_text().as_str()), (200, "hi"));
    assert_eq!(member.requests()[2].method, "PATCH");
}

fn bodies_by_length_and_chunked_arrive_byte_exact(driver: IoDriver) {
    let member = AjpMember::start(Script::Echo {
        length: true,
        chunks: 7,
        reuse: true,
    });
    let proxy = plain_proxy(driver, &member);
    let mut c = Client::connect(common::addr(&proxy));
    let body: Vec<u8> = (0..300_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let r = c.request(&post("/upload", &body));
    assert_eq!(r.status, 200);
    assert!(
        r.body == body,
        "echoed body differs ({} bytes)",
        r.body.len()
    );
    assert!(member.requests()[0].body == body);

    let mut chunked =
        b"POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
    for part in body.chunks(10_007) {
        chunked.extend_from_slice(format!("{:x};ext=1\r\n", part.len()).as_bytes());
        chunked.extend_from_slice(part);
        chunked.extend_from_slice(b"\r\n");
    }
    chunked.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
    let r = c.request(&chunked);
    assert_eq!(r.status, 200);
    assert!(
        r.body == body,
        "echoed chunked body differs ({} bytes)",
        r.body.len()
    );
    let seen = member.requests();
    assert!(seen[1].body == body);
    assert!(seen[1].header("content-length").is_none());
    // Tomcat parses a chunked form body only when it sees the client's framing field.
    assert_eq!(seen[1].header("transfer-encoding"), Some("chunked"));
    // The same member connection carried both.
    assert_eq!(member.connections(), 1);
}

fn responses_without_a_length_are_chunked_or_close_delimited(driver: IoDriver) {
    let member = AjpMember::start(Script::Echo {
        length: false,
        chunks: 3,
        reuse: true,
    });
    let proxy = plain_proxy(driver, &member);
    let addr = common::addr(&proxy);
    let mut c = Client::connect(addr);
    let r = c.request(&post("/x", b"0123456789"));
    assert!(r.chunked, "{:?}", r.headers);
    assert_eq!(r.body, b"0123456789");
    let r = c.request(&post("/x", b"again"));
    assert_eq!(r.body, b"again");

    let mut old = Client::connect(addr);
    let r = old.request(b"POST /x HTTP/1.0\r\nContent-Length: 3\r\n\r\nabc");
    assert!(r.close_delimited, "{:?}", r.headers);
    assert_eq!(r.body, b"abc");

    let r = c.request(b"HEAD /x HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.status, 200);
    assert!(r.body.is_empty());
}

fn the_reuse_flag_decides_whether_the_connection_is_pooled(driver: IoDriver) {
    let member = AjpMember::start(Script::Echo {
        length: true,
        chunks: 1,
        reuse: false,
    });
    let proxy = plain_proxy(driver, &member);
    let mut c = Client::connect(common::addr(&proxy));
    for _ in 0..3 {
        assert_eq!(c.request(&get("/")).status, 200);
    }
    let ids: Vec<usize> = member.requests().iter().map(|r| r.connection).collect();
    assert_eq!(ids, [0, 1, 2], "reuse = 0: a new connection each time");
}

/// A complete response as one byte string: headers with a length, two body chunks, the end.
fn scripted_response(body: &[u8], reuse: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut headers = vec![4u8, 0, 201];
    string(&mut headers, b"Created");
    headers.extend_from_slice(&2u16.to_be_bytes());
    headers.extend_from_slice(&0xA003u16.to_be_bytes());
    string(&mut headers, body.len().to_string().as_bytes());
    string(&mut headers, b"X-Split");
    string(&mut headers, b"yes");
    packet(&mut out, &headers);
    let (a, b) = body.split_at(body.len() / 2);
    for part in [a, b] {
        let mut p = vec![3u8];
        p.extend_from_slice(&(part.len() as u16).to_be_bytes());
        p.extend_from_slice(part);
        p.push(0);
        packet(&mut out, &p);
    }
    packet(&mut out, &[5, reuse as u8]);
    out
}

fn a_response_split_at_every_byte_is_relayed(driver: IoDriver) {
    // The member writes one byte per write: every packet boundary falls in every read split.
    let member = AjpMember::start(Script::Raw(scripted_response(b"split body", true)));
    let proxy = plain_proxy(driver, &member);
    let mut c = Client::connect(common::addr(&proxy));
    for _ in 0..2 {
        let r = c.request(&get("/"));
        assert_eq!((r.status, r.reason.as_str()), (201, "Created"));
        assert_eq!(r.header("x-split"), Some("yes"));
        assert_eq!(r.body, b"split body");
    }
    assert_eq!(member.connections(), 1, "reused after an exact response");
}

fn garbage_and_oversized_packets_get_502_and_no_reuse(driver: IoDriver) {
    let mut oversized = b"AB".to_vec();
    oversized.extend_from_slice(&9000u16.to_be_bytes());
    oversized.extend_from_slice(&[3; 64]);
    let mut injected = Vec::new();
    let mut headers = vec![4u8, 0, 200];
    string(&mut headers, b"OK");
    headers.extend_from_slice(&1u16.to_be_bytes());
    string(&mut headers, b"X-A");
    string(&mut headers, b"v\r\nSet-Cookie: evil=1");
    packet(&mut injected, &headers);
    let mut trailing = scripted_response(b"fine", true);
    trailing.extend_from_slice(b"HTTP/1.1 200 OK\r\n\r\n");
    let cases: [(&str, Vec<u8>, u16); 4] = [
        (
            "HTTP instead of AJP",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi".to_vec(),
            502,
        ),
        ("a packet over packet_size", oversized, 502),
        ("a header value with CRLF", injected, 502),
        ("bytes after END_RESPONSE", trailing, 201),
    ];
    for (what, bytes, status) in cases {
        let member = AjpMember::start(Script::Raw(bytes));
        let cfg = config(
            driver,
            vec![ajp_member(member.addr(), "", MemberAjp::default())],
        );
        let proxy = start_proxy(cfg);
        let mut c = Client::connect(common::addr(&proxy));
        let r = c.request(&get("/"));
        assert_eq!(r.status, status, "{what}");
        assert!(r.header("set-cookie").is_none(), "{what}");
        let mut c = Client::connect(common::addr(&proxy));
        let _ = c.request(&get("/"));
        assert_eq!(
            member.connections(),
            2,
            "{what}: the connection is never reused"
        );
        proxy.stop();
    }
}

fn cping_goes_before_each_request_and_a_silent_member_fails_over(driver: IoDriver) {
    let a = AjpMember::start(ECHO);
    let b = AjpMember::start(ECHO);
    let ping = MemberAjp {
        ping: Some(millis(300)),
        ..MemberAjp::default()
    };
    let mut cfg = config(
        driver,
        vec![
            ajp_member(a.addr(), "a", ping.clone()),
            ajp_member(b.addr(), "b", ping),
        ],
    );
    cfg.balancers[0].sticky = None;
    let proxy = start_proxy(cfg);
    let mut c = Client::connect(common::addr(&proxy));
    for _ in 0..4 {
        assert_eq!(c.request(&get("/")).status, 200);
    }
    assert_eq!(a.pings() + b.pings(), 4, "one CPING per request");
    // a stops answering CPING: nothing is sent to it, and even a POST moves to b.
    *common::lock(&a.pong) = false;
    let before = a.requests().len();
    for i in 0..4 {
        let r = c.request(&post("/", format!("body {i}").as_bytes()));
        assert_eq!(r.status, 200, "request {i}");
        assert_eq!(r.body_text(), format!("body {i}"));
    }
    assert_eq!(
        a.requests().len(),
        before,
        "no request reached the silent member"
    );
}

fn cping_health_checks_mark_a_silent_member_down(driver: IoDriver) {
    let a = AjpMember::start(ECHO);
    let b = AjpMember::start(ECHO);
    let check = HealthCheck {
        method: HcMethod::Cping,
        interval: millis(100),
        fails: 1,
        passes: 1,
        ..HealthCheck::default()
    };
    let mut ma = ajp_member(a.addr(), "a", MemberAjp::default());
    ma.options.health = Some(check.clone());
    let mut mb = ajp_member(b.addr(), "b", MemberAjp::default());
    mb.options.health = Some(check);
    let mut cfg = config(driver, vec![ma, mb]);
    cfg.balancers[0].sticky = None;
    let proxy = start_proxy(cfg);
    assert!(poll_until(secs(5), || a.pings() > 0 && b.pings() > 0));
    *common::lock(&a.pong) = false;
    // Once a's check has failed, every request goes to b (they alternate until then).
    let mut c = Client::connect(common::addr(&proxy));
    let only_b = poll_until(secs(5), || {
        let before = a.requests().len();
        for _ in 0..4 {
            assert_eq!(c.request(&get("/")).status, 200);
        }
        a.requests().len() == before
    });
    assert!(only_b, "a was never marked down by its CPING check");
}

fn expect_continue_is_answered_when_the_body_is_needed(driver: IoDriver) {
    let member = AjpMember::start(ECHO);
    let proxy = plain_proxy(driver, &member);
    let mut c = Client::connect(common::addr(&proxy));
    c.send(b"POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nExpect: 100-continue\r\n\r\n");
    let interim = c.read_one();
    assert_eq!(interim.status, 100);
    c.send(b"hello");
    let r = c.read_response();
    assert_eq!((r.status, r.body_text().as_str()), (200, "hello"));
}

fn http2_clients_over_tls_reach_ajp_members_with_the_tls_facts(driver: IoDriver) {
    let member = AjpMember::start(ECHO);
    let pki = Pki::new(&format!("ajp-h2-{driver:?}"));
    let cfg = config(
        driver,
        vec![ajp_member(member.addr(), "", MemberAjp::default())],
    );
    let (_proxy, addr) = start_tls(cfg, &pki);
    let url = format!("https://localhost:{}/h2?x=1", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let ca = pki.ca_path();
    let args = [
        "-sS",
        "--http2",
        "--max-time",
        "20",
        "--resolve",
        &resolve,
        "--cacert",
        ca.to_str().unwrap(),
        "--data-binary",
        "h2 body",
        "-w",
        " %{http_version}",
        &url,
    ];
    let out = match Command::new("curl").args(args).output() {
        Ok(out) => out,
        Err(e)
            if e.kind() == ErrorKind::NotFound
                && std::env::var("RINGLB_REQUIRE_H2_CLIENTS").is_err() =>
        {
            eprintln!("curl not found: skipping");
            return;
        }
        Err(e) => panic!("curl: {e}"),
    };
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(String::from_utf8_lossy(&out.stdout), "h2 body 2");
    let req = &member.requests()[0];
    assert_eq!((req.method.as_str(), req.uri.as_str()), ("POST", "/h2"));
    assert_eq!(req.attribute("query_string"), Some("x=1"));
    assert!(req.is_ssl);
    assert_eq!(
        (req.server_name.as_str(), req.server_port),
        ("localhost", addr.port())
    );
    assert_eq!(req.attribute("AJP_SSL_PROTOCOL"), Some("TLSv1.3"));
    assert!(req
        .attribute("ssl_cipher")
        .is_some_and(|c| c.starts_with("TLS_")));
    assert!(req.attribute("ssl_key_size").is_some());
    assert!(
        req.header("x-ssl-cipher").is_none(),
        "no X-SSL-* fields over AJP"
    );
    assert_eq!(req.body, b"h2 body");
}

/// Tomcat's AJP connector claims `Content-Length: 0` on a 304 (its HTTP connector sends
/// none); the client must not be told the resource is empty, and the connection stays usable.
fn a_304_with_tomcats_content_length_0_goes_out_without_one(driver: IoDriver) {
    let mut bytes = Vec::new();
    let mut headers = vec![4u8, 0x01, 0x30];
    string(&mut headers, b"304");
    headers.extend_from_slice(&2u16.to_be_bytes());
    headers.extend_from_slice(&0xA003u16.to_be_bytes());
    string(&mut headers, b"0");
    headers.extend_from_slice(&0xA004u16.to_be_bytes());
    string(&mut headers, b"Wed, 02 Dec 2026 10:00:00 GMT");
    packet(&mut bytes, &headers);
    packet(&mut bytes, &[5, 1]);
    let member = AjpMember::start(Script::Raw(bytes));
    let cfg = config(
        driver,
        vec![ajp_member(member.addr(), "", MemberAjp::default())],
    );
    let proxy = start_proxy(cfg);
    let mut c = Client::connect(common::addr(&proxy));
    for _ in 0..2 {
        let r = c.request(b"GET /x HTTP/1.1\r\nHost: h\r\nIf-None-Match: \"a\"\r\n\r\n");
        assert_eq!(r.status, 304);
        assert_eq!(r.header("content-length"), None, "{:?}", r.headers);
        assert_eq!(r.header("transfer-encoding"), None, "{:?}", r.headers);
        assert!(r.body.is_empty());
    }
    assert_eq!(member.connections(), 1);
}
