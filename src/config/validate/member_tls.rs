//! The `tls_*` keys of `[[balancer]]` (defaults) and `[[balancer.member]]` tables ->
//! [`MemberTlsDefaults`] and each `https://` member's effective [`MemberTls`]. The rules:
//! 1. `tls_ca`, `tls_client_cert` and `tls_client_key` are non-empty paths (resolved against
//!    the config file's directory); `tls_verify` is a switch; `tls_server_name` is a DNS name
//!    or an IP address (brackets around an IPv6 address are dropped; names are lowercased).
//! 2. In one table, `tls_ca` and `tls_verify = false` contradict each other: refused.
//! 3. `tls_client_key` needs `tls_client_cert` in the same table; a `tls_client_cert`
//!    without it reads the key from the certificate's file (httpd's
//!    `SSLProxyMachineCertificateFile` holds both).
//! 4. A member's `tls_*` keys need an `https://` URL.
//! 5. An `https://` member takes each setting from its own table, else its balancer's, else
//!    the default: verification on, the server name the URL's host (an IP address, or a host
//!    name without a trailing `.`), no client certificate.
//!    The client certificate and its key come from one table together.
//! 6. With verification on, an `https://` member needs a `tls_ca` (there is no default trust
//!    store: members usually carry certificates of a private CA).

use std::net::IpAddr;
use std::ops::Range;
use std::path::PathBuf;

use rustls_pki_types::ServerName;
use toml::Spanned;

use super::super::file::{FileBalancer, FileMember, Scalar};
use super::super::{ConfigError, MemberClientCert, MemberTls, MemberTlsDefaults, TlsVerify};
use super::ops::resolve;
use super::values::parse_on_off;
use super::Ctx;

/// The `tls_*` keys of one table, as written.
pub(super) struct Keys<'a> {
    ca: &'a Option<Spanned<String>>,
    verify: &'a Option<Spanned<Scalar>>,
    server_name: &'a Option<Spanned<String>>,
    client_cert: &'a Option<Spanned<String>>,
    client_key: &'a Option<Spanned<String>>,
}

