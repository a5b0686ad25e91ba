//! Table tests for [`super::format`]: every directive, escaping, missing values, predefined
//! formats and parse errors.

use std::net::IpAddr;

use super::format::{self, Format, Piece, Unit, Var};
use super::{HeaderView, Record, TimeCache};

const REQ: &[(&[u8], &[u8])] = &[
    (b"Host", b"example.com"),
    (b"User-Agent", b"curl/8.0"),
    (b"Referer", b"http://r.example/"),
    (b"Accept", b"text/html"),
    (b"accept", b"*/*"),
];
const RESP: &[(&[u8], &[u8])] = &[
    (b"Content-Type", b"text/html; charset=utf-8"),
    (b"Set-Cookie", b"JSESSIONID=abc.n1; Path=/"),
    (b"Set-Cookie", b"x=1"),
    (b"Content-Length", b"1234"),
];

fn full() -> Record<'static> {
    Record {
        client_ip: "192.0.2.7".parse().unwrap(),
        method: b"GET",
        target: b"/app/x;jsessionid=abc.n2?a=1&b=2",
        version: b"HTTP/1.1",
        status: 200,
        body_bytes: 1234,
        bytes_out: 1500,
        bytes_in: 321,
        total_us: 2_345_678,
        upstream_us: Some(1800),
        queue_us: Some(2500),
        balancer: Some("balancer://app"),
        worker_name: Some("http://10.0.0.1:8080"),
        worker_route: Some("n1"),
        session_sticky: Some(b"jsessionid"),
        session_route: Some(b"n2"),
        route_changed: true,
        worker: 3,
        attempts: 2,
        request_headers: HeaderView::Pairs(REQ),
        response_headers: HeaderView::Pairs(RESP),
        unix_time: 1_795_293_381,
    }
}

/// The line for `spec`, checked to end in exactly one `\n`, without it.
fn line(spec: &str, rec: &Record<'_>) -> String {
    let format = Format::parse(spec).unwrap_or_else(|e| panic!("{spec:?}: {e}"));
    let mut out = b"previous\n".to_vec();
    format.write(rec, &mut out);
    let line = out.strip_prefix(b"previous\n").expect("appends");
    let line = line.strip_suffix(b"\n").expect("ends with a newline");
    String::from_utf8(line.to_vec()).expect("utf-8")
}

#[test]
fn every_directive_with_values() {
    let rec = full();
    let cases: &[(&str, &str)] = &[
        ("%h", "192.0.2.7"),
        ("%a", "192.0.2.7"),
        ("%l", "-"),
        ("%u", "-"),
        ("%t", "[21/Nov/2026:20:36:21 +0000]"),
        ("%r", "GET /app/x;jsessionid=abc.n2?a=1&b=2 HTTP/1.1"),
        ("%m", "GET"),
        ("%U", "/app/x;jsessionid=abc.n2"),
        ("%q", "?a=1&b=2"),
        ("%H", "HTTP/1.1"),
        ("%s", "200"),
        ("%>s", "200"),
        ("%<s", "200"),
        ("%b", "1234"),
        ("%B", "1234"),
        ("%O", "1500"),
        ("%I", "321"),
        ("%D", "2345678"),
        ("%T", "2"),
        ("%{s}T", "2"),
        ("%{ms}T", "2345"),
        ("%{us}T", "2345678"),
        ("%{User-Agent}i", "curl/8.0"),
        ("%{user-agent}i", "curl/8.0"),
        ("%{Accept}i", "text/html, */*"),
        ("%{Content-Length}o", "1234"),
        ("%{Content-Type}o", "text/html"),
        ("%{Set-Cookie}o", "JSESSIONID=abc.n1; Path=/, x=1"),
        ("%{BALANCER_NAME}e", "balancer://app"),
        ("%{BALANCER_WORKER_NAME}e", "http://10.0.0.1:8080"),
        ("%{BALANCER_WORKER_ROUTE}e", "n1"),
        ("%{BALANCER_SESSION_STICKY}e", "jsessionid"),
        ("%{BALANCER_SESSION_ROUTE}e", "n2"),
        ("%{BALANCER_ROUTE_CHANGED}e", "1"),
        ("%{RINGLB_UPSTREAM_TIME}e", "1800"),
        ("%{RINGLB_QUEUE_TIME}e", "2500"),
        ("%{RINGLB_WORKER}e", "3"),
        ("%{RINGLB_ATTEMPTS}e", "2"),
        ("%%", "%"),
        ("100%% %>s!", "100% 200!"),
    ];
    for (spec, want) in cases {
        assert_eq!(line(spec, &rec), *want, "{spec}");
    }
}

