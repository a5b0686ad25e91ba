//! Layout, bounds, the pure merge, and real threads writing their own slots.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::*;

fn totals(requests: u64, bytes_in: u64, bytes_out: u64, busy: u64) -> MemberTotals {
    MemberTotals {
        requests,
        bytes_in,
        bytes_out,
        busy,
        ..MemberTotals::default()
    }
}

#[test]
fn shape() {
    let s = Stats::new(3, &[2, 0, 5]);
    assert_eq!(s.cores(), 3);
    assert_eq!(s.balancers(), 3);
    assert_eq!(
        (0..4).map(|b| s.members(b)).collect::<Vec<_>>(),
        [2, 0, 5, 0]
    );
    let empty = Stats::new(0, &[]);
    assert_eq!(
        (empty.cores(), empty.balancers(), empty.members(0)),
        (0, 0, 0)
    );
}

#[test]
fn counters_land_on_their_member_and_core_only() {
    let s = Arc::new(Stats::new(2, &[2, 3]));
    let w0 = s.writer(0);
    let w1 = s.writer(1);
    w0.add_request(1, 2);
    w0.add_bytes(1, 2, 100, 7);
    w0.busy_inc(1, 2);
    w0.add_error(1, 2);
    w0.add_response(1, 2, 200);
    w0.add_response(1, 2, 503);
    w1.add_request(1, 2);
    w1.busy_inc(1, 2);
    w1.busy_inc(1, 2);
    w1.add_bytes(0, 0, 1, 1);

    let c0 = s.core_counts(0, 1, 2);
    assert_eq!(
        c0,
        MemberTotals {
            requests: 1,
            bytes_in: 100,
            bytes_out: 7,
            busy: 1,
            errors: 1,
            responses: [0, 1, 0, 0, 1],
            ..MemberTotals::default()
        }
    );
    let t = s.totals(1, 2);
    assert_eq!((t.requests, t.busy, t.bytes_in), (2, 3, 100));
    assert_eq!(s.totals(0, 0), totals(0, 1, 1, 0));
    // Neighbours untouched: the last member of balancer 0 and the first of balancer 1.
    assert_eq!(s.totals(0, 1), MemberTotals::default());
    assert_eq!(s.totals(1, 0), MemberTotals::default());
    assert_eq!(s.totals(1, 1), MemberTotals::default());
    // What a worker merges: the same three sums, nothing else.
    let load = s.load_totals(1, 2);
    assert_eq!((load.busy, load.bytes_in, load.bytes_out), (3, 100, 7));
    assert_eq!((load.requests, load.errors, load.responses), (0, 0, [0; 5]));
    assert_eq!(s.load_totals(0, 0), totals(0, 1, 1, 0));
    assert_eq!(s.load_totals(0, 9), MemberTotals::default());
}

#[test]
fn unknown_core_balancer_member_or_status_are_ignored() {
    let s = Arc::new(Stats::new(1, &[1]));
    let ghost = s.writer(5);
    ghost.add_request(0, 0);
    let w = s.writer(0);
    w.add_request(1, 0);
    w.add_request(0, 1);
    w.add_request(usize::MAX, usize::MAX);
    for status in [0, 99, 600, u16::MAX] {
        w.add_response(0, 0, status);
    }
    w.add_response(0, 0, 100);
    w.add_response(0, 0, 599);
    assert_eq!(
        s.totals(0, 0),
        MemberTotals {
            responses: [1, 0, 0, 0, 1],
            ..MemberTotals::default()
        }
    );
    assert_eq!(s.totals(0, 1), MemberTotals::default());
    assert_eq!(s.core_counts(5, 0, 0), MemberTotals::default());
    assert_eq!((ghost.core(), w.core()), (5, 0));
}

#[test]
fn busy_is_floored_per_core_and_counters_saturate() {
    let s = Arc::new(Stats::new(2, &[1]));
    let (w0, w1) = (s.writer(0), s.writer(1));
    w1.busy_inc(0, 0);
    w0.busy_dec(0, 0); // core 0 has nothing in flight: stays 0, does not eat core 1's
    assert_eq!(s.totals(0, 0).busy, 1);
    w1.busy_dec(0, 0);
    w1.busy_dec(0, 0);
    assert_eq!(s.totals(0, 0).busy, 0);
    w0.add_bytes(0, 0, u64::MAX, 0);
    w0.add_bytes(0, 0, 1, 0);
    w1.add_bytes(0, 0, 5, 0);
    assert_eq!(s.core_counts(0, 0, 0).bytes_in, u64::MAX);
    assert_eq!(s.totals(0, 0).bytes_in, u64::MAX, "the sum saturates too");
}

#[test]
fn merge_is_a_saturating_field_sum() {
    assert_eq!(merge([]), MemberTotals::default());
    let a = MemberTotals {
        requests: 1,
        bytes_in: 2,
        bytes_out: 3,
        busy: 4,
        errors: 5,
        responses: [1, 2, 3, 4, 5],
        ..MemberTotals::default()
    };
    let b = MemberTotals {
        requests: u64::MAX,
        responses: [10, 0, 0, 0, 1],
        ..a
    };
    assert_eq!(
        merge([a, b]),
        MemberTotals {
            requests: u64::MAX,
            bytes_in: 4,
            bytes_out: 6,
            busy: 8,
            errors: 10,
            responses: [11, 2, 3, 4, 6],
            ..MemberTotals::default()
        }
    );
}

