//! The process's life under a service manager. Zero-downtime binary upgrade (`ringlb upgrade`,
//! which sends `SIGUSR2`) of
//! the `ringlb` binary under load: the binary's file is replaced, the running process starts
//! the new one on its listening sockets, the new one serves, the old one finishes its
//! connections and exits. Across it, no request
//! fails and no connection is refused; the operator's override (a drained member) holds in
//! the new process; the pid file names the new process. Also what systemd is told
//! (`NOTIFY_SOCKET`) through start, reload, upgrade and stop; `reload_on_change`; error-log
//! priorities under the journal (`JOURNAL_STREAM`). Every process started here is ended by
//! its PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use common::admin_api::call;
use common::process::Process;
use common::{poll_until, secs, MockMember};
use ringlb::config::IoDriver;

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

both_drivers!(upgrade_under_load_fails_nothing_and_keeps_overrides);

/// A fresh directory under the target dir.
fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("upgrade-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A process that is not our child (the new binary): killed by its PID when dropped.
struct Adopted(u32);

impl Adopted {
    fn alive(&self) -> bool {
        Path::new(&format!("/proc/{}", self.0)).exists()
            && !std::fs::read_to_string(format!("/proc/{}/stat", self.0))
                .unwrap_or_default()
                .contains(") Z ")
    }

    fn stop(&self) {
        signal(self.0, libc::SIGTERM);
        assert!(
            poll_until(secs(20), || !self.alive()),
            "the new process stops on SIGTERM"
        );
    }
}

impl Drop for Adopted {
    fn drop(&mut self) {
        if self.alive() {
            signal(self.0, libc::SIGKILL);
        }
    }
}

#[allow(unsafe_code)]
fn signal(pid: u32, sig: libc::c_int) {
    // SAFETY: kill(2) with a process id this test started (or its own child started).
    unsafe { libc::kill(pid as libc::pid_t, sig) };
}

fn read_pid(path: &Path) -> Option<u32> {
    ringlb::pidfile::read(path).ok()
}

/// What the load saw.
#[derive(Default)]
struct Seen {
    ok: AtomicUsize,
    failed: AtomicUsize,
    refused: AtomicUsize,
    /// Answers by the member named `b` (drained: must get none).
    from_b: AtomicUsize,
}

/// Keep-alive clients (reconnecting when an answer says `Connection: close`) and clients
/// with a new connection per request, until `stop`.
fn load(addr: SocketAddr, stop: Arc<AtomicBool>, seen: Arc<Seen>) -> Vec<thread::JoinHandle<()>> {
    (0..8)
        .map(|i| {
            let (stop, seen) = (stop.clone(), seen.clone());
            thread::spawn(move || {
                let per_request = i >= 6;
                let mut conn: Option<BufReader<TcpStream>> = None;
                while !stop.load(Ordering::Relaxed) {
                    if conn.is_none() {
                        match TcpStream::connect(addr) {
                            Ok(s) => {
                                common::set_timeouts(&s);
                                conn = Some(BufReader::new(s));
                            }
                            Err(_) => {
                                seen.refused.fetch_add(1, Ordering::Relaxed);
                                continue;
                            }
                        }
                    }
                    let c = conn.as_mut().unwrap();
                    match exchange(c, per_request) {
                        Ok((body, close)) => {
                            seen.ok.fetch_add(1, Ordering::Relaxed);
                            if body == b"b" {
                                seen.from_b.fetch_add(1, Ordering::Relaxed);
                            }
                            if close || per_request {
                                conn = None;
                            }
                        }
                        Err(e) => {
                            eprintln!("request failed: {e}");
                            seen.failed.fetch_add(1, Ordering::Relaxed);
                            conn = None;
                        }
                    }
                }
            })
        })
        .collect()
}

/// One `GET /`; the body and whether the connection closes after it.
fn exchange(c: &mut BufReader<TcpStream>, close: bool) -> Result<(Vec<u8>, bool), String> {
    let connection = if close { "close" } else { "keep-alive" };
    let req = format!("GET / HTTP/1.1\r\nHost: t\r\nConnection: {connection}\r\n\r\n");
    c.get_mut()
        .write_all(req.as_bytes())
        .map_err(|e| format!("send: {e}"))?;
    let mut status = String::new();
    c.read_line(&mut status)
        .map_err(|e| format!("status line: {e}"))?;
    if !status.starts_with("HTTP/1.1 200 ") {
        return Err(format!("status line {status:?}"));
    }
    let (mut length, mut closes) = (None, false);
    loop {
        let mut line = String::new();
        c.read_line(&mut line).map_err(|e| format!("head: {e}"))?;
        let lower = line.to_ascii_lowercase();
        if lower == "\r\n" || lower.is_empty() {
            break;
        }
        if let Some(v) = lower.strip_prefix("content-length:") {
            length = v.trim().parse::<usize>().ok();
        }
        if lower.starts_with("connection:") && lower.contains("close") {
            closes = true;
        }
    }
    let mut body = vec![0; length.ok_or("no Content-Length")?];
    c.read_exact(&mut body).map_err(|e| format!("body: {e}"))?;
    Ok((body, closes))
}

fn upgrade_under_load_fails_nothing_and_keeps_overrides(driver: IoDriver) {
    let name = match driver {
        IoDriver::IoUring => "uring",
        _ => "epoll",
    };
    let dir = dir(name);
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let (port, admin_port) = (free_port(), free_port());
    let config = dir.join("ringlb.toml");
    let pid_file = dir.join("ringlb.pid");
    std::fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\nworkers = 2\nio_driver = \"{}\"\n\
             pid_file = \"ringlb.pid\"\nshutdown_grace = \"5s\"\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
             [[balancer]]\nname = \"app\"\n\
             [[balancer.member]]\nurl = \"http://{}\"\n\
             [[balancer.member]]\nurl = \"http://{}\"\n",
            driver.as_str(),
            a.addr(),
            b.addr()
        ),
    )
    .unwrap();
    // The binary runs from a copy whose file the "new version" replaces.
    let binary = dir.join("ringlb");
    std::fs::copy(RINGLB, &binary).unwrap();
    let old = Process::start(Command::new(&binary).arg("run").arg("-c").arg(&config));
    old.wait_for("manager on");
    let old_pid = old.pid();
    assert!(
        poll_until(secs(10), || read_pid(&pid_file) == Some(old_pid)),
        "the pid file names it"
    );
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let admin: SocketAddr = format!("127.0.0.1:{admin_port}").parse().unwrap();

    // The operator drains member b: an override of the file.
    let nonce = common::admin_api::nonce(admin);
    let drain = format!(
        "{{\"balancer\":\"app\",\"member\":\"http://{}\",\"status\":\"+N\",\"nonce\":\"{nonce}\"}}",
        b.addr()
    );
    let (status, _, body) = call(admin, "POST", "/api/members", "", &drain);
    assert_eq!(status, 200, "{body}");

    let stop = Arc::new(AtomicBool::new(false));
    let seen = Arc::new(Seen::default());
    let clients = load(addr, stop.clone(), seen.clone());
    let progress = |n: usize| {
        let start = seen.ok.load(Ordering::Relaxed);
        assert!(
            poll_until(secs(20), || seen.ok.load(Ordering::Relaxed) >= start + n),
            "the load makes progress"
        );
    };
    progress(1500);

    // A new version of the file: another inode at the same path.
    let next = dir.join("ringlb.next");
    std::fs::hard_link(RINGLB, &next).unwrap();
    std::fs::rename(&next, &binary).unwrap();
    let asked = Command::new(RINGLB)
        .args(["upgrade", "-c"])
        .arg(&config)
        .output()
        .unwrap();
    let said = String::from_utf8_lossy(&asked.stdout).into_owned();
    assert!(
        asked.status.success(),
        "ringlb upgrade: {said} {}; the old process said {:?}",
        String::from_utf8_lossy(&asked.stderr),
        old.lines_so_far()
    );
    let new_pid = read_pid(&pid_file).filter(|&p| p != old_pid);
    let new = Adopted(new_pid.expect("a new process took over the pid file"));
    assert!(
        said.contains(&format!(
            "process {} serves; process {old_pid} finishes",
            new.0
        )),
        "{said}"
    );
    let exe = std::fs::read_link(format!("/proc/{}/exe", new.0)).unwrap();
    assert!(
        !exe.to_string_lossy().contains("(deleted)"),
        "the new process runs the new file: {exe:?}"
    );
    let old_exited = poll_until(secs(20), || {
        std::fs::read_to_string(format!("/proc/{old_pid}/stat"))
            .map_or(true, |s| s.contains(") Z "))
    });
    assert!(
        old_exited,
        "the old process exits once its connections are done"
    );
    let after_old = seen.ok.load(Ordering::Relaxed);
    progress(1500);
    stop.store(true, Ordering::Relaxed);
    for c in clients {
        c.join().unwrap();
    }
    let (ok, failed, refused) = (
        seen.ok.load(Ordering::Relaxed),
        seen.failed.load(Ordering::Relaxed),
        seen.refused.load(Ordering::Relaxed),
    );
    eprintln!(
        "upgrade under load ({name}): {ok} answered, {failed} failed, {refused} refused, \
         {after_old} by the time the old process had exited"
    );
    assert_eq!(
        (failed, refused),
        (0, 0),
        "nothing fails across the upgrade"
    );
    assert_eq!(
        seen.from_b.load(Ordering::Relaxed),
        0,
        "the drained member gets no new requests, before or after"
    );
    let (_, _, overrides) = call(admin, "GET", "/api/overrides", "", "");
    assert!(
        overrides.contains(&b.addr().to_string()) && overrides.contains("+N"),
        "the new process holds the override: {overrides}"
    );
    new.stop();
    assert_eq!(
        read_pid(&pid_file),
        None,
        "the new process removes its pid file"
    );
    drop(old);
}

