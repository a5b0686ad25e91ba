//! A raw HTTP/2 client for the tests: hand-built frames (HPACK literals without Huffman
//! coding) over a rustls connection that negotiated `h2`, and a reader that records what the
//! proxy answered (GOAWAY, RST_STREAM, HEADERS per stream); and the TLS proxy both HTTP/2 test
//! files start.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::ServerName;
use rustls::{ClientConnection, StreamOwned};

use ringlb::config::Config;
use ringlb::server::{self, ServerHandle};

use super::tls::{tls_listener, Pki};
use super::{is_timeout, set_timeouts};

/// Starts ringlb with `cfg`'s members behind one TLS listener (default ALPN: h2 first, and
/// `ssl_headers`);
/// returns the handle and the TLS address.
pub(crate) fn start_tls(mut cfg: Config, pki: &Pki) -> (ServerHandle, SocketAddr) {
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

pub(crate) const DATA: u8 = 0x0;
pub(crate) const HEADERS: u8 = 0x1;
pub(crate) const RST_STREAM: u8 = 0x3;
pub(crate) const SETTINGS: u8 = 0x4;
pub(crate) const PING: u8 = 0x6;
pub(crate) const GOAWAY: u8 = 0x7;
pub(crate) const CONTINUATION: u8 = 0x9;
pub(crate) const END_STREAM: u8 = 0x1;
pub(crate) const END_HEADERS: u8 = 0x4;

pub(crate) const ENHANCE_YOUR_CALM: u32 = 0xb;
pub(crate) const REFUSED_STREAM: u32 = 0x7;
pub(crate) const FLOW_CONTROL_ERROR: u32 = 0x3;
pub(crate) const COMPRESSION_ERROR: u32 = 0x9;
pub(crate) const PROTOCOL_ERROR: u32 = 0x1;

pub(crate) fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let mut f = (payload.len() as u32).to_be_bytes()[1..].to_vec();
    f.extend([kind, flags]);
    f.extend(stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with an `n`-bit prefix whose other bits are `first`.
pub(crate) fn hpack_int(out: &mut Vec<u8>, first: u8, n: u32, mut value: usize) {
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
pub(crate) fn block(fields: &[(&str, &str)]) -> Vec<u8> {
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

pub(crate) fn request_block(method: &str, path: &str) -> Vec<u8> {
    block(&[
        (":method", method),
        (":scheme", "https"),
        (":authority", "localhost"),
        (":path", path),
    ])
}

/// What came back on a raw connection.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    pub(crate) goaway: Option<u32>,
    /// (stream, error code) of every RST_STREAM.
    pub(crate) resets: Vec<(u32, u32)>,
    /// Streams that got a HEADERS frame.
    pub(crate) answered: Vec<u32>,
    pub(crate) closed: bool,
}

/// A TLS connection that negotiated h2, driven with hand-built frames.
pub(crate) struct RawH2 {
    stream: StreamOwned<ClientConnection, TcpStream>,
    buf: Vec<u8>,
}

impl RawH2 {
    pub(crate) fn connect(addr: SocketAddr, pki: &Pki) -> RawH2 {
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
    pub(crate) fn send(&mut self, bytes: &[u8]) {
        for piece in bytes.chunks(16 * 1024) {
            if self.stream.write_all(piece).is_err() {
                return;
            }
        }
        let _ = self.stream.flush();
    }

    /// Reads frames until `done` says so, the connection closes, or `limit` passes.
    pub(crate) fn read_until(&mut self, limit: Duration, done: impl Fn(&Seen) -> bool) -> Seen {
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
                Err(e) if is_timeout(&e) => {}
                Err(_) => {
                    seen.closed = true;
                    break;
                }
            }
        }
        seen
    }
}
