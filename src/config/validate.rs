//! Raw `File*` structs -> validated [`Config`]: defaults, ranges, formats, cross-field rules.
//!
//! The only producer of `Config`. Every error carries the file, the 1-based line of the
//! offending key or value (or of its table, for a missing key) and the dotted key path. The
//! first error in validation order is returned. The value checks (`check_*`, `parse_*`) are
//! pure functions returning a message without a location, shared with `from_flags`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::ops::Range;

use toml::Spanned;

use super::file::{self, FileBalancer, FileConfig, FileMember, Scalar};
use super::{
    duration, BalancerConfig, Config, ConfigError, Forwarded, IoDriver, LbMethod, Limits,
    MemberConfig, Sticky, Timeouts, MAX_MEMBERS, MAX_WORKERS,
};

/// Where errors point: the file name and its text (for line numbers).
struct Ctx<'a> {
    file: &'a str,
    text: &'a str,
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
pub(crate) fn parse_str(text: &str, file: &str) -> Result<Config, ConfigError> {
    let ctx = Ctx { file, text };
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
    let balancers = balancers(ctx, raw.balancer.unwrap_or_default())?;
    Ok(Config {
        source: ctx.file.to_owned(),
        workers,
        io_driver,
        listen,
        timeouts,
        limits,
        forwarded,
        stats: Default::default(),
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

fn balancers(
    ctx: &Ctx<'_>,
    raw: Vec<Spanned<FileBalancer>>,
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
        let balancer = balancer(ctx, i, b)?;
        let line = file::line_of(ctx.text, b.span().start);
        if let Some(j) = out.iter().position(|o| o.name == balancer.name) {
            let span = b.get_ref().name.as_ref().map_or(b.span(), |n| n.span());
            let msg = format!(
                "duplicate balancer name {:?} (first at line {})",
                balancer.name, lines[j]
            );
            return Err(ctx.err(&span, format!("balancer[{i}].name"), msg));
        }
        if let Some(j) = out.iter().position(|o| o.mount == balancer.mount) {
            let span = b.get_ref().mount.as_ref().map_or(b.span(), |m| m.span());
            let msg = format!(
                "mount {:?} is already used by balancer {:?}",
                balancer.mount, out[j].name
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
    let mount = match &b.mount {
        Some(m) => ctx.check(m, &key("mount"), |s| check_path(s).map(|()| s.clone()))?,
        None => "/".to_owned(),
    };
    let target_path = match &b.target_path {
        Some(t) => ctx.check(t, &key("target_path"), |s| {
            check_path(s).map(|()| s.clone())
        })?,
        None => mount.clone(),
    };
    let lbmethod = match &b.lbmethod {
        Some(m) => ctx.check(m, &key("lbmethod"), |s| parse_lbmethod(s))?,
        None => LbMethod::ByRequests,
    };
    let sticky = match &b.stickysession {
        Some(s) => Some(ctx.check(s, &key("stickysession"), |s| parse_sticky(s))?),
        None => None,
    };
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
        let member = member(ctx, &format!("balancer[{i}].member[{j}]"), m)?;
        if !member.route.is_empty() {
            if let Some(first) = members.iter().position(|o| o.route == member.route) {
                let span = m.get_ref().route.as_ref().map_or(m.span(), |r| r.span());
                let msg = format!("duplicate route {:?} (also member[{first}])", member.route);
                return Err(ctx.err(&span, format!("balancer[{i}].member[{j}].route"), msg));
            }
        }
        members.push(member);
    }
    Ok(BalancerConfig {
        name,
        mount,
        target_path,
        lbmethod,
        sticky,
        options: Default::default(),
        members,
    })
}

fn member(
    ctx: &Ctx<'_>,
    prefix: &str,
    spanned: &Spanned<FileMember>,
) -> Result<MemberConfig, ConfigError> {
    let m = spanned.get_ref();
    let key = |name: &str| format!("{prefix}.{name}");
    let Some(url) = &m.url else {
        let msg = "missing required key `url`".to_owned();
        return Err(ctx.err(&spanned.span(), key("url"), msg));
    };
    let (addr, authority) = ctx.check(url, &key("url"), |s| parse_member_url(s))?;
    let route = match &m.route {
        Some(r) => ctx.check(r, &key("route"), |s| check_route(s).map(|()| s.clone()))?,
        None => String::new(),
    };
    let lbfactor = match &m.loadfactor {
        Some(lf) => ctx.check(lf, &key("loadfactor"), parse_loadfactor)?,
        None => 100,
    };
    Ok(MemberConfig {
        url: url.get_ref().clone(),
        addr,
        authority,
        route,
        lbfactor,
        options: Default::default(),
    })
}

/// `workers`: an integer `1..=MAX_WORKERS`, or `"auto"` (`None`).
pub(crate) fn parse_workers(value: &Scalar) -> Result<Option<usize>, String> {
    match value {
        Scalar::Int(n) if (1..=MAX_WORKERS as i64).contains(n) => Ok(Some(*n as usize)),
        Scalar::Int(n) => Err(format!("{n} is out of range 1..={MAX_WORKERS}")),
        Scalar::Str(s) if s == "auto" => Ok(None),
        other => Err(format!(
            "expected an integer 1..={MAX_WORKERS} or \"auto\", found {other}"
        )),
    }
}

pub(crate) fn parse_io_driver(name: &str) -> Result<IoDriver, String> {
    IoDriver::from_name(name)
        .ok_or_else(|| format!("unknown io_driver {name:?}; expected auto, io_uring or epoll"))
}

pub(crate) fn parse_lbmethod(name: &str) -> Result<LbMethod, String> {
    LbMethod::from_name(name).ok_or_else(|| {
        format!("unknown lbmethod {name:?}; expected byrequests, bytraffic or bybusyness")
    })
}

/// A listen address: `IP:PORT` (IPv6 in brackets); names are not resolved.
pub(crate) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080, found {text:?}")
    })
}

/// Balancer names: `[A-Za-z0-9_.-]+`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(ok) {
        return Err(format!(
            "name {name:?} must be non-empty and use only A-Z a-z 0-9 _ . -"
        ));
    }
    Ok(())
}

