//! The per-worker access-log sink: a line buffer the worker formats into, written to a file,
//! standard output or standard error, or sent to the local syslog socket, off the request path.
//!
//! # Contract
//! * **When it writes.** [`Sink::appended`] (after each line) writes only once the buffer holds
//!   [`FLUSH_BYTES`]; [`Sink::flush_if_due`] (the worker's periodic tick) writes when the oldest
//!   buffered line may be [`FLUSH_INTERVAL_MS`] old. So a request costs a `memcpy`, and a
//!   `write(2)` happens about once per 64 KiB or per tick.
//! * **Whole lines.** A flush writes only up to the last `\n` in the buffer, in one `write(2)` per
//!   chunk, each chunk ending at a line end. With `O_APPEND` on a regular file, Linux writes each
//!   call at the end of the file in one piece, so several workers (several sinks) can share a
//!   file and lines never interleave. For a pipe (or other non-regular file) chunks are at most
//!   `PIPE_BUF` (4096) bytes, the size up to which pipe writes are atomic; a single longer line
//!   is written alone. The one exception is a short write (disk full): the remainder of that
//!   line is written by the next call and may land after another worker's lines.
//! * **Bounded memory, bounded blocking.** A write error is counted ([`Sink::errors`]), the data
//!   stays buffered and is retried at the next tick only, never per request. If the buffer then
//!   grows past [`MAX_BUFFER`], the oldest whole lines are dropped down to half of it and
//!   counted ([`Sink::dropped`]). Writes are blocking `write(2)`s to the page cache or a pipe;
//!   there is no retry loop other than for `EINTR`.
//! * **Reopen (logrotate).** [`request_reopen`] (called by the signal thread on SIGUSR1) bumps the
//!   process-wide [`REOPEN`] generation. Each sink remembers the generation it opened at; at its
//!   next flush (or tick, even with nothing buffered) it opens its path again (append, create)
//!   and writes there from then on. Lines flushed before that stay in the old (renamed) file. If
//!   the open fails, the old file is kept and the open is retried at the next flush.
//! * **Syslog.** A syslog sink sends each complete line as one datagram ([`crate::syslog`],
//!   severity `info`, stamped with the wall clock read once per flush), from the same flushes.
//!   A full daemon queue (`WouldBlock`) or a send error counts an error and keeps the unsent
//!   lines for the next tick, as a failed write does. It is never reopened.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::os::fd::AsFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::syslog::{Severity, Syslog};

/// Buffered bytes that trigger a write without waiting for the tick.
pub const FLUSH_BYTES: usize = 64 * 1024;
/// Longest time a line should wait in the buffer, given a tick at least this frequent.
pub const FLUSH_INTERVAL_MS: u64 = 200;
/// Most bytes kept while writes fail; beyond it the oldest lines are dropped.
pub const MAX_BUFFER: usize = 1024 * 1024;
/// Largest write that is atomic on a pipe (Linux `PIPE_BUF`).
const PIPE_BUF: usize = 4096;

/// Reopen generation: bumped by [`request_reopen`], compared by every sink at flush time.
///
/// # Concurrency
/// Written by the signal-handling thread, read with `Relaxed` by each worker at most once per
/// flush; no other data depends on it.
pub static REOPEN: AtomicU64 = AtomicU64::new(0);

/// Asks every sink to reopen its path at its next flush (after logrotate moved the file).
pub fn request_reopen() {
    REOPEN.fetch_add(1, Ordering::Relaxed);
}

/// One worker's buffered log output. See the module doc for when it writes.
///
/// # Concurrency
/// Owned by one worker thread. Sinks of different threads may share a file; nothing in a sink is
/// shared.
#[derive(Debug)]
pub struct Sink {
    out: Out,
    /// The path to reopen; `None` for standard output.
    path: Option<PathBuf>,
    buf: Vec<u8>,
    /// Largest single write: `PIPE_BUF` for pipes and devices, unlimited for regular files.
    chunk: usize,
    generation: u64,
    last_flush_ms: u64,
    /// The last write failed: wait for the tick before trying again.
    failing: bool,
    dropped: u64,
    errors: u64,
}

