//! One mount's matcher, compiled: a path prefix, an exact path, a mod_jk glob or a regex; and
//! the `$N` substitution of a regex mount's `target`.

use regex::bytes::Regex;

/// What a mount or an exclusion matches, ready to test paths against.
#[derive(Clone, Debug)]
pub(super) enum Compiled {
    /// `path`: a prefix ending at a segment boundary.
    Prefix(Box<[u8]>),
    /// A `pattern` without wildcards: the path up to its first `;`, exactly.
    Exact(Box<[u8]>),
    /// A `pattern` with `*` or `?`, over the path up to its first `;`.
    Glob(Box<[u8]>),
    /// `regex`, over the whole path. `None` never matches (validation compiled it, so this is
    /// only a guard that keeps the request path free of panics).
    Regex(Option<Regex>),
}

impl Compiled {
    /// Whether it matches `path` (no query).
    pub(super) fn matches(&self, path: &[u8]) -> bool {
        match self {
            Compiled::Prefix(prefix) => prefix_matches(prefix, path),
            Compiled::Exact(exact) => **exact == *before_params(path),
            Compiled::Glob(glob) => glob_matches(glob, before_params(path)),
            Compiled::Regex(regex) => regex.as_ref().is_some_and(|r| r.is_match(path)),
        }
    }
}

/// `prefix` is a prefix of `path` ending at a segment boundary: `/app` serves `/app`,
/// `/app/x`, `/app?q` and `/app;p`, not `/apple`; a prefix ending in `/` serves everything
/// it prefixes.
pub(super) fn prefix_matches(prefix: &[u8], path: &[u8]) -> bool {
    path.starts_with(prefix)
        && (prefix.ends_with(b"/")
            || path.len() == prefix.len()
            || matches!(path[prefix.len()], b'/' | b'?' | b';'))
}

/// The path up to its first `;` (mod_jk matches its mounts without path parameters).
fn before_params(path: &[u8]) -> &[u8] {
    memchr::memchr(b';', path).map_or(path, |at| &path[..at])
}

/// mod_jk's wildcard match over the whole of `text`: `*` matches any run of bytes (`/`
/// included, possibly none), `?` exactly one, anything else itself (case-sensitive).
/// Greedy with one backtrack point, so linear in practice and at worst
/// `O(glob.len() * text.len())`.
pub(super) fn glob_matches(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    // After the last `*`: the glob position after it, and the text position it resumes at.
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some(b'*') => {
                star = Some((g + 1, t));
                g += 1;
            }
            Some(&c) if c == b'?' || c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((after, resume)) => {
                    g = after;
                    t = resume + 1;
                    star = Some((after, resume + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|&c| c == b'*')
}

/// Whether `text` has wildcards (a `pattern` without them is an exact path).
pub(super) fn is_glob(text: &[u8]) -> bool {
    text.iter().any(|&c| c == b'*' || c == b'?')
}

/// The path a regex mount sends for `path`: `target` with `$N` replaced by group N of the
/// match (an unmatched group is empty) and `$$` by `$`; a `target` without any `$N` gets the
/// whole path appended (httpd's `ProxyPassMatch`). A result that does not start with `/`
/// gets one. `None` when the regex does not match.
pub(super) fn substitute(regex: &Regex, target: &[u8], path: &[u8]) -> Option<Vec<u8>> {
    let caps = regex.captures(path)?;
    let mut out = Vec::with_capacity(target.len() + path.len() + 1);
    let mut groups = false;
    let mut i = 0;
    while i < target.len() {
        match (target[i], target.get(i + 1)) {
            (b'$', Some(b'$')) => {
                out.push(b'$');
                i += 2;
            }
            (b'$', Some(&d)) if d.is_ascii_digit() => {
                groups = true;
                if let Some(m) = caps.get(usize::from(d - b'0')) {
                    out.extend_from_slice(m.as_bytes());
                }
                i += 2;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    if !groups {
        out.extend_from_slice(path);
    }
    if out.first() != Some(&b'/') {
        out.insert(0, b'/');
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_as_mod_jk() {
        // (glob, text, matches)
        let cases: [(&str, &str, bool); 16] = [
            ("/*", "/", true),
            ("/*", "/a/b.jsp", true),
            ("/examples/*", "/examples/", true),
            ("/examples/*", "/examples", false),
            ("/examples/*", "/examplesx/y", false),
            ("/*.jsp", "/a/b/c.jsp", true),
            ("/*.jsp", "/a/b/c.jspx", false),
            ("/*.jsp", "/a.JSP", false),
            ("/*.cfm/*", "/x/y.cfm/z", true),
            ("/*.cfm/*", "/x/y.cfm", false),
            ("/a?c", "/abc", true),
            ("/a?c", "/ac", false),
            ("/a*b*c", "/aXbYbZc", true),
            ("/a*b*c", "/aXbYbZ", false),
            ("/**", "/anything", true),
            ("", "", true),
        ];
        for (glob, text, want) in cases {
            assert_eq!(
                glob_matches(glob.as_bytes(), text.as_bytes()),
                want,
                "{glob} {text}"
            );
        }
    }

    #[test]
    fn globs_and_exact_patterns_ignore_path_parameters() {
        let glob = Compiled::Glob((*b"/app/*.jsp").into());
        assert!(glob.matches(b"/app/x.jsp;jsessionid=A.n1"));
        let exact = Compiled::Exact((*b"/jk-status").into());
        assert!(exact.matches(b"/jk-status;x"));
        assert!(!exact.matches(b"/jk-status/"));
        let prefix = Compiled::Prefix((*b"/app").into());
        assert!(prefix.matches(b"/app;jsessionid=x") && !prefix.matches(b"/apple"));
    }

    #[test]
    fn substitution_follows_proxypassmatch() {
        // (regex, target, path, result)
        let cases: [(&str, &str, &str, Option<&str>); 7] = [
            (r"^/(.*\.gif)$", "/img/$1", "/a/b.gif", Some("/img/a/b.gif")),
            (
                "^/baltest_echo_post",
                "/echo_post",
                "/baltest_echo_post",
                Some("/echo_post/baltest_echo_post"),
            ),
            ("^/x(.*)", "$1", "/x", Some("/")),
            ("^/x(.*)", "$1", "/x/y", Some("/y")),
            ("^/(a)(b)?", "/$2-$1-$$", "/a", Some("/-a-$")),
            (
                "^/legacy/(.*)\\.do$",
                "/app/$1.action",
                "/legacy/buy.do",
                Some("/app/buy.action"),
            ),
            ("^/y", "/z$1", "/x", None),
        ];
        for (regex, target, path, want) in cases {
            let regex = Regex::new(regex).unwrap();
            let got = substitute(&regex, target.as_bytes(), path.as_bytes());
            assert_eq!(
                got.as_deref(),
                want.map(str::as_bytes),
                "{regex} {target} {path}"
            );
        }
    }
}
