//! One client connection: the keep-alive loop. Reads a request head (with its deadlines),
//! builds the request context, hands the request to the exchange, writes the access log line
//! from the head still in the buffer, drains the head, and repeats while both sides keep the
//! connection.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::io::AsyncWriteRent;
use monoio::net::TcpStream;

use super::bufs::IO_BUF;
use super::client::{send_error, send_own, Client, Done};
use super::exchange::{self, Next};
use super::forward::{self, Read};
use super::idle::{Ticket, Wait};
use super::request::Request;
use super::stream::ClientStream;
use super::tls_tunnel;
use super::{Arrival, Core, Gen};
use crate::accesslog::{HeaderView, Record};
use crate::clock;
use crate::http::forwarded;
use crate::http::head::{self, RequestHead};
use crate::http::Version;
use crate::sticky::Source;
use crate::tls::stream::TlsStream;
use crate::tls::MaybeTls;
use crate::upstream::MemberStream;

/// How long an active connection waits for its next request before going idle (returning its
/// buffer and request state); the rest of `keepalive_idle` is spent idle.
const LINGER: Duration = Duration::from_millis(250);

/// What ended an active phase.
enum Phase {
    /// No request came within the linger time: wait idle.
    Idle,
    /// The connection is finished.
    Done,
    /// The client sent the HTTP/2 preface on a plain connection (prior-knowledge `h2c`): the
    /// connection is HTTP/2 from its first byte, which is at the start of the buffer.
    Http2,
    /// A `101` was relayed: tunnel to this member connection (see [`Next::Tunnel`]).
    Tunnel(MemberStream, Vec<u8>),
}

/// A connection as the accept loop hands it over.
#[derive(Debug)]
pub(super) struct Accepted {
    pub(super) open: OpenConnection,
    pub(super) tcp: TcpStream,
    pub(super) peer: SocketAddr,
    pub(super) arrival: Arrival,
}

/// A client connection ready for its first request: what its task keeps while it lives.
struct Opened {
    open: OpenConnection,
    client: Client,
    ticket: Rc<Ticket>,
}

/// Serves one accepted connection until either side ends it.
///
/// An idle connection holds only its socket and this small future: no read buffer, no
/// request state and no timer. When bytes arrive, the request-handling future is allocated
/// and kept while requests keep coming (so a busy connection allocates nothing per request),
/// and released when the connection has been quiet for [`LINGER`]. Everything that is not
/// the idle wait (the PROXY header, the TLS handshake, HTTP/2, tunnels, the lingering close)
/// runs in futures of its own, boxed, so that none of their state enlarges this one: the
/// task of an idle plain connection is a few hundred bytes.
pub(super) async fn serve(accepted: Box<Accepted>) {
    let Some(mut opened) = Box::pin(open_client(accepted)).await else {
        return;
    };
    // The keep-alive loop, written out here rather than as a function of its own: a nested
    // future would keep a second copy of its arguments.
    let (worker, client) = (&opened.open.0, &mut opened.client);
    let mut first = true;
    let phase = loop {
        if worker.closing_at_idle() {
            break Phase::Done; // graceful stop: close at an idle point
        }
        // No timer of its own: the worker's reaper shuts the socket down at the deadline,
        // which ends this wait. Bytes already read (after a PROXY header) need no wait.
        if client.buf.is_empty() {
            let (kind, wait) = idle_wait(&worker.current().config.timeouts, first);
            worker.reaper.arm(&opened.ticket, kind, clock::now() + wait);
            let ready = match &mut client.stream {
                // The socket's own wait, without a wrapper future around it.
                ClientStream::Plain(tcp) => tcp.readable(false).await,
                stream => stream.readable().await,
            };
            worker.reaper.disarm(&opened.ticket);
            if ready.is_err() {
                break Phase::Done;
            }
        }
        match Box::pin(active(worker, client, &mut first)).await {
            Phase::Idle => client.stream.release_buffers(),
            end => break end,
        }
    };
    // Most connections just close: only the other endings pay for `finish`'s large future.
    if !matches!(phase, Phase::Idle | Phase::Done) || opened.client.linger {
        Box::pin(finish(opened, phase)).await;
    }
}

