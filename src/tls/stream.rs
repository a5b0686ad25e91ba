//! A TLS stream: a rustls connection driven over a monoio `TcpStream` with owned buffers, read
//! and written through monoio's `AsyncReadRent`/`AsyncWriteRent`. One driver for both sides:
//! [`TlsStream<ServerConnection>`] for clients of a TLS listener ([`TlsStream::accept`]),
//! [`TlsStream<ClientConnection>`] for `https://` members ([`TlsStream::connect`]); the side
//! is a type parameter ([`TlsSide`]), so each is compiled on its own with no dispatch.
//!
//! Driven here rather than through `monoio-rustls` for three things the request path needs
//! and that crate does not give: the socket itself (`readable()` for the idle wait), whether
//! plaintext is already buffered inside rustls (checked before that wait), and letting go of
//! the ciphertext buffers while the connection is idle ([`TlsStream::release_buffers`]).
//!
//! # Buffers
//! - `rbuf`: ciphertext read from the socket not yet given to rustls (`rbuf[rpos..]`), at
//!   most one read of [`TLS_READ`] bytes;
//! - `wbuf`: ciphertext rustls produced, being written to the socket;
//! - rustls's own: its record deframer (4 KiB after a small record, up to one record of
//!   16.7 KiB, shrunk again at its next read), decrypted plaintext not yet read (bounded by
//!   rustls, 16 KiB) and encrypted records not yet written.
//!
//! # Cancellation
//! A future of this stream dropped mid-way (a timeout) leaves it consistent: a buffer moved
//! into a socket operation is lost with it and made again at the next use. Bytes that such a
//! read had received are lost too, so the caller gives up on the connection after a dropped
//! read unless nothing can have arrived (the same contract as the plain socket's).

use std::io::{self, Read, Write};
use std::ops::DerefMut;
use std::sync::Arc;
use std::time::Duration;

use monoio::buf::{IoBuf, IoBufMut, IoVecBuf, IoVecBufMut};
use monoio::io::{
    AsyncReadRent, AsyncWriteRent, AsyncWriteRentExt, CancelHandle, CancelableAsyncReadRent,
};
use monoio::net::TcpStream;
use monoio::BufResult;
use rustls::client::ClientConnectionData;
use rustls::pki_types::ServerName;
use rustls::server::ServerConnectionData;
use rustls::{
    ClientConfig, ClientConnection, ConnectionCommon, ServerConfig, ServerConnection, SideData,
};

use super::facts::TlsFacts;

/// Most ciphertext read from the socket at once: one full TLS record and its header.
const TLS_READ: usize = 16 * 1024 + 512;
/// Most plaintext copied out per read call (rustls holds at most about this much).
const PLAIN_READ: usize = 16 * 1024;

/// The side of a TLS connection: rustls's `ServerConnection` or `ClientConnection`, each of
/// which derefs to the `ConnectionCommon` this driver uses.
pub trait TlsSide: DerefMut<Target = ConnectionCommon<Self::Data>> + std::fmt::Debug {
    type Data: SideData;
}

impl TlsSide for ServerConnection {
    type Data = ServerConnectionData;
}

impl TlsSide for ClientConnection {
    type Data = ClientConnectionData;
}

/// One TLS connection after its handshake: accepted from a client (`C = ServerConnection`,
/// the default) or made to a member (`C = ClientConnection`).
#[derive(Debug)]
pub struct TlsStream<C: TlsSide = ServerConnection> {
    tcp: TcpStream,
    conn: C,
    rbuf: Vec<u8>,
    rpos: usize,
    wbuf: Vec<u8>,
    /// The socket reported end of file (and rustls was told).
    eof: bool,
    /// The connection's TLS facts ([`TlsStream::keep_facts`]).
    facts: Option<TlsFacts>,
}

impl TlsStream<ServerConnection> {
    /// Runs the server handshake on `tcp` within `timeout`. `early` holds ciphertext already
    /// read from `tcp` (what followed a PROXY protocol header), given to rustls before
    /// anything is read from the socket. On failure the alert rustls chose (if any) has been
    /// sent; the caller just closes.
    pub async fn accept(
        tcp: TcpStream,
        config: Arc<ServerConfig>,
        early: Vec<u8>,
        timeout: Duration,
    ) -> io::Result<TlsStream<ServerConnection>> {
        let conn = ServerConnection::new(config).map_err(io::Error::other)?;
        TlsStream::new(tcp, conn, early)
            .handshake_within(timeout)
            .await
    }

    /// Renders the connection's `X-SSL-*` values (after the handshake, once per connection)
    /// and keeps them for [`TlsStream::facts`].
    pub fn keep_facts(&mut self) {
        self.facts = Some(TlsFacts::of(&self.conn));
    }

    /// The values [`TlsStream::keep_facts`] rendered; `None` if it was not called.
    pub fn facts(&self) -> Option<&TlsFacts> {
        self.facts.as_ref()
    }
}

