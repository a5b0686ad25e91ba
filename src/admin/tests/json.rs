use serde_json::Value;

use super::sample;
use crate::admin::json::render_status;
use crate::admin::model::Snapshot;

fn parsed(snapshot: &Snapshot) -> Value {
    let text = render_status(snapshot);
    assert!(text.ends_with('\n'));
    serde_json::from_str(&text).expect("status is valid JSON")
}

#[test]
fn status_round_trips_with_every_field() {
    let v = parsed(&sample());
    assert_eq!(v["version"], "0.1.0");
    assert_eq!(v["now_unix"], 1_700_000_000);
    assert_eq!(v["uptime_secs"], 93_784);
    assert_eq!(v["workers"][0]["driver"], "io_uring");
    assert_eq!(v["workers"][0]["cpu"], 0);
    assert_eq!(v["workers"][1]["cpu"], Value::Null);
    assert_eq!(v["workers"][0]["connections"], 12);

    let app = &v["balancers"][0];
    assert_eq!(app["name"], "app");
    assert_eq!(app["mount"], "/app");
    assert_eq!(app["lbmethod"], "byrequests");
    assert_eq!(app["sticky"], "JSESSIONID|jsessionid");
    assert_eq!(app["nofailover"], false);
    assert_eq!(app["forcerecovery"], true);
    assert_eq!(app["maxattempts"], 2);
    assert_eq!(v["balancers"][1]["maxattempts"], Value::Null);
    assert_eq!(v["balancers"][1]["name"], "we\"ird<b>\\");

    let n1 = &app["members"][0];
    assert_eq!(n1["url"], "http://10.0.0.1:8080");
    assert_eq!(n1["route"], "n1");
    assert_eq!(n1["redirect"], "n2");
    assert_eq!(n1["domain"], "east");
    assert_eq!(n1["loadfactor"], 2.5);
    assert_eq!(n1["lbset"], 1);
    assert_eq!(n1["status"], "N");
    assert_eq!(n1["health"]["state"], "draining");
    assert_eq!(n1["up"], false, "a draining member takes no new requests");
    assert_eq!(n1["busy"], 3);
    assert_eq!(n1["requests"], 1234);
    assert_eq!(n1["bytes_in"], 5 * 1024 * 1024);
    assert_eq!(n1["bytes_out"], 2048);
    assert_eq!(n1["errors"], 7);
    assert_eq!(n1["responses"], serde_json::json!([1, 1000, 20, 200, 13]));
    assert_eq!(
        n1["last_error"],
        serde_json::json!({
            "what": "connect: <script>alert(1)</script> refused",
            "at": "2023-11-14T22:13:20.000Z",
            "at_unix_ms": 1_700_000_000_000u64,
        })
    );
    assert_eq!(n1["state_since_secs"], 3725);
    assert_eq!(n1["latency_buckets"][1], serde_json::json!([0.05, 800]));
    assert_eq!(n1["latency_sum_secs"], 123.5);
    assert_eq!(n1["latency_count"], 1234);
}

#[test]
fn health_states_are_tagged() {
    let v = parsed(&sample());
    let health = |b: usize, m: usize| v["balancers"][b]["members"][m]["health"].clone();
    assert_eq!(
        health(0, 1),
        serde_json::json!({"state": "error", "retry_in_secs": 42})
    );
    assert_eq!(health(0, 2), serde_json::json!({"state": "hc_failed"}));
    assert_eq!(health(1, 0), serde_json::json!({"state": "disabled"}));
    assert_eq!(health(1, 1), serde_json::json!({"state": "stopped"}));
    assert_eq!(health(1, 2), serde_json::json!({"state": "ok"}));
    assert_eq!(v["balancers"][1]["members"][2]["up"], true);
    assert_eq!(v["balancers"][0]["members"][1]["up"], false);
    assert_eq!(v["balancers"][0]["members"][1]["last_error"], Value::Null);
}

#[test]
fn non_finite_floats_become_null() {
    let mut s = sample();
    s.balancers[0].members[0].latency_sum_secs = f64::NAN;
    let v = parsed(&s);
    assert_eq!(
        v["balancers"][0]["members"][0]["latency_sum_secs"],
        Value::Null
    );
}

#[test]
fn empty_snapshot() {
    let v = parsed(&Snapshot::default());
    assert_eq!(v["balancers"], serde_json::json!([]));
    assert_eq!(v["workers"], serde_json::json!([]));
}
