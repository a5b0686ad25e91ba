//! TLS test helpers: a test CA made with rcgen ([`Pki`]) issuing server and client
//! certificates into a temporary directory, rustls client configurations trusting it, a
//! blocking rustls client connection with the raw HTTP/1.1 exchange on it ([`TlsClient`]),
//! and [`tls_listener`], a `[[listener]]` that terminates TLS with a given pair.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair};
use ringlb::config::{ListenerConfig, TlsConfig, DEFAULT_ALPN, DEFAULT_PROTOCOLS};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer, ServerName};
use rustls::{ClientConfig, ClientConnection, RootCertStore, StreamOwned};

use super::set_timeouts;

/// A leaf certificate issued by a [`Pki`]: its files and its DER forms.
pub(crate) struct Leaf {
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key_der: Vec<u8>,
}

/// A test CA and the directory its files go to.
pub(crate) struct Pki {
    pub(crate) dir: PathBuf,
    pub(crate) ca: rcgen::Certificate,
    ca_key: KeyPair,
}

/// A client certificate [`Pki::issue_client`] made: the chain for rustls, its key, the leaf's
/// DER, and the PEM files (for curl).
pub(crate) struct ClientCert {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    key: Vec<u8>,
    pub(crate) leaf: Vec<u8>,
    pub(crate) cert_path: PathBuf,
    pub(crate) key_path: PathBuf,
}

impl ClientCert {
    pub(crate) fn key(&self) -> PrivateKeyDer<'static> {
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(self.key.clone()))
    }
}

impl Pki {
    /// A fresh CA named `name` in `$TMP/ringlb-tls-<pid>-<name>/ca.pem`.
    pub(crate) fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("ringlb-tls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, format!("ringlb test CA {name}"));
        let ca = params.self_signed(&ca_key).unwrap();
        std::fs::write(dir.join("ca.pem"), ca.pem()).unwrap();
        Pki { dir, ca, ca_key }
    }

    pub(crate) fn ca_path(&self) -> PathBuf {
        self.dir.join("ca.pem")
    }

    /// Issues a leaf certificate for `names` into `stem.crt` (leaf then CA: a chain) and
    /// `stem.key`; returns the paths and the leaf's DER.
    pub(crate) fn issue(&self, stem: &str, names: &[&str]) -> (PathBuf, PathBuf, Vec<u8>) {
        let leaf = self.issue_leaf(stem, names);
        let der = leaf.chain[0].to_vec();
        (leaf.cert_path, leaf.key_path, der)
    }

    /// Like [`Pki::issue`], with the chain and key in DER too (names may be IP addresses).
    pub(crate) fn issue_leaf(&self, stem: &str, names: &[&str]) -> Leaf {
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, stem);
        let leaf = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let cert_path = self.dir.join(format!("{stem}.crt"));
        let key_path = self.dir.join(format!("{stem}.key"));
        std::fs::write(&cert_path, format!("{}{}", leaf.pem(), self.ca.pem())).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        Leaf {
            cert_path,
            key_path,
            chain: vec![leaf.der().clone(), self.ca.der().clone()],
            key_der: key.serialize_der(),
        }
    }

    pub(crate) fn ca_der(&self) -> CertificateDer<'static> {
        self.ca.der().clone()
    }

    /// Issues a client certificate (extended key usage clientAuth) with common name `cn`.
    pub(crate) fn issue_client(&self, cn: &str) -> ClientCert {
        let key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.distinguished_name.push(DnType::CommonName, cn);
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let leaf = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let (cert_path, key_path) = (
            self.dir.join(format!("client-{cn}.crt")),
            self.dir.join(format!("client-{cn}.key")),
        );
        std::fs::write(&cert_path, leaf.pem()).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        ClientCert {
            chain: vec![CertificateDer::from(leaf.der().to_vec())],
            key: key.serialize_der(),
            leaf: leaf.der().to_vec(),
            cert_path,
            key_path,
        }
    }

    /// A root store holding this CA.
    pub(crate) fn roots(&self) -> RootCertStore {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca.der().to_vec()))
            .unwrap();
        roots
    }

    /// A client trusting this CA, offering `http/1.1` (these tests speak HTTP/1.1 on the
    /// connection; tests/http2.rs offers `h2`), without a certificate.
    pub(crate) fn client(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut cfg = client_builder(versions)
            .with_root_certificates(self.roots())
            .with_no_client_auth();
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(cfg)
    }

    /// A client trusting this CA that presents `cert` when asked for one.
    pub(crate) fn client_with(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
        cert: &ClientCert,
    ) -> Arc<ClientConfig> {
        let cfg = client_builder(versions)
            .with_root_certificates(self.roots())
            .with_client_auth_cert(cert.chain.clone(), cert.key())
            .unwrap();
        Arc::new(cfg)
    }
}

fn client_builder(
    versions: &[&'static rustls::SupportedProtocolVersion],
) -> rustls::ConfigBuilder<ClientConfig, rustls::WantsVerifier> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(versions)
        .unwrap()
}

/// A TLS `[[listener]]` on `127.0.0.1:0` with `cert`/`key`, the default ALPN and protocols,
/// and HSTS `max-age=63072000`.
pub(crate) fn tls_listener(cert: &Path, key: &Path) -> ListenerConfig {
    ListenerConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        tls: Some(TlsConfig {
            cert: cert.to_owned(),
            key: key.to_owned(),
            sni: Vec::new(),
            alpn: DEFAULT_ALPN.to_vec(),
            protocols: DEFAULT_PROTOCOLS.to_vec(),
            ssl_headers: false,
            client_auth: None,
        }),
        hsts: Some("max-age=63072000".to_owned()),
        redirect_https: false,
        proxy_protocol: false,
    }
}

