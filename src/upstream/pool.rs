//! Per-core idle pool of member connections: LIFO per member (the warmest connection first),
//! an idle deadline, and a liveness check before reuse.
//!
//! # Concurrency
//! Owned by one core (`!Send` streams inside a `RefCell`); never borrowed across an `.await`.

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;
use smallvec::SmallVec;

#[derive(Debug)]
struct Idle {
    stream: TcpStream,
    since: Instant,
}

/// Idle time after which a pooled connection is checked before reuse even for a replayable
/// request.
pub(crate) const CHECK_AFTER: Duration = Duration::from_secs(1);

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

    /// The most recently returned connection to `member` that is still fresh and shows no sign
    /// of being closed by the member (no pending EOF, reset or unexpected bytes). Connections
    /// idle longer than the timeout, or nearly so, are dropped: the member may be closing them
    /// right now, and a request written into that race would be lost.
    ///
    /// The liveness check costs a syscall, so it runs when `careful` (a request that must not
    /// be replayed) or when the connection has been idle longer than [`CHECK_AFTER`]; a
    /// replayable request on a connection used moments ago is simply retried if it was stale.
    pub fn checkout(&self, member: usize, now: Instant, careful: bool) -> Option<TcpStream> {
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(member)?;
        // Keep a margin of a tenth of the timeout before the member's own idle close.
        let max_age = self.idle_timeout - self.idle_timeout / 10;
        while let Some(conn) = list.pop() {
            let age = now.saturating_duration_since(conn.since);
            if age < max_age && ((!careful && age < CHECK_AFTER) || looks_alive(&conn.stream)) {
                return Some(conn.stream);
            }
        }
        None
    }

    /// Returns a connection whose last response was complete and that may be reused.
    pub fn checkin(&self, member: usize, stream: TcpStream, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(member) {
            if list.len() >= self.max_idle_per_member {
                // Drop the oldest: it is the most likely to be closed by the member soon.
                list.remove(0);
            }
            list.push(Idle { stream, since: now });
        }
    }

    /// Drops connections idle longer than the timeout (called from the worker's tick).
    pub fn sweep(&self, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        for list in idle.iter_mut() {
            list.retain(|c| now.saturating_duration_since(c.since) < self.idle_timeout);
        }
    }

    /// Idle connections currently held for `member`.
    pub fn idle_count(&self, member: usize) -> usize {
        self.idle.borrow().get(member).map_or(0, |l| l.len())
    }
}

/// A non-blocking peek: an idle connection must have nothing to read. EOF (the member closed),
/// an error (reset) or stray bytes all mean it must not carry another request.
#[allow(unsafe_code)]
fn looks_alive(stream: &TcpStream) -> bool {
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
