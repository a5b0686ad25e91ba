//! TLS listeners end to end: handshakes with TLS 1.2 and 1.3 (rustls and curl as clients),
//! SNI, ALPN, keep-alive, `X-Forwarded-Proto`, HSTS, `redirect_https`, certificate reload
//! with an old connection still open, a failed handshake, `check`/`run` refusing a bad
//! certificate with the same message, and the memory an idle TLS connection holds in a
//! `ringlb run` process of its own. Certificates are made here with rcgen (a test CA and
//! leaf certificates it signs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::Command;
use std::sync::Arc;

use ringlb::config::{Config, IoDriver, ListenerConfig, TlsVersion};
use ringlb::server::{self, ServerHandle};
use rustls::pki_types::ServerName;
use rustls::{ClientConnection, HandshakeKind};

use common::process::{check_and_run_refuse, Process};
use common::tls::{read_more, read_response, tls12, tls13, tls_listener, Pki, TlsClient};
use common::{poll_until, rss_anon_bytes_of, set_timeouts, MockMember, Reply};

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

/// One plain `listen` address, then `listeners`.
fn start(mut cfg: Config, listeners: Vec<ListenerConfig>) -> (ServerHandle, Vec<SocketAddr>) {
    cfg.listeners = listeners;
    let handle = server::start(Arc::new(cfg)).expect("ringlb starts");
    let addrs = handle.local_addrs().to_vec();
    (handle, addrs)
}

both_drivers!(
    handshake_with_tls12_and_tls13,
    sni_picks_the_certificate_and_alpn_the_protocol,
    keep_alive_forwarded_proto_and_hsts,
    redirect_https_answers_301,
    reload_swaps_the_certificate_for_new_connections,
    a_failed_handshake_just_closes,
    upgrade_tunnel_over_tls_carries_bytes_both_ways,
    idle_tls_tunnel_is_closed,
    large_bodies_both_ways_over_tls,
    sessions_resume_on_every_worker_and_across_a_reload,
    idle_tls_connections_hold_no_large_buffers,
);

