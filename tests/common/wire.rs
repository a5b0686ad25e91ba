//! Buffered reading of HTTP/1.1 heads and bodies from a std socket, shared by the mock member
//! and the client.

use std::io::{self, ErrorKind, Read};
use std::net::TcpStream;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use super::{find, is_reset};

/// A socket plus the bytes read from it and not consumed yet.
pub(crate) struct Wire {
    pub(crate) stream: TcpStream,
    pub(crate) buf: Vec<u8>,
    /// Bytes ever read from the socket.
    pub(crate) received: Arc<AtomicU64>,
}

const READ_BLOCK: usize = 64 * 1024;
const MAX_TEST_HEAD: usize = 1024 * 1024;

impl Wire {
    pub(crate) fn new(stream: TcpStream) -> Wire {
        Wire {
            stream,
            buf: Vec::new(),
            received: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Appends one read's worth to the buffer; 0 = end of stream.
    pub(crate) fn fill(&mut self) -> io::Result<usize> {
        let mut tmp = vec![0u8; READ_BLOCK];
        loop {
            match self.stream.read(&mut tmp) {
                Ok(n) => {
                    self.buf.extend_from_slice(&tmp[..n]);
                    self.received.fetch_add(n as u64, Ordering::SeqCst);
                    return Ok(n);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Consumes and returns a complete head (through CRLFCRLF); `None` on a clean end of stream
    /// before any byte.
    pub(crate) fn read_head(&mut self) -> io::Result<Option<Vec<u8>>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n\r\n") {
                return Ok(Some(self.buf.drain(..i + 4).collect()));
            }
            if self.buf.len() > MAX_TEST_HEAD {
                return Err(io::Error::new(ErrorKind::InvalidData, "head too large"));
            }
            if self.fill()? == 0 {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "eof inside a head",
                ));
            }
        }
    }

    /// Consumes one line and returns it without its CRLF.
    pub(crate) fn read_line(&mut self) -> io::Result<Vec<u8>> {
        loop {
            if let Some(i) = find(&self.buf, b"\r\n") {
                let mut line: Vec<u8> = self.buf.drain(..i + 2).collect();
                line.truncate(i);
                return Ok(line);
            }
            if self.fill()? == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "eof inside a line",
                ));
            }
        }
    }

    /// Passes exactly `n` bytes to `sink`, never holding more than one read block.
    pub(crate) fn read_exact_with(
        &mut self,
        mut n: u64,
        sink: &mut dyn FnMut(&[u8]),
    ) -> io::Result<()> {
        while n > 0 {
            if self.buf.is_empty() && self.fill()? == 0 {
                return Err(io::Error::new(
                    ErrorKind::UnexpectedEof,
                    "eof inside a body",
                ));
            }
            let take = self.buf.len().min(usize::try_from(n).unwrap_or(usize::MAX));
            sink(&self.buf[..take]);
            self.buf.drain(..take);
            n -= take as u64;
        }
        Ok(())
    }

    /// Decodes a chunked body (extensions and trailers are skipped) into `sink`.
    pub(crate) fn read_chunked_with(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            let line = self.read_line()?;
            let size_text = line.split(|&b| b == b';').next().unwrap_or(&[]);
            let size_text = std::str::from_utf8(size_text)
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "chunk size not ascii"))?;
            let size = u64::from_str_radix(size_text.trim(), 16)
                .map_err(|_| io::Error::new(ErrorKind::InvalidData, "bad chunk size"))?;
            if size == 0 {
                while !self.read_line()?.is_empty() {}
                return Ok(());
            }
            self.read_exact_with(size, sink)?;
            if !self.read_line()?.is_empty() {
                return Err(io::Error::new(
                    ErrorKind::InvalidData,
                    "chunk not followed by CRLF",
                ));
            }
        }
    }

    /// Passes everything up to the end of stream to `sink` (a reset counts as the end).
    pub(crate) fn read_to_end_with(&mut self, sink: &mut dyn FnMut(&[u8])) -> io::Result<()> {
        loop {
            if !self.buf.is_empty() {
                sink(&self.buf);
                self.buf.clear();
            }
            match self.fill() {
                Ok(0) => return Ok(()),
                Ok(_) => {}
                Err(e) if is_reset(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
    }

    /// Buffered bytes if any, else one read; empty = end of stream.
    pub(crate) fn read_some(&mut self) -> io::Result<Vec<u8>> {
        if self.buf.is_empty() {
            self.fill()?;
        }
        Ok(std::mem::take(&mut self.buf))
    }
}

/// Name/value pairs in arrival order.
pub(crate) type Headers = Vec<(String, String)>;

pub(crate) fn header_values<'a>(headers: &'a Headers, name: &str) -> Vec<&'a str> {
    headers
        .iter()
        .filter(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
        .collect()
}

pub(crate) fn collect_headers(parsed: &[httparse::Header<'_>]) -> Headers {
    parsed
        .iter()
        .map(|h| {
            (
                h.name.to_string(),
                String::from_utf8_lossy(h.value).into_owned(),
            )
        })
        .collect()
}

/// Whether a comma-separated header list (e.g. Transfer-Encoding, Connection) ends with or
/// contains `token`.
pub(crate) fn list_has(values: &[&str], token: &str) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .any(|t| t.trim().eq_ignore_ascii_case(token))
}

pub(crate) fn last_coding_is_chunked(values: &[&str]) -> bool {
    values
        .iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .rfind(|t| !t.is_empty())
        .is_some_and(|t| t.eq_ignore_ascii_case("chunked"))
}
