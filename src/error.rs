//! Errors on the request path: each carries the status the client gets, a short cause for the
//! error body, and which side caused it. Whether a failed attempt is retried is not the error's
//! business: the exchange decides that (`worker::relay::Fail`), from where the attempt failed.

/// Who caused an error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Side {
    Client,
    Upstream,
}

/// A failed exchange, cheap to build on the hot path (no allocation).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProxyError {
    pub status: u16,
    pub detail: &'static str,
    pub side: Side,
    /// The member could not be connected to: nothing was sent, and it says the member is down
    /// (it goes in error for its `retry`).
    pub unreachable: bool,
}

impl ProxyError {
    /// A client-side error: the client gets `status` and the connection closes.
    pub const fn client(status: u16, detail: &'static str) -> ProxyError {
        ProxyError {
            status,
            detail,
            side: Side::Client,
            unreachable: false,
        }
    }

    /// A member-side error answered with `status` (502, 503 or 504).
    pub const fn upstream(status: u16, detail: &'static str) -> ProxyError {
        ProxyError {
            status,
            detail,
            side: Side::Upstream,
            unreachable: false,
        }
    }

    /// No connection to the member could be made (503).
    pub const fn unreachable(detail: &'static str) -> ProxyError {
        ProxyError {
            unreachable: true,
            ..ProxyError::upstream(503, detail)
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
