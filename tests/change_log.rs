//! The error log of a running `ringlb run`: every operator change is logged once, with who
//! made it (address, and how: manager, API, SIGHUP) and each key as `old -> new`; a reload
//! names the overrides the file ends.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use common::admin_api::{call, nonce};
use common::{lock, poll_until, secs, MockMember};

/// A free loopback port (bound and released; the kernel does not hand it out again at once).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn file_text(admin: u16, a: &MockMember, b: &MockMember, b_loadfactor: u32) -> String {
    format!(
        "workers = 1\nlisten = [\"127.0.0.1:0\"]\n[admin]\nlisten = \"127.0.0.1:{admin}\"\n\
         [[balancer]]\nname = \"app\"\n\
         [[balancer.member]]\nurl = \"http://{}\"\nroute = \"a\"\n\
         [[balancer.member]]\nurl = \"http://{}\"\nroute = \"b\"\nloadfactor = {b_loadfactor}\n",
        a.addr(),
        b.addr()
    )
}

#[test]
fn every_change_is_logged_once_with_who_and_old_to_new() {
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let port = free_port();
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("change-log-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ringlb.toml");
    std::fs::write(&path, file_text(port, &a, &b, 1)).unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_ringlb"))
        .args(["run", "-c"])
        .arg(&path)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let lines = Arc::new(Mutex::new(Vec::<String>::new()));
    let stderr = child.stderr.take().unwrap();
    let sink = lines.clone();
    let reader = thread::spawn(move || {
        for line in BufReader::new(stderr).lines().map_while(Result::ok) {
            lock(&sink).push(line);
        }
    });
    let admin = format!("127.0.0.1:{port}").parse().unwrap();
    assert!(
        poll_until(secs(10), || std::net::TcpStream::connect(admin).is_ok()),
        "the admin listener comes up: {:?}",
        lock(&lines)
    );
    let n = nonce(admin);
    let (wa, wb) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    let api = format!(r#"{{"balancer":"app","member":"{wb}","loadfactor":3,"nonce":"{n}"}}"#);
    assert_eq!(call(admin, "POST", "/api/members", "", &api).0, 200);
    let form = format!("b=app&w={wa}&w_status_N=1&nonce={n}");
    assert_eq!(call(admin, "POST", "/balancer-manager", "", &form).0, 303);
    // The file changes b's loadfactor: the reload ends that override and says so.
    std::fs::write(&path, file_text(port, &a, &b, 2)).unwrap();
    let (status, _, body) = call(admin, "POST", &format!("/api/reload?nonce={n}"), "", "");
    assert_eq!(status, 200, "{body}");

    let wanted = [
        format!("change by API from 127.0.0.1: ~ balancer \"app\" member {wb}: loadfactor: 1.0 -> 3.0"),
        format!("change by manager from 127.0.0.1: ~ balancer \"app\" member {wa}: status: \"\" -> \"+N\""),
        format!("reload by API from 127.0.0.1: balancer app member {wb}: loadfactor: the file changed it (1.0 -> 2.0)"),
        format!("reload by API from 127.0.0.1: ~ balancer \"app\" member {wb}: loadfactor: 3.0 -> 2.0"),
    ];
    let count = |text: &str| lock(&lines).iter().filter(|l| l.contains(text)).count();
    let all_logged = poll_until(secs(10), || wanted.iter().all(|w| count(w) > 0));
    let _ = child.kill();
    let _ = child.wait();
    reader.join().unwrap();
    let log = lock(&lines).join("\n");
    assert!(all_logged, "every change is logged:\n{log}");
    for w in &wanted {
        assert_eq!(count(w), 1, "logged once: {w}\n{log}");
    }
    assert!(
        !log.contains(&format!("member {wa}: status: \"+N\"")),
        "the held drain is not changed by the reload:\n{log}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
