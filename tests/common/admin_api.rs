//! The admin listener in tests: start a proxy with one, and a blocking client (one request
//! per connection, the answer whole).

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use ringlb::admin::server::{self as admin_server, AdminServer};
use ringlb::config::{AdminConfig, Config};
use ringlb::server::ServerHandle;

use super::start_proxy;

/// One request to the admin listener at `addr` (`Host` naming it), `Connection: close`, with
/// a `Referer` naming the manager as a browser sends one, unless `extra` has a `Referer`
/// or an `Origin` of its own; returns the status, the head lowercased and the body.
pub(crate) fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    extra: &str,
    body: &str,
) -> (u16, String, String) {
    let own = extra.contains("Referer:") || extra.contains("Origin:");
    let referer = if own {
        String::new()
    } else {
        format!("Referer: http://{addr}/balancer-manager\r\n")
    };
    call_as(
        addr,
        &format!("Host: {addr}\r\n{referer}"),
        method,
        target,
        extra,
        body,
    )
}

/// [`call`] with `host` (whole header lines, or nothing) instead of the listener's address.
pub(crate) fn call_as(
    addr: SocketAddr,
    host: &str,
    method: &str,
    target: &str,
    extra: &str,
    body: &str,
) -> (u16, String, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    super::set_timeouts(&s);
    write!(
        s,
        "{method} {target} HTTP/1.1\r\n{host}{extra}Content-Length: {}\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    let status = head[9..12].parse().unwrap();
    (status, head.to_ascii_lowercase(), body.to_string())
}

/// The nonce `/api/status` shows an allowed client.
pub(crate) fn nonce(admin: SocketAddr) -> String {
    let (_, _, body) = call(admin, "GET", "/api/status", "", "");
    let v: serde_json::Value = serde_json::from_str(&body).unwrap();
    v["nonce"]
        .as_str()
        .expect("allowed clients see the nonce")
        .to_string()
}

/// `cfg` with an admin listener on `127.0.0.1:0`, started; the proxy and its admin server.
pub(crate) fn start_with_admin(mut cfg: Config) -> (ServerHandle, AdminServer) {
    let admin_cfg = AdminConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        ..AdminConfig::default()
    };
    cfg.ops.admin = Some(admin_cfg.clone());
    let proxy = start_proxy(cfg);
    let admin = admin_server::start(&admin_cfg, proxy.controller().clone()).unwrap();
    (proxy, admin)
}
