//! From the gathered [`State`] to the ringlb configuration: which `ProxyPass` rules httpd can
//! reach, the balancers they use (members' paths folded into the mounts), virtual hosts,
//! listeners, reverse rewriting, the route cookie, the manager, and mod_jk's mounts.

use toml::Value;

use super::rules::{self, Reached};
use super::state::State;
use crate::import::model::{self, Balancer, Imported, Keys, Listener, Vhost};
use crate::import::{ImportError, Report};

/// Builds `out` from `st`; the mounts of mod_jk are added by the caller.
pub(super) fn emit(
    st: &mut State,
    out: &mut Imported,
    report: &mut Report,
) -> Result<(), ImportError> {
    let reached = rules::reach(st, report);
    let names = balancer_names(st, &reached, report);
    // Balancers, in the order httpd first met them.
    for (i, b) in st.bals.iter().enumerate() {
        let Some(name) = names.get(i).cloned().flatten() else {
            continue;
        };
        let mut keys = b.keys.clone();
        let reversed = st.reverses.iter().any(|r| reverse_names(st, r, i));
        if !reversed {
            model::set(&mut keys, "proxypassreverse", false);
        }
        if b.members.iter().any(|m| m.url.starts_with("https://")) {
            tls(st, b, &mut keys, report)?;
        }
        let mut members = Vec::new();
        for m in &b.members {
            let mut mk = m.keys.clone();
            if let Some((_, size)) = &st.packet_size {
                if m.url.starts_with("ajp://") {
                    model::set(&mut mk, "packet_size", *size);
                }
            }
            members.push(mk);
        }
        out.balancers.push(Balancer {
            name,
            keys,
            members,
        });
    }
    for r in &reached {
        let Some(mount) = rules::mount_keys(st, r, &names) else {
            continue;
        };
        match r.vhost {
            None => out.mounts.push(mount),
            Some(v) => {
                while out.vhosts.len() <= v {
                    out.vhosts.push(Vhost::default());
                }
                if let Some(vh) = out.vhosts.get_mut(v) {
                    vh.mounts.push(mount);
                }
            }
        }
    }
    reverses(st, &names, report);
    cookie_maps(st, &reached, &names, out, report);
    route_cookies(st, &reached, &names, out, report);
    timeouts(st, out);
    manager(st, out, report);
    Ok(())
}

/// The TLS keys of a balancer with `https://` members, from the `SSLProxy*` settings of its
/// server (each one unset there taken from the main server's). httpd's default
/// `SSLProxyVerify none` checks no certificate: `tls_verify = false`.
fn tls(
    st: &State,
    b: &super::state::Bal,
    keys: &mut Keys,
    report: &mut Report,
) -> Result<(), ImportError> {
    let own = st.ssl_proxy.get(&b.vhost);
    let main = st.ssl_proxy.get(&None);
    let pick = |f: fn(&super::state::SslProxy) -> &Option<(crate::import::Loc, String)>| {
        own.and_then(|s| f(s).clone())
            .or_else(|| main.and_then(|s| f(s).clone()))
    };
    let ca = pick(|s| &s.ca);
    let verify = pick(|s| &s.verify);
    let client_cert = pick(|s| &s.client_cert);
    let what = format!("https:// members of balancer {}", b.name);
    match verify.as_ref().map(|(l, v)| (l, v.as_str())) {
        None | Some((_, "none" | "optional_no_ca")) => {
            model::set(keys, "tls_verify", false);
            if verify.is_none() {
                let how = "tls_verify = false: without SSLProxyVerify httpd checks no member \
                           certificate (its default is none)";
                report.approximated(&b.loc, what, how);
            }
        }
        Some((loc, v)) => match &ca {
            Some((_, path)) => model::set(keys, "tls_ca", path.as_str()),
            None => {
                return Err(ImportError::new(
                    loc.clone(),
                    format!(
                        "SSLProxyVerify {v} without SSLProxyCACertificateFile: nothing to \
                         verify the {what} against (httpd refuses to start too)"
                    ),
                ));
            }
        },
    }
    if let Some((_, path)) = &client_cert {
        model::set(keys, "tls_client_cert", path.as_str());
    }
    Ok(())
}

