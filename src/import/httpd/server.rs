//! The directives that are not mod_proxy's: virtual hosts and listeners, TLS, timeouts and
//! limits, headers, logs, the balancer-manager, the route-cookie recipe and mod_jk's.

use std::path::{Path, PathBuf};

use super::proxy::{placeholder, shown};
use super::reader::Directive;
use super::state::{Access, NoJk, State, VhostInfo};
use crate::import::model::{self, Imported};
use crate::import::modjk;
use crate::import::{ImportError, Report};

/// Handles `d`; everything it does not import is reported as ignored with why.
pub(super) fn directive(
    st: &mut State,
    out: &mut Imported,
    d: &Directive,
    server_root: &Path,
    report: &mut Report,
) -> Result<(), ImportError> {
    let shown = shown(d);
    let arg = d.args.first().map(String::as_str).unwrap_or("");
    let in_vhost = d.scope.vhost.is_some();
    let vhost_note = |what: &str| {
        if in_vhost {
            format!("{what} for every virtual host (ringlb has one)")
        } else {
            what.to_owned()
        }
    };
    match d.key.as_str() {
        "<virtualhost" => {
            for addr in &d.args {
                vhost_address(addr, d)?;
            }
            st.vhosts
                .push(VhostInfo::new(d.loc.clone(), d.args.clone()));
            report.imported(&d.loc, format!("<VirtualHost {}>", d.args.join(" ")));
        }
        "<location" | "<locationmatch" => report.imported(&d.loc, format!("{} {arg}>", d.name)),
        "servername" => {
            let name = host_of(arg);
            match d.scope.vhost.and_then(|v| st.vhosts.get_mut(v)) {
                Some(v) => v.server_name = Some(name),
                None => st.main_server_name = Some(name),
            }
            report.imported(&d.loc, shown);
        }
        "serveralias" => match d.scope.vhost.and_then(|v| st.vhosts.get_mut(v)) {
            Some(v) => {
                v.aliases.extend(d.args.iter().cloned());
                report.imported(&d.loc, shown);
            }
            None => report.ignored(&d.loc, shown, "outside a <VirtualHost>"),
        },
        "listen" => {
            if let Some(p) = placeholder(arg) {
                return Err(ImportError::new(
                    d.loc.clone(),
                    format!("Listen {arg}: `{p}` is a template placeholder, not a port"),
                ));
            }
            let addr = listen_address(arg).ok_or_else(|| {
                ImportError::new(
                    d.loc.clone(),
                    format!("Listen {arg}: not an address or port"),
                )
            })?;
            if d.args.len() > 1 {
                report.approximated(&d.loc, shown, "the protocol argument is not needed");
            } else {
                report.imported(&d.loc, shown);
            }
            st.listen.push((d.loc.clone(), addr));
        }
        "namevirtualhost" => report.ignored(&d.loc, shown, "ringlb always matches vhosts by Host"),
        "timeout" | "proxytimeout" => {
            let secs = seconds(d)?;
            let proxy = d.key == "proxytimeout";
            if proxy || !st.set_response {
                model::set(out.table_mut("timeouts"), "upstream_response", secs);
            }
            if proxy {
                st.set_response = true;
                report.approximated(&d.loc, shown, vhost_note("[timeouts] upstream_response"));
            } else {
                report.approximated(
                    &d.loc,
                    shown,
                    vhost_note(
                        "[timeouts] upstream_response unless ProxyTimeout sets it (httpd's \
                         client read timeout stays ringlb's client_header/client_body)",
                    ),
                );
            }
        }
        "keepalivetimeout" => {
            let secs = seconds(d)?;
            model::set(out.table_mut("timeouts"), "keepalive_idle", secs);
            report.approximated(&d.loc, shown, vhost_note("[timeouts] keepalive_idle"));
        }
        "limitrequestbody" => {
            let n = number(d)?;
            model::set(out.table_mut("limits"), "max_body_bytes", n);
            report.approximated(&d.loc, shown, vhost_note("[limits] max_body_bytes"));
        }
        "limitrequestfields" => {
            let n = number(d)?;
            let capped = n.clamp(1, 128);
            model::set(out.table_mut("limits"), "max_headers", capped);
            let note = if capped == n {
                vhost_note("[limits] max_headers")
            } else {
                vhost_note(&format!(
                    "[limits] max_headers = {capped} (ringlb's range is 1..128)"
                ))
            };
            report.approximated(&d.loc, shown, note);
        }
        "proxypreservehost" | "proxyaddheaders" => {
            let on = on_off(d)?;
            let headers = out.table_mut("headers");
            if d.key == "proxypreservehost" {
                model::set(headers, "preserve_host", on);
            } else {
                for key in ["x_forwarded_for", "x_forwarded_proto", "x_forwarded_host"] {
                    model::set(headers, key, on);
                }
            }
            if in_vhost {
                report.approximated(&d.loc, shown, vhost_note("[headers]"));
            } else {
                report.imported(&d.loc, shown);
            }
        }
        "proxyrequests" => {
            if arg.eq_ignore_ascii_case("off") {
                report.imported(&d.loc, format!("{shown} (ringlb is never a forward proxy)"));
            } else {
                report.ignored(
                    &d.loc,
                    shown,
                    "forward proxying is not something ringlb does",
                );
            }
        }
        "logformat" => {
            if let [format, nick, ..] = d.args.as_slice() {
                st.log_formats.insert(nick.clone(), format.clone());
            }
            report.imported(&d.loc, shown);
        }
        "customlog" | "transferlog" => custom_log(st, out, d, server_root, report),
        "errorlog" if !in_vhost => match log_target(arg, server_root) {
            Ok(t) => {
                model::set(out.table_mut("log"), "error", t);
                report.imported(&d.loc, shown);
            }
            Err(why) => report.ignored(&d.loc, shown, why),
        },
        "header" => header(st, d, report),
        "sethandler" => match (arg.to_ascii_lowercase().as_str(), &d.scope.location) {
            ("balancer-manager", Some((path, _))) => {
                st.manager = Some((d.loc.clone(), d.scope.vhost, path.clone()));
                report.approximated(
                    &d.loc,
                    shown,
                    format!(
                        "[admin]: ringlb's manager is on its admin listener (its default \
                         address), not at {path} on the proxy's port"
                    ),
                );
            }
            ("server-status", _) => report.ignored(
                &d.loc,
                shown,
                "ringlb's status and metrics are on its admin listener",
            ),
            _ => report.ignored(&d.loc, shown, "ringlb serves no content of its own"),
        },
        "require" | "allow" => access(st, d, report),
        "setenvif" | "setenvifnocase" if no_jk(d) => {
            if d.scope.location.is_some() || d.scope.proxy.is_some() || d.scope.other.is_some() {
                report.ignored(&d.loc, shown, "no-jk inside a section is not imported");
            } else {
                let re = d.args.get(1).cloned().unwrap_or_default();
                let nocase = d.key == "setenvifnocase";
                st.no_jk.push(NoJk {
                    loc: d.loc.clone(),
                    vhost: d.scope.vhost,
                    shown,
                    regex: if nocase { format!("(?i){re}") } else { re },
                });
                // Reported with the mod_jk mounts it excludes from.
            }
        }
        "sslengine" => match d.scope.vhost.and_then(|v| st.vhosts.get_mut(v)) {
            Some(v) => {
                v.ssl = arg.eq_ignore_ascii_case("on");
                report.imported(&d.loc, shown);
            }
            None => report.ignored(&d.loc, shown, "TLS is per <VirtualHost> here"),
        },
        "sslcertificatefile" | "sslcertificatekeyfile" => {
            let path = absolute(arg, server_root);
            match d.scope.vhost.and_then(|v| st.vhosts.get_mut(v)) {
                Some(v) => {
                    let slot = if d.key == "sslcertificatefile" {
                        &mut v.cert
                    } else {
                        &mut v.key
                    };
                    *slot = Some((d.loc.clone(), path));
                    report.imported(&d.loc, shown);
                }
                None => report.ignored(&d.loc, shown, "TLS is imported per <VirtualHost>"),
            }
        }
        "sslproxyengine" => report.imported(
            &d.loc,
            format!("{shown} (https:// members are spoken to in TLS)"),
        ),
        "sslproxycacertificatefile" | "sslproxymachinecertificatefile" | "sslproxyverify" => {
            let ssl = st.ssl_proxy.entry(d.scope.vhost).or_default();
            let what = match d.key.as_str() {
                "sslproxycacertificatefile" => {
                    ssl.ca = Some((d.loc.clone(), absolute(arg, server_root)));
                    "tls_ca of the balancers with https:// members"
                }
                "sslproxymachinecertificatefile" => {
                    ssl.client_cert = Some((d.loc.clone(), absolute(arg, server_root)));
                    "tls_client_cert (its key read from the same file) of the balancers with \
                     https:// members"
                }
                _ => {
                    let v = arg.to_ascii_lowercase();
                    if !matches!(
                        v.as_str(),
                        "none" | "optional" | "require" | "optional_no_ca"
                    ) {
                        return Err(ImportError::new(
                            d.loc.clone(),
                            format!(
                                "SSLProxyVerify {arg}: invalid argument (none, optional, \
                                 require or optional_no_ca)"
                            ),
                        ));
                    }
                    ssl.verify = Some((d.loc.clone(), v));
                    "tls_verify of the balancers with https:// members"
                }
            };
            report.imported(&d.loc, format!("{shown} ({what})"));
        }
        "jkworkersfile" => {
            st.jk_workers = Some((d.loc.clone(), PathBuf::from(absolute(arg, server_root))));
            report.imported(&d.loc, shown);
        }
        "jkmountfile" => {
            let path = PathBuf::from(absolute(arg, server_root));
            st.jk_mount_files.push((d.scope.vhost, d.loc.clone(), path));
            report.imported(&d.loc, shown);
        }
        "jkmountcopy" => {
            let value = arg.to_ascii_lowercase();
            match d.scope.vhost.and_then(|v| st.vhosts.get_mut(v)) {
                Some(v) => v.jk_mount_copy = value == "on",
                None => st.jk_mount_copy_all = value == "all",
            }
            report.imported(&d.loc, shown);
        }
        "jkmount" | "jkunmount" => jk_mount(st, d, report),
        _ => report.ignored(&d.loc, shown, reason(&d.key)),
    }
    Ok(())
}

