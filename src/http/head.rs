//! Request and response head parsing with httparse into [`Span`]s (hyper's `HeaderIndices`
//! shape): parse, record offsets, drop the borrow, keep the buffer.

use smallvec::SmallVec;

use super::{Span, Version, MAX_HEADERS};

/// One header field as spans into the parsed buffer. `value` has no surrounding whitespace.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    pub name: Span,
    pub value: Span,
}

/// Header fields in arrival order; 32 inline covers browsers without allocating.
pub type Headers = SmallVec<[Header; 32]>;

/// A parsed request head. All spans index the buffer it was parsed from.
#[derive(Clone, Debug)]
pub struct RequestHead {
    pub method: Span,
    pub target: Span,
    pub version: Version,
    pub headers: Headers,
    /// Length of the head in bytes, including the empty line that ends it.
    pub len: usize,
}

impl RequestHead {
    /// The values of the request's `Cookie` fields, in order, from the buffer the head was
    /// parsed from.
    pub fn cookies<'a>(&'a self, buf: &'a [u8]) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers
            .iter()
            .filter(move |h| h.name.get(buf).eq_ignore_ascii_case(b"cookie"))
            .map(move |h| h.value.get(buf))
    }
}

/// A parsed response head. All spans index the buffer it was parsed from.
#[derive(Clone, Debug)]
pub struct ResponseHead {
    pub version: Version,
    pub status: u16,
    pub reason: Span,
    pub headers: Headers,
    /// Length of the head in bytes, including the empty line that ends it.
    pub len: usize,
}

/// Why a head was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HeadError {
    /// Syntax error (bad request line, obs-fold, whitespace before a colon, bare CR, ...).
    Malformed(&'static str),
    /// More header fields than the configured limit.
    TooManyHeaders,
}

impl HeadError {
    /// Status code for a request head refused with this error (400 or 431).
    pub fn status(&self) -> u16 {
        match self {
            HeadError::Malformed(_) => 400,
            HeadError::TooManyHeaders => 431,
        }
    }

    /// Short human-readable cause, used in error bodies and logs.
    pub fn reason(&self) -> &'static str {
        match self {
            HeadError::Malformed(why) => why,
            HeadError::TooManyHeaders => "too many header fields",
        }
    }
}

/// Parses a request head from the start of `buf`. `Ok(None)` means incomplete (read more);
/// the caller enforces the byte limit (spans are u32, so `buf` must stay under 4 GiB). At most
/// `max_headers` (<= [`super::MAX_HEADERS`]) fields.
///
/// Strict httparse defaults: obs-fold, whitespace between a field name and its colon, bare CR,
/// control bytes in values and a missing method are [`HeadError::Malformed`]. Empty lines before
/// the request line are skipped and counted in `len`. Header values have no leading or trailing
/// whitespace.
pub fn parse_request(buf: &[u8], max_headers: usize) -> Result<Option<RequestHead>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut slots[..max_headers.min(MAX_HEADERS)]);
    let len = match req.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(request_error(e)),
    };
    let (Some(method), Some(target), Some(version)) = (req.method, req.path, req.version) else {
        return Err(HeadError::Malformed("invalid request line"));
    };
    Ok(Some(RequestHead {
        method: Span::of(buf, method.as_bytes()),
        target: Span::of(buf, target.as_bytes()),
        version: version_of(version)?,
        headers: spans(buf, req.headers),
        len,
    }))
}

