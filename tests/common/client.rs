//! The raw-bytes HTTP/1.1 client.

use std::io::{self, ErrorKind, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Where a streamed body goes.
type Sink<'r, 'f> = &'r mut (dyn FnMut(&[u8]) + 'f);

use super::wire::{collect_headers, header_values, last_coding_is_chunked, Headers, Wire};
use super::{is_reset, is_timeout, set_timeouts, IO_TIMEOUT};

/// An I/O error as a test failure reason; a socket timeout says so plainly.
fn why(e: &io::Error) -> String {
    if is_timeout(e) {
        format!("nothing within the {IO_TIMEOUT:?} socket timeout ({e})")
    } else {
        e.to_string()
    }
}

/// One parsed response as the client saw it.
#[derive(Clone, Debug)]
pub(crate) struct Response {
    /// 0 for HTTP/1.0, 1 for HTTP/1.1.
    pub(crate) version: u8,
    pub(crate) status: u16,
    pub(crate) reason: String,
    pub(crate) headers: Headers,
    /// De-framed body (empty when streamed to a sink).
    pub(crate) body: Vec<u8>,
    /// The body came with `Transfer-Encoding: chunked`.
    pub(crate) chunked: bool,
    /// Neither length nor chunked: the body ran until the connection closed.
    pub(crate) close_delimited: bool,
    /// 1xx responses (other than 101) that preceded this one, in order.
    pub(crate) interim: Vec<Response>,
}

impl Response {
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        header_values(&self.headers, name).first().copied()
    }

    pub(crate) fn headers_named(&self, name: &str) -> Vec<&str> {
        header_values(&self.headers, name)
    }

    pub(crate) fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

/// A raw-bytes HTTP/1.1 client connection with timeouts.
pub(crate) struct Client {
    wire: Wire,
}

impl Client {
    pub(crate) fn connect(addr: SocketAddr) -> Client {
        let s = TcpStream::connect_timeout(&addr, IO_TIMEOUT)
            .unwrap_or_else(|e| panic!("connect to {addr}: {e}"));
        set_timeouts(&s);
        Client { wire: Wire::new(s) }
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.wire.stream.local_addr().unwrap()
    }

    pub(crate) fn set_read_timeout(&self, d: Duration) {
        self.wire.stream.set_read_timeout(Some(d)).unwrap();
    }

    /// A second handle on the socket (e.g. to write from another thread).
    pub(crate) fn try_clone_stream(&self) -> TcpStream {
        self.wire.stream.try_clone().unwrap()
    }

    pub(crate) fn send(&mut self, bytes: &[u8]) {
        self.wire
            .stream
            .write_all(bytes)
            .unwrap_or_else(|e| panic!("client write: {e}"));
    }

    /// Sends `bytes` and reads the final response (for a non-HEAD request).
    pub(crate) fn request(&mut self, bytes: &[u8]) -> Response {
        self.send(bytes);
        self.read_response()
    }

    /// Reads the final response to a non-HEAD request; 1xx responses before it land in
    /// `interim`. A `101` is returned as the final response.
    pub(crate) fn read_response(&mut self) -> Response {
        self.try_read_final(false, None)
            .unwrap_or_else(|e| panic!("reading a response: {}", why(&e)))
    }

    /// Reads the final response to a HEAD request (no body whatever its headers say).
    pub(crate) fn read_head_response(&mut self) -> Response {
        self.try_read_final(true, None)
            .unwrap_or_else(|e| panic!("reading a response: {}", why(&e)))
    }

    /// Reads the final response, streaming its body into `sink` instead of keeping it.
    pub(crate) fn read_response_with(&mut self, sink: &mut dyn FnMut(&[u8])) -> Response {
        self.try_read_final(false, Some(sink))
            .unwrap_or_else(|e| panic!("reading a response: {}", why(&e)))
    }

    /// Reads exactly the next response head and its body, 1xx included.
    pub(crate) fn read_one(&mut self) -> Response {
        self.try_read_one(false, None)
            .unwrap_or_else(|e| panic!("reading a response: {}", why(&e)))
    }

    /// Reads exactly `n` raw bytes (e.g. from a tunnel).
    pub(crate) fn read_exact(&mut self, n: usize) -> Vec<u8> {
        let mut out = Vec::with_capacity(n);
        self.wire
            .read_exact_with(n as u64, &mut |b| out.extend_from_slice(b))
            .unwrap_or_else(|e| panic!("reading {n} bytes: {}", why(&e)));
        out
    }

