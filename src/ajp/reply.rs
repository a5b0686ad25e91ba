//! The container's packets (`A B`, length, payload) and the HTTP/1.1 response head a
//! `SEND_HEADERS` packet stands for.
//!
//! Everything the member sends is checked before it is used: the packet header, each
//! message's exact length, and in `SEND_HEADERS` every name (an HTTP token) and value (no CR,
//! LF or NUL), so a member can never inject a header line or a second response.

use crate::http::rewrite::reason_phrase;

/// Response header codes, in code order from `0xA001`.
const HEADERS: [&[u8]; 11] = [
    b"Content-Type",
    b"Content-Language",
    b"Content-Length",
    b"Date",
    b"Last-Modified",
    b"Location",
    b"Set-Cookie",
    b"Set-Cookie2",
    b"Servlet-Engine",
    b"Status",
    b"WWW-Authenticate",
];

const SEND_BODY_CHUNK: u8 = 3;
const SEND_HEADERS: u8 = 4;
const END_RESPONSE: u8 = 5;
const GET_BODY_CHUNK: u8 = 6;
const CPONG_REPLY: u8 = 9;

/// One message from the container.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reply<'a> {
    /// `SEND_BODY_CHUNK`: response body bytes (possibly none: a flush).
    Body(&'a [u8]),
    /// `SEND_HEADERS`: the payload after the message code, for [`write_head`].
    Headers(&'a [u8]),
    /// `END_RESPONSE`: the response is complete; `reuse` = the container keeps the
    /// connection for another request.
    End { reuse: bool },
    /// `GET_BODY_CHUNK`: the container asks for at most this many request-body bytes.
    GetBody(u16),
    /// `CPONG_REPLY`, the answer to CPING.
    Pong,
}

/// A packet that is not valid AJP13 from a container: the member is answered with 502.
pub type ReplyError = &'static str;

/// Parses the packet at the start of `buf`: `Ok(None)` when it is not complete yet, else the
/// message and the packet's length. A packet longer than `packet_size` is refused before it
/// is read.
pub fn parse(buf: &[u8], packet_size: usize) -> Result<Option<(Reply<'_>, usize)>, ReplyError> {
    if buf.len() >= 2 && &buf[..2] != b"AB" {
        return Err("the member sent bytes that are not an AJP13 packet");
    }
    if buf.len() < super::HEADER_LEN {
        return Ok(None);
    }
    let len = u16::from_be_bytes([buf[2], buf[3]]) as usize;
    if len + super::HEADER_LEN > packet_size {
        return Err("the member sent an AJP13 packet larger than packet_size");
    }
    let end = super::HEADER_LEN + len;
    if buf.len() < end {
        return Ok(None);
    }
    let payload = &buf[super::HEADER_LEN..end];
    let reply = match payload.split_first() {
        None => return Err("the member sent an empty AJP13 packet"),
        Some((&SEND_BODY_CHUNK, rest)) => {
            let n = int_at(rest, 0).ok_or(TRUNCATED)? as usize;
            // Tomcat adds a NUL after the bytes; a packet may carry nothing else.
            if rest.len() != 2 + n && rest.len() != 3 + n {
                return Err("the member sent a body chunk whose length does not match its packet");
            }
            Reply::Body(&rest[2..2 + n])
        }
        Some((&SEND_HEADERS, rest)) => Reply::Headers(rest),
        Some((&END_RESPONSE, [reuse])) => Reply::End { reuse: *reuse != 0 },
        Some((&GET_BODY_CHUNK, [a, b])) => Reply::GetBody(u16::from_be_bytes([*a, *b])),
        Some((&CPONG_REPLY, [])) => Reply::Pong,
        Some((&(END_RESPONSE | GET_BODY_CHUNK | CPONG_REPLY), _)) => return Err(TRUNCATED),
        Some(_) => return Err("the member sent an AJP13 message of an unknown type"),
    };
    Ok(Some((reply, end)))
}

const TRUNCATED: ReplyError = "the member sent a malformed AJP13 message";

fn int_at(buf: &[u8], at: usize) -> Option<u16> {
    let bytes = buf.get(at..at + 2)?;
    Some(u16::from_be_bytes([bytes[0], bytes[1]]))
}

/// Reads an AJP string at `*at`, advancing past it; the null string (`0xFFFF`) is empty.
fn string_at<'a>(buf: &'a [u8], at: &mut usize) -> Option<&'a [u8]> {
    let n = int_at(buf, *at)?;
    *at += 2;
    if n == 0xFFFF {
        return Some(&[]);
    }
    let s = buf.get(*at..*at + n as usize)?;
    // The NUL after the bytes.
    if buf.get(*at + n as usize) != Some(&0) {
        return None;
    }
    *at += n as usize + 1;
    Some(s)
}

