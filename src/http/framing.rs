//! Message body framing and connection facts (RFC 9112 section 6.3), with the request-smuggling
//! refusals. STUB: interface fixed; implementation by the http work.

use super::head::{RequestHead, ResponseHead};
use super::Span;

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

/// Decides the framing of a request and refuses smuggling vectors.
pub fn analyze_request(buf: &[u8], head: &RequestHead) -> Result<RequestFacts, FramingError> {
    let _ = (buf, head);
    Err(FramingError::Invalid("not implemented"))
}

/// Decides the framing of a response to a request with method `request_method`.
pub fn analyze_response(
    buf: &[u8],
    head: &ResponseHead,
    request_method: &[u8],
) -> Result<ResponseFacts, FramingError> {
    let _ = (buf, head, request_method);
    Err(FramingError::Invalid("not implemented"))
}
