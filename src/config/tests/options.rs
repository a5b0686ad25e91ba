//! Tests of the balancer and member options (status, lbset, activation, redirect, domain, sticky
//! separator, insert-cookie, headers) and of `[stats]`: the full example, spellings, the printed
//! round trip, and one test per kind of mistake with its exact line and key.

use std::time::Duration;

use super::{example_config, expect_err, member, MINIMAL};
use crate::config::Status;
use crate::config::*;

/// Every new key, most of them away from their defaults.
const FULL: &str = r#"workers = 2
listen = ["127.0.0.1:8080"]

[stats]
merge_interval = "20ms"

[[balancer]]
name = "cluster"
stickysession = "JSESSIONID|jsessionid"
stickysessionsep = "Off"
scolonpathdelim = "Off"
nofailover = "On"
balancer_headers = true
activation_header = "X-JK-LB-Activation"
lbstatus_decay = "30s"

[balancer.insert_cookie]
name = "ROUTEID"
path = "/app"
domain = "example.com"
max_age = 3600
httponly = false
secure = true
samesite = "lax"

[[balancer.member]]
url = "http://127.0.0.1:9001"
route = "node1"
lbset = 1
status = "+H-D"
redirect = "node2"
domain = "east"

[[balancer.member]]
url = "http://127.0.0.1:9002"
route = "node2"
distance = 2
activation = "disabled"
status = "I"
domain = "east"

[[balancer.member]]
url = "http://127.0.0.1:9003"
route = "node3"
activation = "S"
redirect = "node1"
"#;

fn full_config() -> Config {
    let mut want = example_config();
    want.source = "full.toml".into();
    want.stats.merge_interval = Duration::from_millis(20);
    let b = &mut want.balancers[0];
    b.sticky = Some(Sticky {
        cookie_name: "JSESSIONID".into(),
        url_name: "jsessionid".into(),
        sep: None,
        scolonpathdelim: false,
    });
    b.options = BalancerOptions {
        nofailover: true,
        insert_cookie: Some(InsertCookie {
            name: "ROUTEID".into(),
            path: "/app".into(),
            domain: Some("example.com".into()),
            max_age: Some(3600),
            http_only: false,
            secure: true,
            same_site: Some("Lax".into()),
        }),
        balancer_headers: true,
        activation_header: Some("X-JK-LB-Activation".into()),
        failover: Default::default(),
        member_tls: Default::default(),
        lbstatus_decay: LbstatusDecay(Some(Duration::from_secs(30))),
        reverse: Default::default(),
    };
    let with = |port: u16, route: &str, lbset, status, redirect: &str, domain: &str| {
        let url = format!("http://127.0.0.1:{port}");
        let mut m = member(&url, &format!("127.0.0.1:{port}"), route, 100);
        m.options = MemberOptions {
            lbset,
            status,
            redirect: redirect.into(),
            domain: domain.into(),
            ..MemberOptions::default()
        };
        m
    };
    let drain_ignore = Status::DRAIN | Status::IGNORE_ERRORS;
    b.members = vec![
        with(9001, "node1", 1, Status::HOT_STANDBY, "node2", "east"),
        with(9002, "node2", 2, drain_ignore, "", "east"),
        with(9003, "node3", 0, Status::STOPPED, "node1", ""),
    ];
    want
}

/// `MINIMAL` with `lines` added to its balancer table (after `name`, on line 3 on).
fn with_balancer_keys(lines: &str) -> String {
    MINIMAL.replace("name = \"c\"\n", &format!("name = \"c\"\n{lines}"))
}

/// A sticky balancer with two members, routes `a` (table on line 4) and `b` (line 7); `extra` is
/// appended to member `b` from line 10 on.
fn two_members(extra: &str) -> String {
    format!(
        "[[balancer]]\nname = \"c\"\nstickysession = \"JSESSIONID\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:1\"\nroute = \"a\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:2\"\nroute = \"b\"\n{extra}"
    )
}

