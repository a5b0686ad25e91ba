//! A synchronous HTTPS member (rustls server on std threads), with certificates from the test
//! PKI of `tls.rs`.
//!
//! The member records what each TLS session looked like (SNI, a client certificate, whether
//! it resumed) and every request head; it answers `GET /health` with `ok`, an `Upgrade`
//! request with `101` and then echoes bytes, and anything else with `200` and the body
//! `LEN FNV` (the request body's length and FNV-1a). With a close gate it sends
//! `close_notify` after each connection's first response once the gate opens, then counts
//! what still arrives on that connection.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::server::WebPkiClientVerifier;
use rustls::{HandshakeKind, RootCertStore, ServerConfig, ServerConnection, StreamOwned};

use super::tls::Leaf;
use super::{lock, poll_until, secs, set_timeouts, Fnv};

/// What one TLS session of the member looked like.
#[derive(Clone, Debug)]
pub(crate) struct Session {
    pub(crate) sni: Option<String>,
    pub(crate) client_cert: bool,
    pub(crate) resumed: bool,
}

#[derive(Default)]
pub(crate) struct Seen {
    /// TCP connections accepted.
    pub(crate) accepts: AtomicUsize,
    /// Handshakes that failed (the client refused the certificate, or had none to give).
    pub(crate) failed_handshakes: AtomicUsize,
    pub(crate) sessions: Mutex<Vec<Session>>,
    /// Every request head, as text.
    pub(crate) heads: Mutex<Vec<String>>,
    /// `close_notify`s sent (close gate mode).
    pub(crate) close_notifies: AtomicUsize,
    /// Per connection that got a `close_notify`: the bytes that still came on it before the
    /// peer closed it.
    pub(crate) after_close_notify: Mutex<Vec<usize>>,
}

/// How a [`TlsMember`] behaves.
pub(crate) struct MemberSpec {
    pub(crate) leaf: Leaf,
    /// Require a client certificate signed by this CA.
    pub(crate) client_ca: Option<CertificateDer<'static>>,
    /// Send `close_notify` after each connection's first response, once this is set.
    pub(crate) close_gate: Option<Arc<AtomicBool>>,
}

/// An HTTPS member on `127.0.0.1:0`; its threads end with the connections ringlb closes.
pub(crate) struct TlsMember {
    pub(crate) addr: SocketAddr,
    pub(crate) seen: Arc<Seen>,
    stop: Arc<AtomicBool>,
}

impl TlsMember {
    pub(crate) fn start(spec: MemberSpec) -> TlsMember {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let builder = ServerConfig::builder_with_provider(provider.clone())
            .with_safe_default_protocol_versions()
            .unwrap();
        let builder = match &spec.client_ca {
            Some(ca) => {
                let mut roots = RootCertStore::empty();
                roots.add(ca.clone()).unwrap();
                let verifier =
                    WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
                        .build()
                        .unwrap();
                builder.with_client_cert_verifier(verifier)
            }
            None => builder.with_no_client_auth(),
        };
        let key = PrivateKeyDer::try_from(spec.leaf.key_der.clone()).unwrap();
        let mut config = builder
            .with_single_cert(spec.leaf.chain.clone(), key)
            .unwrap();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        let config = Arc::new(config);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Seen::default());
        let stop = Arc::new(AtomicBool::new(false));
        let (s, st, gate) = (seen.clone(), stop.clone(), spec.close_gate.clone());
        thread::spawn(move || {
            for tcp in listener.incoming() {
                if st.load(Ordering::SeqCst) {
                    return;
                }
                let Ok(tcp) = tcp else { continue };
                s.accepts.fetch_add(1, Ordering::SeqCst);
                let (config, s, gate) = (config.clone(), s.clone(), gate.clone());
                thread::spawn(move || {
                    let _ = serve(tcp, config, &s, gate.as_deref());
                });
            }
        });
        TlsMember { addr, seen, stop }
    }

    pub(crate) fn accepts(&self) -> usize {
        self.seen.accepts.load(Ordering::SeqCst)
    }

    pub(crate) fn sessions(&self) -> Vec<Session> {
        lock(&self.seen.sessions).clone()
    }

    pub(crate) fn heads(&self) -> Vec<String> {
        lock(&self.seen.heads).clone()
    }
}

impl Drop for TlsMember {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(self.addr); // wake the accept loop
    }
}

type Tls = StreamOwned<ServerConnection, TcpStream>;

