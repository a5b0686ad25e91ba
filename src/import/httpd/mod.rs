//! `ringlb import httpd`: an httpd configuration (mod_proxy, mod_proxy_balancer, mod_jk).
//!
//! [`reader`] reads the files as httpd does (its tokenizing in [`lexer`], its directive
//! names in [`known`]): `Include`s followed, conditional sections decided, `${VAR}`
//! applied, sections balanced. [`proxy`] and [`server`] gather what the directives say into
//! a [`state::State`]; [`emit`] and [`rules`] turn it into the ringlb tables once all is read
//! (httpd too decides rule order, balancer parameters and inheritance only then); mod_jk's
//! workers and mounts go through [`crate::import::modjk`].

mod emit;
mod known;
mod lexer;
mod matching;
mod params;
mod proxy;
mod reader;
mod rules;
mod server;
mod state;

use std::path::{Path, PathBuf};

use super::model::{self, Keys};
use super::modjk::{self, JkMount, Scope};
use super::{ImportError, Imported, Loc, Report};
use state::State;

/// Reads `file` (following its `Include`s) into a ringlb configuration.
pub fn import(
    file: &Path,
    defines: &[String],
    server_root: Option<&Path>,
    report: &mut Report,
) -> Result<Imported, ImportError> {
    let env = |name: &str| std::env::var(name).ok();
    let options = reader::Options {
        defines,
        server_root,
        env: &env,
    };
    let read = reader::read(file, &options, report)?;
    let (directives, root) = (read.directives, read.server_root);
    let result = build(file, &directives, &root, report);
    in_read_order(report, &read.seen);
    result
}

/// Orders the report as the lines were read (what was decided only at the end, such as a
/// rule's reachability, among its neighbours); lines of other files (mod_jk's) keep their
/// order after them.
fn in_read_order(report: &mut Report, seen: &[Loc]) {
    let index: std::collections::BTreeMap<&Loc, usize> =
        seen.iter().enumerate().rev().map(|(i, l)| (l, i)).collect();
    report
        .entries
        .sort_by_key(|e| index.get(&e.loc).copied().unwrap_or(usize::MAX));
}

fn build(
    file: &Path,
    directives: &[reader::Directive],
    root: &Path,
    report: &mut Report,
) -> Result<Imported, ImportError> {
    let mut st = State::default();
    let mut out = Imported::default();
    for d in directives {
        if !proxy::directive(&mut st, d, report)? {
            server::directive(&mut st, &mut out, d, root, report)?;
        }
    }
    emit::vhosts(&st, &mut out, report);
    emit::emit(&mut st, &mut out, report)?;
    let jk_bals = jk(&st, &mut out, root, report)?;
    no_jk(&st, &jk_bals, &mut out, report);
    if out.balancers.is_empty() {
        let admin = if out.tables.iter().any(|(n, _)| n == "admin") {
            " (the status workers it mounts became the [admin] listener, which is not enough)"
        } else {
            ""
        };
        return Err(ImportError::new(
            Loc::new(file.display().to_string(), 0),
            format!(
                "nothing to import: no ProxyPass or JkMount reaches a balancer with members, \
                 and ringlb needs at least one{admin}"
            ),
        ));
    }
    Ok(out)
}

/// The balancers mod_jk's mounts route to, per server: the main one, then each vhost.
#[derive(Default)]
struct JkBalancers {
    top: Vec<String>,
    vhosts: Vec<Vec<String>>,
}