/// Why a directive ringlb has no use for is left out.
/// Whether `d` (a `SetEnvIf`) sets `no-jk` from the request's path: mod_jk declines the
/// requests it matches whatever the value (httpd's env names are case-insensitive).
fn no_jk(d: &Directive) -> bool {
    match d.args.as_slice() {
        [attribute, _, vars @ ..] => {
            attribute.eq_ignore_ascii_case("Request_URI")
                && vars.iter().any(|v| {
                    let name = v.split('=').next().unwrap_or("");
                    name.eq_ignore_ascii_case("no-jk")
                })
        }
        _ => false,
    }
}

fn reason(key: &str) -> &'static str {
    let prefix = |p: &str| key.starts_with(p);
    if prefix("ssl") {
        "this TLS setting has no ringlb equivalent"
    } else if prefix("jk") {
        "a mod_jk setting ringlb has no use for (logging, shared memory, options)"
    } else if prefix("rewrite") {
        "mod_rewrite rules are not imported; express them as mounts"
    } else if prefix("log") || key == "errorlog" {
        "per-vhost logs are not imported; ringlb has one access log and one error log"
    } else if prefix("proxy") || key == "balancerpersist" || key == "balancerinherit" {
        "this mod_proxy setting has no ringlb equivalent"
    } else if matches!(key, "order" | "deny" | "satisfy") || prefix("auth") {
        "access control is not imported (only the balancer-manager's Require/Allow)"
    } else if matches!(
        key,
        "user" | "group" | "pidfile" | "serveradmin" | "serversignature"
    ) || prefix("max")
        || prefix("min")
        || key.contains("servers")
        || key.contains("threads")
    {
        "a process setting of httpd's; ringlb has its own"
    } else {
        "ringlb serves no content of its own and has no such setting"
    }
}

