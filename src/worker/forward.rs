//! Moving bytes: reads and writes with deadlines on owned buffers, request and response body
//! forwarding (length, chunked, close-delimited), and the tunnel after `101`.
//!
//! Bodies are streamed through one pooled buffer at a time; nothing is buffered whole, so the
//! memory of a connection is bounded whatever the body size.

use std::cell::Cell;
use std::pin::pin;
use std::time::{Duration, Instant};

use monoio::buf::{IoBuf, IoBufMut};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent, Canceller, Splitable,
};
use monoio::net::TcpStream;

use super::bufs::IO_BUF;
use super::deadline::BodyTimeout;
use crate::clock;
use crate::http::chunked::{ChunkedDecoder, ChunkedError};
use crate::http::framing::Framing;

/// The read size a large body grows to: the largest buffer the per-core pool keeps.
const BIG_READ: usize = 4 * IO_BUF;

/// The result of a read with a deadline.
#[derive(Debug)]
pub(super) enum Read {
    /// Bytes were appended to the buffer.
    Data,
    Eof,
    TimedOut,
    Failed,
}

/// Makes room for a read into `buf`: at least a little spare capacity, growing in steps of at
/// most [`IO_BUF`] (a head buffer grows only as far as the head needs).
fn make_room(buf: &mut Vec<u8>, limit: usize) -> usize {
    let len = buf.len();
    if buf.capacity() - len < 512.min(limit.max(1)) {
        buf.reserve(buf.capacity().clamp(512, IO_BUF).min(limit.max(1)));
    }
    buf.capacity().min(len.saturating_add(limit.max(1)))
}

/// Appends at most `limit` bytes read from `stream` to `buf`. On timeout the read is dropped
/// (cancelled) with the buffer: the caller gets an empty vector back and must give up on the
/// connection, which every caller does. See [`read_into_keep`] for the one case that goes on.
pub(super) async fn read_into<S: AsyncReadRent>(
    stream: &mut S,
    mut buf: Vec<u8>,
    limit: usize,
    timeout: Duration,
) -> (Read, Vec<u8>) {
    let len = buf.len();
    let end = make_room(&mut buf, limit);
    match monoio::time::timeout(timeout, stream.read(buf.slice_mut(len..end))).await {
        Ok((res, slice)) => {
            let outcome = match res {
                Ok(0) => Read::Eof,
                Ok(_) => Read::Data,
                Err(_) => Read::Failed,
            };
            (outcome, slice.into_inner())
        }
        Err(_) => (Read::TimedOut, Vec::new()),
    }
}

/// Like [`read_into`], but on timeout the read is cancelled and the buffer comes back intact,
/// with any bytes that arrived meanwhile: nothing is lost (for waiting on `100 Continue`,
/// where the exchange goes on after the timeout). Costs a canceller allocation per call.
pub(super) async fn read_into_keep<S: CancelableAsyncReadRent>(
    stream: &mut S,
    mut buf: Vec<u8>,
    limit: usize,
    timeout: Duration,
) -> (Read, Vec<u8>) {
    let len = buf.len();
    let end = make_room(&mut buf, limit);
    let canceller = Canceller::new();
    let mut read = pin!(stream.cancelable_read(buf.slice_mut(len..end), canceller.handle()));
    let (res, slice) = monoio::select! {
        done = &mut read => done,
        _ = monoio::time::sleep(timeout) => {
            canceller.cancel();
            let (res, slice) = read.as_mut().await;
            match res {
                Ok(n) if n > 0 => (Ok(n), slice),
                _ => return (Read::TimedOut, slice.into_inner()),
            }
        }
    };
    let outcome = match res {
        Ok(0) => Read::Eof,
        Ok(_) => Read::Data,
        Err(_) => Read::Failed,
    };
    (outcome, slice.into_inner())
}

