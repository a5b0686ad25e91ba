//! The member side of an exchange, step by step: the rewritten request head, the request
//! body, the `100 Continue` handshake, the response head; and how an attempt fails ([`Fail`]).
//! `exchange.rs` strings these together and owns the retry decisions.

use smallvec::SmallVec;

use super::client::{write_timeout, Client};
use super::forward::{self, BodyError, Read, Transfer};
use super::request::Request;
use super::Gen;
use crate::clock;
use crate::error::ProxyError;
use crate::http::framing::Framing;
use crate::http::head::{self, RequestHead, ResponseHead};
use crate::http::mount::member_target;
use crate::http::rewrite::{self, RequestRewrite};
use crate::upstream::{self, MemberStream};

/// How an attempt failed. This alone decides whether the request is tried again: the
/// errors it carries say what the client is told, not whether to retry.
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

pub(super) const NO_RESPONSE: &str = "the member did not respond in time";
pub(super) const CLOSED_EARLY: &str = "the member closed the connection without responding";
pub(super) const NO_CONTINUE: &str = "the member did not answer 100-continue within ping";

pub(super) fn upstream_err(status: u16, detail: &'static str) -> ProxyError {
    ProxyError::upstream(status, detail)
}

/// Streams the request body from the client to the member, after `out` (head bytes or empty).
pub(super) async fn send_body(
    gen: &Gen,
    client: &mut Client,
    up: &mut MemberStream,
    out: Vec<u8>,
    framing: Framing,
    transfer: Transfer,
) -> Result<(Vec<u8>, u64), Fail> {
    let scratch = gen.bufs.get();
    let (result, out, scratch) = forward::forward_body(
        &mut client.stream,
        up,
        out,
        &mut client.buf,
        framing,
        transfer,
        scratch,
    )
    .await;
    gen.bufs.put(scratch);
    match result {
        Ok(sent) => Ok((out, sent)),
        Err(stopped) => Err(request_body_fail(stopped.error)),
    }
}

/// How an attempt fails when the request body could not be moved, before any response byte
/// went to the client (which can still be told; the member connection is released when the
/// exchange drops it).
pub(super) fn request_body_fail(error: BodyError) -> Fail {
    match error {
        BodyError::SourceGone => Fail::Abort,
        BodyError::TimedOut => {
            Fail::Respond(ProxyError::client(408, "request body not received in time"))
        }
        BodyError::SinkGone => Fail::Respond(upstream_err(502, MID_REQUEST)),
        BodyError::BadChunk(why) => Fail::Respond(ProxyError::client(400, why)),
        BodyError::TooLarge => Fail::Respond(ProxyError::client(
            413,
            "request body larger than the configured limit",
        )),
    }
}

pub(super) const MID_REQUEST: &str = "the member closed the connection mid-request";

/// How the `Expect: 100-continue` handshake ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Continue {
    /// The member said `100` (relayed): the body follows.
    Member,
    /// The member said nothing within `ping` on the last member the request may try, so
    /// ringlb sent its own `100`: the body follows, but the member may answer without reading
    /// it, so its connection is not reused.
    Made,
    /// The member sent its final response (left in the buffer): the body is never sent.
    Refused,
}

/// After sending a head with `Expect: 100-continue`, waits up to `ping` for the member:
/// `100` is relayed and the body follows; another 1xx is relayed and the wait goes on; a final
/// response means the member refused the body. If the member says nothing in time, ringlb
/// is taken as not having received the request (httpd's `ping`): when `may_move` (another
/// member may be tried) and nothing was relayed to the client yet, the request fails over
/// ([`Fail::Retry`], 503) with its body still unread. Otherwise ringlb tells the client to
/// continue itself, but never once the member has started to answer: any byte of a response
/// (in the buffer, or unread on the socket) is read and relayed instead.
pub(super) async fn await_continue(
    gen: &Gen,
    client: &mut Client,
    up: &mut MemberStream,
    mut up_buf: Vec<u8>,
    may_move: bool,
) -> Result<(Continue, Vec<u8>), Fail> {
    let mut deadline = clock::now() + gen.config.timeouts.ping;
    let mut answering = false;
    let mut relayed = false;
    loop {
        let parsed = head::parse_response(&up_buf, crate::http::MAX_HEADERS)
            .map_err(|e| Fail::Respond(upstream_err(502, e.reason())))?;
        if let Some(resp) = parsed {
            if resp.status >= 200 || resp.status == 101 {
                return Ok((Continue::Refused, up_buf));
            }
            let mut out = gen.bufs.get();
            rewrite::write_interim_head(&mut out, &up_buf, &resp);
            up_buf.drain(..resp.len);
            let out = forward::write_from(&mut client.stream, out, 0, write_timeout(gen))
                .await
                .map_err(|()| Fail::Abort)?;
            gen.bufs.put(out);
            if resp.status == 100 {
                return Ok((Continue::Member, up_buf));
            }
            relayed = true;
            continue;
        }
        let wait = deadline.saturating_duration_since(clock::now());
        let (read, buf) = forward::read_into_keep(up, up_buf, MAX_RESPONSE_HEAD, wait).await;
        up_buf = buf;
        match read {
            Read::Data => {}
            Read::TimedOut if answering => {
                return Err(Fail::Respond(upstream_err(504, NO_RESPONSE)))
            }
            Read::TimedOut if !up_buf.is_empty() || !upstream::is_quiet(up) => {
                // The member started answering as the wait ended: give it the usual time.
                answering = true;
                deadline = clock::now() + gen.config.timeouts.upstream_response;
            }
            Read::TimedOut if may_move && !relayed => {
                return Err(Fail::Retry {
                    error: upstream_err(503, NO_CONTINUE),
                    stale: false,
                });
            }
            Read::TimedOut => {
                let out = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
                forward::write_from(&mut client.stream, out, 0, write_timeout(gen))
                    .await
                    .map_err(|()| Fail::Abort)?;
                return Ok((Continue::Made, up_buf));
            }
            Read::Eof | Read::Failed => {
                return Err(Fail::Respond(upstream_err(502, CLOSED_EARLY)));
            }
        }
    }
}

