//! PROXY protocol (`proxy_protocol`) and `trusted_proxies` through real sockets: whom the
//! member and the access log take for the client, and what happens to connections without a
//! valid header. The member's `X-Forwarded-For` and the access log's `%h` are the witnesses.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::path::PathBuf;

use common::{config, member, raw_exchange, start_proxy, Client, MockMember};
use ringlb::config::{AccessTarget, Config, IoDriver};
use ringlb::ipnet::IpNet;
use ringlb::proxy_protocol::V2_SIGNATURE;
use ringlb::server::ServerHandle;

both_drivers!(
    v1_tcp4_source_is_the_client_for_every_request,
    v1_tcp6_source_is_the_client,
    v2_with_tlvs_source_is_the_client,
    v2_local_keeps_the_peer,
    v1_unknown_keeps_the_peer,
    header_split_over_several_writes,
    connection_without_a_header_is_closed,
    garbage_headers_are_refused,
    silent_connection_is_closed_after_client_header,
    x_forwarded_from_an_untrusted_peer_replaced,
    x_forwarded_from_a_trusted_peer_kept_and_appended,
    proxy_source_decides_trust,
);

const GET: &[u8] = b"GET /who HTTP/1.1\r\nHost: shop.example\r\n\r\n";

/// A proxy over `m` with `edit` applied, the access log (`%h %U`) in a fresh file.
struct Setup {
    proxy: ServerHandle,
    log: PathBuf,
}

impl Setup {
    fn new(driver: IoDriver, m: &MockMember, name: &str, edit: impl FnOnce(&mut Config)) -> Setup {
        let log = std::env::temp_dir().join(format!(
            "ringlb-pp-{name}-{}-{driver:?}.log",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&log);
        let mut cfg = config(driver, vec![member(m.addr(), "node1", 100)]);
        cfg.ops.log.access = Some(AccessTarget::File(log.clone()));
        cfg.ops.log.access_format = "%h %U".into();
        edit(&mut cfg);
        Setup {
            proxy: start_proxy(cfg),
            log,
        }
    }

    fn addr(&self) -> std::net::SocketAddr {
        common::addr(&self.proxy)
    }

    /// Waits for `n` access log lines and returns them.
    fn log_lines(&self, n: usize) -> Vec<String> {
        common::wait_for_lines(&self.log, n)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

fn proxied(cfg: &mut Config) {
    cfg.trust.proxy_protocol = true;
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().unwrap()).collect()
}

/// A v2 header: command (0 LOCAL, 1 PROXY), family byte, address block and TLVs.
fn v2(command: u8, family: u8, rest: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(0x20 | command);
    out.push(family);
    out.extend_from_slice(&u16::try_from(rest.len()).unwrap().to_be_bytes());
    out.extend_from_slice(rest);
    out
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

/// The one `X-Forwarded-For` value of the member's request number `i`.
fn xff(m: &MockMember, i: usize) -> String {
    let seen = m.requests();
    let values = seen[i].headers_named("x-forwarded-for");
    assert_eq!(values.len(), 1, "one X-Forwarded-For: {values:?}");
    values[0].to_owned()
}

fn v1_tcp4_source_is_the_client_for_every_request(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "v1tcp4", proxied);
    let mut c = Client::connect(s.addr());
    // The header and the first request in one write: the request is what follows the header.
    let first = cat(&[b"PROXY TCP4 203.0.113.9 198.51.100.1 56324 80\r\n", GET]);
    assert_eq!(c.request(&first).status, 200);
    // The header comes once per connection; the next request on it has the same client.
    assert_eq!(c.request(GET).status, 200);
    assert_eq!(xff(&m, 0), "203.0.113.9");
    assert_eq!(xff(&m, 1), "203.0.113.9");
    assert_eq!(s.log_lines(2), ["203.0.113.9 /who", "203.0.113.9 /who"]);
}

fn v1_tcp6_source_is_the_client(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "v1tcp6", proxied);
    let mut c = Client::connect(s.addr());
    let req = cat(&[b"PROXY TCP6 2001:db8::9 2001:db8::1 4242 443\r\n", GET]);
    assert_eq!(c.request(&req).status, 200);
    assert_eq!(xff(&m, 0), "2001:db8::9");
    assert_eq!(s.log_lines(1), ["2001:db8::9 /who"]);
}

fn v2_with_tlvs_source_is_the_client(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "v2tlv", proxied);
    let mut block = vec![192, 0, 2, 77, 198, 51, 100, 1, 0xdc, 0x04, 0, 80];
    // ALPN, authority, and an AWS-style VPC endpoint TLV: skipped.
    block.extend_from_slice(&[0x01, 0, 2, b'h', b'2']);
    block.extend_from_slice(&[0x02, 0, 12]);
    block.extend_from_slice(b"shop.example");
    block.extend_from_slice(&[0xea, 0, 5, 0x01, b'v', b'p', b'c', b'e']);
    let mut c = Client::connect(s.addr());
    // The header alone first, the request in a later write.
    c.send(&v2(1, 0x11, &block));
    assert_eq!(c.request(GET).status, 200);
    assert_eq!(xff(&m, 0), "192.0.2.77");
    assert_eq!(s.log_lines(1), ["192.0.2.77 /who"]);
}

