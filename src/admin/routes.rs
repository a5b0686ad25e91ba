//! What the admin listener answers: one [`Request`] in, one [`Response`] out. The socket
//! work is [`super::server`]'s.
//!
//! | request | answer |
//! |---|---|
//! | `GET /balancer-manager` | the manager page (`?b=..&w=..&nonce=..` applies a change, as httpd's does) |
//! | `GET /balancer-manager;csv`, `?csv` | the members as CSV, HAProxy's columns (`admin::csv`) |
//! | `GET /balancer-manager?xml=1` | httpd's XML document (`admin::xml`); with a change's fields, applies it first |
//! | `POST /balancer-manager` | a form change; answers `303` back to the page with a message, or with `xml` in the form the XML document after the change (`200`), as httpd |
//! | `GET /api/status` | the JSON status document (with the `nonce` for allowed addresses) |
//! | `GET /api/config` | the effective configuration as TOML (what `ringlb check --diff` reads) |
//! | `POST /api/members` | a JSON change (see `admin::form`), `nonce` required |
//! | `POST /api/reload` | re-read the configuration file (`nonce` in the query) |
//! | `GET /api/overrides` | the operator's overrides of the file, as JSON (`ringlb check --diff` reads it) |
//! | `POST /api/overrides/clear` | end every override (`nonce` in the query) |
//! | `GET /metrics` | Prometheus text format |
//! | `GET /jkstatus` | mod_jk's status worker (`admin::jkstatus`); `[admin] jkstatus` = `off`: `404` |
//!
//! Checks, in this order, with the access rules in force for this request (a reload replaces
//! them): the `Host` must name this listener (else `421`: the request was meant for another
//! server, RFC 9110 15.5.20; this is what defeats DNS rebinding); with an htpasswd file,
//! basic auth (else `401`). A change (`403` otherwise) must come from an `allow`ed address,
//! carry the nonce (CSRF; not on `/jkstatus`, whose scripts send none), and, when the request
//! has an `Origin` or a `Referer`, name this listener in each; a change through the manager's
//! form fields must also carry a `Referer` (httpd 2.4's rule). Clients outside `allow` get
//! the page read-only and no nonce.
//!
//! A change is answered once every worker has put it in force, and logged by the control
//! plane with the caller's address and user.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use super::access::{Access, AccessSlot};
use super::auth;
use super::form::{self, AdminAction, AdminRequest, FormError, StatusLetters};
use super::jkstatus::{self, Activation, Body, Cmd};
use super::model::Snapshot;
use super::rates::RateHistory;
use super::{csv, html, json, metrics, snapshot, xml};
use crate::balancer::Status;
use crate::clock;
use crate::config::JkStatusMode;
use crate::control::{Actor, Controller, MemberChange};

const PAGE: &str = "/balancer-manager";
/// HAProxy's spelling of its stats page as CSV.
const CSV_PAGE: &str = "/balancer-manager;csv";

/// What every request of one listener shares.
pub(super) struct Ctx {
    pub(super) controller: Arc<Controller>,
    pub(super) access: Arc<AccessSlot>,
    pub(super) nonce: String,
    /// The sampler's history, for the rates.
    pub(super) rates: Arc<RateHistory>,
}

impl Ctx {
    /// Everything the pages show, now.
    fn snapshot(&self) -> Snapshot {
        snapshot::take(&self.controller, self.controller.epoch(), &self.rates)
    }
}

/// The parts of a request the routes read.
#[derive(Default)]
pub(super) struct Request {
    pub(super) method: String,
    pub(super) path: String,
    pub(super) query: String,
    /// The one `Host` value, trimmed.
    pub(super) host: String,
    pub(super) authorization: Option<Vec<u8>>,
    pub(super) origin: Option<String>,
    pub(super) referer: Option<String>,
    pub(super) body: Vec<u8>,
}

pub(super) struct Response {
    pub(super) status: u16,
    pub(super) content_type: &'static str,
    pub(super) headers: Vec<(&'static str, String)>,
    pub(super) body: String,
}

impl Response {
    fn new(status: u16, content_type: &'static str, body: String) -> Response {
        Response {
            status,
            content_type,
            headers: Vec::new(),
            body,
        }
    }

