//! mod_jk2 sections into ringlb tables (see the module documentation of `modjk2`).

use toml::Value;

use super::super::model::{self, Balancer, Keys, Vhost};
use super::super::{Imported, Loc, Report};
use super::Section;

/// The admin listener ringlb's manager gets for a `[status:]` worker.
const ADMIN_LISTEN: &str = "127.0.0.1:8081";

/// mod_jk2's default group, the balancer every worker joins without `group`.
const DEFAULT_GROUP: &str = "lb";

/// An AJP13 worker: a channel, or an `[ajp13:]` section on a channel.
#[derive(Clone, Debug)]
struct Worker {
    /// `ajp13:localhost:8009`.
    name: String,
    host: String,
    port: u16,
    route: String,
    lbfactor: Option<i64>,
    groups: Vec<String>,
    disabled: bool,
}

/// What a mount routes to.
#[derive(Clone, Debug, PartialEq)]
enum Target {
    Balancer(String),
    Admin,
    /// Not imported: why.
    None(String),
}

fn list(v: &str) -> Vec<String> {
    v.split([',', ' ', '\t'])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

fn truthy(v: Option<&str>) -> bool {
    matches!(v, Some("1" | "true" | "True" | "on" | "On"))
}

/// A ringlb balancer name for worker or group `name` (`ajp13:localhost:8009` ->
/// `ajp13_localhost_8009`).
fn balancer_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

fn host_port(text: &str) -> (String, u16) {
    match text.rsplit_once(':') {
        Some((h, p)) => (h.to_owned(), p.parse().unwrap_or(8009)),
        None => (text.to_owned(), 8009),
    }
}

/// The workers: each `[ajp13:]` section, then each channel no `[ajp13:]` names.
fn workers(sections: &[Section]) -> Vec<Worker> {
    let channel = |s: &Section| {
        let (mut host, mut port) = host_port(&s.name);
        if let Some(h) = s.value("host") {
            host = h.to_owned();
        }
        if let Some(p) = s.value("port").and_then(|p| p.parse().ok()) {
            port = p;
        }
        Worker {
            name: format!("ajp13:{}", s.name),
            route: s
                .value("tomcatId")
                .map_or_else(|| format!("{host}:{port}"), str::to_owned),
            host,
            port,
            lbfactor: s.value("lb_factor").and_then(|v| v.parse().ok()),
            groups: s.value("group").map(list).unwrap_or_default(),
            disabled: truthy(s.value("disabled")),
        }
    };
    let mut out = Vec::new();
    let mut used = Vec::new();
    for s in sections.iter().filter(|s| s.kind == "ajp13") {
        let ch = s.value("channel").unwrap_or("");
        let Some(c) = sections
            .iter()
            .find(|c| c.kind == "channel.socket" && c.header == ch)
        else {
            continue;
        };
        used.push(c.header.clone());
        let mut w = channel(c);
        w.name = s.header.clone();
        if let Some(id) = s.value("tomcatId") {
            w.route = id.to_owned();
        }
        if let Some(f) = s.value("lb_factor").and_then(|v| v.parse().ok()) {
            w.lbfactor = Some(f);
        }
        if let Some(g) = s.value("group") {
            w.groups = list(g);
        }
        w.disabled |= truthy(s.value("disabled"));
        out.push(w);
    }
    for c in sections.iter().filter(|c| c.kind == "channel.socket") {
        if !used.contains(&c.header) {
            out.push(channel(c));
        }
    }
    for w in &mut out {
        if w.groups.is_empty() {
            w.groups.push(DEFAULT_GROUP.to_owned());
        }
    }
    out
}

struct State<'a> {
    sections: &'a [Section],
    workers: Vec<Worker>,
    out: Imported,
    /// The section that first named each of `out.vhosts`.
    vhost_locs: Vec<Loc>,
}

