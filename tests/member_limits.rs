//! Connection limits to members (`max`, `acquire`, `maxqueue`, `ttl`) end to end, on two
//! workers: a member with `max = 4` never sees more than 4 connections from 64 keep-alive
//! clients, and the waits show in the access log and the metrics; a short `acquire` gives
//! 503 with `Retry-After` without putting the member in error, and the count comes back to 0;
//! every way a connection ends (pooled and retired, closed by the member, a `101` tunnel, TLS)
//! gives its place back exactly once; idle connections pooled on one worker do not starve
//! the other.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::Instant;

use ringlb::config::{AccessTarget, Config, IoDriver, MemberLimits, MemberTls, TlsVerify};

use common::admin_api::{call, start_with_admin};
use common::h2_frames::{block, frame, END_HEADERS, END_STREAM, HEADERS, SETTINGS};
use common::tls::Pki;
use common::tls_member::{MemberSpec, TlsMember};
use common::{
    get, millis, poll_until, response_bytes, secs, set_timeouts, wait_for_lines, within, Client,
    MockMember, Reply,
};

both_drivers!(
    max_holds_under_64_keep_alive_clients,
    a_short_acquire_answers_503_and_leaves_the_member_usable,
    every_way_a_connection_ends_gives_its_place_back,
    idle_connections_on_one_worker_do_not_starve_the_other,
);

/// `cfg` on two workers with `limits` on its only member, and an access log at `log` with
/// status, queue time, worker and protocol.
fn limited(mut cfg: Config, limits: MemberLimits, log: &Path) -> Config {
    cfg.workers = Some(2);
    cfg.balancers[0].members[0].options.limits = limits;
    cfg.ops.log.access = Some(AccessTarget::File(log.to_owned()));
    cfg.ops.log.access_format = "%>s %{RINGLB_QUEUE_TIME}e %{RINGLB_WORKER}e %H".into();
    cfg
}

fn log_path(test: &str, driver: IoDriver) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "ringlb-limits-{}-{test}-{driver:?}.log",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&path);
    path
}

/// One access log line: status, queue time (µs), worker, protocol.
struct Line {
    status: u16,
    queue_us: u64,
    worker: usize,
    protocol: String,
}

fn parse_lines(lines: &[String]) -> Vec<Line> {
    lines
        .iter()
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            assert_eq!(f.len(), 4, "{l}");
            Line {
                status: f[0].parse().unwrap(),
                queue_us: f[1].parse().unwrap_or_else(|_| panic!("queue time in {l}")),
                worker: f[2].parse().unwrap(),
                protocol: f[3].to_owned(),
            }
        })
        .collect()
}

/// The value of the first sample of `name` (the only member's) in the admin's `/metrics`.
fn metric(admin: SocketAddr, name: &str) -> Option<f64> {
    let (status, _, text) = call(admin, "GET", "/metrics", "", "");
    assert_eq!(status, 200);
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{")))
        .and_then(|l| l.rsplit(' ').next())
        .map(|v| v.parse().unwrap())
}

/// Waits until the admin shows `want` connections open to the member.
fn wait_for_connections(admin: SocketAddr, want: f64, why: &str) {
    let mut seen = None;
    let ok = poll_until(secs(5), || {
        seen = metric(admin, "ringlb_member_connections");
        seen == Some(want)
    });
    assert!(ok, "{why}: ringlb_member_connections {seen:?}, want {want}");
}

fn max_holds_under_64_keep_alive_clients(driver: IoDriver) {
    const CLIENTS: usize = 64;
    const EACH: usize = 8;
    // Each response is held 3 ms by the member: 64 clients keep 4 connections busy.
    let member = MockMember::respond(|_| Reply::Delay(millis(3), Box::new(Reply::ok("ok"))));
    let log = log_path("max4", driver);
    let limits = MemberLimits {
        max: Some(4),
        acquire: Some(secs(30)),
        ..MemberLimits::default()
    };
    let cfg = limited(common::single(driver, &member), limits, &log);
    let (proxy, admin) = start_with_admin(cfg);
    let addr = common::addr(&proxy);
    let admin = admin.local_addr();
    let statuses = within(secs(90), move || {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                thread::spawn(move || {
                    let mut c = Client::connect(addr);
                    (0..EACH)
                        .map(|_| c.request(&get("/")).status)
                        .collect::<Vec<u16>>()
                })
            })
            .collect();
        (clients.into_iter())
            .flat_map(|t| t.join().unwrap())
            .collect::<Vec<u16>>()
    });
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    let max_seen = member.max_open();
    assert!(
        (1..=4).contains(&max_seen),
        "the member saw {max_seen} connections"
    );

    let lines = parse_lines(&wait_for_lines(&log, CLIENTS * EACH));
    let waits: Vec<u64> = lines
        .iter()
        .map(|l| l.queue_us)
        .filter(|&us| us > 0)
        .collect();
    assert!(!waits.is_empty(), "some requests waited");
    assert!(lines.iter().all(|l| l.status == 200));
    let queued = metric(admin, "ringlb_member_queued_total").unwrap();
    assert!(
        queued > 0.0 && queued as usize >= waits.len(),
        "{queued} {}",
        waits.len()
    );
    assert_eq!(
        metric(admin, "ringlb_member_queue_timeouts_total"),
        Some(0.0)
    );
    assert_eq!(metric(admin, "ringlb_member_errors_total"), Some(0.0));
    assert_eq!(metric(admin, "ringlb_member_queue_length"), Some(0.0));
    let open = metric(admin, "ringlb_member_connections").unwrap();
    assert!(open <= 4.0, "{open} open");
    let wait_sum = metric(admin, "ringlb_member_queue_wait_seconds_sum").unwrap();
    let mut sorted = waits.clone();
    sorted.sort_unstable();
    eprintln!(
        "{driver:?}: {} requests, member max open {max_seen}, {} connections opened, \
         queued {queued} ({} logged), wait p50 {} us, p99 {} us, max {} us, sum {wait_sum:.3} s, \
         workers {:?}",
        lines.len(),
        member.connections(),
        waits.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 99 / 100],
        sorted[sorted.len() - 1],
        [0, 1].map(|w| lines.iter().filter(|l| l.worker == w).count()),
    );
    drop(proxy);
    let _ = std::fs::remove_file(&log);
}

