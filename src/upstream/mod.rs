//! Connections to members: connect with a timeout (and the TLS handshake, for an `https://`
//! member), the per-core idle pool, and the connection limits (`limit`).
//!
//! The balancer never sees connections; the exchange code picks a member first, then asks
//! this module for a connection to it (nginx's keepalive wrapper shape).

mod limit;
mod pool;
mod stream;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use monoio::net::TcpStream;
use rustls::CertificateError;

use crate::clock;
use crate::tls::stream::{rustls_error, TlsStream};
use crate::tls::{Connector, MaybeTls};

pub use limit::{Admission, Gate, Grant, Refusal, SharedLimit, Slot, POLL, SLACK};
pub use pool::{is_quiet, nothing_to_read, MemberPolicy, Pool};
pub use stream::MemberStream;

/// A connection to a member, with whether it came from the idle pool (a reused connection can
/// be closed by the member at any moment; the caller may retry a safe request on a fresh one).
#[derive(Debug)]
pub struct UpstreamConn {
    pub stream: MemberStream,
    pub member: usize,
    pub reused: bool,
}

/// Why a connection could not be had. Nothing was sent, so any request may go elsewhere.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ConnectError {
    /// The member refused or reset the connection: it counts as down.
    Refused,
    /// The member did not answer within the connect timeout: it counts as down.
    TimedOut,
    /// This host ran out of something (descriptors, memory, buffers, local ports): says
    /// nothing about the member, whose state must not change (see [`is_local_errno`]).
    Local,
    /// The TLS handshake with an `https://` member failed: it counts as down, like a refusal.
    Tls(TlsFailure),
    /// An `ajp://` member with `ping` did not answer CPING on a new connection: it counts as
    /// down.
    NoPong,
    /// The member has `max` connections open and no place came free in time (or `maxqueue`
    /// requests were waiting already): it is busy, not down, and its state must not change.
    Busy(Refusal),
}

/// Why a TLS handshake with a member failed, as far as the operator can act on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsFailure {
    /// The member's certificate does not chain to a CA of `tls_ca` (or a signature in the
    /// chain is bad).
    UnknownIssuer,
    /// The member's certificate is not valid for `tls_server_name`.
    BadName,
    /// The member's certificate has expired or is not valid yet.
    Expired,
    /// The member's certificate was refused for another reason (revoked, bad encoding,
    /// unsupported algorithm, not for servers).
    Certificate,
    /// The member ended the handshake with an alert (no shared version or cipher, a client
    /// certificate it requires or refuses).
    Alert,
    /// Anything else: the member closed or reset the connection, or did not speak TLS.
    Handshake,
}

impl TlsFailure {
    /// What a failed handshake's error says (see [`TlsStream::connect`]). Pure, so the
    /// classification is table-tested.
    pub fn of(e: &io::Error) -> TlsFailure {
        match rustls_error(e) {
            Some(rustls::Error::InvalidCertificate(c)) => match c {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    TlsFailure::UnknownIssuer
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => TlsFailure::BadName,
                CertificateError::Expired
                | CertificateError::ExpiredContext { .. }
                | CertificateError::NotValidYet
                | CertificateError::NotValidYetContext { .. } => TlsFailure::Expired,
                _ => TlsFailure::Certificate,
            },
            Some(rustls::Error::NoCertificatesPresented) => TlsFailure::Certificate,
            Some(rustls::Error::AlertReceived(_)) => TlsFailure::Alert,
            _ => TlsFailure::Handshake,
        }
    }
}

/// Whether a `socket()`/`connect()` failure with `errno` is this host's shortage rather than
/// the member's fault: out of descriptors (`EMFILE` per process, `ENFILE` system-wide), of
/// memory or socket buffers (`ENOMEM`, `ENOBUFS`), or of local ports (`EADDRNOTAVAIL`).
/// Pure, so the classification is table-tested.
pub fn is_local_errno(errno: i32) -> bool {
    matches!(
        errno,
        libc::EMFILE | libc::ENFILE | libc::ENOMEM | libc::ENOBUFS | libc::EADDRNOTAVAIL
    )
}

