//! Raw `File*` structs -> validated [`Config`]: defaults, ranges, formats, cross-field rules.
//!
//! The only producer of `Config`. Every error carries the file, the 1-based line of the
//! offending key or value (or of its table, for a missing key) and the dotted key path. The
//! first error in validation order is returned. The value checks (`check_*`, `parse_*`, in
//! `values`) are pure functions returning a message without a location, shared with
//! `from_flags`. This file holds the top-level tables; `balancer` the balancers and members,
//! `failover` their failover keys and member timings, `health` the health check tables,
//! `member_tls` the `tls_*` keys of `https://` members, `ops` the admin listener, the logs and
//! `shutdown_grace`; `dns_refresh` and `resolvers` are read by `config::dns`.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::file::{self, FileConfig, Scalar};
use super::{
    dns, duration, Config, ConfigError, DnsConfig, Forwarded, IoDriver, Limits, StatsConfig,
    Timeouts, Trust,
};

mod balancer;
mod failover;
mod health;
mod listener;
mod member_ajp;
mod member_limits;
pub(crate) mod member_tls;
mod ops;
mod reverse;
pub(crate) mod routes;
pub(crate) mod values;

pub(crate) use health::hc_status_text;
pub(crate) use ops::access_text;
pub use ops::target_text;

/// [`ops::parse_target`] without a base directory, for the round-trip tests.
#[cfg(test)]
pub(crate) fn parse_target_for_tests(text: &str) -> Result<super::AccessTarget, String> {
    ops::parse_target(None, text)
}
pub(crate) use values::{
    check_not_self, check_route, parse_io_driver, parse_listen, parse_loadfactor, parse_member_url,
    parse_sticky, parse_workers, status_text, sticky_sep_text,
};

/// Where errors point: the file name and its text (for line numbers); and the directory that
/// relative paths in the file are resolved against (`None`: left as written).
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
    base: Option<&'a Path>,
}

impl Ctx<'_> {
    fn err(&self, span: &Range<usize>, key: impl Into<String>, message: String) -> ConfigError {
        ConfigError {
            file: self.file.to_owned(),
            line: file::line_of(self.text, span.start),
            key: key.into(),
            message,
        }
    }

    /// Checks a spanned value with `check`, naming `key` on failure.
    fn check<T, U>(
        &self,
        value: &Spanned<T>,
        key: &str,
        check: impl FnOnce(&T) -> Result<U, String>,
    ) -> Result<U, ConfigError> {
        check(value.get_ref()).map_err(|m| self.err(&value.span(), key, m))
    }
}

/// Parses TOML `text` and validates it; `file` names it in errors and becomes `Config::source`.
/// Relative paths are resolved against `file`'s directory, unless `file` is a pseudo-name such
/// as `<command line>` (starts with `<`).
pub(crate) fn parse_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    let base = if file.starts_with('<') {
        None
    } else {
        Path::new(file).parent()
    };
    parse_str_in(text, file, base)
}

/// [`parse_str`] with the directory for relative paths given (`None`: left as written).
pub(crate) fn parse_str_in(
    text: &str,
    file: &str,
    base: Option<&Path>,
) -> Result<Config, ConfigError> {
    let base = base.filter(|dir| !dir.as_os_str().is_empty());
    let ctx = Ctx { file, text, base };
    let raw: FileConfig = toml::from_str(text).map_err(|e| toml_error(&ctx, &e))?;
    validate(&ctx, raw)
}

/// A TOML syntax or type error: line from its span, key from the document's keys if it parses
/// as TOML at all, else guessed from the line.
fn toml_error(ctx: &Ctx<'_>, e: &toml::de::Error) -> ConfigError {
    let mut message = e.message().trim().replace('\n', ", ");
    if message.is_empty() {
        // toml 0.8 has no words for some syntax errors (a control character in a comment, a
        // key without a value at the end of the file); an error must still say something.
        message = "invalid TOML syntax".to_owned();
    }
    let Some(span) = e.span() else {
        return ConfigError {
            file: ctx.file.to_owned(),
            line: 0,
            key: String::new(),
            message,
        };
    };
    let key = file::KeyIndex::build(ctx.text)
        .and_then(|index| index.path_at(ctx.text, &span).map(str::to_owned))
        .unwrap_or_else(|| file::guess_key(ctx.text, span.start));
    ctx.err(&span, key, message)
}

