//! Request and response head parsing with httparse into [`Span`]s (hyper's `HeaderIndices`
//! shape): parse, record offsets, drop the borrow, keep the buffer.
//!
//! STUB: interface fixed; the implementation lands with the http helper's work.

use smallvec::SmallVec;

use super::{Span, Version};

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
/// the caller enforces the byte limit. At most `max_headers` (<= [`super::MAX_HEADERS`]) fields.
pub fn parse_request(buf: &[u8], max_headers: usize) -> Result<Option<RequestHead>, HeadError> {
    let _ = (buf, max_headers);
    Err(HeadError::Malformed("not implemented"))
}

/// Parses a response head from the start of `buf`. `Ok(None)` means incomplete.
pub fn parse_response(buf: &[u8], max_headers: usize) -> Result<Option<ResponseHead>, HeadError> {
    let _ = (buf, max_headers);
    Err(HeadError::Malformed("not implemented"))
}

/// The value of the first header named `name` (ASCII case-insensitive).
pub fn find<'a>(headers: &[Header], buf: &'a [u8], name: &[u8]) -> Option<&'a [u8]> {
    headers
        .iter()
        .find(|h| h.name.get(buf).eq_ignore_ascii_case(name))
        .map(|h| h.value.get(buf))
}
