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
//! # Idle lifetimes (httpd `smax`, `ttl`)
//! Each worker keeps a member's `smax` most recently used idle connections for
//! `timeouts.upstream_idle`; the older ones for the member's `ttl` (at most that). With the
//! defaults (`smax` 0, `ttl` = `timeouts.upstream_idle`) every idle connection gets the same.
//!
//! # Concurrency
//! Owned by one core (`!Send` streams inside a `RefCell`); never borrowed across an `.await`.
//! A connection dropped here gives its slot back ([`super::Slot`]), which touches the member's
//! gate, never a pool.

use std::cell::RefCell;
use std::os::fd::AsRawFd;
use std::rc::Rc;
use std::time::{Duration, Instant};

use monoio::net::TcpStream;
use smallvec::SmallVec;

use super::{Gate, MemberStream};

#[derive(Debug)]
struct Idle {
    stream: MemberStream,
    since: Instant,
}

/// How one member's idle connections are kept (httpd `smax` and `ttl`) and whether they
/// count against a limit.
#[derive(Debug, Default)]
pub struct MemberPolicy {
    /// Idle lifetime of the connections beyond the `smax` most recently used.
    pub ttl: Duration,
    /// The most recently used idle connections kept for the pool's idle timeout.
    pub smax: usize,
    /// The member's limit on this core (`max`): connections checked in are offered to the
    /// requests waiting for one, and only connections holding a slot of this gate are kept.
    pub gate: Option<Rc<Gate>>,
}

/// Idle connections per member index.
#[derive(Debug)]
pub struct Pool {
    idle: RefCell<Vec<SmallVec<[Idle; 4]>>>,
    members: Vec<MemberPolicy>,
    max_idle_per_member: usize,
    idle_timeout: Duration,
}

impl Pool {
    /// A pool for one member per entry of `members`, keeping at most `max_idle_per_member`
    /// idle connections of each for at most `idle_timeout` (`timeouts.upstream_idle`; a
    /// member's `ttl` may shorten it).
    pub fn new(
        members: Vec<MemberPolicy>,
        max_idle_per_member: usize,
        idle_timeout: Duration,
    ) -> Pool {
        Pool {
            idle: RefCell::new(members.iter().map(|_| SmallVec::new()).collect()),
            members,
            max_idle_per_member,
            idle_timeout,
        }
    }

    /// Member `member`'s gate on this core, if it has `max`.
    pub fn gate(&self, member: usize) -> Option<&Rc<Gate>> {
        self.members.get(member)?.gate.as_ref()
    }

    /// How long an idle connection of `member` may stay, `from_newest` places behind the most
    /// recently returned one: the pool's idle timeout within `smax`, else the member's `ttl`.
    fn lifetime(&self, member: usize, from_newest: usize) -> Duration {
        match self.members.get(member) {
            Some(p) if from_newest >= p.smax => p.ttl.min(self.idle_timeout),
            _ => self.idle_timeout,
        }
    }

    /// Whether `stream` may be kept for `member` here: it holds a slot of the member's gate
    /// on this core, or neither has one (a limit set or changed by a reload: connections that
    /// count elsewhere are closed, not adopted).
    fn fits(&self, member: usize, stream: &MemberStream) -> bool {
        let mine = self.members.get(member).and_then(|p| p.gate.as_ref());
        match (mine, stream.gate()) {
            (None, None) => true,
            (Some(a), Some(b)) => Rc::ptr_eq(a, b),
            _ => false,
        }
    }

