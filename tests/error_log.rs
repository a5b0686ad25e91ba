//! The error log of the `ringlb` binary during a member outage under load: exactly one line
//! when the only member (with `forcerecovery`, which clears its error at every request) goes
//! down and one when it is back, each `[RFC 3339 time] [level] message`, and no `()` for a
//! member without a route. Log targets as the binary applies them: the access log on
//! standard error, the error log in a file, a piped target refused by `check`. Every
//! process is ended by its PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::thread;

use common::{get, poll_until, secs, Client, MockMember, Reply};
use ringlb::config::IoDriver;

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

both_drivers!(one_line_per_member_state_change, log_targets_of_the_binary);

/// A ringlb process, killed by its PID and reaped when dropped; its stderr lines arrive on
/// `lines`.
struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    fn start(config: &PathBuf) -> Process {
        let mut child = Command::new(RINGLB)
            .args(["run", "-c"])
            .arg(config)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ringlb");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Process { child, lines }
    }

    /// Reads lines into `seen` until one contains `needle`; returns it.
    fn wait_for(&self, needle: &str, seen: &mut Vec<String>) -> String {
        loop {
            match self.lines.recv_timeout(secs(10)) {
                Ok(line) => {
                    seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no {needle:?} from ringlb; it said {seen:?}"),
            }
        }
    }
}

impl Process {
    /// Kills the process (by its PID) and reads the rest of its stderr into `seen`.
    fn finish(mut self, seen: &mut Vec<String>) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        while let Ok(line) = self.lines.recv_timeout(secs(10)) {
            seen.push(line);
        }
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `[2026-12-02T01:02:03.456Z] [level] ` at the start of `line`, with `level` one of the four.
fn check_prefix(line: &str) {
    let b = line.as_bytes();
    let time_ok = b.len() > 27
        && b[0] == b'['
        && b[11] == b'T'
        && b[24] == b'Z'
        && b[25] == b']'
        && [5, 8].iter().all(|&i| b[i] == b'-')
        && [14, 17].iter().all(|&i| b[i] == b':')
        && b[20] == b'.'
        && [1, 2, 3, 4, 6, 7, 9, 10, 12, 13, 15, 16, 18, 19, 21, 22, 23]
            .iter()
            .all(|&i| b[i].is_ascii_digit());
    assert!(time_ok, "no RFC 3339 time: {line}");
    let rest = &line[27..];
    assert!(
        ["[error] ", "[warn] ", "[info] ", "[debug] "]
            .iter()
            .any(|l| rest.starts_with(l)),
        "no level: {line}"
    );
}

/// Clients sending keep-alive requests in a loop until `stop`, counting answers by status.
struct Load {
    stop: Arc<AtomicBool>,
    ok: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    fn start(addr: SocketAddr, clients: usize) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let ok = Arc::new(AtomicU64::new(0));
        let failed = Arc::new(AtomicU64::new(0));
        let threads = (0..clients)
            .map(|_| {
                let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
                thread::spawn(move || {
                    let mut client = Client::connect(addr);
                    while !stop.load(Ordering::Relaxed) {
                        let resp = client.request(&get("/"));
                        let closes = resp
                            .header("connection")
                            .is_some_and(|v| v.eq_ignore_ascii_case("close"));
                        if resp.status == 200 {
                            ok.fetch_add(1, Ordering::Relaxed);
                        } else {
                            failed.fetch_add(1, Ordering::Relaxed);
                        }
                        if closes {
                            client = Client::connect(addr);
                        }
                    }
                })
            })
            .collect();
        Load {
            stop,
            ok,
            failed,
            threads,
        }
    }

    fn ok(&self) -> u64 {
        self.ok.load(Ordering::Relaxed)
    }

    fn failed(&self) -> u64 {
        self.failed.load(Ordering::Relaxed)
    }

    fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
    }
}

