//! Each worker attribute into ringlb keys (or a reason why not), with its report line. The
//! defaults are mod_jk's (`jk_util.c`, `jk_lb_worker.c`, `jk_ajp_common.c`): `host`
//! localhost, `port` 8009, `lbfactor` 1, `distance` 0, `activation` A, `sticky_session` true
//! with cookie `JSESSIONID` and path parameter `jsessionid`, `method` R, `ping_timeout` 10 s.

use toml::Value;

use super::super::model::{self, Keys};
use super::super::{Imported, Loc, Report};
use super::workers::{split_list, Attr, Parsed, Worker};

/// What one balancer collects while its workers' attributes are read: its keys, the global
/// `[timeouts]` they set, the union of its members' `fail_on_status`.
pub(super) struct Ctx<'a> {
    parsed: &'a Parsed,
    out: &'a mut Imported,
    keys: Keys,
    failonstatus: Vec<i64>,
    lb: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(parsed: &'a Parsed, out: &'a mut Imported) -> Ctx<'a> {
        Ctx {
            parsed,
            out,
            keys: Keys::new(),
            failonstatus: Vec::new(),
            lb: false,
        }
    }

    /// The balancer's keys, `failonstatus` and (for an `lb` worker) `lbstatus_decay` added.
    pub(super) fn finish(mut self, _report: &mut Report) -> Keys {
        if !self.failonstatus.is_empty() {
            self.failonstatus.sort_unstable();
            self.failonstatus.dedup();
            let list: Vec<Value> = self.failonstatus.iter().map(|s| Value::from(*s)).collect();
            model::set(&mut self.keys, "failonstatus", Value::Array(list));
        }
        if self.lb {
            if let Some((secs, _)) = &self.parsed.maintain {
                if *secs != 60 {
                    model::set(&mut self.keys, "lbstatus_decay", format!("{secs}s"));
                }
            }
        }
        self.keys
    }

    /// Sets `[table].key`, shared by every member: the first setter wins and a different
    /// later value is reported as not carried.
    fn global(
        &mut self,
        table: &str,
        key: &str,
        value: String,
        d: &Dir,
        how: &str,
        r: &mut Report,
    ) {
        let keys = self.out.table_mut(table);
        match model::get(keys, key).and_then(Value::as_str) {
            Some(old) if old != value => {
                let why = format!(
                    "{table}.{key} is one setting for every member in ringlb and is already \
                     {old} from an earlier worker"
                );
                d.ignored(r, why);
            }
            Some(_) => d.approx(r, format!("{table}.{key} = {value} (as already set)")),
            None => {
                model::set(keys, key, value.as_str());
                d.approx(
                    r,
                    format!("{table}.{key} = {value} for every member: {how}"),
                );
            }
        }
    }
}

/// The report name of one attribute of `w`: its key as written, and for an inherited one
/// the worker that inherits it.
struct Dir {
    name: String,
    locs: Vec<Loc>,
}

impl Dir {
    fn of(w: &Worker, a: &Attr) -> Dir {
        // The value as read (after `$(...)`), except a secret's.
        let value = if a.name == "secret" {
            "..."
        } else {
            a.value.as_str()
        };
        let name = match &a.from {
            None => format!("{}={value}", a.key),
            Some(_) => format!("{}={value} (inherited by {})", a.key, w.name),
        };
        Dir {
            name,
            locs: a.locs.clone(),
        }
    }

    fn imported(&self, r: &mut Report) {
        for loc in &self.locs {
            r.imported(loc, &self.name);
        }
    }

    fn approx(&self, r: &mut Report, how: impl Into<String>) {
        let how = how.into();
        for loc in &self.locs {
            r.approximated(loc, &self.name, how.clone());
        }
    }

    fn ignored(&self, r: &mut Report, why: impl Into<String>) {
        let why = why.into();
        for loc in &self.locs {
            r.ignored(loc, &self.name, why.clone());
        }
    }
}

