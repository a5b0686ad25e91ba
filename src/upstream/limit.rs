//! Connection limits to members (`max`, `acquire`, `maxqueue`): one count of open connections
//! per member shared by every worker, a [`Slot`] per connection that gives its place back when
//! the connection is dropped, and per-worker FIFO queues of requests waiting for a place
//! (docs/semantics.md §12).
//!
//! # Accounting
//! A [`SharedLimit`] exists only for a member with `max`; a member without one touches
//! nothing here. `open` counts a connection from the moment its slot is taken (before the
//! connect, so connections being opened count) until the [`MemberStream`] holding the slot is
//! dropped, wherever that happens. Taking is a compare-and-swap that never goes above `max`;
//! giving back a decrement. Health checks take no slot.
//!
//! # Waiting
//! A request that finds `max` open (or anyone waiting: newcomers queue behind them) joins its
//! worker's FIFO in a [`Gate`], stamped with the time it joined (microseconds on a clock all
//! workers share), and the stamp of each worker's oldest waiter is published in that worker's
//! `front` word. A place given back on a worker goes to that worker's oldest waiter when it is
//! the oldest anywhere, give or take [`SLACK`] (the connection itself when it is reusable, so
//! it is neither closed nor reopened: [`Gate::offer`]; else the slot: [`Slot`]'s `Drop`); the
//! slack keeps connections where they are while every worker's oldest waiter waited about as
//! long. Otherwise the place is freed: a reusable connection
//! checked in while anyone waits is closed instead of pooled, and the pools' sweep closes idle
//! connections of a member that requests wait for, so idle connections on one worker never
//! starve another. A waiter on another worker cannot be woken cheaply: the oldest waiter of
//! each worker looks at the count every [`POLL`] and takes a free place when it is the oldest
//! of all the fronts (give or take [`SLACK`]); the others sleep until they are at their
//! worker's front. So the queue is first come, first served on each worker, and across
//! workers give or take [`SLACK`] and a [`POLL`].
//!
//! # Concurrency
//! Shared, per limited member: `open`, `waiting` and one `front` word per worker
//! (cache-padded). Beyond the compare-and-swap on connect and the decrement on close
//! they are touched only while requests wait. Every count is one atomic whose modification
//! order is total, so `Relaxed` suffices for the counts themselves; giving a place back is
//! `Release` and taking one `Acquire`, so that a connection's shutdown happens before the
//! connect of whoever takes its place. The
//! queues are per worker (`Rc`, `RefCell`, never borrowed across an `.await`, and no stream
//! is dropped while one is borrowed).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::fmt;
use std::os::fd::RawFd;
use std::rc::Rc;
use std::sync::atomic::AtomicU32;
use std::sync::atomic::AtomicU64;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_utils::CachePadded;

use super::MemberStream;
use crate::clock;

/// How often the oldest waiter of a worker looks for a place freed on another worker.
pub const POLL: Duration = Duration::from_millis(1);

/// A `front` word with no waiter behind it.
const NO_WAITER: u64 = u64::MAX;

/// How much longer a waiter on another worker may have waited than this worker's oldest
/// before a place given back here is freed for it rather than handed over here. Every place
/// freed across workers costs a connection closed and another opened; with a slack of a few
/// polls, a steady overload on every worker keeps its connections (measured: about half the
/// reconnects of a 1 ms slack), and no waiter is passed over by more than this.
pub const SLACK: Duration = Duration::from_millis(10);
const SLACK_US: u64 = SLACK.as_micros() as u64;

/// `value + 1` when that is at most `bound`. Pure: the rule of every bounded count here.
pub(crate) fn bounded_increment(value: u32, bound: u32) -> Option<u32> {
    (value < bound).then(|| value + 1)
}

/// What becomes of a place given back.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// To this worker's oldest waiter (the connection itself when reusable, else the slot).
    Hand,
    /// A reusable connection goes to the pool: nobody waits.
    Pool,
    /// The connection is closed and its place freed for a waiter elsewhere (or for anyone).
    Free,
}

/// Decides what becomes of a place given back on a worker whose oldest waiter joined at
/// `local_front` (microseconds), while the oldest waiter of the other workers joined at
/// `elsewhere` (`u64::MAX`: none) and `waiting` requests wait on all workers. `reusable`: the
/// place comes with a connection that could be pooled. Pure, so the rule is table-tested.
pub(crate) fn fate(local_front: Option<u64>, elsewhere: u64, waiting: u32, reusable: bool) -> Fate {
    match local_front {
        Some(joined) if joined <= elsewhere.saturating_add(SLACK_US) => Fate::Hand,
        _ if reusable && waiting == 0 => Fate::Pool,
        _ => Fate::Free,
    }
}

