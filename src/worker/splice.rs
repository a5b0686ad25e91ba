//! Large response bodies moved from a member's socket to the client's without being copied
//! through the worker: splice(2) from the member socket into a pipe, then from the pipe into
//! the client socket (HAProxy's `option splice-response`). Only for plain TCP on both sides
//! and a body of known length of at least [`SPLICE_FROM`]: the splices move exactly the
//! body's bytes and never one past its end, so the member connection's framing stays exact
//! and it is pooled (or not) just as after a relay through a buffer.
//!
//! Each splice is a nonblocking syscall the worker makes itself after a readiness wait, under
//! either driver (io_uring's splice operation always runs on a kernel worker thread: a thread
//! hop per step). The sockets are nonblocking for the transfer and get their flags back after
//! it, because io_uring's reads and writes on them expect the flags they had.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use monoio::net::TcpStream;

use super::forward::{self, BodyError, Stopped};

/// Bodies with less than this left after the bytes read with the head go through a buffer:
/// for them a pipe's setup (four syscalls) costs about what the copies it saves do.
pub(super) const SPLICE_FROM: u64 = 256 * 1024;

/// The capacity asked for the pipe: the most one splice moves (the default is 64 KiB).
const PIPE_BYTES: libc::c_int = 512 * 1024;

/// Deadlines of one spliced body.
#[derive(Clone, Copy, Debug)]
pub(super) struct SpliceTimeouts {
    /// The member's silence that ends the transfer.
    pub(super) read: Duration,
    /// The longest a write to the client may wait.
    pub(super) write: Duration,
}

/// Sends `out` (the response head and the body bytes already read with it) to `client`, then
/// splices the `rest` of the body from `member` through `pipe`. Returns the body bytes
/// spliced, or why the transfer stopped (`wrote` is always true: `out` was being written).
pub(super) async fn send_then_splice(
    pipe: &Pipe,
    member: &TcpStream,
    client: &mut TcpStream,
    out: Vec<u8>,
    rest: u64,
    timeouts: SpliceTimeouts,
) -> (Result<u64, Stopped>, Vec<u8>) {
    let stop = |error| Err(Stopped { error, wrote: true });
    let out = match forward::write_from(client, out, 0, timeouts.write).await {
        Ok(out) => out,
        Err(()) => return (stop(BodyError::SinkGone), Vec::new()),
    };
    let moved = match splice_exactly(member, client, pipe, rest, timeouts).await {
        Ok(()) => Ok(rest),
        Err(error) => stop(error),
    };
    (moved, out)
}

/// Moves exactly `len` bytes from `member` to `client` through `pipe`.
async fn splice_exactly(
    member: &TcpStream,
    client: &TcpStream,
    pipe: &Pipe,
    len: u64,
    timeouts: SpliceTimeouts,
) -> Result<(), BodyError> {
    let _member_flags = Nonblocking::set(member.as_raw_fd()).ok_or(BodyError::SourceGone)?;
    let _client_flags = Nonblocking::set(client.as_raw_fd()).ok_or(BodyError::SinkGone)?;
    let mut left = len;
    while left > 0 {
        // Fill the (empty) pipe with what the member has sent, up to the body's end.
        let want = usize::try_from(left)
            .unwrap_or(usize::MAX)
            .min(pipe.capacity);
        let mut in_pipe = loop {
            match splice(member.as_raw_fd(), pipe.write.as_raw_fd(), want, false) {
                Ok(0) => return Err(BodyError::SourceGone),
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match monoio::time::timeout(timeouts.read, member.readable(false)).await {
                        Ok(Ok(())) => {}
                        Ok(Err(_)) => return Err(BodyError::SourceGone),
                        Err(_) => return Err(BodyError::TimedOut),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(BodyError::SourceGone),
            }
        };
        left -= in_pipe as u64;
        // Empty it into the client; "more" while the body goes on, so the kernel packs segments.
        while in_pipe > 0 {
            match splice(pipe.read.as_raw_fd(), client.as_raw_fd(), in_pipe, left > 0) {
                Ok(n) => in_pipe -= n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    match monoio::time::timeout(timeouts.write, client.writable(false)).await {
                        Ok(Ok(())) => {}
                        _ => return Err(BodyError::SinkGone),
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => return Err(BodyError::SinkGone),
            }
        }
    }
    Ok(())
}

/// A pipe for one transfer, closed with it (one that stopped midway may still hold bytes).
pub(super) struct Pipe {
    read: OwnedFd,
    write: OwnedFd,
    capacity: usize,
}

impl Pipe {
    /// `None` when no pipe can be opened (descriptors exhausted): the caller uses a buffer.
    pub(super) fn open() -> Option<Pipe> {
        let (read, write) = pipe()?;
        let capacity = set_pipe_size(write.as_raw_fd(), PIPE_BYTES).unwrap_or(64 * 1024);
        Some(Pipe {
            read,
            write,
            capacity,
        })
    }
}

/// A socket switched to nonblocking for a transfer; its flags are put back when this is
/// dropped (also when the transfer's future is).
struct Nonblocking {
    fd: RawFd,
    flags: libc::c_int,
}

impl Nonblocking {
    /// `None` when the flags cannot be read or set (the socket is gone).
    fn set(fd: RawFd) -> Option<Nonblocking> {
        let flags = fcntl(fd, libc::F_GETFL, 0)?;
        if flags & libc::O_NONBLOCK == 0 {
            fcntl(fd, libc::F_SETFL, flags | libc::O_NONBLOCK)?;
        }
        Some(Nonblocking { fd, flags })
    }
}

impl Drop for Nonblocking {
    fn drop(&mut self) {
        if self.flags & libc::O_NONBLOCK == 0 {
            let _ = fcntl(self.fd, libc::F_SETFL, self.flags);
        }
    }
}

/// A new pipe (close-on-exec): its read and write ends.
#[allow(unsafe_code)]
fn pipe() -> Option<(OwnedFd, OwnedFd)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: pipe2(2) writes two descriptors into the valid two-element array.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return None;
    }
    // SAFETY: on success both descriptors are new, open, and owned by nothing else.
    Some(unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) })
}

