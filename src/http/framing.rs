//! Message body framing and connection facts (RFC 9112 section 6.3), with the request-smuggling
//! refusals. Pure functions over a parsed head; nothing here reads a body.
//!
//! # Framing precedence (RFC 9112 section 6.3), first matching rule wins
//!
//! 1. A response to HEAD, any 1xx, 204 or 304 has no body. A 1xx other than 101 is interim
//!    (relay it, read the next head); 101 switches protocols.
//! 2. A 2xx response to CONNECT turns the connection into a tunnel: no body, reported as
//!    `switching` like 101.
//! 3. Transfer-Encoding together with Content-Length: a request is refused (smuggling); in a
//!    response Transfer-Encoding wins and the member connection is not reused.
//! 4. Transfer-Encoding present (all field lines read as one comma list):
//!    - a request: refused in HTTP/1.0; refused unless `chunked` is the final coding, appears
//!      once and the list is non-empty; another coding before `chunked` is 501;
//!    - a response: `chunked` final (once) is chunked; anything else, and any HTTP/1.0 response
//!      with Transfer-Encoding, is read until close.
//! 5. An invalid Content-Length (not 1*DIGIT per list element, overflowing u64, or several
//!    differing values) is refused: 400 for a request, 502 (caller) for a response.
//! 6. A valid Content-Length gives that length; a length of 0 is reported as [`BodyKind::None`]
//!    so callers have a single "no body" case.
//! 7. Otherwise a request has no body and a response is read until the connection closes.
//!
//! # Connection facts
//!
//! - Request: HTTP/1.1 needs exactly one Host, HTTP/1.0 at most one; the value must be a
//!   plausible authority (no whitespace, `/`, `?`, `#`, `@`, control or non-ASCII bytes).
//! - keep-alive: HTTP/1.1 unless `Connection` has the token `close`; HTTP/1.0 only with
//!   `keep-alive` (and no `close`). Responses read until close never keep the connection.
//! - `Expect: 100-continue` and `Connection: upgrade` + `Upgrade` count only in HTTP/1.1
//!   requests (RFC 9110 sections 10.1.1 and 7.8). `h2c` is never offered to a member: ringlb
//!   speaks HTTP/1.1 to members, so an `Upgrade` offering only `h2c` is no upgrade at all.
//! - A `101` is accepted only if its `Upgrade` names at least one protocol and only protocols
//!   the request offered ([`upgrade_accepted`]).

use super::head::{has_token, list_items, values, Header, RequestHead, ResponseHead};
use super::rewrite::BodyOut;
use super::{Span, Version};

/// How a message body is delimited.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BodyKind {
    /// No body.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// `Transfer-Encoding: chunked`.
    Chunked,
    /// Until the connection closes (responses only).
    UntilClose,
}

/// How a body is laid out on the wire and what the forwarding loop does with it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    Length(u64),
    /// Forward the chunked encoding as it is, ending at the last chunk.
    Chunked,
    /// Decode chunked and forward only the payload (for HTTP/1.0 clients).
    Dechunk,
    UntilClose,
}

/// How a response body of `kind` is framed towards a client speaking `version`: what the
/// rewritten head announces, and how the body is forwarded (`None`: there is no body). A
/// chunked body goes to an HTTP/1.0 client decoded and delimited by the close.
pub fn response_framing(kind: BodyKind, version: Version) -> (BodyOut, Option<Framing>) {
    match kind {
        BodyKind::None => (BodyOut::None, None),
        BodyKind::Length(n) => (BodyOut::Length(n), Some(Framing::Length(n))),
        BodyKind::Chunked if version == Version::Http11 => {
            (BodyOut::Chunked, Some(Framing::Chunked))
        }
        BodyKind::Chunked => (BodyOut::Close, Some(Framing::Dechunk)),
        BodyKind::UntilClose => (BodyOut::Close, Some(Framing::UntilClose)),
    }
}

/// What the proxy needs to know about a request beyond its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestFacts {
    pub body: BodyKind,
    /// The client wants the connection kept open after this exchange.
    pub keep_alive: bool,
    /// `Expect: 100-continue` was sent.
    pub expect_continue: bool,
    /// `Connection: upgrade` with an `Upgrade` header: a tunnel candidate.
    pub upgrade: bool,
    /// The `Host` header's value, if any.
    pub host: Option<Span>,
}

/// What the proxy needs to know about a response beyond its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseFacts {
    pub body: BodyKind,
    /// The member's connection may be reused after this response's body.
    pub keep_alive: bool,
    /// A 1xx other than 101: relay it and read the next head.
    pub interim: bool,
    /// 101 Switching Protocols.
    pub switching: bool,
}

