//! Session route extraction (`sticky::collect_routes`): the session cookie first, last or
//! absent among 30 cookies in one `Cookie` header, and the `;jsessionid=` path parameter.
//! One extraction per iteration (`Throughput::Elements(1)`), so figures read as routes/s.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use ringlb::config::Sticky;
use ringlb::sticky::{collect_routes, Routes};

/// 30 cookies of a tracking-heavy site, with the session cookie at `session` (0 = first,
/// 29 = last) or nowhere.
fn cookie_header(session: Option<usize>) -> String {
    let cookies: Vec<String> = (0..30)
        .map(|i| match session {
            Some(s) if s == i => "JSESSIONID=ABCDEF0123456789ABCDEF0123456789.node7".to_string(),
            _ => format!("tracking_cookie_{i}=value{i:08}"),
        })
        .collect();
    cookies.join("; ")
}

fn bench_sticky(c: &mut Criterion) {
    let cfg = Sticky::new("JSESSIONID", "jsessionid");
    let mut group = c.benchmark_group("collect_routes");
    group.throughput(Throughput::Elements(1));
    let cases = [
        (
            "cookie_first_of_30",
            "/app/cart?item=42",
            cookie_header(Some(0)),
        ),
        (
            "cookie_last_of_30",
            "/app/cart?item=42",
            cookie_header(Some(29)),
        ),
        (
            "cookie_absent_of_30",
            "/app/cart?item=42",
            cookie_header(None),
        ),
        (
            "path_param",
            "/app/cart;jsessionid=ABCDEF0123456789ABCDEF0123456789.node7?item=42",
            String::new(),
        ),
    ];
    for (name, target, cookies) in &cases {
        let headers: Vec<&[u8]> = if cookies.is_empty() {
            Vec::new()
        } else {
            vec![cookies.as_bytes()]
        };
        group.bench_function(*name, |b| {
            b.iter(|| {
                let mut out = Routes::new();
                collect_routes(
                    std::hint::black_box(&cfg),
                    std::hint::black_box(target.as_bytes()),
                    headers.iter().copied(),
                    &mut out,
                );
                out.len()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sticky);
criterion_main!(benches);