fn serve(
    mut tcp: TcpStream,
    config: Arc<ServerConfig>,
    seen: &Seen,
    gate: Option<&AtomicBool>,
) -> io::Result<()> {
    set_timeouts(&tcp);
    let mut conn = ServerConnection::new(config).map_err(io::Error::other)?;
    while conn.is_handshaking() {
        if let Err(e) = conn.complete_io(&mut tcp) {
            seen.failed_handshakes.fetch_add(1, Ordering::SeqCst);
            return Err(e);
        }
    }
    lock(&seen.sessions).push(Session {
        sni: conn.server_name().map(str::to_owned),
        client_cert: conn.peer_certificates().is_some(),
        resumed: conn.handshake_kind() == Some(HandshakeKind::Resumed),
    });
    let mut s = StreamOwned::new(conn, tcp);
    let mut buf = Vec::new();
    let mut answered = 0;
    while let Some((head, len, body_len)) = read_head(&mut s, &mut buf)? {
        lock(&seen.heads).push(head.clone());
        let lower = head.to_ascii_lowercase();
        if lower.contains("\r\nupgrade:") {
            s.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: echo\r\n\r\n",
            )?;
            buf.drain(..len);
            return echo(&mut s, buf);
        }
        while buf.len() < len + body_len {
            fill(&mut s, &mut buf)?;
        }
        let mut fnv = Fnv::new();
        fnv.update(&buf[len..len + body_len]);
        buf.drain(..len + body_len);
        let body = if lower.starts_with("get /health ") || lower.starts_with("head /health ") {
            "ok".to_owned()
        } else {
            format!("{body_len} {:016x}", fnv.0)
        };
        let mut resp = format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n", body.len());
        if !lower.starts_with("head ") {
            resp.push_str(&body);
        }
        s.write_all(resp.as_bytes())?;
        s.flush()?;
        answered += 1;
        if let (Some(gate), 1) = (gate, answered) {
            return close_when_told(s, gate, seen);
        }
    }
    Ok(())
}

/// Close gate mode: once the gate opens, `close_notify`, then count what still arrives.
fn close_when_told(mut s: Tls, gate: &AtomicBool, seen: &Seen) -> io::Result<()> {
    assert!(
        poll_until(secs(10), || gate.load(Ordering::SeqCst)),
        "the close gate never opened"
    );
    s.conn.send_close_notify();
    s.conn.complete_io(&mut s.sock)?;
    seen.close_notifies.fetch_add(1, Ordering::SeqCst);
    let mut total = 0;
    let mut chunk = [0u8; 4096];
    loop {
        match s.sock.read(&mut chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => total += n,
        }
    }
    lock(&seen.after_close_notify).push(total);
    Ok(())
}

/// After a `101`: echoes what comes until the peer ends.
fn echo(s: &mut Tls, pending: Vec<u8>) -> io::Result<()> {
    if !pending.is_empty() {
        s.write_all(&pending)?;
    }
    let mut chunk = [0u8; 4096];
    loop {
        match s.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => s.write_all(&chunk[..n])?,
            Err(e) if e.kind() == ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
    }
}

/// The next request head in `buf` (reading more as needed): its text, its length and its
/// Content-Length; `None` when the peer closed between requests.
fn read_head(s: &mut Tls, buf: &mut Vec<u8>) -> io::Result<Option<(String, usize, usize)>> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        if let httparse::Status::Complete(len) = req.parse(buf).map_err(io::Error::other)? {
            let body_len = (req.headers.iter())
                .find(|h| h.name.eq_ignore_ascii_case("content-length"))
                .map_or(0, |h| {
                    String::from_utf8_lossy(h.value).trim().parse().unwrap_or(0)
                });
            let head = String::from_utf8_lossy(&buf[..len]).into_owned();
            return Ok(Some((head, len, body_len)));
        }
        match fill(s, buf) {
            Ok(()) => {}
            Err(e) if buf.is_empty() && e.kind() == ErrorKind::UnexpectedEof => return Ok(None),
            Err(e) => return Err(e),
        }
    }
}

fn fill(s: &mut Tls, buf: &mut Vec<u8>) -> io::Result<()> {
    let mut chunk = [0u8; 16 * 1024];
    match s.read(&mut chunk)? {
        0 => Err(ErrorKind::UnexpectedEof.into()),
        n => {
            buf.extend_from_slice(&chunk[..n]);
            Ok(())
        }
    }
}