/// The status of the only member of `MINIMAL` with member keys `lines` (from line 5).
fn member_status(lines: &str) -> Result<Status, ConfigError> {
    let cfg = parse_str(&format!("{MINIMAL}{lines}"), "t.toml")?;
    Ok(cfg.balancers[0].members[0].options.status)
}

#[test]
fn full_example_parses_to_exact_config() {
    assert_eq!(parse_str(FULL, "full.toml"), Ok(full_config()));
}

#[test]
fn new_keys_default() {
    let cfg = parse_str(MINIMAL, "m.toml").unwrap();
    assert_eq!(cfg.stats.merge_interval, Duration::from_millis(5));
    assert_eq!(cfg.balancers[0].options, BalancerOptions::default());
    assert_eq!(
        cfg.balancers[0].members[0].options,
        MemberOptions::default()
    );
    let sticky = parse_str(&with_balancer_keys("stickysession = \"S\"\n"), "t").unwrap();
    assert_eq!(sticky.balancers[0].sticky, Some(Sticky::new("S", "S")));
    let cookie = parse_str(&format!("{MINIMAL}[balancer.insert_cookie]\n"), "t").unwrap();
    let want = InsertCookie {
        name: "ROUTEID".into(),
        path: "/".into(),
        domain: None,
        max_age: None,
        http_only: true,
        secure: false,
        same_site: None,
    };
    assert_eq!(cookie.balancers[0].options.insert_cookie, Some(want));
}

#[test]
fn display_round_trips_every_new_key() {
    let cfg = parse_str(FULL, "full.toml").unwrap();
    let printed = cfg.to_string();
    for line in [
        "merge_interval = \"20ms\"\n",
        "stickysessionsep = \"Off\"\n",
        "scolonpathdelim = false\n",
        "nofailover = true\n",
        "balancer_headers = true\n",
        "activation_header = \"X-JK-LB-Activation\"\n",
        "[balancer.insert_cookie]\n",
        "samesite = \"Lax\"\n",
        "max_age = 3600\n",
        "lbset = 2\n",
        "status = \"+H\"\n",
        "status = \"+I+N\"\n",
        "status = \"+S\"\n",
        "redirect = \"node2\"\n",
        "domain = \"east\"\n",
    ] {
        assert!(printed.contains(line), "{line:?} missing in\n{printed}");
    }
    assert_eq!(parse_str(&printed, "full.toml"), Ok(cfg));

    let defaults = parse_str(&with_balancer_keys("stickysession = \"S\"\n"), "d").unwrap();
    let printed = defaults.to_string();
    assert!(
        printed.contains("[stats]\nmerge_interval = \"5ms\"\n"),
        "{printed}"
    );
    assert!(printed.contains("stickysessionsep = \".\"\n"), "{printed}");
    assert!(printed.contains("scolonpathdelim = true\n"), "{printed}");
    assert!(!printed.contains("status ="), "{printed}");
    assert_eq!(parse_str(&printed, "d"), Ok(defaults));
}

#[test]
fn display_prints_every_status_flag_in_order() {
    let mut cfg = parse_str(MINIMAL, "s").unwrap();
    cfg.balancers[0].members[0].options.status = Status::HOT_SPARE
        | Status::DRAIN
        | Status::HOT_STANDBY
        | Status::IGNORE_ERRORS
        | Status::STOPPED
        | Status::DISABLED;
    let printed = cfg.to_string();
    assert!(printed.contains("status = \"+D+S+I+H+R+N\"\n"), "{printed}");
    assert_eq!(parse_str(&printed, "s"), Ok(cfg));
}

#[test]
fn status_spellings() {
    let (d, s, h, n) = (
        Status::DISABLED,
        Status::STOPPED,
        Status::HOT_STANDBY,
        Status::DRAIN,
    );
    let cases: [(&str, Status); 9] = [
        ("", Status::NONE),
        ("D", d),
        ("+H", h),
        ("+h-d", h),
        ("+H-D", h),
        ("+D-D", Status::NONE),
        ("DS", d | s),
        // As in mod_proxy, a sign holds for the letters after it.
        ("+HD-DS", h),
        ("+R+i+N", Status::HOT_SPARE | Status::IGNORE_ERRORS | n),
    ];
    for (text, want) in cases {
        let got = member_status(&format!("status = {text:?}\n"));
        assert_eq!(got, Ok(want), "{text:?}");
    }
}

