//! The `ajp://` member keys (`secret`, `packet_size`, `ping`) and the health check rules for
//! AJP members: defaults, the printed round trip, the diff (the secret only as a fingerprint),
//! refusals naming file, line and key.

use std::time::Duration;

use super::expect_err;
use crate::config::*;

const HEAD: &str = "[[balancer]]\nname = \"c\"\nmount = \"/\"\n";

fn member(url: &str, keys: &str) -> String {
    format!("{HEAD}[[balancer.member]]\nurl = \"{url}\"\n{keys}")
}

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn an_ajp_url_gets_the_defaults_and_port_8009() {
    let cfg = parse(&member("ajp://10.0.0.5", ""));
    let m = &cfg.balancers[0].members[0];
    assert_eq!(m.addr, "10.0.0.5:8009".parse().unwrap());
    assert_eq!(m.authority, "10.0.0.5:8009");
    assert_eq!(m.options.ajp, Some(MemberAjp::default()));
    assert_eq!(m.options.tls, None);
    let d = MemberAjp::default();
    assert_eq!((d.secret, d.packet_size, d.ping), (None, 8192, None));
    let http = parse(&member("http://10.0.0.5", ""));
    assert_eq!(http.balancers[0].members[0].options.ajp, None);
}

#[test]
fn keys_are_read_and_round_trip() {
    let cfg = parse(&member(
        "AJP://127.0.0.1:8010",
        "secret = \"s3 cret\"\npacket_size = 65536\nping = \"250ms\"\n",
    ));
    let ajp = cfg.balancers[0].members[0].options.ajp.clone().unwrap();
    assert_eq!(ajp.secret.as_deref(), Some("s3 cret"));
    assert_eq!(ajp.packet_size, 65536);
    assert_eq!(ajp.ping, Some(Duration::from_millis(250)));
    let printed = cfg.to_string();
    assert_eq!(parse_str(&printed, "t.toml").unwrap(), cfg, "{printed}");
    // ping = 0 is off.
    let off = parse(&member("ajp://127.0.0.1", "ping = 0\n"));
    assert_eq!(
        off.balancers[0].members[0]
            .options
            .ajp
            .as_ref()
            .unwrap()
            .ping,
        None
    );
}

#[test]
fn a_changed_secret_shows_in_the_diff_without_the_secret() {
    let old = parse(&member("ajp://127.0.0.1", "secret = \"first-secret\"\n"));
    let new = parse(&member("ajp://127.0.0.1", "secret = \"second-secret\"\n"));
    let changes = format!("{:?}", diff(&old, &new));
    assert!(changes.contains("\"ajp\""), "{changes}");
    assert!(
        !changes.contains("first-secret") && !changes.contains("second-secret"),
        "{changes}"
    );
    assert!(diff(&old, &old.clone()).is_empty());
}

#[test]
fn health_checks_fit_the_protocol() {
    // The balancer's HTTP check becomes CPING for an AJP member, stays for an HTTP one.
    let text = format!(
        "{HEAD}[balancer.health]\nmethod = \"GET\"\n\
         [[balancer.member]]\nurl = \"ajp://127.0.0.1:8009\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:9080\"\n"
    );
    let cfg = parse(&text);
    let method = |i: usize| {
        cfg.balancers[0].members[i]
            .options
            .health
            .as_ref()
            .unwrap()
            .method
    };
    assert_eq!((method(0), method(1)), (HcMethod::Cping, HcMethod::Get));
    let tcp = parse(&member(
        "ajp://127.0.0.1",
        "[balancer.member.health]\nmethod = \"TCP\"\n",
    ));
    let hc = tcp.balancers[0].members[0].options.health.as_ref().unwrap();
    assert_eq!(hc.method, HcMethod::Tcp);
}

#[test]
fn bad_values_name_file_line_and_key() {
    let cases = [
        (
            member("http://127.0.0.1", "secret = \"x\"\n"),
            6,
            "balancer[0].member[0].secret",
            "only to ajp://",
        ),
        (
            member(
                "https://127.0.0.1",
                "tls_verify = false\npacket_size = 8192\n",
            ),
            7,
            "balancer[0].member[0].packet_size",
            "only to ajp://",
        ),
        (
            member("http://127.0.0.1", "ping = 1\n"),
            6,
            "balancer[0].member[0].ping",
            "timeouts.ping",
        ),
        (
            member("ajp://127.0.0.1", "packet_size = 4096\n"),
            6,
            "balancer[0].member[0].packet_size",
            "8192..=65536",
        ),
        (
            member("ajp://127.0.0.1", "packet_size = \"big\"\n"),
            6,
            "balancer[0].member[0].packet_size",
            "integer",
        ),
        (
            member("ajp://127.0.0.1", "secret = \"\"\n"),
            6,
            "balancer[0].member[0].secret",
            "empty",
        ),
        (
            member("ajp://127.0.0.1", "secret = \"tab\\there\"\n"),
            6,
            "balancer[0].member[0].secret",
            "printable",
        ),
        (
            member("ajp://127.0.0.1", "ping = \"2m\"\n"),
            6,
            "balancer[0].member[0].ping",
            "",
        ),
        (
            member(
                "ajp://127.0.0.1",
                "[balancer.member.health]\nmethod = \"HEAD\"\n",
            ),
            7,
            "balancer[0].member[0].health.method",
            "CPING or TCP",
        ),
        (
            member(
                "http://127.0.0.1",
                "[balancer.member.health]\nmethod = \"cping\"\n",
            ),
            7,
            "balancer[0].member[0].health.method",
            "only ajp://",
        ),
        (
            member("ajp://127.0.0.1", "tls_verify = false\n"),
            6,
            "balancer[0].member[0].tls_verify",
            "",
        ),
    ];
    for (text, line, key, says) in cases {
        let msg = expect_err(&text, line, key);
        assert!(msg.contains(says), "{key}: {msg}");
    }
}
