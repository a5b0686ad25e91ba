//! A test PKI for the TLS tests: a CA made with rcgen, leaf certificates it signs (written as
//! PEM files into a per-test directory), rustls client configurations that trust it, and a
//! TLS `[[listener]]` serving a leaf.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair};
use ringlb::config::{ListenerConfig, TlsConfig, DEFAULT_ALPN, DEFAULT_PROTOCOLS};
use rustls::pki_types::CertificateDer;
use rustls::{ClientConfig, RootCertStore};

/// A test CA and the directory its files go to.
pub(crate) struct Pki {
    pub(crate) dir: PathBuf,
    pub(crate) ca: rcgen::Certificate,
    pub(crate) ca_key: KeyPair,
}

impl Pki {
    pub(crate) fn new(name: &str) -> Pki {
        let dir = std::env::temp_dir().join(format!("ringlb-tls-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let ca_key = KeyPair::generate().unwrap();
        let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params
            .distinguished_name
            .push(DnType::CommonName, "ringlb test CA");
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
        let key = KeyPair::generate().unwrap();
        let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
        let mut params = CertificateParams::new(names).unwrap();
        params.distinguished_name.push(DnType::CommonName, stem);
        let leaf = params.signed_by(&key, &self.ca, &self.ca_key).unwrap();
        let (cert_path, key_path) = (
            self.dir.join(format!("{stem}.crt")),
            self.dir.join(format!("{stem}.key")),
        );
        std::fs::write(&cert_path, format!("{}{}", leaf.pem(), self.ca.pem())).unwrap();
        std::fs::write(&key_path, key.serialize_pem()).unwrap();
        (cert_path, key_path, leaf.der().to_vec())
    }

    pub(crate) fn client(
        &self,
        versions: &[&'static rustls::SupportedProtocolVersion],
    ) -> Arc<ClientConfig> {
        let mut roots = RootCertStore::empty();
        roots
            .add(CertificateDer::from(self.ca.der().to_vec()))
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut cfg = ClientConfig::builder_with_provider(provider)
            .with_protocol_versions(versions)
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        // These tests speak HTTP/1.1 on the connection; tests/http2.rs speaks HTTP/2.
        cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(cfg)
    }
}

pub(crate) fn tls_listener(cert: &Path, key: &Path) -> ListenerConfig {
    ListenerConfig {
        address: "127.0.0.1:0".parse().unwrap(),
        tls: Some(TlsConfig {
            cert: cert.to_owned(),
            key: key.to_owned(),
            sni: Vec::new(),
            alpn: DEFAULT_ALPN.to_vec(),
            protocols: DEFAULT_PROTOCOLS.to_vec(),
        }),
        hsts: Some("max-age=63072000".to_owned()),
        redirect_https: false,
    }
}
