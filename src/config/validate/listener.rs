//! `[[listener]]` tables: address, TLS keys (`cert`, `key`, `[[listener.sni]]`, `alpn`,
//! `protocols`, `ssl_headers`, `client_ca`, `client_verify`), `hsts`, `redirect_https` and
//! `proxy_protocol`. The rules:
//! 1. `address` is required, an IP:PORT, and not used by `listen` or another listener
//!    (port 0, any free port, may repeat).
//! 2. `cert` and `key` come together; with them the listener terminates TLS.
//! 3. `sni`, `alpn`, `protocols`, `hsts`, `ssl_headers`, `client_ca` and `client_verify` need
//!    TLS; `redirect_https` needs a plain listener.
//! 4. `alpn` lists `"h2"` and/or `"http/1.1"` without repeats (empty: no ALPN, so HTTP/1.1).
//! 5. `protocols` lists `"TLSv1.2"` and/or `"TLSv1.3"`, at least one, without repeats.
//! 6. SNI names are host names, lowercased, optionally `*.` + a name with a dot; a name is in
//!    one `[[listener.sni]]` only.
//! 7. `hsts` starts with `max-age=` and is a valid header value.
//! 8. `proxy_protocol` defaults to the top-level `proxy_protocol`.
//! 9. `client_verify` is `"required"` or `"optional"` and needs `client_ca`; `client_ca`
//!    alone means `"required"`.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::PathBuf;

use toml::Spanned;

use super::ops::resolve;
use super::values::parse_listen;
use super::Ctx;
use crate::config::file::{FileListener, FileSni};
use crate::config::{
    Alpn, ClientAuth, ClientVerify, ConfigError, ListenerConfig, SniConfig, TlsConfig, TlsVersion,
    DEFAULT_ALPN, DEFAULT_PROTOCOLS,
};

/// Validates every `[[listener]]`; `listen` holds the plain `listen` addresses (rule 1),
/// `proxy_protocol` the top-level key (rule 8).
pub(super) fn listeners(
    ctx: &Ctx<'_>,
    raw: &[Spanned<FileListener>],
    listen: &[SocketAddr],
    proxy_protocol: bool,
) -> Result<Vec<ListenerConfig>, ConfigError> {
    let mut out: Vec<ListenerConfig> = Vec::new();
    for (i, item) in raw.iter().enumerate() {
        let key = format!("listener[{i}]");
        let l = listener(ctx, item, &key, proxy_protocol)?;
        let taken = listen.contains(&l.address) || out.iter().any(|o| o.address == l.address);
        // Port 0 (any free port, for tests) is never taken.
        if taken && l.address.port() != 0 {
            let span = item
                .get_ref()
                .address
                .as_ref()
                .map_or(item.span(), |a| a.span());
            let msg = format!("{} is listed twice", l.address);
            return Err(ctx.err(&span, format!("{key}.address"), msg));
        }
        out.push(l);
    }
    Ok(out)
}

fn listener(
    ctx: &Ctx<'_>,
    item: &Spanned<FileListener>,
    key: &str,
    proxy_protocol: bool,
) -> Result<ListenerConfig, ConfigError> {
    let raw = item.get_ref();
    let address = match &raw.address {
        Some(a) => ctx.check(a, &format!("{key}.address"), |s| parse_listen(s))?,
        None => {
            let msg = "is required (IP:PORT such as 0.0.0.0:443)".to_owned();
            return Err(ctx.err(&item.span(), format!("{key}.address"), msg));
        }
    };
    let tls = match (&raw.cert, &raw.key) {
        (Some(cert), Some(key_path)) => Some(tls(ctx, raw, key, cert, key_path)?),
        (Some(_), None) => {
            let msg = "is required with cert (the certificate's private key, PEM)".to_owned();
            return Err(ctx.err(&item.span(), format!("{key}.key"), msg));
        }
        (None, Some(k)) => {
            let msg = "needs cert (a TLS listener has both)".to_owned();
            return Err(ctx.err(&k.span(), format!("{key}.key"), msg));
        }
        (None, None) => {
            let needs_tls = |name: &str, span: Option<Range<usize>>| match span {
                Some(span) => Err(ctx.err(
                    &span,
                    format!("{key}.{name}"),
                    "needs a TLS listener (cert and key)".to_owned(),
                )),
                None => Ok(()),
            };
            needs_tls(
                "sni",
                raw.sni.as_ref().and_then(|v| v.first()).map(|s| s.span()),
            )?;
            needs_tls("alpn", raw.alpn.as_ref().map(|s| s.span()))?;
            needs_tls("protocols", raw.protocols.as_ref().map(|s| s.span()))?;
            needs_tls("hsts", raw.hsts.as_ref().map(|s| s.span()))?;
            needs_tls("ssl_headers", raw.ssl_headers.as_ref().map(|s| s.span()))?;
            needs_tls("client_ca", raw.client_ca.as_ref().map(|s| s.span()))?;
            needs_tls(
                "client_verify",
                raw.client_verify.as_ref().map(|s| s.span()),
            )?;
            None
        }
    };
    let redirect_https = match &raw.redirect_https {
        Some(r) if *r.get_ref() && tls.is_some() => {
            let msg = "is for a plain listener; this one terminates TLS itself".to_owned();
            return Err(ctx.err(&r.span(), format!("{key}.redirect_https"), msg));
        }
        Some(r) => *r.get_ref(),
        None => false,
    };
    let hsts = match &raw.hsts {
        Some(h) => Some(ctx.check(h, &format!("{key}.hsts"), |s| check_hsts(s))?),
        None => None,
    };
    Ok(ListenerConfig {
        address,
        tls,
        hsts,
        redirect_https,
        proxy_protocol: (raw.proxy_protocol.as_ref()).map_or(proxy_protocol, |p| *p.get_ref()),
    })
}