/// Reads the PROXY header and completes the TLS handshake where the listener asks for them;
/// serves a TLS connection that chose HTTP/2 to its end (`None`), else returns the client.
async fn open_client(accepted: Box<Accepted>) -> Option<Opened> {
    let Accepted {
        open,
        mut tcp,
        peer,
        arrival,
    } = *accepted;
    let listener = arrival.listener();
    let worker = open.0.clone();
    let gen = worker.current();
    let acceptor = listener.and_then(|i| gen.shared_tls().get(i).cloned());
    let client_header = gen.config.timeouts.client_header;
    let own = listener.and_then(|i| gen.config.listeners.get(i));
    let proxy_protocol = own.map_or(gen.config.trust.proxy_protocol, |l| l.proxy_protocol);
    drop(gen);
    // PROXY protocol: the header's source is the client; what followed it starts `buf` (or,
    // on a TLS listener, the handshake). Boxed, like the handshake: this future is made and
    // moved for every connection, and would be kilobytes with either inside.
    let (peer, mut buf) = if proxy_protocol {
        Box::pin(super::proxied::accept(&worker, &mut tcp, peer)).await?
    } else {
        (peer, Vec::new())
    };
    let fd = tcp.as_raw_fd();
    let stream = match acceptor {
        Some(config) => {
            let early = std::mem::take(&mut buf);
            // Boxed, and the stream boxed as it comes out: neither the handshake's state nor
            // the TLS stream is ever held in this future.
            let handshake = TlsStream::accept(tcp, config, early, client_header);
            match Box::pin(async { handshake.await.map(Box::new) }).await {
                Ok(mut tls) => {
                    // For `ssl_headers` and for AJP members (which always get them).
                    tls.keep_facts();
                    if tls.alpn() == Some(b"h2") {
                        let tls = ClientStream::Tls(tls);
                        Box::pin(super::h2::serve(worker, tls, peer, arrival, vec![])).await;
                        return None;
                    }
                    ClientStream::Tls(tls)
                }
                Err(_) => {
                    crate::tls::count_handshake_failure();
                    return None;
                }
            }
        }
        None => ClientStream::Plain(tcp),
    };
    let client = Client {
        stream,
        peer,
        arrival,
        buf,
        done: Done::default(),
        linger: false,
    };
    let ticket = Rc::new(Ticket::new(fd));
    Some(Opened {
        open,
        client,
        ticket,
    })
}

/// Which idle wait comes next, and how long it may last.
fn idle_wait(timeouts: &crate::config::Timeouts, first: bool) -> (Wait, Duration) {
    if first {
        (Wait::FirstRequest, timeouts.client_header)
    } else {
        let wait = timeouts.keepalive_idle.saturating_sub(linger(timeouts));
        (Wait::KeepAlive, wait)
    }
}

/// Ends a connection as `phase` says: closes it (lingering after ringlb's own error
/// response), serves it as HTTP/2, or tunnels it to a member after a `101`.
async fn finish(opened: Opened, phase: Phase) {
    let Opened {
        open, mut client, ..
    } = opened;
    let worker = open.0.clone();
    match phase {
        Phase::Idle | Phase::Done if client.linger => lingering_close(&mut client).await,
        Phase::Idle | Phase::Done => {}
        Phase::Http2 => {
            let early = std::mem::take(&mut client.buf);
            let arrival = client.arrival;
            let serve = super::h2::serve(worker, client.stream, client.peer, arrival, early);
            // Boxed: HTTP/2's connection future is large.
            Box::pin(serve).await;
        }
        Phase::Tunnel(member, to_client) => {
            let to_member = std::mem::take(&mut client.buf);
            let idle = worker.current().config.timeouts.tunnel_idle;
            // The member's slot (with `max`) is held until the tunnel ends.
            let (member, _slot) = member.into_parts();
            match (client.stream, member) {
                (ClientStream::Plain(stream), MaybeTls::Plain(member)) => {
                    forward::tunnel(stream, member, to_member, to_client, idle).await;
                }
                // Either side TLS (HTTP/2 streams are served by `h2::serve`, never here).
                (stream, member) => {
                    let tunnel = tls_tunnel::tunnel(stream, member, to_member, to_client, idle);
                    // Boxed: the TLS tunnel is larger than the plain one, and rarer.
                    Box::pin(tunnel).await;
                }
            }
        }
    }
}

