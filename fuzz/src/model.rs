//! Reference models, written from the RFCs and ringlb's documented rules rather than from its
//! code: message framing (RFC 9112 section 6.3 as `http::framing` documents it) and connection
//! facts. Deliberately naive (vectors, plain loops) so that a disagreement points at the
//! optimised code.

use ringlb::http::framing::BodyKind;
use ringlb::http::Version;

/// One header field: (name, value), value without surrounding whitespace.
pub type Field<'a> = (&'a [u8], &'a [u8]);

/// Why the model refuses a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelError {
    /// Malformed or ambiguous framing, or a bad Host (400 / 502).
    Invalid,
    /// A transfer coding other than `chunked` (501).
    UnsupportedCoding,
}

/// What the model expects of a request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestModel<'a> {
    /// Body framing.
    pub body: BodyKind,
    /// Connection persists after the exchange.
    pub keep_alive: bool,
    /// `Expect: 100-continue` counts.
    pub expect_continue: bool,
    /// `Connection: upgrade` with an `Upgrade` field offering a protocol other than `h2c`
    /// (HTTP/2 is never offered to a member) counts.
    pub upgrade: bool,
    /// The Host value.
    pub host: Option<&'a [u8]>,
}

/// What the model expects of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseModel {
    /// Body framing.
    pub body: BodyKind,
    /// The member connection may be reused.
    pub keep_alive: bool,
    /// A 1xx other than 101.
    pub interim: bool,
    /// 101, or a 2xx to CONNECT.
    pub switching: bool,
}

/// Values of the fields named `name` (ASCII case-insensitive), in order.
fn named<'a>(fields: &[Field<'a>], name: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    for &(n, v) in fields {
        if n.eq_ignore_ascii_case(name) {
            out.push(v);
        }
    }
    out
}

/// Comma-separated list elements of every field named `name`, trimmed of SP/HTAB; empty
/// elements included.
pub fn tokens<'a>(fields: &[Field<'a>], name: &[u8]) -> impl Iterator<Item = &'a [u8]> {
    let mut out = Vec::new();
    for value in named(fields, name) {
        for element in value.split(|&b| b == b',') {
            let mut e = element;
            while let [b' ' | b'\t', rest @ ..] = e {
                e = rest;
            }
            while let [rest @ .., b' ' | b'\t'] = e {
                e = rest;
            }
            out.push(e);
        }
    }
    out.into_iter()
}