/// A TLS client connection (rustls) with the raw HTTP/1.1 exchange on it.
pub(crate) struct TlsClient {
    pub(crate) stream: StreamOwned<ClientConnection, TcpStream>,
    pub(crate) buf: Vec<u8>,
}

/// A response as the test reads it: status, headers (lowercase names), body.
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) body: Vec<u8>,
}

impl Resp {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        let found = self.headers.iter().find(|(n, _)| n == name);
        found.map(|(_, v)| v.as_str())
    }
}

impl TlsClient {
    /// Connects and completes the handshake; panics if it fails.
    pub(crate) fn connect(addr: SocketAddr, config: Arc<ClientConfig>, name: &str) -> TlsClient {
        TlsClient::try_connect(addr, config, name, b"").expect("handshake")
    }

    /// Connects, sends `prefix` (a PROXY protocol header, say) in the same write as the
    /// ClientHello, and runs the handshake. `Err`: it failed (the server refused, or closed).
    /// With TLS 1.3 the client's handshake ends before the server has checked the client's
    /// certificate, so a refusal may show only at the first read instead.
    pub(crate) fn try_connect(
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        name: &str,
        prefix: &[u8],
    ) -> std::io::Result<TlsClient> {
        let tcp = TcpStream::connect(addr)?;
        set_timeouts(&tcp);
        TlsClient::handshake(tcp, config, name, prefix)
    }

    /// Runs the handshake on `tcp`, `prefix` sent in the same write as the ClientHello.
    pub(crate) fn handshake(
        mut tcp: TcpStream,
        config: Arc<ClientConfig>,
        name: &str,
        prefix: &[u8],
    ) -> std::io::Result<TlsClient> {
        let name = ServerName::try_from(name.to_owned()).unwrap();
        let mut conn = ClientConnection::new(config, name).unwrap();
        let mut first = prefix.to_vec();
        conn.write_tls(&mut first)?;
        tcp.write_all(&first)?;
        while conn.is_handshaking() {
            conn.complete_io(&mut tcp)?;
        }
        Ok(TlsClient {
            stream: StreamOwned::new(conn, tcp),
            buf: Vec::new(),
        })
    }

    pub(crate) fn leaf(&self) -> Vec<u8> {
        self.stream.conn.peer_certificates().unwrap()[0].to_vec()
    }

    pub(crate) fn get(&mut self, path: &str, host: &str) -> Resp {
        self.try_get(path, host).expect("a response")
    }

    /// Sends `GET path` with `extra` header lines (each ending in CRLF) and reads the
    /// response; `Err` if the connection fails or closes first.
    pub(crate) fn try_request(
        &mut self,
        path: &str,
        host: &str,
        extra: &str,
    ) -> std::io::Result<Resp> {
        let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{extra}\r\n");
        self.stream.write_all(req.as_bytes())?;
        self.stream.flush()?;
        try_read_response(&mut self.stream, &mut self.buf)
    }

    pub(crate) fn try_get(&mut self, path: &str, host: &str) -> std::io::Result<Resp> {
        self.try_request(path, host, "")
    }
}

/// Reads one Content-Length response from `r`, keeping extra bytes in `buf`.
pub(crate) fn read_response(r: &mut impl Read, buf: &mut Vec<u8>) -> Resp {
    try_read_response(r, buf).expect("a response")
}

fn try_read_response(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<Resp> {
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut parsed = httparse::Response::new(&mut headers);
        if let httparse::Status::Complete(len) = parsed.parse(buf).unwrap() {
            let status = parsed.code.unwrap();
            let headers: Vec<(String, String)> = (parsed.headers.iter())
                .map(|h| {
                    let value = String::from_utf8_lossy(h.value).into_owned();
                    (h.name.to_ascii_lowercase(), value)
                })
                .collect();
            let cl: usize = (headers.iter().find(|(n, _)| n == "content-length"))
                .map_or(0, |(_, v)| v.trim().parse().unwrap());
            while buf.len() < len + cl {
                try_read_more(r, buf)?;
            }
            let body = buf[len..len + cl].to_vec();
            buf.drain(..len + cl);
            return Ok(Resp {
                status,
                headers,
                body,
            });
        }
        try_read_more(r, buf)?;
    }
}

pub(crate) fn read_more(r: &mut impl Read, buf: &mut Vec<u8>) {
    try_read_more(r, buf).expect("read");
}

fn try_read_more(r: &mut impl Read, buf: &mut Vec<u8>) -> std::io::Result<()> {
    let mut chunk = [0u8; 4096];
    let n = r.read(&mut chunk)?;
    if n == 0 {
        return Err(std::io::Error::new(
            std::io::ErrorKind::UnexpectedEof,
            "closed before a complete response",
        ));
    }
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

static TLS12_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS12];
static TLS13_ONLY: [&rustls::SupportedProtocolVersion; 1] = [&rustls::version::TLS13];

pub(crate) fn tls12() -> &'static [&'static rustls::SupportedProtocolVersion] {
    &TLS12_ONLY
}

pub(crate) fn tls13() -> &'static [&'static rustls::SupportedProtocolVersion] {
    &TLS13_ONLY
}
