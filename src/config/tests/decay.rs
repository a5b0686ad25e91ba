//! `lbstatus_decay`: its spellings, the default, the printed round trip, the diff and the
//! mistakes with their line and key.

use std::time::Duration;

use super::{expect_err, MINIMAL};
use crate::config::*;

fn with_key(value: &str) -> String {
    MINIMAL.replace(
        "name = \"c\"\n",
        &format!("name = \"c\"\nlbstatus_decay = {value}\n"),
    )
}

fn decay_of(text: &str) -> LbstatusDecay {
    parse_str(text, "d.toml").unwrap().balancers[0]
        .options
        .lbstatus_decay
}

#[test]
fn default_is_mod_jk_halving_every_60s() {
    let d = decay_of(MINIMAL);
    assert_eq!(d, LbstatusDecay(Some(Duration::from_secs(60))));
    assert_eq!(d.period_ms(), 60_000);
}

#[test]
fn spellings() {
    let secs = |n| LbstatusDecay(Some(Duration::from_secs(n)));
    let cases = [
        ("true", secs(60)),
        ("\"On\"", secs(60)),
        ("\"on\"", secs(60)),
        ("false", LbstatusDecay::OFF),
        ("\"Off\"", LbstatusDecay::OFF),
        ("30", secs(30)),
        ("\"30s\"", secs(30)),
        ("\"5m\"", secs(300)),
        ("\"1.5s\"", LbstatusDecay(Some(Duration::from_millis(1500)))),
        ("\"1h\"", secs(3600)),
    ];
    for (text, want) in cases {
        assert_eq!(decay_of(&with_key(text)), want, "{text}");
    }
    assert_eq!(LbstatusDecay::OFF.period_ms(), 0);
}

#[test]
fn printed_config_round_trips() {
    for text in ["false", "\"90s\"", "\"1500ms\"", "true"] {
        let cfg = parse_str(&with_key(text), "d.toml").unwrap();
        let printed = cfg.to_string();
        assert!(printed.contains("lbstatus_decay = "), "{printed}");
        assert_eq!(parse_str(&printed, "d.toml"), Ok(cfg), "{text}");
    }
}

#[test]
fn diff_names_the_key() {
    let old = parse_str(MINIMAL, "d.toml").unwrap();
    let new = parse_str(&with_key("false"), "d.toml").unwrap();
    let changes = diff(&old, &new);
    let shown = format!("{changes:?}");
    assert!(shown.contains("lbstatus_decay"), "{shown}");
    assert!(shown.contains("off"), "{shown}");
}

#[test]
fn mistakes_name_line_and_key() {
    for bad in ["0", "\"500ms\"", "\"2h\"", "-5", "\"yes\"", "\"60x\""] {
        let msg = expect_err(&with_key(bad), 3, "balancer[0].lbstatus_decay");
        assert!(msg.contains("expected true, false"), "{bad}: {msg}");
    }
    let msg = expect_err(&with_key("\"2h\""), 3, "balancer[0].lbstatus_decay");
    assert!(msg.contains("out of range 1s..=1h"), "{msg}");
}
