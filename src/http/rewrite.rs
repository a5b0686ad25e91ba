//! Builds outgoing heads into reused `Vec<u8>` buffers: hop-by-hop removal, X-Forwarded-*,
//! framing headers, error responses. Appends only; never clears `out`. Field names and values
//! are copied byte-exact (original case) from the parsed buffer; every line ends in CRLF.
//!
//! Hop-by-hop fields (RFC 9110 section 7.6.1) never cross the proxy: `Connection`,
//! `Keep-Alive`, `Proxy-Connection`, `TE`, `Trailer`, `Transfer-Encoding`, `Upgrade`,
//! `HTTP2-Settings` (it goes with `Upgrade: h2c`, which members never get),
//! `Proxy-Authorization` (requests; it is meant for this proxy, not the member) and every field
//! named by a `Connection` token, except `Host`, which a client cannot strip that way. Framing
//! (`Content-Length`/`Transfer-Encoding`) and `Connection` are written from the decision the
//! caller made, not copied.
//!
//! A client's TLS facts fields ([`is_tls_fact_field`]: `X-SSL-*`, `SSL_*` and the like) are
//! never forwarded, on any listener: only ringlb says what the TLS connection was.

use std::io::Write as _;
use std::net::IpAddr;

use smallvec::SmallVec;

use super::framing::{offered_upgrades, BodyKind, RequestFacts};
use super::head::{list_items, values, Header, RequestHead, ResponseHead};
use super::reverse::{self, Reverse};
use super::{push_decimal, Version};

/// How the request head is rewritten for the member.
#[derive(Clone, Copy, Debug)]
pub struct RequestRewrite<'a> {
    /// The target sent upstream is `target_prefix` followed by `target_rest`.
    pub target_prefix: &'a [u8],
    pub target_rest: &'a [u8],
    /// Host header to send; `None` keeps the client's.
    pub host: Option<&'a [u8]>,
    /// Append this address to `X-Forwarded-For`; `None` adds nothing.
    pub forwarded_for: Option<IpAddr>,
    /// Set `X-Forwarded-Proto` to this; `None` adds nothing.
    pub forwarded_proto: Option<&'a [u8]>,
    /// Set `X-Forwarded-Host` to the client's Host.
    pub forwarded_host: bool,
    /// Extra header fields to add (name, value).
    pub extra: &'a [(&'a [u8], &'a [u8])],
    /// The connection's peer is a trusted proxy (`trusted_proxies`): its `X-Forwarded-For`
    /// items stay ahead of `forwarded_for`, and its own `X-Forwarded-Proto` and
    /// `X-Forwarded-Host` stand instead of ringlb's. Otherwise none of the client's
    /// `X-Forwarded-*` fields is passed on, whether or not ringlb writes its own.
    pub trust_forwarded: bool,
}

/// How the response body is framed towards the client.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyOut {
    None,
    Length(u64),
    Chunked,
    /// Close-delimited: the connection closes after the body.
    Close,
}

/// How the response head is rewritten for the client.
#[derive(Clone, Copy, Debug)]
pub struct ResponseRewrite<'a> {
    /// Keep the client connection open after this response.
    pub keep_alive: bool,
    pub client_version: Version,
    pub body: BodyOut,
    /// Extra header fields to add (name, value).
    pub extra: &'a [(&'a [u8], &'a [u8])],
    /// Reverse rewriting of `Location`, `Set-Cookie` and the like; `None` copies them.
    pub reverse: Option<&'a Reverse<'a>>,
}

/// Fields removed from every forwarded head (lowercase).
const HOP_BY_HOP: [&[u8]; 8] = [
    b"connection",
    b"http2-settings",
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"transfer-encoding",
    b"upgrade",
];

/// Tokens of all `Connection` field lines: the extra hop-by-hop fields this head names.
type ConnectionTokens<'a> = SmallVec<[&'a [u8]; 8]>;

fn connection_tokens<'a>(headers: &'a [Header], buf: &'a [u8]) -> ConnectionTokens<'a> {
    values(headers, buf, b"connection")
        .flat_map(list_items)
        .filter(|t| !t.is_empty() && !t.eq_ignore_ascii_case(b"host"))
        .collect()
}

/// `name` is hop-by-hop for this head: a fixed one or named by a `Connection` token.
fn is_hop_by_hop(name: &[u8], named: &[&[u8]]) -> bool {
    HOP_BY_HOP
        .iter()
        .chain(named)
        .any(|h| name.eq_ignore_ascii_case(h))
}

