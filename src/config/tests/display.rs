//! `Display for Config`: the printed effective configuration parses back to an equal `Config`.

use std::time::Duration;

use super::failover::FAILOVER;
use super::{EXAMPLE, MINIMAL};
use crate::config::*;

#[test]
fn display_round_trips() {
    let mut text = String::from(EXAMPLE);
    text.push_str(concat!(
        "[[balancer.member]]\nurl = \"http://localhost:9002/\"\nloadfactor = 1.25\n",
        "[[balancer]]\nname = \"b\"\nmount = \"/x\"\ntarget_path = \"/y\"\nlbmethod = \"bytraffic\"\n",
        "[[balancer.member]]\nurl = \"http://[::1]:9003\"\nroute = \"n2\"\nloadfactor = 7.5\n",
    ));
    let text = text.replace("connect = 5\n", "connect = \"1500ms\"\n");
    let cfg = parse_str(&text, "rt.toml").unwrap();
    assert_eq!(cfg.timeouts.connect, Duration::from_millis(1500));
    let printed = cfg.to_string();
    assert!(printed.contains("connect = \"1500ms\"\n"), "{printed}");
    assert!(printed.contains("loadfactor = 1.25\n"), "{printed}");
    assert!(printed.contains("loadfactor = 7.5\n"), "{printed}");
    assert_eq!(parse_str(&printed, "rt.toml"), Ok(cfg));

    let minimal = parse_str(MINIMAL, "m.toml").unwrap();
    let printed = minimal.to_string();
    assert!(printed.contains("workers = \"auto\"\n"), "{printed}");
    assert_eq!(parse_str(&printed, "m.toml"), Ok(minimal));
}

#[test]
fn display_of_flag_config_round_trips() {
    let members = ["http://127.0.0.1:9001,route=a,loadfactor=3".to_owned()];
    let cfg = from_flags(
        vec![DEFAULT_LISTEN],
        Some(1),
        IoDriver::IoUring,
        &members,
        None,
        LbMethod::ByTraffic,
    )
    .unwrap();
    let reparsed = parse_str(&cfg.to_string(), COMMAND_LINE).unwrap();
    assert_eq!(reparsed, cfg);
}

#[test]
fn display_escapes_strings() {
    let mut cfg = parse_str(MINIMAL, "e.toml").unwrap();
    cfg.balancers[0].mount = Some(PathMount::new("/a\"b\\c\u{1}", "/"));
    let printed = cfg.to_string();
    assert!(printed.contains(r#"mount = "/a\"b\\c\u0001""#), "{printed}");
    let reparsed: toml::Table = toml::from_str(&printed).unwrap();
    let mount = &reparsed["balancer"][0]["mount"];
    assert_eq!(mount.as_str(), Some("/a\"b\\c\u{1}"));
}

#[test]
fn display_round_trips_failover_retry_and_health() {
    let cfg = parse_str(FAILOVER, "f.toml").unwrap();
    let printed = cfg.to_string();
    for line in [
        "maxattempts = 1\n",
        "forcerecovery = false\n",
        "failonstatus = [500, 503]\n",
        "failontimeout = true\n",
        "failonstatus = [502, 504]\n",
        "retry = \"0s\"\n",
        "retry = \"5s\"\n",
        "retry = \"500ms\"\n",
        "slowstart = \"30s\"\n",
        "slowstart = \"0s\"\n",
        "\n[balancer.member.health]\nmethod = \"GET\"\nuri = \"/health\"\ninterval = \"10s\"\n\
         passes = 1\nfails = 3\nstatus = \"200-399\"\n",
        "uri = \"/ready?deep=1\"\n",
        "status = \"200\"\n",
        "method = \"TCP\"\n",
        "status = \"204\"\n",
    ] {
        assert!(printed.contains(line), "{line:?} missing in\n{printed}");
    }
    assert_eq!(
        printed.matches("[balancer.member.health]").count(),
        3,
        "{printed}"
    );
    assert!(!printed.contains("[balancer.health]"), "{printed}");
    assert_eq!(parse_str(&printed, "f.toml"), Ok(cfg));

    // Defaults print too: `forcerecovery`, `failontimeout`, `retry`, `slowstart` always;
    // `maxattempts`, `failonstatus` and the health table only when set.
    let minimal = parse_str(MINIMAL, "m.toml").unwrap();
    let printed = minimal.to_string();
    for line in [
        "forcerecovery = true\n",
        "failontimeout = false\n",
        "retry = \"60s\"\n",
        "slowstart = \"0s\"\n",
    ] {
        assert!(printed.contains(line), "{line:?} missing in\n{printed}");
    }
    for absent in ["maxattempts", "failonstatus", "health"] {
        assert!(!printed.contains(absent), "{absent} in\n{printed}");
    }
}

#[test]
fn display_round_trips_health_with_insert_cookie_and_status() {
    let text = format!(
        "{}\n[balancer.insert_cookie]\n[balancer.health]\nmethod = \"options\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\nstatus = \"+H\"\n\
         [balancer.member.health]\nstatus = \"200-299\"\n",
        MINIMAL.trim_end()
    );
    let cfg = parse_str(&text, "c.toml").unwrap();
    let printed = cfg.to_string();
    assert!(printed.contains("method = \"OPTIONS\"\n"), "{printed}");
    assert_eq!(parse_str(&printed, "c.toml"), Ok(cfg));
}
