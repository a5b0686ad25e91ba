//! `[[listener]]` and `[[listener.sni]]`: every key, its default, each refusal with its line
//! and key, the printed form round-tripping, and what `diff` says about listener changes.

use std::path::PathBuf;

use super::{expect_err, MINIMAL};
use crate::config::*;

const TLS: &str =
    "[[listener]]\naddress = \"0.0.0.0:443\"\ncert = \"site.crt\"\nkey = \"site.key\"\n";

fn parse(text: &str) -> Config {
    parse_str(text, "/etc/ringlb/l.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

#[test]
fn a_tls_listener_gets_the_defaults_and_paths_relative_to_the_file() {
    let cfg = parse(&format!("{TLS}{MINIMAL}"));
    assert_eq!(
        cfg.listen,
        Vec::<std::net::SocketAddr>::new(),
        "no default plain listener"
    );
    let l = &cfg.listeners[0];
    assert_eq!(l.address, "0.0.0.0:443".parse().unwrap());
    let tls = l.tls.as_ref().unwrap();
    assert_eq!(tls.cert, PathBuf::from("/etc/ringlb/site.crt"));
    assert_eq!(tls.key, PathBuf::from("/etc/ringlb/site.key"));
    assert_eq!(tls.alpn, vec![Alpn::H2, Alpn::Http11]);
    assert_eq!(tls.protocols, vec![TlsVersion::Tls12, TlsVersion::Tls13]);
    assert!(tls.sni.is_empty());
    assert_eq!((l.hsts.as_deref(), l.redirect_https), (None, false));
    assert_eq!((tls.ssl_headers, &tls.client_auth), (false, &None));
    assert!(!l.proxy_protocol);
}

#[test]
fn proxy_protocol_defaults_to_the_top_level_key_and_is_overridden_both_ways() {
    let plain = "[[listener]]\naddress = \"0.0.0.0:80\"\n";
    for (top, own, want) in [
        ("", "", false),
        ("proxy_protocol = true\n", "", true),
        ("proxy_protocol = true\n", "proxy_protocol = false\n", false),
        ("proxy_protocol = false\n", "proxy_protocol = true\n", true),
        ("", "proxy_protocol = true\n", true),
    ] {
        let cfg = parse(&format!("{top}{TLS}{own}{plain}{own}{MINIMAL}"));
        let got: Vec<bool> = cfg.listeners.iter().map(|l| l.proxy_protocol).collect();
        assert_eq!(got, [want, want], "{top:?} {own:?}");
        assert_eq!(
            cfg.trust.proxy_protocol,
            !top.is_empty() && top.contains("true")
        );
    }
}

#[test]
fn client_verification_and_ssl_headers() {
    let cfg = parse(&format!(
        "{TLS}ssl_headers = true\nclient_ca = \"clients.pem\"\n{MINIMAL}"
    ));
    let tls = cfg.listeners[0].tls.as_ref().unwrap();
    assert!(tls.ssl_headers);
    assert_eq!(
        tls.client_auth,
        Some(ClientAuth {
            ca: PathBuf::from("/etc/ringlb/clients.pem"),
            verify: ClientVerify::Required,
        }),
        "client_ca alone: required"
    );
    let cfg = parse(&format!(
        "{TLS}client_ca = \"/ca.pem\"\nclient_verify = \"optional\"\n{MINIMAL}"
    ));
    let auth = cfg.listeners[0].tls.as_ref().unwrap().client_auth.as_ref();
    assert_eq!(auth.map(|a| a.verify), Some(ClientVerify::Optional));
}

#[test]
fn every_key_is_read() {
    let text = format!(
        "listen = [\"127.0.0.1:8080\"]\n{TLS}alpn = [\"http/1.1\"]\nprotocols = [\"TLSv1.3\"]\n\
         hsts = \"max-age=31536000; includeSubDomains\"\n\
         [[listener.sni]]\nnames = [\"Shop.Example.com\", \"*.example.com\"]\n\
         cert = \"/abs/shop.crt\"\nkey = \"shop.key\"\n\
         [[listener]]\naddress = \"0.0.0.0:80\"\nredirect_https = true\n{MINIMAL}"
    );
    let cfg = parse(&text);
    assert_eq!(cfg.listen, vec!["127.0.0.1:8080".parse().unwrap()]);
    let tls = cfg.listeners[0].tls.as_ref().unwrap();
    assert_eq!(tls.protocols, vec![TlsVersion::Tls13]);
    assert_eq!(
        tls.sni,
        vec![SniConfig {
            names: vec!["shop.example.com".into(), "*.example.com".into()],
            cert: PathBuf::from("/abs/shop.crt"),
            key: PathBuf::from("/etc/ringlb/shop.key"),
        }]
    );
    assert_eq!(
        cfg.listeners[0].hsts.as_deref(),
        Some("max-age=31536000; includeSubDomains")
    );
    let plain = &cfg.listeners[1];
    assert_eq!((plain.tls.is_none(), plain.redirect_https), (true, true));
}

#[test]
fn refusals_name_the_line_and_the_key() {
    let l = |rest: &str| format!("[[listener]]\n{rest}{MINIMAL}");
    let tls = |rest: &str| format!("{TLS}{rest}{MINIMAL}");
    let cases: Vec<(String, usize, &str, &str)> = vec![
        (
            l("cert = \"a\"\nkey = \"b\"\n"),
            1,
            "listener[0].address",
            "required",
        ),
        (
            l("address = \"localhost:443\"\n"),
            2,
            "listener[0].address",
            "IP:PORT",
        ),
        (
            format!(
                "listen = [\"127.0.0.1:80\"]\n[[listener]]\naddress = \"127.0.0.1:80\"\n{MINIMAL}"
            ),
            3,
            "listener[0].address",
            "listed twice",
        ),
        (
            l("address = \"127.0.0.1:1\"\ncert = \"a\"\n"),
            1,
            "listener[0].key",
            "required with cert",
        ),
        (
            l("address = \"127.0.0.1:1\"\nkey = \"b\"\n"),
            3,
            "listener[0].key",
            "needs cert",
        ),
        (
            l("address = \"127.0.0.1:1\"\nhsts = \"max-age=1\"\n"),
            3,
            "listener[0].hsts",
            "TLS",
        ),
        (
            l("address = \"127.0.0.1:1\"\nalpn = [\"http/1.1\"]\n"),
            3,
            "listener[0].alpn",
            "TLS",
        ),
        (
            l("address = \"127.0.0.1:1\"\nprotocols = [\"TLSv1.3\"]\n"),
            3,
            "listener[0].protocols",
            "TLS",
        ),
        (
            l("address = \"127.0.0.1:1\"\n[[listener.sni]]\nnames = [\"a.test\"]\n"),
            3,
            "listener[0].sni",
            "TLS",
        ),
        (tls("cert2 = 1\n"), 5, "listener[0].cert2", "unknown field"),
        (
            tls("redirect_https = true\n"),
            5,
            "listener[0].redirect_https",
            "plain listener",
        ),
        (
            tls("alpn = [\"spdy/3\"]\n"),
            5,
            "listener[0].alpn[0]",
            "unknown ALPN",
        ),
        (
            tls("alpn = [\"http/1.1\", \"http/1.1\"]\n"),
            5,
            "listener[0].alpn[1]",
            "listed twice",
        ),
        (
            tls("protocols = []\n"),
            5,
            "listener[0].protocols",
            "at least one",
        ),
        (
            tls("protocols = [\"TLSv1.1\"]\n"),
            5,
            "listener[0].protocols[0]",
            "not supported",
        ),
        (
            tls("protocols = [\"TLS1.3\"]\n"),
            5,
            "listener[0].protocols[0]",
            "unknown protocol",
        ),
        (
            tls("hsts = \"31536000\"\n"),
            5,
            "listener[0].hsts",
            "max-age=",
        ),
        (
            tls("hsts = \"max-age=1\\r\\nX: y\"\n"),
            5,
            "listener[0].hsts",
            "max-age=",
        ),
        (tls("cert = \"\"\n"), 0, "", ""),
        (
            tls("[[listener.sni]]\ncert = \"a\"\nkey = \"b\"\n"),
            5,
            "listener[0].sni[0].names",
            "required",
        ),
        (
            tls("[[listener.sni]]\nnames = [\"a.test\"]\nkey = \"b\"\n"),
            5,
            "listener[0].sni[0].cert",
            "required",
        ),
        (
            tls("[[listener.sni]]\nnames = []\ncert = \"a\"\nkey = \"b\"\n"),
            6,
            "listener[0].sni[0].names",
            "at least one",
        ),
        (
            tls("[[listener.sni]]\nnames = [\"bad name\"]\ncert = \"a\"\nkey = \"b\"\n"),
            6,
            "listener[0].sni[0].names[0]",
            "not a host name",
        ),
        (
            tls("[[listener.sni]]\nnames = [\"*.com\"]\ncert = \"a\"\nkey = \"b\"\n"),
            6,
            "listener[0].sni[0].names[0]",
            "not a host name",
        ),
        (
            tls(
                "[[listener.sni]]\nnames = [\"a.test\"]\ncert = \"a\"\nkey = \"b\"\n\
                 [[listener.sni]]\nnames = [\"A.test\"]\ncert = \"c\"\nkey = \"d\"\n",
            ),
            10,
            "listener[0].sni[1].names[0]",
            "earlier",
        ),
        (
            tls("[[listener.sni]]\nnames = [\"a.test\"]\ncert = \"\"\nkey = \"b\"\n"),
            7,
            "listener[0].sni[0].cert",
            "not empty",
        ),
        (
            l("address = \"127.0.0.1:1\"\nssl_headers = true\n"),
            3,
            "listener[0].ssl_headers",
            "TLS",
        ),
        (
            l("address = \"127.0.0.1:1\"\nclient_ca = \"ca.pem\"\n"),
            3,
            "listener[0].client_ca",
            "TLS",
        ),
        (
            l("address = \"127.0.0.1:1\"\nclient_verify = \"optional\"\n"),
            3,
            "listener[0].client_verify",
            "TLS",
        ),
        (
            tls("client_verify = \"optional\"\n"),
            5,
            "listener[0].client_verify",
            "needs client_ca",
        ),
        (
            tls("client_ca = \"ca.pem\"\nclient_verify = \"on\"\n"),
            6,
            "listener[0].client_verify",
            "\"required\"",
        ),
        (
            tls("client_ca = \" \"\n"),
            5,
            "listener[0].client_ca",
            "not empty",
        ),
        (
            l("address = \"127.0.0.1:1\"\nproxy_protocol = \"yes\"\n"),
            3,
            "listener[0].proxy_protocol",
            "",
        ),
    ];
    for (text, line, key, needle) in cases {
        if key.is_empty() {
            // A duplicate key is a TOML error; covered by the TOML layer.
            assert!(parse_str(&text, "t.toml").is_err());
            continue;
        }
        let msg = expect_err(&text, line, key);
        assert!(
            msg.contains(needle),
            "{needle:?} not in {msg:?} for\n{text}"
        );
    }
}

#[test]
fn the_admin_listener_and_members_may_not_use_a_listener_address() {
    let text = format!("{TLS}[admin]\nlisten = \"0.0.0.0:443\"\n{MINIMAL}");
    let msg = expect_err(&text, 6, "admin.listen");
    assert!(msg.contains("listener[0].address"), "{msg}");
    let text = format!("[[listener]]\naddress = \"127.0.0.1:9001\"\n{MINIMAL}");
    expect_err(&text, 6, "balancer[0].member[0].url");
}

#[test]
fn display_round_trips_listeners() {
    let text = format!(
        "listen = [\"127.0.0.1:8080\"]\n{TLS}hsts = \"max-age=1\"\nprotocols = [\"TLSv1.3\"]\n\
         alpn = []\n[[listener.sni]]\nnames = [\"a.test\", \"*.b.test\"]\ncert = \"a.crt\"\n\
         key = \"a.key\"\n[[listener]]\naddress = \"0.0.0.0:80\"\nredirect_https = true\n\
         [[listener]]\naddress = \"0.0.0.0:81\"\n\
         [[listener]]\naddress = \"0.0.0.0:444\"\ncert = \"s.crt\"\nkey = \"s.key\"\n\
         ssl_headers = true\nclient_ca = \"ca.pem\"\nclient_verify = \"optional\"\n\
         proxy_protocol = false\n[[listener]]\naddress = \"0.0.0.0:445\"\n\
         proxy_protocol = true\n{MINIMAL}"
    );
    let cfg = parse(&text);
    let printed = cfg.to_string();
    assert!(printed.contains("[[listener.sni]]"), "{printed}");
    assert_eq!(parse_str(&printed, "/etc/ringlb/l.toml"), Ok(cfg));
    // Only [[listener]] tables: no `listen` is printed, and none comes back.
    let only = parse(&format!("{TLS}{MINIMAL}"));
    let printed = only.to_string();
    assert!(!printed.contains("\nlisten ="), "{printed}");
    assert_eq!(parse_str(&printed, "/etc/ringlb/l.toml"), Ok(only));
}

#[test]
fn diff_marks_listener_addresses_restart_and_the_rest_reloadable() {
    let base = parse(&format!("{TLS}{MINIMAL}"));
    let lines = |text: String| -> Vec<String> {
        diff(&base, &parse(&text))
            .iter()
            .map(ToString::to_string)
            .collect()
    };
    let moved = lines(format!("{}{MINIMAL}", TLS.replace(":443", ":8443")));
    assert_eq!(moved.len(), 1, "{moved:?}");
    assert!(
        moved[0].contains("listener.address") && moved[0].contains("restart"),
        "{moved:?}"
    );
    let added = lines(format!(
        "{TLS}[[listener]]\naddress = \"0.0.0.0:80\"\n{MINIMAL}"
    ));
    assert!(
        added[0].contains("listener.address") && added[0].contains("restart"),
        "{added:?}"
    );
    for (extra, key) in [
        ("hsts = \"max-age=5\"\n", "listener[0].hsts"),
        ("protocols = [\"TLSv1.3\"]\n", "listener[0].protocols"),
        ("alpn = []\n", "listener[0].alpn"),
        (
            "[[listener.sni]]\nnames = [\"a.test\"]\ncert = \"a\"\nkey = \"b\"\n",
            "listener[0].sni",
        ),
        ("proxy_protocol = true\n", "listener[0].proxy_protocol"),
        ("ssl_headers = true\n", "listener[0].ssl_headers"),
    ] {
        let changed = lines(format!("{TLS}{extra}{MINIMAL}"));
        assert_eq!(changed.len(), 1, "{changed:?}");
        assert!(changed[0].starts_with(&format!("~ {key}: ")), "{changed:?}");
        assert!(!changed[0].contains("restart"), "{changed:?}");
    }
    let verified = lines(format!("{TLS}client_ca = \"ca.pem\"\n{MINIMAL}"));
    assert_eq!(verified.len(), 2, "{verified:?}");
    assert!(verified[0].starts_with("~ listener[0].client_ca: none -> "));
    assert!(verified[1].starts_with("~ listener[0].client_verify: none -> required"));
    assert!(
        verified.iter().all(|l| !l.contains("restart")),
        "{verified:?}"
    );
    let cert = lines(format!("{}{MINIMAL}", TLS.replace("site.crt", "new.crt")));
    assert!(cert[0].starts_with("~ listener[0].cert: ") && !cert[0].contains("restart"));
}
