//! Blocking HTTP/1.1 for the threads off the data path: the admin listener, the `check --diff`
//! fetch and the demo members. Workers never block, and nothing here runs on one.
//!
//! One message reader for requests and responses, built on the data path's own parsers: the
//! head through [`crate::http::head`] (httparse into spans), the framing through
//! [`crate::http::framing`] (RFC 9112 section 6.3 with its smuggling refusals), chunked bodies
//! through [`crate::http::chunked`]. So there is one set of HTTP rules in the crate, and the
//! admin listener refuses exactly what a worker would.
//!
//! Two layers:
//! - [`Parser`], pure: fed a growing buffer (and told when the peer closed), it returns the
//!   message once complete, with every limit checked before the buffer grows past it. Never
//!   panics on any input (unit-tested over truncations and garbage).
//! - [`read_message`], I/O: reads a `std::net::TcpStream` into the parser until a message is
//!   complete, within an optional deadline (each read gets the time left as its timeout), and
//!   keeps bytes after the message (pipelining, keep-alive) for the next call.
//!
//! [`response_bytes`] writes a whole response with its `Content-Length`.

use std::fmt;
use std::io::{self, Read};
use std::net::TcpStream;
use std::time::Instant;

use crate::clock;
use crate::http::chunked::{ChunkedDecoder, ChunkedError};
use crate::http::framing::{self, BodyKind, FramingError};
use crate::http::head::{self, HeadError, Headers};
use crate::http::{Span, Version};

#[cfg(test)]
#[path = "blocking/tests.rs"]
mod tests;

/// `read`, repeated when a signal interrupts it: a blocking read on any thread of the process
/// can return `EINTR`, and `Read::read` (unlike `read_exact`) does not retry.
pub fn read_retrying(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}

/// What is being read: a request, or the response to a request with this method (a response
/// to `HEAD` has no body whatever its head says).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role<'a> {
    Request,
    Response { method: &'a [u8] },
}

/// Bounds on one message, so a peer cannot make the reader hold more than this.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Bytes of head, including the empty line that ends it.
    pub head: usize,
    /// Header fields (at most [`crate::http::MAX_HEADERS`]).
    pub headers: usize,
    /// Bytes of body, after chunked decoding.
    pub body: usize,
}

/// Why no message was read.
#[derive(Debug)]
pub enum Error {
    /// The peer closed before sending a byte of this message (a keep-alive connection ending).
    Closed,
    /// The peer closed in the middle of the head.
    TruncatedHead,
    /// The head is not HTTP/1.x.
    Head(HeadError),
    /// The head's framing is refused (both Content-Length and Transfer-Encoding, a bad
    /// Content-Length, a missing Host, ...).
    Framing(FramingError),
    /// The head is longer than [`Limits::head`].
    HeadTooLarge,
    /// The body is longer than [`Limits::body`].
    BodyTooLarge,
    /// The peer closed after `got` of `want` body bytes.
    TruncatedBody { got: usize, want: u64 },
    /// A malformed chunked body.
    Chunked(ChunkedError),
    /// The peer closed inside a chunked body.
    TruncatedChunked,
    /// The deadline passed (or a read timed out) before the message was complete.
    TimedOut,
    /// Reading the socket failed.
    Io(io::Error),
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Closed => f.write_str("the connection closed"),
            Error::TruncatedHead => f.write_str("the connection closed in the middle of the head"),
            Error::Head(e) => f.write_str(e.reason()),
            Error::Framing(e) => f.write_str(e.reason()),
            Error::HeadTooLarge => f.write_str("head too large"),
            Error::BodyTooLarge => f.write_str("body too large"),
            Error::TruncatedBody { got, want } => {
                write!(f, "the body ends after {got} of {want} bytes")
            }
            Error::Chunked(e) => write!(f, "bad chunked body: {}", e.0),
            Error::TruncatedChunked => f.write_str("truncated chunked body"),
            Error::TimedOut => f.write_str("timed out"),
            Error::Io(e) => write!(f, "{e}"),
        }
    }
}

/// The start line of a [`Message`], as spans into its head.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Start {
    Request { method: Span, target: Span },
    Response { status: u16, reason: Span },
}

/// One whole message: its head bytes, the spans into them, the decoded body.
#[derive(Clone, Debug)]
pub struct Message {
    head: Vec<u8>,
    start: Start,
    version: Version,
    headers: Headers,
    /// The body, chunked coding removed.
    pub body: Vec<u8>,
    /// The connection may carry another message after this one (RFC 9112 section 9.3).
    pub keep_alive: bool,
}