fn vhost_address(addr: &str, d: &Directive) -> Result<(), ImportError> {
    if let Some(p) = placeholder(addr) {
        return Err(ImportError::new(
            d.loc.clone(),
            format!("<VirtualHost {addr}>: `{p}` is a template placeholder, not a port"),
        ));
    }
    if let Some((_, port)) = split_port(addr) {
        if port != "*" && port.parse::<u16>().is_err() {
            return Err(ImportError::new(
                d.loc.clone(),
                format!(
                    "<VirtualHost {addr}>: invalid port `{port}` (httpd refuses it; an \
                     Apache::Test template vhost name?)"
                ),
            ));
        }
    }
    Ok(())
}

/// `host:port` (IPv6 in brackets) -> (host, port).
pub(super) fn split_port(addr: &str) -> Option<(&str, &str)> {
    if let Some(rest) = addr.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return after.strip_prefix(':').map(|p| (host, p));
    }
    addr.rsplit_once(':')
}

/// `www.example.com:80`, `https://x` -> the host.
fn host_of(name: &str) -> String {
    let name = name.split_once("://").map_or(name, |(_, rest)| rest);
    let host = match split_port(name) {
        Some((host, _)) => host,
        None => name,
    };
    host.trim_end_matches('.').to_ascii_lowercase()
}

