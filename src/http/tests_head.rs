//! Head parsing: strict syntax refusals, spans, partial input, header limits.

use super::head::{find, has_token, list_items, parse_request, parse_response, HeadError};
use super::{Version, MAX_HEADERS};

#[test]
fn request_spans_and_version() {
    let buf =
        b"GET /a?b=c HTTP/1.0\r\nHost: example.com\r\nX-Empty:\r\nX-Pad: \t v w \t\r\n\r\nBODY";
    let head = parse_request(buf, 32).unwrap().unwrap();
    assert_eq!(head.method.get(buf), b"GET");
    assert_eq!(head.target.get(buf), b"/a?b=c");
    assert_eq!(head.version, Version::Http10);
    assert_eq!(head.len, buf.len() - 4);
    let fields: Vec<(&[u8], &[u8])> = head
        .headers
        .iter()
        .map(|h| (h.name.get(buf), h.value.get(buf)))
        .collect();
    let expected: [(&[u8], &[u8]); 3] = [
        (b"Host", b"example.com"),
        (b"X-Empty", b""),
        (b"X-Pad", b"v w"),
    ];
    assert_eq!(fields, expected);
    assert_eq!(find(&head.headers, buf, b"x-pad"), Some(&b"v w"[..]));
}

#[test]
fn response_spans() {
    let cases: [(&[u8], u16, &[u8], Version); 3] = [
        (
            b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n",
            200,
            b"OK",
            Version::Http11,
        ),
        (
            b"HTTP/1.0 404 Not Here\r\n\r\n",
            404,
            b"Not Here",
            Version::Http10,
        ),
        (b"HTTP/1.1 204\r\n\r\n", 204, b"", Version::Http11),
    ];
    for (buf, status, reason, version) in cases {
        let head = parse_response(buf, 32).unwrap().unwrap();
        assert_eq!(
            (head.status, head.reason.get(buf), head.version),
            (status, reason, version)
        );
        assert_eq!(head.len, buf.len());
    }
}

#[test]
fn partial_heads_are_none() {
    let full = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    for cut in 0..full.len() {
        assert_eq!(
            parse_request(&full[..cut], 32).map(|h| h.is_none()),
            Ok(true),
            "cut {cut}"
        );
    }
    let full = b"HTTP/1.1 200 OK\r\nA: b\r\n\r\n";
    for cut in 0..full.len() {
        assert_eq!(
            parse_response(&full[..cut], 32).map(|h| h.is_none()),
            Ok(true),
            "cut {cut}"
        );
    }
}

#[test]
fn malformed_requests_are_refused() {
    let cases: [(&str, &[u8], &str); 11] = [
        (
            "obs-fold",
            b"GET / HTTP/1.1\r\nHost: a\r\nX: b\r\n c\r\n\r\n",
            "invalid header name",
        ),
        (
            "space before colon",
            b"GET / HTTP/1.1\r\nHost : a\r\n\r\n",
            "invalid header name",
        ),
        (
            "tab before colon",
            b"GET / HTTP/1.1\r\nHost\t: a\r\n\r\n",
            "invalid header name",
        ),
        (
            "bare CR in value",
            b"GET / HTTP/1.1\r\nX: a\rb\r\n\r\n",
            "invalid header value",
        ),
        (
            "NUL in value",
            b"GET / HTTP/1.1\r\nX: a\0b\r\n\r\n",
            "invalid header value",
        ),
        (
            "bare CR in request line",
            b"GET /\r HTTP/1.1\r\n\r\n",
            "invalid request line",
        ),
        (
            "bare CR after version",
            b"GET / HTTP/1.1\rX: a\r\n\r\n",
            "invalid line ending",
        ),
        (
            "missing method",
            b" / HTTP/1.1\r\nHost: a\r\n\r\n",
            "invalid request line",
        ),
        (
            "missing target",
            b"GET HTTP/1.1\r\n\r\n",
            "invalid request line",
        ),
        (
            "unknown version",
            b"GET / HTTP/2.0\r\n\r\n",
            "invalid HTTP version",
        ),
        (
            "empty field name",
            b"GET / HTTP/1.1\r\n: a\r\n\r\n",
            "invalid header name",
        ),
    ];
    for (what, buf, why) in cases {
        let err = parse_request(buf, 32).unwrap_err();
        assert_eq!(err, HeadError::Malformed(why), "{what}");
        assert_eq!(err.status(), 400, "{what}");
    }
}

