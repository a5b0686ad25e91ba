//! The admin listener: its own address (default loopback only), separate from traffic, served
//! by a plain thread with blocking I/O so it never costs a data-path core anything.
//!
//! | request | answer |
//! |---|---|
//! | `GET /balancer-manager` | the manager page (`?b=..&w=..&nonce=..` applies a change, as httpd's does) |
//! | `POST /balancer-manager` | a form change; answers `303` back to the page with a message |
//! | `GET /api/status` | the JSON status document (with the `nonce` for allowed addresses) |
//! | `GET /api/config` | the effective configuration as TOML (what `ringlb check --diff` reads) |
//! | `POST /api/members` | a JSON change (see `admin::form`), `nonce` required |
//! | `POST /api/reload` | re-read the configuration file (`nonce` in the query) |
//! | `GET /metrics` | Prometheus text format |
//!
//! Every change must come from an allowed address and carry the nonce (CSRF); with an htpasswd
//! file every request needs HTTP basic auth.

use std::io::{self, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use super::auth::{self, Htpasswd, IpNet};
use super::form::{self, AdminAction, AdminRequest, FormError, StatusLetters};
use super::{html, json, metrics, snapshot};
use crate::balancer::Status;
use crate::config::AdminConfig;
use crate::control::{Controller, MemberChange};
use crate::log;

const PAGE: &str = "/balancer-manager";
const MAX_BODY: usize = 64 * 1024;
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A running admin listener; dropping it stops accepting.
#[derive(Debug)]
pub struct AdminServer {
    addr: SocketAddr,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl AdminServer {
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }
}

impl Drop for AdminServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

struct Ctx {
    controller: Arc<Controller>,
    allow: Vec<IpNet>,
    htpasswd: Option<Htpasswd>,
    nonce: String,
}

/// Binds `cfg.listen` and serves until dropped.
pub fn start(cfg: &AdminConfig, controller: Arc<Controller>) -> io::Result<AdminServer> {
    let allow = auth::parse_allow(&cfg.allow).map_err(io::Error::other)?;
    let htpasswd = match &cfg.htpasswd {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", path.display())))?;
            let parsed = Htpasswd::parse(&text)
                .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
            Some(parsed)
        }
        None => None,
    };
    let listener = TcpListener::bind(cfg.listen)
        .map_err(|e| io::Error::new(e.kind(), format!("admin listener {}: {e}", cfg.listen)))?;
    let addr = listener.local_addr()?;
    let ctx = Arc::new(Ctx {
        controller,
        allow,
        htpasswd,
        nonce: random_hex()?,
    });
    let stop = Arc::new(AtomicBool::new(false));
    let stop_flag = stop.clone();
    let thread = std::thread::Builder::new()
        .name("ringlb-admin".into())
        .spawn(move || {
            for stream in listener.incoming() {
                if stop_flag.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let ctx = ctx.clone();
                let _ = std::thread::Builder::new()
                    .name("ringlb-admin-conn".into())
                    .spawn(move || serve(stream, &ctx));
            }
        })?;
    Ok(AdminServer {
        addr,
        stop,
        thread: Some(thread),
    })
}