/// Whether the listener `client` came in on answers every request with a redirect to https.
fn redirects(gen: &Gen, client: &Client) -> bool {
    client
        .arrival
        .listener()
        .and_then(|i| gen.config.listeners.get(i))
        .is_some_and(|l| l.redirect_https)
}

/// `redirect_https`: `301` to `https://` + the request's `Host` + its target (nginx
/// `return 301 https://$host$request_uri`). The connection stays open unless the request
/// announced a body (which is not read). No `Host` (HTTP/1.0): `400`.
async fn redirect_https(gen: &Gen, client: &mut Client, head: &RequestHead) -> Next {
    let buf = &client.buf;
    let host = head::find(&head.headers, buf, b"host")
        .map(head::trim_ows)
        .filter(|h| !h.is_empty() && h.iter().all(|&b| b.is_ascii_graphic()));
    let Some(host) = host else {
        let _ = send_error(gen, client, 400, "no Host to redirect to", true).await;
        return Next::Close;
    };
    let has_body = head::find(&head.headers, buf, b"content-length")
        .is_some_and(|v| head::trim_ows(v) != b"0")
        || head::find(&head.headers, buf, b"transfer-encoding").is_some();
    let keep = !has_body && head.version == Version::Http11 && !close_requested(head, buf);
    let target = head.target.get(buf);
    let target = if target.starts_with(b"/") {
        target
    } else {
        b"/"
    };
    let mut location = Vec::with_capacity(8 + host.len() + target.len());
    location.extend_from_slice(b"https://");
    location.extend_from_slice(host);
    location.extend_from_slice(target);
    let extra: &[(&[u8], &[u8])] = &[(b"Location", &location)];
    match send_own(gen, client, 301, "see https", !keep, extra).await {
        Ok(()) if keep => {
            client.linger = false;
            Next::KeepAlive
        }
        _ => Next::Close,
    }
}

fn close_requested(head: &RequestHead, buf: &[u8]) -> bool {
    head::has_token(&head.headers, buf, b"connection", b"close")
}

/// Longest a connection lingers after an error response, and the most bytes it drains then.
const LINGER_CLOSE_TIME: Duration = Duration::from_secs(2);
const LINGER_CLOSE_BYTES: usize = 1024 * 1024;

/// Ends a connection after ringlb's own error response without destroying that response:
/// closing a socket with unread bytes (a refused head's rest, an unread body) makes the kernel
/// send a reset, and a reset can discard the response before the client reads it. So: FIN
/// after the response, then read and drop what the client still sends until it closes, or
/// [`LINGER_CLOSE_BYTES`] were drained, or [`LINGER_CLOSE_TIME`] passed (Apache's and nginx's
/// lingering close).
async fn lingering_close(client: &mut Client) {
    if client.stream.shutdown().await.is_err() {
        return;
    }
    let deadline = clock::now() + LINGER_CLOSE_TIME;
    let mut buf = std::mem::take(&mut client.buf);
    let mut drained = 0;
    while drained < LINGER_CLOSE_BYTES {
        let wait = deadline.saturating_duration_since(clock::now());
        if wait.is_zero() {
            return;
        }
        buf.clear();
        let (read, b) = forward::read_into(&mut client.stream, buf, IO_BUF, wait).await;
        drained += b.len();
        buf = b;
        if !matches!(read, Read::Data) {
            return;
        }
    }
}

fn linger(timeouts: &crate::config::Timeouts) -> Duration {
    LINGER.min(timeouts.keepalive_idle / 2)
}

