//! What links the control plane and the workers, and nothing else: the generation every
//! worker shares ([`SharedGen`], with the carry-over of member state across generations), the
//! control messages a worker applies between requests ([`Control`]), the stop signal, and what
//! a worker reports at start-up. Both sides import this module; neither imports the other.

mod generation;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender};

use crate::balancer::Status;

pub use generation::SharedGen;

/// What one worker reported at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    pub index: usize,
    /// The CPU it is pinned to, if pinning succeeded.
    pub cpu: Option<usize>,
    /// `"io_uring"` or `"epoll"`.
    pub driver: &'static str,
}

/// A worker's answer to a control message: its index, sent once the message is in force
/// there (every request that starts after it sees the change).
pub(crate) type Ack = Sender<usize>;

/// An operator's change to one member, as a worker applies it to its own balancer. The
/// flags are this core's only (`D`, `S`, `N`, `H`, `R`, `I`): the shared `E` and `C` are
/// written once, to the shared health, by the control plane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MemberEdit {
    pub(crate) balancer: usize,
    pub(crate) member: usize,
    pub(crate) set: Status,
    pub(crate) clear: Status,
    pub(crate) lbfactor: Option<u32>,
    pub(crate) lbset: Option<u32>,
    pub(crate) route: Option<String>,
    pub(crate) redirect: Option<String>,
}

/// Messages to the workers, applied between requests.
#[derive(Debug)]
pub(crate) enum Control {
    /// Switch to this generation (a reload, a member added or removed): new requests use it,
    /// requests in flight finish on theirs; pools, balancer scores and probes start afresh.
    Swap(Arc<SharedGen>, Ack),
    /// Operator changes applied in place: the worker keeps its generation's pools, balancer
    /// scores, probe counters and access log, applies `edits` to its balancers and takes the
    /// config of `shared` (same counters and health as the current one) for new requests.
    Edit(Arc<SharedGen>, Vec<MemberEdit>, Ack),
}

/// How the workers are told to stop, and how long they may finish open connections.
#[derive(Debug, Default)]
pub(crate) struct StopSignal {
    requested: AtomicBool,
    grace_ms: AtomicU64,
    /// The listening sockets went to a new process (binary upgrade): open connections are
    /// served until they close, not closed at their next idle point.
    handed_over: AtomicBool,
}

impl StopSignal {
    pub(crate) fn requested(&self) -> bool {
        self.requested.load(Ordering::Acquire)
    }

    pub(crate) fn grace(&self) -> Duration {
        Duration::from_millis(self.grace_ms.load(Ordering::Acquire))
    }

    pub(crate) fn handed_over(&self) -> bool {
        self.handed_over.load(Ordering::Acquire)
    }

    /// A stop after a binary upgrade (see [`StopSignal::handed_over`]).
    pub(crate) fn request_handover(&self, grace: Duration) {
        self.handed_over.store(true, Ordering::Release);
        self.request(grace);
    }

    pub(crate) fn request(&self, grace: Duration) {
        self.grace_ms
            .store(grace.as_millis() as u64, Ordering::Release);
        self.requested.store(true, Ordering::Release);
    }
}

/// What a worker needs from the server: the generation to start with, how to stop, and where
/// control messages arrive.
#[derive(Debug)]
pub(crate) struct WorkerLink {
    pub(crate) shared: Arc<SharedGen>,
    pub(crate) epoch: Instant,
    pub(crate) stop: Arc<StopSignal>,
    pub(crate) controls: Receiver<Control>,
    /// Open client connections per worker, for the metrics (slot `index` written by worker
    /// `index` only).
    pub(crate) connections: Arc<[AtomicU64]>,
}
