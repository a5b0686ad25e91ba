//! Checks `render_metrics` output with a small parser of the Prometheus text format 0.0.4.

use std::collections::{HashMap, HashSet};

use super::sample;
use crate::admin::metrics::{escape_label, render_metrics};
use crate::admin::model::{Health, Snapshot};

#[derive(Debug)]
struct Sample {
    name: String,
    labels: Vec<(String, String)>,
    value: f64,
}

fn valid_metric_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn valid_label_name(name: &str) -> bool {
    valid_metric_name(name) && !name.contains(':')
}

fn parse_value(text: &str) -> Result<f64, String> {
    match text {
        "+Inf" => Ok(f64::INFINITY),
        "-Inf" => Ok(f64::NEG_INFINITY),
        "NaN" => Ok(f64::NAN),
        t => t.parse().map_err(|_| format!("bad value {t:?}")),
    }
}

/// Parses `name{a="x",b="y"} value`; label values unescaped.
fn parse_sample(line: &str) -> Result<Sample, String> {
    let name_end = line
        .find(['{', ' '])
        .ok_or_else(|| format!("no value: {line:?}"))?;
    let name = &line[..name_end];
    if !valid_metric_name(name) {
        return Err(format!("bad metric name {name:?}"));
    }
    let mut rest = &line[name_end..];
    let mut labels = Vec::new();
    if let Some(after) = rest.strip_prefix('{') {
        rest = after;
        loop {
            if let Some(after) = rest.strip_prefix('}') {
                rest = after;
                break;
            }
            let eq = rest.find('=').ok_or("label without =")?;
            let label = &rest[..eq];
            if !valid_label_name(label) {
                return Err(format!("bad label name {label:?}"));
            }
            let body = rest[eq + 1..]
                .strip_prefix('"')
                .ok_or("label value not quoted")?;
            let mut value = String::new();
            let mut chars = body.char_indices();
            let end = loop {
                match chars.next().ok_or("unterminated label value")? {
                    (i, '"') => break i,
                    (_, '\\') => match chars.next().ok_or("dangling escape")?.1 {
                        '\\' => value.push('\\'),
                        '"' => value.push('"'),
                        'n' => value.push('\n'),
                        c => return Err(format!("bad escape \\{c}")),
                    },
                    (_, '\n') => return Err("raw newline in label value".to_owned()),
                    (_, c) => value.push(c),
                }
            };
            labels.push((label.to_owned(), value));
            rest = &body[end + 1..];
            rest = rest.strip_prefix(',').unwrap_or(rest);
        }
    }
    let value_text = rest.strip_prefix(' ').ok_or("no space before value")?;
    if value_text.contains(' ') {
        return Err(format!("timestamp or junk after value: {value_text:?}"));
    }
    Ok(Sample {
        name: name.to_owned(),
        labels,
        value: parse_value(value_text)?,
    })
}

/// Family a sample belongs to: histogram (and summary) suffixes map to their base name.
fn family_of<'a>(name: &'a str, types: &HashMap<String, String>) -> &'a str {
    for suffix in ["_bucket", "_sum", "_count"] {
        if let Some(base) = name.strip_suffix(suffix) {
            let kind = types.get(base).map(String::as_str);
            if kind == Some("histogram") || (suffix != "_bucket" && kind == Some("summary")) {
                return base;
            }
        }
    }
    name
}

