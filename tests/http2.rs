//! HTTP/2 to clients end to end, over TLS with ALPN `h2`: the real `curl --http2` (GET,
//! sticky by cookie, bodies both ways with and without a length, trailers) and `h2load`
//! through ringlb to two members (with one killed mid-run: no failed stream), the access log
//! line, and each flood case as raw frames (PING, SETTINGS, empty DATA, rapid reset,
//! CONTINUATION, too many streams, an oversized HPACK table, a stream window overrun), each
//! answered by a `GOAWAY` or a `RST_STREAM` within a deadline, with the members untouched or
//! nearly so and the proxy still serving.
//!
//! curl and h2load (Debian `curl`, `nghttp2-client`) are required where
//! `RINGLB_REQUIRE_H2_CLIENTS=1` (CI), skipped with a note otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Command, Output};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use ringlb::config::{Config, IoDriver};
use ringlb::server::{self, ServerHandle};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use common::tls::{tls_listener, Pki};
use common::{poll_until, set_timeouts, MockMember, Reply};

both_drivers!(
    curl_gets_over_h2_sticky_by_cookie,
    bodies_both_ways_with_checksums,
    h2load_through_two_members_with_one_killed,
    floods_are_cut_off,
    streams_beyond_the_limit_are_refused,
    protocol_limits_are_enforced,
    trailers_cross_both_ways,
    h2c_prior_knowledge_on_a_plain_listener,
);

/// Starts ringlb with `cfg`'s members behind one TLS listener (default ALPN: h2 first, and
/// `ssl_headers`);
/// returns the handle and the TLS address.
fn start_tls(mut cfg: Config, pki: &Pki) -> (ServerHandle, SocketAddr) {
    let (cert, key, _) = pki.issue("leaf", &["localhost"]);
    let mut listener = tls_listener(&cert, &key);
    if let Some(tls) = listener.tls.as_mut() {
        tls.ssl_headers = true; // so that the facts of HTTP/2 connections are checked too
    }
    cfg.listeners = vec![listener];
    let handle = server::start(Arc::new(cfg)).expect("ringlb starts");
    let addr = handle.local_addrs()[1];
    (handle, addr)
}

fn required() -> bool {
    std::env::var("RINGLB_REQUIRE_H2_CLIENTS").is_ok_and(|v| v == "1")
}