fn tls(
    ctx: &Ctx<'_>,
    raw: &FileListener,
    key: &str,
    cert: &Spanned<String>,
    key_path: &Spanned<String>,
) -> Result<TlsConfig, ConfigError> {
    let cert = path(ctx, cert, &format!("{key}.cert"))?;
    let key_file = path(ctx, key_path, &format!("{key}.key"))?;
    let alpn = match &raw.alpn {
        Some(list) => unique(ctx, list, &format!("{key}.alpn"), parse_alpn)?,
        None => DEFAULT_ALPN.to_vec(),
    };
    let protocols = match &raw.protocols {
        Some(list) => {
            let k = format!("{key}.protocols");
            let v = unique(ctx, list, &k, parse_version)?;
            if v.is_empty() {
                let msg = "must list at least one of \"TLSv1.2\", \"TLSv1.3\"".to_owned();
                return Err(ctx.err(&list.span(), k, msg));
            }
            v
        }
        None => DEFAULT_PROTOCOLS.to_vec(),
    };
    let mut sni: Vec<SniConfig> = Vec::new();
    for (j, entry) in raw.sni.iter().flatten().enumerate() {
        let k = format!("{key}.sni[{j}]");
        let s = sni_entry(ctx, entry, &k)?;
        let list = entry.get_ref().names.as_ref();
        for (n, name) in s.names.iter().enumerate() {
            if sni.iter().any(|o| o.names.contains(name)) {
                let span = list
                    .and_then(|l| l.get_ref().get(n))
                    .map_or(entry.span(), |v| v.span());
                let msg = format!("{name:?} is already in an earlier [[listener.sni]]");
                return Err(ctx.err(&span, format!("{k}.names[{n}]"), msg));
            }
        }
        sni.push(s);
    }
    Ok(TlsConfig {
        cert,
        key: key_file,
        sni,
        alpn,
        protocols,
        ssl_headers: raw.ssl_headers.as_ref().is_some_and(|s| *s.get_ref()),
        client_auth: client_auth(ctx, raw, key)?,
    })
}

/// `client_ca` and `client_verify` (rule 9).
fn client_auth(
    ctx: &Ctx<'_>,
    raw: &FileListener,
    key: &str,
) -> Result<Option<ClientAuth>, ConfigError> {
    let verify = match &raw.client_verify {
        Some(v) => ctx.check(v, &format!("{key}.client_verify"), |s| parse_verify(s))?,
        None => ClientVerify::Required,
    };
    match (&raw.client_ca, &raw.client_verify) {
        (Some(ca), _) => Ok(Some(ClientAuth {
            ca: path(ctx, ca, &format!("{key}.client_ca"))?,
            verify,
        })),
        (None, Some(v)) => {
            let msg = "needs client_ca (the CA certificates client certificates are checked \
                       against, PEM)"
                .to_owned();
            Err(ctx.err(&v.span(), format!("{key}.client_verify"), msg))
        }
        (None, None) => Ok(None),
    }
}

pub(crate) fn parse_verify(s: &str) -> Result<ClientVerify, String> {
    match s {
        "required" => Ok(ClientVerify::Required),
        "optional" => Ok(ClientVerify::Optional),
        other => Err(format!(
            "unknown client_verify {other:?}; expected \"required\" (nginx \"on\", httpd \
             \"require\") or \"optional\""
        )),
    }
}

