//! `[[mount]]`, `[[vhost]]` and `[[vhost.mount]]` -> [`Routes`]: one matcher per mount, a
//! balancer or an exclusion, keys that belong to the matcher, no mount twice in one table,
//! regexes that compile and `target`s whose `$N` name their groups, at most one default
//! vhost per port.

use toml::Spanned;

use super::super::file::{FileMount, FileVhost};
use super::super::routes::{Matcher, MountAction, MountConfig, Routes, VhostConfig};
use super::super::{BalancerConfig, ConfigError};
use super::values::check_path;
use super::Ctx;

/// Largest compiled regex, in bytes (the `regex` crate's size limit): a mount's regex is
/// built once per configuration, and this keeps a hostile one from taking memory.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// The routes of a file whose balancers are `balancers` (for the names mounts use).
pub(super) fn routes(
    ctx: &Ctx<'_>,
    mounts: &[Spanned<FileMount>],
    vhosts: &[Spanned<FileVhost>],
    balancers: &[BalancerConfig],
) -> Result<Routes, ConfigError> {
    let own: Vec<MountConfig> = balancers
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.mount.as_ref().map(|m| MountConfig {
                matcher: Matcher::Path(m.path.clone()),
                action: MountAction::Balancer {
                    balancer: i,
                    target: m.target_path.clone(),
                },
            })
        })
        .collect();
    let top = table(ctx, "mount", mounts, balancers, &own)?;
    let mut out = Vec::with_capacity(vhosts.len());
    for (i, v) in vhosts.iter().enumerate() {
        out.push(vhost(ctx, i, v, balancers)?);
    }
    check_defaults(ctx, vhosts, &out)?;
    Ok(Routes {
        mounts: top,
        vhosts: out,
    })
}

/// The mounts of one table (`prefix` = `mount` or `vhost[i].mount`); `also` are mounts of
/// the same table defined elsewhere (the balancers' own), for the duplicate check only.
fn table(
    ctx: &Ctx<'_>,
    prefix: &str,
    raw: &[Spanned<FileMount>],
    balancers: &[BalancerConfig],
    also: &[MountConfig],
) -> Result<Vec<MountConfig>, ConfigError> {
    let mut out: Vec<MountConfig> = Vec::with_capacity(raw.len());
    let mut lines = Vec::with_capacity(raw.len());
    for (j, m) in raw.iter().enumerate() {
        let key = format!("{prefix}[{j}]");
        let mount = mount(ctx, &key, m, balancers)?;
        let line = super::file::line_of(ctx.text, m.span().start);
        let (kind, text) = mount.matcher.key_and_text();
        if let Some(first) = out.iter().position(|o| o.matcher == mount.matcher) {
            let msg = format!(
                "{kind} {text:?} is already mounted at line {}",
                lines[first]
            );
            return Err(ctx.err(&m.span(), format!("{key}.{kind}"), msg));
        }
        if let Some(o) = also.iter().find(|o| o.matcher == mount.matcher) {
            let name = match &o.action {
                MountAction::Balancer { balancer, .. } => balancers[*balancer].name.as_str(),
                MountAction::Exclude { .. } => "",
            };
            let msg = format!("{kind} {text:?} is already the mount of balancer {name:?}");
            return Err(ctx.err(&m.span(), format!("{key}.{kind}"), msg));
        }
        out.push(mount);
        lines.push(line);
    }
    Ok(out)
}

