//! Workers into ringlb tables: an `lb` worker is a balancer with its members, an `ajp13`
//! worker a balancer of one member, a status worker the `[admin]` listener; each attribute
//! reported as it is carried over.

use toml::Value;

use super::super::model::{self, Balancer, Keys};
use super::super::{Imported, Loc, Report};
use super::attrs::{self, Ctx};
use super::workers::{Kind, Parsed, Worker};
use super::{JkMount, Scope};

/// The admin listener ringlb's manager gets when a status worker is imported.
pub(super) const ADMIN_LISTEN: &str = "127.0.0.1:8081";

/// A balancer name ringlb accepts (`A-Z a-z 0-9 _ . -`), the worker's name with any other
/// character replaced by `_`.
pub(super) fn balancer_name(worker: &str) -> String {
    worker
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-') {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// Why `name` gets no balancer, or `None` when it can have one.
fn unusable(parsed: &Parsed, name: &str) -> Option<String> {
    if parsed.templates.iter().any(|t| t == name) {
        return Some(format!(
            "worker {name} is a template (only named by reference=), not a worker"
        ));
    }
    let defined = parsed.workers.iter().any(|w| w.name == name);
    let exported = parsed.list.iter().any(|(n, _)| n == name);
    if !defined && !exported {
        return Some(format!(
            "worker {name} is not defined in {}: mod_jk declines these requests (httpd serves \
             them itself)",
            parsed.file
        ));
    }
    None
}

/// The worker `name`: as defined, or with mod_jk's defaults when only named.
pub(super) fn worker<'a>(parsed: &'a Parsed, name: &str) -> std::borrow::Cow<'a, Worker> {
    match parsed.workers.iter().find(|w| w.name == name) {
        Some(w) => std::borrow::Cow::Borrowed(w),
        None => std::borrow::Cow::Owned(Worker::undefined(name)),
    }
}

/// Makes sure worker `name` is in `out` (once, whoever asks): `true` when mounts may name it
/// as a balancer, `false` for the status worker (imported as `[admin]`) and for workers that
/// cannot be imported (reported).
pub(super) fn ensure(
    parsed: &Parsed,
    name: &str,
    why_here: &Loc,
    out: &mut Imported,
    report: &mut Report,
) -> Option<Target> {
    if let Some(why) = unusable(parsed, name) {
        report.ignored(why_here, format!("worker {name}"), why);
        return None;
    }
    let bname = balancer_name(name);
    if out.balancers.iter().any(|b| b.name == bname) {
        return Some(Target::Balancer(bname));
    }
    let w = worker(parsed, name);
    let loc = first_loc(&w, parsed);
    if !parsed.list.iter().any(|(n, _)| n == name) {
        let how = format!(
            "worker {name} is not in worker.list: mod_jk would not serve it; imported because \
             a mount names it"
        );
        report.approximated(&loc, format!("worker {name}"), how);
    }
    match &w.kind {
        Kind::Status => {
            admin(&w, out, report);
            Some(Target::Admin)
        }
        Kind::Unsupported(t) => {
            let why = unsupported_type(t);
            report.ignored(&loc, attrs::key(&w, "type"), why);
            None
        }
        Kind::Lb => {
            let balancer = lb(parsed, &w, out, report);
            if balancer.members.is_empty() {
                let why = format!(
                    "lb worker {name} has no ajp13 member (ringlb needs at least one per balancer)"
                );
                report.ignored(&loc, format!("worker {name}"), why);
                return None;
            }
            out.balancers.push(balancer);
            Some(Target::Balancer(bname))
        }
        Kind::Ajp13 => {
            let mut ctx = Ctx::new(parsed, out);
            let member = attrs::member(&w, None, &mut ctx, report);
            let keys = ctx.finish(report);
            out.balancers.push(Balancer {
                name: bname.clone(),
                keys,
                members: vec![member],
            });
            Some(Target::Balancer(bname))
        }
    }
}

