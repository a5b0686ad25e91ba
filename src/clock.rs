//! The one place that reads the clock. Everything else takes `now` as an argument.

use std::time::{Duration, Instant};

/// Monotonic milliseconds since the process-wide epoch (first call).
#[allow(clippy::disallowed_methods)]
pub fn now() -> Instant {
    Instant::now()
}

/// Milliseconds since `epoch`.
pub fn ms_since(epoch: Instant, now: Instant) -> u64 {
    now.saturating_duration_since(epoch).as_millis() as u64
}

/// Duration since `then`.
pub fn elapsed(then: Instant) -> Duration {
    now().saturating_duration_since(then)
}

/// Milliseconds since the Unix epoch (wall clock), for log lines and failure times.
#[allow(clippy::disallowed_methods)]
pub fn unix_now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64)
}

/// Seconds since the Unix epoch (wall clock), for log lines.
#[allow(clippy::disallowed_methods)]
pub fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}