/// `Listen [IP:]PORT` -> `IP:PORT` (every IPv4 address when none).
fn listen_address(arg: &str) -> Option<String> {
    match split_port(arg) {
        Some((host, port)) => {
            port.parse::<u16>().ok()?;
            let host = if host.contains(':') {
                format!("[{host}]")
            } else {
                host.to_owned()
            };
            Some(format!("{host}:{port}"))
        }
        None => {
            arg.parse::<u16>().ok()?;
            Some(format!("0.0.0.0:{arg}"))
        }
    }
}

fn seconds(d: &Directive) -> Result<i64, ImportError> {
    d.args
        .first()
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| {
            ImportError::new(
                d.loc.clone(),
                format!("{}: needs a number of seconds", d.name),
            )
        })
}

fn number(d: &Directive) -> Result<i64, ImportError> {
    d.args
        .first()
        .and_then(|a| a.parse::<i64>().ok())
        .filter(|n| *n >= 0)
        .ok_or_else(|| ImportError::new(d.loc.clone(), format!("{}: needs a number", d.name)))
}

fn on_off(d: &Directive) -> Result<bool, ImportError> {
    match d.args.first().map(|a| a.to_ascii_lowercase()).as_deref() {
        Some("on") => Ok(true),
        Some("off") => Ok(false),
        _ => Err(ImportError::new(
            d.loc.clone(),
            format!("{} must be On or Off", d.name),
        )),
    }
}

/// A path as httpd resolves it: relative to the server root.
pub(super) fn absolute(path: &str, server_root: &Path) -> String {
    let p = Path::new(path);
    let windows_absolute = path.as_bytes().get(1) == Some(&b':');
    if p.is_absolute() || windows_absolute {
        path.to_owned()
    } else {
        server_root.join(p).display().to_string()
    }
}

/// Where a log goes in ringlb's terms, or why it cannot.
fn log_target(arg: &str, server_root: &Path) -> Result<String, &'static str> {
    match arg {
        a if a.starts_with('|') => Err("a piped log: ringlb runs no programs"),
        "/dev/stdout" | "/proc/self/fd/1" => Ok("stdout".into()),
        "/dev/stderr" | "/proc/self/fd/2" => Ok("stderr".into()),
        a if a.eq_ignore_ascii_case("syslog") => Ok("syslog".into()),
        a if a.to_ascii_lowercase().starts_with("syslog:") => Ok("syslog".into()),
        a if a.as_bytes().get(1) == Some(&b':') => {
            Err("a Windows path (drive letter): ringlb runs on Linux; set log.access yourself")
        }
        a => Ok(absolute(a, server_root)),
    }
}