/// What a mount of a worker routes to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Balancer(String),
    Admin,
}

fn first_loc(w: &Worker, parsed: &Parsed) -> Loc {
    w.attrs
        .iter()
        .filter(|a| a.from.is_none())
        .filter_map(|a| a.locs.first())
        .min()
        .cloned()
        .or_else(|| {
            parsed
                .list
                .iter()
                .find(|(n, _)| *n == w.name)
                .map(|(_, l)| l.clone())
        })
        .unwrap_or_else(|| Loc::new(parsed.file.clone(), 0))
}

pub(super) fn unsupported_type(t: &str) -> String {
    match t {
        "ajp12" | "ajp14" => {
            format!("type {t} is not supported: ringlb speaks AJP13 (type ajp13) and HTTP, not {t}")
        }
        "jni" => "type jni (Tomcat inside the web server) is not supported".to_owned(),
        other => format!("unknown worker type {other:?} (mod_jk knows lb, ajp13, status, ...)"),
    }
}

/// An `lb` worker: the balancer keys, then each member.
fn lb(parsed: &Parsed, w: &Worker, out: &mut Imported, report: &mut Report) -> Balancer {
    let mut ctx = Ctx::new(parsed, out);
    attrs::lb(w, &mut ctx, report);
    let mut members = Vec::new();
    let names = w.members();
    for name in &names {
        let m = worker(parsed, name);
        let at = w
            .attr("balance_workers")
            .or_else(|| w.attr("balanced_workers"))
            .and_then(|a| a.locs.first().cloned())
            .unwrap_or_else(Loc::none);
        match &m.kind {
            Kind::Ajp13 => {
                if !parsed.workers.iter().any(|d| d.name == *name) {
                    let how = format!(
                        "member {name} is not defined: mod_jk's defaults, ajp13 on localhost:8009"
                    );
                    report.approximated(&at, format!("worker.{}.balance_workers", w.name), how);
                }
                members.push(attrs::member(&m, Some((w, &names)), &mut ctx, report));
            }
            Kind::Unsupported(t) => {
                let why = format!("member {name}: {}", unsupported_type(t));
                report.ignored(&at, format!("worker.{}.balance_workers", w.name), why);
                attrs::unused(&m, "it is a member of an unsupported type", report);
            }
            Kind::Lb | Kind::Status => {
                let why = format!("member {name} is not an ajp13 worker (mod_jk refuses it)");
                report.ignored(&at, format!("worker.{}.balance_workers", w.name), why);
            }
        }
    }
    let keys = ctx.finish(report);
    Balancer {
        name: balancer_name(&w.name),
        keys,
        members,
    }
}

/// A status worker: the `[admin]` listener (one for all status workers).
fn admin(w: &Worker, out: &mut Imported, report: &mut Report) {
    let first = !out.tables.iter().any(|(n, _)| n == "admin");
    let table = out.table_mut("admin");
    if first {
        model::set(table, "listen", ADMIN_LISTEN);
    }
    let read_only = w
        .value("read_only")
        .map(|v| attrs::bool_code(v).unwrap_or(false))
        .unwrap_or(false);
    // Read-only only when every status worker is: one read/write worker lets localhost change.
    if first && read_only {
        model::set(table, "allow", Value::Array(Vec::new()));
    } else if !read_only {
        table.retain(|(k, _)| k != "allow");
    }
    attrs::status(w, report);
}

