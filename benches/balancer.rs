//! `Balancer::pick` for byrequests with 2, 8 and 64 members, unsticky and sticky.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringlb::balancer::Balancer;
use ringlb::config::{BalancerConfig, LbMethod, MemberConfig, Sticky};

fn balancer(n: usize) -> Balancer {
    let members = (0..n)
        .map(|i| {
            let addr = format!("127.0.0.1:{}", 9000 + i)
                .parse()
                .expect("literal address");
            MemberConfig {
                url: format!("http://{addr}"),
                addr,
                authority: addr.to_string(),
                route: format!("node{i}"),
                lbfactor: 100 * (1 + (i as u32 % 3)),
                options: Default::default(),
            }
        })
        .collect();
    Balancer::new(&BalancerConfig {
        name: "bench".into(),
        mount: "/".into(),
        target_path: "/".into(),
        lbmethod: LbMethod::ByRequests,
        options: Default::default(),
        sticky: Some(Sticky {
            cookie_name: "JSESSIONID".into(),
            url_name: "jsessionid".into(),
            sep: Some(b'.'),
            scolonpathdelim: true,
        }),
        members,
    })
}

fn bench_pick(c: &mut Criterion) {
    let mut group = c.benchmark_group("pick_byrequests");
    group.throughput(Throughput::Elements(1));
    for n in [2usize, 8, 64] {
        let mut b = balancer(n);
        group.bench_with_input(BenchmarkId::new("new_session", n), &n, |bench, _| {
            bench.iter(|| b.pick(&[], 0, 0))
        });
        let route = format!("node{}", n - 1).into_bytes();
        let routes = [route.as_slice()];
        group.bench_with_input(BenchmarkId::new("sticky_last", n), &n, |bench, _| {
            bench.iter(|| b.pick(std::hint::black_box(&routes), 0, 0))
        });
    }
    group.finish();
}

criterion_group!(benches, bench_pick);
criterion_main!(benches);
