//! `check --diff URL`: admin URL parsing, response parsing, and a fetch from a local server.

use std::io::{Read, Write};
use std::net::TcpListener;

use super::MINIMAL;
use crate::config::remote::{base64, parse_admin_url, request, response_body, AdminUrl};
use crate::config::*;

#[test]
fn admin_url_forms() {
    assert_eq!(
        parse_admin_url("http://127.0.0.1:8081"),
        Ok(AdminUrl {
            host: "127.0.0.1".into(),
            port: 8081,
            authority: "127.0.0.1:8081".into(),
            path: "/api/config".into(),
            userinfo: None,
        })
    );
    let u = parse_admin_url("HTTP://admin:s3cret@[::1]:9/ringlb/").unwrap();
    assert_eq!(
        (u.host.as_str(), u.port, u.authority.as_str()),
        ("::1", 9, "[::1]:9")
    );
    assert_eq!(u.path, "/ringlb/api/config");
    assert_eq!(u.userinfo.as_deref(), Some("admin:s3cret"));
    let u = parse_admin_url("http://lb.example/").unwrap();
    assert_eq!((u.port, u.authority.as_str()), (80, "lb.example:80"));
}

#[test]
fn bad_admin_urls() {
    for (url, needle) in [
        ("https://127.0.0.1:8081", "plain http://"),
        ("127.0.0.1:8081", "not a URL"),
        ("http://127.0.0.1:0", "port \"0\""),
        ("http://127.0.0.1:http", "port \"http\""),
        ("http://[::1:8081", "closing ']'"),
        ("http://::1:8081", "expected http://HOST:PORT"),
        ("http://:8081", "expected http://HOST:PORT"),
        ("http://h:1/x?y", "without ? or #"),
    ] {
        let err = parse_admin_url(url).expect_err(url);
        assert!(err.contains(needle), "{url}: {err}");
    }
}

#[test]
fn request_text() {
    let u = parse_admin_url("http://user:pass@127.0.0.1:8081").unwrap();
    let req = request(&u);
    assert!(req.starts_with("GET /api/config HTTP/1.1\r\nHost: 127.0.0.1:8081\r\n"));
    assert!(req.contains("\r\nConnection: close\r\n"), "{req}");
    assert!(
        req.contains("\r\nAuthorization: Basic dXNlcjpwYXNz\r\n"),
        "{req}"
    );
    assert!(req.ends_with("\r\n\r\n"));
    assert!(!request(&parse_admin_url("http://h:1").unwrap()).contains("Authorization"));
    for (plain, encoded) in [("", ""), ("f", "Zg=="), ("fo", "Zm8="), ("foo", "Zm9v")] {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn response_bodies() {
    let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";
    assert_eq!(response_body(ok), Ok("hello".into()));
    let to_end = b"HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it";
    assert_eq!(response_body(to_end), Ok("all of it".into()));
    let chunked = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nhel\r\n2\r\nlo\r\n0\r\n\r\n";
    assert_eq!(response_body(chunked), Ok("hello".into()));
    for (bytes, needle) in [
        (
            &b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 14\r\n\r\nlogin required"[..],
            "HTTP 401 Unauthorized: login required",
        ),
        (&b"HTTP/1.1 404 Not Found\r\n\r\n"[..], "HTTP 404 Not Found"),
        (&b"HTTP/1.1 200 OK\r\nContent-Le"[..], "whole response head"),
        (&b"SSH-2.0-OpenSSH\r\n\r\n"[..], "not an HTTP response"),
        (
            &b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort"[..],
            "after 5 of 10 bytes",
        ),
        (
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"[..],
            "truncated chunked body",
        ),
    ] {
        let err = response_body(bytes).expect_err(needle);
        assert!(err.contains(needle), "{err}");
    }
}

/// Serves one HTTP exchange on loopback with `response`; returns the URL and the thread that
/// yields the request it read.
fn serve_once(response: Vec<u8>) -> (String, std::thread::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut conn, _) = listener.accept().unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 1024];
        while !req.ends_with(b"\r\n\r\n") {
            let n = conn.read(&mut buf).unwrap();
            assert!(n > 0, "client closed early");
            req.extend_from_slice(&buf[..n]);
        }
        conn.write_all(&response).unwrap();
        String::from_utf8(req).unwrap()
    });
    (url, handle)
}

#[test]
fn fetch_running_config_from_admin_listener() {
    let running = parse_str(MINIMAL, "/etc/ringlb/ringlb.toml").unwrap();
    let body = running.to_string();
    let mut response = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(body.as_bytes());
    let (url, server) = serve_once(response);
    let fetched = load_old(&url).unwrap();
    let req = server.join().unwrap();
    assert!(req.starts_with("GET /api/config HTTP/1.1\r\n"), "{req}");
    assert_eq!(fetched.source, format!("<running config at {url}>"));
    assert_eq!(diff(&fetched, &running), vec![]);
}

#[test]
fn fetch_errors_name_the_url() {
    let (url, server) = serve_once(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n".to_vec());
    let err = fetch_running(&url).unwrap_err();
    server.join().unwrap();
    assert_eq!(err, format!("{url}/api/config: HTTP 403 Forbidden"));

    let body = "bogus = 1\n";
    let response = format!(
        "HTTP/1.1 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (url, server) = serve_once(response.into_bytes());
    let err = fetch_running(&url).unwrap_err();
    server.join().unwrap();
    assert!(
        err.starts_with(&format!(
            "<running config at {url}>:1: bogus: unknown field"
        )),
        "{err}"
    );

    // Nothing listens on a port just released.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let err = fetch_running(&url).unwrap_err();
    assert!(
        err.starts_with(&format!("{url}: cannot connect to 127.0.0.1:{port}")),
        "{err}"
    );
}

#[test]
fn load_old_reads_a_file_or_names_it() {
    let err = load_old("/nonexistent/ringlb-old.toml").unwrap_err();
    assert!(
        err.starts_with("/nonexistent/ringlb-old.toml:0: : cannot read"),
        "{err}"
    );
}