/// The report name of attribute `attr` of `w` (`worker.node1.type`).
pub(super) fn key(w: &Worker, attr: &str) -> String {
    match w.attr(attr) {
        Some(a) => Dir::of(w, a).name,
        None => format!("worker.{}.{attr}", w.name),
    }
}

/// mod_jk's boolean (`jk_get_bool_code`): `off`, `F...`, `N...`, `0` are false; `on`,
/// `T...`, `Y...`, `1` true; anything else is `None` (the default applies).
pub(super) fn bool_code(v: &str) -> Option<bool> {
    let first = v.chars().next().map(|c| c.to_ascii_lowercase());
    if v.eq_ignore_ascii_case("off") || matches!(first, Some('f' | 'n')) || v == "0" {
        Some(false)
    } else if v.eq_ignore_ascii_case("on") || matches!(first, Some('t' | 'y')) || v == "1" {
        Some(true)
    } else {
        None
    }
}

/// mod_jk's integer (`jk_map_get_int`): leading digits (with a sign), `k`/`m` multiplying by
/// 1024 / 1024²; `None` without digits.
pub(super) fn int_code(v: &str) -> Option<i64> {
    let v = v.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits.get(..end)?.parse().ok()?;
    let mult = match digits[end..].chars().next() {
        Some('k' | 'K') => 1024,
        Some('m' | 'M') => 1024 * 1024,
        _ => 1,
    };
    let n = n.checked_mul(mult)?;
    Some(if neg { -n } else { n })
}

/// Milliseconds as a ringlb duration (`"10s"`, `"1500ms"`).
pub(super) fn millis(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Attributes of an `lb` worker that mean nothing on a member (mod_jk ignores them there).
const LB_ONLY: &[&str] = &[
    "balance_workers",
    "balanced_workers",
    "sticky_session",
    "sticky_session_force",
    "session_cookie",
    "session_path",
    "set_session_cookie",
    "session_cookie_path",
    "method",
    "lock",
    "recover_time",
    "error_escalation_time",
    "max_reply_timeouts",
    "lb_retries",
    "maintain",
];

/// Attributes of a status worker.
const STATUS_ONLY: &[&str] = &[
    "read_only",
    "css",
    "ns",
    "xmlns",
    "doctype",
    "prefix",
    "user",
    "user_case_insensitive",
    "good",
    "bad",
];

/// Attributes of the `jni` worker.
const JNI_ONLY: &[&str] = &[
    "sysprops",
    "stderr",
    "stdout",
    "mx",
    "ms",
    "class_path",
    "bridge",
    "jvm_lib",
    "ld_path",
    "cmd_line",
    "native_lib",
];

/// Why a member attribute is not carried, for those ringlb has no counterpart of.
fn member_ignored(attr: &str) -> Option<&'static str> {
    Some(match attr {
        "socket_timeout" => {
            "ringlb has no timeout on every socket operation; timeouts.connect and \
             timeouts.upstream_response bound the waits"
        }
        "socket_keepalive" => "ringlb sets no TCP keepalive on member connections",
        "socket_buffer" => "ringlb leaves the socket buffers to the kernel",
        "connection_pool_minsize" => {
            "ringlb keeps no minimum pool: every idle connection closes after \
             timeouts.upstream_idle"
        }
        "connection_ping_interval" => {
            "ringlb probes idle connections only through a health check (method = \"CPING\")"
        }
        "recovery_options" => {
            "ringlb's retry rule is fixed: another member after nothing was sent, or for an \
             idempotent request before any response byte"
        }
        "retries" => {
            "ringlb does not resend to the same member; a failed request moves to another \
             member (maxattempts)"
        }
        "retry_interval" => "ringlb does not pause before trying another member",
        "recycle_timeout" => "deprecated and unused by mod_jk 1.2",
        "busy_limit" => "ringlb limits connections per member with max, not busy requests",
        "prefer_ipv6" => "ringlb takes getaddrinfo's first answer for a member's host name",
        "source" => "ringlb does not bind member connections to a source address",
        "secretkey" => "an ajp14 login key: ringlb speaks AJP13",
        "connect_timeout" => {
            "the CPING after a new connection (ping_mode C) has no ringlb counterpart; \
             timeouts.connect bounds the connect"
        }
        _ => return None,
    })
}

