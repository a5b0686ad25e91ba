//! The mod_proxy directives: `<Proxy balancer://...>`, `BalancerMember`, `ProxySet`,
//! `ProxyPass`, `ProxyPassMatch`, `ProxyPassReverse` and the cookie maps, gathered into the
//! [`State`].

use super::params::{self, Notes, Worker};
use super::reader::Directive;
use super::state::{Bal, Match, Member, Reverse, Rule, State, Target};
use crate::import::model::{self, Keys};
use crate::import::{ImportError, Loc, Report};

/// Handles `d` when it is a mod_proxy directive; false when it is not one.
pub(super) fn directive(
    st: &mut State,
    d: &Directive,
    report: &mut Report,
) -> Result<bool, ImportError> {
    match d.key.as_str() {
        "<proxy" => proxy_section(st, d, report),
        "</proxy" => section_params(st, d, report)?,
        "balancermember" => member(st, d, report)?,
        "proxyset" => proxy_set(st, d, report)?,
        "proxypass" | "proxypassmatch" => pass(st, d, report)?,
        "proxypassreverse" => reverse(st, d, report)?,
        "proxypassreversecookiepath" | "proxypassreversecookiedomain" => {
            let shown = shown(d);
            let domain = d.key.ends_with("domain");
            match d.args.as_slice() {
                [from, to, rest @ ..] => {
                    st.cookie_maps.push((
                        d.loc.clone(),
                        d.scope.vhost,
                        domain,
                        from.clone(),
                        to.clone(),
                    ));
                    if rest.is_empty() {
                        report.imported(&d.loc, shown);
                    } else {
                        report.approximated(
                            &d.loc,
                            shown,
                            "`interpolate` ignored: the values are taken as written",
                        );
                    }
                }
                _ => {
                    return Err(ImportError::new(
                        d.loc.clone(),
                        format!("{}: needs FROM and TO", d.name),
                    ))
                }
            }
        }
        "proxyhcexpr" => match d.args.as_slice() {
            [name, expr, ..] => {
                st.hcexprs.insert(name.to_ascii_lowercase(), expr.clone());
                report.imported(&d.loc, format!("ProxyHCExpr {name} (for hcexpr={name})"));
            }
            _ => report.ignored(&d.loc, shown(d), "needs a name and an expression"),
        },
        "proxyiobuffersize" => match d.args.first().and_then(|a| a.parse::<i64>().ok()) {
            Some(n) if (8192..=65536).contains(&n) => {
                st.packet_size = Some((d.loc.clone(), n));
                report.approximated(&d.loc, shown(d), "as packet_size of every ajp:// member");
            }
            _ => report.ignored(
                &d.loc,
                shown(d),
                "ringlb's AJP packet size is 8192..65536; HTTP buffers are its own",
            ),
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// How the report names a directive: its name and arguments.
pub(super) fn shown(d: &Directive) -> String {
    if d.args.is_empty() {
        return d.name.clone();
    }
    let args: Vec<String> = d
        .args
        .iter()
        .map(|a| {
            if a.is_empty() || a.contains(|c: char| c.is_whitespace() || c == '"') {
                format!("{a:?}")
            } else {
                a.clone()
            }
        })
        .collect();
    format!("{} {}", d.name, args.join(" "))
}

/// `balancer://NAME[/PATH]` -> (NAME, PATH).
pub(super) fn balancer_url(url: &str) -> Option<(String, String)> {
    let rest = strip_scheme(url, "balancer")?;
    let (name, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    Some((name.to_owned(), path.to_owned()))
}

fn strip_scheme<'a>(url: &'a str, scheme: &str) -> Option<&'a str> {
    let (s, rest) = url.split_once("://")?;
    s.eq_ignore_ascii_case(scheme).then_some(rest)
}

/// A member or backend URL: (`scheme://host[:port]`, path, is AJP). Refused: a template
/// placeholder in it; `None`: a scheme ringlb does not speak.
pub(super) fn member_url(
    url: &str,
    loc: &Loc,
) -> Result<Option<(String, String, bool)>, ImportError> {
    if let Some(p) = placeholder(url) {
        return Err(ImportError::new(
            loc.clone(),
            format!(
                "{url}: `{p}` is a template placeholder (httpd-tests' @NAME@), not a host or \
                 port; substitute the template first"
            ),
        ));
    }
    let Some((scheme, rest)) = url.split_once("://") else {
        return Ok(None);
    };
    let scheme = scheme.to_ascii_lowercase();
    if !matches!(scheme.as_str(), "http" | "https" | "ajp") {
        return Ok(None);
    }
    let (authority, path) = match rest.find(['/', '?']) {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, ""),
    };
    let path = path.split('?').next().unwrap_or("");
    if authority.is_empty() {
        return Ok(None);
    }
    Ok(Some((
        format!("{scheme}://{authority}"),
        path.to_owned(),
        scheme == "ajp",
    )))
}

/// The first `@NAME@` in `text`.
pub(super) fn placeholder(text: &str) -> Option<&str> {
    let mut rest = text;
    let mut offset = 0;
    while let Some(at) = rest.find('@') {
        let after = &rest[at + 1..];
        let len = after
            .bytes()
            .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_')
            .count();
        if len > 0 && after.as_bytes().get(len) == Some(&b'@') {
            let start = offset + at;
            return text.get(start..start + len + 2);
        }
        offset += at + 1;
        rest = after;
    }
    None
}

fn proxy_section(st: &mut State, d: &Directive, report: &mut Report) {
    let arg = d.args.first().map_or("", String::as_str);
    match (d.key.as_str(), balancer_url(arg)) {
        ("<proxy", Some((name, _))) => {
            let i = st.find_or_add(&name, d.scope.vhost, &d.loc);
            if let Some(b) = st.bals.get_mut(i) {
                b.defined = true;
            }
            // With parameters, the line is reported when they are set, at the section's end.
            if d.args.len() == 1 {
                report.imported(&d.loc, format!("<Proxy {arg}>"));
            }
        }
        _ => report.ignored(
            &d.loc,
            format!("<Proxy {arg}>"),
            "access rules for proxied URLs are not imported (ringlb proxies only to its members)",
        ),
    }
}

/// The parameters of `<Proxy balancer://NAME key=value ...>`, which the reader gives out as
/// `</Proxy` when the section closes: httpd sets them after the lines inside (a `ProxySet`
/// there gives way to them).
fn section_params(st: &mut State, d: &Directive, report: &mut Report) -> Result<(), ImportError> {
    let Some((url, params)) = d.args.split_first() else {
        return Ok(());
    };
    let shown = format!("<Proxy {}>", d.args.join(" "));
    let not_balancer = "parameters of a worker that is not a balancer's: not imported";
    set_balancer_params(st, d, report, (url, params), shown, not_balancer)
}

/// Sets `params` on the balancer `url` names and reports the directive (`shown`) as
/// imported or approximated; ignored, saying `not_balancer`, when `url` is no balancer's.
fn set_balancer_params(
    st: &mut State,
    d: &Directive,
    report: &mut Report,
    (url, params): (&str, &[String]),
    shown: String,
    not_balancer: &str,
) -> Result<(), ImportError> {
    let Some((name, _)) = balancer_url(url) else {
        report.ignored(&d.loc, shown, not_balancer);
        return Ok(());
    };
    let i = st.find_or_add(&name, d.scope.vhost, &d.loc);
    let mut notes = Notes::default();
    if let Some(b) = st.bals.get_mut(i) {
        balancer_params(b, params, &mut notes, &d.loc)?;
    }
    finish(report, &d.loc, shown, notes);
    Ok(())
}

fn member(st: &mut State, d: &Directive, report: &mut Report) -> Result<(), ImportError> {
    let in_section =
        d.scope
            .proxy
            .as_ref()
            .and_then(|(url, is_match)| if *is_match { None } else { balancer_url(url) });
    let (name, url, params) = match (in_section, d.args.as_slice()) {
        (Some((name, _)), [url, params @ ..]) => (name, url.clone(), params),
        (None, [bal, url, params @ ..]) => match balancer_url(bal) {
            Some((name, _)) => (name, url.clone(), params),
            None => {
                return Err(ImportError::new(
                    d.loc.clone(),
                    format!(
                        "{}: outside <Proxy balancer://...> it needs the balancer URL first",
                        d.name
                    ),
                ))
            }
        },
        _ => {
            return Err(ImportError::new(
                d.loc.clone(),
                format!("{}: needs a member URL", d.name),
            ))
        }
    };
    let shown = shown(d);
    let Some((base, path, ajp)) = member_url(&url, &d.loc)? else {
        report.ignored(
            &d.loc,
            shown,
            "ringlb speaks http://, https:// and ajp:// to members",
        );
        return Ok(());
    };
    let mut keys = Keys::new();
    model::set(&mut keys, "url", base.as_str());
    let mut notes = Notes::default();
    for p in params {
        let Some((k, v)) = params::split(p) else {
            notes.add(format!("{p}: ignored, not a key=value parameter"));
            continue;
        };
        let w = Worker {
            keys: &mut keys,
            ajp,
        };
        params::worker(w, &k, &v, &st.hcexprs, &mut st.folded, &mut notes, &d.loc)?;
    }
    let i = st.find_or_add(&name, d.scope.vhost, &d.loc);
    if let Some(b) = st.bals.get_mut(i) {
        b.defined = true;
        b.members.push(Member {
            loc: d.loc.clone(),
            url: base,
            path,
            keys,
        });
    }
    finish(report, &d.loc, shown, notes);
    Ok(())
}

/// One directive's report line: imported, or approximated with its notes.
pub(super) fn finish(report: &mut Report, loc: &Loc, shown: String, notes: Notes) {
    if notes.0.is_empty() {
        report.imported(loc, shown);
    } else {
        report.approximated(loc, shown, notes.0.join("; "));
    }
}

fn proxy_set(st: &mut State, d: &Directive, report: &mut Report) -> Result<(), ImportError> {
    let in_section = d.scope.proxy.as_ref().map(|(url, _)| url.clone());
    let (url, params) = match (in_section, d.args.as_slice()) {
        (Some(url), params) if !d.args.first().is_some_and(|a| a.contains("://")) => (url, params),
        (_, [url, params @ ..]) => (url.clone(), params),
        _ => return Err(ImportError::new(d.loc.clone(), "ProxySet needs parameters")),
    };
    let not_balancer = "ProxySet on a worker that is not a balancer's: not imported";
    set_balancer_params(st, d, report, (&url, params), shown(d), not_balancer)
}

fn balancer_params(
    b: &mut Bal,
    params: &[String],
    notes: &mut Notes,
    loc: &Loc,
) -> Result<(), ImportError> {
    for p in params {
        match params::split(p) {
            Some((k, v)) => params::balancer(&mut b.keys, &k, &v, notes, loc)?,
            None => notes.add(format!("{p}: ignored, not a key=value parameter")),
        }
    }
    Ok(())
}

fn pass(st: &mut State, d: &Directive, report: &mut Report) -> Result<(), ImportError> {
    let regex_directive = d.key == "proxypassmatch";
    let shown = shown(d);
    let (pattern, url, rest) = match (&d.scope.location, d.args.as_slice()) {
        (Some((path, is_match)), [url, rest @ ..]) if !url.starts_with('/') || url == "!" => {
            let pattern = if *is_match || regex_directive {
                Match::Regex(path.clone())
            } else {
                Match::Prefix(path.clone())
            };
            (pattern, url.clone(), rest)
        }
        (_, [path, url, rest @ ..]) => {
            let pattern = if regex_directive {
                Match::Regex(path.clone())
            } else {
                Match::Prefix(path.clone())
            };
            (pattern, url.clone(), rest)
        }
        _ => {
            return Err(ImportError::new(
                d.loc.clone(),
                format!("{}: needs a path and a URL", d.name),
            ))
        }
    };
    if d.scope.other.is_some() || d.scope.proxy.is_some() {
        report.ignored(&d.loc, shown, "not allowed in this section by httpd");
        return Ok(());
    }
    let mut notes = Notes::default();
    let mut kv = Vec::new();
    for p in rest {
        match params::split(p) {
            Some(pair) => kv.push(pair),
            None => match p.to_ascii_lowercase().as_str() {
                "nocanon" | "noquery" | "interpolate" => notes.add(format!(
                    "{p}: ignored, ringlb forwards the path as sent (after the dot-segment rule)"
                )),
                _ => notes.add(format!("{p}: ignored, not a key=value parameter")),
            },
        }
    }
    let target = if url == "!" {
        Target::Exclude
    } else if let Some((name, path)) = balancer_url(&url) {
        let i = st.find_or_add(&name, d.scope.vhost, &d.loc);
        if let Some(b) = st.bals.get_mut(i) {
            for (k, v) in &kv {
                params::balancer(&mut b.keys, k, v, &mut notes, &d.loc)?;
            }
        }
        Target::Balancer { name, path }
    } else {
        match member_url(&url, &d.loc)? {
            Some((base, path, ajp)) => {
                let bal = direct(st, &base, ajp, &kv, &mut notes, d)?;
                Target::Direct { bal, path }
            }
            None => {
                report.ignored(
                    &d.loc,
                    shown,
                    "ringlb speaks http://, https:// and ajp:// to members",
                );
                return Ok(());
            }
        }
    };
    if url == "!" && !kv.is_empty() {
        notes.add("parameters after `!` ignored");
    }
    st.rules.push(Rule {
        loc: d.loc.clone(),
        vhost: d.scope.vhost,
        shown: shown.clone(),
        pattern,
        target,
        notes: notes.0,
    });
    // The rule's line (imported, shadowed, ...) is written when all is read.
    Ok(())
}

/// The balancer of one member standing for plain backend `base` in this server, created on
/// first use, with the worker parameters of the first `ProxyPass` naming it (httpd shares one
/// worker per URL and keeps its first parameters).
fn direct(
    st: &mut State,
    base: &str,
    ajp: bool,
    kv: &[(String, String)],
    notes: &mut Notes,
    d: &Directive,
) -> Result<usize, ImportError> {
    let existing = st
        .bals
        .iter()
        .position(|b| b.direct && b.members.first().is_some_and(|m| m.url == base));
    if let Some(i) = existing {
        if !kv.is_empty() {
            notes.add(format!(
                "worker parameters ignored: {base} was defined with its own by an earlier ProxyPass"
            ));
        }
        return Ok(i);
    }
    let mut keys = Keys::new();
    model::set(&mut keys, "url", base);
    for (k, v) in kv {
        let w = Worker {
            keys: &mut keys,
            ajp,
        };
        params::worker(w, k, v, &st.hcexprs, &mut st.folded, notes, &d.loc)?;
    }
    st.bals.push(Bal {
        name: backend_name(base),
        vhost: d.scope.vhost,
        loc: d.loc.clone(),
        members: vec![Member {
            loc: d.loc.clone(),
            url: base.to_owned(),
            path: String::new(),
            keys,
        }],
        direct: true,
        defined: true,
        ..Bal::default()
    });
    Ok(st.bals.len() - 1)
}

/// `http://backend.example.com:8080` -> `backend_backend_example_com_8080`.
pub(super) fn backend_name(base: &str) -> String {
    let authority = base.split_once("://").map_or(base, |(_, a)| a);
    let cleaned: String = authority
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("backend_{}", cleaned.trim_matches('_'))
}

fn reverse(st: &mut State, d: &Directive, report: &mut Report) -> Result<(), ImportError> {
    let (path, url) = match (&d.scope.location, d.args.as_slice()) {
        (Some((path, false)), [url]) => (path.clone(), url.clone()),
        (_, [path, url, ..]) => (path.clone(), url.clone()),
        _ => {
            return Err(ImportError::new(
                d.loc.clone(),
                "ProxyPassReverse needs a path and a URL",
            ))
        }
    };
    // The line is reported when it is matched with the mount it reverses.
    let _ = report;
    st.reverses.push(Reverse {
        loc: d.loc.clone(),
        vhost: d.scope.vhost,
        path,
        url,
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            balancer_url("balancer://Cluster/app"),
            Some(("Cluster".into(), "/app".into()))
        );
        assert_eq!(
            balancer_url("balancer://c"),
            Some(("c".into(), String::new()))
        );
        assert_eq!(balancer_url("http://c/"), None);
        let loc = Loc::new("f", 1);
        assert_eq!(
            member_url("ajp://127.0.0.1:9019/cluster/", &loc).unwrap(),
            Some(("ajp://127.0.0.1:9019".into(), "/cluster/".into(), true))
        );
        assert_eq!(member_url("fcgi://127.0.0.1:9000/", &loc).unwrap(), None);
        let err = member_url("http://@SERVERNAME@:@PORT@/x", &loc).unwrap_err();
        assert!(err
            .message
            .contains("`@SERVERNAME@` is a template placeholder"));
        assert_eq!(placeholder("you@example.com"), None);
        assert_eq!(placeholder("a@b@c"), Some("@b@"));
        assert_eq!(
            backend_name("http://special.example.com"),
            "backend_special_example_com"
        );
        assert_eq!(
            backend_name("https://localhost:31443"),
            "backend_localhost_31443"
        );
    }
}