/// The ringlb name of each balancer that a reached rule uses (`None`: not emitted). Names
/// are sanitised to ringlb's characters and made distinct.
fn balancer_names(st: &State, reached: &[Reached], report: &mut Report) -> Vec<Option<String>> {
    let mut names: Vec<Option<String>> = vec![None; st.bals.len()];
    let mut taken: Vec<String> = Vec::new();
    for (i, b) in st.bals.iter().enumerate() {
        if !reached.iter().any(|r| r.bal == Some(i)) {
            if b.defined && !b.direct {
                let why = if b.members.is_empty() {
                    "it has no BalancerMember (ringlb needs static members; dynamic \
                     registration, as mod_cluster's, cannot be imported)"
                } else {
                    "no ProxyPass that httpd reaches uses it"
                };
                report.ignored(&b.loc, format!("balancer://{}", b.name), why);
            }
            continue;
        }
        let base: String = b
            .name
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let mut name = base.clone();
        let mut n = 2;
        while taken.contains(&name) {
            name = match b.vhost {
                Some(v) if n == 2 => format!("{base}_vhost{}", v + 1),
                _ => format!("{base}_{n}"),
            };
            n += 1;
        }
        if name != b.name {
            report.approximated(
                &b.loc,
                format!("balancer://{}", b.name),
                format!(
                    "named {name} in ringlb (ringlb's balancer names are global and use only \
                     A-Z a-z 0-9 _ . -)"
                ),
            );
        }
        taken.push(name.clone());
        names[i] = Some(name);
    }
    names
}

/// Whether `ProxyPassReverse` `r` names balancer `i` (by `balancer://NAME` or its member).
fn reverse_names(st: &State, r: &super::state::Reverse, i: usize) -> bool {
    let Some(b) = st.bals.get(i) else {
        return false;
    };
    if let Some((name, _)) = super::proxy::balancer_url(&r.url) {
        return !b.direct && st.find(&name, r.vhost) == Some(i);
    }
    b.direct
        && b.members.first().is_some_and(|m| {
            r.url
                .to_ascii_lowercase()
                .starts_with(&m.url.to_ascii_lowercase())
        })
}

fn reverses(st: &State, names: &[Option<String>], report: &mut Report) {
    for r in &st.reverses {
        let shown = format!("ProxyPassReverse {} {}", r.path, r.url);
        let hit = (0..st.bals.len())
            .find(|&i| reverse_names(st, r, i) && names.get(i).is_some_and(Option::is_some));
        match hit.and_then(|i| names.get(i).cloned().flatten()) {
            Some(name) => report.approximated(
                &r.loc,
                shown,
                format!(
                    "balancer {name}: proxypassreverse (ringlb rewrites Location, \
                     Content-Location, URI and Set-Cookie paths through the mount that served \
                     the request)"
                ),
            ),
            None => report.ignored(&r.loc, shown, "it names no balancer a mount uses"),
        }
    }
}

/// The balancers a server's reached rules use (all servers' for the main one, whose
/// settings the vhosts inherit).
fn used_by(reached: &[Reached], vhost: Option<usize>) -> Vec<usize> {
    let mut out = Vec::new();
    for r in reached {
        if vhost.is_none() || r.vhost == vhost || r.vhost.is_none() {
            if let Some(b) = r.bal {
                if !out.contains(&b) {
                    out.push(b);
                }
            }
        }
    }
    out
}

