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
use crate::balancer::{Balancer, Health, HealthState};
use crate::clock;
use crate::config::{AccessTarget, Config, Sticky};
use crate::error::ProxyError;
use crate::http::mount::{Mounts, Origin};
use crate::log;
use crate::server::SharedGen;
use crate::stats::{CoreWriter, MemberTotals, Stats};
use crate::upstream::Pool;

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
    /// Which balancer serves a path.
    mounts: Mounts,
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
        let mounts = Mounts::new(config.balancers.iter().map(|b| b.mount.as_str()));
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

    /// The balancer for a request target and what its member gets: [`Mounts::locate`].
    pub(crate) fn locate(&self, target: &[u8]) -> Result<(usize, Origin), (u16, &'static str)> {
        self.mounts.locate(target)
    }

    /// Records a failed attempt on member `m` of balancer `b`: counts it, and puts the member
    /// in error for its `retry` when the failure says the member is unhealthy (a connect
    /// failure, or a timeout with `failontimeout`). Logs the state change, not every failure.
    pub(crate) fn member_failed(&self, b: usize, m: usize, error: ProxyError) {
        self.stats.add_error(b, m);
        let bcfg = &self.config.balancers[b];
        let unhealthy =
            error.unreachable || (error.status == 504 && bcfg.options.failover.failontimeout);
        if unhealthy {
            self.put_in_error(b, m, error.detail);
        }
    }

    /// Puts member `m` of balancer `b` in error (`E`) until its `retry` has passed; members
    /// with `I` never enter error. Logs only when the member was not already in error.
    pub(crate) fn put_in_error(&self, b: usize, m: usize, why: &str) {
        let member = &self.config.balancers[b].members[m];
        let now_ms = self.now_ms(clock::now());
        let until = now_ms + member.options.retry.as_millis() as u64;
        let mut balancer = self.balancers[b].balancer.borrow_mut();
        if balancer.mark_error_at(m, now_ms, until) == Some(true) {
            log::warn(format_args!(
                "balancer {}: member {} ({}) in error for {:?}: {why}",
                self.config.balancers[b].name, member.url, member.route, member.options.retry
            ));
        }
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

    /// Logs members that became usable again since the last call (one core does this, so each
    /// change is logged once). `last` remembers which members were unusable.
    pub(crate) fn log_recoveries(&self, last: &mut Vec<bool>) {
        let now_ms = self.now_ms(clock::now());
        let health = self.health.as_ref();
        let mut i = 0;
        for (b, bcfg) in self.config.balancers.iter().enumerate() {
            for (m, member) in bcfg.members.iter().enumerate() {
                let down = !matches!(health.state(b, m, now_ms), HealthState::Ok);
                if last.len() <= i {
                    last.push(down);
                } else if last[i] && !down {
                    log::info(format_args!(
                        "balancer {}: member {} ({}) is usable again",
                        bcfg.name, member.url, member.route
                    ));
                }
                last[i] = down;
                i += 1;
            }
        }
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
        AccessTarget::File(path) => Sink::open(path),
    };
    match sink {
        Ok(sink) => Some(AccessLog::new(Arc::new(format), sink)),
        Err(e) => {
            log::error(format_args!("access log {target:?}: {e}"));
            None
        }
    }
}
