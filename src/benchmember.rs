//! `ringlb bench-member`: a lean fixed-response HTTP/1.1 server, the "member" behind every
//! proxy in `perf/bench.sh`. One monoio runtime per worker thread (io_uring or epoll, as the
//! proxy's workers), `SO_REUSEPORT` listeners, keep-alive and pipelining. Every request gets
//! `200 OK` with `Content-Length: N`, a body of N bytes and `X-Member: <route>`, so a benchmark
//! can see which member a sticky request landed on.
//!
//! The response is built once at start and shared (`Bytes`), so the per-request work is one
//! head parse (the data path's [`crate::http::head`]) and one write. Request bodies with `Content-Length` are read and discarded;
//! a chunked request body, a malformed request or an oversized head closes the connection.

use std::io;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use bytes::Bytes;
use monoio::buf::IoBufMut;
use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelHandle, Canceller};
use monoio::net::{TcpListener, TcpStream};

use crate::cli::BenchMemberArgs;
use crate::config::IoDriver;
use crate::http::{framing, head, Version};
use crate::server;

/// Read buffer per connection; also the largest request head accepted.
const READ_BUF: usize = 16 * 1024;

/// Header fields accepted in one request head.
const MAX_HEADERS: usize = 64;

/// Pipelined responses are batched into one write up to this many bytes.
const BATCH_BYTES: usize = 64 * 1024;

/// How often a worker checks its stop flag.
const TICK: Duration = Duration::from_millis(50);

/// The default body: 13 bytes.
pub const DEFAULT_BODY: &[u8] = b"Hello, world!";

/// The two precomputed answers: keep-alive and closing.
#[derive(Debug)]
struct Answers {
    keep_alive: Bytes,
    close: Bytes,
}

impl Answers {
    fn new(body_bytes: usize, route: &str) -> Answers {
        Answers {
            keep_alive: Bytes::from(response(body_bytes, route, false)),
            close: Bytes::from(response(body_bytes, route, true)),
        }
    }
}

/// The full response bytes: head and a body of `body_bytes` bytes (`Hello, world!` repeated and
/// cut to length).
pub fn response(body_bytes: usize, route: &str, close: bool) -> Vec<u8> {
    let connection = if close { "Connection: close\r\n" } else { "" };
    let head = format!(
        "HTTP/1.1 200 OK\r\nServer: ringlb-bench-member\r\nContent-Type: text/plain\r\n\
         Content-Length: {body_bytes}\r\nX-Member: {route}\r\n{connection}\r\n"
    );
    let mut out = Vec::with_capacity(head.len() + body_bytes);
    out.extend_from_slice(head.as_bytes());
    out.extend(DEFAULT_BODY.iter().copied().cycle().take(body_bytes));
    out
}

/// What one worker reported at start.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberWorker {
    pub index: usize,
    pub cpu: Option<usize>,
    pub driver: &'static str,
}