fn mount(
    ctx: &Ctx<'_>,
    key: &str,
    spanned: &Spanned<FileMount>,
    balancers: &[BalancerConfig],
) -> Result<MountConfig, ConfigError> {
    let m = spanned.get_ref();
    let sub = |name: &str| format!("{key}.{name}");
    let given: Vec<(&str, &Spanned<String>)> = [
        ("path", &m.path),
        ("pattern", &m.pattern),
        ("regex", &m.regex),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| (k, v)))
    .collect();
    let (kind, value) = match given.as_slice() {
        [one] => *one,
        [] => {
            let msg = "a mount needs one of `path`, `pattern` or `regex`".to_owned();
            return Err(ctx.err(&spanned.span(), key, msg));
        }
        [_, (second, v), ..] => {
            let msg =
                format!("a mount has one of `path`, `pattern` or `regex`; `{second}` is a second");
            return Err(ctx.err(&v.span(), sub(second), msg));
        }
    };
    let matcher = match kind {
        "path" => {
            Matcher::Path(ctx.check(value, &sub(kind), |s| check_path(s).map(|()| s.clone()))?)
        }
        "pattern" => {
            Matcher::Pattern(ctx.check(value, &sub(kind), |s| check_path(s).map(|()| s.clone()))?)
        }
        _ => Matcher::Regex(ctx.check(value, &sub(kind), |s| compile(s).map(|_| s.clone()))?),
    };
    let exclude = m.exclude.as_ref().is_some_and(|e| *e.get_ref());
    let refuse = |v: &Option<Spanned<String>>, name: &str, why: &str| match v {
        Some(v) => Err(ctx.err(&v.span(), sub(name), format!("`{name}` {why}"))),
        None => Ok(()),
    };
    if exclude {
        refuse(
            &m.balancer,
            "balancer",
            "does not go with `exclude = true` (use `balancers`)",
        )?;
        refuse(
            &m.target_path,
            "target_path",
            "does not go with `exclude = true`",
        )?;
        refuse(&m.target, "target", "does not go with `exclude = true`")?;
        let names = m.balancers.as_ref().map_or(&[][..], |b| b.get_ref());
        let mut indices = Vec::with_capacity(names.len());
        for (n, name) in names.iter().enumerate() {
            let key = format!("{key}.balancers[{n}]");
            indices.push(ctx.check(name, &key, |s| balancer_index(balancers, s))?);
        }
        return Ok(MountConfig {
            matcher,
            action: MountAction::Exclude { balancers: indices },
        });
    }
    if let Some(b) = &m.balancers {
        let msg = "`balancers` goes with `exclude = true` only".to_owned();
        return Err(ctx.err(&b.span(), sub("balancers"), msg));
    }
    let Some(name) = &m.balancer else {
        let msg = "a mount needs `balancer` (or `exclude = true`)".to_owned();
        return Err(ctx.err(&spanned.span(), sub("balancer"), msg));
    };
    let balancer = ctx.check(name, &sub("balancer"), |s| balancer_index(balancers, s))?;
    let target = match &matcher {
        Matcher::Path(path) => {
            refuse(
                &m.target,
                "target",
                "goes with `regex` only (a `path` mount has `target_path`)",
            )?;
            match &m.target_path {
                Some(t) => ctx.check(t, &sub("target_path"), |s| {
                    check_path(s).map(|()| s.clone())
                })?,
                None => path.clone(),
            }
        }
        Matcher::Pattern(_) => {
            refuse(
                &m.target_path,
                "target_path",
                "goes with `path` only (a `pattern` mount sends the path as it is)",
            )?;
            refuse(
                &m.target,
                "target",
                "goes with `regex` only (a `pattern` mount sends the path as it is)",
            )?;
            String::new()
        }
        Matcher::Regex(regex) => {
            refuse(
                &m.target_path,
                "target_path",
                "goes with `path` only (a `regex` mount has `target`)",
            )?;
            match &m.target {
                Some(t) => ctx.check(t, &sub("target"), |s| {
                    check_target(s, regex).map(|()| s.clone())
                })?,
                None => String::new(),
            }
        }
    };
    Ok(MountConfig {
        matcher,
        action: MountAction::Balancer { balancer, target },
    })
}

fn vhost(
    ctx: &Ctx<'_>,
    i: usize,
    spanned: &Spanned<FileVhost>,
    balancers: &[BalancerConfig],
) -> Result<VhostConfig, ConfigError> {
    let v = spanned.get_ref();
    let key = |name: &str| format!("vhost[{i}].{name}");
    let Some(name) = &v.server_name else {
        let msg = "missing required key `server_name`".to_owned();
        return Err(ctx.err(&spanned.span(), key("server_name"), msg));
    };
    let server_name = ctx.check(name, &key("server_name"), |s| host_name(s, false))?;
    let mut server_alias = Vec::new();
    for (n, alias) in v
        .server_alias
        .as_ref()
        .map_or(&[][..], |a| a.get_ref())
        .iter()
        .enumerate()
    {
        server_alias.push(
            ctx.check(alias, &format!("vhost[{i}].server_alias[{n}]"), |s| {
                host_name(s, true)
            })?,
        );
    }
    let mut ports = Vec::new();
    for (n, port) in v
        .ports
        .as_ref()
        .map_or(&[][..], |p| p.get_ref())
        .iter()
        .enumerate()
    {
        ports.push(ctx.check(port, &format!("vhost[{i}].ports[{n}]"), |p| {
            u16::try_from(*p)
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| format!("port {p} is not in 1..=65535"))
        })?);
    }
    let raw_mounts = v.mount.as_deref().unwrap_or_default();
    Ok(VhostConfig {
        server_name,
        server_alias,
        ports,
        default: v.default.as_ref().is_some_and(|d| *d.get_ref()),
        mounts: table(
            ctx,
            &format!("vhost[{i}].mount"),
            raw_mounts,
            balancers,
            &[],
        )?,
    })
}

