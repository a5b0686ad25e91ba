//! 100 MB bodies each way are streamed, not buffered: the member and the client check them with
//! FNV-1a checksums computed on the fly, and the resident set of this process (the proxy runs
//! in-process) must not grow by more than [`RSS_GROWTH_LIMIT`] meanwhile. The test side never
//! holds more than one 64 KiB block either. The tests of this file run one at a time so that
//! the memory readings are their own.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_types,
    clippy::disallowed_methods
)]

#[macro_use]
mod common;

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use common::{
    get, millis, poll_until, proxy_for, response_bytes, rss_bytes, secs, within, Client, Fnv,
    MockMember, Noise,
};
use ringlb::config::IoDriver;

both_drivers!(large_request_body_streamed, large_response_body_streamed);

const SIZE: u64 = 100 * 1024 * 1024;
const BLOCK: usize = 64 * 1024;
const RSS_GROWTH_LIMIT: u64 = 64 * 1024 * 1024;
const DEADLINE_S: u64 = 60;

static SERIAL: Mutex<()> = Mutex::new(());

/// Samples this process's RSS every few milliseconds until finished.
struct RssWatch {
    base: u64,
    stop: mpsc::Sender<()>,
    sampler: JoinHandle<u64>,
}

impl RssWatch {
    fn start() -> RssWatch {
        let base = rss_bytes();
        let (stop, rx) = mpsc::channel::<()>();
        let sampler = thread::spawn(move || {
            let mut peak = rss_bytes();
            loop {
                peak = peak.max(rss_bytes());
                match rx.recv_timeout(millis(10)) {
                    Err(RecvTimeoutError::Timeout) => {}
                    _ => return peak,
                }
            }
        });
        RssWatch {
            base,
            stop,
            sampler,
        }
    }

    /// Stops sampling and asserts the peak growth over the baseline.
    fn finish(self, what: &str) {
        let _ = self.stop.send(());
        let peak = self.sampler.join().unwrap().max(rss_bytes());
        let growth = peak.saturating_sub(self.base);
        assert!(
            growth < RSS_GROWTH_LIMIT,
            "{what}: RSS grew by {} MiB (base {} MiB, peak {} MiB): body buffered?",
            growth >> 20,
            self.base >> 20,
            peak >> 20
        );
    }
}

fn large_request_body_streamed(driver: IoDriver) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The member hashes the body as it arrives and answers "<length> <fnv hex>".
    let member = MockMember::raw(|conn| {
        while let Some(req) = conn.read_head()? {
            let mut fnv = Fnv::new();
            let n = conn.read_body_with(&req, |b| fnv.update(b))?;
            let body = format!("{n} {:016x}", fnv.0);
            conn.write_all(&response_bytes(200, "OK", &[], body.as_bytes()))?;
        }
        Ok(())
    });
    let (_proxy, a) = proxy_for(driver, &member);
    let watch = RssWatch::start();

    let reply = within(secs(DEADLINE_S), move || {
        let mut client = Client::connect(a);
        client.set_read_timeout(secs(DEADLINE_S));
        let mut out = client.try_clone_stream();
        let writer = thread::spawn(move || {
            let head = format!(
                "POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: {SIZE}\r\n\r\n"
            );
            out.write_all(head.as_bytes()).unwrap();
            let mut noise = Noise::new(0x5eed_0001);
            let mut fnv = Fnv::new();
            let mut block = vec![0u8; BLOCK];
            let mut left = SIZE;
            while left > 0 {
                let n = (left as usize).min(BLOCK);
                noise.fill(&mut block[..n]);
                fnv.update(&block[..n]);
                out.write_all(&block[..n]).unwrap();
                left -= n as u64;
            }
            fnv.0
        });
        let resp = client.read_response();
        let sent = writer
            .join()
            .unwrap_or_else(|p| std::panic::resume_unwind(p));
        (resp, sent)
    });
    let (resp, sent_fnv) = reply;
    watch.finish("100 MB request");

    assert_eq!(resp.status, 200);
    assert_eq!(
        resp.body_text(),
        format!("{SIZE} {sent_fnv:016x}"),
        "member got the same bytes"
    );
}

fn large_response_body_streamed(driver: IoDriver) {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    // The member streams SIZE pseudo-random bytes and publishes their checksum once sent.
    let sent_fnv = Arc::new(AtomicU64::new(0));
    let sent_done = Arc::new(AtomicBool::new(false));
    let (fnv_out, done_out) = (Arc::clone(&sent_fnv), Arc::clone(&sent_done));
    let member = MockMember::raw(move |conn| {
        while conn.read_request()?.is_some() {
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {SIZE}\r\n\r\n");
            conn.write_all(head.as_bytes())?;
            let mut noise = Noise::new(0x5eed_0002);
            let mut fnv = Fnv::new();
            let mut block = vec![0u8; BLOCK];
            let mut left = SIZE;
            while left > 0 {
                let n = (left as usize).min(BLOCK);
                noise.fill(&mut block[..n]);
                fnv.update(&block[..n]);
                conn.write_all(&block[..n])?;
                left -= n as u64;
            }
            fnv_out.store(fnv.0, Ordering::SeqCst);
            done_out.store(true, Ordering::SeqCst);
        }
        Ok(())
    });
    let (_proxy, a) = proxy_for(driver, &member);
    let watch = RssWatch::start();

    let (status, got, got_fnv) = within(secs(DEADLINE_S), move || {
        let mut client = Client::connect(a);
        client.send(&get("/download"));
        let mut fnv = Fnv::new();
        let mut got = 0u64;
        let resp = client.read_response_with(&mut |b| {
            got += b.len() as u64;
            fnv.update(b);
        });
        (resp.status, got, fnv.0)
    });
    watch.finish("100 MB response");

    assert_eq!(status, 200);
    assert_eq!(got, SIZE);
    assert!(
        poll_until(secs(10), || sent_done.load(Ordering::SeqCst)),
        "member finished"
    );
    assert_eq!(
        got_fnv,
        sent_fnv.load(Ordering::SeqCst),
        "client got the same bytes"
    );
}
