//! The request body deadline, httpd `mod_reqtimeout`'s `body=N,MinRate=R` rule: the body must
//! be complete within `timeouts.client_body` of its start, and every `limits.min_body_rate`
//! bytes received extend that by one second, up to `timeouts.client_body_max` after the start
//! (no cap when zero). A client that keeps the average rate up may send a body of any size; a
//! client that trickles (one byte every few seconds) is cut off, so it cannot hold a member
//! connection for as long as it likes. Pure: the caller passes `now`.

use std::time::{Duration, Instant};

use crate::config::{Limits, Timeouts};

/// The body deadline's settings, taken from one configuration generation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct BodyTimeout {
    initial: Duration,
    /// Zero: no cap.
    cap: Duration,
    /// Bytes per extra second; 0: no extension.
    min_rate: u64,
}

impl BodyTimeout {
    pub(super) fn new(timeouts: &Timeouts, limits: &Limits) -> BodyTimeout {
        BodyTimeout {
            initial: timeouts.client_body,
            cap: timeouts.client_body_max,
            min_rate: limits.min_body_rate,
        }
    }

    /// The deadline of a body that starts at `now`.
    pub(super) fn start(self, now: Instant) -> Deadline {
        Deadline {
            at: now + self.initial,
            cap: (!self.cap.is_zero()).then(|| now + self.cap),
            min_rate: self.min_rate,
        }
    }
}

/// A running body deadline: moves later as bytes arrive, never past its cap.
#[derive(Clone, Copy, Debug)]
pub(super) struct Deadline {
    at: Instant,
    cap: Option<Instant>,
    min_rate: u64,
}

impl Deadline {
    /// `bytes` more of the body arrived: one second more per `min_rate` of them.
    pub(super) fn received(&mut self, bytes: u64) {
        if self.min_rate == 0 || bytes == 0 {
            return;
        }
        let nanos = u128::from(bytes) * 1_000_000_000 / u128::from(self.min_rate);
        let extra = Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        let at = self.at.checked_add(extra).unwrap_or(self.at);
        self.at = self.cap.map_or(at, |cap| at.min(cap));
    }

    /// How long is left at `now` (zero once passed).
    pub(super) fn remaining(&self, now: Instant) -> Duration {
        self.at.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn timeout(initial: u64, cap: u64, min_rate: u64) -> BodyTimeout {
        BodyTimeout {
            initial: Duration::from_secs(initial),
            cap: Duration::from_secs(cap),
            min_rate,
        }
    }

    #[test]
    fn each_min_rate_bytes_add_one_second() {
        let t0 = crate::clock::now();
        let mut d = timeout(20, 0, 500).start(t0);
        assert_eq!(d.remaining(t0), Duration::from_secs(20));
        d.received(500);
        assert_eq!(d.remaining(t0), Duration::from_secs(21));
        d.received(250);
        assert_eq!(d.remaining(t0), Duration::from_millis(21_500));
        // A trickle: one byte per 4 s loses ground at once.
        let mut slow = timeout(20, 0, 500).start(t0);
        for s in 1..=5u64 {
            slow.received(1);
            let now = t0 + Duration::from_secs(4 * s);
            let left = slow.remaining(now);
            assert!(left < Duration::from_secs(20 - 3 * s), "{s}: {left:?}");
        }
        assert_eq!(slow.remaining(t0 + Duration::from_secs(21)), Duration::ZERO);
    }

    #[test]
    fn the_cap_bounds_the_extension() {
        let t0 = crate::clock::now();
        let mut d = timeout(10, 40, 1000).start(t0);
        d.received(1_000_000);
        assert_eq!(d.remaining(t0), Duration::from_secs(40));
    }

    #[test]
    fn zero_rate_means_no_extension() {
        let t0 = crate::clock::now();
        let mut d = timeout(5, 0, 0).start(t0);
        d.received(u64::MAX);
        assert_eq!(d.remaining(t0), Duration::from_secs(5));
        let mut huge = timeout(5, 0, 1).start(t0);
        huge.received(u64::MAX); // saturates instead of overflowing
        assert!(huge.remaining(t0) >= Duration::from_secs(5));
    }
}
