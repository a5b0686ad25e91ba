//! Tests of the failover keys (`maxattempts`, `forcerecovery`, `failonstatus`,
//! `failontimeout`), the member timings (`retry`, `slowstart`) and the health check tables:
//! inheritance from the balancer to its members as an exact `Config`, spellings, and one test
//! per kind of mistake with its exact line and key. The printed round trip is in `display`.

use std::time::Duration;

use super::{expect_err, member, MINIMAL};
use crate::config::*;

/// Every new key: balancer defaults, a member that inherits them, one that overrides some of
/// them, one that turns the check off, and a second balancer with member-only checks.
pub(super) const FAILOVER: &str = r#"[[balancer]]
name = "cluster"
maxattempts = 1
forcerecovery = "Off"
failonstatus = "500, 503"
failontimeout = "On"
retry = 0
slowstart = "30s"

[balancer.health]
method = "get"
uri = "/health"
interval = "10s"
fails = 3

[[balancer.member]]
url = "http://127.0.0.1:9001"
route = "node1"

[[balancer.member]]
url = "http://127.0.0.1:9002"
route = "node2"
retry = "5s"
slowstart = 0

[balancer.member.health]
uri = "/ready?deep=1"
passes = 2
status = "200"

[[balancer.member]]
url = "http://127.0.0.1:9003"
route = "node3"
health = false

[[balancer]]
name = "b2"
mount = "/x"
failonstatus = [502, 504]

[[balancer.member]]
url = "http://127.0.0.1:9004"
retry = 0.5

[balancer.member.health]
method = "TCP"
status = 204

[[balancer.member]]
url = "http://127.0.0.1:9005"
"#;

fn failover_config() -> Config {
    let with = |port: u16, route: &str, retry, slowstart, health| {
        let url = format!("http://127.0.0.1:{port}");
        let mut m = member(&url, &format!("127.0.0.1:{port}"), route, 100);
        m.options.retry = retry;
        m.options.slowstart = slowstart;
        m.options.health = health;
        m
    };
    let secs = Duration::from_secs;
    let balancer_check = HealthCheck {
        method: HcMethod::Get,
        uri: "/health".into(),
        interval: secs(10),
        passes: 1,
        fails: 3,
        status: (200, 399),
    };
    let member_check = HealthCheck {
        uri: "/ready?deep=1".into(),
        passes: 2,
        status: (200, 200),
        ..balancer_check.clone()
    };
    let tcp_check = HealthCheck {
        method: HcMethod::Tcp,
        status: (204, 204),
        ..HealthCheck::default()
    };
    let cluster = BalancerConfig {
        name: "cluster".into(),
        mount: Some(crate::config::PathMount::new("/", "/")),
        lbmethod: LbMethod::ByRequests,
        sticky: None,
        options: BalancerOptions {
            failover: Failover {
                maxattempts: Some(1),
                forcerecovery: false,
                failonstatus: vec![500, 503],
                failontimeout: true,
            },
            ..BalancerOptions::default()
        },
        members: vec![
            with(9001, "node1", secs(0), secs(30), Some(balancer_check)),
            with(9002, "node2", secs(5), secs(0), Some(member_check)),
            with(9003, "node3", secs(0), secs(30), None),
        ],
    };
    let b2 = BalancerConfig {
        name: "b2".into(),
        mount: Some(crate::config::PathMount::new("/x", "/x")),
        lbmethod: LbMethod::ByRequests,
        sticky: None,
        options: BalancerOptions {
            failover: Failover {
                failonstatus: vec![502, 504],
                ..Failover::default()
            },
            ..BalancerOptions::default()
        },
        members: vec![
            with(
                9004,
                "",
                Duration::from_millis(500),
                secs(0),
                Some(tcp_check),
            ),
            with(9005, "", secs(60), secs(0), None),
        ],
    };
    Config {
        source: "f.toml".into(),
        workers: None,
        io_driver: IoDriver::Auto,
        listen: vec![DEFAULT_LISTEN],
        listeners: Vec::new(),
        timeouts: Timeouts::default(),
        limits: Limits::default(),
        forwarded: Forwarded::default(),
        trust: Default::default(),
        stats: StatsConfig::default(),
        ops: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        balancers: vec![cluster, b2],
    }
}

/// `MINIMAL` with `lines` added to its balancer table (after `name`, on line 3 on).
fn with_balancer_keys(lines: &str) -> String {
    MINIMAL.replace("name = \"c\"\n", &format!("name = \"c\"\n{lines}"))
}

