//! The control path over real sockets: operator changes through the manager are applied in
//! place on every worker (pools, probe counters and clients survive them), the answer comes
//! only once every worker runs the change, and `check --diff` against the running instance
//! lists exactly what a reload then does.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::net::SocketAddr;
use std::thread;

use common::admin_api::{call, nonce, start_with_admin};
use common::load::Load;
use common::{
    config, member, millis, response_bytes, secs, start_proxy, Client, MockMember, Reply,
};
use ringlb::admin::server as admin_server;
use ringlb::config::{AdminConfig, BalancerConfig, Config, HcMethod, HealthCheck, IoDriver};

both_drivers!(
    manager_changes_under_load_keep_pools_and_lose_no_request,
    probe_counters_survive_manager_changes,
    a_change_is_in_force_on_every_worker_when_the_answer_comes,
    check_diff_lists_exactly_what_the_reload_then_does,
);

/// One manager form change; panics unless it is accepted.
fn manager(admin: SocketAddr, nonce: &str, form: &str) {
    let (status, head, body) = call(
        admin,
        "POST",
        "/balancer-manager",
        "",
        &format!("{form}&nonce={nonce}"),
    );
    assert_eq!(status, 303, "{head}{body}");
    assert!(!head.contains("refused"), "change refused: {head}");
}

fn manager_changes_under_load_keep_pools_and_lose_no_request(driver: IoDriver) {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    let (proxy, admin) = start_with_admin(cfg);
    let cfg_again = Config::clone(&proxy.current().config);
    let n = nonce(admin.local_addr());
    let (wa, wb) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    let load = Load::start(common::addr(&proxy));
    // Warm up: each member once takes all the traffic, so each pool holds what the load needs.
    for form in [
        format!("b=test&w={wa}&w_status_N=1"),
        format!("b=test&w={wa}&w_status_N=0"),
        format!("b=test&w={wb}&w_status_N=1"),
        format!("b=test&w={wb}&w_status_N=0"),
    ] {
        manager(admin.local_addr(), &n, &form);
        load.wait_for(400);
    }
    let before = a.connections() + b.connections();
    for i in 0..20 {
        let form = match i % 4 {
            0 => format!("b=test&w={wa}&w_status_N=1"),
            1 => format!("b=test&w={wa}&w_status_N=0"),
            2 => format!("b=test&w={wb}&w_lf=3"),
            _ => format!("b=test&w={wb}&w_lf=1"),
        };
        manager(admin.local_addr(), &n, &form);
        load.wait_for(20);
    }
    // A member added and removed again, and a reload of the same file: new generations, which
    // carry the pools of the members they keep.
    let c = MockMember::named("c");
    let wc = format!("http://{}", c.addr());
    let count = || a.connections() + b.connections();
    let after_edits = count();
    let add = format!("b=test&add_url={wc}&add_route=c");
    manager(admin.local_addr(), &n, &add);
    load.wait_for(20);
    let after_add = count();
    manager(admin.local_addr(), &n, &format!("b=test&w={wc}&remove=1"));
    load.wait_for(20);
    let after_remove = count();
    proxy.reload(cfg_again).unwrap();
    load.wait_for(20);
    println!(
        "member connections: {after_edits} after the edits, {after_add} after the add, \
         {after_remove} after the remove"
    );
    let (ok, failed) = load.finish();
    let after = a.connections() + b.connections();
    println!(
        "{ok} requests, {failed} failed; member connections {before} before the 20 changes, \
         an add, a remove and a reload, {after} after"
    );
    assert_eq!(failed, 0, "no client sees an error");
    assert!(
        after <= before + 2,
        "pools survive the changes: {before} member connections before, {after} after"
    );
}