fn validate(ctx: &Ctx<'_>, raw: FileConfig) -> Result<Config, ConfigError> {
    let workers = match &raw.workers {
        Some(w) => ctx.check(w, "workers", parse_workers)?,
        None => None,
    };
    let io_driver = match &raw.io_driver {
        Some(d) => ctx.check(d, "io_driver", |s| parse_io_driver(s))?,
        None => IoDriver::Auto,
    };
    let listen = match &raw.listen {
        Some(list) => listen_addrs(ctx, list)?,
        // Only `[[listener]]` tables: no default plain listener besides them.
        None if raw.listener.as_ref().is_some_and(|l| !l.is_empty()) => Vec::new(),
        None => vec![super::DEFAULT_LISTEN],
    };
    let proxy_protocol = raw.proxy_protocol.unwrap_or_default();
    let listeners = listener::listeners(
        ctx,
        raw.listener.as_deref().unwrap_or_default(),
        &listen,
        proxy_protocol,
    )?;
    let mut own: Vec<(SocketAddr, String)> = (listen.iter().enumerate())
        .map(|(i, &a)| (a, format!("listen[{i}]")))
        .collect();
    own.extend(
        (listeners.iter().enumerate()).map(|(i, l)| (l.address, format!("listener[{i}].address"))),
    );
    let timeouts = timeouts(ctx, raw.timeouts.unwrap_or_default())?;
    let limits = limits(ctx, raw.limits.unwrap_or_default())?;
    let h = raw.headers.unwrap_or_default();
    let d = Forwarded::default();
    let forwarded = Forwarded {
        x_forwarded_for: h.x_forwarded_for.unwrap_or(d.x_forwarded_for),
        x_forwarded_proto: h.x_forwarded_proto.unwrap_or(d.x_forwarded_proto),
        x_forwarded_host: h.x_forwarded_host.unwrap_or(d.x_forwarded_host),
        preserve_host: h.preserve_host.unwrap_or(d.preserve_host),
    };
    let trust = Trust {
        proxy_protocol,
        trusted_proxies: match &raw.trusted_proxies {
            Some(list) => trusted_proxies(ctx, list)?,
            None => Vec::new(),
        },
    };
    let stats = stats(ctx, raw.stats.unwrap_or_default())?;
    let ops = ops::ops(
        ctx,
        ops::Process {
            shutdown_grace: raw.shutdown_grace.as_ref(),
            pid_file: raw.pid_file.as_ref(),
            reload_on_change: raw.reload_on_change,
        },
        raw.admin.as_ref(),
        raw.log.as_ref(),
        &own,
    )?;
    let raw_balancers = raw.balancer.unwrap_or_default();
    let raw_mounts = raw.mount.unwrap_or_default();
    let raw_vhosts = raw.vhost.unwrap_or_default();
    let routed = !raw_mounts.is_empty() || !raw_vhosts.is_empty();
    let balancers = balancer::balancers(ctx, &raw_balancers, routed)?;
    let routes = routes::routes(ctx, &raw_mounts, &raw_vhosts, &balancers)?;
    member_limits::check_ttls(ctx, &raw_balancers, &balancers, timeouts.upstream_idle)?;
    own.extend(
        ops.admin
            .as_ref()
            .map(|a| (a.listen, "admin.listen".to_owned())),
    );
    for (i, b) in balancers.iter().enumerate() {
        // A host name's address is checked once looked up (`dns::with_addresses`).
        for (j, m) in b
            .members
            .iter()
            .enumerate()
            .filter(|(_, m)| m.dns_name.is_none())
        {
            if let Err(msg) = check_not_self(m.addr, &own) {
                let raw_member = raw_balancers[i]
                    .get_ref()
                    .member
                    .as_ref()
                    .and_then(|v| v.get(j));
                let span = raw_member
                    .and_then(|rm| rm.get_ref().url.as_ref().map(|u| u.span()))
                    .unwrap_or_else(|| raw_balancers[i].span());
                return Err(ctx.err(&span, format!("balancer[{i}].member[{j}].url"), msg));
            }
        }
    }
    Ok(Config {
        source: ctx.file.to_owned(),
        workers,
        io_driver,
        listen,
        listeners,
        timeouts,
        limits,
        forwarded,
        trust,
        stats,
        ops,
        dns: dns_config(ctx, raw.dns_refresh.as_ref(), raw.resolvers.as_ref())?,
        balancers,
        routes,
    })
}

