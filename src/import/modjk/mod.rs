//! `ringlb import modjk`: a mod_jk `workers.properties`, its `uriworkermap.properties`, and the
//! `JkMount`s of an httpd file. The httpd importer uses [`read_workers`], [`mounts_of`],
//! [`read_uriworkermap`] and [`Workers::emit`] for `JkWorkersFile`, `JkMount`, `JkUnMount` and
//! `JkMountFile`, then [`Workers::report_unused`].
//!
//! The file is read as mod_jk reads it (`props`: comments, trimming, `$(var)`, repeated
//! lists), its workers resolved (`workers`: `reference` templates, types), and only what a
//! mount names becomes ringlb configuration (`emit`, `attrs`): an `lb` worker a balancer with
//! its members, an `ajp13` worker a balancer of one, the status worker the `[admin]`
//! listener. Balancers have no `mount` of their own: the mounts are `[[mount]]` (or
//! `[[vhost.mount]]`) patterns with mod_jk's `*`/`?` wildcards, and `!` rules exclusions of
//! their worker.

mod attrs;
mod emit;
mod mounts;
mod props;
#[cfg(test)]
mod tests;
mod workers;

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};
use workers::{Kind, Parsed};

/// A parsed `workers.properties`: the workers it defines (templates and `reference`
/// inheritance resolved) and which are exported by `worker.list`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workers {
    parsed: Parsed,
}

/// One mount of a worker: from `uriworkermap.properties` (`/app/*=worker`, `!/x=worker`) or
/// from `JkMount`/`JkUnMount`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JkMount {
    pub loc: Loc,
    /// A mod_jk pattern: `*` and `?` wildcards, no `|` alternatives (already expanded).
    pub pattern: String,
    pub worker: String,
    /// `!` in uriworkermap, or `JkUnMount`: the worker does not get what this matches.
    pub exclude: bool,
}

/// Where [`Workers::emit`] puts mounts: the top-level `[[mount]]`s, or those of
/// `Imported::vhosts[i]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scope {
    Top,
    Vhost(usize),
}

fn read(path: &Path) -> Result<(String, String), ImportError> {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => Ok((String::from_utf8_lossy(&bytes).into_owned(), name)),
        Err(e) => Err(ImportError::new(
            Loc::new(name, 0),
            format!("cannot read the file: {e}"),
        )),
    }
}

/// Reads a `workers.properties`. The file-level properties (`worker.list`,
/// `worker.maintain`, variables, properties mod_jk does not know) are reported here; each
/// worker's attributes when [`Workers::emit`] imports it, or [`Workers::report_unused`] says
/// why not.
pub fn read_workers(path: &Path, report: &mut Report) -> Result<Workers, ImportError> {
    let (text, file) = read(path)?;
    parse_workers(&text, &file, report)
}

/// [`read_workers`] on the text of file `file`.
pub fn parse_workers(text: &str, file: &str, report: &mut Report) -> Result<Workers, ImportError> {
    let props = props::parse(text, file, report);
    let mut parsed = workers::build(file, &props, report)?;
    if let Some((secs, loc)) = &parsed.maintain {
        if *secs == 60 {
            report.imported(loc, "worker.maintain");
        } else {
            let how = format!(
                "lbstatus_decay = \"{secs}s\" on every lb balancer (mod_jk's maintain also \
                 paces its recover_time checks; ringlb checks retry at every request)"
            );
            report.approximated(loc, "worker.maintain", how);
        }
    }
    let mut mounts = Vec::new();
    for (name, _) in &parsed.list {
        let Some(w) = parsed.workers.iter().find(|w| w.name == *name) else {
            continue;
        };
        if let Some(a) = w.attr("mount") {
            let loc = a.locs.first().cloned().unwrap_or_else(Loc::none);
            for pattern in workers::split_list(&a.value) {
                mounts.extend(mounts_of(&loc, &pattern, name, false, report));
            }
        }
    }
    parsed.mounts = mounts;
    Ok(Workers { parsed })
}

/// The mounts of one `JkMount PATTERN WORKER` (or `JkUnMount`, `unmount`): `|` alternatives
/// (`/app|/*` is `/app` and `/app/*`) expanded, a `!` prefix an exclusion, a `-` prefix a
/// disabled rule (reported, no mount). A pattern not starting with `/` is reported and gives
/// nothing.
pub fn mounts_of(
    loc: &Loc,
    pattern: &str,
    worker: &str,
    unmount: bool,
    report: &mut Report,
) -> Vec<JkMount> {
    mounts::mounts_of(loc, pattern, worker, unmount, report)
}

