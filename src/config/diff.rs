//! What a reload from one [`Config`] to another would change: [`diff`] and [`Change`].
//!
//! Pure. Balancers are matched by name, members by balancer name and URL (a trailing `/` of
//! the URL does not count). Values are compared and shown in the spellings of the printed
//! config (`Display for Config`), so `5s`, `1.5`, `"+H"`. `Config::source` is not compared.

use std::collections::HashSet;
use std::fmt;

use super::display::{loadfactor_text, toml_string};
use super::reverse::map_text;
use super::{
    duration, validate, AdminConfig, BalancerConfig, Config, HealthCheck, InsertCookie, MemberAjp,
    MemberConfig, MemberTls,
};

/// One difference between an old and a new config.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Change {
    /// A top-level setting; `key` is its dotted file key (`listen`, `timeouts.connect`,
    /// `admin.listen`, `log.level`...). `restart`: a reload cannot apply it (listen
    /// addresses, workers, io_driver, the admin listener's address or presence), so the
    /// controller refuses a reload that carries it. Every other key is in force for the next
    /// request once the reload reports success (`admin.allow`, `admin.htpasswd`, whose file
    /// is re-read at every reload, and `admin.server_names` included).
    Setting {
        key: String,
        old: String,
        new: String,
        restart: bool,
    },
    BalancerAdded {
        balancer: String,
        mount: String,
        members: usize,
    },
    BalancerRemoved {
        balancer: String,
    },
    /// A balancer-level key (`mount`, `lbmethod`, `stickysession`, `maxattempts`...).
    BalancerSetting {
        balancer: String,
        key: String,
        old: String,
        new: String,
    },
    MemberAdded {
        balancer: String,
        url: String,
        route: String,
    },
    MemberRemoved {
        balancer: String,
        url: String,
        route: String,
    },
    /// A member key (`route`, `loadfactor`, `lbset`, `status`, `redirect`, `domain`, `retry`,
    /// `slowstart`, `health`, `tls`, `ajp`, `limits`), or `address`: a host name's looked-up
    /// address changed.
    MemberSetting {
        balancer: String,
        url: String,
        key: String,
        old: String,
        new: String,
    },
    /// A route some member of a sticky balancer had in the old config and no member of that
    /// balancer has in the new one, as its route or its domain: sessions pinned to it will be
    /// re-balanced.
    OrphanedRoute {
        balancer: String,
        route: String,
    },
}

impl Change {
    /// Whether applying this change needs a restart rather than a reload.
    pub fn needs_restart(&self) -> bool {
        matches!(self, Change::Setting { restart: true, .. })
    }
}

impl fmt::Display for Change {
    /// One line: `+` added, `-` removed, `~` changed (`old -> new`), `!` orphaned route.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Change::Setting {
                key,
                old,
                new,
                restart,
            } => {
                write!(f, "~ {key}: {old} -> {new}")?;
                if *restart {
                    f.write_str(" (needs a restart; a reload refuses it)")?;
                }
                Ok(())
            }
            Change::BalancerAdded {
                balancer,
                mount,
                members,
            } => {
                let s = if *members == 1 { "" } else { "s" };
                let mount = if mount.is_empty() {
                    "no mount".to_owned()
                } else {
                    format!("mount {}", toml_string(mount))
                };
                write!(
                    f,
                    "+ balancer {}: added ({mount}, {members} member{s})",
                    toml_string(balancer)
                )
            }
            Change::BalancerRemoved { balancer } => {
                write!(f, "- balancer {}: removed", toml_string(balancer))
            }
            Change::BalancerSetting {
                balancer,
                key,
                old,
                new,
            } => write!(
                f,
                "~ balancer {}: {key}: {old} -> {new}",
                toml_string(balancer)
            ),
            Change::MemberAdded {
                balancer,
                url,
                route,
            } => write!(
                f,
                "+ balancer {} member {url}: added (route {})",
                toml_string(balancer),
                toml_string(route)
            ),
            Change::MemberRemoved {
                balancer,
                url,
                route,
            } => write!(
                f,
                "- balancer {} member {url}: removed (route {})",
                toml_string(balancer),
                toml_string(route)
            ),
            Change::MemberSetting {
                balancer,
                url,
                key,
                old,
                new,
            } => write!(
                f,
                "~ balancer {} member {url}: {key}: {old} -> {new}",
                toml_string(balancer)
            ),
            Change::OrphanedRoute { balancer, route } => write!(
                f,
                "! balancer {}: route {} is ORPHANED: no member has it any more; sessions \
                 pinned to it will be re-balanced",
                toml_string(balancer),
                toml_string(route)
            ),
        }
    }
}

