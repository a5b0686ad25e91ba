//! The manager as CSV, like HAProxy's stats page with `;csv`: one header line starting with
//! `# `, then per balancer one line per member and a `BACKEND` line with the totals, for
//! scripts and spreadsheets. Pure.
//!
//! Columns use HAProxy's names and meanings where one matches, in HAProxy's order, then
//! ringlb's own:
//!
//! | column | value |
//! |---|---|
//! | `pxname`, `svname` | balancer name; member URL (`BACKEND` for the totals) |
//! | `qcur` | requests waiting for a connection (members with `max`), else empty |
//! | `scur` | requests in flight |
//! | `slim` | `max`, else empty |
//! | `stot` | requests sent (each attempt) |
//! | `bin`, `bout` | bytes from the client to the member, and back (HAProxy's direction) |
//! | `eresp` | failed attempts |
//! | `status` | `UP` (ok), `DRAIN` (draining), `DOWN` (in error, failed check), `MAINT` (disabled, stopped) |
//! | `weight` | loadfactor |
//! | `act`, `bck` | 1 for an active member; 1 for a hot standby (`H`) |
//! | `chkfail` | failed health checks (members with a check), else empty |
//! | `lastchg` | seconds since the member last became usable or unusable |
//! | `hrsp_1xx` .. `hrsp_5xx` | responses by class |
//! | `route`, `lbset`, `flags` | ringlb's: the route, the lbset, the status letters |
//!
//! Fields are quoted (RFC 4180) when they hold a comma, a quote or a line break.

use std::fmt::Write;

use super::model::{Health, MemberView, Snapshot};

/// The `Content-Type` of [`render_csv`]'s output.
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

const HEADER: &str = "# pxname,svname,qcur,scur,slim,stot,bin,bout,eresp,status,weight,act,bck,\
                      chkfail,lastchg,hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,route,lbset,\
                      flags\n";

/// The whole CSV document.
pub fn render_csv(snapshot: &Snapshot) -> String {
    let mut out = String::from(HEADER);
    for b in &snapshot.balancers {
        for m in &b.members {
            member_line(&mut out, &b.name, m);
        }
        backend_line(&mut out, &b.name, &b.members);
    }
    out
}

/// HAProxy's status word for a member's health.
pub fn status_word(health: Health) -> &'static str {
    match health {
        Health::Ok => "UP",
        Health::Draining => "DRAIN",
        Health::InError { .. } | Health::HcFailed => "DOWN",
        Health::Disabled | Health::Stopped => "MAINT",
    }
}

fn member_line(out: &mut String, balancer: &str, m: &MemberView) {
    let standby = m.status.contains('H');
    let (qcur, slim) = match &m.limit {
        Some(l) => (l.waiting.to_string(), l.max.to_string()),
        None => (String::new(), String::new()),
    };
    let chkfail = m
        .checks
        .as_ref()
        .map_or(String::new(), |c| c.failures.to_string());
    let _ = write!(
        out,
        "{},{},{qcur},{},{slim},{},{},{},{},{},{},{},{},{chkfail},{},",
        field(balancer),
        field(&m.url),
        m.busy,
        m.requests,
        m.bytes_out,
        m.bytes_in,
        m.errors,
        status_word(m.health),
        m.loadfactor,
        u8::from(!standby),
        u8::from(standby),
        m.state_since_secs,
    );
    for n in m.responses {
        let _ = write!(out, "{n},");
    }
    let _ = writeln!(out, "{},{},{}", field(&m.route), m.lbset, field(&m.status));
}

fn backend_line(out: &mut String, balancer: &str, members: &[MemberView]) {
    let sum = |f: fn(&MemberView) -> u64| members.iter().map(f).sum::<u64>();
    let up = members.iter().any(|m| m.health.is_up());
    let _ = write!(
        out,
        "{},BACKEND,,{},,{},{},{},{},{},{},{},{},,,",
        field(balancer),
        sum(|m| m.busy),
        sum(|m| m.requests),
        sum(|m| m.bytes_out),
        sum(|m| m.bytes_in),
        sum(|m| m.errors),
        if up { "UP" } else { "DOWN" },
        members.iter().map(|m| m.loadfactor).sum::<f64>(),
        members.iter().filter(|m| !m.status.contains('H')).count(),
        members.iter().filter(|m| m.status.contains('H')).count(),
    );
    for class in 0..5 {
        let _ = write!(
            out,
            "{},",
            members.iter().map(|m| m.responses[class]).sum::<u64>()
        );
    }
    out.push_str(",,\n");
}

/// `text` as one CSV field: quoted, with quotes doubled, when it holds `,`, `"`, CR or LF.
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
