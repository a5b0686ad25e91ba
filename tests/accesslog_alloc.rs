//! The access log's "no allocation per request" contract, checked with a counting allocator.
//! It lives in its own test binary because a `#[global_allocator]` applies to a whole binary.

#![allow(unsafe_code)] // the GlobalAlloc impl below; it only forwards to `System`

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::IpAddr;
use std::path::PathBuf;
use std::sync::Arc;

use ringlb::accesslog::{AccessLog, Format, HeaderView, Record, Sink, TimeCache};

/// `System`, counting allocations made by the current thread.
struct Counting;

thread_local! {
    static ALLOCS: Cell<u64> = const { Cell::new(0) };
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counter
// is a const-initialised thread-local `Cell`, which never allocates or re-enters the allocator.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded contract of `GlobalAlloc::alloc`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract of `GlobalAlloc::dealloc`.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded contract of `GlobalAlloc::realloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

fn allocations() -> u64 {
    ALLOCS.with(Cell::get)
}

const REQ: &[(&[u8], &[u8])] = &[
    (b"Host", b"example.com"),
    (b"User-Agent", b"Mozilla/5.0 \"quoted\" \x01"),
    (b"Referer", b"http://r.example/"),
    (b"X-Multi", b"a"),
    (b"x-multi", b"b"),
];
const RESP: &[(&[u8], &[u8])] = &[(b"Content-Type", b"text/html; charset=utf-8")];

fn record(ip: IpAddr, unix_time: u64) -> Record<'static> {
    Record {
        client_ip: ip,
        method: b"GET",
        target: b"/app/x;jsessionid=abc.n2?a=1&b=\"2\"",
        version: b"HTTP/1.1",
        status: 200,
        body_bytes: 1234,
        bytes_out: 1500,
        bytes_in: 321,
        total_us: 2_345_678,
        upstream_us: Some(1800),
        queue_us: Some(0),
        balancer: Some("balancer://app"),
        worker_name: Some("http://10.0.0.1:8080"),
        worker_route: Some("n1"),
        session_sticky: Some(b"jsessionid"),
        session_route: Some(b"n2"),
        route_changed: true,
        worker: 3,
        attempts: 2,
        request_headers: HeaderView::Pairs(REQ),
        response_headers: HeaderView::Pairs(RESP),
        unix_time,
    }
}

/// Every directive, both address families, changing seconds: formatting into a buffer with
/// room allocates nothing.
#[test]
fn formatting_does_not_allocate() {
    let spec = concat!(
        r#"%h %a %l %u %t "%r" %m %U %q %H %s %>s %b %B %O %I %D %T %{ms}T %{us}T %% "#,
        r#""%{Referer}i" "%{User-Agent}i" %{X-Multi}i %{Missing}i %{Content-Type}o "#,
        "%{BALANCER_NAME}e %{BALANCER_WORKER_NAME}e %{BALANCER_WORKER_ROUTE}e ",
        "%{BALANCER_SESSION_STICKY}e %{BALANCER_SESSION_ROUTE}e %{BALANCER_ROUTE_CHANGED}e ",
        "%{RINGLB_UPSTREAM_TIME}e %{RINGLB_WORKER}e %{RINGLB_ATTEMPTS}e"
    );
    let format = Format::parse(spec).unwrap();
    let ips: [IpAddr; 3] = [
        "192.0.2.7".parse().unwrap(),
        "2001:db8::17".parse().unwrap(),
        "::ffff:192.0.2.1".parse().unwrap(),
    ];
    let mut cache = TimeCache::new();
    let mut out = Vec::with_capacity(1 << 16);
    let before = allocations();
    for i in 0..30u64 {
        let rec = record(ips[i as usize % 3], 1_795_293_381 + i / 4);
        format.write_with(&rec, &mut cache, &mut out);
        format.write(&rec, &mut out);
    }
    assert_eq!(allocations() - before, 0);
    assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 60);
}

/// `AccessLog::log` into a sink below its flush threshold allocates nothing either.
#[test]
fn logging_into_the_sink_does_not_allocate() {
    let path: PathBuf =
        std::env::temp_dir().join(format!("ringlb-accesslog-alloc-{}.log", std::process::id()));
    let sink = Sink::open(&path).unwrap();
    let mut log = AccessLog::new(Arc::new(Format::parse("balancer").unwrap()), sink);
    let rec = record("192.0.2.7".parse().unwrap(), 1_795_293_381);
    let before = allocations();
    for _ in 0..100 {
        log.log(&rec);
    }
    assert_eq!(allocations() - before, 0);
    log.flush();
    drop(log);
    let text = std::fs::read_to_string(&path).unwrap();
    let _ = std::fs::remove_file(&path);
    assert_eq!(text.lines().count(), 100);
}

/// The counter itself works, so a zero above means something.
#[test]
fn counter_sees_allocations() {
    let before = allocations();
    let v = std::hint::black_box(Vec::<u8>::with_capacity(64));
    assert!(allocations() > before);
    drop(v);
}
