//! The AJP13 member protocol (Apache Tomcat Connectors' AJPv13 reference) as pure functions over
//! borrowed bytes: the forward-request packet ([`request`]), the body packets ringlb sends,
//! CPING, and the container's replies ([`reply`]), including the HTTP/1.1 response head a
//! `SEND_HEADERS` packet stands for, so the response path downstream is the HTTP one.
//!
//! Wire shape. Every packet has a 4-byte header: `0x12 0x34` and the payload length (server to
//! container), `A B` and the payload length (container to server), big-endian `u16`. Integers
//! are `u16`, booleans one byte, strings a `u16` length, the bytes and a NUL (`0xFFFF` is the
//! null string). A packet is at most `packet_size` bytes with its header (8192 by default, up
//! to 65536, and the same on both sides: Tomcat's `packetSize`).
//!
//! Nothing here does I/O or allocates beyond the caller's output buffer.

pub mod reply;
pub mod request;

#[cfg(test)]
mod tests;

/// Packet header length.
pub const HEADER_LEN: usize = 4;

/// Default `packet_size` (mod_jk `max_packet_size`, httpd `ProxyIOBufferSize`, Tomcat
/// `packetSize`).
pub const DEFAULT_PACKET_SIZE: usize = 8192;

/// Largest `packet_size` the protocol allows (the length field is 16 bits).
pub const MAX_PACKET_SIZE: usize = 65536;

/// The CPING packet: the container answers with CPONG without touching any request.
pub const CPING: [u8; 5] = [0x12, 0x34, 0x00, 0x01, 10];

/// The empty body packet: the request body has ended (or there is none left to give).
pub const END_OF_BODY: [u8; 4] = [0x12, 0x34, 0x00, 0x00];

/// Most request-body bytes one data packet carries: the packet less its header and the
/// chunk's own length field (Tomcat's `MAX_READ_SIZE` for 8192).
pub fn max_body_chunk(packet_size: usize) -> usize {
    packet_size - HEADER_LEN - 2
}

/// Appends one request-body data packet holding `data` (at most [`max_body_chunk`] bytes;
/// the caller splits). An empty `data` is [`END_OF_BODY`].
pub fn push_body_packet(out: &mut Vec<u8>, data: &[u8]) {
    if data.is_empty() {
        out.extend_from_slice(&END_OF_BODY);
        return;
    }
    let n = data.len() as u16;
    out.extend_from_slice(&[0x12, 0x34]);
    out.extend_from_slice(&(n + 2).to_be_bytes());
    out.extend_from_slice(&n.to_be_bytes());
    out.extend_from_slice(data);
}

/// Appends an AJP string: length, bytes, NUL.
fn push_string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

/// Appends an AJP integer.
fn push_int(out: &mut Vec<u8>, n: u16) {
    out.extend_from_slice(&n.to_be_bytes());
}
