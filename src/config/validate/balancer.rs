//! `[[balancer]]` and `[[balancer.member]]` tables -> [`BalancerConfig`]: per-key checks, then
//! the rules that span keys or members (sticky options need `stickysession`, unique routes,
//! `lbset` xor `distance`, `redirect` targets). The failover keys and the member defaults a
//! balancer hands down (`retry`, `slowstart`, `[balancer.health]`, the connection limits) are
//! in `failover`, `health` and `member_limits`.

use toml::Spanned;

use super::super::file::{FileBalancer, FileInsertCookie, FileMember, Scalar};
use super::super::{
    file, BalancerConfig, BalancerOptions, ConfigError, InsertCookie, LbMethod, MemberConfig,
    MemberOptions, MemberTls, MemberTlsDefaults, PathMount, MAX_MEMBERS,
};
use super::failover::{self, MemberDefaults};
use super::member_ajp;
use super::member_limits::{self, LimitDefaults};
use super::member_tls::{self, Keys};
use super::values::{
    apply_status, check_cookie_domain, check_cookie_name, check_cookie_path, check_domain,
    check_header_name, check_name, check_path, check_route, parse_activation, parse_lbmethod,
    parse_lbset, parse_loadfactor, parse_max_age, parse_member_url, parse_on_off, parse_same_site,
    parse_sticky, parse_sticky_sep,
};
use super::{health, Ctx};
use crate::config::decay::{self, LbstatusDecay};
use crate::config::Status;

/// The balancers; `routed` (the file has `[[mount]]` or `[[vhost]]` tables) makes a balancer
/// without `mount` unmounted instead of mounted at `/`.
pub(super) fn balancers(
    ctx: &Ctx<'_>,
    raw: &[Spanned<FileBalancer>],
    routed: bool,
) -> Result<Vec<BalancerConfig>, ConfigError> {
    if raw.is_empty() {
        let line = file::KeyIndex::build(ctx.text)
            .and_then(|index| index.start_of("balancer"))
            .map_or(0, |start| file::line_of(ctx.text, start));
        return Err(ConfigError {
            file: ctx.file.to_owned(),
            line,
            key: "balancer".to_owned(),
            message: "at least one [[balancer]] with members is required".to_owned(),
        });
    }
    let mut out: Vec<BalancerConfig> = Vec::with_capacity(raw.len());
    let mut lines: Vec<usize> = Vec::with_capacity(raw.len());
    for (i, b) in raw.iter().enumerate() {
        let balancer = balancer(ctx, i, b, routed)?;
        let line = file::line_of(ctx.text, b.span().start);
        if let Some(j) = out.iter().position(|o| o.name == balancer.name) {
            let span = b.get_ref().name.as_ref().map_or(b.span(), |n| n.span());
            let msg = format!(
                "duplicate balancer name {:?} (first at line {})",
                balancer.name, lines[j]
            );
            return Err(ctx.err(&span, format!("balancer[{i}].name"), msg));
        }
        let path = |b: &BalancerConfig| b.mount.as_ref().map(|m| m.path.clone());
        let used = out
            .iter()
            .position(|o| path(o).is_some() && path(o) == path(&balancer));
        if let Some(j) = used {
            let span = b.get_ref().mount.as_ref().map_or(b.span(), |m| m.span());
            let msg = format!(
                "mount {:?} is already used by balancer {:?}",
                path(&balancer).unwrap_or_default(),
                out[j].name
            );
            return Err(ctx.err(&span, format!("balancer[{i}].mount"), msg));
        }
        out.push(balancer);
        lines.push(line);
    }
    Ok(out)
}