/// Why framing was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FramingError {
    Invalid(&'static str),
    /// A transfer coding other than chunked (501).
    UnsupportedCoding,
}

impl FramingError {
    pub fn status(&self) -> u16 {
        match self {
            FramingError::Invalid(_) => 400,
            FramingError::UnsupportedCoding => 501,
        }
    }

    pub fn reason(&self) -> &'static str {
        match self {
            FramingError::Invalid(why) => why,
            FramingError::UnsupportedCoding => "unsupported transfer coding",
        }
    }
}

/// Decides the framing of a request and refuses smuggling vectors. See the module doc for the
/// rules; each refusal names its cause.
pub fn analyze_request(buf: &[u8], head: &RequestHead) -> Result<RequestFacts, FramingError> {
    let headers = &head.headers[..];
    let http11 = head.version == Version::Http11;
    let host = request_host(buf, head)?;
    let te = transfer_coding(headers, buf);
    let has_cl = values(headers, buf, b"content-length").next().is_some();

    let body = match te {
        // Rule 3: both framings; an intermediary could pick either, so neither is trusted.
        Some(_) if has_cl => {
            return Err(FramingError::Invalid(
                "both transfer-encoding and content-length",
            ))
        }
        // Rule 4, request side.
        Some(_) if !http11 => {
            return Err(FramingError::Invalid(
                "transfer-encoding in HTTP/1.0 request",
            ))
        }
        Some(Coding::Chunked) => BodyKind::Chunked,
        Some(Coding::OtherThenChunked) => return Err(FramingError::UnsupportedCoding),
        Some(Coding::Invalid(why)) => return Err(FramingError::Invalid(why)),
        // Rules 5 and 6.
        None if has_cl => length_body(content_length(headers, buf)?),
        // Rule 7: a request without framing headers has no body.
        None => BodyKind::None,
    };

    let keep_alive = persistent(headers, buf, head.version);
    let expect_continue =
        http11 && values(headers, buf, b"expect").any(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let upgrade = http11
        && has_token(headers, buf, b"connection", b"upgrade")
        && offered_upgrades(headers, buf).next().is_some();
    Ok(RequestFacts {
        body,
        keep_alive,
        expect_continue,
        upgrade,
        host,
    })
}

/// Decides the framing of a response to a request with method `request_method`. An `Err` means
/// the member sent unusable framing (the caller answers 502 and drops the member connection).
pub fn analyze_response(
    buf: &[u8],
    head: &ResponseHead,
    request_method: &[u8],
) -> Result<ResponseFacts, FramingError> {
    let headers = &head.headers[..];
    let http11 = head.version == Version::Http11;
    let status = head.status;
    let te = transfer_coding(headers, buf);
    let has_cl = values(headers, buf, b"content-length").next().is_some();
    let mut keep_alive = persistent(headers, buf, head.version);
    let mut interim = false;
    let mut switching = false;

    let body = match te {
        // Rule 1.
        _ if status == 101 => {
            switching = true;
            keep_alive = false;
            BodyKind::None
        }
        _ if (100..200).contains(&status) => {
            interim = true;
            BodyKind::None
        }
        _ if status == 204 || status == 304 || request_method == b"HEAD" => BodyKind::None,
        // Rule 2.
        _ if request_method == b"CONNECT" && (200..300).contains(&status) => {
            switching = true;
            keep_alive = false;
            BodyKind::None
        }
        // Rules 3 and 4, response side: Transfer-Encoding wins over Content-Length.
        Some(Coding::Chunked | Coding::OtherThenChunked) if http11 => {
            keep_alive &= !has_cl;
            BodyKind::Chunked
        }
        Some(_) => BodyKind::UntilClose,
        // Rules 5 and 6.
        None if has_cl => length_body(content_length(headers, buf)?),
        // Rule 7.
        None => BodyKind::UntilClose,
    };
    if body == BodyKind::UntilClose {
        keep_alive = false;
    }
    Ok(ResponseFacts {
        body,
        keep_alive,
        interim,
        switching,
    })
}

/// The protocols a request's `Upgrade` fields offer that ringlb passes on: every non-empty
/// list element except `h2c` (HTTP/2 is not spoken to members), in arrival order.
pub fn offered_upgrades<'a>(
    headers: &'a [Header],
    buf: &'a [u8],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    values(headers, buf, b"upgrade")
        .flat_map(list_items)
        .filter(|p| !p.is_empty() && !p.eq_ignore_ascii_case(b"h2c"))
}

