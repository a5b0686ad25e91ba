//! The manager page in a real browser: headless Chromium, driven through chromedriver's
//! WebDriver protocol, loads the page, a click on a member's Drain button drains it, and later
//! requests show it. Also saves a screenshot when `RINGLB_SCREENSHOT` names a file.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`; without them the test says so
//! and passes, unless `RINGLB_REQUIRE_BROWSER=1` (CI installs them and sets it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};

use common::{config, member, poll_until, secs, start_proxy, Client, MockMember};
use ringlb::admin::server as admin_server;
use ringlb::config::{AdminConfig, IoDriver};
use serde_json::{json, Value};

both_drivers!(a_click_on_drain_drains_the_member);

/// chromedriver, ended (by its PID) when dropped.
struct Driver {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn start_driver() -> Option<Driver> {
    let found = ["/usr/bin/chromedriver", "/usr/bin/chromium"]
        .iter()
        .all(|p| std::path::Path::new(p).exists());
    if !found {
        assert!(
            std::env::var_os("RINGLB_REQUIRE_BROWSER").is_none(),
            "chromium and chromium-driver are required (RINGLB_REQUIRE_BROWSER)"
        );
        eprintln!("chromium/chromedriver not installed: browser test skipped");
        return None;
    }
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new("/usr/bin/chromedriver")
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let addr = SocketAddr::from(([127, 0, 0, 1], port));
    let driver = Driver { child, addr };
    let ready = poll_until(secs(20), || {
        try_wd(&driver, "GET", "/status", None).is_ok_and(|v| v["ready"] == json!(true))
    });
    assert!(ready, "chromedriver starts");
    Some(driver)
}

/// `read`, retried when a signal interrupts it.
fn read_retrying(s: &mut TcpStream, buf: &mut [u8]) -> std::io::Result<usize> {
    loop {
        match s.read(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// One WebDriver call; returns the `value` of the answer.
fn wd(driver: &Driver, method: &str, path: &str, body: Option<Value>) -> Value {
    try_wd(driver, method, path, body).unwrap_or_else(|e| panic!("{method} {path}: {e}"))
}

fn try_wd(
    driver: &Driver,
    method: &str,
    path: &str,
    body: Option<Value>,
) -> std::io::Result<Value> {
    let body = body.map(|b| b.to_string()).unwrap_or_default();
    let mut s = TcpStream::connect(driver.addr)?;
    s.set_read_timeout(Some(secs(60)))?;
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    // chromedriver may keep the connection open: read the head, then Content-Length bytes.
    let mut out = Vec::new();
    let mut chunk = [0u8; 8192];
    let (head_end, length) = loop {
        let n = read_retrying(&mut s, &mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&chunk[..n]);
        if let Some(i) = common::find(&out, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&out[..i]).to_ascii_lowercase();
            let length = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .map_or(0, |v| v.trim().parse().unwrap());
            break (i + 4, length);
        }
    };
    while out.len() < head_end + length {
        let n = read_retrying(&mut s, &mut chunk)?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&chunk[..n]);
    }
    let payload = String::from_utf8_lossy(&out[head_end..head_end + length]).to_string();
    let v: Value = serde_json::from_str(&payload).map_err(std::io::Error::other)?;
    Ok(v["value"].clone())
}

fn a_click_on_drain_drains_the_member(driver_kind: IoDriver) {
    let Some(driver) = start_driver() else { return };
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let proxy = start_proxy(config(
        driver_kind,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    ));
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    let page = format!("http://{}/balancer-manager", admin.local_addr());

    let profile = std::env::temp_dir().join(format!(
        "ringlb-chromium-{}-{driver_kind:?}",
        std::process::id()
    ));
    let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
        "binary": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--disable-dev-shm-usage", "--window-size=1400,900", format!("--user-data-dir={}", profile.display())]
    }}}});
    let session = wd(&driver, "POST", "/session", Some(caps));
    let id = session["sessionId"]
        .as_str()
        .expect("a WebDriver session")
        .to_string();
    wd(
        &driver,
        "POST",
        &format!("/session/{id}/url"),
        Some(json!({ "url": page })),
    );
    let title = wd(&driver, "GET", &format!("/session/{id}/title"), None);
    assert!(
        title.as_str().unwrap_or("").contains("ringlb"),
        "page title: {title}"
    );
    if let Some(path) = std::env::var_os("RINGLB_SCREENSHOT") {
        let png = wd(&driver, "GET", &format!("/session/{id}/screenshot"), None);
        let bytes = ringlb::admin::auth::base64_decode(png.as_str().unwrap().as_bytes()).unwrap();
        std::fs::write(path, bytes).unwrap();
    }
    let button = wd(
        &driver,
        "POST",
        &format!("/session/{id}/element"),
        Some(json!({"using": "css selector", "value": "#drain-test-a"})),
    );
    let element = button
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    wd(
        &driver,
        "POST",
        &format!("/session/{id}/element/{element}/click"),
        Some(json!({})),
    );
    // The browser followed the redirect back to the page, which now offers Undrain.
    let source = || {
        wd(&driver, "GET", &format!("/session/{id}/source"), None)
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        poll_until(secs(10), || source().contains("undrain-test-a")),
        "the page shows the drain"
    );
    wd(&driver, "DELETE", &format!("/session/{id}"), None);
    let _ = std::fs::remove_dir_all(&profile);

    let addr = common::addr(&proxy);
    for _ in 0..6 {
        assert_eq!(
            Client::connect(addr).request(&common::get("/")).body_text(),
            "b"
        );
    }
}