fn v2_local_keeps_the_peer(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "v2local", proxied);
    let mut c = Client::connect(s.addr());
    let peer = c.local_addr().ip().to_string();
    // LOCAL (the balancer's own health check): the address block is ignored.
    let block = [10, 9, 9, 9, 10, 0, 0, 1, 0, 1, 0, 80];
    let req = cat(&[&v2(0, 0x11, &block), GET]);
    assert_eq!(c.request(&req).status, 200);
    assert_eq!(xff(&m, 0), peer);
    assert_eq!(s.log_lines(1), [format!("{peer} /who")]);
}

fn v1_unknown_keeps_the_peer(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "v1unknown", proxied);
    let mut c = Client::connect(s.addr());
    let peer = c.local_addr().ip().to_string();
    assert_eq!(c.request(&cat(&[b"PROXY UNKNOWN\r\n", GET])).status, 200);
    assert_eq!(xff(&m, 0), peer);
}

fn header_split_over_several_writes(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "split", proxied);
    let v1 = cat(&[b"PROXY TCP4 203.0.113.10 198.51.100.1 1000 80\r\n", GET]);
    let block = [203, 0, 113, 11, 198, 51, 100, 1, 0, 1, 0, 80, 0x04, 0, 0];
    let v2 = cat(&[&v2(1, 0x11, &block), GET]);
    for (bytes, cuts, want) in [
        (&v1, &[1usize, 6, 20, 45][..], "203.0.113.10"),
        (&v2, &[3, 12, 13, 15, 16, 22, 30][..], "203.0.113.11"),
    ] {
        let mut c = Client::connect(s.addr());
        let mut from = 0;
        for &cut in cuts {
            c.send(&bytes[from..cut]);
            from = cut;
        }
        assert_eq!(c.request(&bytes[from..]).status, 200);
        let seen = m.requests();
        let last = seen.last().unwrap().headers_named("x-forwarded-for");
        assert_eq!(last, [want]);
    }
}

fn connection_without_a_header_is_closed(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "noheader", proxied);
    // A plain request where a header must be: closed without a response (HAProxy
    // `accept-proxy`), never forwarded.
    assert_eq!(raw_exchange(s.addr(), GET), b"");
    assert!(m.requests().is_empty());
    // The listener still serves proxied connections.
    let mut c = Client::connect(s.addr());
    let req = cat(&[b"PROXY TCP4 203.0.113.9 198.51.100.1 1 80\r\n", GET]);
    assert_eq!(c.request(&req).status, 200);
}

fn garbage_headers_are_refused(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "garbage", proxied);
    let long = cat(&[b"PROXY UNKNOWN ", &[b'x'; 120], b"\r\n"]);
    let block = [192, 0, 2, 1, 198, 51, 100, 1, 0, 1, 0, 80];
    let mut bad_version = v2(1, 0x11, &block);
    bad_version[12] = 0x11;
    let mut huge = v2(1, 0x11, &block);
    huge[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    let cases: [(&str, Vec<u8>); 8] = [
        (
            "v1 bad address",
            b"PROXY TCP4 203.0.113 198.51.100.1 1 80\r\n".to_vec(),
        ),
        (
            "v1 bare LF",
            b"PROXY TCP4 203.0.113.9 198.51.100.1 1 80\n".to_vec(),
        ),
        ("v1 too long", long),
        (
            "v1 port",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 99999 80\r\n".to_vec(),
        ),
        ("v2 version", bad_version),
        ("v2 family", v2(1, 0x51, &block)),
        (
            "v2 TLV overrun",
            v2(1, 0x11, &cat(&[&block, &[1, 0, 9, 0]])),
        ),
        ("v2 too long", huge),
    ];
    for (name, header) in cases {
        let got = raw_exchange(s.addr(), &cat(&[&header, GET]));
        assert!(
            got.is_empty(),
            "{name}: {:?}",
            String::from_utf8_lossy(&got)
        );
    }
    assert!(m.requests().is_empty(), "nothing forwarded");
}

