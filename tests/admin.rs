//! The operator surface over real sockets: the manager page and its forms (nonce, allow-list,
//! basic auth), the JSON API, `/api/config`, and `/metrics` parsed as Prometheus text and
//! matched against counted traffic.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::{config, member, poll_until, secs, start_proxy, Client, MockMember};
use ringlb::admin::server::{self as admin_server, AdminServer};
use ringlb::config::{AdminConfig, Config, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    page_lists_members_and_drain_form_works,
    changes_need_a_nonce_and_an_allowed_address,
    json_api_changes_adds_and_removes_members,
    running_config_is_served_as_valid_toml,
    metrics_parse_and_match_counted_traffic,
    basic_auth_guards_everything,
);

struct Setup {
    a: MockMember,
    b: MockMember,
    proxy: ServerHandle,
    admin: AdminServer,
}

fn setup(driver: IoDriver, tune: impl FnOnce(&mut Config, &mut AdminConfig)) -> Setup {
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
    tune(&mut cfg, &mut admin_cfg);
    let proxy = start_proxy(cfg);
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    Setup { a, b, proxy, admin }
}

/// One admin request; returns (status, headers lowercased, body).
fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    extra: &str,
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    common::set_timeouts(&s);
    write!(
        s,
        "{method} {target} HTTP/1.1\r\nHost: admin\r\n{extra}Content-Length: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

fn nonce(admin: SocketAddr) -> String {
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["nonce"]
        .as_str()
        .expect("allowed clients see the nonce")
        .to_string()
}

fn served(addr: SocketAddr, cookie: Option<&str>) -> String {
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    let req = format!("GET / HTTP/1.1\r\nHost: t\r\n{cookie}\r\n");
    Client::connect(addr).request(req.as_bytes()).body_text()
}

fn page_lists_members_and_drain_form_works(driver: IoDriver) {
    let s = setup(driver, |_, _| {});
    let admin = s.admin.local_addr();
    let (status, head, page) = call(admin, "GET", "/balancer-manager", "", "");
    assert_eq!(status, 200);
    assert!(head.contains("text/html"));
    for m in [&s.a, &s.b] {
        assert!(
            page.contains(&format!("http://{}", m.addr())),
            "page lists {}",
            m.addr()
        );
    }
    assert!(
        page.contains("id=\"drain-test-a\""),
        "a drain button per member"
    );

    let form = format!(
        "b=test&w=http://{}&w_status_N=1&nonce={}",
        s.a.addr(),
        nonce(admin)
    );
    let (status, head, _) = call(admin, "POST", "/balancer-manager", "", &form);
    assert_eq!(
        status, 303,
        "a change answers with a redirect back to the page"
    );
    assert!(head.contains("location: /balancer-manager?msg="));
    // New sessions avoid the draining member; its sessions stay.
    let addr = common::addr(&s.proxy);
    assert!(poll_until(secs(5), || (0..4).all(|_| served(addr, None) == "b")));
    assert_eq!(served(addr, Some("JSESSIONID=x.a")), "a");
    let (_, _, page) = call(admin, "GET", "/balancer-manager", "", "");
    assert!(
        page.contains("id=\"undrain-test-a\""),
        "the page shows the drain"
    );
}

fn changes_need_a_nonce_and_an_allowed_address(driver: IoDriver) {
    let s = setup(driver, |_, _| {});
    let admin = s.admin.local_addr();
    let w = format!("http://{}", s.a.addr());
    for body in [
        format!("b=test&w={w}&w_status_D=1"),
        format!("b=test&w={w}&w_status_D=1&nonce=0123"),
    ] {
        let (status, _, why) = call(admin, "POST", "/balancer-manager", "", &body);
        assert_eq!(status, 403, "{body}: {why}");
    }
    let (status, _, _) = call(
        admin,
        "GET",
        &format!("/balancer-manager?b=test&w={w}&w_status_D=1"),
        "",
        "",
    );
    assert_eq!(status, 403, "a GET change needs the nonce too");
    assert_eq!(
        served(common::addr(&s.proxy), Some("JSESSIONID=x.a")),
        "a",
        "nothing changed"
    );

    // An address outside the allow-list may look but not change, even with the nonce.
    let t = setup(driver, |_, admin| admin.allow = vec!["10.0.0.0/8".into()]);
    let admin = t.admin.local_addr();
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert!(
        v.get("nonce").is_none(),
        "no nonce for a client that may not change anything"
    );
    let form = format!(
        "b=test&w=http://{}&w_status_D=1&nonce={}",
        t.a.addr(),
        "x".repeat(32)
    );
    assert_eq!(call(admin, "POST", "/balancer-manager", "", &form).0, 403);
}

fn json_api_changes_adds_and_removes_members(driver: IoDriver) {
    let s = setup(driver, |_, _| {});
    let admin = s.admin.local_addr();
    let n = nonce(admin);
    let w = format!("http://{}", s.a.addr());
    let update = format!(
        r#"{{"balancer":"test","member":"{w}","loadfactor":3,"status":"+H","nonce":"{n}"}}"#
    );
    let (status, _, body) = call(admin, "POST", "/api/members", "", &update);
    assert_eq!(status, 200, "{body}");
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let a = &v["balancers"][0]["members"][0];
    assert_eq!(
        (a["loadfactor"].as_f64(), a["status"].as_str()),
        (Some(3.0), Some("H"))
    );

    let c = MockMember::named("c");
    let add = format!(
        r#"{{"add":{{"balancer":"test","url":"http://{}","route":"c"}},"nonce":"{n}"}}"#,
        c.addr()
    );
    assert_eq!(call(admin, "POST", "/api/members", "", &add).0, 200);
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let added = &v["balancers"][0]["members"][2];
    assert_eq!(
        added["status"].as_str(),
        Some("D"),
        "a new member starts disabled"
    );
    let remove = format!(r#"{{"remove":{{"balancer":"test","member":"{w}"}},"nonce":"{n}"}}"#);
    assert_eq!(call(admin, "POST", "/api/members", "", &remove).0, 200);
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    assert!(!body.contains(&w), "removed member gone from the status");
    let bad = format!(
        r#"{{"balancer":"test","member":"http://127.0.0.1:1","loadfactor":2,"nonce":"{n}"}}"#
    );
    assert_eq!(
        call(admin, "POST", "/api/members", "", &bad).0,
        400,
        "unknown member"
    );
}

fn running_config_is_served_as_valid_toml(driver: IoDriver) {
    let s = setup(driver, |_, _| {});
    let (status, _, toml) = call(s.admin.local_addr(), "GET", "/api/config", "", "");
    assert_eq!(status, 200);
    let parsed = ringlb::config::parse_str(&toml, "<running>").unwrap();
    assert_eq!(parsed.balancers[0].members.len(), 2);
    assert_eq!(
        parsed.balancers[0].members[0].url,
        format!("http://{}", s.a.addr())
    );
}

/// Parses Prometheus text: every line a comment or `name{labels} value`; returns samples.
fn parse_metrics(text: &str) -> Vec<(String, HashMap<String, String>, f64)> {
    let mut samples = Vec::new();
    let mut typed = std::collections::HashSet::new();
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            typed.insert(rest.split_whitespace().next().unwrap().to_string());
            continue;
        }
        if line.starts_with('#') || line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').expect("a sample has a value");
        let value: f64 = value.parse().expect("numeric value");
        let (name, labels) = match series.split_once('{') {
            Some((name, rest)) => (name, rest.strip_suffix('}').expect("closed labels")),
            None => (series, ""),
        };
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "{name}"
        );
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|s| name.strip_suffix(s).filter(|f| typed.contains(*f)))
            .unwrap_or(name);
        assert!(typed.contains(family), "{name} has a TYPE line");
        let labels = labels
            .split("\",")
            .filter(|l| !l.is_empty())
            .map(|l| {
                let (k, v) = l.split_once("=\"").expect("label=value");
                (k.to_string(), v.trim_end_matches('"').to_string())
            })
            .collect();
        samples.push((name.to_string(), labels, value));
    }
    samples
}