/// Where a sink's lines go.
#[derive(Debug)]
enum Out {
    File(File),
    Syslog(Syslog),
}

impl Sink {
    /// Opens `path` for appending, creating it if needed.
    pub fn open(path: &Path) -> io::Result<Sink> {
        let generation = REOPEN.load(Ordering::Relaxed);
        let out = open_append(path)?;
        Ok(Sink::new(out, Some(path.to_path_buf()), generation))
    }

    /// Writes to standard output (a duplicate of fd 1, written without the `Stdout` lock).
    /// Never reopened.
    pub fn stdout() -> io::Result<Sink> {
        let fd = io::stdout().as_fd().try_clone_to_owned()?;
        Ok(Sink::new(File::from(fd), None, 0))
    }

    /// Writes to standard error (a duplicate of fd 2). Never reopened.
    pub fn stderr() -> io::Result<Sink> {
        let fd = io::stderr().as_fd().try_clone_to_owned()?;
        Ok(Sink::new(File::from(fd), None, 0))
    }

    /// Sends to the local syslog datagram socket at `socket` (see the module doc). Fails when
    /// nothing listens there.
    pub fn syslog(socket: &Path) -> io::Result<Sink> {
        let mut sink = Sink::new_with(Out::Syslog(Syslog::connect(socket)?), None, 0);
        sink.chunk = usize::MAX;
        Ok(sink)
    }

    fn new(out: File, path: Option<PathBuf>, generation: u64) -> Sink {
        let chunk = chunk_for(&out);
        let mut sink = Sink::new_with(Out::File(out), path, generation);
        sink.chunk = chunk;
        sink
    }

    fn new_with(out: Out, path: Option<PathBuf>, generation: u64) -> Sink {
        Sink {
            chunk: usize::MAX,
            out,
            path,
            buf: Vec::with_capacity(FLUSH_BYTES + PIPE_BUF),
            generation,
            last_flush_ms: 0,
            failing: false,
            dropped: 0,
            errors: 0,
        }
    }

    /// The buffer to append complete lines to (each ending in `\n`). Call
    /// [`appended`](Self::appended) after appending.
    #[inline]
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buf
    }

    /// Bytes waiting to be written.
    pub fn buffered_len(&self) -> usize {
        self.buf.len()
    }

    /// After appending to [`buffer`](Self::buffer): writes if the buffer reached
    /// [`FLUSH_BYTES`] (unless the last write failed; then the tick retries), and enforces
    /// [`MAX_BUFFER`]. Otherwise one comparison.
    #[inline]
    pub fn appended(&mut self) {
        if self.buf.len() >= FLUSH_BYTES {
            if self.failing {
                self.enforce_cap();
            } else {
                self.flush();
            }
        }
    }

    /// The periodic tick, `now_ms` from a monotonic clock: flushes when the buffer reached
    /// [`FLUSH_BYTES`], or when it holds lines and [`FLUSH_INTERVAL_MS`] passed since the last
    /// tick that wrote. With nothing buffered it only performs a pending reopen.
    pub fn flush_if_due(&mut self, now_ms: u64) {
        if self.buf.is_empty() {
            if self.reopen_requested() {
                self.flush(); // only reopens: release the rotated file even when idle
            }
            return;
        }
        let due = now_ms.saturating_sub(self.last_flush_ms) >= FLUSH_INTERVAL_MS;
        if due || self.buf.len() >= FLUSH_BYTES {
            self.flush();
            self.last_flush_ms = now_ms;
        }
    }

    /// Reopens if requested, then writes every complete line buffered. A failed write keeps the
    /// unwritten lines (up to [`MAX_BUFFER`]) and counts an error.
    pub fn flush(&mut self) {
        self.reopen_if_requested();
        let end = memchr::memrchr(b'\n', &self.buf).map_or(0, |i| i + 1);
        let written = match &mut self.out {
            Out::File(file) => write_lines(file, &self.buf[..end], self.chunk, &mut self.errors),
            Out::Syslog(log) => send_lines(log, &self.buf[..end], &mut self.errors),
        };
        self.failing = written < end;
        if written == self.buf.len() {
            self.buf.clear();
        } else {
            self.buf.drain(..written);
        }
        self.enforce_cap();
    }

    /// Lines dropped because writes failed and the buffer was full.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Failed writes and failed reopens so far.
    pub fn errors(&self) -> u64 {
        self.errors
    }

    /// The file's path; `None` for standard output.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn reopen_requested(&self) -> bool {
        self.path.is_some() && REOPEN.load(Ordering::Relaxed) != self.generation
    }

    fn reopen_if_requested(&mut self) {
        let generation = REOPEN.load(Ordering::Relaxed);
        if generation == self.generation {
            return;
        }
        let Some(path) = &self.path else {
            self.generation = generation;
            return;
        };
        match open_append(path) {
            Ok(file) => {
                self.chunk = chunk_for(&file);
                self.out = Out::File(file);
                self.generation = generation;
            }
            Err(_) => self.errors += 1, // keep writing to the old file; retry next flush
        }
    }

    /// Past [`MAX_BUFFER`], drops the oldest whole lines until at most half of it is left.
    fn enforce_cap(&mut self) {
        if self.buf.len() <= MAX_BUFFER {
            return;
        }
        let excess = self.buf.len() - MAX_BUFFER / 2;
        let cut = match memchr::memchr(b'\n', &self.buf[excess - 1..]) {
            Some(i) => excess + i,
            None => self.buf.len(),
        };
        let mut lines = memchr::memchr_iter(b'\n', &self.buf[..cut]).count() as u64;
        if cut > 0 && self.buf[cut - 1] != b'\n' {
            lines += 1;
        }
        self.dropped += lines;
        self.buf.drain(..cut);
    }
}