    pub(super) fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into() + "\n")
    }

    fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json", value.to_string() + "\n")
    }
}

/// Who is asking, as far as changes go.
struct Caller {
    /// In `allow`.
    allowed: bool,
    /// No `Origin`/`Referer`, or both name this listener.
    same_origin: bool,
    /// A `Referer` came (and, with `same_origin`, names this listener).
    referred: bool,
    peer: IpAddr,
    /// The basic-auth user, when an htpasswd file is in force.
    user: Option<String>,
}

impl Caller {
    fn actor(&self, via: &'static str) -> Actor {
        Actor::Admin {
            peer: self.peer,
            user: self.user.clone(),
            via,
        }
    }
}

/// Answers one request that came from `peer` to the listener address `local`.
pub(super) fn route(req: &Request, ctx: &Ctx, peer: IpAddr, local: SocketAddr) -> Response {
    let access = ctx.access.get();
    if !access.host_allowed(&req.host, local) {
        return Response::text(
            421,
            "misdirected request: the Host header does not name this admin listener",
        );
    }
    if !access.authenticated(req.authorization.as_deref(), clock::now()) {
        let mut r = Response::text(401, "authentication required");
        r.headers
            .push(("WWW-Authenticate", auth::basic_challenge("ringlb")));
        return r;
    }
    let who = caller(&access, req, peer, local);
    match (req.method.as_str(), req.path.as_str()) {
        ("GET" | "HEAD", "/") => redirect(PAGE.to_string()),
        ("GET" | "HEAD", CSV_PAGE) => csv_page(ctx),
        ("GET" | "HEAD", PAGE) if has_field(req.query.as_bytes(), "csv") => csv_page(ctx),
        ("GET" | "HEAD", PAGE) if wants_xml(req.query.as_bytes()) => {
            match form::parse_form(req.query.as_bytes()) {
                Err(FormError::NoAction | FormError::Missing("w")) => xml_page(ctx, &who),
                parsed => xml_change(parsed, &who, ctx),
            }
        }
        ("GET" | "HEAD", PAGE) => match form::parse_form(req.query.as_bytes()) {
            Err(FormError::NoAction) => page(ctx, &who, &req.query),
            parsed => form_change(parsed, &who, ctx),
        },
        ("POST", PAGE) if wants_xml(&req.body) => {
            xml_change(form::parse_form(&req.body), &who, ctx)
        }
        ("POST", PAGE) => form_change(form::parse_form(&req.body), &who, ctx),
        ("GET" | "HEAD", "/api/status") => {
            let snap = ctx.snapshot();
            let mut value: serde_json::Value =
                serde_json::from_str(&json::render_status(&snap)).unwrap_or_default();
            if who.allowed {
                value["nonce"] = serde_json::Value::String(ctx.nonce.clone());
            }
            Response::json(200, &value)
        }
        ("GET" | "HEAD", "/api/config") => Response::new(
            200,
            "application/toml",
            ctx.controller.current().config.to_string(),
        ),
        ("POST", "/api/members") => {
            let parsed = form::parse_json_action(&req.body);
            api_result(
                parsed
                    .map_err(|e| e.to_string())
                    .and_then(|r| change(r, &who, "API", ctx)),
            )
        }
        ("POST", "/api/reload") => {
            let nonce = query_nonce(&req.query);
            let checked = check_access(nonce.as_deref(), &who, ctx);
            api_result(checked.and_then(|()| {
                let number = ctx.controller.reload_file(&who.actor("API"))?;
                Ok(format!("reloaded: configuration generation {number}"))
            }))
        }
        ("GET" | "HEAD", "/api/overrides") => {
            let overrides = ctx.controller.overrides();
            let value = serde_json::json!({
                "overrides": overrides,
                "describe": overrides.describe(),
            });
            Response::json(200, &value)
        }
        ("POST", "/api/overrides/clear") => {
            let checked = check_access(query_nonce(&req.query).as_deref(), &who, ctx);
            api_result(checked.and_then(|()| ctx.controller.clear_overrides(&who.actor("API"))))
        }
        (_, "/jkstatus") if access.jkstatus() == JkStatusMode::Off => {
            Response::text(404, "not found")
        }
        ("GET" | "HEAD", "/jkstatus") => jkstatus_answer(req, ctx, &who, local, access.jkstatus()),
        ("GET" | "HEAD", "/metrics") => {
            let snap = ctx.snapshot();
            Response::new(200, metrics::CONTENT_TYPE, metrics::render_metrics(&snap))
        }
        (
            _,
            PAGE
            | "/api/status"
            | "/api/config"
            | "/api/members"
            | "/api/reload"
            | "/api/overrides"
            | "/api/overrides/clear"
            | "/jkstatus"
            | "/metrics",
        ) => Response::text(405, "method not allowed"),
        _ => Response::text(404, "not found"),
    }
}

