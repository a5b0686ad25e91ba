//! The resource keys (`timeouts.client_body`, `client_body_max`, `tunnel_idle`,
//! `limits.min_body_rate`, `max_connections`) and the refusal of members that are ringlb itself.

use std::time::Duration;

use super::{expect_err, MINIMAL};
use crate::config::*;

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn defaults_follow_httpd_reqtimeout_and_haproxy_tunnel() {
    let cfg = parse(MINIMAL);
    assert_eq!(cfg.timeouts.client_body, Duration::from_secs(20));
    assert_eq!(cfg.timeouts.client_body_max, Duration::ZERO);
    assert_eq!(cfg.timeouts.tunnel_idle, Duration::from_secs(3600));
    assert_eq!(cfg.limits.min_body_rate, 500);
    assert_eq!(cfg.limits.max_connections, None);
}

#[test]
fn keys_are_read() {
    let cfg = parse(&format!(
        "[timeouts]\nclient_body = \"10s\"\nclient_body_max = 40\ntunnel_idle = \"2m\"\n\
         [limits]\nmin_body_rate = 0\nmax_connections = 512\n{MINIMAL}"
    ));
    assert_eq!(cfg.timeouts.client_body, Duration::from_secs(10));
    assert_eq!(cfg.timeouts.client_body_max, Duration::from_secs(40));
    assert_eq!(cfg.timeouts.tunnel_idle, Duration::from_secs(120));
    assert_eq!(cfg.limits.min_body_rate, 0);
    assert_eq!(cfg.limits.max_connections, Some(512));
    let auto = parse(&format!("[limits]\nmax_connections = \"auto\"\n{MINIMAL}"));
    assert_eq!(auto.limits.max_connections, None);
}

#[test]
fn printed_config_round_trips_the_new_keys() {
    let cfg = parse(&format!(
        "[timeouts]\nclient_body = 3\nclient_body_max = 0\ntunnel_idle = 0.5\n\
         [limits]\nmin_body_rate = 1000\nmax_connections = 7\n{MINIMAL}"
    ));
    let printed = cfg.to_string();
    for line in [
        "client_body = \"3s\"",
        "tunnel_idle = \"500ms\"",
        "min_body_rate = 1000",
        "max_connections = 7",
    ] {
        assert!(printed.contains(line), "{line:?} in\n{printed}");
    }
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg);
    let auto = parse(MINIMAL);
    let printed = auto.to_string();
    assert!(printed.contains("max_connections = \"auto\""), "{printed}");
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), auto);
}

#[test]
fn bad_values_name_file_line_and_key() {
    let cases = [
        ("[timeouts]\nclient_body = 0\n", 2, "timeouts.client_body"),
        (
            "[timeouts]\n\ntunnel_idle = \"1 hour\"\n",
            3,
            "timeouts.tunnel_idle",
        ),
        (
            "[timeouts]\nclient_body_max = -1\n",
            2,
            "timeouts.client_body_max",
        ),
        // A cap below the initial timeout could never be reached.
        (
            "[timeouts]\nclient_body = 30\nclient_body_max = 10\n",
            3,
            "timeouts.client_body_max",
        ),
        ("[limits]\nmin_body_rate = -5\n", 2, "limits.min_body_rate"),
        (
            "[limits]\nmin_body_rate = \"fast\"\n",
            2,
            "limits.min_body_rate",
        ),
        (
            "[limits]\nmax_connections = 0\n",
            2,
            "limits.max_connections",
        ),
        (
            "[limits]\nmax_connections = \"many\"\n",
            2,
            "limits.max_connections",
        ),
        (
            "[limits]\nmax_connections = 1.5\n",
            2,
            "limits.max_connections",
        ),
    ];
    for (lines, line, key) in cases {
        expect_err(&format!("{lines}{MINIMAL}"), line, key);
    }
}

#[test]
fn changes_show_in_the_diff() {
    let old = parse(MINIMAL);
    let new = parse(&format!(
        "[timeouts]\ntunnel_idle = 60\n[limits]\nmax_connections = 100\n{MINIMAL}"
    ));
    let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"~ timeouts.tunnel_idle: 3600s -> 60s".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"~ limits.max_connections: auto -> 100".to_owned()),
        "{lines:?}"
    );
}

/// `MINIMAL` with its member at `url`, and `head` before it.
fn with_member(head: &str, url: &str) -> String {
    format!("{head}{}", MINIMAL.replace("http://127.0.0.1:9001", url))
}

#[test]
fn member_that_is_ringlbs_own_listener_is_refused() {
    // MINIMAL's member url is on line 4 after `head`'s lines.
    let cases = [
        ("listen = [\"127.0.0.1:8080\"]\n", "http://127.0.0.1:8080"),
        ("listen = [\"127.0.0.1:8080\"]\n", "http://localhost:8080/"),
        ("listen = [\"0.0.0.0:8080\"]\n", "http://127.0.0.1:8080"),
        ("listen = [\"0.0.0.0:8080\"]\n", "http://127.0.0.7:8080"),
        ("listen = [\"127.0.0.1:8080\"]\n", "http://0.0.0.0:8080"),
        ("listen = [\"[::]:8080\"]\n", "http://[::1]:8080"),
        (
            "listen = [\"127.0.0.1:9\", \"10.1.2.3:80\"]\n",
            "http://10.1.2.3",
        ),
    ];
    for (head, url) in cases {
        let msg = expect_err(&with_member(head, url), 5, "balancer[0].member[0].url");
        assert!(msg.contains("loop back into ringlb"), "{url}: {msg}");
    }
    // The default listen address (127.0.0.1:8080) counts too.
    expect_err(
        &with_member("", "http://127.0.0.1:8080"),
        4,
        "balancer[0].member[0].url",
    );
}

#[test]
fn member_that_is_the_admin_listener_is_refused() {
    let text = with_member(
        "listen = [\"127.0.0.1:8080\"]\n[admin]\nlisten = \"127.0.0.1:8081\"\n",
        "http://127.0.0.1:8081",
    );
    let msg = expect_err(&text, 7, "balancer[0].member[0].url");
    assert!(msg.contains("admin.listen"), "{msg}");
}

#[test]
fn other_ports_addresses_and_families_are_members() {
    let cases = [
        ("listen = [\"127.0.0.1:8080\"]\n", "http://127.0.0.1:8081"),
        ("listen = [\"127.0.0.1:8080\"]\n", "http://127.0.0.2:8080"),
        ("listen = [\"10.0.0.1:8080\"]\n", "http://127.0.0.1:8080"),
        ("listen = [\"0.0.0.0:8080\"]\n", "http://[::1]:8080"),
        ("listen = [\"127.0.0.1:0\"]\n", "http://127.0.0.1:9001"),
    ];
    for (head, url) in cases {
        let text = with_member(head, url);
        parse_str(&text, "t.toml").unwrap_or_else(|e| panic!("{url}: {e}"));
    }
}

#[test]
fn flag_member_that_is_the_listen_address_is_refused() {
    let listen = vec!["127.0.0.1:8080".parse().unwrap()];
    let err = from_flags(
        listen,
        None,
        IoDriver::Auto,
        &["http://127.0.0.1:8080".to_owned()],
        None,
        LbMethod::ByRequests,
    )
    .expect_err("a member on ringlb's own address is refused");
    assert_eq!(err.key, "--member");
    assert!(err.message.contains("loop back into ringlb"), "{err}");
}