impl State<'_> {
    fn members(&self, group: &str) -> Vec<&Worker> {
        self.workers
            .iter()
            .filter(|w| !w.disabled && w.groups.iter().any(|g| g == group))
            .collect()
    }

    fn is_lb(&self, name: &str) -> bool {
        name == DEFAULT_GROUP
            || self
                .sections
                .iter()
                .any(|s| s.kind == "lb" && s.name == name)
    }

    /// The balancer (created once) or admin a mount of `target` reaches.
    fn target(&mut self, target: &str) -> Target {
        if target.starts_with("status:") {
            if !self.sections.iter().any(|s| s.header == target) {
                return Target::None(format!("no [{target}] section defines it"));
            }
            let admin = self.out.table_mut("admin");
            model::set(admin, "listen", ADMIN_LISTEN);
            return Target::Admin;
        }
        let name = balancer_name(target);
        if self.out.balancers.iter().any(|b| b.name == name) {
            return Target::Balancer(name);
        }
        let members: Vec<Keys> = if self.is_lb(target) {
            self.members(target).into_iter().map(member_keys).collect()
        } else {
            match self.workers.iter().find(|w| w.name == target) {
                Some(w) => {
                    let mut keys = member_keys(w);
                    keys.retain(|(k, _)| k == "url");
                    vec![keys]
                }
                None => return Target::None(format!("no worker or [lb:] named {target}")),
            }
        };
        if members.is_empty() {
            return Target::None(format!(
                "group {target} has no enabled worker (no channel's or worker's group= names it)"
            ));
        }
        let mut keys = Keys::new();
        let lb = self
            .sections
            .iter()
            .find(|s| s.kind == "lb" && s.name == target);
        let sticky = lb.and_then(|s| s.value("sticky").or_else(|| s.value("stickySession")));
        if self.is_lb(target) && sticky != Some("0") {
            model::set(&mut keys, "stickysession", "JSESSIONID|jsessionid");
        }
        self.out.balancers.push(Balancer {
            name: name.clone(),
            keys,
            members,
        });
        Target::Balancer(name)
    }

    /// The vhost `host` (created at the end when new).
    fn vhost(&mut self, host: &str, loc: &Loc) -> usize {
        let name = Value::from(host);
        let found = self
            .out
            .vhosts
            .iter()
            .position(|v| model::get(&v.keys, "server_name") == Some(&name));
        match found {
            Some(i) => i,
            None => {
                let mut keys = Keys::new();
                model::set(&mut keys, "server_name", host);
                self.out.vhosts.push(Vhost {
                    keys,
                    mounts: Vec::new(),
                });
                self.vhost_locs.push(loc.clone());
                self.out.vhosts.len() - 1
            }
        }
    }
}

fn member_keys(w: &Worker) -> Keys {
    let mut keys = Keys::new();
    model::set(&mut keys, "url", format!("ajp://{}:{}", w.host, w.port));
    model::set(&mut keys, "route", w.route.as_str());
    if let Some(f) = w.lbfactor {
        model::set(&mut keys, "loadfactor", f.clamp(1, 100));
    }
    keys
}

