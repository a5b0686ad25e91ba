//! The request context: what is decided about a request once, from its head, before the first
//! attempt (its framing facts, the balancer, the target its member gets, the session routes),
//! and the latest attempt's pick. The failover loop, the `X-Balancer-*` headers and the access
//! log all read this one context; none of them parses the head again.
//!
//! Spans, not copies: the routes index the client buffer, where the head stays until the
//! exchange has been logged.

use super::Gen;
use crate::balancer::Pick;
use crate::error::is_idempotent;
use crate::http::framing::{self, BodyKind, RequestFacts};
use crate::http::head::RequestHead;
use crate::http::mount::{request_host, Located, Origin};
use crate::http::Version;
use crate::sticky::SessionRoutes;

/// One request's context. Built by [`Request::classify`]; only `pick` changes afterwards.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub(super) facts: RequestFacts,
    pub(super) version: Version,
    pub(super) is_head: bool,
    /// Idempotent and without a body: may be sent again after a stale connection.
    pub(super) replayable: bool,
    /// The path and query its member gets, before the mount's mapping.
    pub(super) origin: Origin,
    pub(super) balancer: usize,
    /// The mount that chose the balancer (`Gen::mount`).
    pub(super) mount: usize,
    /// The session routes (the balancer's sticky config, then ringlb's insert cookie), as
    /// spans into the buffer the head was parsed from.
    pub(super) routes: SessionRoutes,
    /// The latest attempt's pick; `None` until a member was picked.
    pub(super) pick: Option<Pick>,
    /// A failure of the latest attempt may still move the request to another member (attempts
    /// and members are left): a member silent to `Expect: 100-continue` within `ping` is then
    /// left for another one instead of getting the body.
    pub(super) may_move: bool,
}

impl Request {
    /// Validates what the head alone decides, finds the mount (by the request's host, the
    /// listener's `port` and the target) and reads the session routes. `buf` is the buffer
    /// `head` was parsed from. Errors are (status, cause).
    pub(super) fn classify(
        gen: &Gen,
        buf: &[u8],
        head: &RequestHead,
        port: u16,
    ) -> Result<Request, (u16, &'static str)> {
        let facts = framing::analyze_request(buf, head).map_err(|e| (e.status(), e.reason()))?;
        let method = head.method.get(buf);
        if method == b"CONNECT" {
            return Err((405, "CONNECT is not supported by a reverse proxy"));
        }
        let max_body = gen.config.limits.max_body_bytes;
        if let BodyKind::Length(n) = facts.body {
            if max_body != 0 && n > max_body {
                return Err((413, "request body larger than the configured limit"));
            }
        }
        let target = head.target.get(buf);
        let host = request_host(target, facts.host.map(|h| h.get(buf)));
        let Located {
            balancer,
            mount,
            origin,
        } = gen.locate(host, port, target)?;
        let sticky = gen.config.balancers[balancer].sticky.as_ref();
        let insert = gen.balancers[balancer].insert_sticky.as_ref();
        Ok(Request {
            facts,
            version: head.version,
            is_head: method == b"HEAD",
            replayable: facts.body == BodyKind::None && is_idempotent(method),
            origin,
            balancer,
            mount,
            routes: SessionRoutes::collect(sticky, insert, buf, head),
            pick: None,
            may_move: false,
        })
    }
}
