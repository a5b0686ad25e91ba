//! `GET /metrics`: the [`Snapshot`] in the Prometheus text exposition format 0.0.4
//! (`Content-Type: text/plain; version=0.0.4`).
//!
//! Each family is written once, `# HELP` then `# TYPE` then all its samples, so the output is
//! grouped as the format requires. Member samples carry `balancer`, `member` (URL) and `route`
//! labels; label values are escaped (`\\`, `\"`, `\n`). No timestamps: the scraper stamps.
//!
//! | family | type | extra labels |
//! |---|---|---|
//! | `ringlb_build_info` | gauge (1) | `version` |
//! | `ringlb_uptime_seconds` | gauge | |
//! | `ringlb_worker_connections` | gauge | `worker`, `driver` |
//! | `ringlb_tls_handshake_failures_total` | counter | |
//! | `ringlb_http2_floods_total` | counter | |
//! | `ringlb_generated_responses_total` | counter: responses ringlb made itself | `code` (`other` for unlisted codes) |
//! | `ringlb_config_generation` | gauge | |
//! | `ringlb_reloads_total` | counter | `result` = `success`, `failure` |
//! | `ringlb_last_reload_success_timestamp_seconds` | gauge, after a successful reload only | |
//! | `process_cpu_seconds_total`, `process_resident_memory_bytes`, `process_open_fds`, `process_max_fds`, `process_start_time_seconds` | as the Prometheus client libraries; absent where `/proc` does not tell | |
//! | `ringlb_member_requests_total` | counter | |
//! | `ringlb_member_responses_total` | counter | `class` = `1xx`..`5xx` |
//! | `ringlb_member_bytes_received_total`, `..._bytes_sent_total` | counter | |
//! | `ringlb_member_errors_total` | counter | |
//! | `ringlb_member_in_flight` | gauge: requests in flight (was `ringlb_member_busy`) | |
//! | `ringlb_member_up` | gauge 1/0: takes new requests (`health` is `ok`) | |
//! | `ringlb_member_health` | gauge, 1 for the current state | `state` = `ok`, `draining`, `error`, `hc_failed`, `disabled`, `stopped` |
//! | `ringlb_member_last_state_change_timestamp_seconds` | gauge: when it last went down (failed check, error window) or came back up | |
//! | `ringlb_member_downtime_seconds_total` | counter: time it was down | |
//! | `ringlb_member_loadfactor` | gauge | |
//! | `ringlb_member_last_error_timestamp_seconds` | gauge, only for members that failed | `what` |
//! | `ringlb_member_response_seconds` | histogram | `le` |
//! | `ringlb_member_route_changed_total` | counter: requests with another member's session route it took | |
//! | `ringlb_member_retries_total` | counter: re-sent to it after a pooled connection was found closed | |
//! | `ringlb_member_redispatches_total` | counter: requests it failed that went on to another member | |
//! | `ringlb_member_pool_reuses_total` | counter: requests sent over a pooled connection | |
//! | `ringlb_member_pool_idle_connections` | gauge: idle pooled connections | |
//! | `ringlb_member_aborts_total` | counter: exchanges cut short | `by` = `client`, `member` |
//! | `ringlb_listener_connections_total`, `ringlb_listener_requests_total` | counter, per listening address | `listener` |
//!
//! For members with a health check only: `ringlb_member_health_checks_total`,
//! `ringlb_member_health_check_failures_total` (counters), the summary
//! `ringlb_member_health_check_duration_seconds` (`_sum`, `_count`), and after the first
//! probe the gauges `ringlb_member_last_health_check_success` (1/0),
//! `ringlb_member_last_health_check_duration_seconds` and
//! `ringlb_member_last_health_check_timestamp_seconds`.
//!
//! For members with `max` (a connection limit) only, every worker together:
//!
//! | family | type | extra labels |
//! |---|---|---|
//! | `ringlb_member_max_connections` | gauge: `max` | |
//! | `ringlb_member_connections` | gauge: connections open now, idle pooled ones included | |
//! | `ringlb_member_queue_length` | gauge: requests waiting for a connection now | |
//! | `ringlb_member_queued_total` | counter: requests that waited | |
//! | `ringlb_member_queue_timeouts_total` | counter: requests that waited `acquire` in vain (503) | |
//! | `ringlb_member_queue_full_total` | counter: requests refused at once, `maxqueue` waiting (503) | |
//! | `ringlb_member_queue_wait_seconds` | histogram, the response-time buckets | `le` |

