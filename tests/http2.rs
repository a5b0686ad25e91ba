//! HTTP/2 to clients end to end with the real clients: `curl --http2` over TLS (GET, sticky by
//! cookie, the access log line and `X-SSL-*` of a stream, bodies both ways with and without a
//! length), `h2load` through ringlb to two members with one killed mid-run (no failed
//! stream), and prior-knowledge h2c on a plain listener. Raw-frame cases (floods, limits,
//! trailers, early hints) are in tests/http2_frames.rs.
//!
//! curl and h2load (Debian `curl`, `nghttp2-client`) are required where
//! `RINGLB_REQUIRE_H2_CLIENTS=1` (CI), skipped with a note otherwise.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::process::{Command, Output};
use std::thread;
use std::time::Duration;

use ringlb::config::IoDriver;

use common::h2_frames::start_tls;
use common::tls::Pki;
use common::{poll_until, MockMember};

both_drivers!(
    curl_gets_over_h2_sticky_by_cookie,
    bodies_both_ways_with_checksums,
    h2load_through_two_members_with_one_killed,
    h2c_prior_knowledge_on_a_plain_listener,
);

fn required() -> bool {
    std::env::var("RINGLB_REQUIRE_H2_CLIENTS").is_ok_and(|v| v == "1")
}

/// Runs a client tool; `None` (after a note) when it is not installed and not required.
fn tool(name: &str, args: &[&str]) -> Option<Output> {
    match Command::new(name).args(args).output() {
        Ok(out) => Some(out),
        Err(e) if e.kind() == ErrorKind::NotFound && !required() => {
            eprintln!("{name} not found: skipping");
            None
        }
        Err(e) => panic!("{name}: {e}"),
    }
}

/// `curl --http2` against `path` on `addr` (trusting `pki`), with `extra` arguments; returns
/// the output.
fn curl(pki: &Pki, addr: SocketAddr, path: &str, extra: &[&str]) -> Option<Output> {
    let url = format!("https://localhost:{}{path}", addr.port());
    let resolve = format!("localhost:{}:127.0.0.1", addr.port());
    let ca = pki.ca_path();
    let mut args = vec!["-sS", "--http2", "--max-time", "20", "--resolve", &resolve];
    args.extend(["--cacert", ca.to_str().unwrap()]);
    args.extend(extra);
    args.push(&url);
    let out = tool("curl", &args)?;
    assert!(
        out.status.success(),
        "curl {extra:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(out)
}

fn curl_gets_over_h2_sticky_by_cookie(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-sticky-{driver:?}"));
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let members = vec![
        common::member(a.addr(), "n1", 1),
        common::member(b.addr(), "n2", 1),
    ];
    let mut cfg = common::config(driver, members);
    let log = pki.dir.join("access.log");
    cfg.ops.log.access = Some(ringlb::config::AccessTarget::File(log.clone()));
    let (_h, addr) = start_tls(cfg, &pki);
    let w = ["-w", " %{http_version} %{http_code}"];
    let Some(out) = curl(&pki, addr, "/", &w) else {
        return;
    };
    let first = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(first.ends_with(" 2 200"), "answered over h2: {first:?}");
    // The session's route keeps every request on member b, cookie crumbs and all.
    let cookie = ["-H", "cookie: x=1", "-H", "cookie: JSESSIONID=abc.n2"];
    for _ in 0..4 {
        let out = curl(&pki, addr, "/cart", &[&w[..], &cookie[..]].concat()).unwrap();
        assert_eq!(String::from_utf8_lossy(&out.stdout), "b 2 200");
    }
    let seen = b.requests();
    let last = seen.last().unwrap();
    assert_eq!(last.header("cookie"), Some("x=1; JSESSIONID=abc.n2"));
    let host = format!("localhost:{}", addr.port());
    assert_eq!(
        last.header("x-forwarded-host"),
        Some(host.as_str()),
        ":authority is the host"
    );
    assert_eq!(last.header("x-forwarded-proto"), Some("https"));
    assert!(
        !last.has_header("te"),
        "no connection-specific field reaches members"
    );
}

/// A 3 MiB body up and back: with a length, and without one (chunked to the member).
fn bodies_both_ways_with_checksums(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-bodies-{driver:?}"));
    let echo = MockMember::echo();
    let (_h, addr) = start_tls(common::single(driver, &echo), &pki);
    let mut body = vec![0u8; 3 * 1024 * 1024 + 5];
    common::Noise::new(11).fill(&mut body);
    let file = pki.dir.join("body.bin");
    std::fs::write(&file, &body).unwrap();
    let file_arg = format!("@{}", file.display());
    let Some(out) = curl(&pki, addr, "/up", &["--data-binary", &file_arg]) else {
        return;
    };
    assert!(out.stdout == body, "echo with a length differs");
    let sent = echo.requests();
    assert_eq!(
        sent[0].header("content-length"),
        Some(&*body.len().to_string())
    );
    // `-T -` streams stdin: no length, so the member gets chunks.
    let out = Command::new("curl")
        .args([
            "-sS",
            "--http2",
            "--max-time",
            "20",
            "-X",
            "POST",
            "-T",
            "-",
        ])
        .args(["--cacert", pki.ca_path().to_str().unwrap()])
        .args(["--resolve", &format!("localhost:{}:127.0.0.1", addr.port())])
        .arg(format!("https://localhost:{}/stream", addr.port()))
        .stdin(std::fs::File::open(&file).unwrap())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout == body, "echo without a length differs");
    let sent = echo.requests();
    assert_eq!(sent[1].header("transfer-encoding"), Some("chunked"));
    assert!(!sent[1].has_header("content-length"));
}

