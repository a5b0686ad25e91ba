//! `[[listener]]`: listeners beyond the plain `listen` addresses, with or without TLS.
//!
//! Validated in `validate::listener`, printed by `display`. The certificate and CA files are
//! not read here (the config stays pure): `crate::tls::Acceptors::load` reads and checks
//! them, for `ringlb check`, at start and at every reload.

use std::net::SocketAddr;
use std::path::PathBuf;

/// One `[[listener]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ListenerConfig {
    pub address: SocketAddr,
    /// `cert` and `key` present: TLS is terminated on this listener.
    pub tls: Option<TlsConfig>,
    /// `hsts`: the `Strict-Transport-Security` value added to every response (TLS only).
    pub hsts: Option<String>,
    /// `redirect_https` (plain only): every request is answered `301` to `https://` + the
    /// request's host and target.
    pub redirect_https: bool,
    /// `proxy_protocol`: every connection starts with a PROXY protocol header (v1 or v2),
    /// whose source is the client; read before the TLS handshake on a TLS listener. Default:
    /// the top-level `proxy_protocol`, so it is always resolved here.
    pub proxy_protocol: bool,
}

/// The TLS keys of a `[[listener]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// PEM: the certificate first, then its chain.
    pub cert: PathBuf,
    /// PEM: the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
    /// More certificates, chosen by the name the client asks for (SNI); `cert`/`key` serve
    /// every other name and clients that send none.
    pub sni: Vec<SniConfig>,
    /// ALPN protocols offered, in preference order; default `["h2", "http/1.1"]`.
    pub alpn: Vec<Alpn>,
    /// Protocol versions accepted; default both.
    pub protocols: Vec<TlsVersion>,
    /// `ssl_headers`: tell members about the TLS connection in `X-SSL-*` request headers
    /// (`crate::tls::facts`); default off. Clients' own `X-SSL-*` are removed either way.
    pub ssl_headers: bool,
    /// `client_ca` and `client_verify`: ask clients for a certificate signed by these CAs.
    pub client_auth: Option<ClientAuth>,
}

/// Client certificate verification of a TLS listener (`client_ca`, `client_verify`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClientAuth {
    /// PEM: the CA certificates a client certificate must chain to.
    pub ca: PathBuf,
    pub verify: ClientVerify,
}

/// `client_verify`: whether a client must present a certificate. Either way a certificate
/// that is presented must verify, or the handshake fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientVerify {
    /// A client without a certificate fails the handshake (nginx `ssl_verify_client on`,
    /// httpd `SSLVerifyClient require`). The default.
    Required,
    /// A client may present none (nginx `optional`, httpd `optional`).
    Optional,
}

impl ClientVerify {
    pub fn as_str(self) -> &'static str {
        match self {
            ClientVerify::Required => "required",
            ClientVerify::Optional => "optional",
        }
    }
}

/// One `[[listener.sni]]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SniConfig {
    /// Lowercase host names; `*.example.com` matches one label in front of `example.com`.
    pub names: Vec<String>,
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// An ALPN protocol ringlb serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Alpn {
    H2,
    Http11,
}

impl Alpn {
    pub fn as_str(self) -> &'static str {
        match self {
            Alpn::H2 => "h2",
            Alpn::Http11 => "http/1.1",
        }
    }
}

/// A TLS protocol version.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TlsVersion {
    Tls12,
    Tls13,
}

impl TlsVersion {
    pub fn as_str(self) -> &'static str {
        match self {
            TlsVersion::Tls12 => "TLSv1.2",
            TlsVersion::Tls13 => "TLSv1.3",
        }
    }
}

/// The default `alpn`.
pub const DEFAULT_ALPN: [Alpn; 2] = [Alpn::H2, Alpn::Http11];
/// The default `protocols`.
pub const DEFAULT_PROTOCOLS: [TlsVersion; 2] = [TlsVersion::Tls12, TlsVersion::Tls13];
