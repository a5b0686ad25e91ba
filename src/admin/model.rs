//! Owned views of the proxy's state, filled by the admin I/O glue at request time and read by the
//! renderers ([`super::html`], [`super::json`], [`super::metrics`]).
//!
//! Plain data: no behaviour beyond small derived facts ([`Health::label`], [`Health::is_up`]).
//! The glue copies config values and summed stats counters into these structs, so the renderers
//! never touch shared state and can be tested with hand-built values.

use serde::Serialize;

pub use super::rates::Rates;
pub use crate::stats::FlowTotals;

/// Everything one admin page shows, taken at one moment.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    /// `CARGO_PKG_VERSION` of the running binary.
    pub version: String,
    /// Wall-clock time of the snapshot, seconds since the Unix epoch.
    pub now_unix: u64,
    /// Seconds since the process started.
    pub uptime_secs: u64,
    /// Per-core worker threads.
    pub workers: Vec<WorkerView>,
    /// The listening addresses: `listen`, then `[[listener]]`, in config order.
    pub listeners: Vec<ListenerView>,
    /// Balancers in config order.
    pub balancers: Vec<BalancerView>,
    /// The operator's overrides of the configuration file in force, one line each.
    pub overrides: Vec<String>,
    /// TLS handshakes that failed since start, every worker together.
    pub tls_handshake_failures: u64,
    /// HTTP/2 connections the flood guard closed since start, every worker together.
    pub http2_floods: u64,
    /// Responses ringlb generated itself, every worker together: `(code, count)`, code 0
    /// for every code not counted on its own. Metrics only.
    #[serde(skip)]
    pub generated: Vec<(u16, u64)>,
    /// The configuration generation in force (1 at start, one more per reload or edit).
    /// Metrics only.
    #[serde(skip)]
    pub generation: u64,
    /// Reloads that succeeded and failed since start. Metrics only.
    #[serde(skip)]
    pub reloads_succeeded: u64,
    #[serde(skip)]
    pub reloads_failed: u64,
    /// Unix milliseconds of the last successful reload; `None` before the first. Metrics only.
    #[serde(skip)]
    pub last_reload_success_unix_ms: Option<u64>,
    /// The process's CPU, memory and descriptors. Metrics only.
    #[serde(skip)]
    pub process: ProcessView,
}

/// What the `process_*` families show; `None` where `/proc` did not tell.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessView {
    /// User plus system CPU time, seconds.
    pub cpu_seconds: Option<f64>,
    /// Resident set size, bytes.
    pub resident_memory_bytes: Option<u64>,
    /// Open file descriptors.
    pub open_fds: Option<u64>,
    /// The soft open files limit.
    pub max_fds: Option<u64>,
    /// When the process started, Unix seconds.
    pub start_time_seconds: Option<f64>,
}

/// One per-core worker thread.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct WorkerView {
    /// Worker number, 0-based.
    pub index: usize,
    /// CPU the thread is pinned to, if pinning succeeded.
    pub cpu: Option<usize>,
    /// I/O driver the worker runs: `"io_uring"` or `"legacy"`.
    pub driver: String,
    /// Client connections open on this worker now.
    pub connections: u64,
}

/// One listening address and what came in on it, every worker together.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ListenerView {
    /// The bound address, `IP:PORT`.
    pub address: String,
    /// Client connections accepted.
    pub connections: u64,
    /// Requests read, answered by a member or by ringlb.
    pub requests: u64,
}

/// One balancer (`balancer://name`) and its members.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct BalancerView {
    /// Balancer name, without `balancer://`.
    pub name: String,
    /// Path prefix the balancer serves, e.g. `/app`.
    pub mount: String,
    /// `byrequests`, `bytraffic` or `bybusyness`.
    pub lbmethod: String,
    /// `stickysession` as configured, e.g. `JSESSIONID|jsessionid`; `None` when not sticky.
    pub sticky: Option<String>,
    /// `nofailover`: a sticky request whose member is unusable gets 503 instead of another member.
    pub nofailover: bool,
    /// `forcerecovery`: clear E on every member when all are in error.
    pub forcerecovery: bool,
    /// `maxattempts`; `None` means the default (members - 1).
    pub maxattempts: Option<u32>,
    /// Members in config order (then added members).
    pub members: Vec<MemberView>,
}