impl Message {
    /// The request method; empty for a response.
    pub fn method(&self) -> &str {
        match self.start {
            Start::Request { method, .. } => self.text(method),
            Start::Response { .. } => "",
        }
    }

    /// The request target as sent; empty for a response.
    pub fn target(&self) -> &str {
        match self.start {
            Start::Request { target, .. } => self.text(target),
            Start::Response { .. } => "",
        }
    }

    /// The response status; 0 for a request.
    pub fn status(&self) -> u16 {
        match self.start {
            Start::Response { status, .. } => status,
            Start::Request { .. } => 0,
        }
    }

    /// The reason phrase (lossy UTF-8); empty for a request or when absent.
    pub fn reason(&self) -> String {
        match self.start {
            Start::Response { reason, .. } => {
                String::from_utf8_lossy(reason.get(&self.head)).into_owned()
            }
            Start::Request { .. } => String::new(),
        }
    }

    pub fn version(&self) -> Version {
        self.version
    }

    /// Header fields in arrival order: name and value (value without surrounding whitespace).
    pub fn headers(&self) -> impl Iterator<Item = (&str, &[u8])> + '_ {
        self.headers
            .iter()
            .map(|h| (self.text(h.name), h.value.get(&self.head)))
    }

    /// The first value of the header `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&[u8]> {
        head::find(&self.headers, &self.head, name.as_bytes())
    }

    /// How many fields named `name` the head has.
    pub fn count(&self, name: &str) -> usize {
        head::values(&self.headers, &self.head, name.as_bytes()).count()
    }

    /// A span known to hold a method, target or header name: httparse accepts only tokens and
    /// visible ASCII there, so the conversion cannot fail; `""` if it ever did.
    fn text(&self, span: Span) -> &str {
        std::str::from_utf8(span.get(&self.head)).unwrap_or("")
    }
}

/// The head parsed, the body on its way.
#[derive(Debug)]
struct Pending {
    message: Message,
    framing: BodyKind,
    decoder: ChunkedDecoder,
    /// Bytes of the buffer consumed so far (head, then body).
    pos: usize,
}

/// An incremental message parser over a buffer that only grows between calls (the bytes
/// read so far from one connection, from where this message starts).
#[derive(Debug)]
pub struct Parser {
    limits: Limits,
    pending: Option<Pending>,
}

impl Parser {
    pub fn new(limits: Limits) -> Parser {
        Parser {
            limits,
            pending: None,
        }
    }

    /// Parses as much of `buf` as has arrived; `closed` says no byte will follow (a body read
    /// until close ends there; anything incomplete is an error). Returns the message and the
    /// bytes of `buf` it used once it is complete, `Ok(None)` while more must be read.
    pub fn parse(
        &mut self,
        buf: &[u8],
        closed: bool,
        role: Role<'_>,
    ) -> Result<Option<(Message, usize)>, Error> {
        if self.pending.is_none() {
            match parse_head(buf, closed, role, self.limits)? {
                Some(pending) => self.pending = Some(pending),
                None => return Ok(None),
            }
        }
        let Some(p) = self.pending.as_mut() else {
            return Ok(None);
        };
        let max = self.limits.body;
        let done = match p.framing {
            BodyKind::None => true,
            BodyKind::Length(want) => {
                let have = buf.len().saturating_sub(p.pos);
                let want_len = usize::try_from(want).map_err(|_| Error::BodyTooLarge)?;
                if want_len > max {
                    return Err(Error::BodyTooLarge);
                }
                if have >= want_len {
                    p.message.body = buf[p.pos..p.pos + want_len].to_vec();
                    p.pos += want_len;
                    true
                } else if closed {
                    return Err(Error::TruncatedBody { got: have, want });
                } else {
                    false
                }
            }
            BodyKind::Chunked => {
                let mut done = p.decoder.is_done();
                while !done && p.pos < buf.len() {
                    let step = p.decoder.step(&buf[p.pos..]).map_err(Error::Chunked)?;
                    let data = &buf[p.pos..][step.data];
                    if p.message.body.len() + data.len() > max {
                        return Err(Error::BodyTooLarge);
                    }
                    p.message.body.extend_from_slice(data);
                    p.pos += step.consumed;
                    done = step.done;
                }
                if !done && closed {
                    return Err(Error::TruncatedChunked);
                }
                done
            }
            BodyKind::UntilClose => {
                if buf.len() - p.pos > max {
                    return Err(Error::BodyTooLarge);
                }
                if closed {
                    p.message.body = buf[p.pos..].to_vec();
                    p.pos = buf.len();
                }
                closed
            }
        };
        if !done {
            return Ok(None);
        }
        Ok(self.pending.take().map(|p| (p.message, p.pos)))
    }
}

