//! Who the client is, when a trusted proxy says so in `X-Forwarded-For` (`trusted_proxies`;
//! nginx `realip` with `real_ip_recursive on`, httpd `mod_remoteip`, Tomcat `RemoteIpValve`).
//! Pure: the caller passes the connection's peer (the PROXY protocol source where one was
//! received) and the parsed head.
//!
//! Rules:
//! 1. A peer outside `trusted` is the client, whatever it sends.
//! 2. From a trusted peer, the `X-Forwarded-For` items (all field lines, in order, empty items
//!    ignored) are walked from the right: each item is the hop before the one examined
//!    last; the walk stops at the first address outside `trusted`, which is the client.
//! 3. Every item trusted: the left-most is the client.
//! 4. An item that is not an address ends the walk; the last address examined (the hop
//!    that passed the junk on) is the client. Items are an IPv4 or IPv6 address, optionally
//!    as `a.b.c.d:port` or `[v6]:port` (as some cloud balancers send).
//! 5. An `X-Forwarded-For` named by the client's `Connection` field is hop-by-hop and never
//!    forwarded (`rewrite`), so it is not believed either: the peer is the client.

use std::net::{IpAddr, SocketAddr};

use super::head::{has_token, trim_ows, Header};
use crate::ipnet::{allowed, IpNet};

/// The client address of a request from `peer` with `headers` (spans into `buf`).
pub fn client_ip(peer: IpAddr, trusted: &[IpNet], headers: &[Header], buf: &[u8]) -> IpAddr {
    if !allowed(trusted, peer) || has_token(headers, buf, b"connection", b"x-forwarded-for") {
        return peer;
    }
    let items = headers
        .iter()
        .rev()
        .filter(|h| h.name.get(buf).eq_ignore_ascii_case(b"x-forwarded-for"))
        .flat_map(|h| h.value.get(buf).rsplit(|&b| b == b',').map(trim_ows))
        .filter(|item| !item.is_empty());
    let mut client = peer;
    for item in items {
        let Some(ip) = item_ip(item) else { break };
        client = ip;
        if !allowed(trusted, ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` item as an address (rule 4).
fn item_ip(item: &[u8]) -> Option<IpAddr> {
    let text = std::str::from_utf8(item).ok()?;
    text.parse::<IpAddr>()
        .ok()
        .or_else(|| text.parse::<SocketAddr>().ok().map(|a| a.ip()))
}