/// A fresh directory under the target dir for `name` and `driver`.
fn fresh_dir(name: &str, driver: IoDriver) -> PathBuf {
    let driver_name = if driver == IoDriver::IoUring {
        "io_uring"
    } else {
        "epoll"
    };
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("{name}-{driver_name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `log.access = "stderr"` and `log.error` = a file relative to the config: the access line
/// arrives on standard error, the member's state change in the file; `ringlb check` refuses a
/// piped target naming the file, line and key.
fn log_targets_of_the_binary(driver: IoDriver) {
    let dir = fresh_dir("log-targets", driver);
    let dead = common::dead_addr();
    let config = dir.join("ringlb.toml");
    let driver_name = if driver == IoDriver::IoUring {
        "io_uring"
    } else {
        "epoll"
    };
    std::fs::write(
        &config,
        format!(
            "workers = 1\nio_driver = \"{driver_name}\"\nlisten = [\"127.0.0.1:0\"]\n\
             [log]\naccess = \"stderr\"\naccess_format = \"common\"\nerror = \"logs.d/error.log\"\n\
             [[balancer]]\nname = \"c\"\n[[balancer.member]]\nurl = \"http://{dead}\"\n"
        ),
    )
    .unwrap();
    std::fs::create_dir_all(dir.join("logs.d")).unwrap();
    let ringlb = Process::start(&config);
    let mut seen = Vec::new();
    let listening = ringlb.wait_for("listening on http://", &mut seen);
    let addr: SocketAddr = listening
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap();
    let mut client = Client::connect(addr);
    assert_eq!(client.request(&get("/probe")).status, 503);
    let access = ringlb.wait_for("\"GET /probe HTTP/1.1\" 503", &mut seen);
    assert!(access.starts_with("127.0.0.1 - - ["), "{access}");
    let error_log = dir.join("logs.d/error.log");
    let want = format!("[warn] balancer c: member http://{dead} in error for 60s: connect refused");
    assert!(
        poll_until(secs(10), || std::fs::read_to_string(&error_log)
            .is_ok_and(|t| t.contains(&want))),
        "the error log file gets the state change: {:?}",
        std::fs::read_to_string(&error_log)
    );
    ringlb.finish(&mut seen);
    assert!(
        !seen.iter().any(|l| l.contains(" in error")),
        "the state change went to the file, not stderr: {seen:?}"
    );

    std::fs::write(
        &config,
        "[log]\naccess = \"|/usr/bin/rotatelogs /var/log/a 86400\"\n\
         [[balancer]]\nname = \"c\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9\"\n",
    )
    .unwrap();
    let out = Command::new(RINGLB)
        .args(["check", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("ringlb.toml:2: log.access:") && stderr.contains("piped log"),
        "{stderr}"
    );
}

fn one_line_per_member_state_change(driver: IoDriver) {
    let mock = MockMember::named("m");
    let member_addr = mock.addr();
    let url = format!("http://{member_addr}");
    let driver_name = if driver == IoDriver::IoUring {
        "io_uring"
    } else {
        "epoll"
    };
    let config = fresh_dir("error-log", driver).join("ringlb.toml");
    std::fs::write(
        &config,
        format!(
            "workers = 2\nio_driver = \"{driver_name}\"\nlisten = [\"127.0.0.1:0\"]\n\
             [[balancer]]\nname = \"c\"\nforcerecovery = true\nretry = 60\n\
             [[balancer.member]]\nurl = \"{url}\"\n"
        ),
    )
    .unwrap();
    let ringlb = Process::start(&config);
    let mut seen = Vec::new();
    let listening = ringlb.wait_for("listening on http://", &mut seen);
    let addr: SocketAddr = listening
        .split("http://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .and_then(|a| a.parse().ok())
        .unwrap_or_else(|| panic!("no address in {listening:?}"));

    let load = Load::start(addr, 8);
    assert!(poll_until(secs(10), || load.ok() >= 200), "traffic flows");
    drop(mock); // the only member goes down: every request now fails
    let down = ringlb.wait_for(" in error", &mut seen);
    let failed = load.failed();
    assert!(
        poll_until(secs(10), || load.failed() >= failed + 300),
        "the outage goes on under load"
    );
    let back = MockMember::respond_at(member_addr, |_| Reply::ok("m"));
    let up = ringlb.wait_for(" is usable again", &mut seen);
    let ok = load.ok();
    assert!(
        poll_until(secs(10), || load.ok() >= ok + 300),
        "traffic flows again"
    );
    load.stop();
    ringlb.finish(&mut seen);
    drop(back);

    for line in [&down, &up] {
        check_prefix(line);
        assert!(!line.contains("()"), "an empty route printed: {line}");
    }
    assert!(
        down.ends_with(&format!(
            "[warn] balancer c: member {url} in error for 60s: connect refused"
        )),
        "{down}"
    );
    assert!(
        up.ends_with(&format!("[info] balancer c: member {url} is usable again")),
        "{up}"
    );
    let about_member: Vec<&String> = seen.iter().filter(|l| l.contains(&url)).collect();
    assert_eq!(about_member, [&down, &up], "one line per state change");
}