/// mod_jk's part: the workers file (`JkWorkersFile`, else mod_jk's default
/// `conf/workers.properties`), and the mounts of each server. A vhost gets the main
/// server's only with `JkMountCopy On` (or the main server's `JkMountCopy All`).
fn jk(
    st: &State,
    out: &mut Imported,
    root: &Path,
    report: &mut Report,
) -> Result<JkBalancers, ImportError> {
    let mut bals = JkBalancers::default();
    let mut main: Vec<JkMount> = st
        .jk_mounts
        .iter()
        .filter(|(v, _)| v.is_none())
        .map(|(_, m)| m.clone())
        .collect();
    let mut own: Vec<Vec<JkMount>> = vec![Vec::new(); st.vhosts.len()];
    for (v, m) in &st.jk_mounts {
        if let Some(list) = v.and_then(|v| own.get_mut(v)) {
            list.push(m.clone());
        }
    }
    for (v, loc, path) in &st.jk_mount_files {
        let mounts = modjk::read_uriworkermap(path, report)
            .map_err(|e| ImportError::new(loc.clone(), format!("JkMountFile: {e}")))?;
        match v.and_then(|v| own.get_mut(v)) {
            Some(list) => list.extend(mounts),
            None => main.extend(mounts),
        }
    }
    if main.is_empty() && own.iter().all(Vec::is_empty) {
        return Ok(bals);
    }
    let path: PathBuf = match &st.jk_workers {
        Some((_, p)) => p.clone(),
        None => root.join("conf/workers.properties"),
    };
    let workers = modjk::read_workers(&path, report).map_err(|e| match &st.jk_workers {
        Some((loc, _)) => ImportError::new(loc.clone(), format!("JkWorkersFile: {e}")),
        None => ImportError::new(
            e.loc.clone(),
            format!(
                "JkMount without JkWorkersFile: mod_jk reads {}: {e}",
                path.display()
            ),
        ),
    })?;
    if st.vhosts.is_empty() {
        let before = out.mounts.len();
        workers.emit(&main, Scope::Top, out, report);
        bals.top = routed_to(out.mounts.get(before..).unwrap_or_default());
        workers.report_unused(report);
        return Ok(bals);
    }
    let mut copied = false;
    for (i, v) in st.vhosts.iter().enumerate() {
        let mut mounts = Vec::new();
        if v.jk_mount_copy || st.jk_mount_copy_all {
            mounts.extend(main.iter().cloned());
            copied = true;
        }
        mounts.extend(own.get(i).cloned().unwrap_or_default());
        let mut routed = Vec::new();
        if !mounts.is_empty() {
            let before = out.vhosts.get(i).map_or(0, |v| v.mounts.len());
            workers.emit(&mounts, Scope::Vhost(i), out, report);
            if let Some(v) = out.vhosts.get(i) {
                routed = routed_to(v.mounts.get(before..).unwrap_or_default());
            }
        }
        bals.vhosts.push(routed);
    }
    if !copied {
        for m in &main {
            let kind = if m.exclude { "JkUnMount" } else { "JkMount" };
            report.ignored(
                &m.loc,
                format!("{kind} {} {}", m.pattern, m.worker),
                "a main-server mount, which the <VirtualHost>s do not inherit (no \
                 JkMountCopy); ringlb has no main server apart from them",
            );
        }
    }
    workers.report_unused(report);
    Ok(bals)
}

/// The balancers `mounts` route to, each once, in order.
fn routed_to(mounts: &[Keys]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for m in mounts {
        if let Some(name) = model::get(m, "balancer").and_then(|v| v.as_str()) {
            if !names.iter().any(|n| n == name) {
                names.push(name.to_owned());
            }
        }
    }
    names
}

/// `SetEnvIf Request_URI RE no-jk`: mod_jk declines the requests whose path matches, so a
/// `regex` exclusion from the balancers of mod_jk's mounts in that server (the main
/// server's in every vhost too, as mod_setenvif merges them). ringlb answers 404 where
/// httpd serves such a request itself; `ProxyPass` rules are untouched, as in httpd.
fn no_jk(st: &State, bals: &JkBalancers, out: &mut Imported, report: &mut Report) {
    for n in &st.no_jk {
        if let Some(why) = rules::regex_problem(&n.regex).or_else(|| {
            regex::Regex::new(&n.regex)
                .is_err()
                .then_some("not a valid regex")
        }) {
            report.ignored(&n.loc, n.shown.clone(), format!("{}: {why}", n.regex));
            continue;
        }
        let mut on = Vec::new();
        // (vhost index or None for the top level, the balancers excluded there)
        let mut scopes: Vec<(Option<usize>, &[String])> = Vec::new();
        match n.vhost {
            Some(v) => scopes.push((Some(v), bals.vhosts.get(v).map_or(&[][..], Vec::as_slice))),
            None if st.vhosts.is_empty() => scopes.push((None, &bals.top)),
            None => {
                for (v, names) in bals.vhosts.iter().enumerate() {
                    scopes.push((Some(v), names));
                }
            }
        }
        for (v, names) in scopes {
            if names.is_empty() {
                continue;
            }
            let mut keys = Keys::new();
            model::set(&mut keys, "regex", n.regex.as_str());
            model::set(&mut keys, "exclude", true);
            let list: Vec<toml::Value> = names
                .iter()
                .map(|s| toml::Value::from(s.as_str()))
                .collect();
            model::set(&mut keys, "balancers", toml::Value::Array(list));
            let target = match v {
                None => Some(&mut out.mounts),
                Some(v) => out.vhosts.get_mut(v).map(|vh| &mut vh.mounts),
            };
            if let Some(mounts) = target {
                mounts.push(keys);
                on.extend(names.iter().cloned());
            }
        }
        on.dedup();
        if on.is_empty() {
            report.ignored(
                &n.loc,
                n.shown.clone(),
                "no-jk: no JkMount of this server routes to a balancer",
            );
        } else {
            report.approximated(
                &n.loc,
                n.shown.clone(),
                format!(
                    "a regex exclusion from {} (mod_jk's balancers here): ringlb answers 404 \
                     where httpd serves the request itself, and matches the path as sent, \
                     not decoded",
                    on.join(", ")
                ),
            );
        }
    }
}
