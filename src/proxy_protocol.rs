//! The PROXY protocol header (HAProxy's `proxy-protocol.txt`, versions 1 and 2) that an L4
//! balancer in front of ringlb sends before the client's first byte, to say whom it accepted
//! the connection from. Pure and incremental: [`parse`] takes the bytes received so far and
//! says whether a header is complete, needs more bytes, or is not one. No I/O; the worker
//! (`worker::proxied`) reads, calls [`parse`] and strips the header.
//!
//! Rules, each with a test case in `proxy_protocol/tests.rs`:
//! 1. The first byte decides: `P` is a v1 candidate, `\r` a v2 candidate, anything else is not
//!    a header. A prefix that stops matching the v1 `PROXY ` or the v2 signature is refused at
//!    once, without waiting for more bytes.
//! 2. v1 is one line `PROXY <proto> ...\r\n` of at most [`V1_MAX_BYTES`] (107) bytes including
//!    the CRLF; no line end within them is refused. A bare LF, or a CR not followed by LF, is
//!    refused.
//! 3. v1 `TCP4` and `TCP6` take exactly four fields after the protocol, each separated by one
//!    space: source address, destination address (of that family), source port, destination
//!    port (1 to 5 decimal digits, at most 65535). The source is the client.
//! 4. v1 `UNKNOWN`, alone or followed by a space and anything up to the CRLF: the header is
//!    valid and says nothing; the connection's own peer stays the client.
//! 5. v2 is the 12-byte signature, a version/command byte, a family/transport byte and a
//!    16-bit big-endian length of the rest; the rest is at most [`V2_MAX_PAYLOAD`] bytes.
//!    The version must be 2 and the command LOCAL (0) or PROXY (1).
//! 6. v2 LOCAL (health checks of the balancer itself): the rest is skipped unread; the
//!    connection's own peer stays the client.
//! 7. v2 PROXY: the family/transport byte is one of the spec's seven (`0x00` UNSPEC,
//!    `0x11`/`0x12` INET stream/datagram, `0x21`/`0x22` INET6, `0x31`/`0x32` UNIX); others are
//!    refused. UNSPEC: the rest is skipped. The others: the rest starts with the address
//!    block (12, 36 or 216 bytes; a shorter rest is refused), followed by TLVs (type byte,
//!    16-bit length, value) that must exactly fill what is left; their content is skipped.
//! 8. Only a TCP (stream) source over INET or INET6 names the client, as in HAProxy; the
//!    other families and datagram transports leave the connection's peer as the client.
//!
//! Bounds: a v2 header is at most [`MAX_HEADER_BYTES`]; [`read_limit`] says how many bytes a
//! reader may take before it knows more, so that it never takes more than [`V1_MAX_BYTES`]
//! bytes past the header's end.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

#[cfg(test)]
mod tests;

/// Longest v1 header, CRLF included (the spec's worst case, a `TCP6` line with full-length
/// addresses and ports).
pub const V1_MAX_BYTES: usize = 107;
/// The v2 header's fixed part: signature, version/command, family/transport, length.
pub const V2_FIXED_BYTES: usize = 16;
/// Longest v2 rest (address block and TLVs) ringlb takes. The spec allows 65535; the address
/// blocks are at most 216 bytes and the TLVs balancers send (AWS VPC endpoint, Azure link
/// id, HAProxy's SSL, authority and unique-id TLVs) a few hundred. The bound is what an
/// unauthenticated peer can make a connection buffer before it is refused.
pub const V2_MAX_PAYLOAD: usize = 4096;
/// Longest header of either version.
pub const MAX_HEADER_BYTES: usize = V2_FIXED_BYTES + V2_MAX_PAYLOAD;

/// The v2 signature: `\r\n\r\n\0\r\nQUIT\n`.
pub const V2_SIGNATURE: [u8; 12] = *b"\r\n\r\n\0\r\nQUIT\n";
const V1_PREFIX: &[u8] = b"PROXY ";