/// Whether a `101` switches to what was asked (RFC 9110 section 7.8): its `Upgrade` names at
/// least one protocol, and each is one of `offered` (the request's [`offered_upgrades`],
/// joined by commas), compared ASCII case-insensitively.
pub fn upgrade_accepted(offered: &[u8], buf: &[u8], head: &ResponseHead) -> bool {
    let mut chosen = values(&head.headers, buf, b"upgrade")
        .flat_map(list_items)
        .filter(|p| !p.is_empty())
        .peekable();
    chosen.peek().is_some()
        && chosen.all(|p| list_items(offered).any(|o| o.eq_ignore_ascii_case(p)))
}

/// RFC 9112 section 9.3: HTTP/1.1 persists unless `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive`.
fn persistent(headers: &[Header], buf: &[u8], version: Version) -> bool {
    let close = has_token(headers, buf, b"connection", b"close");
    match version {
        Version::Http11 => !close,
        Version::Http10 => !close && has_token(headers, buf, b"connection", b"keep-alive"),
    }
}

fn length_body(n: u64) -> BodyKind {
    if n == 0 {
        BodyKind::None
    } else {
        BodyKind::Length(n)
    }
}

/// The Transfer-Encoding list, read across all its field lines.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Coding {
    /// Exactly one `chunked`, last, and nothing else.
    Chunked,
    /// `chunked` last, once, after other codings.
    OtherThenChunked,
    /// Empty, `chunked` not last, or `chunked` more than once.
    Invalid(&'static str),
}

/// `None` when no Transfer-Encoding field is present. Empty list elements are ignored
/// (RFC 9110 section 5.6.1) but a list with no element at all is invalid.
fn transfer_coding(headers: &[Header], buf: &[u8]) -> Option<Coding> {
    let mut present = false;
    let mut codings = 0usize;
    let mut chunked = 0usize;
    let mut last_is_chunked = false;
    for value in values(headers, buf, b"transfer-encoding") {
        present = true;
        for coding in list_items(value).filter(|c| !c.is_empty()) {
            codings += 1;
            last_is_chunked = coding.eq_ignore_ascii_case(b"chunked");
            chunked += usize::from(last_is_chunked);
        }
    }
    Some(match (codings, chunked, last_is_chunked) {
        _ if !present => return None,
        (0, _, _) => Coding::Invalid("empty transfer-encoding"),
        (_, 2.., _) => Coding::Invalid("chunked applied more than once"),
        (_, _, false) => Coding::Invalid("chunked is not the final transfer coding"),
        (1, 1, true) => Coding::Chunked,
        _ => Coding::OtherThenChunked,
    })
}

/// The message length from every Content-Length field line and list element; each must be
/// 1*DIGIT within u64 and all must agree (RFC 9110 section 8.6).
fn content_length(headers: &[Header], buf: &[u8]) -> Result<u64, FramingError> {
    let mut found: Option<u64> = None;
    for value in values(headers, buf, b"content-length") {
        for item in list_items(value) {
            let n = parse_decimal(item).ok_or(FramingError::Invalid("invalid content-length"))?;
            match found {
                Some(prev) if prev != n => {
                    return Err(FramingError::Invalid("differing content-length"))
                }
                _ => found = Some(n),
            }
        }
    }
    found.ok_or(FramingError::Invalid("invalid content-length"))
}

/// `1*DIGIT` as u64; `None` when empty, not all digits, or overflowing.
pub fn parse_decimal(digits: &[u8]) -> Option<u64> {
    if digits.is_empty() {
        return None;
    }
    digits.iter().try_fold(0u64, |acc, &b| {
        let d = b.checked_sub(b'0').filter(|d| *d <= 9)?;
        acc.checked_mul(10)?.checked_add(u64::from(d))
    })
}

/// The single Host value: HTTP/1.1 requires exactly one, HTTP/1.0 allows none
/// (RFC 9112 section 3.2).
fn request_host(buf: &[u8], head: &RequestHead) -> Result<Option<Span>, FramingError> {
    let mut hosts = head
        .headers
        .iter()
        .filter(|h| h.name.get(buf).eq_ignore_ascii_case(b"host"));
    let host = hosts.next();
    if hosts.next().is_some() {
        return Err(FramingError::Invalid("more than one host header"));
    }
    match host {
        None if head.version == Version::Http11 => {
            Err(FramingError::Invalid("missing host header"))
        }
        None => Ok(None),
        Some(h) if !valid_host(h.value.get(buf)) => {
            Err(FramingError::Invalid("invalid host header"))
        }
        Some(h) => Ok(Some(h.value)),
    }
}

/// uri-host [ ":" port ] characters (RFC 3986): unreserved, sub-delims, `:`, `[`, `]`, `%`.
/// Empty is allowed (RFC 9112 section 3.2, target without authority).
fn valid_host(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]%".contains(&b))
}
