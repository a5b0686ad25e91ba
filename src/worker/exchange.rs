//! One request/response exchange, for a request whose context is built (`request.rs`): pick
//! a member, get a connection, send the request (head, then the body streamed), relay interim
//! responses, the response head and the body, then decide what happens to both connections.
//!
//! The retry rule lives here and nowhere else: a request goes to another member when nothing
//! was sent (connect failure); it is re-sent on a fresh connection when a pooled connection
//! turns out closed before any response byte, if it is idempotent and has no body to replay.

use std::rc::Rc;
use std::time::Instant;

use smallvec::SmallVec;

use super::accounting::Inflight;
use super::balancer_headers::{self, Fields};
use super::client::{send_error, write_timeout, Client, Done};
use super::deadline::BodyTimeout;
use super::forward::{self, BodyError, Stopped, Transfer};
use super::limits::{admit, Admitted};
use super::relay::{
    await_continue, read_response_head, send_body, upstream_err, write_upstream_head, Continue,
    Fail, HeadFail, CLOSED_EARLY, NO_RESPONSE,
};
use super::request::Request;
use super::response_head::{count_response, write_client_head, ClientHead};
use super::Gen;
use crate::balancer::{NoPick, Pick};
use crate::clock;
use crate::error::{ProxyError, Side};
use crate::http::framing::{self, response_framing, BodyKind, Framing};
use crate::http::head::RequestHead;
use crate::http::rewrite::{self, BodyOut};
use crate::http::Version;
use crate::sticky;
use crate::upstream::{self, ConnectError, MemberStream, Refusal, UpstreamConn};

/// What the connection loop does after an exchange.
#[derive(Debug)]
pub(super) enum Next {
    KeepAlive,
    Close,
    /// A `101` was relayed: tunnel bytes between the client and this member connection, after
    /// sending the given bytes (already read from the member) to the client.
    Tunnel(MemberStream, Vec<u8>),
}

/// Retries of a request over stale pooled connections before giving up.
const MAX_STALE_RETRIES: usize = 4;

/// Handles one request whose head is at the start of `client.buf`, with its context `req`
/// (its `pick` is the last attempt's when this returns). The head stays in the buffer.
pub(super) async fn handle(
    gen: &Rc<Gen>,
    client: &mut Client,
    head: &RequestHead,
    req: &mut Request,
) -> Next {
    let bcfg = &gen.config.balancers[req.balancer];
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
        let pick = match pick_member(gen, client, req, avoid, now) {
            Ok(pick) => pick,
            Err(no) => {
                let detail = match no {
                    NoPick::Unavailable => NO_MEMBER,
                    NoPick::SessionForced => SESSION_FORCED,
                };
                return respond(gen, client, req, upstream_err(503, detail)).await;
            }
        };
        gen.stats.add_request(req.balancer, pick.member);
        client.done.attempts += 1;
        req.pick = Some(pick);
        // Whether a failure of this attempt may still move the request to another member.
        req.may_move = attempts + 1 < max_attempts
            && gen.balancers[req.balancer]
                .balancer
                .borrow()
                .has_other_member(avoid | 1 << pick.member);
        let error = match connect(gen, req, pick, &mut client.done).await {
            Ok(conn) => match exchange(gen, client, head, req, pick, conn).await {
                Ok(next) => return next,
                Err(Fail::Abort) => {
                    gen.stats.add_client_abort(req.balancer, pick.member);
                    return Next::Close;
                }
                Err(Fail::Retry { stale: true, .. }) if stale_retries < MAX_STALE_RETRIES => {
                    // Another (or a fresh) connection to the same member.
                    gen.stats.add_retry(req.balancer, pick.member);
                    stale_retries += 1;
                    continue;
                }
                Err(Fail::Retry { error, .. }) => {
                    gen.member_failed(req.balancer, pick.member, error);
                    error
                }
                Err(Fail::Respond(error)) => {
                    if error.side == Side::Upstream {
                        gen.member_failed(req.balancer, pick.member, error);
                    }
                    return respond(gen, client, req, error).await;
                }
            },
            Err(ConnectError::Local) => {
                // This host is short of descriptors, memory or ports: not the member's fault,
                // and another member would fare no better.
                return respond(gen, client, req, upstream_err(503, LOCAL_SHORTAGE)).await;
            }
            Err(ConnectError::Busy(why)) => {
                // At its `max` with no place free in time: busy, not down (its state does not
                // change), and the request stays with it, as httpd's `acquire` does.
                let detail = match why {
                    Refusal::TimedOut => QUEUE_TIMEOUT,
                    Refusal::QueueFull => QUEUE_FULL,
                };
                return respond(gen, client, req, upstream_err(503, detail)).await;
            }
            Err(
                e @ (ConnectError::Refused
                | ConnectError::TimedOut
                | ConnectError::Tls(_)
                | ConnectError::NoPong),
            ) => {
                let error = ProxyError::unreachable(UNREACHABLE);
                let fault = super::gen::connect_fault(e);
                gen.member_failed_as(req.balancer, pick.member, error, fault);
                error
            }
        };
        // Nothing reached the client: the request goes to another member, if one is left.
        avoid |= 1 << pick.member;
        attempts += 1;
        if attempts >= max_attempts || avoid.count_ones() as usize >= members {
            return respond(gen, client, req, error).await;
        }
        gen.stats.add_redispatch(req.balancer, pick.member);
    }
}

