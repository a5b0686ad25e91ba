//! `Balancer::pick` with 2, 8 and 64 members for each method, for a new session and for a
//! sticky request (to the last member, the longest route scan); then the bytraffic
//! comparison ringlb uses (u128 cross-multiplication) against Apache's (per-term integer
//! division), the choice documented in `src/balancer/method.rs`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use ringlb::balancer::Balancer;
use ringlb::config::{BalancerConfig, LbMethod, MemberConfig, Sticky};
use ringlb::stats::MemberTotals;

fn balancer(n: usize, method: LbMethod) -> Balancer {
    let members = (0..n)
        .map(|i| {
            let addr = format!("127.0.0.1:{}", 9000 + i)
                .parse()
                .expect("literal address");
            MemberConfig {
                url: format!("http://{addr}"),
                addr,
                dns_name: None,
                authority: addr.to_string(),
                route: format!("node{i}"),
                lbfactor: 100 * (1 + (i as u32 % 3)),
                options: Default::default(),
            }
        })
        .collect();
    let mut b = Balancer::new(&BalancerConfig {
        name: "bench".into(),
        mount: Some(ringlb::config::PathMount::new("/", "/")),
        lbmethod: method,
        options: Default::default(),
        sticky: Some(Sticky {
            cookie_name: "JSESSIONID".into(),
            url_name: "jsessionid".into(),
            sep: Some(b'.'),
            scolonpathdelim: true,
        }),
        members,
    });
    // A global view with distinct busy and traffic figures, so comparisons are not all ties.
    let totals: Vec<MemberTotals> = (0..n as u64)
        .map(|i| MemberTotals {
            busy: (i * 7) % 5,
            bytes_in: 1_000_000 + (i * 7_919) % 10_007,
            bytes_out: 50_000 + (i * 104_729) % 1_009,
            ..MemberTotals::default()
        })
        .collect();
    b.merge(&totals);
    b
}

fn bench_pick(c: &mut Criterion) {
    for method in [
        LbMethod::ByRequests,
        LbMethod::ByTraffic,
        LbMethod::ByBusyness,
    ] {
        let mut group = c.benchmark_group(format!("pick_{}", method.as_str()));
        group.throughput(Throughput::Elements(1));
        for n in [2usize, 8, 64] {
            let mut b = balancer(n, method);
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
}

/// `(bytes_in, bytes_out, lbfactor)` of two members.
type Pair = ((u64, u64, u32), (u64, u64, u32));

/// ringlb: `(in_a + out_a) × f_b < (in_b + out_b) × f_a` in u128.
fn less_cross(((ia, oa, fa), (ib, ob, fb)): Pair) -> bool {
    (u128::from(ia) + u128::from(oa)) * u128::from(fb)
        < (u128::from(ib) + u128::from(ob)) * u128::from(fa)
}

/// Apache: `out/f + in/f` per member, integer division per term.
fn less_divide(((ia, oa, fa), (ib, ob, fb)): Pair) -> bool {
    let score = |i: u64, o: u64, f: u32| o / u64::from(f) + i / u64::from(f);
    score(ia, oa, fa) < score(ib, ob, fb)
}

fn bench_traffic_compare(c: &mut Criterion) {
    let pairs: Vec<Pair> = (0..64u64)
        .map(|i| {
            (
                (
                    1_000_000 + i * 7_919,
                    50_000 + i,
                    100 + (i as u32 % 3) * 100,
                ),
                (
                    2_000_000 + (i * 104_729) % 100_003,
                    70_000 - i,
                    300 - (i as u32 % 2) * 100,
                ),
            )
        })
        .collect();
    let mut group = c.benchmark_group("bytraffic_compare");
    group.throughput(Throughput::Elements(pairs.len() as u64));
    group.bench_function("u128_cross_multiply", |b| {
        b.iter(|| {
            std::hint::black_box(&pairs)
                .iter()
                .filter(|p| less_cross(**p))
                .count()
        })
    });
    group.bench_function("per_term_division", |b| {
        b.iter(|| {
            std::hint::black_box(&pairs)
                .iter()
                .filter(|p| less_divide(**p))
                .count()
        })
    });
    group.finish();
}

criterion_group!(benches, bench_pick, bench_traffic_compare);
criterion_main!(benches);
