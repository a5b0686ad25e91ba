//! Deadlines for idle client connections without a timer per connection: a monoio timer
//! future is about 700 bytes (cache-padded entries), more than the rest of an idle
//! connection's state. Each worker keeps one FIFO of (deadline, ticket) instead and, from its
//! periodic tick, shuts down the sockets whose deadline passed; the connection's pending
//! readiness wait then completes and the connection closes.
//!
//! # Concurrency
//! Owned by one worker; `Rc`/`Cell`/`RefCell`, never borrowed across an `.await`.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::os::fd::RawFd;
use std::rc::{Rc, Weak};
use std::time::Instant;

/// One connection's idle registration. `epoch` counts arms, so an entry left in the queue
/// from an earlier idle period cannot end a later one.
#[derive(Debug)]
pub(crate) struct Ticket {
    fd: RawFd,
    epoch: Cell<u32>,
    armed: Cell<bool>,
}

impl Ticket {
    pub(crate) fn new(fd: RawFd) -> Ticket {
        Ticket {
            fd,
            epoch: Cell::new(0),
            armed: Cell::new(false),
        }
    }
}

#[derive(Debug)]
struct Entry {
    deadline: Instant,
    ticket: Weak<Ticket>,
    epoch: u32,
}

/// The worker's idle deadlines, in arming order: one queue per kind of wait, so that every
/// queue holds deadlines of one duration and stays sorted (a first-request deadline, longer,
/// never holds up the keep-alive ones behind it).
#[derive(Debug, Default)]
pub(crate) struct Reaper {
    queues: [RefCell<VecDeque<Entry>>; 2],
}

/// Which idle wait a deadline belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wait {
    /// A new connection waiting for its first request (`client_header`).
    FirstRequest = 0,
    /// A keep-alive connection between requests (`keepalive_idle`).
    KeepAlive = 1,
}

impl Reaper {
    /// The connection of `ticket` is idle until `deadline`.
    pub(crate) fn arm(&self, ticket: &Rc<Ticket>, wait: Wait, deadline: Instant) {
        let epoch = ticket.epoch.get().wrapping_add(1);
        ticket.epoch.set(epoch);
        ticket.armed.set(true);
        let entry = Entry {
            deadline,
            ticket: Rc::downgrade(ticket),
            epoch,
        };
        self.queues[wait as usize].borrow_mut().push_back(entry);
    }

    /// The connection woke up before its deadline.
    pub(crate) fn disarm(&self, ticket: &Ticket) {
        ticket.armed.set(false);
    }

    /// Shuts down the idle connections whose deadline is at or before `now`. After a reload
    /// changed a timeout, an entry may wait for the one in front of it (a late close, never an
    /// early one).
    pub(crate) fn reap(&self, now: Instant) {
        for queue in &self.queues {
            let mut queue = queue.borrow_mut();
            while queue.front().is_some_and(|e| e.deadline <= now) {
                if let Some(entry) = queue.pop_front() {
                    shut_if_still_idle(&entry);
                }
            }
        }
    }

    /// Gives back queue space a burst of connections left behind: a queue using less than a
    /// quarter of its capacity shrinks to twice its length (called from the worker's trim).
    pub(crate) fn shrink(&self) {
        for queue in &self.queues {
            let mut queue = queue.borrow_mut();
            if queue.capacity() > 64 && queue.len() < queue.capacity() / 4 {
                let keep = queue.len() * 2;
                queue.shrink_to(keep);
            }
        }
    }

    /// Shuts down every idle connection now (graceful stop).
    pub(crate) fn reap_all(&self) {
        for queue in &self.queues {
            for entry in queue.borrow_mut().drain(..) {
                shut_if_still_idle(&entry);
            }
        }
    }
}

fn shut_if_still_idle(entry: &Entry) {
    if let Some(ticket) = entry.ticket.upgrade() {
        if ticket.armed.get() && ticket.epoch.get() == entry.epoch {
            ticket.armed.set(false);
            shutdown(ticket.fd);
        }
    }
}

/// Shuts the socket down both ways; the descriptor stays open until its owner drops it.
#[allow(unsafe_code)]
fn shutdown(fd: RawFd) {
    // SAFETY: `fd` is the open socket of a live connection (its ticket is still referenced by
    // the connection, which owns the socket); shutdown() does not close or invalidate it.
    unsafe {
        libc::shutdown(fd, libc::SHUT_RDWR);
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;
    use std::time::Duration;

    use super::{Reaper, Ticket, Wait};

    #[test]
    fn queues_give_back_the_space_of_a_burst_once_it_is_reaped() {
        let reaper = Reaper::default();
        let start = crate::clock::now();
        // A burst of 1000 connections that each woke before their deadline (disarmed), so
        // reaping them shuts nothing down.
        let tickets: Vec<_> = (0..1000).map(|_| Rc::new(Ticket::new(-1))).collect();
        for t in &tickets {
            reaper.arm(t, Wait::KeepAlive, start);
            reaper.disarm(t);
        }
        let queue = || reaper.queues[Wait::KeepAlive as usize].borrow().capacity();
        assert!(queue() >= 1000);
        // Still queued: nothing to give back yet.
        reaper.shrink();
        assert!(queue() >= 1000);
        // Three left waiting, the burst reaped: the queue shrinks to a few entries.
        for t in &tickets[..3] {
            reaper.arm(t, Wait::KeepAlive, start + Duration::from_secs(60));
        }
        reaper.reap(start);
        reaper.shrink();
        assert_eq!(reaper.queues[Wait::KeepAlive as usize].borrow().len(), 3);
        assert!(queue() < 64, "capacity {}", queue());
    }
}
