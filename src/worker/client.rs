//! The client side of one connection as the request path sees it: the socket, the bytes
//! received and not yet consumed, what the current exchange did (for the access log), and
//! ringlb's own error responses.

use std::net::SocketAddr;
use std::time::Duration;

use smallvec::SmallVec;

use super::forward;
use super::stream::ClientStream;
use super::{Arrival, Gen};
use crate::http::rewrite;

/// The client side of one connection.
#[derive(Debug)]
pub(super) struct Client {
    pub(super) stream: ClientStream,
    pub(super) peer: SocketAddr,
    /// The listening socket it came in on.
    pub(super) arrival: Arrival,
    /// Bytes received and not yet consumed: the current head, then its body or pipelined
    /// requests. The head stays at the start until its exchange is over and logged
    /// (`conn::active` drains it, and nothing else does), so spans into it stay valid.
    pub(super) buf: Vec<u8>,
    /// What the current exchange did, for the access log.
    pub(super) done: Done,
    /// ringlb sent an error response and closes: request bytes may still be unread or on
    /// their way, so the close must linger (see `conn::lingering_close`).
    pub(super) linger: bool,
}

/// The outcome of one exchange as the access log reports it.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Done {
    pub(super) status: u16,
    pub(super) body_bytes: u64,
    pub(super) bytes_out: u64,
    pub(super) upstream_us: Option<u64>,
    /// Time spent waiting for a connection to a member with `max`, every attempt together;
    /// `None` when no member connection was sought.
    pub(super) queue_us: Option<u64>,
    /// Members tried (a stale pooled connection retried counts again).
    pub(super) attempts: u32,
}

/// Sends a ringlb-made error response. `Retry-After` accompanies 503. With `close`, the
/// connection ends with a lingering close once the caller is done with it.
pub(super) async fn send_error(
    gen: &Gen,
    client: &mut Client,
    status: u16,
    detail: &str,
    close: bool,
) -> Result<(), ()> {
    let retry_after: &[(&[u8], &[u8])] = &[(b"Retry-After", b"1")];
    let extra = if status == 503 { retry_after } else { &[] };
    send_own(gen, client, status, detail, close, extra).await
}

/// Sends a response made by ringlb itself (see [`rewrite::write_error`]) with `extra` fields,
/// and the listener's HSTS field when it has one.
pub(super) async fn send_own(
    gen: &Gen,
    client: &mut Client,
    status: u16,
    detail: &str,
    close: bool,
    extra: &[(&[u8], &[u8])],
) -> Result<(), ()> {
    let mut out = gen.bufs.get();
    let mut fields: SmallVec<[(&[u8], &[u8]); 2]> = SmallVec::from_slice(extra);
    fields.extend(hsts(gen, client));
    rewrite::write_error(&mut out, status, detail, close, &fields);
    client.linger |= close;
    client.done.status = status;
    gen.stats.add_generated(status);
    client.done.bytes_out = out.len() as u64;
    client.done.body_bytes =
        (out.len() - memchr::memmem::find(&out, b"\r\n\r\n").map_or(0, |i| i + 4)) as u64;
    let out = forward::write_from(&mut client.stream, out, 0, write_timeout(gen)).await?;
    gen.bufs.put(out);
    Ok(())
}

/// The `Strict-Transport-Security` field of the listener `client` came in on, if it has one.
pub(super) fn hsts<'g>(gen: &'g Gen, client: &Client) -> Option<(&'static [u8], &'g [u8])> {
    let listener = gen.config.listeners.get(client.arrival.listener()?)?;
    let value = listener.hsts.as_ref()?;
    Some((b"Strict-Transport-Security", value.as_bytes()))
}

/// Deadline for writing to a peer that does not read.
pub(super) fn write_timeout(gen: &Gen) -> Duration {
    gen.config.timeouts.upstream_response
}