const SESSION_FORCED: &str = "the session's member is unavailable (nofailover)";
const NO_MEMBER: &str = "no member is available";
const UNREACHABLE: &str = "no member could be reached";
const LOCAL_SHORTAGE: &str = "ringlb is out of local resources (open files, memory or ports)";
const QUEUE_TIMEOUT: &str = "the member is at its connection limit and none came free in time";
const QUEUE_FULL: &str = "the member is at its connection limit and its queue is full";

/// Picks a member for the latest attempt from the routes read once into `req`, counting a
/// session that moves to another member than its route's.
fn pick_member(
    gen: &Gen,
    client: &Client,
    req: &Request,
    avoid: u64,
    now: Instant,
) -> Result<Pick, NoPick> {
    let routes: sticky::Routes = req.routes.routes(&client.buf);
    let mut balancer = gen.balancers[req.balancer].balancer.borrow_mut();
    let pick = balancer.pick(&routes, avoid, gen.now_ms(now))?;
    if pick.route_changed && !routes.is_empty() {
        gen.stats.add_route_changed(req.balancer, pick.member);
    }
    Ok(pick)
}

/// A pooled connection to the picked member, or a new one, within the member's `max`
/// ([`admit`]: the request may wait for a place, or for a connection another request
/// finishes with). For an `ajp://` member with `ping`, only one that answers CPING in time: a
/// pooled one that does not is closed and the next tried; a new one that does not is
/// [`ConnectError::NoPong`]. Nothing of the request was sent either way.
async fn connect(
    gen: &Gen,
    req: &Request,
    pick: Pick,
    done: &mut Done,
) -> Result<UpstreamConn, ConnectError> {
    let member = &gen.config.balancers[req.balancer].members[pick.member];
    let ping = member.options.ajp.as_ref().and_then(|a| a.ping);
    loop {
        let (mut stream, reused) =
            match admit(gen, req.balancer, pick.member, clock::now(), done).await? {
                Admitted::Pooled(stream) => (stream, true),
                Admitted::Open(slot) => {
                    let tls = gen.connector(req.balancer, pick.member)?;
                    let timeout = gen.config.timeouts.connect;
                    let stream = upstream::connect(member.addr, tls, timeout).await?;
                    (stream.holding(slot), false)
                }
            };
        if let Some(timeout) = ping {
            if super::ajp::cping(&mut stream, timeout).await.is_err() {
                if reused {
                    continue;
                }
                return Err(ConnectError::NoPong);
            }
        }
        if reused {
            gen.stats.add_pool_reuse(req.balancer, pick.member);
        }
        return Ok(UpstreamConn {
            stream,
            member: pick.member,
            reused,
        });
    }
}

/// Answers with a ringlb-made error. The connection stays open only when the request had no
/// body left unread and the client wants keep-alive.
async fn respond(gen: &Gen, client: &mut Client, req: &Request, e: ProxyError) -> Next {
    let close = !req.facts.keep_alive || req.facts.body != BodyKind::None;
    if send_error(gen, client, e.status, e.detail, close)
        .await
        .is_err()
        || close
    {
        return Next::Close;
    }
    // Only a bodiless request keeps the connection (its head leaves the buffer after the log).
    Next::KeepAlive
}

