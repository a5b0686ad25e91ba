//! A balancer's failover keys (`maxattempts`, `forcerecovery`, `failonstatus`,
//! `failontimeout`, docs/semantics.md §6) and the member timings `retry` and `slowstart`, which a
//! balancer sets as defaults for its members and a member may override.

use std::time::Duration;

use toml::Spanned;

use super::super::file::{FileBalancer, Scalar, ScalarList};
use super::super::{duration, ConfigError, Failover, MemberOptions, MAX_MEMBERS};
use super::health::{self, HealthParts};
use super::values::parse_on_off;
use super::Ctx;

/// Largest `retry` and `slowstart`: one hour.
const MAX_MEMBER_TIMING: Duration = Duration::from_secs(3600);

/// What a balancer hands down to each member that does not set the key itself.
pub(super) struct MemberDefaults {
    pub(super) retry: Duration,
    pub(super) slowstart: Duration,
    /// The balancer's `[balancer.health]` keys; `None` = no table.
    pub(super) health: Option<HealthParts>,
}

/// `maxattempts`, `forcerecovery`, `failonstatus`, `failontimeout` of balancer `i`.
pub(super) fn failover(ctx: &Ctx<'_>, i: usize, b: &FileBalancer) -> Result<Failover, ConfigError> {
    let key = |name: &str| format!("balancer[{i}].{name}");
    let d = Failover::default();
    let switch = |value: &Option<Spanned<Scalar>>, name: &str, default: bool| match value {
        Some(v) => ctx.check(v, &key(name), parse_on_off),
        None => Ok(default),
    };
    let maxattempts = match &b.maxattempts {
        Some(v) => Some(ctx.check(v, &key("maxattempts"), parse_maxattempts)?),
        None => d.maxattempts,
    };
    let failonstatus = match &b.failonstatus {
        Some(v) => failonstatus(ctx, &key("failonstatus"), v)?,
        None => d.failonstatus,
    };
    Ok(Failover {
        maxattempts,
        forcerecovery: switch(&b.forcerecovery, "forcerecovery", d.forcerecovery)?,
        failonstatus,
        failontimeout: switch(&b.failontimeout, "failontimeout", d.failontimeout)?,
    })
}

/// The balancer-level `retry`, `slowstart` and `[balancer.health]` of balancer `i`.
pub(super) fn member_defaults(
    ctx: &Ctx<'_>,
    i: usize,
    b: &FileBalancer,
) -> Result<MemberDefaults, ConfigError> {
    let d = MemberOptions::default();
    let prefix = format!("balancer[{i}]");
    Ok(MemberDefaults {
        retry: timing(ctx, &prefix, "retry", &b.retry, d.retry)?,
        slowstart: timing(ctx, &prefix, "slowstart", &b.slowstart, d.slowstart)?,
        health: match &b.health {
            Some(h) => Some(health::parts(
                ctx,
                &format!("{prefix}.health"),
                h.get_ref(),
            )?),
            None => None,
        },
    })
}

/// `retry` or `slowstart` at `prefix.name`: a duration 0..=1h (0 = always retry / no ramp);
/// `default` when absent.
pub(super) fn timing(
    ctx: &Ctx<'_>,
    prefix: &str,
    name: &str,
    value: &Option<Spanned<Scalar>>,
    default: Duration,
) -> Result<Duration, ConfigError> {
    match value {
        Some(v) => ctx.check(v, &format!("{prefix}.{name}"), parse_member_timing),
        None => Ok(default),
    }
}

/// `failonstatus` as an array (errors name the element, `failonstatus[j]`) or as Apache's
/// string of codes (errors name the key).
fn failonstatus(
    ctx: &Ctx<'_>,
    key: &str,
    value: &Spanned<ScalarList>,
) -> Result<Vec<u16>, ConfigError> {
    match value.get_ref() {
        ScalarList::One(Scalar::Str(text)) => {
            ctx.check(value, key, |_| parse_failonstatus_text(text))
        }
        ScalarList::One(other) => {
            let msg = format!(
                "expected an array of status codes or a string such as \"500,503\", found {other}"
            );
            Err(ctx.err(&value.span(), key, msg))
        }
        ScalarList::List(items) => {
            let mut codes: Vec<u16> = Vec::with_capacity(items.len());
            for (j, item) in items.iter().enumerate() {
                let item_key = format!("{key}[{j}]");
                let code = ctx.check(item, &item_key, parse_status_code)?;
                if codes.contains(&code) {
                    let msg = format!("status {code} is listed twice");
                    return Err(ctx.err(&item.span(), item_key, msg));
                }
                codes.push(code);
            }
            Ok(codes)
        }
    }
}

/// `maxattempts`: an integer `0..=MAX_MEMBERS` (more attempts than members cannot help).
pub(crate) fn parse_maxattempts(value: &Scalar) -> Result<u32, String> {
    match value {
        Scalar::Int(n) if (0..=MAX_MEMBERS as i64).contains(n) => Ok(*n as u32),
        Scalar::Int(n) => Err(format!("{n} is out of range 0..={MAX_MEMBERS}")),
        other => Err(format!(
            "expected an integer 0..={MAX_MEMBERS}, found {other}"
        )),
    }
}

/// One HTTP status code, an integer 100..=599.
pub(crate) fn parse_status_code(value: &Scalar) -> Result<u16, String> {
    match value {
        Scalar::Int(n) if (100..=599).contains(n) => Ok(*n as u16),
        Scalar::Int(n) => Err(format!("{n} is not a status code 100..=599")),
        other => Err(format!("expected a status code 100..=599, found {other}")),
    }
}

/// Apache's `failonstatus=500,503`: codes separated by commas and/or spaces; empty = none.
pub(crate) fn parse_failonstatus_text(text: &str) -> Result<Vec<u16>, String> {
    let mut codes: Vec<u16> = Vec::new();
    for token in text.split([',', ' ', '\t']).filter(|t| !t.is_empty()) {
        let code = token
            .parse::<i64>()
            .ok()
            .filter(|_| token.bytes().all(|b| b.is_ascii_digit()))
            .ok_or_else(|| {
                format!(
                    "{token:?} in {text:?} is not a status code; expected codes 100..=599 \
                     separated by commas, as in \"500,503\""
                )
            })
            .and_then(|n| parse_status_code(&Scalar::Int(n)))?;
        if codes.contains(&code) {
            return Err(format!("status {code} is listed twice in {text:?}"));
        }
        codes.push(code);
    }
    Ok(codes)
}

/// `retry` and `slowstart`: a duration `0..=1h`.
pub(crate) fn parse_member_timing(value: &Scalar) -> Result<Duration, String> {
    duration::parse_within(value, Duration::ZERO, MAX_MEMBER_TIMING)
}
