//! What ringlb tells members and clients about a balancing decision: the BALANCER_* values as
//! `X-Balancer-*` request headers, mod_jk's activation signal (`ACT`, `DIS`, `STP`), and the
//! route cookie of insert-cookie mode.

use smallvec::SmallVec;

use super::Gen;
use crate::balancer::{Pick, Status};
use crate::config::InsertCookie;
use crate::http::head::RequestHead;
use crate::sticky::{self, Routes};

/// Extra header fields: (name, value) pairs borrowed from the config and the request.
pub(super) type Fields<'a> = SmallVec<[(&'a [u8], &'a [u8]); 8]>;

/// Adds the request headers configured for balancer `b` after picking `pick`.
pub(super) fn request_fields<'a>(
    core: &'a Gen,
    buf: &'a [u8],
    head: &'a RequestHead,
    b: usize,
    pick: Pick,
    out: &mut Fields<'a>,
) {
    let bcfg = &core.config.balancers[b];
    let member = &bcfg.members[pick.member];
    if bcfg.options.balancer_headers {
        out.push((b"X-Balancer-Name", bcfg.name.as_bytes()));
        out.push((b"X-Balancer-Worker-Name", member.url.as_bytes()));
        out.push((b"X-Balancer-Worker-Route", member.route.as_bytes()));
        if let Some(cfg) = &bcfg.sticky {
            let target = head.target.get(buf);
            let mut routes = Routes::new();
            let source = sticky::collect_routes(cfg, target, cookies(head, buf), &mut routes);
            if let Some(route) = routes.first() {
                let name = if source == sticky::Source::Url {
                    &cfg.url_name
                } else {
                    &cfg.cookie_name
                };
                out.push((b"X-Balancer-Session-Sticky", name.as_bytes()));
                out.push((b"X-Balancer-Session-Route", route));
            }
        }
        if pick.route_changed {
            out.push((b"X-Balancer-Route-Changed", b"1"));
        }
    }
    if let Some(name) = &bcfg.options.activation_header {
        let status = core.balancers[b]
            .balancer
            .borrow()
            .member(pick.member)
            .map(|m| m.status());
        out.push((name.as_bytes(), activation(status.unwrap_or_default())));
    }
}

/// mod_jk's `JK_LB_ACTIVATION` for a member's status: stopped `STP`, disabled or draining
/// `DIS` (mod_jk's disabled is drain), otherwise `ACT`.
pub(super) fn activation(status: Status) -> &'static [u8] {
    if status.contains(Status::STOPPED) {
        b"STP"
    } else if status.intersects(Status::DISABLED | Status::DRAIN) {
        b"DIS"
    } else {
        b"ACT"
    }
}

/// The request's Cookie header values.
pub(super) fn cookies<'a>(
    head: &'a RequestHead,
    buf: &'a [u8],
) -> impl Iterator<Item = &'a [u8]> + 'a {
    head.headers
        .iter()
        .filter(move |h| h.name.get(buf).eq_ignore_ascii_case(b"cookie"))
        .map(move |h| h.value.get(buf))
}

/// Writes the insert-cookie `Set-Cookie` value for `route` into `out`: the route behind the
/// separator (so the usual route parsing reads it back), then the configured attributes.
pub(super) fn insert_cookie_value(
    cookie: &InsertCookie,
    sep: Option<u8>,
    route: &[u8],
    out: &mut SmallVec<[u8; 160]>,
) {
    out.extend_from_slice(cookie.name.as_bytes());
    out.push(b'=');
    if let Some(sep) = sep {
        out.push(sep);
    }
    out.extend_from_slice(route);
    out.extend_from_slice(b"; Path=");
    out.extend_from_slice(cookie.path.as_bytes());
    if let Some(domain) = &cookie.domain {
        out.extend_from_slice(b"; Domain=");
        out.extend_from_slice(domain.as_bytes());
    }
    if let Some(max_age) = cookie.max_age {
        out.extend_from_slice(b"; Max-Age=");
        out.extend_from_slice(max_age.to_string().as_bytes());
    }
    if cookie.http_only {
        out.extend_from_slice(b"; HttpOnly");
    }
    if cookie.secure {
        out.extend_from_slice(b"; Secure");
    }
    if let Some(same_site) = &cookie.same_site {
        out.extend_from_slice(b"; SameSite=");
        out.extend_from_slice(same_site.as_bytes());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn activation_follows_mod_jk() {
        assert_eq!(activation(Status::NONE), b"ACT");
        assert_eq!(activation(Status::DRAIN), b"DIS");
        assert_eq!(activation(Status::DISABLED), b"DIS");
        assert_eq!(activation(Status::STOPPED | Status::DRAIN), b"STP");
        assert_eq!(activation(Status::HOT_STANDBY), b"ACT");
    }

    #[test]
    fn insert_cookie_carries_route_and_attributes() {
        let cookie = InsertCookie {
            name: "ROUTEID".into(),
            path: "/app".into(),
            domain: Some("example.com".into()),
            max_age: Some(3600),
            http_only: true,
            secure: true,
            same_site: Some("Lax".into()),
        };
        let mut out = SmallVec::new();
        insert_cookie_value(&cookie, Some(b'.'), b"node2", &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "ROUTEID=.node2; Path=/app; Domain=example.com; Max-Age=3600; HttpOnly; Secure; \
             SameSite=Lax"
        );
        let plain = InsertCookie {
            domain: None,
            max_age: None,
            same_site: None,
            ..cookie
        };
        let mut out = SmallVec::new();
        insert_cookie_value(&plain, None, b"n1", &mut out);
        assert_eq!(
            std::str::from_utf8(&out).unwrap(),
            "ROUTEID=n1; Path=/app; HttpOnly; Secure"
        );
    }
}