/// The head at the start of `buf` with its framing, or `None` while incomplete.
fn parse_head(
    buf: &[u8],
    closed: bool,
    role: Role<'_>,
    limits: Limits,
) -> Result<Option<Pending>, Error> {
    let window = &buf[..buf.len().min(limits.head)];
    let (head_len, start, version, headers, framing, keep_alive) = match role {
        Role::Request => {
            let Some(h) = head::parse_request(window, limits.headers).map_err(Error::Head)? else {
                return incomplete(buf, closed, limits);
            };
            let facts = framing::analyze_request(window, &h).map_err(Error::Framing)?;
            let start = Start::Request {
                method: h.method,
                target: h.target,
            };
            (
                h.len,
                start,
                h.version,
                h.headers,
                facts.body,
                facts.keep_alive,
            )
        }
        Role::Response { method } => {
            let Some(h) = head::parse_response(window, limits.headers).map_err(Error::Head)? else {
                return incomplete(buf, closed, limits);
            };
            let facts = framing::analyze_response(window, &h, method).map_err(Error::Framing)?;
            let start = Start::Response {
                status: h.status,
                reason: h.reason,
            };
            (
                h.len,
                start,
                h.version,
                h.headers,
                facts.body,
                facts.keep_alive,
            )
        }
    };
    Ok(Some(Pending {
        message: Message {
            head: buf[..head_len].to_vec(),
            start,
            version,
            headers,
            body: Vec::new(),
            keep_alive,
        },
        framing,
        decoder: ChunkedDecoder::new(),
        pos: head_len,
    }))
}

/// No whole head in `buf`: wait for more, or say why there will be none.
fn incomplete(buf: &[u8], closed: bool, limits: Limits) -> Result<Option<Pending>, Error> {
    if buf.len() >= limits.head {
        Err(Error::HeadTooLarge)
    } else if closed && buf.is_empty() {
        Err(Error::Closed)
    } else if closed {
        Err(Error::TruncatedHead)
    } else {
        Ok(None)
    }
}

/// Parses one whole message from `bytes`, all the peer sent before it closed.
pub fn parse_complete(bytes: &[u8], role: Role<'_>, limits: Limits) -> Result<Message, Error> {
    match Parser::new(limits).parse(bytes, true, role)? {
        Some((message, _)) => Ok(message),
        None => Err(Error::TruncatedHead), // unreachable: `closed` ends every wait
    }
}

/// Reads one message from `stream`. `buf` holds bytes already read (from an earlier call on
/// the same connection) and keeps, on success, those after this message. Each read waits at
/// most until `deadline` (`None`: the stream's own read timeout), then [`Error::TimedOut`].
pub fn read_message(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    role: Role<'_>,
    limits: Limits,
    deadline: Option<Instant>,
) -> Result<Message, Error> {
    let mut parser = Parser::new(limits);
    let mut chunk = [0u8; 16 * 1024];
    let mut closed = false;
    loop {
        if let Some((message, used)) = parser.parse(buf, closed, role)? {
            buf.drain(..used);
            return Ok(message);
        }
        if let Some(deadline) = deadline {
            let left = deadline.saturating_duration_since(clock::now());
            if left.is_zero() {
                return Err(Error::TimedOut);
            }
            stream.set_read_timeout(Some(left)).map_err(Error::Io)?;
        }
        match read_retrying(stream, &mut chunk) {
            Ok(0) => closed = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                return Err(Error::TimedOut)
            }
            Err(e) => return Err(Error::Io(e)),
        }
    }
}

/// A whole response: status line (reason phrase from the status), `headers` in order, then
/// `Content-Length` of `body`, the empty line, and the body unless `head_only` (an answer to
/// `HEAD`, which keeps the length of the body it leaves out).
pub fn response_bytes(
    status: u16,
    headers: &[(&str, &str)],
    body: &[u8],
    head_only: bool,
) -> Vec<u8> {
    let reason = crate::http::rewrite::reason_phrase(status);
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(format!("HTTP/1.1 {status} {reason}\r\n").as_bytes());
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    if !head_only {
        out.extend_from_slice(body);
    }
    out
}