#[test]
fn missing_values_print_a_dash() {
    let rec = Record::default();
    let cases: &[(&str, &str)] = &[
        ("%h", "0.0.0.0"),
        ("%r", "-"),
        ("%m", "-"),
        ("%U", "-"),
        ("%q", ""), // Apache: empty, not a dash
        ("%H", "-"),
        ("%s", "-"),
        ("%b", "-"),
        ("%B", "0"),
        ("%O", "0"),
        ("%I", "0"),
        ("%D", "0"),
        ("%T", "0"),
        ("%{Referer}i", "-"),
        ("%{Content-Type}o", "-"),
        ("%{BALANCER_NAME}e", "-"),
        ("%{BALANCER_WORKER_NAME}e", "-"),
        ("%{BALANCER_WORKER_ROUTE}e", "-"),
        ("%{BALANCER_SESSION_STICKY}e", "-"),
        ("%{BALANCER_SESSION_ROUTE}e", "-"),
        ("%{BALANCER_ROUTE_CHANGED}e", "-"),
        ("%{RINGLB_UPSTREAM_TIME}e", "-"),
        ("%{RINGLB_QUEUE_TIME}e", "-"),
        ("%{RINGLB_WORKER}e", "0"),
        ("%{RINGLB_ATTEMPTS}e", "0"),
        ("%t", "[01/Jan/1970:00:00:00 +0000]"),
    ];
    for (spec, want) in cases {
        assert_eq!(line(spec, &rec), *want, "{spec}");
    }
}

#[test]
fn empty_values_are_not_missing() {
    let headers: &[(&[u8], &[u8])] = &[(b"Referer", b"")];
    let rec = Record {
        worker_route: Some(""),
        request_headers: HeaderView::Pairs(headers),
        target: b"/p?",
        ..Record::default()
    };
    assert_eq!(
        line("%{Referer}i|%{BALANCER_WORKER_ROUTE}e|%q", &rec),
        "||?"
    );
}