fn silent_connection_is_closed_after_client_header(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "silent", |cfg| {
        proxied(cfg);
        cfg.timeouts.client_header = std::time::Duration::from_millis(300);
    });
    // Half a header, then nothing: the connection is closed at the deadline (the read
    // returns at the close; the IO timeout of the test client is far longer).
    assert_eq!(raw_exchange(s.addr(), b"PROXY TCP4 203."), b"");
    assert_eq!(raw_exchange(s.addr(), b""), b"");
}

fn x_forwarded_from_an_untrusted_peer_replaced(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "untrusted", |_| {});
    let mut c = Client::connect(s.addr());
    let peer = c.local_addr().ip().to_string();
    let req = b"GET /who HTTP/1.1\r\nHost: shop.example\r\nX-Forwarded-For: 6.6.6.6\r\n\
                X-Forwarded-Proto: https\r\nX-Forwarded-Host: evil.example\r\n\r\n";
    assert_eq!(c.request(req).status, 200);
    let seen = m.requests();
    assert_eq!(seen[0].headers_named("x-forwarded-for"), [peer.as_str()]);
    assert_eq!(seen[0].headers_named("x-forwarded-proto"), ["http"]);
    assert_eq!(seen[0].headers_named("x-forwarded-host"), ["shop.example"]);
    assert_eq!(s.log_lines(1), [format!("{peer} /who")]);
}

fn x_forwarded_from_a_trusted_peer_kept_and_appended(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "trusted", |cfg| {
        cfg.trust.trusted_proxies = nets(&["127.0.0.0/8", "10.0.0.0/8"]);
    });
    let mut c = Client::connect(s.addr());
    let peer = c.local_addr().ip().to_string();
    let req = b"GET /who HTTP/1.1\r\nHost: shop.example\r\n\
                X-Forwarded-For: 6.6.6.6, 203.0.113.7, 10.1.1.1\r\n\
                X-Forwarded-Proto: https\r\nX-Forwarded-Host: www.example\r\n\r\n";
    assert_eq!(c.request(req).status, 200);
    let seen = m.requests();
    let want = format!("6.6.6.6, 203.0.113.7, 10.1.1.1, {peer}");
    assert_eq!(seen[0].headers_named("x-forwarded-for"), [want.as_str()]);
    assert_eq!(seen[0].headers_named("x-forwarded-proto"), ["https"]);
    assert_eq!(seen[0].headers_named("x-forwarded-host"), ["www.example"]);
    // The client is the right-most address that is not a trusted proxy.
    assert_eq!(s.log_lines(1), ["203.0.113.7 /who"]);
}

fn proxy_source_decides_trust(driver: IoDriver) {
    let m = MockMember::named("m");
    let s = Setup::new(driver, &m, "pptrust", |cfg| {
        proxied(cfg);
        cfg.trust.trusted_proxies = nets(&["10.0.0.0/8"]);
    });
    let spoof = b"GET /who HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\n\
                  X-Forwarded-Proto: https\r\n\r\n";
    // The TCP peer (127.0.0.1) is not trusted, but it is not the client either: the PROXY
    // source is, and an untrusted one has its X-Forwarded-* replaced.
    let mut c = Client::connect(s.addr());
    let req = cat(&[b"PROXY TCP4 203.0.113.9 198.51.100.1 1 80\r\n", spoof]);
    assert_eq!(c.request(&req).status, 200);
    // A trusted PROXY source (an L7 proxy behind the L4 balancer) is believed.
    let mut c = Client::connect(s.addr());
    let req = cat(&[b"PROXY TCP4 10.1.1.1 198.51.100.1 1 80\r\n", spoof]);
    assert_eq!(c.request(&req).status, 200);
    let seen = m.requests();
    assert_eq!(seen[0].headers_named("x-forwarded-for"), ["203.0.113.9"]);
    assert_eq!(seen[0].headers_named("x-forwarded-proto"), ["http"]);
    assert_eq!(
        seen[1].headers_named("x-forwarded-for"),
        ["6.6.6.6, 10.1.1.1"]
    );
    assert_eq!(seen[1].headers_named("x-forwarded-proto"), ["https"]);
    assert_eq!(s.log_lines(2), ["203.0.113.9 /who", "6.6.6.6 /who"]);
}
