//! Request and error rates for the admin pages, from samples of the members' counters.
//!
//! The admin server's sampler thread takes a [`Sample`] of every member's cumulative counts
//! each [`SAMPLE_EVERY`] ([`RateHistory::record`]); a page's rate is the change from the
//! oldest sample in the last [`WINDOW_MS`] to the counts at the page's own moment, per second
//! ([`RateHistory::rates`]). Members are keyed by balancer name and member URL, the identity
//! under which their counters carry over a reload.
//!
//! # Concurrency
//! One admin-side lock around the samples, taken by the sampler once a second and by each
//! page; never on the request path.

#![allow(clippy::disallowed_types)] // admin-side lock, never on the request path

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::Duration;

use serde::Serialize;

/// How often the sampler records.
pub const SAMPLE_EVERY: Duration = Duration::from_secs(1);
/// The span rates are averaged over, milliseconds.
pub const WINDOW_MS: u64 = 10_000;
/// The shortest span a rate is given for: earlier the rate is not known yet.
const MIN_SPAN_MS: u64 = 1_000;

/// A member's identity across reloads: (balancer name, member URL).
pub type MemberKey = (String, String);

/// A member's cumulative counts at one moment.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// Requests sent (each attempt).
    pub requests: u64,
    /// Failed attempts plus 5xx responses relayed.
    pub errors: u64,
}

/// Every member's counts at one moment (`at_ms`: the workers' clock, milliseconds).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Sample {
    pub at_ms: u64,
    pub counts: HashMap<MemberKey, Counts>,
}

/// A member's rates, per second.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct Rates {
    pub requests_per_sec: f64,
    pub errors_per_sec: f64,
}

/// The samples of the last [`WINDOW_MS`], oldest first.
#[derive(Debug, Default)]
pub struct RateHistory {
    samples: Mutex<VecDeque<Sample>>,
}

impl RateHistory {
    /// Adds `sample` and drops the samples older than the window (all but the newest).
    pub fn record(&self, sample: Sample) {
        let mut samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let now = sample.at_ms;
        samples.push_back(sample);
        prune(&mut samples, now);
    }

    /// The rate of `key` at `now` (`counts` at `now_ms`) over the window: `None` while no
    /// sample of it is at least [`MIN_SPAN_MS`] old.
    pub fn rates(&self, key: &MemberKey, now_ms: u64, counts: Counts) -> Option<Rates> {
        let samples = self.samples.lock().unwrap_or_else(|e| e.into_inner());
        let start = samples
            .iter()
            .find(|s| now_ms.saturating_sub(s.at_ms) <= WINDOW_MS)
            .or(samples.back())?;
        rate(start.counts.get(key).copied()?, start.at_ms, counts, now_ms)
    }
}

/// Drops the samples older than the window before `now_ms`, keeping at least the newest.
fn prune(samples: &mut VecDeque<Sample>, now_ms: u64) {
    let old = |s: &Sample| now_ms.saturating_sub(s.at_ms) > WINDOW_MS;
    while samples.len() > 1 && samples.front().is_some_and(old) {
        samples.pop_front();
    }
}

/// The change from `then` at `then_ms` to `now` at `now_ms`, per second; `None` for a span
/// under [`MIN_SPAN_MS`]. A counter that went down (a member removed and added again) counts
/// from 0.
pub fn rate(then: Counts, then_ms: u64, now: Counts, now_ms: u64) -> Option<Rates> {
    let span = now_ms.checked_sub(then_ms).filter(|&s| s >= MIN_SPAN_MS)?;
    let per_sec = |a: u64, b: u64| {
        let delta = if b >= a { b - a } else { b };
        delta as f64 * 1000.0 / span as f64
    };
    Some(Rates {
        requests_per_sec: per_sec(then.requests, now.requests),
        errors_per_sec: per_sec(then.errors, now.errors),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(requests: u64, errors: u64) -> Counts {
        Counts { requests, errors }
    }

    #[test]
    fn rates_are_per_second_over_at_least_a_second() {
        let cases = [
            (counts(0, 0), 0, counts(100, 5), 10_000, Some((10.0, 0.5))),
            (
                counts(50, 1),
                1_000,
                counts(150, 1),
                3_000,
                Some((50.0, 0.0)),
            ),
            (counts(0, 0), 0, counts(7, 0), 999, None),
            (counts(9, 9), 5_000, counts(9, 9), 4_000, None),
            (counts(100, 10), 0, counts(20, 2), 2_000, Some((10.0, 1.0))),
        ];
        for (then, then_ms, now, now_ms, want) in cases {
            let got =
                rate(then, then_ms, now, now_ms).map(|r| (r.requests_per_sec, r.errors_per_sec));
            assert_eq!(got, want, "{then:?}@{then_ms} -> {now:?}@{now_ms}");
        }
    }

    fn sample(at_ms: u64, requests: u64) -> Sample {
        let key = ("b".to_string(), "http://m".to_string());
        Sample {
            at_ms,
            counts: HashMap::from([(key, counts(requests, 0))]),
        }
    }

    #[test]
    fn the_window_starts_at_the_oldest_sample_within_it() {
        let h = RateHistory::default();
        let key = ("b".to_string(), "http://m".to_string());
        assert_eq!(h.rates(&key, 0, Counts::default()), None, "no sample yet");
        h.record(sample(0, 0));
        assert_eq!(h.rates(&key, 500, counts(5, 0)), None, "too short a span");
        for s in 1..=30u64 {
            h.record(sample(s * 1_000, s * 10));
        }
        assert_eq!(h.samples.lock().unwrap().len(), 11, "pruned to the window");
        let r = h.rates(&key, 30_500, counts(310, 0)).unwrap();
        // From the sample at 21 s (210) to 310 at 30.5 s.
        assert!((r.requests_per_sec - 100.0 / 9.5).abs() < 1e-9, "{r:?}");
        let other = ("b".to_string(), "http://new".to_string());
        assert_eq!(
            h.rates(&other, 30_500, counts(1, 0)),
            None,
            "not sampled yet"
        );
        // A page long after the last sample measures from that sample.
        let r = h.rates(&key, 60_000, counts(300, 0)).unwrap();
        assert_eq!(r.requests_per_sec, 0.0);
    }
}
