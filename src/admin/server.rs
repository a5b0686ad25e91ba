//! The admin listener's I/O: its own address (default loopback only), separate from traffic,
//! served by a fixed pool of [`HANDLERS`] plain threads with blocking I/O, so it never costs a
//! data-path core anything and no number of clients costs it more threads. What each request
//! gets is the `routes` module's business.
//!
//! One request per connection (`Connection: close`). An accepted connection waits in a queue
//! of [`QUEUE`] for a free handler; when the queue is full it is answered `503` (with
//! `Retry-After`) at once and closed. The whole request must arrive within
//! [`REQUEST_TIMEOUT`] of the accept, else `408`, so idle and slow connections give their
//! handler back. A malformed request, or one without exactly one `Host`, gets `400`.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, Sender, TrySendError};

use super::access::{Access, AccessSlot};
use super::rates::{RateHistory, SAMPLE_EVERY};
use super::routes::{self, Ctx, Request, Response};
use super::snapshot;
use crate::blocking::{self, Limits, Role};
use crate::clock;
use crate::config::AdminConfig;
use crate::control::Controller;

/// Handler threads: requests served at once (a browser opens a few connections per page).
pub const HANDLERS: usize = 4;
/// Accepted connections that may wait for a handler; more are answered `503`.
pub const QUEUE: usize = 16;
/// The time from the accept to the end of the request; then `408` and close.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(5);
/// What a connection that waited out its [`REQUEST_TIMEOUT`] in the queue still gets, so a
/// request that arrived while it waited is served.
const QUEUED_GRACE: Duration = Duration::from_millis(250);
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);
/// What one admin request may be: forms and JSON API bodies are a few KiB.
const LIMITS: Limits = Limits {
    head: 64 * 1024,
    headers: 64,
    body: 64 * 1024,
};

/// A running admin listener; dropping it stops accepting. A handler busy with a connection
/// finishes it (within [`REQUEST_TIMEOUT`] plus the write) and then exits; connections still
/// queued are closed unanswered.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    /// A duplicate of the listening socket, for a binary upgrade to hand over.
    socket: OwnedFd,
    stop: Arc<AtomicBool>,
    acceptor: Option<JoinHandle<()>>,
    /// Dropping it ends the rate sampler.
    sampler_stop: Option<Sender<()>>,
    sampler: Option<JoinHandle<()>>,
}

impl AdminServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The listening socket's descriptor (valid while this server lives).
    pub fn socket(&self) -> RawFd {
        self.socket.as_raw_fd()
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.acceptor.take() {
            let _ = t.join();
        }
        drop(self.sampler_stop.take());
        if let Some(t) = self.sampler.take() {
            let _ = t.join();
        }
    }
}

struct Accepted {
    stream: TcpStream,
    at: Instant,
}

/// Loads `cfg`'s access rules (and attaches them to `controller`, which replaces them at each
/// reload), binds `cfg.listen` and serves until dropped.
pub fn start(cfg: &AdminConfig, controller: Arc<Controller>) -> io::Result<AdminServer> {
    let listener = TcpListener::bind(cfg.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("admin listener {}: {e}", cfg.listen)))?;
    start_on(cfg, controller, listener)
}

/// [`start`] on `listener` (bound to `cfg.listen`, or handed over by a binary upgrade).
pub fn start_on(
    cfg: &AdminConfig,
    controller: Arc<Controller>,
    listener: TcpListener,
) -> io::Result<AdminServer> {
    let access = Arc::new(AccessSlot::new(
        Access::load(cfg).map_err(io::Error::other)?,
    ));
    let addr = listener.local_addr()?;
    let socket = OwnedFd::from(listener.try_clone()?);
    controller.attach_admin(access.clone());
    let rates = Arc::new(RateHistory::default());
    let (sampler_stop, stopped) = crossbeam_channel::bounded::<()>(0);
    let sampler = {
        let (controller, rates) = (controller.clone(), rates.clone());
        std::thread::Builder::new()
            .name("ringlb-rates".into())
            .spawn(move || sample_rates(&controller, &rates, &stopped))?
    };
    let ctx = Arc::new(Ctx {
        controller,
        access,
        nonce: random_hex()?,
        rates,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = crossbeam_channel::bounded::<Accepted>(QUEUE);
    for i in 0..HANDLERS {
        let (rx, ctx, stop) = (rx.clone(), ctx.clone(), stop.clone());
        std::thread::Builder::new()
            .name(format!("ringlb-admin-{i}"))
            .spawn(move || handle(&rx, &ctx, &stop))?;
    }
    let stop_flag = stop.clone();
    let acceptor = std::thread::Builder::new()
        .name("ringlb-admin".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let at = clock::now();
                if let Err(TrySendError::Full(c) | TrySendError::Disconnected(c)) =
                    tx.try_send(Accepted { stream, at })
                {
                    busy(c.stream);
                }
            }
        })?;
    Ok(AdminServer {
        addr,
        socket,
        stop,
        acceptor: Some(acceptor),
        sampler_stop: Some(sampler_stop),
        sampler: Some(sampler),
    })
}