fn a_short_acquire_answers_503_and_leaves_the_member_usable(driver: IoDriver) {
    const CLIENTS: usize = 16;
    // 2 in service for 1.5 s each, 4 waiting 400 ms in vain, the rest refused at once.
    let member = MockMember::respond(|_| Reply::Delay(millis(1500), Box::new(Reply::ok("ok"))));
    let log = log_path("acquire", driver);
    let limits = MemberLimits {
        max: Some(2),
        acquire: Some(millis(400)),
        maxqueue: Some(4),
        ttl: Some(millis(200)),
        ..MemberLimits::default()
    };
    let cfg = limited(common::single(driver, &member), limits, &log);
    let (proxy, admin) = start_with_admin(cfg);
    let addr = common::addr(&proxy);
    let admin = admin.local_addr();
    let answers = within(secs(30), move || {
        let clients: Vec<_> = (0..CLIENTS)
            .map(|_| {
                thread::spawn(move || {
                    let r = Client::connect(addr).request(&get("/"));
                    (r.status, r.header("retry-after").map(str::to_owned))
                })
            })
            .collect();
        (clients.into_iter())
            .map(|t| t.join().unwrap())
            .collect::<Vec<_>>()
    });
    let ok = answers.iter().filter(|(s, _)| *s == 200).count();
    let busy: Vec<_> = answers.iter().filter(|(s, _)| *s == 503).collect();
    assert_eq!(ok + busy.len(), CLIENTS, "only 200 and 503: {answers:?}");
    assert!(ok >= 2, "{answers:?}");
    assert!(!busy.is_empty(), "{answers:?}");
    assert!(
        busy.iter().all(|(_, retry)| retry.as_deref() == Some("1")),
        "503 with Retry-After: {answers:?}"
    );
    let timeouts = metric(admin, "ringlb_member_queue_timeouts_total").unwrap();
    let full = metric(admin, "ringlb_member_queue_full_total").unwrap();
    assert_eq!(timeouts + full, busy.len() as f64, "every 503 counted once");
    assert!(timeouts > 0.0, "some waited acquire in vain");
    assert!(full > 0.0, "some found the queue full");
    // Busy, not broken: no failure counted, the member up and serving.
    assert_eq!(metric(admin, "ringlb_member_errors_total"), Some(0.0));
    assert_eq!(metric(admin, "ringlb_member_up"), Some(1.0));
    assert!(member.max_open() <= 2, "{}", member.max_open());
    let lines = parse_lines(&wait_for_lines(&log, CLIENTS));
    let waited_503 = lines
        .iter()
        .filter(|l| l.status == 503 && l.queue_us >= 400_000);
    assert_eq!(
        waited_503.count() as f64,
        timeouts,
        "the timeouts waited acquire"
    );
    let again = Client::connect(addr).request(&get("/"));
    assert_eq!(again.status, 200, "the member is still used");
    // Every place comes back: the pooled connections retire after ttl.
    wait_for_connections(admin, 0.0, "all idle");
    assert_eq!(metric(admin, "ringlb_member_queue_length"), Some(0.0));
    assert!(poll_until(secs(5), || member.open_now() == 0));
    eprintln!(
        "{driver:?}: {ok} x 200, {} x 503 ({timeouts} timed out, {full} queue full)",
        busy.len()
    );
    drop(proxy);
    let _ = std::fs::remove_file(&log);
}

