//! Reverse rewriting (httpd `ProxyPassReverse` and its cookie forms, issue 12 item 3): a
//! re-mounted application's redirects and cookies reach the client in its own terms, never
//! with the member's address or `target_path`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::tls::{tls13, tls_listener, Pki, TlsClient};
use common::{addr, config, member, response_bytes, start_proxy, Client, MockMember, Reply};
use ringlb::config::{IoDriver, ReverseConfig};
use ringlb::server::{self, ServerHandle};
use std::sync::Arc;

both_drivers!(
    a_remounted_app_does_not_leak_the_member,
    relative_and_foreign_locations,
    explicit_cookie_maps_and_off,
    a_tls_listener_gives_https,
);

/// A member that redirects to itself the way Tomcat does (from the Host it was sent) and sets
/// cookies under `/app`, plus `headers`.
fn tomcat(extra: &'static [(&'static str, &'static str)]) -> MockMember {
    MockMember::respond(move |req| {
        let host = req.header("host").unwrap_or_default().to_owned();
        let location = format!("http://{host}/app/session.jsp");
        let content_location = format!("http://{host}/app/x?y=1");
        let mut headers: Vec<(&str, &str)> = vec![
            ("Location", &location),
            ("Content-Location", &content_location),
            ("Set-Cookie", "JSESSIONID=abc.node1; Path=/app; HttpOnly"),
            ("Set-Cookie", "pref=1; path=/app/x"),
        ];
        headers.extend_from_slice(extra);
        Reply::Send(response_bytes(302, "Found", &headers, b""))
    })
}

/// A proxy with the balancer mounted at `/mnt`, members' paths at `/app`.
fn remounted(driver: IoDriver, mock: &MockMember, reverse: ReverseConfig) -> ServerHandle {
    let mut cfg = config(driver, vec![member(mock.addr(), "node1", 100)]);
    let b = &mut cfg.balancers[0];
    b.mount = Some(ringlb::config::PathMount::new("/mnt", "/app"));
    b.options.reverse = reverse;
    start_proxy(cfg)
}

fn fetch(handle: &ServerHandle, host: &str) -> common::Response {
    let req = format!("GET /mnt/start HTTP/1.1\r\nHost: {host}\r\n\r\n");
    Client::connect(addr(handle)).request(req.as_bytes())
}

/// The issue's case: `Location`, `Content-Location` and the cookie paths are in the client's
/// terms, and no field names the member.
fn a_remounted_app_does_not_leak_the_member(driver: IoDriver) {
    let mock = tomcat(&[]);
    let proxy = remounted(driver, &mock, ReverseConfig::default());
    let resp = fetch(&proxy, "www.example.com");
    assert_eq!(resp.status, 302);
    assert_eq!(
        resp.header("location"),
        Some("http://www.example.com/mnt/session.jsp")
    );
    assert_eq!(
        resp.header("content-location"),
        Some("http://www.example.com/mnt/x?y=1")
    );
    assert_eq!(
        resp.headers_named("set-cookie"),
        [
            "JSESSIONID=abc.node1; Path=/mnt; HttpOnly",
            "pref=1; path=/mnt/x"
        ]
    );
    let member_addr = mock.addr().to_string();
    for (name, value) in &resp.headers {
        assert!(!value.contains(&member_addr), "{name}: {value}");
        assert!(!value.contains("/app"), "{name}: {value}");
    }
    assert_eq!(mock.requests()[0].path, "/app/start");
}