#[test]
fn systemd_is_told_of_start_reload_upgrade_and_stop() {
    let dir = dir("notify");
    let socket_path = dir.join("notify.sock");
    let notify = UnixDatagram::bind(&socket_path).unwrap();
    notify.set_read_timeout(Some(secs(30))).unwrap();
    let member = MockMember::named("a");
    let port = free_port();
    let config = dir.join("ringlb.toml");
    let pid_file = dir.join("ringlb.pid");
    std::fs::write(
        &config,
        format!(
            "listen = [\"127.0.0.1:{port}\"]\nworkers = 1\npid_file = \"ringlb.pid\"\n\
             shutdown_grace = \"1s\"\n\n[[balancer]]\nname = \"app\"\n\
             [[balancer.member]]\nurl = \"http://{}\"\n",
            member.addr()
        ),
    )
    .unwrap();
    let old = Process::start(
        Command::new(RINGLB)
            .arg("run")
            .arg("-c")
            .arg(&config)
            .env("NOTIFY_SOCKET", &socket_path),
    );
    let next = || {
        let mut buf = [0u8; 256];
        let n = notify.recv(&mut buf).expect("a notification");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    };
    assert_eq!(next(), "READY=1\n");
    signal(old.pid(), libc::SIGHUP);
    let reloading = next();
    assert!(
        reloading.starts_with("RELOADING=1\nMONOTONIC_USEC="),
        "{reloading:?}"
    );
    let usec: u64 = reloading
        .trim_end()
        .rsplit('=')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!(usec > 0);
    assert_eq!(next(), "READY=1\n", "ready again after the reload");
    signal(old.pid(), libc::SIGUSR2);
    let took_over = next();
    let new_pid = read_pid(&pid_file).expect("the pid file");
    assert_ne!(new_pid, old.pid());
    let new = Adopted(new_pid);
    assert_eq!(
        took_over,
        format!("MAINPID={new_pid}\nREADY=1\n"),
        "the new process says it is the main process, before the old one stops"
    );
    assert!(
        poll_until(secs(20), || {
            std::fs::read_to_string(format!("/proc/{}/stat", old.pid()))
                .map_or(true, |s| s.contains(") Z "))
        }),
        "the old process exits"
    );
    signal(new_pid, libc::SIGTERM);
    assert_eq!(next(), "STOPPING=1\n");
    assert!(
        poll_until(secs(20), || !new.alive()),
        "the new process stops"
    );
    drop(old);
}

