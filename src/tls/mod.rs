//! TLS on both sides, with rustls (ring provider):
//! - termination: the certificates of the `[[listener]]` tables loaded and checked into one
//!   rustls `ServerConfig` per TLS listener ([`Acceptors`]);
//! - `https://` members: one rustls `ClientConfig` per member ([`Connectors`], in `member`);
//! - the stream that drives rustls over monoio's owned-buffer I/O for either side
//!   ([`stream::TlsStream`]), and the plain-or-TLS stream the request path uses ([`MaybeTls`]).
//!
//! [`Acceptors::load`] is the one place listener certificate and key files are read: `ringlb check`
//! (through `startup::check`), `ringlb run` at start and every reload call it, so a file one
//! refuses is refused by all of them with the same message, naming the file. A reload builds
//! new acceptors; connections accepted after it use them, connections already open keep the
//! `ServerConfig` their handshake used.
//!
//! Session resumption is by tickets only (TLS 1.2 session tickets, TLS 1.3 PSK tickets): the
//! server keeps no session cache (rustls's default cache is one mutex shared by every worker).
//! One ticketer serves every listener without `client_ca`, every worker and generation of
//! the process, so a session resumes on whichever worker the kernel hands the next
//! connection to, and across reloads. Its keys are random, made at start, and rotated every
//! 6 hours (the previous key still decrypts, so tickets live up to 12 hours); they never
//! leave the process. It is read at handshakes only (a read lock inside rustls), never by a
//! request.
//!
//! A listener with `client_ca` has a ticketer of its own, made by every [`Acceptors::load`]:
//! rustls resumes any ticket its ticketer decrypts, so a shared one would let a session made
//! on a listener that asks for no certificate (or under a CA a reload replaced) skip this
//! listener's check. Its sessions resume on every worker, until the next reload.
//!
//! With `client_ca`, clients are asked for a certificate that chains to one of its CAs
//! (rustls's `WebPkiClientVerifier`: signature chain, validity dates, client-auth key usage);
//! one that does not fails the handshake, with `client_verify = "optional"` too. No CRL or
//! OCSP check is made.

use std::collections::HashMap;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};

use rustls::crypto::CryptoProvider;
use rustls::server::danger::ClientCertVerifier;
use rustls::server::{ClientHello, ProducesTickets, ResolvesServerCert, WebPkiClientVerifier};
use rustls::sign::CertifiedKey;
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::config::{ClientAuth, ClientVerify, Config, TlsConfig, TlsVersion};

pub mod facts;
mod maybe;
mod member;
pub mod stream;

pub use maybe::MaybeTls;
pub use member::{warn_unverified, Connector, Connectors};

/// The rustls configuration of every listener, indexed like `Config::listeners` (`None`: a
/// plain listener).
#[derive(Debug, Default)]
pub struct Acceptors {
    by_listener: Vec<Option<Arc<ServerConfig>>>,
}

impl Acceptors {
    /// Reads and checks every certificate, key and CA file `cfg` names: each file parses as
    /// PEM, the certificate file holds at least one certificate, the key is one rustls can
    /// sign with and it matches the first certificate, a `client_ca` file holds at least one
    /// certificate and each is usable as a trust anchor. The error names the listener key and
    /// the file.
    pub fn load(cfg: &Config) -> Result<Acceptors, String> {
        let mut by_listener = Vec::with_capacity(cfg.listeners.len());
        for (i, l) in cfg.listeners.iter().enumerate() {
            let config = match &l.tls {
                Some(tls) => Some(Arc::new(server_config(tls, &format!("listener[{i}]"))?)),
                None => None,
            };
            by_listener.push(config);
        }
        Ok(Acceptors { by_listener })
    }

    /// The rustls configuration of listener `index`, if it terminates TLS.
    pub fn get(&self, index: usize) -> Option<&Arc<ServerConfig>> {
        self.by_listener.get(index)?.as_ref()
    }
}

/// TLS handshakes that failed (bad client hello, no shared protocol or cipher, timeout, the
/// peer closing), every worker together: the metric `ringlb_tls_handshake_failures_total`.
/// Written only when a handshake fails, never on the request path.
static HANDSHAKE_FAILURES: AtomicU64 = AtomicU64::new(0);

pub(crate) fn count_handshake_failure() {
    HANDSHAKE_FAILURES.fetch_add(1, Ordering::Relaxed);
}