/// The only member's options of `MINIMAL` followed by `tail` (from line 5 on).
fn member_options(tail: &str) -> MemberOptions {
    let cfg = parse_str(&format!("{MINIMAL}{tail}"), "t.toml").unwrap();
    cfg.balancers[0].members[0].options.clone()
}

#[test]
fn inheritance_parses_to_exact_config() {
    assert_eq!(parse_str(FAILOVER, "f.toml"), Ok(failover_config()));
}

#[test]
fn failover_defaults() {
    let cfg = parse_str(MINIMAL, "m.toml").unwrap();
    let f = &cfg.balancers[0].options.failover;
    assert_eq!(
        (f.maxattempts, f.forcerecovery, f.failontimeout),
        (None, true, false)
    );
    assert!(f.failonstatus.is_empty());
    let o = &cfg.balancers[0].members[0].options;
    assert_eq!(
        (o.retry, o.slowstart),
        (Duration::from_secs(60), Duration::ZERO)
    );
    assert_eq!(o.health, None);
}

#[test]
fn empty_health_table_gives_the_defaults() {
    let want = HealthCheck {
        method: HcMethod::Head,
        uri: "/".into(),
        interval: Duration::from_secs(30),
        passes: 1,
        fails: 1,
        status: (200, 399),
    };
    assert_eq!(HealthCheck::default(), want);
    let balancer = member_options("[balancer.health]\n");
    assert_eq!(balancer.health, Some(want.clone()));
    let own = member_options("[balancer.member.health]\n");
    assert_eq!(own.health, Some(want));
    assert_eq!(member_options("health = false\n").health, None);
}

#[test]
fn member_table_with_only_uri_inherits_the_rest() {
    let text = format!(
        "{}[balancer.member.health]\nuri = \"/own\"\n",
        with_balancer_keys("health = { method = \"OPTIONS\", passes = 4 }\n")
    );
    let cfg = parse_str(&text, "t").unwrap();
    let want = HealthCheck {
        method: HcMethod::Options,
        uri: "/own".into(),
        passes: 4,
        ..HealthCheck::default()
    };
    assert_eq!(cfg.balancers[0].members[0].options.health, Some(want));
}

#[test]
fn failover_spellings() {
    let failover = |lines: &str| {
        let cfg = parse_str(&with_balancer_keys(lines), "t").unwrap();
        cfg.balancers[0].options.failover.clone()
    };
    assert_eq!(failover("maxattempts = 0\n").maxattempts, Some(0));
    assert_eq!(failover("maxattempts = 64\n").maxattempts, Some(64));
    assert!(!failover("forcerecovery = false\n").forcerecovery);
    assert!(!failover("forcerecovery = \"off\"\n").forcerecovery);
    assert!(failover("failontimeout = true\n").failontimeout);
    let codes = |text: &str| failover(&format!("failonstatus = {text}\n")).failonstatus;
    assert_eq!(codes("\"503\""), vec![503]);
    assert_eq!(codes("\"500,503 , 502\""), vec![500, 503, 502]);
    assert_eq!(codes("\"500 503\""), vec![500, 503]);
    assert_eq!(codes("\"\""), Vec::<u16>::new());
    assert_eq!(codes("[]"), Vec::<u16>::new());
    assert_eq!(codes("[599, 100]"), vec![599, 100]);
}

#[test]
fn timing_and_health_spellings() {
    let o = member_options("retry = \"0s\"\nslowstart = \"1h\"\n");
    assert_eq!(
        (o.retry, o.slowstart),
        (Duration::ZERO, Duration::from_secs(3600))
    );
    let o = member_options("retry = \"1500ms\"\nslowstart = 2.5\n");
    assert_eq!(o.retry, Duration::from_millis(1500));
    assert_eq!(o.slowstart, Duration::from_millis(2500));
    let check = |lines: &str| {
        member_options(&format!("[balancer.member.health]\n{lines}"))
            .health
            .unwrap()
    };
    for (name, method) in [
        ("tcp", HcMethod::Tcp),
        ("Options", HcMethod::Options),
        ("HEAD", HcMethod::Head),
        ("gEt", HcMethod::Get),
    ] {
        assert_eq!(check(&format!("method = \"{name}\"\n")).method, method);
    }
    assert_eq!(check("status = \"204\"\n").status, (204, 204));
    assert_eq!(check("status = 503\n").status, (503, 503));
    assert_eq!(check("status = \"100-599\"\n").status, (100, 599));
    assert_eq!(check("status = \" 200 - 299 \"\n").status, (200, 299));
    assert_eq!(
        check("interval = \"100ms\"\n").interval,
        Duration::from_millis(100)
    );
    assert_eq!(
        check("interval = 3600\n").interval,
        Duration::from_secs(3600)
    );
    let c = check("passes = 100\nfails = 100\nuri = \"/a/b?c=d&e\"\n");
    assert_eq!(
        (c.passes, c.fails, c.uri.as_str()),
        (100, 100, "/a/b?c=d&e")
    );
}