/// Runs a client tool; `None` (after a note) when it is not installed and not required.
fn tool(name: &str, args: &[&str]) -> Option<Output> {
    match Command::new(name).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == ErrorKind::NotFound && !required() => {
            eprintln!("{name} not found: skipping");
            None
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

/// `curl --http2` against `path` on `addr` (trusting `pki`), with `extra` arguments; returns
/// the output.
fn curl(pki: &Pki, addr: SocketAddr, path: &str, extra: &[&str]) -> Option<Output> {
    let url = format!("https://localhost:{}{path}", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let ca = pki.ca_path();
    let mut args = vec!["-sS", "--http2", "--max-time", "20", "--resolve", &resolve];
    args.extend(["--cacert", ca.to_str().unwrap()]);
    args.extend(extra);
    args.push(&url);
    let out = tool("curl", &args)?;
    assert!(
        out.status.success(),
        "curl {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

fn curl_gets_over_h2_sticky_by_cookie(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-sticky-{driver:?}"));
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let members = vec![
        common::member(a.addr(), "n1", 1),
        common::member(b.addr(), "n2", 1),
    ];
    let mut cfg = common::config(driver, members);
    let log = pki.dir.join("access.log");
    cfg.ops.log.access = Some(ringlb::config::AccessTarget::File(log.clone()));
    let (_h, addr) = start_tls(cfg, &pki);
    let w = ["-w", " %{http_version} %{http_code}"];
    let Some(out) = curl(&pki, addr, "/", &w) else {
        return;
    };
    let first = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(first.ends_with(" 2 200"), "answered over h2: {first:?}");
    // The session's route keeps every request on member b, cookie crumbs and all.
    let cookie = ["-H", "cookie: x=1", "-H", "cookie: JSESSIONID=abc.n2"];
    for _ in 0..4 {
        let out = curl(&pki, addr, "/cart", &[&w[..], &cookie[..]].concat()).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "b 2 200");
    }
    let seen = b.requests();
    let last = seen.last().unwrap();
    assert_eq!(last.header("cookie"), Some("x=1; JSESSIONID=abc.n2"));
    let host = format!("localhost:{}", addr.port());
    assert_eq!(
        last.header("x-forwarded-host"),
        Some(host.as_str()),
        ":authority is the host"
    );
    assert_eq!(last.header("x-forwarded-proto"), Some("https"));
    assert!(
        !last.has_header("te"),
        "no connection-specific field reaches members"
    );
}

/// A 3 MiB body up and back: with a length, and without one (chunked to the member).
fn bodies_both_ways_with_checksums(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-bodies-{driver:?}"));
    let echo = MockMember::echo();
    let (_h, addr) = start_tls(common::single(driver, &echo), &pki);
    let mut body = vec![0u8; 3 * 1024 * 1024 + 5];
    common::Noise::new(11).fill(&mut body);
    let file = pki.dir.join("body.bin");
    std::fs::write(&file, &body).unwrap();
    let file_arg = format!("@{}", file.display());
    let Some(out) = curl(&pki, addr, "/up", &["--data-binary", &file_arg]) else {
        return;
    };
    assert!(out.stdout == body, "echo with a length differs");
    let sent = echo.requests();
    assert_eq!(
        sent[0].header("content-length"),
        Some(&*body.len().to_string())
    );
    // `-T -` streams stdin: no length, so the member gets chunks.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2",
            "--max-time",
            "20",
            "-X",
            "POST",
            "-T",
            "-",
        ])
        .args(["--cacert", pki.ca_path().to_str().unwrap()])
        .args(["--resolve", &format!("localhost:{}:127.0.0.1", addr.port())])
        .arg(format!("https://localhost:{}/stream", addr.port()))
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == body, "echo without a length differs");
    let sent = echo.requests();
    assert_eq!(sent[1].header("transfer-encoding"), Some("chunked"));
    assert!(!sent[1].has_header("content-length"));
}

/// h2load with 8 connections of 10 streams each; member a is killed once it has served a
/// few hundred requests. Every stream must succeed (GETs fail over).
fn h2load_through_two_members_with_one_killed(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-load-{driver:?}"));
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let members = vec![
        common::member(a.addr(), "n1", 1),
        common::member(b.addr(), "n2", 1),
    ];
    let (_h, addr) = start_tls(common::config(driver, members), &pki);
    let url = format!("https://127.0.0.1:{}/load", addr.port());
    let run = thread::spawn(move || tool("h2load", &["-n", "6000", "-c", "8", "-m", "10", &url]));
    let served = poll_until(Duration::from_secs(20), || a.requests().len() >= 300);
    assert!(served, "member a got load");
    drop(a);
    let Some(out) = run.join().unwrap() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("6000 total, 6000 started, 6000 done, 6000 succeeded, 0 failed, 0 errored"),
        "h2load: {text}"
    );
    assert!(text.contains("status codes: 6000 2xx"), "h2load: {text}");
    assert!(b.requests().len() > 1000, "member b took over");
}

// ---- raw frames ----

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const CONTINUATION: u8 = 0x9;
const END_STREAM: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

const ENHANCE_YOUR_CALM: u32 = 0xb;
const REFUSED_STREAM: u32 = 0x7;
const FLOW_CONTROL_ERROR: u32 = 0x3;
const COMPRESSION_ERROR: u32 = 0x9;
const PROTOCOL_ERROR: u32 = 0x1;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with an `n`-bit prefix whose other bits are `first`.
fn hpack_int(out: &mut Vec<u8>, first: u8, n: u32, mut value: usize) {
    let max = (1usize << n) - 1;
    if value < max {
        out.push(first | value as u8);
        return;
    }
    out.push(first | max as u8);
    value -= max;
    while value >= 128 {
        out.push((value % 128) as u8 | 0x80);
        value /= 128;
    }
    out.push(value as u8);
}

