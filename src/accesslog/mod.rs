//! The access log: one line per request in an Apache `LogFormat`, written by each worker thread
//! into its own buffer and flushed off the request path.
//!
//! This module owns the line format ([`mod@format`], pure), the `%t` timestamp ([`time`], pure) and
//! the per-worker file sink ([`sink`], the only I/O). It does not read clocks or collect values:
//! the worker fills a borrow-only [`Record`] when a request finishes and calls
//! [`AccessLog::log`]; its periodic tick calls [`AccessLog::tick`].
//!
//! ```text
//! Config:  Format::parse(spec) ──► Arc<Format> (shared, immutable)
//! Worker:  AccessLog { Arc<Format>, TimeCache, Sink }   (one per thread, never shared)
//!            log(&Record)  → formats into the sink's buffer (no syscall, no allocation)
//!            tick(now_ms)  → write(2) when ≥ 64 KiB or ≥ 200 ms old; reopen after SIGUSR1
//! Signals: sink::request_reopen()  (bumps the process-wide generation)
//! ```

pub mod format;
pub mod sink;
pub mod time;

#[cfg(test)]
mod tests_format;
#[cfg(test)]
mod tests_sink;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;

pub use format::Format;
pub use sink::{request_reopen, Sink, REOPEN};
pub use time::TimeCache;

use crate::http::head::Header;

/// Everything one line can show about a finished request. Borrow-only: filling it allocates
/// nothing, so the worker builds it on the stack from its parsed heads and counters.
///
/// Optional values print `-` when `None`. [`Record::default`] gives an empty record (all counts
/// zero, unspecified IPv4 address) for struct-update syntax.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub client_ip: IpAddr,
    pub method: &'a [u8],
    /// The request target as received (origin form `/p?q`, or absolute form).
    pub target: &'a [u8],
    /// The protocol as received, e.g. `HTTP/1.1`.
    pub version: &'a [u8],
    /// The status sent to the client; 0 when no response was sent.
    pub status: u16,
    /// Response body bytes sent to the client (`%b`, `%B`).
    pub body_bytes: u64,
    /// All bytes sent to the client, head included (`%O`).
    pub bytes_out: u64,
    /// All bytes received from the client, head included (`%I`).
    pub bytes_in: u64,
    /// From the first byte of the request head to the last byte of the response (`%D`, `%T`).
    pub total_us: u64,
    /// From sending the request to the member until its response head arrived, for the
    /// attempt that answered; `None` when no member answered.
    pub upstream_us: Option<u64>,
    /// Time spent waiting for a connection to a member with `max` (HAProxy's `Tw`), every
    /// attempt together; `None` when no member connection was sought.
    pub queue_us: Option<u64>,
    /// `BALANCER_NAME`, e.g. `balancer://app`.
    pub balancer: Option<&'a str>,
    /// `BALANCER_WORKER_NAME`: the member's URL.
    pub worker_name: Option<&'a str>,
    /// `BALANCER_WORKER_ROUTE`: the member's configured route.
    pub worker_route: Option<&'a str>,
    /// `BALANCER_SESSION_STICKY`: the cookie or path parameter name the route came from; `None`
    /// when no route was parsed (docs/semantics.md §3 item 8).
    pub session_sticky: Option<&'a [u8]>,
    /// `BALANCER_SESSION_ROUTE`: the route parsed from the request.
    pub session_route: Option<&'a [u8]>,
    /// `BALANCER_ROUTE_CHANGED`: printed as `1`, or `-` when false (Apache leaves it unset).
    pub route_changed: bool,
    /// `RINGLB_WORKER`: index of the worker thread that served the request.
    pub worker: usize,
    /// `RINGLB_ATTEMPTS`: members tried (0 when the proxy answered itself).
    pub attempts: u32,
    pub request_headers: HeaderView<'a>,
    /// The response head as sent to the client.
    pub response_headers: HeaderView<'a>,
    /// Unix seconds when the request head was received (Apache's `request_time`), for `%t`.
    pub unix_time: u64,
}

impl Default for Record<'_> {
    fn default() -> Self {
        Record {
            client_ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            method: b"",
            target: b"",
            version: b"",
            status: 0,
            body_bytes: 0,
            bytes_out: 0,
            bytes_in: 0,
            total_us: 0,
            upstream_us: None,
            queue_us: None,
            balancer: None,
            worker_name: None,
            worker_route: None,
            session_sticky: None,
            session_route: None,
            route_changed: false,
            worker: 0,
            attempts: 0,
            request_headers: HeaderView::NONE,
            response_headers: HeaderView::NONE,
            unix_time: 0,
        }
    }
}

/// Header fields of one head, seen without copying: either the spans the worker already has
/// from [`crate::http::head`], or plain pairs.
#[derive(Clone, Copy, Debug)]
pub enum HeaderView<'a> {
    /// `(name, value)` pairs.
    Pairs(&'a [(&'a [u8], &'a [u8])]),
    /// Parsed header spans and the buffer they index. A span outside `buf` is skipped, never a
    /// panic.
    Spans {
        buf: &'a [u8],
        headers: &'a [Header],
    },
}

impl<'a> HeaderView<'a> {
    /// No headers.
    pub const NONE: HeaderView<'static> = HeaderView::Pairs(&[]);

    /// Calls `f` with the value of each field named `name` (ASCII case-insensitive), in order.
    pub fn for_each_value(&self, name: &[u8], mut f: impl FnMut(&'a [u8])) {
        match *self {
            HeaderView::Pairs(pairs) => {
                for &(n, v) in pairs {
                    if n.eq_ignore_ascii_case(name) {
                        f(v);
                    }
                }
            }
            HeaderView::Spans { buf, headers } => {
                for h in headers {
                    let n = buf.get(h.name.start as usize..h.name.end as usize);
                    let v = buf.get(h.value.start as usize..h.value.end as usize);
                    if let (Some(n), Some(v)) = (n, v) {
                        if n.eq_ignore_ascii_case(name) {
                            f(v);
                        }
                    }
                }
            }
        }
    }
}

/// One worker thread's access log: the shared format, this thread's timestamp cache and sink.
///
/// # Concurrency
/// Owned by one worker thread and never shared. Several `AccessLog`s (one per worker) may write
/// the same file: the sink writes whole lines with `O_APPEND`.
#[derive(Debug)]
pub struct AccessLog {
    format: Arc<Format>,
    time: TimeCache,
    sink: Sink,
}

impl AccessLog {
    pub fn new(format: Arc<Format>, sink: Sink) -> AccessLog {
        AccessLog {
            format,
            time: TimeCache::new(),
            sink,
        }
    }

    /// Formats `rec` into the sink's buffer. No allocation (beyond the buffer's amortised
    /// growth) and normally no syscall: only when the buffer has passed
    /// [`sink::FLUSH_BYTES`] is it written here (see [`Sink::appended`]).
    #[inline]
    pub fn log(&mut self, rec: &Record<'_>) {
        self.format
            .write_with(rec, &mut self.time, self.sink.buffer());
        self.sink.appended();
    }

    /// The periodic tick: flushes when due (see [`Sink::flush_if_due`]).
    pub fn tick(&mut self, now_ms: u64) {
        self.sink.flush_if_due(now_ms);
    }

    /// Writes everything buffered now (shutdown, or before swapping the sink).
    pub fn flush(&mut self) {
        self.sink.flush();
    }

    pub fn format(&self) -> &Format {
        &self.format
    }

    pub fn sink(&self) -> &Sink {
        &self.sink
    }

    pub fn sink_mut(&mut self) -> &mut Sink {
        &mut self.sink
    }
}
