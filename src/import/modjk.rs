//! `ringlb import modjk`: a mod_jk `workers.properties`, its `uriworkermap.properties`, and the
//! `JkMount`s of an httpd file. The httpd importer uses [`read_workers`], [`mounts_of`],
//! [`read_uriworkermap`] and [`Workers::emit`] for `JkWorkersFile`, `JkMount`, `JkUnMount` and
//! `JkMountFile`.

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};

/// A parsed `workers.properties`: the workers it defines (templates and `reference`
/// inheritance resolved) and which are exported by `worker.list`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Workers {}

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

/// Reads a `workers.properties`.
pub fn read_workers(path: &Path, _report: &mut Report) -> Result<Workers, ImportError> {
    Err(ImportError::new(
        Loc::new(path.display().to_string(), 0),
        "not implemented yet",
    ))
}

/// The mounts of one `JkMount PATTERN WORKER` (or `JkUnMount`, `unmount`): `|` alternatives
/// (`/app|/*` is `/app` and `/app/*`) expanded.
pub fn mounts_of(
    _loc: &Loc,
    _pattern: &str,
    _worker: &str,
    _unmount: bool,
    _report: &mut Report,
) -> Vec<JkMount> {
    Vec::new()
}

/// Reads a `uriworkermap.properties` (or a `JkMountFile`).
pub fn read_uriworkermap(path: &Path, _report: &mut Report) -> Result<Vec<JkMount>, ImportError> {
    Err(ImportError::new(
        Loc::new(path.display().to_string(), 0),
        "not implemented yet",
    ))
}

impl Workers {
    /// Adds to `out` the balancer of each worker `mounts` name (once per worker, whoever
    /// asks: an `lb` worker with its members, an `ajp13` worker as a balancer of one member,
    /// the status worker as `[admin]`), and the mounts into `scope`. A mount of a worker the
    /// file does not define is reported as ignored.
    pub fn emit(
        &self,
        _mounts: &[JkMount],
        _scope: Scope,
        _out: &mut Imported,
        _report: &mut Report,
    ) {
    }
}

/// Reads `workers` (and the mount files) into a ringlb configuration.
pub fn import(
    workers: &Path,
    _uriworkermap: Option<&Path>,
    _httpd: Option<&Path>,
    _report: &mut Report,
) -> Result<Imported, ImportError> {
    Err(ImportError::new(
        Loc::new(workers.display().to_string(), 0),
        "not implemented yet",
    ))
}