fn cookie_maps(
    st: &State,
    reached: &[Reached],
    names: &[Option<String>],
    out: &mut Imported,
    report: &mut Report,
) {
    for (loc, vhost, domain, from, to) in &st.cookie_maps {
        let key = if *domain {
            "proxypassreverse_cookie_domain"
        } else {
            "proxypassreverse_cookie_path"
        };
        let directive = format!(
            "ProxyPassReverseCookie{} {from} {to}",
            if *domain { "Domain" } else { "Path" }
        );
        let mut on = Vec::new();
        for b in used_by(reached, *vhost) {
            let Some(name) = names.get(b).cloned().flatten() else {
                continue;
            };
            if let Some(bal) = out.balancer_mut(&name) {
                let mut map = match model::get(&bal.keys, key) {
                    Some(Value::Table(t)) => t.clone(),
                    _ => toml::Table::new(),
                };
                map.insert(from.clone(), Value::from(to.as_str()));
                model::set(&mut bal.keys, key, Value::Table(map));
                on.push(name);
            }
        }
        if on.is_empty() {
            report.ignored(loc, directive, "no balancer of this server is mounted");
        } else {
            report.approximated(
                loc,
                directive,
                format!(
                    "{key} of balancer {} (ringlb's maps are per balancer)",
                    on.join(", ")
                ),
            );
        }
    }
}

fn route_cookies(
    st: &State,
    reached: &[Reached],
    names: &[Option<String>],
    out: &mut Imported,
    report: &mut Report,
) {
    for (loc, vhost, cookie, path) in &st.route_cookies {
        let directive = format!(
            "Header add Set-Cookie \"{cookie}=.%{{BALANCER_WORKER_ROUTE}}e; path={path}\" \
             env=BALANCER_ROUTE_CHANGED"
        );
        let mut on = Vec::new();
        for b in used_by(reached, *vhost) {
            let Some(name) = names.get(b).cloned().flatten() else {
                continue;
            };
            let Some(bal) = out.balancer_mut(&name) else {
                continue;
            };
            let sticky = model::get(&bal.keys, "stickysession")
                .and_then(Value::as_str)
                .map(|s| s.split('|').next().unwrap_or("").to_owned());
            if sticky.as_deref() == Some(cookie.as_str()) {
                let mut table = toml::Table::new();
                table.insert("name".into(), Value::from(cookie.as_str()));
                table.insert("path".into(), Value::from(path.as_str()));
                model::set(&mut bal.keys, "insert_cookie", Value::Table(table));
                on.push(name);
            }
        }
        if on.is_empty() {
            report.ignored(
                loc,
                directive,
                format!(
                    "no balancer's stickysession uses {cookie}: httpd would set the cookie \
                     and never read it"
                ),
            );
        } else {
            report.approximated(
                loc,
                directive,
                format!(
                    "[balancer.insert_cookie] {cookie} (path {path}) on {}: ringlb sets it \
                     (with the route alone, read back with stickysessionsep) on new or moved \
                     sessions",
                    on.join(", ")
                ),
            );
        }
    }
}

fn timeouts(st: &State, out: &mut Imported) {
    let secs = |s: f64| -> Value {
        if s.fract() == 0.0 {
            Value::from(s as i64)
        } else {
            Value::from(format!("{}ms", (s * 1000.0).round() as i64))
        }
    };
    let workers: usize = st.bals.iter().map(|b| b.members.len()).sum();
    // A worker without timeout= waits httpd's Timeout (60 s unless set, which wins anyway).
    let shorter = st.folded.response_workers < workers
        && st.folded.response.as_ref().is_some_and(|(s, _)| *s < 60.0);
    if let (Some((s, _)), false, false) = (&st.folded.response, st.set_response, shorter) {
        let t = out.table_mut("timeouts");
        if model::get(t, "upstream_response").is_none() {
            model::set(t, "upstream_response", secs(*s));
        }
    }
    if let (Some((s, _)), false) = (&st.folded.connect, st.set_connect) {
        model::set(out.table_mut("timeouts"), "connect", secs(*s));
    }
    if let Some((s, _)) = &st.folded.ttl {
        if *s > super::params::DEFAULT_UPSTREAM_IDLE as f64 {
            model::set(out.table_mut("timeouts"), "upstream_idle", secs(*s));
        }
    }
    if let Some((s, _)) = &st.folded.ping {
        model::set(out.table_mut("timeouts"), "ping", secs(*s));
    }
}

