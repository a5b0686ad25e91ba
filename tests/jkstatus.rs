//! mod_jk's status worker over real sockets: `cmd=list|show|update|version` in `prop`, `txt`
//! and `xml`, activation driving the balancer (drained member: no new sessions, its sticky
//! ones still), and the access rules for updates (allow list, Origin/Referer; no nonce).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::net::SocketAddr;

use common::admin_api::call;
use common::{config, member, poll_until, secs, Client, MockMember};
use ringlb::admin::server::AdminServer;
use ringlb::config::{AdminConfig, IoDriver, JkStatusMode};
use ringlb::server::ServerHandle;

both_drivers!(
    list_show_update_in_each_mime,
    updates_need_an_allowed_same_origin_caller,
    read_only_and_off_modes,
);

struct Setup {
    _a: MockMember,
    _b: MockMember,
    proxy: ServerHandle,
    admin: AdminServer,
}

fn setup(driver: IoDriver, tune: impl FnOnce(&mut AdminConfig)) -> Setup {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    let mut admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    tune(&mut admin_cfg);
    cfg.ops.admin = Some(admin_cfg.clone());
    let proxy = common::start_proxy(cfg);
    let admin = ringlb::admin::server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    Setup {
        _a: a,
        _b: b,
        proxy,
        admin,
    }
}

fn jk(admin: SocketAddr, query: &str, extra: &str) -> (u16, String, String) {
    call(admin, "GET", &format!("/jkstatus?{query}"), extra, "")
}

fn ok(admin: SocketAddr, query: &str) -> String {
    let (status, _, body) = jk(admin, query, "");
    assert_eq!(status, 200, "{query}: {body}");
    body
}

fn served(addr: SocketAddr, cookie: Option<&str>) -> String {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let req = format!("GET / HTTP/1.1\r\nHost: t\r\n{cookie}\r\n");
    Client::connect(addr).request(req.as_bytes()).body_text()
}

fn list_show_update_in_each_mime(driver: IoDriver) {
    let s = setup(driver, |_| {});
    let admin = s.admin.local_addr();

    let (_, head, prop) = jk(admin, "cmd=list&mime=prop", "");
    assert!(head.contains("content-type: text/plain"), "{head}");
    for line in [
        "worker.list=test",
        "worker.test.type=lb",
        "worker.test.balance_workers=a",
        "worker.test.balance_workers=b",
        "worker.a.activation=ACT",
        "worker.a.route=a",
        "worker.a.lbfactor=1",
        "worker.a.distance=0",
        "worker.result.type=OK",
    ] {
        assert!(prop.lines().any(|l| l == line), "{line} missing:\n{prop}");
    }
    let txt = ok(admin, "cmd=list&mime=txt");
    assert!(
        txt.contains("\nBalancer Worker: name=test type=lb "),
        "{txt}"
    );
    assert!(txt.contains("\nMember: name=a type=http "), "{txt}");
    let (_, head, xml) = jk(admin, "cmd=list&mime=xml", "");
    assert!(head.contains("content-type: text/xml"), "{head}");
    assert!(xml.contains("<jk:status\n  xmlns:jk=\"http://tomcat.apache.org\">"));
    assert!(xml.contains("<jk:member\n        name=\"b\"\n"), "{xml}");

    let one = ok(admin, "cmd=show&w=test&sw=b&mime=prop");
    assert!(
        one.contains("worker.b.activation=ACT") && !one.contains("worker.a."),
        "{one}"
    );
    let missing = ok(admin, "cmd=show&w=test&sw=zz&mime=prop");
    assert!(
        missing
            .contains("worker.result.type=ERROR\nworker.result.message=could not find sub worker"),
        "{missing}"
    );
    assert!(ok(admin, "cmd=version&mime=prop").contains("worker.jk_version=ringlb/"));

    // Disable (drain) a, in each mime's answer; then the balancer obeys it.
    let prop = ok(admin, "cmd=update&w=test&sw=a&vwa=D&mime=prop");
    assert_eq!(
        prop,
        "worker.result.type=OK\nworker.result.message=Action finished\n"
    );
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=DIS"));
    let addr = common::addr(&s.proxy);
    assert!(poll_until(secs(5), || (0..4).all(|_| served(addr, None) == "b")));
    assert_eq!(served(addr, Some("JSESSIONID=x.a")), "a", "sessions stay");

    let txt = ok(admin, "cmd=update&w=test&sw=a&vwa=2&mime=txt");
    assert_eq!(txt, "Result: type=OK message=\"Action finished\"\n");
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=STP"));
    let xml = ok(admin, "cmd=update&w=test&sw=a&vwa=A&vwf=3&vwd=1&mime=xml");
    assert!(xml.contains("type=\"OK\""), "{xml}");
    let shown = ok(admin, "cmd=show&w=test&sw=a&mime=prop");
    for line in [
        "worker.a.activation=ACT",
        "worker.a.lbfactor=3",
        "worker.a.distance=1",
    ] {
        assert!(shown.lines().any(|l| l == line), "{line}:\n{shown}");
    }
    let bad = ok(admin, "cmd=update&w=test&sw=a&vwa=Q&mime=prop");
    assert!(bad.contains("worker.result.type=ERROR"), "{bad}");
    let reset = ok(admin, "cmd=reset&w=test&sw=a&mime=prop");
    assert!(
        reset.contains("worker.result.type=ERROR\nworker.result.message=reset is not supported"),
        "{reset}"
    );
}

fn updates_need_an_allowed_same_origin_caller(driver: IoDriver) {
    let s = setup(driver, |_| {});
    let admin = s.admin.local_addr();
    let q = "cmd=update&w=test&sw=a&vwa=D&mime=prop";
    for extra in [
        "Origin: http://evil.example\r\n",
        "Referer: http://evil.example/jkstatus\r\n",
    ] {
        let (status, _, body) = jk(admin, q, extra);
        assert_eq!(status, 403, "{extra}");
        assert!(body.contains("worker.result.type=ERROR"), "{body}");
    }
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=ACT"));
    let own = format!("Referer: http://{admin}/jkstatus\r\n");
    assert_eq!(jk(admin, q, &own).0, 200);
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=DIS"));

    let ro = setup(driver, |a| a.allow = vec!["10.0.0.0/8".into()]);
    let admin = ro.admin.local_addr();
    assert!(
        ok(admin, "cmd=list&mime=prop").contains("worker.a.activation=ACT"),
        "reads are open"
    );
    assert_eq!(jk(admin, q, "").0, 403);
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=ACT"));
}

fn read_only_and_off_modes(driver: IoDriver) {
    let ro = setup(driver, |a| a.jkstatus = JkStatusMode::ReadOnly);
    let admin = ro.admin.local_addr();
    assert!(ok(admin, "cmd=list&mime=prop").contains("worker.a.activation=ACT"));
    let (status, _, body) = jk(admin, "cmd=update&w=test&sw=a&vwa=D&mime=prop", "");
    assert_eq!(status, 403);
    assert!(body.contains("read-only"), "{body}");
    assert!(ok(admin, "cmd=show&w=test&sw=a&mime=prop").contains("worker.a.activation=ACT"));

    let off = setup(driver, |a| a.jkstatus = JkStatusMode::Off);
    assert_eq!(jk(off.admin.local_addr(), "cmd=list&mime=prop", "").0, 404);
}
