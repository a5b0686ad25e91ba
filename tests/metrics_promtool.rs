//! `/metrics` of a running ringlb after real traffic (a proxied request, a generated 404 and
//! 502, health checks, a reload), piped to the real `promtool check metrics`, which must print
//! nothing; and the families checked to move as the traffic says. Without promtool on the
//! `PATH` the promtool step is skipped with a message, unless `RINGLB_REQUIRE_PROMTOOL=1` (CI
//! installs Debian's `prometheus` package and sets it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::Write;
use std::process::{Command, Stdio};

use common::admin_api::call;
use common::{config, member, millis, poll_until, post, secs, start_proxy, Client, MockMember};
use ringlb::admin::server as admin_server;
use ringlb::config::{
    AdminConfig, BalancerConfig, HcMethod, HealthCheck, IoDriver, LbMethod, PathMount,
};

both_drivers!(scrape_passes_promtool_and_counts_the_traffic,);

/// `promtool check metrics` over `text`: `Some((status ok, everything it printed))`, or `None`
/// when promtool is not installed (a panic instead under `RINGLB_REQUIRE_PROMTOOL=1`).
fn promtool(text: &str) -> Option<(bool, String)> {
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let Ok(mut child) = child else {
        assert!(
            std::env::var_os("RINGLB_REQUIRE_PROMTOOL").is_none(),
            "promtool is required (RINGLB_REQUIRE_PROMTOOL)"
        );
        eprintln!("promtool not installed: promtool check skipped");
        return None;
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let printed =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    Some((out.status.success(), printed))
}

/// The value of the sample written exactly as `series` (name and labels), if present.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

fn scrape_passes_promtool_and_counts_the_traffic(driver: IoDriver) {
    let good = MockMember::named("a");
    let garbage = MockMember::fixed(b"NOT HTTP\r\n\r\n");
    let mut cfg = config(driver, vec![member(good.addr(), "a", 100)]);
    cfg.workers = Some(2);
    cfg.balancers[0].mount = Some(PathMount::new("/app", "/app"));
    cfg.balancers[0].members[0].options.health = Some(HealthCheck {
        method: HcMethod::Get,
        uri: "/health".into(),
        interval: millis(100),
        passes: 1,
        fails: 1,
        status: (200, 399),
    });
    cfg.balancers.push(BalancerConfig {
        name: "bad".into(),
        mount: Some(PathMount::new("/bad", "/bad")),
        lbmethod: LbMethod::ByRequests,
        options: Default::default(),
        sticky: None,
        members: vec![member(garbage.addr(), "g", 100)],
    });
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    cfg.ops.admin = Some(admin_cfg.clone());
    let proxy = start_proxy(cfg.clone());
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    let addr = common::addr(&proxy);

    assert_eq!(
        Client::connect(addr).request(&common::get("/app/x")).status,
        200
    );
    assert_eq!(
        Client::connect(addr)
            .request(&common::get("/nowhere"))
            .status,
        404
    );
    // POST: never replayed, so the member's garbage is the client's 502.
    assert_eq!(
        Client::connect(addr)
            .request(&post("/bad/o", b"x=1"))
            .status,
        502
    );
    assert!(poll_until(secs(5), || good
        .requests()
        .iter()
        .any(|r| r.path == "/health")));
    let mut bad = cfg.clone();
    if let Some(h) = bad.balancers[0].members[0].options.health.as_mut() {
        h.interval = millis(50); // below the 100 ms floor: refused
    }
    assert!(proxy.reload(bad).is_err());
    proxy.reload(cfg).unwrap();

    let scrape = || call(admin.local_addr(), "GET", "/metrics", "", "").2;
    let a = format!(
        "balancer=\"test\",member=\"http://{}\",route=\"a\"",
        good.addr()
    );
    let checks_series = format!("ringlb_member_health_checks_total{{{a}}}");
    // The member sees a probe a moment before the probe task counts it: poll the scrape.
    let mut text = scrape();
    assert!(poll_until(secs(5), || {
        text = scrape();
        sample(&text, &checks_series).is_some_and(|n| n >= 1.0)
    }));
    let generated = |code: &str| {
        sample(
            &text,
            &format!("ringlb_generated_responses_total{{code=\"{code}\"}}"),
        )
    };
    assert_eq!(generated("404"), Some(1.0), "{text}");
    assert_eq!(generated("502"), Some(1.0), "{text}");
    assert_eq!(generated("503"), Some(0.0), "{text}");
    assert_eq!(
        sample(&text, &format!("ringlb_member_in_flight{{{a}}}")),
        Some(0.0)
    );
    assert!(!text.contains("ringlb_member_busy"), "the old name is gone");
    let checks = sample(&text, &checks_series).unwrap();
    assert_eq!(
        sample(
            &text,
            &format!("ringlb_member_health_check_failures_total{{{a}}}")
        ),
        Some(0.0)
    );
    let count = format!("ringlb_member_health_check_duration_seconds_count{{{a}}}");
    assert_eq!(sample(&text, &count), Some(checks));
    // upstream_response is 10 s in the test config: the buckets go up to it, no further.
    let bucket = |le: &str| format!("ringlb_member_response_seconds_bucket{{{a},le=\"{le}\"}}");
    assert_eq!(sample(&text, &bucket("10")), Some(1.0), "{text}");
    assert_eq!(sample(&text, &bucket("30")), None, "{text}");
    let reload_cases = [
        ("ringlb_config_generation", 2.0),
        ("ringlb_reloads_total{result=\"success\"}", 1.0),
        ("ringlb_reloads_total{result=\"failure\"}", 1.0),
    ];
    for (series, want) in reload_cases {
        assert_eq!(sample(&text, series), Some(want), "{series}");
    }
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = sample(&text, "process_start_time_seconds").unwrap();
    assert!(
        start <= now + 1.0 && start > now - 3600.0,
        "start {start}, now {now}"
    );
    assert!(sample(&text, "process_open_fds").unwrap() >= 3.0);
    assert!(
        sample(&text, "process_max_fds").unwrap() >= sample(&text, "process_open_fds").unwrap()
    );
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1e6);
    // Present; its value may still be 0 ticks (10 ms) in a short test.
    assert!(sample(&text, "process_cpu_seconds_total").unwrap() >= 0.0);
    let reloaded = sample(&text, "ringlb_last_reload_success_timestamp_seconds").unwrap();
    assert!(
        reloaded >= start && reloaded <= now + 1.0,
        "reload at {reloaded}"
    );

    // Another generated 404 after the reload: the count carried over and moves on.
    assert_eq!(
        Client::connect(addr)
            .request(&common::get("/nowhere"))
            .status,
        404
    );
    let later = scrape();
    assert_eq!(
        sample(&later, "ringlb_generated_responses_total{code=\"404\"}"),
        Some(2.0),
        "{later}"
    );

    if let Some((ok, printed)) = promtool(&text) {
        assert!(
            ok && printed.is_empty(),
            "promtool check metrics:\n{printed}"
        );
    }
}
