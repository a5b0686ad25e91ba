//! A mod_jk properties file (`workers.properties`) read as mod_jk's `jk_map.c` reads it.
//!
//! The rules, each checked against `jk_map_read_properties` / `jk_map_read_property`:
//! 1. a line is cut at its first `#` (anywhere: a `#` in a value starts a comment too), then
//!    trimmed; an empty line is skipped;
//! 2. the key is what is before the first `=`, the value what is after it, both trimmed; a line
//!    without `=`, or with an empty key or value, is skipped (mod_jk skips it silently);
//! 3. `$(name)` in a value is replaced by the value of property `name` read so far (left to
//!    right, the replacement not scanned again, at most 20), else of the environment variable
//!    `name` at import time (as mod_jk does when it starts); an unknown name stays as written;
//! 4. a key read again accumulates when it is a list property (`worker.list`,
//!    `balance_workers`, `mount`, `fail_on_status`, ...: joined with `,`), a `*_path` (`:`) or
//!    `cmd_line` (` `), or any other property mod_jk does not call unique (`*`); a unique one
//!    (`host`, `port`, `type`, ...) is replaced by the later line;
//! 5. there is no `\` continuation and no `+=`: both are read as plain text.

use super::super::{Loc, Report};

/// One property after the rules above: its value and every line that contributed to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Prop {
    pub(super) key: String,
    pub(super) value: String,
    /// The lines that set it, in order (more than one only for accumulating properties).
    pub(super) locs: Vec<Loc>,
}

/// The attributes mod_jk joins with `,` when repeated (`list_properties` in `jk_util.c`).
const LIST_ATTRS: &[&str] = &[
    "balance_workers",
    "mount",
    "user",
    "good",
    "bad",
    "fail_on_status",
    "list",
];

/// The attributes a later line replaces (`unique_properties` in `jk_util.c`).
const UNIQUE_ATTRS: &[&str] = &[
    "secret",
    "reference",
    "host",
    "source",
    "port",
    "type",
    "cachesize",
    "connection_pool_size",
    "connection_pool_minsize",
    "cache_timeout",
    "connection_pool_timeout",
    "connection_acquire_timeout",
    "recovery_options",
    "connect_timeout",
    "prepost_timeout",
    "ping_timeout",
    "ping_mode",
    "reply_timeout",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_buffer",
    "socket_keepalive",
    "connection_ping_interval",
    "recycle_timeout",
    "lbfactor",
    "sticky_session",
    "sticky_session_force",
    "session_cookie",
    "session_path",
    "set_session_cookie",
    "session_cookie_path",
    "local_worker",
    "local_worker_only",
    "jvm_route",
    "route",
    "domain",
    "redirect",
    "method",
    "lock",
    "disabled",
    "stopped",
    "activation",
    "recover_time",
    "error_escalation_time",
    "max_reply_timeouts",
    "retry_interval",
    "busy_limit",
    "max_packet_size",
    "css",
    "read_only",
    "retries",
    "lb_retries",
    "maintain",
    "ns",
    "xmlns",
    "doctype",
    "prefix",
    "user_case_insensitive",
    "prefer_ipv6",
];

/// Every attribute mod_jk accepts on a `worker.` property (`supported_properties`); any other
/// makes mod_jk refuse the file.
pub(super) const KNOWN_ATTRS: &[&str] = &[
    "sysprops",
    "stderr",
    "stdout",
    "secret",
    "mx",
    "ms",
    "class_path",
    "bridge",
    "jvm_lib",
    "ld_path",
    "cmd_line",
    "native_lib",
    "reference",
    "host",
    "source",
    "port",
    "type",
    "cachesize",
    "connection_pool_size",
    "connection_pool_minsize",
    "cache_timeout",
    "connection_pool_timeout",
    "connection_acquire_timeout",
    "recovery_options",
    "connect_timeout",
    "prepost_timeout",
    "ping_timeout",
    "ping_mode",
    "reply_timeout",
    "socket_timeout",
    "socket_connect_timeout",
    "socket_buffer",
    "socket_keepalive",
    "connection_ping_interval",
    "recycle_timeout",
    "lbfactor",
    "distance",
    "balanced_workers",
    "balance_workers",
    "sticky_session",
    "sticky_session_force",
    "session_cookie",
    "session_path",
    "set_session_cookie",
    "session_cookie_path",
    "local_worker",
    "local_worker_only",
    "jvm_route",
    "route",
    "domain",
    "redirect",
    "mount",
    "method",
    "lock",
    "disabled",
    "stopped",
    "activation",
    "recover_time",
    "error_escalation_time",
    "max_reply_timeouts",
    "retry_interval",
    "busy_limit",
    "max_packet_size",
    "css",
    "ns",
    "xmlns",
    "doctype",
    "prefix",
    "read_only",
    "user",
    "user_case_insensitive",
    "good",
    "bad",
    "secretkey",
    "retries",
    "lb_retries",
    "fail_on_status",
    "list",
    "maintain",
    "prefer_ipv6",
];