/// The changes a reload from `old` to `new` would make, in this order: top-level settings,
/// removed balancers, then per balancer of `new` (in its order) added, or its settings,
/// removed members, added members, changed members and orphaned routes. Empty when the two
/// configs behave the same.
pub fn diff(old: &Config, new: &Config) -> Vec<Change> {
    let mut out = Vec::new();
    top_level(old, new, &mut out);
    for b in &old.balancers {
        if !new.balancers.iter().any(|n| n.name == b.name) {
            out.push(Change::BalancerRemoved {
                balancer: b.name.clone(),
            });
        }
    }
    for b in &new.balancers {
        match old.balancers.iter().find(|o| o.name == b.name) {
            Some(o) => balancer(o, b, &mut out),
            None => out.push(Change::BalancerAdded {
                balancer: b.name.clone(),
                mount: new
                    .routes
                    .mounts_text(&new.balancers, new_index(new, &b.name)),
                members: b.members.len(),
            }),
        }
    }
    out
}

/// The index of the balancer named `name` in `config`.
fn new_index(config: &Config, name: &str) -> usize {
    config
        .balancers
        .iter()
        .position(|b| b.name == name)
        .unwrap_or(usize::MAX)
}

fn top_level(old: &Config, new: &Config, out: &mut Vec<Change>) {
    let mut cmp = |key: &str, o: String, n: String, restart: bool| {
        if o != n {
            out.push(Change::Setting {
                key: key.to_owned(),
                old: o,
                new: n,
                restart,
            });
        }
    };
    let workers = |c: &Config| {
        c.workers
            .map_or_else(|| "auto".to_owned(), |n| n.to_string())
    };
    cmp("workers", workers(old), workers(new), true);
    let driver = |c: &Config| c.io_driver.as_str().to_owned();
    cmp("io_driver", driver(old), driver(new), true);
    let listen = |c: &Config| list(c.listen.iter());
    cmp("listen", listen(old), listen(new), true);
    let pp = |c: &Config| c.trust.proxy_protocol.to_string();
    cmp("proxy_protocol", pp(old), pp(new), false);
    let trusted = |c: &Config| list(c.trust.trusted_proxies.iter());
    cmp("trusted_proxies", trusted(old), trusted(new), false);
    let addresses = |c: &Config| list(c.listeners.iter().map(|l| l.address));
    cmp("listener.address", addresses(old), addresses(new), true);
    for (i, (o, n)) in old.listeners.iter().zip(&new.listeners).enumerate() {
        for ((key, o), (_, n)) in listener_keys(o).into_iter().zip(listener_keys(n)) {
            cmp(&format!("listener[{i}].{key}"), o, n, false);
        }
    }
    let mounts = |c: &Config, ms: &[super::MountConfig]| {
        let lines: Vec<String> = ms
            .iter()
            .map(|m| super::routes::describe(m, &c.balancers))
            .collect();
        format!("[{}]", lines.join("; "))
    };
    cmp(
        "mount",
        mounts(old, &old.routes.mounts),
        mounts(new, &new.routes.mounts),
        false,
    );
    let vhost_names = |c: &Config| list(c.routes.vhosts.iter().map(|v| &v.server_name));
    cmp("vhost", vhost_names(old), vhost_names(new), false);
    for n in &new.routes.vhosts {
        let Some(o) = old
            .routes
            .vhosts
            .iter()
            .find(|o| o.server_name == n.server_name)
        else {
            continue;
        };
        let key = format!("vhost[{}]", toml_string(&n.server_name));
        let aliases = |v: &super::VhostConfig| list(v.server_alias.iter());
        cmp(
            &format!("{key}.server_alias"),
            aliases(o),
            aliases(n),
            false,
        );
        let ports = |v: &super::VhostConfig| list(v.ports.iter());
        cmp(&format!("{key}.ports"), ports(o), ports(n), false);
        cmp(
            &format!("{key}.default"),
            o.default.to_string(),
            n.default.to_string(),
            false,
        );
        let (om, nm) = (mounts(old, &o.mounts), mounts(new, &n.mounts));
        cmp(&format!("{key}.mount"), om, nm, false);
    }
    let grace = |c: &Config| duration::format(c.ops.shutdown_grace);
    cmp("shutdown_grace", grace(old), grace(new), false);
    let pid_file = |c: &Config| {
        (c.ops.pid_file.as_ref()).map_or_else(String::new, |p| p.display().to_string())
    };
    cmp("pid_file", pid_file(old), pid_file(new), true);
    let watch = |c: &Config| c.ops.reload_on_change.to_string();
    cmp("reload_on_change", watch(old), watch(new), false);
    super::dns::compare(old, new, &mut cmp);
    let (to, tn) = (&old.timeouts, &new.timeouts);
    for (key, o, n) in [
        ("timeouts.connect", to.connect, tn.connect),
        ("timeouts.client_header", to.client_header, tn.client_header),
        (
            "timeouts.keepalive_idle",
            to.keepalive_idle,
            tn.keepalive_idle,
        ),
        (
            "timeouts.upstream_response",
            to.upstream_response,
            tn.upstream_response,
        ),
        ("timeouts.upstream_idle", to.upstream_idle, tn.upstream_idle),
        ("timeouts.ping", to.ping, tn.ping),
        ("timeouts.client_body", to.client_body, tn.client_body),
        (
            "timeouts.client_body_max",
            to.client_body_max,
            tn.client_body_max,
        ),
        ("timeouts.tunnel_idle", to.tunnel_idle, tn.tunnel_idle),
        (
            "stats.merge_interval",
            old.stats.merge_interval,
            new.stats.merge_interval,
        ),
    ] {
        cmp(key, duration::format(o), duration::format(n), false);
    }
    let (lo, ln) = (&old.limits, &new.limits);
    for (key, o, n) in [
        (
            "limits.max_head_bytes",
            lo.max_head_bytes as u64,
            ln.max_head_bytes as u64,
        ),
        (
            "limits.max_headers",
            lo.max_headers as u64,
            ln.max_headers as u64,
        ),
        (
            "limits.max_body_bytes",
            lo.max_body_bytes,
            ln.max_body_bytes,
        ),
        ("limits.min_body_rate", lo.min_body_rate, ln.min_body_rate),
    ] {
        cmp(key, o.to_string(), n.to_string(), false);
    }
    let conns = |l: &super::Limits| {
        l.max_connections
            .map_or("auto".to_owned(), |n| n.to_string())
    };
    cmp("limits.max_connections", conns(lo), conns(ln), false);
    let (ho, hn) = (&old.forwarded, &new.forwarded);
    for (key, o, n) in [
        (
            "headers.x_forwarded_for",
            ho.x_forwarded_for,
            hn.x_forwarded_for,
        ),
        (
            "headers.x_forwarded_proto",
            ho.x_forwarded_proto,
            hn.x_forwarded_proto,
        ),
        (
            "headers.x_forwarded_host",
            ho.x_forwarded_host,
            hn.x_forwarded_host,
        ),
        ("headers.preserve_host", ho.preserve_host, hn.preserve_host),
    ] {
        cmp(key, o.to_string(), n.to_string(), false);
    }
    match (&old.ops.admin, &new.ops.admin) {
        (Some(o), Some(n)) => {
            cmp(
                "admin.listen",
                o.listen.to_string(),
                n.listen.to_string(),
                true,
            );
            cmp(
                "admin.allow",
                quoted_list(&o.allow),
                quoted_list(&n.allow),
                false,
            );
            cmp("admin.htpasswd", htpasswd(o), htpasswd(n), false);
            cmp(
                "admin.server_names",
                quoted_list(&o.server_names),
                quoted_list(&n.server_names),
                false,
            );
            cmp(
                "admin.jkstatus",
                o.jkstatus.as_str().to_string(),
                n.jkstatus.as_str().to_string(),
                false,
            );
        }
        (o, n) => cmp("admin", admin(o.as_ref()), admin(n.as_ref()), true),
    }
    let (go, gn) = (&old.ops.log, &new.ops.log);
    let access = |l: &super::LogConfig| toml_string(&validate::access_text(&l.access));
    cmp("log.access", access(go), access(gn), false);
    let format = |l: &super::LogConfig| toml_string(&l.access_format);
    cmp("log.access_format", format(go), format(gn), false);
    let level = |l: &super::LogConfig| l.level.as_str().to_owned();
    cmp("log.level", level(go), level(gn), false);
    let error = |l: &super::LogConfig| toml_string(&validate::target_text(&l.error));
    cmp("log.error", error(go), error(gn), true);
}

