//! `ringlb import modjk`: a mod_jk `workers.properties`, its `uriworkermap.properties`, and the
//! `JkMount`s of an httpd file.

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};

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
