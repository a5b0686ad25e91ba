//! A member connection's stream: the socket (plain or TLS) and, for a member with `max`, the
//! connection slot it holds ([`Slot`]). The slot lives and moves with the stream (in flight,
//! in a pool, carried to the next generation's pool, handed to a waiting request, to the
//! tunnel after `101`), so every way a member connection ends gives it back exactly once: when
//! the stream is dropped. The slot is dropped before the socket and shuts it down first, so
//! the member has the FIN before the place can be taken again (io_uring closes a socket later,
//! when the worker next submits). Reads and writes go straight to the socket.

use std::io;
use std::os::fd::AsRawFd;
use std::rc::Rc;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::ClientConnection;

use super::limit::{Gate, Slot};
use crate::tls::MaybeTls;

/// A connection to a member (`http://`, `https://` or `ajp://`).
#[derive(Debug)]
pub struct MemberStream {
    /// The member's connection slot, when it has `max`: given back when this is dropped.
    /// Declared before `io`, so it is dropped first, while the socket is open.
    slot: Option<Slot>,
    io: MaybeTls<ClientConnection>,
}

impl MemberStream {
    /// A stream that holds no slot (a member without `max`, or a health check's).
    pub fn new(io: MaybeTls<ClientConnection>) -> MemberStream {
        MemberStream { slot: None, io }
    }

    /// This stream, holding `slot` from now on (taken before the connection was opened): the
    /// slot shuts the socket down when it is dropped.
    pub fn holding(mut self, slot: Option<Slot>) -> MemberStream {
        self.slot = slot.map(|s| s.counting(self.io.tcp().as_raw_fd()));
        self
    }

    /// The gate of the slot this stream holds, if any.
    pub fn gate(&self) -> Option<&Rc<Gate>> {
        self.slot.as_ref().map(Slot::gate)
    }

    /// The socket and the slot, for the tunnel after `101`: the slot must be kept as long as
    /// the socket is open, and no longer shuts it down (the tunnel does, at its end).
    pub fn into_parts(self) -> (MaybeTls<ClientConnection>, Option<Slot>) {
        let MemberStream { slot, io } = self;
        (io, slot.map(Slot::detached))
    }

    pub fn is_tls(&self) -> bool {
        self.io.is_tls()
    }

    /// The socket (for readiness waits and the pool's peek).
    pub fn tcp(&self) -> &TcpStream {
        self.io.tcp()
    }

    /// See [`MaybeTls::has_buffered`].
    pub fn has_buffered(&mut self) -> bool {
        self.io.has_buffered()
    }

    /// See [`MaybeTls::readable`].
    pub async fn readable(&mut self) -> io::Result<()> {
        self.io.readable().await
    }

    /// See [`MaybeTls::release_buffers`].
    pub fn release_buffers(&mut self) {
        self.io.release_buffers();
    }
}

impl AsyncReadRent for MemberStream {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.io.read(buf).await
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.io.readv(buf).await
    }
}

impl CancelableAsyncReadRent for MemberStream {
    async fn cancelable_read<T: IoBufMut>(
        &mut self,
        buf: T,
        cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        self.io.cancelable_read(buf, cancel).await
    }

    async fn cancelable_readv<T: IoVecBufMut>(
        &mut self,
        buf: T,
        cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        self.io.cancelable_readv(buf, cancel).await
    }
}

impl AsyncWriteRent for MemberStream {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.io.write(buf).await
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        self.io.writev(buf).await
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.io.flush().await
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        self.io.shutdown().await
    }
}
