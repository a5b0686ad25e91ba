//! The health-check and down-time families (see the parent module's table).

use std::fmt::Write;

use super::{family, float, labelled};
use crate::admin::model::{CheckView, LastCheckView, MemberView};

/// The health-check families, for members with a health check only.
pub(super) fn families(out: &mut String, members: &[(String, &MemberView)]) {
    let checked: Vec<(&String, &CheckView)> = (members.iter())
        .filter_map(|(labels, m)| Some((labels, m.checks.as_ref()?)))
        .collect();
    let rows = || checked.iter().map(|(labels, c)| (labels, *c));
    labelled(
        out,
        (
            "ringlb_member_health_checks_total",
            "counter",
            "Health-check probes of the member that ran to an outcome.",
        ),
        rows(),
        |c| c.runs,
    );
    labelled(
        out,
        (
            "ringlb_member_health_check_failures_total",
            "counter",
            "Health-check probes of the member that failed.",
        ),
        rows(),
        |c| c.failures,
    );
    family(
        out,
        "ringlb_member_health_check_duration_seconds",
        "summary",
        "Time the member's health-check probes took, in seconds.",
    );
    for (labels, c) in &checked {
        let name = "ringlb_member_health_check_duration_seconds";
        let _ = writeln!(out, "{name}_sum{{{labels}}} {}", float(c.duration_sum_secs));
        let _ = writeln!(out, "{name}_count{{{labels}}} {}", c.runs);
    }
    last_check(out, &checked);
    labelled(
        out,
        (
            "ringlb_member_downtime_seconds_total",
            "counter",
            "Seconds the member was down (failed health check or open error window) since it \
             was added.",
        ),
        members.iter().map(|(labels, m)| (labels, *m)),
        |m| m.downtime_secs,
    );
}

/// The latest probe's gauges, for members that had one.
fn last_check(out: &mut String, checked: &[(&String, &CheckView)]) {
    let probed: Vec<_> = (checked.iter())
        .filter_map(|(labels, c)| Some((labels, c.last.as_ref()?)))
        .collect();
    type Gauge = (&'static str, &'static str, fn(&LastCheckView) -> String);
    let gauges: [Gauge; 3] = [
        (
            "ringlb_member_last_health_check_success",
            "1 when the member's latest health-check probe passed, else 0.",
            |l| u8::from(l.passed).to_string(),
        ),
        (
            "ringlb_member_last_health_check_duration_seconds",
            "How long the member's latest health-check probe took, in seconds (ms resolution).",
            |l| float(l.duration_ms as f64 / 1000.0),
        ),
        (
            "ringlb_member_last_health_check_timestamp_seconds",
            "When the member's latest health-check probe ended, Unix seconds.",
            |l| float(l.at_unix_ms as f64 / 1000.0),
        ),
    ];
    for (name, help, value) in gauges {
        let rows = probed.iter().map(|(labels, l)| (labels, *l));
        labelled(out, (name, "gauge", help), rows, value);
    }
}
