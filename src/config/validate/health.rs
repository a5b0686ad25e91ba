//! Active health checks (mod_proxy_hcheck): `[balancer.health]` sets defaults for every member
//! of the balancer, `[balancer.member.health]` overrides them key by key, `health = false` on a
//! member turns the balancer's check off for it. Each table is checked on its own (errors name
//! its keys), then the member's keys, the balancer's keys and [`HealthCheck::default`] are
//! merged in that order.

use std::time::Duration;

use toml::Spanned;

use super::super::file::{FileHealth, FileMemberHealth, Scalar};
use super::super::{duration, ConfigError, HcMethod, HealthCheck};
use super::Ctx;

/// Shortest `interval`: 100 ms.
const MIN_INTERVAL: Duration = Duration::from_millis(100);
/// Longest `interval`: one hour.
const MAX_INTERVAL: Duration = Duration::from_secs(3600);
/// Most consecutive results `passes` and `fails` may ask for.
const MAX_COUNT: i64 = 100;

/// The keys one health table sets, validated; `None` = not given there.
#[derive(Clone, Debug, Default)]
pub(super) struct HealthParts {
    method: Option<HcMethod>,
    uri: Option<String>,
    interval: Option<Duration>,
    passes: Option<u32>,
    fails: Option<u32>,
    status: Option<(u16, u16)>,
}

impl HealthParts {
    /// These keys, then `fallback`'s, then the defaults.
    fn over(&self, fallback: &HealthParts) -> HealthCheck {
        let d = HealthCheck::default();
        HealthCheck {
            method: self.method.or(fallback.method).unwrap_or(d.method),
            uri: self
                .uri
                .clone()
                .or_else(|| fallback.uri.clone())
                .unwrap_or(d.uri),
            interval: self.interval.or(fallback.interval).unwrap_or(d.interval),
            passes: self.passes.or(fallback.passes).unwrap_or(d.passes),
            fails: self.fails.or(fallback.fails).unwrap_or(d.fails),
            status: self.status.or(fallback.status).unwrap_or(d.status),
        }
    }
}

/// Checks each key of a health table whose dotted path is `prefix`.
pub(super) fn parts(
    ctx: &Ctx<'_>,
    prefix: &str,
    h: &FileHealth,
) -> Result<HealthParts, ConfigError> {
    let key = |name: &str| format!("{prefix}.{name}");
    fn opt<T, U>(
        value: &Option<Spanned<T>>,
        check: impl FnOnce(&Spanned<T>) -> Result<U, ConfigError>,
    ) -> Result<Option<U>, ConfigError> {
        value.as_ref().map(check).transpose()
    }
    Ok(HealthParts {
        method: opt(&h.method, |v| {
            ctx.check(v, &key("method"), |s| parse_hc_method(s))
        })?,
        uri: opt(&h.uri, |v| {
            ctx.check(v, &key("uri"), |s| check_hc_uri(s).map(|()| s.clone()))
        })?,
        interval: opt(&h.interval, |v| {
            ctx.check(v, &key("interval"), parse_hc_interval)
        })?,
        passes: opt(&h.passes, |v| ctx.check(v, &key("passes"), parse_hc_count))?,
        fails: opt(&h.fails, |v| ctx.check(v, &key("fails"), parse_hc_count))?,
        status: opt(&h.status, |v| ctx.check(v, &key("status"), parse_hc_status))?,
    })
}