fn caller(access: &Access, req: &Request, peer: IpAddr, local: SocketAddr) -> Caller {
    // Without an htpasswd file every request is "authenticated", and a user name in an
    // `Authorization` header would be unverified: only name a user the file vouched for.
    let auth_on = !access.authenticated(None, clock::now());
    let user = req
        .authorization
        .as_deref()
        .filter(|_| auth_on)
        .and_then(auth::parse_basic)
        .map(|(user, _)| String::from_utf8_lossy(&user).into_owned());
    Caller {
        allowed: access.may_change(peer),
        same_origin: access.same_origin(req.origin.as_deref(), req.referer.as_deref(), local),
        referred: req.referer.is_some(),
        peer,
        user,
    }
}

/// The `nonce` of a query string.
fn query_nonce(query: &str) -> Option<String> {
    form::field(query.as_bytes(), "nonce")
}

/// The page with forms and the nonce for allowed clients, read-only for the others, as the
/// query's view fields (`msg`, `refresh`, `remove_b`/`remove_w`) ask.
fn page(ctx: &Ctx, who: &Caller, query: &str) -> Response {
    let snap = ctx.snapshot();
    let nonce = who.allowed.then_some(ctx.nonce.as_str());
    let get = |key: &str| form::field(query.as_bytes(), key);
    let view = html::PageView {
        refresh: get("refresh")
            .and_then(|v| v.parse().ok())
            .filter(|n| (1..=3600).contains(n)),
        confirm_remove: get("remove_b").zip(get("remove_w")),
    };
    let message = get("msg");
    Response::new(
        200,
        "text/html; charset=utf-8",
        html::render_manager_view(&snap, nonce, PAGE, message.as_deref(), &view),
    )
}

/// mod_jk's status worker (`[admin] jkstatus` = `mode`). No nonce (jkstatus scripts send none): an update must come from an
/// allowed address and, when it sends `Origin`/`Referer`, name this listener; else `403` with
/// the ERROR result. Every other answer is `200`, errors included, as mod_jk answers.
fn jkstatus_answer(
    req: &Request,
    ctx: &Ctx,
    who: &Caller,
    local: SocketAddr,
    mode: JkStatusMode,
) -> Response {
    let pairs = form::decode_pairs(req.query.as_bytes()).unwrap_or_default();
    let snap = ctx.snapshot();
    let c = crate::accesslog::time::civil_from_unix(snap.now_unix);
    let server = jkstatus::Server {
        name: host_name(&req.host).to_string(),
        port: local.port(),
        datetime: format!(
            "{:04}{:02}{:02}{:02}{:02}{:02}",
            c.year, c.month, c.day, c.hour, c.minute, c.second
        ),
        unix: snap.now_unix,
        web_server: format!("ringlb/{}", snap.version),
    };
    let answer = |mime: jkstatus::Mime, body: &Body<'_>, result: Result<(), &str>| {
        let text = jkstatus::render(mime, &server, body, result);
        Response::new(200, mime.content_type(), text)
    };
    let q = match jkstatus::parse_query(&pairs) {
        Ok(q) => q,
        Err((mime, why)) => return answer(mime, &Body::ResultOnly, Err(&why)),
    };
    let (w, sw) = (q.w.as_deref(), q.sw.as_deref());
    match q.cmd {
        Cmd::Version => answer(q.mime, &Body::Version, Ok(())),
        Cmd::List => {
            let all = snap.balancers.iter().map(|b| (b, None)).collect();
            answer(q.mime, &Body::Balancers(all), Ok(()))
        }
        Cmd::Show => match jkstatus::select(&snap, w, sw) {
            Ok(one) => answer(q.mime, &Body::Balancers(vec![one]), Ok(())),
            Err(why) => answer(q.mime, &Body::ResultOnly, Err(&why)),
        },
        Cmd::Reset | Cmd::Update => {
            let outcome = if mode == JkStatusMode::ReadOnly {
                Err("forbidden: jkstatus is read-only ([admin] jkstatus)".to_string())
            } else {
                jk_update(&q, &snap, who, ctx)
            };
            let mut r = answer(
                q.mime,
                &Body::ResultOnly,
                outcome.as_ref().map(|_| ()).map_err(String::as_str),
            );
            if outcome.is_err_and(|why| why.starts_with("forbidden")) {
                r.status = 403;
            }
            r
        }
    }
}