fn sni_entry(ctx: &Ctx<'_>, entry: &Spanned<FileSni>, key: &str) -> Result<SniConfig, ConfigError> {
    let raw = entry.get_ref();
    let required = |name: &str| {
        let msg = "is required in a [[listener.sni]]".to_owned();
        ctx.err(&entry.span(), format!("{key}.{name}"), msg)
    };
    let Some(list) = &raw.names else {
        return Err(required("names"));
    };
    if list.get_ref().is_empty() {
        let msg = "must list at least one host name".to_owned();
        return Err(ctx.err(&list.span(), format!("{key}.names"), msg));
    }
    let mut names: Vec<String> = Vec::new();
    for (n, item) in list.get_ref().iter().enumerate() {
        let k = format!("{key}.names[{n}]");
        let name = ctx.check(item, &k, |s| check_sni_name(s))?;
        if names.contains(&name) {
            return Err(ctx.err(&item.span(), k, format!("{name:?} is listed twice")));
        }
        names.push(name);
    }
    let cert = raw.cert.as_ref().ok_or_else(|| required("cert"))?;
    let key_path = raw.key.as_ref().ok_or_else(|| required("key"))?;
    Ok(SniConfig {
        names,
        cert: path(ctx, cert, &format!("{key}.cert"))?,
        key: path(ctx, key_path, &format!("{key}.key"))?,
    })
}

fn path(ctx: &Ctx<'_>, value: &Spanned<String>, key: &str) -> Result<PathBuf, ConfigError> {
    ctx.check(value, key, |s| {
        if s.trim().is_empty() {
            return Err("must be a file path (PEM), not empty".to_owned());
        }
        Ok(resolve(ctx.base, s))
    })
}

/// Each item of `list` through `parse`, refusing repeats.
fn unique<T: PartialEq>(
    ctx: &Ctx<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
    key: &str,
    parse: fn(&str) -> Result<T, String>,
) -> Result<Vec<T>, ConfigError> {
    let mut out = Vec::new();
    for (i, item) in list.get_ref().iter().enumerate() {
        let k = format!("{key}[{i}]");
        let value = ctx.check(item, &k, |s| parse(s))?;
        if out.contains(&value) {
            return Err(ctx.err(
                &item.span(),
                k,
                format!("{:?} is listed twice", item.get_ref()),
            ));
        }
        out.push(value);
    }
    Ok(out)
}

pub(crate) fn parse_alpn(s: &str) -> Result<Alpn, String> {
    match s {
        "http/1.1" => Ok(Alpn::Http11),
        "h2" => Ok(Alpn::H2),
        other => Err(format!(
            "unknown ALPN protocol {other:?}; expected \"h2\" or \"http/1.1\""
        )),
    }
}

pub(crate) fn parse_version(s: &str) -> Result<TlsVersion, String> {
    match s {
        "TLSv1.2" => Ok(TlsVersion::Tls12),
        "TLSv1.3" => Ok(TlsVersion::Tls13),
        "TLSv1" | "TLSv1.0" | "TLSv1.1" | "SSLv3" | "SSLv2" => Err(format!(
            "{s} is not supported (obsolete and insecure); expected \"TLSv1.2\" or \"TLSv1.3\""
        )),
        other => Err(format!(
            "unknown protocol {other:?}; expected \"TLSv1.2\" or \"TLSv1.3\""
        )),
    }
}

/// A host name for SNI (rule 6), lowercased.
fn check_sni_name(s: &str) -> Result<String, String> {
    let name = s.to_ascii_lowercase();
    let bare = name.strip_prefix("*.").unwrap_or(&name);
    let label_ok = |l: &str| {
        !l.is_empty()
            && l.len() <= 63
            && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            && !l.starts_with('-')
            && !l.ends_with('-')
    };
    let wildcard_ok = bare.len() == name.len() || bare.contains('.');
    if bare.len() > 253 || !bare.split('.').all(label_ok) || !wildcard_ok {
        return Err(format!(
            "{s:?} is not a host name; expected a name such as shop.example.com or \
             *.example.com"
        ));
    }
    Ok(name)
}

/// `hsts` (rule 7): a `Strict-Transport-Security` value.
fn check_hsts(s: &str) -> Result<String, String> {
    let visible = |b: u8| b == b'\t' || (b' '..=b'~').contains(&b);
    let starts = s.len() >= 8 && s.as_bytes()[..8].eq_ignore_ascii_case(b"max-age=");
    if !starts || !s.bytes().all(visible) {
        return Err(format!(
            "{s:?} is not a Strict-Transport-Security value; expected such as \
             \"max-age=31536000; includeSubDomains\""
        ));
    }
    Ok(s.trim().to_owned())
}
