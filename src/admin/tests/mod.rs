//! Tests for the admin modules, one file per module, sharing [`sample`].

use super::model::{
    BalancerView, CheckView, FlowTotals, Health, LastCheckView, LastErrorView, LimitView,
    ListenerView, MemberView, ProcessView, Rates, Snapshot, WorkerView,
};

mod access;
mod auth;
mod csv;
mod form;
mod html;
mod json;
mod metrics;
mod process;

/// Two balancers, six members covering every health state, hostile text in names and errors.
pub(super) fn sample() -> Snapshot {
    let member = |url: &str, route: &str, status: &str, health: Health| MemberView {
        url: url.to_owned(),
        route: route.to_owned(),
        loadfactor: 1.0,
        status: status.to_owned(),
        health,
        ..MemberView::default()
    };
    let n1 = MemberView {
        redirect: "n2".to_owned(),
        domain: "east".to_owned(),
        loadfactor: 2.5,
        lbset: 1,
        busy: 3,
        requests: 1234,
        bytes_in: 5 * 1024 * 1024,
        bytes_out: 2048,
        errors: 7,
        responses: [1, 1000, 20, 200, 13],
        last_error: Some(LastErrorView {
            what: "connect: <script>alert(1)</script> refused".to_owned(),
            at: "2023-11-14T22:13:20.000Z".to_owned(),
            at_unix_ms: 1_700_000_000_000,
        }),
        state_since_secs: 3725,
        latency_buckets: vec![(0.005, 10), (0.05, 800), (0.5, 1200), (5.0, 1230)],
        latency_sum_secs: 123.5,
        latency_count: 1234,
        limit: Some(LimitView {
            max: 4,
            connections: 3,
            waiting: 2,
            queued: 40,
            timeouts: 5,
            full: 1,
            wait_buckets: vec![(0.001, 10), (0.01, 30), (1.0, 39)],
            wait_sum_secs: 2.5,
        }),
        checks: Some(CheckView {
            runs: 7,
            failures: 2,
            duration_sum_secs: 0.35,
            last: Some(LastCheckView {
                passed: false,
                what: "health check: unexpected status".to_owned(),
                duration_ms: 12,
                at: "2023-11-14T22:13:15.000Z".to_owned(),
                at_unix_ms: 1_699_999_995_000,
                check_status: "L7STS".to_owned(),
                age_secs: 5,
            }),
        }),
        downtime_secs: 3_700,
        rates: Some(Rates {
            requests_per_sec: 12.5,
            errors_per_sec: 0.25,
        }),
        flow: FlowTotals {
            route_changed: 4,
            retries: 3,
            redispatches: 2,
            pool_reuses: 1000,
            pool_idle: 6,
            client_aborts: 9,
            member_aborts: 1,
        },
        ..member("http://10.0.0.1:8080", "n1", "N", Health::Draining)
    };
    Snapshot {
        version: "0.1.0".to_owned(),
        now_unix: 1_700_000_000,
        uptime_secs: 93_784,
        workers: vec![
            WorkerView {
                index: 0,
                cpu: Some(0),
                driver: "io_uring".to_owned(),
                connections: 12,
            },
            WorkerView {
                index: 1,
                cpu: None,
                driver: "legacy".to_owned(),
                connections: 0,
            },
        ],
        listeners: vec![
            ListenerView {
                address: "0.0.0.0:8080".to_owned(),
                connections: 90,
                requests: 1500,
            },
            ListenerView {
                address: "[::]:8443".to_owned(),
                connections: 10,
                requests: 20,
            },
        ],
        balancers: vec![
            BalancerView {
                name: "app".to_owned(),
                mount: "/app".to_owned(),
                lbmethod: "byrequests".to_owned(),
                sticky: Some("JSESSIONID|jsessionid".to_owned()),
                nofailover: false,
                forcerecovery: true,
                maxattempts: Some(2),
                members: vec![
                    n1,
                    member(
                        "http://10.0.0.2:8080",
                        "n2",
                        "E",
                        Health::InError { retry_in_secs: 42 },
                    ),
                    member("http://10.0.0.3:8080", "", "H", Health::HcFailed),
                ],
            },
            BalancerView {
                name: "we\"ird<b>\\".to_owned(),
                mount: "/".to_owned(),
                lbmethod: "bybusyness".to_owned(),
                sticky: None,
                nofailover: true,
                forcerecovery: false,
                maxattempts: None,
                members: vec![
                    member("http://[::1]:9000", "a\"b", "D", Health::Disabled),
                    member("http://10.0.0.5:80\n", "s", "S", Health::Stopped),
                    member("http://10.0.0.6:80", "k", "", Health::Ok),
                ],
            },
        ],
        overrides: vec!["balancer app member http://10.0.0.1:8080: status +N".into()],
        tls_handshake_failures: 0,
        http2_floods: 0,
        generated: vec![(404, 2), (502, 1), (0, 3)],
        generation: 4,
        reloads_succeeded: 3,
        reloads_failed: 1,
        last_reload_success_unix_ms: Some(1_700_000_000_500),
        process: ProcessView {
            cpu_seconds: Some(1.5),
            resident_memory_bytes: Some(4096),
            open_fds: Some(12),
            max_fds: Some(1024),
            start_time_seconds: Some(1.7e9),
        },
    }
}