#[test]
fn reload_on_change_reloads_a_stable_file_and_ignores_a_broken_one() {
    let dir = dir("watch");
    let (a, b) = (MockMember::named("a"), MockMember::named("b"));
    let (port, admin_port) = (free_port(), free_port());
    let config = dir.join("ringlb.toml");
    let text = |member: &MockMember| {
        format!(
            "listen = [\"127.0.0.1:{port}\"]\nworkers = 1\nreload_on_change = true\n\n\
             [admin]\nlisten = \"127.0.0.1:{admin_port}\"\n\n\
             [[balancer]]\nname = \"app\"\n[[balancer.member]]\nurl = \"http://{}\"\n",
            member.addr()
        )
    };
    std::fs::write(&config, text(&a)).unwrap();
    let journal = dir.join("stderr");
    let stderr = std::fs::File::create(&journal).unwrap();
    let meta = std::os::unix::fs::MetadataExt::ino(&stderr.metadata().unwrap());
    let dev = std::os::unix::fs::MetadataExt::dev(&stderr.metadata().unwrap());
    let mut child = Command::new(RINGLB)
        .arg("run")
        .arg("-c")
        .arg(&config)
        .env("JOURNAL_STREAM", format!("{dev}:{meta}"))
        .stdout(std::process::Stdio::null())
        .stderr(stderr)
        .spawn()
        .unwrap();
    let pid = Adopted(child.id());
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = || {
        let s = TcpStream::connect(addr).ok()?;
        common::set_timeouts(&s);
        exchange(&mut BufReader::new(s), true).ok().map(|(b, _)| b)
    };
    let log = || std::fs::read_to_string(&journal).unwrap_or_default();
    // The file is watched from before the manager's line.
    assert!(poll_until(secs(10), || log().contains("manager on")));
    assert_eq!(body().as_deref(), Some(&b"a"[..]));

    // A broken file is logged and ignored: the configuration in force stays.
    std::fs::write(&config, "listen = [\"127.0.0.1:").unwrap();
    assert!(
        poll_until(secs(10), || log().contains("reload was refused")),
        "the broken file is reported: {}",
        log()
    );
    assert_eq!(body().as_deref(), Some(&b"a"[..]));

    // Written in two steps, the second within the settling time: one reload, to member b.
    let next = text(&b);
    let (head, tail) = next.split_at(next.len() / 2);
    std::fs::write(&config, head).unwrap();
    std::fs::OpenOptions::new()
        .append(true)
        .open(&config)
        .unwrap()
        .write_all(tail.as_bytes())
        .unwrap();
    assert!(
        poll_until(secs(10), || body().as_deref() == Some(b"b")),
        "the changed file is in force: {}",
        log()
    );
    assert!(
        poll_until(secs(10), || log().contains("reloaded after")),
        "the reload is logged: {}",
        log()
    );
    // Settled, the half-written file was never read: no second refusal, one reload.
    let text = log();
    assert_eq!(text.matches("reload was refused").count(), 1, "{text}");
    assert_eq!(text.matches("reloaded after").count(), 1, "{text}");
    // Under the journal every line carries its priority.
    let error = text
        .lines()
        .find(|l| l.contains("reload was refused"))
        .unwrap();
    assert!(error.starts_with("<3>["), "{error}");
    let info = text.lines().find(|l| l.contains("reloaded after")).unwrap();
    assert!(info.starts_with("<6>["), "{info}");
    pid.stop();
    let _ = child.wait();
}
