//! The attributes of an lb worker (the balancer's keys) and of a status worker.

use super::super::super::model;
use super::super::super::Report;
use super::super::workers::Worker;
use super::{bool_code, int_code, Ctx, Dir};

/// The balancer keys of `lb` worker `w`.
pub(in super::super) fn lb(w: &Worker, ctx: &mut Ctx<'_>, r: &mut Report) {
    ctx.lb = true;
    let sticky = w
        .value("sticky_session")
        .and_then(bool_code)
        .unwrap_or(true);
    for a in &w.attrs {
        let d = Dir::of(w, a);
        let v = a.value.as_str();
        match a.name.as_str() {
            "type" | "balance_workers" => d.imported(r),
            "balanced_workers" => d.approx(r, "the members (deprecated name of balance_workers)"),
            "mount" => {}
            "reference" => d.approx(r, format!("inherits the attributes of {v} it does not set")),
            "sticky_session" => match bool_code(v) {
                Some(_) => d.imported(r),
                None => d.approx(r, format!("{v:?} is not a boolean: mod_jk's default, true")),
            },
            "session_cookie" | "session_path" if !sticky => d.ignored(r, "sticky_session is off"),
            "session_cookie" | "session_path" => d.imported(r),
            "sticky_session_force" => match (bool_code(v), sticky) {
                (Some(true), true) => {
                    model::set(&mut ctx.keys, "nofailover", true);
                    d.approx(
                        r,
                        "nofailover = true: 503 where the session's member is unusable",
                    );
                }
                (Some(true), false) => d.ignored(r, "sticky_session is off"),
                _ => d.imported(r),
            },
            "method" => method(v, ctx, &d, r),
            "recover_time" => match int_code(v) {
                Some(s) if s >= 0 => {
                    model::set(&mut ctx.keys, "retry", s);
                    d.approx(
                        r,
                        format!(
                            "retry = {s}: seconds a member in error waits (mod_jk checks it at \
                             its maintain interval)"
                        ),
                    );
                }
                _ => d.ignored(r, format!("{v:?} is not seconds")),
            },
            "lb_retries" => match int_code(v) {
                Some(n) if n >= 1 => {
                    model::set(&mut ctx.keys, "maxattempts", n - 1);
                    d.approx(
                        r,
                        format!("maxattempts = {}: members tried after the first", n - 1),
                    );
                }
                _ => d.ignored(r, format!("{v:?} is not a count")),
            },
            "retries" => d.ignored(
                r,
                "ringlb makes one pass over the members (maxattempts); mod_jk repeats the pass \
                 this many times, pausing retry_interval",
            ),
            "retry_interval" => d.ignored(r, "ringlb does not pause between attempts"),
            "max_reply_timeouts" => d.ignored(
                r,
                "ringlb counts no reply timeouts (failontimeout = true would put a member in \
                 error at the first)",
            ),
            "error_escalation_time" => {
                d.ignored(r, "ringlb puts a member in error at once for every session")
            }
            "lock" => d.ignored(r, "ringlb keeps the balancing state per core, with no lock"),
            "set_session_cookie" | "session_cookie_path" => d.ignored(
                r,
                "not carried: ringlb's [balancer.insert_cookie] writes a cookie of its own, not \
                 the application's session cookie",
            ),
            _ => d.ignored(r, "not an lb attribute: mod_jk ignores it on an lb worker"),
        }
    }
    if sticky {
        let cookie = w.value("session_cookie").unwrap_or("JSESSIONID");
        let path = w.value("session_path").unwrap_or("jsessionid");
        let value = if cookie == path {
            cookie.to_owned()
        } else {
            format!("{cookie}|{path}")
        };
        model::set(&mut ctx.keys, "stickysession", value);
    }
}

fn method(v: &str, ctx: &mut Ctx<'_>, d: &Dir, r: &mut Report) {
    let first = v.chars().next().map(|c| c.to_ascii_uppercase());
    let (name, how) = match first {
        Some('R' | '0') => ("byrequests", None),
        Some('T' | '1') => ("bytraffic", None),
        Some('B' | '2') => ("bybusyness", None),
        Some('S' | '3') => (
            "byrequests",
            Some(
                "byrequests: ringlb balances only requests without a session, so counting \
                 them is counting new sessions (mod_jk Sessions)",
            ),
        ),
        Some('N' | '4') => (
            "byrequests",
            Some("byrequests: the nearest to mod_jk Next (sessions, favouring the next member)"),
        ),
        _ => (
            "byrequests",
            Some("not a mod_jk method: mod_jk's default, Request (byrequests)"),
        ),
    };
    model::set(&mut ctx.keys, "lbmethod", name);
    match how {
        None => d.imported(r),
        Some(how) => d.approx(r, how),
    }
}

/// The attributes of status worker `w`.
pub(in super::super) fn status(w: &Worker, r: &mut Report) {
    for a in &w.attrs {
        let d = Dir::of(w, a);
        match a.name.as_str() {
            "type" => d.approx(
                r,
                format!(
                    "the [admin] listener ({}): ringlb's manager",
                    super::super::emit::ADMIN_LISTEN
                ),
            ),
            "mount" => {}
            "read_only" => match bool_code(&a.value) {
                Some(true) => d.approx(r, "allow = [] unless another status worker is read/write"),
                _ => d.approx(r, "changes allowed from [admin] allow (localhost)"),
            },
            "user" | "user_case_insensitive" => d.ignored(
                r,
                "ringlb authenticates the admin listener with [admin] htpasswd",
            ),
            _ => d.ignored(r, "the look of mod_jk's status page: not carried"),
        }
    }
}