fn probe_counters_survive_manager_changes(driver: IoDriver) {
    // c fails its check; 3 failures in a row mark it. A change every 50 ms would reset the
    // count every time if a change restarted the probes: c would never be marked.
    let c = MockMember::respond(|req| {
        if req.path == "/hc" {
            Reply::Send(response_bytes(500, "Internal Server Error", &[], b""))
        } else {
            Reply::ok("c")
        }
    });
    let d = MockMember::named("d");
    let mut cfg = config(driver, vec![member(d.addr(), "d", 100)]);
    let mut checked = member(c.addr(), "c", 100);
    checked.options.health = Some(HealthCheck {
        method: HcMethod::Get,
        uri: "/hc".into(),
        interval: millis(100),
        passes: 1,
        fails: 3,
        status: (200, 399),
    });
    cfg.balancers.push(BalancerConfig {
        name: "checked".into(),
        mount: Some(ringlb::config::PathMount::new("/checked", "/")),
        members: vec![checked],
        ..cfg.balancers[0].clone()
    });
    let (_proxy, admin) = start_with_admin(cfg);
    let n = nonce(admin.local_addr());
    let wd = format!("http://{}", d.addr());
    let state = || {
        let (_, _, body) = call(admin.local_addr(), "GET", "/api/status", "", "");
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        v["balancers"][1]["members"][0]["health"]["state"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    let mut marked_during_changes = false;
    for i in 0..20 {
        manager(
            admin.local_addr(),
            &n,
            &format!("b=test&w={wd}&w_lf={}", 1 + i % 2),
        );
        thread::sleep(millis(50)); // pacing: one change every 50 ms, as a script would
        marked_during_changes |= state() == "hc_failed";
    }
    assert!(
        marked_during_changes,
        "3 failed probes in a row within 20 changes 50 ms apart (last state {})",
        state()
    );
}

fn a_change_is_in_force_on_every_worker_when_the_answer_comes(driver: IoDriver) {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.workers = Some(2);
    let (proxy, admin) = start_with_admin(cfg);
    let addr = common::addr(&proxy);
    let n = nonce(admin.local_addr());
    let wa = format!("http://{}", a.addr());
    // Keep-alive clients on both workers (SO_REUSEPORT spreads them), opened before.
    let mut clients: Vec<Client> = (0..8).map(|_| Client::connect(addr)).collect();
    for round in 0..5 {
        manager(
            admin.local_addr(),
            &n,
            &format!("b=test&w={wa}&w_status_D=1"),
        );
        for client in &mut clients {
            for _ in 0..3 {
                let body = client.request(&common::get("/")).body_text();
                assert_eq!(
                    body, "b",
                    "round {round}: a request after the answer used a"
                );
            }
        }
        manager(
            admin.local_addr(),
            &n,
            &format!("b=test&w={wa}&w_status_D=0"),
        );
        let mut saw_a = false;
        for client in &mut clients {
            saw_a |= client.request(&common::get("/")).body_text() == "a";
        }
        assert!(saw_a, "round {round}: a takes requests again once enabled");
    }
}

fn check_diff_lists_exactly_what_the_reload_then_does(driver: IoDriver) {
    let a = MockMember::named("a");
    let b = MockMember::named("b");
    let mut cfg = config(
        driver,
        vec![member(a.addr(), "a", 100), member(b.addr(), "b", 100)],
    );
    cfg.ops.admin = Some(AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    });
    let dir = std::env::temp_dir().join(format!(
        "ringlb-control-path-{}-{:?}",
        std::process::id(),
        driver
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ringlb.toml");
    std::fs::write(&path, cfg.to_string()).unwrap();
    let loaded = ringlb::config::load(&path).unwrap();
    let proxy = start_proxy(Config::clone(&loaded));
    let admin_cfg = loaded.ops.admin.clone().unwrap();
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    let url = format!("http://{}", admin.local_addr());
    let n = nonce(admin.local_addr());
    let (wa, wb) = (
        format!("http://{}", a.addr()),
        format!("http://{}", b.addr()),
    );
    manager(
        admin.local_addr(),
        &n,
        &format!("b=test&w={wa}&w_status_N=1"),
    );
    manager(admin.local_addr(), &n, &format!("b=test&w={wb}&w_lf=3"));

    // The file changes b's loadfactor (its override ends: the file wins) and a timeout; a's
    // drain is a key the file leaves alone, so it holds.
    let mut edited = Config::clone(&loaded);
    edited.balancers[0].members[1].lbfactor = 200;
    edited.timeouts.connect = secs(3);
    std::fs::write(&path, edited.to_string()).unwrap();
    let new = ringlb::config::load(&path).unwrap();
    let report = ringlb::cli::check_diff(&new, &url).unwrap();
    println!("{report}");

    let running = |()| {
        let (_, _, toml) = call(admin.local_addr(), "GET", "/api/config", "", "");
        ringlb::config::parse_str(&toml, "<running>").unwrap()
    };
    let before = running(());
    let (status, _, body) = call(
        admin.local_addr(),
        "POST",
        &format!("/api/reload?nonce={n}"),
        "",
        "",
    );
    assert_eq!(status, 200, "{body}");
    let after = running(());
    let done: Vec<String> = ringlb::config::diff(&before, &after)
        .iter()
        .map(ToString::to_string)
        .collect();
    let listed: Vec<&str> = report
        .lines()
        .filter(|l| l.starts_with(['~', '+', '-', '!']))
        .collect();
    assert_eq!(listed, done, "check --diff listed what the reload did");
    assert!(
        done.iter().any(|l| l.contains("loadfactor: 3.0 -> 2.0")),
        "the file's new loadfactor wins over the override: {done:?}"
    );
    assert!(
        done.iter().all(|l| !l.contains("status")),
        "the drain holds: {done:?}"
    );
    assert!(
        report.contains("loadfactor: the file changed it (1.0 -> 2.0)"),
        "the ended override is named: {report}"
    );
    assert!(
        report.contains(&format!(
            "override holds: balancer test member {wa}: status +N"
        )),
        "the held override is named: {report}"
    );
    assert_eq!(
        after.balancers[0].members[0].options.status,
        ringlb::balancer::Status::DRAIN,
        "a still drains after the reload"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
