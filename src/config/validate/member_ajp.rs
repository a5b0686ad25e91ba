//! The AJP13 keys of a `[[balancer.member]]` (`secret`, `packet_size`, `ping`) and the health
//! check rules for `ajp://` members: they are checked with `CPING` (or `TCP`), never with an
//! HTTP method, and `CPING` checks nothing else.

use std::time::Duration;

use toml::Spanned;

use super::super::file::{FileMember, FileMemberHealth, Scalar};
use super::super::member_ajp::{MemberAjp, PACKET_SIZES};
use super::super::{duration, ConfigError, HcMethod, HealthCheck};
use super::Ctx;

/// Longest `ping`.
const MAX_PING: Duration = Duration::from_secs(60);

/// The member's AJP settings: `Some` exactly when its URL is `ajp://`. The keys are refused on
/// any other member, naming the key.
pub(super) fn member(
    ctx: &Ctx<'_>,
    prefix: &str,
    m: &FileMember,
    ajp: bool,
) -> Result<Option<MemberAjp>, ConfigError> {
    let key = |name: &str| format!("{prefix}.{name}");
    if !ajp {
        let given = [
            ("secret", m.secret.as_ref().map(|s| s.span())),
            ("packet_size", m.packet_size.as_ref().map(|s| s.span())),
            ("ping", m.ping.as_ref().map(|s| s.span())),
        ];
        if let Some((name, Some(span))) = given.into_iter().find(|(_, s)| s.is_some()) {
            let more = if name == "ping" {
                "; for http:// and https:// members the 100-continue wait is timeouts.ping"
            } else {
                ""
            };
            let msg = format!("{name} applies only to ajp:// members{more}");
            return Err(ctx.err(&span, key(name), msg));
        }
        return Ok(None);
    }
    let d = MemberAjp::default();
    let secret = match &m.secret {
        Some(s) => Some(ctx.check(s, &key("secret"), |s| check_secret(s).map(|()| s.clone()))?),
        None => None,
    };
    let packet_size = match &m.packet_size {
        Some(v) => ctx.check(v, &key("packet_size"), parse_packet_size)?,
        None => d.packet_size,
    };
    let ping = match &m.ping {
        Some(v) => ctx.check(v, &key("ping"), |s| {
            duration::parse_within(s, Duration::ZERO, MAX_PING)
        })?,
        None => Duration::ZERO,
    };
    Ok(Some(MemberAjp {
        secret,
        packet_size,
        ping: (!ping.is_zero()).then_some(ping),
    }))
}

/// A secret is sent as an AJP string: printable ASCII, at most 1024 bytes, not empty.
fn check_secret(s: &str) -> Result<(), String> {
    if s.is_empty() {
        return Err("secret is empty; leave the key out for no secret".to_owned());
    }
    if s.len() > 1024 {
        return Err(format!("secret is {} bytes; at most 1024", s.len()));
    }
    if !s.bytes().all(|b| (0x20..0x7F).contains(&b)) {
        return Err("secret must be printable ASCII".to_owned());
    }
    Ok(())
}

/// `packet_size`: an integer in 8192..=65536.
pub(crate) fn parse_packet_size(value: &Scalar) -> Result<usize, String> {
    match value {
        Scalar::Int(n) if PACKET_SIZES.contains(n) => Ok(*n as usize),
        Scalar::Int(n) => Err(format!(
            "{n} is out of range {}..={} (Tomcat's packetSize)",
            PACKET_SIZES.start(),
            PACKET_SIZES.end()
        )),
        other => Err(format!("expected an integer, found {other}")),
    }
}

/// The health check of a member, fitted to its protocol: an `ajp://` member inherits `CPING`
/// where the balancer's check (or the default) is an HTTP method, and is refused an HTTP
/// method in its own table; any other member is refused `CPING`.
pub(super) fn fit_health(
    ctx: &Ctx<'_>,
    prefix: &str,
    m: &FileMember,
    ajp: bool,
    health: &mut Option<HealthCheck>,
    url_span: &std::ops::Range<usize>,
) -> Result<(), ConfigError> {
    let Some(check) = health else {
        return Ok(());
    };
    let own_method = match &m.health {
        Some(h) => match h.get_ref() {
            FileMemberHealth::Table(t) => t.method.as_ref().map(Spanned::span),
            FileMemberHealth::Switch(_) => None,
        },
        None => None,
    };
    let http_method = !matches!(check.method, HcMethod::Tcp | HcMethod::Cping);
    let key = format!("{prefix}.health.method");
    if ajp && http_method {
        if let Some(span) = own_method {
            let msg = format!(
                "{} is an HTTP check; an ajp:// member is checked with CPING or TCP",
                check.method.as_str()
            );
            return Err(ctx.err(&span, key, msg));
        }
        check.method = HcMethod::Cping;
    } else if !ajp && check.method == HcMethod::Cping {
        let msg = "CPING checks only ajp:// members".to_owned();
        return Err(ctx.err(&own_method.unwrap_or(url_span.clone()), key, msg));
    }
    Ok(())
}