/// `dns_refresh` and `resolvers` (`config::dns`).
fn dns_config(
    ctx: &Ctx<'_>,
    refresh: Option<&Spanned<Scalar>>,
    resolvers: Option<&Spanned<Vec<Spanned<String>>>>,
) -> Result<DnsConfig, ConfigError> {
    let mut out = DnsConfig::default();
    if let Some(v) = refresh {
        out.refresh = ctx.check(v, "dns_refresh", dns::parse_refresh)?;
    }
    let Some(list) = resolvers else {
        return Ok(out);
    };
    for (i, item) in list.get_ref().iter().enumerate() {
        let key = format!("resolvers[{i}]");
        out.resolvers
            .push(ctx.check(item, &key, |s| dns::parse_resolver(s))?);
        if let Err(msg) = dns::check_resolvers(&out.resolvers) {
            return Err(ctx.err(&item.span(), key, msg));
        }
    }
    Ok(out)
}

/// `trusted_proxies`: addresses or CIDR blocks, each at most once.
fn trusted_proxies(
    ctx: &Ctx<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<crate::ipnet::IpNet>, ConfigError> {
    let mut nets: Vec<crate::ipnet::IpNet> = Vec::new();
    for (i, item) in list.get_ref().iter().enumerate() {
        let key = format!("trusted_proxies[{i}]");
        let net = ctx.check(item, &key, |s| {
            s.trim()
                .parse()
                .map_err(|m| format!("expected an address or a CIDR block such as 10.0.0.0/8: {m}"))
        })?;
        if nets.contains(&net) {
            return Err(ctx.err(&item.span(), key, format!("{net} is listed twice")));
        }
        nets.push(net);
    }
    Ok(nets)
}

fn listen_addrs(
    ctx: &Ctx<'_>,
    list: &Spanned<Vec<Spanned<String>>>,
) -> Result<Vec<SocketAddr>, ConfigError> {
    if list.get_ref().is_empty() {
        let msg = "must list at least one address".to_owned();
        return Err(ctx.err(&list.span(), "listen", msg));
    }
    let mut addrs: Vec<SocketAddr> = Vec::new();
    for (i, item) in list.get_ref().iter().enumerate() {
        let key = format!("listen[{i}]");
        let addr = ctx.check(item, &key, |s| parse_listen(s))?;
        if addrs.contains(&addr) {
            let msg = format!("{addr} is listed twice");
            return Err(ctx.err(&item.span(), key, msg));
        }
        addrs.push(addr);
    }
    Ok(addrs)
}

fn timeouts(ctx: &Ctx<'_>, raw: file::FileTimeouts) -> Result<Timeouts, ConfigError> {
    let d = Timeouts::default();
    let get = |value: &Option<Spanned<Scalar>>, name: &str, default| match value {
        Some(v) => ctx.check(v, &format!("timeouts.{name}"), duration::parse),
        None => Ok(default),
    };
    Ok(Timeouts {
        connect: get(&raw.connect, "connect", d.connect)?,
        client_header: get(&raw.client_header, "client_header", d.client_header)?,
        keepalive_idle: get(&raw.keepalive_idle, "keepalive_idle", d.keepalive_idle)?,
        upstream_response: get(
            &raw.upstream_response,
            "upstream_response",
            d.upstream_response,
        )?,
        upstream_idle: get(&raw.upstream_idle, "upstream_idle", d.upstream_idle)?,
        ping: get(&raw.ping, "ping", d.ping)?,
        client_body: get(&raw.client_body, "client_body", d.client_body)?,
        client_body_max: client_body_max(ctx, &raw)?,
        tunnel_idle: get(&raw.tunnel_idle, "tunnel_idle", d.tunnel_idle)?,
    })
}

/// `timeouts.client_body_max`: zero (no cap, the default) or at least `client_body`.
fn client_body_max(ctx: &Ctx<'_>, raw: &file::FileTimeouts) -> Result<Duration, ConfigError> {
    let Some(v) = &raw.client_body_max else {
        return Ok(Timeouts::default().client_body_max);
    };
    let key = "timeouts.client_body_max";
    let max = ctx.check(v, key, |s| {
        duration::parse_within(s, Duration::ZERO, duration::MAX)
    })?;
    let body = match &raw.client_body {
        Some(b) => duration::parse(b.get_ref()).unwrap_or_default(),
        None => Timeouts::default().client_body,
    };
    if !max.is_zero() && max < body {
        let msg = format!(
            "{} is below timeouts.client_body ({}); use 0 for no cap",
            duration::format(max),
            duration::format(body)
        );
        return Err(ctx.err(&v.span(), key, msg));
    }
    Ok(max)
}

fn limits(ctx: &Ctx<'_>, raw: file::FileLimits) -> Result<Limits, ConfigError> {
    let d = Limits::default();
    let get = |value: &Option<Spanned<Scalar>>, name: &str, range: Range<i64>, default: u64| {
        let Some(v) = value else { return Ok(default) };
        ctx.check(v, &format!("limits.{name}"), |s| match s {
            Scalar::Int(n) if range.contains(n) => Ok(*n as u64),
            Scalar::Int(n) if range.end == i64::MAX => {
                Err(format!("{n} is negative; use 0 for unlimited"))
            }
            Scalar::Int(n) => Err(format!(
                "{n} is out of range {}..={}",
                range.start,
                range.end - 1
            )),
            other => Err(format!("expected an integer, found {other}")),
        })
    };
    let head = get(
        &raw.max_head_bytes,
        "max_head_bytes",
        1024..1_048_577,
        d.max_head_bytes as u64,
    )?;
    let headers_range = 1..crate::http::MAX_HEADERS as i64 + 1;
    let headers = get(
        &raw.max_headers,
        "max_headers",
        headers_range,
        d.max_headers as u64,
    )?;
    let max_connections = match &raw.max_connections {
        None => d.max_connections,
        Some(v) => ctx.check(v, "limits.max_connections", parse_max_connections)?,
    };
    Ok(Limits {
        max_head_bytes: head as usize,
        max_headers: headers as usize,
        max_body_bytes: get(
            &raw.max_body_bytes,
            "max_body_bytes",
            0..i64::MAX,
            d.max_body_bytes,
        )?,
        min_body_rate: get(
            &raw.min_body_rate,
            "min_body_rate",
            0..i64::MAX,
            d.min_body_rate,
        )?,
        max_connections,
    })
}

/// `limits.max_connections`: `"auto"` (`None`) or 1..=[`MAX_CONNECTIONS`].
fn parse_max_connections(value: &Scalar) -> Result<Option<u32>, String> {
    match value {
        Scalar::Str(s) if s == "auto" => Ok(None),
        Scalar::Int(n) if (1..=i64::from(MAX_CONNECTIONS)).contains(n) => Ok(Some(*n as u32)),
        Scalar::Int(n) => Err(format!("{n} is out of range 1..={MAX_CONNECTIONS}")),
        other => Err(format!("expected an integer or \"auto\", found {other}")),
    }
}

/// Most client connections per worker that `limits.max_connections` may ask for.
const MAX_CONNECTIONS: u32 = 10_000_000;

/// `[stats]`: `merge_interval` in the timeout spellings, 1ms..=1s.
fn stats(ctx: &Ctx<'_>, raw: file::FileStats) -> Result<StatsConfig, ConfigError> {
    let d = StatsConfig::default();
    let merge_interval = match &raw.merge_interval {
        Some(v) => ctx.check(v, "stats.merge_interval", |s| {
            duration::parse_within(s, duration::MIN, Duration::from_secs(1))
        })?,
        None => d.merge_interval,
    };
    Ok(StatsConfig { merge_interval })
}
