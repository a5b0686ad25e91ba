//! Head rewriting: hop-by-hop removal, X-Forwarded-*, Host, framing and Connection fields,
//! interim heads and ringlb's own error responses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::framing::{analyze_request, analyze_response, BodyKind};
use super::head::{parse_request, parse_response};
use super::push_decimal;
use super::rewrite::{
    is_tls_fact_field, reason_phrase, write_error, write_interim_head, write_request_head,
    write_response_head, BodyOut, RequestRewrite, ResponseRewrite,
};
use super::Version;

const CLIENT: IpAddr = IpAddr::V4(Ipv4Addr::new(192, 0, 2, 7));

fn plain() -> RequestRewrite<'static> {
    RequestRewrite {
        target_prefix: b"",
        target_rest: b"/",
        host: None,
        forwarded_for: None,
        forwarded_proto: None,
        forwarded_host: false,
        extra: &[],
        trust_forwarded: false,
    }
}

fn rewrite_request(raw: &[u8], rw: &RequestRewrite<'_>) -> String {
    let head = parse_request(raw, 64).unwrap().unwrap();
    let facts = analyze_request(raw, &head).unwrap();
    let mut out = b"KEPT|".to_vec();
    write_request_head(&mut out, raw, &head, &facts, rw);
    let out = String::from_utf8(out).unwrap();
    let out = out
        .strip_prefix("KEPT|")
        .expect("appends to out")
        .to_owned();
    // The result must itself parse as a request head of the same length.
    let again = parse_request(out.as_bytes(), 64).unwrap().unwrap();
    assert_eq!(again.len, out.len());
    out
}

