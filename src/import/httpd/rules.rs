//! Which `ProxyPass` rules httpd can reach, and the mount each becomes.
//!
//! httpd tries a server's rules in order, the main server's first (a vhost's list is the
//! main server's followed by its own), and the first match wins; ringlb picks the most
//! specific mount, regexes first. So a rule an earlier one covers (a prefix at or under an
//! earlier prefix, anything after `ProxyPass /`) is dropped and reported as never reached,
//! and a regex after prefixes it may overlap is reported as approximated.

use super::state::{Match, State, Target};
use crate::import::model::{self, Keys};
use crate::import::Report;

/// A rule httpd can reach, ready to be a mount.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Reached {
    /// Index in `State::rules`.
    pub(super) rule: usize,
    pub(super) vhost: Option<usize>,
    /// The balancer (index in `State::bals`); `None` for an exclusion.
    pub(super) bal: Option<usize>,
    /// What replaces the mount (`target_path`) or the regex's `target`.
    pub(super) target: String,
    /// For an exclusion: the balancers it keeps the path from.
    pub(super) exclude_from: Vec<usize>,
}

/// The balancer `name` that server `vhost` uses: its own when it defines one, else the main
/// server's, else its own (empty) one.
pub(super) fn resolve(st: &State, name: &str, vhost: Option<usize>) -> Option<usize> {
    let name = name.to_ascii_lowercase();
    let find = |v: Option<usize>, defined: bool| {
        st.bals
            .iter()
            .position(|b| !b.direct && b.name == name && b.vhost == v && (b.defined || !defined))
    };
    find(vhost, true)
        .or_else(|| vhost.and_then(|_| find(None, false)))
        .or_else(|| find(vhost, false))
}

/// Whether prefix `q` matches every path that starts with `p`.
fn covers_all(q: &str, p: &str) -> bool {
    q == "/" || (p.starts_with(q) && (q.ends_with('/') || p.as_bytes().get(q.len()) == Some(&b'/')))
}

/// Whether prefix rule `q` matches everything prefix rule `p` does.
fn covers_prefix(q: &str, p: &str) -> bool {
    q == p || covers_all(q, p)
}

/// The literal text every match of `re` starts with, when it is anchored.
fn literal_prefix(re: &str) -> Option<String> {
    let rest = re.strip_prefix('^')?;
    let mut out = String::new();
    for c in rest.chars() {
        if "\\.[]()*+?{}|^$".contains(c) {
            break;
        }
        out.push(c);
    }
    Some(out)
}

/// A regex that matches every path.
fn matches_all(re: &str) -> bool {
    matches!(
        re,
        "^(/.*)$"
            | "^/(.*)$"
            | "^/.*"
            | "^(.*)$"
            | "(.*)"
            | ".*"
            | "^.*$"
            | "^(/.*)"
            | "^/(.*)"
            | "/"
    )
}

/// Why ringlb cannot take `re`, if it cannot (Rust's regex has no backreferences or
/// look-around).
pub(super) fn regex_problem(re: &str) -> Option<&'static str> {
    if ["(?=", "(?!", "(?<=", "(?<!"]
        .iter()
        .any(|l| re.contains(l))
    {
        return Some("look-around is not in ringlb's regex syntax");
    }
    let b = re.as_bytes();
    if b.windows(2)
        .any(|w| w[0] == b'\\' && w[1].is_ascii_digit() && w[1] != b'0')
    {
        return Some("backreferences are not in ringlb's regex syntax");
    }
    None
}

/// Joins a member's path and the balancer URL's path as httpd does (the member's first).
fn join(member: &str, path: &str) -> String {
    let joined = if member.is_empty() {
        path.to_owned()
    } else if path.is_empty() {
        member.to_owned()
    } else {
        format!("{}{}", member.trim_end_matches('/'), path)
    };
    if joined.is_empty() {
        "/".to_owned()
    } else {
        joined
    }
}

