//! The listener families and the members' flow families (see the parent module's table).

use std::fmt::Write;

use super::{escape_label, family, labelled};
use crate::admin::model::{FlowTotals, ListenerView, MemberView};

/// Connections and requests per listening address.
pub(super) fn listener_families(out: &mut String, listeners: &[ListenerView]) {
    type Counter = (&'static str, &'static str, fn(&ListenerView) -> u64);
    let counters: [Counter; 2] = [
        (
            "ringlb_listener_connections_total",
            "Client connections accepted on the listening address.",
            |l| l.connections,
        ),
        (
            "ringlb_listener_requests_total",
            "Requests read on the listening address (HTTP/2 streams included), answered by a \
             member or by ringlb.",
            |l| l.requests,
        ),
    ];
    let labels: Vec<String> = (listeners.iter())
        .map(|l| format!("listener=\"{}\"", escape_label(&l.address)))
        .collect();
    for (name, help, value) in counters {
        let rows = labels.iter().zip(listeners);
        labelled(out, (name, "counter", help), rows, value);
    }
}

/// Sessions taken over, retries, redispatches, the pool and aborts, per member.
pub(super) fn member_families(out: &mut String, members: &[(String, &MemberView)]) {
    type Family = (
        &'static str,
        &'static str,
        &'static str,
        fn(&FlowTotals) -> u64,
    );
    let families: [Family; 5] = [
        (
            "ringlb_member_route_changed_total",
            "counter",
            "Requests whose session route named another member, sent to this one (that member \
             was unusable, or a domain member or redirect took the session).",
            |f| f.route_changed,
        ),
        (
            "ringlb_member_retries_total",
            "counter",
            "Requests re-sent to the member on another connection after a pooled one was \
             found closed before any response byte.",
            |f| f.retries,
        ),
        (
            "ringlb_member_redispatches_total",
            "counter",
            "Requests the member failed before any response byte that went on to another member.",
            |f| f.redispatches,
        ),
        (
            "ringlb_member_pool_reuses_total",
            "counter",
            "Requests sent to the member over a pooled (reused) connection.",
            |f| f.pool_reuses,
        ),
        (
            "ringlb_member_pool_idle_connections",
            "gauge",
            "Idle pooled connections to the member, all workers together.",
            |f| f.pool_idle,
        ),
    ];
    for (name, kind, help, value) in families {
        let rows = members.iter().map(|(labels, m)| (labels, &m.flow));
        labelled(out, (name, kind, help), rows, value);
    }
    family(
        out,
        "ringlb_member_aborts_total",
        "counter",
        "Exchanges with the member cut short: by=\"client\" the client closed, failed or \
         stalled; by=\"member\" the member did, after its response had begun.",
    );
    for (labels, m) in members {
        let name = "ringlb_member_aborts_total";
        let _ = writeln!(
            out,
            "{name}{{{labels},by=\"client\"}} {}",
            m.flow.client_aborts
        );
        let _ = writeln!(
            out,
            "{name}{{{labels},by=\"member\"}} {}",
            m.flow.member_aborts
        );
    }
}
