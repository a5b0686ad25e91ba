//! `https://` members end to end (httpd's `SSLProxyEngine`): requests and a 1 MiB body over
//! TLS on one pooled connection, session resumption, a certificate from another CA failing
//! over to the next member, `tls_verify = false`, SNI and the verified name, a client
//! certificate, health checks over TLS, a `close_notify` from an idle member, a reload
//! dropping pooled TLS connections, a `101` tunnel to an https member, and `check`/`run`
//! refusing a bad CA file. Certificates are made here with rcgen; the member is a rustls
//! server on std threads (`common::tls_member`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use ringlb::config::{
    Config, HcMethod, HealthCheck, IoDriver, MemberClientCert, MemberConfig, MemberTls, TlsVerify,
};
use ringlb::server::ServerHandle;
use ringlb::stats::Fault;

use common::process::check_and_run_refuse;
use common::tls::{Leaf, Pki};
use common::tls_member::{MemberSpec, TlsMember};
use common::{assert_error, config, lock, millis, poll_until, secs, start_proxy, Client, Fnv};

both_drivers!(
    requests_and_a_large_body_share_one_pooled_tls_connection,
    a_certificate_from_another_ca_fails_over_to_the_next_member,
    tls_verify_false_accepts_any_certificate,
    sni_is_the_server_name_and_ip_hosts_send_none,
    a_client_certificate_is_presented_when_configured,
    health_checks_go_over_tls,
    close_notify_from_an_idle_member_is_not_written_into,
    a_reload_makes_new_tls_connections,
    an_upgrade_tunnels_to_an_https_member,
);

/// An `https://` member at `addr` verified against `ca`, SNI/name `name` when given (else
/// the URL's host, 127.0.0.1).
fn https_member(addr: SocketAddr, ca: &Path, name: Option<&str>) -> MemberConfig {
    let mut m = common::member(addr, "", 100);
    m.url = format!("https://{addr}");
    m.options.tls = Some(MemberTls {
        verify: TlsVerify::Ca(ca.to_owned()),
        server_name: name.map_or_else(|| addr.ip().to_string(), str::to_owned),
        client_auth: None,
    });
    m
}

fn spec(leaf: Leaf) -> MemberSpec {
    MemberSpec {
        leaf,
        client_ca: None,
        close_gate: None,
    }
}

fn start(cfg: Config) -> (ServerHandle, SocketAddr) {
    let handle = start_proxy(cfg);
    let addr = common::addr(&handle);
    (handle, addr)
}

/// The last failure recorded for member `m` of balancer 0.
fn last_fault(handle: &ServerHandle, m: usize) -> Option<Fault> {
    let totals = handle.current().stats.totals(0, m);
    totals.last_error.map(|e| e.fault)
}

fn requests_and_a_large_body_share_one_pooled_tls_connection(driver: IoDriver) {
    let pki = Pki::new(&format!("pooled-{driver:?}"));
    let member = TlsMember::start(spec(pki.issue_leaf("m", &["127.0.0.1"])));
    let (_h, addr) = start(config(
        driver,
        vec![https_member(member.addr, &pki.ca_path(), None)],
    ));
    for i in 0..5 {
        // A new client connection each time: the member connection is the pool's.
        let resp = Client::connect(addr).request(&common::get(&format!("/r{i}")));
        assert_eq!(resp.status, 200, "{}", resp.body_text());
        assert_eq!(resp.body_text(), format!("0 {:016x}", Fnv::new().0));
    }
    let mut body = vec![0u8; 1024 * 1024];
    common::Noise::new(11).fill(&mut body);
    let mut fnv = Fnv::new();
    fnv.update(&body);
    let mut c = Client::connect(addr);
    let resp = c.request(&common::post("/upload", &body));
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body_text(), format!("{} {:016x}", body.len(), fnv.0));
    assert_eq!(member.accepts(), 1, "six requests, one member connection");
    let sessions = member.sessions();
    assert_eq!(sessions.len(), 1);
    assert_eq!(sessions[0].sni, None, "an IP address host sends no SNI");
    // What the member sees is what a plain member would.
    let heads = member.heads();
    assert!(heads[0].starts_with("GET /r0 HTTP/1.1\r\n"), "{}", heads[0]);
    assert!(
        heads[0].contains("\r\nX-Forwarded-Proto: http\r\n"),
        "{}",
        heads[0]
    );
    assert!(
        heads[0].contains(&format!("\r\nHost: {}\r\n", member.addr)),
        "{}",
        heads[0]
    );
}

