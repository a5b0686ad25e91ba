//! Zero-downtime binary upgrade, nginx and HAProxy style: on `SIGUSR2` (or `ringlb upgrade`)
//! the running process starts the binary at the path it was started from, with the same
//! arguments, and hands it
//! - its listening sockets, as inherited descriptors named in [`LISTENERS_ENV`]
//!   (`ADDR=FD,FD;ADDR=FD;admin=FD`, `ADDR` as the configuration writes the address), so no
//!   connection is refused and none waits in a queue that closes;
//! - the operator's overrides, as JSON in an inherited memory file ([`STATE_FD_ENV`]);
//! - a pipe ([`READY_FD_ENV`]) on which the new process says it is serving.
//!
//! Both processes accept on the same sockets until the new one is ready; then the old one
//! stops accepting, serves each open connection's next request with `Connection: close`,
//! and exits once they are closed (or `shutdown_grace` ends). A new binary that does not get
//! ready within [`READY_TIMEOUT`] is stopped, and the old process goes on serving as if
//! nothing happened. Member health and counters are not handed over: the new process
//! re-derives health from its requests and checks, and its counters start at zero.

#![allow(unsafe_code)] // descriptor flags, memfd, pipe and poll: each block states why it is sound

use std::fs::File;
use std::io::{self, Read, Seek, Write};
use std::net::TcpListener;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use crate::control::Overrides;

/// The inherited listening sockets: `ADDR=FD,FD;...;admin=FD`.
pub const LISTENERS_ENV: &str = "RINGLB_UPGRADE_LISTENERS";
/// The inherited memory file with the runtime state (JSON).
pub const STATE_FD_ENV: &str = "RINGLB_UPGRADE_STATE_FD";
/// The write end of the pipe the new process closes once it serves.
pub const READY_FD_ENV: &str = "RINGLB_UPGRADE_READY_FD";
/// The key of the admin listener in [`LISTENERS_ENV`].
pub const ADMIN_KEY: &str = "admin";
/// How long the old process waits for the new one to serve.
pub const READY_TIMEOUT: Duration = Duration::from_secs(30);

/// The byte the new process writes on the ready pipe.
const READY: u8 = b'R';

/// Listening sockets by the key they are handed over under.
type Listeners = Vec<(String, Vec<OwnedFd>)>;

/// `ADDR=FD,FD;...` for these keys and descriptor numbers. Pure.
pub fn format_listeners(listeners: &[(String, Vec<RawFd>)]) -> String {
    let parts: Vec<String> = listeners
        .iter()
        .map(|(key, fds)| {
            let fds: Vec<String> = fds.iter().map(|fd| fd.to_string()).collect();
            format!("{key}={}", fds.join(","))
        })
        .collect();
    parts.join(";")
}

/// The keys and descriptor numbers of a [`LISTENERS_ENV`] value. Pure. Refuses a part
/// without `=`, a key given twice, a descriptor that is not a number above 2 and one given
/// twice.
pub fn parse_listeners(text: &str) -> Result<Vec<(String, Vec<RawFd>)>, String> {
    let mut out: Vec<(String, Vec<RawFd>)> = Vec::new();
    let mut seen = Vec::new();
    for part in text.split(';').filter(|p| !p.is_empty()) {
        let Some((key, fds)) = part.split_once('=') else {
            return Err(format!("{part:?}: not ADDR=FD,FD"));
        };
        if key.is_empty() || out.iter().any(|(k, _)| k == key) {
            return Err(format!("{part:?}: an empty or repeated address"));
        }
        let mut list = Vec::new();
        for fd in fds.split(',') {
            match fd.parse::<RawFd>() {
                Ok(n) if n > 2 && !seen.contains(&n) => {
                    seen.push(n);
                    list.push(n);
                }
                _ => return Err(format!("{part:?}: {fd:?} is not a descriptor of its own")),
            }
        }
        out.push((key.to_owned(), list));
    }
    Ok(out)
}