/// A running bench member. Dropping it stops and joins the workers.
#[derive(Debug)]
pub struct BenchMember {
    addr: SocketAddr,
    workers: Vec<MemberWorker>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl BenchMember {
    /// The bound address (port 0 resolved).
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    pub fn workers(&self) -> &[MemberWorker] {
        &self.workers
    }

    /// Blocks until every worker has exited (that is, forever unless stopped elsewhere).
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for BenchMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Binds the listeners (one per worker, `SO_REUSEPORT`), starts the workers and returns once
/// all of them accept.
pub fn start(args: &BenchMemberArgs) -> io::Result<BenchMember> {
    let cpus = server::allowed_cpus();
    let n = args.workers.unwrap_or(1).max(1);
    let first = crate::server::bind_reuseport(args.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {}: {e}", args.listen)))?;
    let addr = first.local_addr()?;
    let mut listeners = vec![first];
    for _ in 1..n {
        listeners.push(crate::server::bind_reuseport(addr)?);
    }
    let stop = Arc::new(AtomicBool::new(false));
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(n);
    let mut member = BenchMember {
        addr,
        workers: Vec::new(),
        stop: stop.clone(),
        threads: Vec::new(),
    };
    for (index, listener) in listeners.into_iter().enumerate() {
        let cpu = (n > 1 && !cpus.is_empty()).then(|| cpus[index % cpus.len()]);
        let (stop, ready) = (stop.clone(), ready_tx.clone());
        let (body_bytes, route, driver) = (args.body_bytes, args.route.clone(), args.io_driver);
        let thread = std::thread::Builder::new()
            .name(format!("bench-member-w{index}"))
            .spawn(move || {
                let cpu = cpu.filter(|&c| monoio::utils::bind_to_cpu_set([c]).is_ok());
                let answers = Rc::new(Answers::new(body_bytes, &route));
                worker(index, cpu, driver, listener, answers, stop, ready);
            })?;
        member.threads.push(thread);
    }
    for _ in 0..n {
        match ready_rx.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(info)) => member.workers.push(info),
            Ok(Err(why)) => return Err(io::Error::other(why)),
            Err(_) => return Err(io::Error::other("a bench-member worker did not start")),
        }
    }
    member.workers.sort_by_key(|w| w.index);
    Ok(member)
}

/// Runs until the process is stopped; prints where it listens.
pub fn run(args: &BenchMemberArgs) -> io::Result<()> {
    let member = start(args)?;
    for w in member.workers() {
        let cpu = w.cpu.map_or("unpinned".to_string(), |c| format!("cpu {c}"));
        eprintln!(
            "ringlb bench-member: worker {} on {cpu}, driver {}",
            w.index, w.driver
        );
    }
    eprintln!(
        "ringlb bench-member: listening on http://{}/ (route {}, body {} bytes)",
        member.local_addr(),
        args.route,
        args.body_bytes
    );
    member.wait();
    Ok(())
}

type Ready = crossbeam_channel::Sender<Result<MemberWorker, String>>;

/// One worker thread: builds its runtime (io_uring unless epoll is asked for or io_uring is
/// unavailable under `auto`) and serves until `stop`.
fn worker(
    index: usize,
    cpu: Option<usize>,
    driver: IoDriver,
    listener: std::net::TcpListener,
    answers: Rc<Answers>,
    stop: Arc<AtomicBool>,
    ready: Ready,
) {
    let use_uring = match driver {
        IoDriver::Epoll => false,
        IoDriver::IoUring => true,
        IoDriver::Auto => monoio::utils::detect_uring(),
    };
    let mut info = MemberWorker {
        index,
        cpu,
        driver: "io_uring",
    };
    if use_uring {
        match monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .with_entries(1024)
            .enable_timer()
            .build()
        {
            Ok(mut rt) => {
                rt.block_on(serve_listener(info, listener, answers, stop, ready));
                return;
            }
            Err(e) if driver == IoDriver::IoUring => {
                let _ = ready.send(Err(format!("worker {index}: io_uring unavailable: {e}")));
                return;
            }
            Err(_) => {}
        }
    }
    info.driver = "epoll";
    match monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
    {
        Ok(mut rt) => rt.block_on(serve_listener(info, listener, answers, stop, ready)),
        Err(e) => {
            let _ = ready.send(Err(format!("worker {index}: epoll runtime: {e}")));
        }
    }
}

async fn serve_listener(
    info: MemberWorker,
    listener: std::net::TcpListener,
    answers: Rc<Answers>,
    stop: Arc<AtomicBool>,
    ready: Ready,
) {
    let listener = match TcpListener::from_std(listener) {
        Ok(l) => l,
        Err(e) => {
            let _ = ready.send(Err(format!("worker {}: listener: {e}", info.index)));
            return;
        }
    };
    let canceller = Canceller::new();
    let done = Rc::new(std::cell::Cell::new(false));
    {
        let (cancel, done) = (canceller.handle(), done.clone());
        monoio::spawn(async move {
            accept_loop(listener, answers, cancel).await;
            done.set(true);
        });
    }
    let _ = ready.send(Ok(info));
    while !stop.load(Ordering::Relaxed) {
        monoio::time::sleep(TICK).await;
    }
    let _ = canceller.cancel();
    for _ in 0..100 {
        if done.get() {
            break;
        }
        monoio::time::sleep(Duration::from_millis(1)).await;
    }
}

async fn accept_loop(listener: TcpListener, answers: Rc<Answers>, cancel: CancelHandle) {
    loop {
        match listener.cancelable_accept(cancel.clone()).await {
            Ok((stream, _)) => {
                let _ = stream.set_nodelay(true);
                monoio::spawn(serve(stream, answers.clone()));
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => match e.raw_os_error() {
                Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => {
                    monoio::time::sleep(Duration::from_millis(20)).await;
                }
                // Cancelled at stop, or the listener is gone.
                _ => return,
            },
        }
    }
}

/// What the requests parsed from one read ask for.
#[derive(Debug, Default, PartialEq, Eq)]
struct Batch {
    /// Complete request heads answered with the keep-alive response.
    keep_alive: usize,
    /// The last answered request asks to close (answer it with the closing response, then
    /// close).
    close: bool,
    /// The connection cannot go on (malformed, chunked body, head too large).
    fail: bool,
}

/// Parses every complete request head in `buf[*pos..]`, discarding request bodies (`*skip`
/// carries the part of a body not yet received into the next read). Advances `*pos`.
fn parse_batch(buf: &[u8], pos: &mut usize, skip: &mut usize) -> Batch {
    let mut batch = Batch::default();
    loop {
        if *skip > 0 {
            let n = (*skip).min(buf.len() - *pos);
            *pos += n;
            *skip -= n;
            if *skip > 0 {
                return batch;
            }
        }
        if *pos == buf.len() {
            return batch;
        }
        match request_head(&buf[*pos..]) {
            Ok(Some((len, body, close))) => {
                *pos += len;
                *skip = body;
                if close {
                    batch.close = true;
                    return batch;
                }
                batch.keep_alive += 1;
            }
            Ok(None) => {
                if buf.len() - *pos >= READ_BUF {
                    batch.fail = true;
                }
                return batch;
            }
            Err(()) => {
                batch.fail = true;
                return batch;
            }
        }
    }
}

/// One request head at the start of `buf`, parsed by the data path's parser
/// ([`crate::http::head`]): (head length, body length, whether it asks to close), `Ok(None)`
/// while incomplete. Refused: a malformed head, a bad `Content-Length` and any
/// `Transfer-Encoding` (this member does not decode chunked bodies). Unlike the proxy, a
/// missing `Host` is accepted: load generators and tests talk to the member directly.
fn request_head(buf: &[u8]) -> Result<Option<(usize, usize, bool)>, ()> {
    let Some(head) = head::parse_request(buf, MAX_HEADERS).map_err(|_| ())? else {
        return Ok(None);
    };
    let headers = &head.headers[..];
    if head::values(headers, buf, b"transfer-encoding")
        .next()
        .is_some()
    {
        return Err(());
    }
    let mut body = 0usize;
    for value in head::values(headers, buf, b"content-length") {
        let n = framing::parse_decimal(value).ok_or(())?;
        body = usize::try_from(n).map_err(|_| ())?;
    }
    let close = match head.version {
        Version::Http10 => !head::has_token(headers, buf, b"connection", b"keep-alive"),
        Version::Http11 => head::has_token(headers, buf, b"connection", b"close"),
    };
    Ok(Some((head.len, body, close)))
}

/// Serves one connection until the peer closes, asks to close, or sends something unusable.
async fn serve(mut stream: TcpStream, answers: Rc<Answers>) {
    let mut buf: Vec<u8> = Vec::with_capacity(READ_BUF);
    let mut out: Vec<u8> = Vec::new();
    let mut skip = 0usize;
    loop {
        let len = buf.len();
        let (res, slice) = stream.read(buf.slice_mut(len..READ_BUF)).await;
        buf = slice.into_inner();
        match res {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mut pos = 0;
        let batch = parse_batch(&buf, &mut pos, &mut skip);
        if pos == buf.len() {
            buf.clear();
        } else if pos > 0 {
            buf.drain(..pos);
        }
        let one = answers.keep_alive.len();
        let k = batch.keep_alive;
        if k == 1 && !batch.close {
            if stream
                .write_all(answers.keep_alive.clone())
                .await
                .0
                .is_err()
            {
                return;
            }
        } else if k > 0 && one.saturating_mul(k) <= BATCH_BYTES {
            out.clear();
            for _ in 0..k {
                out.extend_from_slice(&answers.keep_alive);
            }
            let (res, back) = stream.write_all(out).await;
            out = back;
            if res.is_err() {
                return;
            }
        } else {
            for _ in 0..k {
                if stream
                    .write_all(answers.keep_alive.clone())
                    .await
                    .0
                    .is_err()
                {
                    return;
                }
            }
        }
        if batch.close {
            let _ = stream.write_all(answers.close.clone()).await;
            let _ = stream.shutdown().await;
            return;
        }
        if batch.fail {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn response_has_length_route_and_body() {
        let r = response(13, "node2", false);
        let text = String::from_utf8(r).unwrap();
        assert!(text.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(text.contains("Content-Length: 13\r\n"));
        assert!(text.contains("X-Member: node2\r\n"));
        assert!(text.ends_with("\r\n\r\nHello, world!"));
        let big = response(100_000, "n", true);
        assert!(String::from_utf8_lossy(&big).contains("Connection: close\r\n"));
        assert!(big.ends_with(&DEFAULT_BODY[..100_000 % 13]));
    }

    #[test]
    fn parse_batch_pipelined_bodies_and_close() {
        let mut skip = 0;
        let mut pos = 0;
        let buf =
            b"GET / HTTP/1.1\r\nHost: a\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhel";
        let b = parse_batch(buf, &mut pos, &mut skip);
        assert_eq!((b.keep_alive, b.close, b.fail), (2, false, false));
        assert_eq!((pos, skip), (buf.len(), 2));
        let buf = b"loGET / HTTP/1.1\r\nConnection: close\r\n\r\n";
        pos = 0;
        let b = parse_batch(buf, &mut pos, &mut skip);
        assert_eq!((b.keep_alive, b.close, b.fail), (0, true, false));
        pos = 0;
        let b = parse_batch(b"GET / HTTP/1.0\r\n\r\nGET / HTT", &mut pos, &mut skip);
        assert!(b.close);
        pos = 0;
        let head = b"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n";
        let buf = [&head[..], b"GET / HTT"].concat();
        let b = parse_batch(&buf, &mut pos, &mut skip);
        assert_eq!((b.keep_alive, b.close, pos), (1, false, head.len()));
        pos = 0;
        let b = parse_batch(b"\x01\x02 nonsense\r\n\r\n", &mut pos, &mut skip);
        assert!(b.fail);
    }
}