/// Validates the whole exposition; returns the samples.
fn validate(text: &str) -> Result<Vec<Sample>, String> {
    if !text.ends_with('\n') {
        return Err("output must end in a newline".to_owned());
    }
    let mut types: HashMap<String, String> = HashMap::new();
    let mut helped: HashSet<String> = HashSet::new();
    let mut finished: HashSet<String> = HashSet::new();
    let mut current: Option<String> = None;
    let mut samples = Vec::new();
    let mut seen_series: HashSet<String> = HashSet::new();
    for (i, line) in text.lines().enumerate() {
        let at = |m: String| format!("line {}: {m}: {line:?}", i + 1);
        if let Some(comment) = line.strip_prefix("# ") {
            let mut parts = comment.splitn(3, ' ');
            let (kw, name) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            let rest = parts.next().unwrap_or("");
            if kw != "HELP" && kw != "TYPE" {
                continue;
            }
            if !valid_metric_name(name) {
                return Err(at(format!("bad name {name:?}")));
            }
            if current.as_deref() != Some(name) {
                if let Some(prev) = current.take() {
                    finished.insert(prev);
                }
                if finished.contains(name) {
                    return Err(at("family not contiguous".to_owned()));
                }
                current = Some(name.to_owned());
            }
            if kw == "TYPE" {
                if !["counter", "gauge", "histogram", "summary", "untyped"].contains(&rest) {
                    return Err(at(format!("bad type {rest:?}")));
                }
                if types.insert(name.to_owned(), rest.to_owned()).is_some() {
                    return Err(at("second TYPE".to_owned()));
                }
            } else if !helped.insert(name.to_owned()) {
                return Err(at("second HELP".to_owned()));
            }
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            return Err(at("stray comment or blank line".to_owned()));
        }
        let sample = parse_sample(line).map_err(at)?;
        let family = family_of(&sample.name, &types);
        if !types.contains_key(family) {
            return Err(at("sample without TYPE".to_owned()));
        }
        if current.as_deref() != Some(family) {
            return Err(at("sample outside its family's block".to_owned()));
        }
        if types[family] == "counter" && !family.ends_with("_total") {
            return Err(at("counter name should end in _total".to_owned()));
        }
        if !seen_series.insert(format!("{}{:?}", sample.name, sample.labels)) {
            return Err(at("duplicate series".to_owned()));
        }
        samples.push(sample);
    }
    check_histograms(&samples, &types)?;
    Ok(samples)
}

/// Buckets cumulative with ascending `le`, ending in `+Inf` equal to `_count`.
fn check_histograms(samples: &[Sample], types: &HashMap<String, String>) -> Result<(), String> {
    for (family, kind) in types {
        if kind != "histogram" {
            continue;
        }
        let key = |s: &Sample| {
            let mut l: Vec<_> = s
                .labels
                .iter()
                .filter(|(k, _)| k != "le")
                .cloned()
                .collect();
            l.sort();
            format!("{l:?}")
        };
        let mut series: HashMap<String, Vec<(f64, f64)>> = HashMap::new();
        let mut counts: HashMap<String, f64> = HashMap::new();
        let mut sums: HashSet<String> = HashSet::new();
        for s in samples {
            if s.name == format!("{family}_bucket") {
                let le = s
                    .labels
                    .iter()
                    .find(|(k, _)| k == "le")
                    .ok_or("bucket without le")?;
                series
                    .entry(key(s))
                    .or_default()
                    .push((parse_value(&le.1)?, s.value));
            } else if s.name == format!("{family}_count") {
                counts.insert(key(s), s.value);
            } else if s.name == format!("{family}_sum") {
                sums.insert(key(s));
            }
        }
        if series.len() != counts.len() {
            return Err(format!(
                "{family}: _count without buckets or buckets without _count"
            ));
        }
        for (k, buckets) in &series {
            for pair in buckets.windows(2) {
                if !(pair[0].0 < pair[1].0 && pair[0].1 <= pair[1].1) {
                    return Err(format!("{family}{k}: buckets not ascending/cumulative"));
                }
            }
            let last = buckets.last().ok_or("empty")?;
            if last.0 != f64::INFINITY {
                return Err(format!("{family}{k}: last bucket is not +Inf"));
            }
            if counts.get(k) != Some(&last.1) {
                return Err(format!("{family}{k}: +Inf bucket != _count"));
            }
            if !sums.contains(k) {
                return Err(format!("{family}{k}: no _sum"));
            }
        }
    }
    Ok(())
}

fn find<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|s| {
        s.name == name
            && labels
                .iter()
                .all(|(k, v)| s.labels.iter().any(|(lk, lv)| lk == k && lv == v))
    })
}

#[test]
fn sample_snapshot_validates() {
    let text = render_metrics(&sample());
    if let Err(e) = validate(&text) {
        panic!("{e}\n{text}");
    }
}

