//! The connection-limit keys (`max`, `smax`, `ttl`, `acquire`, `maxqueue`): defaults, the
//! balancer's defaults and a member's own, the printed round trip, the diff, refusals naming
//! file, line and key.

use std::time::Duration;

use super::expect_err;
use crate::config::*;

/// A balancer with `balancer_keys`, then one member per entry of `members` (its keys).
fn file(balancer_keys: &str, members: &[&str]) -> String {
    let mut text = format!("[[balancer]]\nname = \"c\"\n{balancer_keys}");
    for (i, keys) in members.iter().enumerate() {
        text.push_str(&format!(
            "[[balancer.member]]\nurl = \"http://127.0.0.1:{}\"\n{keys}",
            9001 + i
        ));
    }
    text
}

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn limits(cfg: &Config, m: usize) -> MemberLimits {
    cfg.balancers[0].members[m].options.limits.clone()
}

#[test]
fn no_keys_no_limit() {
    let cfg = parse(&file("", &[""]));
    let l = limits(&cfg, 0);
    assert_eq!(l, MemberLimits::default());
    assert_eq!(
        (l.max, l.smax, l.ttl, l.acquire, l.maxqueue),
        (None, 0, None, None, None)
    );
    let t = cfg.timeouts;
    assert_eq!(l.ttl_or(t.upstream_idle), t.upstream_idle);
    assert_eq!(l.acquire_or(t.connect), t.connect);
}

#[test]
fn a_members_keys_are_read_and_round_trip() {
    let cfg = parse(&file(
        "",
        &["max = 4\nsmax = 2\nttl = \"5s\"\nacquire = \"250ms\"\nmaxqueue = 0\n"],
    ));
    let want = MemberLimits {
        max: Some(4),
        smax: 2,
        ttl: Some(Duration::from_secs(5)),
        acquire: Some(Duration::from_millis(250)),
        maxqueue: Some(0),
    };
    assert_eq!(limits(&cfg, 0), want);
    let printed = cfg.to_string();
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
}

#[test]
fn the_balancer_sets_defaults_a_member_overrides() {
    let cfg = parse(&file(
        "max = 8\nacquire = 2\nmaxqueue = 100\nttl = 3\n",
        &["", "max = 2\nacquire = \"1s\"\n", "smax = 8\n"],
    ));
    assert_eq!(limits(&cfg, 0).max, Some(8));
    assert_eq!(limits(&cfg, 0).acquire, Some(Duration::from_secs(2)));
    assert_eq!(limits(&cfg, 0).maxqueue, Some(100));
    assert_eq!(limits(&cfg, 0).ttl, Some(Duration::from_secs(3)));
    assert_eq!(limits(&cfg, 1).max, Some(2));
    assert_eq!(limits(&cfg, 1).acquire, Some(Duration::from_secs(1)));
    assert_eq!(limits(&cfg, 2).smax, 8);
    let printed = cfg.to_string();
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
}

#[test]
fn ttl_and_smax_need_no_max() {
    let cfg = parse(&file("", &["ttl = \"2s\"\nsmax = 3\n"]));
    let l = limits(&cfg, 0);
    assert_eq!(
        (l.max, l.smax, l.ttl),
        (None, 3, Some(Duration::from_secs(2)))
    );
    // A balancer's acquire applies to the members with max only.
    let cfg = parse(&file("acquire = 1\n", &["max = 1\n", ""]));
    assert_eq!(limits(&cfg, 0).acquire, Some(Duration::from_secs(1)));
    assert_eq!(limits(&cfg, 1).acquire, None);
}

#[test]
fn a_changed_limit_shows_in_the_diff() {
    let old = parse(&file("", &["max = 4\n"]));
    let new = parse(&file("", &["max = 8\n"]));
    let changes = format!("{:?}", diff(&old, &new));
    assert!(
        changes.contains("\"limits\"") && changes.contains("max=8"),
        "{changes}"
    );
    assert!(diff(&old, &old.clone()).is_empty());
}

#[test]
fn bad_values_name_file_line_and_key() {
    let m = "balancer[0].member[0]";
    let cases: Vec<(String, usize, String, &str)> = vec![
        (
            file("", &["max = 0\n"]),
            5,
            format!("{m}.max"),
            "out of range 1..=65535",
        ),
        (
            file("", &["max = 65536\n"]),
            5,
            format!("{m}.max"),
            "out of range",
        ),
        (
            file("", &["max = \"4\"\n"]),
            5,
            format!("{m}.max"),
            "expected an integer",
        ),
        (
            file("", &["max = 2\nsmax = 3\n"]),
            6,
            format!("{m}.smax"),
            "above max 2",
        ),
        (
            file("smax = 3\n", &["max = 2\n"]),
            3,
            "balancer[0].smax".into(),
            "above max",
        ),
        (
            file("", &["smax = 257\n"]),
            5,
            format!("{m}.smax"),
            "0..=256",
        ),
        (
            file("", &["acquire = 1\n"]),
            5,
            format!("{m}.acquire"),
            "needs max",
        ),
        (
            file("", &["maxqueue = 1\n"]),
            5,
            format!("{m}.maxqueue"),
            "needs max",
        ),
        (
            file("", &["max = 1\nmaxqueue = -1\n"]),
            6,
            format!("{m}.maxqueue"),
            "out of range",
        ),
        (
            file("", &["max = 1\nacquire = 0\n"]),
            6,
            format!("{m}.acquire"),
            "out of range",
        ),
        (
            file("", &["ttl = 0\n"]),
            5,
            format!("{m}.ttl"),
            "out of range",
        ),
        (
            file("maxqueue = 5\n", &[""]),
            3,
            "balancer[0].maxqueue".into(),
            "no member",
        ),
        (
            file("", &["ttl = \"16s\"\n"]),
            5,
            format!("{m}.ttl"),
            "longer than timeouts.upstream_idle (15s)",
        ),
        (
            format!(
                "[timeouts]\nupstream_idle = 2\n{}",
                file("ttl = 3\n", &[""])
            ),
            5,
            "balancer[0].ttl".into(),
            "raise timeouts.upstream_idle",
        ),
    ];
    for (text, line, key, words) in cases {
        let msg = expect_err(&text, line, &key);
        assert!(msg.contains(words), "{key}: {msg}\n{text}");
    }
}
