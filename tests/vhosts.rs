//! Virtual hosts, `[[mount]]` patterns and regexes, and exclusions over real sockets: the
//! member a request reaches and the target it gets, chosen by `Host` and path; excluded paths
//! answered 404 by ringlb without a byte to any member; responses rewritten back through the
//! mount that served them (issue 13, items 1 and 2).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{addr, start_proxy, Client, MockMember, Reply};
use ringlb::config::{self, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    requests_go_to_the_vhost_their_host_names,
    patterns_regexes_and_exclusions_pick_the_member_and_target,
    redirects_come_back_through_the_mount_that_served_them,
);

/// A member answering `200 OK` with `NAME PATH` as the body.
fn named(name: &'static str) -> MockMember {
    MockMember::respond(move |req| Reply::ok(format!("{name} {}", req.path)))
}

/// A proxy with balancers `a`, `b`, `c` (one member each: `members`) and `routes`.
fn proxy(driver: IoDriver, members: [&MockMember; 3], routes: &str) -> ServerHandle {
    let mut text = "workers = 1\nlisten = [\"127.0.0.1:0\"]\n".to_owned();
    for (name, m) in ["a", "b", "c"].iter().zip(members) {
        text.push_str(&format!(
            "[[balancer]]\nname = \"{name}\"\n[[balancer.member]]\nurl = \"http://{}\"\n",
            m.addr()
        ));
    }
    text.push_str(routes);
    let mut cfg = config::parse_str(&text, "<vhosts test>").unwrap_or_else(|e| panic!("{e}"));
    cfg.io_driver = driver;
    start_proxy(cfg)
}

/// `GET target` with `Host: host` on one connection: (status, body).
fn fetch(proxy: &ServerHandle, host: &str, target: &str) -> (u16, String) {
    let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
    let resp = Client::connect(addr(proxy)).request(request.as_bytes());
    (resp.status, resp.body_text())
}

fn requests_go_to_the_vhost_their_host_names(driver: IoDriver) {
    let (a, b, c) = (named("a"), named("b"), named("c"));
    let routes = "[[mount]]\npath = \"/common\"\nbalancer = \"c\"\n\
        [[vhost]]\nserver_name = \"www.example.com\"\nserver_alias = [\"*.example.org\"]\n\
        [[vhost.mount]]\npath = \"/\"\nbalancer = \"a\"\n\
        [[vhost]]\nserver_name = \"shop.example.com\"\ndefault = true\n\
        [[vhost.mount]]\npath = \"/\"\nbalancer = \"b\"\ntarget_path = \"/shop\"\n";
    let proxy = proxy(driver, [&a, &b, &c], routes);
    // (host, target, status, body)
    let cases = [
        ("www.example.com", "/x", 200, "a /x"),
        ("WWW.EXAMPLE.COM:8080", "/x?q=1", 200, "a /x?q=1"),
        ("eu.example.org", "/y", 200, "a /y"),
        ("shop.example.com", "/cart", 200, "b /shop/cart"),
        ("unknown.test", "/cart", 200, "b /shop/cart"),
        ("www.example.com", "/common/z", 200, "c /common/z"),
        ("shop.example.com", "/common", 200, "c /common"),
    ];
    for (host, target, status, body) in cases {
        assert_eq!(
            fetch(&proxy, host, target),
            (status, body.to_owned()),
            "{host} {target}"
        );
    }
    // An absolute-form target names the host itself (RFC 9112 3.2.2), whatever `Host` says.
    let (status, body) = fetch(&proxy, "www.example.com", "http://shop.example.com/p");
    assert_eq!((status, body.as_str()), (200, "b /shop/p"));
}

fn patterns_regexes_and_exclusions_pick_the_member_and_target(driver: IoDriver) {
    let (a, b, c) = (named("a"), named("b"), named("c"));
    let routes = "[[mount]]\npath = \"/\"\nbalancer = \"c\"\n\
        [[mount]]\npattern = \"/examples/*\"\nbalancer = \"a\"\n\
        [[mount]]\npattern = \"/*.gif\"\nexclude = true\nbalancers = [\"a\"]\n\
        [[mount]]\nregex = '^/legacy/(.*)\\.do$'\nbalancer = \"b\"\ntarget = \"/app/$1.action\"\n\
        [[mount]]\npath = \"/static\"\nexclude = true\n";
    let proxy = proxy(driver, [&a, &b, &c], routes);
    let cases = [
        (
            "/examples/x.jsp;jsessionid=S.n1",
            200,
            "a /examples/x.jsp;jsessionid=S.n1",
        ),
        ("/examples/img/logo.gif", 404, ""),
        ("/logo.gif", 200, "c /logo.gif"),
        ("/legacy/buy.do?id=7", 200, "b /app/buy.action?id=7"),
        ("/legacy/buy.dox", 200, "c /legacy/buy.dox"),
        ("/static/site.css", 404, ""),
        ("/staticx", 200, "c /staticx"),
    ];
    for (target, status, body) in cases {
        let (got_status, got_body) = fetch(&proxy, "h.test", target);
        assert_eq!(got_status, status, "{target}: {got_body}");
        if status == 200 {
            assert_eq!(got_body, body, "{target}");
        }
    }
    for (m, name) in [(&a, "a"), (&b, "b"), (&c, "c")] {
        for req in m.requests() {
            assert!(
                !req.path.ends_with(".gif") || name != "a",
                "an excluded .gif reached a: {}",
                req.path
            );
            assert!(!req.path.starts_with("/static/"), "{name} got {}", req.path);
        }
    }
}

fn redirects_come_back_through_the_mount_that_served_them(driver: IoDriver) {
    // One balancer mounted twice: `/mnt` -> `/app` and, in a vhost, `/` as sent. A member's
    // Location naming itself is put back in the terms of the mount the request came in by.
    let member = MockMember::respond(|req| {
        let location = format!("http://{}/app/next", req.header("Host").unwrap_or("?"));
        Reply::Send(common::response_bytes(
            302,
            "Found",
            &[("Location", &location)],
            b"",
        ))
    });
    let (b, c) = (named("b"), named("c"));
    let routes = "[[mount]]\npath = \"/mnt\"\nbalancer = \"a\"\ntarget_path = \"/app\"\n\
        [[vhost]]\nserver_name = \"direct.test\"\n\
        [[vhost.mount]]\npattern = \"/app/*\"\nbalancer = \"a\"\n";
    let proxy = proxy(driver, [&member, &b, &c], routes);
    let location = |host: &str, target: &str| {
        let request = format!("GET {target} HTTP/1.1\r\nHost: {host}\r\n\r\n");
        let resp = Client::connect(addr(&proxy)).request(request.as_bytes());
        assert_eq!(resp.status, 302, "{host} {target}");
        resp.header("Location").map(str::to_owned)
    };
    assert_eq!(
        location("direct.test", "/mnt/x").as_deref(),
        Some("http://direct.test/mnt/next")
    );
    assert_eq!(
        location("direct.test", "/app/x").as_deref(),
        Some("http://direct.test/app/next")
    );
}
