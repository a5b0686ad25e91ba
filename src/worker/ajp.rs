//! One attempt on an `ajp://` member connection, the AJP13 counterpart of the HTTP attempt in
//! `exchange.rs` (which picks the member, connects and owns the retry rules for both): the
//! forward request (with the first body packet when the body has a length, as mod_proxy_ajp
//! sends it), then the container's messages in order: `GET_BODY_CHUNK` is answered from the
//! client's body, `SEND_HEADERS` becomes the client's response head (through the same head
//! rewriting as HTTP members), `SEND_BODY_CHUNK` is relayed in the client's framing, and
//! `END_RESPONSE` ends the exchange. Also CPING, for `ping` and for `CPING` health checks.
//!
//! The member connection goes back to the pool only when the container said it may (`reuse`),
//! nothing followed `END_RESPONSE`, and the response had exactly the length it announced. The
//! client connection stays open only when its whole request body was read before the response
//! began (a body the container did not read is not drained) and the response was complete.

use std::io::Write as _;
use std::time::Duration;

use monoio::io::AsyncWriteRentExt;
use smallvec::SmallVec;

use super::accounting::Inflight;
use super::ajp_body::RequestBody;
use super::balancer_headers::{self, Fields};
use super::bufs::IO_BUF;
use super::client::{write_timeout, Client};
use super::deadline::BodyTimeout;
use super::exchange::{retry_or, Next};
use super::forward::{self, Read};
use super::relay::{
    request_body_fail, upstream_err, write_ajp_source_head, Fail, CLOSED_EARLY, MID_REQUEST,
    NO_RESPONSE,
};
use super::request::Request;
use super::response_head::{count_response, write_client_head, ClientHead};
use super::Gen;
use crate::ajp::reply::{self, Reply};
use crate::ajp::request::{self as forward_request, ForwardRequest, Ssl};
use crate::ajp::{self, CPING};
use crate::balancer::Pick;
use crate::clock;
use crate::config::MemberAjp;
use crate::error::ProxyError;
use crate::http::framing::{self, response_framing, BodyKind};
use crate::http::head::{self, RequestHead};
use crate::http::reverse::{host_port, UNNAMED_SERVER};
use crate::http::rewrite::BodyOut;
use crate::http::{Version, MAX_HEADERS};
use crate::upstream::{MemberStream, UpstreamConn};

/// Why a CPING got no CPONG.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum PongFail {
    NotSent,
    TimedOut,
    Closed,
    /// Something other than exactly one CPONG came back.
    Invalid,
}

/// Sends CPING on `stream` and waits up to `timeout` for exactly one CPONG.
pub(super) async fn cping(stream: &mut MemberStream, timeout: Duration) -> Result<(), PongFail> {
    let deadline = clock::now() + timeout;
    let write = monoio::time::timeout(timeout, stream.write_all(CPING.to_vec())).await;
    if !matches!(write, Ok((Ok(_), _))) {
        return Err(PongFail::NotSent);
    }
    let mut buf = Vec::with_capacity(16);
    loop {
        match reply::parse(&buf, ajp::DEFAULT_PACKET_SIZE) {
            Ok(Some((Reply::Pong, n))) if n == buf.len() => return Ok(()),
            Ok(None) => {}
            Ok(Some(_)) | Err(_) => return Err(PongFail::Invalid),
        }
        let wait = deadline.saturating_duration_since(clock::now());
        let (read, b) = forward::read_into(stream, buf, 16, wait).await;
        buf = b;
        match read {
            Read::Data => {}
            Read::TimedOut => return Err(PongFail::TimedOut),
            Read::Eof | Read::Failed => return Err(PongFail::Closed),
        }
    }
}

/// What is known once `SEND_HEADERS` has been relayed.
#[derive(Clone, Copy, Debug)]
struct Responding {
    body: BodyOut,
    keep_client: bool,
    /// Body bytes still expected for a `Content-Length` response.
    remaining: u64,
    /// The member sent more (or other) body than the head announced: the response is cut
    /// there and neither connection is reused.
    broken: bool,
}