fn has_token(fields: &[Field<'_>], name: &[u8], token: &[u8]) -> bool {
    tokens(fields, name).any(|t| t.eq_ignore_ascii_case(token))
}

/// RFC 9112 section 9.3.
fn persistent(version: Version, fields: &[Field<'_>]) -> bool {
    let close = has_token(fields, b"connection", b"close");
    match version {
        Version::Http11 => !close,
        Version::Http10 => !close && has_token(fields, b"connection", b"keep-alive"),
    }
}

/// Transfer-Encoding, when present: `Ok(true)` exactly `chunked`, `Ok(false)` other codings
/// then `chunked` (once, last), `Err` anything else. Empty elements are ignored.
fn transfer_coding(fields: &[Field<'_>]) -> Option<Result<bool, ()>> {
    if named(fields, b"transfer-encoding").is_empty() {
        return None;
    }
    let codings: Vec<&[u8]> = tokens(fields, b"transfer-encoding")
        .filter(|c| !c.is_empty())
        .collect();
    let is_chunked = |c: &[u8]| c.eq_ignore_ascii_case(b"chunked");
    let chunked = codings.iter().filter(|c| is_chunked(c)).count();
    Some(match codings.last() {
        Some(last) if is_chunked(last) && chunked == 1 => Ok(codings.len() == 1),
        _ => Err(()),
    })
}

/// Content-Length from every element of every field: each `1*DIGIT` within u64, all equal.
fn content_length(fields: &[Field<'_>]) -> Result<u64, ModelError> {
    let mut lengths = Vec::new();
    for element in tokens(fields, b"content-length") {
        if element.is_empty() || !element.iter().all(u8::is_ascii_digit) {
            return Err(ModelError::Invalid);
        }
        // All digits, so the only failure is overflow.
        let text = std::str::from_utf8(element).map_err(|_| ModelError::Invalid)?;
        lengths.push(text.parse::<u64>().map_err(|_| ModelError::Invalid)?);
    }
    match lengths.first() {
        Some(&n) if lengths.iter().all(|&m| m == n) => Ok(n),
        _ => Err(ModelError::Invalid),
    }
}

fn length_body(n: u64) -> BodyKind {
    if n == 0 {
        BodyKind::None
    } else {
        BodyKind::Length(n)
    }
}

/// RFC 3986 `uri-host [ ":" port ]` characters, percent signs and brackets included.
fn host_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:[]%".contains(&b)
}

/// The request model: Host rules (RFC 9112 section 3.2), then framing (section 6.3, requests
/// refuse Transfer-Encoding with Content-Length, in HTTP/1.0, or not ending in one `chunked`).
pub fn request<'a>(version: Version, fields: &[Field<'a>]) -> Result<RequestModel<'a>, ModelError> {
    let http11 = version == Version::Http11;
    let hosts = named(fields, b"host");
    let host = match hosts.as_slice() {
        [] if http11 => return Err(ModelError::Invalid),
        [] => None,
        [h] if h.iter().all(|&b| host_char(b)) => Some(*h),
        _ => return Err(ModelError::Invalid),
    };
    let has_cl = !named(fields, b"content-length").is_empty();
    let body = match transfer_coding(fields) {
        Some(_) if has_cl || !http11 => return Err(ModelError::Invalid),
        Some(Ok(true)) => BodyKind::Chunked,
        Some(Ok(false)) => return Err(ModelError::UnsupportedCoding),
        Some(Err(())) => return Err(ModelError::Invalid),
        None if has_cl => length_body(content_length(fields)?),
        None => BodyKind::None,
    };
    let expect_continue = http11
        && named(fields, b"expect")
            .iter()
            .any(|v| v.eq_ignore_ascii_case(b"100-continue"));
    let upgrade = http11
        && has_token(fields, b"connection", b"upgrade")
        && tokens(fields, b"upgrade").any(|p| !p.is_empty() && !p.eq_ignore_ascii_case(b"h2c"));
    Ok(RequestModel {
        body,
        keep_alive: persistent(version, fields),
        expect_continue,
        upgrade,
        host,
    })
}

/// The response model for a response with `status` to a request with `method`.
pub fn response(
    version: Version,
    status: u16,
    fields: &[Field<'_>],
    method: &[u8],
) -> Result<ResponseModel, ModelError> {
    let mut m = ResponseModel {
        body: BodyKind::None,
        keep_alive: persistent(version, fields),
        interim: false,
        switching: false,
    };
    let has_cl = !named(fields, b"content-length").is_empty();
    // The documented precedence: 101, other 1xx, then 204/304/HEAD (no body), and only then
    // a 2xx to CONNECT (so a 204 to CONNECT is not a tunnel; RFC 9110 9.3.6 would make it one).
    if status == 101 {
        m.switching = true;
        m.keep_alive = false;
        return Ok(m);
    }
    if (100..200).contains(&status) {
        m.interim = true;
        return Ok(m);
    }
    if status == 204 || status == 304 || method == b"HEAD" {
        return Ok(m);
    }
    if method == b"CONNECT" && (200..300).contains(&status) {
        m.switching = true;
        m.keep_alive = false;
        return Ok(m);
    }
    m.body = match transfer_coding(fields) {
        // A response's Transfer-Encoding wins over Content-Length, but then the connection
        // is not reused; an HTTP/1.0 or a non-chunked coding is read until close.
        Some(Ok(_)) if version == Version::Http11 => {
            m.keep_alive &= !has_cl;
            BodyKind::Chunked
        }
        Some(_) => BodyKind::UntilClose,
        None if has_cl => length_body(content_length(fields)?),
        None => BodyKind::UntilClose,
    };
    if m.body == BodyKind::UntilClose {
        m.keep_alive = false;
    }
    Ok(m)
}
