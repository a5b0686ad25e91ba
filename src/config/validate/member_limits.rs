//! The connection-limit keys (`max`, `smax`, `ttl`, `acquire`, `maxqueue`) of a
//! `[[balancer.member]]`, over the defaults its `[[balancer]]` sets, and the rules between
//! them: `acquire` and `maxqueue` need `max`, `smax` is at most `max`, `ttl` at most
//! `timeouts.upstream_idle`.

use std::ops::Range;
use std::time::Duration;

use toml::Spanned;

use super::super::file::{FileBalancer, FileMember, Scalar};
use super::super::member_limits::{MemberLimits, MAXQUEUE_LIMIT, MAX_IDLE_PER_MEMBER, MAX_RANGE};
use super::super::{duration, BalancerConfig, ConfigError};
use super::Ctx;

/// One key's value and where it was written (for errors that involve two keys).
type At<T> = Option<(T, Range<usize>, String)>;

/// What a balancer hands down to each member that does not set the key itself.
#[derive(Default)]
pub(super) struct LimitDefaults {
    max: At<u32>,
    smax: At<usize>,
    ttl: At<Duration>,
    acquire: At<Duration>,
    maxqueue: At<u32>,
}

/// The five keys of one table, at `prefix` (`balancer[0]` or `balancer[0].member[1]`).
struct Keys<'a> {
    max: &'a Option<Spanned<Scalar>>,
    smax: &'a Option<Spanned<Scalar>>,
    ttl: &'a Option<Spanned<Scalar>>,
    acquire: &'a Option<Spanned<Scalar>>,
    maxqueue: &'a Option<Spanned<Scalar>>,
}

/// Reads the keys of one table; each value is checked on its own.
fn read(ctx: &Ctx<'_>, prefix: &str, k: &Keys<'_>) -> Result<LimitDefaults, ConfigError> {
    fn one<T>(
        ctx: &Ctx<'_>,
        key: String,
        value: &Option<Spanned<Scalar>>,
        parse: impl FnOnce(&Scalar) -> Result<T, String>,
    ) -> Result<At<T>, ConfigError> {
        let Some(v) = value else { return Ok(None) };
        Ok(Some((ctx.check(v, &key, parse)?, v.span(), key)))
    }
    let key = |name: &str| format!("{prefix}.{name}");
    Ok(LimitDefaults {
        max: one(ctx, key("max"), k.max, parse_max)?,
        smax: one(ctx, key("smax"), k.smax, parse_smax)?,
        ttl: one(ctx, key("ttl"), k.ttl, duration::parse)?,
        acquire: one(ctx, key("acquire"), k.acquire, duration::parse)?,
        maxqueue: one(ctx, key("maxqueue"), k.maxqueue, parse_maxqueue)?,
    })
}

/// The limit keys of balancer `i`, the defaults of its members.
pub(super) fn defaults(
    ctx: &Ctx<'_>,
    i: usize,
    b: &FileBalancer,
) -> Result<LimitDefaults, ConfigError> {
    let keys = Keys {
        max: &b.max,
        smax: &b.smax,
        ttl: &b.ttl,
        acquire: &b.acquire,
        maxqueue: &b.maxqueue,
    };
    read(ctx, &format!("balancer[{i}]"), &keys)
}

/// The limits of the member at `prefix`: its own keys, else its balancer's `defaults`.
pub(super) fn member(
    ctx: &Ctx<'_>,
    prefix: &str,
    m: &FileMember,
    defaults: &LimitDefaults,
) -> Result<MemberLimits, ConfigError> {
    let keys = Keys {
        max: &m.max,
        smax: &m.smax,
        ttl: &m.ttl,
        acquire: &m.acquire,
        maxqueue: &m.maxqueue,
    };
    let own = read(ctx, prefix, &keys)?;
    let max = own.max.as_ref().or(defaults.max.as_ref());
    if max.is_none() {
        // Only the member's own keys are refused: a balancer's default applies to the
        // members that have a limit.
        if let Some((_, span, key)) = own.acquire.as_ref() {
            let msg = "acquire (the longest wait for a connection) needs max".to_owned();
            return Err(ctx.err(span, key.clone(), msg));
        }
        if let Some((_, span, key)) = own.maxqueue.as_ref() {
            let msg = "maxqueue (the requests waiting for a connection) needs max".to_owned();
            return Err(ctx.err(span, key.clone(), msg));
        }
    }
    let smax = own.smax.as_ref().or(defaults.smax.as_ref());
    if let (Some((max, ..)), Some((smax, span, key))) = (max, smax) {
        if *smax > *max as usize {
            let msg = format!("smax {smax} is above max {max}: more idle connections than open");
            return Err(ctx.err(span, key.clone(), msg));
        }
    }
    let value = |own: &At<Duration>, d: &At<Duration>| own.as_ref().or(d.as_ref()).map(|v| v.0);
    let limited = max.is_some();
    Ok(MemberLimits {
        max: max.map(|v| v.0),
        smax: smax.map_or(0, |v| v.0),
        ttl: value(&own.ttl, &defaults.ttl),
        acquire: value(&own.acquire, &defaults.acquire).filter(|_| limited),
        maxqueue: (own.maxqueue.as_ref().or(defaults.maxqueue.as_ref()))
            .map(|v| v.0)
            .filter(|_| limited),
    })
}

