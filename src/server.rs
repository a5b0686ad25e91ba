//! Starting and stopping the set of worker threads.
//!
//! Listeners are bound here, before any worker starts, so a bad address fails the start with a
//! clear error, and port 0 is resolved once: the first socket of each address picks the port,
//! and every other worker binds that same port with `SO_REUSEPORT`.

use std::io;
use std::net::SocketAddr;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::AtomicU64;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crossbeam_channel::Sender;
use socket2::{Domain, Protocol, Socket, Type};

use crate::clock;
use crate::config::Config;
use crate::control::{spawn_dns, Controller, Wake, WorkerLinks};
use crate::dns::{self, Names};
use crate::link::{SharedGen, StopSignal, WorkerInfo, WorkerLink};
use crate::tls::{Acceptors, Connectors};
use crate::upgrade::Inherited;
use crate::worker::{self, Listener};

/// Accept backlog per worker listener.
const BACKLOG: i32 = 4096;

/// How long start-up waits for the workers to report.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// A running ringlb. Dropping it stops the workers at once and joins them.
#[derive(Debug)]
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    workers: Vec<WorkerInfo>,
    stop: Arc<StopSignal>,
    threads: Vec<JoinHandle<()>>,
    controller: Arc<Controller>,
    /// The DNS thread (`control::dns`) and how to stop it.
    dns: Option<(JoinHandle<()>, Sender<Wake>)>,
    /// A duplicate of every listening socket, by the address the configuration names, for
    /// a binary upgrade to hand over ([`crate::upgrade`]).
    sockets: Vec<(String, Vec<OwnedFd>)>,
}

/// Looks up the members' host names ([`dns::resolve_at_start`]; a name that does not resolve
/// fails the start), binds every listener, starts the workers and returns when all of them
/// are accepting.
pub fn start(config: Arc<Config>) -> io::Result<ServerHandle> {
    let (resolved, names) =
        dns::resolve_at_start(&config).map_err(|e| io::Error::other(e.to_string()))?;
    start_resolved(config, resolved, names)
}

/// [`start`] with the host names already looked up: `resolved` is `config` with the addresses
/// of `names` put in ([`dns::resolve_at_start`], which `ringlb run` calls through
/// [`crate::startup::check`]).
pub fn start_resolved(
    config: Arc<Config>,
    resolved: Config,
    names: Names,
) -> io::Result<ServerHandle> {
    start_inheriting(config, resolved, names, &mut Inherited::default())
}