/// The check of the member at `prefix`: its own table over the balancer's (`balancer`), the
/// balancer's alone, or none (no table anywhere, or `health = false`).
pub(super) fn member_health(
    ctx: &Ctx<'_>,
    prefix: &str,
    value: &Option<Spanned<FileMemberHealth>>,
    balancer: Option<&HealthParts>,
) -> Result<Option<HealthCheck>, ConfigError> {
    let Some(spanned) = value else {
        return Ok(balancer.map(|b| b.over(&HealthParts::default())));
    };
    match spanned.get_ref() {
        FileMemberHealth::Switch(false) => Ok(None),
        FileMemberHealth::Switch(true) => {
            let msg = "health = true is not a check: write a [balancer.member.health] table \
                       (or [balancer.health] for every member); only false is accepted here, \
                       to turn the balancer's check off for this member"
                .to_owned();
            Err(ctx.err(&spanned.span(), format!("{prefix}.health"), msg))
        }
        FileMemberHealth::Table(table) => {
            let own = parts(ctx, &format!("{prefix}.health"), table)?;
            Ok(Some(own.over(&balancer.cloned().unwrap_or_default())))
        }
    }
}

/// `method`: `TCP`, `OPTIONS`, `HEAD`, `GET` or `CPING`, case-insensitive.
pub(crate) fn parse_hc_method(name: &str) -> Result<HcMethod, String> {
    HcMethod::from_name(name).ok_or_else(|| {
        format!("unknown health check method {name:?}; expected TCP, OPTIONS, HEAD, GET or CPING")
    })
}

/// `uri`: starts with `/`; visible ASCII (it goes into the request line as written), no `#`.
pub(crate) fn check_hc_uri(uri: &str) -> Result<(), String> {
    if !uri.starts_with('/') {
        return Err(format!("uri {uri:?} must start with \"/\""));
    }
    if !uri.bytes().all(|b| b.is_ascii_graphic() && b != b'#') {
        return Err(format!(
            "uri {uri:?} must be visible ASCII without whitespace, control characters or #"
        ));
    }
    Ok(())
}

/// `interval`: a duration 100ms..=1h.
pub(crate) fn parse_hc_interval(value: &Scalar) -> Result<Duration, String> {
    duration::parse_within(value, MIN_INTERVAL, MAX_INTERVAL)
}

/// `passes` and `fails`: an integer 1..=100.
pub(crate) fn parse_hc_count(value: &Scalar) -> Result<u32, String> {
    match value {
        Scalar::Int(n) if (1..=MAX_COUNT).contains(n) => Ok(*n as u32),
        Scalar::Int(n) => Err(format!("{n} is out of range 1..={MAX_COUNT}")),
        other => Err(format!(
            "expected an integer 1..={MAX_COUNT}, found {other}"
        )),
    }
}

/// `status`: `"LO-HI"` (inclusive), a single code as a string or an integer; codes 100..=599,
/// `LO <= HI`.
pub(crate) fn parse_hc_status(value: &Scalar) -> Result<(u16, u16), String> {
    const EXPECTED: &str = "expected a status range such as \"200-399\" or one code such as 200";
    let in_range = |n: i64| -> Result<u16, String> {
        if !(100..=599).contains(&n) {
            return Err(format!("{n} is not a status code 100..=599"));
        }
        Ok(n as u16)
    };
    let code = |text: &str| -> Result<u16, String> {
        let t = text.trim();
        let n: i64 = t
            .parse()
            .ok()
            .filter(|_| t.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| format!("{EXPECTED}, found {value}"))?;
        in_range(n)
    };
    let (lo, hi) = match value {
        Scalar::Int(n) => {
            let c = in_range(*n)?;
            (c, c)
        }
        Scalar::Str(text) => match text.split_once('-') {
            Some((lo, hi)) => (code(lo)?, code(hi)?),
            None => {
                let c = code(text)?;
                (c, c)
            }
        },
        other => return Err(format!("{EXPECTED}, found {other}")),
    };
    if lo > hi {
        return Err(format!(
            "status range {lo}-{hi} is empty: the first code must not exceed the second"
        ));
    }
    Ok((lo, hi))
}

/// `status` as [`parse_hc_status`] reads it back: `"200-399"`, or `"200"` for one code.
pub(crate) fn hc_status_text((lo, hi): (u16, u16)) -> String {
    if lo == hi {
        lo.to_string()
    } else {
        format!("{lo}-{hi}")
    }
}