#[test]
fn values_and_labels() {
    let samples = validate(&render_metrics(&sample())).expect("valid");
    let n1 = [
        ("balancer", "app"),
        ("member", "http://10.0.0.1:8080"),
        ("route", "n1"),
    ];
    let value = |name: &str, extra: &[(&str, &str)]| {
        let mut labels = n1.to_vec();
        labels.extend_from_slice(extra);
        find(&samples, name, &labels)
            .unwrap_or_else(|| panic!("no {name} {extra:?}"))
            .value
    };
    assert_eq!(value("ringlb_member_requests_total", &[]), 1234.0);
    assert_eq!(
        value("ringlb_member_responses_total", &[("class", "2xx")]),
        1000.0
    );
    assert_eq!(
        value("ringlb_member_responses_total", &[("class", "5xx")]),
        13.0
    );
    assert_eq!(
        value("ringlb_member_bytes_received_total", &[]),
        5.0 * 1024.0 * 1024.0
    );
    assert_eq!(value("ringlb_member_bytes_sent_total", &[]), 2048.0);
    assert_eq!(value("ringlb_member_in_flight", &[]), 3.0);
    assert_eq!(value("ringlb_member_errors_total", &[]), 7.0);
    assert_eq!(value("ringlb_member_up", &[]), 0.0, "n1 drains");
    assert_eq!(value("ringlb_member_loadfactor", &[]), 2.5);
    assert_eq!(value("ringlb_member_health", &[("state", "ok")]), 0.0);
    assert_eq!(value("ringlb_member_health", &[("state", "draining")]), 1.0);
    assert_eq!(value("ringlb_member_health", &[("state", "error")]), 0.0);
    assert_eq!(
        value("ringlb_member_response_seconds_bucket", &[("le", "0.05")]),
        800.0
    );
    assert_eq!(
        value("ringlb_member_response_seconds_bucket", &[("le", "+Inf")]),
        1234.0
    );
    assert_eq!(value("ringlb_member_response_seconds_sum", &[]), 123.5);
    assert_eq!(value("ringlb_member_response_seconds_count", &[]), 1234.0);

    let worker = find(
        &samples,
        "ringlb_worker_connections",
        &[("worker", "0"), ("driver", "io_uring")],
    );
    assert_eq!(worker.map(|s| s.value), Some(12.0));
    let uptime = find(&samples, "ringlb_uptime_seconds", &[]);
    assert_eq!(uptime.map(|s| s.value), Some(93_784.0));

    // Hostile label values survive escaping and parse back to the original.
    let weird = [
        ("balancer", "we\"ird<b>\\"),
        ("member", "http://10.0.0.5:80\n"),
    ];
    assert!(find(&samples, "ringlb_member_up", &weird).is_some());
    assert!(find(&samples, "ringlb_member_up", &[("route", "a\"b")]).is_some());
}

#[test]
fn exactly_one_health_state_per_member() {
    let samples = validate(&render_metrics(&sample())).expect("valid");
    let s = sample();
    for b in &s.balancers {
        for m in &b.members {
            let states: Vec<&Sample> = samples
                .iter()
                .filter(|x| {
                    x.name == "ringlb_member_health"
                        && x.labels.contains(&("member".to_owned(), m.url.clone()))
                        && x.labels.contains(&("balancer".to_owned(), b.name.clone()))
                })
                .collect();
            assert_eq!(states.len(), Health::LABELS.len());
            let on: Vec<_> = states.iter().filter(|x| x.value == 1.0).collect();
            assert_eq!(on.len(), 1);
            let state = &on[0]
                .labels
                .iter()
                .find(|(k, _)| k == "state")
                .expect("state")
                .1;
            assert_eq!(state, m.health.label());
        }
    }
}