/// The member keys of ajp13 worker `w`: `lb` is the `lb` worker it is a member of, with the
/// names of all its members (`None`: the worker is mounted directly, a balancer of one).
pub(super) fn member(
    w: &Worker,
    lb: Option<(&Worker, &[String])>,
    ctx: &mut Ctx<'_>,
    r: &mut Report,
) -> Keys {
    let mut keys = Keys::new();
    let host = w.value("host").unwrap_or("localhost");
    let (host, embedded) = match host.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && w.value("port").is_none() => (h, Some(p)),
        _ => (host, None),
    };
    let port = match w.value("port").or(embedded) {
        Some(p) => match p.parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                if let Some(a) = w.attr("port") {
                    Dir::of(w, a).ignored(r, format!("{p:?} is not a port; mod_jk's 8009 used"));
                }
                8009
            }
        },
        None => 8009,
    };
    model::set(&mut keys, "url", format!("ajp://{host}:{port}"));
    if lb.is_some() {
        let route = w
            .value("route")
            .or_else(|| w.value("jvm_route"))
            .unwrap_or(&w.name);
        model::set(&mut keys, "route", route);
    }
    let modes = w.value("ping_mode").unwrap_or("");
    let prepost = modes.contains(['P', 'p', 'A', 'a']);
    for a in &w.attrs {
        let d = Dir::of(w, a);
        let v = a.value.as_str();
        match a.name.as_str() {
            "type" | "host" | "port" => d.imported(r),
            "mount" => {}
            "reference" => d.approx(r, format!("inherits the attributes of {v} it does not set")),
            "lbfactor" | "route" | "jvm_route" | "distance" | "domain" | "redirect"
            | "activation" | "disabled" | "stopped"
                if lb.is_none() =>
            {
                d.ignored(r, "only a member of an lb worker uses it")
            }
            "lbfactor" => match int_code(v) {
                Some(f @ 1..=100) => {
                    model::set(&mut keys, "loadfactor", f);
                    d.imported(r);
                }
                Some(f) => {
                    let f2 = f.clamp(1, 100);
                    model::set(&mut keys, "loadfactor", f2);
                    d.approx(r, format!("loadfactor is 1..100 in ringlb: {f} -> {f2}"));
                }
                None => d.ignored(r, format!("{v:?} is not a number; mod_jk's 1 applies")),
            },
            "route" => d.imported(r),
            "jvm_route" if w.value("route").is_some() => {
                d.ignored(r, "route is set too, and wins (mod_jk reads it first)")
            }
            "jvm_route" => d.approx(r, "route (jvm_route is its deprecated name)"),
            "distance" => match int_code(v) {
                Some(n @ 0..=99) => {
                    model::set(&mut keys, "lbset", n);
                    d.approx(r, format!("lbset = {n} (lower tiers first, as distance)"));
                }
                _ => d.ignored(r, format!("{v:?} is not a distance 0..99")),
            },
            "domain" => {
                model::set(&mut keys, "domain", v);
                d.imported(r);
            }
            "redirect" => redirect(w, v, lb, ctx, &mut keys, &d, r),
            "activation" | "disabled" | "stopped" => activation(w, a, &mut keys, &d, r),
            "secret" => {
                model::set(&mut keys, "secret", v);
                d.imported(r);
            }
            "max_packet_size" => match int_code(v) {
                Some(n) => {
                    let n2 = n.clamp(8192, 65536);
                    model::set(&mut keys, "packet_size", n2);
                    if n == n2 {
                        d.imported(r);
                    } else {
                        d.approx(r, format!("packet_size is 8192..65536: {n} -> {n2}"));
                    }
                }
                None => d.ignored(r, format!("{v:?} is not a number")),
            },
            "connection_pool_size" | "cachesize" => match int_code(v) {
                Some(n @ 1..=65535) => {
                    model::set(&mut keys, "max", n);
                    d.approx(
                        r,
                        format!(
                            "max = {n}: ringlb counts the connections of all its workers \
                             together, mod_jk per httpd child process"
                        ),
                    );
                }
                _ => d.ignored(r, format!("{v:?} is not 1..65535 connections")),
            },
            "connection_acquire_timeout" => {
                match (int_code(v), w.value("connection_pool_size").is_some()) {
                    (Some(ms), true) if ms > 0 => {
                        model::set(&mut keys, "acquire", millis(ms));
                        d.imported(r);
                    }
                    _ => d.ignored(r, "ringlb waits for a connection only with max (pool size)"),
                }
            }
            "connection_pool_timeout" | "cache_timeout" => match int_code(v) {
                Some(s) if s > 0 => {
                    let how = "idle pooled connections are closed after it";
                    ctx.global("timeouts", "upstream_idle", format!("{s}s"), &d, how, r);
                }
                _ => d.ignored(
                    r,
                    "0 = never close idle connections; ringlb always closes them after \
                     timeouts.upstream_idle",
                ),
            },
            "socket_connect_timeout" => match int_code(v) {
                Some(ms) if ms > 0 => {
                    let how = "connecting to a member";
                    ctx.global("timeouts", "connect", millis(ms), &d, how, r);
                }
                _ => d.ignored(r, "0 = the system's connect timeout; ringlb keeps its own"),
            },
            "reply_timeout" => match int_code(v) {
                Some(ms) if ms > 0 => {
                    let how = "waiting for the response head and between body reads";
                    ctx.global("timeouts", "upstream_response", millis(ms), &d, how, r);
                }
                _ => d.ignored(
                    r,
                    "0 = no reply timeout; ringlb keeps timeouts.upstream_response",
                ),
            },
            "ping_mode" => ping_mode(v, &d, r),
            "ping_timeout" | "prepost_timeout" if !prepost => d.ignored(
                r,
                "no CPING before requests (ping_mode has neither P nor A)",
            ),
            "ping_timeout" if w.value("prepost_timeout").is_some() => d.ignored(
                r,
                "prepost_timeout is set and wins for the CPING before requests",
            ),
            "ping_timeout" | "prepost_timeout" => match int_code(v) {
                Some(ms) if ms > 0 => {
                    model::set(&mut keys, "ping", millis(ms));
                    d.imported(r);
                }
                _ => d.ignored(r, format!("{v:?} is not a timeout in milliseconds")),
            },
            "fail_on_status" => fail_on_status(v, ctx, &d, r),
            "recover_time" => d.ignored(
                r,
                "an lb attribute: mod_jk ignores it on a member (set it on the lb worker)",
            ),
            "balance_workers" | "balanced_workers" => d.ignored(
                r,
                format!(
                    "{} has no type=lb, so it is an ajp13 worker (mod_jk's default type) and \
                     its members are ignored",
                    w.name
                ),
            ),
            other if LB_ONLY.contains(&other) => {
                d.ignored(r, "an lb attribute: mod_jk ignores it on an ajp13 worker")
            }
            other if STATUS_ONLY.contains(&other) => {
                d.ignored(r, "a status worker attribute: mod_jk ignores it here")
            }
            other if JNI_ONLY.contains(&other) => {
                d.ignored(r, "a jni worker attribute: mod_jk ignores it here")
            }
            other => match member_ignored(other) {
                Some(why) => d.ignored(r, why),
                None => d.ignored(r, "not used by an ajp13 worker"),
            },
        }
    }
    let default_ping = prepost && w.value("ping_timeout").is_none();
    if default_ping && w.value("prepost_timeout").is_none() {
        model::set(&mut keys, "ping", "10s");
    }
    keys
}