/// Records every member's counts each [`SAMPLE_EVERY`] until `stopped` disconnects.
fn sample_rates(controller: &Controller, rates: &RateHistory, stopped: &Receiver<()>) {
    loop {
        rates.record(snapshot::sample(controller));
        if let Err(RecvTimeoutError::Disconnected) | Ok(()) = stopped.recv_timeout(SAMPLE_EVERY) {
            return;
        }
    }
}

/// 128 random bits as hex, from the kernel.
fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// `503` without blocking the acceptor: a fresh socket's send buffer takes it whole.
fn busy(mut stream: TcpStream) {
    let mut r = Response::text(503, "the admin listener is busy; try again");
    r.headers.push(("Retry-After", "1".into()));
    let _ = stream.set_nonblocking(true);
    let _ = stream.write_all(&encode(&r, false));
}

fn handle(rx: &Receiver<Accepted>, ctx: &Ctx, stop: &AtomicBool) {
    while let Ok(conn) = rx.recv() {
        if stop.load(Ordering::Relaxed) {
            break;
        }
        serve(conn, ctx);
    }
}

fn serve(conn: Accepted, ctx: &Ctx) {
    let Accepted { mut stream, at } = conn;
    let deadline = (at + REQUEST_TIMEOUT).max(clock::now() + QUEUED_GRACE);
    let _ = stream.set_write_timeout(Some(WRITE_TIMEOUT));
    let peer = stream
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let Ok(local) = stream.local_addr() else {
        return;
    };
    let (response, head_only) = match read_request(&mut stream, deadline) {
        Ok(req) => (routes::route(&req, ctx, peer, local), req.method == "HEAD"),
        Err(refusal) => (refusal, false),
    };
    let _ = stream.write_all(&encode(&response, head_only));
}

/// The response's bytes; `head_only` (a `HEAD` request) leaves the body out but keeps its
/// `Content-Length`.
fn encode(response: &Response, head_only: bool) -> Vec<u8> {
    let mut headers: Vec<(&str, &str)> = vec![
        ("Content-Type", response.content_type),
        ("Cache-Control", "no-store"),
        ("X-Frame-Options", "DENY"),
        ("Content-Security-Policy", "frame-ancestors 'none'"),
        ("X-Content-Type-Options", "nosniff"),
        ("Connection", "close"),
    ];
    headers.extend(response.headers.iter().map(|(n, v)| (*n, v.as_str())));
    blocking::response_bytes(
        response.status,
        &headers,
        response.body.as_bytes(),
        head_only,
    )
}

/// Reads the request (head and body) before `deadline`; `Err` is the response to send: `408`
/// when the time is up, `400` for anything malformed, too large, or without exactly one
/// `Host`.
fn read_request(stream: &mut TcpStream, deadline: Instant) -> Result<Request, Response> {
    let mut buf = Vec::with_capacity(4096);
    let m = blocking::read_message(stream, &mut buf, Role::Request, LIMITS, Some(deadline))
        .map_err(|e| match e {
            blocking::Error::TimedOut => Response::text(408, "request timeout"),
            blocking::Error::Closed
            | blocking::Error::TruncatedHead
            | blocking::Error::TruncatedBody { .. }
            | blocking::Error::TruncatedChunked => {
                Response::text(400, "connection closed mid-request")
            }
            blocking::Error::HeadTooLarge => Response::text(400, "request head too large"),
            blocking::Error::BodyTooLarge => Response::text(400, "request body too large"),
            blocking::Error::Io(e) => Response::text(400, e.to_string()),
            e => Response::text(400, format!("malformed request: {e}")),
        })?;
    if m.count("host") != 1 {
        return Err(Response::text(
            400,
            "a request needs exactly one Host header",
        ));
    }
    let text = |name: &str| {
        m.header(name)
            .map(|v| String::from_utf8_lossy(v).trim().to_string())
    };
    let (path, query) = m.target().split_once('?').unwrap_or((m.target(), ""));
    Ok(Request {
        method: m.method().to_string(),
        path: path.to_string(),
        query: query.to_string(),
        host: text("host").unwrap_or_default(),
        origin: text("origin"),
        referer: text("referer"),
        authorization: m.header("authorization").map(<[u8]>::to_vec),
        body: m.body,
    })
}