mod checks;
mod traffic;

use std::fmt::{Display, Write};

use super::model::{Health, LimitView, MemberView, ProcessView, Snapshot};

/// The `Content-Type` of [`render_metrics`]' output.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A per-member counter family: name, help text and how to read it.
type Counter = (&'static str, &'static str, fn(&MemberView) -> u64);

/// Renders every family; the text ends in a newline.
pub fn render_metrics(snapshot: &Snapshot) -> String {
    let mut out = String::with_capacity(4096);
    family(
        &mut out,
        "ringlb_build_info",
        "gauge",
        "Always 1; labelled with the version.",
    );
    let _ = writeln!(
        out,
        "ringlb_build_info{{version=\"{}\"}} 1",
        escape_label(&snapshot.version)
    );
    family(
        &mut out,
        "ringlb_uptime_seconds",
        "gauge",
        "Seconds since the process started.",
    );
    let _ = writeln!(out, "ringlb_uptime_seconds {}", snapshot.uptime_secs);
    family(
        &mut out,
        "ringlb_worker_connections",
        "gauge",
        "Client connections open on each worker thread.",
    );
    for w in &snapshot.workers {
        let _ = writeln!(
            out,
            "ringlb_worker_connections{{worker=\"{}\",driver=\"{}\"}} {}",
            w.index,
            escape_label(&w.driver),
            w.connections
        );
    }
    family(
        &mut out,
        "ringlb_tls_handshake_failures_total",
        "counter",
        "TLS handshakes that failed or timed out, all listeners and workers together.",
    );
    let _ = writeln!(
        out,
        "ringlb_tls_handshake_failures_total {}",
        snapshot.tls_handshake_failures
    );
    family(
        &mut out,
        "ringlb_http2_floods_total",
        "counter",
        "HTTP/2 connections closed for a flood (control frames, rapid reset, CONTINUATION).",
    );
    let _ = writeln!(out, "ringlb_http2_floods_total {}", snapshot.http2_floods);
    family(
        &mut out,
        "ringlb_generated_responses_total",
        "counter",
        "Responses ringlb generated itself (not relayed from a member), by status code; \
         code=\"other\" counts the codes not listed.",
    );
    for &(code, n) in &snapshot.generated {
        if code == 0 {
            let _ = writeln!(
                out,
                "ringlb_generated_responses_total{{code=\"other\"}} {n}"
            );
        } else {
            let _ = writeln!(
                out,
                "ringlb_generated_responses_total{{code=\"{code}\"}} {n}"
            );
        }
    }
    reloads(&mut out, snapshot);
    process(&mut out, &snapshot.process);
    traffic::listener_families(&mut out, &snapshot.listeners);

    let members: Vec<(String, &MemberView)> = snapshot
        .balancers
        .iter()
        .flat_map(|b| {
            b.members.iter().map(move |m| {
                let labels = format!(
                    "balancer=\"{}\",member=\"{}\",route=\"{}\"",
                    escape_label(&b.name),
                    escape_label(&m.url),
                    escape_label(&m.route)
                );
                (labels, m)
            })
        })
        .collect();

    let counters: [Counter; 4] = [
        (
            "ringlb_member_requests_total",
            "Requests sent to the member; each attempt counts.",
            |m| m.requests,
        ),
        (
            "ringlb_member_bytes_received_total",
            "Bytes received from the member.",
            |m| m.bytes_in,
        ),
        (
            "ringlb_member_bytes_sent_total",
            "Bytes sent to the member.",
            |m| m.bytes_out,
        ),
        (
            "ringlb_member_errors_total",
            "Failed attempts: connect errors, timeouts, failonstatus.",
            |m| m.errors,
        ),
    ];
    for (name, help, value) in counters {
        let rows = members.iter().map(|(labels, m)| (labels, *m));
        labelled(&mut out, (name, "counter", help), rows, value);
    }

    family(
        &mut out,
        "ringlb_member_responses_total",
        "counter",
        "Responses from the member by status class.",
    );
    for (labels, m) in &members {
        for (i, count) in m.responses.iter().enumerate() {
            let _ = writeln!(
                out,
                "ringlb_member_responses_total{{{labels},class=\"{}xx\"}} {count}",
                i + 1
            );
        }
    }

    let rows = || members.iter().map(|(labels, m)| (labels, *m));
    labelled(
        &mut out,
        (
            "ringlb_member_in_flight",
            "gauge",
            "Requests in flight on the member.",
        ),
        rows(),
        |m| m.busy,
    );
    labelled(
        &mut out,
        (
            "ringlb_member_up",
            "gauge",
            "1 when the member takes new requests (health ok), else 0: a draining (N), \
             disabled, stopped, in-error or failed-check member is 0, though a draining member \
             still serves its sessions.",
        ),
        rows(),
        |m| u8::from(m.health.is_up()),
    );
    family(
        &mut out,
        "ringlb_member_health",
        "gauge",
        "1 for the member's current health state, 0 for the others.",
    );
    for (labels, m) in &members {
        for state in Health::LABELS {
            let v = u8::from(m.health.label() == state);
            let _ = writeln!(
                out,
                "ringlb_member_health{{{labels},state=\"{state}\"}} {v}"
            );
        }
    }
    labelled(
        &mut out,
        (
            "ringlb_member_last_state_change_timestamp_seconds",
            "gauge",
            "When the member last became usable or unusable, Unix seconds (the process start \
             when it has not changed since).",
        ),
        rows(),
        |m| snapshot.now_unix.saturating_sub(m.state_since_secs),
    );
    labelled(
        &mut out,
        (
            "ringlb_member_loadfactor",
            "gauge",
            "The member's loadfactor, 1 to 100.",
        ),
        rows(),
        |m| float(m.loadfactor),
    );

    family(
        &mut out,
        "ringlb_member_last_error_timestamp_seconds",
        "gauge",
        "Unix time of the member's last failure (a request or a health check), labelled with \
         what failed; absent for a member that has not failed.",
    );
    for (labels, m) in &members {
        if let Some(e) = &m.last_error {
            let _ = writeln!(
                out,
                "ringlb_member_last_error_timestamp_seconds{{{labels},what=\"{}\"}} {}",
                escape_label(&e.what),
                float(e.at_unix_ms as f64 / 1000.0)
            );
        }
    }

    family(
        &mut out,
        "ringlb_member_response_seconds",
        "histogram",
        "Response time of the member, in seconds.",
    );
    for (labels, m) in &members {
        let h = Histogram {
            buckets: &m.latency_buckets,
            sum: m.latency_sum_secs,
            count: m.latency_count,
        };
        histogram(&mut out, "ringlb_member_response_seconds", labels, &h);
    }
    limits(&mut out, &members);
    checks::families(&mut out, &members);
    traffic::member_families(&mut out, &members);
    out
}

