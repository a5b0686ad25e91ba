//! `ringlb demo` end to end: new sessions spread over the members by loadfactor, a session's
//! cookie keeps it on its member and its counter grows, a `;jsessionid=` URL is sticky too.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use ringlb::cli::DemoArgs;
use ringlb::config::IoDriver;
use ringlb::demo;

/// Sends one request on a new connection with `Connection: close`; returns the whole response.
fn get(addr: SocketAddr, path: &str, cookie: Option<&str>) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let cookie = cookie
        .map(|c| format!("Cookie: {c}\r\n"))
        .unwrap_or_default();
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: demo\r\n{cookie}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    out
}

fn served_by(response: &str) -> &str {
    let at = response.find("member ").expect("a member line") + 7;
    response[at..].split_whitespace().next().unwrap()
}

fn run(driver: IoDriver) {
    let args = DemoArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        member_port: 0,
        workers: Some(1),
        io_driver: driver,
    };
    let demo = demo::start(&args).unwrap();
    let addr = demo.server.local_addrs()[0];
    assert!(demo::banner(&demo).contains(&format!("http://{addr}/")));

    // New sessions spread 1:1:2 over node1, node2, node3 (one worker: exact).
    let mut spread: HashMap<String, usize> = HashMap::new();
    for _ in 0..40 {
        let r = get(addr, "/", None);
        assert!(r.starts_with("HTTP/1.1 200"), "{r}");
        *spread.entry(served_by(&r).to_string()).or_default() += 1;
    }
    assert_eq!(spread["node1"], 10, "{spread:?}");
    assert_eq!(spread["node2"], 10, "{spread:?}");
    assert_eq!(spread["node3"], 20, "{spread:?}");

    // A session stays on its member and its counter reaches 10.
    let first = get(addr, "/", None);
    let cookie_at = first.find("Set-Cookie: ").unwrap() + 12;
    let cookie = first[cookie_at..].split(';').next().unwrap().to_string();
    let route = cookie.rsplit('.').next().unwrap().to_string();
    let mut last = String::new();
    for _ in 0..9 {
        last = get(addr, "/", Some(&cookie));
        assert_eq!(served_by(&last), route, "{last}");
    }
    assert!(last.contains("counter 10"), "{last}");

    // The same session by URL path parameter.
    let id = cookie
        .trim_start_matches("JSESSIONID=")
        .split('.')
        .next()
        .unwrap();
    let by_url = get(addr, &format!("/;jsessionid={id}.{route}"), None);
    assert_eq!(served_by(&by_url), route);
    assert!(by_url.contains("counter 11"), "{by_url}");
}

#[test]
fn demo_is_sticky_and_weighted_epoll() {
    run(IoDriver::Epoll);
}

#[test]
fn demo_is_sticky_and_weighted_io_uring() {
    run(IoDriver::IoUring);
}