fn balancer(
    ctx: &Ctx<'_>,
    i: usize,
    spanned: &Spanned<FileBalancer>,
    routed: bool,
) -> Result<BalancerConfig, ConfigError> {
    let b = spanned.get_ref();
    let key = |name: &str| format!("balancer[{i}].{name}");
    let name = match &b.name {
        Some(n) => ctx.check(n, &key("name"), |s| check_name(s).map(|()| s.clone()))?,
        None => {
            let msg = "missing required key `name`".to_owned();
            return Err(ctx.err(&spanned.span(), key("name"), msg));
        }
    };
    let path = match &b.mount {
        Some(m) => Some(ctx.check(m, &key("mount"), |s| check_path(s).map(|()| s.clone()))?),
        None if routed => None,
        None => Some("/".to_owned()),
    };
    let target_path = match &b.target_path {
        Some(t) if path.is_none() => {
            let msg = "target_path needs the balancer's own `mount`".to_owned();
            return Err(ctx.err(&t.span(), key("target_path"), msg));
        }
        Some(t) => Some(ctx.check(t, &key("target_path"), |s| {
            check_path(s).map(|()| s.clone())
        })?),
        None => None,
    };
    let mount = path.map(|path| PathMount {
        target_path: target_path.unwrap_or_else(|| path.clone()),
        path,
    });
    let lbmethod = match &b.lbmethod {
        Some(m) => ctx.check(m, &key("lbmethod"), |s| parse_lbmethod(s))?,
        None => LbMethod::ByRequests,
    };
    let mut sticky = match &b.stickysession {
        Some(s) => Some(ctx.check(s, &key("stickysession"), |s| parse_sticky(s))?),
        None => None,
    };
    if let Some(sep) = &b.stickysessionsep {
        let value = ctx.check(sep, &key("stickysessionsep"), |s| parse_sticky_sep(s))?;
        let Some(sticky) = sticky.as_mut() else {
            let msg = "stickysessionsep needs stickysession".to_owned();
            return Err(ctx.err(&sep.span(), key("stickysessionsep"), msg));
        };
        sticky.sep = value;
    }
    if let Some(delim) = &b.scolonpathdelim {
        let value = ctx.check(delim, &key("scolonpathdelim"), parse_on_off)?;
        let Some(sticky) = sticky.as_mut() else {
            let msg = "scolonpathdelim needs stickysession".to_owned();
            return Err(ctx.err(&delim.span(), key("scolonpathdelim"), msg));
        };
        sticky.scolonpathdelim = value;
    }
    let options = balancer_options(ctx, i, b)?;
    let defaults = failover::member_defaults(ctx, i, b)?;
    let limit_defaults = member_limits::defaults(ctx, i, b)?;
    let tls_defaults = &options.member_tls;
    let raw_members = b.member.as_deref().unwrap_or_default();
    if raw_members.is_empty() {
        let msg = "a balancer needs at least one [[balancer.member]]".to_owned();
        return Err(ctx.err(&spanned.span(), key("member"), msg));
    }
    if let Some(extra) = raw_members.get(MAX_MEMBERS) {
        let msg = format!(
            "{} members; at most {MAX_MEMBERS} per balancer (the width of the failover avoid-set)",
            raw_members.len()
        );
        return Err(ctx.err(&extra.span(), key("member"), msg));
    }
    let mut members: Vec<MemberConfig> = Vec::with_capacity(raw_members.len());
    for (j, m) in raw_members.iter().enumerate() {
        let prefix = format!("balancer[{i}].member[{j}]");
        let member = member(ctx, &prefix, m, (&defaults, &limit_defaults), tls_defaults)?;
        if !member.route.is_empty() {
            if let Some(first) = members.iter().position(|o| o.route == member.route) {
                let span = m.get_ref().route.as_ref().map_or(m.span(), |r| r.span());
                let msg = format!("duplicate route {:?} (also member[{first}])", member.route);
                return Err(ctx.err(&span, format!("balancer[{i}].member[{j}].route"), msg));
            }
        }
        members.push(member);
    }
    check_redirects(ctx, i, &name, raw_members, &members)?;
    member_limits::check_defaults_used(ctx, &limit_defaults, &members)?;
    Ok(BalancerConfig {
        name,
        mount,
        lbmethod,
        sticky,
        options,
        members,
    })
}

