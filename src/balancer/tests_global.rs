//! The global view of bybusyness and bytraffic: `merge` bases plus this core's local deltas;
//! then a deterministic two-core simulation of the skew a merge interval leaves (its figures
//! are printed: `cargo test --lib skew -- --nocapture`).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::Arc;

use super::tests::{config, Rng, NO_ROUTES};
use super::*;
use crate::stats::{CoreWriter, Stats};

fn totals(busy: u64, bytes_in: u64, bytes_out: u64) -> MemberTotals {
    MemberTotals {
        busy,
        bytes_in,
        bytes_out,
        ..MemberTotals::default()
    }
}

fn busy(b: &Balancer) -> Vec<u32> {
    b.members().iter().map(Member::busy).collect()
}

#[test]
fn merge_sets_the_base_and_drops_the_local_deltas() {
    let mut b = Balancer::new(&config(LbMethod::ByBusyness, &[100, 100], false));
    b.busy_inc(0);
    b.busy_inc(0);
    b.record_traffic(1, 10, 5);
    assert_eq!(busy(&b), [2, 0]);
    // The sums include this core's own two requests, plus three from other cores.
    b.merge(&[totals(5, 0, 0), totals(0, 30, 6)]);
    assert_eq!(busy(&b), [5, 0]);
    assert_eq!(b.member(1).unwrap().traffic(), (30, 6));
    b.busy_dec(0);
    b.busy_inc(1);
    b.record_traffic(1, 1, 1);
    assert_eq!(busy(&b), [4, 1]);
    assert_eq!(b.member(1).unwrap().traffic(), (31, 7));
    // Short totals leave the rest alone; extra entries are ignored.
    b.merge(&[totals(0, 0, 0)]);
    assert_eq!(busy(&b), [0, 1]);
    b.merge(&[totals(1, 0, 0), totals(1, 0, 0), totals(9, 9, 9)]);
    assert_eq!(busy(&b), [1, 1]);
}

#[test]
fn busy_view_is_floored_and_a_dropped_decrement_hides_nothing() {
    let mut b = Balancer::new(&config(LbMethod::ByBusyness, &[100], false));
    b.merge(&[totals(2, 0, 0)]);
    for _ in 0..4 {
        b.busy_dec(0); // two count, two are dropped at 0
    }
    assert_eq!(busy(&b), [0]);
    b.busy_inc(0);
    assert_eq!(
        busy(&b),
        [1],
        "a later increment is not eaten by the dropped ones"
    );
}

#[test]
fn bybusyness_sees_the_other_cores_after_a_merge() {
    let mut b = Balancer::new(&config(LbMethod::ByBusyness, &[100, 100], false));
    assert_eq!(b.pick(NO_ROUTES, 0, 0).map(|p| p.member), Ok(0));
    // Other cores have 3 requests on `a`; this core's own pick is not in the sums yet.
    b.merge(&[totals(3, 0, 0), totals(0, 0, 0)]);
    let picks: Vec<usize> = (0..4)
        .map(|_| {
            let p = b.pick(NO_ROUTES, 0, 0).unwrap().member;
            b.busy_inc(p);
            p
        })
        .collect();
    assert_eq!(
        picks,
        [1, 1, 1, 0],
        "b catches up to a's 3, then the tie goes by lbstatus"
    );
}

#[test]
fn bytraffic_sees_the_other_cores() {
    let mut b = Balancer::new(&config(LbMethod::ByTraffic, &[100, 300], false));
    b.merge(&[totals(0, 100, 0), totals(0, 600, 0)]);
    // a: 100/1, b: 600/3 = 200: a is lighter.
    assert_eq!(b.pick(NO_ROUTES, 0, 0).map(|p| p.member), Ok(0));
    b.record_traffic(0, 150, 0); // a: 250 > 200
    assert_eq!(b.pick(NO_ROUTES, 0, 0).map(|p| p.member), Ok(1));
    // The merge replaces the local delta with the global totals, which include it.
    b.merge(&[totals(0, 250, 0), totals(0, 900, 0)]);
    assert_eq!(b.member(0).unwrap().traffic(), (250, 0));
    assert_eq!(b.member(1).unwrap().traffic(), (900, 0));
    assert_eq!(b.pick(NO_ROUTES, 0, 0).map(|p| p.member), Ok(0));
}

// ---- skew simulation ----

/// Members `a` (loadfactor 1) and `b` (loadfactor 3).
const FACTORS: [u32; 2] = [100, 300];
const PICKS: u64 = 10_000;

/// One simulated core: its balancer and its stats writer.
struct Core {
    balancer: Balancer,
    writer: CoreWriter,
}