#[test]
fn maxattempts_out_of_range() {
    let msg = expect_err(
        &with_balancer_keys("maxattempts = 65\n"),
        3,
        "balancer[0].maxattempts",
    );
    assert!(msg.contains("out of range 0..=64"), "{msg}");
    expect_err(
        &with_balancer_keys("maxattempts = -1\n"),
        3,
        "balancer[0].maxattempts",
    );
    let msg = expect_err(
        &with_balancer_keys("maxattempts = \"2\"\n"),
        3,
        "balancer[0].maxattempts",
    );
    assert!(msg.contains("expected an integer"), "{msg}");
}

#[test]
fn bad_switches() {
    let msg = expect_err(
        &with_balancer_keys("forcerecovery = \"yes\"\n"),
        3,
        "balancer[0].forcerecovery",
    );
    assert!(msg.contains("\"On\" or \"Off\""), "{msg}");
    expect_err(
        &with_balancer_keys("failontimeout = 1\n"),
        3,
        "balancer[0].failontimeout",
    );
}

#[test]
fn failonstatus_bad_code() {
    let text = with_balancer_keys("failonstatus = [\n  500,\n  600,\n]\n");
    let msg = expect_err(&text, 5, "balancer[0].failonstatus[1]");
    assert!(msg.contains("600 is not a status code 100..=599"), "{msg}");
    expect_err(
        &with_balancer_keys("failonstatus = [99]\n"),
        3,
        "balancer[0].failonstatus[0]",
    );
    let msg = expect_err(
        &with_balancer_keys("failonstatus = [500, \"503\"]\n"),
        3,
        "balancer[0].failonstatus[1]",
    );
    assert!(msg.contains("found string \"503\""), "{msg}");
    let msg = expect_err(
        &with_balancer_keys("failonstatus = \"500,600\"\n"),
        3,
        "balancer[0].failonstatus",
    );
    assert!(msg.contains("600 is not a status code"), "{msg}");
}

#[test]
fn failonstatus_duplicate() {
    let text = with_balancer_keys("failonstatus = [500,\n 503, 500]\n");
    let msg = expect_err(&text, 4, "balancer[0].failonstatus[2]");
    assert!(msg.contains("status 500 is listed twice"), "{msg}");
    let msg = expect_err(
        &with_balancer_keys("failonstatus = \"503,503\"\n"),
        3,
        "balancer[0].failonstatus",
    );
    assert!(msg.contains("listed twice"), "{msg}");
}

#[test]
fn failonstatus_bad_string_or_type() {
    for bad in ["\"500;503\"", "\"abc\"", "\"5xx\"", "\"+500\""] {
        let text = with_balancer_keys(&format!("failonstatus = {bad}\n"));
        let msg = expect_err(&text, 3, "balancer[0].failonstatus");
        assert!(msg.contains("is not a status code"), "{bad}: {msg}");
    }
    let msg = expect_err(
        &with_balancer_keys("failonstatus = 500\n"),
        3,
        "balancer[0].failonstatus",
    );
    assert!(msg.contains("expected an array of status codes"), "{msg}");
    expect_err(
        &with_balancer_keys("failonstatus = { a = 1 }\n"),
        3,
        "balancer[0].failonstatus",
    );
}

#[test]
fn bad_health_method() {
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.health]\nmethod = \"POST\"\n"),
        6,
        "balancer[0].health.method",
    );
    assert!(
        msg.contains("expected TCP, OPTIONS, HEAD, GET or CPING"),
        "{msg}"
    );
    expect_err(
        &format!("{MINIMAL}[balancer.member.health]\nuri = \"/\"\nmethod = 1\n"),
        7,
        "balancer[0].member[0].health.method",
    );
}