fn a_certificate_from_another_ca_fails_over_to_the_next_member(driver: IoDriver) {
    let pki = Pki::new(&format!("other-ca-{driver:?}"));
    let stranger = Pki::new(&format!("stranger-{driver:?}"));
    let bad = TlsMember::start(spec(stranger.issue_leaf("bad", &["127.0.0.1"])));
    let good = TlsMember::start(spec(pki.issue_leaf("good", &["127.0.0.1"])));
    let members = vec![
        https_member(bad.addr, &pki.ca_path(), None),
        https_member(good.addr, &pki.ca_path(), None),
    ];
    let (h, addr) = start(config(driver, members));
    for _ in 0..4 {
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_eq!(resp.status, 200, "failed over: {}", resp.body_text());
    }
    assert_eq!(bad.sessions().len(), 0, "no session with the stranger");
    assert!(bad.accepts() >= 1, "the bad member was tried");
    assert_eq!(last_fault(&h, 0), Some(Fault::TlsUnknownIssuer));
    assert_eq!(last_fault(&h, 1), None);
    drop(h);

    // Alone, the member with the stranger's certificate gives a 503; so does a wrong name.
    for (leaf, name, fault) in [
        (
            stranger.issue_leaf("bad2", &["127.0.0.1"]),
            None,
            Fault::TlsUnknownIssuer,
        ),
        (
            pki.issue_leaf("other-name", &["other.test"]),
            Some("tomcat.test"),
            Fault::TlsBadName,
        ),
    ] {
        let member = TlsMember::start(spec(leaf));
        let one = vec![https_member(member.addr, &pki.ca_path(), name)];
        let (h, addr) = start(config(driver, one));
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_error(&resp, 503);
        assert_eq!(last_fault(&h, 0), Some(fault));
    }
}

fn tls_verify_false_accepts_any_certificate(driver: IoDriver) {
    let stranger = Pki::new(&format!("noverify-{driver:?}"));
    let member = TlsMember::start(spec(stranger.issue_leaf("m", &["somewhere.else"])));
    let mut m = https_member(member.addr, Path::new("/nonexistent"), None);
    m.options.tls.as_mut().unwrap().verify = TlsVerify::Off;
    let (_h, addr) = start(config(driver, vec![m]));
    let resp = Client::connect(addr).request(&common::get("/"));
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(member.sessions().len(), 1);
}

fn sni_is_the_server_name_and_ip_hosts_send_none(driver: IoDriver) {
    let pki = Pki::new(&format!("sni-{driver:?}"));
    let named = TlsMember::start(spec(pki.issue_leaf("named", &["tomcat.internal"])));
    let by_ip = TlsMember::start(spec(pki.issue_leaf("ip", &["127.0.0.1"])));
    let members = vec![
        https_member(named.addr, &pki.ca_path(), Some("tomcat.internal")),
        https_member(by_ip.addr, &pki.ca_path(), None),
    ];
    let (_h, addr) = start(config(driver, members));
    for _ in 0..4 {
        let resp = Client::connect(addr).request(&common::get("/"));
        assert_eq!(resp.status, 200, "{}", resp.body_text());
    }
    let sni: Vec<Option<String>> = named.sessions().into_iter().map(|s| s.sni).collect();
    assert_eq!(sni, vec![Some("tomcat.internal".to_owned())]);
    let sni: Vec<Option<String>> = by_ip.sessions().into_iter().map(|s| s.sni).collect();
    assert_eq!(sni, vec![None]);
}

