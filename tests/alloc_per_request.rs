//! "No allocation per request in steady state", measured: a counting global allocator, ringlb
//! in process with one worker, and a client and a member that never allocate (fixed buffers,
//! static bytes). After a warm-up, the allocation count per proxied keep-alive request is what
//! the proxy's request path costs. Run with `--nocapture` to see the figure.
//! Own test binary: a `#[global_allocator]` applies to a whole binary.

#![allow(unsafe_code)] // the GlobalAlloc impl below; it only forwards to `System`
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use ringlb::config::{
    BalancerConfig, Config, Forwarded, IoDriver, LbMethod, Limits, MemberConfig, Sticky, Timeouts,
};

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is a static atomic, which never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

const RESPONSE: &[u8] =
    b"HTTP/1.1 200 OK\r\nContent-Length: 13\r\nContent-Type: text/plain\r\n\r\nHello, world!";
const REQUEST: &[u8] = b"GET /hello HTTP/1.1\r\nHost: bench\r\nUser-Agent: wrk\r\nAccept: */*\r\n\
Cookie: theme=dark; JSESSIONID=0123456789ABCDEF.node1\r\n\r\n";

/// A member that answers every request on a connection with `RESPONSE`, never allocating
/// after its thread started.
fn member() -> std::net::SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 8192];
                let mut have = 0;
                loop {
                    match stream.read(&mut buf[have..]) {
                        Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                        Ok(0) | Err(_) => return,
                        Ok(n) => have += n,
                    }
                    while let Some(end) = buf[..have].windows(4).position(|w| w == b"\r\n\r\n") {
                        if stream.write_all(RESPONSE).is_err() {
                            return;
                        }
                        buf.copy_within(end + 4..have, 0);
                        have -= end + 4;
                    }
                }
            });
        }
    });
    addr
}

fn config(driver: IoDriver, member: std::net::SocketAddr) -> Config {
    Config {
        source: "<alloc test>".into(),
        workers: Some(1),
        io_driver: driver,
        listen: vec!["127.0.0.1:0".parse().unwrap()],
        listeners: Vec::new(),
        timeouts: Timeouts::default(),
        limits: Limits::default(),
        forwarded: Forwarded::default(),
        trust: Default::default(),
        stats: Default::default(),
        ops: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        balancers: vec![BalancerConfig {
            name: "b".into(),
            mount: Some(ringlb::config::PathMount::new("/", "/")),
            lbmethod: LbMethod::ByRequests,
            sticky: Some(Sticky::new("JSESSIONID", "jsessionid")),
            options: Default::default(),
            members: vec![MemberConfig {
                url: format!("http://{member}"),
                addr: member,
                dns_name: None,
                authority: member.to_string(),
                route: "node1".into(),
                lbfactor: 100,
                options: Default::default(),
            }],
        }],
    }
}

/// Sends `n` keep-alive requests on `stream`, reading each response whole.
fn run(stream: &mut TcpStream, n: usize) {
    let mut buf = [0u8; 4096];
    for _ in 0..n {
        stream.write_all(REQUEST).unwrap();
        let mut have = 0;
        loop {
            let got = match stream.read(&mut buf[have..]) {
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                other => other.unwrap(),
            };
            assert!(got > 0, "proxy closed the connection");
            have += got;
            if have >= 13 && buf[..have].ends_with(b"Hello, world!") {
                break;
            }
        }
    }
}

fn allocations_per_request(driver: IoDriver) -> f64 {
    let proxy = ringlb::server::start(Arc::new(config(driver, member()))).unwrap();
    let mut client = TcpStream::connect(proxy.local_addrs()[0]).unwrap();
    client
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    run(&mut client, 2_000); // warm-up: pools, buffers, timers
    let n = 20_000;
    let before = ALLOCS.load(Ordering::Relaxed);
    run(&mut client, n);
    let per_request = (ALLOCS.load(Ordering::Relaxed) - before) as f64 / n as f64;
    drop(client);
    drop(proxy);
    per_request
}

#[test]
fn steady_state_requests_do_not_allocate() {
    let mut drivers = vec![IoDriver::Epoll];
    if monoio::utils::detect_uring() {
        drivers.push(IoDriver::IoUring);
    }
    for driver in drivers {
        let per_request = allocations_per_request(driver);
        println!("{driver:?}: {per_request:.3} allocations per proxied keep-alive request");
        assert!(
            per_request < 0.01,
            "{driver:?}: {per_request:.3} allocations per request"
        );
    }
}
