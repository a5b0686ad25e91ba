//! The client side's byte stream: a plain socket or a TLS stream over one, read and written
//! through monoio's `AsyncReadRent`/`AsyncWriteRent` by delegation, so the request path has
//! one type for both.

use std::io;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{AsyncReadRent, AsyncWriteRent};
use monoio::net::TcpStream;
use monoio::BufResult;

use crate::tls::facts::TlsFacts;
use crate::tls::stream::TlsStream;

/// A client connection's stream. The TLS stream is boxed: it is large (rustls's connection
/// state), and the plain variant keeps the idle connection future small. The TLS variant's
/// read and write futures are boxed too (one allocation per call; rustls allocates per
/// record anyway), so every future on the plain path stays the size of the socket's own:
/// without the boxes the plain keep-alive GET measured about 2% more CPU per request.
#[derive(Debug)]
pub(super) enum ClientStream {
    Plain(TcpStream),
    Tls(Box<TlsStream>),
}

impl ClientStream {
    pub(super) fn is_tls(&self) -> bool {
        matches!(self, ClientStream::Tls(_))
    }

    /// The `X-SSL-*` values of a TLS connection whose listener has `ssl_headers`.
    pub(super) fn tls_facts(&self) -> Option<&TlsFacts> {
        match self {
            ClientStream::Plain(_) => None,
            ClientStream::Tls(s) => s.facts(),
        }
    }

    pub(super) fn tcp(&self) -> &TcpStream {
        match self {
            ClientStream::Plain(s) => s,
            ClientStream::Tls(s) => s.tcp(),
        }
    }

    /// Waits until a read can make progress: at once when a TLS stream already holds
    /// received bytes (plaintext or ciphertext), else when the socket is readable.
    pub(super) async fn readable(&mut self) -> io::Result<()> {
        if let ClientStream::Tls(s) = self {
            if s.has_buffered() {
                return Ok(());
            }
        }
        self.tcp().readable(false).await
    }

    /// Going idle: a TLS stream lets go of its empty ciphertext buffers.
    pub(super) fn release_buffers(&mut self) {
        if let ClientStream::Tls(s) = self {
            s.release_buffers();
        }
    }
}

impl AsyncReadRent for ClientStream {
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.read(buf).await,
            ClientStream::Tls(s) => Box::pin(s.read(buf)).await,
        }
    }

    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.readv(buf).await,
            ClientStream::Tls(s) => s.readv(buf).await,
        }
    }
}

impl AsyncWriteRent for ClientStream {
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.write(buf).await,
            ClientStream::Tls(s) => Box::pin(s.write(buf)).await,
        }
    }

    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        match self {
            ClientStream::Plain(s) => s.writev(buf).await,
            ClientStream::Tls(s) => s.writev(buf).await,
        }
    }

    async fn flush(&mut self) -> io::Result<()> {
        match self {
            ClientStream::Plain(s) => s.flush().await,
            ClientStream::Tls(s) => Box::pin(s.flush()).await,
        }
    }

    async fn shutdown(&mut self) -> io::Result<()> {
        match self {
            ClientStream::Plain(s) => s.shutdown().await,
            ClientStream::Tls(s) => Box::pin(s.shutdown()).await,
        }
    }
}
