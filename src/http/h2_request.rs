//! HTTP/2 messages as the HTTP/1.1 the rest of ringlb speaks (RFC 9113 section 8.2 and 8.3):
//! a client's HTTP/2 request is written as an HTTP/1.1 request head, which then goes through
//! the same parser, request context, balancer, sticky, failover, access log and member
//! connections as a request that came in as HTTP/1.1; and the fields of an HTTP/1.1 response
//! that HTTP/2 forbids are named here, for the way back.
//!
//! The HTTP/2 library has already checked what the request can hold: pseudo-header fields,
//! field names (lowercase tokens), field values (no CR, LF or NUL) and no connection-specific
//! fields, so what is written here cannot inject a line.

/// How the request body is framed in the HTTP/1.1 head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyFraming {
    /// The request ended with its headers: no body.
    None,
    /// The client sent `content-length`: its DATA is passed on as it is.
    Length,
    /// A body of unknown length: `Transfer-Encoding: chunked` is added and the DATA frames
    /// become chunks (then the trailers, if any).
    Chunked,
}

/// Writes the HTTP/1.1 head of an HTTP/2 request into `out`: `method target HTTP/1.1`, `Host`
/// from `:authority` (a `host` field is dropped when `:authority` is present, RFC 9113
/// section 8.3.1; kept otherwise), the `cookie` fields joined into one with `"; "` (section
/// 8.2.3), every other field as it came, and `Transfer-Encoding: chunked` for
/// [`BodyFraming::Chunked`]. `target` is `:path` (`*` for a server-wide `OPTIONS`).
pub fn write_head(
    out: &mut Vec<u8>,
    method: &[u8],
    target: &[u8],
    authority: Option<&[u8]>,
    fields: &[(&[u8], &[u8])],
    body: BodyFraming,
) {
    out.extend_from_slice(method);
    out.push(b' ');
    out.extend_from_slice(target);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if let Some(authority) = authority {
        field(out, b"host", authority);
    }
    let mut cookie_seen = false;
    for &(name, value) in fields {
        match name {
            b"host" if authority.is_some() => {}
            b"cookie" => {
                if !cookie_seen {
                    cookie_seen = true;
                    write_cookies(out, fields);
                }
            }
            // HTTP/1.1 framing is ringlb's to write (the library checked that a
            // content-length matches the DATA received).
            b"transfer-encoding" => {}
            _ => field(out, name, value),
        }
    }
    if body == BodyFraming::Chunked {
        field(out, b"transfer-encoding", b"chunked");
    }
    out.extend_from_slice(b"\r\n");
}

fn write_cookies(out: &mut Vec<u8>, fields: &[(&[u8], &[u8])]) {
    out.extend_from_slice(b"cookie: ");
    let mut first = true;
    for (_, value) in fields.iter().filter(|(name, _)| *name == b"cookie") {
        if !first {
            out.extend_from_slice(b"; ");
        }
        first = false;
        out.extend_from_slice(value);
    }
    out.extend_from_slice(b"\r\n");
}

fn field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

/// Whether an HTTP/1.1 response field must not be sent in HTTP/2 (RFC 9113 section 8.2.2):
/// the connection-specific fields. `name` in any case.
pub fn is_connection_specific(name: &[u8]) -> bool {
    const NAMES: [&[u8]; 5] = [
        b"connection",
        b"keep-alive",
        b"proxy-connection",
        b"transfer-encoding",
        b"upgrade",
    ];
    NAMES.iter().any(|n| n.eq_ignore_ascii_case(name))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(
        method: &str,
        target: &str,
        authority: Option<&str>,
        fields: &[(&str, &str)],
        body: BodyFraming,
    ) -> String {
        let mut out = Vec::new();
        let fields: Vec<(&[u8], &[u8])> = fields
            .iter()
            .map(|(n, v)| (n.as_bytes(), v.as_bytes()))
            .collect();
        write_head(
            &mut out,
            method.as_bytes(),
            target.as_bytes(),
            authority.map(str::as_bytes),
            &fields,
            body,
        );
        String::from_utf8(out).unwrap_or_default()
    }

    #[test]
    fn requests_become_http11_heads() {
        let cases: &[(&str, String, &str)] = &[
            (
                "a GET",
                head(
                    "GET",
                    "/a?b=c",
                    Some("shop"),
                    &[("accept", "*/*")],
                    BodyFraming::None,
                ),
                "GET /a?b=c HTTP/1.1\r\nhost: shop\r\naccept: */*\r\n\r\n",
            ),
            (
                ":authority wins over host",
                head("GET", "/", Some("a"), &[("host", "b")], BodyFraming::None),
                "GET / HTTP/1.1\r\nhost: a\r\n\r\n",
            ),
            (
                "host kept without :authority",
                head("GET", "/", None, &[("host", "b")], BodyFraming::None),
                "GET / HTTP/1.1\r\nhost: b\r\n\r\n",
            ),
            (
                "cookie crumbs joined where the first was",
                head(
                    "GET",
                    "/",
                    Some("a"),
                    &[("cookie", "a=1"), ("x", "y"), ("cookie", "JSESSIONID=2.n1")],
                    BodyFraming::None,
                ),
                "GET / HTTP/1.1\r\nhost: a\r\ncookie: a=1; JSESSIONID=2.n1\r\nx: y\r\n\r\n",
            ),
            (
                "a body of unknown length is chunked",
                head("POST", "/p", Some("a"), &[], BodyFraming::Chunked),
                "POST /p HTTP/1.1\r\nhost: a\r\ntransfer-encoding: chunked\r\n\r\n",
            ),
            (
                "a length is passed on, a transfer-encoding never",
                head(
                    "PUT",
                    "/p",
                    Some("a"),
                    &[("content-length", "5"), ("transfer-encoding", "chunked")],
                    BodyFraming::Length,
                ),
                "PUT /p HTTP/1.1\r\nhost: a\r\ncontent-length: 5\r\n\r\n",
            ),
            (
                "server-wide OPTIONS",
                head("OPTIONS", "*", Some("a"), &[], BodyFraming::None),
                "OPTIONS * HTTP/1.1\r\nhost: a\r\n\r\n",
            ),
        ];
        for (name, got, want) in cases {
            assert_eq!(got, want, "{name}");
        }
    }

    #[test]
    fn connection_specific_fields_are_named() {
        for name in ["Connection", "keep-alive", "Transfer-Encoding", "upgrade"] {
            assert!(is_connection_specific(name.as_bytes()), "{name}");
        }
        for name in ["content-length", "set-cookie", "te", "location"] {
            assert!(!is_connection_specific(name.as_bytes()), "{name}");
        }
    }
}
