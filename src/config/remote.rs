//! The config a running ringlb uses, fetched from its admin listener, for `check --diff URL`.
//!
//! `GET /api/config` over plain HTTP/1.1 (`std::net::TcpStream`, `Connection: close`, 5 s to
//! connect and 5 s for the whole exchange), the response read with [`crate::blocking`]. The body is
//! the effective config as `Display for Config` prints it, parsed with [`super::parse_str`] as
//! `<running config at URL>`. Only [`fetch_running`] and [`load_old`] do I/O; the URL and
//! response parsers are pure.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use super::{parse_str, Config};
use crate::blocking::{self, Limits, Message, Role};
use crate::clock;

/// The fetch is a `GET`: a response to it has a body unless its status says otherwise.
const GET: Role<'static> = Role::Response { method: b"GET" };

/// Connect and exchange timeout.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(5);
/// Largest response accepted.
const MAX_RESPONSE: usize = 16 << 20;

/// `--diff OLD`: an admin URL (`http://...`, fetched with [`fetch_running`]) or a config file
/// path ([`super::load`]). The error is a whole message.
pub fn load_old(spec: &str) -> Result<Config, String> {
    let lower = spec.to_ascii_lowercase();
    if lower.starts_with("http://") || lower.starts_with("https://") {
        return fetch_running(spec);
    }
    super::load(Path::new(spec))
        .map(|c| (*c).clone())
        .map_err(|e| e.to_string())
}

/// A parsed admin URL: `http://[USER:PASSWORD@]HOST[:PORT][/PREFIX]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminUrl {
    /// As written, brackets of an IPv6 literal removed.
    pub host: String,
    pub port: u16,
    /// `host:port` for the Host header (IPv6 in brackets).
    pub authority: String,
    /// The request path: the URL's path without a trailing `/`, then `/api/config`.
    pub path: String,
    /// `user:password`, sent as HTTP basic auth.
    pub userinfo: Option<String>,
}

/// Parses an admin URL; the port defaults to 80. `https` is refused.
pub fn parse_admin_url(url: &str) -> Result<AdminUrl, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{url:?} is not a URL; expected http://HOST:PORT"));
    };
    if !scheme.eq_ignore_ascii_case("http") {
        return Err(format!(
            "scheme {scheme:?} is not supported; the admin listener speaks plain http://"
        ));
    }
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if path.contains(['?', '#']) || path.bytes().any(|b| !b.is_ascii_graphic()) {
        return Err(format!("{url:?}: the path must be plain, without ? or #"));
    }
    let (userinfo, hostport) = match authority.rsplit_once('@') {
        Some((user, hp)) => (Some(user.to_owned()), hp),
        None => (None, authority),
    };
    let (host, port) = if let Some(v6) = hostport.strip_prefix('[') {
        let (host, after) = v6
            .split_once(']')
            .ok_or_else(|| format!("{url:?}: IPv6 address without closing ']'"))?;
        (host, after.strip_prefix(':'))
    } else {
        match hostport.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (hostport, None),
        }
    };
    if host.is_empty() || (host.contains([':', ' ']) && !hostport.starts_with('[')) {
        return Err(format!("{url:?}: expected http://HOST:PORT"));
    }
    let port = match port {
        None => 80,
        Some(p) => p
            .parse::<u16>()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("{url:?}: port {p:?} is not a number 1..=65535"))?,
    };
    let authority = if hostport.starts_with('[') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    };
    Ok(AdminUrl {
        host: host.to_owned(),
        port,
        authority,
        path: format!("{}/api/config", path.trim_end_matches('/')),
        userinfo,
    })
}

/// The request [`fetch_running`] sends.
pub fn request(url: &AdminUrl) -> String {
    let mut req = format!(
        "GET {} HTTP/1.1\r\nHost: {}\r\nAccept: text/plain, */*\r\nUser-Agent: ringlb-check/{}\r\n\
         Connection: close\r\n",
        url.path,
        url.authority,
        env!("CARGO_PKG_VERSION")
    );
    if let Some(user) = &url.userinfo {
        req.push_str(&format!(
            "Authorization: Basic {}\r\n",
            base64(user.as_bytes())
        ));
    }
    req.push_str("\r\n");
    req
}