#[test]
fn activation_maps_to_flags_before_status() {
    let cases: [(&str, &str, Status); 7] = [
        ("active", "", Status::NONE),
        ("A", "", Status::NONE),
        ("Disabled", "", Status::DRAIN),
        ("d", "", Status::DRAIN),
        ("STOPPED", "", Status::STOPPED),
        ("s", "-S+H", Status::HOT_STANDBY),
        ("disabled", "+D", Status::DRAIN | Status::DISABLED),
    ];
    for (activation, status, want) in cases {
        // status is written first: the order of the keys in the file does not matter.
        let lines = format!("status = {status:?}\nactivation = {activation:?}\n");
        assert_eq!(member_status(&lines), Ok(want), "{activation} {status}");
    }
}

#[test]
fn distance_is_lbset() {
    let cfg = parse_str(&format!("{MINIMAL}distance = 99\n"), "t").unwrap();
    assert_eq!(cfg.balancers[0].members[0].options.lbset, 99);
    let cfg = parse_str(&format!("{MINIMAL}lbset = 0\n"), "t").unwrap();
    assert_eq!(cfg.balancers[0].members[0].options.lbset, 0);
}

#[test]
fn switches_take_bool_or_on_off() {
    for (value, want) in [("true", true), ("\"on\"", true), ("\"OFF\"", false)] {
        let text = with_balancer_keys(&format!(
            "stickysession = \"S\"\nscolonpathdelim = {value}\nnofailover = {value}\n\
             balancer_headers = {value}\n"
        ));
        let b = &parse_str(&text, "t").unwrap().balancers[0];
        assert_eq!(b.sticky.as_ref().map(|s| s.scolonpathdelim), Some(want));
        assert_eq!(
            (b.options.nofailover, b.options.balancer_headers),
            (want, want)
        );
    }
}

#[test]
fn sticky_separator_spellings() {
    for (value, want) in [("off", None), ("_", Some(b'_')), ("~", Some(b'~'))] {
        let text = with_balancer_keys(&format!(
            "stickysession = \"S\"\nstickysessionsep = {value:?}\n"
        ));
        let cfg = parse_str(&text, "t").unwrap();
        assert_eq!(
            cfg.balancers[0].sticky.as_ref().unwrap().sep,
            want,
            "{value}"
        );
    }
}

#[test]
fn all_members_stopped_or_disabled_is_allowed() {
    let text = two_members("activation = \"stopped\"\n")
        .replace("route = \"a\"\n", "route = \"a\"\nstatus = \"D\"\n");
    assert!(parse_str(&text, "t").is_ok());
}

#[test]
fn redirect_chains_and_cycles_are_allowed() {
    let text = two_members("redirect = \"a\"\n")
        .replace("route = \"a\"\n", "route = \"a\"\nredirect = \"b\"\n");
    let cfg = parse_str(&text, "t").unwrap();
    let redirects: Vec<&str> = cfg.balancers[0]
        .members
        .iter()
        .map(|m| m.options.redirect.as_str())
        .collect();
    assert_eq!(redirects, ["b", "a"]);
}

#[test]
fn bad_status_letter() {
    let msg = expect_err(
        &format!("{MINIMAL}status = \"+X\"\n"),
        5,
        "balancer[0].member[0].status",
    );
    assert!(msg.contains("unknown status flag 'X'"), "{msg}");
    for bad in ["+H D", "O", "+Ü"] {
        let text = format!("{MINIMAL}status = {bad:?}\n");
        expect_err(&text, 5, "balancer[0].member[0].status");
    }
}

#[test]
fn runtime_only_status_flags() {
    for bad in ["+E", "c", "+H-C"] {
        let msg = expect_err(
            &format!("{MINIMAL}status = {bad:?}\n"),
            5,
            "balancer[0].member[0].status",
        );
        assert!(msg.contains("set at run time only"), "{bad}: {msg}");
    }
}