fn manager(st: &State, out: &mut Imported, report: &mut Report) {
    let guarded = |vhost: Option<usize>, path: &str| {
        st.manager
            .as_ref()
            .is_some_and(|(_, v, p)| *v == vhost && p == path)
    };
    let mut allow: Vec<String> = Vec::new();
    for a in &st.access {
        if !guarded(a.vhost, &a.path) {
            report.ignored(
                &a.loc,
                a.shown.clone(),
                "access control is not imported (only the balancer-manager's)",
            );
            continue;
        }
        let mut notes = Vec::new();
        for addr in &a.addrs {
            match cidr(addr) {
                Some(c) => {
                    for c in c {
                        if !allow.contains(&c) {
                            allow.push(c);
                        }
                    }
                }
                None => notes.push(format!("{addr}: not an address or network")),
            }
        }
        if a.addrs.is_empty() {
            report.ignored(
                &a.loc,
                a.shown.clone(),
                "only Require ip/local and Allow from are imported",
            );
        } else if notes.is_empty() {
            report.imported(&a.loc, format!("{} ([admin] allow)", a.shown));
        } else {
            report.approximated(&a.loc, a.shown.clone(), notes.join("; "));
        }
    }
    if st.manager.is_some() {
        let admin = out.table_mut("admin");
        if !allow.is_empty() {
            model::set(admin, "allow", allow);
        }
    }
}

/// httpd's `Require ip` forms as CIDR: `10.1` is `10.1.0.0/16`, `all` everybody.
fn cidr(addr: &str) -> Option<Vec<String>> {
    if addr.eq_ignore_ascii_case("all") {
        return Some(vec!["0.0.0.0/0".into(), "::/0".into()]);
    }
    if addr.contains('/') {
        return Some(vec![addr.to_owned()]);
    }
    if let Ok(ip) = addr.parse::<std::net::IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Some(vec![format!("{ip}/{bits}")]);
    }
    let parts: Vec<&str> = addr.trim_end_matches('.').split('.').collect();
    if parts.len() < 4 && parts.iter().all(|p| p.parse::<u8>().is_ok()) {
        let mut octets = parts.clone();
        while octets.len() < 4 {
            octets.push("0");
        }
        return Some(vec![format!("{}/{}", octets.join("."), parts.len() * 8)]);
    }
    None
}

