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
//! | `wretr`, `wredis` | retries (re-sent after a pooled connection was found closed); redispatches (moved to another member) |
//! | `status` | `UP` (ok), `DRAIN` (draining), `DOWN` (in error, failed check), `MAINT` (disabled, stopped) |
//! | `weight` | loadfactor |
//! | `act`, `bck` | 1 for an active member; 1 for a hot standby (`H`) |
//! | `chkfail` | failed health checks (members with a check), else empty |
//! | `lastchg` | seconds since the member last went down or came back up |
//! | `downtime` | seconds the member was down in all |
//! | `rate` | requests per second, averaged over the last ten seconds (empty until known) |
//! | `check_status` | the last probe's outcome as HAProxy words it: `L7OK`, `L4CON`, `L4TOUT`, `L7TOUT`, `L7STS`, `L7RSP`, `L6RSP` (TLS), `SOCKERR`; empty without one |
//! | `check_duration` | how long the last probe took, milliseconds |
//! | `hrsp_1xx` .. `hrsp_5xx` | responses by class |
//! | `cli_abrt`, `srv_abrt` | exchanges the client cut short; the member cut short |
//! | `reuse`, `idle_conn_cur` | requests sent over a pooled connection; idle pooled connections now |
//! | `route`, `lbset`, `flags` | ringlb's: the route, the lbset, the status letters |
//! | `route_changed`, `err_rate` | ringlb's: requests with another member's session route it took; errors (failed attempts, 5xx) per second |
//!
//! Fields are quoted (RFC 4180) when they hold a comma, a quote or a line break.

use std::fmt::Write;

use super::model::{Health, MemberView, Snapshot};
use crate::stats::Fault;

/// The `Content-Type` of [`render_csv`]'s output.
pub const CONTENT_TYPE: &str = "text/csv; charset=utf-8";

const HEADER: &str = "# pxname,svname,qcur,scur,slim,stot,bin,bout,eresp,wretr,wredis,status,\
                      weight,act,bck,chkfail,lastchg,downtime,rate,check_status,check_duration,\
                      hrsp_1xx,hrsp_2xx,hrsp_3xx,hrsp_4xx,hrsp_5xx,cli_abrt,srv_abrt,reuse,\
                      idle_conn_cur,route,lbset,flags,route_changed,err_rate\n";

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
    let last = m.checks.as_ref().and_then(|c| c.last.as_ref());
    let check_status = last.map_or(String::new(), |l| field(&l.check_status));
    let check_duration = last.map_or(String::new(), |l| l.duration_ms.to_string());
    let f = &m.flow;
    let _ = write!(
        out,
        "{},{},{qcur},{},{slim},{},{},{},{},{},{},{},{},{},{},{chkfail},{},{},{},{check_status},\
         {check_duration},",
        field(balancer),
        field(&m.url),
        m.busy,
        m.requests,
        m.bytes_out,
        m.bytes_in,
        m.errors,
        f.retries,
        f.redispatches,
        status_word(m.health),
        m.loadfactor,
        u8::from(!standby),
        u8::from(standby),
        m.state_since_secs,
        m.downtime_secs,
        rate(m.rates.map(|r| r.requests_per_sec)),
    );
    for n in m.responses {
        let _ = write!(out, "{n},");
    }
    let _ = writeln!(
        out,
        "{},{},{},{},{},{},{},{},{}",
        f.client_aborts,
        f.member_aborts,
        f.pool_reuses,
        f.pool_idle,
        field(&m.route),
        m.lbset,
        field(&m.status),
        f.route_changed,
        rate(m.rates.map(|r| r.errors_per_sec)),
    );
}

/// A rate with one decimal; empty when not known.
fn rate(per_sec: Option<f64>) -> String {
    per_sec.map_or(String::new(), |r| format!("{r:.1}"))
}

/// HAProxy's `check_status` word for a probe that passed (`None`) or failed with `fault`.
pub fn check_status(fault: Option<Fault>) -> &'static str {
    match fault {
        None => "L7OK",
        Some(Fault::CheckConnect | Fault::ConnectRefused) => "L4CON",
        Some(Fault::ConnectTimeout) => "L4TOUT",
        Some(Fault::CheckTimeout | Fault::ResponseTimeout | Fault::NoPong) => "L7TOUT",
        Some(Fault::CheckStatus | Fault::FailOnStatus) => "L7STS",
        Some(
            Fault::CheckInvalid | Fault::CheckClosed | Fault::ClosedEarly | Fault::BadResponse,
        ) => "L7RSP",
        Some(
            Fault::TlsUnknownIssuer
            | Fault::TlsBadName
            | Fault::TlsExpired
            | Fault::TlsCertificate
            | Fault::TlsAlert
            | Fault::TlsHandshake,
        ) => "L6RSP",
        Some(Fault::CheckNotSent | Fault::Other) => "SOCKERR",
    }
}

fn backend_line(out: &mut String, balancer: &str, members: &[MemberView]) {
    let sum = |f: fn(&MemberView) -> u64| members.iter().map(f).sum::<u64>();
    let rate_sum =
        |f: fn(&MemberView) -> Option<f64>| rate(members.iter().filter_map(f).reduce(|a, b| a + b));
    let up = members.iter().any(|m| m.health.is_up());
    let _ = write!(
        out,
        "{},BACKEND,,{},,{},{},{},{},{},{},{},{},{},{},,,,{},,,",
        field(balancer),
        sum(|m| m.busy),
        sum(|m| m.requests),
        sum(|m| m.bytes_out),
        sum(|m| m.bytes_in),
        sum(|m| m.errors),
        sum(|m| m.flow.retries),
        sum(|m| m.flow.redispatches),
        if up { "UP" } else { "DOWN" },
        members.iter().map(|m| m.loadfactor).sum::<f64>(),
        members.iter().filter(|m| !m.status.contains('H')).count(),
        members.iter().filter(|m| m.status.contains('H')).count(),
        rate_sum(|m| m.rates.map(|r| r.requests_per_sec)),
    );
    for class in 0..5 {
        let _ = write!(
            out,
            "{},",
            members.iter().map(|m| m.responses[class]).sum::<u64>()
        );
    }
    let _ = writeln!(
        out,
        "{},{},{},{},,,,{},{}",
        sum(|m| m.flow.client_aborts),
        sum(|m| m.flow.member_aborts),
        sum(|m| m.flow.pool_reuses),
        sum(|m| m.flow.pool_idle),
        sum(|m| m.flow.route_changed),
        rate_sum(|m| m.rates.map(|r| r.errors_per_sec)),
    );
}

/// `text` as one CSV field: quoted, with quotes doubled, when it holds `,`, `"`, CR or LF.
pub fn field(text: &str) -> String {
    if text.contains([',', '"', '\r', '\n']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text.to_owned()
    }
}
