//! `Display for Config`: the effective configuration printed as TOML in the file schema.

use std::fmt;

use super::member_tls::write_keys;
use super::reverse::map_text;
use super::{duration, validate, BalancerOptions, Config, HealthCheck, ListenerConfig, Ops};

impl fmt::Display for Config {
    /// The effective configuration as TOML in the file schema, every default written out
    /// (optional values that are unset, an empty `status` and an empty `redirect` are left
    /// out; `activation` is folded into `status`, `distance` is written as `lbset`; each
    /// member's effective `retry`, `slowstart`, health check and `tls_*` keys are written on
    /// the member, so balancer-level defaults are not reconstructed, except the balancer's
    /// `tls_*` keys, which a member added through the manager inherits);
    /// [`super::parse_str`] of the output gives back an equal `Config` (with the same `file`).
    /// Paths (`admin.htpasswd`, `log.access`) print as resolved; they are absolute when the
    /// config came from [`super::load`], so the round trip holds for any `file` then.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let source: String = self.source.chars().filter(|c| !c.is_control()).collect();
        writeln!(f, "# effective configuration of {source}")?;
        match self.workers {
            Some(n) => writeln!(f, "workers = {n}")?,
            None => writeln!(f, "workers = \"auto\"")?,
        }
        writeln!(f, "io_driver = \"{}\"", self.io_driver.as_str())?;
        let listen: Vec<String> = self.listen.iter().map(|a| format!("\"{a}\"")).collect();
        // No `listen` key means no plain listen address when there are `[[listener]]`s.
        if !listen.is_empty() || self.listeners.is_empty() {
            writeln!(f, "listen = [{}]", listen.join(", "))?;
        }
        writeln!(f, "proxy_protocol = {}", self.trust.proxy_protocol)?;
        let trusted: Vec<String> = (self.trust.trusted_proxies.iter())
            .map(|n| format!("\"{n}\""))
            .collect();
        writeln!(f, "trusted_proxies = [{}]", trusted.join(", "))?;
        let grace = duration::format(self.ops.shutdown_grace);
        writeln!(f, "shutdown_grace = \"{grace}\"")?;
        if let Some(pid_file) = &self.ops.pid_file {
            writeln!(f, "pid_file = {}", toml_string(&pid_file.to_string_lossy()))?;
        }
        writeln!(f, "reload_on_change = {}", self.ops.reload_on_change)?;
        let refresh = duration::format(self.dns.refresh);
        writeln!(f, "dns_refresh = \"{refresh}\"")?;
        let resolvers: Vec<String> = (self.dns.resolvers.iter())
            .map(|a| format!("\"{a}\""))
            .collect();
        writeln!(f, "resolvers = [{}]", resolvers.join(", "))?;
        let t = &self.timeouts;
        writeln!(f, "\n[timeouts]")?;
        for (key, value) in [
            ("connect", t.connect),
            ("client_header", t.client_header),
            ("keepalive_idle", t.keepalive_idle),
            ("upstream_response", t.upstream_response),
            ("upstream_idle", t.upstream_idle),
            ("ping", t.ping),
            ("client_body", t.client_body),
            ("client_body_max", t.client_body_max),
            ("tunnel_idle", t.tunnel_idle),
        ] {
            writeln!(f, "{key} = \"{}\"", duration::format(value))?;
        }
        let l = &self.limits;
        writeln!(f, "\n[limits]")?;
        writeln!(f, "max_head_bytes = {}", l.max_head_bytes)?;
        writeln!(f, "max_headers = {}", l.max_headers)?;
        writeln!(f, "max_body_bytes = {}", l.max_body_bytes)?;
        writeln!(f, "min_body_rate = {}", l.min_body_rate)?;
        match l.max_connections {
            Some(n) => writeln!(f, "max_connections = {n}")?,
            None => writeln!(f, "max_connections = \"auto\"")?,
        }
        let h = &self.forwarded;
        writeln!(f, "\n[headers]")?;
        writeln!(f, "x_forwarded_for = {}", h.x_forwarded_for)?;
        writeln!(f, "x_forwarded_proto = {}", h.x_forwarded_proto)?;
        writeln!(f, "x_forwarded_host = {}", h.x_forwarded_host)?;
        writeln!(f, "preserve_host = {}", h.preserve_host)?;
        writeln!(f, "\n[stats]")?;
        let merge = duration::format(self.stats.merge_interval);
        writeln!(f, "merge_interval = \"{merge}\"")?;
        write_ops(f, &self.ops)?;
        for l in &self.listeners {
            write_listener(f, l)?;
        }
        for b in &self.balancers {
            writeln!(f, "\n[[balancer]]")?;
            writeln!(f, "name = {}", toml_string(&b.name))?;
            if let Some(m) = &b.mount {
                writeln!(f, "mount = {}", toml_string(&m.path))?;
                writeln!(f, "target_path = {}", toml_string(&m.target_path))?;
            }
            writeln!(f, "lbmethod = \"{}\"", b.lbmethod.as_str())?;
            if let Some(s) = &b.sticky {
                let names = format!("{}|{}", s.cookie_name, s.url_name);
                writeln!(f, "stickysession = {}", toml_string(&names))?;
                let sep = validate::sticky_sep_text(s.sep);
                writeln!(f, "stickysessionsep = {}", toml_string(&sep))?;
                writeln!(f, "scolonpathdelim = {}", s.scolonpathdelim)?;
            }
            write_balancer_options(f, &b.options)?;
            for m in &b.members {
                writeln!(f, "\n[[balancer.member]]")?;
                writeln!(f, "url = {}", toml_string(&m.url))?;
                writeln!(f, "route = {}", toml_string(&m.route))?;
                writeln!(f, "loadfactor = {}", loadfactor_text(m.lbfactor))?;
                let o = &m.options;
                writeln!(f, "lbset = {}", o.lbset)?;
                let status = validate::status_text(o.status);
                if !status.is_empty() {
                    writeln!(f, "status = \"{status}\"")?;
                }
                if !o.redirect.is_empty() {
                    writeln!(f, "redirect = {}", toml_string(&o.redirect))?;
                }
                if !o.domain.is_empty() {
                    writeln!(f, "domain = {}", toml_string(&o.domain))?;
                }
                writeln!(f, "retry = \"{}\"", duration::format(o.retry))?;
                writeln!(f, "slowstart = \"{}\"", duration::format(o.slowstart))?;
                if let Some(tls) = &o.tls {
                    write_keys(f, &tls.keys())?;
                }
                if let Some(ajp) = &o.ajp {
                    write_keys(f, &ajp.keys())?;
                }
                write_keys(f, &o.limits.keys())?;
                if let Some(h) = &o.health {
                    write_health(f, h)?;
                }
            }
        }
        self.routes.write_toml(f, &self.balancers)
    }
}