/// One attempt on one member connection.
async fn exchange(
    gen: &Gen,
    client: &mut Client,
    head: &RequestHead,
    req: &Request,
    pick: Pick,
    conn: UpstreamConn,
) -> Result<Next, Fail> {
    let bcfg = &gen.config.balancers[req.balancer];
    if let Some(ajp) = &bcfg.members[conn.member].options.ajp {
        return super::ajp::exchange(gen, client, head, req, pick, conn, ajp).await;
    }
    let timeouts = gen.config.timeouts;
    let (mut up, reused, member_index) = (conn.stream, conn.reused, conn.member);
    let mut inflight = Inflight::new(gen, req.balancer, member_index);
    let mut out = gen.bufs.get();
    let mut fields = Fields::new();
    balancer_headers::request_fields(gen, &client.buf, req, pick, &mut fields);
    write_upstream_head(&mut out, gen, client, head, req, member_index, &fields);
    drop(fields);
    inflight.bytes_out += out.len() as u64;
    // The protocols a `101` may switch to, as one comma list.
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

    let mut up_buf = gen.bufs.get();
    let mut handshake = None;
    let request_framing = match req.facts.body {
        BodyKind::None => None,
        BodyKind::Length(n) => Some(Framing::Length(n)),
        BodyKind::Chunked => Some(Framing::Chunked),
        BodyKind::UntilClose => return Err(Fail::Respond(ProxyError::client(400, "bad framing"))),
    };
    let transfer_up = Transfer {
        carry_from: head_len,
        read_timeout: timeouts.client_header,
        write_timeout: timeouts.upstream_response,
        max_bytes: gen.config.limits.max_body_bytes,
        body_timeout: Some(BodyTimeout::new(&timeouts, &gen.config.limits)),
    };

    // 1. The request head, and the body unless the client waits for 100 Continue.
    match request_framing {
        None => {
            out = forward::write_from(&mut up, out, 0, timeouts.upstream_response)
                .await
                .map_err(|()| retry_or(req, reused, 502, "could not send the request"))?;
        }
        Some(_) if wait_continue => {
            out = forward::write_from(&mut up, out, 0, timeouts.upstream_response)
                .await
                .map_err(|()| Fail::Respond(upstream_err(502, "could not send the request")))?;
            let (outcome, buf) = await_continue(gen, client, &mut up, up_buf, req.may_move).await?;
            (up_buf, handshake) = (buf, Some(outcome));
        }
        Some(framing) => {
            let (o, sent) = send_body(gen, client, &mut up, out, framing, transfer_up).await?;
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
        let (o, sent) = send_body(gen, client, &mut up, out, framing, transfer_up).await?;
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
        out = forward::write_from(&mut client.stream, out, 0, write_timeout(gen))
            .await
            .map_err(|()| Fail::Abort)?;
    };
    count_response(gen, req, member_index, resp.status);

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
        out.clear();
        rewrite::write_interim_head(&mut out, &up_buf, &resp);
        up_buf.drain(..resp.len);
        out = forward::write_from(&mut client.stream, out, 0, write_timeout(gen))
            .await
            .map_err(|()| Fail::Abort)?;
        gen.bufs.put(out);
        return Ok(Next::Tunnel(up, up_buf));
    }

    // 4. The response head and body, streamed.
    let (body_out, framing) = response_framing(resp_facts.body, req.version);
    let keep_client = req.facts.keep_alive && body_out != BodyOut::Close && !continue_refused;
    out.clear();
    let head_out = ClientHead {
        member: member_index,
        body: body_out,
        keep_alive: keep_client,
    };
    write_client_head(gen, client, req, pick, &up_buf, &resp, head_out, &mut out);
    up_buf.drain(..resp.len);
    inflight.bytes_in += resp.len as u64;
    let upstream_us = clock::elapsed(sent_at).as_micros() as u64;
    gen.stats
        .observe_latency(req.balancer, member_index, upstream_us);
    client.done.upstream_us = Some(upstream_us);
    client.done.status = resp.status;
    client.done.bytes_out = out.len() as u64;
    let transfer_down = Transfer {
        carry_from: 0,
        read_timeout: timeouts.upstream_response,
        write_timeout: write_timeout(gen),
        max_bytes: 0,
        body_timeout: None,
    };
    let scratch = gen.bufs.get();
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
    gen.bufs.put(scratch);
    gen.bufs.put(out);
    let body_bytes = *result.as_ref().unwrap_or(&0);
    inflight.bytes_in += body_bytes;
    client.done.body_bytes = body_bytes;
    client.done.bytes_out += body_bytes;
    if let Err(stopped) = result {
        gen.bufs.put(up_buf);
        return match stopped {
            // The body framing was broken in bytes read with the head: nothing went out yet.
            Stopped {
                error: BodyError::BadChunk(why),
                wrote: false,
            } => Err(Fail::Respond(upstream_err(502, why))),
            // Part of the response may have reached the client: it can only be cut off.
            Stopped { error, .. } => {
                if error == BodyError::SinkGone {
                    gen.stats.add_client_abort(req.balancer, member_index);
                } else {
                    gen.stats.add_member_abort(req.balancer, member_index);
                }
                Ok(Next::Close)
            }
        };
    }

    // 5. Return the member connection to the pool only when the exchange ended exactly at the
    // response's end: the member keeps it open, the body had a length (or was chunked, or
    // there was none) and no byte after it was read. Read-until-close bodies never keep it,
    // nor does a body the member may not have read: refused, or invited by ringlb's own 100
    // (the member may have answered without it, and would read it as the next request).
    let body_read = matches!(handshake, None | Some(Continue::Member));
    if resp_facts.keep_alive && up_buf.is_empty() && body_read {
        gen.checkin(req.balancer, member_index, up, clock::now());
    }
    gen.bufs.put(up_buf);
    Ok(if keep_client {
        Next::KeepAlive
    } else {
        Next::Close
    })
}

/// A failure before any response byte: a replayable request is retried (`stale` when it was
/// a pooled connection that the member closed), any other one answered with the error.
pub(super) fn retry_or(req: &Request, stale: bool, status: u16, detail: &'static str) -> Fail {
    let error = upstream_err(status, detail);
    if req.replayable {
        Fail::Retry { error, stale }
    } else {
        Fail::Respond(error)
    }
}