/// The `[[vhost]]` tables and listeners of the `<VirtualHost>`s.
pub(super) fn vhosts(st: &State, out: &mut Imported, report: &mut Report) {
    while out.vhosts.len() < st.vhosts.len() {
        out.vhosts.push(Vhost::default());
    }
    let mut tls_ports: Vec<(u16, usize)> = Vec::new();
    let mut defaults: Vec<u16> = Vec::new();
    for (i, v) in st.vhosts.iter().enumerate() {
        let mut keys = Keys::new();
        let mut ports: Vec<u16> = Vec::new();
        let mut any_port = false;
        let mut is_default = false;
        let mut hosts: Vec<String> = Vec::new();
        for addr in &v.addrs {
            let (host, port) = match super::server::split_port(addr) {
                Some((h, p)) => (h, Some(p)),
                None => (addr.as_str(), None),
            };
            match port.and_then(|p| p.parse::<u16>().ok()) {
                Some(p) if !ports.contains(&p) => ports.push(p),
                Some(_) => {}
                None => any_port = true,
            }
            if host.eq_ignore_ascii_case("_default_") {
                is_default = true;
            } else if host != "*" {
                hosts.push(host.to_owned());
            }
        }
        let name = match (&v.server_name, hosts.first(), &st.main_server_name) {
            (Some(n), _, _) => n.clone(),
            (None, Some(h), _) => {
                report.approximated(
                    &v.loc,
                    format!("<VirtualHost {}>", v.addrs.join(" ")),
                    format!(
                        "no ServerName: server_name {h}, its other addresses as aliases \
                         (ringlb matches the Host header, not the local address)"
                    ),
                );
                h.to_ascii_lowercase()
            }
            (None, None, Some(main)) => main.clone(),
            (None, None, None) => "localhost".to_owned(),
        };
        model::set(&mut keys, "server_name", name);
        let mut aliases: Vec<String> = v.aliases.iter().map(|a| a.to_ascii_lowercase()).collect();
        if v.server_name.is_none() {
            aliases.extend(hosts.iter().skip(1).cloned());
        }
        if !aliases.is_empty() {
            model::set(&mut keys, "server_alias", aliases);
        }
        if !any_port && !ports.is_empty() {
            model::set(
                &mut keys,
                "ports",
                ports.iter().map(|p| i64::from(*p)).collect::<Vec<_>>(),
            );
        }
        if is_default && ports.iter().all(|p| !defaults.contains(p)) {
            model::set(&mut keys, "default", true);
            defaults.extend(&ports);
        }
        if let Some(vh) = out.vhosts.get_mut(i) {
            vh.keys = keys;
        }
        if v.ssl {
            if let (Some((_, cert)), Some((_, key))) = (&v.cert, &v.key) {
                for p in &ports {
                    tls_ports.push((*p, i));
                }
                let _ = (cert, key);
            }
        }
    }
    listeners(st, &tls_ports, out);
}

fn listeners(st: &State, tls_ports: &[(u16, usize)], out: &mut Imported) {
    let port_of =
        |addr: &str| super::server::split_port(addr).and_then(|(_, p)| p.parse::<u16>().ok());
    let mut listeners: Vec<Listener> = Vec::new();
    let mut done: Vec<u16> = Vec::new();
    for (port, vi) in tls_ports {
        let Some(v) = st.vhosts.get(*vi) else {
            continue;
        };
        let (Some((_, cert)), Some((_, key))) = (&v.cert, &v.key) else {
            continue;
        };
        if let Some(at) = done.iter().position(|p| p == port) {
            let mut sni = Keys::new();
            let mut names: Vec<String> = v.server_name.iter().cloned().collect();
            names.extend(v.aliases.iter().map(|a| a.to_ascii_lowercase()));
            model::set(&mut sni, "names", names);
            model::set(&mut sni, "cert", cert.as_str());
            model::set(&mut sni, "key", key.as_str());
            if let Some(l) = listeners.get_mut(at) {
                l.sni.push(sni);
            }
            continue;
        }
        let address = st
            .listen
            .iter()
            .find(|(_, a)| port_of(a) == Some(*port))
            .map_or(format!("0.0.0.0:{port}"), |(_, a)| a.clone());
        let mut keys = Keys::new();
        model::set(&mut keys, "address", address);
        model::set(&mut keys, "cert", cert.as_str());
        model::set(&mut keys, "key", key.as_str());
        listeners.push(Listener {
            keys,
            sni: Vec::new(),
        });
        done.push(*port);
    }
    let plain: Vec<String> = st
        .listen
        .iter()
        .map(|(_, a)| a.clone())
        .filter(|a| port_of(a).map_or(true, |p| !done.contains(&p)))
        .fold(Vec::new(), |mut acc, a| {
            if !acc.contains(&a) {
                acc.push(a);
            }
            acc
        });
    if listeners.is_empty() {
        if !plain.is_empty() {
            model::set(&mut out.top, "listen", plain);
        }
    } else {
        for a in plain {
            let mut keys = Keys::new();
            model::set(&mut keys, "address", a);
            listeners.push(Listener {
                keys,
                sni: Vec::new(),
            });
        }
    }
    out.listeners = listeners;
}
