//! TLS termination A/B, the measurement behind driving rustls directly: ringlb's own driver
//! (`ringlb::tls::stream::TlsStream`) against `monoio-rustls` 0.4, each serving on one monoio
//! thread (io_uring when it can be set up, else epoll) with the same rustls `ServerConfig`
//! (ECDSA P-256 certificate, TLS 1.3, no resumption) as `tls::Acceptors::load` builds it.
//! A blocking rustls client on another thread runs
//! - `handshake+request`: a new connection per request (full handshake, one GET, close);
//! - `keep-alive`: requests one after another on one connection.
//!
//! Reported: microseconds per operation, wall clock, best of 3 runs. Run with
//! `cargo bench --bench tls_stream`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;
use std::time::{Duration, Instant};

use monoio::io::{AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt};
use ringlb::tls::stream::TlsStream;
use rustls::pki_types::{CertificateDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, ServerConfig, StreamOwned};

const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
const REQUEST: &[u8] = b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Driver {
    Ringlb,
    MonoioRustls,
}

/// Answers each request head on `s` with [`RESPONSE`] until the client closes.
async fn serve<S: AsyncReadRent + AsyncWriteRent>(mut s: S) {
    let mut pending = 0usize;
    let mut buf = Vec::with_capacity(4096);
    loop {
        buf.clear();
        let (res, b) = s.read(buf).await;
        buf = b;
        match res {
            Ok(n) if n > 0 => {}
            _ => return,
        }
        pending += buf.windows(4).filter(|w| w == b"\r\n\r\n").count();
        while pending > 0 {
            let (res, _) = s.write_all(RESPONSE).await;
            if res.is_err() {
                return;
            }
            pending -= 1;
        }
    }
}

fn server(driver: Driver, config: Arc<ServerConfig>) -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    listener.set_nonblocking(true).unwrap();
    std::thread::spawn(move || {
        let body = async move {
            let listener = monoio::net::TcpListener::from_std(listener).unwrap();
            let acceptor = monoio_rustls::TlsAcceptor::from(config.clone());
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    continue;
                };
                let _ = tcp.set_nodelay(true);
                let (config, acceptor) = (config.clone(), acceptor.clone());
                monoio::spawn(async move {
                    match driver {
                        Driver::Ringlb => {
                            let timeout = Duration::from_secs(5);
                            if let Ok(s) = TlsStream::accept(tcp, config, Vec::new(), timeout).await
                            {
                                serve(s).await;
                            }
                        }
                        Driver::MonoioRustls => {
                            if let Ok(s) = acceptor.accept(tcp).await {
                                serve(s).await;
                            }
                        }
                    }
                });
            }
        };
        if monoio::utils::detect_uring() {
            let mut rt = monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
                .enable_timer()
                .build()
                .unwrap();
            rt.block_on(body);
        } else {
            let mut rt = monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
                .enable_timer()
                .build()
                .unwrap();
            rt.block_on(body);
        }
    });
    addr
}

fn connect(
    addr: SocketAddr,
    client: &Arc<ClientConfig>,
) -> StreamOwned<ClientConnection, TcpStream> {
    let tcp = TcpStream::connect(addr).unwrap();
    tcp.set_nodelay(true).unwrap();
    let name = ServerName::try_from("localhost").unwrap();
    StreamOwned::new(ClientConnection::new(client.clone(), name).unwrap(), tcp)
}

fn exchange(s: &mut StreamOwned<ClientConnection, TcpStream>) {
    s.write_all(REQUEST).unwrap();
    let mut got = 0;
    let mut buf = [0u8; 256];
    while got < RESPONSE.len() {
        let n = s.read(&mut buf).unwrap();
        assert!(n > 0);
        got += n;
    }
}

fn best_of(runs: usize, n: usize, mut f: impl FnMut()) -> f64 {
    (0..runs)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed().as_secs_f64() * 1e6 / n as f64
        })
        .fold(f64::INFINITY, f64::min)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return; // `cargo bench -- --list` / `cargo test --benches`
    }
    let dir = std::env::temp_dir().join(format!("ringlb-tls-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let ck = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    std::fs::write(dir.join("c.crt"), ck.cert.pem()).unwrap();
    std::fs::write(dir.join("c.key"), ck.key_pair.serialize_pem()).unwrap();
    let text = "[[listener]]\naddress = \"127.0.0.1:0\"\ncert = \"c.crt\"\nkey = \"c.key\"\n\
                [[balancer]]\nname = \"b\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9\"\n";
    let cfg = ringlb::config::parse_str(text, &dir.join("b.toml").to_string_lossy()).unwrap();
    let acceptors = ringlb::tls::Acceptors::load(&cfg).unwrap();
    let config = acceptors.get(0).unwrap().clone();

    let mut roots = RootCertStore::empty();
    roots
        .add(CertificateDer::from(ck.cert.der().to_vec()))
        .unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let client = Arc::new(
        ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(&[&rustls::version::TLS13])
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    for driver in [
        Driver::Ringlb,
        Driver::MonoioRustls,
        Driver::Ringlb,
        Driver::MonoioRustls,
    ] {
        let addr = server(driver, config.clone());
        let new_conn = best_of(3, 300, || {
            let mut s = connect(addr, &client);
            exchange(&mut s);
        });
        let mut s = connect(addr, &client);
        let keep_alive = best_of(3, 5000, || exchange(&mut s));
        println!(
            "{driver:?}: handshake+request {new_conn:.1} us/op, keep-alive {keep_alive:.1} us/request"
        );
    }
    let _ = std::fs::remove_dir_all(&dir);
}