/// What every worker shares for one member with `max`. Carried to the next generation when
/// the member stays (same balancer name and URL) and keeps a limit, so connections opened
/// before a reload keep counting.
pub struct SharedLimit {
    /// Connections open or being opened.
    open: AtomicU32,
    /// Requests waiting, every worker together.
    waiting: AtomicU32,
    /// The origin of the waiters' stamps.
    epoch: Instant,
    /// Per worker: when its oldest waiter joined (µs since `epoch`), or [`NO_WAITER`].
    fronts: Box<[CachePadded<AtomicU64>]>,
}

impl fmt::Debug for SharedLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SharedLimit")
            .field("open", &self.open())
            .field("waiting", &self.waiting())
            .finish_non_exhaustive()
    }
}

impl SharedLimit {
    /// No connection open, nobody waiting, for `workers` workers.
    pub fn new(workers: usize) -> SharedLimit {
        SharedLimit {
            open: AtomicU32::new(0),
            waiting: AtomicU32::new(0),
            epoch: clock::now(),
            fronts: (0..workers.max(1))
                .map(|_| CachePadded::new(AtomicU64::new(NO_WAITER)))
                .collect(),
        }
    }

    /// Connections open (or being opened) to the member now.
    pub fn open(&self) -> u32 {
        self.open.load(Relaxed)
    }

    /// Requests waiting for a connection now, every worker together.
    pub fn waiting(&self) -> u32 {
        self.waiting.load(Relaxed)
    }

    /// Takes a place if fewer than `max` are open.
    fn try_take(&self, max: u32) -> bool {
        let mut now = self.open.load(Relaxed);
        loop {
            let Some(next) = bounded_increment(now, max) else {
                return false;
            };
            match (self.open).compare_exchange_weak(now, next, Acquire, Relaxed) {
                Ok(_) => return true,
                Err(seen) => now = seen,
            }
        }
    }

    /// Gives a place back (never below zero). `Release`, paired with the `Acquire` of
    /// [`SharedLimit::try_take`]: the socket's shutdown comes before another worker's connect.
    fn give_back(&self) {
        let _ = (self.open).fetch_update(Release, Relaxed, |n| n.checked_sub(1));
    }

    /// Counts one more waiter if fewer than `maxqueue` wait (`None`: no bound).
    fn try_join(&self, maxqueue: Option<u32>) -> bool {
        let bound = maxqueue.unwrap_or(u32::MAX);
        (self.waiting)
            .fetch_update(Relaxed, Relaxed, |n| bounded_increment(n, bound))
            .is_ok()
    }

    /// Counts one waiter fewer.
    fn left(&self) {
        let _ = (self.waiting).fetch_update(Relaxed, Relaxed, |n| n.checked_sub(1));
    }

    fn set_front(&self, worker: usize, joined: u64) {
        if let Some(word) = self.fronts.get(worker) {
            word.store(joined, Relaxed);
        }
    }

    /// `now` as a waiter's stamp (µs since `epoch`; never [`NO_WAITER`]).
    fn stamp(&self, now: Instant) -> u64 {
        let us = now.saturating_duration_since(self.epoch).as_micros();
        u64::try_from(us)
            .unwrap_or(NO_WAITER - 1)
            .min(NO_WAITER - 1)
    }

    /// When the oldest waiter at the front of another worker's queue joined (`u64::MAX`:
    /// none).
    fn oldest_elsewhere(&self, worker: usize) -> u64 {
        (self.fronts.iter().enumerate())
            .filter(|&(i, _)| i != worker)
            .map(|(_, word)| word.load(Relaxed))
            .min()
            .unwrap_or(NO_WAITER)
    }
}

/// What a waiting request is handed: a place to open a connection with, or a connection.
#[derive(Debug)]
pub enum Grant {
    Slot(Slot),
    Conn(MemberStream),
}

/// Why a request got no connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `maxqueue` requests were waiting already.
    QueueFull,
    /// No place came free within `acquire`.
    TimedOut,
}

/// The outcome of [`Gate::acquire`].
#[derive(Debug)]
pub struct Admission {
    pub result: Result<Grant, Refusal>,
    /// Whether the request joined the queue (it waited, however briefly).
    pub queued: bool,
    /// How long it waited.
    pub waited: Duration,
}