/// A member that answers `/close` and closes, closes on `/drop` without answering, tunnels
/// (echo) after a `101` for `/upgrade`, and answers anything else with keep-alive.
fn scripted_member() -> MockMember {
    MockMember::raw(|conn| {
        while let Some(req) = conn.read_request()? {
            match req.path.as_str() {
                "/close" => {
                    let head = [("Connection", "close")];
                    conn.write_all(&response_bytes(200, "OK", &head, b"bye"))?;
                    conn.shutdown();
                    return Ok(());
                }
                "/drop" => {
                    conn.shutdown();
                    return Ok(());
                }
                "/upgrade" => {
                    conn.write_all(
                        b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n",
                    )?;
                    loop {
                        let data = conn.read_some()?;
                        if data.is_empty() {
                            conn.shutdown();
                            return Ok(());
                        }
                        conn.write_all(&data)?;
                    }
                }
                _ => conn.write_all(&response_bytes(200, "OK", &[], b"ok"))?,
            }
        }
        Ok(())
    })
}

const UPGRADE: &[u8] =
    b"GET /upgrade HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n";

/// Opens a tunnel through the proxy and checks it echoes.
fn open_tunnel(addr: SocketAddr) -> Client {
    let mut c = Client::connect(addr);
    let resp = c.request(UPGRADE);
    assert_eq!(resp.status, 101);
    c.send(b"ping");
    assert_eq!(c.read_exact(4), b"ping");
    c
}

fn every_way_a_connection_ends_gives_its_place_back(driver: IoDriver) {
    let member = scripted_member();
    let log = log_path("release", driver);
    let cfg = limited(common::single(driver, &member), release_limits(), &log);
    let (proxy, admin) = start_with_admin(cfg);
    let addr = common::addr(&proxy);
    let admin = admin.local_addr();
    // A tunnel holds one place throughout: a place given back twice would show as 0.
    let witness = open_tunnel(addr);
    wait_for_connections(admin, 1.0, "the tunnel");
    let cases: [(&str, u16); 4] = [("/ok", 200), ("/close", 200), ("/drop", 502), ("/ok", 200)];
    for (path, status) in cases {
        let resp = Client::connect(addr).request(&get(path));
        assert_eq!(resp.status, status, "{path}");
        // Pooled ones retire after ttl; closed ones at once.
        wait_for_connections(admin, 1.0, path);
    }
    // Two tunnels at max 2, then both closed.
    let second = open_tunnel(addr);
    wait_for_connections(admin, 2.0, "two tunnels");
    drop((witness, second));
    wait_for_connections(admin, 0.0, "tunnels closed");
    assert!(poll_until(secs(5), || member.open_now() == 0));
    assert!(member.max_open() <= 2);

    // The same over TLS, to an https:// member.
    let pki = Pki::new(&format!("limits-{driver:?}"));
    let tls = TlsMember::start(MemberSpec {
        leaf: pki.issue_leaf("m", &["127.0.0.1"]),
        client_ca: None,
        close_gate: None,
    });
    let mut cfg = common::single(driver, &member);
    let m = &mut cfg.balancers[0].members[0];
    m.url = format!("https://{}", tls.addr);
    m.addr = tls.addr;
    m.authority = tls.addr.to_string();
    m.options.tls = Some(MemberTls {
        verify: TlsVerify::Ca(pki.ca_path()),
        server_name: "127.0.0.1".into(),
        client_auth: None,
    });
    let tls_log = log_path("release-tls", driver);
    let cfg = limited(cfg, release_limits(), &tls_log);
    let (tls_proxy, tls_admin) = start_with_admin(cfg);
    let tls_addr = common::addr(&tls_proxy);
    let tls_admin = tls_admin.local_addr();
    for _ in 0..3 {
        assert_eq!(Client::connect(tls_addr).request(&get("/")).status, 200);
    }
    let mut tunnel = Client::connect(tls_addr);
    let resp = tunnel
        .request(b"GET /ws HTTP/1.1\r\nHost: t\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n");
    assert_eq!(resp.status, 101);
    tunnel.send(b"over tls");
    assert_eq!(tunnel.read_exact(8), b"over tls");
    wait_for_connections(tls_admin, 1.0, "the TLS tunnel, the pooled one retired");
    drop(tunnel);
    wait_for_connections(tls_admin, 0.0, "TLS all closed");
    drop((proxy, tls_proxy));
    let _ = std::fs::remove_file(&log);
    let _ = std::fs::remove_file(&tls_log);
}

