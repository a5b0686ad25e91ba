//! TLS to `https://` members (httpd's `SSLProxyEngine`): the rustls `ClientConfig` of every
//! such member, loaded and checked from the files its `tls_*` keys name ([`Connectors`]).
//!
//! [`Connectors::load`] is the one place those files are read: `ringlb check` (through
//! `startup::check`), `ringlb run` at start and every reload call it, so a file one refuses
//! is refused by all of them with the same message, naming the key and the file. A balancer's
//! own `tls_*` files are read even when no member uses them (a member added through the
//! manager inherits them). A member added or removed through the manager re-indexes the
//! loaded configurations without reading any file ([`Connectors::follow`]).
//!
//! One `ClientConfig` per member and generation, shared read-only by every worker (`Arc`).
//! It offers ALPN `http/1.1` only, TLS 1.2 and 1.3.
//!
//! # Session resumption
//! Each member's `ClientConfig` has its own client session cache (rustls's in-memory one,
//! sized for the one server name it is used with). The cache is a mutex inside rustls, but
//! only a handshake touches it (looking a ticket up, storing the member's new tickets), never
//! a request: member connections are pooled, so handshakes are rare and each costs far more
//! than the uncontended lock. A cache shared by the workers, rather than one per worker, lets
//! a ticket a member gave one worker resume a connection another worker makes, and needs one
//! `ClientConfig` per member instead of one per member and worker. A reload starts new
//! caches: a resumed session skips the certificate check, so a session must never outlive
//! the `tls_ca` (re-read at the reload) it was verified with.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::{Resumption, WebPkiServerVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::sign::{CertifiedKey, SingleCertAndKey};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use rustls_pki_types::pem::PemObject;

use super::{certified_key, pem_error, provider};
use crate::config::{Config, MemberClientCert, MemberTls, TlsVerify};
use crate::log;

/// TLS 1.3 tickets (and a TLS 1.2 session) kept per member: rustls keeps at most 8 tickets per
/// server name, and a member has one name.
const SESSIONS_PER_MEMBER: usize = 8;

/// How to open TLS to one member: its client configuration and the name it is verified for.
#[derive(Debug)]
pub struct Connector {
    pub config: Arc<ClientConfig>,
    /// Sent as SNI when a DNS name; the certificate must be valid for it.
    pub name: ServerName<'static>,
    /// The settings it was built from (for [`Connectors::follow`]).
    settings: MemberTls,
}

/// The TLS client configuration of every `https://` member, indexed like
/// `Config::balancers[b].members[m]` (`None`: an `http://` member).
#[derive(Debug, Default)]
pub struct Connectors {
    by_member: Vec<Vec<Option<Arc<Connector>>>>,
    /// The files read, by path, for [`Connectors::follow`].
    files: Files,
}

impl Connectors {
    /// Reads and checks every `tls_*` file `cfg` names: each CA file holds at least one
    /// certificate usable as a trust anchor; each client certificate file at least one
    /// certificate, with a private key rustls can sign with that matches the first one. The
    /// error names the key (`balancer[0].tls_ca`, `balancer[0].member[1].tls_client_key`) and
    /// the file.
    pub fn load(cfg: &Config) -> Result<Connectors, String> {
        let mut files = Files::default();
        for (i, b) in cfg.balancers.iter().enumerate() {
            let d = &b.options.member_tls;
            if let Some(ca) = &d.ca {
                files.verifier(ca, &format!("balancer[{i}]"))?;
            }
            if let Some(cert) = &d.client_cert {
                let auth = MemberClientCert {
                    cert: cert.clone(),
                    key: d.client_key.clone().unwrap_or_else(|| cert.clone()),
                };
                files.client_key(&auth, &format!("balancer[{i}]"))?;
            }
        }
        let mut by_member = Vec::with_capacity(cfg.balancers.len());
        for (i, b) in cfg.balancers.iter().enumerate() {
            let mut members = Vec::with_capacity(b.members.len());
            for (j, m) in b.members.iter().enumerate() {
                let connector = match &m.options.tls {
                    Some(tls) => {
                        let key = format!("balancer[{i}].member[{j}]");
                        Some(Arc::new(files.connector(tls, &key)?))
                    }
                    None => None,
                };
                members.push(connector);
            }
            by_member.push(members);
        }
        Ok(Connectors { by_member, files })
    }

    /// These connectors for `new`, a config that `old` (the one they were loaded for) became
    /// by members added or removed through the manager: a member of the same balancer, URL
    /// and settings keeps its configuration (and its session cache); another is built from
    /// the files already read. Reads no file: a member whose files were never read gets no
    /// configuration, and its connections fail as a TLS failure. (A member added through the
    /// manager takes its balancer's `tls_*` keys, whose files [`Connectors::load`] read.)
    pub fn follow(&self, old: &Config, new: &Config) -> Connectors {
        let files = self.files.clone();
        let by_member = (new.balancers.iter().enumerate())
            .map(|(i, b)| {
                let ob = old.balancers.iter().position(|o| o.name == b.name);
                (b.members.iter().enumerate())
                    .map(|(j, m)| {
                        let tls = m.options.tls.as_ref()?;
                        let kept = ob.and_then(|ob| {
                            let om = old.balancers[ob]
                                .members
                                .iter()
                                .position(|o| o.url == m.url)?;
                            let c = self.get(ob, om)?;
                            (c.settings == *tls).then(|| c.clone())
                        });
                        kept.or_else(|| {
                            let key = format!("balancer[{i}].member[{j}]");
                            files.cached_connector(tls, &key).map(Arc::new)
                        })
                    })
                    .collect()
            })
            .collect();
        Connectors { by_member, files }
    }

