//! One request/response exchange: validate the request, pick a member, get a connection,
//! send the request (head, then the body streamed), relay interim responses, the response head
//! and the body, then decide what happens to both connections.
//!
//! The retry rule lives here and nowhere else: a request goes to another member when nothing
//! was sent (connect failure); it is re-sent on a fresh connection when a pooled connection
//! turns out closed before any response byte, if it is idempotent and has no body to replay.

use std::rc::Rc;
use std::time::Instant;

use monoio::net::TcpStream;
use smallvec::SmallVec;

use super::accounting::Inflight;
use super::conn::{send_error, write_timeout, Client};
use super::deadline::BodyTimeout;
use super::forward::{self, BodyError, Framing, Stopped, Transfer};
use super::relay::{
    await_continue, read_response_head, response_framing, send_body, write_upstream_head, Continue,
};
use super::signals::{self, Fields};
use super::target::{self, Origin};
use super::Gen;
use crate::balancer::{NoPick, Pick};
use crate::clock;
use crate::error::{is_idempotent, ProxyError, Retry, Side};
use crate::http::framing::{self, BodyKind, RequestFacts};
use crate::http::head::RequestHead;
use crate::http::rewrite::{self, BodyOut, ResponseRewrite};
use crate::http::Version;
use crate::sticky::{self, Routes, Source};
use crate::upstream::{self, ConnectError, UpstreamConn};

/// What the connection loop does after an exchange.
#[derive(Debug)]
pub(super) enum Next {
    KeepAlive,
    Close,
    /// A `101` was relayed: tunnel bytes between the client and this member connection, after
    /// sending the given bytes (already read from the member) to the client.
    Tunnel(TcpStream, Vec<u8>),
}

/// How an attempt failed.
#[derive(Debug)]
pub(super) enum Fail {
    /// Nothing was sent to the client yet: answer with this error.
    Respond(ProxyError),
    /// Close the client connection without (further) response.
    Abort,
    /// Nothing of the response reached the client and the request may be sent again: it is
    /// idempotent with no body to replay. `stale`: the failure was on a pooled connection that
    /// the member had closed, which says nothing about the member's health.
    Retry { error: ProxyError, stale: bool },
}