/// One waiting request.
#[derive(Default)]
struct Waiter {
    /// When it joined (µs since the limit's epoch).
    joined: u64,
    /// What a releaser handed over.
    grant: RefCell<Option<Grant>>,
    woken: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Waiter {
    fn give(&self, grant: Grant) {
        *self.grant.borrow_mut() = Some(grant);
        self.wake();
    }

    fn take(&self) -> Option<Grant> {
        self.grant.borrow_mut().take()
    }

    fn wake(&self) {
        self.woken.set(true);
        let waker = self.waker.borrow_mut().take();
        if let Some(waker) = waker {
            waker.wake();
        }
    }

    /// Resolves once [`Waiter::wake`] was called (since the last time it resolved).
    async fn woken(&self) {
        std::future::poll_fn(|cx| {
            if self.woken.replace(false) {
                return Poll::Ready(());
            }
            *self.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

/// One worker's side of a member's limit: the shared counts and this worker's queue. One per
/// worker per [`SharedLimit`] (carried with it from generation to generation), so that the
/// worker's `front` word has one writer.
pub struct Gate {
    shared: Arc<SharedLimit>,
    worker: usize,
    queue: RefCell<VecDeque<Rc<Waiter>>>,
}

impl fmt::Debug for Gate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Gate")
            .field("shared", &self.shared)
            .field("worker", &self.worker)
            .field("queued_here", &self.queue.borrow().len())
            .finish()
    }
}

impl Gate {
    pub fn new(shared: Arc<SharedLimit>, worker: usize) -> Rc<Gate> {
        Rc::new(Gate {
            shared,
            worker,
            queue: RefCell::new(VecDeque::new()),
        })
    }

    pub fn shared(&self) -> &Arc<SharedLimit> {
        &self.shared
    }

    /// Waits (at most `wait`) for a place among `max` connections; at most `maxqueue` requests
    /// wait at once. A request takes a free place at once only when nobody waits anywhere.
    pub async fn acquire(
        self: &Rc<Self>,
        max: u32,
        maxqueue: Option<u32>,
        wait: Duration,
    ) -> Admission {
        if let Some(slot) = self.try_slot(max) {
            return Admission {
                result: Ok(Grant::Slot(slot)),
                queued: false,
                waited: Duration::ZERO,
            };
        }
        let start = clock::now();
        let Some(me) = self.join(maxqueue, start) else {
            return Admission {
                result: Err(Refusal::QueueFull),
                queued: false,
                waited: Duration::ZERO,
            };
        };
        let deadline = start + wait;
        let _leave = Leave {
            gate: self,
            me: &me,
        };
        let result = loop {
            if let Some(grant) = me.take() {
                break Ok(grant);
            }
            if let Some(slot) = self.try_admit(&me, max) {
                break Ok(Grant::Slot(slot));
            }
            let now = clock::now();
            if now >= deadline {
                break Err(Refusal::TimedOut);
            }
            let left = deadline - now;
            // The front polls for places freed elsewhere; the others wait to be woken.
            let nap = if self.is_front(&me) {
                POLL.min(left)
            } else {
                left
            };
            monoio::select! {
                _ = me.woken() => {}
                _ = monoio::time::sleep(nap) => {}
            }
        };
        Admission {
            result,
            queued: true,
            waited: clock::elapsed(start),
        }
    }

    /// A reusable connection checked in: handed to this worker's oldest waiter, or returned
    /// for the pool (`Some`), or closed (its place freed for a waiter elsewhere).
    pub fn offer(self: &Rc<Self>, stream: MemberStream) -> Option<MemberStream> {
        match self.decide(true) {
            Fate::Pool => Some(stream),
            Fate::Hand => match self.pop_front() {
                Some(waiter) => {
                    waiter.give(Grant::Conn(stream));
                    None
                }
                None => Some(stream),
            },
            Fate::Free => {
                drop(stream);
                None
            }
        }
    }

    /// A place given back by a dropped slot: to this worker's oldest waiter when it is the
    /// oldest anywhere, else freed.
    fn release(self: &Rc<Self>) {
        if self.decide(false) == Fate::Hand {
            if let Some(waiter) = self.pop_front() {
                waiter.give(Grant::Slot(Slot::new(self)));
                return;
            }
        }
        self.shared.give_back();
    }

    fn decide(&self, reusable: bool) -> Fate {
        let local = self.queue.borrow().front().map(|w| w.joined);
        let elsewhere = self.shared.oldest_elsewhere(self.worker);
        fate(local, elsewhere, self.shared.waiting(), reusable)
    }

    /// A place now, when nobody waits anywhere and fewer than `max` are open.
    fn try_slot(self: &Rc<Self>, max: u32) -> Option<Slot> {
        let free = self.shared.waiting() == 0 && self.shared.try_take(max);
        free.then(|| Slot::new(self))
    }

    /// Joins this worker's queue at `now`, unless `maxqueue` requests wait already.
    fn join(&self, maxqueue: Option<u32>, now: Instant) -> Option<Rc<Waiter>> {
        if !self.shared.try_join(maxqueue) {
            return None;
        }
        let me = Rc::new(Waiter {
            joined: self.shared.stamp(now),
            ..Waiter::default()
        });
        self.queue.borrow_mut().push_back(me.clone());
        self.publish_front();
        Some(me)
    }

    fn is_front(&self, me: &Rc<Waiter>) -> bool {
        (self.queue.borrow().front()).is_some_and(|f| Rc::ptr_eq(f, me))
    }

    /// `me`, at the front here and the oldest of all fronts (give or take [`SLACK`]), takes a
    /// free place.
    fn try_admit(self: &Rc<Self>, me: &Rc<Waiter>, max: u32) -> Option<Slot> {
        let elsewhere = self.shared.oldest_elsewhere(self.worker);
        let oldest = me.joined <= elsewhere.saturating_add(SLACK_US);
        if !(self.is_front(me) && oldest && self.shared.try_take(max)) {
            return None;
        }
        self.leave(me);
        Some(Slot::new(self))
    }

    /// Takes `me` out of the queue if it is still there; the next waiter is woken when `me`
    /// was at the front.
    fn leave(&self, me: &Rc<Waiter>) {
        let at = self.queue.borrow().iter().position(|w| Rc::ptr_eq(w, me));
        let Some(at) = at else { return };
        let _ = self.queue.borrow_mut().remove(at);
        self.shared.left();
        if at == 0 {
            self.front_changed();
        }
    }

    /// Takes the oldest waiter out of the queue, for a hand-over.
    fn pop_front(&self) -> Option<Rc<Waiter>> {
        let waiter = self.queue.borrow_mut().pop_front()?;
        self.shared.left();
        self.front_changed();
        Some(waiter)
    }

    /// Publishes the new front's stamp and wakes it: it polls from now on.
    fn front_changed(&self) {
        self.publish_front();
        let front = self.queue.borrow().front().cloned();
        if let Some(front) = front {
            front.wake();
        }
    }

    fn publish_front(&self) {
        let joined = self.queue.borrow().front().map_or(NO_WAITER, |w| w.joined);
        self.shared.set_front(self.worker, joined);
    }
}

/// Takes a waiter out of the queue however its wait ends (a timeout, or its request dropped).
struct Leave<'a> {
    gate: &'a Gate,
    me: &'a Rc<Waiter>,
}

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.gate.leave(self.me);
    }
}

