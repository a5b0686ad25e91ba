//! Request targets and mounts: dot-segments that would lead a request out of the mount it names
//! are refused and never forwarded, those that stay inside are resolved before forwarding,
//! absolute-form targets are split into path and query, and `target_path` is joined with
//! exactly one `/` (issue 9, defects 3, 7 and 11c).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use common::{addr, assert_error, config, get, member, start_proxy, Client, MockMember, Reply};
use ringlb::config::{BalancerConfig, IoDriver};
use ringlb::server::ServerHandle;

both_drivers!(
    dot_segments_out_of_the_mount_get_400,
    dot_segments_inside_the_mount_are_resolved,
    absolute_form_targets_are_split,
    absolute_form_without_a_host_gets_400,
    target_path_is_joined_with_one_slash,
);

/// A member answering `200 OK` with the target it received as the body.
fn path_member() -> MockMember {
    MockMember::respond(|req| Reply::ok(req.path.as_bytes()))
}

/// A proxy with one balancer per `(mount, target_path, member)`.
fn mounted(driver: IoDriver, mounts: &[(&str, &str, &MockMember)]) -> ServerHandle {
    let mut cfg = config(driver, Vec::new());
    let template = cfg.balancers.remove(0);
    for (i, (mount, target_path, mock)) in mounts.iter().enumerate() {
        cfg.balancers.push(BalancerConfig {
            name: format!("b{i}"),
            mount: Some(ringlb::config::PathMount::new(mount, target_path)),
            members: vec![member(mock.addr(), "node1", 100)],
            ..template.clone()
        });
    }
    start_proxy(cfg)
}

/// `GET target` answered by the proxy: the status and the body.
fn fetch(handle: &ServerHandle, target: &str) -> (u16, String) {
    let resp = Client::connect(addr(handle)).request(&get(target));
    (resp.status, resp.body_text())
}

/// `/app` -> A and `/other` -> B: each request is answered 400 on a closed connection and
/// neither member sees a byte. The first three are the requests of the issue; Tomcat would
/// serve `/other/secret`, `/other/secret` and `/manager/html` for them.
fn dot_segments_out_of_the_mount_get_400(driver: IoDriver) {
    let (a, b) = (path_member(), path_member());
    let proxy = mounted(driver, &[("/app", "/app", &a), ("/other", "/other", &b)]);
    for target in [
        "/app/../other/secret",
        "/app/%2e%2e/other/secret",
        "/app/..;/manager/html",
        "/app/..",
        "/app/x/../../other",
        "/app/.%2E/other",
        "/app/.;x=1/secret",
        "/app/..%2fother/secret",
        "/app/..\\other/secret",
        "/app/../../etc",
        "http://h/app/../other/secret",
    ] {
        let mut client = Client::connect(addr(&proxy));
        let resp = client.request(&get(target));
        assert_error(&resp, 400);
        client.expect_closed();
        a.assert_untouched(target);
        b.assert_untouched(target);
    }
}

/// Plain `.`/`..` segments that stay inside the mount are resolved, and the member gets the
/// normal form with the query as sent; an already normal path is forwarded byte for byte.
fn dot_segments_inside_the_mount_are_resolved(driver: IoDriver) {
    let (a, b) = (path_member(), path_member());
    let proxy = mounted(driver, &[("/app", "/app", &a), ("/other", "/other", &b)]);
    let cases = [
        ("/app/./x", "/app/x"),
        ("/app/a/../x", "/app/x"),
        ("/app/a/./b/../../x/?q=/../y", "/app/x/?q=/../y"),
        ("/app/x/..", "/app/"),
        ("/app/x;jsessionid=s.node1/../y", "/app/y"),
        (
            "/app/.well-known/a%2eb/..c;p=1/",
            "/app/.well-known/a%2eb/..c;p=1/",
        ),
        ("/other/?x=/app/../..", "/other/?x=/app/../.."),
    ];
    for (target, want) in cases {
        assert_eq!(fetch(&proxy, target), (200, want.to_string()), "{target}");
    }
    assert_eq!(a.requests().len(), cases.len() - 1);
    assert_eq!(b.requests().len(), 1);
}

/// RFC 9112 section 3.2.2: the path of `http://evil?x=/app/admin` is empty, so it is `/` and
/// `x=/app/admin` is the query: it goes to the `/` balancer as `/?x=/app/admin` (it went to
/// `/app` as `/app/admin`).
fn absolute_form_targets_are_split(driver: IoDriver) {
    let (root, app) = (path_member(), path_member());
    let proxy = mounted(driver, &[("/", "/", &root), ("/app", "/app", &app)]);
    let cases = [
        ("http://evil?x=/app/admin", "/?x=/app/admin"),
        ("http://evil", "/"),
        ("HTTP://evil:8080/app/x?y=1", "/app/x?y=1"),
        ("http://evil/?x=/app/admin", "/?x=/app/admin"),
    ];
    for (target, want) in cases {
        assert_eq!(fetch(&proxy, target), (200, want.to_string()), "{target}");
    }
    assert_eq!(root.requests().len(), 3);
    assert_eq!(app.requests().len(), 1);
}

/// RFC 9110 sections 4.2.1 and 4.2.4: an absolute-form target with an empty host or with
/// userinfo is refused, and nothing is forwarded (`http:///app/x` went to `/app`).
fn absolute_form_without_a_host_gets_400(driver: IoDriver) {
    let (root, app) = (path_member(), path_member());
    let proxy = mounted(driver, &[("/", "/", &root), ("/app", "/app", &app)]);
    for target in [
        "http:///app/x",
        "http://:80/app/x",
        "http://user@evil/app/x",
    ] {
        let mut client = Client::connect(addr(&proxy));
        let resp = client.request(&get(target));
        assert_error(&resp, 400);
        client.expect_closed();
        root.assert_untouched(target);
        app.assert_untouched(target);
    }
}

/// The mount's remainder and `target_path` meet at exactly one `/` (`/x` under `/` ->
/// `/backend` was sent as `/backendx`).
fn target_path_is_joined_with_one_slash(driver: IoDriver) {
    let (root, app, shop) = (path_member(), path_member(), path_member());
    let proxy = mounted(
        driver,
        &[
            ("/", "/backend", &root),
            ("/app", "/", &app),
            ("/shop/", "/store", &shop),
        ],
    );
    let cases = [
        ("/x", "/backend/x"),
        ("/", "/backend/"),
        ("/x/y?q=1", "/backend/x/y?q=1"),
        ("/app", "/"),
        ("/app/x", "/x"),
        ("/app?q", "/?q"),
        ("/shop/", "/store/"),
        ("/shop/cart", "/store/cart"),
        ("/shop/./cart", "/store/cart"),
    ];
    for (target, want) in cases {
        assert_eq!(fetch(&proxy, target), (200, want.to_string()), "{target}");
    }
}