impl TlsStream<ClientConnection> {
    /// Runs the client handshake on `tcp` with `name` (sent as SNI when it is a DNS name, and
    /// the name the certificate is verified for) within `timeout`. A rustls error (the
    /// certificate rejected, an alert from the member) comes back as an `InvalidData` error
    /// wrapping the `rustls::Error` (see [`rustls_error`]); the alert rustls chose has been
    /// sent.
    pub async fn connect(
        tcp: TcpStream,
        config: Arc<ClientConfig>,
        name: ServerName<'static>,
        timeout: Duration,
    ) -> io::Result<TlsStream<ClientConnection>> {
        let conn = ClientConnection::new(config, name)
            .map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
        TlsStream::new(tcp, conn, Vec::new())
            .handshake_within(timeout)
            .await
    }
}

/// The rustls error an error of this module carries, if it is one (a failed handshake or a
/// record that did not decrypt).
pub fn rustls_error(e: &io::Error) -> Option<&rustls::Error> {
    e.get_ref()?.downcast_ref::<rustls::Error>()
}

impl<C: TlsSide> TlsStream<C> {
    /// `early`: ciphertext already read from `tcp`.
    fn new(tcp: TcpStream, conn: C, early: Vec<u8>) -> TlsStream<C> {
        TlsStream {
            tcp,
            conn,
            rbuf: early,
            rpos: 0,
            wbuf: Vec::new(),
            eof: false,
            facts: None,
        }
    }

    async fn handshake_within(mut self, timeout: Duration) -> io::Result<TlsStream<C>> {
        match monoio::time::timeout(timeout, self.handshake()).await {
            Ok(Ok(())) => Ok(self),
            Ok(Err(e)) => Err(e),
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "handshake timed out",
            )),
        }
    }

    async fn handshake(&mut self) -> io::Result<()> {
        while self.conn.is_handshaking() {
            if self.conn.wants_write() {
                self.flush_tls().await?;
            } else if !self.fill(None).await? {
                return Err(io::Error::new(
                    io::ErrorKind::UnexpectedEof,
                    "peer closed during the handshake",
                ));
            }
        }
        self.flush_tls().await
    }

    /// The socket, for readiness waits.
    pub fn tcp(&self) -> &TcpStream {
        &self.tcp
    }

    /// The negotiated ALPN protocol, if any.
    pub fn alpn(&self) -> Option<&[u8]> {
        self.conn.alpn_protocol()
    }

    /// Whether a read can make progress without the socket becoming readable: plaintext or
    /// ciphertext is buffered, or the peer's close was seen.
    pub fn has_buffered(&mut self) -> bool {
        if self.rpos < self.rbuf.len() || self.eof {
            return true;
        }
        match self.conn.process_new_packets() {
            Ok(state) => state.plaintext_bytes_to_read() > 0 || state.peer_has_closed(),
            Err(_) => true, // the next read reports it
        }
    }

    /// Lets go of this stream's ciphertext buffers when they hold nothing (an idle
    /// connection keeps only rustls's own state).
    pub fn release_buffers(&mut self) {
        if self.rpos >= self.rbuf.len() {
            self.rbuf = Vec::new();
            self.rpos = 0;
        }
        self.wbuf = Vec::new();
    }

    /// Gives rustls more ciphertext: buffered bytes first, else one socket read. `Ok(false)`
    /// at the end of the socket's input. A TLS error sends rustls's alert and fails.
    async fn fill(&mut self, cancel: Option<&CancelHandle>) -> io::Result<bool> {
        if self.rpos >= self.rbuf.len() {
            if self.eof {
                return Ok(false);
            }
            let mut buf = std::mem::take(&mut self.rbuf);
            self.rpos = 0;
            buf.clear();
            buf.reserve(TLS_READ);
            let (res, buf) = match cancel {
                Some(c) => self.tcp.cancelable_read(buf, c.clone()).await,
                None => self.tcp.read(buf).await,
            };
            self.rbuf = buf;
            if res? == 0 {
                self.eof = true;
                // An empty read tells rustls the input ended.
                let _ = self.conn.read_tls(&mut io::empty());
                let _ = self.conn.process_new_packets();
                return Ok(false);
            }
        }
        let mut input = &self.rbuf[self.rpos..];
        let before = input.len();
        let fed = self.conn.read_tls(&mut input);
        self.rpos += before - input.len();
        fed?;
        if let Err(e) = self.conn.process_new_packets() {
            let _ = self.flush_tls().await;
            return Err(io::Error::new(io::ErrorKind::InvalidData, e));
        }
        Ok(true)
    }

    /// Writes every record rustls has ready.
    async fn flush_tls(&mut self) -> io::Result<()> {
        while self.conn.wants_write() {
            let mut buf = std::mem::take(&mut self.wbuf);
            buf.clear();
            self.conn.write_tls(&mut buf)?;
            let (res, buf) = self.tcp.write_all(buf).await;
            self.wbuf = buf;
            res?;
        }
        Ok(())
    }
}