/// One member (backend server) of a balancer.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct MemberView {
    /// Member URL; the key (`w`) of manager actions.
    pub url: String,
    /// Where its connections go now, `IP:PORT`: the URL's address, or the address its host
    /// name was last looked up to.
    pub address: String,
    /// `route`; empty when none.
    pub route: String,
    /// `redirect` route; empty when none.
    pub redirect: String,
    /// Replication `domain`; empty when none. Set in the configuration file only.
    pub domain: String,
    /// `loadfactor`, 1..=100.
    pub loadfactor: f64,
    /// `lbset` tier, 0..=99.
    pub lbset: u32,
    /// Status letters set on the member (docs/semantics.md §4), e.g. `"H"`, `"DE"`, or `""`.
    pub status: String,
    /// Usability, derived by the glue from the flags and the error window.
    pub health: Health,
    /// Requests in flight now.
    pub busy: u64,
    /// Requests sent (each attempt counts).
    pub requests: u64,
    /// Bytes received from the member.
    pub bytes_in: u64,
    /// Bytes sent to the member.
    pub bytes_out: u64,
    /// Failed attempts.
    pub errors: u64,
    /// Responses by status class: index 0 = 1xx ... 4 = 5xx.
    pub responses: [u64; 5],
    /// The member's last failure (request or health check), over every core; `None` when it
    /// has not failed since it was added (counters and this carry over reloads).
    pub last_error: Option<LastErrorView>,
    /// Seconds since the member last went down (failed check, error window) or came back up.
    pub state_since_secs: u64,
    /// Seconds the member has been down since it was added, the current span included.
    pub downtime_secs: u64,
    /// Requests and errors (failed attempts and 5xx responses) per second over the last ten
    /// seconds; `None` until a second of samples exists.
    pub rates: Option<Rates>,
    /// Sessions taken over, retries, redispatches, pooled connections, aborts.
    pub flow: FlowTotals,
    /// Response-time histogram: `(upper bound in seconds, cumulative count)`, ascending finite
    /// bounds; the `+Inf` bucket is `latency_count` and is not listed here.
    pub latency_buckets: Vec<(f64, u64)>,
    /// Sum of all observed response times, seconds.
    pub latency_sum_secs: f64,
    /// Number of observed responses.
    pub latency_count: u64,
    /// The connection limit and its queue; `None` for a member without `max`.
    pub limit: Option<LimitView>,
    /// Health-check probes run, failed, their total duration (seconds) and the last one;
    /// `None` for a member without a health check.
    pub checks: Option<CheckView>,
}

/// A member's health-check counters, every worker together.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct CheckView {
    pub runs: u64,
    pub failures: u64,
    pub duration_sum_secs: f64,
    /// The latest probe; `None` before the first.
    pub last: Option<LastCheckView>,
}

/// The outcome of a member's latest health-check probe.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LastCheckView {
    pub passed: bool,
    /// `passed`, or what failed, e.g. `health check: unexpected status`.
    pub what: String,
    /// How long the probe took, milliseconds.
    pub duration_ms: u64,
    /// When it ended, RFC 3339 UTC with milliseconds.
    pub at: String,
    /// When it ended, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
    /// Seconds since it ended.
    pub age_secs: u64,
    /// HAProxy's `check_status` word for it, e.g. `L7OK`, `L4CON`, `L7STS`.
    pub check_status: String,
}

/// A member's connection limit (`max`) and the requests waiting for it, every worker together.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LimitView {
    /// `max`.
    pub max: u32,
    /// Connections open (or being opened) to the member now, idle pooled ones included.
    pub connections: u64,
    /// Requests waiting for a connection now.
    pub waiting: u64,
    /// Requests that waited (each wait counts).
    pub queued: u64,
    /// Requests that waited `acquire` and got `503`.
    pub timeouts: u64,
    /// Requests refused at once (`503`) because `maxqueue` were waiting.
    pub full: u64,
    /// Wait-time histogram: `(upper bound in seconds, cumulative count)`, ascending finite
    /// bounds; the `+Inf` bucket is `queued`.
    pub wait_buckets: Vec<(f64, u64)>,
    /// Sum of all waits, seconds.
    pub wait_sum_secs: f64,
}

/// A member's last failure: what and when.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct LastErrorView {
    /// What failed, e.g. `connect refused`, `no response in time (504)`, `failonstatus 503`,
    /// `health check: unexpected status 500`.
    pub what: String,
    /// When, RFC 3339 UTC with milliseconds, e.g. `2026-12-02T01:02:03.456Z`.
    pub at: String,
    /// When, milliseconds since the Unix epoch.
    pub at_unix_ms: u64,
}

/// Whether a member takes new requests, and if not, why. Serialized as
/// `{"state": "ok"}`, `{"state": "draining"}`, `{"state": "error", "retry_in_secs": 12}`,
/// `{"state": "hc_failed"}`, `{"state": "disabled"}` or `{"state": "stopped"}`.
///
/// The glue picks the first that applies: stopped (S), disabled (D), the shared health (in
/// error, failed check), draining (N), ok. A draining member still serves the sessions it
/// holds but takes no new ones, so only [`Health::Ok`] counts as up.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum Health {
    /// Usable: takes new requests.
    #[default]
    Ok,
    /// Draining (N): serves requests of sessions routed to it, takes no new ones.
    Draining,
    /// In error (E); retried after `retry_in_secs` (0: at the next request).
    #[serde(rename = "error")]
    InError {
        /// Seconds until the `retry` window ends.
        retry_in_secs: u64,
    },
    /// The health check failed (C).
    HcFailed,
    /// Disabled (D) by config or the manager.
    Disabled,
    /// Stopped (S).
    Stopped,
}

impl Health {
    /// Every state label, in the order the metrics list them.
    pub const LABELS: [&'static str; 6] = [
        "ok",
        "draining",
        "error",
        "hc_failed",
        "disabled",
        "stopped",
    ];

    /// The state label used by JSON (`state`) and metrics (`ringlb_member_health{state}`).
    pub fn label(self) -> &'static str {
        match self {
            Health::Ok => "ok",
            Health::Draining => "draining",
            Health::InError { .. } => "error",
            Health::HcFailed => "hc_failed",
            Health::Disabled => "disabled",
            Health::Stopped => "stopped",
        }
    }

    /// Whether the member takes new requests (sessionless or moved ones): `true` only for
    /// [`Health::Ok`]. A draining, disabled, stopped, failed-check or in-error member is not
    /// up, whatever it still serves.
    pub fn is_up(self) -> bool {
        self == Health::Ok
    }
}
