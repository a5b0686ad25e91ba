//! The import corpus and the golden files of the import tests.
//!
//! The corpus is 40 real-world httpd, mod_jk and mod_jk2 files kept beside the repository, in
//! `../shared/import-corpus` (with an `INDEX.md` saying what each must import to). It is not
//! part of the repository: a test that reads it says so and passes without it, as in a user's
//! clone, unless `RINGLB_REQUIRE_IMPORT_CORPUS` is set (CI sets it). Golden files are in
//! `tests/import/golden/`; `UPDATE_GOLDEN=1` rewrites them from the actual output.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};

use ringlb::import::{self, Source};
use toml::{Table, Value};

/// The corpus directory, or `None` (after saying so on stderr) when it is absent and not
/// required.
pub(crate) fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/import-corpus");
    if dir.join("INDEX.md").is_file() {
        return Some(dir.canonicalize().expect("corpus path"));
    }
    assert!(
        std::env::var_os("RINGLB_REQUIRE_IMPORT_CORPUS").is_none(),
        "the import corpus is required (RINGLB_REQUIRE_IMPORT_CORPUS) but {} is absent",
        dir.display()
    );
    eprintln!(
        "skipped: the import corpus {} is absent (it lives beside the repository)",
        dir.display()
    );
    None
}

/// A corpus file's path.
pub(crate) fn corpus_file(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    assert!(path.is_file(), "corpus file {name} missing");
    path
}

/// A scratch directory for a test (an httpd server root with corpus files under the names
/// their `Include`s use), empty, removed first if a previous run left it.
pub(crate) fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ringlb-import-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Copies corpus file `name` to `root/as_path` (directories created).
pub(crate) fn place(dir: &Path, name: &str, root: &Path, as_path: &str) {
    let to = root.join(as_path);
    std::fs::create_dir_all(to.parent().expect("parent")).expect("mkdir");
    std::fs::copy(corpus_file(dir, name), to).expect("copy");
}

/// What one import printed, with every absolute prefix in `strip` (the corpus directory, a
/// scratch directory) replaced by its label, so golden files do not depend on the machine.
#[derive(Debug)]
pub(crate) struct Printed {
    /// The TOML on success, else `error: ...`.
    pub(crate) toml: String,
    pub(crate) report: String,
    pub(crate) ok: bool,
}

/// Runs `source` and relabels paths: each `(prefix, label)` in `strip` is replaced.
pub(crate) fn run(source: &Source, strip: &[(&Path, &str)]) -> Printed {
    let relabel = |text: String| {
        strip.iter().fold(text, |text, (prefix, label)| {
            text.replace(&format!("{}/", prefix.display()), label)
        })
    };
    match import::import(source) {
        Ok(outcome) => Printed {
            toml: relabel(outcome.toml),
            report: relabel(outcome.report.to_string()),
            ok: true,
        },
        Err(refused) => Printed {
            toml: relabel(format!("error: {}\n", refused.error)),
            report: relabel(refused.report.to_string()),
            ok: false,
        },
    }
}

/// Compares `actual` with `tests/import/golden/NAME`, or writes it with `UPDATE_GOLDEN=1`.
pub(crate) fn golden(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/import/golden")
        .join(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let want = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e} (run with UPDATE_GOLDEN=1 to create it)",
            path.display()
        )
    });
    assert!(
        want == actual,
        "{} differs from the actual output (UPDATE_GOLDEN=1 rewrites it):\n--- want\n{want}\n--- actual\n{actual}",
        path.display()
    );
}

/// Imports `source` and checks both outputs against `NAME.toml` and `NAME.report`; returns
/// what was printed for further assertions.
pub(crate) fn check(name: &str, source: &Source, strip: &[(&Path, &str)]) -> Printed {
    let printed = run(source, strip);
    golden(&format!("{name}.toml"), &printed.toml);
    golden(&format!("{name}.report"), &printed.report);
    printed
}

/// The seed excerpts kept in the repository (`tests/import/seeds`): never skipped.
pub(crate) fn seeds() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/import/seeds")
}

/// The `[[balancer]]` named `name` of a printed configuration.
pub(crate) fn balancer<'a>(t: &'a Table, name: &str) -> &'a Table {
    t["balancer"]
        .as_array()
        .and_then(|bs| bs.iter().find(|b| b["name"].as_str() == Some(name)))
        .and_then(Value::as_table)
        .unwrap_or_else(|| panic!("no balancer {name}"))
}

/// The names of the `[[balancer]]`s of a printed configuration, in order.
pub(crate) fn balancer_names(t: &Table) -> Vec<&str> {
    t.get("balancer")
        .and_then(Value::as_array)
        .map(|bs| bs.iter().filter_map(|b| b["name"].as_str()).collect())
        .unwrap_or_default()
}