fn ping_mode(v: &str, d: &Dir, r: &mut Report) {
    let has = |c: char| v.contains([c, c.to_ascii_lowercase()]);
    if has('A') {
        d.approx(
            r,
            "ping: CPING before every request (P); ringlb has no separate CPING after connect \
             (C) or of idle connections (I: use a health check with method = \"CPING\")",
        );
    } else if has('P') {
        let extra = if has('C') || has('I') {
            "; C and I have no ringlb counterpart"
        } else {
            ""
        };
        d.approx(r, format!("ping: CPING before every request{extra}"));
    } else if has('C') || has('I') {
        d.ignored(
            r,
            "ringlb pings only before requests (P); C (after connect) and I (idle) have no \
             counterpart (a health check with method = \"CPING\" probes members)",
        );
    } else {
        d.ignored(r, format!("{v:?} names no mode (C, P, I, A)"));
    }
}

fn fail_on_status(v: &str, ctx: &mut Ctx<'_>, d: &Dir, r: &mut Report) {
    let mut kept = Vec::new();
    let mut negative = Vec::new();
    for s in split_list(v) {
        match int_code(&s) {
            Some(n @ 100..=599) => kept.push(n),
            Some(n @ -599..=-100) => negative.push(-n),
            _ => {}
        }
    }
    ctx.failonstatus.extend(&kept);
    let mut how = format!(
        "failonstatus {kept:?} on the balancer (every member): the member is put in error, but \
         ringlb passes the response on where mod_jk sends 503"
    );
    if !negative.is_empty() {
        how.push_str(&format!(
            "; {negative:?} (negative: error without putting the member in error) not carried"
        ));
    }
    d.approx(r, how);
}