/// A header block of literal fields without indexing (no Huffman coding).
fn block(fields: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::new();
    for (name, value) in fields {
        out.push(0);
        hpack_int(&mut out, 0, 7, name.len());
        out.extend_from_slice(name.as_bytes());
        hpack_int(&mut out, 0, 7, value.len());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

fn request_block(method: &str, path: &str) -> Vec<u8> {
    block(&[
        (":method", method),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", path),
    ])
}

/// What came back on a raw connection.
#[derive(Debug, Default)]
struct Seen {
    goaway: Option<u32>,
    /// (stream, error code) of every RST_STREAM.
    resets: Vec<(u32, u32)>,
    /// Streams that got a HEADERS frame.
    answered: Vec<u32>,
    closed: bool,
}

/// A TLS connection that negotiated h2, driven with hand-built frames.
struct RawH2 {
    stream: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl RawH2 {
    fn connect(addr: SocketAddr, pki: &Pki) -> RawH2 {
        let mut cfg = (*pki.client(&[&rustls::version::TLS13])).clone();
        cfg.alpn_protocols = vec![b"h2".to_vec()];
        let tcp = TcpStream::connect(addr).unwrap();
        set_timeouts(&tcp);
        let name = ServerName::try_from("localhost").unwrap();
        let conn = ClientConnection::new(Arc::new(cfg), name).unwrap();
        let mut stream = StreamOwned::new(conn, tcp);
        let mut hello = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
        hello.extend(frame(SETTINGS, 0, 0, &[]));
        stream.write_all(&hello).unwrap();
        assert_eq!(stream.conn.alpn_protocol(), Some(b"h2".as_slice()));
        RawH2 {
            stream,
            buf: Vec::new(),
        }
    }

    /// Sends `bytes`; a write the server refused because it already closed is not an error
    /// here (what it answered is read next).
    fn send(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(16 * 1024) {
            if self.stream.write_all(piece).is_err() {
                return;
            }
        }
        let _ = self.stream.flush();
    }

    /// Reads frames until `done` says so, the connection closes, or `limit` passes.
    fn read_until(&mut self, limit: Duration, done: impl Fn(&Seen) -> bool) -> Seen {
        let deadline = Instant::now() + limit;
        let mut seen = Seen::default();
        let mut chunk = [0u8; 16 * 1024];
        while !done(&seen) && Instant::now() < deadline {
            while self.buf.len() >= 9 {
                let len = u32::from_be_bytes([0, self.buf[0], self.buf[1], self.buf[2]]) as usize;
                if self.buf.len() < 9 + len {
                    break;
                }
                let (kind, id) = (
                    self.buf[3],
                    u32::from_be_bytes(self.buf[5..9].try_into().unwrap()),
                );
                let payload = &self.buf[9..9 + len];
                let code = |at: usize| u32::from_be_bytes(payload[at..at + 4].try_into().unwrap());
                match kind {
                    GOAWAY => seen.goaway = Some(code(4)),
                    RST_STREAM => seen.resets.push((id & 0x7fff_ffff, code(0))),
                    HEADERS => seen.answered.push(id),
                    _ => {}
                }
                self.buf.drain(..9 + len);
            }
            if done(&seen) {
                break;
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    seen.closed = true;
                    break;
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if common::is_timeout(&e) => {}
                Err(_) => {
                    seen.closed = true;
                    break;
                }
            }
        }
        seen
    }
}

/// The proxy still answers a plain request on a new connection.
fn still_serving(addr: SocketAddr, pki: &Pki) {
    let mut c = RawH2::connect(addr, pki);
    c.send(&frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &request_block("GET", "/after"),
    ));
    let seen = c.read_until(Duration::from_secs(10), |s| s.answered.contains(&1));
    assert!(
        seen.answered.contains(&1),
        "a new connection is served: {seen:?}"
    );
}

fn floods_are_cut_off(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-floods-{driver:?}"));
    let member = MockMember::respond(|_| Reply::ok("ok"));
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let ping = frame(PING, 0, 0, &[7; 8]);
    let settings = frame(SETTINGS, 0, 0, &[]);
    let post = frame(HEADERS, END_HEADERS, 1, &request_block("POST", "/p"));
    let empty = frame(DATA, 0, 1, &[]);
    let mut rapid = Vec::new();
    for id in (1..700u32).step_by(2) {
        rapid.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &request_block("GET", "/r"),
        ));
        rapid.extend(frame(RST_STREAM, 0, id, &8u32.to_be_bytes()));
    }
    let mut continuation = frame(HEADERS, 0, 1, &request_block("GET", "/c"));
    continuation.extend(frame(CONTINUATION, 0, 1, &block(&[("x", "y")])).repeat(100));
    let cases: Vec<(&str, Vec<u8>)> = vec![
        // Twice the budgets, small enough to sit in the socket buffers whole: what the proxy
        // left unread cannot block the test's writes.
        ("PING flood", ping.repeat(1200)),
        ("SETTINGS flood", settings.repeat(1200)),
        ("empty DATA flood", [post, empty.repeat(1200)].concat()),
        ("rapid reset", rapid),
        ("CONTINUATION flood", continuation),
    ];
    for (name, bytes) in cases {
        let before = member.requests().len();
        let started = Instant::now();
        let mut c = RawH2::connect(addr, &pki);
        c.send(&bytes);
        let seen = c.read_until(Duration::from_secs(10), |s| s.closed);
        assert!(seen.closed, "{name}: the connection is closed: {seen:?}");
        assert!(seen.goaway.is_some(), "{name}: GOAWAY sent: {seen:?}");
        if name != "CONTINUATION flood" {
            assert_eq!(seen.goaway, Some(ENHANCE_YOUR_CALM), "{name}");
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "{name}: bounded"
        );
        let reached = member.requests().len() - before;
        assert!(
            reached <= 150,
            "{name}: {reached} requests reached the member"
        );
        still_serving(addr, &pki);
    }
}