/// The configuration generation and the reload outcomes.
fn reloads(out: &mut String, s: &Snapshot) {
    family(
        out,
        "ringlb_config_generation",
        "gauge",
        "The configuration generation in force: 1 at start, one more per reload or member edit.",
    );
    let _ = writeln!(out, "ringlb_config_generation {}", s.generation);
    family(
        out,
        "ringlb_reloads_total",
        "counter",
        "Reloads of the configuration (SIGHUP, the API, a changed file), by result.",
    );
    let _ = writeln!(
        out,
        "ringlb_reloads_total{{result=\"success\"}} {}",
        s.reloads_succeeded
    );
    let _ = writeln!(
        out,
        "ringlb_reloads_total{{result=\"failure\"}} {}",
        s.reloads_failed
    );
    if let Some(ms) = s.last_reload_success_unix_ms {
        family(
            out,
            "ringlb_last_reload_success_timestamp_seconds",
            "gauge",
            "Unix time of the last successful reload; absent before the first.",
        );
        let _ = writeln!(
            out,
            "ringlb_last_reload_success_timestamp_seconds {}",
            float(ms as f64 / 1000.0)
        );
    }
}

/// The `process_*` families the Prometheus client libraries export; a family whose figure
/// `/proc` did not give is left out.
fn process(out: &mut String, p: &ProcessView) {
    let families: [(&str, &str, &str, Option<f64>); 5] = [
        (
            "process_cpu_seconds_total",
            "counter",
            "Total user and system CPU time spent in seconds.",
            p.cpu_seconds,
        ),
        (
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory size in bytes.",
            p.resident_memory_bytes.map(|v| v as f64),
        ),
        (
            "process_open_fds",
            "gauge",
            "Number of open file descriptors.",
            p.open_fds.map(|v| v as f64),
        ),
        (
            "process_max_fds",
            "gauge",
            "Maximum number of open file descriptors.",
            p.max_fds.map(|v| v as f64),
        ),
        (
            "process_start_time_seconds",
            "gauge",
            "Start time of the process since unix epoch in seconds.",
            p.start_time_seconds,
        ),
    ];
    for (name, kind, help, value) in families {
        if let Some(v) = value {
            family(out, name, kind, help);
            let _ = writeln!(out, "{name} {}", float(v));
        }
    }
}

