//! The reverse-rewriting keys (`proxypassreverse`, `proxypassreverse_cookie_path`,
//! `proxypassreverse_cookie_domain`): defaults, the printed round trip, the diff, refusals.

use super::expect_err;
use crate::config::*;

const HEAD: &str = "[[balancer]]\nname = \"c\"\nmount = \"/mnt\"\ntarget_path = \"/app\"\n";
const MEMBER: &str = "[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n";

fn parse(keys: &str) -> Config {
    let text = format!("{HEAD}{keys}{MEMBER}");
    parse_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter()
        .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
        .collect()
}

#[test]
fn on_by_default_with_no_maps() {
    let rv = &parse("").balancers[0].options.reverse;
    assert_eq!(*rv, ReverseConfig::default());
    assert!(rv.enabled);
}

#[test]
fn keys_are_read_and_path_maps_sorted_longest_first() {
    let cfg = parse(
        "proxypassreverse = \"Off\"\n\
         proxypassreverse_cookie_path = { \"/a\" = \"/b\", \"/a/long\" = \"/c\" }\n\
         proxypassreverse_cookie_domain = { \"internal.example\" = \"www.example.com\" }\n",
    );
    let rv = &cfg.balancers[0].options.reverse;
    assert!(!rv.enabled);
    assert_eq!(rv.cookie_path, pairs(&[("/a/long", "/c"), ("/a", "/b")]));
    assert_eq!(
        rv.cookie_domain,
        pairs(&[("internal.example", "www.example.com")])
    );
}

#[test]
fn printed_config_round_trips_and_diff_names_the_keys() {
    let old = parse("");
    let new = parse(
        "proxypassreverse = false\n\
         proxypassreverse_cookie_path = { \"/a\" = \"/b\", \"/a/long\" = \"/c\" }\n\
         proxypassreverse_cookie_domain = { \".internal.example\" = \"www.example.com\" }\n",
    );
    for cfg in [&old, &new] {
        let printed = cfg.to_string();
        assert_eq!(&parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
    }
    let printed = new.to_string();
    assert!(
        printed
            .contains("proxypassreverse_cookie_path = { \"/a/long\" = \"/c\", \"/a\" = \"/b\" }"),
        "{printed}"
    );
    let changes = format!("{:?}", diff(&old, &new));
    for key in [
        "proxypassreverse",
        "proxypassreverse_cookie_path",
        "proxypassreverse_cookie_domain",
    ] {
        assert!(changes.contains(&format!("\"{key}\"")), "{changes}");
    }
}

#[test]
fn bad_values_name_file_line_and_key() {
    let cases = [
        (
            "proxypassreverse = \"yes\"\n",
            "balancer[0].proxypassreverse",
        ),
        (
            "proxypassreverse_cookie_path = { \"app\" = \"/mnt\" }\n",
            "balancer[0].proxypassreverse_cookie_path.\"app\"",
        ),
        (
            "proxypassreverse_cookie_path = { \"/app\" = \"/m;x\" }\n",
            "balancer[0].proxypassreverse_cookie_path.\"/app\"",
        ),
        (
            "proxypassreverse_cookie_domain = { \"a b\" = \"c\" }\n",
            "balancer[0].proxypassreverse_cookie_domain.\"a b\"",
        ),
        (
            "proxypassreverse_cookie_domain = { \"A.example\" = \"c\", \"a.example\" = \"d\" }\n",
            "balancer[0].proxypassreverse_cookie_domain.\"a.example\"",
        ),
    ];
    for (keys, key) in cases {
        expect_err(&format!("{HEAD}{keys}{MEMBER}"), 5, key);
    }
    expect_err(
        &format!("{HEAD}proxypassreverse_cookie_path = \"/a\"\n{MEMBER}"),
        5,
        "balancer[0].proxypassreverse_cookie_path",
    );
}
