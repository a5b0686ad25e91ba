//! A member's last failure, packed into one word so that a core can publish it with a single
//! `Relaxed` store into its own counter slot and any reader sees a whole value, never the
//! kind of one failure with the time of another.
//!
//! Pure: no clock reads (the caller passes the time), no allocation except [`LastError::what`].
//!
//! # Word layout
//!
//! ```text
//! bits 16..=63  time of the failure, milliseconds since the Unix epoch (clamped to 2^48 - 1)
//! bits 10..=15  the Fault (0 = no failure recorded: the whole word is 0)
//! bits  0..=9   an HTTP status the failure carries (0 when none)
//! ```
//!
//! The time is in the high bits, so of two words the larger is the later failure: the merge
//! over cores is a `max`.

/// What went wrong with a member. The discriminants are the encoded values; 0 is reserved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fault {
    /// The member refused the connection (or it failed outright).
    ConnectRefused = 1,
    /// The connection was not established within `timeouts.connect`.
    ConnectTimeout = 2,
    /// No response head within `timeouts.upstream_response` (504).
    ResponseTimeout = 3,
    /// The member closed the connection without responding (502).
    ClosedEarly = 4,
    /// The member's response could not be relayed: bad status line, framing, upgrade (502).
    BadResponse = 5,
    /// The member answered with a status listed in `failonstatus`.
    FailOnStatus = 6,
    /// Health check: the probe could not connect.
    CheckConnect = 7,
    /// Health check: the member answered with a status outside the accepted range.
    CheckStatus = 8,
    /// Health check: the answer was not an HTTP response head.
    CheckInvalid = 9,
    /// Health check: no answer in time.
    CheckTimeout = 10,
    /// Health check: the member closed the connection before answering.
    CheckClosed = 11,
    /// Health check: the probe request could not be sent.
    CheckNotSent = 12,
    /// Any other failure answered with the carried status.
    Other = 13,
    /// TLS (a request's connection or a health check's): the member's certificate does not
    /// chain to a CA of `tls_ca`.
    TlsUnknownIssuer = 14,
    /// TLS: the member's certificate is not valid for `tls_server_name`.
    TlsBadName = 15,
    /// TLS: the member's certificate has expired or is not valid yet.
    TlsExpired = 16,
    /// TLS: the member's certificate was refused for another reason.
    TlsCertificate = 17,
    /// TLS: the member ended the handshake with an alert.
    TlsAlert = 18,
    /// TLS: the handshake failed otherwise (closed, reset, not TLS).
    TlsHandshake = 19,
    /// AJP13: the member did not answer CPING with CPONG within `ping` (nothing was sent).
    NoPong = 20,
}

impl Fault {
    const ALL: [Fault; 20] = [
        Fault::ConnectRefused,
        Fault::ConnectTimeout,
        Fault::ResponseTimeout,
        Fault::ClosedEarly,
        Fault::BadResponse,
        Fault::FailOnStatus,
        Fault::CheckConnect,
        Fault::CheckStatus,
        Fault::CheckInvalid,
        Fault::CheckTimeout,
        Fault::CheckClosed,
        Fault::CheckNotSent,
        Fault::Other,
        Fault::TlsUnknownIssuer,
        Fault::TlsBadName,
        Fault::TlsExpired,
        Fault::TlsCertificate,
        Fault::TlsAlert,
        Fault::TlsHandshake,
        Fault::NoPong,
    ];

    /// Short text for the operator, e.g. `connect refused`.
    pub fn as_str(self) -> &'static str {
        match self {
            Fault::ConnectRefused => "connect refused",
            Fault::ConnectTimeout => "connect timed out",
            Fault::ResponseTimeout => "no response in time",
            Fault::ClosedEarly => "closed without responding",
            Fault::BadResponse => "bad response",
            Fault::FailOnStatus => "failonstatus",
            Fault::CheckConnect => "health check: connect failed",
            Fault::CheckStatus => "health check: unexpected status",
            Fault::CheckInvalid => "health check: invalid response",
            Fault::CheckTimeout => "health check: no response in time",
            Fault::CheckClosed => "health check: connection closed",
            Fault::CheckNotSent => "health check: request not sent",
            Fault::Other => "failed",
            Fault::TlsUnknownIssuer => "TLS: certificate not signed by a tls_ca certificate",
            Fault::TlsBadName => "TLS: certificate not valid for tls_server_name",
            Fault::TlsExpired => "TLS: certificate expired or not yet valid",
            Fault::TlsCertificate => "TLS: certificate refused",
            Fault::TlsAlert => "TLS: handshake refused by the member (alert)",
            Fault::TlsHandshake => "TLS: handshake failed",
            Fault::NoPong => "no CPONG within ping",
        }
    }

    /// Whether the failure was in making the connection (TCP or TLS): nothing was sent, and
    /// no HTTP status goes with it.
    pub fn is_connect(self) -> bool {
        matches!(
            self,
            Fault::ConnectRefused
                | Fault::ConnectTimeout
                | Fault::TlsUnknownIssuer
                | Fault::TlsBadName
                | Fault::TlsExpired
                | Fault::TlsCertificate
                | Fault::TlsAlert
                | Fault::TlsHandshake
                | Fault::NoPong
        )
    }

    pub(super) fn from_code(code: u64) -> Option<Fault> {
        Fault::ALL.into_iter().find(|&f| f as u64 == code)
    }
}