    /// The TLS configuration of member `m` of balancer `b`, if it is an `https://` member.
    pub fn get(&self, b: usize, m: usize) -> Option<&Arc<Connector>> {
        self.by_member.get(b)?.get(m)?.as_ref()
    }
}

/// Logs a warning for each `https://` member of `cfg` whose certificate is not checked
/// (`tls_verify = false`): at start and at each reload.
pub fn warn_unverified(cfg: &Config) {
    for b in &cfg.balancers {
        for m in &b.members {
            if matches!(
                m.options.tls,
                Some(MemberTls {
                    verify: TlsVerify::Off,
                    ..
                })
            ) {
                log::warn(format_args!(
                    "balancer {}: member {}: tls_verify = false: its certificate is not \
                     checked, so anyone on the path to it can read and change the traffic",
                    b.name, m.url
                ));
            }
        }
    }
}

/// The files read for one load: verifiers by CA file, client certificates by file pair.
#[derive(Clone, Debug, Default)]
struct Files {
    verifiers: HashMap<PathBuf, Arc<WebPkiServerVerifier>>,
    client_keys: HashMap<(PathBuf, PathBuf), Arc<CertifiedKey>>,
}

impl Files {
    /// The verifier for the CA certificates in `ca`, read once per load.
    fn verifier(&mut self, ca: &Path, key: &str) -> Result<Arc<WebPkiServerVerifier>, String> {
        if let Some(v) = self.verifiers.get(ca) {
            return Ok(v.clone());
        }
        let shown = ca.display();
        let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(ca)
            .and_then(|certs| certs.collect::<Result<Vec<_>, _>>())
            .map_err(|e| format!("{key}.tls_ca {shown}: {}", pem_error(e)))?;
        if certs.is_empty() {
            return Err(format!(
                "{key}.tls_ca {shown}: no certificate found (expected PEM \"BEGIN CERTIFICATE\")"
            ));
        }
        let mut roots = RootCertStore::empty();
        for (n, cert) in certs.into_iter().enumerate() {
            roots.add(cert).map_err(|e| {
                format!(
                    "{key}.tls_ca {shown}: certificate {} is not usable as a CA: {e}",
                    n + 1
                )
            })?;
        }
        let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider())
            .build()
            .map_err(|e| format!("{key}.tls_ca {shown}: {e}"))?;
        self.verifiers.insert(ca.to_owned(), verifier.clone());
        Ok(verifier)
    }

    /// The client certificate and key of `auth`, read once per load.
    fn client_key(
        &mut self,
        auth: &MemberClientCert,
        key: &str,
    ) -> Result<Arc<CertifiedKey>, String> {
        let id = (auth.cert.clone(), auth.key.clone());
        if let Some(k) = self.client_keys.get(&id) {
            return Ok(k.clone());
        }
        let names = (
            format!("{key}.tls_client_cert"),
            format!("{key}.tls_client_key"),
        );
        let pair = certified_key(&auth.cert, &auth.key, &provider(), (&names.0, &names.1))?;
        let pair = Arc::new(pair);
        self.client_keys.insert(id, pair.clone());
        Ok(pair)
    }

    /// The connector for `tls`, reading the files not read yet; `key` names the member.
    fn connector(&mut self, tls: &MemberTls, key: &str) -> Result<Connector, String> {
        let verifier: Arc<dyn ServerCertVerifier> = match &tls.verify {
            TlsVerify::Ca(ca) => self.verifier(ca, key)?,
            TlsVerify::Off => {
                Arc::new(AnyCertificate(provider().signature_verification_algorithms))
            }
        };
        let client = match &tls.client_auth {
            Some(auth) => Some(self.client_key(auth, key)?),
            None => None,
        };
        build(tls, verifier, client).map_err(|e| format!("{key}: {e}"))
    }

    /// [`Files::connector`] from files already read only.
    fn cached_connector(&self, tls: &MemberTls, key: &str) -> Option<Connector> {
        let verifier: Arc<dyn ServerCertVerifier> = match &tls.verify {
            TlsVerify::Ca(ca) => self.verifiers.get(ca)?.clone(),
            TlsVerify::Off => {
                Arc::new(AnyCertificate(provider().signature_verification_algorithms))
            }
        };
        let client = match &tls.client_auth {
            Some(auth) => Some(
                self.client_keys
                    .get(&(auth.cert.clone(), auth.key.clone()))?
                    .clone(),
            ),
            None => None,
        };
        match build(tls, verifier, client) {
            Ok(c) => Some(c),
            Err(e) => {
                log::error(format_args!("{key}: {e}"));
                None
            }
        }
    }
}

/// One member's `ClientConfig`, with its own session cache.
fn build(
    tls: &MemberTls,
    verifier: Arc<dyn ServerCertVerifier>,
    client: Option<Arc<CertifiedKey>>,
) -> Result<Connector, String> {
    let name = ServerName::try_from(tls.server_name.clone())
        .map_err(|e| format!("tls_server_name {:?}: {e}", tls.server_name))?;
    let builder = ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(verifier);
    let mut config = match client {
        Some(pair) => builder.with_client_cert_resolver(Arc::new(SingleCertAndKey::from(pair))),
        None => builder.with_no_client_auth(),
    };
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    config.resumption = Resumption::in_memory_sessions(SESSIONS_PER_MEMBER);
    Ok(Connector {
        config: Arc::new(config),
        name,
        settings: tls.clone(),
    })
}

/// `tls_verify = false`: every certificate is accepted. The handshake's signatures are still
/// checked (by rustls's own functions) against the certificate presented, so the session's
/// keys are the certificate holder's; who holds it is not checked.
#[derive(Debug)]
struct AnyCertificate(WebPkiSupportedAlgorithms);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(message, cert, dss, &self.0)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(message, cert, dss, &self.0)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.supported_schemes()
    }
}
