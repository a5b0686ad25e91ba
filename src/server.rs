//! Starting and stopping the set of worker threads.
//!
//! Listeners are bound here, before any worker starts, so a bad address fails the start with a
//! clear error, and port 0 is resolved once: the first socket of each address picks the port,
//! and every other worker binds that same port with `SO_REUSEPORT`.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use socket2::{Domain, Protocol, Socket, Type};

use crate::config::Config;
use crate::stats::Stats;
use crate::worker;

/// Accept backlog per worker listener.
const BACKLOG: i32 = 4096;

/// How long start-up waits for the workers to report.
const START_TIMEOUT: Duration = Duration::from_secs(10);

/// What one worker reported at start-up.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkerInfo {
    pub index: usize,
    /// The CPU it is pinned to, if pinning succeeded.
    pub cpu: Option<usize>,
    /// `"io_uring"` or `"epoll"`.
    pub driver: &'static str,
}

/// A running ringlb. Dropping it stops the workers and joins them.
#[derive(Debug)]
pub struct ServerHandle {
    addrs: Vec<SocketAddr>,
    workers: Vec<WorkerInfo>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

/// Binds every listener, starts the workers and returns when all of them are accepting.
pub fn start(config: Arc<Config>) -> io::Result<ServerHandle> {
    let cpus = allowed_cpus();
    let n = config.workers.unwrap_or(cpus.len()).max(1);
    let mut per_worker: Vec<Vec<std::net::TcpListener>> = (0..n).map(|_| Vec::new()).collect();
    let mut addrs = Vec::with_capacity(config.listen.len());
    for &addr in &config.listen {
        let first = bind_reuseport(addr)
            .map_err(|e| io::Error::new(e.kind(), format!("cannot listen on {addr}: {e}")))?;
        let resolved = first.local_addr()?;
        addrs.push(resolved);
        per_worker[0].push(first);
        for listeners in per_worker.iter_mut().skip(1) {
            listeners.push(bind_reuseport(resolved)?);
        }
    }

    let stop = Arc::new(AtomicBool::new(false));
    let members: Vec<usize> = config.balancers.iter().map(|b| b.members.len()).collect();
    let stats = Arc::new(Stats::new(n, &members));
    let (ready_tx, ready_rx) = crossbeam_channel::bounded(n);
    let mut handle = ServerHandle {
        addrs,
        workers: Vec::new(),
        stop,
        threads: Vec::new(),
    };
    for (index, listeners) in per_worker.into_iter().enumerate() {
        let cpu = (!cpus.is_empty()).then(|| cpus[index % cpus.len()]);
        let (config, stop, ready) = (config.clone(), handle.stop.clone(), ready_tx.clone());
        let stats = stats.clone();
        let thread = std::thread::Builder::new()
            .name(format!("ringlb-w{index}"))
            .spawn(move || {
                worker::thread_main(index, cpu, config, stats, listeners, stop, ready)
            })?;
        handle.threads.push(thread);
    }
    for _ in 0..n {
        match ready_rx.recv_timeout(START_TIMEOUT) {
            Ok(Ok(info)) => handle.workers.push(info),
            Ok(Err(why)) => return Err(io::Error::other(why)),
            Err(_) => return Err(io::Error::other("a worker did not start in time")),
        }
    }
    handle.workers.sort_by_key(|w| w.index);
    Ok(handle)
}

impl ServerHandle {
    /// The bound listener addresses, in config order.
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
    }

    /// Stops the workers and waits for them.
    pub fn stop(self) {
        drop(self);
    }

    /// Blocks until every worker has exited.
    pub fn wait(mut self) {
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

fn bind_reuseport(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
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