/// One attempt on the AJP member connection `conn` (see the module doc).
pub(super) async fn exchange(
    gen: &Gen,
    client: &mut Client,
    head: &RequestHead,
    req: &Request,
    pick: Pick,
    conn: UpstreamConn,
    ajp: &MemberAjp,
) -> Result<Next, Fail> {
    let timeouts = gen.config.timeouts;
    let (mut up, reused, member_index) = (conn.stream, conn.reused, conn.member);
    let mut inflight = Inflight::new(gen, req.balancer, member_index);
    // The member, for the abort counters.
    let at = (req.balancer, member_index);
    let chunk_max = ajp::max_body_chunk(ajp.packet_size);

    // 1. The forward request, and the first body packet when the body has a length.
    let mut out = gen.bufs.get();
    encode_request(gen, client, head, req, pick, ajp, &mut out)?;
    let limits = &gen.config.limits;
    let mut body = RequestBody::new(
        req.facts.body,
        head.len,
        BodyTimeout::new(&timeouts, limits),
    );
    let mut continued = !(req.facts.expect_continue
        && req.facts.body != BodyKind::None
        && client.buf.len() == head.len
        && req.version != Version::Http10);
    if let Some(n) = body.announced().filter(|&n| n > 0) {
        continue_client(gen, client, &mut continued).await?;
        let want = usize::try_from(n).unwrap_or(usize::MAX).min(chunk_max);
        body.fill(gen, client, want)
            .await
            .map_err(request_body_fail)?;
        inflight.bytes_out += body.push_packet(chunk_max, &mut out) as u64;
    }
    inflight.bytes_out += out.len() as u64;
    out = forward::write_from(&mut up, out, 0, timeouts.upstream_response)
        .await
        .map_err(|()| retry_or(req, reused, 502, "could not send the request"))?;
    out.clear();

    // 2. The container's messages.
    let sent_at = clock::now();
    let method: &[u8] = if req.is_head { b"HEAD" } else { b"GET" };
    let mut up_buf = gen.bufs.get();
    let mut responding: Option<Responding> = None;
    let mut replied = false;
    loop {
        let (reply, len) = match reply::parse(&up_buf, ajp.packet_size) {
            Ok(Some(parsed)) => parsed,
            Err(why) => return answer_or_cut(gen, at, responding, upstream_err(502, why)),
            Ok(None) => {
                if responding.is_some() && !out.is_empty() {
                    out = match flush(gen, client, out).await {
                        Ok(o) => o,
                        Err(()) => return Ok(client_gone(gen, at)),
                    };
                }
                let buf = std::mem::take(&mut up_buf);
                let (read, buf) =
                    forward::read_into(&mut up, buf, IO_BUF, timeouts.upstream_response).await;
                up_buf = buf;
                match read {
                    Read::Data => continue,
                    Read::TimedOut if replied => {
                        return answer_or_cut(gen, at, responding, upstream_err(504, NO_RESPONSE))
                    }
                    Read::TimedOut => return Err(retry_or(req, false, 504, NO_RESPONSE)),
                    Read::Eof | Read::Failed if replied || !up_buf.is_empty() => {
                        return answer_or_cut(gen, at, responding, upstream_err(502, CLOSED_EARLY))
                    }
                    Read::Eof | Read::Failed => {
                        return Err(retry_or(req, reused, 502, CLOSED_EARLY))
                    }
                }
            }
        };
        replied = true;
        inflight.bytes_in += len as u64;
        match reply {
            Reply::GetBody(asked) => {
                continue_client(gen, client, &mut continued).await?;
                let want = usize::from(asked).min(chunk_max);
                if let Err(e) = body.fill(gen, client, want).await {
                    return match responding {
                        None => Err(request_body_fail(e)),
                        Some(_) => Ok(client_gone(gen, at)),
                    };
                }
                let mut data = gen.bufs.get();
                inflight.bytes_out += body.push_packet(want, &mut data) as u64;
                let sent = forward::write_from(&mut up, data, 0, timeouts.upstream_response).await;
                match sent {
                    Ok(data) => gen.bufs.put(data),
                    Err(()) => {
                        return answer_or_cut(gen, at, responding, upstream_err(502, MID_REQUEST));
                    }
                }
            }
            Reply::Headers(payload) => {
                if responding.is_some() {
                    gen.stats.add_member_abort(req.balancer, member_index);
                    return Ok(Next::Close);
                }
                let mut head_buf = gen.bufs.get();
                let resp = reply::write_head(payload, &mut head_buf)
                    .and_then(|_| match head::parse_response(&head_buf, MAX_HEADERS) {
                        Ok(Some(resp)) => Ok(resp),
                        _ => Err("the member sent an invalid response head over AJP13"),
                    })
                    .map_err(|why| Fail::Respond(upstream_err(502, why)))?;
                let facts = framing::analyze_response(&head_buf, &resp, method)
                    .map_err(|e| Fail::Respond(upstream_err(502, e.reason())))?;
                count_response(gen, req, member_index, resp.status);
                let (body_out, _) = response_framing(facts.body, req.version);
                let keep_client =
                    req.facts.keep_alive && body_out != BodyOut::Close && body.read_all();
                let how = ClientHead {
                    member: member_index,
                    body: body_out,
                    keep_alive: keep_client,
                };
                write_client_head(gen, client, req, pick, &head_buf, &resp, how, &mut out);
                gen.bufs.put(head_buf);
                let upstream_us = clock::elapsed(sent_at).as_micros() as u64;
                gen.stats
                    .observe_latency(req.balancer, member_index, upstream_us);
                client.done.upstream_us = Some(upstream_us);
                client.done.status = resp.status;
                client.done.bytes_out = out.len() as u64;
                let remaining = match body_out {
                    BodyOut::Length(n) => n,
                    _ => 0,
                };
                responding = Some(Responding {
                    body: body_out,
                    keep_client,
                    remaining,
                    broken: false,
                });
            }
            Reply::Body(data) => {
                let Some(r) = responding.as_mut() else {
                    let why = "the member sent a body chunk before its headers";
                    return Err(Fail::Respond(upstream_err(502, why)));
                };
                let relayed = relay_chunk(r, data, &mut out);
                client.done.body_bytes += relayed;
                client.done.bytes_out += relayed;
                if r.broken {
                    gen.stats.add_member_abort(req.balancer, member_index);
                    let _ = flush(gen, client, out).await;
                    return Ok(Next::Close);
                }
                if out.len() >= IO_BUF {
                    out = match flush(gen, client, out).await {
                        Ok(o) => o,
                        Err(()) => return Ok(client_gone(gen, at)),
                    };
                }
            }
            Reply::End { reuse } => {
                let Some(r) = responding else {
                    let why = "the member ended its response before its headers";
                    return Err(Fail::Respond(upstream_err(502, why)));
                };
                up_buf.drain(..len);
                let complete = !(matches!(r.body, BodyOut::Length(_)) && r.remaining > 0);
                if r.body == BodyOut::Chunked && complete {
                    out.extend_from_slice(b"0\r\n\r\n");
                }
                let flushed = flush(gen, client, out).await;
                if reuse && complete && up_buf.is_empty() {
                    gen.checkin(req.balancer, member_index, up, clock::now());
                }
                gen.bufs.put(up_buf);
                return Ok(match flushed {
                    Ok(o) if r.keep_client && complete => {
                        gen.bufs.put(o);
                        Next::KeepAlive
                    }
                    Ok(_) if complete => Next::Close,
                    Ok(_) => {
                        // Fewer body bytes than its headers announced.
                        gen.stats.add_member_abort(req.balancer, member_index);
                        Next::Close
                    }
                    Err(()) => client_gone(gen, at),
                });
            }
            Reply::Pong => {
                let why = "the member sent CPONG to a request";
                return answer_or_cut(gen, at, responding, upstream_err(502, why));
            }
        }
        up_buf.drain(..len);
    }
}

