//! `ringlb demo` end to end: new sessions spread over the members by loadfactor, a session's
//! cookie keeps it on its member and its counter grows, a `;jsessionid=` URL is sticky too.
//! With `--https`: the TLS listener offers `h2` and `http/1.1` by ALPN and serves the same
//! members, and a certificate or key it cannot use fails the start naming the file.

#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use common::tls::{Pki, TlsClient};
use ringlb::cli::{DemoArgs, DemoHttps};
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
        https: None,
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

fn https_args(driver: IoDriver, cert: &std::path::Path, key: &std::path::Path) -> DemoArgs {
    DemoArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        member_port: 0,
        workers: Some(1),
        io_driver: driver,
        https: Some(DemoHttps {
            listen: "127.0.0.1:0".parse().unwrap(),
            cert: cert.to_owned(),
            key: key.to_owned(),
        }),
    }
}

both_drivers!(demo_serves_https_with_h2_offered);

fn demo_serves_https_with_h2_offered(driver: IoDriver) {
    let pki = Pki::new(&format!("demo-https-{driver:?}"));
    let (cert, key, leaf) = pki.issue("localhost", &["localhost"]);
    let demo = demo::start(&https_args(driver, &cert, &key)).unwrap();
    let addrs = demo.server.local_addrs().to_vec();
    assert_eq!(addrs.len(), 2, "the plain address, then the TLS listener");
    let banner = demo::banner(&demo);
    assert!(
        banner.contains(&format!("http://{}/", addrs[0])),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("https://{}/", addrs[1])),
        "{banner}"
    );

    // A client offering both gets h2, the default ALPN's first choice.
    let mut both = (*pki.client(common::tls::tls13())).clone();
    both.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    let h2 = TlsClient::connect(addrs[1], std::sync::Arc::new(both), "localhost");
    assert_eq!(h2.stream.conn.alpn_protocol(), Some(b"h2".as_slice()));
    assert_eq!(h2.leaf(), leaf);

    // HTTP/1.1 over TLS 1.2 reaches the members, sticky as on the plain address.
    let mut client = TlsClient::connect(addrs[1], pki.client(common::tls::tls12()), "localhost");
    let first = client.get("/", "localhost");
    assert_eq!(first.status, 200);
    let cookie = first
        .header("set-cookie")
        .expect("a new session")
        .to_owned();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    let route = cookie.rsplit('.').next().unwrap().to_owned();
    let again = client.try_request("/", "localhost", &format!("Cookie: {cookie}\r\n"));
    let body = String::from_utf8(again.unwrap().body).unwrap();
    assert_eq!(served_by(&body), route, "{body}");
    assert!(body.contains("counter 2"), "{body}");
    drop(demo);
    let _ = std::fs::remove_dir_all(&pki.dir);
}

#[test]
fn demo_with_a_bad_certificate_fails_naming_the_file() {
    let pki = Pki::new("demo-bad-cert");
    let (cert, key, _) = pki.issue("localhost", &["localhost"]);
    let missing = pki.dir.join("missing.crt");
    let not_pem = pki.dir.join("not-pem.crt");
    std::fs::write(&not_pem, "not a certificate\n").unwrap();
    let (_, other_key, _) = pki.issue("other", &["other"]);
    for (cert, key, want) in [
        (&missing, &key, format!("--cert {}", missing.display())),
        (&not_pem, &key, format!("--cert {}", not_pem.display())),
        (&cert, &other_key, format!("--key {}", other_key.display())),
    ] {
        let err = demo::start(&https_args(IoDriver::Epoll, cert, key)).unwrap_err();
        let text = err.to_string();
        assert!(text.starts_with(&want), "{want:?} in {text:?}");
    }
    let _ = std::fs::remove_dir_all(&pki.dir);
}
