//! One HTTP/2 stream as the client stream of an HTTP/1.1 exchange: reading it gives the
//! request body in the framing its HTTP/1.1 head announced (see `http::h2_request`), and
//! writing the HTTP/1.1 response to it sends that response as HTTP/2 (interim heads as
//! informational responses, the final head as HEADERS, the body as DATA within the stream's
//! flow-control window, chunked trailers as trailing HEADERS).
//!
//! The exchange code writes exactly what it would write to an HTTP/1.1 client, so this is the
//! one place that knows the client speaks HTTP/2, and a response cut short (its length or its
//! last chunk never came) ends the stream with `RST_STREAM`, never with `END_STREAM`.

use std::future::poll_fn;
use std::io;
use std::ops::Range;

use bytes::Bytes;
use h2::server::SendResponse;
use h2::{Reason, RecvStream, SendStream};
use http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode};

use crate::http::chunked::ChunkedDecoder;
use crate::http::h2_request::{is_connection_specific, BodyFraming};
use crate::http::head::{self, ResponseHead};
use crate::http::MAX_HEADERS;

/// Most bytes of framing (chunk lines, trailers) kept between two chunks of data; the chunked
/// decoder's own bounds keep honest framing far below it.
const MAX_TAIL: usize = 64 * 1024;

/// Where the response is.
#[derive(Debug)]
enum Out {
    /// Its head is being received (after any interim heads).
    Head(Vec<u8>),
    /// Its body: `send` the stream, `body` its framing.
    Body { send: SendStream<Bytes>, body: Body },
    /// It ended (`END_STREAM` or trailers sent), or was reset.
    Ended,
}

#[derive(Debug)]
enum Body {
    Length(u64),
    /// Chunked: the decoder and the framing bytes since the last chunk data (the trailers
    /// are read from them at the end).
    Chunked(ChunkedDecoder, Vec<u8>),
    /// Neither: the body ends when the exchange does.
    UntilEnd,
}

/// An HTTP/2 stream seen as a byte stream by the exchange.
#[derive(Debug)]
pub(in crate::worker) struct H2Stream {
    recv: RecvStream,
    framing: BodyFraming,
    /// Request body bytes received and not yet read.
    pending: Bytes,
    /// The request body (and its last chunk, for chunked) was all read.
    request_ended: bool,
    respond: SendResponse<Bytes>,
    out: Out,
    is_head: bool,
}

fn broken(what: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, what)
}

fn h2_io(e: h2::Error) -> io::Error {
    io::Error::new(io::ErrorKind::BrokenPipe, e)
}

impl H2Stream {
    pub(super) fn new(
        recv: RecvStream,
        framing: BodyFraming,
        respond: SendResponse<Bytes>,
        is_head: bool,
    ) -> H2Stream {
        H2Stream {
            recv,
            framing,
            pending: Bytes::new(),
            request_ended: framing == BodyFraming::None,
            respond,
            out: Out::Head(Vec::new()),
            is_head,
        }
    }

    /// The next request body bytes, at most `max` of them; empty at the end of the body.
    pub(in crate::worker) async fn read_body(&mut self, max: usize) -> io::Result<Bytes> {
        while self.pending.is_empty() {
            if self.request_ended {
                return Ok(Bytes::new());
            }
            self.pending = self.next_body_bytes().await?;
        }
        let n = self.pending.len().min(max);
        Ok(self.pending.split_to(n))
    }

