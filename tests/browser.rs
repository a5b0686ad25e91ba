//! Real browsers: headless Chromium, driven through chromedriver's WebDriver protocol.
//! - The manager page loads, a click on a member's Drain button drains it, and later requests
//!   show it. Saves a screenshot when `RINGLB_SCREENSHOT` names a file.
//! - `ringlb demo --https` (a test certificate, accepted by `--ignore-certificate-errors`)
//!   serves its page to Chromium over TLS and HTTP/2 (the navigation's `nextHopProtocol` is
//!   `h2`), and a reload stays on the session's member with its counter grown. Saves a
//!   screenshot when `RINGLB_SCREENSHOT_H2` names a file.
//!
//! Needs the Debian packages `chromium` and `chromium-driver`; without them the tests say so
//! and pass, unless `RINGLB_REQUIRE_BROWSER=1` (CI installs them and sets it).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use common::tls::Pki;
use common::{config, member, poll_until, secs, start_proxy, Client, MockMember};
use ringlb::admin::server as admin_server;
use ringlb::cli::{DemoArgs, DemoHttps};
use ringlb::config::{AdminConfig, IoDriver};
use ringlb::demo;
use serde_json::{json, Value};

both_drivers!(
    a_click_on_drain_drains_the_member,
    chromium_loads_the_demo_over_https_with_h2
);

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

/// A Chromium WebDriver session with its own profile directory; ended (DELETE, which ends
/// that Chromium) and its profile removed when dropped, also when a test fails first.
struct Session<'d> {
    driver: &'d Driver,
    id: String,
    profile: PathBuf,
}

impl Session<'_> {
    /// Starts headless Chromium with the flags every test uses, then `extra`.
    fn start<'d>(driver: &'d Driver, name: &str, extra: &[&str]) -> Session<'d> {
        let profile =
            std::env::temp_dir().join(format!("ringlb-chromium-{}-{name}", std::process::id()));
        let mut args: Vec<String> = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,900",
        ]
        .iter()
        .chain(extra)
        .map(|a| a.to_string())
        .collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let caps = json!({"capabilities": {"alwaysMatch": {"goog:chromeOptions": {
            "binary": "/usr/bin/chromium",
            "args": args
        }}}});
        let session = wd(driver, "POST", "/session", Some(caps));
        let id = session["sessionId"]
            .as_str()
            .expect("a WebDriver session")
            .to_string();
        Session {
            driver,
            id,
            profile,
        }
    }

    /// One WebDriver call on this session: `path` is after `/session/{id}`.
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Value {
        wd(
            self.driver,
            method,
            &format!("/session/{}{path}", self.id),
            body,
        )
    }

    fn navigate(&self, url: &str) {
        self.call("POST", "/url", Some(json!({ "url": url })));
    }

    /// Runs `script` (a function body) in the page; returns what it returns.
    fn execute(&self, script: &str) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(json!({"script": script, "args": []})),
        )
    }

    /// Writes a PNG of the window to the file named by the environment variable `var`, if set.
    fn screenshot_if(&self, var: &str) {
        if let Some(path) = std::env::var_os(var) {
            let png = self.call("GET", "/screenshot", None);
            let bytes =
                ringlb::admin::auth::base64_decode(png.as_str().unwrap().as_bytes()).unwrap();
            std::fs::write(path, bytes).unwrap();
        }
    }
}

impl Session<'_> {
    /// Clicks the element `css` selects.
    fn click(&self, css: &str) {
        let found = self.call(
            "POST",
            "/element",
            Some(json!({"using": "css selector", "value": css})),
        );
        let element = found
            .as_object()
            .and_then(|o| o.values().next())
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no element {css}: {found}"))
            .to_string();
        self.call(
            "POST",
            &format!("/element/{element}/click"),
            Some(json!({})),
        );
    }

    fn source(&self) -> String {
        let source = self.call("GET", "/source", None);
        source.as_str().unwrap_or("").to_string()
    }
}

impl Drop for Session<'_> {
    fn drop(&mut self) {
        let _ = try_wd(
            self.driver,
            "DELETE",
            &format!("/session/{}", self.id),
            None,
        );
        let _ = std::fs::remove_dir_all(&self.profile);
    }
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

    let session = Session::start(&driver, &format!("{driver_kind:?}"), &[]);
    session.navigate(&page);
    let title = session.call("GET", "/title", None);
    assert!(
        title.as_str().unwrap_or("").contains("ringlb"),
        "page title: {title}"
    );
    session.screenshot_if("RINGLB_SCREENSHOT");
    let button = session.call(
        "POST",
        "/element",
        Some(json!({"using": "css selector", "value": "#drain-test-a"})),
    );
    let element = button
        .as_object()
        .and_then(|o| o.values().next())
        .and_then(Value::as_str)
        .unwrap()
        .to_string();
    session.call(
        "POST",
        &format!("/element/{element}/click"),
        Some(json!({})),
    );
    // The browser followed the redirect back to the page, which now offers Undrain.
    let source = || {
        session
            .call("GET", "/source", None)
            .as_str()
            .unwrap_or("")
            .to_string()
    };
    assert!(
        poll_until(secs(10), || source().contains("undrain-test-a")),
        "the page shows the drain"
    );
    drop(session);

    let addr = common::addr(&proxy);
    for _ in 0..6 {
        assert_eq!(
            Client::connect(addr).request(&common::get("/")).body_text(),
            "b"
        );
    }
}

