//! Request head parsing and framing analysis: a short head, a browser-like head, and a head
//! with 30 cookies. Reports bytes/s so heads of different sizes compare.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlb::http::{framing, head};

fn heads() -> Vec<(&'static str, Vec<u8>)> {
    let short = b"GET / HTTP/1.1\r\nHost: a\r\n\r\n".to_vec();
    let browser = b"GET /app/cart;jsessionid=ABCDEF0123.node2?item=42 HTTP/1.1\r\n\
        Host: shop.example.com\r\n\
        User-Agent: Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0\r\n\
        Accept: text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8\r\n\
        Accept-Language: en-GB,en;q=0.5\r\n\
        Accept-Encoding: gzip, deflate, br\r\n\
        Referer: https://shop.example.com/app/list\r\n\
        Connection: keep-alive\r\n\
        Cookie: JSESSIONID=ABCDEF0123456789.node2; theme=dark\r\n\
        Upgrade-Insecure-Requests: 1\r\n\r\n"
        .to_vec();
    let mut cookies = String::from("GET /app HTTP/1.1\r\nHost: shop.example.com\r\nCookie: ");
    for i in 0..30 {
        cookies += &format!("tracking_cookie_{i}=value{i:08}; ");
    }
    cookies += "JSESSIONID=ABCDEF0123456789.node7\r\n\r\n";
    vec![
        ("short", short),
        ("browser", browser),
        ("30_cookies", cookies.into_bytes()),
    ]
}

fn bench_parse(c: &mut Criterion) {
    let mut group = c.benchmark_group("parse_request");
    for (name, bytes) in heads() {
        group.throughput(Throughput::Bytes(bytes.len() as u64));
        group.bench_function(name, |b| {
            b.iter(|| {
                let parsed = head::parse_request(std::hint::black_box(&bytes), 100);
                let Ok(Some(h)) = parsed else {
                    panic!("bench input must parse")
                };
                framing::analyze_request(&bytes, &h).is_ok()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_parse);
criterion_main!(benches);
