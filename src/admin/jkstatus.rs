//! mod_jk's status worker (`/jkstatus`): query parsing ([`parse_query`]) and the `prop`, `txt`
//! and `xml` answers ([`render`]), in the shapes mod_jk 1.2.48 prints, so scripts written for
//! jkstatus read ringlb's. Pure: no sockets, no clock reads; applying an update is the glue's.
//!
//! A balancer is an lb worker (`worker.NAME.type=lb`) and each member a sub worker named by its
//! route (as mod_jk names members; a member without a route is `memberN`, 1-based). Only the
//! attributes ringlb has a value for are printed, in mod_jk's order: for a balancer `type`,
//! `sticky_session`, `sticky_session_force`, `method`, `member_count`, `good`, `degraded`, `bad`,
//! `busy`; for a member `type`, `host`, `port`, `address`, `activation`, `lbfactor`, `route`,
//! `redirect`, `domain`, `distance` (= lbset), `state`, `elected`, `errors`, `client_errors`
//! (exchanges the client cut short), `transferred`, `read`, `busy`. In `prop`, a `worker.LB.balance_workers=MEMBER` line precedes each member's
//! block, as mod_jk prints it. Every answer ends with the result (`type=OK`, `Action finished`,
//! or `type=ERROR` and why); mod_jk answers 200 either way, and so does ringlb.
//!
//! Activation maps to ringlb's flags (docs/semantics.md §4): `ACT` = neither drain (N), disabled
//! (D) nor stopped (S); `DIS` = N or D (mod_jk's disabled member serves only its sessions: N);
//! `STP` = S. State: `ERR` for a member in error or failing its check, else `OK/IDLE` before its
//! first request and `OK` after.

use std::fmt::Write;

use super::model::{BalancerView, Health, MemberView, Snapshot};

/// What a request asks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cmd {
    /// `cmd=list` (the default): every balancer.
    List,
    /// `cmd=show`: the balancer `w` (and its member `sw`).
    Show,
    /// `cmd=update`: change member `sw` of `w`.
    Update,
    /// `cmd=reset`: reset counters (ringlb cannot: answered as an error).
    Reset,
    /// `cmd=version`: the server part only.
    Version,
}

/// The answer's format, `mime=`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mime {
    /// `worker.NAME.KEY=VALUE` lines.
    Prop,
    /// `Kind: key=value ...` lines; also the answer to `mime=html` and to none (ringlb has
    /// no jkstatus HTML page: the manager page is at `/balancer-manager`).
    Txt,
    /// `<jk:status xmlns:jk="http://tomcat.apache.org">`.
    Xml,
}

impl Mime {
    /// The `Content-Type` mod_jk sends.
    pub fn content_type(self) -> &'static str {
        match self {
            Mime::Xml => "text/xml",
            Mime::Prop | Mime::Txt => "text/plain",
        }
    }
}

/// A member's activation as mod_jk names it (`vwa`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Activation {
    /// `A`, `0`: takes new requests.
    Active,
    /// `D`, `1`: only its sessions (ringlb's drain, N).
    Disabled,
    /// `S`, `2`: nothing (ringlb's S).
    Stopped,
}

/// The `v*` fields of an update; `None` leaves a value as it is.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Update {
    /// `vwa`.
    pub activation: Option<Activation>,
    /// `vwf`: mod_jk's lbfactor, 1..=100.
    pub lbfactor: Option<u32>,
    /// `vwd`: distance, ringlb's lbset, 0..=99.
    pub distance: Option<u32>,
    /// `vwn`: route.
    pub route: Option<String>,
    /// `vwr`: redirect route.
    pub redirect: Option<String>,
}

/// A parsed `/jkstatus` query.
#[derive(Clone, Debug, PartialEq)]
pub struct Query {
    /// `cmd`.
    pub cmd: Cmd,
    /// `mime`.
    pub mime: Mime,
    /// `w`: the lb worker (balancer name).
    pub w: Option<String>,
    /// `sw`: the sub worker (member name).
    pub sw: Option<String>,
    /// The update fields.
    pub update: Update,
}

