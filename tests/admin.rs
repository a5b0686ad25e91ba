//! The operator surface over real sockets: the manager page and its forms (nonce, allow-list,
//! basic auth), the JSON API, `/api/config`, and `/metrics` parsed as Prometheus text and
//! matched against counted traffic; access rules that a reload changes; cross-origin and
//! foreign-`Host` requests; anti-framing headers; `HEAD` without a body.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::collections::HashMap;
use std::net::SocketAddr;

use common::admin_api::{call, call_as, nonce};
use common::{config, member, poll_until, secs, start_proxy, Client, MockMember};
use ringlb::admin::server::{self as admin_server, AdminServer};
use ringlb::balancer::Status;
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
    /// The configuration the proxy started from, `[admin]` included: what a reload edits.
    cfg: Config,
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
    cfg.ops.admin = Some(admin_cfg.clone());
    let proxy = start_proxy(cfg.clone());
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    Setup {
        a,
        b,
        cfg,
        proxy,
        admin,
    }
}

impl Setup {
    /// The `[admin]` section of [`Setup::cfg`].
    fn admin_cfg(&mut self) -> &mut AdminConfig {
        self.cfg.ops.admin.as_mut().unwrap()
    }

    /// Member `a`'s status in the generation in use.
    fn a_status(&self) -> Status {
        self.proxy.current().config.balancers[0].members[0]
            .options
            .status
    }

    /// The form that drains member `a`.
    fn drain_a(&self, nonce: &str) -> String {
        format!(
            "b=test&w=http://{}&w_status_N=1&nonce={nonce}",
            self.a.addr()
        )
    }
}

/// One admin request with the listener's own address as `Host`; returns (status, headers
/// lowercased, body).
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
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    let urls: Vec<&str> = v["balancers"][0]["members"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["url"].as_str())
        .collect();
    assert!(!urls.contains(&w.as_str()), "removed member gone: {urls:?}");
    let overrides = v["overrides"].to_string();
    assert!(
        overrides.contains(&format!("member {w}: removed")),
        "the removal is listed as an override: {overrides}"
    );
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
        assert_eq!(value("ringlb_member_in_flight", route), Some(0));
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

/// A bcrypt htpasswd file with one user, in a directory of its own.
fn htpasswd_file(tag: &str, user: &str, password: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("ringlb-admin-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("htpasswd");
    write_htpasswd(&file, user, password);
    file
}

fn write_htpasswd(file: &std::path::Path, user: &str, password: &str) {
    let hash = bcrypt::hash(password, 4).unwrap();
    std::fs::write(file, format!("{user}:{hash}\n")).unwrap();
}

fn basic(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}").into_bytes();
    let mut out = String::new();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            out.push(if i <= chunk.len() {
                ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char
            } else {
                '='
            });
        }
    }
    format!("Authorization: Basic {out}\r\n")
}

#[test]
fn reload_applies_a_new_allow_list() {
    let mut s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    let n = nonce(admin);
    s.admin_cfg().allow = vec!["10.0.0.0/8".into()];
    s.proxy.reload(s.cfg.clone()).unwrap();
    let (_, _, toml) = call(admin, "GET", "/api/config", "", "");
    assert!(toml.contains("allow = [\"10.0.0.0/8\"]"), "{toml}");
    // 127.0.0.1 is now outside the list: the change is refused, even with the nonce.
    let (status, _, why) = call(admin, "POST", "/balancer-manager", "", &s.drain_a(&n));
    assert_eq!(status, 403, "{why}");
    assert!(!s.a_status().contains(Status::DRAIN), "nothing changed");
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    assert!(!body.contains("nonce"), "no nonce for a disallowed client");
    let (_, _, page) = call(admin, "GET", "/balancer-manager", "", "");
    assert!(!page.contains("<form"), "read-only page after the reload");

    // And back: the loopback client may change things again.
    s.admin_cfg().allow = vec!["127.0.0.1/32".into()];
    s.proxy.reload(s.cfg.clone()).unwrap();
    let (status, _, _) = call(admin, "POST", "/balancer-manager", "", &s.drain_a(&n));
    assert_eq!(status, 303);
    assert!(s.a_status().contains(Status::DRAIN));
}

