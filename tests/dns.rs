//! Members named by host name, looked up at a small DNS server written here (UDP on
//! 127.0.0.1:0, answering A queries for one name with an address the test changes, or
//! SERVFAIL, or nothing at all):
//! - requests reach the address the name has; when the answer changes, new requests reach
//!   the new address and the old address's pooled connections are closed; the admin API
//!   shows where a member's connections go;
//! - when the DNS server fails or goes silent, requests keep going to the last address and
//!   the error log has exactly one line about it, and one more when lookups work again;
//! - `ringlb check` and `ringlb run` refuse a name that does not resolve, and one that
//!   resolves to ringlb's own listener, naming file, line and key;
//! - a member added through the control plane with a host name is looked up the same way.
//!
//! Every process is ended by its PID.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};

use common::admin_api::call;
use common::process::{check_and_run_refuse, Process};
use common::{get, lock, poll_until, secs, Client, MockMember, Reply};
use ringlb::config::IoDriver;
use simple_dns::rdata::{RData, A};
use simple_dns::{Name, Packet, PacketFlag, ResourceRecord, CLASS, QTYPE, RCODE, TYPE};

both_drivers!(
    an_address_change_moves_new_connections_and_retires_pooled_ones,
    a_member_added_by_host_name_is_looked_up,
);

/// What the test DNS server does with a query for its name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    /// A queries: this address; AAAA queries: no records (NOERROR).
    Answer(Ipv4Addr),
    /// SERVFAIL.
    Fail,
    /// No answer.
    Silent,
}

/// A DNS server on 127.0.0.1:0 for one name (other names: NXDOMAIN), counting the queries
/// it gets; stopped and joined when dropped.
struct DnsServer {
    addr: SocketAddr,
    mode: Arc<Mutex<Mode>>,
    queries: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl DnsServer {
    fn start(name: &'static str, mode: Mode) -> DnsServer {
        let socket = UdpSocket::bind("127.0.0.1:0").unwrap();
        socket.set_read_timeout(Some(common::millis(50))).unwrap();
        let addr = socket.local_addr().unwrap();
        let mode = Arc::new(Mutex::new(mode));
        let queries = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let (m, q, s) = (mode.clone(), queries.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut buf = [0u8; 1500];
            while !s.load(Ordering::SeqCst) {
                let Ok((n, peer)) = socket.recv_from(&mut buf) else {
                    continue;
                };
                let Ok(query) = Packet::parse(&buf[..n]) else {
                    continue;
                };
                q.fetch_add(1, Ordering::SeqCst);
                let mode = *lock(&m);
                if let Some(reply) = answer(&query, name, mode) {
                    let _ = socket.send_to(&reply, peer);
                }
            }
        });
        DnsServer {
            addr,
            mode,
            queries,
            stop,
            thread: Some(thread),
        }
    }

    fn set(&self, mode: Mode) {
        *lock(&self.mode) = mode;
    }

    fn queries(&self) -> usize {
        self.queries.load(Ordering::SeqCst)
    }
}

impl Drop for DnsServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// The reply to `query` in `mode`: `None` for none.
fn answer(query: &Packet<'_>, name: &str, mode: Mode) -> Option<Vec<u8>> {
    let question = query.questions.first()?.clone();
    let mut reply = Packet::new_reply(query.id());
    reply.set_flags(PacketFlag::RECURSION_AVAILABLE);
    reply.questions.push(question.clone());
    let ours = question.qname == Name::new_unchecked(name);
    match mode {
        Mode::Silent => return None,
        Mode::Fail => *reply.rcode_mut() = RCODE::ServerFailure,
        Mode::Answer(_) if !ours => *reply.rcode_mut() = RCODE::NameError,
        Mode::Answer(ip) if question.qtype == QTYPE::TYPE(TYPE::A) => {
            reply.answers.push(ResourceRecord::new(
                question.qname.clone(),
                CLASS::IN,
                300,
                RData::A(A {
                    address: u32::from(ip),
                }),
            ));
        }
        Mode::Answer(_) => {} // AAAA: no records
    }
    reply.build_bytes_vec().ok()
}

/// A member on `addr` that answers `name`, keep-alive; its connections closing are counted
/// ([`MockMember::closed_connections`]).
fn named_member_at(addr: SocketAddr, name: &'static str) -> MockMember {
    MockMember::respond_at(addr, move |_| Reply::ok(name))
}

/// The first and second member: `127.0.0.1:PORT` and `127.0.0.2:PORT`, the same port (both
/// addresses are local on Linux).
fn members_on_one_port() -> (MockMember, MockMember) {
    for _ in 0..20 {
        let first = named_member_at("127.0.0.1:0".parse().unwrap(), "first");
        let port = first.addr().port();
        let second_addr = SocketAddr::from(([127, 0, 0, 2], port));
        if std::net::TcpListener::bind(second_addr).is_ok() {
            return (first, named_member_at(second_addr, "second"));
        }
    }
    panic!("no port free on both 127.0.0.1 and 127.0.0.2");
}

