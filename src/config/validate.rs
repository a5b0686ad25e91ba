//! Raw `File*` structs -> validated [`Config`]: defaults, ranges, formats, cross-field rules.
//!
//! The only producer of `Config`. Every error carries the file, the 1-based line of the
//! offending key or value (or of its table, for a missing key) and the dotted key path. The
//! first error in validation order is returned. The value checks (`check_*`, `parse_*`, in
//! `values`) are pure functions returning a message without a location, shared with
//! `from_flags`. This file holds the top-level tables; `balancer` the balancers and members,
//! `failover` their failover keys and member timings, `health` the health check tables, `ops`
//! the admin listener, the logs and `shutdown_grace`.

use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::time::Duration;

use toml::Spanned;

use super::file::{self, FileConfig, Scalar};
use super::{duration, Config, ConfigError, Forwarded, IoDriver, Limits, StatsConfig, Timeouts};

mod balancer;
mod failover;
mod health;
mod ops;
pub(crate) mod values;

pub(crate) use health::hc_status_text;
pub(crate) use ops::access_text;
pub(crate) use values::{
    check_route, parse_io_driver, parse_listen, parse_loadfactor, parse_member_url, parse_sticky,
    parse_workers, status_text, sticky_sep_text,
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
    let message = e.message().trim().replace('\n', ", ");
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
        None => vec![super::DEFAULT_LISTEN],
    };
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
    let stats = stats(ctx, raw.stats.unwrap_or_default())?;
    let ops = ops::ops(
        ctx,
        raw.shutdown_grace.as_ref(),
        raw.admin.as_ref(),
        raw.log.as_ref(),
        &listen,
    )?;
    let balancers = balancer::balancers(ctx, raw.balancer.unwrap_or_default())?;
    Ok(Config {
        source: ctx.file.to_owned(),
        workers,
        io_driver,
        listen,
        timeouts,
        limits,
        forwarded,
        stats,
        ops,
        balancers,
    })
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
    })
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
    Ok(Limits {
        max_head_bytes: head as usize,
        max_headers: headers as usize,
        max_body_bytes: get(
            &raw.max_body_bytes,
            "max_body_bytes",
            0..i64::MAX,
            d.max_body_bytes,
        )?,
    })
}

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
