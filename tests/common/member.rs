//! The scripted synchronous mock member.

use std::io::{self, ErrorKind, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use super::wire::{collect_headers, header_values, last_coding_is_chunked, Headers, Wire};
use super::{is_reset, is_timeout, lock, secs, set_timeouts};

/// One request as a mock member received it.
#[derive(Clone, Debug)]
pub(crate) struct Request {
    pub(crate) method: String,
    pub(crate) path: String,
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) version: u8,
    pub(crate) headers: Headers,
    /// The head exactly as received, through the blank line.
    pub(crate) head: Vec<u8>,
    /// The body with its framing removed (empty until read).
    pub(crate) body: Vec<u8>,
    /// The body arrived with `Transfer-Encoding: chunked`.
    pub(crate) chunked: bool,
    record: usize,
}

impl Request {
    /// The first value of `name` (case-insensitive).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header_values(&self.headers, name).first().copied()
    }

    /// Every value of `name`, in order.
    pub(crate) fn headers_named(&self, name: &str) -> Vec<&str> {
        header_values(&self.headers, name)
    }

    pub(crate) fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    fn content_length(&self) -> io::Result<Option<u64>> {
        match self.header("content-length") {
            None => Ok(None),
            Some(v) => v
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "bad Content-Length")),
        }
    }
}

fn parse_request(head: Vec<u8>) -> io::Result<Request> {
    let mut slots = [httparse::EMPTY_HEADER; 256];
    let mut parsed = httparse::Request::new(&mut slots);
    match parsed.parse(&head) {
        Ok(httparse::Status::Complete(_)) => {}
        _ => {
            return Err(io::Error::new(
                ErrorKind::InvalidData,
                "member got an invalid head",
            ))
        }
    }
    let headers = collect_headers(parsed.headers);
    let chunked = last_coding_is_chunked(&header_values(&headers, "transfer-encoding"));
    Ok(Request {
        method: parsed.method.unwrap_or_default().to_string(),
        path: parsed.path.unwrap_or_default().to_string(),
        version: parsed.version.unwrap_or(1),
        headers,
        body: Vec::new(),
        chunked,
        record: 0,
        head,
    })
}

/// What a [`MockMember::respond`] script does with one request.
#[derive(Clone, Debug)]
pub(crate) enum Reply {
    /// Write these bytes verbatim and wait for the next request on the connection.
    Send(Vec<u8>),
    /// Write these bytes verbatim, then close.
    SendAndClose(Vec<u8>),
    /// Close without answering.
    Close,
    /// Never answer; keep the connection open until the proxy closes it or the member stops.
    Hang,
    /// Sleep (a slow member), then do the inner reply.
    Delay(Duration, Box<Reply>),
}

impl Reply {
    /// `200 OK` with a Content-Length body.
    pub(crate) fn ok(body: impl AsRef<[u8]>) -> Reply {
        Reply::Send(response_bytes(200, "OK", &[], body.as_ref()))
    }
}

