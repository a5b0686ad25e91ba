//! One client connection: the keep-alive loop. Reads a request head (with its deadlines),
//! hands the request to the exchange, and repeats while both sides keep the connection.

use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;

use super::exchange::{self, Next};
use super::forward::{self, Read};
use super::{Core, Gen};
use crate::clock;
use crate::http::head::{self, RequestHead};
use crate::http::rewrite;

/// Initial capacity of a connection's head buffer; it grows up to `max_head_bytes`.
const HEAD_BUF: usize = 4096;

/// The client side of one connection.
#[derive(Debug)]
pub(super) struct Client {
    pub(super) stream: TcpStream,
    pub(super) peer: SocketAddr,
    /// Bytes received and not yet consumed: the current head, then its body or pipelined
    /// requests.
    pub(super) buf: Vec<u8>,
}

/// Serves one accepted connection until either side ends it.
pub(super) async fn serve(worker: Rc<Core>, stream: TcpStream, peer: SocketAddr) {
    let _open = OpenConnection::new(&worker);
    let mut client = Client {
        stream,
        peer,
        buf: Vec::with_capacity(HEAD_BUF),
    };
    let mut first = true;
    loop {
        if worker.draining.get() && client.buf.is_empty() {
            return; // graceful stop: close at an idle point
        }
        let core = worker.current();
        let head = match read_head(&core, &mut client, first).await {
            HeadRead::Head(head) => head,
            HeadRead::Closed => return,
            HeadRead::Refused(status, why) => {
                let _ = send_error(&core, &mut client, status, why, true).await;
                return;
            }
        };
        first = false;
        match exchange::handle(&core, &mut client, head).await {
            Next::KeepAlive => {}
            Next::Close => return,
            Next::Tunnel(member, to_client) => {
                let to_member = std::mem::take(&mut client.buf);
                forward::tunnel(client.stream, member, to_member, to_client).await;
                return;
            }
        }
    }
}

// Boxing the head would allocate per request; it is moved once and lives on the task's stack.
#[allow(clippy::large_enum_variant)]
enum HeadRead {
    Head(RequestHead),
    /// The client closed or idled out between requests: close quietly.
    Closed,
    /// Answer with this status and close.
    Refused(u16, &'static str),
}

/// Counts an open client connection on its worker for as long as it lives.
struct OpenConnection<'a>(&'a Core);

impl<'a> OpenConnection<'a> {
    fn new(worker: &'a Core) -> OpenConnection<'a> {
        worker.count_connection(true);
        OpenConnection(worker)
    }
}

impl Drop for OpenConnection<'_> {
    fn drop(&mut self) {
        self.0
            .connections
            .set(self.0.connections.get().saturating_sub(1));
    }
}

/// Reads until `client.buf` starts with a complete request head.
///
/// Deadlines: between requests the client may stay silent for `keepalive_idle` (the first
/// request of a connection gets `client_header`); once a head has started it must be complete
/// within `client_header` of its first byte, else 408.
async fn read_head(core: &Gen, client: &mut Client, first: bool) -> HeadRead {
    let limits = core.config.limits;
    let timeouts = core.config.timeouts;
    let mut deadline: Option<Instant> =
        (!client.buf.is_empty()).then(|| clock::now() + timeouts.client_header);
    loop {
        if !client.buf.is_empty() {
            match head::parse_request(&client.buf, limits.max_headers) {
                Ok(Some(head)) => return HeadRead::Head(head),
                Ok(None) if client.buf.len() >= limits.max_head_bytes => {
                    return HeadRead::Refused(431, "request head too large")
                }
                Ok(None) => {}
                Err(e) => return HeadRead::Refused(e.status(), e.reason()),
            }
        }
        let wait = match deadline {
            Some(d) => d.saturating_duration_since(clock::now()),
            None if first => timeouts.client_header,
            None => timeouts.keepalive_idle,
        };
        let room = limits.max_head_bytes + 1 - client.buf.len();
        let buf = std::mem::take(&mut client.buf);
        let (read, buf) = forward::read_into(&mut client.stream, buf, room, wait).await;
        client.buf = buf;
        match read {
            Read::Data => {
                deadline.get_or_insert_with(|| clock::now() + timeouts.client_header);
            }
            Read::TimedOut if !client.buf.is_empty() => {
                return HeadRead::Refused(408, "request head not received in time")
            }
            Read::TimedOut | Read::Eof | Read::Failed => return HeadRead::Closed,
        }
    }
}

/// Sends a ringlb-made error response. `Retry-After` accompanies 503.
pub(super) async fn send_error(
    core: &Gen,
    client: &mut Client,
    status: u16,
    detail: &str,
    close: bool,
) -> Result<(), ()> {
    let mut out = core.bufs.get();
    let retry_after: &[(&[u8], &[u8])] = &[(b"Retry-After", b"1")];
    let extra = if status == 503 { retry_after } else { &[] };
    rewrite::write_error(&mut out, status, detail, close, extra);
    let out = forward::write_from(&mut client.stream, out, 0, write_timeout(core)).await?;
    core.bufs.put(out);
    Ok(())
}

/// Deadline for writing to a peer that does not read.
pub(super) fn write_timeout(core: &Gen) -> Duration {
    core.config.timeouts.upstream_response
}
