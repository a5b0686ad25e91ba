//! Shared helpers for the integration tests: a scripted synchronous mock member, a raw-bytes
//! HTTP/1.1 client, the proxy config builder and the `both_drivers!` test generator.
//!
//! Every std socket made here has read and write timeouts ([`IO_TIMEOUT`]), so a proxy that
//! hangs makes a test fail instead of stalling the run. Nothing here sleeps to synchronise: a
//! mock member may sleep to play a slow member ([`Reply::Delay`]), and [`poll_until`] waits for
//! a condition with a deadline.
#![allow(
    dead_code,
    unused_imports,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_types,
    clippy::disallowed_methods
)]

pub(crate) mod admin_api;
pub(crate) mod ajp_member;
mod client;
pub(crate) mod h2_frames;
pub(crate) mod load;
mod member;
pub(crate) mod process;
pub(crate) mod tls;
pub(crate) mod tls_member;
mod wire;

use std::io::{self, ErrorKind};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::thread;
use std::time::{Duration, Instant};

use ringlb::config::{
    BalancerConfig, Config, Forwarded, IoDriver, LbMethod, Limits, MemberConfig, Sticky, Timeouts,
};
use ringlb::server::{self, ServerHandle};

pub(crate) use client::{assert_error, get, post, raw_exchange, Client, Response};
pub(crate) use member::{response_bytes, MemberConn, MockMember, Reply, Request};

/// Read/write timeout of every socket the tests open.
pub(crate) const IO_TIMEOUT: Duration = Duration::from_secs(10);

/// Turns each `fn name(driver: IoDriver)` into a module `name` holding the tests `name::io_uring`
/// and `name::epoll`. The io_uring variant returns early (and says so) where the kernel or the
/// container refuses io_uring.
#[allow(unused_macros)]
macro_rules! both_drivers {
    ($($name:ident),+ $(,)?) => {$(
        mod $name {
            #[test]
            fn io_uring() {
                if crate::common::io_uring_available() {
                    super::$name(ringlb::config::IoDriver::IoUring);
                }
            }

            #[test]
            fn epoll() {
                super::$name(ringlb::config::IoDriver::Epoll);
            }
        }
    )+};
}

/// Whether io_uring can be set up here; prints why a test is skipped when it cannot. With
/// `RINGLB_REQUIRE_IO_URING=1` (set by CI, whose machines have io_uring) a missing io_uring
/// fails the test instead of skipping it.
pub(crate) fn io_uring_available() -> bool {
    let ok = monoio::utils::detect_uring();
    if !ok {
        assert!(
            std::env::var_os("RINGLB_REQUIRE_IO_URING").is_none(),
            "io_uring is required (RINGLB_REQUIRE_IO_URING) but cannot be set up here"
        );
        eprintln!("io_uring unavailable here: skipping the io_uring variant");
    }
    ok
}

// ---------------------------------------------------------------------------------------------
// Proxy configuration and start-up
// ---------------------------------------------------------------------------------------------

pub(crate) fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

pub(crate) fn millis(n: u64) -> Duration {
    Duration::from_millis(n)
}

/// A member entry pointing at `addr` (`authority` = `addr`, as the Host header will carry it).
pub(crate) fn member(addr: SocketAddr, route: &str, lbfactor: u32) -> MemberConfig {
    MemberConfig {
        url: format!("http://{addr}"),
        addr,
        dns_name: None,
        authority: addr.to_string(),
        route: route.to_string(),
        lbfactor,
        options: Default::default(),
    }
}

/// The baseline configuration: one worker on `driver`, one listener on `127.0.0.1:0`, one
/// byrequests balancer mounted at `/` with `JSESSIONID` stickiness over `members`, generous
/// timeouts and limits, all X-Forwarded-* headers on. Tests change only what they need.
pub(crate) fn config(driver: IoDriver, members: Vec<MemberConfig>) -> Config {
    Config {
        source: "<integration test>".to_string(),
        workers: Some(1),
        io_driver: driver,
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        listeners: Vec::new(),
        timeouts: Timeouts {
            connect: secs(2),
            client_header: secs(5),
            keepalive_idle: secs(30),
            upstream_response: secs(10),
            upstream_idle: secs(30),
            ping: millis(500),
            ..Timeouts::default()
        },
        limits: Limits {
            max_head_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: 0,
            ..Limits::default()
        },
        forwarded: Forwarded {
            x_forwarded_for: true,
            x_forwarded_proto: true,
            x_forwarded_host: true,
            preserve_host: false,
        },
        trust: Default::default(),
        stats: Default::default(),
        ops: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        balancers: vec![BalancerConfig {
            name: "test".to_string(),
            mount: Some(ringlb::config::PathMount::new("/", "/")),
            lbmethod: LbMethod::ByRequests,
            options: Default::default(),
            sticky: Some(Sticky {
                cookie_name: "JSESSIONID".to_string(),
                url_name: "jsessionid".to_string(),
                sep: Some(b'.'),
                scolonpathdelim: true,
            }),
            members,
        }],
    }
}

/// [`config`] with `mock` as the only member (route `node1`, loadfactor 1).
pub(crate) fn single(driver: IoDriver, mock: &MockMember) -> Config {
    config(driver, vec![member(mock.addr(), "node1", 100)])
}