/// Parses a response head from the start of `buf`. `Ok(None)` means incomplete.
///
/// Same strictness as [`parse_request`]. A missing reason phrase gives an empty `reason`. The
/// status must be three digits in 100..=599 (RFC 9110 section 15); anything else (`000`, `099`,
/// `600`) is [`HeadError::Malformed`].
pub fn parse_response(buf: &[u8], max_headers: usize) -> Result<Option<ResponseHead>, HeadError> {
    let mut slots = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut res = httparse::Response::new(&mut slots[..max_headers.min(MAX_HEADERS)]);
    let len = match res.parse(buf) {
        Ok(httparse::Status::Complete(len)) => len,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(response_error(e)),
    };
    let (Some(version), Some(status)) = (res.version, res.code) else {
        return Err(HeadError::Malformed("invalid status line"));
    };
    if !(100..=599).contains(&status) {
        return Err(HeadError::Malformed("invalid status code"));
    }
    // httparse hands out a static "" (not a slice of `buf`) when the reason phrase is absent.
    let reason = match res.reason {
        Some(r) if !r.is_empty() => Span::of(buf, r.as_bytes()),
        _ => Span::default(),
    };
    Ok(Some(ResponseHead {
        version: version_of(version)?,
        status,
        reason,
        headers: spans(buf, res.headers),
        len,
    }))
}

fn version_of(minor: u8) -> Result<Version, HeadError> {
    match minor {
        0 => Ok(Version::Http10),
        1 => Ok(Version::Http11),
        _ => Err(HeadError::Malformed("unsupported HTTP version")),
    }
}

fn spans(buf: &[u8], parsed: &[httparse::Header<'_>]) -> Headers {
    parsed
        .iter()
        .map(|h| Header {
            name: Span::of(buf, h.name.as_bytes()),
            value: Span::of(buf, h.value),
        })
        .collect()
}

fn request_error(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::TooManyHeaders => HeadError::TooManyHeaders,
        httparse::Error::HeaderName => HeadError::Malformed("invalid header name"),
        httparse::Error::HeaderValue => HeadError::Malformed("invalid header value"),
        httparse::Error::NewLine => HeadError::Malformed("invalid line ending"),
        httparse::Error::Version => HeadError::Malformed("invalid HTTP version"),
        httparse::Error::Token | httparse::Error::Status => {
            HeadError::Malformed("invalid request line")
        }
    }
}

fn response_error(e: httparse::Error) -> HeadError {
    match e {
        httparse::Error::Token | httparse::Error::Status => {
            HeadError::Malformed("invalid status line")
        }
        other => request_error(other),
    }
}

/// The value of the first header named `name` (ASCII case-insensitive).
pub fn find<'a>(headers: &[Header], buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.get(buf).eq_ignore_ascii_case(name))
        .map(|h| h.value.get(buf))
}

/// Values of every header named `name` (ASCII case-insensitive), in arrival order.
pub fn values<'a>(
    headers: &'a [Header],
    buf: &'a [u8],
    name: &'a [u8],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    headers
        .iter()
        .filter(move |h| h.name.get(buf).eq_ignore_ascii_case(name))
        .map(move |h| h.value.get(buf))
}

/// Elements of a comma-separated field value (RFC 9110 section 5.6.1), each trimmed of
/// SP/HTAB. Empty elements are yielded (callers decide whether to ignore them). Quoted strings
/// are not recognised: a comma inside quotes splits too, which only makes callers stricter.
pub fn list_items(value: &[u8]) -> impl Iterator<Item = &[u8]> {
    value.split(|&b| b == b',').map(trim_ows)
}

/// True if any header named `name` carries `token` as a list element (ASCII case-insensitive),
/// across all its field lines. Used for `Connection: close`, `keep-alive`, `upgrade`.
pub fn has_token(headers: &[Header], buf: &[u8], name: &[u8], token: &[u8]) -> bool {
    values(headers, buf, name).any(|v| list_items(v).any(|t| t.eq_ignore_ascii_case(token)))
}

/// `bytes` without leading and trailing SP/HTAB.
pub fn trim_ows(bytes: &[u8]) -> &[u8] {
    let is_ows = |b: &u8| *b == b' ' || *b == b'\t';
    let start = bytes.iter().position(|b| !is_ows(b)).unwrap_or(bytes.len());
    let end = bytes
        .iter()
        .rposition(|b| !is_ows(b))
        .map_or(start, |i| i + 1);
    &bytes[start..end]
}