/// Reads until `up_buf` starts with a complete response head.
pub(super) async fn read_response_head(
    up: &mut MemberStream,
    up_buf: &mut Vec<u8>,
    timeout: std::time::Duration,
) -> Result<ResponseHead, HeadFail> {
    let deadline = clock::now() + timeout;
    loop {
        if !up_buf.is_empty() {
            match head::parse_response(up_buf, crate::http::MAX_HEADERS) {
                Ok(Some(resp)) => return Ok(resp),
                Ok(None) if up_buf.len() >= MAX_RESPONSE_HEAD => {
                    return Err(HeadFail::Invalid("response head too large"))
                }
                Ok(None) => {}
                Err(e) => return Err(HeadFail::Invalid(e.reason())),
            }
        }
        let wait = deadline.saturating_duration_since(clock::now());
        let buf = std::mem::take(up_buf);
        let (read, buf) = forward::read_into(up, buf, MAX_RESPONSE_HEAD, wait).await;
        *up_buf = buf;
        match read {
            Read::Data => {}
            Read::TimedOut => return Err(HeadFail::TimedOut),
            Read::Eof | Read::Failed if up_buf.is_empty() => return Err(HeadFail::Closed),
            Read::Eof | Read::Failed => return Err(HeadFail::Invalid("incomplete response head")),
        }
    }
}

/// Writes the head sent to the member: the target with the balancer's mount replaced by its
/// target path, Host per `preserve_host`, X-Forwarded-* per config (`X-Forwarded-Proto:
/// https` for a request that came over TLS), `extra`, then the connection's `X-SSL-*`
/// fields when its listener has `ssl_headers` (rendered at the handshake; borrowed here).
pub(super) fn write_upstream_head(
    out: &mut Vec<u8>,
    gen: &Gen,
    client: &Client,
    head: &RequestHead,
    req: &Request,
    member_index: usize,
    extra: &[(&[u8], &[u8])],
) {
    let bcfg = &gen.config.balancers[req.balancer];
    let member = &bcfg.members[member_index];
    let fwd = gen.config.forwarded;
    // On the stack: balancer fields and TLS facts together, no allocation.
    let mut joined: SmallVec<[(&[u8], &[u8]); 16]> = SmallVec::new();
    let extra = match client
        .stream
        .tls_facts()
        .filter(|_| ssl_headers(gen, client))
    {
        Some(facts) => {
            joined.extend_from_slice(extra);
            facts.push_fields(&mut joined);
            &joined[..]
        }
        None => extra,
    };
    let mut rw = request_rewrite(gen, client, head, req, extra);
    rw.host = (!fwd.preserve_host).then_some(member.authority.as_bytes());
    rw.forwarded_for = fwd.x_forwarded_for.then_some(client.peer.ip());
    rw.forwarded_proto = fwd.x_forwarded_proto.then_some(if client.stream.is_tls() {
        b"https".as_slice()
    } else {
        b"http".as_slice()
    });
    rw.forwarded_host = fwd.x_forwarded_host;
    rewrite::write_request_head(out, &client.buf, head, &req.facts, &rw);
}

/// Writes the HTTP/1.1 head an `ajp://` member's forward request is made from: the target
/// as [`write_upstream_head`] maps it, the client's own `Host`, `extra`, and no
/// `X-Forwarded-*` or `X-SSL-*` fields of ringlb's (AJP carries the client's address and TLS
/// facts itself, as mod_proxy_ajp and mod_jk send them).
pub(super) fn write_ajp_source_head(
    out: &mut Vec<u8>,
    gen: &Gen,
    client: &Client,
    head: &RequestHead,
    req: &Request,
    extra: &[(&[u8], &[u8])],
) {
    let rw = request_rewrite(gen, client, head, req, extra);
    rewrite::write_request_head(out, &client.buf, head, &req.facts, &rw);
}

/// The rewrite every member protocol shares: the mapped target, `extra`, whether the client's
/// `X-Forwarded-*` are believed; nothing of ringlb's own forwarding fields, and the client's
/// `Host`.
fn request_rewrite<'a>(
    gen: &'a Gen,
    client: &'a Client,
    head: &RequestHead,
    req: &'a Request,
    extra: &'a [(&'a [u8], &'a [u8])],
) -> RequestRewrite<'a> {
    let target = head.target.get(&client.buf);
    let (prefix, rest) = match gen.mount(req.mount) {
        Some(mount) => member_target(mount, target, &req.origin),
        None => (&b""[..], req.origin.get(target)),
    };
    RequestRewrite {
        target_prefix: prefix,
        target_rest: rest,
        host: None,
        forwarded_for: None,
        forwarded_proto: None,
        forwarded_host: false,
        extra,
        trust_forwarded: crate::ipnet::allowed(&gen.config.trust.trusted_proxies, client.peer.ip()),
    }
}

/// Whether the client's listener has `ssl_headers` (its TLS facts go to HTTP members as
/// `X-SSL-*` fields).
fn ssl_headers(gen: &Gen, client: &Client) -> bool {
    client
        .arrival
        .listener()
        .and_then(|i| gen.config.listeners.get(i))
        .and_then(|l| l.tls.as_ref())
        .is_some_and(|t| t.ssl_headers)
}