/// Requests one after another while they keep coming.
async fn active(worker: &Rc<Core>, client: &mut Client, first: &mut bool) -> Phase {
    if client.buf.capacity() == 0 {
        client.buf = worker.head_bufs.get();
    }
    loop {
        if worker.closing_at_idle() && client.buf.is_empty() {
            return Phase::Done;
        }
        let gen = worker.current();
        let head = match read_head(&gen, client, *first).await {
            HeadRead::Head(head) => head,
            HeadRead::Idle => {
                let buf = std::mem::take(&mut client.buf);
                worker.head_bufs.put(buf);
                return Phase::Idle;
            }
            HeadRead::Closed => return Phase::Done,
            HeadRead::Http2 => return Phase::Http2,
            HeadRead::Refused(status, why) => {
                gen.stats.add_listener_request(client.arrival.row());
                let _ = send_error(&gen, client, status, why, true).await;
                return Phase::Done;
            }
        };
        *first = false;
        // Served on the generation in force once its head is complete: a change acknowledged
        // while this keep-alive connection waited applies to it (a member's new address
        // included).
        let gen = worker.current();
        let next = serve_request(&gen, worker, client, &head).await;
        // The one place the head leaves the buffer: after everything that reads it.
        client.buf.drain(..head.len.min(client.buf.len()));
        match next {
            Next::KeepAlive => {}
            Next::Close => return Phase::Done,
            Next::Tunnel(member, to_client) => return Phase::Tunnel(member, to_client),
        }
    }
}

/// Serves the request whose head `head` is at the start of `client.buf` (an HTTP/1.1
/// request, or an HTTP/2 stream's written as one): builds its context, answers it (through
/// the exchange, a redirect or an error) and writes its access log line. The head stays in
/// the buffer.
pub(super) async fn serve_request(
    gen: &Rc<Gen>,
    worker: &Core,
    client: &mut Client,
    head: &RequestHead,
) -> Next {
    client.done = Done::default();
    gen.stats.add_listener_request(client.arrival.row());
    let started = gen.access.borrow().is_some().then(clock::now);
    let mut req = Request::classify(gen, &client.buf, head, client.arrival.local_port);
    if let (true, Ok(req)) = (worker.draining.get(), &mut req) {
        req.facts.keep_alive = false; // stopping: this response ends the connection
    }
    let next = match &mut req {
        _ if redirects(gen, client) => redirect_https(gen, client, head).await,
        Ok(req) => exchange::handle(gen, client, head, req).await,
        Err((status, why)) => {
            let _ = send_error(gen, client, *status, why, true).await;
            Next::Close
        }
    };
    if let Some(started) = started {
        log_exchange(gen, worker, client, head, req.as_ref().ok(), started);
    }
    next
}

// Boxing the head would allocate per request; it is moved once and lives on the task's stack.
#[allow(clippy::large_enum_variant)]
enum HeadRead {
    Head(RequestHead),
    /// No byte of a next request came within the linger time.
    Idle,
    /// The client closed or idled out between requests: close quietly.
    Closed,
    /// The first bytes of a plain connection are the HTTP/2 preface.
    Http2,
    /// Answer with this status and close.
    Refused(u16, &'static str),
}

/// Writes the access log line of the exchange that just ended, from the head still at the
/// start of `client.buf` and the request context `req` (`None`: refused before a balancer was
/// found).
fn log_exchange(
    gen: &Gen,
    worker: &Core,
    client: &Client,
    head: &RequestHead,
    req: Option<&Request>,
    started: Instant,
) {
    let Some(buf) = client.buf.get(..head.len) else {
        return; // not reached: the head leaves the buffer only after this
    };
    let done = &client.done;
    // Balancer, member and session are reported once a member was picked.
    let picked = req.and_then(|r| Some((r, r.pick?)));
    let bcfg = picked.map(|(r, _)| &gen.config.balancers[r.balancer]);
    let member = bcfg
        .zip(picked)
        .map(|(bcfg, (_, p))| &bcfg.members[p.member]);
    let session = bcfg
        .and_then(|b| b.sticky.as_ref())
        .zip(picked.and_then(|(r, _)| r.routes.session(buf)));
    let sticky_name = session.map(|(cfg, (source, _))| match source {
        Source::Url => cfg.url_name.as_bytes(),
        Source::Cookies => cfg.cookie_name.as_bytes(),
    });
    let route_changed = picked.is_some_and(|(_, p)| p.route_changed) || done.attempts > 1;
    let version: &[u8] = match head.version {
        _ if client.stream.is_h2() => b"HTTP/2.0",
        Version::Http10 => b"HTTP/1.0",
        Version::Http11 => b"HTTP/1.1",
    };
    // The client a trusted proxy names in X-Forwarded-For, else the peer (README "Trusted
    // proxies").
    let trusted = &gen.config.trust.trusted_proxies;
    let client_ip = forwarded::client_ip(client.peer.ip(), trusted, &head.headers, buf);
    let record = Record {
        client_ip,
        method: head.method.get(buf),
        target: head.target.get(buf),
        version,
        status: done.status,
        body_bytes: done.body_bytes,
        bytes_out: done.bytes_out,
        bytes_in: head.len as u64,
        total_us: clock::elapsed(started).as_micros() as u64,
        upstream_us: done.upstream_us,
        queue_us: done.queue_us,
        balancer: bcfg.map(|b| b.name.as_str()),
        worker_name: member.map(|m| m.url.as_str()),
        worker_route: member.map(|m| m.route.as_str()),
        session_sticky: sticky_name,
        session_route: session.map(|(_, (_, route))| route),
        route_changed,
        worker: worker.index,
        attempts: done.attempts,
        request_headers: HeaderView::Spans {
            buf,
            headers: &head.headers,
        },
        response_headers: HeaderView::NONE,
        unix_time: clock::unix_now(),
    };
    if let Some(access) = gen.access.borrow_mut().as_mut() {
        access.log(&record);
    }
}

/// Counts an open client connection on its worker from its accept until it is dropped with
/// its task: counted at accept, before the task first runs, so that the accept loop never
/// sees fewer connections than it let in.
#[derive(Debug)]
pub(super) struct OpenConnection(Rc<Core>);

impl OpenConnection {
    pub(super) fn new(worker: Rc<Core>) -> OpenConnection {
        worker.count_connection(true);
        OpenConnection(worker)
    }
}

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.count_connection(false);
    }
}

