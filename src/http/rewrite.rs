//! Builds outgoing heads into reused `Vec<u8>` buffers: hop-by-hop removal, X-Forwarded-*,
//! framing headers, error responses. STUB: interface fixed.

use std::net::IpAddr;

use super::framing::{BodyKind, RequestFacts};
use super::head::{RequestHead, ResponseHead};
use super::Version;

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
}

/// Appends the upstream request head (always HTTP/1.1) to `out`.
pub fn write_request_head(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &RequestHead,
    facts: &RequestFacts,
    rw: &RequestRewrite<'_>,
) {
    let _ = (out, buf, head, facts, rw, BodyKind::None);
}

/// Appends the client response head to `out`.
pub fn write_response_head(
    out: &mut Vec<u8>,
    buf: &[u8],
    head: &ResponseHead,
    rw: &ResponseRewrite<'_>,
) {
    let _ = (out, buf, head, rw);
}

/// Appends a relayed interim (1xx) or 101 head: status line and end-to-end fields (for 101 also
/// `Connection: Upgrade` and `Upgrade`).
pub fn write_interim_head(out: &mut Vec<u8>, buf: &[u8], head: &ResponseHead) {
    let _ = (out, buf, head);
}

/// Appends a complete error response made by ringlb itself: a short text body naming the cause.
pub fn write_error(
    out: &mut Vec<u8>,
    status: u16,
    detail: &str,
    close: bool,
    extra: &[(&[u8], &[u8])],
) {
    let _ = (out, status, detail, close, extra);
}
