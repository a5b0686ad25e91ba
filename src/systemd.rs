//! What ringlb tells systemd, without libsystemd: service state notifications over
//! `NOTIFY_SOCKET` (`sd_notify(3)`: one datagram of `KEY=VALUE` lines to a Unix socket, a
//! path or an abstract name written `@name`), and whether standard error is the journal
//! (`JOURNAL_STREAM` names its device and inode, `systemd.exec(5)`), where a line may start
//! with its syslog priority as `<N>` (`sd-daemon(3)`).
//!
//! Outside systemd (`NOTIFY_SOCKET` unset) every notification is a no-op. A notification that
//! cannot be sent is dropped: systemd's start timeout reports a service that never said
//! `READY=1`, and serving must not depend on the service manager.

use std::os::linux::net::SocketAddrExt;
use std::os::unix::fs::MetadataExt;
use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::OnceLock;

/// A service state change, as `Type=notify` units are told of them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum State {
    /// Start-up (or a reload) finished: `READY=1`. After a binary upgrade the new process
    /// also says it is the main process now (`MAINPID=`), before the old one stops.
    Ready { main_pid: Option<u32> },
    /// A reload began: `RELOADING=1` with `MONOTONIC_USEC` (the reload's start on
    /// `CLOCK_MONOTONIC`), which systemd 253+ requires to accept the reload.
    Reloading,
    /// A graceful stop began: `STOPPING=1`.
    Stopping,
}

/// The datagram for `state` at `monotonic_usec`. Pure.
pub fn message(state: State, monotonic_usec: u64) -> String {
    match state {
        State::Ready { main_pid: None } => "READY=1\n".to_owned(),
        State::Ready {
            main_pid: Some(pid),
        } => format!("MAINPID={pid}\nREADY=1\n"),
        State::Reloading => format!("RELOADING=1\nMONOTONIC_USEC={monotonic_usec}\n"),
        State::Stopping => "STOPPING=1\n".to_owned(),
    }
}

/// Tells the service manager, if there is one, about `state`.
pub fn notify(state: State) {
    let Some(path) = std::env::var_os("NOTIFY_SOCKET") else {
        return;
    };
    let Some(path) = path.to_str() else {
        return;
    };
    let address = match path.strip_prefix('@') {
        Some(name) => SocketAddr::from_abstract_name(name.as_bytes()),
        None => SocketAddr::from_pathname(path),
    };
    let (Ok(address), Ok(socket)) = (address, UnixDatagram::unbound()) else {
        return;
    };
    let _ = socket.send_to_addr(message(state, monotonic_usec()).as_bytes(), &address);
}

/// `CLOCK_MONOTONIC` now, in microseconds (what `MONOTONIC_USEC` is measured on).
#[allow(unsafe_code)]
fn monotonic_usec() -> u64 {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid, writable timespec; CLOCK_MONOTONIC always exists on Linux.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut now) };
    (now.tv_sec as u64) * 1_000_000 + (now.tv_nsec as u64) / 1_000
}

/// Whether standard error is connected to the journal: `JOURNAL_STREAM` (`DEVICE:INODE`)
/// names the file standard error is. Read once.
pub fn stderr_is_journal() -> bool {
    static JOURNAL: OnceLock<bool> = OnceLock::new();
    *JOURNAL.get_or_init(|| {
        let Some(stream) = std::env::var_os("JOURNAL_STREAM") else {
            return false;
        };
        let Ok(stderr) = std::fs::metadata("/proc/self/fd/2") else {
            return false;
        };
        names_file(&stream.to_string_lossy(), stderr.dev(), stderr.ino())
    })
}

/// Whether a `JOURNAL_STREAM` value (`DEVICE:INODE`, decimal) names the file with `dev` and
/// `ino`. Pure.
pub fn names_file(stream: &str, dev: u64, ino: u64) -> bool {
    let Some((d, i)) = stream.split_once(':') else {
        return false;
    };
    d.parse() == Ok(dev) && i.parse() == Ok(ino)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_are_sd_notify_assignments() {
        let cases = [
            (State::Ready { main_pid: None }, "READY=1\n"),
            (
                State::Ready {
                    main_pid: Some(4321),
                },
                "MAINPID=4321\nREADY=1\n",
            ),
            (State::Reloading, "RELOADING=1\nMONOTONIC_USEC=123456789\n"),
            (State::Stopping, "STOPPING=1\n"),
        ];
        for (state, want) in cases {
            assert_eq!(message(state, 123_456_789), want, "{state:?}");
        }
    }

    #[test]
    fn journal_stream_must_name_the_very_file() {
        let cases = [
            ("8:1234", 8, 1234, true),
            ("8:1234", 8, 1235, false),
            ("9:1234", 8, 1234, false),
            ("8:", 8, 1234, false),
            ("", 8, 1234, false),
            ("8:1234:5", 8, 1234, false),
            ("x:1234", 8, 1234, false),
        ];
        for (stream, dev, ino, want) in cases {
            assert_eq!(names_file(stream, dev, ino), want, "{stream:?}");
        }
    }
}
