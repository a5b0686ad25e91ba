//! A scripted AJP13 member on std threads, written from the AJPv13 reference (not from
//! ringlb's codec): it decodes each forward request (method, URI, the client facts, headers by
//! code or name, attributes), reads the body as Tomcat does (the first packet unasked when
//! there is a `Content-Length`, then `GET_BODY_CHUNK` until the length, or until the empty
//! packet when there is none), records everything, and answers as its [`Script`] says.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use super::{lock, set_timeouts};

/// One forward request as the member decoded it.
#[derive(Clone, Debug, Default)]
pub(crate) struct AjpRequest {
    pub(crate) method: String,
    pub(crate) protocol: String,
    pub(crate) uri: String,
    pub(crate) remote_addr: String,
    pub(crate) remote_host: String,
    pub(crate) server_name: String,
    pub(crate) server_port: u16,
    pub(crate) is_ssl: bool,
    pub(crate) headers: Vec<(String, String)>,
    /// Attributes by their reference names (`query_string`, `jvm_route`, `secret`, ...);
    /// request attributes (`req_attribute`) by their own names.
    pub(crate) attributes: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
    /// Which connection (0, 1, ...) carried it.
    pub(crate) connection: usize,
}

impl AjpRequest {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        (self.headers.iter())
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn attribute(&self, name: &str) -> Option<&str> {
        (self.attributes.iter())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// How the member answers.
#[derive(Clone, Debug)]
pub(crate) enum Script {
    /// 200 with the request body (or `ok` without one) as the response body, in `chunks`
    /// body packets (more where a packet would exceed 8192 bytes), with `Content-Length` when `length`, then `END_RESPONSE` with `reuse`.
    Echo {
        length: bool,
        chunks: usize,
        reuse: bool,
    },
    /// Answers with these bytes, as they are, one byte per write.
    Raw(Vec<u8>),
    /// Reads the request and closes the connection without a word.
    Close,
}

/// The member: its address, what it saw, and its script (changeable while it runs).
pub(crate) struct AjpMember {
    addr: SocketAddr,
    pub(crate) seen: Arc<Mutex<Vec<AjpRequest>>>,
    pub(crate) script: Arc<Mutex<Script>>,
    /// Whether CPING gets CPONG.
    pub(crate) pong: Arc<Mutex<bool>>,
    connections: Arc<AtomicUsize>,
    pings: Arc<AtomicUsize>,
}

impl AjpMember {
    pub(crate) fn start(script: Script) -> AjpMember {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let member = AjpMember {
            addr: listener.local_addr().unwrap(),
            seen: Arc::default(),
            script: Arc::new(Mutex::new(script)),
            pong: Arc::new(Mutex::new(true)),
            connections: Arc::default(),
            pings: Arc::default(),
        };
        let (seen, script, pong) = (
            member.seen.clone(),
            member.script.clone(),
            member.pong.clone(),
        );
        let (connections, pings) = (member.connections.clone(), member.pings.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { return };
                let id = connections.fetch_add(1, Ordering::SeqCst);
                let (seen, script, pong, pings) =
                    (seen.clone(), script.clone(), pong.clone(), pings.clone());
                thread::spawn(move || serve(stream, id, &seen, &script, &pong, &pings));
            }
        });
        member
    }

    pub(crate) fn addr(&self) -> SocketAddr {
        self.addr
    }

    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::SeqCst)
    }

    pub(crate) fn pings(&self) -> usize {
        self.pings.load(Ordering::SeqCst)
    }

    pub(crate) fn requests(&self) -> Vec<AjpRequest> {
        lock(&self.seen).clone()
    }
}

fn read_packet(s: &mut TcpStream) -> Option<Vec<u8>> {
    let mut head = [0u8; 4];
    s.read_exact(&mut head).ok()?;
    assert_eq!(
        &head[..2],
        &[0x12, 0x34],
        "server-to-container packets start 0x1234"
    );
    let len = u16::from_be_bytes([head[2], head[3]]) as usize;
    let mut payload = vec![0u8; len];
    s.read_exact(&mut payload).ok()?;
    Some(payload)
}

fn serve(
    mut s: TcpStream,
    id: usize,
    seen: &Mutex<Vec<AjpRequest>>,
    script: &Mutex<Script>,
    pong: &Mutex<bool>,
    pings: &AtomicUsize,
) {
    set_timeouts(&s);
    while let Some(payload) = read_packet(&mut s) {
        match payload.first() {
            Some(10) => {
                pings.fetch_add(1, Ordering::SeqCst);
                if *lock(pong) {
                    let _ = s.write_all(b"AB\x00\x01\x09");
                }
                continue;
            }
            Some(2) => {}
            other => panic!("unexpected packet type {other:?}"),
        }
        let mut req = decode(&payload[1..]);
        req.connection = id;
        read_body(&mut s, &mut req);
        let body = req.body.clone();
        lock(seen).push(req);
        let script = lock(script).clone();
        let ok = match script {
            Script::Echo {
                length,
                chunks,
                reuse,
            } => s.write_all(&echo(&body, length, chunks, reuse)).is_ok() && reuse,
            Script::Raw(bytes) => bytes.iter().all(|b| s.write_all(&[*b]).is_ok()),
            Script::Close => false,
        };
        if !ok {
            return;
        }
    }
}