/// [`start_resolved`] on the listening sockets a binary upgrade handed over where `inherited`
/// has them for an address (all of them: each has its own accept queue), binding the others.
/// A worker gets more than one socket of an address when the old process had more workers.
pub fn start_inheriting(
    config: Arc<Config>,
    resolved: Config,
    names: Names,
    inherited: &mut Inherited,
) -> io::Result<ServerHandle> {
    let file = config;
    let config = Arc::new(resolved);
    let cpus = allowed_cpus();
    let n = config.workers.unwrap_or(cpus.len()).max(1);
    let tls = Arc::new(Acceptors::load(&config).map_err(io::Error::other)?);
    let connectors = Arc::new(Connectors::load(&config).map_err(io::Error::other)?);
    crate::tls::warn_unverified(&config);
    let mut per_worker: Vec<Vec<Listener>> = (0..n).map(|_| Vec::new()).collect();
    // `listen` addresses, then the `[[listener]]` tables, in config order.
    let all: Vec<(SocketAddr, Option<usize>)> = (config.listen.iter().map(|&a| (a, None)))
        .chain((config.listeners.iter().enumerate()).map(|(i, l)| (l.address, Some(i))))
        .collect();
    let mut addrs = Vec::with_capacity(all.len());
    let handed: Vec<Vec<std::net::TcpListener>> = (all.iter())
        .map(|(addr, _)| inherited.take(&addr.to_string()))
        .collect();
    // All probes first: our own first listener must not count as "another process".
    for (&(addr, _), handed) in all.iter().zip(&handed) {
        if handed.is_empty() {
            refuse_if_in_use(addr)?;
        }
    }
    let mut sockets = Vec::with_capacity(all.len());
    for (row, (&(addr, index), mut listeners)) in all.iter().zip(handed).enumerate() {
        if listeners.is_empty() {
            listeners.push(
                bind_reuseport(addr).map_err(|e| {
                    io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}"))
                })?,
            );
        }
        let resolved = listeners[0].local_addr()?;
        addrs.push(resolved);
        while listeners.len() < n {
            listeners.push(bind_reuseport(resolved)?);
        }
        let mut kept = Vec::with_capacity(listeners.len());
        for (i, socket) in listeners.into_iter().enumerate() {
            kept.push(OwnedFd::from(socket.try_clone()?));
            per_worker[i % n].push(Listener { socket, index, row });
        }
        sockets.push((addr.to_string(), kept));
    }

    let shared = Arc::new(
        SharedGen::new(1, config, n)
            .with_tls(tls)
            .with_connectors(connectors),
    );
    let epoch = clock::now();
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(n);
    let stop = Arc::new(StopSignal::default());
    let connections: Arc<[AtomicU64]> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let mut threads = Vec::new();
    let mut controls = Vec::new();
    for (index, listeners) in per_worker.into_iter().enumerate() {
        let cpu = (!cpus.is_empty()).then(|| cpus[index % cpus.len()]);
        let (control_tx, control_rx) = crossbeam_channel::unbounded();
        controls.push(control_tx);
        let link = WorkerLink {
            shared: shared.clone(),
            epoch,
            stop: stop.clone(),
            controls: control_rx,
            connections: connections.clone(),
        };
        let ready = ready_tx.clone();
        let thread = std::thread::Builder::new()
            .name(format!("ringlb-w{index}"))
            .spawn(move || worker::thread_main(index, cpu, link, listeners, ready))?;
        threads.push(thread);
    }
    let mut workers = Vec::new();
    for _ in 0..n {
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(info)) => workers.push(info),
            Ok(Err(why)) => {
                stop_all(&stop, threads);
                return Err(io::Error::other(why));
            }
            Err(_) => {
                stop_all(&stop, threads);
                return Err(io::Error::other("a worker did not start in time"));
            }
        }
    }
    workers.sort_by_key(|w| w.index);
    let links = WorkerLinks {
        controls,
        workers: workers.clone(),
        connections,
        epoch,
        listeners: addrs.clone(),
    };
    let (wake_tx, wake_rx) = crossbeam_channel::unbounded();
    let controller = Arc::new(Controller::new(file, shared, names, links, wake_tx.clone()));
    let dns = match spawn_dns(controller.clone(), wake_rx) {
        Ok(thread) => Some((thread, wake_tx)),
        Err(e) => {
            stop_all(&stop, threads);
            return Err(io::Error::new(
                e.kind(),
                format!("cannot start the DNS thread: {e}"),
            ));
        }
    };
    Ok(ServerHandle {
        addrs,
        workers,
        stop,
        threads,
        controller,
        dns,
        sockets,
    })
}

fn stop_all(stop: &StopSignal, threads: Vec<JoinHandle<()>>) {
    stop.request(Duration::ZERO);
    for t in threads {
        let _ = t.join();
    }
}