/// What the fetch accepts: the config text of a large fleet fits in a few MiB.
const LIMITS: Limits = Limits {
    head: 64 * 1024,
    headers: 64,
    body: MAX_RESPONSE,
};

/// The body of a complete `200` response (`Content-Length`, chunked, or up to the end), from
/// all the bytes the listener sent; any other status is an error showing it and the start of
/// the body.
pub fn response_body(bytes: &[u8]) -> Result<String, String> {
    let message = blocking::parse_complete(bytes, GET, LIMITS).map_err(describe)?;
    text_of(message)
}

/// The message a read error stands for, as the operator reads it.
fn describe(e: blocking::Error) -> String {
    match e {
        blocking::Error::Closed | blocking::Error::TruncatedHead => {
            "the connection closed before a whole response head".to_owned()
        }
        blocking::Error::Head(e) => format!("not an HTTP response: {}", e.reason()),
        blocking::Error::BodyTooLarge => format!("response larger than {MAX_RESPONSE} bytes"),
        blocking::Error::TimedOut => format!("no answer within {}s", FETCH_TIMEOUT.as_secs()),
        other => other.to_string(),
    }
}

/// The body of a `200` as text, or the error naming the status.
fn text_of(message: Message) -> Result<String, String> {
    let (code, reason) = (message.status(), message.reason());
    let text = String::from_utf8(message.body).map_err(|_| "the body is not UTF-8".to_owned())?;
    if code != 200 {
        let first = text.lines().next().unwrap_or("").trim();
        let first: String = first.chars().take(200).collect();
        let mut msg = format!("HTTP {code} {reason}").trim_end().to_owned();
        if !first.is_empty() {
            msg.push_str(&format!(": {first}"));
        }
        return Err(msg);
    }
    Ok(text)
}

/// Fetches and validates the running config from the admin listener at `url`.
pub fn fetch_running(url: &str) -> Result<Config, String> {
    let parsed = parse_admin_url(url)?;
    let message = exchange(&parsed).map_err(|e| format!("{url}: {e}"))?;
    let text = message
        .map_err(describe)
        .and_then(text_of)
        .map_err(|e| format!("{url}/api/config: {e}"))?;
    parse_str(&text, &format!("<running config at {url}>")).map_err(|e| e.to_string())
}

/// Fetches the operator's overrides (`GET /api/overrides`, JSON) from the admin listener at
/// `url`.
pub fn fetch_overrides(url: &str) -> Result<String, String> {
    let mut parsed = parse_admin_url(url)?;
    let prefix = parsed.path.strip_suffix("/api/config").unwrap_or("");
    parsed.path = format!("{prefix}/api/overrides");
    let message = exchange(&parsed).map_err(|e| format!("{url}: {e}"))?;
    message
        .map_err(describe)
        .and_then(text_of)
        .map_err(|e| format!("{url}/api/overrides: {e}"))
}

/// Connects (each resolved address in turn), sends the request, reads the response. The
/// outer error is about the connection, the inner one about the response.
fn exchange(url: &AdminUrl) -> Result<Result<Message, blocking::Error>, String> {
    let addrs = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", url.host))?;
    let mut last = format!("{} resolves to no address", url.host);
    let mut stream = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, FETCH_TIMEOUT) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last = format!("cannot connect to {addr}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last)?;
    let deadline = clock::now() + FETCH_TIMEOUT;
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {}s", FETCH_TIMEOUT.as_secs())
        }
        _ => e.to_string(),
    };
    stream.set_write_timeout(Some(FETCH_TIMEOUT)).map_err(io)?;
    stream.write_all(request(url).as_bytes()).map_err(io)?;
    let mut buf = Vec::new();
    Ok(blocking::read_message(
        &mut stream,
        &mut buf,
        GET,
        LIMITS,
        Some(deadline),
    ))
}

/// Standard base64 with padding (RFC 4648), for the basic auth header.
pub(crate) fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(data.len().div_ceil(3) * 4);
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}