/// At most one `default = true` among the vhosts that answer on a port.
fn check_defaults(
    ctx: &Ctx<'_>,
    raw: &[Spanned<FileVhost>],
    vhosts: &[VhostConfig],
) -> Result<(), ConfigError> {
    let overlap = |a: &VhostConfig, b: &VhostConfig| {
        a.ports.is_empty() || b.ports.is_empty() || a.ports.iter().any(|p| b.ports.contains(p))
    };
    for (i, v) in vhosts.iter().enumerate().filter(|(_, v)| v.default) {
        if let Some(first) = vhosts[..i].iter().position(|o| o.default && overlap(o, v)) {
            let span = raw[i]
                .get_ref()
                .default
                .as_ref()
                .map_or(raw[i].span(), |d| d.span());
            let msg = format!(
                "vhost {:?} and vhost {:?} are both the default of a port",
                vhosts[first].server_name, v.server_name
            );
            return Err(ctx.err(&span, format!("vhost[{i}].default"), msg));
        }
    }
    Ok(())
}

fn balancer_index(balancers: &[BalancerConfig], name: &str) -> Result<usize, String> {
    balancers
        .iter()
        .position(|b| b.name == name)
        .ok_or_else(|| format!("no [[balancer]] is named {name:?}"))
}

/// A `server_name` or (with `wildcards`) a `server_alias`, lowercased: host name or IP
/// characters (RFC 3986 `reg-name`, `[v6]`), `*` and `?` in aliases only; no port.
fn host_name(name: &str, wildcards: bool) -> Result<String, String> {
    let allowed = |c: char| {
        c.is_ascii_alphanumeric()
            || matches!(c, '-' | '.' | '_' | '[' | ']' | ':')
            || (wildcards && matches!(c, '*' | '?'))
    };
    if name.is_empty() || !name.chars().all(allowed) {
        let what = if wildcards {
            "letters, digits, - . _, * and ?"
        } else {
            "letters, digits and - . _"
        };
        return Err(format!(
            "host name {name:?} must be non-empty and use only {what}"
        ));
    }
    if !name.starts_with('[') && name.contains(':') {
        return Err(format!(
            "host name {name:?} must not have a port (use `ports`)"
        ));
    }
    Ok(name.to_ascii_lowercase())
}

/// The compiled form of a mount's `regex`; the error is what `check` says.
pub(crate) fn compile(regex: &str) -> Result<regex::bytes::Regex, String> {
    regex::bytes::RegexBuilder::new(regex)
        .size_limit(REGEX_SIZE_LIMIT)
        .build()
        .map_err(|e| {
            format!(
                "not a valid regex (Rust `regex` syntax: no backreferences or look-around): {e}"
            )
        })
}

/// A regex mount's `target`: a path (no whitespace, control characters or `#`) whose `$N`
/// name groups `regex` has (`$$` is a `$`).
fn check_target(target: &str, regex: &str) -> Result<(), String> {
    if target
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '#')
    {
        return Err(format!(
            "target {target:?} must not contain whitespace, control characters or #"
        ));
    }
    let groups = compile(regex)?.captures_len();
    let mut bytes = target.bytes();
    while let Some(b) = bytes.next() {
        if b != b'$' {
            continue;
        }
        match bytes.next() {
            Some(b'$') => {}
            Some(d @ b'0'..=b'9') if usize::from(d - b'0') < groups => {}
            Some(d @ b'0'..=b'9') => {
                return Err(format!(
                    "target {target:?} uses ${} but the regex has {} group(s)",
                    d - b'0',
                    groups - 1
                ))
            }
            _ => {
                return Err(format!(
                    "target {target:?}: `$` must be followed by a digit (a group) or `$`"
                ))
            }
        }
    }
    Ok(())
}
