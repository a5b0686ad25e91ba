//! `ringlb import modjk2`: a mod_jk2 `workers2.properties`.

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};

/// Reads `file` into a ringlb configuration.
pub fn import(file: &Path, _report: &mut Report) -> Result<Imported, ImportError> {
    Err(ImportError::new(
        Loc::new(file.display().to_string(), 0),
        "not implemented yet",
    ))
}
