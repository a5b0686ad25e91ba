//! The per-core worker: its thread, pinned to one CPU, its own monoio runtime (io_uring or
//! epoll), its own `SO_REUSEPORT` listeners, balancers and member connection pools.
//!
//! Nothing here is shared with other cores except the read-only `Arc<Config>` and the stop flag.

mod accounting;
mod ajp;
mod ajp_body;
mod balancer_headers;
mod bufs;
mod client;
mod conn;
mod deadline;
mod exchange;
mod forward;
mod gen;
mod h2;
mod idle;
mod limits;
mod probe;
mod proxied;
mod relay;
mod request;
mod response_head;
mod stream;
mod tls_tunnel;

use std::cell::{Cell, RefCell};
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::task::{Poll, Waker};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;
use monoio::io::{CancelHandle, Canceller};
use monoio::net::TcpListener;

use crate::clock;
use crate::config::IoDriver;
use crate::link::{Control, WorkerInfo, WorkerLink};

pub(crate) use bufs::BufPool;
pub(crate) use gen::Gen;
pub(crate) use h2::floods as http2_floods;

/// How often a worker wakes to check its stop flag and sweep idle pools.
const TICK: Duration = Duration::from_millis(10);

/// How often a worker frees the buffers its free lists did not need since the last time, and
/// returns emptied memory pages to the system: RSS is back near its idle level within two
/// intervals of a load's end.
const TRIM_INTERVAL: Duration = Duration::from_secs(1);

/// Everything one worker thread owns across configuration generations. Lives in an `Rc`;
/// `RefCell`s are never borrowed across `.await`.
#[derive(Debug)]
pub(crate) struct Core {
    pub(crate) index: usize,
    /// The generation new requests use; replaced between requests on reload.
    current: RefCell<Rc<Gen>>,
    pub(crate) bufs: Rc<BufPool>,
    /// Request-head buffers of active connections (idle ones hold none).
    pub(crate) head_bufs: BufPool,
    /// Deadlines of idle connections.
    pub(crate) reaper: idle::Reaper,
    pub(crate) epoch: Instant,
    /// Client connections open on this worker.
    pub(crate) connections: Cell<u64>,
    /// The same count published for the metrics (this worker's slot).
    shared_connections: Arc<[std::sync::atomic::AtomicU64]>,
    /// Set on graceful stop: every response closes its connection, and connections close at
    /// their next idle point unless `handed_over`.
    pub(crate) draining: Cell<bool>,
    /// Set on the stop after a binary upgrade: an idle connection waits for its next request
    /// (answered with `Connection: close`) instead of closing under a client that may be
    /// sending it, until its idle timeout or the grace period ends.
    pub(crate) handed_over: Cell<bool>,
    /// Accept loops paused at the connection cap, woken when a connection ends.
    accept_waiters: RefCell<Vec<Waker>>,
    /// Health-check (passes, fails) in a row per member (balancer name, URL) this worker
    /// probes, kept across generations.
    pub(crate) probe_counts: probe::Counts,
}

impl Core {
    /// Whether a connection closes at its next idle point: on a graceful stop, unless the
    /// listening sockets were handed over.
    pub(crate) fn closing_at_idle(&self) -> bool {
        self.draining.get() && !self.handed_over.get()
    }

    /// The current generation.
    pub(crate) fn current(&self) -> Rc<Gen> {
        self.current.borrow().clone()
    }

    /// Adds `delta` (+1 or -1) to the open connections of this worker.
    pub(crate) fn count_connection(&self, opened: bool) {
        let n = if opened {
            self.connections.get() + 1
        } else {
            self.connections.get().saturating_sub(1)
        };
        self.connections.set(n);
        if let Some(slot) = self.shared_connections.get(self.index) {
            slot.store(n, std::sync::atomic::Ordering::Relaxed);
        }
        if !opened {
            self.wake_acceptors();
        }
    }

    /// Resumes paused accept loops so they look at the cap (and the stop flag) again.
    fn wake_acceptors(&self) {
        let waiters = std::mem::take(&mut *self.accept_waiters.borrow_mut());
        for waker in waiters {
            waker.wake();
        }
    }

    /// Waits while this worker holds its generation's `max_connections` client connections, or
    /// until `stopping` is set (HAProxy `maxconn`: new connections wait in the kernel's
    /// accept queue meanwhile). Woken by [`Core::count_connection`] when one closes.
    async fn below_connection_cap(&self, stopping: &Cell<bool>) {
        std::future::poll_fn(|cx| {
            if stopping.get() || self.connections.get() < self.current().max_connections {
                return Poll::Ready(());
            }
            self.accept_waiters.borrow_mut().push(cx.waker().clone());
            Poll::Pending
        })
        .await;
    }
}