/// Applies a jkstatus `update` (or refuses a `reset`); `Err` starting with "forbidden" is an
/// access refusal.
fn jk_update(
    q: &jkstatus::Query,
    snap: &super::model::Snapshot,
    who: &Caller,
    ctx: &Ctx,
) -> Result<String, String> {
    if !who.allowed {
        return Err("forbidden: changes are not allowed from this address".into());
    }
    if !who.same_origin {
        return Err(
            "forbidden: cross-origin request (Origin or Referer is not this admin listener)".into(),
        );
    }
    let (b, member) = jkstatus::select(snap, q.w.as_deref(), q.sw.as_deref())?;
    if q.cmd == Cmd::Reset {
        return Err("reset is not supported: ringlb's counters cannot be reset".into());
    }
    let i = member.ok_or("Sub worker name is missing")?;
    let (set, clear) = match q.update.activation {
        None => (Status::NONE, Status::NONE),
        Some(Activation::Active) => (
            Status::NONE,
            Status::DRAIN | Status::STOPPED | Status::DISABLED,
        ),
        Some(Activation::Disabled) => (Status::DRAIN, Status::STOPPED),
        Some(Activation::Stopped) => (Status::STOPPED, Status::DRAIN),
    };
    let change = MemberChange {
        lbfactor: q.update.lbfactor.map(|f| f * 100),
        lbset: q.update.distance,
        route: q.update.route.clone(),
        redirect: q.update.redirect.clone(),
        set,
        clear,
    };
    ctx.controller
        .change_member(&who.actor("jkstatus"), &b.name, &b.members[i].url, change)
}

/// The host part of a `Host` value: `a.example:8081` → `a.example`, `[::1]:80` → `[::1]`.
fn host_name(host: &str) -> &str {
    match host.rfind(':') {
        Some(i) if !host[i..].contains(']') => &host[..i],
        _ => host,
    }
}

/// Whether a form or query asks for the XML document (an `xml` field, any value, as httpd).
fn wants_xml(form: &[u8]) -> bool {
    has_field(form, "xml")
}

/// Whether a form or query has the field `name` (any value).
fn has_field(form: &[u8], name: &str) -> bool {
    form::field(form, name).is_some()
}

/// The CSV view (`/balancer-manager;csv` as HAProxy's, or `?csv`).
fn csv_page(ctx: &Ctx) -> Response {
    let snap = ctx.snapshot();
    Response::new(200, csv::CONTENT_TYPE, csv::render_csv(&snap))
}

/// The XML document, with the nonce for allowed clients.
fn xml_page(ctx: &Ctx, who: &Caller) -> Response {
    let snap = ctx.snapshot();
    let nonce = who.allowed.then_some(ctx.nonce.as_str());
    Response::new(
        200,
        xml::CONTENT_TYPE,
        xml::render_manager_xml(&snap, nonce),
    )
}