fn a_client_certificate_is_presented_when_configured(driver: IoDriver) {
    let pki = Pki::new(&format!("client-cert-{driver:?}"));
    let client = pki.issue_leaf("ringlb-client", &["ringlb.test"]);
    let member = TlsMember::start(MemberSpec {
        client_ca: Some(pki.ca_der()),
        ..spec(pki.issue_leaf("m", &["127.0.0.1"]))
    });
    let mut with_cert = https_member(member.addr, &pki.ca_path(), None);
    with_cert.options.tls.as_mut().unwrap().client_auth = Some(MemberClientCert {
        cert: client.cert_path.clone(),
        key: client.key_path.clone(),
    });
    let (h, addr) = start(config(driver, vec![with_cert]));
    let resp = Client::connect(addr).request(&common::get("/"));
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    let sessions = member.sessions();
    assert!(
        sessions.len() == 1 && sessions[0].client_cert,
        "{sessions:?}"
    );
    drop(h);

    // Without one, the member refuses the session: no response comes from it.
    let (_h, addr) = start(config(
        driver,
        vec![https_member(member.addr, &pki.ca_path(), None)],
    ));
    let resp = Client::connect(addr).request(&common::get("/"));
    assert!(resp.status == 502 || resp.status == 503, "{}", resp.status);
    assert!(poll_until(secs(5), || member
        .seen
        .failed_handshakes
        .load(Ordering::SeqCst)
        >= 1));
    assert_eq!(member.sessions().len(), 1, "no second session");
}

fn health_checks_go_over_tls(driver: IoDriver) {
    let pki = Pki::new(&format!("health-{driver:?}"));
    let stranger = Pki::new(&format!("health-stranger-{driver:?}"));
    let good = TlsMember::start(spec(pki.issue_leaf("good", &["127.0.0.1"])));
    let bad = TlsMember::start(spec(stranger.issue_leaf("bad", &["127.0.0.1"])));
    let check = HealthCheck {
        method: HcMethod::Get,
        uri: "/health".into(),
        interval: millis(50),
        passes: 1,
        fails: 1,
        status: (200, 399),
    };
    let mut members = vec![
        https_member(good.addr, &pki.ca_path(), None),
        https_member(bad.addr, &pki.ca_path(), None),
    ];
    for m in &mut members {
        m.options.health = Some(check.clone());
    }
    let (h, _addr) = start(config(driver, members));
    assert!(poll_until(secs(5), || good
        .heads()
        .iter()
        .filter(|head| head.starts_with("GET /health HTTP/1.1\r\n"))
        .count()
        >= 2));
    assert!(poll_until(secs(5), || last_fault(&h, 1)
        == Some(Fault::TlsUnknownIssuer)));
    let state = || {
        let gen = h.current();
        let now = ringlb::clock::ms_since(h.controller().epoch(), ringlb::clock::now());
        gen.health.state(0, 1, now)
    };
    assert!(poll_until(secs(5), || state()
        == ringlb::balancer::HealthState::HcFailed));
    assert_eq!(last_fault(&h, 0), None, "the good member passes");
}

fn close_notify_from_an_idle_member_is_not_written_into(driver: IoDriver) {
    let pki = Pki::new(&format!("close-notify-{driver:?}"));
    let gate = Arc::new(AtomicBool::new(false));
    let member = TlsMember::start(MemberSpec {
        close_gate: Some(gate.clone()),
        ..spec(pki.issue_leaf("m", &["127.0.0.1"]))
    });
    let (_h, addr) = start(config(
        driver,
        vec![https_member(member.addr, &pki.ca_path(), None)],
    ));
    let mut c = Client::connect(addr);
    assert_eq!(c.request(&common::get("/one")).status, 200);
    // The pooled connection is idle now; the member ends its session.
    gate.store(true, Ordering::SeqCst);
    assert!(poll_until(secs(5), || member
        .seen
        .close_notifies
        .load(Ordering::SeqCst)
        == 1));
    let resp = c.request(&common::get("/two"));
    assert_eq!(resp.status, 200, "{}", resp.body_text());
    assert_eq!(
        member.accepts(),
        2,
        "a new connection for the second request"
    );
    // The closed connection was dropped unused: nothing was written into it.
    assert!(poll_until(secs(5), || !lock(
        &member.seen.after_close_notify
    )
    .is_empty()));
    // (The second connection gets a close_notify after its response too: nothing after it.)
    let after = lock(&member.seen.after_close_notify).clone();
    assert!(
        after.iter().all(|&n| n == 0),
        "bytes after close_notify: {after:?}"
    );
    let sessions = member.sessions();
    assert!(
        sessions[1].resumed,
        "the second handshake resumed: {sessions:?}"
    );
}

