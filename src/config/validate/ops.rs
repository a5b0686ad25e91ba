//! `[admin]`, `[log]`, `shutdown_grace`, `pid_file` and `reload_on_change` -> [`Ops`].
//!
//! Paths (`pid_file`, `admin.htpasswd`, a file `log.access` or `log.error`) relative to the config file
//! are resolved against its directory here; the files themselves are opened later, not at
//! validation.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use toml::Spanned;

use super::super::file::{FileAdmin, FileLog, Scalar};
use super::super::{
    duration, AccessTarget, AdminConfig, ConfigError, JkStatusMode, LogConfig, Ops,
};
use super::{parse_listen, Ctx};
use crate::log::Level;

/// Longest `shutdown_grace`.
pub(crate) const MAX_SHUTDOWN_GRACE: Duration = Duration::from_secs(600);

/// The process's own top-level keys.
pub(in crate::config) struct Process<'a> {
    pub(in crate::config) shutdown_grace: Option<&'a Spanned<Scalar>>,
    pub(in crate::config) pid_file: Option<&'a Spanned<String>>,
    pub(in crate::config) reload_on_change: Option<bool>,
}

/// Validates the operations settings; `listen` are the validated client listen addresses,
/// which the admin listener must not share.
pub(super) fn ops(
    ctx: &Ctx<'_>,
    process: Process<'_>,
    admin: Option<&Spanned<FileAdmin>>,
    log: Option<&FileLog>,
    listen: &[(SocketAddr, String)],
) -> Result<Ops, ConfigError> {
    let d = Ops::default();
    let shutdown_grace = match process.shutdown_grace {
        Some(v) => ctx.check(v, "shutdown_grace", parse_shutdown_grace)?,
        None => d.shutdown_grace,
    };
    let admin = match admin {
        Some(a) => Some(admin_config(ctx, a, listen)?),
        None => None,
    };
    let log = match log {
        Some(l) => log_config(ctx, l)?,
        None => d.log,
    };
    let pid_file = match process.pid_file {
        Some(p) => Some(ctx.check(p, "pid_file", |s| file_path(ctx, s))?),
        None => None,
    };
    Ok(Ops {
        admin,
        log,
        shutdown_grace,
        pid_file,
        reload_on_change: process.reload_on_change.unwrap_or(d.reload_on_change),
    })
}

/// `shutdown_grace`: the timeout spellings, `0..=10m` (zero = stop at once).
pub(crate) fn parse_shutdown_grace(value: &Scalar) -> Result<Duration, String> {
    duration::parse_within(value, Duration::ZERO, MAX_SHUTDOWN_GRACE)
}

fn admin_config(
    ctx: &Ctx<'_>,
    raw: &Spanned<FileAdmin>,
    listen: &[(SocketAddr, String)],
) -> Result<AdminConfig, ConfigError> {
    let d = AdminConfig::default();
    let a = raw.get_ref();
    let admin_listen = match &a.listen {
        Some(l) => ctx.check(l, "admin.listen", |s| parse_listen(s))?,
        None => d.listen,
    };
    if let Some((addr, name)) = listen.iter().find(|(l, _)| clashes(*l, admin_listen)) {
        let span = a.listen.as_ref().map_or(raw.span(), |l| l.span());
        let msg = format!(
            "{admin_listen} clashes with {name} = {addr}; the admin listener needs an address \
             of its own"
        );
        return Err(ctx.err(&span, "admin.listen", msg));
    }
    let allow = match &a.allow {
        Some(list) => {
            let mut out = Vec::with_capacity(list.get_ref().len());
            for (i, item) in list.get_ref().iter().enumerate() {
                let entry = ctx.check(item, &format!("admin.allow[{i}]"), |s| check_cidr(s))?;
                out.push(entry);
            }
            out
        }
        None => d.allow,
    };
    let htpasswd = match &a.htpasswd {
        Some(p) => Some(ctx.check(p, "admin.htpasswd", |s| file_path(ctx, s))?),
        None => None,
    };
    let mut server_names = Vec::new();
    for (i, item) in a.server_names.iter().flat_map(|l| l.get_ref()).enumerate() {
        let key = format!("admin.server_names[{i}]");
        server_names.push(ctx.check(item, &key, |s| check_server_name(s))?);
    }
    let jkstatus = match &a.jkstatus {
        Some(v) => ctx.check(v, "admin.jkstatus", |s| match s.as_str() {
            "read-write" => Ok(JkStatusMode::ReadWrite),
            "read-only" => Ok(JkStatusMode::ReadOnly),
            "off" => Ok(JkStatusMode::Off),
            other => Err(format!(
                "{other:?} is not one of \"read-write\", \"read-only\", \"off\""
            )),
        })?,
        None => d.jkstatus,
    };
    Ok(AdminConfig {
        listen: admin_listen,
        allow,
        htpasswd,
        server_names,
        jkstatus,
    })
}