/// One bound listening socket of a worker and what it is in the config.
#[derive(Debug)]
pub(crate) struct Listener {
    pub(crate) socket: std::net::TcpListener,
    /// Its `[[listener]]` (index in `Config::listeners`); `None`: a `listen` address.
    pub(crate) index: Option<usize>,
    /// Its place among all listening addresses (`listen`, then `[[listener]]`, in config
    /// order): its row of the per-listener counters.
    pub(crate) row: usize,
}

/// The listening socket a client connection came in on. Every connection keeps one, so it is
/// kept small: 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(super) struct Arrival {
    /// Its port (what `[[vhost]]`'s `ports` match).
    pub(super) local_port: u16,
    listener: Option<u32>,
    row: u32,
}

impl Arrival {
    /// Its `[[listener]]` (index in `Config::listeners`); `None`: a plain `listen` address.
    pub(super) fn listener(&self) -> Option<usize> {
        self.listener.map(|i| i as usize)
    }

    /// Its row of the per-listener counters ([`Listener::row`]).
    pub(super) fn row(&self) -> usize {
        self.row as usize
    }
}

/// Descriptors kept out of the automatic connection cap: listeners, the runtime's own, the
/// admin listener, health probes, log files.
const RESERVED_FDS: u64 = 64;

/// The automatic `max_connections` of each of `workers` workers: the open files limit less
/// [`RESERVED_FDS`], halved (a client connection and its member connection), shared out.
pub(crate) fn auto_max_connections(open_files: u64, workers: usize) -> u64 {
    (open_files.saturating_sub(RESERVED_FDS) / 2 / workers.max(1) as u64).max(1)
}

/// Body of a worker thread: pin, build the runtime, serve until `stop` is set. Reports
/// `Ok(WorkerInfo)` or the reason it could not start on `ready`.
pub(crate) fn thread_main(
    index: usize,
    cpu: Option<usize>,
    link: WorkerLink,
    listeners: Vec<Listener>,
    ready: Sender<Result<WorkerInfo, String>>,
) {
    let cpu = cpu.filter(|&c| monoio::utils::bind_to_cpu_set([c]).is_ok());
    let driver = link.shared.config.io_driver;
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
                rt.block_on(run(info, link, listeners, ready));
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
            rt.block_on(run(info, link, listeners, ready));
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
    link: WorkerLink,
    listeners: Vec<Listener>,
    ready: Sender<Result<WorkerInfo, String>>,
) {
    let bufs = Rc::new(BufPool::new(bufs::IO_BUF));
    let gen = Gen::new(&link.shared, info.index, bufs.clone(), link.epoch, None);
    let core = Rc::new(Core {
        index: info.index,
        current: RefCell::new(Rc::new(gen)),
        bufs,
        head_bufs: BufPool::new(bufs::HEAD_BUF),
        reaper: idle::Reaper::default(),
        epoch: link.epoch,
        connections: Cell::new(0),
        shared_connections: link.connections.clone(),
        draining: Cell::new(false),
        handed_over: Cell::new(false),
        accept_waiters: RefCell::new(Vec::new()),
        probe_counts: probe::Counts::default(),
    });
    let canceller = Canceller::new();
    let stopping = Rc::new(Cell::new(false));
    let accepting = Rc::new(Cell::new(0usize));
    for Listener { socket, index, row } in listeners {
        set_nodelay_for_accepted(&socket);
        match TcpListener::from_std(socket) {
            Ok(listener) => {
                accepting.set(accepting.get() + 1);
                let (core, accepting) = (core.clone(), accepting.clone());
                let (cancel, stopping) = (canceller.handle(), stopping.clone());
                monoio::spawn(async move {
                    accept_loop(core, listener, (index, row), cancel, &stopping).await;
                    accepting.set(accepting.get() - 1);
                });
            }
            Err(e) => {
                let _ = ready.send(Err(format!("worker {}: listener: {e}", info.index)));
                return;
            }
        }
    }
    probe::start(&core, link.shared.stats.cores());
    let _ = ready.send(Ok(info));
    let mut totals = Vec::new();
    let mut outages = crate::balancer::Outages::default();
    let mut last_sweep = clock::now();
    let mut last_trim = last_sweep;
    while !link.stop.requested() {
        let gen = core.current();
        monoio::time::sleep(gen.config.stats.merge_interval.min(TICK)).await;
        gen.merge_stats(&mut totals);
        let now = clock::now();
        core.reaper.reap(now);
        if let Some(access) = gen.access.borrow_mut().as_mut() {
            access.tick(clock::ms_since(core.epoch, now));
        }
        if now.saturating_duration_since(last_sweep) >= TICK {
            last_sweep = now;
            for (i, b) in gen.balancers.iter().enumerate() {
                b.pool.sweep(now);
                b.pool
                    .for_each_idle(|m, idle| gen.stats.set_pool_idle(i, m, idle));
            }
            if core.index == 0 {
                gen.log_state_changes(&mut outages);
            }
        }
        if now.saturating_duration_since(last_trim) >= TRIM_INTERVAL {
            last_trim = now;
            core.bufs.trim();
            core.head_bufs.trim();
            core.reaper.shrink();
            crate::allocator::collect();
        }
        while let Ok(control) = link.controls.try_recv() {
            apply(&core, control);
        }
    }
    // Stop accepting at once, then let open connections finish until the grace period ends.
    stopping.set(true);
    core.wake_acceptors();
    core.draining.set(true);
    core.handed_over.set(link.stop.handed_over());
    if !core.handed_over.get() {
        core.reaper.reap_all();
    }
    let _ = canceller.cancel();
    // The accept tasks own the listeners: wait (briefly) until they have dropped them.
    for _ in 0..100 {
        if accepting.get() == 0 {
            break;
        }
        monoio::time::sleep(Duration::from_millis(1)).await;
    }
    let deadline = clock::now() + link.stop.grace();
    while core.connections.get() > 0 && clock::now() < deadline {
        monoio::time::sleep(Duration::from_millis(5)).await;
        core.reaper.reap(clock::now()); // idle timeouts still end handed-over connections
    }
}