/// Reads a `uriworkermap.properties` (or a `JkMountFile`).
pub fn read_uriworkermap(path: &Path, report: &mut Report) -> Result<Vec<JkMount>, ImportError> {
    let (text, file) = read(path)?;
    Ok(mounts::parse_uriworkermap(&text, &file, report))
}

impl Workers {
    /// Adds to `out` the balancer of each worker `mounts` name (once per worker, whoever
    /// asks: an `lb` worker with its members, an `ajp13` worker as a balancer of one member,
    /// the status worker as `[admin]`), and the mounts into `scope`. A mount of a worker the
    /// file does not define is reported as ignored.
    pub fn emit(&self, mounts: &[JkMount], scope: Scope, out: &mut Imported, report: &mut Report) {
        emit::mounts(&self.parsed, mounts, scope, out, report);
    }

    /// The mounts the file itself gives (`worker.NAME.mount` of exported workers).
    pub fn own_mounts(&self) -> &[JkMount] {
        &self.parsed.mounts
    }

    /// Imports every exported worker without mounting it (for a file given without any
    /// mount): each gets its balancer, the status worker `[admin]`.
    pub fn emit_exported(&self, out: &mut Imported, report: &mut Report) {
        for (name, loc) in &self.parsed.list {
            let _ = emit::ensure(&self.parsed, name, loc, out, report);
        }
    }

    /// Reports the attributes of every worker [`Workers::emit`] did not import into `out`
    /// (call once, after the last `emit`): templates, workers no mount names, workers not
    /// exported.
    pub fn report_unused(&self, out: &Imported, report: &mut Report) {
        let p = &self.parsed;
        let emitted = |name: &str| {
            let b = emit::balancer_name(name);
            out.balancers.iter().any(|x| x.name == b)
        };
        let admin = out.tables.iter().any(|(n, _)| n == "admin");
        let mut used: Vec<String> = Vec::new();
        for w in &p.workers {
            if emitted(&w.name) || (w.kind == Kind::Status && admin) {
                used.push(w.name.clone());
                if w.kind == Kind::Lb {
                    used.extend(w.members());
                }
            }
        }
        for w in &p.workers {
            if used.contains(&w.name) {
                continue;
            }
            if p.templates.contains(&w.name) {
                let users: Vec<&str> = p
                    .workers
                    .iter()
                    .filter(|u| u.attrs.iter().any(|a| a.from.as_deref() == Some(&w.name)))
                    .map(|u| u.name.as_str())
                    .collect();
                if users.iter().any(|u| used.iter().any(|x| x == u)) {
                    continue; // reported under each worker that inherits it
                }
                let why = format!(
                    "a template (of {}) whose workers are not imported",
                    users.join(", ")
                );
                attrs::unused(w, &why, report);
                continue;
            }
            let why = if p.list.iter().any(|(n, _)| *n == w.name) {
                format!("worker {} is in worker.list but no mount names it", w.name)
            } else {
                format!(
                    "worker {} is not in worker.list and no mount names it: mod_jk creates no \
                     such worker",
                    w.name
                )
            };
            attrs::unused(w, &why, report);
        }
    }
}

/// Reads `workers` (and the mount files) into a ringlb configuration.
pub fn import(
    workers: &Path,
    uriworkermap: Option<&Path>,
    httpd: Option<&Path>,
    report: &mut Report,
) -> Result<Imported, ImportError> {
    let w = read_workers(workers, report)?;
    let mut mounts = w.own_mounts().to_vec();
    if let Some(path) = uriworkermap {
        mounts.extend(read_uriworkermap(path, report)?);
    }
    if let Some(path) = httpd {
        let (text, file) = read(path)?;
        mounts.extend(mounts::parse_httpd(&text, &file, report)?);
    }
    let mut out = Imported::default();
    let given = uriworkermap.is_some() || httpd.is_some() || !mounts.is_empty();
    if given {
        w.emit(&mounts, Scope::Top, &mut out, report);
    } else {
        let how = "no mounts given (--uriworkermap, --httpd or worker.NAME.mount): the exported \
                   workers are imported as balancers without a mount, so nothing routes to \
                   them until [[mount]] tables are added (mod_jk routes nothing without JkMount)";
        report.approximated(&Loc::new(workers.display().to_string(), 0), "mounts", how);
        w.emit_exported(&mut out, report);
    }
    w.report_unused(&out, report);
    if out.balancers.is_empty() {
        let msg = "nothing to import: no mount names an lb or ajp13 worker this file defines \
                   (ringlb needs at least one balancer)";
        return Err(ImportError::new(
            Loc::new(workers.display().to_string(), 0),
            msg,
        ));
    }
    Ok(out)
}