/// Writes all of `buf[from..]` within `timeout`. The buffer is returned for reuse on success; on
/// failure the connection must be abandoned.
pub(super) async fn write_from<S: AsyncWriteRent>(
    stream: &mut S,
    buf: Vec<u8>,
    from: usize,
    timeout: Duration,
) -> Result<Vec<u8>, ()> {
    if from >= buf.len() {
        return Ok(buf);
    }
    let end = buf.len();
    match monoio::time::timeout(timeout, stream.write_all(buf.slice(from..end))).await {
        Ok((Ok(_), slice)) => Ok(slice.into_inner()),
        _ => Err(()),
    }
}

/// Why a body could not be forwarded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum BodyError {
    /// The sending side closed, failed or stalled before the body ended.
    SourceGone,
    /// The receiving side could not be written.
    SinkGone,
    /// The chunked framing was invalid.
    BadChunk(&'static str),
    /// The request body exceeded the configured limit.
    TooLarge,
    /// The sending side was silent past the read timeout, or the body deadline passed.
    TimedOut,
}

/// A body transfer that stopped before the body ended: why, and whether any byte had been
/// written to the receiving side. When none had, the caller may still answer in place of the
/// whole message (a 502 instead of a response whose body framing is broken).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Stopped {
    pub(super) error: BodyError,
    pub(super) wrote: bool,
}

impl From<ChunkedError> for BodyError {
    fn from(e: ChunkedError) -> BodyError {
        BodyError::BadChunk(e.0)
    }
}

/// Deadlines, limits and the start of the body for one body transfer.
#[derive(Clone, Copy, Debug)]
pub(super) struct Transfer {
    /// Where the body starts in `carry` (see [`forward_body`]): the bytes before it (the
    /// request head, kept for the access log) are left where they are.
    pub(super) carry_from: usize,
    pub(super) read_timeout: Duration,
    pub(super) write_timeout: Duration,
    /// Most body bytes accepted (chunked framing included for chunked); 0 = unlimited.
    pub(super) max_bytes: u64,
    /// The whole body's deadline, started when the transfer starts (request bodies).
    pub(super) body_timeout: Option<BodyTimeout>,
}

