//! The HTTP/2 library's transport: an in-memory pair of byte queues ([`Wire`]) that the
//! library reads and writes through tokio's poll-based I/O traits ([`WireIo`]), and the pump
//! that moves them to and from the client's stream on monoio's owned-buffer I/O ([`pump`]).
//!
//! The library and the pump run in one task (joined), so the queues are a `RefCell` that is
//! never borrowed across an `.await`. The pump scans every byte the client sends with the
//! flood guard before the library sees it. Both queues are bounded: the pump stops reading
//! while the library has [`MAX_RX`] bytes unread, and the library's writes wait while
//! [`MAX_TX`] bytes are not yet on the socket (so a client that does not read holds back its
//! streams, not ringlb's memory).

use std::cell::RefCell;
use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::super::bufs::IO_BUF;
use super::super::forward::{self, Read};
use super::super::stream::ClientStream;
use crate::http::h2_guard::{Flood, FrameGuard};

/// Most received bytes waiting for the library.
const MAX_RX: usize = 64 * 1024;
/// Most bytes the library may have written that are not yet on the socket.
const MAX_TX: usize = 64 * 1024;

/// The queues between the library and the socket, and who waits on them.
#[derive(Debug, Default)]
pub(super) struct Wire {
    rx: Vec<u8>,
    /// Bytes of `rx` the library has read.
    rx_read: usize,
    /// The client ended its sending, or the socket failed: the library reads end of file.
    rx_closed: bool,
    tx: Vec<u8>,
    /// The socket failed: the library's writes fail.
    tx_failed: bool,
    /// The library is finished with the connection: the pump flushes and ends.
    done: bool,
    /// What the flood guard found, once it tripped.
    pub(super) flood: Option<Flood>,
    /// The connection has no stream: the pump lets go of its buffers while it waits.
    release: bool,
    /// The task waiting in the library (reads, writes, flushes); the pump's task is the same
    /// one, so one waker serves both.
    waker: Option<Waker>,
}

impl Wire {
    fn wake(&mut self) {
        if let Some(w) = self.waker.take() {
            w.wake();
        }
    }

    fn park(&mut self, cx: &Context<'_>) {
        self.waker = Some(cx.waker().clone());
    }

    fn rx_unread(&self) -> usize {
        self.rx.len() - self.rx_read
    }
}

pub(super) type SharedWire = Rc<RefCell<Wire>>;

/// Marks the library finished with the connection: the pump writes what is queued and ends.
pub(super) fn finish(wire: &SharedWire) {
    let mut w = wire.borrow_mut();
    w.done = true;
    w.wake();
}

/// Queues bytes read from the connection before it was known to be HTTP/2, through the
/// flood guard like every other byte.
pub(super) fn receive_early(wire: &SharedWire, guard: &mut FrameGuard, early: Vec<u8>) {
    let mut w = wire.borrow_mut();
    if let Err(flood) = guard.feed(&early) {
        w.flood = Some(flood);
        return;
    }
    w.rx = early;
}

/// The connection has no stream: asks the pump to release the buffers it holds while it
/// waits for the client (the queues' capacity and the TLS stream's record buffers), so an
/// idle HTTP/2 connection holds no large buffer.
pub(super) fn release_buffers(wire: &SharedWire) {
    let mut w = wire.borrow_mut();
    w.release = true;
    w.wake();
}

/// Ready once the flood guard tripped.
pub(super) fn poll_flood(wire: &SharedWire, cx: &Context<'_>) -> Poll<Flood> {
    let mut w = wire.borrow_mut();
    match w.flood {
        Some(flood) => Poll::Ready(flood),
        None => {
            w.park(cx);
            Poll::Pending
        }
    }
}

/// The library's side of the wire.
#[derive(Debug)]
pub(super) struct WireIo(pub(super) SharedWire);

impl AsyncRead for WireIo {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        out: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let mut w = self.0.borrow_mut();
        if w.rx_unread() > 0 {
            let n = w.rx_unread().min(out.remaining());
            let from = w.rx_read;
            out.put_slice(&w.rx[from..from + n]);
            w.rx_read += n;
            if w.rx_read == w.rx.len() {
                w.rx.clear();
                w.rx_read = 0;
            }
            w.wake(); // the pump may wait for room
            return Poll::Ready(Ok(()));
        }
        if w.rx_closed {
            return Poll::Ready(Ok(())); // end of file
        }
        // After a flood nothing more is read: the connection answers it with `GOAWAY`.
        w.park(cx);
        Poll::Pending
    }
}