/// A failure of member `m` of balancer `b`: answered with `error` while nothing of the
/// response went out, else the client connection is cut (part of the response may have
/// reached it), counted as the member's abort.
fn answer_or_cut(
    gen: &Gen,
    (b, m): (usize, usize),
    responding: Option<Responding>,
    error: ProxyError,
) -> Result<Next, Fail> {
    match responding {
        None => Err(Fail::Respond(error)),
        Some(_) => {
            gen.stats.add_member_abort(b, m);
            Ok(Next::Close)
        }
    }
}

/// The client went away mid-response from member `m` of balancer `b`: counted as the
/// client's abort; the connection closes.
fn client_gone(gen: &Gen, (b, m): (usize, usize)) -> Next {
    gen.stats.add_client_abort(b, m);
    Next::Close
}

/// Appends one body chunk from the member to `out` in the client's framing; returns the body
/// bytes relayed. Bytes beyond an announced length, or any body for a response that has none,
/// mark the response broken.
fn relay_chunk(r: &mut Responding, data: &[u8], out: &mut Vec<u8>) -> u64 {
    if data.is_empty() {
        return 0;
    }
    match r.body {
        BodyOut::None => {
            r.broken = true;
            0
        }
        BodyOut::Length(_) => {
            let n = usize::try_from(r.remaining)
                .unwrap_or(usize::MAX)
                .min(data.len());
            out.extend_from_slice(&data[..n]);
            r.remaining -= n as u64;
            r.broken = n < data.len();
            n as u64
        }
        BodyOut::Chunked => {
            let _ = write!(out, "{:x}\r\n", data.len());
            out.extend_from_slice(data);
            out.extend_from_slice(b"\r\n");
            data.len() as u64
        }
        BodyOut::Close => {
            out.extend_from_slice(data);
            data.len() as u64
        }
    }
}

/// Writes `out` to the client; the buffer comes back empty.
async fn flush(gen: &Gen, client: &mut Client, out: Vec<u8>) -> Result<Vec<u8>, ()> {
    let mut out = forward::write_from(&mut client.stream, out, 0, write_timeout(gen)).await?;
    out.clear();
    Ok(out)
}

