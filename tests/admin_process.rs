//! Admin-listener checks that read process-wide state, so they live in a binary of their own:
//! idle connections cost no threads and time out (the thread list of this process), and a
//! reload applies `log.level` (the process's one log level). Neither test touches the other's
//! state: only the first starts an admin listener, only the second reloads.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use common::{config, member, poll_until, secs, start_proxy, MockMember};
use ringlb::admin::server::{self as admin_server, HANDLERS, QUEUE, REQUEST_TIMEOUT};
use ringlb::config::{AdminConfig, IoDriver};
use ringlb::log::{self, Level};

/// Threads of this process whose name starts with `ringlb-admin`.
fn admin_threads() -> usize {
    std::fs::read_dir("/proc/self/task")
        .unwrap()
        .filter_map(|t| std::fs::read_to_string(t.ok()?.path().join("comm")).ok())
        .filter(|name| name.starts_with("ringlb-admin"))
        .count()
}

/// What the listener sends on a connection that sends nothing (or `request`).
fn answer(addr: SocketAddr, request: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    common::set_timeouts(&s);
    s.write_all(request.as_bytes()).unwrap();
    let mut out = String::new();
    let _ = s.read_to_string(&mut out);
    out
}

#[test]
fn idle_connections_take_no_threads_and_time_out() {
    let a = MockMember::named("a");
    let proxy = start_proxy(config(IoDriver::Auto, vec![member(a.addr(), "a", 100)]));
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    let addr = admin.local_addr();
    // A thread names itself once it runs: wait for all of them.
    assert!(
        poll_until(secs(5), || admin_threads() == HANDLERS + 1),
        "the handlers and the acceptor: {}",
        admin_threads()
    );

    let idle = 100;
    let first = TcpStream::connect(addr).unwrap();
    common::set_timeouts(&first);
    let rest: Vec<TcpStream> = (1..idle)
        .map(|_| TcpStream::connect(addr).unwrap())
        .collect();
    // Beyond the busy handlers and the full queue a connection is answered 503 at once.
    let busy = answer(addr, "");
    assert!(busy.starts_with("HTTP/1.1 503 "), "{busy}");
    assert!(busy.contains("Retry-After: 1\r\n"), "{busy}");
    assert!(idle > HANDLERS + QUEUE);
    assert_eq!(
        admin_threads(),
        HANDLERS + 1,
        "{idle} idle connections, no new thread"
    );

    // The idle connections are answered 408 and closed after REQUEST_TIMEOUT; then the
    // listener serves again.
    let mut first = first;
    let mut out = String::new();
    let _ = first.read_to_string(&mut out);
    assert!(out.starts_with("HTTP/1.1 408 "), "{out}");
    let get = format!("GET /api/status HTTP/1.1\r\nHost: {addr}\r\n\r\n");
    assert!(
        poll_until(REQUEST_TIMEOUT * 3, || answer(addr, &get)
            .starts_with("HTTP/1.1 200 ")),
        "served again after the idle connections timed out"
    );
    drop(rest);
}

#[test]
fn reload_applies_the_log_level() {
    let a = MockMember::named("a");
    let cfg = config(IoDriver::Auto, vec![member(a.addr(), "a", 100)]);
    let proxy = start_proxy(cfg.clone());
    for level in [Level::Debug, Level::Error, Level::Info] {
        let mut next = cfg.clone();
        next.ops.log.level = level;
        proxy.reload(next).unwrap();
        assert!(log::enabled(level));
        let quieter = [Level::Error, Level::Warn, Level::Info, Level::Debug]
            .into_iter()
            .find(|l| *l > level);
        assert!(quieter.map_or(true, |l| !log::enabled(l)), "{level:?}");
    }
}