    /// The next DATA frame's bytes in the head's framing (as a chunk, for chunked), or the end:
    /// the last chunk and the trailers for chunked, nothing otherwise.
    async fn next_body_bytes(&mut self) -> io::Result<Bytes> {
        match poll_fn(|cx| self.recv.poll_data(cx)).await {
            Some(Ok(data)) => {
                // The window reopens as the bytes move on: at most one frame waits here.
                let _ = self.recv.flow_control().release_capacity(data.len());
                if self.framing != BodyFraming::Chunked || data.is_empty() {
                    return Ok(data);
                }
                let mut chunk = Vec::with_capacity(data.len() + 12);
                chunk.extend_from_slice(format!("{:x}\r\n", data.len()).as_bytes());
                chunk.extend_from_slice(&data);
                chunk.extend_from_slice(b"\r\n");
                Ok(Bytes::from(chunk))
            }
            Some(Err(e)) => Err(h2_io(e)),
            None => {
                self.request_ended = true;
                if self.framing != BodyFraming::Chunked {
                    return Ok(Bytes::new());
                }
                let trailers = poll_fn(|cx| self.recv.poll_trailers(cx)).await;
                let mut last = b"0\r\n".to_vec();
                if let Ok(Some(fields)) = trailers {
                    for (name, value) in &fields {
                        last.extend_from_slice(name.as_str().as_bytes());
                        last.extend_from_slice(b": ");
                        last.extend_from_slice(value.as_bytes());
                        last.extend_from_slice(b"\r\n");
                    }
                }
                last.extend_from_slice(b"\r\n");
                Ok(Bytes::from(last))
            }
        }
    }

    /// Takes HTTP/1.1 response bytes, as the exchange writes them to a client; returns when
    /// they were handed to the stream (body bytes wait for the stream's window).
    pub(in crate::worker) async fn write_response(&mut self, data: &[u8]) -> io::Result<()> {
        let rest;
        let mut data = data;
        if let Out::Head(buf) = &mut self.out {
            buf.extend_from_slice(data);
            match self.send_heads()? {
                Some(after) => rest = after,
                None => return Ok(()),
            }
            data = &rest;
        }
        while !data.is_empty() {
            let Out::Body { send, body } = &mut self.out else {
                return Ok(()); // nothing follows a response's end
            };
            let (payload, consumed, done) = body_step(body, data)?;
            let end_with_data = done && matches!(body, Body::Length(_));
            send_data(send, &data[payload], end_with_data).await?;
            data = &data[consumed..];
            if done {
                if let Body::Chunked(_, tail) = body {
                    match trailers(tail) {
                        Some(fields) => send.send_trailers(fields).map_err(h2_io)?,
                        None => send.send_data(Bytes::new(), true).map_err(h2_io)?,
                    }
                }
                self.out = Out::Ended;
            }
        }
        Ok(())
    }

    /// Sends every complete head in the head buffer: interim ones as informational
    /// responses, the final one as the response. `None` while the final head is incomplete;
    /// once it is sent, the bytes that followed it (body bytes written with the head).
    fn send_heads(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            let Out::Head(buf) = &mut self.out else {
                return Ok(Some(Vec::new()));
            };
            let head = match head::parse_response(buf, MAX_HEADERS) {
                Ok(Some(head)) => head,
                Ok(None) => return Ok(None),
                Err(_) => return Err(broken("unparsable response head")),
            };
            let response = to_response(buf, &head)?;
            if head.status < 200 {
                buf.drain(..head.len);
                self.respond.send_informational(response).map_err(h2_io)?;
                continue;
            }
            let rest = buf.split_off(head.len);
            let body = body_of(self.is_head, &head, buf);
            let send = (self.respond)
                .send_response(response, body.is_none())
                .map_err(h2_io)?;
            self.out = match body {
                None => Out::Ended,
                Some(body) => Out::Body { send, body },
            };
            return Ok(Some(rest));
        }
    }

    /// The exchange is over: a response whose body ends with the exchange ends now; one that
    /// did not get its head, or the rest of its framed body, is reset.
    pub(in crate::worker) fn finish(&mut self) {
        match std::mem::replace(&mut self.out, Out::Ended) {
            Out::Ended => {}
            Out::Head(_) => self.respond.send_reset(Reason::INTERNAL_ERROR),
            Out::Body {
                mut send,
                body: Body::UntilEnd,
            } => {
                let _ = send.send_data(Bytes::new(), true);
            }
            Out::Body { mut send, .. } => send.send_reset(Reason::INTERNAL_ERROR),
        }
    }
}