/// The first line of the HTTP/2 connection preface: a plain connection that starts with it
/// is prior-knowledge `h2c` (as HAProxy and nginx with `http2 on` detect it).
const H2C_PREFACE_LINE: &[u8] = b"PRI * HTTP/2.0\r\n";

/// Reads until `client.buf` starts with a complete request head (or, on a plain connection's
/// first bytes, the HTTP/2 preface).
///
/// Deadlines: between requests the client may stay silent for `keepalive_idle` (the first
/// request of a connection gets `client_header`); once a head has started it must be complete
/// within `client_header` of its first byte, else 408.
async fn read_head(gen: &Gen, client: &mut Client, first: bool) -> HeadRead {
    let limits = gen.config.limits;
    let timeouts = gen.config.timeouts;
    let mut deadline: Option<Instant> =
        (!client.buf.is_empty()).then(|| clock::now() + timeouts.client_header);
    loop {
        if first && !client.stream.is_tls() && client.buf.starts_with(H2C_PREFACE_LINE) {
            return HeadRead::Http2;
        }
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
            None => linger(&timeouts),
        };
        let room = limits.max_head_bytes + 1 - client.buf.len();
        let buf = std::mem::take(&mut client.buf);
        let started = !buf.is_empty();
        let (read, buf) = forward::read_into(&mut client.stream, buf, room, wait).await;
        client.buf = buf;
        match read {
            Read::Data => {
                deadline.get_or_insert_with(|| clock::now() + timeouts.client_header);
            }
            Read::TimedOut if started => {
                return HeadRead::Refused(408, "request head not received in time")
            }
            Read::TimedOut if !first => return HeadRead::Idle,
            Read::TimedOut | Read::Eof | Read::Failed => return HeadRead::Closed,
        }
    }
}

#[cfg(test)]
mod tests {
    /// The size of what `f` returns, here a future, without making one.
    fn returned_size<A, R>(_: fn(A) -> R) -> usize {
        std::mem::size_of::<R>()
    }

    #[test]
    fn an_idle_connections_task_stays_small() {
        // Every open client connection keeps this future (plus 48 bytes of task header) while
        // it waits: 392 bytes when written, 3 880 before the handshake, HTTP/2, tunnel and
        // lingering-close states were moved out of it. Past 400 the task no longer fits the
        // allocator's 448-byte size class: box whatever grows it instead.
        let size = returned_size(super::serve);
        assert!(size <= 400, "the serve future is {size} bytes");
        // Made, boxed and moved for every connection: 256 bytes when written, 3 024 with the
        // TLS stream held unboxed in it.
        let size = returned_size(super::open_client);
        assert!(size <= 512, "the open_client future is {size} bytes");
    }
}
