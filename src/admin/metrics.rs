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
//! | `ringlb_member_requests_total` | counter | |
//! | `ringlb_member_responses_total` | counter | `class` = `1xx`..`5xx` |
//! | `ringlb_member_bytes_received_total`, `..._bytes_sent_total` | counter | |
//! | `ringlb_member_errors_total` | counter | |
//! | `ringlb_member_busy` | gauge | |
//! | `ringlb_member_up` | gauge 1/0: takes new requests (`health` is `ok`) | |
//! | `ringlb_member_health` | gauge, 1 for the current state | `state` = `ok`, `draining`, `error`, `hc_failed`, `disabled`, `stopped` |
//! | `ringlb_member_loadfactor` | gauge | |
//! | `ringlb_member_last_error_timestamp_seconds` | gauge, only for members that failed | `what` |
//! | `ringlb_member_response_seconds` | histogram | `le` |

use std::fmt::Write;

use super::model::{Health, MemberView, Snapshot};

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
        family(&mut out, name, "counter", help);
        for (labels, m) in &members {
            let _ = writeln!(out, "{name}{{{labels}}} {}", value(m));
        }
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

    family(
        &mut out,
        "ringlb_member_busy",
        "gauge",
        "Requests in flight on the member.",
    );
    for (labels, m) in &members {
        let _ = writeln!(out, "ringlb_member_busy{{{labels}}} {}", m.busy);
    }
    family(
        &mut out,
        "ringlb_member_up",
        "gauge",
        "1 when the member takes new requests (health ok), else 0: a draining (N), disabled, \
         stopped, in-error or failed-check member is 0, though a draining member still serves \
         its sessions.",
    );
    for (labels, m) in &members {
        let up = u8::from(m.health.is_up());
        let _ = writeln!(out, "ringlb_member_up{{{labels}}} {up}");
    }
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
    family(
        &mut out,
        "ringlb_member_loadfactor",
        "gauge",
        "The member's loadfactor, 1 to 100.",
    );
    for (labels, m) in &members {
        let _ = writeln!(
            out,
            "ringlb_member_loadfactor{{{labels}}} {}",
            float(m.loadfactor)
        );
    }

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
        histogram(&mut out, "ringlb_member_response_seconds", labels, m);
    }
    out
}

/// Writes one member's `_bucket` (cumulative, ending with `+Inf`), `_sum` and `_count` lines.
///
/// Per-core counters are summed while cores keep counting, so a later bucket can be read before
/// an earlier one moved; counts are clamped to a running maximum, and `+Inf` and `_count` to
/// at least the last bucket, so the output always satisfies the histogram invariants.
fn histogram(out: &mut String, name: &str, labels: &str, m: &MemberView) {
    let mut running = 0;
    for &(bound, count) in &m.latency_buckets {
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
    let total = m.latency_count.max(running);
    let _ = writeln!(out, "{name}_bucket{{{labels},le=\"+Inf\"}} {total}");
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", float(m.latency_sum_secs));
    let _ = writeln!(out, "{name}_count{{{labels}}} {total}");
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {}", escape_help(help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A sample value or `le` bound: shortest round-trip decimal, or `+Inf`, `-Inf`, `NaN`.
fn float(v: f64) -> String {
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
