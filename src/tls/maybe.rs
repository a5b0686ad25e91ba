//! A plain socket or a TLS stream over one, read and written through monoio's
//! `AsyncReadRent`/`AsyncWriteRent` by delegation, so the request path has one type for both:
//! the client side ([`MaybeTls<ServerConnection>`](rustls::ServerConnection), a plain or a TLS
//! listener) and the member side ([`MaybeTls<ClientConnection>`](rustls::ClientConnection),
//! an `http://` or an `https://` member).

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent, CancelHandle, CancelableAsyncReadRent};
use monoio::net::TcpStream;
use monoio::BufResult;

use super::stream::{TlsSide, TlsStream};

/// A connection's stream. The TLS stream is boxed: it is large (rustls's connection state),
/// and the plain variant keeps the futures that hold it small. The TLS variant's read and
/// write futures are boxed too (one allocation per call; rustls allocates per record anyway),
/// so every future on the plain path stays the size of the socket's own: without the boxes
/// the plain keep-alive GET measured about 2% more CPU per request.
#[derive(Debug)]
pub enum MaybeTls<C: TlsSide> {
    Plain(TcpStream),
    Tls(Box<TlsStream<C>>),
}

impl<C: TlsSide> MaybeTls<C> {
    pub fn is_tls(&self) -> bool {
        matches!(self, MaybeTls::Tls(_))
    }

    /// The socket (for readiness waits and the pool's peek).
    pub fn tcp(&self) -> &TcpStream {
        match self {
            MaybeTls::Plain(s) => s,
            MaybeTls::Tls(s) => s.tcp(),
        }
    }

    /// Whether a TLS stream holds received bytes a read would return or act on (plaintext,
    /// ciphertext, the peer's close) without the socket being read. Always false for a
    /// plain socket, which buffers nothing.
    pub fn has_buffered(&mut self) -> bool {
        match self {
            MaybeTls::Plain(_) => false,
            MaybeTls::Tls(s) => s.has_buffered(),
        }
    }

    /// Waits until a read can make progress: at once when a TLS stream already holds
    /// received bytes (plaintext or ciphertext), else when the socket is readable.
    pub async fn readable(&mut self) -> io::Result<()> {
        if self.has_buffered() {
            return Ok(());
        }
        self.tcp().readable(false).await
    }

    /// Going idle: a TLS stream lets go of its empty ciphertext buffers.
    pub fn release_buffers(&mut self) {
        if let MaybeTls::Tls(s) = self {
            s.release_buffers();
        }
    }
}

impl<C: TlsSide> AsyncReadRent for MaybeTls<C> {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.read(buf).await,
            MaybeTls::Tls(s) => Box::pin(s.read(buf)).await,
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.readv(buf).await,
            MaybeTls::Tls(s) => s.readv(buf).await,
        }
    }
}

impl<C: TlsSide> CancelableAsyncReadRent for MaybeTls<C> {
    /// See [`TlsStream`]'s: bytes that raced the cancel are kept on either variant.
    async fn cancelable_read<T: IoBufMut>(
        &mut self,
        buf: T,
        cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.cancelable_read(buf, cancel).await,
            MaybeTls::Tls(s) => Box::pin(s.cancelable_read(buf, cancel)).await,
        }
    }

    async fn cancelable_readv<T: IoVecBufMut>(
        &mut self,
        buf: T,
        cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.cancelable_readv(buf, cancel).await,
            MaybeTls::Tls(s) => s.cancelable_readv(buf, cancel).await,
        }
    }
}

impl<C: TlsSide> AsyncWriteRent for MaybeTls<C> {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.write(buf).await,
            MaybeTls::Tls(s) => Box::pin(s.write(buf)).await,
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            MaybeTls::Plain(s) => s.writev(buf).await,
            MaybeTls::Tls(s) => s.writev(buf).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.flush().await,
            MaybeTls::Tls(s) => Box::pin(s.flush()).await,
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            MaybeTls::Plain(s) => s.shutdown().await,
            MaybeTls::Tls(s) => Box::pin(s.shutdown()).await,
        }
    }
}