    /// The most recently returned connection to `member` that is still fresh and has nothing
    /// to read (no stray bytes, EOF or reset since it was returned). Connections idle longer
    /// than their lifetime, or nearly so, are dropped: the member may be closing them right
    /// now, and a request written into that race would be lost. Every connection looked at
    /// and not returned is closed.
    pub fn checkout(&self, member: usize, now: Instant) -> Option<MemberStream> {
        let lifetime = self.lifetime(member, 0);
        let mut idle = self.idle.borrow_mut();
        let list = idle.get_mut(member)?;
        // Keep a margin of a tenth of the lifetime before the member's own idle close.
        let max_age = lifetime - lifetime / 10;
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
    /// read; a connection holding TLS bytes not yet read is closed instead of pooled. Bytes
    /// on the socket (stray, EOF, reset) are looked for once, just before the connection is
    /// used again: by [`Pool::checkout`], or here when it goes straight to a waiting request
    /// (one syscall per request fewer than looking at both ends). For a member with `max`, a
    /// request waiting on this core gets the connection at once, and while requests wait
    /// elsewhere it is closed to free its place ([`Gate::offer`]).
    pub fn checkin(&self, member: usize, mut stream: MemberStream, now: Instant) {
        if stream.has_buffered() || !self.fits(member, &stream) {
            return;
        }
        let mut stream = match self.gate(member) {
            Some(gate) => {
                if !nothing_to_read(stream.tcp()) {
                    return;
                }
                match gate.offer(stream) {
                    Some(stream) => stream,
                    None => return,
                }
            }
            None => stream,
        };
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
    /// Connections that do not count against this member's limit here are closed.
    pub fn adopt(&self, member: usize, from: &Pool, from_member: usize) {
        let taken = match from.idle.borrow_mut().get_mut(from_member) {
            Some(list) => std::mem::take(list),
            None => return,
        };
        let mut idle = self.idle.borrow_mut();
        if let Some(list) = idle.get_mut(member) {
            list.extend(taken.into_iter().filter(|c| self.fits(member, &c.stream)));
            let excess = list.len().saturating_sub(self.max_idle_per_member);
            list.drain(..excess);
        }
    }

    /// Calls `f(member, idle connections)` for every member.
    pub fn for_each_idle(&self, mut f: impl FnMut(usize, usize)) {
        for (m, list) in self.idle.borrow().iter().enumerate() {
            f(m, list.len());
        }
    }

    /// Drops connections idle longer than their lifetime (called from the worker's tick), and,
    /// for a member with `max` that requests wait for, as many idle ones as wait (oldest
    /// first): their places go to the waiters, here or on another core.
    pub fn sweep(&self, now: Instant) {
        let mut idle = self.idle.borrow_mut();
        for (m, list) in idle.iter_mut().enumerate() {
            let n = list.len();
            let mut at = 0;
            list.retain(|c| {
                let from_newest = n - 1 - at;
                at += 1;
                now.saturating_duration_since(c.since) < self.lifetime(m, from_newest)
            });
            let waiting = self.gate(m).map_or(0, |g| g.shared().waiting() as usize);
            if waiting > 0 {
                list.drain(..waiting.min(list.len()));
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_smax_most_recent_get_the_idle_timeout_the_others_ttl() {
        let s = Duration::from_secs;
        let policy = |ttl, smax| MemberPolicy {
            ttl,
            smax,
            gate: None,
        };
        let pool = Pool::new(
            vec![
                policy(s(15), 0),
                policy(s(2), 0),
                policy(s(2), 3),
                policy(s(60), 0),
            ],
            256,
            s(15),
        );
        let cases = [
            // The defaults: every idle connection the idle timeout.
            (0, 0, s(15)),
            (0, 9, s(15)),
            // ttl 2 s, smax 0: all of them 2 s.
            (1, 0, s(2)),
            (1, 5, s(2)),
            // smax 3: the three most recent the idle timeout, older ones ttl.
            (2, 0, s(15)),
            (2, 2, s(15)),
            (2, 3, s(2)),
            // A ttl above the idle timeout never lengthens it.
            (3, 0, s(15)),
            // An unknown member: the idle timeout.
            (9, 0, s(15)),
        ];
        for (member, from_newest, want) in cases {
            assert_eq!(
                pool.lifetime(member, from_newest),
                want,
                "{member} {from_newest}"
            );
        }
        assert!(pool.gate(0).is_none());
    }
}