impl<C: TlsSide> TlsStream<C> {
    async fn read_with<T: IoBufMut>(
        &mut self,
        mut buf: T,
        cancel: Option<&CancelHandle>,
    ) -> BufResult<usize, T> {
        loop {
            match read_plaintext(&mut self.conn, &mut buf) {
                Ok(n) => return (Ok(n), buf),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {}
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return (Ok(0), buf),
                Err(e) => return (Err(e), buf),
            }
            // Records rustls queued while reading (alerts, key updates) go out first.
            if let Err(e) = self.flush_tls().await {
                return (Err(e), buf);
            }
            match self.fill(cancel).await {
                Ok(true) => {}
                Ok(false) => return (Ok(0), buf),
                Err(e) => return (Err(e), buf),
            }
        }
    }
}

impl<C: TlsSide> CancelableAsyncReadRent for TlsStream<C> {
    /// Like [`AsyncReadRent::read`], but a socket read it waits on ends when `cancel` fires,
    /// with the socket's `ECANCELED` error and nothing lost: bytes that raced the cancel are
    /// kept (for the tunnel, which must stop reading to write, and the `100 Continue` wait).
    async fn cancelable_read<T: IoBufMut>(
        &mut self,
        buf: T,
        cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        self.read_with(buf, Some(&cancel)).await
    }

    /// Not used by ringlb.
    async fn cancelable_readv<T: IoVecBufMut>(
        &mut self,
        buf: T,
        _cancel: CancelHandle,
    ) -> BufResult<usize, T> {
        let e = io::Error::new(io::ErrorKind::Unsupported, "readv on a TLS stream");
        (Err(e), buf)
    }
}

impl<C: TlsSide> AsyncReadRent for TlsStream<C> {
    /// Plaintext into `buf`; `Ok(0)` when the peer closed (with or without `close_notify`:
    /// HTTP/1.1 framing, not the TLS close, says whether a message was complete).
    async fn read<T: IoBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        self.read_with(buf, None).await
    }

    /// Not used by ringlb (reads go through [`AsyncReadRent::read`]).
    async fn readv<T: IoVecBufMut>(&mut self, buf: T) -> BufResult<usize, T> {
        let e = io::Error::new(io::ErrorKind::Unsupported, "readv on a TLS stream");
        (Err(e), buf)
    }
}

impl<C: TlsSide> AsyncWriteRent for TlsStream<C> {
    /// Encrypts as much of `buf` as rustls takes (its outgoing buffer is bounded) and writes
    /// the records before returning.
    async fn write<T: IoBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let n = match self.conn.writer().write(init_bytes(&buf)) {
            Ok(n) => n,
            Err(e) => return (Err(e), buf),
        };
        match self.flush_tls().await {
            Ok(()) => (Ok(n), buf),
            Err(e) => (Err(e), buf),
        }
    }

    /// Not used by ringlb (writes go through [`AsyncWriteRent::write`]).
    async fn writev<T: IoVecBuf>(&mut self, buf: T) -> BufResult<usize, T> {
        let e = io::Error::new(io::ErrorKind::Unsupported, "writev on a TLS stream");
        (Err(e), buf)
    }

    async fn flush(&mut self) -> io::Result<()> {
        self.flush_tls().await
    }

    /// Sends `close_notify`, then shuts the socket's sending side.
    async fn shutdown(&mut self) -> io::Result<()> {
        self.conn.send_close_notify();
        self.flush_tls().await?;
        self.tcp.shutdown().await
    }
}

/// Copies plaintext rustls holds into `buf` (at most [`PLAIN_READ`] bytes) and marks them
/// initialized. `WouldBlock`: rustls holds none yet.
#[allow(unsafe_code)]
fn read_plaintext<D: SideData, T: IoBufMut>(
    conn: &mut ConnectionCommon<D>,
    buf: &mut T,
) -> io::Result<usize> {
    let total = buf.bytes_total().min(PLAIN_READ);
    let ptr = buf.write_ptr();
    // SAFETY: `IoBufMut` guarantees `write_ptr` is valid for writes of `bytes_total` bytes
    // while `buf` is borrowed (here, for this function); they are zeroed before the slice
    // is made, so the slice covers initialized memory only.
    let dst = unsafe {
        ptr.write_bytes(0, total);
        std::slice::from_raw_parts_mut(ptr, total)
    };
    let n = conn.reader().read(dst)?;
    // SAFETY: the first `n <= total` bytes were written above.
    unsafe { buf.set_init(n) };
    Ok(n)
}

/// The initialized bytes of `buf`.
#[allow(unsafe_code)]
pub(crate) fn init_bytes<T: IoBuf>(buf: &T) -> &[u8] {
    // SAFETY: `IoBuf` guarantees `read_ptr` points at `bytes_init` initialized bytes that
    // stay valid while `buf` is borrowed; the slice borrows `buf`.
    unsafe { std::slice::from_raw_parts(buf.read_ptr(), buf.bytes_init()) }
}