impl Drop for Sink {
    /// Best-effort final flush.
    fn drop(&mut self) {
        self.flush();
    }
}

/// Writes `lines` (ending in `\n`) to `file` in chunks of at most `chunk` bytes ending at line
/// ends; returns the bytes written. A failed write counts in `errors` and stops.
fn write_lines(file: &mut File, lines: &[u8], chunk: usize, errors: &mut u64) -> usize {
    let mut written = 0;
    while written < lines.len() {
        let len = chunk_len(&lines[written..], chunk);
        match file.write(&lines[written..written + len]) {
            Ok(0) => {
                *errors += 1;
                break;
            }
            Ok(n) => written += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(_) => {
                *errors += 1;
                break;
            }
        }
    }
    written
}

/// Sends each of `lines` (each ending in `\n`) as one syslog message; returns the bytes of
/// the lines sent. A failed send (a full queue included) counts in `errors` and stops.
fn send_lines(log: &mut Syslog, lines: &[u8], errors: &mut u64) -> usize {
    let unix = crate::clock::unix_now();
    let mut sent = 0;
    for end in memchr::memchr_iter(b'\n', lines) {
        if log.send(Severity::Info, unix, &lines[sent..end]).is_err() {
            *errors += 1;
            break;
        }
        sent = end + 1;
    }
    sent
}

fn open_append(path: &Path) -> io::Result<File> {
    OpenOptions::new().append(true).create(true).open(path)
}

/// Regular files take any size in one write; pipes, sockets and devices only `PIPE_BUF`
/// atomically.
fn chunk_for(file: &File) -> usize {
    match file.metadata() {
        Ok(m) if m.file_type().is_file() => usize::MAX,
        _ => PIPE_BUF,
    }
}

/// Length of the next write from `buf` (which ends with `\n`): all of it if it fits in `max`,
/// else the longest prefix within `max` that ends at a line end, else the first line alone.
pub(crate) fn chunk_len(buf: &[u8], max: usize) -> usize {
    if buf.len() <= max {
        return buf.len();
    }
    if let Some(i) = memchr::memrchr(b'\n', &buf[..max]) {
        return i + 1;
    }
    memchr::memchr(b'\n', buf).map_or(buf.len(), |i| i + 1)
}