impl<'a> Keys<'a> {
    pub(super) fn of_balancer(b: &'a FileBalancer) -> Keys<'a> {
        Keys {
            ca: &b.tls_ca,
            verify: &b.tls_verify,
            server_name: &b.tls_server_name,
            client_cert: &b.tls_client_cert,
            client_key: &b.tls_client_key,
        }
    }

    pub(super) fn of_member(m: &'a FileMember) -> Keys<'a> {
        Keys {
            ca: &m.tls_ca,
            verify: &m.tls_verify,
            server_name: &m.tls_server_name,
            client_cert: &m.tls_client_cert,
            client_key: &m.tls_client_key,
        }
    }

    /// The first key given (name and span), if any.
    fn first(&self) -> Option<(&'static str, Range<usize>)> {
        let strings = [
            ("tls_ca", self.ca),
            ("tls_server_name", self.server_name),
            ("tls_client_cert", self.client_cert),
            ("tls_client_key", self.client_key),
        ];
        let verify = self.verify.as_ref().map(|v| ("tls_verify", v.span()));
        verify
            .into_iter()
            .chain((strings.into_iter()).filter_map(|(k, v)| v.as_ref().map(|v| (k, v.span()))))
            .min_by_key(|(_, span)| span.start)
    }
}

/// The keys of one table, each checked (rules 1 to 3); `prefix` is the table's key path.
pub(super) fn defaults(
    ctx: &Ctx<'_>,
    prefix: &str,
    keys: &Keys<'_>,
) -> Result<MemberTlsDefaults, ConfigError> {
    let key = |name: &str| format!("{prefix}.{name}");
    let path = |value: &Option<Spanned<String>>, name: &str| match value {
        Some(v) => ctx
            .check(v, &key(name), |s| {
                if s.trim().is_empty() {
                    return Err("must be a file path (PEM), not empty".to_owned());
                }
                Ok(resolve(ctx.base, s))
            })
            .map(Some),
        None => Ok(None),
    };
    let verify = match keys.verify {
        Some(v) => Some(ctx.check(v, &key("tls_verify"), parse_on_off)?),
        None => None,
    };
    let ca = path(keys.ca, "tls_ca")?;
    if let (Some(false), Some(ca_value)) = (verify, keys.ca) {
        let msg = "tls_verify = false checks no certificate, so tls_ca would not be used; \
                   remove one of them"
            .to_owned();
        return Err(ctx.err(&ca_value.span(), key("tls_ca"), msg));
    }
    let server_name = match keys.server_name {
        Some(v) => Some(ctx.check(v, &key("tls_server_name"), |s| server_name(s))?),
        None => None,
    };
    let client_cert = path(keys.client_cert, "tls_client_cert")?;
    let client_key = path(keys.client_key, "tls_client_key")?;
    if let (None, Some(k)) = (&client_cert, keys.client_key) {
        let msg = "needs tls_client_cert in the same table (the certificate this key belongs to)"
            .to_owned();
        return Err(ctx.err(&k.span(), key("tls_client_key"), msg));
    }
    Ok(MemberTlsDefaults {
        ca,
        verify,
        server_name,
        client_cert,
        client_key,
    })
}

/// The effective TLS settings of the member at `prefix` (rules 4 to 6): `None` for an
/// `http://` member. `host` is its URL's host as written; `url_span` where its URL is.
pub(super) fn member(
    ctx: &Ctx<'_>,
    prefix: &str,
    keys: &Keys<'_>,
    https: bool,
    host: &str,
    url_span: &Range<usize>,
    balancer: &MemberTlsDefaults,
) -> Result<Option<MemberTls>, ConfigError> {
    if !https {
        return match keys.first() {
            Some((name, span)) => {
                let msg = "is for https:// members; this member's URL is http://".to_owned();
                Err(ctx.err(&span, format!("{prefix}.{name}"), msg))
            }
            None => Ok(None),
        };
    }
    let own = defaults(ctx, prefix, keys)?;
    resolve_member(&own, balancer, host)
        .map(Some)
        .map_err(|msg| ctx.err(url_span, format!("{prefix}.tls_ca"), msg))
}

/// Rules 5 and 6 over the member's own keys and its balancer's; the error is rule 6's.
/// Shared with the manager's added members (which have no keys of their own).
pub(crate) fn resolve_member(
    own: &MemberTlsDefaults,
    balancer: &MemberTlsDefaults,
    host: &str,
) -> Result<MemberTls, String> {
    let verify = own.verify.or(balancer.verify).unwrap_or(true);
    let verify = if verify {
        match own.ca.as_ref().or(balancer.ca.as_ref()) {
            Some(ca) => TlsVerify::Ca(ca.clone()),
            None => {
                return Err("an https:// member needs tls_ca (the PEM file of the CA \
                            certificates its certificate must chain to), here or in its \
                            [[balancer]]; or tls_verify = false to check no certificate"
                    .to_owned())
            }
        }
    } else {
        TlsVerify::Off
    };
    let pair = |cert: &Option<PathBuf>, key: &Option<PathBuf>| {
        cert.as_ref().map(|c| MemberClientCert {
            cert: c.clone(),
            key: key.clone().unwrap_or_else(|| c.clone()),
        })
    };
    let client_auth = pair(&own.client_cert, &own.client_key)
        .or_else(|| pair(&balancer.client_cert, &balancer.client_key));
    let server_name = match own.server_name.as_ref().or(balancer.server_name.as_ref()) {
        Some(name) => name.clone(),
        // An absolute name's trailing dot is not part of the name a certificate names (nor
        // of SNI, RFC 6066 §3).
        None => server_name(host.strip_suffix('.').unwrap_or(host))?,
    };
    Ok(MemberTls {
        verify,
        server_name,
        client_auth,
    })
}

/// `tls_server_name` (rule 1): a DNS name (lowercased) or an IP address (as rustls takes
/// it: `::1`, not `[::1]`).
fn server_name(s: &str) -> Result<String, String> {
    let bare = s.strip_prefix('[').and_then(|h| h.strip_suffix(']'));
    if let Some(v6) = bare {
        return v6
            .parse::<std::net::Ipv6Addr>()
            .map(|ip| ip.to_string())
            .map_err(|_| format!("{s:?} is not an IPv6 address"));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    let name = s.to_ascii_lowercase();
    match ServerName::try_from(name.as_str()) {
        Ok(ServerName::DnsName(_)) => Ok(name),
        _ => Err(format!(
            "{s:?} is not a DNS name or an IP address (the name the member's certificate is \
             issued for)"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_names_are_dns_names_or_addresses() {
        let cases = [
            ("tomcat.internal", Some("tomcat.internal")),
            ("Tomcat.Internal", Some("tomcat.internal")),
            ("localhost", Some("localhost")),
            ("127.0.0.1", Some("127.0.0.1")),
            ("[::1]", Some("::1")),
            ("::1", Some("::1")),
            ("[::1", None),
            ("", None),
            ("bad name", None),
            ("a..b", None),
        ];
        for (input, want) in cases {
            assert_eq!(server_name(input).ok().as_deref(), want, "{input:?}");
        }
    }

    #[test]
    fn a_member_takes_its_own_keys_then_its_balancers() {
        let p = |s: &str| Some(PathBuf::from(s));
        let balancer = MemberTlsDefaults {
            ca: p("/b/ca.pem"),
            client_cert: p("/b/client.pem"),
            ..MemberTlsDefaults::default()
        };
        let own = MemberTlsDefaults::default();
        let tls = resolve_member(&own, &balancer, "10.0.0.5").unwrap();
        assert_eq!(tls.verify, TlsVerify::Ca("/b/ca.pem".into()));
        assert_eq!(tls.server_name, "10.0.0.5");
        let auth = tls.client_auth.unwrap();
        assert_eq!(
            (auth.cert, auth.key),
            ("/b/client.pem".into(), "/b/client.pem".into())
        );

        let own = MemberTlsDefaults {
            verify: Some(false),
            server_name: Some("app.internal".into()),
            client_cert: p("/m/c.pem"),
            client_key: p("/m/k.pem"),
            ..MemberTlsDefaults::default()
        };
        let tls = resolve_member(&own, &balancer, "[::1]").unwrap();
        assert_eq!(tls.verify, TlsVerify::Off);
        assert_eq!(tls.server_name, "app.internal");
        let auth = tls.client_auth.unwrap();
        assert_eq!(
            (auth.cert, auth.key),
            ("/m/c.pem".into(), "/m/k.pem".into())
        );

        let none = MemberTlsDefaults::default();
        let err = resolve_member(&none, &none, "localhost").unwrap_err();
        assert!(err.contains("needs tls_ca"), "{err}");
        let tls = resolve_member(
            &none,
            &MemberTlsDefaults {
                verify: Some(false),
                ..MemberTlsDefaults::default()
            },
            "[::1]",
        )
        .unwrap();
        assert_eq!(tls.server_name, "::1");
    }
}