#[test]
fn malformed_status() {
    for bad in ["+", "H+", "-", "++H", "+-D", "+H-"] {
        let msg = expect_err(
            &format!("{MINIMAL}status = {bad:?}\n"),
            5,
            "balancer[0].member[0].status",
        );
        assert!(msg.starts_with("malformed status"), "{bad}: {msg}");
    }
}

#[test]
fn lbset_out_of_range_or_wrong_type() {
    for (key, bad) in [("lbset", "100"), ("lbset", "-1"), ("distance", "\"1\"")] {
        let text = format!("{MINIMAL}{key} = {bad}\n");
        expect_err(&text, 5, &format!("balancer[0].member[0].{key}"));
    }
}

#[test]
fn lbset_and_distance_both() {
    let msg = expect_err(
        &format!("{MINIMAL}distance = 1\nlbset = 1\n"),
        5,
        "balancer[0].member[0].distance",
    );
    assert!(msg.contains("only one"), "{msg}");
}

#[test]
fn unknown_activation() {
    let msg = expect_err(
        &format!("{MINIMAL}activation = \"drain\"\n"),
        5,
        "balancer[0].member[0].activation",
    );
    assert!(msg.contains("active, disabled or stopped"), "{msg}");
}

#[test]
fn redirect_to_unknown_route() {
    let msg = expect_err(
        &two_members("redirect = \"c\"\n"),
        10,
        "balancer[0].member[1].redirect",
    );
    assert!(msg.contains("not the route of any member"), "{msg}");
}

#[test]
fn redirect_to_a_route_of_another_balancer() {
    let text = format!(
        "{}[[balancer]]\nname = \"d\"\nmount = \"/d\"\n[[balancer.member]]\n\
         url = \"http://127.0.0.1:3\"\nroute = \"x\"\n",
        two_members("redirect = \"x\"\n")
    );
    expect_err(&text, 10, "balancer[0].member[1].redirect");
}

#[test]
fn redirect_to_self() {
    let msg = expect_err(
        &two_members("redirect = \"b\"\n"),
        10,
        "balancer[0].member[1].redirect",
    );
    assert!(msg.contains("own route"), "{msg}");
}

#[test]
fn redirect_from_a_member_without_route() {
    let text = two_members("").replace("route = \"a\"\n", "redirect = \"b\"\n");
    let msg = expect_err(&text, 6, "balancer[0].member[0].redirect");
    assert!(msg.contains("needs this member to have a route"), "{msg}");
}

#[test]
fn a_domain_may_be_shared_by_any_members_with_or_without_a_route() {
    // a has no route: it takes no sessions of its own, but takes b's when b is unusable.
    let text = two_members("domain = \"east\"\n").replace("route = \"a\"\n", "domain = \"east\"\n");
    let cfg = parse_str(&text, "t").unwrap();
    let domains: Vec<&str> = cfg.balancers[0]
        .members
        .iter()
        .map(|m| m.options.domain.as_str())
        .collect();
    assert_eq!(domains, ["east", "east"]);
    // A domain named like a member's route is allowed: that route goes to the member.
    assert!(parse_str(&two_members("domain = \"a\"\n"), "t").is_ok());
}

#[test]
fn bad_domain_syntax() {
    for bad in ["a b", "a;b", "x=y", "\\u00e9", "q\\\"", "tab\\t"] {
        let msg = expect_err(
            &two_members(&format!("domain = \"{bad}\"\n")),
            10,
            "balancer[0].member[1].domain",
        );
        assert!(msg.contains("domain"), "{bad}: {msg}");
    }
    expect_err(
        &two_members("domain = 1\n"),
        10,
        "balancer[0].member[1].domain",
    );
}

#[test]
fn bad_redirect_syntax() {
    expect_err(
        &two_members("redirect = \"a b\"\n"),
        10,
        "balancer[0].member[1].redirect",
    );
}