/// What the bytes received so far are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parse {
    /// A valid start of a header: read more.
    NeedMore,
    /// A complete header of `consumed` bytes (what follows is the client's). `source` is the
    /// client it names; `None` (v1 `UNKNOWN`, v2 LOCAL, a family without a TCP source): the
    /// connection's own peer is the client.
    Done {
        source: Option<SocketAddr>,
        consumed: usize,
    },
    /// Not a PROXY protocol header, or a broken one: close the connection.
    Invalid(&'static str),
}

/// Parses the start of a connection. See the module doc for the rules.
pub fn parse(buf: &[u8]) -> Parse {
    let outcome = match buf.first() {
        None => Ok(None),
        Some(b'P') => v1(buf),
        Some(b'\r') => v2(buf),
        Some(_) => Err(NOT_A_HEADER),
    };
    match outcome {
        Ok(None) => Parse::NeedMore,
        Ok(Some((source, consumed))) => Parse::Done { source, consumed },
        Err(why) => Parse::Invalid(why),
    }
}

/// How many bytes, from the start of the connection, a reader may hold while [`parse`] says
/// [`Parse::NeedMore`]: [`V1_MAX_BYTES`] until a v2 length is known, then the v2 header's
/// length if larger (at most [`MAX_HEADER_BYTES`]). Reading no more than this leaves at most
/// [`V1_MAX_BYTES`] of the client's bytes after the header.
pub fn read_limit(buf: &[u8]) -> usize {
    let v2_total = match buf.get(..V2_FIXED_BYTES) {
        Some(fixed) if fixed.starts_with(&V2_SIGNATURE) => {
            let len = u16::from_be_bytes([fixed[14], fixed[15]]);
            V2_FIXED_BYTES + usize::from(len).min(V2_MAX_PAYLOAD)
        }
        _ => 0,
    };
    v2_total.max(V1_MAX_BYTES)
}

const NOT_A_HEADER: &str = "not a PROXY protocol header";

/// `Ok(None)`: need more; `Ok(Some((source, consumed)))`: done.
type Step = Result<Option<(Option<SocketAddr>, usize)>, &'static str>;

/// Whether `buf` is a prefix of `whole` or starts with it.
fn matches_prefix(buf: &[u8], whole: &[u8]) -> bool {
    let n = buf.len().min(whole.len());
    buf[..n] == whole[..n]
}

fn v1(buf: &[u8]) -> Step {
    if !matches_prefix(buf, V1_PREFIX) {
        return Err(NOT_A_HEADER);
    }
    let window = &buf[..buf.len().min(V1_MAX_BYTES)];
    let Some(end) = memchr::memchr2(b'\r', b'\n', window) else {
        return if buf.len() >= V1_MAX_BYTES {
            Err("PROXY v1 line longer than 107 bytes")
        } else {
            Ok(None)
        };
    };
    match window.get(end..end + 2) {
        Some(b"\r\n") => {}
        None if window[end] == b'\r' && buf.len() < V1_MAX_BYTES => return Ok(None),
        _ => return Err("PROXY v1 line not ended by CRLF"),
    }
    let fields = window.get(V1_PREFIX.len()..end).unwrap_or_default();
    let source = v1_fields(fields)?;
    Ok(Some((source, end + 2)))
}

/// The fields after `PROXY `, without the CRLF.
fn v1_fields(line: &[u8]) -> Result<Option<SocketAddr>, &'static str> {
    if line == b"UNKNOWN" || line.starts_with(b"UNKNOWN ") {
        return Ok(None);
    }
    let mut parts = line.split(|&b| b == b' ');
    let proto = parts.next().unwrap_or_default();
    let v6 = match proto {
        b"TCP4" => false,
        b"TCP6" => true,
        _ => return Err("PROXY v1 protocol is not TCP4, TCP6 or UNKNOWN"),
    };
    let (Some(src), Some(dst), Some(sport), Some(dport), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return Err("PROXY v1 line does not have four fields after the protocol");
    };
    let src = v1_addr(src, v6)?;
    v1_addr(dst, v6)?;
    let sport = v1_port(sport)?;
    v1_port(dport)?;
    Ok(Some(SocketAddr::new(src, sport)))
}

