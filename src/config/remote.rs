//! The config a running ringlb uses, fetched from its admin listener, for `check --diff URL`.
//!
//! `GET /api/config` over plain HTTP/1.1 (`std::net::TcpStream`, `Connection: close`, 5 s to
//! connect and 5 s for the whole exchange), response head parsed with `httparse`. The body is
//! the effective config as `Display for Config` prints it, parsed with [`super::parse_str`] as
//! `<running config at URL>`. Only [`fetch_running`] and [`load_old`] do I/O; the URL and
//! response parsers are pure.

use std::io::Write;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::Path;
use std::time::Duration;

use super::{parse_str, Config};

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

/// The body of a complete `200` response (`Content-Length`, chunked, or up to the end); any
/// other status is an error showing it and the start of the body.
pub fn response_body(bytes: &[u8]) -> Result<String, String> {
    let mut headers = [httparse::EMPTY_HEADER; 64];
    let mut resp = httparse::Response::new(&mut headers);
    let head_len = match resp.parse(bytes) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => {
            return Err("the connection closed before a whole response head".to_owned())
        }
        Err(e) => return Err(format!("not an HTTP response: {e}")),
    };
    let header = |name: &str| {
        resp.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| String::from_utf8_lossy(h.value).trim().to_owned())
    };
    let rest = &bytes[head_len..];
    let chunked =
        header("transfer-encoding").is_some_and(|te| te.to_ascii_lowercase().ends_with("chunked"));
    let body = if chunked {
        dechunk(rest)?
    } else if let Some(len) = header("content-length") {
        let len: usize = len
            .parse()
            .map_err(|_| format!("bad Content-Length {len:?}"))?;
        rest.get(..len)
            .ok_or_else(|| format!("the body ends after {} of {len} bytes", rest.len()))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    let text = String::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let code = resp.code.unwrap_or(0);
    if code != 200 {
        let reason = resp.reason.unwrap_or("");
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

/// Decodes a chunked body (extensions and trailers ignored).
fn dechunk(mut data: &[u8]) -> Result<Vec<u8>, String> {
    let mut out = Vec::new();
    loop {
        let line_end = memchr::memmem::find(data, b"\r\n")
            .ok_or_else(|| "truncated chunked body".to_owned())?;
        let size_text = String::from_utf8_lossy(&data[..line_end]);
        let size_text = size_text.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16)
            .map_err(|_| format!("bad chunk size {size_text:?}"))?;
        data = &data[line_end + 2..];
        if size == 0 {
            return Ok(out);
        }
        let chunk = data
            .get(..size)
            .ok_or_else(|| "truncated chunked body".to_owned())?;
        out.extend_from_slice(chunk);
        data = data
            .get(size..)
            .and_then(|d| d.strip_prefix(b"\r\n"))
            .ok_or_else(|| "truncated chunked body".to_owned())?;
    }
}

/// Fetches and validates the running config from the admin listener at `url`.
pub fn fetch_running(url: &str) -> Result<Config, String> {
    let parsed = parse_admin_url(url)?;
    let bytes = exchange(&parsed).map_err(|e| format!("{url}: {e}"))?;
    let text = response_body(&bytes).map_err(|e| format!("{url}/api/config: {e}"))?;
    parse_str(&text, &format!("<running config at {url}>")).map_err(|e| e.to_string())
}

/// Fetches the operator's overrides (`GET /api/overrides`, JSON) from the admin listener at
/// `url`.
pub fn fetch_overrides(url: &str) -> Result<String, String> {
    let mut parsed = parse_admin_url(url)?;
    let prefix = parsed.path.strip_suffix("/api/config").unwrap_or("");
    parsed.path = format!("{prefix}/api/overrides");
    let bytes = exchange(&parsed).map_err(|e| format!("{url}: {e}"))?;
    response_body(&bytes).map_err(|e| format!("{url}/api/overrides: {e}"))
}

/// Connects (each resolved address in turn), sends the request, reads to the end.
fn exchange(url: &AdminUrl) -> Result<Vec<u8>, String> {
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
    let io = |e: std::io::Error| match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => {
            format!("no answer within {}s", FETCH_TIMEOUT.as_secs())
        }
        _ => e.to_string(),
    };
    stream.set_write_timeout(Some(FETCH_TIMEOUT)).map_err(io)?;
    stream.write_all(request(url).as_bytes()).map_err(io)?;
    #[allow(clippy::disallowed_methods)] // a CLI client deadline, not the data path
    let deadline = std::time::Instant::now() + FETCH_TIMEOUT;
    let mut out = Vec::new();
    let mut buf = [0u8; 16 * 1024];
    loop {
        #[allow(clippy::disallowed_methods)]
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return Err(io(std::io::ErrorKind::TimedOut.into()));
        }
        stream.set_read_timeout(Some(left)).map_err(io)?;
        let n = crate::blocking::read_retrying(&mut stream, &mut buf).map_err(io)?;
        if n == 0 {
            return Ok(out);
        }
        if out.len() + n > MAX_RESPONSE {
            return Err(format!("response larger than {MAX_RESPONSE} bytes"));
        }
        out.extend_from_slice(&buf[..n]);
    }
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