/// One place among a member's `max` connections, held by the connection's stream (see
/// [`MemberStream`]); dropping it gives the place back ([`Gate::release`]), after shutting
/// the connection's socket down when it counts one.
pub struct Slot {
    gate: Rc<Gate>,
    /// The socket this slot counts, shut down (FIN sent at once) before the place is given
    /// back. Set only by the stream that owns the socket, which drops the slot first.
    socket: Option<RawFd>,
}

impl Slot {
    fn new(gate: &Rc<Gate>) -> Slot {
        Slot {
            gate: gate.clone(),
            socket: None,
        }
    }

    pub fn gate(&self) -> &Rc<Gate> {
        &self.gate
    }

    /// This slot counting the socket `fd`, which stays open until the slot is dropped.
    pub(super) fn counting(mut self, fd: RawFd) -> Slot {
        self.socket = Some(fd);
        self
    }

    /// This slot without a socket to shut down (its socket moves on without it).
    pub(super) fn detached(mut self) -> Slot {
        self.socket = None;
        self
    }
}

impl fmt::Debug for Slot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Slot")
    }
}

impl Drop for Slot {
    #[allow(unsafe_code)]
    fn drop(&mut self) {
        if let Some(fd) = self.socket {
            // SAFETY: `fd` is the socket of the stream that holds this slot; the stream drops
            // its slot before its socket ([`MemberStream`]), so the descriptor is open and
            // still that socket. shutdown() neither closes nor frees it.
            unsafe {
                libc::shutdown(fd, libc::SHUT_RDWR);
            }
        }
        self.gate.release();
    }
}

#[cfg(test)]
mod tests;