fn metrics_parse_and_match_counted_traffic(driver: IoDriver) {
    let s = setup(driver, |cfg, _| cfg.workers = Some(2));
    let addr = common::addr(&s.proxy);
    let sent = 50;
    let mut answered = HashMap::new();
    for _ in 0..sent {
        *answered.entry(served(addr, None)).or_insert(0u64) += 1;
    }
    let (status, head, text) = call(s.admin.local_addr(), "GET", "/metrics", "", "");
    assert_eq!(status, 200);
    assert!(head.contains("text/plain; version=0.0.4"));
    let samples = parse_metrics(&text);
    let value = |name: &str, route: &str| {
        samples
            .iter()
            .find(|(n, l, _)| n == name && l.get("route").map(String::as_str) == Some(route))
            .map(|s| s.2 as u64)
    };
    for route in ["a", "b"] {
        assert_eq!(
            value("ringlb_member_requests_total", route),
            Some(answered[route]),
            "{route}"
        );
        assert_eq!(
            value("ringlb_member_response_seconds_count", route),
            Some(answered[route])
        );
        assert_eq!(value("ringlb_member_busy", route), Some(0));
    }
    let two_xx: f64 = samples
        .iter()
        .filter(|(n, l, _)| n == "ringlb_member_responses_total" && l["class"] == "2xx")
        .map(|s| s.2)
        .sum();
    assert_eq!(two_xx as u64, sent);
}

fn basic_auth_guards_everything(driver: IoDriver) {
    let dir =
        std::env::temp_dir().join(format!("ringlb-htpasswd-{}-{driver:?}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("htpasswd");
    let hash = bcrypt::hash("secret", 4).unwrap();
    std::fs::write(&file, format!("ops:{hash}\n")).unwrap();
    let s = setup(driver, |_, admin| admin.htpasswd = Some(file.clone()));
    let admin = s.admin.local_addr();
    let (status, head, _) = call(admin, "GET", "/balancer-manager", "", "");
    assert_eq!(status, 401);
    assert!(head.contains("www-authenticate: basic"));
    let good = "Authorization: Basic b3BzOnNlY3JldA==\r\n"; // ops:secret
    assert_eq!(call(admin, "GET", "/balancer-manager", good, "").0, 200);
    let bad = "Authorization: Basic b3BzOndyb25n\r\n"; // ops:wrong
    assert_eq!(call(admin, "GET", "/metrics", bad, "").0, 401);
    let _ = std::fs::remove_dir_all(&dir);
}