#[test]
fn health_uri_without_leading_slash() {
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.member.health]\nuri = \"health\"\n"),
        6,
        "balancer[0].member[0].health.uri",
    );
    assert!(msg.contains("must start with \"/\""), "{msg}");
    let msg = expect_err(
        &with_balancer_keys("health = { uri = \"/a b\" }\n"),
        3,
        "balancer[0].health.uri",
    );
    assert!(msg.contains("without whitespace"), "{msg}");
}

#[test]
fn health_interval_out_of_range() {
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.health]\ninterval = \"50ms\"\n"),
        6,
        "balancer[0].health.interval",
    );
    assert!(msg.contains("out of range 100ms..=1h"), "{msg}");
    expect_err(
        &format!("{MINIMAL}[balancer.member.health]\ninterval = \"61m\"\n"),
        6,
        "balancer[0].member[0].health.interval",
    );
    expect_err(
        &format!("{MINIMAL}[balancer.health]\ninterval = 0\n"),
        6,
        "balancer[0].health.interval",
    );
}

#[test]
fn health_passes_or_fails_zero() {
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.health]\npasses = 0\n"),
        6,
        "balancer[0].health.passes",
    );
    assert!(msg.contains("0 is out of range 1..=100"), "{msg}");
    expect_err(
        &format!("{MINIMAL}[balancer.member.health]\npasses = 1\nfails = 0\n"),
        7,
        "balancer[0].member[0].health.fails",
    );
    expect_err(
        &format!("{MINIMAL}[balancer.health]\nfails = 101\n"),
        6,
        "balancer[0].health.fails",
    );
}

#[test]
fn bad_health_status_range() {
    for (bad, want) in [
        ("\"399-200\"", "is empty"),
        ("\"abc\"", "expected a status range"),
        ("\"600\"", "600 is not a status code"),
        ("\"200-\"", "expected a status range"),
        ("\"200-300-400\"", "expected a status range"),
        ("99", "99 is not a status code"),
        ("true", "expected a status range"),
    ] {
        let text = format!("{MINIMAL}[balancer.member.health]\nstatus = {bad}\n");
        let msg = expect_err(&text, 6, "balancer[0].member[0].health.status");
        assert!(msg.contains(want), "{bad}: {msg}");
    }
}

#[test]
fn unknown_key_in_health_table() {
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.health]\nuri = \"/\"\nhcuri = \"/\"\n"),
        7,
        "balancer[0].health.hcuri",
    );
    assert!(msg.contains("unknown field `hcuri`"), "{msg}");
    let msg = expect_err(
        &format!("{MINIMAL}[balancer.member.health]\nexpect = 200\n"),
        6,
        "balancer[0].member[0].health.expect",
    );
    assert!(msg.contains("unknown field `expect`"), "{msg}");
}

#[test]
fn health_true_or_wrong_type() {
    let msg = expect_err(
        &format!("{MINIMAL}health = true\n"),
        5,
        "balancer[0].member[0].health",
    );
    assert!(msg.contains("[balancer.member.health] table"), "{msg}");
    expect_err(
        &format!("{MINIMAL}health = \"on\"\n"),
        5,
        "balancer[0].member[0].health",
    );
    expect_err(
        &with_balancer_keys("health = false\n"),
        3,
        "balancer[0].health",
    );
}

#[test]
fn retry_negative_or_out_of_range() {
    let msg = expect_err(
        &format!("{MINIMAL}retry = -1\n"),
        5,
        "balancer[0].member[0].retry",
    );
    assert!(msg.contains("-1 seconds is out of range 0..=1h"), "{msg}");
    expect_err(
        &with_balancer_keys("retry = \"2h\"\n"),
        3,
        "balancer[0].retry",
    );
    expect_err(
        &format!("{MINIMAL}retry = \"soon\"\n"),
        5,
        "balancer[0].member[0].retry",
    );
}

#[test]
fn slowstart_out_of_range() {
    let msg = expect_err(
        &with_balancer_keys("slowstart = 3601\n"),
        3,
        "balancer[0].slowstart",
    );
    assert!(msg.contains("out of range 0..=1h"), "{msg}");
    expect_err(
        &format!("{MINIMAL}slowstart = -0.5\n"),
        5,
        "balancer[0].member[0].slowstart",
    );
}

#[test]
fn member_errors_come_after_the_balancer_defaults_are_checked() {
    // A bad balancer default is reported even when every member overrides it.
    let text = format!("{}retry = 5\n", with_balancer_keys("retry = -5\n"));
    expect_err(&text, 3, "balancer[0].retry");
}
