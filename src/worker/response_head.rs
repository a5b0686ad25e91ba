//! What every member protocol shares once a member's final response head is known: the
//! counters it feeds, `failonstatus`, and the head the client gets (the framing towards it,
//! the inserted route cookie, HSTS, reverse rewriting of the member's addresses and paths).

use smallvec::SmallVec;

use super::client::Client;
use super::request::Request;
use super::Gen;
use crate::balancer::Pick;
use crate::http::head::ResponseHead;
use crate::http::reverse::{self, Reverse};
use crate::http::rewrite::{self, BodyOut, ResponseRewrite};
use crate::sticky;

/// Counts a final response of member `member` and applies `failonstatus` (Apache's: the
/// member goes in error, the response still goes out).
pub(super) fn count_response(gen: &Gen, req: &Request, member: usize, status: u16) {
    gen.stats.add_response(req.balancer, member, status);
    let bcfg = &gen.config.balancers[req.balancer];
    if bcfg.options.failover.failonstatus.contains(&status) {
        gen.put_in_error(req.balancer, member, status);
    }
}

/// How the client's response head is framed.
#[derive(Clone, Copy, Debug)]
pub(super) struct ClientHead {
    /// The member that answered.
    pub(super) member: usize,
    pub(super) body: BodyOut,
    /// The client connection stays open after this response.
    pub(super) keep_alive: bool,
}

/// Appends the head the client gets for the member's head `resp` (parsed from `buf`) to `out`.
#[allow(clippy::too_many_arguments)]
pub(super) fn write_client_head(
    gen: &Gen,
    client: &Client,
    req: &Request,
    pick: Pick,
    buf: &[u8],
    resp: &ResponseHead,
    how: ClientHead,
    out: &mut Vec<u8>,
) {
    let bcfg = &gen.config.balancers[req.balancer];
    let member = &bcfg.members[how.member];
    let mut cookie = SmallVec::<[u8; 160]>::new();
    if let Some(insert) = &bcfg.options.insert_cookie {
        if (!pick.sticky || pick.route_changed) && !member.route.is_empty() {
            let sep = bcfg.sticky.as_ref().map_or(Some(b'.'), |s| s.sep);
            sticky::insert_cookie_value(insert, sep, member.route.as_bytes(), &mut cookie);
        }
    }
    let mut extra: SmallVec<[(&[u8], &[u8]); 2]> = SmallVec::new();
    if !cookie.is_empty() {
        extra.push((b"Set-Cookie", &cookie));
    }
    extra.extend(super::client::hsts(gen, client));
    let client_scheme: &[u8] = if client.stream.is_tls() {
        b"https"
    } else {
        b"http"
    };
    let client_host = req.facts.host.map_or(&[][..], |h| h.get(&client.buf));
    let (mount, target_path) = gen
        .mount(req.mount)
        .map_or((&b"/"[..], &b"/"[..]), |m| m.reverse_paths());
    // An AJP13 member knows itself by the name and port the client asked for (the forward
    // request carries them), so a URL with those names it too.
    let ajp = member.options.ajp.is_some();
    let is_member = |scheme: &[u8], authority: &[u8]| {
        (ajp && reverse::names_client_server(scheme, authority, client_scheme, client_host))
            || bcfg.members.iter().any(|m| {
                let member_scheme = m.url.split_once("://").map_or("http", |(s, _)| s);
                reverse::same_authority(
                    scheme,
                    authority,
                    member_scheme.as_bytes(),
                    m.authority.as_bytes(),
                )
            })
    };
    let rv = &bcfg.options.reverse;
    // With `proxypassreverse = false` the explicit cookie maps still apply (httpd applies
    // `ProxyPassReverseCookiePath` without any `ProxyPassReverse`): no URL names a member and
    // the mount maps no path, so only the maps change anything.
    let no_member = |_: &[u8], _: &[u8]| false;
    let reverse = if rv.enabled {
        Reverse {
            mount,
            target_path,
            scheme: client_scheme,
            host: client_host,
            is_member: &is_member,
            cookie_path: &rv.cookie_path,
            cookie_domain: &rv.cookie_domain,
        }
    } else {
        Reverse {
            mount: b"/",
            target_path: b"/",
            scheme: client_scheme,
            host: client_host,
            is_member: &no_member,
            cookie_path: &rv.cookie_path,
            cookie_domain: &rv.cookie_domain,
        }
    };
    let maps = !rv.cookie_path.is_empty() || !rv.cookie_domain.is_empty();
    let rw = ResponseRewrite {
        keep_alive: how.keep_alive,
        client_version: req.version,
        body: how.body,
        extra: &extra,
        reverse: (rv.enabled || maps).then_some(&reverse),
    };
    rewrite::write_response_head(out, buf, resp, &rw);
}