/// A header name's bytes: an HTTP token.
fn is_token(name: &[u8]) -> bool {
    !name.is_empty()
        && name
            .iter()
            .all(|&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// A field value as RFC 9110 and ringlb's HTTP parser allow it: visible bytes, spaces, tabs
/// and obs-text; no other control byte (CR, LF and NUL above all, which could end the line).
fn is_value(value: &[u8]) -> bool {
    value
        .iter()
        .all(|&b| b == b'\t' || b == b' ' || (b >= 0x21 && b != 0x7F))
}

/// A reason phrase: the same bytes as a field value.
fn is_reason(reason: &[u8]) -> bool {
    is_value(reason)
}

/// Writes the HTTP/1.1 response head that the `SEND_HEADERS` payload (see [`Reply::Headers`])
/// stands for into `out`, and returns its status. `Transfer-Encoding` from the member is
/// dropped (AJP frames the body itself); a response without `Content-Length` gets
/// `Transfer-Encoding: chunked`, so the HTTP framing rules read it as a body whose end the
/// member will say (`END_RESPONSE`). A 204 or 304 has no body and gets neither: its
/// `Content-Length` is dropped too (Tomcat's AJP connector writes the length of the body it
/// swallowed, `0`, where its HTTP connector writes none, and a 304's length must be the 200's,
/// RFC 9110 section 8.6). The member's reason phrase is kept when it is valid and not empty,
/// else the standard one is written. On error `out` may hold a partial head.
pub fn write_head(payload: &[u8], out: &mut Vec<u8>) -> Result<u16, ReplyError> {
    let status = int_at(payload, 0).ok_or(TRUNCATED)?;
    if !(200..=599).contains(&status) {
        return Err("the member sent an AJP13 status outside 200..=599");
    }
    let mut at = 2;
    let reason = string_at(payload, &mut at).ok_or(TRUNCATED)?;
    let count = int_at(payload, at).ok_or(TRUNCATED)?;
    at += 2;
    out.extend_from_slice(b"HTTP/1.1 ");
    out.extend_from_slice(&[
        b'0' + (status / 100) as u8,
        b'0' + (status / 10 % 10) as u8,
        b'0' + (status % 10) as u8,
        b' ',
    ]);
    let reason = if !reason.is_empty() && is_reason(reason) {
        reason
    } else {
        reason_phrase(status).as_bytes()
    };
    out.extend_from_slice(reason);
    out.extend_from_slice(b"\r\n");
    let bodiless = matches!(status, 204 | 304);
    let mut has_length = false;
    for _ in 0..count {
        let name = match int_at(payload, at).ok_or(TRUNCATED)? {
            code @ 0xA001..=0xA00B => {
                at += 2;
                HEADERS[(code - 0xA001) as usize]
            }
            0xA000..=0xA0FF => return Err("the member sent an unknown AJP13 header code"),
            _ => string_at(payload, &mut at).ok_or(TRUNCATED)?,
        };
        let value = string_at(payload, &mut at).ok_or(TRUNCATED)?;
        if !is_token(name) || !is_value(value) {
            return Err("the member sent an invalid header field over AJP13");
        }
        let is_length = name.eq_ignore_ascii_case(b"content-length");
        if name.eq_ignore_ascii_case(b"transfer-encoding") || (bodiless && is_length) {
            continue;
        }
        has_length |= is_length;
        out.extend_from_slice(name);
        out.extend_from_slice(b": ");
        out.extend_from_slice(value);
        out.extend_from_slice(b"\r\n");
    }
    if at != payload.len() {
        return Err("the member sent bytes after the AJP13 headers");
    }
    if !has_length && !bodiless {
        out.extend_from_slice(b"Transfer-Encoding: chunked\r\n");
    }
    out.extend_from_slice(b"\r\n");
    Ok(status)
}
