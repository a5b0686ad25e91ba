//! What a `[[listener]]` believes about its clients and tells members, end to end: a PROXY
//! protocol header read before the TLS handshake (`proxy_protocol`, per listener, both ways
//! from the top-level default), the `X-SSL-*` request headers (`ssl_headers`) in the form
//! Tomcat's `SSLValve` parses, clients' own `X-SSL-*` removed everywhere, and client
//! certificate verification (`client_ca`, `client_verify`), including sessions resumed from
//! another listener and a bad CA file at `check` and reload. The member's headers and the
//! access log's `%h` are the witnesses.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::Write;
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;

use ringlb::config::{AccessTarget, ClientAuth, ClientVerify, Config, IoDriver, ListenerConfig};
use ringlb::proxy_protocol::V2_SIGNATURE;
use ringlb::server::{self, ServerHandle};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::{CipherSuite, ClientConfig, HandshakeKind};

use common::process::run_to_end;
use common::tls::{tls12, tls13, tls_listener, ClientCert, Pki, Resp, TlsClient};
use common::{poll_until, raw_exchange, secs, set_timeouts, MockMember, Reply};

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

both_drivers!(
    proxy_header_before_the_handshake_names_the_client,
    proxy_header_on_a_listener_without_proxy_protocol_fails_the_handshake,
    listener_proxy_protocol_overrides_the_default_both_ways,
    ssl_headers_describe_the_connection,
    clients_never_forward_tls_facts_of_their_own,
    required_client_certificate,
    optional_client_certificate,
    a_session_from_another_listener_does_not_skip_the_certificate_check,
);

/// A proxy with one plain `listen` address and `listeners`, the access log (`%h %U`) in a
/// fresh file.
struct Setup {
    _proxy: ServerHandle,
    addrs: Vec<SocketAddr>,
    log: PathBuf,
}

impl Setup {
    fn new(mut cfg: Config, name: &str, listeners: Vec<ListenerConfig>, driver: IoDriver) -> Setup {
        let log = std::env::temp_dir().join(format!(
            "ringlb-tlstrust-{name}-{}-{driver:?}.log",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&log);
        cfg.ops.log.access = Some(AccessTarget::File(log.clone()));
        cfg.ops.log.access_format = "%h %U".into();
        cfg.listeners = listeners;
        let proxy = server::start(Arc::new(cfg)).expect("ringlb starts");
        let addrs = proxy.local_addrs().to_vec();
        Setup {
            _proxy: proxy,
            addrs,
            log,
        }
    }

    /// Waits for `n` access log lines and returns them.
    fn log_lines(&self, n: usize) -> Vec<String> {
        common::wait_for_lines(&self.log, n)
    }
}

impl Drop for Setup {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.log);
    }
}

/// A member that answers every request with its path.
fn echo_path() -> MockMember {
    MockMember::respond(|req| Reply::ok(req.path.clone()))
}

/// A v2 PROXY header for a TCP over IPv4 source `a.b.c.d:port`.
fn v2_tcp4(source: [u8; 4], port: u16) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.extend_from_slice(&[0x21, 0x11, 0, 12]);
    out.extend_from_slice(&source);
    out.extend_from_slice(&[198, 51, 100, 1]);
    out.extend_from_slice(&port.to_be_bytes());
    out.extend_from_slice(&443u16.to_be_bytes());
    out
}

/// The one value of `name` in the member's request number `i`.
fn only(m: &MockMember, i: usize, name: &str) -> String {
    let seen = m.requests();
    let values = seen[i].headers_named(name);
    assert_eq!(values.len(), 1, "one {name}: {values:?}");
    values[0].to_owned()
}