/// Parses the decoded `(key, value)` pairs of a query. Unknown keys are ignored, as mod_jk
/// does; `Err` is the message of an ERROR result (with `mime` known when it could be read).
pub fn parse_query(pairs: &[(String, String)]) -> Result<Query, (Mime, String)> {
    let get = |key: &str| {
        pairs
            .iter()
            .rev()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    let mime = match get("mime") {
        Some("prop") => Mime::Prop,
        Some("xml") => Mime::Xml,
        _ => Mime::Txt,
    };
    let err = |m: String| (mime, m);
    let cmd = match get("cmd").unwrap_or("list") {
        "list" => Cmd::List,
        "show" => Cmd::Show,
        "update" => Cmd::Update,
        "reset" => Cmd::Reset,
        "version" => Cmd::Version,
        other => return Err(err(format!("Invalid command '{other}'"))),
    };
    let number = |key: &str, max: u32| -> Result<Option<u32>, (Mime, String)> {
        match get(key) {
            None | Some("") => Ok(None),
            Some(v) => match v.parse::<u32>() {
                Ok(n) if n <= max => Ok(Some(n)),
                _ => Err(err(format!("{key}: {v:?} is not a number in 0..={max}"))),
            },
        }
    };
    let activation = match get("vwa") {
        None | Some("") => None,
        Some("A" | "a" | "0") => Some(Activation::Active),
        Some("D" | "d" | "1") => Some(Activation::Disabled),
        Some("S" | "s" | "2") => Some(Activation::Stopped),
        Some(v) => return Err(err(format!("vwa: {v:?} is not A, D, S, 0, 1 or 2"))),
    };
    let lbfactor = number("vwf", 100)?;
    if lbfactor == Some(0) {
        return Err(err("vwf: lbfactor must be 1..=100".into()));
    }
    let update = Update {
        activation,
        lbfactor,
        distance: number("vwd", 99)?,
        route: get("vwn").map(str::to_owned),
        redirect: get("vwr").map(str::to_owned),
    };
    let name = |key| get(key).filter(|v| !v.is_empty()).map(str::to_owned);
    Ok(Query {
        cmd,
        mime,
        w: name("w"),
        sw: name("sw"),
        update,
    })
}

/// The sub worker name of member `index` (0-based): its route, else `memberN`.
pub fn member_name(m: &MemberView, index: usize) -> String {
    if m.route.is_empty() {
        format!("member{}", index + 1)
    } else {
        m.route.clone()
    }
}

/// The balancer `w` and, when `sw` is given, the index of its member `sw`; `Err` is mod_jk's
/// message.
pub fn select<'a>(
    snap: &'a Snapshot,
    w: Option<&str>,
    sw: Option<&str>,
) -> Result<(&'a BalancerView, Option<usize>), String> {
    let w = w.ok_or("Worker name is missing")?;
    let b = snap
        .balancers
        .iter()
        .find(|b| b.name == w)
        .ok_or("could not find worker")?;
    match sw {
        None => Ok((b, None)),
        Some(sw) => b
            .members
            .iter()
            .enumerate()
            .position(|(i, m)| member_name(m, i) == sw)
            .map(|i| (b, Some(i)))
            .ok_or_else(|| "could not find sub worker".to_string()),
    }
}

/// The answer's header facts: `server_name`, `server_port`, `time_*` and the software line.
#[derive(Clone, Debug, PartialEq)]
pub struct Server {
    /// The `Host` name the request used (mod_jk's server name).
    pub name: String,
    /// The admin listener's port.
    pub port: u16,
    /// `time_datetime`: `YYYYmmddHHMMSS`, UTC.
    pub datetime: String,
    /// `time_unix`.
    pub unix: u64,
    /// `web_server`, e.g. `ringlb/0.1.0`.
    pub web_server: String,
}

