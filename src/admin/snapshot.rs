//! Builds the admin [`Snapshot`] from the current generation: config values, counters summed
//! over the cores, and the shared health words. Runs on the admin thread at request time.

use std::time::{Duration, Instant};

use std::collections::HashMap;

use super::model::{
    BalancerView, CheckView, Health, LastCheckView, LastErrorView, LimitView, ListenerView,
    MemberView, Snapshot, WorkerView,
};
use super::rates::{Counts, RateHistory, Sample};
use crate::accesslog::time::rfc3339_ms_string;
use crate::balancer::{HealthState, Status};
use crate::clock;
use crate::control::Controller;
use crate::stats::{MemberTotals, LATENCY_BOUNDS_US};

/// Every member's counts now, for the rates ([`RateHistory::record`]).
pub fn sample(controller: &Controller) -> Sample {
    let gen = controller.current();
    let mut counts = HashMap::new();
    for (b, bcfg) in gen.config.balancers.iter().enumerate() {
        for (m, member) in bcfg.members.iter().enumerate() {
            let key = (bcfg.name.clone(), member.url.clone());
            counts.insert(key, rate_counts(&gen.stats.totals(b, m)));
        }
    }
    Sample {
        at_ms: clock::ms_since(controller.epoch(), clock::now()),
        counts,
    }
}

/// What the rates count of a member's totals: attempts, and failed attempts plus 5xx.
fn rate_counts(t: &MemberTotals) -> Counts {
    Counts {
        requests: t.requests,
        errors: t.errors.saturating_add(t.responses[4]),
    }
}

/// A snapshot of everything the manager shows. `epoch` is the workers' clock origin; `rates`
/// the sampler's history.
pub fn take(controller: &Controller, epoch: Instant, rates: &RateHistory) -> Snapshot {
    let gen = controller.current();
    let reloads = controller.reloads();
    let upto = gen.config.timeouts.upstream_response;
    let now = clock::now();
    let now_ms = clock::ms_since(epoch, now);
    #[allow(clippy::disallowed_methods)] // wall-clock time shown to the operator
    let now_unix_ms = clock::unix_now_ms();
    let now_unix = now_unix_ms / 1000;
    let workers = controller
        .workers()
        .iter()
        .map(|w| WorkerView {
            index: w.index,
            cpu: w.cpu,
            driver: w.driver.to_string(),
            connections: controller.connections(w.index),
        })
        .collect();
    let balancers = gen
        .config
        .balancers
        .iter()
        .enumerate()
        .map(|(b, bcfg)| BalancerView {
            name: bcfg.name.clone(),
            mount: gen.config.routes.mounts_text(&gen.config.balancers, b),
            lbmethod: bcfg.lbmethod.as_str().to_string(),
            sticky: bcfg
                .sticky
                .as_ref()
                .map(|s| format!("{}|{}", s.cookie_name, s.url_name)),
            nofailover: bcfg.options.nofailover,
            forcerecovery: bcfg.options.failover.forcerecovery,
            maxattempts: bcfg.options.failover.maxattempts,
            members: bcfg
                .members
                .iter()
                .enumerate()
                .map(|(m, member)| {
                    let t = gen.stats.totals(b, m);
                    let state = gen.health.state(b, m, now_ms);
                    let mut status = member.options.status;
                    match state {
                        HealthState::InError { .. } => status |= Status::ERROR,
                        HealthState::HcFailed => status |= Status::HC_FAILED,
                        HealthState::Ok => {}
                    }
                    let health = if status.contains(Status::STOPPED) {
                        Health::Stopped
                    } else if status.contains(Status::DISABLED) {
                        Health::Disabled
                    } else {
                        match state {
                            HealthState::Ok if status.contains(Status::DRAIN) => Health::Draining,
                            HealthState::Ok => Health::Ok,
                            HealthState::HcFailed => Health::HcFailed,
                            HealthState::InError { until_ms } => Health::InError {
                                retry_in_secs: until_ms.saturating_sub(now_ms).div_ceil(1000),
                            },
                        }
                    };
                    let latency_buckets = cumulative_buckets(&t.latency_buckets, upto);
                    let key = (bcfg.name.clone(), member.url.clone());
                    let letters = status.to_string();
                    MemberView {
                        url: member.url.clone(),
                        address: member.addr.to_string(),
                        route: member.route.clone(),
                        redirect: member.options.redirect.clone(),
                        domain: member.options.domain.clone(),
                        loadfactor: f64::from(member.lbfactor) / 100.0,
                        lbset: member.options.lbset,
                        status: if letters == "-" {
                            String::new()
                        } else {
                            letters
                        },
                        health,
                        busy: t.busy,
                        requests: t.requests,
                        bytes_in: t.bytes_in,
                        bytes_out: t.bytes_out,
                        errors: t.errors,
                        responses: t.responses,
                        last_error: t.last_error.map(|e| LastErrorView {
                            what: e.what(),
                            at: rfc3339_ms_string(e.unix_ms),
                            at_unix_ms: e.unix_ms,
                        }),
                        state_since_secs: now_ms
                            .saturating_sub(gen.health.last_change(b, m, now_ms))
                            .div_ceil(1000),
                        downtime_secs: gen.health.downtime(b, m, now_ms) / 1000,
                        rates: rates.rates(&key, now_ms, rate_counts(&t)),
                        flow: gen.stats.flow_totals(b, m),
                        latency_buckets,
                        latency_sum_secs: t.latency_sum_us as f64 / 1e6,
                        latency_count: t.latency_count,
                        limit: limit_view(&gen, b, m),
                        checks: member.options.health.as_ref().map(|_| {
                            let c = gen.stats.check_totals(b, m);
                            CheckView {
                                runs: c.runs,
                                failures: c.failures,
                                duration_sum_secs: c.duration_sum_us as f64 / 1e6,
                                last: c.last.map(|l| LastCheckView {
                                    passed: l.fault.is_none(),
                                    what: l.fault.map_or("passed", |f| f.as_str()).to_string(),
                                    duration_ms: l.duration_ms,
                                    at: rfc3339_ms_string(l.unix_ms),
                                    at_unix_ms: l.unix_ms,
                                    check_status: super::csv::check_status(l.fault).to_string(),
                                    age_secs: (now_unix_ms.saturating_sub(l.unix_ms)) / 1000,
                                }),
                            }
                        }),
                    }
                })
                .collect(),
        })
        .collect();
    let listeners = (controller.listeners().iter().enumerate())
        .map(|(l, addr)| {
            let t = gen.stats.listener_totals(l);
            ListenerView {
                address: addr.to_string(),
                connections: t.connections,
                requests: t.requests,
            }
        })
        .collect();
    Snapshot {
        version: env!("CARGO_PKG_VERSION").to_string(),
        now_unix,
        uptime_secs: now.saturating_duration_since(epoch).as_secs(),
        workers,
        listeners,
        balancers,
        overrides: controller.overrides().describe(),
        tls_handshake_failures: crate::tls::handshake_failures(),
        http2_floods: crate::worker::http2_floods(),
        generated: gen.stats.generated(),
        generation: gen.number,
        reloads_succeeded: reloads.succeeded,
        reloads_failed: reloads.failed,
        last_reload_success_unix_ms: reloads.last_success_unix_ms,
        process: super::process::read(),
    }
}