#[test]
fn reload_applies_a_new_htpasswd_file() {
    let mut s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    assert_eq!(call(admin, "GET", "/api/status", "", "").0, 200);
    let file = htpasswd_file("reload", "ops", "secret");
    s.admin_cfg().htpasswd = Some(file.clone());
    let before = s.proxy.current().number;
    s.proxy.reload(s.cfg.clone()).unwrap();
    let old = basic("ops", "secret");
    assert_eq!(call(admin, "GET", "/api/status", "", "").0, 401);
    assert_eq!(call(admin, "GET", "/api/status", &old, "").0, 200);

    // The same path with a new password: the file is re-read and the verified (cached)
    // credential goes with the old rules.
    write_htpasswd(&file, "ops", "changed");
    s.proxy.reload(s.cfg.clone()).unwrap();
    assert_eq!(call(admin, "GET", "/api/status", &old, "").0, 401);
    let new = basic("ops", "changed");
    assert_eq!(call(admin, "GET", "/api/status", &new, "").0, 200);

    // A file that does not parse: the reload is refused and the rules in force stay.
    std::fs::write(&file, "ops:{SHA}not-bcrypt\n").unwrap();
    let err = s.proxy.reload(s.cfg.clone()).unwrap_err();
    assert!(err.contains(&file.display().to_string()), "{err}");
    assert_eq!(s.proxy.current().number, before + 2, "no generation for it");
    assert_eq!(call(admin, "GET", "/api/status", &new, "").0, 200);
    assert_eq!(call(admin, "GET", "/api/status", "", "").0, 401);

    // Without the file again: open to all.
    s.admin_cfg().htpasswd = None;
    s.proxy.reload(s.cfg.clone()).unwrap();
    assert_eq!(call(admin, "GET", "/api/status", "", "").0, 200);
    let _ = std::fs::remove_dir_all(file.parent().unwrap());
}

#[test]
fn reload_refuses_what_needs_a_restart() {
    let s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    let number = s.proxy.current().number;
    type Edit = fn(&mut Config);
    let edits: [(&str, Edit); 5] = [
        ("admin.listen", |c| {
            c.ops.admin.as_mut().unwrap().listen = "127.0.0.1:1".parse().unwrap()
        }),
        ("admin on -> off", |c| c.ops.admin = None),
        ("listen", |c| {
            c.listen = vec!["127.0.0.1:1".parse().unwrap()]
        }),
        ("workers", |c| c.workers = Some(3)),
        ("io_driver", |c| c.io_driver = IoDriver::Epoll),
    ];
    for (key, edit) in edits {
        let mut next = s.cfg.clone();
        edit(&mut next);
        let key = key.split(' ').next().unwrap();
        let err = s.proxy.reload(next).unwrap_err();
        assert!(err.contains(key) && err.contains("restart"), "{key}: {err}");
    }
    assert_eq!(s.proxy.current().number, number, "nothing changed");
    let (_, _, toml) = call(admin, "GET", "/api/config", "", "");
    assert!(toml.contains("[admin]\nlisten = \"127.0.0.1:0\""), "{toml}");
    // The listener still answers where it was.
    assert_eq!(call(admin, "GET", "/api/status", "", "").0, 200);
}

