//! The tunnel after `101 Switching Protocols` when either side is TLS (a TLS listener's
//! client, an `https://` member, or both).
//!
//! The plain tunnel (`forward::tunnel`) splits both sockets and runs one pump per direction.
//! A TLS stream cannot be split: both directions go through one rustls session. So one loop
//! owns both sides and waits for whichever sends first; to write, it cancels the other side's
//! read and awaits it (cancelled, not dropped: bytes that raced the cancel are kept, and the
//! TLS state stays whole), then writes. Same limits as the plain tunnel: it ends when both
//! directions have ended, on any error, or when no byte flowed either way for `idle`.

use std::io;
use std::pin::pin;
use std::time::{Duration, Instant};

use monoio::io::{AsyncWriteRent, AsyncWriteRentExt, CancelableAsyncReadRent, Canceller};

use super::bufs::IO_BUF;
use crate::clock;

/// What one read of a tunnel side gave.
enum Got {
    /// Bytes (now in that side's buffer).
    Data,
    /// The side ended its sending.
    Eof,
    /// Cancelled before any byte came (or interrupted): nothing happened.
    Nothing,
    /// The side failed: the tunnel ends.
    Failed,
}

fn got(res: io::Result<usize>) -> Got {
    match res {
        Ok(0) => Got::Eof,
        Ok(_) => Got::Data,
        Err(e) if e.raw_os_error() == Some(libc::ECANCELED) => Got::Nothing,
        Err(e) if e.kind() == io::ErrorKind::Interrupted => Got::Nothing,
        Err(_) => Got::Failed,
    }
}

/// Relays between a client and a member after a `101`. `to_member` and `to_client` are
/// bytes already read from the other side.
pub(super) async fn tunnel<C, M>(
    mut client: C,
    mut member: M,
    to_member: Vec<u8>,
    to_client: Vec<u8>,
    idle: Duration,
) where
    C: CancelableAsyncReadRent + AsyncWriteRent,
    M: CancelableAsyncReadRent + AsyncWriteRent,
{
    let (mut up, mut down) = (to_member, to_client);
    let (mut client_open, mut member_open) = (true, true);
    let mut last = clock::now();
    loop {
        if !up.is_empty() {
            match monoio::time::timeout(idle, member.write_all(up)).await {
                Ok((Ok(_), b)) => up = b,
                _ => break,
            }
            last = clock::now();
        }
        if !down.is_empty() {
            match monoio::time::timeout(idle, client.write_all(down)).await {
                Ok((Ok(_), b)) => down = b,
                _ => break,
            }
            last = clock::now();
        }
        let left = (last + idle).saturating_duration_since(clock::now());
        if (!client_open && !member_open) || left.is_zero() {
            break;
        }
        up.clear();
        up.reserve(IO_BUF);
        down.clear();
        down.reserve(IO_BUF);
        let (from_client, from_member);
        (from_client, from_member, up, down) = read_either(
            &mut client,
            &mut member,
            up,
            down,
            client_open,
            member_open,
            left,
        )
        .await;
        for (side, result) in [(0, from_client), (1, from_member)] {
            match result {
                Got::Data => last = clock::now(),
                Got::Nothing => {}
                Got::Failed => return,
                Got::Eof if side == 0 => {
                    client_open = false;
                    let _ = member.shutdown().await;
                }
                Got::Eof => {
                    member_open = false;
                    let _ = client.shutdown().await;
                }
            }
        }
    }
    let _ = member.shutdown().await;
    let _ = client.shutdown().await;
}

/// Waits until the client (into `up`) or the member (into `down`) sends, or `left` passes,
/// reading only the sides still open; the other read is cancelled and awaited.
async fn read_either<C: CancelableAsyncReadRent, M: CancelableAsyncReadRent>(
    client: &mut C,
    member: &mut M,
    up: Vec<u8>,
    down: Vec<u8>,
    client_open: bool,
    member_open: bool,
    left: Duration,
) -> (Got, Got, Vec<u8>, Vec<u8>) {
    let (cc, mc) = (Canceller::new(), Canceller::new());
    let deadline: Instant = clock::now() + left;
    let sleep = monoio::time::sleep_until(deadline.into());
    match (client_open, member_open) {
        (true, true) => {
            let mut cr = pin!(client.cancelable_read(up, cc.handle()));
            let mut mr = pin!(member.cancelable_read(down, mc.handle()));
            let ((c, up), (m, down)) = monoio::select! {
                c = &mut cr => { mc.cancel(); (c, mr.await) }
                m = &mut mr => { cc.cancel(); (cr.await, m) }
                _ = sleep => { cc.cancel(); mc.cancel(); (cr.await, mr.await) }
            };
            (got(c), got(m), up, down)
        }
        (true, false) => {
            let mut cr = pin!(client.cancelable_read(up, cc.handle()));
            let (c, up) = monoio::select! {
                c = &mut cr => c,
                _ = sleep => { cc.cancel(); cr.await }
            };
            (got(c), Got::Nothing, up, down)
        }
        _ => {
            let mut mr = pin!(member.cancelable_read(down, mc.handle()));
            let (m, down) = monoio::select! {
                m = &mut mr => m,
                _ = sleep => { mc.cancel(); mr.await }
            };
            (Got::Nothing, got(m), up, down)
        }
    }
}