/// The demo page as Chromium shows it: `member <route> (<addr>) served this request`,
/// `session <id>.<route> (new|existing)`, `counter <n>`; returns (route, counter, text).
fn demo_page(session: &Session<'_>) -> (String, u64, String) {
    let text = session.execute("return document.body.innerText");
    let text = text.as_str().unwrap_or("").to_string();
    let word_after = |key: &str| {
        let at = text.find(key)? + key.len();
        text[at..].split_whitespace().next().map(str::to_owned)
    };
    let route = word_after("member ").unwrap_or_else(|| panic!("a member line: {text:?}"));
    let counter = word_after("counter ")
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a counter line: {text:?}"));
    assert!(text.contains("served this request"), "{text:?}");
    (route, counter, text)
}

/// How the page's own navigation came: `h2`, `http/1.1`, ...
fn next_hop_protocol(session: &Session<'_>) -> Value {
    session.execute("return performance.getEntriesByType('navigation')[0].nextHopProtocol")
}

fn chromium_loads_the_demo_over_https_with_h2(driver_kind: IoDriver) {
    let Some(driver) = start_driver() else { return };
    let pki = Pki::new(&format!("browser-h2-{driver_kind:?}"));
    let (cert, key, _) = pki.issue("localhost", &["localhost", "127.0.0.1"]);
    let args = DemoArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        member_port: 0,
        workers: Some(1),
        io_driver: driver_kind,
        https: Some(DemoHttps {
            listen: "127.0.0.1:0".parse().unwrap(),
            cert,
            key,
        }),
    };
    let demo = demo::start(&args).unwrap();
    // Index 0 is the plain address, then the `[[listener]]`s: the demo's TLS one.
    let https = demo.server.local_addrs()[1];
    let page = format!("https://localhost:{}/", https.port());
    assert!(demo::banner(&demo).contains(&format!("https://{https}/")));

    let session = Session::start(
        &driver,
        &format!("h2-{driver_kind:?}"),
        &["--ignore-certificate-errors"],
    );
    session.navigate(&page);
    let (route, first, text) = demo_page(&session);
    assert_eq!(first, 1, "a new session: {text:?}");
    assert!(text.contains(&format!(".{route} (new)")), "{text:?}");
    assert_eq!(next_hop_protocol(&session), json!("h2"), "{text:?}");
    session.screenshot_if("RINGLB_SCREENSHOT_H2");

    // The reload sends the JSESSIONID cookie the first answer set: the same member, whose
    // counter for the session has grown, again over HTTP/2. (By how much depends on whether
    // Chromium's /favicon.ico request, which the member counts too, came in between.)
    session.call("POST", "/refresh", Some(json!({})));
    let (again, counter, text) = demo_page(&session);
    assert_eq!(again, route, "sticky over h2: {text:?}");
    assert!(counter > first, "the session's counter grows: {text:?}");
    assert!(text.contains(&format!(".{route} (existing)")), "{text:?}");
    assert_eq!(next_hop_protocol(&session), json!("h2"), "{text:?}");
    drop(session);
    let _ = std::fs::remove_dir_all(&pki.dir);
}

/// Four members with long URLs and every column filled, in a 1024 px wide window: the page
/// fits without horizontal scrolling (a screenshot is left in the target dir), and Remove
/// asks first, removing only once confirmed.
#[test]
fn the_page_fits_1024_px_and_remove_asks_first() {
    let Some(driver) = start_driver() else { return };
    let members: Vec<MockMember> = ["a", "b", "c", "d"].map(MockMember::named).into();
    let proxy = start_proxy(config(
        IoDriver::Auto,
        members
            .iter()
            .zip(["alpha-node-01", "bravo-node-02", "c", "delta-node-04"])
            .map(|(m, route)| member(m.addr(), route, 100))
            .collect(),
    ));
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    for _ in 0..8 {
        Client::connect(common::addr(&proxy)).request(&common::get("/"));
    }
    let page = format!("http://{}/balancer-manager", admin.local_addr());
    let session = Session::start(&driver, "layout", &[]);
    session.call(
        "POST",
        "/window/rect",
        Some(json!({"width": 1024, "height": 768})),
    );
    session.navigate(&page);
    let widths = session.execute(
        "return [window.innerWidth, document.documentElement.scrollWidth, \
         document.body.scrollWidth]",
    );
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("manager-1024.png");
    let png = session.call("GET", "/screenshot", None);
    let bytes = ringlb::admin::auth::base64_decode(png.as_str().unwrap().as_bytes()).unwrap();
    std::fs::write(&shot, bytes).unwrap();
    eprintln!(
        "manager at 1024 px: {widths} (screenshot {})",
        shot.display()
    );
    let w = |i: usize| widths[i].as_u64().unwrap();
    assert!(
        w(0) <= 1024 && w(0) >= 1000,
        "the window is 1024 px wide: {widths}"
    );
    assert!(
        w(1) <= w(0) && w(2) <= w(0),
        "no horizontal scrolling: {widths}"
    );

    let count = || proxy.current().config.balancers[0].members.len();
    session.click("#remove-test-c");
    assert!(
        poll_until(secs(10), || session
            .source()
            .contains("id=\"confirm-remove\"")),
        "Remove shows a confirmation"
    );
    assert_eq!(count(), 4, "nothing removed before the confirmation");
    session.click("#cancel-remove");
    assert!(poll_until(secs(10), || !session
        .source()
        .contains("confirm-remove\"")));
    assert_eq!(count(), 4, "cancel removes nothing");
    session.click("#remove-test-c");
    assert!(poll_until(secs(10), || session
        .source()
        .contains("confirm-remove-button")));
    session.click("#confirm-remove-button");
    assert!(
        poll_until(secs(10), || count() == 3),
        "the confirmed Remove removes the member"
    );
    assert!(poll_until(secs(10), || !session
        .source()
        .contains("member-test-c\"")));
}