/// An HTTP/1.1 response with a Content-Length body and the given extra headers.
pub(crate) fn response_bytes(
    code: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {code} {reason}\r\n").into_bytes();
    for (n, v) in headers {
        out.extend_from_slice(format!("{n}: {v}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    out.extend_from_slice(body);
    out
}

type RespondFn = dyn Fn(&Request) -> Reply + Send + Sync;
type RawFn = dyn Fn(&mut MemberConn) -> io::Result<()> + Send + Sync;

enum Script {
    Respond(Box<RespondFn>),
    Raw(Box<RawFn>),
}

struct Shared {
    stop: AtomicBool,
    connections: AtomicUsize,
    /// Connections the proxy has not closed yet (pruned when looked at).
    live: Mutex<Vec<TcpStream>>,
    /// The most connections open at once, as counted at each accept.
    max_open: AtomicUsize,
    /// Connections whose serving ended (the proxy closed them, or the script returned).
    closed: AtomicUsize,
    received: Arc<AtomicU64>,
    requests: Mutex<Vec<Request>>,
    streams: Mutex<Vec<TcpStream>>,
    threads: Mutex<Vec<JoinHandle<()>>>,
    script: Script,
}

/// A synchronous HTTP/1.1 member on `127.0.0.1:0`: one thread accepts, one thread serves each
/// connection. It records every request head, counts connections and bytes, and stops (closing
/// every connection and joining its threads) when dropped.
pub(crate) struct MockMember {
    addr: SocketAddr,
    shared: Arc<Shared>,
    acceptor: Option<JoinHandle<()>>,
}

impl MockMember {
    /// Reads each request whole (head and de-framed body), then does what `f` says; loops for
    /// keep-alive until the proxy closes.
    pub(crate) fn respond(f: impl Fn(&Request) -> Reply + Send + Sync + 'static) -> MockMember {
        MockMember::start(Script::Respond(Box::new(f)))
    }

    /// Hands each accepted connection to `f`, which reads and writes as it likes.
    pub(crate) fn raw(
        f: impl Fn(&mut MemberConn) -> io::Result<()> + Send + Sync + 'static,
    ) -> MockMember {
        MockMember::start(Script::Raw(Box::new(f)))
    }

    /// Answers every request with the same bytes.
    pub(crate) fn fixed(bytes: &[u8]) -> MockMember {
        let bytes = bytes.to_vec();
        MockMember::respond(move |_| Reply::Send(bytes.clone()))
    }

    /// `200 OK` whose body is the request body.
    pub(crate) fn echo() -> MockMember {
        MockMember::respond(|req| Reply::ok(&req.body))
    }

    /// Like [`MockMember::echo`], honouring `Expect: 100-continue`: answers `100 Continue` as
    /// soon as it has such a head, then reads the body and echoes it.
    pub(crate) fn echo_with_continue() -> MockMember {
        MockMember::raw(|conn| {
            while let Some(mut req) = conn.read_head()? {
                if req.header("expect").is_some() {
                    conn.write_all(b"HTTP/1.1 100 Continue\r\n\r\n")?;
                }
                conn.read_body(&mut req)?;
                conn.write_all(&response_bytes(200, "OK", &[], &req.body))?;
            }
            Ok(())
        })
    }

    /// `200 OK` whose body is `name` (tells members apart).
    pub(crate) fn named(name: &str) -> MockMember {
        let name = name.to_string();
        MockMember::respond(move |_| Reply::ok(name.as_bytes()))
    }

    /// Reads requests and never answers.
    pub(crate) fn hang() -> MockMember {
        MockMember::respond(|_| Reply::Hang)
    }

    /// Like [`MockMember::respond`], bound to `addr` (to bring a stopped member back).
    pub(crate) fn respond_at(
        addr: SocketAddr,
        f: impl Fn(&Request) -> Reply + Send + Sync + 'static,
    ) -> MockMember {
        MockMember::start_at(addr, Script::Respond(Box::new(f)))
    }

    fn start(script: Script) -> MockMember {
        MockMember::start_at("127.0.0.1:0".parse().unwrap(), script)
    }

    fn start_at(addr: SocketAddr, script: Script) -> MockMember {
        let listener = TcpListener::bind(addr).unwrap();
        let addr = listener.local_addr().unwrap();
        let shared = Arc::new(Shared {
            stop: AtomicBool::new(false),
            connections: AtomicUsize::new(0),
            live: Mutex::new(Vec::new()),
            max_open: AtomicUsize::new(0),
            closed: AtomicUsize::new(0),
            received: Arc::new(AtomicU64::new(0)),
            requests: Mutex::new(Vec::new()),
            streams: Mutex::new(Vec::new()),
            threads: Mutex::new(Vec::new()),
            script,
        });
        let acc = Arc::clone(&shared);
        let acceptor = thread::spawn(move || accept_loop(&listener, &acc));
        MockMember {
            addr,
            shared,
            acceptor: Some(acceptor),
        }
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Connections accepted so far.
    pub(crate) fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }

    /// The most connections that were open at once: counted at each accept, the new one and
    /// every earlier one the proxy has not closed (its FIN, sent before it connects again on
    /// loopback, is seen before the new connection is accepted).
    pub(crate) fn max_open(&self) -> usize {
        self.shared.max_open.load(Ordering::SeqCst)
    }

    /// Connections open now (the proxy has not closed them).
    pub(crate) fn open_now(&self) -> usize {
        let mut live = lock(&self.shared.live);
        live.retain(|s| !peer_closed(s));
        live.len()
    }

    /// Connections whose serving has ended so far: the proxy closed them (or the script
    /// returned).
    pub(crate) fn closed_connections(&self) -> usize {
        self.shared.closed.load(Ordering::SeqCst)
    }

    /// Every request received so far (heads recorded on arrival; bodies once read whole).
    pub(crate) fn requests(&self) -> Vec<Request> {
        lock(&self.shared.requests).clone()
    }

    /// Bytes received on all connections so far.
    pub(crate) fn bytes_received(&self) -> u64 {
        self.shared.received.load(Ordering::SeqCst)
    }

    /// Asserts that not one byte reached this member.
    pub(crate) fn assert_untouched(&self, case: &str) {
        assert_eq!(self.bytes_received(), 0, "{case}: bytes reached the member");
        assert!(
            self.requests().is_empty(),
            "{case}: a request reached the member"
        );
    }
}

impl Drop for MockMember {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        // Unblock accept().
        let _ = TcpStream::connect_timeout(&self.addr, secs(1));
        if let Some(h) = self.acceptor.take() {
            let _ = h.join();
        }
        for s in lock(&self.shared.streams).drain(..) {
            let _ = s.shutdown(Shutdown::Both);
        }
        let threads: Vec<_> = lock(&self.shared.threads).drain(..).collect();
        for t in threads {
            let _ = t.join();
        }
    }
}

fn accept_loop(listener: &TcpListener, shared: &Arc<Shared>) {
    for stream in listener.incoming() {
        if shared.stop.load(Ordering::SeqCst) {
            break;
        }
        let Ok(stream) = stream else { continue };
        shared.connections.fetch_add(1, Ordering::SeqCst);
        set_timeouts(&stream);
        if let Ok(clone) = stream.try_clone() {
            lock(&shared.streams).push(clone);
        }
        if let Ok(clone) = stream.try_clone() {
            let mut live = lock(&shared.live);
            live.retain(|s| !peer_closed(s));
            live.push(clone);
            shared.max_open.fetch_max(live.len(), Ordering::SeqCst);
        }
        let sh = Arc::clone(shared);
        let t = thread::spawn(move || {
            let mut wire = Wire::new(stream);
            wire.received = Arc::clone(&sh.received);
            let mut conn = MemberConn {
                wire,
                shared: Arc::clone(&sh),
            };
            let _ = serve(&mut conn, &sh.script);
            sh.closed.fetch_add(1, Ordering::SeqCst);
        });
        lock(&shared.threads).push(t);
    }
}

fn serve(conn: &mut MemberConn, script: &Script) -> io::Result<()> {
    match script {
        Script::Raw(f) => f(conn),
        Script::Respond(f) => {
            while let Some(req) = conn.read_request()? {
                if !conn.reply(f(&req))? {
                    break;
                }
            }
            Ok(())
        }
    }
}

/// Whether the peer of `stream` closed (or reset) it: a non-blocking peek sees EOF or an
/// error. Bytes waiting, or nothing yet, mean open. Leaves the shared socket blocking.
#[allow(unsafe_code)]
fn peer_closed(stream: &TcpStream) -> bool {
    use std::os::fd::AsRawFd;
    let mut byte = 0u8;
    // SAFETY: the fd is an open socket owned by `stream` for the whole call; the buffer is one
    // valid, writable byte; MSG_PEEK | MSG_DONTWAIT neither consumes data nor blocks.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n == 0 || (n < 0 && io::Error::last_os_error().kind() != ErrorKind::WouldBlock)
}

/// One accepted member connection, for [`MockMember::raw`] scripts.
pub(crate) struct MemberConn {
    wire: Wire,
    shared: Arc<Shared>,
}

impl MemberConn {
    /// Reads and records the next request head (body not read yet); `None` when the proxy
    /// closed the connection between requests. Idle waits do not time out while the member runs.
    pub(crate) fn read_head(&mut self) -> io::Result<Option<Request>> {
        let head = loop {
            match self.wire.read_head() {
                Ok(h) => break h,
                Err(e) if is_timeout(&e) && self.wire.buf.is_empty() => {
                    if self.shared.stop.load(Ordering::SeqCst) {
                        return Ok(None);
                    }
                }
                Err(e) if is_reset(&e) && self.wire.buf.is_empty() => return Ok(None),
                Err(e) => return Err(e),
            }
        };
        let Some(head) = head else { return Ok(None) };
        let mut req = parse_request(head)?;
        let mut log = lock(&self.shared.requests);
        req.record = log.len();
        log.push(req.clone());
        Ok(Some(req))
    }

    /// Reads the whole body of `req` into `req.body` (and into the recorded copy).
    pub(crate) fn read_body(&mut self, req: &mut Request) -> io::Result<()> {
        let mut body = Vec::new();
        self.read_body_with(req, |b| body.extend_from_slice(b))?;
        lock(&self.shared.requests)[req.record]
            .body
            .clone_from(&body);
        req.body = body;
        Ok(())
    }

    /// Streams the body of `req` into `sink` without keeping it; returns its length.
    pub(crate) fn read_body_with(
        &mut self,
        req: &Request,
        mut sink: impl FnMut(&[u8]),
    ) -> io::Result<u64> {
        let mut n = 0u64;
        let mut counting = |b: &[u8]| {
            n += b.len() as u64;
            sink(b);
        };
        if req.chunked {
            self.wire.read_chunked_with(&mut counting)?;
        } else if let Some(len) = req.content_length()? {
            self.wire.read_exact_with(len, &mut counting)?;
        }
        Ok(n)
    }

    /// [`read_head`](Self::read_head) then [`read_body`](Self::read_body).
    pub(crate) fn read_request(&mut self) -> io::Result<Option<Request>> {
        let Some(mut req) = self.read_head()? else {
            return Ok(None);
        };
        self.read_body(&mut req)?;
        Ok(Some(req))
    }

    pub(crate) fn write_all(&mut self, bytes: &[u8]) -> io::Result<()> {
        self.wire.stream.write_all(bytes)
    }

    /// Bytes written on this connection that the proxy's kernel has not acknowledged yet
    /// (`SIOCOUTQ`); `None` if the socket cannot tell. At 0 the proxy's socket holds them.
    #[allow(unsafe_code)]
    pub(crate) fn unsent_bytes(&self) -> Option<usize> {
        use std::os::fd::AsRawFd;
        let mut n: libc::c_int = 0;
        // SAFETY: the fd is an open socket owned by `self.wire.stream` for the whole call, and
        // SIOCOUTQ writes one c_int through the valid pointer given.
        let rc = unsafe { libc::ioctl(self.wire.stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
        (rc == 0).then(|| usize::try_from(n).ok()).flatten()
    }

    /// Buffered bytes or one read; empty = the proxy closed.
    pub(crate) fn read_some(&mut self) -> io::Result<Vec<u8>> {
        self.wire.read_some()
    }

    /// Closes the connection both ways now (the member keeps a clone of every stream until it
    /// stops, so dropping this one alone would not close it).
    pub(crate) fn shutdown(&mut self) {
        let _ = self.wire.stream.shutdown(Shutdown::Both);
    }

    /// Waits, reading and discarding, until the proxy closes or the member stops.
    pub(crate) fn wait_for_close(&mut self) {
        loop {
            self.wire.buf.clear();
            match self.wire.fill() {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if is_timeout(&e) && !self.shared.stop.load(Ordering::SeqCst) => {}
                Err(_) => return,
            }
        }
    }

    /// Carries out `reply`; false when the connection is finished.
    fn reply(&mut self, reply: Reply) -> io::Result<bool> {
        match reply {
            Reply::Send(bytes) => self.write_all(&bytes).map(|()| true),
            Reply::SendAndClose(bytes) => {
                self.write_all(&bytes)?;
                let _ = self.wire.stream.shutdown(Shutdown::Both);
                Ok(false)
            }
            Reply::Close => {
                let _ = self.wire.stream.shutdown(Shutdown::Both);
                Ok(false)
            }
            Reply::Hang => {
                self.wait_for_close();
                Ok(false)
            }
            Reply::Delay(d, inner) => {
                thread::sleep(d);
                self.reply(*inner)
            }
        }
    }
}