/// The rules httpd reaches, each reported (imported, approximated or ignored).
pub(super) fn reach(st: &State, report: &mut Report) -> Vec<Reached> {
    // Rules in the order httpd tries them: the main server's, then each vhost's.
    let mut order: Vec<usize> = (0..st.rules.len())
        .filter(|&i| st.rules.get(i).is_some_and(|r| r.vhost.is_none()))
        .collect();
    let main_count = order.len();
    order.extend(
        (0..st.rules.len()).filter(|&i| st.rules.get(i).is_some_and(|r| r.vhost.is_some())),
    );
    let mut reached: Vec<Reached> = Vec::new();
    let mut lines: Vec<(usize, Result<Vec<String>, String>)> = Vec::new();
    for (pos, &i) in order.iter().enumerate() {
        let Some(r) = st.rules.get(i) else { continue };
        let mut notes = r.notes.clone();
        // Rules before it in its server's order.
        let earlier = order[..pos].iter().filter(|&&j| {
            st.rules
                .get(j)
                .is_some_and(|e| e.vhost.is_none() || e.vhost == r.vhost)
        });
        let mut shadow = None;
        let mut overlaps = Vec::new();
        for &j in earlier {
            let Some(e) = st.rules.get(j) else { continue };
            if !reached.iter().any(|x| x.rule == j) {
                continue;
            }
            let covered = match (&e.pattern, &r.pattern) {
                (Match::Prefix(q), Match::Prefix(p)) => covers_prefix(q, p),
                (Match::Prefix(q), Match::Regex(re)) => {
                    let lit = literal_prefix(re);
                    let all = lit.as_deref().is_some_and(|l| covers_all(q, l)) || q == "/";
                    if !all
                        && lit
                            .as_deref()
                            .map_or(true, |l| l.starts_with(q.as_str()) || q.starts_with(l))
                    {
                        overlaps.push(e.shown.clone());
                    }
                    all
                }
                (Match::Regex(re), _) => matches_all(re),
            };
            if covered {
                shadow = Some(e);
                break;
            }
        }
        if let Some(e) = shadow {
            lines.push((
                i,
                Err(format!(
                    "never reached, shadowed by {} at {}",
                    e.shown, e.loc
                )),
            ));
            continue;
        }
        match &r.pattern {
            Match::Prefix(p) if p.contains(char::is_whitespace) || !p.starts_with('/') => {
                lines.push((
                    i,
                    Err(format!(
                        "the path {p:?} can match no request (a request path starts with / \
                         and has no white space; an unbalanced quote?)"
                    )),
                ));
                continue;
            }
            Match::Regex(re) => {
                if let Some(why) = regex_problem(re) {
                    lines.push((i, Err(why.to_owned())));
                    continue;
                }
                if !overlaps.is_empty() {
                    notes.push(format!(
                        "ringlb tries regexes before prefixes, so requests {} also matches go \
                         by this rule",
                        overlaps.join(", ")
                    ));
                }
            }
            Match::Prefix(_) => {}
        }
        let (bal, target) = match &r.target {
            Target::Exclude => (None, String::new()),
            Target::Balancer { name, path } => {
                let Some(b) = resolve(st, name, r.vhost) else {
                    continue;
                };
                let Some(bal) = st.bals.get(b) else { continue };
                if bal.members.is_empty() {
                    lines.push((i, Err(format!("balancer://{name} has no BalancerMember"))));
                    continue;
                }
                (Some(b), fold(bal, path, &mut notes))
            }
            Target::Direct { bal, path } => (
                Some(*bal),
                if path.is_empty() {
                    "/".into()
                } else {
                    path.clone()
                },
            ),
        };
        let _ = main_count;
        reached.push(Reached {
            rule: i,
            vhost: r.vhost,
            bal,
            target,
            exclude_from: Vec::new(),
        });
        lines.push((i, Ok(notes)));
    }
    // Exclusions keep their path from the balancers of the rules after them.
    for k in 0..reached.len() {
        let Some(x) = reached.get(k) else { continue };
        if x.bal.is_some() {
            continue;
        }
        let vhost = x.vhost;
        let from: Vec<usize> = reached[k + 1..]
            .iter()
            .filter(|y| vhost.is_none() || y.vhost == vhost)
            .filter_map(|y| y.bal)
            .fold(Vec::new(), |mut acc, b| {
                if !acc.contains(&b) {
                    acc.push(b);
                }
                acc
            });
        if let Some(x) = reached.get_mut(k) {
            x.exclude_from = from;
        }
    }
    let mut empty_exclusions = Vec::new();
    for x in &reached {
        if x.bal.is_none() && x.exclude_from.is_empty() {
            empty_exclusions.push(x.rule);
        }
    }
    reached.retain(|x| !empty_exclusions.contains(&x.rule));
    lines.sort_by_key(|(i, _)| *i);
    for (i, line) in lines {
        let Some(r) = st.rules.get(i) else { continue };
        let line = if empty_exclusions.contains(&i) {
            Err("excludes nothing: no later ProxyPass of this server is reached".to_owned())
        } else {
            line
        };
        match line {
            Ok(notes) if notes.is_empty() => report.imported(&r.loc, r.shown.clone()),
            Ok(notes) => report.approximated(&r.loc, r.shown.clone(), notes.join("; ")),
            Err(why) => report.ignored(&r.loc, r.shown.clone(), why),
        }
    }
    reached
}

