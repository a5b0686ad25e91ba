//! One configuration generation as one worker sees it: the config and everything derived
//! from it (balancers, member connection pools, counter slots). A reload or an admin change
//! makes a new generation; requests in flight finish on the one they started with.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::BufPool;
use crate::accesslog::format::Format;
use crate::accesslog::sink::Sink;
use crate::accesslog::AccessLog;
use crate::balancer::{Balancer, Change, Health, HealthState, Outages};
use crate::clock;
use crate::config::{AccessTarget, BalancerConfig, Config, MemberConfig, Sticky};
use crate::error::{ProxyError, Retry};
use crate::log;
use crate::server::SharedGen;
use crate::stats::{CoreWriter, Fault, LastError, MemberTotals, Stats};
use crate::upstream::{ConnectError, Pool};

/// Idle member connections kept per member per core.
const MAX_IDLE_PER_MEMBER: usize = 256;

/// One balancer's per-core runtime state.
#[derive(Debug)]
pub(crate) struct BalancerRt {
    pub(crate) balancer: RefCell<Balancer>,
    pub(crate) pool: Pool,
    /// In insert-cookie mode, how ringlb's own route cookie is read back.
    pub(crate) insert_sticky: Option<Sticky>,
}

/// One generation on one core. Lives in an `Rc`; `RefCell`s are never borrowed across `.await`.
#[derive(Debug)]
pub(crate) struct Gen {
    pub(crate) config: Arc<Config>,
    pub(crate) balancers: Vec<BalancerRt>,
    /// Balancer indices by mount, longest mount first.
    mounts: Vec<usize>,
    pub(crate) bufs: Rc<BufPool>,
    pub(crate) epoch: Instant,
    /// Member health words shared by every core.
    pub(crate) health: Arc<Health>,
    /// This worker's access log for this generation, when configured.
    pub(crate) access: RefCell<Option<AccessLog>>,
    /// Set when a newer generation replaced this one (its probe tasks end).
    pub(crate) retired: std::cell::Cell<bool>,
    /// This core's slot in the cross-core counters.
    pub(crate) stats: CoreWriter,
    /// Client connections this worker holds at most (`limits.max_connections`, or derived
    /// from the open files limit when that is `auto`).
    pub(crate) max_connections: u64,
    all_stats: Arc<Stats>,
}

impl Gen {
    pub(super) fn new(shared: &SharedGen, index: usize, bufs: Rc<BufPool>, epoch: Instant) -> Gen {
        let config = shared.config.clone();
        let stats = shared.stats.clone();
        let idle = config.timeouts.upstream_idle;
        let balancers = config
            .balancers
            .iter()
            .enumerate()
            .map(|(i, b)| BalancerRt {
                balancer: RefCell::new(Balancer::with_health(b, shared.health.clone(), i)),
                pool: Pool::new(b.members.len(), MAX_IDLE_PER_MEMBER, idle),
                insert_sticky: b.options.insert_cookie.as_ref().map(|c| {
                    let sep = b.sticky.as_ref().map_or(Some(b'.'), |s| s.sep);
                    Sticky {
                        sep,
                        ..Sticky::new(&c.name, "")
                    }
                }),
            })
            .collect();
        let mut mounts: Vec<usize> = (0..config.balancers.len()).collect();
        mounts.sort_by_key(|&i| std::cmp::Reverse(config.balancers[i].mount.len()));
        Gen {
            config,
            balancers,
            mounts,
            bufs,
            epoch,
            access: RefCell::new(open_access_log(&shared.config)),
            health: shared.health.clone(),
            retired: std::cell::Cell::new(false),
            max_connections: shared.config.limits.max_connections.map_or_else(
                || super::auto_max_connections(crate::rlimit::open_files_limit(), stats.cores()),
                u64::from,
            ),
            stats: stats.writer(index),
            all_stats: stats,
        }
    }

    /// Feeds every balancer the cross-core totals (its global view for bybusyness/bytraffic).
    pub(super) fn merge_stats(&self, scratch: &mut Vec<MemberTotals>) {
        for (b, rt) in self.balancers.iter().enumerate() {
            scratch.clear();
            let members = self.config.balancers[b].members.len();
            scratch.extend((0..members).map(|m| self.all_stats.totals(b, m)));
            rt.balancer.borrow_mut().merge(scratch);
        }
    }