/// A change asked with `xml`: answered as httpd answers it, with the document after the change
/// (`200`); a refused change is `403` (access) or `400` (anything else: httpd's answer when
/// applying fails), with the reason as text.
fn xml_change(parsed: Result<AdminRequest, FormError>, who: &Caller, ctx: &Ctx) -> Response {
    let outcome = parsed
        .map_err(|e| e.to_string())
        .and_then(|r| manager_change(r, who, ctx));
    match outcome {
        Ok(_) => xml_page(ctx, who),
        Err(why) if why.starts_with("forbidden") => Response::text(403, why),
        Err(why) => Response::text(400, why),
    }
}

fn redirect(location: String) -> Response {
    let mut r = Response::text(303, "see other");
    r.headers.push(("Location", location));
    r
}

fn form_change(parsed: Result<AdminRequest, FormError>, who: &Caller, ctx: &Ctx) -> Response {
    let outcome = parsed
        .map_err(|e| e.to_string())
        .and_then(|r| manager_change(r, who, ctx));
    match outcome {
        Ok(message) => redirect(format!("{PAGE}?msg={}", percent_encode(&message))),
        Err(why) if why.starts_with("forbidden") => Response::text(403, why),
        Err(why) => redirect(format!(
            "{PAGE}?msg={}",
            percent_encode(&format!("refused: {why}"))
        )),
    }
}

fn api_result(outcome: Result<String, String>) -> Response {
    match outcome {
        Ok(message) => Response::json(200, &serde_json::json!({ "ok": true, "message": message })),
        Err(why) => {
            let status = if why.starts_with("forbidden") {
                403
            } else {
                400
            };
            Response::json(status, &serde_json::json!({ "ok": false, "error": why }))
        }
    }
}

/// Whether `who` may make a change carrying `nonce`; `Err` starts with "forbidden".
fn check_access(nonce: Option<&str>, who: &Caller, ctx: &Ctx) -> Result<(), String> {
    if !who.allowed {
        return Err("forbidden: changes are not allowed from this address".into());
    }
    if !who.same_origin {
        return Err(
            "forbidden: cross-origin request (Origin or Referer is not this admin listener)".into(),
        );
    }
    match nonce {
        Some(n) if auth::nonce_matches(&ctx.nonce, n) => Ok(()),
        Some(_) => Err("forbidden: stale nonce (reload the page)".into()),
        None => Err("forbidden: missing nonce".into()),
    }
}

/// A change through the manager's form fields: as httpd 2.4's balancer-manager, only with a
/// `Referer` naming this manager (browsers send one; a script sends the manager's URL), on
/// top of [`change`]'s checks.
fn manager_change(req: AdminRequest, who: &Caller, ctx: &Ctx) -> Result<String, String> {
    if who.allowed && who.same_origin && !who.referred {
        return Err(
            "forbidden: a manager change needs a Referer naming this manager, as \
                    httpd's balancer-manager does"
                .into(),
        );
    }
    change(req, who, "manager", ctx)
}

/// Applies one operator change; `Err` starting with "forbidden" means refused for access.
fn change(req: AdminRequest, who: &Caller, via: &'static str, ctx: &Ctx) -> Result<String, String> {
    check_access(req.nonce.as_deref(), who, ctx)?;
    let c = &ctx.controller;
    let actor = who.actor(via);
    match req.action {
        AdminAction::Update {
            balancer,
            member,
            loadfactor,
            lbset,
            route,
            redirect,
            set,
            clear,
        } => {
            let change = MemberChange {
                lbfactor: loadfactor.map(|lf| (lf * 100.0).round() as u32),
                lbset,
                route,
                redirect,
                set: to_status(set),
                clear: to_status(clear),
            };
            c.change_member(&actor, &balancer, &member, change)
        }
        AdminAction::Add {
            balancer,
            url,
            route,
            loadfactor,
        } => c.add_member(
            &actor,
            &balancer,
            &url,
            &route,
            (loadfactor * 100.0).round() as u32,
        ),
        AdminAction::Remove { balancer, member } => c.remove_member(&actor, &balancer, &member),
        AdminAction::ClearOverrides => c.clear_overrides(&actor),
    }
}

fn to_status(letters: StatusLetters) -> Status {
    letters
        .iter()
        .filter_map(Status::from_letter)
        .fold(Status::NONE, |acc, s| acc | s)
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}