#[test]
fn racy_histogram_is_clamped_to_valid() {
    let mut s = sample();
    let m = &mut s.balancers[0].members[0];
    m.latency_buckets = vec![(0.1, 5), (0.2, 4), (f64::INFINITY, 3), (1.0, 9)];
    m.latency_count = 7;
    let text = render_metrics(&s);
    let samples = validate(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
    let count = find(
        &samples,
        "ringlb_member_response_seconds_count",
        &[("route", "n1")],
    );
    assert_eq!(count.map(|x| x.value), Some(9.0));
}

#[test]
fn empty_snapshot_validates() {
    let text = render_metrics(&Snapshot::default());
    validate(&text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

#[test]
fn validator_rejects_bad_output() {
    let bad = [
        "x 1\n",                                 // no TYPE
        "# TYPE x gauge\nx{a=\"1} 1\n",          // unterminated
        "# TYPE x gauge\nx{a=\"\\t\"} 1\n",      // bad escape
        "# TYPE 1x gauge\n",                     // bad name
        "# TYPE x gauge\nx one\n",               // bad value
        "# TYPE x gauge\n# TYPE y gauge\nx 1\n", // outside block
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 0\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 0\nh_count 1\n", // no +Inf
        "# TYPE c counter\nc 1\n",                                        // counter without _total
    ];
    for text in bad {
        assert!(validate(text).is_err(), "accepted {text:?}");
    }
}

#[test]
fn label_escaping() {
    assert_eq!(escape_label("a\\b\"c\nd"), "a\\\\b\\\"c\\nd");
    assert_eq!(escape_label("plain é"), "plain é");
}

#[test]
fn last_error_time_only_for_members_that_failed() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let name = "ringlb_member_last_error_timestamp_seconds";
    let failed: Vec<&Sample> = samples.iter().filter(|s| s.name == name).collect();
    assert_eq!(failed.len(), 1, "only n1 has a last error");
    let n1 = find(&samples, name, &[("route", "n1")]).expect("n1's last error");
    assert_eq!(n1.value, 1_700_000_000.0);
    let what = "connect: <script>alert(1)</script> refused";
    assert!(find(&samples, name, &[("route", "n1"), ("what", what)]).is_some());
}

#[test]
fn limit_families_only_for_members_with_max() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let n1 = [("route", "n1")];
    let value = |name: &str, labels: &[(&str, &str)]| {
        find(&samples, name, labels)
            .unwrap_or_else(|| panic!("{name} {labels:?}"))
            .value
    };
    assert_eq!(value("ringlb_member_max_connections", &n1), 4.0);
    assert_eq!(value("ringlb_member_connections", &n1), 3.0);
    assert_eq!(value("ringlb_member_queue_length", &n1), 2.0);
    assert_eq!(value("ringlb_member_queued_total", &n1), 40.0);
    assert_eq!(value("ringlb_member_queue_timeouts_total", &n1), 5.0);
    assert_eq!(value("ringlb_member_queue_full_total", &n1), 1.0);
    let wait = "ringlb_member_queue_wait_seconds";
    assert_eq!(value(&format!("{wait}_count"), &n1), 40.0);
    assert_eq!(value(&format!("{wait}_sum"), &n1), 2.5);
    assert_eq!(
        value(
            &format!("{wait}_bucket"),
            &[("route", "n1"), ("le", "0.01")]
        ),
        30.0
    );
    assert_eq!(
        value(
            &format!("{wait}_bucket"),
            &[("route", "n1"), ("le", "+Inf")]
        ),
        40.0
    );
    for name in ["ringlb_member_connections", "ringlb_member_queued_total"] {
        let n = samples.iter().filter(|s| s.name == name).count();
        assert_eq!(n, 1, "{name}: only n1 has max");
    }
}

#[test]
fn generated_responses_by_code() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let value = |code: &str| {
        find(
            &samples,
            "ringlb_generated_responses_total",
            &[("code", code)],
        )
        .map(|s| s.value)
    };
    let cases = [
        ("404", Some(2.0)),
        ("502", Some(1.0)),
        ("other", Some(3.0)),
        ("0", None),
    ];
    for (code, want) in cases {
        assert_eq!(value(code), want, "code {code}");
    }
}

#[test]
fn process_families_present_only_when_known() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let cases = [
        ("process_cpu_seconds_total", 1.5),
        ("process_resident_memory_bytes", 4096.0),
        ("process_open_fds", 12.0),
        ("process_max_fds", 1024.0),
        ("process_start_time_seconds", 1.7e9),
    ];
    for (name, want) in cases {
        assert_eq!(
            find(&samples, name, &[]).map(|s| s.value),
            Some(want),
            "{name}"
        );
    }
    let text = render_metrics(&Snapshot::default());
    assert!(!text.contains("process_"), "{text}");
}

#[test]
fn reload_families() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| find(&samples, name, labels).map(|s| s.value);
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<f64>);
    let cases: [Case; 4] = [
        ("ringlb_config_generation", &[], Some(4.0)),
        ("ringlb_reloads_total", &[("result", "success")], Some(3.0)),
        ("ringlb_reloads_total", &[("result", "failure")], Some(1.0)),
        (
            "ringlb_last_reload_success_timestamp_seconds",
            &[],
            Some(1_700_000_000.5),
        ),
    ];
    for (name, labels, want) in cases {
        assert_eq!(value(name, labels), want, "{name} {labels:?}");
    }
    let text = render_metrics(&Snapshot::default());
    assert!(!text.contains("ringlb_last_reload_success"), "{text}");
}