#[test]
fn request_heads() {
    let xff = RequestRewrite {
        forwarded_for: Some(CLIENT),
        ..plain()
    };
    let all = RequestRewrite {
        target_prefix: b"/app",
        target_rest: b"/x?y=1",
        host: Some(b"member.internal:8080"),
        forwarded_for: Some(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        forwarded_proto: Some(b"https"),
        forwarded_host: true,
        extra: &[(b"X-Route", b"node1")],
        trust_forwarded: false,
    };
    let trusted_xff = RequestRewrite {
        trust_forwarded: true,
        ..xff
    };
    let trusted_plain = RequestRewrite {
        trust_forwarded: true,
        ..plain()
    };
    let cases: [(&str, &[u8], RequestRewrite<'_>, &str); 11] = [
        (
            "plain copy, HTTP/1.0 upgraded to 1.1 line, original case",
            b"GET /ignored HTTP/1.0\r\nhOsT: a\r\nAccept: */*\r\n\r\n",
            plain(),
            "GET / HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n",
        ),
        (
            "hop-by-hop and Connection-named fields removed",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: keep-alive, X-Secret\r\nKeep-Alive: 5\r\nProxy-Connection: x\r\nTE: trailers\r\nTrailer: X\r\nProxy-Authorization: Basic x\r\nx-secret: 1\r\nX-Kept: 2\r\n\r\n",
            plain(),
            "GET / HTTP/1.1\r\nHost: a\r\nX-Kept: 2\r\n\r\n",
        ),
        (
            "Connection cannot strip Host",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: host\r\n\r\n",
            plain(),
            "GET / HTTP/1.1\r\nHost: a\r\n\r\n",
        ),
        (
            "X-Forwarded-For added",
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\n",
            xff,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n",
        ),
        (
            "X-Forwarded-For of a trusted proxy appended to, lines merged",
            b"GET / HTTP/1.1\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2\r\nHost: a\r\nx-forwarded-for: 10.0.0.3\r\n\r\n",
            trusted_xff,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 10.0.0.1, 10.0.0.2, 10.0.0.3, 192.0.2.7\r\n\r\n",
        ),
        (
            "X-Forwarded-For named in Connection is dropped before appending",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: X-Forwarded-For\r\nX-Forwarded-For: 6.6.6.6\r\n\r\n",
            trusted_xff,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\n\r\n",
        ),
        (
            "X-Forwarded-For of a trusted proxy kept as is without forwarded_for",
            b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n",
            trusted_plain,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 1.1.1.1\r\nX-Forwarded-For: 2.2.2.2\r\n\r\n",
        ),
        (
            "Host replaced, prefix, X-Forwarded-* replaced, extra last",
            b"POST /x HTTP/1.1\r\nX-Forwarded-Proto: http\r\nHost: public.example\r\nX-Forwarded-Host: evil\r\nContent-Length: 3\r\n\r\n",
            all,
            "POST /app/x?y=1 HTTP/1.1\r\nHost: member.internal:8080\r\nX-Forwarded-For: ::1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: public.example\r\nContent-Length: 3\r\nX-Route: node1\r\n\r\n",
        ),
        (
            "chunked framing rewritten, TE list normalised",
            b"POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding:  Chunked\r\n\r\n",
            plain(),
            "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (
            "equal duplicate Content-Length collapsed; explicit 0 kept",
            b"PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\nContent-Length: 00\r\n\r\n",
            plain(),
            "PUT / HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "upgrade keeps Upgrade and writes Connection: Upgrade",
            b"GET /ws HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Key: k\r\n\r\n",
            plain(),
            "GET / HTTP/1.1\r\nHost: a\r\nSec-WebSocket-Key: k\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n",
        ),
    ];
    for (what, raw, rw, expected) in cases {
        assert_eq!(rewrite_request(raw, &rw), expected, "{what}");
    }
}

#[test]
fn tls_fact_field_names() {
    for name in [
        "X-SSL-Client-Cert",
        "x-ssl-cipher",
        "X_SSL_Cipher",
        "ssl_client_cert",
        "SSL_CIPHER_USEKEYSIZE",
        "ssl-session-id",
        "X-Ssl-Protocol",
    ] {
        assert!(is_tls_fact_field(name.as_bytes()), "{name} kept");
    }
    for name in [
        "X-SSL",
        "X-SSL-",
        "SSL_",
        "X-SSLx",
        "sslx",
        "X-Forwarded-Proto",
        "XSSL-A",
        "",
    ] {
        assert!(!is_tls_fact_field(name.as_bytes()), "{name} removed");
    }
}

/// A client's TLS facts never pass, trusted or not; ringlb's own (in `extra`) do.
#[test]
fn tls_fact_fields_from_clients_are_dropped() {
    let raw: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX-SSL-Client-Cert: forged\r\n\
                       ssl_cipher: NULL\r\nX-Other: 1\r\nX_SSL_Protocol: SSLv2\r\n\r\n";
    let want_plain = "GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\n\r\n";
    for trust_forwarded in [false, true] {
        let rw = RequestRewrite {
            trust_forwarded,
            ..plain()
        };
        assert_eq!(
            rewrite_request(raw, &rw),
            want_plain,
            "trusted: {trust_forwarded}"
        );
    }
    let ours = RequestRewrite {
        extra: &[(b"X-SSL-Protocol", b"TLSv1.3")],
        ..plain()
    };
    assert_eq!(
        rewrite_request(raw, &ours),
        "GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\nX-SSL-Protocol: TLSv1.3\r\n\r\n"
    );
}

/// `trust_forwarded`: what a trusted proxy says stands, nobody else's `X-Forwarded-*` passes.
#[test]
fn forwarded_fields_by_trust() {
    let ours = RequestRewrite {
        forwarded_for: Some(CLIENT),
        forwarded_proto: Some(b"http"),
        forwarded_host: true,
        ..plain()
    };
    let trusted = RequestRewrite {
        trust_forwarded: true,
        ..ours
    };
    let off = plain();
    let spoof: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Other: 1\r\n\r\n";
    let bare: &[u8] = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    let cases: [(&str, &[u8], RequestRewrite<'_>, &str); 6] = [
        (
            "untrusted: all three replaced",
            spoof,
            ours,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\n\r\n",
        ),
        (
            "untrusted, headers off: all three dropped",
            spoof,
            off,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Other: 1\r\n\r\n",
        ),
        (
            "trusted: For appended to, Proto and Host kept in place",
            spoof,
            trusted,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Other: 1\r\nX-Forwarded-For: 6.6.6.6, 192.0.2.7\r\n\r\n",
        ),
        (
            "trusted, headers off: passed through",
            spoof,
            RequestRewrite {
                trust_forwarded: true,
                ..off
            },
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\nX-Other: 1\r\n\r\n",
        ),
        (
            "trusted without its own: ours written",
            bare,
            trusted,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\n\r\n",
        ),
        (
            "trusted, but its fields named in Connection: dropped, ours written",
            b"GET / HTTP/1.1\r\nHost: a\r\nConnection: x-forwarded-proto, X-Forwarded-Host\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n\r\n",
            trusted,
            "GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 192.0.2.7\r\nX-Forwarded-Proto: http\r\nX-Forwarded-Host: a\r\n\r\n",
        ),
    ];
    for (what, raw, rw, expected) in cases {
        assert_eq!(rewrite_request(raw, &rw), expected, "{what}");
    }
}

#[test]
fn request_without_client_host() {
    let raw = b"GET / HTTP/1.0\r\n\r\n";
    let rw = RequestRewrite {
        forwarded_host: true,
        ..plain()
    };
    assert_eq!(rewrite_request(raw, &rw), "GET / HTTP/1.1\r\n\r\n");
    let rw = RequestRewrite {
        host: Some(b"m"),
        ..plain()
    };
    assert_eq!(
        rewrite_request(raw, &rw),
        "GET / HTTP/1.1\r\nHost: m\r\n\r\n"
    );
}

fn rewrite_response(raw: &[u8], rw: &ResponseRewrite<'_>) -> String {
    let head = parse_response(raw, 64).unwrap().unwrap();
    let mut out = Vec::new();
    write_response_head(&mut out, raw, &head, rw);
    let again = parse_response(&out, 64).unwrap().unwrap();
    assert_eq!(again.len, out.len());
    String::from_utf8(out).unwrap()
}

#[test]
fn response_heads() {
    let keep = |body| ResponseRewrite {
        keep_alive: true,
        client_version: Version::Http11,
        body,
        extra: &[],
        reverse: None,
    };
    let cases: [(&str, &[u8], ResponseRewrite<'_>, &str); 10] = [
        (
            "204 drops a stray Content-Length",
            b"HTTP/1.1 204 No Content\r\nContent-Length: 3\r\n\r\n",
            keep(BodyOut::None),
            "HTTP/1.1 204 No Content\r\n\r\n",
        ),
        (
            "length re-emitted, hop-by-hop and Connection-named removed",
            b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Internal\r\nKeep-Alive: timeout=5\r\nX-Internal: 1\r\nUpgrade: h2c\r\nTrailer: X\r\nContent-Type: text/plain\r\n\r\n",
            keep(BodyOut::Length(5)),
            "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 5\r\n\r\n",
        ),
        (
            "HTTP/1.0 member, empty reason gets the standard one",
            b"HTTP/1.0 404\r\nContent-Length: 0\r\n\r\n",
            keep(BodyOut::None),
            "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n",
        ),
        (
            "member reason kept",
            b"HTTP/1.1 200 Fine Thanks\r\nContent-Length: 1\r\n\r\n",
            keep(BodyOut::Length(1)),
            "HTTP/1.1 200 Fine Thanks\r\nContent-Length: 1\r\n\r\n",
        ),
        (
            "HEAD response keeps the member's Content-Length",
            b"HTTP/1.1 200 OK\r\ncontent-length: 1234\r\nETag: \"x\"\r\n\r\n",
            keep(BodyOut::None),
            "HTTP/1.1 200 OK\r\nETag: \"x\"\r\ncontent-length: 1234\r\n\r\n",
        ),
        (
            "chunked",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
            keep(BodyOut::Chunked),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (
            "chunked pass-through keeps the member's codings",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
            keep(BodyOut::Chunked),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
        ),
        (
            "length body re-chunked",
            b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
            keep(BodyOut::Chunked),
            "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        (
            "close-delimited, not kept alive",
            b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
            ResponseRewrite { keep_alive: false, ..keep(BodyOut::Close) },
            "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n",
        ),
        (
            "HTTP/1.0 client kept alive, extra fields",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n",
            ResponseRewrite {
                client_version: Version::Http10,
                extra: &[(b"Set-Cookie", b"ROUTEID=.n1; path=/")],
                ..keep(BodyOut::Length(2))
            },
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\nSet-Cookie: ROUTEID=.n1; path=/\r\n\r\n",
        ),
    ];
    for (what, raw, rw, expected) in cases {
        assert_eq!(rewrite_response(raw, &rw), expected, "{what}");
    }
}

#[test]
fn response_facts_to_rewrite() {
    // A chunked response to a HTTP/1.0 client is decoded and sent close-delimited.
    let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n";
    let head = parse_response(raw, 64).unwrap().unwrap();
    assert_eq!(
        analyze_response(raw, &head, b"GET").unwrap().body,
        BodyKind::Chunked
    );
    let rw = ResponseRewrite {
        keep_alive: false,
        client_version: Version::Http10,
        body: BodyOut::Close,
        extra: &[],
        reverse: None,
    };
    assert_eq!(
        rewrite_response(raw, &rw),
        "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    );
}

#[test]
fn interim_heads() {
    let cases: [(&[u8], &str); 3] = [
        (b"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 100 Continue\r\n\r\n"),
        (
            b"HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\nConnection: keep-alive\r\nContent-Length: 0\r\n\r\n",
            "HTTP/1.1 103 Early Hints\r\nLink: </s.css>\r\n\r\n",
        ),
        (
            b"HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nConnection: upgrade\r\nSec-WebSocket-Accept: x\r\n\r\n",
            "HTTP/1.1 101 Switching Protocols\r\nupgrade: websocket\r\nSec-WebSocket-Accept: x\r\nConnection: Upgrade\r\n\r\n",
        ),
    ];
    for (raw, expected) in cases {
        let head = parse_response(raw, 64).unwrap().unwrap();
        let mut out = Vec::new();
        write_interim_head(&mut out, raw, &head);
        assert_eq!(String::from_utf8(out).unwrap(), expected);
    }
}

#[test]
fn error_responses() {
    let mut out = Vec::new();
    write_error(
        &mut out,
        502,
        "member closed",
        true,
        &[(b"Retry-After", b"1")],
    );
    let expected = "HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/plain; charset=utf-8\r\n\
        Content-Length: 31\r\nConnection: close\r\nRetry-After: 1\r\n\r\n\
        502 Bad Gateway: member closed\n";
    assert_eq!(String::from_utf8(out).unwrap(), expected);

    for status in [
        100, 101, 200, 201, 204, 301, 302, 304, 400, 404, 405, 408, 413, 414, 417, 431,
    ]
    .into_iter()
    .chain([500, 501, 502, 503, 504])
    {
        assert!(!reason_phrase(status).is_empty(), "{status}");
        let mut out = Vec::new();
        write_error(&mut out, status, "why", false, &[]);
        let head = parse_response(&out, 8).unwrap().unwrap();
        assert_eq!(head.status, status);
        let body = &out[head.len..];
        let length = std::str::from_utf8(&out[..head.len])
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Content-Length: "))
            .unwrap()
            .parse::<usize>()
            .unwrap();
        assert_eq!(length, body.len(), "{status}");
        assert!(!String::from_utf8_lossy(&out).contains("Connection"));
    }
    assert_eq!(reason_phrase(299), "");
}

#[test]
fn decimals() {
    let cases: [(u64, &str); 4] = [
        (0, "0"),
        (7, "7"),
        (1234567890, "1234567890"),
        (u64::MAX, "18446744073709551615"),
    ];
    for (n, text) in cases {
        let mut out = b"x".to_vec();
        push_decimal(&mut out, n);
        assert_eq!(out, [b"x", text.as_bytes()].concat());
    }
}
