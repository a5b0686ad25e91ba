//! Member host names: which hosts are names and which are refused, the `dns_refresh` and
//! `resolvers` keys, the printed round trip and the diff, and putting addresses in
//! (`with_addresses`, which also refuses an address that is ringlb's own).

use std::net::IpAddr;
use std::time::Duration;

use super::expect_err;
use crate::config::validate::values::host_name;
use crate::config::*;

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn one_member(url: &str) -> String {
    format!("[[balancer]]\nname = \"c\"\n[[balancer.member]]\nurl = \"{url}\"\n")
}

#[test]
fn host_names_follow_rfc_1123() {
    let long_label = "a".repeat(63);
    let too_long_label = "a".repeat(64);
    // 4 labels of 63 and dots: 255 characters; 3 of 63 and one of 61: 253.
    let longest = format!("{l}.{l}.{l}.{}", "a".repeat(61), l = long_label);
    let too_long = format!("{l}.{l}.{l}.{}", "a".repeat(62), l = long_label);
    let cases: Vec<(String, Option<&str>)> = vec![
        ("app1".into(), Some("app1")),
        ("tc3".into(), Some("tc3")),
        ("App1.Internal".into(), Some("app1.internal")),
        ("app-1.example.com".into(), Some("app-1.example.com")),
        ("app.internal.".into(), Some("app.internal.")),
        (
            "xn--bcher-kva.example".into(),
            Some("xn--bcher-kva.example"),
        ),
        ("1app.example".into(), Some("1app.example")),
        ("10.0.0.x".into(), Some("10.0.0.x")),
        (long_label.clone(), Some(long_label.as_str())),
        (longest.clone(), Some(longest.as_str())),
        (format!("{longest}."), Some("")),
        (too_long_label, None),
        (too_long, None),
        ("".into(), None),
        (".".into(), None),
        (".app".into(), None),
        ("app..internal".into(), None),
        ("app.internal..".into(), None),
        ("-app".into(), None),
        ("app-.internal".into(), None),
        ("my_app".into(), None),
        ("app name".into(), None),
        ("app%41".into(), None),
        ("bücher.example".into(), None),
        ("10.0.0.256".into(), None),
        ("127.1".into(), None),
        ("app.123".into(), None),
    ];
    for (host, want) in cases {
        let got = host_name(&host);
        match want {
            Some("") => assert_eq!(got.as_deref(), Ok(host.to_ascii_lowercase().as_str())),
            Some(w) => assert_eq!(got.as_deref(), Ok(w), "{host:?}"),
            None => assert!(got.is_err(), "{host:?} accepted as {got:?}"),
        }
    }
    let idn = host_name("bücher.example").unwrap_err();
    assert!(idn.contains("xn--"), "{idn}");
}

#[test]
fn a_named_member_keeps_its_name_until_looked_up() {
    let cfg = parse(&one_member("http://App1.Internal:8080/"));
    let m = &cfg.balancers[0].members[0];
    assert_eq!(m.dns_name.as_deref(), Some("app1.internal"));
    assert_eq!(
        m.authority, "App1.Internal:8080",
        "the Host header keeps the name as written"
    );
    assert_eq!(m.addr, "0.0.0.0:8080".parse().unwrap(), "a placeholder");
    for url in [
        "http://127.0.0.1:9001",
        "http://[::1]:9001",
        "http://localhost:9001",
    ] {
        let cfg = parse(&one_member(url));
        assert_eq!(cfg.balancers[0].members[0].dns_name, None, "{url}");
    }
    let msg = expect_err(
        &one_member("http://app_1:8080"),
        4,
        "balancer[0].member[0].url",
    );
    assert!(msg.contains("not an IP address or a host name"), "{msg}");
}

#[test]
fn an_https_member_named_by_host_name_verifies_that_name() {
    let text = "[[balancer]]\nname = \"c\"\ntls_verify = false\n\
                [[balancer.member]]\nurl = \"https://App.Internal.:8443\"\n";
    let cfg = parse(text);
    let tls = cfg.balancers[0].members[0].options.tls.clone().unwrap();
    assert_eq!(
        tls.server_name, "app.internal",
        "lowercased, without the trailing dot"
    );
}