/// Why no response head could be read.
pub(super) enum HeadFail {
    /// The member closed or reset the connection before sending any byte of it.
    Closed,
    TimedOut,
    Invalid(&'static str),
}

/// Largest response head accepted from a member.
pub(super) const MAX_RESPONSE_HEAD: usize = 64 * 1024;

/// Retries of a request over stale pooled connections before giving up.
const MAX_STALE_RETRIES: usize = 4;

/// Facts about the request that outlive its head bytes in the client buffer.
#[derive(Clone, Debug)]
pub(super) struct Request {
    pub(super) facts: RequestFacts,
    pub(super) version: Version,
    pub(super) is_head: bool,
    /// Idempotent and without a body: may be sent again after a stale connection.
    pub(super) replayable: bool,
    /// The path and query its member gets, before the mount is replaced.
    pub(super) origin: Origin,
    pub(super) head_len: usize,
    pub(super) balancer: usize,
}

/// Handles one request whose head is at the start of `client.buf`.
pub(super) async fn handle(core: &Rc<Gen>, client: &mut Client, head: &RequestHead) -> Next {
    let req = match classify(core, client, head) {
        Ok(req) => req,
        Err((status, why)) => {
            let _ = send_error(core, client, status, why, true).await;
            return Next::Close;
        }
    };
    let bcfg = &core.config.balancers[req.balancer];
    let members = bcfg.members.len();
    let max_attempts = bcfg
        .options
        .failover
        .maxattempts
        .map_or(members, |n| n as usize + 1);
    let mut avoid: u64 = 0;
    let mut attempts = 0;
    let mut stale_retries = 0;
    loop {
        let now = clock::now();
        let pick = match pick_member(core, client, head, &req, avoid, now) {
            Ok(pick) => pick,
            Err(no) => {
                let detail = match no {
                    NoPick::Unavailable => NO_MEMBER,
                    NoPick::SessionForced => SESSION_FORCED,
                };
                let e = ProxyError::upstream(503, detail, Retry::No);
                return respond(core, client, &req, e).await;
            }
        };
        core.stats.add_request(req.balancer, pick.member);
        client.done.attempts += 1;
        client.done.member = Some((req.balancer, pick.member));
        client.done.route_changed = pick.route_changed || client.done.attempts > 1;
        let error = match connect(core, &req, pick, now).await {
            Ok(conn) => match exchange(core, client, head, &req, pick, conn).await {
                Ok(next) => return next,
                Err(Fail::Abort) => return Next::Close,
                Err(Fail::Retry { stale: true, .. }) if stale_retries < MAX_STALE_RETRIES => {
                    // Another (or a fresh) connection to the same member.
                    stale_retries += 1;
                    continue;
                }
                Err(Fail::Retry { error, .. }) => {
                    core.member_failed(req.balancer, pick.member, error);
                    error
                }
                Err(Fail::Respond(error)) => {
                    if error.side == Side::Upstream {
                        core.member_failed(req.balancer, pick.member, error);
                    }
                    return respond(core, client, &req, error).await;
                }
            },
            Err(ConnectError::Local) => {
                // This host is short of descriptors, memory or ports: not the member's fault,
                // and another member would fare no better.
                let e = ProxyError::upstream(503, LOCAL_SHORTAGE, Retry::No);
                return respond(core, client, &req, e).await;
            }
            Err(e @ (ConnectError::Refused | ConnectError::TimedOut)) => {
                let error = ProxyError::upstream(503, UNREACHABLE, Retry::NothingSent);
                let fault = super::gen::connect_fault(e);
                core.member_failed_as(req.balancer, pick.member, error, fault);
                error
            }
        };
        // Nothing reached the client: the request goes to another member, if one is left.
        avoid |= 1 << pick.member;
        attempts += 1;
        if attempts >= max_attempts || avoid.count_ones() as usize >= members {
            return respond(core, client, &req, error).await;
        }
    }
}

pub(super) const NO_RESPONSE: &str = "the member did not respond in time";
const SESSION_FORCED: &str = "the session's member is unavailable (nofailover)";
const NO_MEMBER: &str = "no member is available";
const UNREACHABLE: &str = "no member could be reached";
const LOCAL_SHORTAGE: &str = "ringlb is out of local resources (open files, memory or ports)";
pub(super) const CLOSED_EARLY: &str = "the member closed the connection without responding";

/// Validates what the head alone decides and finds the balancer. Errors are (status, cause).
fn classify(
    core: &Gen,
    client: &Client,
    head: &RequestHead,
) -> Result<Request, (u16, &'static str)> {
    let buf = &client.buf;
    let facts = framing::analyze_request(buf, head).map_err(|e| (e.status(), e.reason()))?;
    let method = head.method.get(buf);
    if method == b"CONNECT" {
        return Err((405, "CONNECT is not supported by a reverse proxy"));
    }
    let max_body = core.config.limits.max_body_bytes;
    if let BodyKind::Length(n) = facts.body {
        if max_body != 0 && n > max_body {
            return Err((413, "request body larger than the configured limit"));
        }
    }
    let (balancer, origin) = target::locate(core, head.target.get(buf))?;
    Ok(Request {
        facts,
        version: head.version,
        is_head: method == b"HEAD",
        replayable: facts.body == BodyKind::None && is_idempotent(method),
        origin,
        head_len: head.len,
        balancer,
    })
}

fn pick_member(
    core: &Gen,
    client: &Client,
    head: &RequestHead,
    req: &Request,
    avoid: u64,
    now: Instant,
) -> Result<Pick, NoPick> {
    let buf = &client.buf;
    let rt = &core.balancers[req.balancer];
    let mut routes = Routes::new();
    let target = head.target.get(buf);
    let mut source = Source::Cookies;
    if let Some(cfg) = &core.config.balancers[req.balancer].sticky {
        source = sticky::collect_routes(cfg, target, signals::cookies(head, buf), &mut routes);
    }
    // ringlb's insert cookie is one more cookie: never read behind a URL session id.
    if let (Some(cfg), Source::Cookies) = (&rt.insert_sticky, source) {
        sticky::collect_routes(cfg, target, signals::cookies(head, buf), &mut routes);
    }
    let mut balancer = rt.balancer.borrow_mut();
    balancer.pick(&routes, avoid, core.now_ms(now))
}

/// A pooled connection to the picked member, or a new one.
async fn connect(
    core: &Gen,
    req: &Request,
    pick: Pick,
    now: Instant,
) -> Result<UpstreamConn, ConnectError> {
    let rt = &core.balancers[req.balancer];
    if let Some(stream) = rt.pool.checkout(pick.member, now) {
        return Ok(UpstreamConn {
            stream,
            member: pick.member,
            reused: true,
        });
    }
    let member = &core.config.balancers[req.balancer].members[pick.member];
    let stream = upstream::connect(member.addr, core.config.timeouts.connect).await?;
    Ok(UpstreamConn {
        stream,
        member: pick.member,
        reused: false,
    })
}

/// Answers with a ringlb-made error. The connection stays open only when the request had no
/// body left unread and the client wants keep-alive.
async fn respond(core: &Gen, client: &mut Client, req: &Request, e: ProxyError) -> Next {
    let close = !req.facts.keep_alive || req.facts.body != BodyKind::None;
    if send_error(core, client, e.status, e.detail, close)
        .await
        .is_err()
        || close
    {
        return Next::Close;
    }
    // Only a bodiless request keeps the connection, and its head is still in the buffer.
    client.buf.drain(..req.head_len.min(client.buf.len()));
    Next::KeepAlive
}

/// One attempt on one member connection.
async fn exchange(
    core: &Gen,
    client: &mut Client,
    head: &RequestHead,
    req: &Request,
    pick: Pick,
    conn: UpstreamConn,
) -> Result<Next, Fail> {
    let bcfg = &core.config.balancers[req.balancer];
    let member = &bcfg.members[conn.member];
    let timeouts = core.config.timeouts;
    let (mut up, reused, member_index) = (conn.stream, conn.reused, conn.member);
    let mut inflight = Inflight::new(core, req.balancer, member_index);
    let mut out = core.bufs.get();
    let mut fields = Fields::new();
    signals::request_fields(core, &client.buf, head, req.balancer, pick, &mut fields);
    write_upstream_head(&mut out, core, client, head, req, member_index, &fields);
    drop(fields);
    inflight.bytes_out += out.len() as u64;
    // The protocols a `101` may switch to, kept past the head's bytes (drained with a body).
    let mut offered = SmallVec::<[u8; 64]>::new();
    if req.facts.upgrade {
        for protocol in framing::offered_upgrades(&head.headers, &client.buf) {
            offered.extend_from_slice(protocol);
            offered.push(b',');
        }
    }
    let head_len = head.len;
    let wait_continue = req.facts.expect_continue
        && req.facts.body != BodyKind::None
        && client.buf.len() == head_len;

    let mut up_buf = core.bufs.get();
    let mut handshake = None;
    let request_framing = match req.facts.body {
        BodyKind::None => None,
        BodyKind::Length(n) => Some(Framing::Length(n)),
        BodyKind::Chunked => Some(Framing::Chunked),
        BodyKind::UntilClose => return Err(Fail::Respond(ProxyError::client(400, "bad framing"))),
    };
    let transfer_up = Transfer {
        read_timeout: timeouts.client_header,
        write_timeout: timeouts.upstream_response,
        max_bytes: core.config.limits.max_body_bytes,
        body_timeout: Some(BodyTimeout::new(&timeouts, &core.config.limits)),
    };

    // 1. The request head, and the body unless the client waits for 100 Continue.
    match request_framing {
        None => {
            out = forward::write_from(&mut up, out, 0, timeouts.upstream_response)
                .await
                .map_err(|()| retry_or(req, reused, 502, "could not send the request"))?;
        }
        Some(_) if wait_continue => {
            client.buf.drain(..head_len);
            out = forward::write_from(&mut up, out, 0, timeouts.upstream_response)
                .await
                .map_err(|()| Fail::Respond(upstream_err(502, "could not send the request")))?;
            let (outcome, buf) = await_continue(core, client, &mut up, up_buf).await?;
            (up_buf, handshake) = (buf, Some(outcome));
        }
        Some(framing) => {
            client.buf.drain(..head_len);
            let (o, sent) = send_body(core, client, &mut up, out, framing, transfer_up).await?;
            (out, inflight.bytes_out) = (o, inflight.bytes_out + sent);
        }
    }
    // Refused: the member answered before the body; relay that answer, never send the body.
    let continue_refused = handshake == Some(Continue::Refused);
    // A client that got a 100 (relayed or made) gets no other.
    let mut sent_continue = matches!(handshake, Some(Continue::Member | Continue::Made));
    if sent_continue {
        let framing = request_framing.unwrap_or(Framing::Length(0));
        out.clear();
        let (o, sent) = send_body(core, client, &mut up, out, framing, transfer_up).await?;
        (out, inflight.bytes_out) = (o, inflight.bytes_out + sent);
    }

    // 2. The response head, relaying interim responses.
    let sent_at = clock::now();
    let mut relayed_interim = wait_continue;
    let (resp, resp_facts) = loop {
        let resp = match read_response_head(&mut up, &mut up_buf, timeouts.upstream_response).await
        {
            Ok(r) => r,
            Err(HeadFail::Closed) if relayed_interim => {
                return Err(Fail::Respond(upstream_err(502, CLOSED_EARLY)))
            }
            Err(HeadFail::Closed) => return Err(retry_or(req, reused, 502, CLOSED_EARLY)),
            Err(HeadFail::TimedOut) if relayed_interim => {
                return Err(Fail::Respond(upstream_err(504, NO_RESPONSE)))
            }
            Err(HeadFail::TimedOut) => return Err(retry_or(req, false, 504, NO_RESPONSE)),
            Err(HeadFail::Invalid(why)) => return Err(Fail::Respond(upstream_err(502, why))),
        };
        let method: &[u8] = if req.is_head { b"HEAD" } else { b"GET" };
        let facts = framing::analyze_response(&up_buf, &resp, method)
            .map_err(|e| Fail::Respond(upstream_err(502, e.reason())))?;
        if !facts.interim {
            break (resp, facts);
        }
        // RFC 9110 section 15.2: no 1xx to an HTTP/1.0 client; and one 100 Continue at most.
        if req.version == Version::Http10 || (resp.status == 100 && sent_continue) {
            up_buf.drain(..resp.len);
            continue;
        }
        sent_continue |= resp.status == 100;
        out.clear();
        rewrite::write_interim_head(&mut out, &up_buf, &resp);
        up_buf.drain(..resp.len);
        relayed_interim = true;
        out = forward::write_from(&mut client.stream, out, 0, write_timeout(core))
            .await
            .map_err(|()| Fail::Abort)?;
    };
    core.stats
        .add_response(req.balancer, member_index, resp.status);
    if bcfg.options.failover.failonstatus.contains(&resp.status) {
        // Apache's failonstatus: the member goes in error, the response still goes out.
        core.put_in_error(req.balancer, member_index, resp.status);
    }

    // 3. 101 Switching Protocols: hand both connections to the tunnel.
    if resp_facts.switching {
        if !req.facts.upgrade {
            return Err(Fail::Respond(upstream_err(
                502,
                "unexpected 101 from the member",
            )));
        }
        if !framing::upgrade_accepted(&offered, &up_buf, &resp) {
            return Err(Fail::Respond(upstream_err(
                502,
                "the member switched to a protocol that was not offered",
            )));
        }
        if request_framing.is_none() {
            client.buf.drain(..head_len);
        }
        out.clear();
        rewrite::write_interim_head(&mut out, &up_buf, &resp);
        up_buf.drain(..resp.len);
        out = forward::write_from(&mut client.stream, out, 0, write_timeout(core))
            .await
            .map_err(|()| Fail::Abort)?;
        core.bufs.put(out);
        return Ok(Next::Tunnel(up, up_buf));
    }

    // 4. The response head and body, streamed.
    if request_framing.is_none() {
        client.buf.drain(..head_len);
    }
    let (body_out, framing) = response_framing(resp_facts.body, req.version);
    let keep_client = req.facts.keep_alive && body_out != BodyOut::Close && !continue_refused;
    out.clear();
    let mut cookie = SmallVec::<[u8; 160]>::new();
    if let Some(insert) = &bcfg.options.insert_cookie {
        if (!pick.sticky || pick.route_changed) && !member.route.is_empty() {
            let sep = bcfg.sticky.as_ref().map_or(Some(b'.'), |s| s.sep);
            signals::insert_cookie_value(insert, sep, member.route.as_bytes(), &mut cookie);
        }
    }
    let set_cookie: &[(&[u8], &[u8])] = &[(b"Set-Cookie", &cookie)];
    let rw = ResponseRewrite {
        keep_alive: keep_client,
        client_version: req.version,
        body: body_out,
        extra: if cookie.is_empty() { &[] } else { set_cookie },
    };
    rewrite::write_response_head(&mut out, &up_buf, &resp, &rw);
    up_buf.drain(..resp.len);
    inflight.bytes_in += resp.len as u64;
    let upstream_us = clock::elapsed(sent_at).as_micros() as u64;
    core.stats
        .observe_latency(req.balancer, member_index, upstream_us);
    client.done.upstream_us = Some(upstream_us);
    client.done.status = resp.status;
    client.done.bytes_out = out.len() as u64;
    let transfer_down = Transfer {
        read_timeout: timeouts.upstream_response,
        write_timeout: write_timeout(core),
        max_bytes: 0,
        body_timeout: None,
    };
    let scratch = core.bufs.get();
    let (result, out, scratch) = forward::forward_body(
        &mut up,
        &mut client.stream,
        out,
        &mut up_buf,
        framing.unwrap_or(Framing::Length(0)),
        transfer_down,
        scratch,
    )
    .await;
    core.bufs.put(scratch);
    core.bufs.put(out);
    let body_bytes = *result.as_ref().unwrap_or(&0);
    inflight.bytes_in += body_bytes;
    client.done.body_bytes = body_bytes;
    client.done.bytes_out += body_bytes;
    if let Err(stopped) = result {
        core.bufs.put(up_buf);
        return match stopped {
            // The body framing was broken in bytes read with the head: nothing went out yet.
            Stopped {
                error: BodyError::BadChunk(why),
                wrote: false,
            } => Err(Fail::Respond(upstream_err(502, why))),
            // Part of the response may have reached the client: it can only be cut off.
            _ => Ok(Next::Close),
        };
    }

    // 5. Return the member connection to the pool only when the exchange ended exactly at the
    // response's end: the member keeps it open, the body had a length (or was chunked, or
    // there was none) and no byte after it was read. Read-until-close bodies never keep it,
    // nor does a body the member may not have read: refused, or invited by ringlb's own 100
    // (the member may have answered without it, and would read it as the next request).
    let body_read = matches!(handshake, None | Some(Continue::Member));
    if resp_facts.keep_alive && up_buf.is_empty() && body_read {
        core.balancers[req.balancer]
            .pool
            .checkin(member_index, up, clock::now());
    }
    core.bufs.put(up_buf);
    Ok(if keep_client {
        Next::KeepAlive
    } else {
        Next::Close
    })
}

pub(super) fn upstream_err(status: u16, detail: &'static str) -> ProxyError {
    ProxyError::upstream(status, detail, Retry::No)
}

/// A failure before any response byte: a replayable request is retried (`stale` when it was
/// a pooled connection that the member closed), any other one answered with the error.
fn retry_or(req: &Request, stale: bool, status: u16, detail: &'static str) -> Fail {
    let error = upstream_err(status, detail);
    if req.replayable {
        Fail::Retry {
            error: ProxyError {
                retry: Retry::IfIdempotent,
                ..error
            },
            stale,
        }
    } else {
        Fail::Respond(error)
    }
}
