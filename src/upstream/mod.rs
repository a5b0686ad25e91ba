//! Connections to members: connect with a timeout, and the per-core idle pool.
//!
//! The balancer never sees connections; the exchange code picks a member first, then asks
//! this module for a connection to it (nginx's keepalive wrapper shape).

mod pool;

use std::io;
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
    Refused,
    TimedOut,
}

/// Connects to `addr` within `timeout`, with `TCP_NODELAY` set.
pub async fn connect(addr: SocketAddr, timeout: Duration) -> Result<TcpStream, ConnectError> {
    match monoio::time::timeout(timeout, TcpStream::connect_addr(addr)).await {
        Ok(Ok(stream)) => {
            // Nagle would hold small heads back behind the previous write's ACK.
            let _ = stream.set_nodelay(true);
            Ok(stream)
        }
        Ok(Err(e)) if e.kind() == io::ErrorKind::TimedOut => Err(ConnectError::TimedOut),
        Ok(Err(_)) => Err(ConnectError::Refused),
        Err(_) => Err(ConnectError::TimedOut),
    }
}
