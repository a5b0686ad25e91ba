//! Framing: one table case per RFC 9112 section 6.3 rule (requests and responses), one per
//! smuggling refusal, and the connection facts.

use super::framing::{
    analyze_request, analyze_response, offered_upgrades, parse_decimal, response_framing,
    upgrade_accepted, BodyKind, Framing, FramingError, RequestFacts, ResponseFacts,
};
use super::head::{parse_request, parse_response};
use super::Version;

fn request(raw: &[u8]) -> Result<RequestFacts, FramingError> {
    let head = parse_request(raw, 64).unwrap().unwrap();
    analyze_request(raw, &head)
}

fn response(raw: &[u8], method: &[u8]) -> Result<ResponseFacts, FramingError> {
    let head = parse_response(raw, 64).unwrap().unwrap();
    analyze_response(raw, &head, method)
}

#[test]
fn request_body_rules() {
    let cases: [(&str, &[u8], BodyKind); 8] = [
        (
            "4: chunked",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
            BodyKind::Chunked,
        ),
        (
            "4: chunked, case and OWS",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  ChunKed \r\n\r\n",
            BodyKind::Chunked,
        ),
        (
            "4: empty elements ignored",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: ,chunked,\r\n\r\n",
            BodyKind::Chunked,
        ),
        (
            "6: content-length",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 42\r\n\r\n",
            BodyKind::Length(42),
        ),
        (
            "6: content-length 0 is no body",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
            BodyKind::None,
        ),
        (
            "6: equal duplicates",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\nContent-Length: 7, 007\r\n\r\n",
            BodyKind::Length(7),
        ),
        (
            "6: u64::MAX",
            b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551615\r\n\r\n",
            BodyKind::Length(u64::MAX),
        ),
        (
            "7: no framing headers",
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            BodyKind::None,
        ),
    ];
    for (rule, raw, body) in cases {
        assert_eq!(request(raw).map(|f| f.body), Ok(body), "{rule}");
    }
}

