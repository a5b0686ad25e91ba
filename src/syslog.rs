//! Log lines as syslog messages on the local syslog socket (`/dev/log`, or a path given as
//! `syslog:/path`): one datagram per line on a Unix datagram socket, in the RFC 3164 form
//! that glibc's `syslog(3)` writes locally, `<PRI>Mmm dd hh:mm:ss ringlb[PID]: line`, with
//! facility `daemon` and the time in UTC.
//!
//! Used by the access-log sink (from its worker's tick, never per request) and the error log.
//! The socket is non-blocking: a syslog daemon that does not keep up makes [`Syslog::send`]
//! fail with `WouldBlock` instead of stalling the worker; the caller keeps the line and
//! retries later. A daemon that restarted (the socket path re-created) is reconnected once per
//! failed send.

use std::io::{self, Write};
use std::os::unix::net::UnixDatagram;
use std::path::{Path, PathBuf};

use crate::accesslog::time::civil_from_unix;

/// The local syslog socket on Linux.
pub const DEFAULT_SOCKET: &str = "/dev/log";

/// Facility `daemon` (RFC 5424 table 1: 3).
const FACILITY_DAEMON: u8 = 3;

/// Largest message sent: longer lines are cut (syslog daemons take 8 KiB or more locally,
/// RFC 3164 itself only 1024 bytes).
pub const MAX_MESSAGE: usize = 8 * 1024;

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Syslog severities ringlb uses (RFC 5424 table 2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Severity {
    Error = 3,
    Warning = 4,
    Info = 6,
    Debug = 7,
}

/// A connection to a local syslog socket.
#[derive(Debug)]
pub struct Syslog {
    socket: UnixDatagram,
    path: PathBuf,
    /// `ringlb[PID]`.
    tag: String,
    /// The datagram being built; reused.
    scratch: Vec<u8>,
}

impl Syslog {
    /// Connects to the datagram socket at `path`.
    pub fn connect(path: &Path) -> io::Result<Syslog> {
        Ok(Syslog {
            socket: open(path)?,
            path: path.to_path_buf(),
            tag: format!("ringlb[{}]", std::process::id()),
            scratch: Vec::with_capacity(512),
        })
    }

    /// The socket's path.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Sends `line` (without its newline) as one message at `severity`, stamped `unix_secs`.
    /// `WouldBlock` means the daemon's queue is full: nothing was sent.
    pub fn send(&mut self, severity: Severity, unix_secs: u64, line: &[u8]) -> io::Result<()> {
        self.scratch.clear();
        message(&mut self.scratch, severity, unix_secs, &self.tag, line);
        match self.socket.send(&self.scratch) {
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Err(e),
            Err(_) => {
                // The daemon may have restarted and made a new socket: reconnect once.
                self.socket = open(&self.path)?;
                self.socket.send(&self.scratch).map(|_| ())
            }
        }
    }
}

fn open(path: &Path) -> io::Result<UnixDatagram> {
    let socket = UnixDatagram::unbound()?;
    socket.connect(path)?;
    socket.set_nonblocking(true)?;
    Ok(socket)
}

/// Appends the message for `line` to `out`: `<PRI>Mmm dd hh:mm:ss TAG: line`, the day padded
/// with a space as RFC 3164 asks, `line` cut to [`MAX_MESSAGE`] bytes. Pure; allocates only
/// when `out` must grow.
pub fn message(out: &mut Vec<u8>, severity: Severity, unix_secs: u64, tag: &str, line: &[u8]) {
    let c = civil_from_unix(unix_secs);
    let pri = u32::from(FACILITY_DAEMON) * 8 + severity as u32;
    // Writing into a Vec cannot fail; no allocation beyond the Vec's growth.
    let _ = write!(
        out,
        "<{pri}>{} {:>2} {:02}:{:02}:{:02} {tag}: ",
        MONTHS[(c.month - 1) as usize],
        c.day,
        c.hour,
        c.minute,
        c.second
    );
    out.extend_from_slice(&line[..line.len().min(MAX_MESSAGE)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(severity: Severity, unix: u64, line: &[u8]) -> String {
        let mut out = Vec::new();
        message(&mut out, severity, unix, "ringlb[42]", line);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc3164_header() {
        let cases = [
            (Severity::Info, 0, "<30>Jan  1 00:00:00 ringlb[42]: x"),
            (
                Severity::Warning,
                1_795_293_381,
                "<28>Nov 21 20:36:21 ringlb[42]: x",
            ),
            (
                Severity::Error,
                951_782_400,
                "<27>Feb 29 00:00:00 ringlb[42]: x",
            ),
            (
                Severity::Debug,
                86_400 * 9,
                "<31>Jan 10 00:00:00 ringlb[42]: x",
            ),
        ];
        for (severity, unix, want) in cases {
            assert_eq!(text(severity, unix, b"x"), want);
        }
    }

    #[test]
    fn long_lines_are_cut() {
        let long = vec![b'a'; MAX_MESSAGE + 100];
        let t = text(Severity::Info, 0, &long);
        assert_eq!(
            t.len(),
            "<30>Jan  1 00:00:00 ringlb[42]: ".len() + MAX_MESSAGE
        );
    }

    #[test]
    fn sends_datagrams_to_a_bound_socket() {
        let dir = std::env::temp_dir().join(format!("ringlb-syslog-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("log.sock");
        let _ = std::fs::remove_file(&path);
        let server = UnixDatagram::bind(&path).unwrap();
        server
            .set_read_timeout(Some(std::time::Duration::from_secs(5)))
            .unwrap();
        let mut log = Syslog::connect(&path).unwrap();
        log.send(Severity::Warning, 0, b"hello").unwrap();
        let mut buf = [0u8; 256];
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.starts_with("<28>Jan  1 00:00:00 ringlb["), "{got}");
        assert!(got.ends_with("]: hello"), "{got}");
        assert!(Syslog::connect(&dir.join("absent.sock")).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