    /// The balancer serving `path`: the longest mount that is a prefix of it ending at a
    /// segment boundary (`/app` serves `/app`, `/app/x` and `/app?q`, not `/apple`).
    pub(crate) fn route(&self, path: &[u8]) -> Option<usize> {
        self.mounts.iter().copied().find(|&i| {
            let mount = self.config.balancers[i].mount.as_bytes();
            path.starts_with(mount)
                && (mount.ends_with(b"/")
                    || path.len() == mount.len()
                    || matches!(path[mount.len()], b'/' | b'?' | b';'))
        })
    }

    /// Records a failed attempt on member `m` of balancer `b`: counts it, keeps it as the
    /// member's last failure (what [`fault_of`] makes of `error`), and puts the member in
    /// error for its `retry` when the failure says the member is unhealthy (a connect
    /// failure, or a timeout with `failontimeout`). Logs nothing: [`Gen::log_state_changes`]
    /// reports the state change once, however many requests fail.
    pub(crate) fn member_failed(&self, b: usize, m: usize, error: ProxyError) {
        self.member_failed_as(b, m, error, fault_of(&error));
    }

    /// [`Gen::member_failed`] with the fault given (a connect failure, which `error` does not
    /// tell apart).
    pub(crate) fn member_failed_as(&self, b: usize, m: usize, error: ProxyError, fault: Fault) {
        let status = match fault {
            Fault::ConnectRefused | Fault::ConnectTimeout => 0,
            _ => error.status,
        };
        self.record_failure(b, m, fault, status);
        let bcfg = &self.config.balancers[b];
        let unhealthy = error.retry == Retry::NothingSent
            || (error.status == 504 && bcfg.options.failover.failontimeout);
        if unhealthy {
            self.enter_error(b, m);
        }
    }

    /// A `failonstatus` answer (`status`) from member `m` of balancer `b`: counted as a failed
    /// attempt, kept as its last failure, and the member in error (`E`) until its `retry` has
    /// passed (members with `I` never enter error).
    pub(crate) fn put_in_error(&self, b: usize, m: usize, status: u16) {
        self.record_failure(b, m, Fault::FailOnStatus, status);
        self.enter_error(b, m);
    }

    /// Counts a failure of member `m` and publishes it as its last one.
    fn record_failure(&self, b: usize, m: usize, fault: Fault, status: u16) {
        self.stats.add_error(b, m);
        self.set_last_error(b, m, fault, status);
    }

    /// Publishes member `m`'s last failure, stamped now, in this core's slot: one store, no
    /// lock, no cache line another core writes.
    fn set_last_error(&self, b: usize, m: usize, fault: Fault, status: u16) {
        let unix_ms = clock::unix_now_ms();
        let error = LastError {
            fault,
            status,
            unix_ms,
        };
        self.stats.set_last_error(b, m, error);
    }

    /// Puts member `m` in error until its `retry` has passed.
    fn enter_error(&self, b: usize, m: usize) {
        let member = &self.config.balancers[b].members[m];
        let now_ms = self.now_ms(clock::now());
        let until = now_ms + member.options.retry.as_millis() as u64;
        self.balancers[b]
            .balancer
            .borrow_mut()
            .mark_error_at(m, now_ms, until);
    }

    /// A failed health check of member `m`: kept as its last failure (not counted as a failed
    /// attempt; no request was involved).
    pub(crate) fn check_failed(&self, b: usize, m: usize, fault: Fault, status: u16) {
        self.set_last_error(b, m, fault, status);
    }

    pub(crate) fn now_ms(&self, now: Instant) -> u64 {
        clock::ms_since(self.epoch, now)
    }

    /// Sets or clears the failed-check flag `C` of member `m` for every core; true when it
    /// changed.
    pub(crate) fn set_hc_failed(&self, b: usize, m: usize, failed: bool, now_ms: u64) -> bool {
        self.balancers[b]
            .balancer
            .borrow_mut()
            .set_hc_failed(m, failed, now_ms)
    }