impl AsyncWrite for WireIo {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        let mut w = self.0.borrow_mut();
        if w.tx_failed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        let room = MAX_TX.saturating_sub(w.tx.len());
        if room == 0 {
            w.park(cx);
            return Poll::Pending;
        }
        let n = room.min(data.len());
        w.tx.extend_from_slice(&data[..n]);
        w.wake();
        Poll::Ready(Ok(n))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let mut w = self.0.borrow_mut();
        if w.tx_failed {
            return Poll::Ready(Err(io::ErrorKind::BrokenPipe.into()));
        }
        if w.tx.is_empty() {
            return Poll::Ready(Ok(()));
        }
        w.park(cx);
        Poll::Pending
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.poll_flush(cx)
    }
}

/// What the pump waits for next.
enum Wait {
    /// Bytes to write.
    Write(Vec<u8>),
    /// Room to read into.
    Read,
    /// The library is done and everything is written.
    Done,
}

/// Moves bytes between `stream` and `wire` until the library is done and its last bytes are
/// written, or the socket ends or fails (then the library reads end of file and its writes
/// fail). Every received byte goes through `guard` first; a tripped guard stops the reading
/// (the library then sees end of file after what was already queued) and is recorded in
/// `wire.flood` for the connection to answer.
pub(super) async fn pump(
    stream: &mut ClientStream,
    wire: &SharedWire,
    guard: &mut FrameGuard,
    write_timeout: Duration,
) {
    let mut spare = Vec::new();
    loop {
        match poll_fn(|cx| next_wait(wire, &mut spare, cx)).await {
            Wait::Done => return,
            Wait::Write(out) => match forward::write_from(stream, out, 0, write_timeout).await {
                Ok(mut out) => {
                    out.clear();
                    spare = out;
                    wire.borrow_mut().wake();
                }
                Err(()) => return fail(wire),
            },
            Wait::Read => {
                // Readable first (or bytes to write, which come first), so that the read
                // below completes at once; a TLS stream with buffered bytes needs no wait.
                let readable = monoio::select! {
                    r = stream.readable() => Some(r),
                    () = poll_fn(|cx| output_waits(wire, cx)) => None,
                };
                if take_release(wire) {
                    spare = Vec::new();
                    stream.release_buffers();
                }
                match readable {
                    None => continue,
                    Some(Err(_)) => return fail(wire),
                    Some(Ok(())) => {}
                }
                let buf = std::mem::take(&mut wire.borrow_mut().rx);
                let before = buf.len();
                let (read, buf) = forward::read_into(stream, buf, IO_BUF, write_timeout).await;
                let mut w = wire.borrow_mut();
                w.rx = buf;
                match read {
                    Read::Data => {
                        if let Err(flood) = guard.feed(&w.rx[before..]) {
                            w.flood = Some(flood);
                            w.rx.truncate(before);
                        }
                    }
                    Read::TimedOut => {}
                    Read::Eof | Read::Failed => w.rx_closed = true,
                }
                w.wake();
            }
        }
    }
}

/// The socket failed: the library's reads end and its writes fail.
fn fail(wire: &SharedWire) {
    let mut w = wire.borrow_mut();
    w.rx_closed = true;
    w.tx_failed = true;
    w.wake();
}

/// Whether a release was asked for; if so, the queues' capacity is let go of (when empty).
fn take_release(wire: &SharedWire) -> bool {
    let mut w = wire.borrow_mut();
    if !std::mem::take(&mut w.release) {
        return false;
    }
    if w.rx_unread() == 0 {
        w.rx = Vec::new();
        w.rx_read = 0;
    }
    if w.tx.is_empty() {
        w.tx = Vec::new();
    }
    true
}

/// Ready when the library wrote bytes or is done, or a buffer release was asked for.
fn output_waits(wire: &SharedWire, cx: &Context<'_>) -> Poll<()> {
    let mut w = wire.borrow_mut();
    if !w.tx.is_empty() || w.done || w.release {
        return Poll::Ready(());
    }
    w.park(cx);
    Poll::Pending
}

fn next_wait(wire: &SharedWire, spare: &mut Vec<u8>, cx: &Context<'_>) -> Poll<Wait> {
    let mut w = wire.borrow_mut();
    if !w.tx.is_empty() {
        let out = std::mem::replace(&mut w.tx, std::mem::take(spare));
        return Poll::Ready(Wait::Write(out));
    }
    if w.done {
        return Poll::Ready(Wait::Done);
    }
    if !w.rx_closed && w.flood.is_none() && w.rx_unread() < MAX_RX {
        return Poll::Ready(Wait::Read);
    }
    w.park(cx);
    Poll::Pending
}
