//! The error log: one line per event, `[time] [level] message`, to standard error unless
//! [`set_target`] chose another target (`log.error`: standard output, a file, syslog). When
//! standard error is the journal (run by systemd), each line starts with its priority
//! (`<3>` error ... `<7>` debug), so `journalctl -p warning` finds the warnings.
//!
//! Used for start-up, state changes (a member entering or leaving error) and failures of the
//! process itself; never once per request, so it is not on the request path's cost budget.
//!
//! # Concurrency
//! The target is set once, at start, before the workers run ([`set_target`]; a later call
//! is refused), and read without a lock: a file is written with one `write(2)` per line
//! (`O_APPEND`, so lines of several threads never interleave), a syslog line is one datagram.
//! A file is reopened (logrotate, SIGUSR1) by the first line written after
//! [`crate::accesslog::request_reopen`]: the new file is `dup2`ed onto the descriptor every
//! thread writes, so a concurrent writer writes to the old file or the new one, never to a
//! closed descriptor.

use std::fmt;
use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicU8, Ordering};
use std::sync::OnceLock;

use crate::accesslog::sink::REOPEN;
use crate::config::AccessTarget;
use crate::syslog::Severity;

/// Severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Lines less severe than `level` are dropped.
pub fn set_level(level: Level) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Where error-log lines go once [`set_target`] chose; standard error before that.
#[derive(Debug)]
enum Target {
    /// A file (or a duplicate of fd 1 or 2); `path` for reopening, `None` for the streams.
    File {
        file: File,
        path: Option<PathBuf>,
        generation: AtomicU64,
    },
    Syslog {
        socket: UnixDatagram,
        path: PathBuf,
    },
}

static TARGET: OnceLock<Target> = OnceLock::new();

/// Sends the error log to `target` from now on (opens the file or connects to the syslog
/// socket now). Call once, at start; a second call changes nothing and fails.
pub fn set_target(target: &AccessTarget) -> io::Result<()> {
    let chosen = match target {
        AccessTarget::Stderr => return Ok(()),
        AccessTarget::Stdout => Target::File {
            file: File::from(std::os::fd::AsFd::as_fd(&io::stdout()).try_clone_to_owned()?),
            path: None,
            generation: AtomicU64::new(0),
        },
        AccessTarget::File(path) => Target::File {
            file: open_append(path)?,
            path: Some(path.clone()),
            generation: AtomicU64::new(REOPEN.load(Ordering::Relaxed)),
        },
        AccessTarget::Syslog(path) => Target::Syslog {
            socket: connect(path)?,
            path: path.clone(),
        },
    };
    TARGET
        .set(chosen)
        .map_err(|_| io::Error::other("the error log target is already set"))
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

fn connect(path: &Path) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    socket.connect(path)?;
    Ok(socket)
}

/// Writes one line at `level`: `[2026-12-02T01:02:03.456Z] [warn] message` (RFC 3339 UTC
/// time with milliseconds, then the level) to the target; standard error when the target
/// fails.
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let unix_ms = crate::clock::unix_now_ms();
    let line = format_line(unix_ms, level, args);
    let sent = match TARGET.get() {
        None if crate::systemd::stderr_is_journal() => {
            let line = format!("{}{line}", journal_priority(level));
            return write_stderr(&line);
        }
        None => Err(io::Error::other("standard error")),
        Some(Target::File {
            file,
            path,
            generation,
        }) => {
            reopen_if_requested(file, path.as_deref(), generation);
            (&*file).write_all(line.as_bytes())
        }
        Some(Target::Syslog { socket, path }) => {
            // The datagram carries its own time and severity: the message alone follows.
            send_syslog(socket, path, level, unix_ms / 1000, &args.to_string())
        }
    };
    if sent.is_err() {
        write_stderr(&line);
    }
}

fn write_stderr(line: &str) {
    let _ = io::stderr().write_all(line.as_bytes());
}

/// The journal's `<N>` line prefix for `level` (syslog priorities, `sd-daemon(3)`). Pure.
pub fn journal_priority(level: Level) -> &'static str {
    match level {
        Level::Error => "<3>",
        Level::Warn => "<4>",
        Level::Info => "<6>",
        Level::Debug => "<7>",
    }
}

/// After a reopen request, opens `path` again and puts it behind `file`'s descriptor.
fn reopen_if_requested(file: &File, path: Option<&Path>, generation: &AtomicU64) {
    let (Some(path), wanted) = (path, REOPEN.load(Ordering::Relaxed)) else {
        return;
    };
    if generation.swap(wanted, Ordering::Relaxed) == wanted {
        return;
    }
    if let Ok(new) = open_append(path) {
        dup_onto(&new, file);
    }
}

/// Makes `target`'s descriptor refer to `source`'s open file.
#[allow(unsafe_code)]
fn dup_onto(source: &File, target: &File) {
    // SAFETY: both descriptors are open and owned by live `File`s for the whole call; dup2
    // atomically closes `target`'s old file and makes the descriptor refer to `source`'s, so
    // `target` stays a valid open descriptor that its `File` still owns.
    unsafe {
        libc::dup2(source.as_raw_fd(), target.as_raw_fd());
    }
}

/// One syslog datagram for `line`; a daemon that restarted gets a fresh socket for this line.
fn send_syslog(
    socket: &UnixDatagram,
    path: &Path,
    level: Level,
    unix_secs: u64,
    line: &str,
) -> io::Result<()> {
    let severity = match level {
        Level::Error => Severity::Error,
        Level::Warn => Severity::Warning,
        Level::Info => Severity::Info,
        Level::Debug => Severity::Debug,
    };
    let tag = format!("ringlb[{}]", std::process::id());
    let mut message = Vec::with_capacity(line.len() + 48);
    crate::syslog::message(&mut message, severity, unix_secs, &tag, line.as_bytes());
    match socket.send(&message) {
        Ok(_) => Ok(()),
        Err(_) => connect(path)?.send(&message).map(|_| ()),
    }
}

/// One error-log line, newline included. Pure.
pub fn format_line(unix_ms: u64, level: Level, args: fmt::Arguments<'_>) -> String {
    let time = crate::accesslog::time::rfc3339_ms(unix_ms);
    let time = std::str::from_utf8(&time).unwrap_or("");
    format!("[{time}] [{}] {args}\n", level.as_str())
}

pub fn error(args: fmt::Arguments<'_>) {
    write(Level::Error, args);
}

pub fn warn(args: fmt::Arguments<'_>) {
    write(Level::Warn, args);
}

pub fn info(args: fmt::Arguments<'_>) {
    write(Level::Info, args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_an_rfc3339_time_and_the_level() {
        let line = format_line(
            1_795_293_381_456,
            Level::Warn,
            format_args!("member x down"),
        );
        assert_eq!(line, "[2026-11-21T20:36:21.456Z] [warn] member x down\n");
        let line = format_line(0, Level::Info, format_args!("up"));
        assert_eq!(line, "[1970-01-01T00:00:00.000Z] [info] up\n");
    }
}