/// `[admin]` when the admin listener is on, then `[log]` with every key.
fn write_ops(f: &mut fmt::Formatter<'_>, ops: &Ops) -> fmt::Result {
    if let Some(a) = &ops.admin {
        writeln!(f, "\n[admin]")?;
        writeln!(f, "listen = \"{}\"", a.listen)?;
        let allow: Vec<String> = a.allow.iter().map(|c| toml_string(c)).collect();
        writeln!(f, "allow = [{}]", allow.join(", "))?;
        if let Some(path) = &a.htpasswd {
            writeln!(f, "htpasswd = {}", toml_string(&path.to_string_lossy()))?;
        }
        if !a.server_names.is_empty() {
            let names: Vec<String> = a.server_names.iter().map(|n| toml_string(n)).collect();
            writeln!(f, "server_names = [{}]", names.join(", "))?;
        }
        if a.jkstatus != super::JkStatusMode::default() {
            writeln!(f, "jkstatus = \"{}\"", a.jkstatus.as_str())?;
        }
    }
    let l = &ops.log;
    writeln!(f, "\n[log]")?;
    let access = validate::access_text(&l.access);
    writeln!(f, "access = {}", toml_string(&access))?;
    writeln!(f, "access_format = {}", toml_string(&l.access_format))?;
    writeln!(f, "level = \"{}\"", l.level.as_str())?;
    let error = validate::target_text(&l.error);
    writeln!(f, "error = {}", toml_string(&error))
}