#[test]
fn request_smuggling_refusals() {
    let invalid = FramingError::Invalid;
    let cases: [(&str, &[u8], FramingError); 17] = [
        ("CL+TE", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", invalid("both transfer-encoding and content-length")),
        ("TE+CL", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 5\r\n\r\n", invalid("both transfer-encoding and content-length")),
        ("TE in HTTP/1.0", b"POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", invalid("transfer-encoding in HTTP/1.0 request")),
        ("final coding not chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n", invalid("chunked is not the final transfer coding")),
        ("only gzip", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n", invalid("chunked is not the final transfer coding")),
        ("chunked twice, one line", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n", invalid("chunked applied more than once")),
        ("chunked twice, two lines", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n", invalid("chunked applied more than once")),
        ("empty TE", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n", invalid("empty transfer-encoding")),
        ("TE 'chunked ' lookalike", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: xchunked\r\n\r\n", invalid("chunked is not the final transfer coding")),
        ("gzip then chunked", b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", FramingError::UnsupportedCoding),
        ("differing CL lines", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", invalid("differing content-length")),
        ("differing CL list", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5, 6\r\n\r\n", invalid("differing content-length")),
        ("CL +5", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +5\r\n\r\n", invalid("invalid content-length")),
        ("CL '5 5'", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5 5\r\n\r\n", invalid("invalid content-length")),
        ("CL 0x10", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n", invalid("invalid content-length")),
        ("CL overflow", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 18446744073709551616\r\n\r\n", invalid("invalid content-length")),
        ("CL empty", b"POST / HTTP/1.1\r\nHost: a\r\nContent-Length: \r\n\r\n", invalid("invalid content-length")),
    ];
    for (what, raw, err) in cases {
        assert_eq!(request(raw), Err(err), "{what}");
    }
    assert_eq!(FramingError::UnsupportedCoding.status(), 501);
    assert_eq!(FramingError::Invalid("x").status(), 400);
}

#[test]
fn request_host_rules() {
    let ok = |raw: &[u8]| request(raw).map(|f| f.host.map(|s| s.get(raw).to_vec()));
    assert_eq!(
        ok(b"GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n"),
        Ok(Some(b"a.example:8080".to_vec()))
    );
    assert_eq!(
        ok(b"GET / HTTP/1.1\r\nHost: [::1]:80\r\n\r\n"),
        Ok(Some(b"[::1]:80".to_vec()))
    );
    assert_eq!(ok(b"GET / HTTP/1.1\r\nHost:\r\n\r\n"), Ok(Some(Vec::new())));
    assert_eq!(ok(b"GET / HTTP/1.0\r\n\r\n"), Ok(None));
    let cases: [(&[u8], &str); 5] = [
        (b"GET / HTTP/1.1\r\n\r\n", "missing host header"),
        (
            b"GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n",
            "more than one host header",
        ),
        (
            b"GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n",
            "more than one host header",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a b\r\n\r\n",
            "invalid host header",
        ),
        (
            b"GET / HTTP/1.1\r\nHost: a/b\r\n\r\n",
            "invalid host header",
        ),
    ];
    for (raw, why) in cases {
        assert_eq!(request(raw), Err(FramingError::Invalid(why)), "{why}");
    }
}

#[test]
fn request_connection_facts() {
    // (raw, keep_alive, expect_continue, upgrade)
    let cases: [(&[u8], bool, bool, bool); 12] = [
        (b"GET / HTTP/1.1\r\nHost: a\r\n\r\n", true, false, false),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, Close\r\n\r\n", false, false, false),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: foo\r\nConnection: close\r\n\r\n", false, false, false),
        (b"GET / HTTP/1.0\r\n\r\n", false, false, false),
        (b"GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, false, false),
        (b"GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false, false, false),
        (b"PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-Continue\r\nContent-Length: 1\r\n\r\n", true, true, false),
        (b"PUT / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n", false, false, false),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, Upgrade\r\nUpgrade: websocket\r\n\r\n", true, false, true),
        (b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: websocket\r\n\r\n", true, false, false),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n\r\n", true, false, false),
        (b"GET / HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: H2C, websocket\r\n\r\n", true, false, true),
    ];
    for (raw, keep_alive, expect_continue, upgrade) in cases {
        let f = request(raw).unwrap();
        let what = String::from_utf8_lossy(raw);
        assert_eq!(
            (f.keep_alive, f.expect_continue, f.upgrade),
            (keep_alive, expect_continue, upgrade),
            "{what}"
        );
    }
}

#[test]
fn response_rules() {
    let facts = |body, keep_alive, interim, switching| ResponseFacts {
        body,
        keep_alive,
        interim,
        switching,
    };
    // (rule, raw, request method, facts(body, keep_alive, interim, switching))
    let cases: [(&str, &[u8], &[u8], ResponseFacts); 18] = [
        ("1: 100 interim", b"HTTP/1.1 100 Continue\r\n\r\n", b"PUT", facts(BodyKind::None, true, true, false)),
        ("1: 103 interim", b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n", b"GET", facts(BodyKind::None, true, true, false)),
        ("1: 101 switching", b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n", b"GET", facts(BodyKind::None, false, false, true)),
        ("1: 204 ignores CL", b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n", b"DELETE", facts(BodyKind::None, true, false, false)),
        ("1: 304 ignores TE", b"HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", facts(BodyKind::None, true, false, false)),
        ("1: HEAD ignores CL", b"HTTP/1.1 200 OK\r\nContent-Length: 500\r\n\r\n", b"HEAD", facts(BodyKind::None, true, false, false)),
        ("1: HEAD keeps Connection: close", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\n", b"HEAD", facts(BodyKind::None, false, false, false)),
        ("2: CONNECT 2xx tunnel", b"HTTP/1.1 200 Connection Established\r\n\r\n", b"CONNECT", facts(BodyKind::None, false, false, true)),
        ("3: TE wins over CL, no reuse", b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", facts(BodyKind::Chunked, false, false, false)),
        ("4: chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", facts(BodyKind::Chunked, true, false, false)),
        ("4: gzip, chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n", b"GET", facts(BodyKind::Chunked, true, false, false)),
        ("4: not chunked-final", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", b"GET", facts(BodyKind::UntilClose, false, false, false)),
        ("4: TE in HTTP/1.0", b"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\nConnection: keep-alive\r\n\r\n", b"GET", facts(BodyKind::UntilClose, false, false, false)),
        ("6: CL", b"HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n", b"GET", facts(BodyKind::Length(12), true, false, false)),
        ("6: CL 0", b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n", b"POST", facts(BodyKind::None, true, false, false)),
        ("6: HTTP/1.0 keep-alive", b"HTTP/1.0 200 OK\r\nContent-Length: 1\r\nConnection: keep-alive\r\n\r\n", b"GET", facts(BodyKind::Length(1), true, false, false)),
        ("7: until close", b"HTTP/1.1 200 OK\r\n\r\n", b"GET", facts(BodyKind::UntilClose, false, false, false)),
        ("7: HTTP/1.0 until close", b"HTTP/1.0 200 OK\r\nConnection: keep-alive\r\n\r\n", b"GET", facts(BodyKind::UntilClose, false, false, false)),
    ];
    for (rule, raw, method, expected) in cases {
        assert_eq!(response(raw, method), Ok(expected), "{rule}");
    }
}

#[test]
fn response_invalid_length() {
    let cases: [(&[u8], &str); 3] = [
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 4\r\n\r\n",
            "differing content-length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            "invalid content-length",
        ),
        (
            b"HTTP/1.1 200 OK\r\nContent-Length: 1 0\r\n\r\n",
            "invalid content-length",
        ),
    ];
    for (raw, why) in cases {
        assert_eq!(
            response(raw, b"GET"),
            Err(FramingError::Invalid(why)),
            "{why}"
        );
    }
}

#[test]
fn decimal() {
    let cases: [(&[u8], Option<u64>); 7] = [
        (b"0", Some(0)),
        (b"00012", Some(12)),
        (b"18446744073709551615", Some(u64::MAX)),
        (b"18446744073709551616", None),
        (b"", None),
        (b"1a", None),
        (b"-1", None),
    ];
    for (digits, n) in cases {
        assert_eq!(parse_decimal(digits), n);
    }
}

#[test]
fn upgrade_offers_and_acceptance() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\nUpgrade: h2c, WebSocket\r\nUpgrade: , foo/2\r\n\r\n";
    let head = parse_request(raw, 64).unwrap().unwrap();
    let offered: Vec<&[u8]> = offered_upgrades(&head.headers, raw).collect();
    assert_eq!(offered, [&b"WebSocket"[..], b"foo/2"]);

    // (101 Upgrade field lines, accepted when `websocket,foo/2` was offered)
    let cases: [(&str, bool); 7] = [
        ("Upgrade: websocket\r\n", true),
        ("Upgrade: WEBSOCKET\r\n", true),
        ("Upgrade: foo/2, websocket\r\n", true),
        ("Upgrade: h2c\r\n", false),
        ("Upgrade: websocket, bar\r\n", false),
        ("Upgrade: \r\n", false),
        ("", false),
    ];
    for (fields, want) in cases {
        let raw = format!("HTTP/1.1 101 Switching Protocols\r\n{fields}\r\n");
        let head = parse_response(raw.as_bytes(), 64).unwrap().unwrap();
        assert_eq!(
            upgrade_accepted(b"websocket,foo/2,", raw.as_bytes(), &head),
            want,
            "{fields:?}"
        );
    }
}

#[test]
fn response_framing_per_client_version() {
    use crate::http::rewrite::BodyOut;
    // (body, client version, announced, forwarded)
    let cases = [
        (BodyKind::None, Version::Http11, BodyOut::None, None),
        (BodyKind::None, Version::Http10, BodyOut::None, None),
        (
            BodyKind::Length(5),
            Version::Http10,
            BodyOut::Length(5),
            Some(Framing::Length(5)),
        ),
        (
            BodyKind::Chunked,
            Version::Http11,
            BodyOut::Chunked,
            Some(Framing::Chunked),
        ),
        (
            BodyKind::Chunked,
            Version::Http10,
            BodyOut::Close,
            Some(Framing::Dechunk),
        ),
        (
            BodyKind::UntilClose,
            Version::Http11,
            BodyOut::Close,
            Some(Framing::UntilClose),
        ),
    ];
    for (kind, version, body, framing) in cases {
        assert_eq!(
            response_framing(kind, version),
            (body, framing),
            "{kind:?} {version:?}"
        );
    }
}