#[test]
fn dns_keys_have_defaults_ranges_and_round_trip() {
    let cfg = parse(&one_member("http://app:8080"));
    assert_eq!(cfg.dns, DnsConfig::default());
    assert_eq!(cfg.dns.refresh, DEFAULT_DNS_REFRESH);
    let text = format!(
        "dns_refresh = \"500ms\"\nresolvers = [\"127.0.0.1:5353\", \"10.0.0.2\", \"[::1]:53\"]\n{}",
        one_member("http://app:8080")
    );
    let cfg = parse(&text);
    assert_eq!(cfg.dns.refresh, Duration::from_millis(500));
    let want: Vec<std::net::SocketAddr> = ["127.0.0.1:5353", "10.0.0.2:53", "[::1]:53"]
        .iter()
        .map(|a| a.parse().unwrap())
        .collect();
    assert_eq!(cfg.dns.resolvers, want);
    let printed = cfg.to_string();
    assert!(printed.contains("dns_refresh = \"500ms\""), "{printed}");
    assert!(printed.contains("url = \"http://app:8080\""), "{printed}");
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
    let never = parse(&format!(
        "dns_refresh = 0\n{}",
        one_member("http://app:8080")
    ));
    assert_eq!(never.dns.refresh, Duration::ZERO);

    let member = one_member("http://app:8080");
    for (keys, key, needle) in [
        ("dns_refresh = \"50ms\"", "dns_refresh", "below 100ms"),
        ("dns_refresh = -1", "dns_refresh", "out of range"),
        (
            "resolvers = [\"dns.example:53\"]",
            "resolvers[0]",
            "expected IP:PORT",
        ),
        (
            "resolvers = [\"127.0.0.1:0\"]",
            "resolvers[0]",
            "not an address",
        ),
        (
            "resolvers = [\"0.0.0.0\"]",
            "resolvers[0]",
            "expected IP:PORT",
        ),
        (
            "resolvers = [\"127.0.0.1\", \"127.0.0.1:53\"]",
            "resolvers[1]",
            "listed twice",
        ),
    ] {
        let msg = expect_err(&format!("{keys}\n{member}"), 1, key);
        assert!(msg.contains(needle), "{keys}: {msg}");
    }
}

#[test]
fn the_diff_names_dns_keys_and_changed_addresses() {
    let old = parse(&one_member("http://app:8080"));
    let new = parse(&format!(
        "dns_refresh = 5\nresolvers = [\"127.0.0.1:53\"]\n{}",
        one_member("http://app:8080")
    ));
    let lines: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
    assert_eq!(
        lines,
        [
            "~ dns_refresh: 30s -> 5s",
            "~ resolvers: [] -> [127.0.0.1:53]"
        ]
    );
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let at = |s: &str| with_addresses(&old, &Addresses::from([("app".to_owned(), ip(s))])).unwrap();
    let lines: Vec<String> = (diff(&at("10.0.0.1"), &at("10.0.0.2")).iter())
        .map(|c| c.to_string())
        .collect();
    assert_eq!(
        lines,
        ["~ balancer \"c\" member http://app:8080: address: 10.0.0.1:8080 -> 10.0.0.2:8080"]
    );
}

#[test]
fn addresses_are_put_in_and_checked_against_ringlbs_own() {
    let text = format!(
        "listen = [\"127.0.0.1:8080\"]\n{}[[balancer.member]]\nurl = \"http://app:9000\"\n\
         [[balancer.member]]\nurl = \"http://10.0.0.9:9000\"\n",
        one_member("http://app:8080")
    );
    let cfg = parse(&text);
    assert_eq!(
        host_names(&cfg),
        [("app".to_owned(), "balancer[0].member[0].url".to_owned())],
        "each name once, with its first member's key"
    );
    let ip = |s: &str| s.parse::<IpAddr>().unwrap();
    let addrs = Addresses::from([("app".to_owned(), ip("10.0.0.5"))]);
    let resolved = with_addresses(&cfg, &addrs).unwrap();
    let got: Vec<String> = (resolved.balancers[0].members.iter())
        .map(|m| m.addr.to_string())
        .collect();
    assert_eq!(got, ["10.0.0.5:8080", "10.0.0.5:9000", "10.0.0.9:9000"]);
    assert_eq!(
        resolved.to_string(),
        cfg.to_string(),
        "the printed config keeps the names"
    );

    // The name resolving to ringlb's own listener: refused, naming the member.
    let own = Addresses::from([("app".to_owned(), ip("127.0.0.1"))]);
    let err = with_addresses(&cfg, &own).unwrap_err();
    assert_eq!(
        (err.file.as_str(), err.line, err.key.as_str()),
        ("t.toml", 0, "balancer[0].member[0].url")
    );
    assert!(err.message.contains("app is 127.0.0.1"), "{}", err.message);
    assert!(err.message.contains("listen[0]"), "{}", err.message);
    assert_eq!(locate(err, &text).line, 5, "the line of the member's url");

    let err = with_addresses(&cfg, &Addresses::new()).unwrap_err();
    assert!(
        err.message.contains("not been looked up"),
        "{}",
        err.message
    );
}
