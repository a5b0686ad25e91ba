//! Connections to members: connect with a timeout, and the per-core idle pool.
//!
//! The balancer never sees connections; the exchange code picks a member first, then asks
//! this module for a connection to it (nginx's keepalive wrapper shape).

mod pool;

use std::net::SocketAddr;
use std::time::Duration;

use monoio::net::TcpStream;

pub use pool::{nothing_to_read, Pool};

/// A connection to a member, with whether it came from the idle pool (a reused connection can
/// be closed by the member at any moment; the caller may retry a safe request on a fresh one).
#[derive(Debug)]
pub struct UpstreamConn {
    pub stream: TcpStream,
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

/// Connects to `addr` within `timeout`, with `TCP_NODELAY` set. A local shortage (the socket
/// could not even be made) is [`ConnectError::Local`], never a member's fault.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectError> {
    match monoio::time::timeout(timeout, TcpStream::connect_addr(addr)).await {
        Ok(Ok(stream)) => {
            // Nagle would hold small heads back behind the previous write's ACK.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) if e.raw_os_error().is_some_and(is_local_errno) => Err(ConnectError::Local),
        Ok(Err(_)) => Err(ConnectError::Refused),
        Err(_) => Err(ConnectError::TimedOut),
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
}
