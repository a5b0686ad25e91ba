//! The request body of an exchange with an `ajp://` member, pulled from the client as the
//! member asks for it (`GET_BODY_CHUNK`), decoded from its HTTP framing (`Content-Length` or
//! chunked) and handed out in pieces of at most one data packet.
//!
//! Bytes the client sent after the body (a pipelined request) go back to the end of the
//! client's buffer, as `forward::forward_body` leaves them. Memory is bounded: at most one
//! read's worth beyond what was asked for is held.

use super::client::Client;
use super::deadline::{BodyTimeout, Deadline};
use super::forward::{self, take_body, BodyError, Read};
use super::Gen;
use crate::clock;
use crate::http::chunked::ChunkedDecoder;
use crate::http::framing::{BodyKind, Framing};

/// A request body being read from the client.
#[derive(Debug)]
pub(super) struct RequestBody {
    framing: Framing,
    decoder: ChunkedDecoder,
    /// Body bytes still to come, for `Content-Length`.
    remaining: u64,
    /// Decoded body bytes read and not handed out yet.
    ready: Vec<u8>,
    /// Where the body starts in the client's buffer; the bytes there have not been looked
    /// at yet until `started`.
    carry_from: usize,
    started: bool,
    /// Every byte of the body has been read from the client.
    read_all: bool,
    /// Decoded bytes read so far.
    total: u64,
    /// The whole body's deadline (`timeouts.client_body`, `limits.min_body_rate`).
    deadline: Deadline,
}

impl RequestBody {
    /// The body of a request with framing `kind`, starting at `carry_from` in the client's
    /// buffer (right after the head).
    pub(super) fn new(kind: BodyKind, carry_from: usize, timeout: BodyTimeout) -> RequestBody {
        let (framing, remaining, read_all) = match kind {
            BodyKind::Length(n) => (Framing::Length(n), n, n == 0),
            BodyKind::Chunked => (Framing::Dechunk, u64::MAX, false),
            BodyKind::None | BodyKind::UntilClose => (Framing::Length(0), 0, true),
        };
        RequestBody {
            framing,
            decoder: ChunkedDecoder::new(),
            remaining,
            ready: Vec::new(),
            carry_from,
            started: false,
            read_all,
            total: 0,
            deadline: timeout.start(clock::now()),
        }
    }

    /// Whether every body byte has been read from the client.
    pub(super) fn read_all(&self) -> bool {
        self.read_all
    }

    /// The length the request announced, if any (`Content-Length`).
    pub(super) fn announced(&self) -> Option<u64> {
        match self.framing {
            Framing::Length(n) => Some(n),
            _ => None,
        }
    }

    /// Reads until at least `want` decoded bytes are ready or the body has ended.
    pub(super) async fn fill(
        &mut self,
        gen: &Gen,
        client: &mut Client,
        want: usize,
    ) -> Result<(), BodyError> {
        if !self.started {
            self.started = true;
            let from = self.carry_from.min(client.buf.len());
            let (n, done) = self.take(&client.buf[from..])?;
            client.buf.drain(from..from + n);
            self.read_all |= done;
        }
        let timeouts = &gen.config.timeouts;
        let max = gen.config.limits.max_body_bytes;
        let mut chunk = gen.bufs.get();
        let result = loop {
            if max != 0 && self.total > max {
                break Err(BodyError::TooLarge);
            }
            if self.read_all || self.ready.len() >= want {
                break Ok(());
            }
            chunk.clear();
            let limit = usize::try_from(self.remaining).unwrap_or(usize::MAX);
            let wait = (self.deadline.remaining(clock::now())).min(timeouts.client_header);
            let (read, buf) = forward::read_into(&mut client.stream, chunk, limit, wait).await;
            chunk = buf;
            match read {
                Read::Data => {}
                Read::TimedOut => break Err(BodyError::TimedOut),
                Read::Eof | Read::Failed => break Err(BodyError::SourceGone),
            }
            self.deadline.received(chunk.len() as u64);
            match self.take(&chunk) {
                Ok((n, done)) => {
                    if done {
                        self.read_all = true;
                        client.buf.extend_from_slice(&chunk[n..]);
                    }
                }
                Err(e) => break Err(e),
            }
        };
        gen.bufs.put(chunk);
        result
    }

    /// Decodes the body's part of `input` into `ready`: (bytes of `input` consumed, done).
    fn take(&mut self, input: &[u8]) -> Result<(usize, bool), BodyError> {
        let before = self.ready.len();
        let (n, done) = take_body(
            &mut self.decoder,
            self.framing,
            input,
            &mut self.ready,
            self.remaining,
        )?;
        let got = (self.ready.len() - before) as u64;
        self.total += got;
        if let Framing::Length(_) = self.framing {
            self.remaining -= got;
        }
        Ok((n, done))
    }

    /// Appends one data packet with at most `max` of the ready bytes to `out`; none ready
    /// gives the empty packet (the end of the body, or nothing to give).
    pub(super) fn push_packet(&mut self, max: usize, out: &mut Vec<u8>) -> usize {
        let n = self.ready.len().min(max);
        crate::ajp::push_body_packet(out, &self.ready[..n]);
        self.ready.drain(..n);
        n
    }
}