/// Puts one control message in force on this worker, then acknowledges it: every request
/// that starts after the acknowledgement sees the change.
fn apply(core: &Rc<Core>, control: Control) {
    let ack = match control {
        Control::Swap(shared, ack) => {
            let previous = core.current();
            let next = Gen::new(
                &shared,
                core.index,
                core.bufs.clone(),
                core.epoch,
                Some(&previous),
            );
            let next = Rc::new(next);
            let old = core.current.replace(next.clone());
            old.retire(&next);
            probe::start(core, shared.stats.cores());
            core.wake_acceptors(); // the cap may have changed
            ack
        }
        Control::Edit(shared, edits, ack) => {
            let next = core.current().edited(&shared, &edits);
            core.current.replace(Rc::new(next));
            ack
        }
    };
    let _ = ack.send(core.index);
}

/// Accepts until `stopping` is set and `cancel` fires, spawning a connection task per client.
async fn accept_loop(
    core: Rc<Core>,
    listener: TcpListener,
    (index, row): (Option<usize>, usize),
    cancel: CancelHandle,
    stopping: &Cell<bool>,
) {
    // Listening addresses are a handful; far below u32::MAX.
    let arrival = Arrival {
        local_port: listener.local_addr().map_or(0, |a| a.port()),
        listener: index.map(|i| i as u32),
        row: row as u32,
    };
    loop {
        core.below_connection_cap(stopping).await;
        if stopping.get() {
            return;
        }
        match listener.cancelable_accept(cancel.clone()).await {
            Ok((stream, peer)) => {
                let open = conn::OpenConnection::new(core.clone());
                core.current().stats.add_listener_connection(row);
                let accepted = conn::Accepted {
                    open,
                    tcp: stream,
                    peer,
                    arrival,
                };
                // Boxed: the spawned future then keeps 8 bytes of it, not 150, while idle.
                monoio::spawn(conn::serve(Box::new(accepted)));
            }
            Err(_) if stopping.get() => return,
            Err(e) => accept_backoff(e).await,
        }
    }
}

/// Sets `TCP_NODELAY` on a listening socket: the connections it accepts inherit it (Linux
/// copies the listener's TCP options into each accepted socket), which saves a `setsockopt`
/// per connection. Best effort, like the per-connection call it replaces.
fn set_nodelay_for_accepted(listener: &std::net::TcpListener) {
    let _ = socket2::SockRef::from(listener).set_nodelay(true);
}

/// Out of file descriptors or memory: pause accepting briefly instead of spinning.
async fn accept_backoff(e: io::Error) {
    let pause = match e.raw_os_error() {
        Some(libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM) => 50,
        _ => 1,
    };
    monoio::time::sleep(Duration::from_millis(pause)).await;
}

#[cfg(test)]
mod tests {
    #[test]
    fn accepted_connections_inherit_nodelay_from_the_listener() {
        let listener =
            crate::server::bind_reuseport("127.0.0.1:0".parse().expect("addr")).expect("listener");
        super::set_nodelay_for_accepted(&listener);
        listener.set_nonblocking(false).expect("blocking");
        let addr = listener.local_addr().expect("addr");
        let _client = std::net::TcpStream::connect(addr).expect("connect");
        let (accepted, _) = listener.accept().expect("accept");
        assert!(accepted.nodelay().expect("nodelay"));
    }

    #[test]
    fn auto_cap_halves_the_open_files_left_and_shares_them_out() {
        let cases = [
            (1024, 1, 480),
            (1024, 2, 240),
            (1_048_576, 16, 32_766),
            (64, 4, 1),
            (10, 1, 1),
            (u64::MAX, 0, (u64::MAX - 64) / 2),
        ];
        for (files, workers, want) in cases {
            assert_eq!(
                super::auto_max_connections(files, workers),
                want,
                "{files} {workers}"
            );
        }
    }
}