/// A limit family: name, type, help text and how to read it.
type LimitFamily = (
    &'static str,
    &'static str,
    &'static str,
    fn(&LimitView) -> u64,
);

/// The families of the members with `max`.
fn limits(out: &mut String, members: &[(String, &MemberView)]) {
    let limited: Vec<(&String, &LimitView)> = (members.iter())
        .filter_map(|(labels, m)| Some((labels, m.limit.as_ref()?)))
        .collect();
    let families: [LimitFamily; 6] = [
        (
            "ringlb_member_max_connections",
            "gauge",
            "The member's connection limit (max), all workers together.",
            |l| u64::from(l.max),
        ),
        (
            "ringlb_member_connections",
            "gauge",
            "Connections open to the member now (idle pooled ones included), all workers together.",
            |l| l.connections,
        ),
        (
            "ringlb_member_queue_length",
            "gauge",
            "Requests waiting for a connection to the member now.",
            |l| l.waiting,
        ),
        (
            "ringlb_member_queued_total",
            "counter",
            "Requests that waited for a connection to the member (max reached).",
            |l| l.queued,
        ),
        (
            "ringlb_member_queue_timeouts_total",
            "counter",
            "Requests that waited acquire for a connection in vain and got 503.",
            |l| l.timeouts,
        ),
        (
            "ringlb_member_queue_full_total",
            "counter",
            "Requests refused with 503 at once because maxqueue requests were waiting.",
            |l| l.full,
        ),
    ];
    for (name, kind, help, value) in families {
        let rows = limited.iter().map(|(labels, l)| (labels, *l));
        labelled(out, (name, kind, help), rows, value);
    }
    family(
        out,
        "ringlb_member_queue_wait_seconds",
        "histogram",
        "Time requests waited for a connection to the member, in seconds.",
    );
    for (labels, l) in &limited {
        let h = Histogram {
            buckets: &l.wait_buckets,
            sum: l.wait_sum_secs,
            count: l.queued,
        };
        histogram(out, "ringlb_member_queue_wait_seconds", labels, &h);
    }
}

/// One histogram's samples: `(upper bound, cumulative count)`, the sum and the count.
struct Histogram<'a> {
    buckets: &'a [(f64, u64)],
    sum: f64,
    count: u64,
}

/// Writes one histogram's `_bucket` (cumulative, ending with `+Inf`), `_sum` and `_count` lines.
///
/// Per-core counters are summed while cores keep counting, so a later bucket can be read before
/// an earlier one moved; counts are clamped to a running maximum, and `+Inf` and `_count` to
/// at least the last bucket, so the output always satisfies the histogram invariants.
fn histogram(out: &mut String, name: &str, labels: &str, h: &Histogram<'_>) {
    let mut running = 0;
    for &(bound, count) in h.buckets {
        if !bound.is_finite() {
            continue;
        }
        running = running.max(count);
        let _ = writeln!(
            out,
            "{name}_bucket{{{labels},le=\"{}\"}} {running}",
            float(bound)
        );
    }
    let total = h.count.max(running);
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", float(h.sum));
    let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
}

pub(super) fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A family whose samples are one per row, `name{labels} value`: its `# HELP` and `# TYPE`,
/// then `value(row)` for each of `rows` (the rows' labels already escaped and joined).
pub(super) fn labelled<L: Display, R, V: Display>(
    out: &mut String,
    (name, kind, help): (&str, &str, &str),
    rows: impl IntoIterator<Item = (L, R)>,
    value: impl Fn(R) -> V,
) {
    family(out, name, kind, help);
    for (labels, row) in rows {
        let _ = writeln!(out, "{name}{{{labels}}} {}", value(row));
    }
}

/// A sample value or `le` bound: shortest round-trip decimal, or `+Inf`, `-Inf`, `NaN`.
pub(super) fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf" } else { "-Inf" }.to_owned()
    } else {
        v.to_string()
    }
}

/// Escapes a label value: `\` → `\\`, `"` → `\"`, newline → `\n`.
pub fn escape_label(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Escapes `# HELP` text: `\` → `\\`, newline → `\n`.
fn escape_help(text: &str) -> String {
    text.replace('\\', "\\\\").replace('\n', "\\n")
}
