//! HTTP/2 to clients (a TLS connection that chose `h2` by ALPN, or a plain one that starts
//! with the HTTP/2 preface: prior-knowledge `h2c`): the connection, run by the
//! hyperium `h2` library over an in-memory transport ([`wire`]), and one task per stream,
//! whose request is written as HTTP/1.1 (`http::h2_request`) and served exactly like a
//! request that came in as HTTP/1.1: the same request context, balancer, sticky routes,
//! failover, member connection pools, access log and metrics ([`stream`] turns the HTTP/1.1
//! response back into HTTP/2).
//!
//! Limits (each a protection a real attack needed): [`MAX_STREAMS`] concurrent streams per
//! connection (more are refused with `REFUSED_STREAM`); the header list at most the
//! configured `max_head_bytes` and the HPACK table at [`HPACK_TABLE`]; streams reset before
//! they were served at most [`MAX_PENDING_RESETS`] (then `ENHANCE_YOUR_CALM`); flow-control
//! windows of [`STREAM_WINDOW`] per stream and [`CONNECTION_WINDOW`] per connection, reopened
//! only as the body moves on to the member; and the flood guard (`http::h2_guard`) over every
//! frame header. A connection with no stream for `keepalive_idle`, or on a stopping worker,
//! is closed with `GOAWAY`.

pub(super) mod stream;
mod tasks;
mod wire;

use std::future::poll_fn;
use std::net::SocketAddr;
use std::pin::pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use bytes::Bytes;
use h2::server::{Connection, SendResponse};
use h2::{Reason, RecvStream};
use smallvec::SmallVec;

use self::stream::H2Stream;
use self::tasks::StreamTasks;
use self::wire::{SharedWire, WireIo};
use super::client::{send_error, Client, Done};
use super::conn::serve_request;
use super::stream::ClientStream;
use super::{Arrival, Core};
use crate::clock;
use crate::http::h2_guard::{Flood, FrameGuard};
use crate::http::h2_request::{self, BodyFraming};
use crate::http::head;
use crate::tls::facts::TlsFacts;

/// Concurrent streams a client may open on one connection (nginx 128, HAProxy 100).
const MAX_STREAMS: u32 = 100;
/// The HPACK dynamic table size ringlb's decoder allows (the protocol's default).
const HPACK_TABLE: u32 = 4096;
/// Streams the client may reset before ringlb accepted them.
const MAX_PENDING_RESETS: usize = 20;
/// Each stream's receive window: request body bytes a client may send ahead.
const STREAM_WINDOW: u32 = 256 * 1024;
/// The connection's receive window, all streams together.
const CONNECTION_WINDOW: u32 = 1024 * 1024;
/// Response bytes queued per stream beyond what the client's window lets out.
const SEND_BUFFER: usize = 64 * 1024;
/// How often an HTTP/2 connection looks at its idle time and at a graceful stop.
const TICK: Duration = Duration::from_secs(1);
/// How long a connection closed for a flood or a stop waits for its `GOAWAY` to go out.
const CLOSE_GRACE: Duration = Duration::from_secs(2);

/// Connections closed by the flood guard, every worker together: the metric
/// `ringlb_http2_floods_total`. Written only when one trips.
static FLOODS: AtomicU64 = AtomicU64::new(0);

/// Connections the flood guard closed since start, every worker together.
pub(crate) fn floods() -> u64 {
    FLOODS.load(Ordering::Relaxed)
}

/// What a stream needs to know about its connection.
#[derive(Debug)]
pub(super) struct ConnFacts {
    peer: SocketAddr,
    /// The listening socket it came in on.
    arrival: Arrival,
    pub(super) tls: bool,
    /// The connection's TLS facts, when it is a TLS connection.
    pub(super) tls_facts: Option<TlsFacts>,
}

/// Serves one HTTP/2 connection on `stream` until either side ends it. `early`: bytes
/// already read from it (the preface of a prior-knowledge `h2c` connection).
pub(super) async fn serve(
    worker: Rc<Core>,
    mut stream: ClientStream,
    peer: SocketAddr,
    arrival: Arrival,
    early: Vec<u8>,
) {
    let origin = Rc::new(ConnFacts {
        peer,
        arrival,
        tls: stream.is_tls(),
        tls_facts: stream.tls_facts().cloned(),
    });
    let wire: SharedWire = Rc::default();
    let mut guard = FrameGuard::new();
    wire::receive_early(&wire, &mut guard, early);
    let write_timeout = worker.current().config.timeouts.upstream_response;
    let connection = drive(&worker, &wire, origin);
    let pump = wire::pump(&mut stream, &wire, &mut guard, write_timeout);
    monoio::join!(connection, pump);
    let _ = monoio::io::AsyncWriteRent::shutdown(&mut stream).await;
}

