//! `ringlb import httpd`: an httpd configuration (mod_proxy, mod_proxy_balancer, mod_jk).

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};

/// Reads `file` (following its `Include`s) into a ringlb configuration.
pub fn import(
    file: &Path,
    _defines: &[String],
    _server_root: Option<&Path>,
    _report: &mut Report,
) -> Result<Imported, ImportError> {
    Err(ImportError::new(
        Loc::new(file.display().to_string(), 0),
        "not implemented yet",
    ))
}