impl ServerHandle {
    /// The bound listener addresses: the `listen` addresses, then the `[[listener]]` tables',
    /// in config order.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
    }

    /// Stops the workers at once and waits for them.
    pub fn stop(self) {
        drop(self);
    }

    /// Graceful stop: stop accepting, let open connections finish for up to `grace`, then
    /// stop the workers and wait for them.
    pub fn shutdown(mut self, grace: Duration) {
        self.stop.request(grace);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop_dns();
    }

    /// Graceful stop after a binary upgrade handed the listening sockets over: stop
    /// accepting (the new process accepts on the same sockets), serve each open connection's
    /// next request with `Connection: close`, and stop the workers once the connections are
    /// closed or `grace` ends.
    pub fn shutdown_handed_over(self, grace: Duration) {
        self.stop.request_handover(grace);
        self.wait();
    }

    /// Starts the new binary on this process's listening sockets (and `admin`'s) with the
    /// operator's overrides, and returns its process id once it serves
    /// ([`crate::upgrade::start_successor`]).
    pub fn start_successor(&self, admin: Option<RawFd>) -> Result<u32, String> {
        let mut listeners: Vec<(String, Vec<RawFd>)> = (self.sockets.iter())
            .map(|(key, fds)| (key.clone(), fds.iter().map(|f| f.as_raw_fd()).collect()))
            .collect();
        if let Some(fd) = admin {
            listeners.push((crate::upgrade::ADMIN_KEY.to_owned(), vec![fd]));
        }
        crate::upgrade::start_successor(&listeners, &self.controller.overrides())
    }

    /// Ends the DNS thread (after the lookup it may be making) and waits for it.
    fn stop_dns(&mut self) {
        if let Some((thread, wake)) = self.dns.take() {
            let _ = wake.send(Wake::Stop);
            let _ = thread.join();
        }
    }

    /// The generation new requests use.
    pub fn current(&self) -> Arc<SharedGen> {
        self.controller.current()
    }

    /// The control plane: reloads and operator changes.
    pub fn controller(&self) -> &Arc<Controller> {
        &self.controller
    }

    /// Switches every worker to `config` (already validated), keeping operator changes and
    /// member state. Requests in flight finish on the generation they started with.
    pub fn reload(&self, config: Config) -> Result<u64, String> {
        self.controller
            .reload(config, &crate::control::Actor::Program)
    }

    /// Blocks until every worker has exited.
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop_dns();
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        if !self.stop.requested() {
            self.stop.request(Duration::ZERO);
        }
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
        self.stop_dns();
    }
}

/// Fails with "ADDR: address in use by another process" when a socket already listens on
/// `addr` (or on a wildcard or specific address that overlaps it). Our listeners share their
/// address through `SO_REUSEPORT`, so a second ringlb of the same user would otherwise bind
/// beside the first and take half its connections in silence; the probe is bound without
/// `SO_REUSEPORT`, which no existing listener can share with. `SO_REUSEADDR` lets it ignore
/// `TIME_WAIT` leftovers of an earlier run. Port 0 is not probed (the kernel picks a free
/// port). Listeners are bound once per process (a reload keeps them), so nothing of ours is
/// bound while this runs.
fn refuse_if_in_use(addr: SocketAddr) -> io::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    match socket.bind(&addr.into()) {
        Err(e) if e.kind() == io::ErrorKind::AddrInUse => Err(io::Error::new(
            e.kind(),
            format!("{addr}: address in use by another process"),
        )),
        Err(e) => Err(io::Error::new(
            e.kind(),
            format!("cannot listen on {addr}: {e}"),
        )),
        Ok(()) => Ok(()),
    }
}

/// A non-blocking listener on `addr` with `SO_REUSEPORT` (and `SO_REUSEADDR`), so that every
/// worker can bind the same address.
pub(crate) fn bind_reuseport(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, Some(Protocol::TCP))?;
    socket.set_reuse_address(true)?;
    socket.set_reuse_port(true)?;
    socket.set_nonblocking(true)?;
    if addr.is_ipv6() {
        socket.set_only_v6(true)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(BACKLOG)?;
    Ok(socket.into())
}

/// The CPUs this process may run on (respects `taskset`), in ascending order.
#[allow(unsafe_code)]
pub fn allowed_cpus() -> Vec<usize> {
    // SAFETY: cpu_set_t is plain bytes; all-zero is a valid empty set.
    let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
    // SAFETY: `set` is a valid, writable cpu_set_t of the size passed; pid 0 = this thread.
    let rc =
        unsafe { libc::sched_getaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &mut set) };
    if rc != 0 {
        return std::thread::available_parallelism().map_or(vec![0], |n| (0..n.get()).collect());
    }
    (0..libc::CPU_SETSIZE as usize)
        // SAFETY: `c` is below CPU_SETSIZE and `set` was filled by sched_getaffinity.
        .filter(|&c| unsafe { libc::CPU_ISSET(c, &set) })
        .collect()
}