#[test]
fn response_buckets_reach_the_upstream_timeout() {
    use crate::admin::snapshot::cumulative_buckets;
    use std::time::Duration;
    let counts = [1u64; crate::stats::LATENCY_BOUNDS_US.len()];
    let last = |upto: Duration| cumulative_buckets(&counts, upto).last().copied();
    let cases = [
        (Duration::from_secs(60), Some((60.0, 15))),
        (Duration::from_secs(10), Some((10.0, 13))),
        (Duration::from_secs(45), Some((60.0, 15))),
        (Duration::from_millis(1), Some((0.001, 1))),
        (Duration::from_secs(7200), Some((3600.0, 20))),
        (Duration::ZERO, Some((0.001, 1))),
    ];
    for (upto, want) in cases {
        assert_eq!(last(upto), want, "{upto:?}");
    }
}

#[test]
fn health_check_families_only_for_checked_members() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let n1 = [("route", "n1")];
    let cases = [
        ("ringlb_member_health_checks_total", Some(7.0)),
        ("ringlb_member_health_check_failures_total", Some(2.0)),
        (
            "ringlb_member_health_check_duration_seconds_sum",
            Some(0.35),
        ),
        (
            "ringlb_member_health_check_duration_seconds_count",
            Some(7.0),
        ),
    ];
    for (name, want) in cases {
        assert_eq!(find(&samples, name, &n1).map(|s| s.value), want, "{name}");
    }
    let checked = samples
        .iter()
        .filter(|s| s.name == "ringlb_member_health_checks_total")
        .count();
    assert_eq!(checked, 1, "only n1 has a health check");
}

#[test]
fn last_state_change_is_the_snapshot_time_less_the_state_age() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let name = "ringlb_member_last_state_change_timestamp_seconds";
    let n1 = find(&samples, name, &[("route", "n1")]).expect("n1's last change");
    assert_eq!(n1.value, (1_700_000_000 - 3725) as f64);
}

#[test]
fn flow_listener_downtime_and_last_check_families() {
    let samples = validate(&render_metrics(&sample())).unwrap();
    let value = |name: &str, labels: &[(&str, &str)]| find(&samples, name, labels).map(|s| s.value);
    let n1 = [("route", "n1")];
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], Option<f64>);
    let cases: [Case; 16] = [
        ("ringlb_member_route_changed_total", &n1, Some(4.0)),
        ("ringlb_member_retries_total", &n1, Some(3.0)),
        ("ringlb_member_redispatches_total", &n1, Some(2.0)),
        ("ringlb_member_pool_reuses_total", &n1, Some(1000.0)),
        ("ringlb_member_pool_idle_connections", &n1, Some(6.0)),
        (
            "ringlb_member_aborts_total",
            &[("route", "n1"), ("by", "client")],
            Some(9.0),
        ),
        (
            "ringlb_member_aborts_total",
            &[("route", "n1"), ("by", "member")],
            Some(1.0),
        ),
        (
            "ringlb_member_aborts_total",
            &[("route", "k"), ("by", "member")],
            Some(0.0),
        ),
        ("ringlb_member_downtime_seconds_total", &n1, Some(3700.0)),
        ("ringlb_member_last_health_check_success", &n1, Some(0.0)),
        (
            "ringlb_member_last_health_check_duration_seconds",
            &n1,
            Some(0.012),
        ),
        (
            "ringlb_member_last_health_check_timestamp_seconds",
            &n1,
            Some(1_699_999_995.0),
        ),
        (
            "ringlb_member_last_health_check_success",
            &[("route", "k")],
            None,
        ),
        (
            "ringlb_listener_connections_total",
            &[("listener", "0.0.0.0:8080")],
            Some(90.0),
        ),
        (
            "ringlb_listener_requests_total",
            &[("listener", "[::]:8443")],
            Some(20.0),
        ),
        (
            "ringlb_listener_requests_total",
            &[("listener", "nope")],
            None,
        ),
    ];
    for (name, labels, want) in cases {
        assert_eq!(value(name, labels), want, "{name} {labels:?}");
    }
}