fn v1_addr(field: &[u8], v6: bool) -> Result<IpAddr, &'static str> {
    let text = std::str::from_utf8(field).map_err(|_| "PROXY v1 address is not ASCII")?;
    if v6 {
        text.parse::<Ipv6Addr>()
            .map(IpAddr::V6)
            .map_err(|_| "PROXY v1 TCP6 address is not an IPv6 address")
    } else {
        text.parse::<Ipv4Addr>()
            .map(IpAddr::V4)
            .map_err(|_| "PROXY v1 TCP4 address is not an IPv4 address")
    }
}

fn v1_port(field: &[u8]) -> Result<u16, &'static str> {
    const BAD: &str = "PROXY v1 port is not a number 0..=65535";
    if field.is_empty() || field.len() > 5 || !field.iter().all(u8::is_ascii_digit) {
        return Err(BAD);
    }
    let n = field.iter().fold(0u32, |n, d| n * 10 + u32::from(d - b'0'));
    u16::try_from(n).map_err(|_| BAD)
}

/// Command nibbles (the low half of byte 13).
const LOCAL: u8 = 0x0;
const PROXY: u8 = 0x1;

fn v2(buf: &[u8]) -> Step {
    if !matches_prefix(buf, &V2_SIGNATURE) {
        return Err(NOT_A_HEADER);
    }
    let command = match buf.get(12) {
        None => return Ok(None),
        Some(b) if b >> 4 != 2 => return Err("PROXY v2 version is not 2"),
        Some(b) if b & 0xf == LOCAL || b & 0xf == PROXY => b & 0xf,
        Some(_) => return Err("PROXY v2 command is not LOCAL or PROXY"),
    };
    let address_len = match (command, buf.get(13)) {
        (_, None) => return Ok(None),
        (LOCAL, Some(_)) | (_, Some(0x00)) => 0,
        (_, Some(0x11 | 0x12)) => 12,
        (_, Some(0x21 | 0x22)) => 36,
        (_, Some(0x31 | 0x32)) => 216,
        (_, Some(_)) => return Err("PROXY v2 address family or transport is unknown"),
    };
    let Some(&[hi, lo]) = buf.get(14..16) else {
        return Ok(None);
    };
    let len = usize::from(u16::from_be_bytes([hi, lo]));
    if len > V2_MAX_PAYLOAD {
        return Err("PROXY v2 header longer than ringlb takes");
    }
    if len < address_len {
        return Err("PROXY v2 address block shorter than its family's");
    }
    let total = V2_FIXED_BYTES + len;
    let Some(rest) = buf.get(V2_FIXED_BYTES..total) else {
        return Ok(None);
    };
    let family = buf[13];
    if command == LOCAL || family == 0x00 {
        return Ok(Some((None, total)));
    }
    check_tlvs(&rest[address_len..])?;
    // The address block's length was checked against the family above.
    let source = match family {
        0x11 => rest.get(..12).map(|b| {
            let ip = Ipv4Addr::new(b[0], b[1], b[2], b[3]);
            SocketAddr::new(IpAddr::V4(ip), u16::from_be_bytes([b[8], b[9]]))
        }),
        0x21 => rest.get(..36).map(|b| {
            let mut octets = [0u8; 16];
            octets.copy_from_slice(&b[..16]);
            let ip = Ipv6Addr::from(octets);
            SocketAddr::new(IpAddr::V6(ip), u16::from_be_bytes([b[32], b[33]]))
        }),
        _ => None,
    };
    Ok(Some((source, total)))
}

/// TLVs fill `tlvs` exactly: each a type byte, a 16-bit big-endian length and that many bytes.
fn check_tlvs(mut tlvs: &[u8]) -> Result<(), &'static str> {
    while !tlvs.is_empty() {
        let [_, hi, lo, rest @ ..] = tlvs else {
            return Err("PROXY v2 TLV cut short");
        };
        let len = usize::from(u16::from_be_bytes([*hi, *lo]));
        tlvs = rest
            .get(len..)
            .ok_or("PROXY v2 TLV longer than the header")?;
    }
    Ok(())
}
