//! Per-core idle pool of member connections: LIFO per member (the warmest connection first),
//! an idle deadline, and a check for unread bytes when a connection is returned and again
//! before it is reused.
//!
//! # Why both checks, and why a syscall
//! A connection that has (or may have) unread bytes must never carry another request: bytes a
//! member wrote after a complete response (a body after a `HEAD` response, anything after a
//! `204`/`304`, a second response) would be read as the next client's response. The check at
//! check-in keeps such connections out of the pool; the one at check-out catches bytes (or an
//! EOF) that arrived while the connection was idle. Both are a non-blocking `MSG_PEEK` (one
//! syscall each): a readiness poll kept on idle connections would save them on io_uring, but
//! monoio 0.2.4 allocates to cancel a pending poll and exposes no way to know whether the
//! poll was submitted yet, so it would cost allocations per request and leave a window in
//! which a connection checked in and out within one loop turn is never looked at.
//!
//! # TLS connections
//! Pooled exactly like plain ones. The peek looks at the TCP socket under the TLS session:
//! any record that arrives while a connection is idle (a `close_notify`, a stray response, a
//! late session ticket) makes it unusable, which is the safe answer. A TLS stream is also
//! checked for what it already read but did not hand out (ciphertext in its buffer,
//! plaintext inside rustls, the peer's close): anything there means bytes after the response.
//! A pooled TLS stream holds no ciphertext buffers (they are released at check-in).
//!
//! # Concurrency
//! Owned by one core (`!Send` streams inside a `RefCell`); never borrowed across an `.await`.

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;
use smallvec::SmallVec;

use super::MemberStream;

#[derive(Debug)]
struct Idle {
    stream: MemberStream,
    since: Instant,
}

/// Idle connections per member index.
#[derive(Debug)]
pub struct Pool {
    idle: RefCell<Vec<SmallVec<[Idle; 4]>>>,
    max_idle_per_member: usize,
    idle_timeout: Duration,
}

impl Pool {
    pub fn new(members: usize, max_idle_per_member: usize, idle_timeout: Duration) -> Pool {
        Pool {
            idle: RefCell::new((0..members).map(|_| SmallVec::new()).collect()),
            max_idle_per_member,
            idle_timeout,
        }
    }

    /// The most recently returned connection to `member` that is still fresh and has nothing
    /// to read (no stray bytes, EOF or reset since it was returned). Connections idle longer
    /// than the timeout, or nearly so, are dropped: the member may be closing them right now,
    /// and a request written into that race would be lost. Every connection looked at and not
    /// returned is closed.
    pub fn checkout(&self, member: usize, now: Instant) -> Option<MemberStream> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(member)?;
        // Keep a margin of a tenth of the timeout before the member's own idle close.
        let max_age = self.idle_timeout - self.idle_timeout / 10;
        while let Some(conn) = list.pop() {
            let age = now.saturating_duration_since(conn.since);
            if age < max_age && nothing_to_read(conn.stream.tcp()) {
                return Some(conn.stream);
            }
        }
        None
    }

    /// Returns a connection for reuse. The caller guarantees that the last response was
    /// complete, framed exactly (not read until close), and that no byte after its end was
    /// read; a connection with anything to read now is closed instead of pooled.
    pub fn checkin(&self, member: usize, mut stream: MemberStream, now: Instant) {
        if !is_quiet(&mut stream) {
            return;
        }
        stream.release_buffers();
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(member) {
            if list.len() >= self.max_idle_per_member {
                // Drop the oldest: it is the most likely to be closed by the member soon.
                list.remove(0);
            }
            list.push(Idle { stream, since: now });
        }
    }

    /// Moves the idle connections of member `from_member` of `from` (the previous generation's
    /// pool, same member address) to `member` here, oldest first, within this pool's limit.
    pub fn adopt(&self, member: usize, from: &Pool, from_member: usize) {
        let taken = match from.idle.borrow_mut().get_mut(from_member) {
            Some(list) => std::mem::take(list),
            None => return,
        };
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(member) {
            list.extend(taken);
            let excess = list.len().saturating_sub(self.max_idle_per_member);
            list.drain(..excess);
        }
    }

    /// Drops connections idle longer than the timeout (called from the worker's tick).
    pub fn sweep(&self, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        for list in idle.iter_mut() {
            list.retain(|c| now.saturating_duration_since(c.since) < self.idle_timeout);
        }
    }
}

/// Whether `stream` has nothing to read: nothing buffered in its TLS session (if any) and
/// nothing on the socket ([`nothing_to_read`]).
pub fn is_quiet(stream: &mut MemberStream) -> bool {
    !stream.has_buffered() && nothing_to_read(stream.tcp())
}

/// A non-blocking peek: true when reading `stream` now would block. EOF (the member closed),
/// an error (reset) or bytes waiting all give false: such a connection must not carry another
/// request, and a member that answers has started to.
#[allow(unsafe_code)]
pub fn nothing_to_read(stream: &TcpStream) -> bool {
    let mut byte = 0u8;
    // SAFETY: `fd` is an open socket owned by `stream` for the duration of the call; the buffer
    // is one valid, writable byte; MSG_PEEK|MSG_DONTWAIT neither consumes data nor blocks.
    let n = unsafe {
        libc::recv(
            stream.as_raw_fd(),
            (&mut byte as *mut u8).cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    n < 0 && std::io::Error::last_os_error().kind() == std::io::ErrorKind::WouldBlock
}