fn redirect(
    w: &Worker,
    v: &str,
    lb: Option<(&Worker, &[String])>,
    ctx: &Ctx<'_>,
    keys: &mut Keys,
    d: &Dir,
    r: &mut Report,
) {
    let Some((lbw, names)) = lb else {
        return;
    };
    if !names.iter().any(|n| n == v) || v == w.name {
        let why = format!("{v} is not another member of {}", lbw.name);
        d.ignored(r, why);
        return;
    }
    let target = super::emit::worker(ctx.parsed, v);
    let route = target
        .value("route")
        .or_else(|| target.value("jvm_route"))
        .unwrap_or(v)
        .to_owned();
    model::set(keys, "redirect", route.as_str());
    d.approx(
        r,
        format!("redirect = {route:?} (ringlb names the member's route)"),
    );
}

fn activation(w: &Worker, a: &Attr, keys: &mut Keys, d: &Dir, r: &mut Report) {
    let v = a.value.as_str();
    let code = match a.name.as_str() {
        "activation" => v.chars().next().map(|c| c.to_ascii_uppercase()),
        "disabled" if w.value("activation").is_none() => {
            bool_code(v).map(|b| if b { 'D' } else { 'A' })
        }
        "stopped" if w.value("activation").is_none() => {
            bool_code(v).map(|b| if b { 'S' } else { 'A' })
        }
        _ => {
            d.ignored(r, "activation is set too, and wins");
            return;
        }
    };
    match code {
        Some('A' | '0') | None => d.imported(r),
        Some('D' | '1') => {
            model::set(keys, "activation", "disabled");
            d.approx(
                r,
                "activation = \"disabled\": only sticky (and redirected) requests, ringlb's N \
                 (drain)",
            );
        }
        Some('S' | '2') => {
            model::set(keys, "activation", "stopped");
            d.imported(r);
        }
        Some(_) => d.imported(r),
    }
}

/// The balancer keys of `lb` worker `w`.
pub(super) fn lb(w: &Worker, ctx: &mut Ctx<'_>, r: &mut Report) {
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
pub(super) fn status(w: &Worker, r: &mut Report) {
    for a in &w.attrs {
        let d = Dir::of(w, a);
        match a.name.as_str() {
            "type" => d.approx(
                r,
                format!(
                    "the [admin] listener ({}): ringlb's manager",
                    super::emit::ADMIN_LISTEN
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

/// Reports every attribute of a worker that is not imported, with `why`.
pub(super) fn unused(w: &Worker, why: &str, r: &mut Report) {
    for a in &w.attrs {
        if a.from.is_none() {
            Dir::of(w, a).ignored(r, why);
        }
    }
}