fn streams_beyond_the_limit_are_refused(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-streams-{driver:?}"));
    let member = MockMember::hang();
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let mut c = RawH2::connect(addr, &pki);
    let mut bytes = Vec::new();
    for id in (1..=301u32).step_by(2) {
        bytes.extend(frame(
            HEADERS,
            END_HEADERS | END_STREAM,
            id,
            &request_block("GET", "/h"),
        ));
    }
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| s.resets.len() >= 51);
    let refused: Vec<u32> = (seen.resets.iter())
        .filter(|(_, code)| *code == REFUSED_STREAM)
        .map(|(id, _)| *id)
        .collect();
    assert_eq!(refused.len(), 51, "streams 101..151 refused: {seen:?}");
    assert!(
        refused.iter().all(|id| *id > 200),
        "the first 100 streams were kept"
    );
    assert!(
        poll_until(Duration::from_secs(10), || member.requests().len() == 100),
        "100 streams reached the member"
    );
}

fn protocol_limits_are_enforced(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-limits-{driver:?}"));
    let member = MockMember::hang();
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    // An HPACK table size update beyond the advertised 4096 bytes.
    let mut c = RawH2::connect(addr, &pki);
    let mut update = Vec::new();
    hpack_int(&mut update, 0x20, 5, 1 << 20);
    update.extend(request_block("GET", "/t"));
    c.send(&frame(HEADERS, END_HEADERS | END_STREAM, 1, &update));
    let seen = c.read_until(Duration::from_secs(10), |s| s.closed);
    let refused = matches!(seen.goaway, Some(PROTOCOL_ERROR | COMPRESSION_ERROR));
    assert!(
        refused,
        "an oversized HPACK table is a connection error: {seen:?}"
    );
    // DATA beyond the stream's window to a member that does not read it.
    let mut c = RawH2::connect(addr, &pki);
    let fields = [
        (":method", "POST"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/w"),
        ("content-length", "2000000"),
    ];
    let mut bytes = frame(HEADERS, END_HEADERS, 1, &block(&fields));
    let chunk = frame(DATA, 0, 1, &[1u8; 16 * 1024]);
    bytes.extend(chunk.repeat(40)); // 640 KiB against a 256 KiB window
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| {
        s.closed || s.resets.iter().any(|(_, code)| *code == FLOW_CONTROL_ERROR)
    });
    let overrun = seen.goaway == Some(FLOW_CONTROL_ERROR)
        || seen
            .resets
            .iter()
            .any(|(_, code)| *code == FLOW_CONTROL_ERROR);
    assert!(overrun, "window overrun refused: {seen:?}");
    // A header list over the limit (16 KiB in the test config) never reaches the member.
    let mut c = RawH2::connect(addr, &pki);
    let big = "v".repeat(40 * 1024);
    let fields = [
        (":method", "GET"),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", "/big"),
        ("x-big", big.as_str()),
    ];
    let b = block(&fields);
    let (first, rest) = b.split_at(16 * 1024);
    let mut bytes = frame(HEADERS, 0, 1, first);
    let pieces: Vec<&[u8]> = rest.chunks(16 * 1024).collect();
    for (i, piece) in pieces.iter().enumerate() {
        let flags = if i + 1 == pieces.len() {
            END_HEADERS
        } else {
            0
        };
        bytes.extend(frame(CONTINUATION, flags, 1, piece));
    }
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| {
        s.closed || !s.resets.is_empty() || !s.answered.is_empty()
    });
    assert!(
        seen.closed || !seen.resets.is_empty() || seen.answered.contains(&1),
        "an oversized header list is refused: {seen:?}"
    );
    assert!(
        member.requests().iter().all(|r| !r.has_header("x-big")),
        "the oversized request never reached the member"
    );
}

