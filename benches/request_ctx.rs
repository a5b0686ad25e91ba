//! The per-request session work, before and after the request context (issue 10, item 4).
//!
//! `before`: what the worker did per request until the context existed: the routes parsed
//! for the pick of every attempt, again for the `X-Balancer-Session-*` headers of every
//! attempt, once more for the access log, and the head copied for the log (`log_head`).
//! `after`: [`SessionRoutes::collect`] once; every attempt's pick, the headers and the log
//! read its spans. Same browser-like request (30 cookies, session cookie last), balancer
//! headers and access log on; for one attempt and for a failover to a second member.
//! One request per iteration (`Throughput::Elements(1)`).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlb::config::Sticky;
use ringlb::http::head::{parse_request, RequestHead};
use ringlb::sticky::{collect_routes, Routes, SessionRoutes, Source};
use std::hint::black_box;

fn request() -> Vec<u8> {
    let mut cookies: Vec<String> = (0..29)
        .map(|i| format!("tracking_cookie_{i}=value{i:08}"))
        .collect();
    cookies.push("JSESSIONID=ABCDEF0123456789ABCDEF0123456789.node7".into());
    format!(
        "GET /app/cart?item=42 HTTP/1.1\r\nHost: shop.example\r\nUser-Agent: Mozilla/5.0\r\n\
         Accept: text/html\r\nAccept-Language: en\r\nCookie: {}\r\n\r\n",
        cookies.join("; ")
    )
    .into_bytes()
}

/// One parse as the old pick, header and log paths each did it.
fn parse<'a>(cfg: &Sticky, buf: &'a [u8], head: &'a RequestHead) -> (Source, Routes<'a>) {
    let mut routes = Routes::new();
    let source = collect_routes(cfg, head.target.get(buf), head.cookies(buf), &mut routes);
    (source, routes)
}

fn before(cfg: &Sticky, buf: &[u8], head: &RequestHead, attempts: usize, log_head: &mut Vec<u8>) {
    log_head.clear();
    log_head.extend_from_slice(&buf[..head.len]);
    for _ in 0..attempts {
        black_box(parse(cfg, buf, head)); // pick
        black_box(parse(cfg, buf, head).1.first().copied()); // X-Balancer-Session-*
    }
    black_box(parse(cfg, log_head, head).1.first().copied()); // access log
}

fn after(cfg: &Sticky, buf: &[u8], head: &RequestHead, attempts: usize) {
    let ctx = SessionRoutes::collect(Some(cfg), None, buf, head);
    for _ in 0..attempts {
        black_box(ctx.routes(buf)); // pick
        black_box(ctx.session(buf)); // X-Balancer-Session-*
    }
    black_box(ctx.session(buf)); // access log
}

fn bench_request_ctx(c: &mut Criterion) {
    let cfg = Sticky::new("JSESSIONID", "jsessionid");
    let buf = request();
    let Ok(Some(head)) = parse_request(&buf, 64) else {
        panic!("the bench request does not parse");
    };
    let mut group = c.benchmark_group("session_work_per_request");
    group.throughput(Throughput::Elements(1));
    let mut log_head = Vec::with_capacity(buf.len());
    for attempts in [1, 2] {
        group.bench_function(format!("before_{attempts}_attempt"), |b| {
            b.iter(|| before(&cfg, black_box(&buf), &head, attempts, &mut log_head))
        });
        group.bench_function(format!("after_{attempts}_attempt"), |b| {
            b.iter(|| after(&cfg, black_box(&buf), &head, attempts))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_request_ctx);
criterion_main!(benches);
