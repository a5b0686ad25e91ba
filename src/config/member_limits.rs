//! Connection limits to one member (httpd `max`, `smax`, `ttl`, `acquire`; mod_jk
//! `connection_pool_size`; HAProxy `maxconn`, `maxqueue`, `timeout queue`): the settings of
//! one member and how they are printed and shown in a diff. Each key may also be set on the
//! `[[balancer]]` as the default of its members (each member gets its own limit, not a share
//! of a balancer total).
//!
//! | key | httpd / HAProxy | meaning |
//! |---|---|---|
//! | `max` | `max=` / `maxconn` | open connections to the member, all workers together, at most (1..=65535); unset = no limit |
//! | `acquire` | `acquire=` / `timeout queue` | how long a request waits for a connection when `max` are open (default `timeouts.connect`, as HAProxy's `timeout queue`) |
//! | `maxqueue` | — / `maxqueue` | requests waiting for the member, all workers together, at most (0 = none wait); unset = no bound but `acquire` |
//! | `ttl` | `ttl=` | idle pooled connections beyond the `smax` most recent are closed after this long (default `timeouts.upstream_idle`, at most that) |
//! | `smax` | `smax=` | idle connections per worker kept for `timeouts.upstream_idle` whatever `ttl` says (default 0) |

use std::time::Duration;

use super::duration;

/// The connection limits of one member. `acquire` and `maxqueue` are `Some` only with `max`
/// (without a limit nothing waits).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MemberLimits {
    /// Open connections to the member, every worker together, at most; `None` = no limit (no
    /// shared counter exists then).
    pub max: Option<u32>,
    /// Idle connections per worker exempt from `ttl` (the most recently used ones).
    pub smax: usize,
    /// Idle lifetime of pooled connections beyond `smax`; `None` = `timeouts.upstream_idle`.
    pub ttl: Option<Duration>,
    /// Longest wait for a connection at `max`; `None` = `timeouts.connect`.
    pub acquire: Option<Duration>,
    /// Requests waiting for a connection, every worker together, at most; `None` = unbounded
    /// (each waits at most `acquire`).
    pub maxqueue: Option<u32>,
}

impl MemberLimits {
    /// The idle lifetime of pooled connections beyond `smax`, given `timeouts.upstream_idle`.
    pub fn ttl_or(&self, upstream_idle: Duration) -> Duration {
        self.ttl.unwrap_or(upstream_idle)
    }

    /// The longest queue wait, given `timeouts.connect`.
    pub fn acquire_or(&self, connect: Duration) -> Duration {
        self.acquire.unwrap_or(connect)
    }

    /// The keys that give exactly these settings in a `[[balancer.member]]` table.
    pub(crate) fn keys(&self) -> Vec<(&'static str, String)> {
        let mut out = Vec::new();
        if let Some(max) = self.max {
            out.push(("max", max.to_string()));
        }
        if self.smax != 0 {
            out.push(("smax", self.smax.to_string()));
        }
        if let Some(ttl) = self.ttl {
            out.push(("ttl", format!("\"{}\"", duration::format(ttl))));
        }
        if let Some(acquire) = self.acquire {
            out.push(("acquire", format!("\"{}\"", duration::format(acquire))));
        }
        if let Some(maxqueue) = self.maxqueue {
            out.push(("maxqueue", maxqueue.to_string()));
        }
        out
    }

    /// The settings as one value for a diff line.
    pub(crate) fn summary(&self) -> String {
        let max = self
            .max
            .map_or_else(|| "none".to_owned(), |n| n.to_string());
        let ttl = self
            .ttl
            .map_or_else(|| "upstream_idle".to_owned(), duration::format);
        let acquire = self
            .acquire
            .map_or_else(|| "connect".to_owned(), duration::format);
        let maxqueue = self
            .maxqueue
            .map_or_else(|| "unbounded".to_owned(), |n| n.to_string());
        format!(
            "max={max} smax={} ttl={ttl} acquire={acquire} maxqueue={maxqueue}",
            self.smax
        )
    }
}

/// Values `max` takes.
pub(crate) const MAX_RANGE: std::ops::RangeInclusive<i64> = 1..=65_535;
/// Idle connections a worker keeps per member at most (so the largest `smax`).
pub const MAX_IDLE_PER_MEMBER: usize = 256;
/// Largest `maxqueue`.
pub(crate) const MAXQUEUE_LIMIT: i64 = 1_000_000;