/// 128 random bits as hex, from the kernel.
fn random_hex() -> io::Result<String> {
    let mut bytes = [0u8; 16];
    std::fs::File::open("/dev/urandom")?.read_exact(&mut bytes)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

struct Request {
    method: String,
    path: String,
    query: String,
    authorization: Option<Vec<u8>>,
    body: Vec<u8>,
}

struct Response {
    status: u16,
    content_type: &'static str,
    headers: Vec<(&'static str, String)>,
    body: String,
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

    fn text(status: u16, body: impl Into<String>) -> Response {
        Response::new(status, "text/plain; charset=utf-8", body.into() + "\n")
    }

    fn json(status: u16, value: &serde_json::Value) -> Response {
        Response::new(status, "application/json", value.to_string() + "\n")
    }
}

fn serve(mut stream: TcpStream, ctx: &Ctx) {
    let _ = stream.set_read_timeout(Some(IO_TIMEOUT));
    let _ = stream.set_write_timeout(Some(IO_TIMEOUT));
    let peer = stream
        .peer_addr()
        .map_or(IpAddr::from([0, 0, 0, 0]), |a| a.ip());
    let response = match read_request(&mut stream) {
        Ok(req) => route(&req, peer, ctx),
        Err(why) => Response::text(400, why),
    };
    let reason = crate::http::rewrite::reason_phrase(response.status);
    let mut head = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\n\
         Cache-Control: no-store\r\nConnection: close\r\n",
        response.status,
        response.content_type,
        response.body.len()
    );
    for (name, value) in &response.headers {
        head += &format!("{name}: {value}\r\n");
    }
    head += "\r\n";
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(response.body.as_bytes());
}

fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut req = httparse::Request::new(&mut headers);
        match req.parse(&buf) {
            Ok(httparse::Status::Complete(len)) => {
                let target = req.path.unwrap_or("/");
                let (path, query) = target.split_once('?').unwrap_or((target, ""));
                let mut length = 0usize;
                let mut authorization = None;
                for h in req.headers.iter() {
                    if h.name.eq_ignore_ascii_case("content-length") {
                        length = std::str::from_utf8(h.value)
                            .ok()
                            .and_then(|v| v.trim().parse().ok())
                            .ok_or("invalid Content-Length")?;
                    } else if h.name.eq_ignore_ascii_case("authorization") {
                        authorization = Some(h.value.to_vec());
                    }
                }
                if length > MAX_BODY {
                    return Err("request body too large".into());
                }
                let (method, path, query) = (
                    req.method.unwrap_or("").to_string(),
                    path.to_string(),
                    query.to_string(),
                );
                let mut body = buf[len..].to_vec();
                while body.len() < length {
                    let n = crate::blocking::read_retrying(stream, &mut chunk)
                        .map_err(|e| e.to_string())?;
                    if n == 0 {
                        return Err("connection closed mid-body".into());
                    }
                    body.extend_from_slice(&chunk[..n]);
                }
                body.truncate(length);
                return Ok(Request {
                    method,
                    path,
                    query,
                    authorization,
                    body,
                });
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_BODY => {}
            Ok(httparse::Status::Partial) => return Err("request head too large".into()),
            Err(e) => return Err(format!("malformed request: {e}")),
        }
        let n = crate::blocking::read_retrying(stream, &mut chunk).map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("connection closed mid-head".into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn route(req: &Request, peer: IpAddr, ctx: &Ctx) -> Response {
    if let Some(users) = &ctx.htpasswd {
        if !req
            .authorization
            .as_deref()
            .is_some_and(|a| users.verify(a))
        {
            let mut r = Response::text(401, "authentication required");
            r.headers
                .push(("WWW-Authenticate", auth::basic_challenge("ringlb")));
            return r;
        }
    }
    let allowed = auth::allowed(&ctx.allow, peer);
    match (req.method.as_str(), req.path.as_str()) {
        ("GET" | "HEAD", "/") => redirect(PAGE.to_string()),
        ("GET" | "HEAD", PAGE) => match form::parse_form(req.query.as_bytes()) {
            Err(FormError::NoAction) => page(ctx, message_param(&req.query).as_deref()),
            parsed => form_change(parsed, peer, allowed, ctx),
        },
        ("POST", PAGE) => form_change(form::parse_form(&req.body), peer, allowed, ctx),
        ("GET" | "HEAD", "/api/status") => {
            let snap = snapshot::take(&ctx.controller, ctx.controller.epoch());
            let mut value: serde_json::Value =
                serde_json::from_str(&json::render_status(&snap)).unwrap_or_default();
            if allowed {
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
                    .and_then(|r| change(r, allowed, ctx)),
            )
        }
        ("POST", "/api/reload") => {
            let nonce = form::decode_pairs(req.query.as_bytes())
                .ok()
                .and_then(|pairs| {
                    pairs
                        .into_iter()
                        .find(|(k, _)| k == "nonce")
                        .map(|(_, v)| v)
                });
            let checked = check_access(nonce.as_deref(), allowed, ctx);
            api_result(checked.and_then(|()| {
                let number = ctx.controller.reload_file()?;
                Ok(format!("reloaded: configuration generation {number}"))
            }))
        }
        ("GET" | "HEAD", "/metrics") => {
            let snap = snapshot::take(&ctx.controller, ctx.controller.epoch());
            Response::new(200, metrics::CONTENT_TYPE, metrics::render_metrics(&snap))
        }
        (_, PAGE | "/api/status" | "/api/config" | "/api/members" | "/api/reload" | "/metrics") => {
            Response::text(405, "method not allowed")
        }
        _ => Response::text(404, "not found"),
    }
}

fn page(ctx: &Ctx, message: Option<&str>) -> Response {
    let snap = snapshot::take(&ctx.controller, ctx.controller.epoch());
    Response::new(
        200,
        "text/html; charset=utf-8",
        html::render_manager(&snap, &ctx.nonce, PAGE, message),
    )
}

fn redirect(location: String) -> Response {
    let mut r = Response::text(303, "see other");
    r.headers.push(("Location", location));
    r
}

fn message_param(query: &str) -> Option<String> {
    let pairs = form::decode_pairs(query.as_bytes()).ok()?;
    pairs.into_iter().find(|(k, _)| k == "msg").map(|(_, v)| v)
}

fn form_change(
    parsed: Result<AdminRequest, FormError>,
    peer: IpAddr,
    allowed: bool,
    ctx: &Ctx,
) -> Response {
    let outcome = parsed
        .map_err(|e| e.to_string())
        .and_then(|r| change(r, allowed, ctx));
    match outcome {
        Ok(message) => {
            log::info(format_args!("admin change from {peer}: {message}"));
            redirect(format!("{PAGE}?msg={}", percent_encode(&message)))
        }
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

fn check_access(nonce: Option<&str>, allowed: bool, ctx: &Ctx) -> Result<(), String> {
    if !allowed {
        return Err("forbidden: changes are not allowed from this address".into());
    }
    match nonce {
        Some(n) if auth::nonce_matches(&ctx.nonce, n) => Ok(()),
        Some(_) => Err("forbidden: stale nonce (reload the page)".into()),
        None => Err("forbidden: missing nonce".into()),
    }
}

/// Applies one operator change; `Err` starting with "forbidden" means refused for access.
fn change(req: AdminRequest, allowed: bool, ctx: &Ctx) -> Result<String, String> {
    check_access(req.nonce.as_deref(), allowed, ctx)?;
    let c = &ctx.controller;
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
            c.change_member(&balancer, &member, change)
        }
        AdminAction::Add {
            balancer,
            url,
            route,
            loadfactor,
        } => c.add_member(&balancer, &url, &route, (loadfactor * 100.0).round() as u32),
        AdminAction::Remove { balancer, member } => c.remove_member(&balancer, &member),
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
