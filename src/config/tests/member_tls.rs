//! `https://` members and their `tls_*` keys: defaults (port 443, the URL's host as the server
//! name), balancer defaults and member overrides, each refusal with its line and key, the
//! printed form round-tripping, and what `diff` says.

use std::path::PathBuf;

use super::expect_err;
use crate::config::*;

/// A balancer with a CA for its https:// members, one https member and one http member.
const TWO: &str = "[[balancer]]\nname = \"app\"\ntls_ca = \"ca.pem\"\n\
    [[balancer.member]]\nurl = \"https://10.0.0.5\"\n\
    [[balancer.member]]\nurl = \"http://10.0.0.6:8080\"\n";

fn parse(text: &str) -> Config {
    parse_str(text, "/etc/ringlb/t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn an_https_member_gets_port_443_the_balancers_ca_and_its_host_as_the_name() {
    let cfg = parse(TWO);
    let b = &cfg.balancers[0];
    assert_eq!(
        b.options.member_tls,
        MemberTlsDefaults {
            ca: Some(PathBuf::from("/etc/ringlb/ca.pem")),
            ..MemberTlsDefaults::default()
        }
    );
    let m = &b.members[0];
    assert_eq!(m.addr, "10.0.0.5:443".parse().unwrap());
    assert_eq!(m.authority, "10.0.0.5:443");
    assert_eq!(
        m.options.tls,
        Some(MemberTls {
            verify: TlsVerify::Ca("/etc/ringlb/ca.pem".into()),
            server_name: "10.0.0.5".into(),
            client_auth: None,
        })
    );
    assert_eq!(
        b.members[1].options.tls, None,
        "http:// members speak plain HTTP"
    );
}

#[test]
fn member_keys_override_the_balancers() {
    let text = "[[balancer]]\nname = \"app\"\ntls_ca = \"/b/ca.pem\"\n\
        tls_server_name = \"app.internal\"\ntls_client_cert = \"/b/client.pem\"\n\
        [[balancer.member]]\nurl = \"https://[::1]:8443/\"\n\
        [[balancer.member]]\nurl = \"https://localhost:8444\"\ntls_verify = false\n\
        tls_server_name = \"[::1]\"\ntls_client_cert = \"m.crt\"\ntls_client_key = \"m.key\"\n\
        [[balancer.member]]\nurl = \"HTTPS://127.0.0.1:8445\"\ntls_ca = \"other.pem\"\n\
        tls_verify = \"On\"\ntls_server_name = \"Tomcat3.Internal\"\n";
    let cfg = parse(text);
    let tls: Vec<&MemberTls> = (cfg.balancers[0].members.iter())
        .map(|m| m.options.tls.as_ref().unwrap())
        .collect();
    let balancer_auth = Some(MemberClientCert {
        cert: "/b/client.pem".into(),
        key: "/b/client.pem".into(),
    });
    assert_eq!(tls[0].verify, TlsVerify::Ca("/b/ca.pem".into()));
    assert_eq!(tls[0].server_name, "app.internal");
    assert_eq!(
        tls[0].client_auth, balancer_auth,
        "the key from the cert's file"
    );
    assert_eq!(tls[1].verify, TlsVerify::Off);
    assert_eq!(tls[1].server_name, "::1");
    let own_auth = MemberClientCert {
        cert: "/etc/ringlb/m.crt".into(),
        key: "/etc/ringlb/m.key".into(),
    };
    assert_eq!(tls[1].client_auth, Some(own_auth));
    assert_eq!(tls[2].verify, TlsVerify::Ca("/etc/ringlb/other.pem".into()));
    assert_eq!(tls[2].server_name, "tomcat3.internal");
    assert_eq!(tls[2].client_auth, balancer_auth);
}

#[test]
fn display_round_trips_https_members() {
    let text = format!(
        "{TWO}[[balancer]]\nname = \"b2\"\nmount = \"/b2\"\ntls_verify = false\n\
         tls_client_cert = \"c.pem\"\ntls_client_key = \"k.pem\"\ntls_server_name = \"x.test\"\n\
         [[balancer.member]]\nurl = \"https://127.0.0.1:9443\"\n\
         [[balancer.member]]\nurl = \"https://127.0.0.1:9444\"\ntls_ca = \"ca2.pem\"\n\
         tls_verify = true\n[balancer.member.health]\nmethod = \"GET\"\n"
    );
    let cfg = parse(&text);
    let printed = cfg.to_string();
    assert!(printed.contains("tls_verify = false"), "{printed}");
    assert_eq!(parse_str(&printed, "/etc/ringlb/t.toml"), Ok(cfg.clone()));
    assert_eq!(revalidate(&cfg), Ok(cfg));
}

#[test]
fn each_mistake_names_its_line_and_key() {
    let member = "[[balancer]]\nname = \"app\"\n[[balancer.member]]\nurl = \"https://10.0.0.5\"\n";
    let msg = expect_err(member, 4, "balancer[0].member[0].tls_ca");
    assert!(
        msg.contains("needs tls_ca") && msg.contains("tls_verify = false"),
        "{msg}"
    );
    let cases = [
        (
            "[[balancer]]\nname = \"a\"\n[[balancer.member]]\nurl = \"http://10.0.0.5\"\n\
             tls_server_name = \"x.test\"\n",
            5,
            "balancer[0].member[0].tls_server_name",
            "for https:// members",
        ),
        (
            "[[balancer]]\nname = \"a\"\ntls_verify = false\ntls_ca = \"ca.pem\"\n\
             [[balancer.member]]\nurl = \"https://10.0.0.5\"\n",
            4,
            "balancer[0].tls_ca",
            "remove one",
        ),
        (
            "[[balancer]]\nname = \"a\"\ntls_verify = false\n[[balancer.member]]\n\
             url = \"https://10.0.0.5\"\ntls_client_key = \"k.pem\"\n",
            6,
            "balancer[0].member[0].tls_client_key",
            "needs tls_client_cert",
        ),
        (
            "[[balancer]]\nname = \"a\"\ntls_verify = false\ntls_server_name = \"bad name\"\n\
             [[balancer.member]]\nurl = \"https://10.0.0.5\"\n",
            4,
            "balancer[0].tls_server_name",
            "not a DNS name",
        ),
        (
            "[[balancer]]\nname = \"a\"\ntls_verify = \"maybe\"\n[[balancer.member]]\n\
             url = \"https://10.0.0.5\"\n",
            3,
            "balancer[0].tls_verify",
            "expected true",
        ),
        (
            "[[balancer]]\nname = \"a\"\ntls_ca = \"\"\n[[balancer.member]]\n\
             url = \"https://10.0.0.5\"\n",
            3,
            "balancer[0].tls_ca",
            "not empty",
        ),
    ];
    for (text, line, key, says) in cases {
        let msg = expect_err(text, line, key);
        assert!(msg.contains(says), "{key}: {msg}");
    }
}

#[test]
fn flags_refuse_https_members() {
    let err = from_flags(
        vec!["127.0.0.1:8080".parse().unwrap()],
        None,
        IoDriver::Auto,
        &["https://127.0.0.1:9443".to_owned()],
        None,
        LbMethod::ByRequests,
    )
    .unwrap_err();
    assert!(err.message.contains("config file"), "{err}");
}

#[test]
fn diff_shows_tls_changes() {
    let base = parse(TWO);
    let changed = parse(&TWO.replace("tls_ca = \"ca.pem\"", "tls_ca = \"new.pem\""));
    let lines: Vec<String> = diff(&base, &changed)
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert!(lines[0].contains("balancer \"app\": tls:"), "{lines:?}");
    assert!(
        lines[1].contains("member https://10.0.0.5: tls:"),
        "{lines:?}"
    );
    assert!(lines[1].contains("new.pem"), "{lines:?}");
}
