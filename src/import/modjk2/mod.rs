//! `ringlb import modjk2`: a mod_jk2 `workers2.properties`.
//!
//! The file is `[type:name]` sections of `key=value` lines (`#` lines are comments; lines
//! before the first section are variables for `${name}`). What becomes ringlb configuration:
//! - `[channel.socket:HOST:PORT]` (`host`, `port`, `tomcatId` = the route, `lb_factor`,
//!   `group`, `disabled`): an AJP13 member. Unless an `[ajp13:...]` worker names it with
//!   `channel=`, the channel is its own worker, `ajp13:HOST:PORT`, as in mod_jk2;
//! - `[ajp13:NAME]` (`channel`, `lb_factor`, `group`, `tomcatId`): a worker on that channel;
//! - `[lb:NAME]`: a balancer of the workers whose `group` names it (default group: `lb`, a
//!   balancer mod_jk2 always has);
//! - `[uri:/PATH]` with `group=` or `worker=` (default `lb`): a mount; with `context=` equal
//!   to the path it is the webapp prefix (a `path` mount), a `*` makes it a `pattern`,
//!   anything else is the exact path. `[uri:HOST:PORT]` is a virtual host (`alias=`), and
//!   `[uri:HOST:PORT/PATH]` a mount of it;
//! - `[status:]`: the `[admin]` listener.
//!
//! `[shm]`, `[logger]`, `[workerEnv:]`, `[config:]`, `[uriMap:]`, `[channel.un:]`,
//! `[channel.jni:]`, `[vm:]`, `[worker.jni:]` are reported, as is every key not carried.

mod build;
#[cfg(test)]
mod tests;

use std::path::Path;

use super::{ImportError, Imported, Loc, Report};

/// One `key=value` line of a section.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Line {
    loc: Loc,
    key: String,
    value: String,
}

/// One `[type:name]` section.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Section {
    loc: Loc,
    /// The text between the brackets.
    header: String,
    /// Before the first `:` (`channel.socket`), or the whole header without one (`shm`).
    kind: String,
    /// After the first `:` (`localhost:8009`), empty without one.
    name: String,
    lines: Vec<Line>,
}

impl Section {
    fn value(&self, key: &str) -> Option<&str> {
        self.lines
            .iter()
            .rev()
            .find(|l| l.key == key)
            .map(|l| l.value.as_str())
    }
}

/// Reads `text` (file `file`) into sections, `${name}` replaced from the variables before the
/// first section.
fn parse(text: &str, file: &str, report: &mut Report) -> Vec<Section> {
    let mut vars: Vec<(String, String)> = Vec::new();
    let mut sections: Vec<Section> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let loc = Loc::new(file, i + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(header) = line.strip_prefix('[') {
            let Some(header) = header.strip_suffix(']') else {
                report.ignored(&loc, line, "a section header without `]`: mod_jk2 skips it");
                continue;
            };
            let header = header.trim().to_owned();
            let (kind, name) = match header.split_once(':') {
                Some((k, n)) => (k.to_owned(), n.to_owned()),
                None => (header.clone(), String::new()),
            };
            sections.push(Section {
                loc,
                header,
                kind,
                name,
                lines: Vec::new(),
            });
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            let why = "no `=`: mod_jk2 reads no setting from this line";
            report.ignored(&loc, line, why);
            continue;
        };
        let key = key.trim().to_owned();
        let value = substitute(value.trim(), &vars, &loc, &key, report);
        match sections.last_mut() {
            Some(s) => s.lines.push(Line { loc, key, value }),
            None => {
                report.ignored(&loc, &key, "a variable for ${...} substitution");
                vars.push((key, value));
            }
        }
    }
    sections
}

/// `${name}` replaced by a variable of the file; an unknown one is kept as written (mod_jk2
/// knows `serverRoot` from the web server, which an import does not).
fn substitute(
    value: &str,
    vars: &[(String, String)],
    loc: &Loc,
    key: &str,
    report: &mut Report,
) -> String {
    let mut out = String::new();
    let mut rest = value;
    while let Some(start) = rest.find("${") {
        let Some(len) = rest[start..].find('}') else {
            break;
        };
        let name = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        match vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => out.push_str(v),
            None => {
                let how = format!(
                    "${{{name}}} is not a variable of the file (mod_jk2 takes serverRoot from \
                     httpd's ServerRoot, which the import does not know): kept as written"
                );
                report.approximated(loc, key, how);
                out.push_str(&rest[start..start + len + 1]);
            }
        }
        rest = &rest[start + len + 1..];
    }
    out.push_str(rest);
    out
}

/// Reads `file` into a ringlb configuration.
pub fn import(file: &Path, report: &mut Report) -> Result<Imported, ImportError> {
    let name = file.display().to_string();
    let bytes = std::fs::read(file).map_err(|e| {
        ImportError::new(
            Loc::new(name.clone(), 0),
            format!("cannot read the file: {e}"),
        )
    })?;
    let text = String::from_utf8_lossy(&bytes);
    import_str(&text, &name, report)
}

/// [`import`] on the text of file `file`.
pub fn import_str(text: &str, file: &str, report: &mut Report) -> Result<Imported, ImportError> {
    let sections = parse(text, file, report);
    let out = build::build(&sections, report);
    if out.balancers.is_empty() {
        return Err(ImportError::new(
            Loc::new(file, 0),
            "nothing to import: no [uri:] mount reaches a worker with a channel (ringlb needs \
             at least one balancer)",
        ));
    }
    Ok(out)
}
