//! Mounts: `uriworkermap.properties` lines, `JkMount`/`JkUnMount` arguments, and the
//! `JkMount`s of an httpd file, as `jk_uri_worker_map.c` and `mod_jk.c` read them.
//!
//! A rule is `[-][!]PATTERN=WORKER[;EXT...]`: `-` disables it (mod_jk keeps it but never
//! matches it), `!` makes it an exclusion of WORKER (`*`: of every worker). `A|B` is two
//! rules, `A` and `AB` (`/app|/*` is `/app` and `/app/*`). A pattern must start with `/`.

use super::super::{ImportError, Loc, Report};
use super::JkMount;

/// See [`super::mounts_of`].
pub(super) fn mounts_of(
    loc: &Loc,
    pattern: &str,
    worker: &str,
    unmount: bool,
    report: &mut Report,
) -> Vec<JkMount> {
    let directive = if unmount { "JkUnMount" } else { "JkMount" };
    let what = format!("{directive} {pattern} {worker}");
    let (worker, ext) = match worker.split_once(';') {
        Some((w, ext)) => (w.trim(), Some(ext)),
        None => (worker.trim(), None),
    };
    if let Some(ext) = ext {
        let why = format!(
            "rule extensions `;{ext}` are not imported (ringlb has no per-mount worker \
             settings); the mount itself is"
        );
        report.ignored(loc, &what, why);
    }
    let mut rest = pattern.trim();
    if rest.starts_with('-') {
        let why = "disabled (`-`): mod_jk keeps it but routes nothing by it until the `-` is \
                   removed, so it is not imported";
        report.ignored(loc, &what, why);
        return Vec::new();
    }
    let mut exclude = unmount;
    if let Some(r) = rest.strip_prefix('!') {
        exclude = true;
        rest = r;
    }
    if worker.is_empty() {
        report.ignored(loc, &what, "no worker named");
        return Vec::new();
    }
    let patterns = match rest.split_once('|') {
        Some((a, b)) => vec![a.to_owned(), format!("{a}{b}")],
        None => vec![rest.to_owned()],
    };
    let mut out = Vec::new();
    for p in patterns {
        if !p.starts_with('/') || p.contains(char::is_whitespace) {
            let why = "a mod_jk pattern starts with `/` and has no blanks (mod_jk refuses it)";
            report.ignored(loc, &what, why);
            continue;
        }
        out.push(JkMount {
            loc: loc.clone(),
            pattern: p,
            worker: worker.to_owned(),
            exclude,
        });
    }
    out
}

/// See [`super::read_uriworkermap`]: `text` is the file `file`. Read as mod_jk reads it
/// (`JK_MAP_HANDLE_RAW`): `#` starts a comment, key and value are trimmed, a pattern given
/// again replaces the earlier line.
pub(super) fn parse_uriworkermap(text: &str, file: &str, report: &mut Report) -> Vec<JkMount> {
    let mut rules: Vec<(String, String, Loc)> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let loc = Loc::new(file, i + 1);
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((pattern, worker)) = line.split_once('=') else {
            report.ignored(&loc, line, "no `=` in the line: mod_jk skips it");
            continue;
        };
        let (pattern, worker) = (pattern.trim(), worker.trim());
        if pattern.is_empty() || worker.is_empty() {
            report.ignored(
                &loc,
                line,
                "an empty pattern or worker: mod_jk skips the line",
            );
            continue;
        }
        if let Some(at) = rules.iter().position(|(p, ..)| p == pattern) {
            let (p, w, old) = rules.remove(at);
            let why = format!(
                "{p} is mapped again at line {} (mod_jk keeps the last)",
                i + 1
            );
            report.ignored(&old, format!("{p}={w}"), why);
        }
        rules.push((pattern.to_owned(), worker.to_owned(), loc));
    }
    let mut out = Vec::new();
    for (pattern, worker, loc) in rules {
        out.extend(mounts_of(&loc, &pattern, &worker, false, report));
    }
    out
}