fn a_reload_makes_new_tls_connections(driver: IoDriver) {
    let pki = Pki::new(&format!("reload-{driver:?}"));
    let member = TlsMember::start(spec(pki.issue_leaf("m", &["127.0.0.1"])));
    let cfg = config(
        driver,
        vec![https_member(member.addr, &pki.ca_path(), None)],
    );
    let (h, addr) = start(cfg.clone());
    assert_eq!(Client::connect(addr).request(&common::get("/")).status, 200);
    assert_eq!(Client::connect(addr).request(&common::get("/")).status, 200);
    assert_eq!(member.accepts(), 1);
    // The CA file is re-read: a connection verified under the old one is not reused.
    h.reload(cfg).unwrap();
    assert_eq!(Client::connect(addr).request(&common::get("/")).status, 200);
    assert_eq!(member.accepts(), 2);
    let sessions = member.sessions();
    assert!(!sessions[1].resumed, "a reload starts a new session cache");
}

fn an_upgrade_tunnels_to_an_https_member(driver: IoDriver) {
    let pki = Pki::new(&format!("upgrade-{driver:?}"));
    let member = TlsMember::start(spec(pki.issue_leaf("m", &["127.0.0.1"])));
    let (_h, addr) = start(config(
        driver,
        vec![https_member(member.addr, &pki.ca_path(), None)],
    ));
    let mut c = Client::connect(addr);
    let resp = c.request(
        b"GET /ws HTTP/1.1\r\nHost: example.test\r\nConnection: Upgrade\r\nUpgrade: echo\r\n\r\n",
    );
    assert_eq!(resp.status, 101);
    for msg in [&b"first"[..], &[b'x'; 64 * 1024]] {
        c.send(msg);
        assert!(c.read_exact(msg.len()) == msg, "echoed through the tunnel");
    }
}

/// `check` and `run` refuse a missing or bad CA file with the same message, naming the key
/// and the file.
#[test]
fn a_bad_ca_file_is_refused_by_check_and_run_alike() {
    let pki = Pki::new("check-run");
    let garbage = pki.dir.join("garbage.pem");
    std::fs::write(&garbage, "this is not PEM\n").unwrap();
    let missing = pki.dir.join("missing.pem");
    let leaf = pki.issue_leaf("leaf", &["127.0.0.1"]);
    for (balancer_keys, member_keys, needles) in [
        (
            format!("tls_ca = {garbage:?}\n"),
            String::new(),
            vec![garbage.display().to_string(), "balancer[0].tls_ca".into()],
        ),
        (
            String::new(),
            format!("tls_ca = {missing:?}\n"),
            vec![
                missing.display().to_string(),
                "balancer[0].member[0].tls_ca".into(),
            ],
        ),
        (
            format!(
                "tls_ca = {:?}\ntls_client_cert = {:?}\n",
                pki.ca_path(),
                garbage
            ),
            String::new(),
            vec![
                garbage.display().to_string(),
                "balancer[0].tls_client_cert".into(),
            ],
        ),
        (
            format!("tls_ca = {:?}\n", pki.ca_path()),
            format!("tls_client_cert = {:?}\n", leaf.cert_path),
            vec![
                leaf.cert_path.display().to_string(),
                "balancer[0].member[0].tls_client_key".into(),
            ],
        ),
    ] {
        let config = pki.dir.join("ringlb.toml");
        let text = format!(
            "workers = 1\nlisten = [\"127.0.0.1:0\"]\n[[balancer]]\nname = \"b\"\n\
             {balancer_keys}[[balancer.member]]\nurl = \"https://127.0.0.1:9\"\n{member_keys}"
        );
        std::fs::write(&config, &text).unwrap();
        check_and_run_refuse(&config, &needles);
    }
}