/// Handshakes that failed since start, every worker together.
pub fn handshake_failures() -> u64 {
    HANDSHAKE_FAILURES.load(Ordering::Relaxed)
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(tls: &TlsConfig, key: &str) -> Result<ServerConfig, String> {
    let resolver = resolver(tls, key)?;
    let versions: Vec<&'static rustls::SupportedProtocolVersion> = (tls.protocols.iter())
        .map(|v| match v {
            TlsVersion::Tls12 => &rustls::version::TLS12,
            TlsVersion::Tls13 => &rustls::version::TLS13,
        })
        .collect();
    let builder = ServerConfig::builder_with_provider(provider())
        .with_protocol_versions(&versions)
        .map_err(|e| format!("{key}.protocols: {e}"))?;
    let builder = match &tls.client_auth {
        Some(auth) => builder.with_client_cert_verifier(client_verifier(auth, key)?),
        None => builder.with_no_client_auth(),
    };
    let mut config = builder.with_cert_resolver(Arc::new(resolver));
    config.alpn_protocols = (tls.alpn.iter())
        .map(|a| a.as_str().as_bytes().to_vec())
        .collect();
    config.session_storage = Arc::new(rustls::server::NoServerSessionStorage {});
    // A listener that checks client certificates resumes only its own sessions (module doc).
    let ticketer = match tls.client_auth {
        Some(_) => rustls::crypto::ring::Ticketer::new(),
        None => ticketer(),
    };
    config.ticketer = ticketer.map_err(|e| format!("{key}: session tickets: {e}"))?;
    // One ticket per full handshake: a browser opens its next connection with it.
    config.send_tls13_tickets = 1;
    Ok(config)
}

/// Checks client certificates against the CAs in `auth.ca` (`client_ca`); with
/// `client_verify = "optional"` a client may present none.
fn client_verifier(auth: &ClientAuth, key: &str) -> Result<Arc<dyn ClientCertVerifier>, String> {
    let file = auth.ca.display();
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&auth.ca)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{key}.client_ca {file}: {}", pem_error(e)))?;
    if certs.is_empty() {
        return Err(format!(
            "{key}.client_ca {file}: no certificate found (expected PEM \"BEGIN CERTIFICATE\")"
        ));
    }
    let mut roots = RootCertStore::empty();
    for (n, cert) in certs.into_iter().enumerate() {
        roots.add(cert).map_err(|e| {
            let n = n + 1;
            format!("{key}.client_ca {file}: certificate {n} is not a usable CA certificate ({e})")
        })?;
    }
    let builder = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider());
    let builder = match auth.verify {
        ClientVerify::Required => builder,
        ClientVerify::Optional => builder.allow_unauthenticated(),
    };
    builder
        .build()
        .map_err(|e| format!("{key}.client_ca {file}: {e}"))
}

/// The process's one ticketer (see the module doc), made on first use.
fn ticketer() -> Result<Arc<dyn ProducesTickets>, rustls::Error> {
    static TICKETER: OnceLock<Arc<dyn ProducesTickets>> = OnceLock::new();
    if let Some(t) = TICKETER.get() {
        return Ok(t.clone());
    }
    let made = rustls::crypto::ring::Ticketer::new()?;
    Ok(TICKETER.get_or_init(|| made).clone())
}

/// The listener's certificates, loaded, by name.
fn resolver(tls: &TlsConfig, key: &str) -> Result<Resolver, String> {
    let provider = provider();
    let names = |k: &str| (format!("{k}.cert"), format!("{k}.key"));
    let (c, k) = names(key);
    let default = certified_key(&tls.cert, &tls.key, &provider, (&c, &k))?;
    let mut resolver = Resolver {
        default: Arc::new(default),
        exact: HashMap::new(),
        wildcard: HashMap::new(),
    };
    for (j, sni) in tls.sni.iter().enumerate() {
        let (c, k) = names(&format!("{key}.sni[{j}]"));
        let pair = certified_key(&sni.cert, &sni.key, &provider, (&c, &k))?;
        let pair = Arc::new(pair);
        for name in &sni.names {
            match name.strip_prefix("*.") {
                Some(parent) => resolver.wildcard.insert(parent.to_owned(), pair.clone()),
                None => resolver.exact.insert(name.clone(), pair.clone()),
            };
        }
    }
    Ok(resolver)
}

/// The certificate chain in `cert` and the private key in `key`, checked to belong together.
/// Errors name the keys `names` (the certificate's, the key's) and the file.
fn certified_key(
    cert: &Path,
    key: &Path,
    provider: &CryptoProvider,
    names: (&str, &str),
) -> Result<CertifiedKey, String> {
    let shown = |p: &Path| p.display().to_string();
    let (cert_name, key_name) = names;
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{cert_name} {}: {}", shown(cert), pem_error(e)))?;
    if chain.is_empty() {
        return Err(format!(
            "{cert_name} {}: no certificate found (expected PEM \"BEGIN CERTIFICATE\")",
            shown(cert)
        ));
    }
    let private = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{key_name} {}: {}", shown(key), pem_error(e)))?;
    CertifiedKey::from_der(chain, private, provider).map_err(|e| match e {
        rustls::Error::InconsistentKeys(_) => format!(
            "{key_name} {}: does not match the certificate in {}",
            shown(key),
            shown(cert)
        ),
        rustls::Error::InvalidCertificate(why) => format!(
            "{cert_name} {}: the first certificate is not valid X.509 ({why:?})",
            shown(cert)
        ),
        other => format!("{key_name} {}: {other}", shown(key)),
    })
}

fn pem_error(e: rustls_pki_types::pem::Error) -> String {
    match e {
        rustls_pki_types::pem::Error::Io(io) => io.to_string(),
        rustls_pki_types::pem::Error::NoItemsFound => {
            "no PEM item of the expected kind found".to_owned()
        }
        other => format!("not valid PEM: {other:?}"),
    }
}

/// Picks the certificate for the name a client asks for: an exact `[[listener.sni]]` name,
/// then a `*.parent` one for a name one label longer, else the listener's own pair (also for
/// clients that send no name).
#[derive(Debug)]
struct Resolver {
    default: Arc<CertifiedKey>,
    exact: HashMap<String, Arc<CertifiedKey>>,
    wildcard: HashMap<String, Arc<CertifiedKey>>,
}

impl Resolver {
    fn pick(&self, name: Option<&str>) -> &Arc<CertifiedKey> {
        let Some(name) = name else {
            return &self.default;
        };
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        if let Some(pair) = self.exact.get(&name) {
            return pair;
        }
        let parent = name.split_once('.').map(|(_, rest)| rest);
        parent
            .and_then(|p| self.wildcard.get(p))
            .unwrap_or(&self.default)
    }
}

impl ResolvesServerCert for Resolver {
    fn resolve(&self, hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.pick(hello.server_name()).clone())
    }
}

#[cfg(test)]
mod tests;