#[test]
fn bad_stickysessionsep() {
    for bad in ["..", "a", "7", "", "On", " "] {
        let text = with_balancer_keys(&format!(
            "stickysession = \"S\"\nstickysessionsep = {bad:?}\n"
        ));
        expect_err(&text, 4, "balancer[0].stickysessionsep");
    }
}

#[test]
fn sticky_options_without_stickysession() {
    let msg = expect_err(
        &with_balancer_keys("stickysessionsep = \".\"\n"),
        3,
        "balancer[0].stickysessionsep",
    );
    assert!(msg.contains("needs stickysession"), "{msg}");
    let msg = expect_err(
        &with_balancer_keys("scolonpathdelim = true\n"),
        3,
        "balancer[0].scolonpathdelim",
    );
    assert!(msg.contains("needs stickysession"), "{msg}");
}

#[test]
fn bad_switch_value() {
    for key in ["nofailover", "balancer_headers", "scolonpathdelim"] {
        let text = with_balancer_keys(&format!("stickysession = \"S\"\n{key} = \"yes\"\n"));
        let msg = expect_err(&text, 4, &format!("balancer[0].{key}"));
        assert!(msg.contains("\"On\" or \"Off\""), "{msg}");
    }
}

#[test]
fn bad_activation_header() {
    for bad in ["", "X JK", "X-JK:", "Ü"] {
        let text = with_balancer_keys(&format!("activation_header = {bad:?}\n"));
        expect_err(&text, 3, "balancer[0].activation_header");
    }
}

#[test]
fn bad_samesite() {
    let text = format!("{MINIMAL}[balancer.insert_cookie]\nsamesite = \"Loose\"\n");
    let msg = expect_err(&text, 6, "balancer[0].insert_cookie.samesite");
    assert!(msg.contains("Strict, Lax or None"), "{msg}");
}

#[test]
fn bad_insert_cookie_name() {
    for bad in ["", "ROUTE ID", "a=b", "a;b", "(x)"] {
        let text = format!("{MINIMAL}[balancer.insert_cookie]\nname = {bad:?}\n");
        expect_err(&text, 6, "balancer[0].insert_cookie.name");
    }
}

#[test]
fn bad_insert_cookie_values() {
    let cases = [
        ("path", "\"app\""),
        ("path", "\"/a;b\""),
        ("domain", "\"\""),
        ("domain", "\"exa mple.com\""),
        ("domain", "\"a..b\""),
        ("max_age", "-1"),
        ("max_age", "\"1h\""),
        ("httponly", "\"yes\""),
    ];
    for (key, bad) in cases {
        let text = format!("{MINIMAL}[balancer.insert_cookie]\n\n{key} = {bad}\n");
        expect_err(&text, 7, &format!("balancer[0].insert_cookie.{key}"));
    }
}

#[test]
fn unknown_key_in_insert_cookie() {
    let text = format!("{MINIMAL}[balancer.insert_cookie]\nname = \"R\"\nhttp_only = true\n");
    let msg = expect_err(&text, 7, "balancer[0].insert_cookie.http_only");
    assert!(msg.contains("unknown field `http_only`"), "{msg}");
}

#[test]
fn merge_interval_out_of_range() {
    for bad in ["0", "\"2s\"", "1.5", "\"0.1ms\"", "true"] {
        let text = format!("[stats]\nmerge_interval = {bad}\n{MINIMAL}");
        let msg = expect_err(&text, 2, "stats.merge_interval");
        assert!(
            msg.contains("1ms..=1s") || msg.contains("expected seconds"),
            "{msg}"
        );
    }
    let text = format!("[stats]\nmerge_interval = 1\n{MINIMAL}");
    let cfg = parse_str(&text, "t").unwrap();
    assert_eq!(cfg.stats.merge_interval, Duration::from_secs(1));
}

#[test]
fn unknown_key_in_stats() {
    expect_err(
        &format!("[stats]\ninterval = \"5ms\"\n{MINIMAL}"),
        2,
        "stats.interval",
    );
}