/// The attribute of a property key: the text after its last `.`.
pub(super) fn attr_of(key: &str) -> &str {
    key.rsplit_once('.').map_or(key, |(_, attr)| attr)
}

/// How a repeated key combines (rule 4): `Some(separator)` to accumulate, `None` to replace.
fn joiner(key: &str) -> Option<char> {
    let attr = attr_of(key);
    if !key.contains('.') || UNIQUE_ATTRS.contains(&attr) {
        return None;
    }
    if LIST_ATTRS.contains(&attr) {
        Some(',')
    } else if key.ends_with("_path") {
        Some(':')
    } else if attr == "cmd_line" {
        Some(' ')
    } else {
        Some('*')
    }
}

/// Reads `text` (the file `file`) by the rules above. Skipped lines and replaced values are
/// reported; the properties come back in the order their keys first appeared.
pub(super) fn parse(text: &str, file: &str, report: &mut Report) -> Vec<Prop> {
    let mut props: Vec<Prop> = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let loc = Loc::new(file, i + 1);
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let Some((key, value)) = line.split_once('=') else {
            report.ignored(&loc, line, "no `=` in the line: mod_jk skips it");
            continue;
        };
        let (key, value) = (key.trim(), value.trim());
        if key.is_empty() || value.is_empty() {
            let why = "an empty key or value: mod_jk skips the line";
            report.ignored(&loc, key_or_line(key, line), why);
            continue;
        }
        let value = substitute(value, &props, &loc, key, report);
        match props.iter_mut().find(|p| p.key == key) {
            Some(prop) => match joiner(key) {
                Some(sep) => {
                    prop.value.push(sep);
                    prop.value.push_str(&value);
                    prop.locs.push(loc);
                }
                None => {
                    for old in &prop.locs {
                        let why = format!("set again at line {} (mod_jk keeps the last)", i + 1);
                        report.ignored(old, key, why);
                    }
                    prop.value = value;
                    prop.locs = vec![loc];
                }
            },
            None => props.push(Prop {
                key: key.to_owned(),
                value,
                locs: vec![loc],
            }),
        }
    }
    props
}

fn key_or_line<'a>(key: &'a str, line: &'a str) -> &'a str {
    if key.is_empty() {
        line
    } else {
        key
    }
}

/// Rule 3: `$(name)` replaced by the value of `name` in `props`, else in the environment.
fn substitute(value: &str, props: &[Prop], loc: &Loc, key: &str, report: &mut Report) -> String {
    let mut out = String::new();
    let mut rest = value;
    let mut count = 0;
    while let Some(start) = rest.find("$(") {
        let Some(len) = rest[start..].find(')') else {
            break;
        };
        count += 1;
        if count > 20 {
            break;
        }
        let name = &rest[start + 2..start + len];
        out.push_str(&rest[..start]);
        let env = || std::env::var(name).ok();
        match (props.iter().find(|p| p.key == name), env()) {
            (Some(p), _) => out.push_str(&p.value),
            (None, Some(value)) => {
                let how = format!(
                    "$({name}) is the environment variable {name} at import time ({value:?})"
                );
                report.approximated(loc, key, how);
                out.push_str(&value);
            }
            (None, None) => {
                let how = format!(
                    "$({name}) is neither a property read before this line nor an environment \
                     variable; kept as written"
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