/// At most 2 connections; idle ones retire after 100 ms, so the count drops back soon.
fn release_limits() -> MemberLimits {
    MemberLimits {
        max: Some(2),
        acquire: Some(secs(5)),
        ttl: Some(millis(100)),
        ..MemberLimits::default()
    }
}

/// Sends `n` GET requests on one prior-knowledge h2c connection at once, and waits for all
/// their response heads.
fn h2c_requests(addr: SocketAddr, n: u32) -> TcpStream {
    let mut s = TcpStream::connect(addr).unwrap();
    set_timeouts(&s);
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(SETTINGS, 0, 0, &[]));
    for i in 0..n {
        let fields = [
            (":method", "GET"),
            (":scheme", "http"),
            (":authority", "t"),
            (":path", "/h2"),
        ];
        out.extend(frame(
            HEADERS,
            END_STREAM | END_HEADERS,
            2 * i + 1,
            &block(&fields),
        ));
    }
    s.write_all(&out).unwrap();
    let (mut buf, mut answered) = (Vec::new(), 0);
    let deadline = Instant::now() + secs(10);
    while answered < n {
        assert!(Instant::now() < deadline, "{answered} of {n} answered");
        let mut chunk = [0u8; 16 * 1024];
        let got = s.read(&mut chunk).unwrap();
        assert!(got > 0, "the proxy closed the h2c connection");
        buf.extend_from_slice(&chunk[..got]);
        while buf.len() >= 9 {
            let len = u32::from_be_bytes([0, buf[0], buf[1], buf[2]]) as usize;
            if buf.len() < 9 + len {
                break;
            }
            let stream = u32::from_be_bytes([buf[5], buf[6], buf[7], buf[8]]) & 0x7fff_ffff;
            if buf[3] == HEADERS && stream != 0 {
                answered += 1;
            }
            buf.drain(..9 + len);
        }
    }
    s
}

fn idle_connections_on_one_worker_do_not_starve_the_other(driver: IoDriver) {
    // Held long enough that 4 streams of one h2c connection need 4 connections at once.
    let member = MockMember::respond(|_| Reply::Delay(millis(100), Box::new(Reply::ok("ok"))));
    let log = log_path("starve", driver);
    let limits = MemberLimits {
        max: Some(4),
        acquire: Some(secs(5)),
        ..MemberLimits::default()
    };
    // timeouts.upstream_idle is 30 s: the idle connections stay in their worker's pool.
    let cfg = limited(common::single(driver, &member), limits, &log);
    let (proxy, admin) = start_with_admin(cfg);
    let addr = common::addr(&proxy);
    let admin = admin.local_addr();
    let _h2 = h2c_requests(addr, 4);
    wait_for_connections(admin, 4.0, "four idle connections on one worker");
    let lines = parse_lines(&wait_for_lines(&log, 4));
    assert!(lines
        .iter()
        .all(|l| l.protocol == "HTTP/2.0" && l.status == 200));
    let holder = lines[0].worker;
    assert!(lines.iter().all(|l| l.worker == holder));
    // New connections until one lands on the other worker: it must get a place from the
    // holder's idle connections (closed for it), not time out.
    let mut n = 4;
    let other = loop {
        assert!(n < 4 + 64, "no connection reached the other worker");
        let resp = Client::connect(addr).request(&get("/h1"));
        assert_eq!(resp.status, 200);
        n += 1;
        let lines = parse_lines(&wait_for_lines(&log, n));
        let last = lines.last().unwrap();
        assert_eq!(last.status, 200);
        if last.worker != holder {
            break last.queue_us;
        }
    };
    assert!(other > 0, "it waited for a place");
    assert!(other < 5_000_000, "well within acquire: {other} us");
    assert!(member.max_open() <= 4, "{}", member.max_open());
    assert_eq!(
        metric(admin, "ringlb_member_queue_timeouts_total"),
        Some(0.0)
    );
    eprintln!("{driver:?}: the other worker waited {other} us for a place held idle");
    drop(proxy);
    let _ = std::fs::remove_file(&log);
}
