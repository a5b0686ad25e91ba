//! The PROXY protocol step of an accepted connection (`proxy_protocol`): before anything
//! else is read, the header an L4 balancer sends is read from the raw TCP stream, parsed by
//! [`crate::proxy_protocol`], and stripped; its source becomes the connection's client
//! address. A connection without a valid header within `timeouts.client_header` is closed
//! without a response (HAProxy `accept-proxy`), and logged at debug level.
//!
//! It works on the `TcpStream` itself, so a TLS listener can run it before its handshake and
//! hand the few bytes read past the header (at most [`crate::proxy_protocol::V1_MAX_BYTES`])
//! to the TLS session first.

use std::net::SocketAddr;

use monoio::net::TcpStream;

use super::forward::{self, Read};
use super::Core;
use crate::clock;
use crate::log::{self, Level};
use crate::proxy_protocol::{self, Parse};

/// Reads the PROXY header of a connection from `peer` (`proxy_protocol` is on). Returns the
/// client address and the bytes already read after the header (the start of the first
/// request; an empty `Vec` without capacity when there are none); `None`: close it.
pub(super) async fn accept(
    worker: &Core,
    stream: &mut TcpStream,
    peer: SocketAddr,
) -> Option<(SocketAddr, Vec<u8>)> {
    let wait = worker.current().config.timeouts.client_header;
    let deadline = clock::now() + wait;
    let mut buf = worker.head_bufs.get();
    loop {
        let why = match proxy_protocol::parse(&buf) {
            Parse::Done { source, consumed } => {
                buf.drain(..consumed.min(buf.len()));
                if buf.is_empty() {
                    worker.head_bufs.put(std::mem::take(&mut buf));
                }
                return Some((source.unwrap_or(peer), buf));
            }
            Parse::Invalid(why) => why,
            Parse::NeedMore => {
                let wait = deadline.saturating_duration_since(clock::now());
                let room = proxy_protocol::read_limit(&buf).saturating_sub(buf.len());
                let (read, b) = forward::read_into(stream, buf, room, wait).await;
                buf = b;
                match read {
                    Read::Data => continue,
                    Read::TimedOut => "no PROXY protocol header in time",
                    Read::Eof | Read::Failed => "closed before a whole PROXY protocol header",
                }
            }
        };
        log::write(Level::Debug, format_args!("{peer}: closed: {why}"));
        worker.head_bufs.put(buf);
        return None;
    }
}