/// What one answer shows.
#[derive(Debug)]
pub enum Body<'a> {
    /// Only the result (`update`, `reset`, and every error).
    ResultOnly,
    /// The server part (`version`).
    Version,
    /// The server part and these balancers, each with all its members or the one given.
    Balancers(Vec<(&'a BalancerView, Option<usize>)>),
}

/// One attribute list writer for the three formats.
struct Out {
    mime: Mime,
    text: String,
    /// `txt`: the current line has an attribute already.
    open: bool,
}

impl Out {
    fn start(&mut self, kind: &str, prefix: &str, indent: usize) {
        match self.mime {
            Mime::Prop => {}
            Mime::Txt => {
                let _ = write!(self.text, "{kind}:");
                self.open = true;
            }
            Mime::Xml => {
                let _ = write!(self.text, "{:indent$}<jk:{prefix}", "");
            }
        }
    }

    fn att(&mut self, name: &str, key: &str, value: &str, indent: usize) {
        match self.mime {
            Mime::Prop => {
                let _ = writeln!(self.text, "worker.{name}.{key}={value}");
            }
            Mime::Txt => {
                let quoted = value.is_empty() || value.contains([' ', '"']);
                if quoted {
                    let _ = write!(self.text, " {key}=\"{}\"", value.replace('"', "\\\""));
                } else {
                    let _ = write!(self.text, " {key}={value}");
                }
            }
            Mime::Xml => {
                let _ = write!(
                    self.text,
                    "\n{:w$}{key}=\"{}\"",
                    "",
                    super::html::escape_html(value),
                    w = indent + 2
                );
            }
        }
    }

    /// Ends an element: `/>` (leaf) or `>` (its children follow).
    fn end(&mut self, indent: usize, leaf: bool) {
        match self.mime {
            Mime::Prop => {}
            Mime::Txt => {
                if self.open {
                    self.text.push('\n');
                    self.open = false;
                }
            }
            Mime::Xml => {
                let close = if leaf { "/>" } else { ">" };
                let _ = writeln!(self.text, "\n{:indent$}{close}", "");
            }
        }
    }

    fn close(&mut self, prefix: &str, indent: usize) {
        if self.mime == Mime::Xml {
            let _ = writeln!(self.text, "{:indent$}</jk:{prefix}>", "");
        }
    }
}

/// The answer to a query in `mime`; `result` is `Ok(())` or the ERROR message.
pub fn render(mime: Mime, server: &Server, body: &Body<'_>, result: Result<(), &str>) -> String {
    let mut o = Out {
        mime,
        text: String::with_capacity(2048),
        open: false,
    };
    if mime == Mime::Xml {
        o.text
            .push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        o.text
            .push_str("<jk:status\n  xmlns:jk=\"http://tomcat.apache.org\">\n");
    }
    if !matches!(body, Body::ResultOnly) {
        server_part(&mut o, server);
    }
    if let Body::Balancers(list) = body {
        let count = list.len();
        match mime {
            Mime::Prop => {
                let names: Vec<&str> = list.iter().map(|(b, _)| b.name.as_str()).collect();
                let _ = writeln!(o.text, "worker.lb_count={count}");
                let _ = writeln!(o.text, "worker.list={}", names.join(","));
            }
            Mime::Txt => {
                let _ = writeln!(o.text, "Balancer Workers: count={count}");
            }
            Mime::Xml => {
                let _ = writeln!(o.text, "<jk:balancers\n  count=\"{count}\"\n>");
            }
        }
        for (b, only) in list {
            balancer(&mut o, b, *only);
        }
        if mime == Mime::Xml {
            o.text.push_str("</jk:balancers>\n");
        }
    }
    let (kind, message) = match result {
        Ok(()) => ("OK", "Action finished"),
        Err(why) => ("ERROR", why),
    };
    o.start("Result", "result", 2);
    o.att("result", "type", kind, 2);
    o.att("result", "message", message, 2);
    o.end(2, true);
    if mime == Mime::Xml {
        o.text.push_str("</jk:status>\n");
    }
    o.text
}

fn server_part(o: &mut Out, s: &Server) {
    let port = s.port.to_string();
    let unix = s.unix.to_string();
    if o.mime == Mime::Prop {
        let _ = writeln!(o.text, "worker.server_name={}", s.name);
        let _ = writeln!(o.text, "worker.server_port={port}");
        let _ = writeln!(o.text, "worker.time_datetime={}", s.datetime);
        let _ = writeln!(o.text, "worker.time_tz=+0000");
        let _ = writeln!(o.text, "worker.time_unix={unix}");
        let _ = writeln!(o.text, "worker.web_server={}", s.web_server);
        let _ = writeln!(o.text, "worker.jk_version={}", s.web_server);
        return;
    }
    o.start("Server", "server", 0);
    o.att("", "name", &s.name, 0);
    o.att("", "port", &port, 0);
    o.end(0, true);
    o.start("Time", "time", 0);
    o.att("", "datetime", &s.datetime, 0);
    o.att("", "tz", "+0000", 0);
    o.att("", "unix", &unix, 0);
    o.end(0, true);
    o.start("Software", "software", 0);
    o.att("", "web_server", &s.web_server, 0);
    o.att("", "jk_version", &s.web_server, 0);
    o.end(0, true);
}

fn method(lbmethod: &str) -> &'static str {
    match lbmethod {
        "bytraffic" => "Traffic",
        "bybusyness" => "Busyness",
        _ => "Request",
    }
}