fn balancer(old: &BalancerConfig, new: &BalancerConfig, out: &mut Vec<Change>) {
    let name = &new.name;
    for (key, o, n) in balancer_settings(old)
        .into_iter()
        .zip(balancer_settings(new))
        .map(|((key, o), (_, n))| (key, o, n))
    {
        if o != n {
            out.push(Change::BalancerSetting {
                balancer: name.clone(),
                key: key.to_owned(),
                old: o,
                new: n,
            });
        }
    }
    let find = |members: &'_ [MemberConfig], url: &str| {
        members
            .iter()
            .position(|m| member_key(&m.url) == member_key(url))
    };
    for m in &old.members {
        if find(&new.members, &m.url).is_none() {
            out.push(Change::MemberRemoved {
                balancer: name.clone(),
                url: m.url.clone(),
                route: m.route.clone(),
            });
        }
    }
    for m in &new.members {
        if find(&old.members, &m.url).is_none() {
            out.push(Change::MemberAdded {
                balancer: name.clone(),
                url: m.url.clone(),
                route: m.route.clone(),
            });
        }
    }
    for m in &new.members {
        let Some(i) = find(&old.members, &m.url) else {
            continue;
        };
        let pairs = member_settings(&old.members[i])
            .into_iter()
            .zip(member_settings(m));
        for ((key, o), (_, n)) in pairs {
            if o != n {
                out.push(Change::MemberSetting {
                    balancer: name.clone(),
                    url: m.url.clone(),
                    key: key.to_owned(),
                    old: o,
                    new: n,
                });
            }
        }
    }
    if old.sticky.is_none() && old.options.insert_cookie.is_none() {
        return; // no session was pinned to a route
    }
    // A route that is now a domain's name still leads its sessions somewhere.
    let kept: HashSet<&str> = new
        .members
        .iter()
        .flat_map(|m| [m.route.as_str(), m.options.domain.as_str()])
        .collect();
    let mut seen = HashSet::new();
    for m in &old.members {
        let route = m.route.as_str();
        if !route.is_empty() && !kept.contains(route) && seen.insert(route) {
            out.push(Change::OrphanedRoute {
                balancer: name.clone(),
                route: route.to_owned(),
            });
        }
    }
}