fn dir(what: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("dns-{what}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The address after `needle` in a stderr line (`listening on http://ADDR/`).
fn addr_after(line: &str, needle: &str) -> SocketAddr {
    let rest = &line[line.find(needle).unwrap() + needle.len()..];
    rest.split('/').next().unwrap().parse().unwrap()
}

/// One request on a fresh client connection; the body.
fn body_of_one_request(proxy: SocketAddr) -> String {
    Client::connect(proxy).request(&get("/")).body_text()
}

/// The `address` the admin API shows for the only member.
fn shown_address(admin: SocketAddr) -> String {
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["balancers"][0]["members"][0]["address"]
        .as_str()
        .unwrap()
        .to_owned()
}

fn an_address_change_moves_new_connections_and_retires_pooled_ones(driver: IoDriver) {
    let (first, second) = members_on_one_port();
    let port = first.addr().port();
    let dns = DnsServer::start("app.test", Mode::Answer(Ipv4Addr::new(127, 0, 0, 1)));
    let path = dir(driver.as_str()).join("ringlb.toml");
    std::fs::write(
        &path,
        format!(
            "workers = 1\nio_driver = \"{}\"\nlisten = [\"127.0.0.1:0\"]\n\
             dns_refresh = \"200ms\"\nresolvers = [\"{}\"]\n\
             [timeouts]\nupstream_idle = \"60s\"\n[admin]\nlisten = \"127.0.0.1:0\"\n\
             [[balancer]]\nname = \"app\"\n[[balancer.member]]\nurl = \"http://app.test:{port}\"\n",
            driver.as_str(),
            dns.addr
        ),
    )
    .unwrap();
    let process = Process::start(
        Command::new(env!("CARGO_BIN_EXE_ringlb"))
            .args(["run", "-c"])
            .arg(&path),
    );
    let mut lines = Vec::new();
    let (line, seen) = process.wait_for("listening on http://");
    lines.extend(seen);
    let proxy = addr_after(&line, "listening on http://");
    lines.push(line);
    let (line, seen) = process.wait_for("manager on http://");
    lines.extend(seen);
    let admin = addr_after(&line, "manager on http://");
    lines.push(line);

    // The name is at 127.0.0.1: requests reach the first member, over one pooled connection.
    let mut client = Client::connect(proxy);
    for _ in 0..3 {
        assert_eq!(client.request(&get("/")).body_text(), "first");
    }
    assert_eq!(first.connections(), 1, "one pooled member connection");
    assert_eq!(first.closed_connections(), 0);
    assert_eq!(shown_address(admin), format!("127.0.0.1:{port}"));

    // The answer changes: new requests reach the second member, the first's pooled
    // connection is closed.
    dns.set(Mode::Answer(Ipv4Addr::new(127, 0, 0, 2)));
    let moved = poll_until(secs(10), || body_of_one_request(proxy) == "second");
    assert!(moved, "requests never reached the new address");
    assert_eq!(
        client.request(&get("/")).body_text(),
        "second",
        "the same client too"
    );
    let retired = poll_until(secs(10), || {
        first.closed_connections() == first.connections()
    });
    assert!(
        retired,
        "the old address's connections stay open: {} of {} closed",
        first.closed_connections(),
        first.connections()
    );
    assert_eq!(shown_address(admin), format!("127.0.0.2:{port}"));
    let (line, seen) = process.wait_for("address: 127.0.0.1:");
    lines.extend(seen);
    assert!(line.contains(&format!("-> 127.0.0.2:{port}")), "{line}");
    assert!(line.contains("change by DNS"), "{line}");
    lines.push(line);

    // The DNS server fails: requests keep going to the last address; one line says so.
    let before = first.connections();
    dns.set(Mode::Fail);
    let (line, seen) = process.wait_for("looking up app.test failed");
    lines.extend(seen);
    assert!(line.contains("stay at 127.0.0.2"), "{line}");
    lines.push(line);
    let queries = dns.queries();
    assert!(
        poll_until(secs(10), || dns.queries() >= queries + 6),
        "lookups go on"
    );
    // ... and goes silent: still the last address, still no new line.
    dns.set(Mode::Silent);
    let queries = dns.queries();
    assert!(
        poll_until(secs(10), || dns.queries() >= queries + 4),
        "lookups go on"
    );
    for _ in 0..3 {
        assert_eq!(body_of_one_request(proxy), "second");
    }
    assert_eq!(
        first.connections(),
        before,
        "nothing went back to the first address"
    );

    // It answers again: one line says lookups work again.
    dns.set(Mode::Answer(Ipv4Addr::new(127, 0, 0, 2)));
    let (line, seen) = process.wait_for("looking up app.test works again");
    lines.extend(seen);
    lines.push(line);
    lines.extend(process.lines_so_far());
    let failures: Vec<&String> = (lines.iter())
        .filter(|l| l.contains("looking up app.test failed"))
        .collect();
    assert_eq!(failures.len(), 1, "{lines:#?}");
    let recoveries = (lines.iter())
        .filter(|l| l.contains("looking up app.test works again"))
        .count();
    assert_eq!(recoveries, 1, "{lines:#?}");
    assert_eq!(body_of_one_request(proxy), "second");
    drop(second);
}

#[test]
fn check_and_run_refuse_names_that_do_not_resolve_or_loop() {
    let dns = DnsServer::start("app.test", Mode::Answer(Ipv4Addr::LOCALHOST));
    let dir = dir("refuse");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let head = format!(
        "listen = [\"127.0.0.1:{port}\"]\nresolvers = [\"{}\"]\n",
        dns.addr
    );
    let member = |url: &str| {
        format!(
            "[[balancer]]\nname = \"app\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9\"\n\
             [[balancer.member]]\nurl = \"{url}\"\n"
        )
    };

    let missing = dir.join("missing.toml");
    std::fs::write(
        &missing,
        format!("{head}{}", member("http://nowhere.test:8080")),
    )
    .unwrap();
    let file = missing.display().to_string();
    check_and_run_refuse(
        &missing,
        &[
            format!("{file}:8: balancer[0].member[1].url"),
            "cannot look up \"nowhere.test\"".to_owned(),
            "NXDOMAIN".to_owned(),
        ],
    );

    // app.test is 127.0.0.1, and ringlb listens on 127.0.0.1:PORT.
    let looping = dir.join("looping.toml");
    std::fs::write(
        &looping,
        format!("{head}{}", member(&format!("http://app.test:{port}"))),
    )
    .unwrap();
    let file = looping.display().to_string();
    check_and_run_refuse(
        &looping,
        &[
            format!("{file}:8: balancer[0].member[1].url"),
            "app.test is 127.0.0.1".to_owned(),
            "listen[0]".to_owned(),
        ],
    );

    // Resolving, `check` passes and prints the names as written.
    let fine = dir.join("fine.toml");
    std::fs::write(&fine, format!("{head}{}", member("http://app.test:9"))).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_ringlb"))
        .args(["check", "-c"])
        .arg(&fine)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("url = \"http://app.test:9\""), "{stdout}");
}

fn a_member_added_by_host_name_is_looked_up(driver: IoDriver) {
    let member = MockMember::named("added");
    let dns = DnsServer::start("added.test", Mode::Answer(Ipv4Addr::LOCALHOST));
    let text = format!(
        "workers = 1\nio_driver = \"{}\"\nlisten = [\"127.0.0.1:0\"]\nresolvers = [\"{}\"]\n\
         [[balancer]]\nname = \"app\"\n[[balancer.member]]\nurl = \"http://{}\"\n\
         status = \"+D\"\n",
        driver.as_str(),
        dns.addr,
        common::dead_addr()
    );
    let cfg = ringlb::config::parse_str(&text, "<test>").unwrap();
    let handle = common::start_proxy(cfg);
    let proxy = common::addr(&handle);
    let controller = handle.controller();
    let who = ringlb::control::Actor::Program;
    let port = member.addr().port();

    let err = controller
        .add_member(
            &who,
            "app",
            &format!("http://nowhere.test:{port}"),
            "n",
            100,
        )
        .unwrap_err();
    assert!(err.contains("cannot look up \"nowhere.test\""), "{err}");

    let url = format!("http://added.test:{port}");
    controller.add_member(&who, "app", &url, "a", 100).unwrap();
    let current = handle.current();
    let added = &current.config.balancers[0].members[1];
    assert_eq!(added.addr, member.addr(), "looked up at the DNS server");
    assert_eq!(added.authority, format!("added.test:{port}"));
    assert_eq!(
        controller.address_of("added.test"),
        Some(member.addr().ip())
    );
    let change = ringlb::control::MemberChange {
        clear: ringlb::balancer::Status::DISABLED,
        ..Default::default()
    };
    controller.change_member(&who, "app", &url, change).unwrap();
    let resp = Client::connect(proxy).request(&get("/"));
    assert_eq!(resp.body_text(), "added");
    let host = member.requests()[0].header("host").map(str::to_owned);
    assert_eq!(
        host.as_deref(),
        Some(format!("added.test:{port}").as_str()),
        "the name as written"
    );
}