fn true_false(b: bool) -> &'static str {
    if b {
        "True"
    } else {
        "False"
    }
}

fn balancer(o: &mut Out, b: &BalancerView, only: Option<usize>) {
    let name = b.name.as_str();
    let good = b.members.iter().filter(|m| m.health.is_up()).count();
    let bad = b
        .members
        .iter()
        .filter(|m| matches!(m.health, Health::InError { .. } | Health::HcFailed))
        .count();
    let busy: u64 = b.members.iter().map(|m| m.busy).sum();
    let atts = [
        ("type", "lb".to_string()),
        ("sticky_session", true_false(b.sticky.is_some()).into()),
        ("sticky_session_force", true_false(b.nofailover).into()),
        ("method", method(&b.lbmethod).into()),
        ("member_count", b.members.len().to_string()),
        ("good", good.to_string()),
        ("degraded", (b.members.len() - good - bad).to_string()),
        ("bad", bad.to_string()),
        ("busy", busy.to_string()),
    ];
    o.start("Balancer Worker", "balancer", 2);
    if o.mime != Mime::Prop {
        o.att(name, "name", name, 2);
    }
    for (key, value) in &atts {
        o.att(name, key, value, 2);
    }
    o.end(2, false);
    for (i, m) in b.members.iter().enumerate() {
        if only.map_or(true, |j| j == i) {
            member(o, name, m, &member_name(m, i));
        }
    }
    o.close("balancer", 2);
}

fn member(o: &mut Out, lb: &str, m: &MemberView, name: &str) {
    if o.mime == Mime::Prop {
        let _ = writeln!(o.text, "worker.{lb}.balance_workers={name}");
    }
    let (scheme, host, port) = super::xml::split_url(&m.url).unwrap_or(("", "", 0));
    let kind = if scheme == "ajp" { "ajp13" } else { scheme };
    let activation = if m.status.contains('S') {
        "STP"
    } else if m.status.contains(['N', 'D']) {
        "DIS"
    } else {
        "ACT"
    };
    let state = match m.health {
        Health::InError { .. } | Health::HcFailed => "ERR",
        _ if m.requests == 0 => "OK/IDLE",
        _ => "OK",
    };
    let atts = [
        ("type", kind.to_string()),
        ("host", host.to_string()),
        ("port", port.to_string()),
        ("address", m.address.clone()),
        ("activation", activation.into()),
        ("lbfactor", format!("{}", m.loadfactor.round() as u64)),
        ("route", m.route.clone()),
        ("redirect", m.redirect.clone()),
        ("domain", m.domain.clone()),
        ("distance", m.lbset.to_string()),
        ("state", state.into()),
        ("elected", m.requests.to_string()),
        ("errors", m.errors.to_string()),
        ("client_errors", m.flow.client_aborts.to_string()),
        ("transferred", m.bytes_out.to_string()),
        ("read", m.bytes_in.to_string()),
        ("busy", m.busy.to_string()),
    ];
    o.start("Member", "member", 6);
    if o.mime != Mime::Prop {
        o.att(name, "name", name, 6);
    }
    for (key, value) in &atts {
        o.att(name, key, value, 6);
    }
    o.end(6, true);
}

#[cfg(test)]
#[path = "jkstatus_tests.rs"]
mod tests;
