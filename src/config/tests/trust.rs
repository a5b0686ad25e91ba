//! The client-trust keys (`proxy_protocol`, `trusted_proxies`): defaults, spellings, the
//! printed round trip, the diff, and one refusal per kind of mistake with its line and key.

use super::{expect_err, MINIMAL};
use crate::config::*;
use crate::ipnet::IpNet;

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    list.iter().map(|n| n.parse().expect("a block")).collect()
}

#[test]
fn nobody_is_trusted_and_no_header_is_expected_by_default() {
    let cfg = parse(MINIMAL);
    assert_eq!(cfg.trust, Trust::default());
    assert!(!cfg.trust.proxy_protocol);
    assert!(cfg.trust.trusted_proxies.is_empty());
}

#[test]
fn keys_are_read() {
    let cfg = parse(&format!(
        "proxy_protocol = true\n\
         trusted_proxies = [\"10.0.0.0/8\", \" 192.168.1.7 \", \"2001:db8::/32\"]\n{MINIMAL}"
    ));
    assert!(cfg.trust.proxy_protocol);
    assert_eq!(
        cfg.trust.trusted_proxies,
        nets(&["10.0.0.0/8", "192.168.1.7/32", "2001:db8::/32"])
    );
    // Host bits are cleared as in `admin.allow`.
    let cfg = parse(&format!("trusted_proxies = [\"172.16.5.4/12\"]\n{MINIMAL}"));
    assert_eq!(cfg.trust.trusted_proxies, nets(&["172.16.0.0/12"]));
    let cfg = parse(&format!(
        "trusted_proxies = []\nproxy_protocol = false\n{MINIMAL}"
    ));
    assert_eq!(cfg.trust, Trust::default());
}

#[test]
fn printed_config_round_trips_the_new_keys() {
    for head in [
        "",
        "proxy_protocol = true\ntrusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n",
    ] {
        let cfg = parse(&format!("{head}{MINIMAL}"));
        let printed = cfg.to_string();
        assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
        let pp = format!("proxy_protocol = {}", cfg.trust.proxy_protocol);
        assert!(printed.contains(&pp), "{printed}");
    }
    let cfg = parse(&format!(
        "trusted_proxies = [\"10.0.0.0/8\", \"::1\"]\n{MINIMAL}"
    ));
    let printed = cfg.to_string();
    assert!(
        printed.contains("trusted_proxies = [\"10.0.0.0/8\", \"::1/128\"]"),
        "{printed}"
    );
}

#[test]
fn bad_values_name_file_line_and_key() {
    let cases = [
        ("proxy_protocol = \"yes\"\n", 1, "proxy_protocol"),
        ("\nproxy_protocol = 1\n", 2, "proxy_protocol"),
        ("trusted_proxies = \"10.0.0.0/8\"\n", 1, "trusted_proxies"),
        ("trusted_proxies = [8]\n", 1, "trusted_proxies"),
        (
            "trusted_proxies = [\"10.0.0.0/8\",\n  \"10.0.0.0/33\"]\n",
            2,
            "trusted_proxies[1]",
        ),
        (
            "trusted_proxies = [\"proxy.example\"]\n",
            1,
            "trusted_proxies[0]",
        ),
        ("trusted_proxies = [\"\"]\n", 1, "trusted_proxies[0]"),
        (
            "trusted_proxies = [\"10.0.0.0/8\", \"10.9.9.9/8\"]\n",
            1,
            "trusted_proxies[1]",
        ),
        (
            "[headers]\nproxy_protocol = true\n",
            2,
            "headers.proxy_protocol",
        ),
    ];
    for (lines, line, key) in cases {
        expect_err(&format!("{lines}{MINIMAL}"), line, key);
    }
    let msg = expect_err(
        &format!("trusted_proxies = [\"10.0.0.0/40\"]\n{MINIMAL}"),
        1,
        "trusted_proxies[0]",
    );
    assert!(msg.contains("CIDR"), "{msg}");
    let msg = expect_err(
        &format!("trusted_proxies = [\"10.0.0.0/8\", \"10.9.9.9/8\"]\n{MINIMAL}"),
        1,
        "trusted_proxies[1]",
    );
    assert!(msg.contains("10.0.0.0/8 is listed twice"), "{msg}");
}

#[test]
fn changes_show_in_the_diff_and_apply_on_reload() {
    let old = parse(MINIMAL);
    let new = parse(&format!(
        "proxy_protocol = true\ntrusted_proxies = [\"10.0.0.0/8\"]\n{MINIMAL}"
    ));
    let changes = diff(&old, &new);
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert!(
        lines.contains(&"~ proxy_protocol: false -> true".to_owned()),
        "{lines:?}"
    );
    assert!(
        lines.contains(&"~ trusted_proxies: [] -> [10.0.0.0/8]".to_owned()),
        "{lines:?}"
    );
    assert!(changes.iter().all(|c| !c.needs_restart()), "{lines:?}");
}