/// Reads the request body: Tomcat's way (see the module doc).
fn read_body(s: &mut TcpStream, req: &mut AjpRequest) {
    let length: Option<usize> = req.header("content-length").map(|v| v.parse().unwrap());
    let has_body = match length {
        Some(n) => n > 0,
        None => !matches!(req.method.as_str(), "GET" | "HEAD"),
    };
    if !has_body {
        return;
    }
    if length.is_none() {
        let _ = s.write_all(&GET_BODY_CHUNK);
    }
    loop {
        let Some(p) = read_packet(s) else { return };
        if p.is_empty() {
            return;
        }
        let n = u16::from_be_bytes([p[0], p[1]]) as usize;
        assert_eq!(p.len(), n + 2, "a data packet's length matches its chunk");
        req.body.extend_from_slice(&p[2..]);
        if length.is_some_and(|l| req.body.len() >= l) {
            return;
        }
        let _ = s.write_all(&GET_BODY_CHUNK);
    }
}

/// `GET_BODY_CHUNK` for 8186 bytes (Tomcat's `MAX_READ_SIZE`).
const GET_BODY_CHUNK: [u8; 7] = [b'A', b'B', 0, 3, 6, 0x1F, 0xFA];

/// A 200 echo response (see [`Script::Echo`]).
fn echo(body: &[u8], length: bool, chunks: usize, reuse: bool) -> Vec<u8> {
    let body: &[u8] = if body.is_empty() { b"ok" } else { body };
    let mut out = Vec::new();
    let mut headers = vec![4u8, 0, 200];
    string(&mut headers, b"OK");
    let fields: Vec<(u16, Vec<u8>)> = if length {
        vec![
            (0xA001, b"text/plain".to_vec()),
            (0xA003, body.len().to_string().into_bytes()),
        ]
    } else {
        vec![(0xA001, b"text/plain".to_vec())]
    };
    headers.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (code, value) in &fields {
        headers.extend_from_slice(&code.to_be_bytes());
        string(&mut headers, value);
    }
    packet(&mut out, &headers);
    // Within the 8192-byte packet: Tomcat's MAX_SEND_SIZE is 8184.
    let per = body.len().div_ceil(chunks.max(1)).clamp(1, 8184);
    for part in body.chunks(per) {
        let mut p = vec![3u8];
        p.extend_from_slice(&(part.len() as u16).to_be_bytes());
        p.extend_from_slice(part);
        p.push(0);
        packet(&mut out, &p);
    }
    packet(&mut out, &[5, reuse as u8]);
    out
}

/// Appends a container-to-server packet.
pub(crate) fn packet(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(b"AB");
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// Appends an AJP string.
pub(crate) fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

struct Reader<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn byte(&mut self) -> u8 {
        self.at += 1;
        self.buf[self.at - 1]
    }

    fn int(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }

    fn string(&mut self) -> String {
        let n = self.int();
        if n == 0xFFFF {
            return String::new();
        }
        let s = &self.buf[self.at..self.at + n as usize];
        assert_eq!(self.buf[self.at + n as usize], 0, "strings end with NUL");
        self.at += n as usize + 1;
        String::from_utf8_lossy(s).into_owned()
    }
}

const METHODS: [&str; 27] = [
    "OPTIONS",
    "GET",
    "HEAD",
    "POST",
    "PUT",
    "DELETE",
    "TRACE",
    "PROPFIND",
    "PROPPATCH",
    "MKCOL",
    "COPY",
    "MOVE",
    "LOCK",
    "UNLOCK",
    "ACL",
    "REPORT",
    "VERSION-CONTROL",
    "CHECKIN",
    "CHECKOUT",
    "UNCHECKOUT",
    "SEARCH",
    "MKWORKSPACE",
    "UPDATE",
    "LABEL",
    "MERGE",
    "BASELINE-CONTROL",
    "MKACTIVITY",
];

const HEADERS: [&str; 14] = [
    "accept",
    "accept-charset",
    "accept-encoding",
    "accept-language",
    "authorization",
    "connection",
    "content-type",
    "content-length",
    "cookie",
    "cookie2",
    "host",
    "pragma",
    "referer",
    "user-agent",
];

fn decode(payload: &[u8]) -> AjpRequest {
    let mut r = Reader {
        buf: payload,
        at: 0,
    };
    let code = r.byte();
    let mut req = AjpRequest {
        method: METHODS
            .get(usize::from(code).wrapping_sub(1))
            .map_or_else(String::new, |m| m.to_string()),
        protocol: r.string(),
        uri: r.string(),
        remote_addr: r.string(),
        remote_host: r.string(),
        server_name: r.string(),
        server_port: r.int(),
        is_ssl: r.byte() == 1,
        ..AjpRequest::default()
    };
    let count = r.int();
    for _ in 0..count {
        let name = if r.buf[r.at] == 0xA0 {
            let code = r.int();
            HEADERS[usize::from(code - 0xA001)].to_string()
        } else {
            r.string()
        };
        let value = r.string();
        req.headers.push((name, value));
    }
    loop {
        let (name, value) = match r.byte() {
            0xFF => break,
            10 => (r.string(), r.string()),
            11 => ("ssl_key_size".to_string(), r.int().to_string()),
            code => {
                let name = match code {
                    3 => "remote_user",
                    4 => "auth_type",
                    5 => "query_string",
                    6 => "jvm_route",
                    7 => "ssl_cert",
                    8 => "ssl_cipher",
                    9 => "ssl_session",
                    12 => "secret",
                    13 => "stored_method",
                    other => panic!("unknown attribute {other}"),
                };
                (name.to_string(), r.string())
            }
        };
        req.attributes.push((name, value));
    }
    assert_eq!(r.at, payload.len(), "nothing after are_done");
    if code == 0xFF {
        req.method = req
            .attribute("stored_method")
            .unwrap_or_default()
            .to_string();
    }
    req
}