/// A balancer's `acquire` or `maxqueue` with no member that has `max`: a setting that does
/// nothing is a mistake.
pub(super) fn check_defaults_used(
    ctx: &Ctx<'_>,
    defaults: &LimitDefaults,
    members: &[super::super::MemberConfig],
) -> Result<(), ConfigError> {
    if members.iter().any(|m| m.options.limits.max.is_some()) {
        return Ok(());
    }
    let unused = (defaults.acquire.as_ref().map(|(_, s, k)| (s, k)))
        .or(defaults.maxqueue.as_ref().map(|(_, s, k)| (s, k)));
    match unused {
        Some((span, key)) => {
            let msg = "no member of this balancer has max (a connection limit) for it to apply to"
                .to_owned();
            Err(ctx.err(span, key.clone(), msg))
        }
        None => Ok(()),
    }
}

/// Every member's `ttl` is at most `timeouts.upstream_idle`, which bounds the idle time of
/// every pooled connection. The error names the key that set it (the member's, or its
/// balancer's default).
pub(super) fn check_ttls(
    ctx: &Ctx<'_>,
    raw: &[Spanned<FileBalancer>],
    balancers: &[BalancerConfig],
    upstream_idle: Duration,
) -> Result<(), ConfigError> {
    for (i, (b, raw_b)) in balancers.iter().zip(raw).enumerate() {
        let raw_members = raw_b.get_ref().member.as_deref().unwrap_or_default();
        for (j, (m, raw_m)) in b.members.iter().zip(raw_members).enumerate() {
            let Some(ttl) = m.options.limits.ttl.filter(|t| *t > upstream_idle) else {
                continue;
            };
            let (span, key) = match (&raw_m.get_ref().ttl, &raw_b.get_ref().ttl) {
                (Some(own), _) => (own.span(), format!("balancer[{i}].member[{j}].ttl")),
                (None, Some(d)) => (d.span(), format!("balancer[{i}].ttl")),
                (None, None) => (raw_m.span(), format!("balancer[{i}].member[{j}].ttl")),
            };
            let msg = format!(
                "ttl {} is longer than timeouts.upstream_idle ({}), which bounds every pooled \
                 connection's idle time; raise timeouts.upstream_idle",
                duration::format(ttl),
                duration::format(upstream_idle)
            );
            return Err(ctx.err(&span, key, msg));
        }
    }
    Ok(())
}

/// `max`: an integer in 1..=65535.
pub(crate) fn parse_max(value: &Scalar) -> Result<u32, String> {
    match value {
        Scalar::Int(n) if MAX_RANGE.contains(n) => Ok(*n as u32),
        Scalar::Int(n) => Err(format!(
            "{n} is out of range {}..={} (leave max out for no limit)",
            MAX_RANGE.start(),
            MAX_RANGE.end()
        )),
        other => Err(format!("expected an integer, found {other}")),
    }
}

/// `smax`: an integer in 0..=256 (the idle connections a worker keeps per member at most).
pub(crate) fn parse_smax(value: &Scalar) -> Result<usize, String> {
    match value {
        Scalar::Int(n) if (0..=MAX_IDLE_PER_MEMBER as i64).contains(n) => Ok(*n as usize),
        Scalar::Int(n) => Err(format!(
            "{n} is out of range 0..={MAX_IDLE_PER_MEMBER} (idle connections per worker)"
        )),
        other => Err(format!("expected an integer, found {other}")),
    }
}

/// `maxqueue`: an integer in 0..=1000000 (0: no request waits).
pub(crate) fn parse_maxqueue(value: &Scalar) -> Result<u32, String> {
    match value {
        Scalar::Int(n) if (0..=MAXQUEUE_LIMIT).contains(n) => Ok(*n as u32),
        Scalar::Int(n) => Err(format!(
            "{n} is out of range 0..={MAXQUEUE_LIMIT} (leave maxqueue out for no bound)"
        )),
        other => Err(format!("expected an integer, found {other}")),
    }
}