/// The `JkMount`/`JkUnMount` lines of an httpd file, `text` (the file `file`). Only those
/// directives are read: everything else is reported as not mod_jk's, and the one-argument
/// form takes its path from the enclosing `<Location>`. Mounts inside a `<VirtualHost>` are
/// imported for every host (`ringlb import httpd` keeps the virtual hosts).
pub(super) fn parse_httpd(
    text: &str,
    file: &str,
    report: &mut Report,
) -> Result<Vec<JkMount>, ImportError> {
    let mut out = Vec::new();
    let mut sections: Vec<(String, String)> = Vec::new();
    let mut pending = String::new();
    let mut start = 0;
    for (i, raw) in text.lines().enumerate() {
        if pending.is_empty() {
            start = i + 1;
        }
        let line = raw.trim_end();
        if let Some(body) = line.strip_suffix('\\') {
            pending.push_str(body);
            pending.push(' ');
            continue;
        }
        pending.push_str(line);
        let line = std::mem::take(&mut pending);
        let line = line.trim();
        let loc = Loc::new(file, start);
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let words = split_words(line);
        let Some(first) = words.first() else {
            continue;
        };
        if let Some(name) = first.strip_prefix("</") {
            let name = name.trim_end_matches('>');
            match sections.pop() {
                Some((open, _)) if open.eq_ignore_ascii_case(name) => {}
                _ => {
                    let msg = format!("</{name}> closes no open <{name}> section");
                    return Err(ImportError::new(loc, msg));
                }
            }
            continue;
        }
        if let Some(name) = first.strip_prefix('<') {
            let name = name.trim_end_matches('>').to_owned();
            let arg = words.get(1).map_or(String::new(), |a| {
                a.trim_end_matches('>').trim_matches('"').to_owned()
            });
            let why = if name.eq_ignore_ascii_case("VirtualHost") {
                "its JkMounts are imported for every host; `ringlb import httpd` keeps the \
                 virtual host"
            } else {
                "a section: only its JkMount and JkUnMount lines are read"
            };
            report.ignored(&loc, format!("<{name}>"), why);
            sections.push((name, arg));
            continue;
        }
        let unmount = first.eq_ignore_ascii_case("JkUnMount");
        if !unmount && !first.eq_ignore_ascii_case("JkMount") {
            let why = "not a mod_jk mount (only JkMount and JkUnMount are read from --httpd)";
            report.ignored(&loc, first.as_str(), why);
            continue;
        }
        let location = sections
            .iter()
            .rev()
            .find(|(n, _)| n.eq_ignore_ascii_case("Location"))
            .map(|(_, path)| path.clone());
        let (pattern, worker) = match (&words[1..], location) {
            ([pattern, worker], _) => (pattern.clone(), worker.clone()),
            ([worker], Some(path)) => (path, worker.clone()),
            _ => {
                let msg = format!(
                    "{first} takes a pattern and a worker (or, inside <Location>, a worker)"
                );
                return Err(ImportError::new(loc, msg));
            }
        };
        let in_vhost = sections
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("VirtualHost"));
        let mounts = mounts_of(&loc, &pattern, &worker, unmount, report);
        if in_vhost && !mounts.is_empty() {
            let how = "inside <VirtualHost>: imported for every host";
            report.approximated(&loc, format!("{first} {pattern} {worker}"), how);
        }
        out.extend(mounts);
    }
    if let Some((name, _)) = sections.last() {
        let msg = format!("<{name}> is not closed");
        return Err(ImportError::new(Loc::new(file, text.lines().count()), msg));
    }
    Ok(out)
}

/// httpd's argument split: blanks separate, `"..."` and `'...'` group.
fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut chars = line.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_ascii_whitespace() {
            chars.next();
            continue;
        }
        let mut word = String::new();
        if c == '"' || c == '\'' {
            chars.next();
            for d in chars.by_ref() {
                if d == c {
                    break;
                }
                word.push(d);
            }
        } else {
            while let Some(&d) = chars.peek() {
                if d.is_ascii_whitespace() {
                    break;
                }
                word.push(d);
                chars.next();
            }
        }
        words.push(word);
    }
    words
}