/// Runs the library's connection: the handshake, then accepts streams (served by the
/// connection's stream tasks) until the connection ends, and marks the wire done.
async fn drive(worker: &Rc<Core>, wire: &SharedWire, origin: Rc<ConnFacts>) {
    let gen = worker.current();
    let (limits, timeouts) = (gen.config.limits, gen.config.timeouts);
    drop(gen);
    let mut builder = h2::server::Builder::new();
    builder
        .max_concurrent_streams(MAX_STREAMS)
        .max_header_list_size(u32::try_from(limits.max_head_bytes).unwrap_or(u32::MAX))
        .header_table_size(HPACK_TABLE)
        .max_pending_accept_reset_streams(MAX_PENDING_RESETS)
        .initial_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .max_send_buffer_size(SEND_BUFFER);
    let handshake = builder.handshake::<_, Bytes>(WireIo(wire.clone()));
    let mut conn = match monoio::time::timeout(timeouts.client_header, handshake).await {
        Ok(Ok(conn)) => conn,
        _ => return wire::finish(wire),
    };
    let tasks = StreamTasks::new(worker.clone(), origin.clone());
    let mut last_active = clock::now();
    let mut closing = false;
    let mut tick = pin!(monoio::time::sleep(TICK));
    loop {
        let event = monoio::select! {
            accepted = poll_fn(|cx| conn.poll_accept(cx)) => Event::Accepted(accepted),
            () = &mut tick => Event::Tick,
            flood = poll_fn(|cx| wire::poll_flood(wire, cx)) => Event::Flood(flood),
        };
        match event {
            Event::Accepted(Some(Ok((request, respond)))) => {
                last_active = clock::now();
                tasks.serve((request, respond));
            }
            Event::Accepted(_) => break,
            Event::Tick => {
                tick.as_mut().reset(monoio::time::Instant::now() + TICK);
                if conn.has_streams() {
                    last_active = clock::now();
                } else {
                    wire::release_buffers(wire);
                    tasks.end_idle();
                }
                let idle = clock::elapsed(last_active) >= timeouts.keepalive_idle;
                if !closing && (worker.draining.get() || idle) {
                    closing = true;
                    conn.graceful_shutdown();
                }
            }
            Event::Flood(flood) => {
                FLOODS.fetch_add(1, Ordering::Relaxed);
                crate::log::warn(format_args!(
                    "http2: closed a connection from {}: {} flood",
                    origin.peer,
                    flood.as_str()
                ));
                conn.abrupt_shutdown(Reason::ENHANCE_YOUR_CALM);
                close_within(&mut conn, CLOSE_GRACE).await;
                break;
            }
        }
    }
    wire::finish(wire);
}

/// A stream the library accepted: its request and where its response goes.
pub(super) type Accepted = (http::Request<RecvStream>, SendResponse<Bytes>);

// Moved once per accepted stream, on the connection task's stack: boxing would allocate.
#[allow(clippy::large_enum_variant)]
enum Event {
    Accepted(Option<Result<Accepted, h2::Error>>),
    Tick,
    Flood(Flood),
}

/// Lets the library write its `GOAWAY` and close, for at most `grace`.
async fn close_within(conn: &mut Connection<WireIo, Bytes>, grace: Duration) {
    let closed = poll_fn(|cx| {
        while let std::task::Poll::Ready(Some(Ok(_))) = conn.poll_accept(cx) {}
        conn.poll_closed(cx)
    });
    let _ = monoio::time::timeout(grace, closed).await;
}

/// Serves one stream: its request written as HTTP/1.1 into a request buffer, parsed and
/// served like an HTTP/1.1 request, then the stream ended (or reset, when the response was
/// cut short).
async fn serve_stream(
    worker: &Rc<Core>,
    origin: &Rc<ConnFacts>,
    request: http::Request<RecvStream>,
    respond: SendResponse<Bytes>,
) {
    let gen = worker.current();
    let (parts, recv) = request.into_parts();
    let framing = if recv.is_end_stream() {
        BodyFraming::None
    } else if parts.headers.contains_key(http::header::CONTENT_LENGTH) {
        BodyFraming::Length
    } else {
        BodyFraming::Chunked
    };
    let mut buf = worker.head_bufs.get();
    write_request_head(&mut buf, &parts, framing);
    let is_head = parts.method == http::Method::HEAD;
    drop(parts);
    let stream = H2Stream::new(recv, framing, respond, is_head);
    let mut client = Client {
        stream: ClientStream::H2 {
            stream: Box::new(stream),
            conn: origin.clone(),
        },
        peer: origin.peer,
        arrival: origin.arrival,
        buf,
        done: Done::default(),
        linger: false,
    };
    match head::parse_request(&client.buf, gen.config.limits.max_headers) {
        Ok(Some(head)) => {
            serve_request(&gen, worker, &mut client, &head).await;
        }
        Ok(None) => {} // not reached: the head written above is complete
        Err(e) => {
            let _ = send_error(&gen, &mut client, e.status(), e.reason(), true).await;
        }
    }
    if let ClientStream::H2 { stream, .. } = &mut client.stream {
        stream.finish();
    }
    worker.head_bufs.put(std::mem::take(&mut client.buf));
}

/// Writes the HTTP/1.1 head of the request `parts` into `buf`.
fn write_request_head(buf: &mut Vec<u8>, parts: &http::request::Parts, framing: BodyFraming) {
    let target = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let authority = parts.uri.authority().map(|a| a.as_str().as_bytes());
    let fields: SmallVec<[(&[u8], &[u8]); 32]> = (parts.headers.iter())
        .map(|(n, v)| (n.as_str().as_bytes(), v.as_bytes()))
        .collect();
    let method = parts.method.as_str().as_bytes();
    h2_request::write_head(buf, method, target.as_bytes(), authority, &fields, framing);
}
