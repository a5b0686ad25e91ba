//! TLS to `https://` members (httpd's `SSLProxyEngine`): the effective settings of one member
//! ([`MemberTls`]) and the defaults a balancer hands down ([`MemberTlsDefaults`]), with how
//! both are printed in the file schema and shown in a diff.
//!
//! The keys, in `[[balancer]]` (defaults for its `https://` members) or in a
//! `[[balancer.member]]` (that member only), and their httpd counterparts:
//!
//! | key | httpd | meaning |
//! |---|---|---|
//! | `tls_ca` | `SSLProxyCACertificateFile` | PEM bundle of the CA certificates the member's certificate must chain to |
//! | `tls_verify` | `SSLProxyVerify require` / `none` | `false`: no certificate check at all |
//! | `tls_server_name` | `SSLProxyCheckPeerName` (the name checked) | the name sent as SNI and verified; default the URL's host |
//! | `tls_client_cert` | `SSLProxyMachineCertificateFile` | the certificate chain ringlb presents (PEM) |
//! | `tls_client_key` | (the same file in httpd) | its private key (PEM); default: read from `tls_client_cert` |
//!
//! Pure: no file is read here. `crate::tls::Connectors::load` reads and checks the files
//! (`ringlb check`, start, every reload).

use std::fmt;
use std::path::{Path, PathBuf};

use super::display::toml_string;

/// How a member's certificate is checked.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TlsVerify {
    /// Against the CA certificates in this PEM file (`tls_ca`): the chain, the validity
    /// dates and the name ([`MemberTls::server_name`]).
    Ca(PathBuf),
    /// Not at all (`tls_verify = false`, httpd's `SSLProxyVerify none`): the connection is
    /// encrypted, but any certificate is accepted. ringlb warns at start and at each reload.
    Off,
}

/// The certificate ringlb presents to a member that asks for one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberClientCert {
    /// The chain, leaf first (PEM).
    pub cert: PathBuf,
    /// Its private key (PEM); the same path as `cert` when the file holds both.
    pub key: PathBuf,
}

/// TLS to one `https://` member, every value effective (the balancer's defaults applied).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MemberTls {
    pub verify: TlsVerify,
    /// The name sent as SNI and verified: a DNS name (SNI sent) or an IP address (no SNI;
    /// the certificate must hold it as an IP address SAN). Lowercase for DNS names.
    pub server_name: String,
    pub client_auth: Option<MemberClientCert>,
}

/// The `tls_*` keys of a `[[balancer]]` as written (paths resolved): the defaults of its
/// `https://` members. A key left out here falls back to ringlb's default.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberTlsDefaults {
    pub ca: Option<PathBuf>,
    pub verify: Option<bool>,
    pub server_name: Option<String>,
    pub client_cert: Option<PathBuf>,
    pub client_key: Option<PathBuf>,
}

impl MemberTlsDefaults {
    pub fn is_empty(&self) -> bool {
        *self == MemberTlsDefaults::default()
    }
}

impl MemberTls {
    /// The keys that give exactly this member's settings in a `[[balancer.member]]` table,
    /// whatever its balancer's defaults: `tls_verify`, then `tls_ca` (when verifying),
    /// `tls_server_name`, and the client certificate keys (when set).
    pub(crate) fn keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::with_capacity(5);
        match &self.verify {
            TlsVerify::Ca(ca) => {
                out.push(("tls_verify", "true".to_owned()));
                out.push(("tls_ca", path_text(ca)));
            }
            TlsVerify::Off => out.push(("tls_verify", "false".to_owned())),
        }
        out.push(("tls_server_name", toml_string(&self.server_name)));
        if let Some(auth) = &self.client_auth {
            out.push(("tls_client_cert", path_text(&auth.cert)));
            out.push(("tls_client_key", path_text(&auth.key)));
        }
        out
    }

    /// The member's settings as one value for a diff line.
    pub(crate) fn summary(tls: Option<&MemberTls>) -> String {
        let Some(tls) = tls else {
            return "none".to_owned();
        };
        let keys: Vec<String> = (tls.keys().into_iter())
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        format!("{{{}}}", keys.join(", "))
    }
}

impl MemberTlsDefaults {
    /// The keys given as one value for a diff line (`none` when none is).
    pub(crate) fn summary(&self) -> String {
        let keys: Vec<String> = (self.keys().into_iter())
            .map(|(k, v)| format!("{k} = {v}"))
            .collect();
        if keys.is_empty() {
            return "none".to_owned();
        }
        format!("{{{}}}", keys.join(", "))
    }

    /// The keys given, in the printed order.
    pub(crate) fn keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(v) = self.verify {
            out.push(("tls_verify", v.to_string()));
        }
        if let Some(ca) = &self.ca {
            out.push(("tls_ca", path_text(ca)));
        }
        if let Some(name) = &self.server_name {
            out.push(("tls_server_name", toml_string(name)));
        }
        if let Some(cert) = &self.client_cert {
            out.push(("tls_client_cert", path_text(cert)));
        }
        if let Some(key) = &self.client_key {
            out.push(("tls_client_key", path_text(key)));
        }
        out
    }
}

/// Writes `key = value` lines (in a table being printed).
pub(crate) fn write_keys(
    f: &mut fmt::Formatter<'_>,
    keys: &[(&'static str, String)],
) -> fmt::Result {
    for (key, value) in keys {
        writeln!(f, "{key} = {value}")?;
    }
    Ok(())
}

fn path_text(p: &Path) -> String {
    toml_string(&p.to_string_lossy())
}