    /// Asserts that the proxy closes the connection with no further bytes (a reset after the
    /// response counts as closed).
    pub(crate) fn expect_closed(&mut self) {
        let mut extra = Vec::new();
        let r = self
            .wire
            .read_to_end_with(&mut |b| extra.extend_from_slice(b));
        match r {
            Ok(()) => assert!(
                extra.is_empty(),
                "bytes after the response: {:?}",
                String::from_utf8_lossy(&extra)
            ),
            Err(e) => panic!("connection not closed by the proxy: {}", why(&e)),
        }
    }

    fn try_read_final(
        &mut self,
        head_request: bool,
        mut sink: Option<Sink<'_, '_>>,
    ) -> io::Result<Response> {
        let mut interim = Vec::new();
        loop {
            let resp = self.try_read_one(head_request, sink.as_deref_mut())?;
            if (100..200).contains(&resp.status) && resp.status != 101 {
                interim.push(resp);
                continue;
            }
            return Ok(Response { interim, ..resp });
        }
    }

    fn try_read_one(
        &mut self,
        head_request: bool,
        sink: Option<Sink<'_, '_>>,
    ) -> io::Result<Response> {
        let Some(head) = self.wire.read_head()? else {
            return Err(io::Error::new(
                ErrorKind::UnexpectedEof,
                "closed before a response",
            ));
        };
        let mut slots = [httparse::EMPTY_HEADER; 256];
        let mut parsed = httparse::Response::new(&mut slots);
        match parsed.parse(&head) {
            Ok(httparse::Status::Complete(_)) => {}
            _ => {
                let text = String::from_utf8_lossy(&head).into_owned();
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    format!("bad head {text:?}"),
                ));
            }
        }
        let headers = collect_headers(parsed.headers);
        let status = parsed.code.unwrap_or(0);
        let mut resp = Response {
            version: parsed.version.unwrap_or(1),
            status,
            reason: parsed.reason.unwrap_or("").to_string(),
            chunked: last_coding_is_chunked(&header_values(&headers, "transfer-encoding")),
            close_delimited: false,
            headers,
            body: Vec::new(),
            interim: Vec::new(),
        };
        let bodiless =
            head_request || (100..200).contains(&status) || status == 204 || status == 304;
        if bodiless {
            return Ok(resp);
        }
        let mut body = Vec::new();
        let mut keep = |b: &[u8]| body.extend_from_slice(b);
        let sink: &mut dyn FnMut(&[u8]) = match sink {
            Some(s) => s,
            None => &mut keep,
        };
        if resp.chunked {
            self.wire.read_chunked_with(sink)?;
        } else if let Some(cl) = resp.header("content-length") {
            let n: u64 = cl
                .trim()
                .parse()
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "bad Content-Length"))?;
            self.wire.read_exact_with(n, sink)?;
        } else {
            resp.close_delimited = true;
            self.wire.read_to_end_with(sink)?;
        }
        resp.body = body;
        Ok(resp)
    }
}

/// Connects, writes `bytes`, and reads until the proxy closes (a reset counts as closed),
/// failing the test if that takes longer than [`IO_TIMEOUT`].
pub(crate) fn raw_exchange(addr: SocketAddr, bytes: &[u8]) -> Vec<u8> {
    let mut c = Client::connect(addr);
    c.send(bytes);
    let end = Instant::now() + IO_TIMEOUT;
    let mut out = Vec::new();
    loop {
        out.append(&mut c.wire.buf);
        match c.wire.fill() {
            Ok(0) => return out,
            Ok(_) => {}
            Err(e) if is_reset(&e) => return out,
            Err(e) => panic!(
                "no close from the proxy ({e}); got so far: {:?}",
                String::from_utf8_lossy(&out)
            ),
        }
        assert!(Instant::now() < end, "no close within {IO_TIMEOUT:?}");
    }
}

/// Asserts that `resp` is a ringlb-made error: the status, and a short non-empty text body.
pub(crate) fn assert_error(resp: &Response, code: u16) {
    assert_eq!(resp.status, code, "status; body: {:?}", resp.body_text());
    assert!(!resp.reason.is_empty(), "reason phrase of {code}");
    let ctype = resp.header("content-type").unwrap_or("");
    assert!(
        ctype.starts_with("text/plain"),
        "{code} content-type {ctype:?}"
    );
    assert!(!resp.body.is_empty(), "{code} body names the cause");
    assert!(
        std::str::from_utf8(&resp.body).is_ok(),
        "{code} body is text"
    );
}

/// A `GET path` request with a Host header.
pub(crate) fn get(path: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: example.test\r\n\r\n").into_bytes()
}

/// A `POST path` request with a Content-Length body.
pub(crate) fn post(path: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: example.test\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}
