//! Load for tests: keep-alive clients sending `GET /` in a loop until stopped.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;

use super::{get, poll_until, secs, Client};

/// 8 keep-alive clients sending `GET /` until stopped; counts answers that are not 200.
pub(crate) struct Load {
    stop: Arc<AtomicBool>,
    failed: Arc<AtomicUsize>,
    ok: Arc<AtomicUsize>,
    threads: Vec<thread::JoinHandle<()>>,
}

impl Load {
    pub(crate) fn start(addr: SocketAddr) -> Load {
        let stop = Arc::new(AtomicBool::new(false));
        let (ok, failed) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let threads = (0..8)
            .map(|_| {
                let (stop, ok, failed) = (stop.clone(), ok.clone(), failed.clone());
                thread::spawn(move || {
                    let mut client = Client::connect(addr);
                    while !stop.load(Ordering::Relaxed) {
                        let resp = client.request(&get("/"));
                        let counter = if resp.status == 200 { &ok } else { &failed };
                        counter.fetch_add(1, Ordering::Relaxed);
                    }
                })
            })
            .collect();
        Load {
            stop,
            failed,
            ok,
            threads,
        }
    }

    /// Waits until `n` more requests were answered.
    pub(crate) fn wait_for(&self, n: usize) {
        let start = self.ok.load(Ordering::Relaxed);
        assert!(
            poll_until(secs(10), || self.ok.load(Ordering::Relaxed) >= start + n),
            "the load makes progress"
        );
    }

    /// Stops the clients; (answered 200, anything else).
    pub(crate) fn finish(self) -> (usize, usize) {
        self.stop.store(true, Ordering::Relaxed);
        for t in self.threads {
            t.join().unwrap();
        }
        (
            self.ok.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed),
        )
    }
}