/// One nonblocking splice(2) of at most `len` bytes between two descriptors, one of them a
/// pipe.
#[allow(unsafe_code)]
fn splice(from: RawFd, to: RawFd, len: usize, more: bool) -> io::Result<usize> {
    let mut flags = libc::SPLICE_F_NONBLOCK | libc::SPLICE_F_MOVE;
    if more {
        flags |= libc::SPLICE_F_MORE;
    }
    // SAFETY: both descriptors are open for the call (owned by values the caller borrows);
    // null offsets are what splice(2) requires for pipes and sockets; no memory is passed.
    let n = unsafe {
        libc::splice(
            from,
            std::ptr::null_mut(),
            to,
            std::ptr::null_mut(),
            len,
            flags,
        )
    };
    usize::try_from(n).map_err(|_| io::Error::last_os_error())
}

/// fcntl(2) with an integer argument; `None` on failure.
#[allow(unsafe_code)]
fn fcntl(fd: RawFd, cmd: libc::c_int, arg: libc::c_int) -> Option<libc::c_int> {
    // SAFETY: `fd` is open for the call (owned by a value the caller borrows); the commands
    // used (F_GETFL, F_SETFL, F_SETPIPE_SZ) take an integer and touch no memory.
    let r = unsafe { libc::fcntl(fd, cmd, arg) };
    (r >= 0).then_some(r)
}

/// Asks for a pipe of `bytes`; returns the capacity it got.
fn set_pipe_size(fd: RawFd, bytes: libc::c_int) -> Option<usize> {
    fcntl(fd, libc::F_SETPIPE_SZ, bytes).and_then(|n| usize::try_from(n).ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pipe_opens_with_at_least_the_default_capacity() {
        let pipe = Pipe::open().expect("a pipe");
        assert!(pipe.capacity >= 64 * 1024, "{}", pipe.capacity);
    }

    #[test]
    fn nonblocking_is_undone_on_drop_and_left_alone_when_already_set() {
        let (read, _write) = pipe().expect("a pipe");
        let fd = read.as_raw_fd();
        let before = fcntl(fd, libc::F_GETFL, 0).expect("flags");
        assert_eq!(before & libc::O_NONBLOCK, 0);
        {
            let _guard = Nonblocking::set(fd).expect("set");
            let during = fcntl(fd, libc::F_GETFL, 0).expect("flags");
            assert_ne!(during & libc::O_NONBLOCK, 0);
            // Nested: already nonblocking, so the inner guard leaves it as it found it.
            drop(Nonblocking::set(fd).expect("set"));
            let still = fcntl(fd, libc::F_GETFL, 0).expect("flags");
            assert_ne!(still & libc::O_NONBLOCK, 0);
        }
        assert_eq!(fcntl(fd, libc::F_GETFL, 0), Some(before));
    }
}
