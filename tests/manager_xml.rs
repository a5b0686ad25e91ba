//! httpd's balancer-manager XML over real sockets: `?xml=1` with and without `b=`, the nonce
//! it shows being the one a form POST accepts, a POST with `xml` answered by the document after
//! the change, the Referer rule, and no nonce (and no change) for clients outside `allow`.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::net::SocketAddr;

use common::admin_api::{call, start_with_admin};
use common::{config, member, MockMember};
use ringlb::admin::server::AdminServer;
use ringlb::config::IoDriver;
use ringlb::server::ServerHandle;

both_drivers!(xml_document_nonce_and_drain, read_only_clients_see_no_nonce);

struct Setup {
    a: MockMember,
    _b: MockMember,
    _proxy: ServerHandle,
    admin: AdminServer,
}

fn setup(driver: IoDriver, allow: Option<&str>) -> Setup {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    if let Some(allow) = allow {
        let mut admin = ringlb::config::AdminConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..Default::default()
        };
        admin.allow = vec![allow.into()];
        cfg.ops.admin = Some(admin.clone());
        let proxy = common::start_proxy(cfg);
        let admin = ringlb::admin::server::start(&admin, proxy.controller().clone()).unwrap();
        return Setup {
            a,
            _b: b,
            _proxy: proxy,
            admin,
        };
    }
    let (proxy, admin) = start_with_admin(cfg);
    Setup {
        a,
        _b: b,
        _proxy: proxy,
        admin,
    }
}

/// The text of the first `<httpd:NAME>` element after `from` in `doc`.
fn element<'a>(doc: &'a str, from: &str, name: &str) -> Option<&'a str> {
    let start = doc.find(from)?;
    let open = format!("<httpd:{name}>");
    let rest = &doc[start..];
    let at = rest.find(&open)? + open.len();
    let len = rest[at..].find("</httpd:")?;
    Some(&rest[at..at + len])
}

fn xml(admin: SocketAddr, target: &str) -> String {
    let (status, head, doc) = call(admin, "GET", target, "", "");
    assert_eq!(status, 200, "{target}: {doc}");
    assert!(head.contains("content-type: text/xml"), "{head}");
    doc
}

fn xml_document_nonce_and_drain(driver: IoDriver) {
    let s = setup(driver, None);
    let admin = s.admin.local_addr();
    let w = format!("http://{}", s.a.addr());
    let with_b = xml(admin, "/balancer-manager?b=test&xml=1");
    let without_b = xml(admin, "/balancer-manager?xml=1");
    assert_eq!(
        with_b, without_b,
        "httpd lists every balancer whatever b names"
    );
    assert!(with_b.starts_with("<?xml version='1.0' encoding='UTF-8' ?>\n"));
    assert!(with_b.contains("<httpd:manager xmlns:httpd='http://httpd.apache.org'>"));
    assert_eq!(element(&with_b, "", "name"), Some("balancer://test"));
    let member_name = format!("<httpd:name>{w}</httpd:name>");
    assert_eq!(element(&with_b, &member_name, "status"), Some("Init Ok "));
    assert_eq!(element(&with_b, &member_name, "route"), Some("a"));
    let nonce = element(&with_b, "", "nonce").expect("an allowed client sees the nonce");

    // The nonce read from the XML is the one the form accepts; with `xml` in the form the
    // answer is the document after the change.
    let referer = format!("Referer: http://{admin}/balancer-manager?b=test\r\n");
    let drain = format!("b=test&w={w}&w_status_N=1&nonce={nonce}&xml=1");
    let (status, head, doc) = call(admin, "POST", "/balancer-manager", &referer, &drain);
    assert_eq!(status, 200, "{doc}");
    assert!(head.contains("content-type: text/xml"));
    assert_eq!(element(&doc, &member_name, "status"), Some("Init Drn Ok "));

    // A Referer naming another site: refused, nothing changed.
    let undrain = drain.replace("w_status_N=1", "w_status_N=0");
    let evil = "Referer: http://evil.example/balancer-manager\r\n";
    let (status, _, why) = call(admin, "POST", "/balancer-manager", evil, &undrain);
    assert_eq!(status, 403, "{why}");
    let doc = xml(admin, "/balancer-manager?xml=1");
    assert_eq!(element(&doc, &member_name, "status"), Some("Init Drn Ok "));

    // A stale nonce: refused.
    let stale = undrain.replace(nonce, "0000");
    assert_eq!(
        call(admin, "POST", "/balancer-manager", &referer, &stale).0,
        403
    );

    // A bad value: 400, as httpd answers a change it cannot apply.
    let bad = format!("b=test&w={w}&w_lf=1000&nonce={nonce}&xml=1");
    assert_eq!(
        call(admin, "POST", "/balancer-manager", &referer, &bad).0,
        400
    );

    // The same change as a GET with `xml` in the query; no Referer at all is accepted.
    let target = format!("/balancer-manager?{undrain}");
    let doc = xml(admin, &target);
    assert_eq!(element(&doc, &member_name, "status"), Some("Init Ok "));
}

fn read_only_clients_see_no_nonce(driver: IoDriver) {
    let s = setup(driver, Some("10.0.0.0/8"));
    let admin = s.admin.local_addr();
    let w = format!("http://{}", s.a.addr());
    let doc = xml(admin, "/balancer-manager?b=test&xml=1");
    assert!(doc.contains(&format!("<httpd:name>{w}</httpd:name>")));
    assert!(!doc.contains("nonce"), "{doc}");
    let form = format!("b=test&w={w}&w_status_N=1&nonce=x&xml=1");
    assert_eq!(call(admin, "POST", "/balancer-manager", "", &form).0, 403);
}