/// The executable this process was started from, remembered at start: after the file is
/// replaced by a new binary, `/proc/self/exe` names the deleted old one.
static EXECUTABLE: OnceLock<PathBuf> = OnceLock::new();

/// Remembers the executable's path; call first thing in `main`.
pub fn remember_executable() {
    if let Ok(path) = std::env::current_exe() {
        let _ = EXECUTABLE.set(path);
    }
}

/// What a process started by an upgrade inherited.
#[derive(Debug, Default)]
pub struct Inherited {
    listeners: Listeners,
    overrides: Overrides,
    ready: Option<File>,
}

impl Inherited {
    /// What the environment hands this process: nothing when it was not started by an
    /// upgrade. Every named descriptor must be a listening TCP socket.
    pub fn from_env() -> Result<Inherited, String> {
        let Ok(text) = std::env::var(LISTENERS_ENV) else {
            return Ok(Inherited::default());
        };
        let mut listeners = Vec::new();
        for (key, fds) in parse_listeners(&text).map_err(|e| format!("{LISTENERS_ENV}: {e}"))? {
            let mut owned = Vec::new();
            for fd in fds {
                owned.push(listening_socket(fd).map_err(|e| format!("{LISTENERS_ENV}: {e}"))?);
            }
            listeners.push((key, owned));
        }
        let overrides = match env_fd(STATE_FD_ENV)? {
            Some(fd) => read_state(File::from(fd))?,
            None => Overrides::default(),
        };
        let ready = env_fd(READY_FD_ENV)?.map(File::from);
        Ok(Inherited {
            listeners,
            overrides,
            ready,
        })
    }

    /// Whether this process was started by an upgrade.
    pub fn is_upgrade(&self) -> bool {
        self.ready.is_some()
    }

    /// The sockets handed over under `key`, taken out (none when there are none).
    pub fn take(&mut self, key: &str) -> Vec<TcpListener> {
        match self.listeners.iter().position(|(k, _)| k == key) {
            Some(i) => (self.listeners.swap_remove(i).1)
                .into_iter()
                .map(TcpListener::from)
                .collect(),
            None => Vec::new(),
        }
    }

    /// The operator's overrides the old process had, taken out.
    pub fn take_overrides(&mut self) -> Overrides {
        std::mem::take(&mut self.overrides)
    }

    /// Tells the old process that this one serves (it then stops accepting). Sockets handed
    /// over for addresses this configuration no longer has are closed here.
    pub fn serving(&mut self) {
        self.listeners.clear();
        if let Some(mut ready) = self.ready.take() {
            let _ = ready.write_all(&[READY]);
        }
    }
}

/// The descriptor named by environment variable `name`, if set.
fn env_fd(name: &str) -> Result<Option<OwnedFd>, String> {
    let Ok(text) = std::env::var(name) else {
        return Ok(None);
    };
    let fd: RawFd = (text.parse().ok())
        .filter(|&n| n > 2 && is_open(n))
        .ok_or_else(|| format!("{name}: {text:?} is not an open descriptor"))?;
    // SAFETY: the descriptor is open (checked) and was handed to this process for it alone
    // by its parent; nothing else in this process knows its number.
    Ok(Some(unsafe { OwnedFd::from_raw_fd(fd) }))
}

fn is_open(fd: RawFd) -> bool {
    // SAFETY: F_GETFD reads a descriptor's flags; it fails with EBADF for a closed one.
    unsafe { libc::fcntl(fd, libc::F_GETFD) != -1 }
}

/// Takes `fd` as a listening TCP socket, with close-on-exec set again.
fn listening_socket(fd: RawFd) -> Result<OwnedFd, String> {
    if !is_open(fd) {
        return Err(format!("descriptor {fd} is not open"));
    }
    // SAFETY: the descriptor is open and was handed to this process for this use alone.
    let owned = unsafe { OwnedFd::from_raw_fd(fd) };
    let socket = socket2::SockRef::from(&owned);
    let listening = socket.is_listener().unwrap_or(false);
    let tcp = socket.r#type().is_ok_and(|t| t == socket2::Type::STREAM);
    if !listening || !tcp {
        return Err(format!("descriptor {fd} is not a listening TCP socket"));
    }
    // Its blocking mode is the old process's too (one open file): left as it is.
    set_cloexec(fd, true).map_err(|e| format!("descriptor {fd}: {e}"))?;
    Ok(owned)
}

