//! The per-core worker: its thread, pinned to one CPU, its own monoio runtime (io_uring or
//! epoll), its own `SO_REUSEPORT` listeners, balancers and member connection pools.
//!
//! Nothing here is shared with other cores except the read-only `Arc<Config>` and the stop flag.

mod accounting;
mod bufs;
mod conn;
mod exchange;
mod forward;
mod signals;

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use monoio::io::{CancelHandle, Canceller};
use monoio::net::TcpListener;

use crate::balancer::Balancer;
use crate::clock;
use crate::config::{Config, IoDriver, Sticky};
use crate::error::{ProxyError, Retry};
use crate::log;
use crate::server::WorkerInfo;
use crate::stats::{CoreWriter, MemberTotals, Stats};
use crate::upstream::Pool;

pub(crate) use bufs::BufPool;

/// How often a worker wakes to check its stop flag and sweep idle pools.
const TICK: Duration = Duration::from_millis(10);

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

/// Everything one core owns. Lives in an `Rc`; `RefCell`s are never borrowed across `.await`.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) config: Arc<Config>,
    pub(crate) balancers: Vec<BalancerRt>,
    /// Balancer indices by mount, longest mount first.
    mounts: Vec<usize>,
    pub(crate) bufs: BufPool,
    pub(crate) epoch: Instant,
    /// This core's slot in the cross-core counters.
    pub(crate) stats: CoreWriter,
    all_stats: Arc<Stats>,
}