/// One step of the response body over `data`: (the payload range, bytes consumed, whether the
/// body is complete).
fn body_step(body: &mut Body, data: &[u8]) -> io::Result<(Range<usize>, usize, bool)> {
    match body {
        Body::Length(left) => {
            let take = usize::try_from(*left).map_or(data.len(), |l| l.min(data.len()));
            *left -= take as u64; // take <= left
            Ok((0..take, take, *left == 0))
        }
        Body::Chunked(decoder, tail) => {
            let step = decoder
                .step(data)
                .map_err(|_| broken("bad chunked response body"))?;
            if step.data.is_empty() {
                tail.extend_from_slice(&data[..step.consumed]);
            } else {
                tail.clear();
                tail.extend_from_slice(&data[step.data.end..step.consumed]);
            }
            if tail.len() > MAX_TAIL {
                return Err(broken("chunked framing too long"));
            }
            Ok((step.data, step.consumed, step.done))
        }
        Body::UntilEnd => Ok((0..data.len(), data.len(), false)),
    }
}

/// Sends `payload` as DATA as the stream's window allows, the last frame with `END_STREAM`
/// when `end`.
async fn send_data(send: &mut SendStream<Bytes>, mut payload: &[u8], end: bool) -> io::Result<()> {
    while !payload.is_empty() {
        send.reserve_capacity(payload.len());
        let room = match poll_fn(|cx| send.poll_capacity(cx)).await {
            Some(Ok(room)) => room,
            Some(Err(e)) => return Err(h2_io(e)),
            None => return Err(broken("the stream was closed")),
        };
        let n = room.min(payload.len());
        if n == 0 {
            continue;
        }
        let last = n == payload.len();
        let frame = Bytes::copy_from_slice(&payload[..n]);
        send.send_data(frame, end && last).map_err(h2_io)?;
        payload = &payload[n..];
    }
    Ok(())
}

/// The HTTP/2 response of an HTTP/1.1 response head: its status and every field but the
/// connection-specific ones.
fn to_response(buf: &[u8], head: &ResponseHead) -> io::Result<Response<()>> {
    let status = StatusCode::from_u16(head.status).map_err(|_| broken("bad status"))?;
    let mut response = Response::new(());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for h in &head.headers {
        add_field(headers, h.name.get(buf), h.value.get(buf));
    }
    Ok(response)
}

fn add_field(headers: &mut HeaderMap, name: &[u8], value: &[u8]) {
    if is_connection_specific(name) {
        return;
    }
    // ringlb's head parser let through only what HTTP/1.1 allows, which these accept.
    if let (Ok(name), Ok(value)) = (HeaderName::from_bytes(name), HeaderValue::from_bytes(value)) {
        headers.append(name, value);
    }
}

/// The trailer fields at the end of a chunked body, from the framing bytes after its last
/// data: an optional CRLF, the last-chunk line, the trailer section, the final CRLF. `None`
/// when there are none.
fn trailers(tail: &[u8]) -> Option<HeaderMap> {
    let tail = tail.strip_prefix(b"\r\n").unwrap_or(tail);
    let line_end = memchr::memmem::find(tail, b"\r\n")?;
    let section = &tail[line_end + 2..];
    let mut fields = [httparse::EMPTY_HEADER; 32];
    let parsed = match httparse::parse_headers(section, &mut fields) {
        Ok(httparse::Status::Complete((_, parsed))) => parsed,
        _ => return None,
    };
    let mut headers = HeaderMap::new();
    for f in parsed.iter() {
        add_field(&mut headers, f.name.as_bytes(), f.value);
    }
    (!headers.is_empty()).then_some(headers)
}

/// The body framing of a final response head: none for `HEAD` and for 204 and 304, else
/// its length, chunked, or until the exchange ends. A length that does not parse (ringlb's
/// own framing check refused such heads already) counts as none.
fn body_of(is_head: bool, head: &ResponseHead, buf: &[u8]) -> Option<Body> {
    if is_head || matches!(head.status, 204 | 304) {
        return None;
    }
    if let Some(len) = head::find(&head.headers, buf, b"content-length") {
        let len = std::str::from_utf8(len).ok()?.parse::<u64>().ok()?;
        return (len > 0).then_some(Body::Length(len));
    }
    if head::find(&head.headers, buf, b"transfer-encoding").is_some() {
        return Some(Body::Chunked(ChunkedDecoder::new(), Vec::new()));
    }
    Some(Body::UntilEnd)
}