fn read_state(mut file: File) -> Result<Overrides, String> {
    let mut text = String::new();
    file.read_to_string(&mut text)
        .map_err(|e| format!("{STATE_FD_ENV}: {e}"))?;
    serde_json::from_str(&text).map_err(|e| format!("{STATE_FD_ENV}: {e}"))
}

fn set_cloexec(fd: RawFd, on: bool) -> io::Result<()> {
    // SAFETY: F_GETFD/F_SETFD read and write the flags of a descriptor the caller owns.
    let flags = unsafe { libc::fcntl(fd, libc::F_GETFD) };
    if flags == -1 {
        return Err(io::Error::last_os_error());
    }
    let flags = if on {
        flags | libc::FD_CLOEXEC
    } else {
        flags & !libc::FD_CLOEXEC
    };
    // SAFETY: as above.
    if unsafe { libc::fcntl(fd, libc::F_SETFD, flags) } == -1 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// Starts the new binary with the listening sockets `listeners` (descriptors the caller keeps
/// open meanwhile, by key) and `overrides`, and waits until it serves (or fails, or
/// [`READY_TIMEOUT`] passes: then it is stopped). Returns its process id.
pub fn start_successor(
    listeners: &[(String, Vec<RawFd>)],
    overrides: &Overrides,
) -> Result<u32, String> {
    let exe = EXECUTABLE
        .get()
        .ok_or("the executable's path is not known")?;
    let state = memory_file(&serde_json::to_vec(overrides).map_err(|e| e.to_string())?)
        .map_err(|e| format!("cannot hand over the state: {e}"))?;
    let (ready_read, ready_write) = pipe().map_err(|e| format!("cannot make a pipe: {e}"))?;
    let handed: Vec<RawFd> = (listeners.iter().flat_map(|(_, fds)| fds.iter().copied()))
        .chain([state.as_raw_fd(), ready_write.as_raw_fd()])
        .collect();
    for &fd in &handed {
        set_cloexec(fd, false).map_err(|e| format!("descriptor {fd}: {e}"))?;
    }
    let spawned = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env(LISTENERS_ENV, format_listeners(listeners))
        .env(STATE_FD_ENV, state.as_raw_fd().to_string())
        .env(READY_FD_ENV, ready_write.as_raw_fd().to_string())
        .spawn();
    for &fd in &handed {
        let _ = set_cloexec(fd, true);
    }
    drop(ready_write); // the child holds the only write end now: its exit is an EOF here
    let mut child = spawned.map_err(|e| format!("cannot start {}: {e}", exe.display()))?;
    match wait_ready(&ready_read, READY_TIMEOUT) {
        Ok(()) => Ok(child.id()),
        Err(why) => {
            let _ = child.kill();
            let _ = child.wait();
            Err(format!("{} did not take over: {why}", exe.display()))
        }
    }
}

/// A memory file holding `bytes`, read from its start (close-on-exec until handed over).
fn memory_file(bytes: &[u8]) -> io::Result<File> {
    // SAFETY: the name is a NUL-terminated string; the call returns a new descriptor or -1.
    let fd = unsafe { libc::memfd_create(c"ringlb-upgrade-state".as_ptr(), libc::MFD_CLOEXEC) };
    if fd == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `fd` is a new descriptor this function alone owns.
    let mut file = unsafe { File::from_raw_fd(fd) };
    file.write_all(bytes)?;
    file.rewind()?;
    Ok(file)
}

/// A pipe: (read end, write end), both close-on-exec.
fn pipe() -> io::Result<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as RawFd; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } == -1 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded: both descriptors are new and owned here alone.
    Ok(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// Waits for the ready byte on `pipe`.
fn wait_ready(pipe: &OwnedFd, timeout: Duration) -> Result<(), String> {
    let mut poll = libc::pollfd {
        fd: pipe.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    let ms = i32::try_from(timeout.as_millis()).unwrap_or(i32::MAX);
    // SAFETY: one valid pollfd for an open descriptor.
    let n = unsafe { libc::poll(&mut poll, 1, ms) };
    if n == 0 {
        return Err(format!("not serving after {}s", timeout.as_secs()));
    }
    let mut byte = [0u8; 1];
    let mut file = File::from(pipe.try_clone().map_err(|e| e.to_string())?);
    match file.read(&mut byte) {
        Ok(1) if byte[0] == READY => Ok(()),
        Ok(_) => Err("it exited before serving (see its error log)".to_owned()),
        Err(e) => Err(e.to_string()),
    }
}

/// `ringlb upgrade`: asks the process the pid file `pid_file` names for a binary upgrade
/// (`SIGUSR2`) and waits until a new process writes its id there (the old one then finishes
/// its connections and exits). The message names both processes.
pub fn request(pid_file: &std::path::Path) -> Result<String, String> {
    let old = crate::pidfile::read(pid_file).map_err(|e| format!("{}: {e}", pid_file.display()))?;
    // SAFETY: kill(2) with a process id read from the pid file; no memory is involved.
    if unsafe { libc::kill(old as libc::pid_t, libc::SIGUSR2) } == -1 {
        let e = io::Error::last_os_error();
        return Err(format!("process {old} (from {}): {e}", pid_file.display()));
    }
    let deadline = crate::clock::now() + READY_TIMEOUT + Duration::from_secs(5);
    while crate::clock::now() < deadline {
        match crate::pidfile::read(pid_file) {
            Ok(new) if new != old => {
                return Ok(format!(
                    "upgraded: process {new} serves; process {old} finishes its open \
                     connections and exits"
                ))
            }
            // Another process writes the file: polled, with the deadline above.
            #[allow(clippy::disallowed_methods)]
            _ => std::thread::sleep(Duration::from_millis(50)),
        }
    }
    Err(format!(
        "no new process took over from process {old}: it goes on serving; its error log says why"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn listener_lists_round_trip() {
        let lists = vec![
            ("127.0.0.1:8080".to_owned(), vec![3, 4]),
            ("[::1]:443".to_owned(), vec![7]),
            (ADMIN_KEY.to_owned(), vec![9]),
        ];
        let text = format_listeners(&lists);
        assert_eq!(text, "127.0.0.1:8080=3,4;[::1]:443=7;admin=9");
        assert_eq!(parse_listeners(&text), Ok(lists));
        assert_eq!(parse_listeners(""), Ok(Vec::new()));
    }

    #[test]
    fn bad_listener_lists_are_refused() {
        for bad in [
            "127.0.0.1:80",
            "=3",
            "a=3;a=4",
            "a=3;b=3",
            "a=2",
            "a=-1",
            "a=",
            "a=3,,4",
            "a=x",
        ] {
            assert!(parse_listeners(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn the_ready_byte_or_an_eof_ends_the_wait() {
        let (read, write) = pipe().expect("pipe");
        File::from(write.try_clone().expect("dup"))
            .write_all(&[READY])
            .expect("write");
        assert_eq!(wait_ready(&read, Duration::from_secs(5)), Ok(()));
        drop(write);
        let err = wait_ready(&read, Duration::from_secs(5)).expect_err("EOF");
        assert!(err.contains("exited before serving"), "{err}");
        let (read, _write) = pipe().expect("pipe");
        let err = wait_ready(&read, Duration::from_millis(10)).expect_err("timeout");
        assert!(err.contains("not serving"), "{err}");
    }

    #[test]
    fn the_state_file_reads_back_from_its_start() {
        let file = memory_file(b"{}").expect("memfd");
        assert_eq!(read_state(file), Ok(Overrides::default()));
    }
}