/// `nofailover`, `balancer_headers`, `activation_header`, `[balancer.insert_cookie]` and the
/// failover keys.
fn balancer_options(
    ctx: &Ctx<'_>,
    i: usize,
    b: &FileBalancer,
) -> Result<BalancerOptions, ConfigError> {
    let key = |name: &str| format!("balancer[{i}].{name}");
    let switch = |value: &Option<Spanned<Scalar>>, name: &str| match value {
        Some(v) => ctx.check(v, &key(name), parse_on_off),
        None => Ok(false),
    };
    let activation_header = match &b.activation_header {
        Some(h) => Some(ctx.check(h, &key("activation_header"), |s| {
            check_header_name(s).map(|()| s.clone())
        })?),
        None => None,
    };
    let insert_cookie = match &b.insert_cookie {
        Some(c) => Some(insert_cookie(ctx, &key("insert_cookie"), c)?),
        None => None,
    };
    Ok(BalancerOptions {
        nofailover: switch(&b.nofailover, "nofailover")?,
        insert_cookie,
        balancer_headers: switch(&b.balancer_headers, "balancer_headers")?,
        activation_header,
        failover: failover::failover(ctx, i, b)?,
        member_tls: member_tls::defaults(ctx, &format!("balancer[{i}]"), &Keys::of_balancer(b))?,
        lbstatus_decay: match &b.lbstatus_decay {
            Some(v) => ctx.check(v, &key("lbstatus_decay"), decay::parse)?,
            None => LbstatusDecay::default(),
        },
        reverse: super::reverse::reverse(ctx, i, b)?,
    })
}

/// `[balancer.insert_cookie]`: name `ROUTEID`, path `/`, `HttpOnly` and no `Secure` unless
/// given; domain, max_age and samesite only when given.
fn insert_cookie(
    ctx: &Ctx<'_>,
    prefix: &str,
    spanned: &Spanned<FileInsertCookie>,
) -> Result<InsertCookie, ConfigError> {
    let c = spanned.get_ref();
    let key = |name: &str| format!("{prefix}.{name}");
    let text =
        |value: &Option<Spanned<String>>, name: &str, check: fn(&str) -> Result<(), String>| {
            match value {
                Some(v) => ctx
                    .check(v, &key(name), |s| check(s).map(|()| s.clone()))
                    .map(Some),
                None => Ok(None),
            }
        };
    let name = text(&c.name, "name", check_cookie_name)?;
    let path = text(&c.path, "path", check_cookie_path)?;
    let domain = text(&c.domain, "domain", check_cookie_domain)?;
    let max_age = match &c.max_age {
        Some(m) => Some(ctx.check(m, &key("max_age"), parse_max_age)?),
        None => None,
    };
    let same_site = match &c.samesite {
        Some(s) => Some(ctx.check(s, &key("samesite"), |s| parse_same_site(s))?),
        None => None,
    };
    Ok(InsertCookie {
        name: name.unwrap_or_else(|| "ROUTEID".to_owned()),
        path: path.unwrap_or_else(|| "/".to_owned()),
        domain,
        max_age,
        http_only: c.httponly.unwrap_or(true),
        secure: c.secure.unwrap_or(false),
        same_site,
    })
}

fn member(
    ctx: &Ctx<'_>,
    prefix: &str,
    spanned: &Spanned<FileMember>,
    (defaults, limit_defaults): (&MemberDefaults, &LimitDefaults),
    tls_defaults: &MemberTlsDefaults,
) -> Result<MemberConfig, ConfigError> {
    let m = spanned.get_ref();
    let key = |name: &str| format!("{prefix}.{name}");
    let Some(url) = &m.url else {
        let msg = "missing required key `url`".to_owned();
        return Err(ctx.err(&spanned.span(), key("url"), msg));
    };
    let parsed = ctx.check(url, &key("url"), |s| parse_member_url(s))?;
    let keys = Keys::of_member(m);
    let (https, host) = (parsed.https, parsed.host.as_str());
    let tls = member_tls::member(ctx, prefix, &keys, https, host, &url.span(), tls_defaults)?;
    let route = match &m.route {
        Some(r) => ctx.check(r, &key("route"), |s| check_route(s).map(|()| s.clone()))?,
        None => String::new(),
    };
    let lbfactor = match &m.loadfactor {
        Some(lf) => ctx.check(lf, &key("loadfactor"), parse_loadfactor)?,
        None => 100,
    };
    let mut options = member_options(ctx, prefix, m, defaults, tls)?;
    options.ajp = member_ajp::member(ctx, prefix, m, parsed.ajp)?;
    options.limits = member_limits::member(ctx, prefix, m, limit_defaults)?;
    member_ajp::fit_health(ctx, prefix, m, parsed.ajp, &mut options.health, &url.span())?;
    Ok(MemberConfig {
        url: url.get_ref().clone(),
        addr: parsed.addr,
        dns_name: parsed.dns_name,
        authority: parsed.authority,
        route,
        lbfactor,
        options,
    })
}