/// One `admin.server_names` entry: a host name or address, optionally with `:port`, as a
/// `Host` header carries it (letters, digits, `.-_:[]`).
fn check_server_name(name: &str) -> Result<String, String> {
    let ok = |b: u8| b.is_ascii_alphanumeric() || b".-_:[]".contains(&b);
    if name.is_empty() || !name.bytes().all(ok) {
        return Err(format!(
            "{name:?} is not a Host value; expected a name or address, optionally with :port"
        ));
    }
    Ok(name.to_owned())
}

/// Whether two listen addresses cannot both be bound: the same port on the same IP, or on a
/// wildcard (`0.0.0.0`, `::`) and anything. Port 0 (any free port) clashes with nothing.
fn clashes(a: SocketAddr, b: SocketAddr) -> bool {
    a.port() == b.port()
        && a.port() != 0
        && (a.ip() == b.ip() || a.ip().is_unspecified() || b.ip().is_unspecified())
}

/// One `admin.allow` entry, checked with the admin's own parser; returned trimmed.
fn check_cidr(entry: &str) -> Result<String, String> {
    let entry = entry.trim().to_owned();
    crate::admin::auth::parse_allow(std::slice::from_ref(&entry))
        .map_err(|m| format!("expected an address or a CIDR block such as 10.0.0.0/8: {m}"))?;
    Ok(entry)
}

fn log_config(ctx: &Ctx<'_>, raw: &FileLog) -> Result<LogConfig, ConfigError> {
    let d = LogConfig::default();
    let access = match &raw.access {
        Some(a) => ctx.check(a, "log.access", |s| parse_access(ctx.base, s))?,
        None => d.access,
    };
    let access_format = match &raw.access_format {
        Some(f) => ctx.check(f, "log.access_format", |s| {
            crate::accesslog::format::Format::parse(s)
                .map(|_| s.clone())
                .map_err(|m| {
                    format!("expected combined, common, balancer or a LogFormat string: {m}")
                })
        })?,
        None => d.access_format,
    };
    let level = match &raw.level {
        Some(l) => ctx.check(l, "log.level", |s| parse_level(s))?,
        None => d.level,
    };
    let error = match &raw.error {
        Some(e) => ctx.check(e, "log.error", |s| parse_target(ctx.base, s))?,
        None => d.error,
    };
    Ok(LogConfig {
        access,
        access_format,
        level,
        error,
    })
}

/// What a log target may be, for the error messages.
const TARGETS: &str =
    "\"stdout\", \"stderr\", \"syslog\", \"syslog:/path/to/socket\" or a file path";

/// `log.access`: `"off"` (`None`) or a [`parse_target`] value.
pub(crate) fn parse_access(
    base: Option<&Path>,
    text: &str,
) -> Result<Option<AccessTarget>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    parse_target(base, text)
        .map(Some)
        .map_err(|m| format!("{m} (or \"off\")"))
}