/// Starts ringlb in this process and checks that every worker runs the requested driver.
pub(crate) fn start_proxy(cfg: Config) -> ServerHandle {
    let driver = cfg.io_driver;
    let workers = cfg.workers;
    let handle = server::start(Arc::new(cfg)).expect("ringlb starts");
    assert_eq!(handle.local_addrs().len(), 1, "one listener configured");
    if let Some(n) = workers {
        assert_eq!(handle.workers().len(), n, "worker count");
    }
    let expected = match driver {
        IoDriver::IoUring => Some("io_uring"),
        IoDriver::Epoll => Some("epoll"),
        IoDriver::Auto => None,
    };
    for w in handle.workers() {
        if let Some(name) = expected {
            assert_eq!(w.driver, name, "worker {} driver", w.index);
        }
    }
    handle
}

/// The first listener's address (port resolved).
pub(crate) fn addr(handle: &ServerHandle) -> SocketAddr {
    handle.local_addrs()[0]
}

/// Starts a proxy with [`single`] over `mock` and returns it with its address.
pub(crate) fn proxy_for(driver: IoDriver, mock: &MockMember) -> (ServerHandle, SocketAddr) {
    let handle = start_proxy(single(driver, mock));
    let a = addr(&handle);
    (handle, a)
}

/// An address on which nothing listens (a listener was bound there and closed).
pub(crate) fn dead_addr() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let a = l.local_addr().unwrap();
    drop(l);
    a
}

// ---------------------------------------------------------------------------------------------
// Waiting
// ---------------------------------------------------------------------------------------------

/// Waits (polling, 5 s at most) until the file at `path` has `n` lines; returns them.
pub(crate) fn wait_for_lines(path: &std::path::Path, n: usize) -> Vec<String> {
    let read = || std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        poll_until(secs(5), || read().lines().count() >= n),
        "{n} lines in {}: {:?}",
        path.display(),
        read()
    );
    read().lines().map(str::to_owned).collect()
}

/// Calls `f` until it returns true or `deadline` has passed; returns its last answer.
pub(crate) fn poll_until(deadline: Duration, mut f: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + deadline;
    loop {
        if f() {
            return true;
        }
        if Instant::now() >= end {
            return false;
        }
        thread::park_timeout(millis(5));
    }
}

/// Runs `f` on its own thread and fails the test if it has not finished within `limit`.
/// A panic in `f` is re-raised here.
pub(crate) fn within<T: Send + 'static>(
    limit: Duration,
    f: impl FnOnce() -> T + Send + 'static,
) -> T {
    let (tx, rx) = mpsc::channel();
    let worker = thread::spawn(move || {
        let out = f();
        let _ = tx.send(());
        out
    });
    match rx.recv_timeout(limit) {
        Ok(()) | Err(RecvTimeoutError::Disconnected) => worker
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p)),
        Err(RecvTimeoutError::Timeout) => panic!("test body did not finish within {limit:?}"),
    }
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

pub(crate) fn set_timeouts(s: &TcpStream) {
    s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
    s.set_nodelay(true).unwrap();
}

pub(crate) fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

pub(crate) fn is_reset(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        ErrorKind::ConnectionReset | ErrorKind::ConnectionAborted
    )
}

// ---------------------------------------------------------------------------------------------
// Streaming payloads
// ---------------------------------------------------------------------------------------------

/// FNV-1a 64 over a stream of slices.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Fnv(pub(crate) u64);

impl Fnv {
    pub(crate) fn new() -> Fnv {
        Fnv(0xcbf2_9ce4_8422_2325)
    }

    pub(crate) fn update(&mut self, bytes: &[u8]) {
        let mut h = self.0;
        for &b in bytes {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.0 = h;
    }
}

/// Deterministic pseudo-random bytes (xorshift64*), produced block by block.
#[derive(Clone, Debug)]
pub(crate) struct Noise {
    state: u64,
}

impl Noise {
    pub(crate) fn new(seed: u64) -> Noise {
        Noise { state: seed | 1 }
    }

    /// Fills `block` with the next bytes of the stream.
    pub(crate) fn fill(&mut self, block: &mut [u8]) {
        for chunk in block.chunks_mut(8) {
            let mut x = self.state;
            x ^= x >> 12;
            x ^= x << 25;
            x ^= x >> 27;
            self.state = x;
            let v = x.wrapping_mul(0x2545_f491_4f6c_dd1d).to_le_bytes();
            chunk.copy_from_slice(&v[..chunk.len()]);
        }
    }
}

/// The process's resident set size in bytes (`VmRSS` from /proc/self/status).
pub(crate) fn rss_bytes() -> u64 {
    status_kib("/proc/self/status", "VmRSS:") * 1024
}

/// Another process's anonymous resident memory in bytes (`RssAnon` from /proc/PID/status:
/// its heap and stacks, without the pages of its binary that `VmRSS` also counts).
pub(crate) fn rss_anon_bytes_of(pid: u32) -> u64 {
    status_kib(&format!("/proc/{pid}/status"), "RssAnon:") * 1024
}

fn status_kib(status_path: &str, field: &str) -> u64 {
    let status = std::fs::read_to_string(status_path).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(field))
        .unwrap_or_else(|| panic!("{field} in {status_path}"));
    line.split_whitespace().nth(1).unwrap().parse().unwrap()
}