/// Latest time a word can hold, in Unix milliseconds (about the year 10889).
const MAX_UNIX_MS: u64 = (1 << 48) - 1;

/// One recorded failure: what, with which status (0 = none), and when.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LastError {
    pub fault: Fault,
    /// The HTTP status involved: ringlb's answer (502, 504) or the member's (`failonstatus`,
    /// a health check's unexpected status); 0 when none. Kept when below 1024.
    pub status: u16,
    /// Milliseconds since the Unix epoch.
    pub unix_ms: u64,
}

impl LastError {
    /// The packed word (layout in the module doc); never 0.
    pub fn encode(self) -> u64 {
        let status = if self.status < 1024 { self.status } else { 0 };
        (self.unix_ms.min(MAX_UNIX_MS) << 16) | ((self.fault as u64) << 10) | u64::from(status)
    }

    /// The failure a word holds; `None` for 0 or an unknown fault code.
    pub fn decode(word: u64) -> Option<LastError> {
        let fault = Fault::from_code((word >> 10) & 0x3f)?;
        Some(LastError {
            fault,
            status: (word & 0x3ff) as u16,
            unix_ms: word >> 16,
        })
    }

    /// The later of two failures (`a` on a tie); what the merge over cores keeps.
    pub fn latest(a: Option<LastError>, b: Option<LastError>) -> Option<LastError> {
        match (a, b) {
            (Some(x), Some(y)) if y.unix_ms > x.unix_ms => Some(y),
            (Some(x), _) => Some(x),
            (None, y) => y,
        }
    }

    /// The operator's text: the fault, then the status when there is one, e.g.
    /// `connect refused`, `bad response (502)`, `failonstatus 503`.
    pub fn what(&self) -> String {
        match (self.fault, self.status) {
            (fault, 0) => fault.as_str().to_owned(),
            (Fault::FailOnStatus | Fault::CheckStatus, status) => {
                format!("{} {status}", self.fault.as_str())
            }
            (fault, status) => format!("{} ({status})", fault.as_str()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_round_trips_and_later_words_are_larger() {
        for fault in Fault::ALL {
            for (status, unix_ms) in [(0, 0), (502, 1_795_293_381_123), (1023, MAX_UNIX_MS)] {
                let e = LastError {
                    fault,
                    status,
                    unix_ms,
                };
                assert_ne!(e.encode(), 0);
                assert_eq!(LastError::decode(e.encode()), Some(e), "{e:?}");
                let later = LastError {
                    fault: Fault::ConnectRefused,
                    status: 0,
                    unix_ms: unix_ms.saturating_add(1).min(MAX_UNIX_MS),
                };
                if later.unix_ms > unix_ms {
                    assert!(later.encode() > e.encode(), "{e:?}");
                }
            }
        }
    }

    #[test]
    fn out_of_range_values_are_clamped_or_dropped() {
        let e = LastError {
            fault: Fault::Other,
            status: 4000,
            unix_ms: u64::MAX,
        };
        let back = LastError::decode(e.encode()).unwrap();
        assert_eq!((back.status, back.unix_ms), (0, MAX_UNIX_MS));
        assert_eq!(LastError::decode(0), None);
        assert_eq!(LastError::decode(63 << 10), None, "unknown fault code");
    }

    #[test]
    fn latest_keeps_the_later_failure() {
        let at = |unix_ms, fault| {
            Some(LastError {
                fault,
                status: 0,
                unix_ms,
            })
        };
        let (a, b) = (at(5, Fault::ConnectRefused), at(9, Fault::ResponseTimeout));
        assert_eq!(LastError::latest(a, b), b);
        assert_eq!(LastError::latest(b, a), b);
        assert_eq!(LastError::latest(None, a), a);
        assert_eq!(LastError::latest(a, None), a);
        assert_eq!(LastError::latest(None, None), None);
        let tie = at(5, Fault::BadResponse);
        assert_eq!(LastError::latest(a, tie), a);
    }

    #[test]
    fn what_names_the_fault_and_its_status() {
        let cases = [
            (Fault::ConnectRefused, 0, "connect refused"),
            (Fault::BadResponse, 502, "bad response (502)"),
            (Fault::ResponseTimeout, 504, "no response in time (504)"),
            (Fault::FailOnStatus, 503, "failonstatus 503"),
            (
                Fault::CheckStatus,
                500,
                "health check: unexpected status 500",
            ),
            (Fault::CheckConnect, 0, "health check: connect failed"),
        ];
        for (fault, status, want) in cases {
            let e = LastError {
                fault,
                status,
                unix_ms: 1,
            };
            assert_eq!(e.what(), want);
        }
    }
}