#[test]
fn client_addresses() {
    let cases = [
        ("10.1.2.3", "10.1.2.3"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("::1", "::1"),
        ("::ffff:192.0.2.1", "192.0.2.1"), // v4-mapped, as APR prints it
    ];
    for (ip, want) in cases {
        let rec = Record {
            client_ip: ip.parse::<IpAddr>().unwrap(),
            ..Record::default()
        };
        assert_eq!(line("%h", &rec), want, "{ip}");
    }
}

#[test]
fn values_are_escaped_as_apache_does() {
    let cases: &[(&[u8], &str)] = &[
        (b"plain text", "plain text"),
        (b"say \"hi\"", r#"say \"hi\""#),
        (b"back\\slash", r"back\\slash"),
        (b"a\nb\rc\td", r"a\nb\rc\td"),
        (b"\x08\x0b", r"\b\v"),
        (b"\x00\x1b\x7f", r"\x00\x1b\x7f"),
        (b"caf\xc3\xa9", r"caf\xc3\xa9"),
        (b"\xff", r"\xff"),
        (b"", ""),
    ];
    for (raw, want) in cases {
        let headers = [(&b"User-Agent"[..], *raw)];
        let route = Some(*raw);
        let rec = Record {
            request_headers: HeaderView::Pairs(&headers),
            session_route: route,
            ..Record::default()
        };
        let got = line("%{User-Agent}i|%{BALANCER_SESSION_ROUTE}e", &rec);
        assert_eq!(got, format!("{want}|{want}"), "{raw:?}");
    }
}

#[test]
fn request_line_parts_are_escaped() {
    let rec = Record {
        method: b"G\"T",
        target: b"/a\"b\n?q=\"x\"\x01",
        version: b"HTTP/1.1",
        ..Record::default()
    };
    assert_eq!(
        line("%r|%m|%U|%q", &rec),
        r#"G\"T /a\"b\n?q=\"x\"\x01 HTTP/1.1|G\"T|/a\"b\n|?q=\"x\"\x01"#
    );
}

#[test]
fn target_forms() {
    let cases: &[(&[u8], &str, &str)] = &[
        (b"/", "/", ""),
        (b"/p?", "/p", "?"),
        (b"/p?a?b", "/p", "?a?b"),
        (b"http://host:8080/p/q?x=1", "/p/q", "?x=1"),
        (b"http://host", "/", ""),
        (b"http://host?x", "/", "?x"),
        (b"*", "*", ""),
    ];
    for (target, path, query) in cases {
        let rec = Record {
            target,
            method: b"GET",
            ..Record::default()
        };
        assert_eq!(line("%U|%q", &rec), format!("{path}|{query}"), "{target:?}");
    }
}

#[test]
fn request_line_without_version() {
    let rec = Record {
        method: b"GET",
        target: b"/",
        ..Record::default()
    };
    assert_eq!(line("%r", &rec), "GET /");
}

#[test]
fn headers_from_parsed_spans() {
    let buf = b"GET / HTTP/1.1\r\nHost: h\r\nX-A: 1\r\nx-a: 2\r\nUser-Agent: ua\r\n\r\n";
    let head = crate::http::head::parse_request(buf, 32).unwrap().unwrap();
    let rec = Record {
        request_headers: HeaderView::Spans {
            buf,
            headers: &head.headers,
        },
        ..Record::default()
    };
    assert_eq!(line("%{X-A}i|%{user-agent}i|%{Nope}i", &rec), "1, 2|ua|-");
}

#[test]
fn spans_outside_the_buffer_are_skipped() {
    use crate::http::{head::Header, Span};
    let headers = [
        Header {
            name: Span { start: 0, end: 3 },
            value: Span { start: 50, end: 60 },
        },
        Header {
            name: Span { start: 0, end: 3 },
            value: Span { start: 4, end: 5 },
        },
    ];
    let rec = Record {
        request_headers: HeaderView::Spans {
            buf: b"X-A 1",
            headers: &headers,
        },
        ..Record::default()
    };
    assert_eq!(line("%{X-A}i", &rec), "1");
}

#[test]
fn predefined_formats() {
    let rec = full();
    let common = concat!(
        r#"192.0.2.7 - - [21/Nov/2026:20:36:21 +0000] "#,
        r#""GET /app/x;jsessionid=abc.n2?a=1&b=2 HTTP/1.1" 200 1234"#
    );
    let combined = format!(r#"{common} "http://r.example/" "curl/8.0""#);
    assert_eq!(line("combined", &rec), combined);
    assert_eq!(line(format::COMBINED, &rec), combined);
    assert_eq!(line("common", &rec), common);
    assert_eq!(
        line("balancer", &rec),
        format!("{combined} n1 n2 1 2345678 1800")
    );
    assert_eq!(Format::default(), Format::parse("combined").unwrap());

    let empty = Record::default();
    assert_eq!(
        line("balancer", &empty),
        r#"0.0.0.0 - - [01/Jan/1970:00:00:00 +0000] "-" - - "-" "-" - - - 0 -"#
    );
}

#[test]
fn literal_escapes_and_merging() {
    let f = Format::parse(r#"a\tb %l %u %% \"c\" \n\\ \q"#).unwrap();
    assert_eq!(
        f.pieces(),
        [Piece::Literal(Box::from(&b"a\tb - - % \"c\" \n\\ \\q"[..]))]
    );
    let f = Format::parse(r"x %h\").unwrap();
    assert_eq!(
        f.pieces(),
        [
            Piece::Literal(Box::from(&b"x "[..])),
            Piece::ClientIp,
            Piece::Literal(Box::from(&b"\\"[..])),
        ]
    );
    let f = Format::parse("%D %{ms}T %{RINGLB_WORKER}e").unwrap();
    assert_eq!(f.pieces()[0], Piece::Duration(Unit::Micros));
    assert_eq!(f.pieces()[2], Piece::Duration(Unit::Millis));
    assert_eq!(f.pieces()[4], Piece::Env(Var::Worker));
    assert!(Format::parse("").unwrap().pieces().is_empty());
}

#[test]
fn parse_errors_name_the_column() {
    let cases: &[(&str, &str)] = &[
        ("%", "format ends inside the directive at column 1"),
        ("abc %", "format ends inside the directive at column 5"),
        ("%>", "format ends inside the directive at column 1"),
        ("abc %Z", "unknown directive '%Z' at column 5"),
        ("%h %400s", "unknown directive '%4' at column 4"),
        ("%!200s", "unknown directive '%!' at column 1"),
        ("é %Q", "unknown directive '%Q' at column 3"),
        ("%{Referer", "unclosed '{' in the directive at column 1"),
        (
            "%i",
            "directive '%i' at column 1 needs a header name: %{Name}i",
        ),
        (
            "%{}o",
            "directive '%o' at column 1 needs a header name: %{Name}o",
        ),
        (
            "%{Bad Name}i",
            "directive '%i' at column 1 needs a header name: %{Name}i",
        ),
        ("%e", "directive '%e' at column 1 needs a name: %{VAR}e"),
        (
            "%{HOME}e",
            "unknown variable 'HOME' in '%{HOME}e' at column 1",
        ),
        (
            "%{balancer_name}e",
            "unknown variable 'balancer_name' in '%{balancer_name}e' at column 1",
        ),
        (
            "%{x}h",
            "directive '%h' at column 1 takes no {argument} (got 'x')",
        ),
        (
            "%{%d/%b}t",
            "directive '%t' at column 1 takes no {argument} (got '%d/%b')",
        ),
        (
            "%{min}T",
            "unknown unit 'min' in '%{min}T' at column 1 (use s, ms or us)",
        ),
        ("%{x}%", "unknown directive '%%' at column 1"),
        ("%<<s", "unknown directive '%<' at column 1"),
    ];
    for (spec, want) in cases {
        assert_eq!(Format::parse(spec).unwrap_err(), *want, "{spec}");
    }
}

#[test]
fn write_appends_one_line_and_only_grows_out() {
    let f = Format::parse("balancer").unwrap();
    let rec = full();
    let mut cache = TimeCache::new();
    let mut out = Vec::with_capacity(4096);
    let ptr = out.as_ptr();
    for _ in 0..3 {
        f.write_with(&rec, &mut cache, &mut out);
    }
    assert_eq!(out.as_ptr(), ptr, "no reallocation of a big enough buffer");
    assert_eq!(memchr::memchr_iter(b'\n', &out).count(), 3);
    let one = out.len() / 3;
    assert_eq!(out[..one], out[one..2 * one]);
}
