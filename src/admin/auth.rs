//! Access checks for the admin listener, all pure: the form nonce ([`nonce_matches`]), the
//! client-address allow-list ([`parse_allow`], [`allowed`]), HTTP Basic auth against an
//! htpasswd file ([`Htpasswd`], parsed and verified in [`super::htpasswd`]), and the names a request may give the listener
//! ([`host_allowed`], [`origin_allowed`], [`referer_allowed`]). Generating nonces, reading the
//! htpasswd file and knowing the peer and local addresses are the I/O glue's job.

use std::net::{IpAddr, SocketAddr};

pub use super::htpasswd::Htpasswd;
/// The allow-list's address blocks live in [`crate::ipnet`], shared with `trusted_proxies`.
pub use crate::ipnet::{allowed, parse_allow, IpNet};

/// Compares a nonce in time independent of where the first difference is (the length may
/// leak; nonces have a fixed length). Empty nonces never match.
pub fn nonce_matches(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    if a.len() != b.len() || a.is_empty() {
        return false;
    }
    let diff = a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y));
    std::hint::black_box(diff) == 0
}

/// The `WWW-Authenticate` value to send with a 401.
pub fn basic_challenge(realm: &str) -> String {
    let realm: String = realm.chars().filter(|&c| c != '"' && c != '\\').collect();
    format!("Basic realm=\"{realm}\", charset=\"UTF-8\"")
}

/// Splits `Basic <base64>` into user and password bytes (at the first `:`).
pub fn parse_basic(header: &[u8]) -> Option<(Vec<u8>, Vec<u8>)> {
    let header = header.trim_ascii();
    let scheme = header.get(..6)?;
    if !scheme[..5].eq_ignore_ascii_case(b"basic") || scheme[5] != b' ' {
        return None;
    }
    let decoded = base64_decode(header[6..].trim_ascii())?;
    let colon = decoded.iter().position(|&c| c == b':')?;
    Some((decoded[..colon].to_vec(), decoded[colon + 1..].to_vec()))
}

/// Decodes standard base64 (RFC 4648 §4); `=` padding optional, no whitespace inside.
pub fn base64_decode(text: &[u8]) -> Option<Vec<u8>> {
    fn value(c: u8) -> Option<u32> {
        Some(u32::from(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        }))
    }
    let unpadded = match text {
        [rest @ .., b'=', b'='] | [rest @ .., b'='] if text.len() % 4 == 0 => rest,
        _ => text,
    };
    if unpadded.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(unpadded.len() / 4 * 3 + 2);
    for chunk in unpadded.chunks(4) {
        let mut acc = 0u32;
        for &c in chunk {
            acc = acc << 6 | value(c)?;
        }
        acc <<= 6 * (4 - chunk.len() as u32);
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Some(out)
}

/// Whether a `Host` header value names the admin listener reached at `local` (the accepted
/// connection's own address), so a page fetched through a foreign name (DNS rebinding) is
/// refused. Accepted, ASCII case-insensitively:
///
/// 1. `local` literally: `127.0.0.1:8081`, `[::1]:8081` (an IPv4-mapped IPv6 address counts as
///    its IPv4 address);
/// 2. `localhost:PORT` when `local` is a loopback address;
/// 3. either of those without the port when the port is 80;
/// 4. an entry of `names` (`[admin] server_names`), compared exactly as written.
pub fn host_allowed(host: &str, local: SocketAddr, names: &[String]) -> bool {
    if names.iter().any(|n| n.eq_ignore_ascii_case(host)) {
        return true;
    }
    let ip = match local.ip() {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(local.ip(), IpAddr::V4),
        v4 => v4,
    };
    let port = local.port();
    let (name, given_port) = match host.rsplit_once(':') {
        Some((name, p)) if !name.ends_with(':') && !p.contains(']') => match p.parse::<u16>() {
            Ok(n) if p.bytes().all(|b| b.is_ascii_digit()) => (name, n),
            _ => return false,
        },
        _ => (host, 80),
    };
    if given_port != port {
        return false;
    }
    if name.eq_ignore_ascii_case("localhost") {
        return ip.is_loopback();
    }
    let literal = name
        .strip_prefix('[')
        .and_then(|n| n.strip_suffix(']'))
        .map_or_else(
            || name.parse::<std::net::Ipv4Addr>().map(IpAddr::V4).ok(),
            |n| n.parse::<std::net::Ipv6Addr>().map(IpAddr::V6).ok(),
        );
    literal == Some(ip)
}

/// Whether an `Origin` header value is the admin listener's own origin: `http://` and an
/// authority [`host_allowed`] accepts. `null` (an opaque origin) and any other scheme are
/// refused: the listener speaks plain HTTP, so only its own pages send a matching origin.
pub fn origin_allowed(origin: &str, local: SocketAddr, names: &[String]) -> bool {
    scheme_http(origin).is_some_and(|authority| host_allowed(authority, local, names))
}

/// Whether a `Referer` header value points into the admin listener: `http://`, an authority
/// [`host_allowed`] accepts, then nothing or a path, query or fragment (as httpd's
/// balancer-manager compares the Referer's host with its own).
pub fn referer_allowed(referer: &str, local: SocketAddr, names: &[String]) -> bool {
    scheme_http(referer).is_some_and(|rest| {
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        host_allowed(&rest[..end], local, names)
    })
}

/// What follows `http://` (scheme compared case-insensitively).
fn scheme_http(url: &str) -> Option<&str> {
    let (scheme, rest) = url.split_once("://")?;
    scheme.eq_ignore_ascii_case("http").then_some(rest)
}
