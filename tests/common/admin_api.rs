//! A blocking client for the admin listener: one request per connection, the answer whole.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

/// One request to the admin listener at `addr` (`Host` naming it), `Connection: close`; returns
/// the status, the head lowercased and the body.
pub(crate) fn call(
    addr: SocketAddr,
    method: &str,
    target: &str,
    extra: &str,
    body: &str,
) -> (u16, String, String) {
    call_as(
        addr,
        &format!("Host: {addr}\r\n"),
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