/// The mount's target path: the members' path (they must agree) before the URL's.
fn fold(bal: &super::state::Bal, path: &str, notes: &mut Vec<String>) -> String {
    let first = bal.members.first().map_or("", |m| m.path.as_str());
    if bal.members.iter().any(|m| m.path != first) {
        notes.push(format!(
            "the members' URL paths differ; all get the first's ({first:?}) before the \
             remainder"
        ));
    }
    let target = join(first, path);
    if !first.is_empty() {
        notes.push(format!(
            "the members' path {first} is put before the remainder: target {target}"
        ));
    }
    target
}

/// The `[[mount]]`/`[[vhost.mount]]` keys of a reached rule.
pub(super) fn mount_keys(st: &State, r: &Reached, names: &[Option<String>]) -> Option<Keys> {
    let rule = st.rules.get(r.rule)?;
    let mut keys = Keys::new();
    match &rule.pattern {
        Match::Prefix(p) => model::set(&mut keys, "path", p.as_str()),
        Match::Regex(re) => model::set(&mut keys, "regex", re.as_str()),
    }
    match r.bal {
        Some(b) => {
            let name = names.get(b).cloned().flatten()?;
            model::set(&mut keys, "balancer", name);
            match &rule.pattern {
                Match::Prefix(p) if *p != r.target => {
                    model::set(&mut keys, "target_path", r.target.as_str())
                }
                Match::Prefix(_) => {}
                Match::Regex(_) => model::set(&mut keys, "target", r.target.as_str()),
            }
        }
        None => {
            model::set(&mut keys, "exclude", true);
            let from: Vec<String> = r
                .exclude_from
                .iter()
                .filter_map(|b| names.get(*b).cloned().flatten())
                .collect();
            model::set(&mut keys, "balancers", from);
        }
    }
    Some(keys)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coverage_at_segment_boundaries() {
        assert!(covers_prefix("/", "/x"));
        assert!(covers_prefix("/app", "/app"));
        assert!(covers_prefix("/app", "/app/x"));
        assert!(!covers_prefix("/app", "/apple"));
        assert!(covers_prefix("/app/", "/app/x"));
        assert!(!covers_prefix("/app/", "/app"));
        assert_eq!(
            literal_prefix("^/baltest_echo_post").as_deref(),
            Some("/baltest_echo_post")
        );
        assert_eq!(literal_prefix("^(/.*)$").as_deref(), Some(""));
        assert_eq!(literal_prefix("/x"), None);
        assert!(matches_all("^(/.*)$"));
        assert_eq!(join("/modules", "/alias"), "/modules/alias");
        assert_eq!(join("/cluster/", "/"), "/cluster/");
        assert_eq!(join("", ""), "/");
        assert!(regex_problem(r"^/(a)\1").is_some());
        assert!(regex_problem(r"^/a\.do$").is_none());
    }
}
