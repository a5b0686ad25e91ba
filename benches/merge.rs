//! What one worker's periodic merge reads (every `stats.merge_interval`, 5 ms by default):
//! each member's load sums over every core's counter slot. Measured at 2, 16 and 64 cores
//! with 64 members, reading only what the balancer needs (`Stats::load_totals`, what the
//! workers call) against reading every counter (`Stats::totals`, what the admin side reads).
//! The slots are written from the bench thread only, so these are cache-warm figures; on a
//! real machine each other core's slot is a few cache misses per member on top.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use ringlb::stats::Stats;

const MEMBERS: usize = 64;

fn stats(cores: usize) -> Stats {
    let s = std::sync::Arc::new(Stats::new(cores, &[MEMBERS]));
    for core in 0..cores {
        let w = s.writer(core);
        for m in 0..MEMBERS {
            w.add_request(0, m);
            w.add_bytes(0, m, 100, 10);
        }
    }
    std::sync::Arc::try_unwrap(s).expect("the writers are gone")
}

fn merge(c: &mut Criterion) {
    let mut g = c.benchmark_group("merge_64_members");
    for cores in [2, 16, 64] {
        let s = stats(cores);
        g.bench_with_input(BenchmarkId::new("load_totals", cores), &s, |b, s| {
            b.iter(|| {
                for m in 0..MEMBERS {
                    black_box(s.load_totals(0, m));
                }
            })
        });
        g.bench_with_input(BenchmarkId::new("totals", cores), &s, |b, s| {
            b.iter(|| {
                for m in 0..MEMBERS {
                    black_box(s.totals(0, m));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, merge);
criterion_main!(benches);