/// `lbset` (or `distance`), `activation` then `status`, the syntax of `redirect` and `domain`,
/// and
/// `retry`, `slowstart` and `health` over the balancer's `defaults`; `tls` as validated.
fn member_options(
    ctx: &Ctx<'_>,
    prefix: &str,
    m: &FileMember,
    defaults: &MemberDefaults,
    tls: Option<MemberTls>,
) -> Result<MemberOptions, ConfigError> {
    let key = |name: &str| format!("{prefix}.{name}");
    let lbset = match (&m.lbset, &m.distance) {
        (Some(_), Some(d)) => {
            let msg = "distance is mod_jk's name for lbset; give only one of them".to_owned();
            return Err(ctx.err(&d.span(), key("distance"), msg));
        }
        (Some(v), None) => ctx.check(v, &key("lbset"), parse_lbset)?,
        (None, Some(v)) => ctx.check(v, &key("distance"), parse_lbset)?,
        (None, None) => 0,
    };
    let mut status = match &m.activation {
        Some(a) => ctx.check(a, &key("activation"), |s| parse_activation(s))?,
        None => Status::NONE,
    };
    if let Some(s) = &m.status {
        status = ctx.check(s, &key("status"), |text| apply_status(status, text))?;
    }
    let redirect = match &m.redirect {
        Some(r) => ctx.check(r, &key("redirect"), |s| check_route(s).map(|()| s.clone()))?,
        None => String::new(),
    };
    let domain = match &m.domain {
        Some(d) => ctx.check(d, &key("domain"), |s| check_domain(s).map(|()| s.clone()))?,
        None => String::new(),
    };
    Ok(MemberOptions {
        lbset,
        status,
        redirect,
        domain,
        retry: failover::timing(ctx, prefix, "retry", &m.retry, defaults.retry)?,
        slowstart: failover::timing(ctx, prefix, "slowstart", &m.slowstart, defaults.slowstart)?,
        health: health::member_health(ctx, prefix, &m.health, defaults.health.as_ref())?,
        tls,
        ajp: None,
        limits: Default::default(),
    })
}

/// Each `redirect` names the route of another member of the same balancer, and is set only on
/// a member that has a route (a member without one gets no sticky traffic to redirect).
fn check_redirects(
    ctx: &Ctx<'_>,
    i: usize,
    balancer: &str,
    raw: &[Spanned<FileMember>],
    members: &[MemberConfig],
) -> Result<(), ConfigError> {
    for (j, (m, raw)) in members.iter().zip(raw).enumerate() {
        let target = &m.options.redirect;
        let Some(spanned) = raw.get_ref().redirect.as_ref() else {
            continue;
        };
        if target.is_empty() {
            continue;
        }
        let message = if m.route.is_empty() {
            "redirect needs this member to have a route (only sticky traffic is redirected)"
                .to_owned()
        } else if *target == m.route {
            format!("redirect {target:?} is this member's own route")
        } else if !members.iter().any(|o| o.route == *target) {
            format!("redirect {target:?} is not the route of any member of balancer {balancer:?}")
        } else {
            continue;
        };
        return Err(ctx.err(
            &spanned.span(),
            format!("balancer[{i}].member[{j}].redirect"),
            message,
        ));
    }
    Ok(())
}