fn proxy_header_before_the_handshake_names_the_client(driver: IoDriver) {
    let pki = Pki::new(&format!("pp-tls-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let mut listener = tls_listener(&cert, &key);
    listener.proxy_protocol = true;
    let s = Setup::new(common::single(driver, &m), "pp", vec![listener], driver);
    // v1 in the same write as the ClientHello (TLS 1.3), two requests on the connection.
    let v1 = b"PROXY TCP4 203.0.113.9 198.51.100.1 56324 443\r\n";
    let mut c = TlsClient::try_connect(s.addrs[1], pki.client(tls13()), "localhost", v1)
        .expect("handshake after a v1 header");
    assert_eq!(c.get("/v1", "localhost").status, 200);
    assert_eq!(c.get("/v1", "localhost").status, 200);
    // v2 in a write of its own, the handshake (TLS 1.2) after it.
    let mut tcp = TcpStream::connect(s.addrs[1]).unwrap();
    set_timeouts(&tcp);
    tcp.write_all(&v2_tcp4([192, 0, 2, 77], 50000)).unwrap();
    let mut c2 = TlsClient::handshake(tcp, pki.client(tls12()), "localhost", b"")
        .expect("handshake after a v2 header");
    assert_eq!(c2.get("/v2", "localhost").status, 200);
    assert_eq!(only(&m, 0, "x-forwarded-for"), "203.0.113.9");
    assert_eq!(only(&m, 1, "x-forwarded-for"), "203.0.113.9");
    assert_eq!(only(&m, 2, "x-forwarded-for"), "192.0.2.77");
    assert_eq!(only(&m, 2, "x-forwarded-proto"), "https");
    assert_eq!(
        s.log_lines(3),
        ["203.0.113.9 /v1", "203.0.113.9 /v1", "192.0.2.77 /v2"]
    );
    // A TLS client without the header is closed before any TLS, as a plain one would be.
    let direct = TlsClient::try_connect(s.addrs[1], pki.client(tls13()), "localhost", b"");
    assert!(direct.is_err(), "handshake without a PROXY header");
    assert_eq!(m.requests().len(), 3);
}

fn proxy_header_on_a_listener_without_proxy_protocol_fails_the_handshake(driver: IoDriver) {
    let pki = Pki::new(&format!("pp-off-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let s = Setup::new(
        common::single(driver, &m),
        "ppoff",
        vec![tls_listener(&cert, &key)],
        driver,
    );
    let before = ringlb::tls::handshake_failures();
    for header in [
        b"PROXY TCP4 203.0.113.9 198.51.100.1 1 443\r\n".to_vec(),
        v2_tcp4([192, 0, 2, 1], 1),
    ] {
        let got = TlsClient::try_connect(s.addrs[1], pki.client(tls13()), "localhost", &header);
        assert!(got.is_err(), "handshake succeeded after a PROXY header");
    }
    assert!(poll_until(secs(5), || {
        ringlb::tls::handshake_failures() >= before + 2
    }));
    let mut c = TlsClient::connect(s.addrs[1], pki.client(tls13()), "localhost");
    assert_eq!(c.get("/", "localhost").status, 200);
    assert_eq!(m.requests().len(), 1, "nothing else reached the member");
}

fn listener_proxy_protocol_overrides_the_default_both_ways(driver: IoDriver) {
    let pki = Pki::new(&format!("pp-override-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let header = b"PROXY TCP4 203.0.113.5 198.51.100.1 1 80\r\n";
    let get = b"GET /x HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
    let with_header = [&header[..], get].concat();
    let plain = |proxy_protocol| ListenerConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        tls: None,
        hsts: None,
        redirect_https: false,
        proxy_protocol,
    };
    // The default on: `listen` wants the header, listeners that turn it off do not.
    let mut cfg = common::single(driver, &m);
    cfg.trust.proxy_protocol = true;
    let tls = tls_listener(&cert, &key);
    let s = Setup::new(cfg, "ppon", vec![plain(false), tls], driver);
    assert_eq!(raw_exchange(s.addrs[0], get), b"", "listen wants a header");
    assert!(raw_exchange(s.addrs[0], &with_header).starts_with(b"HTTP/1.1 200"));
    assert!(raw_exchange(s.addrs[1], get).starts_with(b"HTTP/1.1 200"));
    let mut c = TlsClient::connect(s.addrs[2], pki.client(tls13()), "localhost");
    assert_eq!(c.get("/x", "localhost").status, 200);
    let seen = m.requests();
    assert_eq!(seen[0].headers_named("x-forwarded-for"), ["203.0.113.5"]);
    assert_eq!(seen[1].headers_named("x-forwarded-for"), ["127.0.0.1"]);
    assert_eq!(seen[2].headers_named("x-forwarded-for"), ["127.0.0.1"]);
    drop(s);
    // The default off: only the listeners that turn it on want it.
    let mut tls = tls_listener(&cert, &key);
    tls.proxy_protocol = true;
    let s = Setup::new(
        common::single(driver, &m),
        "ppoff2",
        vec![plain(true), tls],
        driver,
    );
    assert!(raw_exchange(s.addrs[0], get).starts_with(b"HTTP/1.1 200"));
    assert_eq!(
        raw_exchange(s.addrs[1], get),
        b"",
        "the listener wants a header"
    );
    assert!(raw_exchange(s.addrs[1], &with_header).starts_with(b"HTTP/1.1 200"));
    let mut c = TlsClient::try_connect(s.addrs[2], pki.client(tls13()), "localhost", header)
        .expect("handshake after the header");
    assert_eq!(c.get("/x", "localhost").status, 200);
    assert_eq!(
        s.log_lines(3),
        ["127.0.0.1 /x", "203.0.113.5 /x", "203.0.113.5 /x"]
    );
}

/// A client of `pki` that offers only `suite` (TLS 1.2 or 1.3, as the suite is).
fn client_offering(pki: &Pki, suite: CipherSuite) -> Arc<ClientConfig> {
    let mut provider = rustls::crypto::ring::default_provider();
    provider.cipher_suites.retain(|s| s.suite() == suite);
    assert_eq!(provider.cipher_suites.len(), 1, "{suite:?}");
    let version = provider.cipher_suites[0].version();
    let cfg = ClientConfig::builder_with_provider(Arc::new(provider))
        .with_protocol_versions(&[version])
        .unwrap()
        .with_root_certificates(pki.roots())
        .with_no_client_auth();
    Arc::new(cfg)
}

fn ssl_headers_describe_the_connection(driver: IoDriver) {
    let pki = Pki::new(&format!("facts-{driver:?}"));
    // rcgen's default key is ECDSA P-256: the TLS 1.2 suites are ECDHE-ECDSA ones.
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let mut listener = tls_listener(&cert, &key);
    if let Some(t) = listener.tls.as_mut() {
        t.ssl_headers = true;
    }
    let s = Setup::new(common::single(driver, &m), "facts", vec![listener], driver);
    let cases = [
        (
            CipherSuite::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            "TLSv1.2",
            "ECDHE-ECDSA-AES128-GCM-SHA256",
            "128",
        ),
        (
            CipherSuite::TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
            "TLSv1.2",
            "ECDHE-ECDSA-CHACHA20-POLY1305",
            "256",
        ),
        (
            CipherSuite::TLS13_AES_128_GCM_SHA256,
            "TLSv1.3",
            "TLS_AES_128_GCM_SHA256",
            "128",
        ),
        (
            CipherSuite::TLS13_AES_256_GCM_SHA384,
            "TLSv1.3",
            "TLS_AES_256_GCM_SHA384",
            "256",
        ),
    ];
    for (i, (suite, protocol, cipher, bits)) in cases.into_iter().enumerate() {
        let mut c = TlsClient::connect(s.addrs[1], client_offering(&pki, suite), "localhost");
        // Twice on one connection: the values are the connection's, every request gets them.
        for j in 0..2 {
            assert_eq!(c.get("/", "localhost").status, 200);
            let n = 2 * i + j;
            assert_eq!(only(&m, n, "x-ssl-protocol"), protocol, "{suite:?}");
            assert_eq!(only(&m, n, "x-ssl-cipher"), cipher, "{suite:?}");
            assert_eq!(only(&m, n, "x-ssl-cipher-usekeysize"), bits, "{suite:?}");
            let seen = m.requests();
            assert!(!seen[n].has_header("x-ssl-client-cert"), "no client_ca");
            assert!(!seen[n].has_header("x-ssl-session-id"));
        }
    }
    // The plain listener of the same proxy says nothing about TLS.
    assert!(raw_exchange(
        s.addrs[0],
        b"GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n"
    )
    .starts_with(b"HTTP/1.1 200"));
    let seen = m.requests();
    let last = seen.last().unwrap();
    assert!(!last.has_header("x-ssl-protocol") && !last.has_header("x-ssl-cipher"));
}

/// Forged TLS facts, in ringlb's names and in `SSLValve`'s default ones.
const FORGED: &str =
    "X-SSL-Client-Cert: -----BEGIN CERTIFICATE----- AAAA -----END CERTIFICATE-----\r\n\
                      X-SSL-Cipher: NULL-MD5\r\nssl_client_cert: forged\r\n\
                      SSL_CIPHER_USEKEYSIZE: 4096\r\nX-Other: kept\r\n";

/// The member's request `i` has no TLS facts field but ringlb's own `own` ones.
fn assert_no_forged(m: &MockMember, i: usize, own: &[&str]) {
    let seen = m.requests();
    let r = &seen[i];
    assert_eq!(r.headers_named("x-other"), ["kept"]);
    for name in [
        "x-ssl-client-cert",
        "x-ssl-cipher",
        "ssl_client_cert",
        "ssl_cipher_usekeysize",
        "x-ssl-protocol",
    ] {
        let values = r.headers_named(name);
        let want = usize::from(own.contains(&name));
        assert_eq!(values.len(), want, "{name}: {values:?}");
        assert!(!values
            .iter()
            .any(|v| v.contains("AAAA") || *v == "NULL-MD5"));
    }
}

fn clients_never_forward_tls_facts_of_their_own(driver: IoDriver) {
    let pki = Pki::new(&format!("forged-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let mut with_facts = tls_listener(&cert, &key);
    if let Some(t) = with_facts.tls.as_mut() {
        t.ssl_headers = true;
    }
    // Even a trusted proxy's TLS facts are not believed.
    let mut cfg = common::single(driver, &m);
    cfg.trust.trusted_proxies = vec!["127.0.0.0/8".parse().unwrap()];
    let listeners = vec![tls_listener(&cert, &key), with_facts];
    let s = Setup::new(cfg, "forged", listeners, driver);
    let req = format!("GET / HTTP/1.1\r\nHost: a\r\n{FORGED}Connection: close\r\n\r\n");
    assert!(raw_exchange(s.addrs[0], req.as_bytes()).starts_with(b"HTTP/1.1 200"));
    assert_no_forged(&m, 0, &[]);
    for (i, addr) in [s.addrs[1], s.addrs[2]].into_iter().enumerate() {
        let mut c = TlsClient::connect(addr, pki.client(tls13()), "localhost");
        let resp = c.try_request("/", "localhost", FORGED).unwrap();
        assert_eq!(resp.status, 200);
        let own: &[&str] = if i == 0 {
            &[]
        } else {
            &["x-ssl-cipher", "x-ssl-protocol"]
        };
        assert_no_forged(&m, i + 1, own);
    }
}

/// A TLS listener with `ssl_headers` checking client certificates against `ca`.
fn verifying_listener(pki: &Pki, ca: PathBuf, verify: ClientVerify) -> ListenerConfig {
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let mut l = tls_listener(&cert, &key);
    if let Some(t) = l.tls.as_mut() {
        t.ssl_headers = true;
        t.client_auth = Some(ClientAuth { ca, verify });
    }
    l
}

/// Handshake and one request; `Err` if either fails (with TLS 1.3 a refused client
/// certificate shows only at the first read).
fn exchange(addr: SocketAddr, config: Arc<ClientConfig>) -> std::io::Result<(TlsClient, Resp)> {
    let mut c = TlsClient::try_connect(addr, config, "localhost", b"")?;
    let resp = c.try_get("/", "localhost")?;
    Ok((c, resp))
}

/// `X-SSL-Client-Cert` turned back into a certificate the way Tomcat's `SSLValve` does it
/// (the older algorithm: spaces to line breaks, the markers cut off and put back), as DER.
fn sslvalve_parse(value: &str) -> Vec<u8> {
    assert!(!value.contains('\n') && !value.contains('\r'), "{value}");
    let spaced = value.replace(' ', "\n");
    let body = &spaced[28..spaced.len() - 26];
    let pem = format!("-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n");
    CertificateDer::from_pem_slice(pem.as_bytes())
        .unwrap_or_else(|e| panic!("{e:?}: {pem}"))
        .to_vec()
}

/// The member's last request's client certificate, as DER; `None` without the header.
fn member_client_cert(m: &MockMember) -> Option<Vec<u8>> {
    let seen = m.requests();
    let last = seen.last()?;
    last.header("x-ssl-client-cert").map(sslvalve_parse)
}

fn required_client_certificate(driver: IoDriver) {
    let pki = Pki::new(&format!("required-{driver:?}"));
    let other = Pki::new(&format!("required-other-{driver:?}"));
    let m = echo_path();
    let listener = verifying_listener(&pki, pki.ca_path(), ClientVerify::Required);
    let s = Setup::new(
        common::single(driver, &m),
        "required",
        vec![listener],
        driver,
    );
    let alice = pki.issue_client("alice");
    let mallory = other.issue_client("mallory");
    for versions in [tls12(), tls13()] {
        let none = exchange(s.addrs[1], pki.client(versions));
        assert!(none.is_err(), "{versions:?}: served without a certificate");
        let foreign = exchange(s.addrs[1], pki.client_with(versions, &mallory));
        assert!(foreign.is_err(), "{versions:?}: served another CA's client");
        let before = m.requests().len();
        let (_c, resp) = exchange(s.addrs[1], pki.client_with(versions, &alice)).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(m.requests().len(), before + 1);
        assert_eq!(
            member_client_cert(&m),
            Some(alice.leaf.clone()),
            "{versions:?}"
        );
    }
    assert_eq!(
        m.requests().len(),
        2,
        "only alice's requests reached the member"
    );
    curl_client_certificate(&pki, &alice, s.addrs[1]);
}

/// The real curl with and without `--cert` (skipped without curl).
fn curl_client_certificate(pki: &Pki, cert: &ClientCert, addr: SocketAddr) {
    let url = format!("https://localhost:{}/curl", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let curl = |with_cert: bool| {
        let mut cmd = Command::new("curl");
        cmd.args(["-sS", "--max-time", "10", "--cacert"])
            .arg(pki.ca_path())
            .args(["--resolve", &resolve]);
        if with_cert {
            cmd.arg("--cert")
                .arg(&cert.cert_path)
                .arg("--key")
                .arg(&cert.key_path);
        }
        cmd.arg(&url).output()
    };
    let Ok(out) = curl(true) else {
        eprintln!("curl not found: skipping the curl client certificate");
        return;
    };
    assert!(
        out.status.success(),
        "curl --cert: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, b"/curl");
    let out = curl(false).unwrap();
    assert!(
        !out.status.success(),
        "curl without a certificate was served"
    );
}

fn optional_client_certificate(driver: IoDriver) {
    let pki = Pki::new(&format!("optional-{driver:?}"));
    let other = Pki::new(&format!("optional-other-{driver:?}"));
    let m = echo_path();
    let listener = verifying_listener(&pki, pki.ca_path(), ClientVerify::Optional);
    let s = Setup::new(
        common::single(driver, &m),
        "optional",
        vec![listener],
        driver,
    );
    let bob = pki.issue_client("bob");
    let mallory = other.issue_client("mallory");
    for versions in [tls12(), tls13()] {
        let (_c, resp) = exchange(s.addrs[1], pki.client(versions)).unwrap();
        assert_eq!(resp.status, 200, "{versions:?} without a certificate");
        assert_eq!(member_client_cert(&m), None);
        let (_c, resp) = exchange(s.addrs[1], pki.client_with(versions, &bob)).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(
            member_client_cert(&m),
            Some(bob.leaf.clone()),
            "{versions:?}"
        );
        let foreign = exchange(s.addrs[1], pki.client_with(versions, &mallory));
        assert!(
            foreign.is_err(),
            "{versions:?}: a certificate that fails is refused"
        );
    }
    assert_eq!(m.requests().len(), 4);
}

/// A session made on a listener that asks for no certificate must not resume on one that
/// requires one; a session made there resumes there, with its client certificate.
fn a_session_from_another_listener_does_not_skip_the_certificate_check(driver: IoDriver) {
    let pki = Pki::new(&format!("resume-auth-{driver:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let m = echo_path();
    let open = tls_listener(&cert, &key);
    let checked = verifying_listener(&pki, pki.ca_path(), ClientVerify::Required);
    let s = Setup::new(
        common::single(driver, &m),
        "resume",
        vec![open, checked],
        driver,
    );
    for (i, versions) in [tls12(), tls13()].into_iter().enumerate() {
        // One client config: its session store carries the ticket to the next connection.
        let anonymous = pki.client(versions);
        let (first, resp) = exchange(s.addrs[1], anonymous.clone()).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(
            first.stream.conn.handshake_kind(),
            Some(HandshakeKind::Full)
        );
        let (again, _) = exchange(s.addrs[1], anonymous.clone()).unwrap();
        assert_eq!(
            again.stream.conn.handshake_kind(),
            Some(HandshakeKind::Resumed),
            "{versions:?}: the open listener resumes its sessions"
        );
        let skipped = exchange(s.addrs[2], anonymous);
        assert!(
            skipped.is_err(),
            "{versions:?}: resumed past the certificate check"
        );

        let carol = pki.issue_client(&format!("carol{i}"));
        let with_cert = pki.client_with(versions, &carol);
        let (first, _) = exchange(s.addrs[2], with_cert.clone()).unwrap();
        assert_eq!(
            first.stream.conn.handshake_kind(),
            Some(HandshakeKind::Full)
        );
        let (resumed, resp) = exchange(s.addrs[2], with_cert).unwrap();
        assert_eq!(resp.status, 200);
        assert_eq!(
            resumed.stream.conn.handshake_kind(),
            Some(HandshakeKind::Resumed),
            "{versions:?}: the checking listener resumes its own sessions"
        );
        assert_eq!(
            member_client_cert(&m),
            Some(carol.leaf.clone()),
            "after resumption"
        );
    }
}

/// A missing or broken `client_ca` file: `check` and `run` refuse it with the same message
/// naming the key and the file, and a reload to it fails and changes nothing.
#[test]
fn bad_client_ca_is_refused_by_check_run_and_reload() {
    let pki = Pki::new("bad-ca");
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let missing = pki.dir.join("missing-ca.pem");
    let garbage = pki.dir.join("garbage-ca.pem");
    std::fs::write(
        &garbage,
        "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    .unwrap();
    let empty = pki.dir.join("empty-ca.pem");
    std::fs::write(&empty, "no PEM here\n").unwrap();
    for (ca, needle) in [
        (&missing, "No such file"),
        (&garbage, "not a usable CA certificate"),
        (&empty, "no certificate found"),
    ] {
        let config = pki.dir.join("ringlb.toml");
        let text = format!(
            "workers = 1\n[[listener]]\naddress = \"127.0.0.1:0\"\ncert = {cert:?}\n\
             key = {key:?}\nclient_ca = {ca:?}\n[[balancer]]\nname = \"b\"\nmount = \"/\"\n\
             [[balancer.member]]\nurl = \"http://127.0.0.1:9\"\n"
        );
        std::fs::write(&config, text).unwrap();
        let check = run_to_end(Command::new(RINGLB).arg("check").arg("-c").arg(&config));
        let run = run_to_end(Command::new(RINGLB).arg("run").arg("-c").arg(&config));
        assert!(!check.0, "check accepted {}", ca.display());
        assert!(!run.0, "run started with {}", ca.display());
        assert_eq!(check.1, run.1, "check and run say different things");
        for want in ["listener[0].client_ca", &ca.display().to_string(), needle] {
            assert!(check.1.contains(want), "no {want:?} in {}", check.1);
        }
    }
    // A reload to a missing CA file fails; the running listener keeps serving.
    let m = echo_path();
    let mut cfg = common::single(IoDriver::Epoll, &m);
    let good = verifying_listener(&pki, pki.ca_path(), ClientVerify::Required);
    cfg.listeners = vec![good];
    let proxy = server::start(Arc::new(cfg.clone())).expect("ringlb starts");
    let addr = proxy.local_addrs()[1];
    let mut bad = cfg.clone();
    bad.listeners = vec![verifying_listener(
        &pki,
        missing.clone(),
        ClientVerify::Required,
    )];
    let err = proxy.reload(bad).unwrap_err();
    assert!(err.contains(&missing.display().to_string()), "{err}");
    assert!(err.contains("listener[0].client_ca"), "{err}");
    let dave = pki.issue_client("dave");
    let (_c, resp) = exchange(addr, pki.client_with(tls13(), &dave)).unwrap();
    assert_eq!(resp.status, 200);
    assert!(
        exchange(addr, pki.client(tls13())).is_err(),
        "still required"
    );
}
