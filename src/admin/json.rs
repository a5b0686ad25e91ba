//! `GET /balancer-manager?json` (or the status URL): the [`Snapshot`] as pretty-printed JSON.
//!
//! The document is the serde form of [`Snapshot`] (field names as in [`super::model`]) plus one
//! derived field per member, `"up": bool` ([`Health::is_up`](super::model::Health::is_up)).
//! `health` is `{"state": "ok" | "draining" | "error" | "hc_failed" | "disabled" |
//! "stopped"}`, with `"retry_in_secs"` for `error`; `responses` is `[1xx, 2xx, 3xx, 4xx, 5xx]`;
//! `latency_buckets` is `[[upper_bound_secs, cumulative_count], ...]`; `last_error` is `null`
//! or `{"what": "connect refused", "at": "2026-12-02T01:02:03.456Z", "at_unix_ms": ...}`.
//! Non-finite floats become `null`.

use serde_json::Value;

use super::model::Snapshot;

/// Renders the status document, ending in a newline.
pub fn render_status(snapshot: &Snapshot) -> String {
    // Serializing plain structs into a `Value` cannot fail (no maps with non-string keys).
    let mut doc = serde_json::to_value(snapshot).unwrap_or(Value::Null);
    if let Some(balancers) = doc.get_mut("balancers").and_then(Value::as_array_mut) {
        for (b, balancer) in balancers.iter_mut().enumerate() {
            let Some(members) = balancer.get_mut("members").and_then(Value::as_array_mut) else {
                continue;
            };
            for (m, member) in members.iter_mut().enumerate() {
                let up = snapshot.balancers[b].members[m].health.is_up();
                if let Some(obj) = member.as_object_mut() {
                    obj.insert("up".to_owned(), Value::Bool(up));
                }
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&doc).unwrap_or_else(|_| "null".to_owned());
    text.push('\n');
    text
}