/// Whether a request field of this name claims facts about the client's TLS connection, the
/// kind ringlb itself sends with `ssl_headers` (`tls::facts`) and Tomcat's `SSLValve` reads:
/// an optional `X-` or `X_`, then `SSL-` or `SSL_`, then at least one more byte (ASCII case
/// ignored). Covers ringlb's `X-SSL-Client-Cert` and friends and `SSLValve`'s default names
/// (`ssl_client_cert`, `ssl_cipher`, ...), which it would read if left unconfigured.
pub fn is_tls_fact_field(name: &[u8]) -> bool {
    let rest = match name {
        [b'x' | b'X', b'-' | b'_', rest @ ..] => rest,
        _ => name,
    };
    rest.len() > 4 && rest[..3].eq_ignore_ascii_case(b"ssl") && matches!(rest[3], b'-' | b'_')
}

fn push_field(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    out.extend_from_slice(value);
    out.extend_from_slice(b"\r\n");
}

fn push_extra(out: &mut Vec<u8>, extra: &[(&[u8], &[u8])]) {
    for (name, value) in extra {
        push_field(out, name, value);
    }
}

fn push_content_length(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(b"Content-Length: ");
    push_decimal(out, n);
    out.extend_from_slice(b"\r\n");
}

/// Appends the upstream request head (always HTTP/1.1) to `out`.
///
/// Order: request line; `Host` (`rw.host`, else the client's); the client's end-to-end fields
/// in arrival order; `X-Forwarded-For` (with `rw.trust_forwarded`, the client's values merged
/// into one list, then the address; else the address alone); `X-Forwarded-Proto` and
/// `X-Forwarded-Host` (the latter only when the client sent a non-empty Host), unless a
/// trusted client sent its own, which then stay where they were; framing from
/// `facts.body` (`Content-Length: n`, `Transfer-Encoding: chunked`, or for no body the client's
/// `Content-Length: 0` if it sent one); `Connection: Upgrade` and one `Upgrade` listing the
/// client's offered protocols except `h2c` when `facts.upgrade`; `rw.extra`; the empty line.
/// No `Connection` otherwise: HTTP/1.1 keep-alive is the default towards members.
///
/// The client's `X-Forwarded-*` fields reach the member only from a trusted client
/// (`rw.trust_forwarded`); from anybody else they are dropped, so a member never believes
/// what a client said about itself. Its TLS facts fields ([`is_tls_fact_field`]) are
/// dropped from everybody.
pub fn write_request_head(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &RequestHead,
    facts: &RequestFacts,
    rw: &RequestRewrite<'_>,
) {
    let headers = &head.headers[..];
    let named = connection_tokens(headers, buf);
    let client_host = facts.host.map(|s| s.get(buf));
    let trusted = rw.trust_forwarded;
    // A field the client sent that survives hop-by-hop removal.
    let sent = |field: &[u8]| {
        !is_hop_by_hop(field, &named)
            && headers
                .iter()
                .any(|h| h.name.get(buf).eq_ignore_ascii_case(field))
    };
    let keep_xfp = trusted && sent(b"x-forwarded-proto");
    let keep_xfh = trusted && sent(b"x-forwarded-host");
    let keep_xff_lines = trusted && rw.forwarded_for.is_none();
    let forwarded_proto = rw.forwarded_proto.filter(|_| !keep_xfp);
    let forwarded_host = client_host.filter(|h| rw.forwarded_host && !h.is_empty() && !keep_xfh);

    out.extend_from_slice(head.method.get(buf));
    out.push(b' ');
    out.extend_from_slice(rw.target_prefix);
    out.extend_from_slice(rw.target_rest);
    out.extend_from_slice(b" HTTP/1.1\r\n");
    if let Some(host) = rw.host.or(client_host) {
        push_field(out, b"Host", host);
    }

    let mut client_cl = false;
    for h in headers {
        let name = h.name.get(buf);
        let skip = is_hop_by_hop(name, &named)
            || is_tls_fact_field(name)
            || name.eq_ignore_ascii_case(b"proxy-authorization")
            || name.eq_ignore_ascii_case(b"host")
            || (!keep_xff_lines && name.eq_ignore_ascii_case(b"x-forwarded-for"))
            || (!keep_xfp && name.eq_ignore_ascii_case(b"x-forwarded-proto"))
            || (!keep_xfh && name.eq_ignore_ascii_case(b"x-forwarded-host"));
        if name.eq_ignore_ascii_case(b"content-length") {
            client_cl = true;
        } else if !skip {
            push_field(out, name, h.value.get(buf));
        }
    }

    if let Some(ip) = rw.forwarded_for {
        out.extend_from_slice(b"X-Forwarded-For: ");
        let keep_prior = trusted
            && !named
                .iter()
                .any(|t| t.eq_ignore_ascii_case(b"x-forwarded-for"));
        let prior = values(headers, buf, b"x-forwarded-for").filter(|_| keep_prior);
        for item in prior.flat_map(list_items).filter(|i| !i.is_empty()) {
            out.extend_from_slice(item);
            out.extend_from_slice(b", ");
        }
        // Writing into a Vec cannot fail.
        let _ = write!(out, "{ip}");
        out.extend_from_slice(b"\r\n");
    }
    if let Some(proto) = forwarded_proto {
        push_field(out, b"X-Forwarded-Proto", proto);
    }
    if let Some(host) = forwarded_host {
        push_field(out, b"X-Forwarded-Host", host);
    }

    match facts.body {
        BodyKind::Length(n) => push_content_length(out, n),
        BodyKind::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        BodyKind::None if client_cl => push_content_length(out, 0),
        BodyKind::None | BodyKind::UntilClose => {}
    }
    if facts.upgrade {
        out.extend_from_slice(b"Connection: Upgrade\r\nUpgrade: ");
        for (i, protocol) in offered_upgrades(headers, buf).enumerate() {
            if i > 0 {
                out.extend_from_slice(b", ");
            }
            out.extend_from_slice(protocol);
        }
        out.extend_from_slice(b"\r\n");
    }
    push_extra(out, rw.extra);
    out.extend_from_slice(b"\r\n");
}