#[test]
fn cross_origin_changes_are_refused() {
    let s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    let n = nonce(admin);
    let form = s.drain_a(&n);
    let own = format!("http://{admin}");
    for extra in [
        "Origin: http://evil.example\r\n".to_string(),
        "Origin: null\r\n".to_string(),
        format!("Origin: https://{admin}\r\n"),
        "Referer: http://evil.example/balancer-manager\r\n".to_string(),
        format!("Origin: {own}\r\nReferer: http://evil.example/\r\n"),
    ] {
        let (status, _, why) = call(admin, "POST", "/balancer-manager", &extra, &form);
        assert_eq!(status, 403, "{extra}: {why}");
        assert!(why.contains("cross-origin"), "{why}");
        let target = format!("/balancer-manager?{form}");
        assert_eq!(
            call(admin, "GET", &target, &extra, "").0,
            403,
            "GET {extra}"
        );
    }
    let evil = "Origin: http://evil.example\r\n";
    let w = format!("http://{}", s.a.addr());
    let json = format!(r#"{{"balancer":"test","member":"{w}","status":"+N","nonce":"{n}"}}"#);
    assert_eq!(call(admin, "POST", "/api/members", evil, &json).0, 403);
    let reload = format!("/api/reload?nonce={n}");
    assert_eq!(call(admin, "POST", &reload, evil, "").0, 403);
    assert!(!s.a_status().contains(Status::DRAIN), "nothing changed");

    // What a browser sends for a same-origin form POST is accepted, under either own name.
    let same = format!("Origin: {own}\r\nReferer: {own}/balancer-manager\r\n");
    assert_eq!(
        call(admin, "POST", "/balancer-manager", &same, &form).0,
        303
    );
    assert!(s.a_status().contains(Status::DRAIN));
    // As httpd's manager: a form change without a Referer changes nothing; the JSON API
    // needs none.
    let bare = "Origin: ".to_string() + &own + "\r\n";
    let (status, _, why) = call(admin, "POST", "/balancer-manager", &bare, &form);
    assert_eq!(status, 403, "{why}");
    assert!(why.contains("needs a Referer"), "{why}");
    assert!(s.a_status().contains(Status::DRAIN), "still drained");
    let local = format!(
        "Origin: http://localhost:{0}\r\nReferer: http://localhost:{0}/balancer-manager\r\n",
        admin.port()
    );
    let undrain = form.replace("w_status_N=1", "w_status_N=0");
    assert_eq!(
        call(admin, "POST", "/balancer-manager", &local, &undrain).0,
        303
    );
    assert!(!s.a_status().contains(Status::DRAIN));
}

#[test]
fn clients_outside_allow_get_a_read_only_page() {
    let s = setup(IoDriver::Auto, |_, admin| {
        admin.allow = vec!["10.0.0.0/8".into()]
    });
    let (status, _, page) = call(s.admin.local_addr(), "GET", "/balancer-manager", "", "");
    assert_eq!(status, 200);
    assert!(
        page.contains(&format!("http://{}", s.a.addr())),
        "members listed"
    );
    for absent in ["<form", "nonce", "drain-test-a", "<button"] {
        assert!(
            !page.contains(absent),
            "{absent} shown to a disallowed client"
        );
    }
}

#[test]
fn answers_forbid_framing_and_sniffing() {
    let s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    for (method, target) in [
        ("GET", "/balancer-manager"),
        ("GET", "/api/status"),
        ("GET", "/metrics"),
        ("GET", "/nope"),
        ("POST", "/balancer-manager"),
    ] {
        let (_, head, _) = call(admin, method, target, "", "");
        for line in [
            "x-frame-options: deny\r\n",
            "content-security-policy: frame-ancestors 'none'\r\n",
            "x-content-type-options: nosniff\r\n",
        ] {
            assert!(
                head.contains(line),
                "{method} {target}: {line:?} in\n{head}"
            );
        }
    }
}

#[test]
fn foreign_host_is_refused() {
    let mut s = setup(IoDriver::Auto, |_, admin| {
        admin.server_names = vec!["admin.example".into()];
    });
    let admin = s.admin.local_addr();
    let n = nonce(admin);
    let port = admin.port();
    for host in [
        "evil.example",
        &format!("evil.example:{port}"),
        "127.0.0.1:1",
    ] {
        let line = format!("Host: {host}\r\n");
        let (status, _, body) = call_as(admin, &line, "GET", "/api/status", "", "");
        assert_eq!(status, 421, "{host}");
        assert!(!body.contains(&n) && !body.contains("balancers"), "{body}");
        let (status, _, body) = call_as(admin, &line, "GET", "/balancer-manager", "", "");
        assert_eq!(status, 421, "{host}");
        assert!(!body.contains("<form"), "{body}");
        let form = s.drain_a(&n);
        let (status, _, _) = call_as(admin, &line, "POST", "/balancer-manager", "", &form);
        assert_eq!(status, 421);
    }
    assert!(!s.a_status().contains(Status::DRAIN), "nothing changed");
    let twice = format!("Host: {admin}\r\nHost: {admin}\r\n");
    assert_eq!(call_as(admin, "", "GET", "/api/status", "", "").0, 400);
    assert_eq!(call_as(admin, &twice, "GET", "/api/status", "", "").0, 400);
    for host in [
        format!("localhost:{port}"),
        admin.to_string(),
        "Admin.Example".into(),
    ] {
        let line = format!("Host: {host}\r\n");
        assert_eq!(
            call_as(admin, &line, "GET", "/api/status", "", "").0,
            200,
            "{host}"
        );
    }
    // A reload that drops the name stops serving it.
    s.admin_cfg().server_names.clear();
    s.proxy.reload(s.cfg.clone()).unwrap();
    let line = "Host: admin.example\r\n";
    assert_eq!(call_as(admin, line, "GET", "/api/status", "", "").0, 421);
}

#[test]
fn head_gets_the_head_without_a_body() {
    let s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    for target in [
        "/",
        "/balancer-manager",
        "/api/status",
        "/api/config",
        "/metrics",
        "/x",
    ] {
        let (status, head, body) = call(admin, "HEAD", target, "", "");
        let (get_status, _, get_body) = call(admin, "GET", target, "", "");
        assert_eq!(status, get_status, "HEAD {target}");
        assert_eq!(body, "", "HEAD {target} has no body");
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .expect("Content-Length")
            .parse()
            .unwrap();
        assert!(length > 0, "HEAD {target}");
        if target == "/api/config" {
            assert_eq!(length, get_body.len(), "the length GET would send");
        }
    }
}

#[test]
fn csv_view_lists_every_member_with_its_counts() {
    let s = setup(IoDriver::Auto, |_, _| {});
    let admin = s.admin.local_addr();
    let n = nonce(admin);
    assert_eq!(
        call(admin, "POST", "/balancer-manager", "", &s.drain_a(&n)).0,
        303
    );
    for target in ["/balancer-manager;csv", "/balancer-manager?csv"] {
        let (status, head, body) = call(admin, "GET", target, "", "");
        assert_eq!(status, 200, "{target}");
        assert!(head.contains("content-type: text/csv"), "{head}");
        let lines: Vec<&str> = body.lines().collect();
        assert!(lines[0].starts_with("# pxname,svname,"), "{body}");
        let a = format!("test,http://{},", s.a.addr());
        let b = format!("test,http://{},", s.b.addr());
        let row = |prefix: &str| lines.iter().find(|l| l.starts_with(prefix)).copied();
        assert!(row(&a).expect("a's row").contains(",DRAIN,"), "{body}");
        assert!(row(&b).expect("b's row").contains(",UP,"), "{body}");
        assert!(row("test,BACKEND,").is_some(), "{body}");
        assert_eq!(lines.len(), 4, "{body}");
    }
}
