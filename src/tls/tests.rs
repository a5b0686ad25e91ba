//! Certificate loading, SNI choice and the members' client configurations (the handshakes
//! themselves are in tests/tls.rs and tests/upstream_tls.rs).

use std::path::{Path, PathBuf};

use super::{Acceptors, Connectors};
use crate::config::parse_str;

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("ringlb-tls-unit-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Writes a self-signed certificate for `names` and its key as `stem.crt` / `stem.key`.
fn pair(dir: &Path, stem: &str, names: &[&str]) -> (PathBuf, PathBuf) {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let ck = rcgen::generate_simple_self_signed(names).unwrap();
    let (cert, key) = (
        dir.join(format!("{stem}.crt")),
        dir.join(format!("{stem}.key")),
    );
    std::fs::write(&cert, ck.cert.pem()).unwrap();
    std::fs::write(&key, ck.key_pair.serialize_pem()).unwrap();
    (cert, key)
}

fn config(cert: &Path, key: &Path, sni: &str) -> String {
    format!(
        "[[listener]]\naddress = \"127.0.0.1:0\"\ncert = {cert:?}\nkey = {key:?}\n{sni}\n\
         [[balancer]]\nname = \"b\"\nmount = \"/\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9\"\n"
    )
}

#[test]
fn a_good_pair_loads_and_a_plain_listener_has_no_acceptor() {
    let d = dir("good");
    let (cert, key) = pair(&d, "a", &["a.test"]);
    let mut text = config(&cert, &key, "");
    text.push_str("[[listener]]\naddress = \"127.0.0.1:1\"\n");
    let cfg = parse_str(&text, "<t>").unwrap();
    let acceptors = Acceptors::load(&cfg).unwrap();
    assert!(acceptors.get(0).is_some());
    assert!(acceptors.get(1).is_none());
    assert!(acceptors.get(2).is_none());
}

#[test]
fn bad_files_are_refused_naming_the_key_and_the_file() {
    let d = dir("bad");
    let (cert, key) = pair(&d, "a", &["a.test"]);
    let (_, other_key) = pair(&d, "b", &["b.test"]);
    let garbage = d.join("garbage.pem");
    std::fs::write(&garbage, "not a certificate\n").unwrap();
    let missing = d.join("missing.pem");
    let cases: [(&Path, &Path, &str); 5] = [
        (&missing, &key, "listener[0].cert"),
        (&garbage, &key, "no certificate found"),
        (&cert, &missing, "listener[0].key"),
        (&cert, &garbage, "listener[0].key"),
        (&cert, &other_key, "does not match the certificate"),
    ];
    for (c, k, needle) in cases {
        let cfg = parse_str(&config(c, k, ""), "<t>").unwrap();
        let err = Acceptors::load(&cfg).unwrap_err();
        assert!(err.contains(needle), "{needle:?} not in {err}");
        let shown = if needle.contains("cert") && !needle.contains("match") {
            c
        } else {
            k
        };
        assert!(err.contains(&shown.display().to_string()), "{err}");
    }
    let sni =
        format!("[[listener.sni]]\nnames = [\"x.test\"]\ncert = {garbage:?}\nkey = {key:?}\n");
    let cfg = parse_str(&config(&cert, &key, &sni), "<t>").unwrap();
    let err = Acceptors::load(&cfg).unwrap_err();
    assert!(err.contains("listener[0].sni[0].cert"), "{err}");
}

#[test]
fn sni_picks_exact_then_wildcard_then_the_default() {
    let d = dir("sni");
    let (cert, key) = pair(&d, "default", &["default.test"]);
    let (shop, shop_key) = pair(&d, "shop", &["shop.example.com"]);
    let (wild, wild_key) = pair(&d, "wild", &["*.example.com"]);
    let sni = format!(
        "[[listener.sni]]\nnames = [\"shop.example.com\"]\ncert = {shop:?}\nkey = {shop_key:?}\n\
         [[listener.sni]]\nnames = [\"*.example.com\"]\ncert = {wild:?}\nkey = {wild_key:?}\n"
    );
    let cfg = parse_str(&config(&cert, &key, &sni), "<t>").unwrap();
    let tls = cfg.listeners[0].tls.as_ref().unwrap();
    let resolver = super::resolver(tls, "listener[0]").unwrap();
    let leaf = |name: Option<&str>| resolver.pick(name).cert[0].clone();
    let shop_leaf = leaf(Some("shop.example.com"));
    let wild_leaf = leaf(Some("www.example.com"));
    let default_leaf = leaf(None);
    assert_ne!(shop_leaf, wild_leaf);
    assert_ne!(wild_leaf, default_leaf);
    assert_eq!(leaf(Some("SHOP.example.com.")), shop_leaf);
    assert_eq!(leaf(Some("example.com")), default_leaf);
    assert_eq!(leaf(Some("a.b.example.com")), default_leaf);
    assert_eq!(leaf(Some("other.test")), default_leaf);
}

/// A config with `members` (TOML `[[balancer.member]]` tables) under a balancer with `keys`.
fn members_config(keys: &str, members: &str) -> crate::config::Config {
    let text = format!("[[balancer]]\nname = \"b\"\n{keys}{members}");
    parse_str(&text, "<t>").unwrap()
}

#[test]
fn each_https_member_gets_a_client_config_and_follow_keeps_them() {
    let d = dir("members");
    let (ca, _) = pair(&d, "ca", &["ca.test"]);
    let (client, client_key) = pair(&d, "client", &["client.test"]);
    let keys = format!("tls_ca = {ca:?}\n");
    let one = format!(
        "[[balancer.member]]\nurl = \"https://127.0.0.1:9443\"\n\
         tls_client_cert = {client:?}\ntls_client_key = {client_key:?}\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:9080\"\n"
    );
    let cfg = members_config(&keys, &one);
    let loaded = Connectors::load(&cfg).unwrap();
    let first = loaded
        .get(0, 0)
        .expect("the https member has a configuration")
        .clone();
    assert_eq!(first.config.alpn_protocols, vec![b"http/1.1".to_vec()]);
    assert!(loaded.get(0, 1).is_none(), "an http member has none");

    // A member added in front: the old one keeps its very configuration, the new one gets
    // its own, built from the files already read.
    let two = format!("[[balancer.member]]\nurl = \"https://127.0.0.1:9444\"\n{one}");
    let cfg2 = members_config(&keys, &two);
    std::fs::remove_file(&ca).unwrap();
    let followed = loaded.follow(&cfg, &cfg2);
    assert!(std::sync::Arc::ptr_eq(followed.get(0, 1).unwrap(), &first));
    let added = followed.get(0, 0).expect("built from the CA read at load");
    assert!(!std::sync::Arc::ptr_eq(added, &first));
    assert!(followed.get(0, 2).is_none());
    // A fresh load reads the files again.
    let err = Connectors::load(&cfg2).unwrap_err();
    assert!(
        err.contains("balancer[0].tls_ca") && err.contains(&ca.display().to_string()),
        "{err}"
    );
}