/// Appends `HTTP/1.1 <status> <reason>` with CRLF; `reason` empty falls back to
/// [`reason_phrase`] (nothing after the space if the code is unknown).
fn push_status_line(out: &mut Vec<u8>, status: u16, reason: &[u8]) {
    out.extend_from_slice(b"HTTP/1.1 ");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    if reason.is_empty() {
        out.extend_from_slice(reason_phrase(status).as_bytes());
    } else {
        out.extend_from_slice(reason);
    }
    out.extend_from_slice(b"\r\n");
}

/// Whether a `Transfer-Encoding` list ends in `chunked`.
fn ends_chunked(headers: &[Header], buf: &[u8]) -> Option<bool> {
    let last = values(headers, buf, b"transfer-encoding")
        .flat_map(list_items)
        .filter(|c| !c.is_empty())
        .last()?;
    Some(last.eq_ignore_ascii_case(b"chunked"))
}

fn push_member_te(out: &mut Vec<u8>, headers: &[Header], buf: &[u8]) {
    for h in headers
        .iter()
        .filter(|h| h.name.get(buf).eq_ignore_ascii_case(b"transfer-encoding"))
    {
        push_field(out, h.name.get(buf), h.value.get(buf));
    }
}

/// Appends the client response head to `out`.
///
/// Order: status line (the member's reason, or the standard one if it sent none); end-to-end
/// fields minus hop-by-hop ones and `Content-Length` (reversed by `rw.reverse`, see
/// [`reverse`]); framing from `rw.body`:
/// - `Length(n)`: `Content-Length: n`;
/// - `Chunked`: the member's `Transfer-Encoding` lines if they end in `chunked` (so codings
///   such as `gzip, chunked` survive pass-through), else `Transfer-Encoding: chunked`;
/// - `None`: the member's first `Content-Length` line unchanged (HEAD, 304, length 0), except
///   for a 204;
/// - `Close`: the member's `Transfer-Encoding` lines if they do not end in `chunked` (the
///   body is relayed as received), else nothing;
///
/// then `Connection: close` when `!rw.keep_alive`, `Connection: keep-alive` for a kept
/// HTTP/1.0 client; `rw.extra`; the empty line.
pub fn write_response_head(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &ResponseHead,
    rw: &ResponseRewrite<'_>,
) {
    let headers = &head.headers[..];
    push_status_line(out, head.status, head.reason.get(buf));
    let named = connection_tokens(headers, buf);
    let mut member_cl = None;
    for h in headers {
        let name = h.name.get(buf);
        if name.eq_ignore_ascii_case(b"content-length") {
            member_cl = member_cl.or(Some(h));
        } else if is_hop_by_hop(name, &named) {
        } else if let Some(rv) = rw.reverse.filter(|_| reverse::is_reversed_field(name)) {
            reverse::push_reversed(out, name, h.value.get(buf), rv);
        } else {
            push_field(out, name, h.value.get(buf));
        }
    }
    match rw.body {
        BodyOut::Length(n) => push_content_length(out, n),
        BodyOut::Chunked if ends_chunked(headers, buf) == Some(true) => {
            push_member_te(out, headers, buf)
        }
        BodyOut::Chunked => out.extend_from_slice(b"Transfer-Encoding: chunked\r\n"),
        BodyOut::None => {
            // A 204 must not carry Content-Length (RFC 9110 section 8.6); HEAD and 304 may.
            if let Some(h) = member_cl.filter(|_| head.status != 204) {
                push_field(out, h.name.get(buf), h.value.get(buf));
            }
        }
        BodyOut::Close if ends_chunked(headers, buf) == Some(false) => {
            push_member_te(out, headers, buf)
        }
        BodyOut::Close => {}
    }
    if !rw.keep_alive {
        out.extend_from_slice(b"Connection: close\r\n");
    } else if rw.client_version == Version::Http10 {
        out.extend_from_slice(b"Connection: keep-alive\r\n");
    }
    push_extra(out, rw.extra);
    out.extend_from_slice(b"\r\n");
}