/// Forwards one body from `src` to `dst`.
///
/// `pending` holds bytes already destined for `dst` (e.g. a rewritten head); `carry` holds
/// bytes already read from `src`, the body starting at `io.carry_from` (earlier bytes are not
/// touched). Both are written before reading more, in one write; framing errors in `carry` are
/// found before that write, so nothing of `pending` goes out ahead of them. On success returns
/// the body bytes forwarded, and `carry[io.carry_from..]` holds exactly the bytes that followed
/// the body (a pipelined request, or stray bytes from a member).
pub(super) async fn forward_body<S: AsyncReadRent, D: AsyncWriteRent>(
    src: &mut S,
    dst: &mut D,
    mut pending: Vec<u8>,
    carry: &mut Vec<u8>,
    framing: Framing,
    io: Transfer,
    scratch: Vec<u8>,
) -> (Result<u64, Stopped>, Vec<u8>, Vec<u8>) {
    let stop = |error, wrote| Err(Stopped { error, wrote });
    let mut decoder = ChunkedDecoder::new();
    let mut deadline = io.body_timeout.map(|t| t.start(clock::now()));
    let mut total: u64 = 0;
    let mut remaining = match framing {
        Framing::Length(n) => n,
        _ => u64::MAX,
    };
    // First the bytes already in `carry`.
    let from = io.carry_from.min(carry.len());
    let mut done = match take_body(
        &mut decoder,
        framing,
        &carry[from..],
        &mut pending,
        remaining,
    ) {
        Ok((n, done)) => {
            carry.drain(from..from + n);
            total += n as u64;
            remaining = remaining.saturating_sub(n as u64);
            done
        }
        Err(e) => return (stop(e, false), pending, scratch),
    };
    // A failed write may have written part of the bytes.
    let mut wrote = !pending.is_empty();
    let mut pending = match write_from(dst, pending, 0, io.write_timeout).await {
        Ok(p) => p,
        Err(()) => return (stop(BodyError::SinkGone, wrote), Vec::new(), scratch),
    };
    let mut chunk = scratch;
    let mut filled = false;
    while !done {
        if io.max_bytes != 0 && total > io.max_bytes {
            return (stop(BodyError::TooLarge, wrote), pending, chunk);
        }
        chunk.clear();
        // A read that filled its buffer says the body is large: read it in bigger steps,
        // fewer reads and writes per megabyte (the pool keeps buffers up to BIG_READ).
        if filled && chunk.capacity() < BIG_READ {
            chunk.reserve(BIG_READ);
        }
        let limit = usize::try_from(remaining).unwrap_or(usize::MAX);
        let wait = deadline.map_or(io.read_timeout, |d| {
            d.remaining(clock::now()).min(io.read_timeout)
        });
        let (read, buf) = read_into(src, chunk, limit, wait).await;
        chunk = buf;
        filled = chunk.len() == chunk.capacity();
        match read {
            Read::Data => {}
            Read::Eof if framing == Framing::UntilClose => break,
            Read::TimedOut => return (stop(BodyError::TimedOut, wrote), pending, chunk),
            Read::Eof | Read::Failed => {
                return (stop(BodyError::SourceGone, wrote), pending, chunk)
            }
        }
        if let Some(d) = deadline.as_mut() {
            d.received(chunk.len() as u64);
        }
        pending.clear();
        let step = match framing {
            Framing::Dechunk => take_body(&mut decoder, framing, &chunk, &mut pending, remaining),
            _ => body_extent(&mut decoder, framing, &chunk, remaining),
        };
        match step {
            Ok((n, d)) => {
                total += n as u64;
                remaining = remaining.saturating_sub(n as u64);
                done = d;
                if framing != Framing::Dechunk {
                    if n == chunk.len() {
                        // All of it is body, passed on as it is: the buffer itself goes out.
                        std::mem::swap(&mut pending, &mut chunk);
                    } else {
                        pending.extend_from_slice(&chunk[..n]);
                    }
                }
                if done && n < chunk.len() {
                    carry.extend_from_slice(&chunk[n..]);
                }
            }
            Err(e) => return (stop(e, wrote), pending, chunk),
        }
        wrote |= !pending.is_empty();
        pending = match write_from(dst, pending, 0, io.write_timeout).await {
            Ok(p) => p,
            Err(()) => return (stop(BodyError::SinkGone, wrote), Vec::new(), chunk),
        };
    }
    if io.max_bytes != 0 && total > io.max_bytes {
        return (stop(BodyError::TooLarge, wrote), pending, chunk);
    }
    (Ok(total), pending, chunk)
}

/// Appends the part of `input` that belongs to the body to `out` (decoded for `Dechunk`).
/// Returns (bytes of `input` consumed, body complete). Unless the body is complete, all of
/// `input` is consumed; when it is, `input[consumed..]` follows the body.
pub(super) fn take_body(
    decoder: &mut ChunkedDecoder,
    framing: Framing,
    input: &[u8],
    out: &mut Vec<u8>,
    remaining: u64,
) -> Result<(usize, bool), BodyError> {
    Ok(match framing {
        Framing::Length(_) | Framing::UntilClose | Framing::Chunked => {
            let (n, done) = body_extent(decoder, framing, input, remaining)?;
            out.extend_from_slice(&input[..n]);
            (n, done)
        }
        Framing::Dechunk => {
            let mut at = 0;
            let mut done = false;
            while at < input.len() && !done {
                let step = decoder.step(&input[at..])?;
                out.extend_from_slice(&input[at + step.data.start..at + step.data.end]);
                at += step.consumed;
                done = step.done;
            }
            (at, done)
        }
    })
}