/// Connects to `addr` with `TCP_NODELAY` set and, with `tls` (an `https://` member), runs the
/// TLS handshake, both within `timeout`. A local shortage (the socket could not even be made)
/// is [`ConnectError::Local`], never a member's fault; a failed handshake is
/// [`ConnectError::Tls`] (the alert rustls chose was sent), one that did not end in time
/// [`ConnectError::TimedOut`].
pub async fn connect(
    addr: SocketAddr,
    tls: Option<&Connector>,
    timeout: Duration,
) -> Result<MemberStream, ConnectError> {
    let deadline = clock::now() + timeout;
    let tcp = match monoio::time::timeout(timeout, TcpStream::connect_addr(addr)).await {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) if e.raw_os_error().is_some_and(is_local_errno) => {
            return Err(ConnectError::Local)
        }
        Ok(Err(_)) => return Err(ConnectError::Refused),
        Err(_) => return Err(ConnectError::TimedOut),
    };
    // Nagle would hold small heads back behind the previous write's ACK.
    let _ = tcp.set_nodelay(true);
    let Some(c) = tls else {
        return Ok(MemberStream::new(MaybeTls::Plain(tcp)));
    };
    let left = deadline.saturating_duration_since(clock::now());
    // Boxed: the handshake future is large, and only a new connection makes one.
    let handshake = TlsStream::connect(tcp, c.config.clone(), c.name.clone(), left);
    match Box::pin(handshake).await {
        Ok(stream) => Ok(MemberStream::new(MaybeTls::Tls(Box::new(stream)))),
        Err(e) if e.kind() == io::ErrorKind::TimedOut => Err(ConnectError::TimedOut),
        Err(e) => Err(ConnectError::Tls(TlsFailure::of(&e))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_errnos_are_this_hosts_shortages() {
        let cases = [
            (libc::EMFILE, true),
            (libc::ENFILE, true),
            (libc::ENOMEM, true),
            (libc::ENOBUFS, true),
            (libc::EADDRNOTAVAIL, true),
            (libc::ECONNREFUSED, false),
            (libc::ETIMEDOUT, false),
            (libc::EHOSTUNREACH, false),
            (libc::ENETUNREACH, false),
            (libc::ECONNRESET, false),
        ];
        for (errno, local) in cases {
            assert_eq!(is_local_errno(errno), local, "errno {errno}");
        }
    }

    #[test]
    fn tls_failures_say_what_to_fix() {
        let tls = |e: rustls::Error| io::Error::new(io::ErrorKind::InvalidData, e);
        let cert = |c: CertificateError| tls(rustls::Error::InvalidCertificate(c));
        let cases = [
            (
                cert(CertificateError::UnknownIssuer),
                TlsFailure::UnknownIssuer,
            ),
            (
                cert(CertificateError::BadSignature),
                TlsFailure::UnknownIssuer,
            ),
            (cert(CertificateError::NotValidForName), TlsFailure::BadName),
            (cert(CertificateError::Expired), TlsFailure::Expired),
            (cert(CertificateError::NotValidYet), TlsFailure::Expired),
            (cert(CertificateError::Revoked), TlsFailure::Certificate),
            (
                tls(rustls::Error::AlertReceived(
                    rustls::AlertDescription::HandshakeFailure,
                )),
                TlsFailure::Alert,
            ),
            (
                io::Error::new(io::ErrorKind::UnexpectedEof, "peer closed"),
                TlsFailure::Handshake,
            ),
            (
                io::Error::from(io::ErrorKind::ConnectionReset),
                TlsFailure::Handshake,
            ),
        ];
        for (error, want) in cases {
            assert_eq!(TlsFailure::of(&error), want, "{error:?}");
        }
    }
}