impl Core {
    fn new(config: Arc<Config>, stats: Arc<Stats>, index: usize) -> Core {
        let idle = config.timeouts.upstream_idle;
        let balancers = config
            .balancers
            .iter()
            .map(|b| BalancerRt {
                balancer: RefCell::new(Balancer::new(b)),
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
        Core {
            config,
            balancers,
            mounts,
            bufs: BufPool::new(),
            epoch: clock::now(),
            stats: stats.writer(index),
            all_stats: stats,
        }
    }

    /// Feeds every balancer the cross-core totals (its global view for bybusyness/bytraffic).
    fn merge_stats(&self, scratch: &mut Vec<MemberTotals>) {
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

    /// Records a failed attempt on member `m` of balancer `b`: counts it, and puts the member
    /// in error for its `retry` when the failure says the member is unhealthy (a connect
    /// failure, or a timeout with `failontimeout`). Logs the state change, not every failure.
    pub(crate) fn member_failed(&self, b: usize, m: usize, error: ProxyError) {
        self.stats.add_error(b, m);
        let bcfg = &self.config.balancers[b];
        let unhealthy = error.retry == Retry::NothingSent
            || (error.status == 504 && bcfg.options.failover.failontimeout);
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
        let was_in_error = balancer
            .member(m)
            .is_some_and(|x| x.error_until_ms() > now_ms);
        if balancer.mark_error(m, until) && !was_in_error {
            log::warn(format_args!(
                "balancer {}: member {} ({}) in error for {:?}: {why}",
                self.config.balancers[b].name, member.url, member.route, member.options.retry
            ));
        }
    }

    pub(crate) fn now_ms(&self, now: Instant) -> u64 {
        clock::ms_since(self.epoch, now)
    }
}

/// Body of a worker thread: pin, build the runtime, serve until `stop` is set. Reports
/// `Ok(WorkerInfo)` or the reason it could not start on `ready`.
pub(crate) fn thread_main(
    index: usize,
    cpu: Option<usize>,
    config: Arc<Config>,
    stats: Arc<Stats>,
    listeners: Vec<std::net::TcpListener>,
    stop: Arc<AtomicBool>,
    ready: Sender<Result<WorkerInfo, String>>,
) {
    let cpu = cpu.filter(|&c| monoio::utils::bind_to_cpu_set([c]).is_ok());
    let driver = config.io_driver;
    let use_uring = match driver {
        IoDriver::Epoll => false,
        IoDriver::IoUring => true,
        IoDriver::Auto => monoio::utils::detect_uring(),
    };
    if use_uring {
        match monoio::RuntimeBuilder::<monoio::IoUringDriver>::new()
            .with_entries(1024)
            .enable_timer()
            .build()
        {
            Ok(mut rt) => {
                let info = WorkerInfo {
                    index,
                    cpu,
                    driver: "io_uring",
                };
                rt.block_on(run(info, config, stats, listeners, stop, ready));
                return;
            }
            Err(e) if driver == IoDriver::IoUring => {
                let _ = ready.send(Err(format!("worker {index}: io_uring unavailable: {e}")));
                return;
            }
            Err(_) => {}
        }
    }
    match monoio::RuntimeBuilder::<monoio::LegacyDriver>::new()
        .enable_timer()
        .build()
    {
        Ok(mut rt) => {
            let info = WorkerInfo {
                index,
                cpu,
                driver: "epoll",
            };
            rt.block_on(run(info, config, stats, listeners, stop, ready));
        }
        Err(e) => {
            let _ = ready.send(Err(format!(
                "worker {index}: cannot build epoll runtime: {e}"
            )));
        }
    }
}

async fn run(
    info: WorkerInfo,
    config: Arc<Config>,
    stats: Arc<Stats>,
    listeners: Vec<std::net::TcpListener>,
    stop: Arc<AtomicBool>,
    ready: Sender<Result<WorkerInfo, String>>,
) {
    let core = Rc::new(Core::new(config, stats, info.index));
    let canceller = Canceller::new();
    let stopping = Rc::new(Cell::new(false));
    let accepting = Rc::new(Cell::new(0usize));
    for std_listener in listeners {
        match TcpListener::from_std(std_listener) {
            Ok(listener) => {
                accepting.set(accepting.get() + 1);
                let (core, accepting) = (core.clone(), accepting.clone());
                let (cancel, stopping) = (canceller.handle(), stopping.clone());
                monoio::spawn(async move {
                    accept_loop(core, listener, cancel, &stopping).await;
                    accepting.set(accepting.get() - 1);
                });
            }
            Err(e) => {
                let _ = ready.send(Err(format!("worker {}: listener: {e}", info.index)));
                return;
            }
        }
    }
    let _ = ready.send(Ok(info));
    let tick = core.config.stats.merge_interval.min(TICK);
    let mut totals = Vec::new();
    let mut last_sweep = clock::now();
    while !stop.load(Ordering::Relaxed) {
        monoio::time::sleep(tick).await;
        core.merge_stats(&mut totals);
        let now = clock::now();
        if now.saturating_duration_since(last_sweep) >= TICK {
            last_sweep = now;
            for b in &core.balancers {
                b.pool.sweep(now);
            }
        }
    }
    // Close the listeners before returning, so a stopped server refuses new connections at once.
    stopping.set(true);
    let _ = canceller.cancel();
    for _ in 0..100 {
        if accepting.get() == 0 {
            break;
        }
        monoio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// Accepts until `stopping` is set and `cancel` fires, spawning a connection task per client.
async fn accept_loop(
    core: Rc<Core>,
    listener: TcpListener,
    cancel: CancelHandle,
    stopping: &Cell<bool>,
) {
    loop {
        match listener.cancelable_accept(cancel.clone()).await {
            Ok((stream, peer)) => {
                let _ = stream.set_nodelay(true);
                monoio::spawn(conn::serve(core.clone(), stream, peer));
            }
            Err(_) if stopping.get() => return,
            Err(e) => accept_backoff(e).await,
        }
    }
}

/// Out of file descriptors or memory: pause accepting briefly instead of spinning.
async fn accept_backoff(e: io::Error) {
    let pause = match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => 50,
        _ => 1,
    };
    monoio::time::sleep(Duration::from_millis(pause)).await;
}