/// The balancer's option keys, then its `[balancer.insert_cookie]` table when on (which must
/// come after the balancer's own keys and before its members). Unset optional values are left
/// out.
fn write_balancer_options(f: &mut fmt::Formatter<'_>, o: &BalancerOptions) -> fmt::Result {
    writeln!(f, "nofailover = {}", o.nofailover)?;
    writeln!(f, "balancer_headers = {}", o.balancer_headers)?;
    if let Some(h) = &o.activation_header {
        writeln!(f, "activation_header = {}", toml_string(h))?;
    }
    let fo = &o.failover;
    if let Some(n) = fo.maxattempts {
        writeln!(f, "maxattempts = {n}")?;
    }
    writeln!(f, "forcerecovery = {}", fo.forcerecovery)?;
    if !fo.failonstatus.is_empty() {
        let codes: Vec<String> = fo.failonstatus.iter().map(u16::to_string).collect();
        writeln!(f, "failonstatus = [{}]", codes.join(", "))?;
    }
    writeln!(f, "failontimeout = {}", fo.failontimeout)?;
    writeln!(f, "lbstatus_decay = {}", o.lbstatus_decay.toml())?;
    write_keys(f, &o.member_tls.keys())?;
    let rv = &o.reverse;
    writeln!(f, "proxypassreverse = {}", rv.enabled)?;
    if !rv.cookie_path.is_empty() {
        writeln!(
            f,
            "proxypassreverse_cookie_path = {}",
            map_text(&rv.cookie_path)
        )?;
    }
    if !rv.cookie_domain.is_empty() {
        writeln!(
            f,
            "proxypassreverse_cookie_domain = {}",
            map_text(&rv.cookie_domain)
        )?;
    }
    let Some(c) = &o.insert_cookie else {
        return Ok(());
    };
    writeln!(f, "\n[balancer.insert_cookie]")?;
    writeln!(f, "name = {}", toml_string(&c.name))?;
    writeln!(f, "path = {}", toml_string(&c.path))?;
    if let Some(domain) = &c.domain {
        writeln!(f, "domain = {}", toml_string(domain))?;
    }
    if let Some(max_age) = c.max_age {
        writeln!(f, "max_age = {max_age}")?;
    }
    writeln!(f, "httponly = {}", c.http_only)?;
    writeln!(f, "secure = {}", c.secure)?;
    if let Some(same_site) = &c.same_site {
        writeln!(f, "samesite = {}", toml_string(same_site))?;
    }
    Ok(())
}

/// A member's `[balancer.member.health]` table with every key written out (the balancer-level
/// `[balancer.health]` it may have come from is not reconstructed).
fn write_health(f: &mut fmt::Formatter<'_>, h: &HealthCheck) -> fmt::Result {
    writeln!(f, "\n[balancer.member.health]")?;
    writeln!(f, "method = \"{}\"", h.method.as_str())?;
    writeln!(f, "uri = {}", toml_string(&h.uri))?;
    writeln!(f, "interval = \"{}\"", duration::format(h.interval))?;
    writeln!(f, "passes = {}", h.passes)?;
    writeln!(f, "fails = {}", h.fails)?;
    writeln!(f, "status = \"{}\"", validate::hc_status_text(h.status))
}

/// One `[[listener]]` with its `[[listener.sni]]` tables; paths print as resolved.
fn write_listener(f: &mut fmt::Formatter<'_>, l: &ListenerConfig) -> fmt::Result {
    let path = |p: &std::path::Path| toml_string(&p.to_string_lossy());
    writeln!(f, "\n[[listener]]")?;
    writeln!(f, "address = \"{}\"", l.address)?;
    if l.redirect_https {
        writeln!(f, "redirect_https = true")?;
    }
    writeln!(f, "proxy_protocol = {}", l.proxy_protocol)?;
    let Some(t) = &l.tls else {
        return Ok(());
    };
    writeln!(f, "cert = {}", path(&t.cert))?;
    writeln!(f, "key = {}", path(&t.key))?;
    let alpn: Vec<String> = t.alpn.iter().map(|a| toml_string(a.as_str())).collect();
    writeln!(f, "alpn = [{}]", alpn.join(", "))?;
    let versions: Vec<String> = t
        .protocols
        .iter()
        .map(|v| toml_string(v.as_str()))
        .collect();
    writeln!(f, "protocols = [{}]", versions.join(", "))?;
    if let Some(h) = &l.hsts {
        writeln!(f, "hsts = {}", toml_string(h))?;
    }
    writeln!(f, "ssl_headers = {}", t.ssl_headers)?;
    if let Some(auth) = &t.client_auth {
        writeln!(f, "client_ca = {}", path(&auth.ca))?;
        writeln!(f, "client_verify = \"{}\"", auth.verify.as_str())?;
    }
    for s in &t.sni {
        writeln!(f, "\n[[listener.sni]]")?;
        let names: Vec<String> = s.names.iter().map(|n| toml_string(n)).collect();
        writeln!(f, "names = [{}]", names.join(", "))?;
        writeln!(f, "cert = {}", path(&s.cert))?;
        writeln!(f, "key = {}", path(&s.key))?;
    }
    Ok(())
}

/// A TOML basic string: quotes, backslashes and control characters escaped.
pub(crate) fn toml_string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if c.is_control() => out.push_str(&format!("\\u{:04X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `lbfactor / 100` as a TOML float with no trailing zeros past the first decimal: `1.0`,
/// `1.5`, `1.25`.
pub(crate) fn loadfactor_text(lbfactor: u32) -> String {
    let (whole, hundredths) = (lbfactor / 100, lbfactor % 100);
    if hundredths % 10 == 0 {
        format!("{whole}.{}", hundredths / 10)
    } else {
        format!("{whole}.{hundredths:02}")
    }
}
