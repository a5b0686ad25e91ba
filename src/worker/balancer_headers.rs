//! What ringlb tells members about a balancing decision: the BALANCER_* values as
//! `X-Balancer-*` request headers, and mod_jk's activation signal (`ACT`, `DIS`, `STP`).

use smallvec::SmallVec;

use super::request::Request;
use super::Gen;
use crate::balancer::{Pick, Status};
use crate::sticky::Source;

/// Extra header fields: (name, value) pairs borrowed from the config and the request.
pub(super) type Fields<'a> = SmallVec<[(&'a [u8], &'a [u8]); 8]>;

/// Adds the request headers configured for the balancer of `req` after picking `pick`. `buf`
/// is the buffer the request's head was parsed from; the session route comes from the
/// request context, not from parsing the head again.
pub(super) fn request_fields<'a>(
    gen: &'a Gen,
    buf: &'a [u8],
    req: &Request,
    pick: Pick,
    out: &mut Fields<'a>,
) {
    let b = req.balancer;
    let bcfg = &gen.config.balancers[b];
    let member = &bcfg.members[pick.member];
    if bcfg.options.balancer_headers {
        out.push((b"X-Balancer-Name", bcfg.name.as_bytes()));
        out.push((b"X-Balancer-Worker-Name", member.url.as_bytes()));
        out.push((b"X-Balancer-Worker-Route", member.route.as_bytes()));
        if let (Some(cfg), Some((source, route))) = (&bcfg.sticky, req.routes.session(buf)) {
            let name = match source {
                Source::Url => &cfg.url_name,
                Source::Cookies => &cfg.cookie_name,
            };
            out.push((b"X-Balancer-Session-Sticky", name.as_bytes()));
            out.push((b"X-Balancer-Session-Route", route));
        }
        if pick.route_changed {
            out.push((b"X-Balancer-Route-Changed", b"1"));
        }
    }
    if let Some(name) = &bcfg.options.activation_header {
        let status = gen.balancers[b]
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
}