/// Request trailers reach the member as chunked trailers; a member's chunked trailers reach
/// the client as a trailing HEADERS frame that ends the stream.
fn trailers_cross_both_ways(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-trailers-{driver:?}"));
    let received = Arc::new(Mutex::new(Vec::new()));
    let got = received.clone();
    let member = MockMember::raw(move |conn| {
        while conn.read_head()?.is_some() {
            let mut body = Vec::new();
            while common::find(&body, b"\r\n\r\n").is_none() {
                let more = conn.read_some()?;
                if more.is_empty() {
                    return Ok(());
                }
                body.extend(more);
            }
            *common::lock(&got) = body;
            conn.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: x-sum\r\n\r\n\
                  5\r\nhello\r\n0\r\nx-sum: 42\r\n\r\n",
            )?;
        }
        Ok(())
    });
    let (_h, addr) = start_tls(common::single(driver, &member), &pki);
    let mut c = RawH2::connect(addr, &pki);
    let mut bytes = frame(HEADERS, END_HEADERS, 1, &request_block("POST", "/t"));
    bytes.extend(frame(DATA, 0, 1, b"abc"));
    bytes.extend(frame(
        HEADERS,
        END_HEADERS | END_STREAM,
        1,
        &block(&[("x-req-sum", "7")]),
    ));
    c.send(&bytes);
    let seen = c.read_until(Duration::from_secs(10), |s| s.answered.len() >= 2);
    assert_eq!(
        seen.answered,
        vec![1, 1],
        "a response head and its trailers: {seen:?}"
    );
    assert!(seen.resets.is_empty(), "{seen:?}");
    let body = String::from_utf8_lossy(&common::lock(&received)).to_string();
    assert_eq!(body, "3\r\nabc\r\n0\r\nx-req-sum: 7\r\n\r\n");
}

/// A plain listener serves a client that starts with the HTTP/2 preface as HTTP/2
/// (prior-knowledge h2c: `curl --http2-prior-knowledge`, h2load's default for http://).
fn h2c_prior_knowledge_on_a_plain_listener(driver: IoDriver) {
    let member = MockMember::named("a");
    let (_h, addr) = common::proxy_for(driver, &member);
    let url = format!("http://{addr}/plain");
    let w = "%{http_version} %{http_code}";
    let args = [
        "-sS",
        "--http2-prior-knowledge",
        "--max-time",
        "20",
        "-w",
        w,
        &url,
    ];
    let Some(out) = tool("curl", &args) else {
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a2 200");
    let seen = member.requests();
    assert_eq!(seen[0].header("x-forwarded-proto"), Some("http"));
    let Some(out) = tool("h2load", &["-n", "400", "-c", "4", "-m", "10", &url]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("400 succeeded, 0 failed"), "h2load: {text}");
    // HTTP/1.1 on the same listener is unchanged.
    let mut c = common::Client::connect(addr);
    assert_eq!(c.request(&common::get("/")).body_text(), "a");
}
