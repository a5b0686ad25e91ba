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
    jk(&st, &mut out, root, report)?;
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

/// mod_jk's part: the workers file (`JkWorkersFile`, else mod_jk's default
/// `conf/workers.properties`), and the mounts of each server. A vhost gets the main
/// server's only with `JkMountCopy On` (or the main server's `JkMountCopy All`).
fn jk(st: &State, out: &mut Imported, root: &Path, report: &mut Report) -> Result<(), ImportError> {
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
        return Ok(());
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
        workers.emit(&main, Scope::Top, out, report);
        workers.report_unused(report);
        return Ok(());
    }
    let mut copied = false;
    for (i, v) in st.vhosts.iter().enumerate() {
        let mut mounts = Vec::new();
        if v.jk_mount_copy || st.jk_mount_copy_all {
            mounts.extend(main.iter().cloned());
            copied = true;
        }
        mounts.extend(own.get(i).cloned().unwrap_or_default());
        if !mounts.is_empty() {
            workers.emit(&mounts, Scope::Vhost(i), out, report);
        }
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
    Ok(())
}