/// For a framing that passes the body on as it is (all but `Dechunk`): how much of `input`
/// belongs to the body, and whether the body is complete, as [`take_body`] counts them.
fn body_extent(
    decoder: &mut ChunkedDecoder,
    framing: Framing,
    input: &[u8],
    remaining: u64,
) -> Result<(usize, bool), BodyError> {
    Ok(match framing {
        Framing::Length(_) => {
            let n = usize::try_from(remaining)
                .unwrap_or(usize::MAX)
                .min(input.len());
            (n, n as u64 == remaining)
        }
        Framing::Chunked => decoder.scan(input)?,
        Framing::UntilClose | Framing::Dechunk => (input.len(), false),
    })
}

/// Relays bytes both ways after a `101 Switching Protocols` until both directions end, or
/// until no byte flowed either way for `idle` (HAProxy `timeout tunnel`): then both sides are
/// shut down and closed. `to_member` and `to_client` are bytes already read from the other side.
pub(super) async fn tunnel(
    client: TcpStream,
    member: TcpStream,
    to_member: Vec<u8>,
    to_client: Vec<u8>,
    idle: Duration,
) {
    let (mut client_rd, mut client_wr) = client.into_split();
    let (mut member_rd, mut member_wr) = member.into_split();
    let last = Cell::new(clock::now());
    let activity = Activity { last: &last, idle };
    monoio::join!(
        pump(to_member, &mut client_rd, &mut member_wr, activity),
        pump(to_client, &mut member_rd, &mut client_wr, activity),
    );
}

/// When a tunnel last carried a byte in either direction, shared by its two pumps, and how
/// long it may stay silent.
#[derive(Clone, Copy)]
struct Activity<'a> {
    last: &'a Cell<Instant>,
    idle: Duration,
}

impl Activity<'_> {
    fn touch(&self) {
        self.last.set(clock::now());
    }

    /// Time left before the tunnel counts as idle (zero: it is).
    fn left(&self) -> Duration {
        (self.last.get() + self.idle).saturating_duration_since(clock::now())
    }
}

/// One direction of a tunnel: `first` (bytes already read), then everything `from` sends,
/// then a half-close of `to`. Ends early when the tunnel was idle both ways for its limit
/// (both pumps see the same activity clock, so both end), or a write stalls that long.
async fn pump<R: CancelableAsyncReadRent, W: AsyncWriteRent>(
    first: Vec<u8>,
    from: &mut R,
    to: &mut W,
    activity: Activity<'_>,
) {
    let mut buf = first;
    buf.reserve(IO_BUF.saturating_sub(buf.len()));
    loop {
        if !buf.is_empty() {
            match monoio::time::timeout(activity.idle, to.write_all(buf)).await {
                Ok((Ok(_), written)) => buf = written,
                _ => break,
            }
            activity.touch();
        }
        buf.clear();
        let (res, read) = loop {
            let left = activity.left();
            if left.is_zero() {
                let _ = to.shutdown().await;
                return;
            }
            // Cancelled, not dropped, at the deadline: bytes that raced the timer are kept.
            let canceller = Canceller::new();
            let mut read = pin!(from.cancelable_read(buf, canceller.handle()));
            let (res, read) = monoio::select! {
                done = &mut read => done,
                _ = monoio::time::sleep(left) => {
                    canceller.cancel();
                    read.as_mut().await
                }
            };
            match res {
                Ok(n) if n > 0 => break (Ok(n), read),
                Ok(0) => break (Ok(0), read),
                // Cancelled at the deadline (or interrupted): look at the shared clock again.
                Err(ref e) if is_cancel_or_interrupt(e) => buf = read,
                _ => break (res, read),
            }
        };
        buf = read;
        match res {
            Ok(n) if n > 0 => activity.touch(),
            _ => break,
        }
    }
    let _ = to.shutdown().await;
}

/// A read ended by our own cancellation (`ECANCELED` on both drivers) or by a signal, rather
/// than by the peer.
fn is_cancel_or_interrupt(e: &std::io::Error) -> bool {
    e.raw_os_error() == Some(libc::ECANCELED) || e.kind() == std::io::ErrorKind::Interrupted
}
