//! `ringlb import`: an httpd, mod_jk or mod_jk2 configuration in, a ringlb TOML and a report
//! out.
//!
//! Each importer reads its files into an [`Imported`] (the ringlb configuration as TOML tables,
//! in the order it will be printed) and says what became of every directive or property in the
//! [`Report`]: imported, approximated (how) or ignored (why), each with `file:line`. Nothing is
//! dropped without a line. [`import`] renders the TOML and validates it as `ringlb check` would,
//! so an import that prints a configuration printed one `ringlb run` accepts. Deterministic: the
//! same files give the same bytes.

pub mod httpd;
pub mod model;
pub mod modjk;
pub mod modjk2;
pub mod report;

use std::path::PathBuf;

pub use model::Imported;
pub use report::{Disposition, ImportError, Loc, Report};

/// What to import (the arguments of `ringlb import`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// `ringlb import httpd FILE [-D NAME]... [--server-root DIR]`.
    Httpd {
        file: PathBuf,
        /// `-D NAME`: names `<IfDefine NAME>` sees as defined.
        defines: Vec<String>,
        /// `--server-root DIR`: what relative `Include`s are resolved against; default the
        /// file's `ServerRoot`, else the directory above the file's.
        server_root: Option<PathBuf>,
    },
    /// `ringlb import modjk workers.properties [--uriworkermap FILE] [--httpd FILE]`.
    Modjk {
        workers: PathBuf,
        uriworkermap: Option<PathBuf>,
        /// An httpd file whose `JkMount`/`JkUnMount` lines give mounts.
        httpd: Option<PathBuf>,
    },
    /// `ringlb import modjk2 workers2.properties`.
    Modjk2 { file: PathBuf },
}

/// A finished import: the TOML, valid, and the report.
#[derive(Clone, Debug)]
pub struct Outcome {
    pub toml: String,
    pub report: Report,
}

/// A refused import: why, and the report of what was read before it.
#[derive(Clone, Debug)]
pub struct Refused {
    pub error: ImportError,
    pub report: Report,
}

/// The name the printed configuration is validated under.
pub const OUTPUT_NAME: &str = "<imported>";

/// Imports `source`. The TOML is validated as `ringlb check` would validate it; a result that
/// does not validate is refused (an importer bug, reported as such) rather than printed.
pub fn import(source: &Source) -> Result<Outcome, Refused> {
    let mut report = Report::default();
    let imported = match source {
        Source::Httpd {
            file,
            defines,
            server_root,
        } => httpd::import(file, defines, server_root.as_deref(), &mut report),
        Source::Modjk {
            workers,
            uriworkermap,
            httpd,
        } => modjk::import(
            workers,
            uriworkermap.as_deref(),
            httpd.as_deref(),
            &mut report,
        ),
        Source::Modjk2 { file } => modjk2::import(file, &mut report),
    };
    let imported = match imported {
        Ok(imported) => imported,
        Err(error) => return Err(Refused { error, report }),
    };
    let toml = imported.to_toml();
    if let Err(e) = crate::config::parse_str(&toml, OUTPUT_NAME) {
        let error = ImportError::new(
            Loc::none(),
            format!("the imported configuration does not validate (an importer bug): {e}"),
        );
        return Err(Refused { error, report });
    }
    Ok(Outcome { toml, report })
}