/// A log target (`log.error`, and `log.access` besides `off`): `stdout`, `stderr`, `syslog`
/// (the local socket `/dev/log`; all three case-insensitive), `syslog:PATH` (another local
/// datagram socket), or a file path, resolved against `base` when relative. Never taken as a
/// file name: an empty value, a pipe (`|command`: ringlb runs no programs), a `scheme:` prefix
/// other than `syslog:`, and a bare word of letters, digits, `-` and `_` (`on`, `true`,
/// `syslogd`, `console`: a misspelt keyword, more likely than a file in the working
/// directory; write `./name` for that file).
pub(crate) fn parse_target(base: Option<&Path>, text: &str) -> Result<AccessTarget, String> {
    let word = text.trim();
    if word.is_empty() {
        return Err(format!("expected {TARGETS}, found an empty string"));
    }
    for (name, target) in [
        ("stdout", AccessTarget::Stdout),
        ("stderr", AccessTarget::Stderr),
        (
            "syslog",
            AccessTarget::Syslog(crate::syslog::DEFAULT_SOCKET.into()),
        ),
    ] {
        if word.eq_ignore_ascii_case(name) {
            return Ok(target);
        }
    }
    if word.starts_with('|') {
        return Err(format!(
            "{text:?} is a piped log; ringlb runs no programs: use \"syslog\" (or a file that \
             logrotate rotates, with SIGUSR1 to reopen it)"
        ));
    }
    if let Some((scheme, rest)) = word.split_once(':') {
        let schemeish = !scheme.is_empty()
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"+-".contains(&b));
        if scheme.eq_ignore_ascii_case("syslog") {
            if rest.is_empty() {
                return Err("\"syslog:\" needs a socket path, e.g. \"syslog:/dev/log\"".to_owned());
            }
            return Ok(AccessTarget::Syslog(resolve(base, rest)));
        }
        if schemeish {
            return Err(format!(
                "{text:?}: unknown target {scheme:?}; expected {TARGETS} (write ./{text} for a \
                 file of that name)"
            ));
        }
    }
    let bare = word
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if bare {
        return Err(format!(
            "{text:?} is not a known target; expected {TARGETS} (write ./{text} for a file of \
             that name)"
        ));
    }
    Ok(AccessTarget::File(resolve(base, text)))
}

/// The text of `log.access` as [`parse_access`] reads it back.
pub(crate) fn access_text(access: &Option<AccessTarget>) -> String {
    match access {
        None => "off".to_owned(),
        Some(target) => target_text(target),
    }
}

/// The text of a log target as `log.access` and `log.error` read it back: a relative file
/// path that would read as a keyword gets a `./`.
pub fn target_text(target: &AccessTarget) -> String {
    match target {
        AccessTarget::Stdout => "stdout".to_owned(),
        AccessTarget::Stderr => "stderr".to_owned(),
        AccessTarget::Syslog(path) if path.as_os_str() == crate::syslog::DEFAULT_SOCKET => {
            "syslog".to_owned()
        }
        AccessTarget::Syslog(path) => format!("syslog:{}", path.to_string_lossy()),
        AccessTarget::File(path) => {
            let text = path.to_string_lossy().into_owned();
            match parse_target(None, &text) {
                Ok(AccessTarget::File(_)) => text,
                _ => format!("./{text}"),
            }
        }
    }
}

/// `log.level`: `error`, `warn`, `info` or `debug`, case-insensitive.
pub(crate) fn parse_level(text: &str) -> Result<Level, String> {
    [Level::Error, Level::Warn, Level::Info, Level::Debug]
        .into_iter()
        .find(|l| l.as_str().eq_ignore_ascii_case(text))
        .ok_or_else(|| format!("unknown level {text:?}; expected error, warn, info or debug"))
}

/// A file path key's value, resolved against the config file's directory; never empty.
fn file_path(ctx: &Ctx<'_>, path: &str) -> Result<PathBuf, String> {
    if path.trim().is_empty() {
        return Err("must be a file path, not empty".to_owned());
    }
    Ok(resolve(ctx.base, path))
}

/// `path` joined to `base` when relative (and `base` is known).
pub(super) fn resolve(base: Option<&Path>, path: &str) -> PathBuf {
    match base {
        Some(dir) if Path::new(path).is_relative() => dir.join(path),
        _ => PathBuf::from(path),
    }
}