fn handshake_with_tls12_and_tls13(driver: IoDriver) {
    let pki = Pki::new(&format!("versions-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::respond(|_| Reply::ok("hello"));
    let (_h, addrs) = start(
        common::single(driver, &mock),
        vec![tls_listener(&cert, &key)],
    );
    for (versions, want) in [
        (tls12(), rustls::ProtocolVersion::TLSv1_2),
        (tls13(), rustls::ProtocolVersion::TLSv1_3),
    ] {
        let mut c = TlsClient::connect(addrs[1], pki.client(versions), "localhost");
        assert_eq!(c.stream.conn.protocol_version(), Some(want));
        let resp = c.get("/", "localhost");
        assert_eq!(
            (resp.status, resp.body.as_slice()),
            (200, b"hello".as_slice())
        );
    }
    // A listener limited to TLS 1.3 refuses a TLS 1.2-only client.
    let mut only13 = tls_listener(&cert, &key);
    if let Some(t) = only13.tls.as_mut() {
        t.protocols = vec![TlsVersion::Tls13];
    }
    let (_h2, addrs13) = start(common::single(driver, &mock), vec![only13]);
    let tcp = TcpStream::connect(addrs13[1]).unwrap();
    set_timeouts(&tcp);
    let name = ServerName::try_from("localhost").unwrap();
    let mut conn = ClientConnection::new(pki.client(tls12()), name).unwrap();
    let mut tcp = tcp;
    let failed = (0..10).any(|_| conn.complete_io(&mut tcp).is_err());
    assert!(
        failed,
        "a TLS 1.2 client was served by a TLS 1.3-only listener"
    );
    curl_versions(&pki, addrs[1]);
}

/// The real curl with `--cacert`, TLS 1.2 only and TLS 1.3 only (skipped without curl).
fn curl_versions(pki: &Pki, addr: SocketAddr) {
    let url = format!("https://localhost:{}/", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    for flags in [&["--tlsv1.2", "--tls-max", "1.2"][..], &["--tlsv1.3"][..]] {
        let out = Command::new("curl")
            .args(["-sS", "--max-time", "10", "--cacert"])
            .arg(pki.ca_path())
            .args(["--resolve", &resolve, "-w", "%{http_code} %{http_version}"])
            .args(flags)
            .arg(&url)
            .output();
        let Ok(out) = out else {
            eprintln!("curl not found: skipping the curl handshakes");
            return;
        };
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "curl {flags:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        // curl offers h2 first, and the default listener takes it.
        assert_eq!(text, "hello200 2", "curl {flags:?}");
    }
}

fn sni_picks_the_certificate_and_alpn_the_protocol(driver: IoDriver) {
    let pki = Pki::new(&format!("sni-{driver:?}"));
    let (cert, key, default_leaf) = pki.issue("default", &["default.test", "localhost"]);
    let (shop, shop_key, shop_leaf) = pki.issue("shop", &["shop.example.com"]);
    let (wild, wild_key, wild_leaf) = pki.issue("wild", &["*.example.com"]);
    let mut listener = tls_listener(&cert, &key);
    if let Some(t) = listener.tls.as_mut() {
        t.sni = vec![
            ringlb::config::SniConfig {
                names: vec!["shop.example.com".into()],
                cert: shop,
                key: shop_key,
            },
            ringlb::config::SniConfig {
                names: vec!["*.example.com".into()],
                cert: wild,
                key: wild_key,
            },
        ];
    }
    let mock = MockMember::respond(|_| Reply::ok("ok"));
    let (_h, addrs) = start(common::single(driver, &mock), vec![listener]);
    let client = pki.client(tls13());
    for (name, want) in [
        ("shop.example.com", &shop_leaf),
        ("www.example.com", &wild_leaf),
        ("default.test", &default_leaf),
    ] {
        let mut c = TlsClient::connect(addrs[1], client.clone(), name);
        assert_eq!(&c.leaf(), want, "certificate served for {name}");
        assert_eq!(c.stream.conn.alpn_protocol(), Some(b"http/1.1".as_slice()));
        assert_eq!(c.get("/", name).status, 200);
    }
    // ALPN: h2 when the client offers it (the default list prefers it), else http/1.1; a
    // listener whose list lacks h2 never chooses it.
    let mut both = (*client).clone();
    both.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let c = TlsClient::connect(addrs[1], Arc::new(both.clone()), "default.test");
    assert_eq!(c.stream.conn.alpn_protocol(), Some(b"h2".as_slice()));
    let mut h1_only = tls_listener(&cert, &key);
    if let Some(t) = h1_only.tls.as_mut() {
        t.alpn = vec![ringlb::config::Alpn::Http11];
    }
    let (_h1, h1_addrs) = start(common::single(driver, &mock), vec![h1_only]);
    let c = TlsClient::connect(h1_addrs[1], Arc::new(both), "default.test");
    assert_eq!(c.stream.conn.alpn_protocol(), Some(b"http/1.1".as_slice()));
    // Without SNI (an IP address as the name): the listener's own certificate. The name
    // check would fail for an IP, so only the served leaf is compared.
    let tcp = TcpStream::connect(addrs[1]).unwrap();
    set_timeouts(&tcp);
    let mut cfg = (*pki.client(tls13())).clone();
    cfg.enable_sni = false;
    let mut conn =
        ClientConnection::new(Arc::new(cfg), ServerName::try_from("localhost").unwrap()).unwrap();
    let mut tcp = tcp;
    while conn.is_handshaking() {
        conn.complete_io(&mut tcp).unwrap();
    }
    assert_eq!(conn.peer_certificates().unwrap()[0].as_ref(), default_leaf);
}

fn keep_alive_forwarded_proto_and_hsts(driver: IoDriver) {
    let pki = Pki::new(&format!("keepalive-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::respond(|req| Reply::ok(req.path.clone()));
    let (_h, addrs) = start(
        common::single(driver, &mock),
        vec![tls_listener(&cert, &key)],
    );
    let mut c = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    for i in 0..5 {
        let path = format!("/r{i}");
        let resp = c.get(&path, "localhost");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body, path.as_bytes());
        assert_eq!(
            resp.header("strict-transport-security"),
            Some("max-age=63072000")
        );
    }
    assert_eq!(mock.connections(), 1, "one member connection, kept alive");
    let seen = mock.requests();
    assert_eq!(seen.len(), 5);
    for r in &seen {
        assert_eq!(r.header("x-forwarded-proto"), Some("https"), "{r:?}");
    }
    // The plain listener of the same proxy: http, and no HSTS.
    let plain = common::raw_exchange(
        addrs[0],
        b"GET /p HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    let text = String::from_utf8_lossy(&plain);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    assert!(
        !text
            .to_ascii_lowercase()
            .contains("strict-transport-security"),
        "{text}"
    );
    let last = mock.requests().pop().unwrap();
    assert_eq!(last.header("x-forwarded-proto"), Some("http"));
}

fn redirect_https_answers_301(driver: IoDriver) {
    let mock = MockMember::respond(|_| Reply::ok("never"));
    let redirect = ListenerConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        hsts: None,
        redirect_https: true,
        proxy_protocol: false,
    };
    let (_h, addrs) = start(common::single(driver, &mock), vec![redirect]);
    let mut tcp = TcpStream::connect(addrs[1]).unwrap();
    set_timeouts(&tcp);
    let mut buf = Vec::new();
    for (target, want) in [
        ("/cart?id=7", "https://shop.example.com/cart?id=7"),
        ("/", "https://shop.example.com/"),
    ] {
        let req = format!("GET {target} HTTP/1.1\r\nHost: shop.example.com\r\n\r\n");
        tcp.write_all(req.as_bytes()).unwrap();
        let resp = read_response(&mut tcp, &mut buf);
        assert_eq!(resp.status, 301);
        assert_eq!(resp.header("location"), Some(want));
        assert_eq!(resp.header("connection"), None, "kept alive");
    }
    assert_eq!(mock.requests().len(), 0, "nothing reaches a member");
}

fn reload_swaps_the_certificate_for_new_connections(driver: IoDriver) {
    let pki = Pki::new(&format!("reload-{driver:?}"));
    let (cert, key, first) = pki.issue("site", &["localhost"]);
    let mock = MockMember::respond(|_| Reply::ok("ok"));
    let cfg = common::single(driver, &mock);
    let (h, addrs) = start(cfg.clone(), vec![tls_listener(&cert, &key)]);
    let client = pki.client(tls13());
    let mut old = TlsClient::connect(addrs[1], client.clone(), "localhost");
    assert_eq!(old.leaf(), first);
    assert_eq!(old.get("/", "localhost").status, 200);

    // New files at the same paths, then a reload.
    let (_, _, second) = pki.issue("site", &["localhost"]);
    assert_ne!(first, second);
    let mut next = cfg.clone();
    next.listeners = vec![tls_listener(&cert, &key)];
    h.reload(next.clone())
        .expect("reload with a new certificate");
    // A client without a session to resume (a resumed session keeps its certificate).
    let mut fresh = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    assert_eq!(
        fresh.leaf(),
        second,
        "a new connection gets the new certificate"
    );
    assert_eq!(fresh.get("/", "localhost").status, 200);
    assert_eq!(
        old.get("/", "localhost").status,
        200,
        "the old connection still works"
    );

    // A broken certificate: the reload fails naming the file, and nothing changes.
    std::fs::write(
        &cert,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let err = h.reload(next).unwrap_err();
    assert!(err.contains(&cert.display().to_string()), "{err}");
    let mut after = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    assert_eq!(after.leaf(), second);
    assert_eq!(after.get("/", "localhost").status, 200);
    assert_eq!(old.get("/", "localhost").status, 200);
}

/// Tickets (TLS 1.2 session tickets, TLS 1.3 PSK): a client's next connection resumes,
/// whichever of two workers takes it, and after a reload too (one ticketer per process).
fn sessions_resume_on_every_worker_and_across_a_reload(driver: IoDriver) {
    let pki = Pki::new(&format!("resume-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::respond(|_| Reply::ok("ok"));
    let mut cfg = common::single(driver, &mock);
    cfg.workers = Some(2);
    let (h, addrs) = start(cfg.clone(), vec![tls_listener(&cert, &key)]);
    for versions in [tls12(), tls13()] {
        let client = pki.client(versions);
        let mut first = TlsClient::connect(addrs[1], client.clone(), "localhost");
        // The request lets the client read the ticket the server sends after the handshake.
        assert_eq!(first.get("/", "localhost").status, 200);
        assert_eq!(
            first.stream.conn.handshake_kind(),
            Some(HandshakeKind::Full)
        );
        // SO_REUSEPORT spreads connections by port: 8 of them reach both workers.
        for i in 0..8 {
            let mut next = TlsClient::connect(addrs[1], client.clone(), "localhost");
            assert_eq!(
                next.stream.conn.handshake_kind(),
                Some(HandshakeKind::Resumed),
                "{versions:?} connection {i}"
            );
            assert_eq!(next.get("/", "localhost").status, 200);
        }
        let mut reloaded = cfg.clone();
        reloaded.listeners = vec![tls_listener(&cert, &key)];
        h.reload(reloaded).unwrap();
        let mut after = TlsClient::connect(addrs[1], client, "localhost");
        assert_eq!(
            after.stream.conn.handshake_kind(),
            Some(HandshakeKind::Resumed),
            "{versions:?} after a reload"
        );
        assert_eq!(after.get("/", "localhost").status, 200);
    }
}

fn a_failed_handshake_just_closes(driver: IoDriver) {
    let pki = Pki::new(&format!("garbage-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::respond(|_| Reply::ok("ok"));
    let (_h, addrs) = start(
        common::single(driver, &mock),
        vec![tls_listener(&cert, &key)],
    );
    let before = ringlb::tls::handshake_failures();
    let mut tcp = TcpStream::connect(addrs[1]).unwrap();
    set_timeouts(&tcp);
    tcp.write_all(b"GET / HTTP/1.1\r\nHost: localhost\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    let _ = tcp.read_to_end(&mut rest); // an alert, then the close (or a reset)
    assert!(
        !String::from_utf8_lossy(&rest).contains("HTTP/1.1"),
        "answered in plain text"
    );
    assert!(common::poll_until(common::secs(5), || {
        ringlb::tls::handshake_failures() > before
    }));
    // The worker goes on serving.
    let mut c = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    assert_eq!(c.get("/", "localhost").status, 200);
    assert_eq!(mock.requests().len(), 1);
}

fn upgrade_tunnel_over_tls_carries_bytes_both_ways(driver: IoDriver) {
    // The member switches protocols, greets in the same write, then echoes every byte.
    let member = MockMember::raw(|conn| {
        let Some(_req) = conn.read_head()? else {
            return Ok(());
        };
        conn.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\nhi!",
        )?;
        loop {
            let data = conn.read_some()?;
            if data.is_empty() {
                conn.shutdown();
                return Ok(());
            }
            conn.write_all(&data)?;
        }
    });
    let pki = Pki::new(&format!("upgrade-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let (_h, addrs) = start(
        common::single(driver, &member),
        vec![tls_listener(&cert, &key)],
    );
    let mut c = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    let req =
        "GET /ws HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n";
    c.stream.write_all(req.as_bytes()).unwrap();
    let resp = read_response(&mut c.stream, &mut c.buf);
    assert_eq!(resp.status, 101);
    let mut echoed = std::mem::take(&mut c.buf);
    while echoed.len() < 3 {
        read_more(&mut c.stream, &mut echoed);
    }
    assert_eq!(&echoed[..], b"hi!", "bytes sent with the 101 head");
    for msg in [
        &b"first frame"[..],
        &[0u8, 0x81, 0xff, 13, 10, 13, 10],
        &[b'x'; 64 * 1024],
    ] {
        echoed.clear();
        c.stream.write_all(msg).unwrap();
        while echoed.len() < msg.len() {
            read_more(&mut c.stream, &mut echoed);
        }
        assert!(
            echoed == msg,
            "echo through the TLS tunnel ({} bytes)",
            echoed.len()
        );
    }
    // The client ends its side: the member sees the end, the tunnel closes.
    c.stream.conn.send_close_notify();
    c.stream.flush().unwrap();
    c.stream.sock.shutdown(std::net::Shutdown::Write).unwrap();
    let mut rest = Vec::new();
    c.stream
        .read_to_end(&mut rest)
        .expect("closed by the proxy: close_notify, then FIN");
    assert!(rest.is_empty(), "{rest:?}");
    assert_eq!(member.requests().len(), 1);
}

fn idle_tls_tunnel_is_closed(driver: IoDriver) {
    let member = MockMember::raw(|conn| {
        if conn.read_head()?.is_some() {
            conn.write_all(
                b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\nConnection: Upgrade\r\n\r\n",
            )?;
            conn.wait_for_close();
        }
        Ok(())
    });
    let pki = Pki::new(&format!("idle-tunnel-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mut cfg = common::single(driver, &member);
    cfg.timeouts.tunnel_idle = common::millis(300);
    let (_h, addrs) = start(cfg, vec![tls_listener(&cert, &key)]);
    let mut c = TlsClient::connect(addrs[1], pki.client(tls13()), "localhost");
    let req = "GET / HTTP/1.1\r\nHost: localhost\r\nConnection: Upgrade\r\nUpgrade: x\r\n\r\n";
    c.stream.write_all(req.as_bytes()).unwrap();
    assert_eq!(read_response(&mut c.stream, &mut c.buf).status, 101);
    let started = std::time::Instant::now();
    let mut rest = Vec::new();
    c.stream
        .read_to_end(&mut rest)
        .expect("the idle tunnel is closed");
    assert!(
        started.elapsed() < common::secs(5),
        "closed after {:?}",
        started.elapsed()
    );
}

fn large_bodies_both_ways_over_tls(driver: IoDriver) {
    let pki = Pki::new(&format!("bodies-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::echo();
    let (_h, addrs) = start(
        common::single(driver, &mock),
        vec![tls_listener(&cert, &key)],
    );
    let mut c = TlsClient::connect(addrs[1], pki.client(tls12()), "localhost");
    let mut body = vec![0u8; 1024 * 1024 + 17];
    common::Noise::new(7).fill(&mut body);
    // A length-delimited body, then a chunked one, on the same connection.
    let head = format!(
        "POST /up HTTP/1.1\r\nHost: localhost\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    c.stream.write_all(head.as_bytes()).unwrap();
    c.stream.write_all(&body).unwrap();
    let resp = read_response(&mut c.stream, &mut c.buf);
    assert_eq!(resp.status, 200);
    assert!(
        resp.body == body,
        "echoed body differs ({} bytes)",
        resp.body.len()
    );
    let part = &body[..300_000];
    c.stream
        .write_all(b"POST /up HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n")
        .unwrap();
    for chunk in part.chunks(70_000) {
        c.stream
            .write_all(format!("{:x}\r\n", chunk.len()).as_bytes())
            .unwrap();
        c.stream.write_all(chunk).unwrap();
        c.stream.write_all(b"\r\n").unwrap();
    }
    c.stream.write_all(b"0\r\n\r\n").unwrap();
    let resp = read_response(&mut c.stream, &mut c.buf);
    assert_eq!(resp.status, 200);
    assert!(resp.body == part, "echoed chunked body differs");
}

/// `check` and `run` refuse a config whose certificate is bad, with the same message naming
/// the file.
#[test]
fn bad_certificate_is_refused_by_check_and_run_alike() {
    let pki = Pki::new("check-run");
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let (_, other_key, _) = pki.issue("other", &["other.test"]);
    let garbage = pki.dir.join("garbage.crt");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    for (c, k, needles) in [
        (
            &garbage,
            &key,
            vec![garbage.display().to_string(), "listener[0].cert".into()],
        ),
        (
            &cert,
            &other_key,
            vec![other_key.display().to_string(), "does not match".into()],
        ),
    ] {
        let config = pki.dir.join("ringlb.toml");
        let text = format!(
            "workers = 1\n[[listener]]\naddress = \"127.0.0.1:0\"\ncert = {c:?}\nkey = {k:?}\n\
             [[balancer]]\nname = \"b\"\nmount = \"/\"\n[[balancer.member]]\n\
             url = \"http://127.0.0.1:9\"\n"
        );
        std::fs::write(&config, text).unwrap();
        check_and_run_refuse(&config, &needles);
    }
}

/// Idle TLS keep-alive connections that each completed a handshake and one request.
const IDLE_CONNS: u64 = 400;
/// What each may add to ringlb's anonymous RSS. Measured with this test (debug build, 2-core
/// VM): 12 to 13.5 KiB, the connection's task and rustls's state with its 4 KiB record
/// buffer; with one more buffer kept per connection (a full TLS record, a read buffer not let
/// go), 20 KiB for an 8 KiB one and 27.5 KiB for a 16 KiB one.
const IDLE_RSS_PER_CONN: u64 = 18 * 1024;

/// An idle TLS connection holds its socket and rustls's state, no large buffer (README, TLS):
/// `IDLE_CONNS` more of them grow a `ringlb run` process's `RssAnon` by less than
/// `IDLE_RSS_PER_CONN` each. A process of its own, so that nothing else in this test binary
/// counts; warm-up connections stay open, so the reading before holds what the first
/// connections allocate once (rustls, the allocator's first pages, the member connection).
fn idle_tls_connections_hold_no_large_buffers(driver: IoDriver) {
    // Both drivers' variants hold their connections at once in this process.
    let _ = ringlb::rlimit::raise_open_files();
    let pki = Pki::new(&format!("idle-rss-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mock = MockMember::respond(|_| Reply::ok("hello"));
    let io_driver = match driver {
        IoDriver::IoUring => "io_uring",
        _ => "epoll",
    };
    let config = pki.dir.join("idle-rss.toml");
    let text = format!(
        "workers = 1\nio_driver = \"{io_driver}\"\n\n[[listener]]\naddress = \"127.0.0.1:0\"\n\
         cert = {cert:?}\nkey = {key:?}\n\n[timeouts]\nkeepalive_idle = 120\n\n\
         [[balancer]]\nname = \"cluster\"\n\n[[balancer.member]]\nurl = \"http://{}\"\n",
        mock.addr(),
        cert = cert.display().to_string(),
        key = key.display().to_string(),
    );
    std::fs::write(&config, text).unwrap();
    // Without transparent huge pages for mimalloc's arena: with them RSS moves in 2 MiB
    // steps, 5 KiB per connection here, and the reading says more about the kernel than ringlb.
    let ringlb = Process::start(
        Command::new(RINGLB)
            .env("MIMALLOC_ALLOW_THP", "0")
            .arg("run")
            .arg("-c")
            .arg(&config),
    );
    let (line, _) = ringlb.wait_for("listening on https://");
    let addr: SocketAddr = (line.split("https://").nth(1))
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));
    let client = pki.client(tls13());
    let open = |n: u64| -> Vec<TlsClient> {
        (0..n)
            .map(|_| {
                let mut c = TlsClient::connect(addr, client.clone(), "localhost");
                assert_eq!(c.get("/", "localhost").body, b"hello");
                c
            })
            .collect()
    };
    let _warm = open(20);
    let before = rss_anon_bytes_of(ringlb.pid());
    let _idle = open(IDLE_CONNS);
    // Every answer has been read; the proxy may still be freeing what it wrote them with.
    let mut per_conn = 0;
    let settled = poll_until(common::secs(5), || {
        per_conn = rss_anon_bytes_of(ringlb.pid()).saturating_sub(before) / IDLE_CONNS;
        per_conn < IDLE_RSS_PER_CONN
    });
    eprintln!("{driver:?}: {per_conn} bytes of anonymous RSS per idle TLS connection");
    assert!(
        settled,
        "{IDLE_CONNS} idle TLS connections grew ringlb's anonymous RSS by {per_conn} bytes each \
         (limit {IDLE_RSS_PER_CONN})"
    );
}
