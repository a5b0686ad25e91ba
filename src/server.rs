//! Starting and stopping the set of worker threads. STUB: interface fixed.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use crate::config::Config;

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
}

/// Binds every listener (port 0 resolved once, then shared through `SO_REUSEPORT`), starts the
/// workers and returns when all of them are accepting.
pub fn start(config: Arc<Config>) -> io::Result<ServerHandle> {
    let _ = config;
    Err(io::Error::other("not implemented"))
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
    pub fn stop(self) {}
}