/// A relative `Location` under `target_path` gets the mount; a URL of another host and a path
/// outside `target_path` are left alone.
fn relative_and_foreign_locations(driver: IoDriver) {
    let mock = MockMember::respond(|req| {
        let location = if req.path.ends_with("/rel") {
            "/app/login.jsp?next=1"
        } else {
            "/apple/x"
        };
        let headers = [
            ("Location", location),
            ("URI", "http://other.example/app/x"),
        ];
        Reply::Send(response_bytes(302, "Found", &headers, b""))
    });
    let proxy = remounted(driver, &mock, ReverseConfig::default());
    let mut client = Client::connect(addr(&proxy));
    let resp = client.request(b"GET /mnt/rel HTTP/1.1\r\nHost: lb.example\r\n\r\n");
    assert_eq!(resp.header("location"), Some("/mnt/login.jsp?next=1"));
    assert_eq!(resp.header("uri"), Some("http://other.example/app/x"));
    let resp = client.request(b"GET /mnt/other HTTP/1.1\r\nHost: lb.example\r\n\r\n");
    assert_eq!(resp.header("location"), Some("/apple/x"));
}

/// `proxypassreverse_cookie_path` wins over the default mapping,
/// `proxypassreverse_cookie_domain` maps `Domain=` (case ignored), and `proxypassreverse =
/// false` relays every field as the member sent it.
fn explicit_cookie_maps_and_off(driver: IoDriver) {
    let mock = tomcat(&[(
        "Set-Cookie",
        "sso=1; Domain=Internal.Example; Path=/app/x/y",
    )]);
    let maps = ReverseConfig {
        enabled: true,
        cookie_path: vec![("/app/x".into(), "/shared".into())],
        cookie_domain: vec![("internal.example".into(), "www.example.com".into())],
    };
    let proxy = remounted(driver, &mock, maps);
    let resp = fetch(&proxy, "www.example.com");
    assert_eq!(
        resp.headers_named("set-cookie"),
        [
            "JSESSIONID=abc.node1; Path=/mnt; HttpOnly",
            "pref=1; path=/shared",
            "sso=1; Domain=www.example.com; Path=/shared/y",
        ]
    );
    drop(proxy);

    let off = ReverseConfig {
        enabled: false,
        ..ReverseConfig::default()
    };
    let proxy = remounted(driver, &mock, off);
    let resp = fetch(&proxy, "www.example.com");
    let location = format!("http://{}/app/session.jsp", mock.addr());
    assert_eq!(resp.header("location"), Some(location.as_str()));
    assert_eq!(
        resp.headers_named("set-cookie")[0],
        "JSESSIONID=abc.node1; Path=/app; HttpOnly"
    );

    // Off, the explicit cookie maps still apply, as httpd applies ProxyPassReverseCookiePath
    // without a ProxyPassReverse; the Location and the implicit mount mapping do not.
    let maps_only = ReverseConfig {
        enabled: false,
        cookie_path: vec![("/app".into(), "/mnt".into())],
        ..ReverseConfig::default()
    };
    let proxy = remounted(driver, &mock, maps_only);
    let resp = fetch(&proxy, "www.example.com");
    assert_eq!(resp.header("location"), Some(location.as_str()));
    assert_eq!(
        resp.headers_named("set-cookie")[0],
        "JSESSIONID=abc.node1; Path=/mnt; HttpOnly"
    );
}

/// On a TLS listener the rewritten `Location` says `https`.
fn a_tls_listener_gives_https(driver: IoDriver) {
    let pki = Pki::new(&format!("reverse-{driver:?}"));
    let mock = tomcat(&[]);
    let mut cfg = config(driver, vec![member(mock.addr(), "node1", 100)]);
    cfg.balancers[0].mount = Some(ringlb::config::PathMount::new("/mnt", "/app"));
    let (cert, key, _) = pki.issue("leaf", &["localhost"]);
    cfg.listeners = vec![tls_listener(&cert, &key)];
    let handle = server::start(Arc::new(cfg)).expect("ringlb starts");
    let tls_addr = handle.local_addrs()[1];
    let mut client = TlsClient::connect(tls_addr, pki.client(tls13()), "localhost");
    let resp = client.get("/mnt/start", "www.example.com");
    assert_eq!(
        resp.header("location"),
        Some("https://www.example.com/mnt/session.jsp")
    );
}