/// Adds `mounts` into `scope` (see [`super::Workers::emit`]).
pub(super) fn mounts(
    parsed: &Parsed,
    mounts: &[JkMount],
    scope: Scope,
    out: &mut Imported,
    report: &mut Report,
) {
    // Positive mounts first, so that an exclusion knows whether its worker has a balancer.
    let mut targets: Vec<(String, Option<Target>)> = Vec::new();
    let mut done: Vec<(String, String, bool)> = Vec::new();
    // Patterns already routed in this scope: (pattern, worker, line).
    let mut routed: Vec<(String, String, usize)> = Vec::new();
    for pass in [false, true] {
        for m in mounts.iter().filter(|m| m.exclude == pass) {
            let bang = if m.exclude { "!" } else { "" };
            let what = format!("{bang}{}={}", m.pattern, m.worker);
            let key = (m.pattern.clone(), m.worker.clone(), m.exclude);
            if done.contains(&key) {
                report.ignored(&m.loc, &what, "the same mount again");
                continue;
            }
            done.push(key);
            let earlier = routed.iter().find(|r| r.0 == m.pattern && !m.exclude);
            if let Some((_, w, line)) = earlier {
                let why = format!(
                    "{} is already routed to {w} (line {line}) here; one pattern, one worker \
                     (`ringlb import httpd` keeps virtual hosts apart)",
                    m.pattern
                );
                report.ignored(&m.loc, &what, why);
                continue;
            }
            let mut keys = Keys::new();
            model::set(&mut keys, "pattern", m.pattern.as_str());
            if m.exclude && m.worker == "*" {
                model::set(&mut keys, "exclude", true);
                push(out, scope, keys, &m.loc, &what, report);
                continue;
            }
            let target = match targets.iter().find(|(n, _)| *n == m.worker) {
                Some((_, t)) => t.clone(),
                None => {
                    let t = if m.exclude {
                        let b = balancer_name(&m.worker);
                        out.balancers
                            .iter()
                            .any(|x| x.name == b)
                            .then_some(Target::Balancer(b))
                    } else {
                        ensure(parsed, &m.worker, &m.loc, out, report)
                    };
                    targets.push((m.worker.clone(), t.clone()));
                    t
                }
            };
            match (target, m.exclude) {
                (None, true) => {
                    let why = format!("no mount routes to worker {}: nothing to exclude", m.worker);
                    report.ignored(&m.loc, &what, why);
                }
                (None, false) => {
                    report.ignored(
                        &m.loc,
                        &what,
                        format!("worker {} is not imported", m.worker),
                    );
                }
                (Some(Target::Admin), true) => {
                    let why = "the status worker is not routed (it is the admin listener)";
                    report.ignored(&m.loc, &what, why);
                }
                (Some(Target::Admin), false) => {
                    let why = format!(
                        "worker {} is a status worker: ringlb's manager (balancer-manager, \
                         /api/status) is on the admin listener ({ADMIN_LISTEN}), not at {}",
                        m.worker, m.pattern
                    );
                    report.ignored(&m.loc, &what, why);
                }
                (Some(Target::Balancer(b)), exclude) => {
                    if exclude {
                        model::set(&mut keys, "exclude", true);
                        model::set(&mut keys, "balancers", vec![b]);
                        if !m.pattern.contains(['*', '?']) {
                            let how = "mod_jk 1.2 never applies a `!` rule without a wildcard \
                                       (is_nomatch in jk_uri_worker_map.c); ringlb does, as \
                                       written";
                            report.approximated(&m.loc, &what, how);
                            push_quiet(out, scope, keys);
                            continue;
                        }
                    } else {
                        routed.push((m.pattern.clone(), m.worker.clone(), m.loc.line));
                        model::set(&mut keys, "balancer", b);
                    }
                    push(out, scope, keys, &m.loc, &what, report);
                }
            }
        }
    }
}

fn push(out: &mut Imported, scope: Scope, keys: Keys, loc: &Loc, what: &str, report: &mut Report) {
    if push_quiet(out, scope, keys) {
        report.imported(loc, what);
    } else {
        report.ignored(loc, what, "the virtual host it belongs to was not imported");
    }
}

fn push_quiet(out: &mut Imported, scope: Scope, keys: Keys) -> bool {
    match scope {
        Scope::Top => {
            out.mounts.push(keys);
            true
        }
        Scope::Vhost(i) => match out.vhosts.get_mut(i) {
            Some(v) => {
                v.mounts.push(keys);
                true
            }
            None => false,
        },
    }
}