/// Builds the configuration and reports every section and line.
pub(super) fn build(sections: &[Section], report: &mut Report) -> Imported {
    let mut st = State {
        sections,
        workers: workers(sections),
        out: Imported::default(),
        vhost_locs: Vec::new(),
    };
    // The mounts first, so that a channel's report can say which balancers it joined.
    let mut mounts: Vec<Report> = Vec::new();
    for s in sections.iter().filter(|s| s.kind == "uri") {
        let mut r = Report::default();
        uri(&mut st, s, &mut r);
        mounts.push(r);
    }
    let mut mounts = mounts.into_iter();
    for s in sections {
        match s.kind.as_str() {
            "uri" => {
                if let Some(r) = mounts.next() {
                    report.entries.extend(r.entries);
                }
            }
            "channel.socket" | "ajp13" => worker_section(&st, s, report),
            "lb" => {
                let n = st.members(&s.name).len();
                let emitted = st
                    .out
                    .balancers
                    .iter()
                    .any(|b| b.name == balancer_name(&s.name));
                let header = format!("[{}]", s.header);
                if emitted {
                    report.imported(&s.loc, format!("{header} ({n} members)"));
                } else if n == 0 {
                    let why = "no enabled worker's group names it (ringlb needs a member)";
                    report.ignored(&s.loc, header, why);
                } else {
                    report.ignored(&s.loc, header, "no [uri:] mount reaches it");
                }
                for l in &s.lines {
                    match l.key.as_str() {
                        "sticky" | "stickySession" if emitted => {
                            report.imported(&l.loc, "sticky (stickysession)")
                        }
                        "info" | "debug" => {
                            report.ignored(&l.loc, &l.key, "a description or log level")
                        }
                        _ => report.ignored(&l.loc, &l.key, "no ringlb counterpart"),
                    }
                }
            }
            "status" => {
                let how = format!("the [admin] listener ({ADMIN_LISTEN}) when a [uri:] names it");
                report.approximated(&s.loc, format!("[{}]", s.header), how);
                ignore_lines(s, "the status page's settings: not carried", report);
            }
            kind => {
                let why = match kind {
                    "shm" => "ringlb keeps its state per process; no scoreboard file",
                    "logger" | "logger.file" => "ringlb's error log is [log] error",
                    "channel.un" => "a unix socket channel: ringlb reaches members over TCP",
                    "channel.jni" | "vm" | "worker.jni" => {
                        "Tomcat inside the web server (JNI) is not supported"
                    }
                    "workerEnv" | "config" | "uriMap" => "mod_jk2's own runtime settings",
                    _ => "not a mod_jk2 section ringlb has a counterpart of",
                };
                report.ignored(&s.loc, format!("[{}]", s.header), why);
                ignore_lines(s, "its section is not imported", report);
            }
        }
    }
    let mut out = st.out;
    let mut kept = Vec::new();
    for (v, loc) in out.vhosts.drain(..).zip(st.vhost_locs) {
        if v.mounts.is_empty() {
            let name = model::get(&v.keys, "server_name").map_or(String::new(), Value::to_string);
            let why = format!(
                "virtual host {name} has no imported mount: not imported (it would take every \
                 Host no other virtual host names)"
            );
            report.ignored(&loc, format!("virtual host {name}"), why);
        } else {
            kept.push(v);
        }
    }
    out.vhosts = kept;
    out
}

fn ignore_lines(s: &Section, why: &str, report: &mut Report) {
    for l in &s.lines {
        report.ignored(&l.loc, &l.key, why);
    }
}

/// A channel or `[ajp13:]` section: which balancers its worker is a member of.
fn worker_section(st: &State<'_>, s: &Section, report: &mut Report) {
    let name = if s.kind == "ajp13" {
        s.header.clone()
    } else {
        st.workers
            .iter()
            .find(|w| w.name == format!("ajp13:{}", s.name))
            .map_or_else(|| s.header.clone(), |w| w.name.clone())
    };
    let in_use: Vec<&str> = st
        .out
        .balancers
        .iter()
        .filter(|b| {
            let Some(w) = st.workers.iter().find(|w| w.name == name && !w.disabled) else {
                return false;
            };
            b.name == balancer_name(&w.name) || w.groups.iter().any(|g| balancer_name(g) == b.name)
        })
        .map(|b| b.name.as_str())
        .collect();
    if in_use.is_empty() {
        let why = format!("worker {name} is in no imported balancer (no [uri:] reaches it)");
        report.ignored(&s.loc, format!("[{}]", s.header), why);
    } else {
        let how = format!("worker {name}: a member of {}", in_use.join(", "));
        report.approximated(&s.loc, format!("[{}]", s.header), how);
    }
    for l in &s.lines {
        match l.key.as_str() {
            "tomcatId" => report.approximated(&l.loc, &l.key, "route (the Tomcat's jvmRoute)"),
            "lb_factor" => report.imported(&l.loc, "lb_factor (loadfactor)"),
            "group" => report.imported(&l.loc, "group (the balancers it joins)"),
            "channel" | "host" | "port" => report.imported(&l.loc, &l.key),
            "disabled" => report.imported(&l.loc, &l.key),
            "info" | "debug" => report.ignored(&l.loc, &l.key, "a description or log level"),
            _ => report.ignored(&l.loc, &l.key, "no ringlb counterpart"),
        }
    }
}