    /// Logs each member state change once: entering error, a failed health check, serving
    /// again ([`Outage`](crate::balancer::Outage) decides, from the shared health and the
    /// counters summed over the cores). One core calls it from its tick, so no change is
    /// logged twice; `outages` is its memory across calls and generations (kept by member
    /// identity).
    pub(crate) fn log_state_changes(&self, outages: &mut Outages) {
        let balancers = &self.config.balancers;
        outages.follow(
            balancers
                .iter()
                .flat_map(|b| b.members.iter().map(|m| (b.name.as_str(), m.url.as_str()))),
        );
        let mut i = 0;
        for (b, bcfg) in balancers.iter().enumerate() {
            for (m, member) in bcfg.members.iter().enumerate() {
                // Counters before the state: a failure landing in between then shows as a
                // state in error, never as a response without its failure.
                let t = self.all_stats.totals(b, m);
                let state = self.health.state(b, m, self.now_ms(clock::now()));
                let responses = t.responses.iter().sum();
                let change = outages
                    .get_mut(i)
                    .and_then(|o| o.observe(state, responses, t.errors));
                if let Some(change) = change {
                    log_change(bcfg, member, change, state, &t);
                }
                i += 1;
            }
        }
    }
}

/// The error-log line of one member state change.
fn log_change(
    bcfg: &BalancerConfig,
    member: &MemberConfig,
    change: Change,
    state: HealthState,
    totals: &MemberTotals,
) {
    let who = format!(
        "balancer {}: member {}{}",
        bcfg.name,
        member.url,
        route_suffix(&member.route)
    );
    let why = totals
        .last_error
        .map_or_else(String::new, |e| format!(": {}", e.what()));
    match change {
        Change::InError => {
            let retry = match state {
                HealthState::InError { .. } => format!(" for {:?}", member.options.retry),
                _ => String::new(),
            };
            log::warn(format_args!("{who} in error{retry}{why}"));
        }
        Change::CheckFailed => log::warn(format_args!("{who} failed its health check{why}")),
        Change::Recovered => log::info(format_args!("{who} is usable again")),
    }
}

/// ` (route r)` for a member with a route; nothing for one without.
fn route_suffix(route: &str) -> String {
    if route.is_empty() {
        String::new()
    } else {
        format!(" (route {route})")
    }
}

/// What a failed attempt ended as, for the member's last failure. Connect failures are told
/// apart by the caller ([`Gen::member_failed_as`]); a `NothingSent` error here is a refusal.
pub(crate) fn fault_of(error: &ProxyError) -> Fault {
    match (error.status, error.retry) {
        (_, Retry::NothingSent) => Fault::ConnectRefused,
        (504, _) => Fault::ResponseTimeout,
        (502, _) if error.detail == super::exchange::CLOSED_EARLY => Fault::ClosedEarly,
        (502, _) => Fault::BadResponse,
        _ => Fault::Other,
    }
}

/// The fault of a failed connect.
pub(crate) fn connect_fault(e: ConnectError) -> Fault {
    match e {
        ConnectError::TimedOut => Fault::ConnectTimeout,
        ConnectError::Refused | ConnectError::Local => Fault::ConnectRefused,
    }
}

/// Opens the access log `config` asks for; a failure is logged and leaves logging off.
fn open_access_log(config: &Config) -> Option<AccessLog> {
    let target = config.ops.log.access.as_ref()?;
    let format = match Format::parse(&config.ops.log.access_format) {
        Ok(f) => f,
        Err(e) => {
            log::error(format_args!("access log format: {e}"));
            return None;
        }
    };
    let sink = match target {
        AccessTarget::Stdout => Sink::stdout(),
        AccessTarget::Stderr => Sink::stderr(),
        AccessTarget::File(path) => Sink::open(path),
        AccessTarget::Syslog(socket) => Sink::syslog(socket),
    };
    match sink {
        Ok(sink) => Some(AccessLog::new(Arc::new(format), sink)),
        Err(e) => {
            let target = crate::config::target_text(target);
            log::error(format_args!("access log {target:?}: {e}"));
            None
        }
    }
}