/// h2load with 8 connections of 10 streams each; member a is killed once it has served a
/// few hundred requests. Every stream must succeed (GETs fail over).
fn h2load_through_two_members_with_one_killed(driver: IoDriver) {
    let pki = Pki::new(&format!("h2-load-{driver:?}"));
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let members = vec![
        common::member(a.addr(), "n1", 1),
        common::member(b.addr(), "n2", 1),
    ];
    let (_h, addr) = start_tls(common::config(driver, members), &pki);
    let url = format!("https://127.0.0.1:{}/load", addr.port());
    let run = thread::spawn(move || tool("h2load", &["-n", "6000", "-c", "8", "-m", "10", &url]));
    let served = poll_until(Duration::from_secs(20), || a.requests().len() >= 300);
    assert!(served, "member a got load");
    drop(a);
    let Some(out) = run.join().unwrap() else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("6000 total, 6000 started, 6000 done, 6000 succeeded, 0 failed, 0 errored"),
        "h2load: {text}"
    );
    assert!(text.contains("status codes: 6000 2xx"), "h2load: {text}");
    assert!(b.requests().len() > 1000, "member b took over");
}

/// A plain listener serves a client that starts with the HTTP/2 preface as HTTP/2
/// (prior-knowledge h2c: `curl --http2-prior-knowledge`, h2load's default for http://).
fn h2c_prior_knowledge_on_a_plain_listener(driver: IoDriver) {
    let member = MockMember::named("a");
    let (_h, addr) = common::proxy_for(driver, &member);
    let url = format!("http://{addr}/plain");
    let w = "%{http_version} %{http_code}";
    let args = [
        "-sS",
        "--http2-prior-knowledge",
        "--max-time",
        "20",
        "-w",
        w,
        &url,
    ];
    let Some(out) = tool("curl", &args) else {
        return;
    };
    assert_eq!(String::from_utf8_lossy(&out.stdout), "a2 200");
    let seen = member.requests();
    assert_eq!(seen[0].header("x-forwarded-proto"), Some("http"));
    let Some(out) = tool("h2load", &["-n", "400", "-c", "4", "-m", "10", &url]) else {
        return;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("400 succeeded, 0 failed"), "h2load: {text}");
    // HTTP/1.1 on the same listener is unchanged.
    let mut c = common::Client::connect(addr);
    assert_eq!(c.request(&common::get("/")).body_text(), "a");
}