/// A `[uri:...]` section: a mount, or a virtual host.
fn uri(st: &mut State<'_>, s: &Section, report: &mut Report) {
    let header = format!("[{}]", s.header);
    let (host, path) = match s.name.find('/') {
        Some(0) => (None, s.name.clone()),
        Some(i) => (Some(s.name[..i].to_owned()), s.name[i..].to_owned()),
        None => (Some(s.name.clone()), String::new()),
    };
    let vhost = host.as_ref().map(|h| {
        let (name, port) = match h.rsplit_once(':') {
            Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) => (n.to_owned(), Some(p)),
            _ => (h.clone(), None),
        };
        if let Some(p) = port {
            let how = format!(
                "virtual host {name}: the port {p} is not kept (the vhost answers on every \
                 listener)"
            );
            report.approximated(&s.loc, &header, how);
        }
        st.vhost(&name, &s.loc)
    });
    if path.is_empty() {
        for l in &s.lines {
            match (l.key.as_str(), vhost) {
                ("alias", Some(i)) => {
                    let alias = l.value.rsplit_once(':').map_or(&*l.value, |(a, _)| a);
                    if let Some(v) = st.out.vhosts.get_mut(i) {
                        let mut aliases = match model::get(&v.keys, "server_alias") {
                            Some(Value::Array(a)) => a.clone(),
                            _ => Vec::new(),
                        };
                        aliases.push(Value::from(alias));
                        model::set(&mut v.keys, "server_alias", Value::Array(aliases));
                    }
                    report.approximated(&l.loc, "alias", "server_alias (without the port)");
                }
                _ => report.ignored(&l.loc, &l.key, "not used on a virtual host"),
            }
        }
        if host.as_ref().is_some_and(|h| !h.contains(':')) {
            report.imported(&s.loc, &header);
        }
        return;
    }
    let target = s
        .value("worker")
        .or_else(|| s.value("group"))
        .unwrap_or(DEFAULT_GROUP)
        .to_owned();
    let context = s.value("context");
    let mut keys = Keys::new();
    let how = if path.contains(['*', '?']) {
        model::set(&mut keys, "pattern", path.as_str());
        None
    } else if context == Some(path.as_str()) {
        model::set(&mut keys, "path", path.as_str());
        Some("the webapp context: a prefix (path) mount")
    } else {
        model::set(&mut keys, "pattern", path.as_str());
        Some("no wildcard and no context=: the exact path")
    };
    if truthy(s.value("disabled")) {
        report.ignored(&s.loc, &header, "disabled=1");
        ignore_lines(s, "its mount is disabled", report);
        return;
    }
    match st.target(&target) {
        Target::Balancer(b) => {
            model::set(&mut keys, "balancer", b.as_str());
            match vhost.and_then(|i| st.out.vhosts.get_mut(i)) {
                Some(v) => v.mounts.push(keys),
                None => st.out.mounts.push(keys),
            }
            match how {
                Some(how) => report.approximated(&s.loc, &header, format!("-> {b}: {how}")),
                None => report.imported(&s.loc, &header),
            }
        }
        Target::Admin => {
            let why = format!(
                "{target} is the status worker: ringlb's manager is on the admin listener \
                 ({ADMIN_LISTEN}), not at {path}"
            );
            report.ignored(&s.loc, &header, why);
        }
        Target::None(why) => report.ignored(&s.loc, &header, why),
    }
    for l in &s.lines {
        match l.key.as_str() {
            "group" | "worker" | "context" => report.imported(&l.loc, &l.key),
            "info" | "debug" => report.ignored(&l.loc, &l.key, "a description or log level"),
            _ => report.ignored(&l.loc, &l.key, "no ringlb counterpart"),
        }
    }
}