/// Tells a client that waits for `100 Continue` to send its body, once.
async fn continue_client(gen: &Gen, client: &mut Client, continued: &mut bool) -> Result<(), Fail> {
    if *continued {
        return Ok(());
    }
    *continued = true;
    let out = b"HTTP/1.1 100 Continue\r\n\r\n".to_vec();
    forward::write_from(&mut client.stream, out, 0, write_timeout(gen))
        .await
        .map(drop)
        .map_err(|()| Fail::Abort)
}

/// Appends the forward-request packet for the request to `out`.
fn encode_request(
    gen: &Gen,
    client: &Client,
    head: &RequestHead,
    req: &Request,
    pick: Pick,
    ajp: &MemberAjp,
    out: &mut Vec<u8>,
) -> Result<(), Fail> {
    let mut fields = Fields::new();
    balancer_headers::request_fields(gen, &client.buf, req, pick, &mut fields);
    let mut source = gen.bufs.get();
    write_ajp_source_head(&mut source, gen, client, head, req, &fields);
    drop(fields);
    let result = encode_source(gen, client, req, pick.member, ajp, &source, out);
    gen.bufs.put(source);
    result
}

/// Encodes the HTTP/1.1 head `source` (written by `write_ajp_source_head`) with the client's
/// facts as a forward request.
fn encode_source(
    gen: &Gen,
    client: &Client,
    req: &Request,
    member_index: usize,
    ajp: &MemberAjp,
    source: &[u8],
    out: &mut Vec<u8>,
) -> Result<(), Fail> {
    let invalid = || Fail::Respond(ProxyError::client(400, "bad request head"));
    let parsed = match head::parse_request(source, MAX_HEADERS) {
        Ok(Some(parsed)) => parsed,
        _ => return Err(invalid()),
    };
    let mut headers = SmallVec::<[(&[u8], &[u8]); 32]>::new();
    // Every field goes, the framing ones too. AJP frames the body itself (a body without a
    // length is asked for until it ends), but Tomcat reads a chunked body's form parameters
    // only when it sees `Transfer-Encoding: chunked` (as mod_proxy_ajp and mod_jk pass it).
    for h in &parsed.headers {
        headers.push((h.name.get(source), h.value.get(source)));
    }
    let target = parsed.target.get(source);
    let (uri, query) = match memchr::memchr(b'?', target) {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    let tls = client.stream.is_tls();
    let (server_name, server_port) = server_of(req.facts.host.map(|h| h.get(&client.buf)), tls);
    let mut addr = [0u8; 48];
    let addr_len = {
        let mut cursor = std::io::Cursor::new(&mut addr[..]);
        let _ = write!(cursor, "{}", client.peer.ip());
        cursor.position() as usize
    };
    let facts = client.stream.tls_facts().filter(|_| tls);
    let member = &gen.config.balancers[req.balancer].members[member_index];
    let status = (gen.balancers[req.balancer].balancer.borrow())
        .member(member_index)
        .map(|m| m.status())
        .unwrap_or_default();
    let request = ForwardRequest {
        method: parsed.method.get(source),
        protocol: if req.version == Version::Http10 {
            b"HTTP/1.0"
        } else {
            b"HTTP/1.1"
        },
        uri,
        query,
        remote_addr: &addr[..addr_len],
        remote_port: client.peer.port(),
        server_name,
        server_port,
        ssl: facts.map(|f| Ssl {
            cipher: f.cipher().as_bytes(),
            protocol: f.protocol().as_bytes(),
            key_bits: f.key_bits(),
            cert: f.client_pem(),
        }),
        headers: &headers,
        route: member.route.as_bytes(),
        activation: balancer_headers::activation(status),
        secret: ajp.secret.as_deref().map(str::as_bytes),
    };
    forward_request::encode(&request, ajp.packet_size, out).map_err(|_| {
        Fail::Respond(ProxyError::client(
            431,
            "request head larger than the member's AJP packet_size",
        ))
    })
}

/// The server name and port the client asked for: its `Host` split as reverse rewriting
/// splits it (so the member's self-references are recognised, `reverse::names_client_server`),
/// the port defaulting to the scheme's; [`UNNAMED_SERVER`] without a `Host`.
fn server_of(host: Option<&[u8]>, tls: bool) -> (&[u8], u16) {
    let (scheme, default_port): (&[u8], u16) = if tls { (b"https", 443) } else { (b"http", 80) };
    let host = host.filter(|h| !h.is_empty()).unwrap_or(UNNAMED_SERVER);
    let (name, port) = host_port(scheme, host);
    let port = std::str::from_utf8(port)
        .ok()
        .and_then(|p| p.parse().ok())
        .unwrap_or(default_port);
    (name, port)
}
