//! The AJP13 codec on an exchange's hot path: encoding a browser-like forward request, and
//! reading a typical response (`SEND_HEADERS` made into an HTTP/1.1 head, one body chunk,
//! `END_RESPONSE`). Reports bytes/s of the AJP packets.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlb::ajp::reply::{self, Reply};
use ringlb::ajp::request::{self, ForwardRequest};

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

fn packet(out: &mut Vec<u8>, payload: &[u8]) {
    out.extend_from_slice(b"AB");
    out.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    out.extend_from_slice(payload);
}

/// A 200 with three header fields and a 1 KiB body, as Tomcat writes it.
fn response() -> Vec<u8> {
    let mut headers = vec![4u8, 0, 200];
    string(&mut headers, b"OK");
    headers.extend_from_slice(&3u16.to_be_bytes());
    for (code, value) in [
        (0xA001u16, &b"text/html;charset=UTF-8"[..]),
        (0xA003, b"1024"),
        (
            0xA007,
            b"JSESSIONID=ABCDEF0123456789.node2; Path=/app; HttpOnly",
        ),
    ] {
        headers.extend_from_slice(&code.to_be_bytes());
        string(&mut headers, value);
    }
    let mut out = Vec::new();
    packet(&mut out, &headers);
    let mut body = vec![3u8, 4, 0];
    body.extend_from_slice(&[b'x'; 1024]);
    body.push(0);
    packet(&mut out, &body);
    packet(&mut out, &[5, 1]);
    out
}

fn bench_ajp(c: &mut Criterion) {
    let headers: [(&[u8], &[u8]); 9] = [
        (b"Host", b"shop.example.com"),
        (
            b"User-Agent",
            b"Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        ),
        (
            b"Accept",
            b"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        ),
        (b"Accept-Language", b"en-GB,en;q=0.5"),
        (b"Accept-Encoding", b"gzip, deflate, br"),
        (b"Referer", b"https://shop.example.com/app/list"),
        (b"Cookie", b"JSESSIONID=ABCDEF0123456789.node2; theme=dark"),
        (b"Upgrade-Insecure-Requests", b"1"),
        (b"X-Request-Id", b"5f0c2a9e-8d11-4d2b-9c55-2f7b0e6a1d3c"),
    ];
    let req = ForwardRequest {
        method: b"GET",
        protocol: b"HTTP/1.1",
        uri: b"/app/cart",
        query: Some(b"item=42"),
        remote_addr: b"192.0.2.10",
        remote_port: 51234,
        server_name: b"shop.example.com",
        server_port: 443,
        ssl: None,
        headers: &headers,
        route: b"node2",
        activation: b"ACT",
        secret: Some(b"s3cret"),
    };
    let mut out = Vec::with_capacity(8192);
    request::encode(&req, 8192, &mut out).expect("fits");
    let mut group = c.benchmark_group("ajp");
    group.throughput(Throughput::Bytes(out.len() as u64));
    group.bench_function("encode_forward_request", |b| {
        b.iter(|| {
            out.clear();
            request::encode(std::hint::black_box(&req), 8192, &mut out).expect("fits");
        })
    });
    let bytes = response();
    let mut head = Vec::with_capacity(1024);
    group.throughput(Throughput::Bytes(bytes.len() as u64));
    group.bench_function("read_response", |b| {
        b.iter(|| {
            let mut rest = std::hint::black_box(&bytes[..]);
            let mut body = 0;
            while let Ok(Some((reply, n))) = reply::parse(rest, 8192) {
                match reply {
                    Reply::Headers(payload) => {
                        head.clear();
                        reply::write_head(payload, &mut head).expect("valid");
                    }
                    Reply::Body(data) => body += data.len(),
                    _ => {}
                }
                rest = &rest[n..];
            }
            body
        })
    });
    group.finish();
}

criterion_group!(benches, bench_ajp);
criterion_main!(benches);