/// `mount` and `target_path`: start with `/`; no whitespace, control characters, `?` or `#`.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with \"/\""));
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    {
        return Err(format!(
            "path {path:?} must not contain whitespace, control characters, ? or #"
        ));
    }
    Ok(())
}

/// A route (Tomcat `jvmRoute`): visible ASCII without `;`, `,`, `=`, `"` or `\\`, which end,
/// split or quote cookie values (RFC 6265 `cookie-octet`). A `.` is allowed: the route is the
/// text after the first `.` of the session id (SEMANTICS.md 2.3), so a route `a.b` matches
/// `id.a.b` in Apache, though mod_jk would read `a` as a domain.
pub(crate) fn check_route(route: &str) -> Result<(), String> {
    if route
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '=' | '"' | '\\'))
    {
        return Ok(());
    }
    Err(format!(
        "route {route:?} must be visible ASCII without whitespace, ; , = \" or \\"
    ))
}

/// `stickysession = "COOKIE|URLNAME"`; a single name serves as both. Names follow the route
/// rules (no whitespace, `;`, `,`, `=`) and must not be empty.
pub(crate) fn parse_sticky(text: &str) -> Result<Sticky, String> {
    let (cookie, url) = text.split_once('|').unwrap_or((text, text));
    let bad = |c: char| !c.is_ascii_graphic() || matches!(c, ';' | ',' | '=' | '|');
    if cookie.is_empty() || url.is_empty() || cookie.chars().any(bad) || url.chars().any(bad) {
        return Err(format!(
            "{text:?}: expected NAME or COOKIE|URLNAME, each non-empty visible \
             ASCII without whitespace, '|', ';', ',' or '='"
        ));
    }
    Ok(Sticky {
        cookie_name: cookie.to_owned(),
        url_name: url.to_owned(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    })
}

/// `loadfactor`: an integer or decimal in 1..=100, returned × 100 and rounded (100..=10000).
pub(crate) fn parse_loadfactor(value: &Scalar) -> Result<u32, String> {
    let factor = match value {
        Scalar::Int(n) => *n as f64,
        Scalar::Float(x) => *x,
        other => return Err(format!("expected a number 1..=100, found {other}")),
    };
    if !(1.0..=100.0).contains(&factor) {
        return Err(format!("{} is out of range 1..=100", value_text(value)));
    }
    Ok((factor * 100.0).round() as u32)
}

fn value_text(value: &Scalar) -> String {
    match value {
        Scalar::Int(n) => n.to_string(),
        Scalar::Float(x) => x.to_string(),
        other => other.to_string(),
    }
}

/// A member URL: `http://HOST[:PORT][/]`, HOST an IPv4 literal, a bracketed IPv6 literal or
/// `localhost` (127.0.0.1); names are not resolved. PORT defaults to 80. Returns the address
/// and the authority `host:port` with the host as written and the port always present.
pub(crate) fn parse_member_url(url: &str) -> Result<(SocketAddr, String), String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{url:?} is not a URL; expected http://IP:PORT"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "scheme {scheme:?} is not supported; members use http://"
        ));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if !(path.is_empty() || path == "/") {
        return Err(format!(
            "path {path:?} in a member URL is not supported; use the balancer's target_path"
        ));
    }
    if authority.contains(['@', '?', '#']) {
        return Err(format!(
            "{url:?}: user info, query and fragment are not allowed"
        ));
    }
    let (host, port) = split_host_port(authority)?;
    let port: u16 = match port {
        None => 80,
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("port {p:?} in {url:?} is not a number 1..=65535"))?,
    };
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = v6
            .parse()
            .map_err(|_| format!("{host:?} is not an IPv6 address"))?;
        IpAddr::V6(ip)
    } else {
        let ip: Ipv4Addr = host.parse().map_err(|_| {
            format!("host {host:?} is not an IP address or localhost (names are not resolved)")
        })?;
        IpAddr::V4(ip)
    };
    Ok((SocketAddr::new(ip, port), format!("{host}:{port}")))
}

/// Splits `host[:port]`, keeping the brackets of an IPv6 host.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    let host_end = if authority.starts_with('[') {
        authority
            .find(']')
            .map(|i| i + 1)
            .ok_or_else(|| format!("{authority:?}: IPv6 address without closing ']'"))?
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None if rest.is_empty() => Ok((host, None)),
        None => Err(format!("{authority:?}: expected HOST[:PORT]")),
    }
}