#[test]
fn totals_into_fills_what_fits() {
    let s = Arc::new(Stats::new(2, &[3]));
    s.writer(0).add_request(0, 2);
    s.writer(1).add_request(0, 2);
    let mut big = [MemberTotals::default(); 5];
    assert_eq!(s.totals_into(0, &mut big), 3);
    assert_eq!(big[2].requests, 2);
    let mut small = [MemberTotals::default(); 2];
    assert_eq!(s.totals_into(0, &mut small), 2);
    assert_eq!(s.totals_into(9, &mut small), 0);
}

#[test]
fn live_counters_of_different_cores_never_share_a_cache_line() {
    let s = Stats::new(8, &[3, 1]);
    let spans: Vec<(usize, usize)> = s.slots.iter().map(|slot| slot.live_span()).collect();
    for (i, a) in spans.iter().enumerate() {
        for b in &spans[i + 1..] {
            let gap = if a.1 <= b.0 { b.0 - a.1 } else { a.0 - b.1 };
            assert!(gap >= 128, "cores {spans:x?} are {gap} bytes apart");
        }
    }
}

/// Real threads, one writer each, a reader summing concurrently: the reader's sums never go
/// down, and after the writers finish the sums are exact.
#[test]
fn concurrent_single_writers_lose_nothing() {
    const CORES: usize = 4;
    const PER_CORE: u64 = 20_000;
    let s = Arc::new(Stats::new(CORES, &[2]));
    let done = AtomicBool::new(false);
    std::thread::scope(|scope| {
        let writers: Vec<_> = (0..CORES)
            .map(|core| {
                let w = s.writer(core);
                scope.spawn(move || {
                    for i in 0..PER_CORE {
                        let m = usize::from(i % 2 == 1);
                        w.add_request(0, m);
                        w.busy_inc(0, m);
                        w.add_bytes(0, m, 3, 1);
                        w.busy_dec(0, m);
                    }
                })
            })
            .collect();
        let reader = scope.spawn(|| {
            let mut last = 0;
            while !done.load(Ordering::Relaxed) {
                let now = s.totals(0, 0).requests + s.totals(0, 1).requests;
                assert!(now >= last, "sum went down: {last} -> {now}");
                last = now;
            }
        });
        for w in writers {
            w.join().unwrap();
        }
        done.store(true, Ordering::Relaxed);
        reader.join().unwrap();
    });
    let sum = merge([s.totals(0, 0), s.totals(0, 1)]);
    let n = CORES as u64 * PER_CORE;
    assert_eq!(
        (sum.requests, sum.busy, sum.bytes_in, sum.bytes_out),
        (n, 0, 3 * n, n)
    );
    for core in 0..CORES {
        assert_eq!(s.core_counts(core, 0, 0).requests, PER_CORE / 2);
    }
}

#[test]
fn latency_lands_in_its_bucket_and_seed_carries_totals() {
    let s = Arc::new(Stats::new(2, &[1]));
    let w = s.writer(1);
    w.observe_latency(0, 0, 700);
    w.observe_latency(0, 0, 3_000);
    w.observe_latency(0, 0, 4_000_000_000); // past the last bound (1 h)
    let t = s.totals(0, 0);
    assert_eq!((t.latency_count, t.latency_sum_us), (3, 4_000_003_700));
    assert_eq!(t.latency_buckets[0], 1);
    assert_eq!(t.latency_buckets[2], 1);
    assert_eq!(
        t.latency_buckets.iter().sum::<u64>(),
        2,
        "past the last bound: count only"
    );

    let next = Stats::new(2, &[1]);
    next.seed(0, 0, &t);
    assert_eq!(next.totals(0, 0), MemberTotals { busy: 0, ..t });
}

#[test]
fn last_error_is_the_latest_over_the_cores_and_seed_carries_it() {
    let s = Arc::new(Stats::new(3, &[2]));
    let (w0, w2) = (s.writer(0), s.writer(2));
    assert_eq!(s.totals(0, 1).last_error, None);
    let at = |fault, status, unix_ms| LastError {
        fault,
        status,
        unix_ms,
    };
    w0.set_last_error(0, 1, at(Fault::ConnectRefused, 0, 2_000));
    w2.set_last_error(0, 1, at(Fault::ResponseTimeout, 504, 1_000));
    assert_eq!(
        s.totals(0, 1).last_error,
        Some(at(Fault::ConnectRefused, 0, 2_000)),
        "the later failure, whichever core saw it"
    );
    w2.set_last_error(0, 1, at(Fault::BadResponse, 502, 3_000));
    assert_eq!(
        s.totals(0, 1).last_error,
        Some(at(Fault::BadResponse, 502, 3_000)),
        "a core's slot keeps its own last one"
    );
    assert_eq!(s.totals(0, 0).last_error, None, "other members untouched");
    assert_eq!(
        s.core_counts(0, 0, 1).last_error.map(|e| e.unix_ms),
        Some(2_000)
    );

    let next = Stats::new(3, &[2]);
    next.seed(0, 1, &s.totals(0, 1));
    assert_eq!(next.totals(0, 1).last_error, s.totals(0, 1).last_error);
}
