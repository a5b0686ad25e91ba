//! The stream tasks of one HTTP/2 connection: a task serves a stream, then waits for the
//! connection's next one instead of ending, so a busy connection allocates no task (and its
//! few kilobytes of future state) per stream. A stream is handed to an idle task if there is
//! one, else a new task starts with it; the library's concurrent-stream limit bounds how many
//! there are. Idle tasks end when the connection has no stream for a tick, and when it ends.

use std::cell::{Cell, RefCell};
use std::future::poll_fn;
use std::rc::Rc;
use std::task::{Poll, Waker};

use super::{serve_stream, Accepted, ConnFacts};
use crate::worker::Core;

/// One task's mailbox.
#[derive(Debug, Default)]
struct Slot {
    next: RefCell<Option<Accepted>>,
    /// Set to end the task.
    end: Cell<bool>,
    waker: RefCell<Option<Waker>>,
}

impl Slot {
    fn wake(&self) {
        if let Some(w) = self.waker.borrow_mut().take() {
            w.wake();
        }
    }
}

/// What the tasks of a connection share.
#[derive(Debug, Default)]
struct Shared {
    /// Tasks waiting for a stream, most recently idle last.
    idle: RefCell<Vec<Rc<Slot>>>,
    /// The connection ended: a task that finishes its stream ends too.
    closed: Cell<bool>,
}

/// The connection's stream tasks.
#[derive(Debug)]
pub(super) struct StreamTasks {
    worker: Rc<Core>,
    conn: Rc<ConnFacts>,
    shared: Rc<Shared>,
}

impl StreamTasks {
    pub(super) fn new(worker: Rc<Core>, conn: Rc<ConnFacts>) -> StreamTasks {
        StreamTasks {
            worker,
            conn,
            shared: Rc::default(),
        }
    }

    /// Serves `stream` on an idle task, or on a new one.
    pub(super) fn serve(&self, stream: Accepted) {
        if let Some(slot) = self.shared.idle.borrow_mut().pop() {
            *slot.next.borrow_mut() = Some(stream);
            slot.wake();
            return;
        }
        let (worker, conn) = (self.worker.clone(), self.conn.clone());
        monoio::spawn(run(worker, conn, self.shared.clone(), stream));
    }

    /// Ends the idle tasks (busy ones end when they next become idle, if this is called
    /// again, or with the connection).
    pub(super) fn end_idle(&self) {
        for slot in self.shared.idle.borrow_mut().drain(..) {
            slot.end.set(true);
            slot.wake();
        }
    }
}

impl Drop for StreamTasks {
    fn drop(&mut self) {
        self.shared.closed.set(true);
        self.end_idle();
    }
}

/// A stream task: serves `first`, then each stream it is handed, until told to end.
async fn run(worker: Rc<Core>, conn: Rc<ConnFacts>, shared: Rc<Shared>, first: Accepted) {
    let slot = Rc::new(Slot::default());
    let mut next = Some(first);
    while let Some((request, respond)) = next.take() {
        serve_stream(&worker, &conn, request, respond).await;
        if shared.closed.get() {
            return;
        }
        shared.idle.borrow_mut().push(slot.clone());
        next = poll_fn(|cx| {
            if let Some(stream) = slot.next.borrow_mut().take() {
                return Poll::Ready(Some(stream));
            }
            if slot.end.get() {
                return Poll::Ready(None);
            }
            *slot.waker.borrow_mut() = Some(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}