/// A member's identity within its balancer: its URL without a trailing `/`.
fn member_key(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

/// The balancer's keys and their shown values, in the order of the printed config.
fn balancer_settings(b: &BalancerConfig) -> Vec<(&'static str, String)> {
    let o = &b.options;
    let fo = &o.failover;
    let sticky = b.sticky.as_ref();
    vec![
        (
            "mount",
            b.mount.as_ref().map_or_else(none, |m| toml_string(&m.path)),
        ),
        (
            "target_path",
            b.mount
                .as_ref()
                .map_or_else(none, |m| toml_string(&m.target_path)),
        ),
        ("lbmethod", b.lbmethod.as_str().to_owned()),
        (
            "stickysession",
            sticky.map_or_else(none, |s| {
                toml_string(&format!("{}|{}", s.cookie_name, s.url_name))
            }),
        ),
        (
            "stickysessionsep",
            sticky.map_or_else(none, |s| toml_string(&validate::sticky_sep_text(s.sep))),
        ),
        (
            "scolonpathdelim",
            sticky.map_or_else(none, |s| s.scolonpathdelim.to_string()),
        ),
        ("nofailover", o.nofailover.to_string()),
        ("balancer_headers", o.balancer_headers.to_string()),
        (
            "activation_header",
            o.activation_header
                .as_deref()
                .map_or_else(none, toml_string),
        ),
        (
            "insert_cookie",
            o.insert_cookie.as_ref().map_or_else(none, cookie_text),
        ),
        (
            "maxattempts",
            fo.maxattempts
                .map_or_else(|| "members - 1".to_owned(), |n| n.to_string()),
        ),
        ("forcerecovery", fo.forcerecovery.to_string()),
        ("failonstatus", list(fo.failonstatus.iter())),
        ("failontimeout", fo.failontimeout.to_string()),
        ("lbstatus_decay", o.lbstatus_decay.text()),
        ("tls", o.member_tls.summary()),
        ("proxypassreverse", o.reverse.enabled.to_string()),
        (
            "proxypassreverse_cookie_path",
            map_text(&o.reverse.cookie_path),
        ),
        (
            "proxypassreverse_cookie_domain",
            map_text(&o.reverse.cookie_domain),
        ),
    ]
}

/// The member's keys and their shown values, in the order of the printed config.
fn member_settings(m: &MemberConfig) -> Vec<(&'static str, String)> {
    let o = &m.options;
    vec![
        ("route", toml_string(&m.route)),
        ("loadfactor", loadfactor_text(m.lbfactor)),
        ("lbset", o.lbset.to_string()),
        ("status", toml_string(&validate::status_text(o.status))),
        ("redirect", toml_string(&o.redirect)),
        ("domain", toml_string(&o.domain)),
        ("retry", duration::format(o.retry)),
        ("slowstart", duration::format(o.slowstart)),
        ("health", o.health.as_ref().map_or_else(none, health_text)),
        ("tls", MemberTls::summary(o.tls.as_ref())),
        ("ajp", MemberAjp::summary(o.ajp.as_ref())),
        ("limits", o.limits.summary()),
        ("address", m.addr.to_string()),
    ]
}

fn none() -> String {
    "none".to_owned()
}

/// A listener's reloadable keys as (key, printed value): certificate and CA files are
/// re-read by every reload whether or not these change.
fn listener_keys(l: &super::ListenerConfig) -> [(&'static str, String); 11] {
    let tls = l.tls.as_ref();
    let auth = tls.and_then(|t| t.client_auth.as_ref());
    let path = |p: Option<&std::path::PathBuf>| {
        p.map_or_else(|| "none".to_owned(), |p| toml_string(&p.to_string_lossy()))
    };
    let sni = tls.map_or_else(String::new, |t| {
        list(
            t.sni
                .iter()
                .map(|s| format!("{} {}", quoted_list(&s.names), path(Some(&s.cert)))),
        )
    });
    [
        ("cert", path(tls.map(|t| &t.cert))),
        ("key", path(tls.map(|t| &t.key))),
        ("sni", sni),
        (
            "alpn",
            tls.map_or_else(String::new, |t| list(t.alpn.iter().map(|a| a.as_str()))),
        ),
        (
            "protocols",
            tls.map_or_else(String::new, |t| {
                list(t.protocols.iter().map(|v| v.as_str()))
            }),
        ),
        (
            "hsts",
            l.hsts
                .as_deref()
                .map_or_else(|| "none".to_owned(), toml_string),
        ),
        ("redirect_https", l.redirect_https.to_string()),
        ("proxy_protocol", l.proxy_protocol.to_string()),
        (
            "ssl_headers",
            tls.is_some_and(|t| t.ssl_headers).to_string(),
        ),
        ("client_ca", path(auth.map(|a| &a.ca))),
        (
            "client_verify",
            auth.map_or_else(none, |a| a.verify.as_str().to_owned()),
        ),
    ]
}

/// `[a, b]` of the items' `Display`.
fn list<T: fmt::Display>(items: impl Iterator<Item = T>) -> String {
    let items: Vec<String> = items.map(|i| i.to_string()).collect();
    format!("[{}]", items.join(", "))
}

fn quoted_list(items: &[String]) -> String {
    list(items.iter().map(|s| toml_string(s)))
}

fn admin(admin: Option<&AdminConfig>) -> String {
    admin.map_or_else(|| "off".to_owned(), |a| format!("on (listen {})", a.listen))
}

fn htpasswd(admin: &AdminConfig) -> String {
    admin
        .htpasswd
        .as_ref()
        .map_or_else(none, |p| toml_string(&p.to_string_lossy()))
}

/// Like a `Set-Cookie` value without one: `ROUTEID; Path=/; HttpOnly`.
fn cookie_text(c: &InsertCookie) -> String {
    let mut out = format!("{}; Path={}", c.name, c.path);
    if let Some(domain) = &c.domain {
        out.push_str(&format!("; Domain={domain}"));
    }
    if let Some(max_age) = c.max_age {
        out.push_str(&format!("; Max-Age={max_age}"));
    }
    if c.http_only {
        out.push_str("; HttpOnly");
    }
    if c.secure {
        out.push_str("; Secure");
    }
    if let Some(same_site) = &c.same_site {
        out.push_str(&format!("; SameSite={same_site}"));
    }
    out
}

/// `GET "/health" every 10s, passes 1, fails 3, status 200-399`.
fn health_text(h: &HealthCheck) -> String {
    format!(
        "{} {} every {}, passes {}, fails {}, status {}",
        h.method.as_str(),
        toml_string(&h.uri),
        duration::format(h.interval),
        h.passes,
        h.fails,
        validate::hc_status_text(h.status)
    )
}