/// Member `m`'s limit and queue, when it has `max`: the shared counts now and the queue
/// counters summed over the cores.
fn limit_view(gen: &crate::link::SharedGen, b: usize, m: usize) -> Option<LimitView> {
    let limit = gen.limit(b, m)?;
    let max = gen
        .config
        .balancers
        .get(b)?
        .members
        .get(m)?
        .options
        .limits
        .max?;
    let q = gen.stats.queue_totals(b, m);
    // No request waits longer than `acquire` (default `timeouts.connect`).
    let member_limits = &gen.config.balancers.get(b)?.members.get(m)?.options.limits;
    let acquire = member_limits.acquire.unwrap_or(gen.config.timeouts.connect);
    Some(LimitView {
        max,
        connections: u64::from(limit.open()),
        waiting: u64::from(limit.waiting()),
        queued: q.queued,
        timeouts: q.timeouts,
        full: q.full,
        wait_buckets: cumulative_buckets(&q.wait_buckets, acquire),
        wait_sum_secs: q.wait_sum_us as f64 / 1e6,
    })
}

/// Per-bucket counts of [`LATENCY_BOUNDS_US`] as `(upper bound in seconds, cumulative count)`,
/// the bounds up to the first at or above `upto` (the upstream response timeout: no response
/// waits longer, so higher bounds would only repeat the count); all of them when none is.
pub fn cumulative_buckets(counts: &[u64], upto: Duration) -> Vec<(f64, u64)> {
    let upto_us = u64::try_from(upto.as_micros()).unwrap_or(u64::MAX);
    let last = LATENCY_BOUNDS_US
        .iter()
        .position(|&b| b >= upto_us)
        .unwrap_or(LATENCY_BOUNDS_US.len() - 1);
    let mut cumulative = 0u64;
    (LATENCY_BOUNDS_US.iter().zip(counts))
        .take(last + 1)
        .map(|(&bound, &n)| {
            cumulative = cumulative.saturating_add(n);
            (bound as f64 / 1e6, cumulative)
        })
        .collect()
}