/// How the simulation runs.
#[derive(Clone, Copy, Debug)]
struct Sim {
    method: LbMethod,
    /// Each core merges after every `merge_every` ticks (core 1 half an interval after core
    /// 0); `None`: never (per-core view only).
    merge_every: Option<u64>,
    /// Cores take the picks in turn, or each pick goes to a random core.
    random: bool,
    /// Ticks a request to `a` / `b` stays in flight (one pick per tick).
    hold: [u64; 2],
}

/// Runs `PICKS` new-session picks over two cores sharing one `Stats`, the worker's way: each
/// event goes to the core's stats writer and to its balancer. Returns the share of `b` in
/// percent.
fn simulate(sim: Sim) -> f64 {
    let stats = Arc::new(Stats::new(2, &[2]));
    let mut cores: Vec<Core> = (0..2)
        .map(|core| Core {
            balancer: Balancer::new(&config(sim.method, &FACTORS, false)),
            writer: stats.writer(core),
        })
        .collect();
    let mut rng = Rng(0x0dd_ba11);
    // (done at tick, core, member)
    let mut in_flight: BinaryHeap<Reverse<(u64, usize, usize)>> = BinaryHeap::new();
    let mut buf = [MemberTotals::default(); 2];
    let mut counts = [0u64; 2];
    for tick in 0..PICKS {
        while let Some(&Reverse((done, core, m))) = in_flight.peek() {
            if done > tick {
                break;
            }
            in_flight.pop();
            cores[core].writer.busy_dec(0, m);
            cores[core].balancer.busy_dec(m);
        }
        if let Some(k) = sim.merge_every {
            for (i, c) in cores.iter_mut().enumerate() {
                if tick % k == (i as u64 * k / 2) % k {
                    stats.totals_into(0, &mut buf);
                    c.balancer.merge(&buf);
                }
            }
        }
        let core = if sim.random {
            rng.below(2) as usize
        } else {
            (tick % 2) as usize
        };
        let c = &mut cores[core];
        let m = c.balancer.pick(NO_ROUTES, 0, tick).unwrap().member;
        counts[m] += 1;
        c.writer.add_request(0, m);
        c.writer.busy_inc(0, m);
        c.balancer.busy_inc(m);
        // Equal bodies: 1 000 bytes in, 100 out.
        c.writer.add_bytes(0, m, 1_000, 100);
        c.balancer.record_traffic(m, 1_000, 100);
        in_flight.push(Reverse((tick + sim.hold[m], core, m)));
    }
    let requests: u64 = (0..2).map(|m| stats.totals(0, m).requests).sum();
    assert_eq!(requests, PICKS, "every pick was counted once");
    100.0 * counts[1] as f64 / PICKS as f64
}

/// byrequests and bytraffic land within 1 point of 25/75 on two cores with a merge every 8
/// picks (a few ms of skew at realistic rates), alternating or random; bybusyness sends
/// clearly less than 75 % to `b` when `b` is slow. Prints every figure.
#[test]
fn skew_two_cores_weights_1_to_3() {
    let fast = [1, 1];
    let slow_b = [10, 40];
    let mut rows = Vec::new();
    for (label, method, hold) in [
        ("byrequests", LbMethod::ByRequests, fast),
        ("bytraffic", LbMethod::ByTraffic, fast),
        ("bybusyness, equal latency", LbMethod::ByBusyness, [10, 10]),
        ("bybusyness, b 4x slower", LbMethod::ByBusyness, slow_b),
    ] {
        for random in [false, true] {
            for merge_every in [Some(1), Some(8), Some(64), None] {
                let sim = Sim {
                    method,
                    merge_every,
                    random,
                    hold,
                };
                rows.push((label, sim, simulate(sim)));
            }
        }
    }
    println!("two cores, members a:b = 1:3, {PICKS} new sessions; share of b in %");
    println!(
        "{:<28} {:<11} {:>8} {:>8} {:>8} {:>8}",
        "method", "cores", "merge/1", "/8", "/64", "never"
    );
    for chunk in rows.chunks(4) {
        let (label, sim, _) = chunk[0];
        let order = if sim.random { "random" } else { "alternating" };
        let figures: Vec<String> = chunk.iter().map(|(_, _, p)| format!("{p:8.2}")).collect();
        println!("{label:<28} {order:<11} {}", figures.join(" "));
    }
    for (label, sim, share) in &rows {
        if sim.merge_every != Some(8) {
            continue;
        }
        match sim.method {
            LbMethod::ByRequests | LbMethod::ByTraffic => {
                assert!((share - 75.0).abs() <= 1.0, "{label} {sim:?}: {share}");
            }
            LbMethod::ByBusyness if sim.hold == slow_b => {
                assert!(*share < 50.0, "{label} {sim:?}: {share}");
            }
            LbMethod::ByBusyness => {}
        }
    }
}
