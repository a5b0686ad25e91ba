//! The `ringlb` binary as an operator runs it (issue 9, defects 5 and 11): a second `run` on an
//! address that is held is refused, `check` refuses a member that is ringlb's own listener,
//! the open files limit is raised at start, and a connect that fails for want of descriptors
//! gets 503 without putting the member in error. Every process started here is ended by its
//! PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Command;

use common::process::{run_to_end, Process};
use common::{get, poll_until, secs, single, start_proxy, Client, MockMember};
use ringlb::config::IoDriver;

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

both_drivers!(descriptor_shortage_gets_503_and_spares_the_member);

/// A config file in a fresh directory under the target dir.
fn write_config(name: &str, text: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("process-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ringlb.toml");
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn second_run_on_a_held_address_is_refused() {
    let member = MockMember::named("a");
    let first = start_proxy(single(IoDriver::Epoll, &member));
    let held = common::addr(&first);
    let (ok, stderr) = run_to_end(Command::new(RINGLB).args([
        "run",
        "--listen",
        &held.to_string(),
        "--member",
        &format!("http://{}", member.addr()),
        "--workers",
        "1",
    ]));
    assert!(!ok, "a second ringlb on {held} must not start: {stderr}");
    assert!(
        stderr.contains(&format!("{held}: address in use by another process")),
        "{stderr}"
    );
    // The first one still serves, alone.
    let mut client = Client::connect(held);
    assert_eq!(client.request(&get("/")).body, b"a");
}

#[test]
fn check_refuses_a_member_on_its_own_listener() {
    let path = write_config(
        "loop",
        "listen = [\"0.0.0.0:18080\"]\n\n[[balancer]]\nname = \"c\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:18080\"\n",
    );
    let (ok, stderr) = run_to_end(Command::new(RINGLB).args(["check", "-c"]).arg(&path));
    assert!(
        !ok,
        "check accepted a member that is ringlb itself: {stderr}"
    );
    assert!(
        stderr.contains(":6: balancer[0].member[0].url:") && stderr.contains("loop back"),
        "{stderr}"
    );
}

#[test]
fn open_files_limit_is_raised_to_the_hard_limit() {
    let member = MockMember::named("a");
    let mut cmd = Command::new("prlimit");
    cmd.args([
        "--nofile=100:200",
        "--",
        RINGLB,
        "run",
        "--listen",
        "127.0.0.1:0",
    ])
    .args(["--workers", "1", "--member"])
    .arg(format!("http://{}", member.addr()));
    let ringlb = Process::start(&mut cmd);
    let (line, _) = ringlb.wait_for("open files limit");
    assert_eq!(line, "ringlb: open files limit 200 (raised from 100)");
    ringlb.wait_for("listening on");
}

/// ringlb's open descriptors numbered below `FILES` (the limit is on the lowest free number:
/// descriptors inherited above it, such as a jobserver pipe, take no slot).
fn fd_count(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).map_or(0, |dir| {
        dir.filter_map(|e| e.ok()?.file_name().to_str()?.parse::<usize>().ok())
            .filter(|&fd| fd < FILES)
            .count()
    })
}

/// The open files limit the descriptor shortage test runs ringlb under.
const FILES: usize = 64;

fn descriptor_shortage_gets_503_and_spares_the_member(driver: IoDriver) {
    // `Connection: close` keeps member connections out of the pool: each request connects.
    let member =
        MockMember::fixed(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nConnection: close\r\n\r\na");
    let path = write_config(
        &format!("emfile-{}", driver.as_str()),
        &format!(
            "workers = 1\nio_driver = \"{}\"\nlisten = [\"127.0.0.1:0\"]\n\
             [limits]\nmax_connections = 1000\n\
             [[balancer]]\nname = \"c\"\nforcerecovery = false\n\
             [[balancer.member]]\nurl = \"http://{}\"\n",
            driver.as_str(),
            member.addr()
        ),
    );
    // Soft = hard: ringlb cannot raise it.
    let mut cmd = Command::new("prlimit");
    cmd.arg(format!("--nofile={FILES}:{FILES}"))
        .args(["--", RINGLB, "run", "-c"])
        .arg(&path);
    let ringlb = Process::start(&mut cmd);
    assert_eq!(
        ringlb.wait_for("open files limit").0,
        format!("ringlb: open files limit {FILES}")
    );
    let (line, _) = ringlb.wait_for("listening on http://");
    let addr: SocketAddr = line
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {line:?}"));

    // Idle clients until ringlb holds every descriptor it may have.
    let pid = ringlb.pid();
    let mut clients = Vec::new();
    while fd_count(pid) < FILES {
        let before = fd_count(pid);
        clients.push(Client::connect(addr));
        assert!(
            poll_until(secs(5), || fd_count(pid) > before),
            "ringlb did not accept connection {} ({before} descriptors)",
            clients.len()
        );
    }
    assert!(clients.len() >= 3, "{} clients", clients.len());

    // No descriptor left for a member connection: 503, and the member is not to blame.
    let resp = clients[0].request(&get("/"));
    assert_eq!(resp.status, 503, "{}", resp.body_text());
    assert!(
        resp.body_text().contains("local resources"),
        "{}",
        resp.body_text()
    );
    assert_eq!(member.connections(), 0);

    // One descriptor back: the same member serves at once. Had it been put in error (retry
    // 60 s, forcerecovery off), this would be a 503 "no member is available".
    let full = fd_count(pid);
    drop(clients.remove(1));
    assert!(
        poll_until(secs(5), || fd_count(pid) < full),
        "client close seen"
    );
    let resp = clients[1].request(&get("/"));
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(resp.body, b"a");
}