/// Appends a relayed interim (1xx) or 101 head: status line and end-to-end fields (for 101 also
/// `Connection: Upgrade` and `Upgrade`). `Content-Length` is dropped (a 1xx has no body).
pub fn write_interim_head(out: &mut Vec<u8>, buf: &[u8], head: &ResponseHead) {
    let headers = &head.headers[..];
    let switching = head.status == 101;
    push_status_line(out, head.status, head.reason.get(buf));
    let named = connection_tokens(headers, buf);
    for h in headers {
        let name = h.name.get(buf);
        let keep_upgrade = switching && name.eq_ignore_ascii_case(b"upgrade");
        if keep_upgrade
            || !(is_hop_by_hop(name, &named) || name.eq_ignore_ascii_case(b"content-length"))
        {
            push_field(out, name, h.value.get(buf));
        }
    }
    if switching {
        out.extend_from_slice(b"Connection: Upgrade\r\n");
    }
    out.extend_from_slice(b"\r\n");
}

/// Appends a complete error response made by ringlb itself: a short text body naming the cause,
/// `<status> <reason>: <detail>\n`, with `Content-Type`, `Content-Length`, `Connection: close`
/// when `close`, then `extra`.
pub fn write_error(
    out: &mut Vec<u8>,
    status: u16,
    detail: &str,
    close: bool,
    extra: &[(&[u8], &[u8])],
) {
    let reason = reason_phrase(status);
    push_status_line(out, status, reason.as_bytes());
    out.extend_from_slice(b"Content-Type: text/plain; charset=utf-8\r\n");
    // "<status> " + reason + ": " + detail + "\n"
    let body_len = decimal_len(u64::from(status)) + 1 + reason.len() + 2 + detail.len() + 1;
    push_content_length(out, body_len as u64);
    if close {
        out.extend_from_slice(b"Connection: close\r\n");
    }
    push_extra(out, extra);
    out.extend_from_slice(b"\r\n");
    push_decimal(out, u64::from(status));
    out.push(b' ');
    out.extend_from_slice(reason.as_bytes());
    out.extend_from_slice(b": ");
    out.extend_from_slice(detail.as_bytes());
    out.push(b'\n');
}

fn decimal_len(mut n: u64) -> usize {
    let mut len = 1;
    while n >= 10 {
        n /= 10;
        len += 1;
    }
    len
}

/// The standard reason phrase for `status` (RFC 9110 section 15), or `""` if ringlb does not
/// know the code.
pub fn reason_phrase(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "Switching Protocols",
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        204 => "No Content",
        206 => "Partial Content",
        301 => "Moved Permanently",
        302 => "Found",
        303 => "See Other",
        304 => "Not Modified",
        307 => "Temporary Redirect",
        308 => "Permanent Redirect",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        411 => "Length Required",
        413 => "Content Too Large",
        414 => "URI Too Long",
        417 => "Expectation Failed",
        429 => "Too Many Requests",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        505 => "HTTP Version Not Supported",
        _ => "",
    }
}
