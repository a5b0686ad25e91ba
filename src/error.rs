//! Errors on the request path: each carries the status the client gets, a short cause for the
//! error body, which side caused it, and whether the request may be retried elsewhere.

/// Who caused an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Upstream,
}

/// Whether a failed attempt may be repeated on another member (docs/semantics.md §6, ringlb rule).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Retry {
    /// Never: something may have reached the application, or the client is at fault.
    No,
    /// Nothing reached the member (connect failure): any request may go elsewhere.
    NothingSent,
    /// The request was sent but no response byte reached the client: only an idempotent request
    /// with a replayable body may go elsewhere.
    IfIdempotent,
}

/// A failed exchange, cheap to build on the hot path (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyError {
    pub status: u16,
    pub detail: &'static str,
    pub side: Side,
    pub retry: Retry,
}

impl ProxyError {
    /// A client-side error: the client gets `status` and the connection closes.
    pub const fn client(status: u16, detail: &'static str) -> ProxyError {
        ProxyError {
            status,
            detail,
            side: Side::Client,
            retry: Retry::No,
        }
    }

    /// A member-side error answered with `status` (502, 503 or 504).
    pub const fn upstream(status: u16, detail: &'static str, retry: Retry) -> ProxyError {
        ProxyError {
            status,
            detail,
            side: Side::Upstream,
            retry,
        }
    }
}

/// RFC 9110 section 9.2.2: methods whose repetition has the same intended effect.
pub fn is_idempotent(method: &[u8]) -> bool {
    matches!(
        method,
        b"GET" | b"HEAD" | b"PUT" | b"DELETE" | b"OPTIONS" | b"TRACE"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_methods_follow_rfc9110() {
        for m in ["GET", "HEAD", "PUT", "DELETE", "OPTIONS", "TRACE"] {
            assert!(is_idempotent(m.as_bytes()), "{m}");
        }
        for m in ["POST", "PATCH", "CONNECT", "get"] {
            assert!(!is_idempotent(m.as_bytes()), "{m}");
        }
    }
}