#[test]
fn malformed_responses_are_refused() {
    let cases: [(&str, &[u8], &str); 4] = [
        (
            "obs-fold",
            b"HTTP/1.1 200 OK\r\nX: b\r\n c\r\n\r\n",
            "invalid header name",
        ),
        (
            "space before colon",
            b"HTTP/1.1 200 OK\r\nX : b\r\n\r\n",
            "invalid header name",
        ),
        (
            "bad status",
            b"HTTP/1.1 2x0 OK\r\n\r\n",
            "invalid status line",
        ),
        (
            "bare CR in value",
            b"HTTP/1.1 200 OK\r\nX: a\rb\r\n\r\n",
            "invalid header value",
        ),
    ];
    for (what, buf, why) in cases {
        assert_eq!(
            parse_response(buf, 32).unwrap_err(),
            HeadError::Malformed(why),
            "{what}"
        );
    }
}

#[test]
fn status_codes_outside_100_to_599_are_refused() {
    for code in ["000", "001", "099", "600", "999"] {
        let buf = format!("HTTP/1.1 {code} X\r\n\r\n");
        assert_eq!(
            parse_response(buf.as_bytes(), 32).unwrap_err(),
            HeadError::Malformed("invalid status code"),
            "{code}"
        );
    }
    for code in [100u16, 101, 199, 200, 404, 599] {
        let buf = format!("HTTP/1.1 {code} X\r\n\r\n");
        let head = parse_response(buf.as_bytes(), 32).unwrap().unwrap();
        assert_eq!(head.status, code);
    }
    // Not three digits at all: httparse refuses the line.
    for line in ["HTTP/1.1 99 X", "HTTP/1.1 1000 X", "HTTP/1.1 20 X"] {
        let buf = format!("{line}\r\n\r\n");
        assert!(parse_response(buf.as_bytes(), 32).is_err(), "{line}");
    }
}

#[test]
fn header_limit() {
    let buf = b"GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
    assert_eq!(parse_request(buf, 3).unwrap().unwrap().headers.len(), 3);
    let err = parse_request(buf, 2).unwrap_err();
    assert_eq!((err, err.status()), (HeadError::TooManyHeaders, 431));
    // The configured limit is clamped to the stack array.
    let mut many = b"GET / HTTP/1.1\r\n".to_vec();
    for _ in 0..=MAX_HEADERS {
        many.extend_from_slice(b"X: y\r\n");
    }
    many.extend_from_slice(b"\r\n");
    assert_eq!(
        parse_request(&many, usize::MAX).unwrap_err(),
        HeadError::TooManyHeaders
    );
    let res = b"HTTP/1.1 200 OK\r\nA: 1\r\nB: 2\r\n\r\n";
    assert_eq!(
        parse_response(res, 1).unwrap_err(),
        HeadError::TooManyHeaders
    );
}

#[test]
fn list_tokens() {
    let buf = b"GET / HTTP/1.1\r\nConnection: keep-alive , X-A\r\nConnection: ,Upgrade\r\n\r\n";
    let head = parse_request(buf, 32).unwrap().unwrap();
    assert!(has_token(&head.headers, buf, b"connection", b"upgrade"));
    assert!(has_token(&head.headers, buf, b"CONNECTION", b"x-a"));
    assert!(!has_token(&head.headers, buf, b"connection", b"close"));
    let items: Vec<&[u8]> = list_items(b" a ,\tb,, c").collect();
    assert_eq!(items, [&b"a"[..], b"b", b"", b"c"]);
}
