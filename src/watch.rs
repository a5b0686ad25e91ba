//! `reload_on_change`: a thread watches the configuration file with inotify and reloads it,
//! as SIGHUP does, once it has been stable for [`SETTLE`] after a change (an editor or a
//! deploy tool writes it in several steps). The directory is watched, not the file, so a file
//! replaced by a rename (how editors and configuration management write) is seen too.
//! A file whose bytes did not change is not reloaded; a broken one is logged and ignored, and
//! the configuration in force stays.
//!
//! The watch runs whenever the process runs from a file; whether it reloads is read from
//! the configuration in force at each change, so a reload can turn it on or off.

#![allow(unsafe_code)] // inotify and poll through libc: each block states why it is sound

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read};
use std::os::fd::{AsRawFd, FromRawFd};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::control::{Actor, Controller};
use crate::log;

/// How long the file must stay unchanged before it is read.
pub const SETTLE: Duration = Duration::from_millis(500);

/// The inotify events that mean the file may have new contents.
const EVENTS: u32 = libc::IN_CLOSE_WRITE
    | libc::IN_MODIFY
    | libc::IN_MOVED_TO
    | libc::IN_CREATE
    | libc::IN_DELETE
    | libc::IN_ATTRIB;

/// Starts watching the file `controller` runs from; `None` (and nothing watched) when it
/// does not run from a file or inotify is not available (said in the log).
pub fn start(controller: Arc<Controller>) -> Option<std::thread::JoinHandle<()>> {
    let source = PathBuf::from(&controller.current().config.source);
    if !source.is_file() {
        return None;
    }
    let watched = match Watch::new(&source) {
        Ok(w) => w,
        Err(e) => {
            log::warn(format_args!(
                "reload_on_change: cannot watch {}: {e}",
                source.display()
            ));
            return None;
        }
    };
    std::thread::Builder::new()
        .name("ringlb-watch".into())
        .spawn(move || watched.run(&controller))
        .ok()
}

struct Watch {
    inotify: File,
    path: PathBuf,
    /// The file's name in its directory, as inotify reports it.
    name: Vec<u8>,
    /// The bytes last loaded (or seen at start).
    last: Vec<u8>,
}

impl Watch {
    fn new(path: &Path) -> io::Result<Watch> {
        let name = path
            .file_name()
            .ok_or_else(|| io::Error::other("no file name"))?
            .as_bytes()
            .to_vec();
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let dir = CString::new(dir.as_os_str().as_bytes()).map_err(io::Error::other)?;
        // SAFETY: inotify_init1 returns a new descriptor or -1.
        let fd = unsafe { libc::inotify_init1(libc::IN_CLOEXEC) };
        if fd == -1 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `fd` is new and owned by this File alone.
        let inotify = unsafe { File::from_raw_fd(fd) };
        // SAFETY: `dir` is a NUL-terminated path; `fd` is an inotify descriptor.
        if unsafe { libc::inotify_add_watch(fd, dir.as_ptr(), EVENTS) } == -1 {
            return Err(io::Error::last_os_error());
        }
        Ok(Watch {
            inotify,
            path: path.to_path_buf(),
            name,
            last: std::fs::read(path).unwrap_or_default(),
        })
    }

    fn run(mut self, controller: &Controller) {
        loop {
            if !self.wait_for_change(None) {
                return;
            }
            while self.wait_for_change(Some(SETTLE)) {}
            if controller.current().config.ops.reload_on_change {
                self.reload(controller);
            }
        }
    }

    /// Waits (up to `timeout`, or for ever) for an event naming the file; `false` on timeout
    /// or when inotify fails.
    fn wait_for_change(&mut self, timeout: Option<Duration>) -> bool {
        let mut buf = [0u8; 4096];
        loop {
            let ms = timeout.map_or(-1, |t| t.as_millis() as i32);
            let mut poll = libc::pollfd {
                fd: self.inotify.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: one valid pollfd for an open descriptor.
            match unsafe { libc::poll(&mut poll, 1, ms) } {
                0 => return false,
                n if n < 0 && io::Error::last_os_error().kind() == io::ErrorKind::Interrupted => {
                    continue
                }
                n if n < 0 => return false,
                _ => {}
            }
            let n = match self.inotify.read(&mut buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(_) => return false,
            };
            if event_names(&buf[..n]).any(|name| name == self.name.as_slice()) {
                return true;
            }
        }
    }

    fn reload(&mut self, controller: &Controller) {
        let Ok(bytes) = std::fs::read(&self.path) else {
            return; // gone for now (a rename in two steps): the next event brings it back
        };
        if bytes == self.last {
            return;
        }
        self.last = bytes;
        match controller.reload_file(&Actor::FileWatch) {
            Ok(n) => log::info(format_args!(
                "reloaded after {} changed: configuration generation {n}",
                self.path.display()
            )),
            Err(e) => log::error(format_args!(
                "{} changed but the reload was refused, nothing changed: {e}",
                self.path.display()
            )),
        }
    }
}

/// The names in a buffer of `struct inotify_event`s (`wd`, `mask`, `cookie`, `len`, then
/// `len` bytes of NUL-padded name), NUL padding cut. Pure; a truncated event ends the list.
pub fn event_names(buf: &[u8]) -> impl Iterator<Item = &[u8]> {
    const HEAD: usize = 16;
    let mut rest = buf;
    std::iter::from_fn(move || {
        let head = rest.get(..HEAD)?;
        let len = u32::from_ne_bytes([head[12], head[13], head[14], head[15]]) as usize;
        let name = rest.get(HEAD..HEAD + len)?;
        rest = &rest[HEAD + len..];
        let end = name.iter().position(|&b| b == 0).unwrap_or(name.len());
        Some(&name[..end])
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(name: &[u8], padded: usize) -> Vec<u8> {
        let mut e = Vec::new();
        e.extend_from_slice(&1i32.to_ne_bytes());
        e.extend_from_slice(&libc::IN_CLOSE_WRITE.to_ne_bytes());
        e.extend_from_slice(&0u32.to_ne_bytes());
        e.extend_from_slice(&(padded as u32).to_ne_bytes());
        e.extend_from_slice(name);
        e.resize(e.len() + padded - name.len(), 0);
        e
    }

    #[test]
    fn names_come_out_of_a_buffer_of_events() {
        let mut buf = event(b"ringlb.toml", 16);
        buf.extend(event(b"", 0));
        buf.extend(event(b".ringlb.toml.swp", 32));
        let names: Vec<&[u8]> = event_names(&buf).collect();
        assert_eq!(names, [&b"ringlb.toml"[..], b"", b".ringlb.toml.swp"]);
        let cut = &buf[..buf.len() - 3];
        assert_eq!(event_names(cut).count(), 2, "a truncated event is not read");
        assert_eq!(event_names(&buf[..10]).count(), 0);
    }
}
