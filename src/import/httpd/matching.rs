//! What the reader matches: the files an `Include` names (a directory's files, or a wildcard
//! matched per path component as httpd's `apr_fnmatch` does) and whether an `<IfVersion>`
//! holds for the httpd version ringlb imports for. [`fnmatch`] and [`version_holds`] are
//! pure; [`dir_files`] and [`glob`] list directories.

use std::path::{Path, PathBuf};

/// The httpd version `<IfVersion>` is decided against.
pub(super) const HTTPD_VERSION: [u32; 3] = [2, 4, 62];

/// `<IfVersion [[!]OP] VERSION>` against [`HTTPD_VERSION`]; `None` when it is not one. A
/// regular expression (`~ RE`, `/RE/`) is not evaluated: it is taken as true.
pub(super) fn version_holds(args: &[String]) -> Option<bool> {
    let (op, version) = match args {
        [v] => ("=", v.as_str()),
        [op, v] => (op.as_str(), v.as_str()),
        _ => return None,
    };
    let (not, op) = match op.strip_prefix('!') {
        Some(op) => (true, if op.is_empty() { "=" } else { op }),
        None => (false, op),
    };
    if op == "~" || (version.starts_with('/') && version.ends_with('/')) {
        return Some(!not);
    }
    let mut want = [0u32; 3];
    for (slot, part) in want.iter_mut().zip(version.split('.')) {
        *slot = part.parse().ok()?;
    }
    let parts = version.split('.').count();
    let have = &HTTPD_VERSION[..parts.min(3)];
    let want = &want[..parts.min(3)];
    let holds = match op {
        "=" | "==" => have == want,
        ">" => have > want,
        ">=" => have >= want,
        "<" => have < want,
        "<=" => have <= want,
        _ => return None,
    };
    Some(holds != not)
}

/// The files of a directory, sorted, without dot files.
pub(super) fn dir_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
                .map(|e| e.path())
                .filter(|p| p.is_file())
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The files matching `pattern` (`*`, `?` and `[...]` in any component), sorted; names
/// starting with `.` match only a pattern that does.
pub(super) fn glob(pattern: &Path) -> Vec<PathBuf> {
    let mut found: Vec<PathBuf> = vec![PathBuf::new()];
    let parts: Vec<_> = pattern.components().collect();
    for (i, part) in parts.iter().enumerate() {
        let text = part.as_os_str().to_string_lossy();
        let last = i + 1 == parts.len();
        let mut next = Vec::new();
        for base in &found {
            if !text.contains(['*', '?', '[']) {
                next.push(base.join(part.as_os_str()));
                continue;
            }
            let dir = if base.as_os_str().is_empty() {
                Path::new(".")
            } else {
                base.as_path()
            };
            let Ok(entries) = std::fs::read_dir(dir) else {
                continue;
            };
            let mut names: Vec<String> = entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .filter(|n| (text.starts_with('.') || !n.starts_with('.')) && fnmatch(&text, n))
                .collect();
            names.sort();
            next.extend(names.into_iter().map(|n| base.join(n)));
        }
        found = next;
        if last {
            found.retain(|p| p.is_file());
        }
    }
    found.sort();
    found
}

/// Shell wildcard match of a whole name: `*`, `?`, `[abc]`, `[a-z]`, `[!x]`.
fn fnmatch(pattern: &str, name: &str) -> bool {
    let p: Vec<char> = pattern.chars().collect();
    let n: Vec<char> = name.chars().collect();
    fn go(p: &[char], n: &[char]) -> bool {
        match p.split_first() {
            None => n.is_empty(),
            Some(('*', rest)) => (0..=n.len()).any(|k| go(rest, &n[k..])),
            Some(('?', rest)) => !n.is_empty() && go(rest, &n[1..]),
            Some(('[', rest)) => {
                let Some(close) = rest.iter().skip(1).position(|&c| c == ']').map(|i| i + 1) else {
                    return n.first() == Some(&'[') && go(rest, &n[1..]);
                };
                let Some(&c) = n.first() else { return false };
                let (negate, set) = match rest[..close].split_first() {
                    Some(('!' | '^', set)) => (true, set),
                    _ => (false, &rest[..close]),
                };
                let mut hit = false;
                let mut i = 0;
                while i < set.len() {
                    if i + 2 < set.len() && set[i + 1] == '-' {
                        hit |= set[i] <= c && c <= set[i + 2];
                        i += 3;
                    } else {
                        hit |= set[i] == c;
                        i += 1;
                    }
                }
                hit != negate && go(&rest[close + 1..], &n[1..])
            }
            Some((c, rest)) => n.first() == Some(c) && go(rest, &n[1..]),
        }
    }
    go(&p, &n)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(fnmatch("*.conf", "a.conf"));
        assert!(!fnmatch("*.conf", "a.conf~"));
        assert!(fnmatch("[a-c]?", "b1"));
        assert!(!fnmatch("[!a]", "a"));
        assert!(fnmatch("[^a]", "b"));
        assert!(fnmatch("a*b*c", "axxbyyc"));
        assert!(!fnmatch("?", ""));
        assert!(fnmatch("[x", "[x"), "an unclosed [ is itself");
    }

    #[test]
    fn if_version_against_2_4_62() {
        let cases: &[(&[&str], Option<bool>)] = &[
            (&["2.4.62"], Some(true)),
            (&["2.4"], Some(true)),
            (&["2.2"], Some(false)),
            (&[">=", "2.4.49"], Some(true)),
            (&[">", "2.4.62"], Some(false)),
            (&["<", "2.4"], Some(false)),
            (&["<=", "2.4.62"], Some(true)),
            (&["!=", "2.2"], Some(true)),
            (&["!", "2.4"], Some(false)),
            (&["~", "^2"], Some(true)),
            (&["/^2/"], Some(true)),
            (&["!~", "^2"], Some(false)),
            (&["=", "two"], None),
            (&["?", "2.4"], None),
            (&[], None),
        ];
        for (args, want) in cases {
            let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
            assert_eq!(version_holds(&args), *want, "{args:?}");
        }
    }
}