fn custom_log(
    st: &mut State,
    out: &mut Imported,
    d: &Directive,
    server_root: &Path,
    report: &mut Report,
) {
    let shown = shown(d);
    if d.scope.vhost.is_some() {
        report.ignored(
            &d.loc,
            shown,
            "per-vhost logs are not imported; ringlb has one access log",
        );
        return;
    }
    let target = match log_target(arg_or_empty(d), server_root) {
        Ok(t) => t,
        Err(why) => {
            report.ignored(&d.loc, shown, why);
            return;
        }
    };
    let format = if d.key == "transferlog" {
        "common".to_owned()
    } else {
        let f = d.args.get(1).cloned().unwrap_or_else(|| "common".into());
        match f.as_str() {
            "combined" | "common" => f,
            nick => st.log_formats.get(nick).cloned().unwrap_or(f),
        }
    };
    let log = out.table_mut("log");
    model::set(log, "access", target);
    model::set(log, "access_format", format);
    if d.args.len() > 2 {
        report.approximated(
            &d.loc,
            shown,
            "its condition ignored: every request is logged",
        );
    } else {
        report.imported(&d.loc, shown);
    }
}

fn arg_or_empty(d: &Directive) -> &str {
    d.args.first().map(String::as_str).unwrap_or("")
}

/// `Header add Set-Cookie "NAME=.%{BALANCER_WORKER_ROUTE}e; path=P" env=BALANCER_ROUTE_CHANGED`.
fn header(st: &mut State, d: &Directive, report: &mut Report) {
    let shown = shown(d);
    let cookie = match d.args.as_slice() {
        [action, name, value, cond]
            if name.eq_ignore_ascii_case("set-cookie")
                && matches!(
                    action.to_ascii_lowercase().as_str(),
                    "add" | "set" | "append"
                )
                && cond.eq_ignore_ascii_case("env=BALANCER_ROUTE_CHANGED") =>
        {
            route_cookie(value)
        }
        _ => None,
    };
    match cookie {
        Some((name, path)) => {
            st.route_cookies
                .push((d.loc.clone(), d.scope.vhost, name, path));
        }
        None => report.ignored(&d.loc, shown, "response header editing is not imported"),
    }
}

/// `NAME=.%{BALANCER_WORKER_ROUTE}e; path=P` -> (NAME, P).
fn route_cookie(value: &str) -> Option<(String, String)> {
    let mut parts = value.split(';').map(str::trim);
    let (name, v) = parts.next()?.split_once('=')?;
    if v != ".%{BALANCER_WORKER_ROUTE}e" {
        return None;
    }
    let mut path = "/".to_owned();
    for attr in parts {
        if let Some((k, v)) = attr.split_once('=') {
            if k.trim().eq_ignore_ascii_case("path") {
                path = v.trim().to_owned();
            }
        }
    }
    Some((name.to_owned(), path))
}

fn access(st: &mut State, d: &Directive, report: &mut Report) {
    let shown = shown(d);
    let Some((path, _)) = &d.scope.location else {
        report.ignored(
            &d.loc,
            shown,
            "access control is not imported (only the balancer-manager's)",
        );
        return;
    };
    let addrs: Vec<String> = match (d.key.as_str(), d.args.as_slice()) {
        ("require", [kind, rest @ ..]) if kind.eq_ignore_ascii_case("ip") => rest.to_vec(),
        ("require", [kind]) if kind.eq_ignore_ascii_case("local") => {
            vec!["127.0.0.1".into(), "::1".into()]
        }
        ("allow", [from, rest @ ..]) if from.eq_ignore_ascii_case("from") => rest
            .iter()
            .map(|a| {
                if a.eq_ignore_ascii_case("localhost") {
                    "127.0.0.1".into()
                } else {
                    a.clone()
                }
            })
            .collect(),
        _ => Vec::new(),
    };
    // Reported with the manager when it is the manager's <Location>; ignored otherwise.
    st.access.push(Access {
        loc: d.loc.clone(),
        shown,
        vhost: d.scope.vhost,
        path: path.clone(),
        addrs,
    });
}

fn jk_mount(st: &mut State, d: &Directive, report: &mut Report) {
    let unmount = d.key == "jkunmount";
    let (pattern, worker) = match (&d.scope.location, d.args.as_slice()) {
        (Some((path, false)), [worker]) => (path.clone(), worker.clone()),
        (_, [pattern, worker, ..]) => (pattern.clone(), worker.clone()),
        _ => {
            report.ignored(&d.loc, shown(d), "needs a pattern and a worker");
            return;
        }
    };
    let mounts = modjk::mounts_of(&d.loc, &pattern, &worker, unmount, report);
    for m in mounts {
        st.jk_mounts.push((d.scope.vhost, m));
    }
}
