//! The `FORWARD_REQUEST` packet: the request line, the client's connection facts, the header
//! fields (the common ones by code) and the attributes, as mod_jk and mod_proxy_ajp send them.
//!
//! Attributes sent: `query_string` when the target has one, `jvm_route` (the member's route)
//! when set, the TLS facts of a TLS client connection (`ssl_cipher`, `ssl_cert`, `ssl_key_size`
//! and the `AJP_SSL_PROTOCOL` request attribute), `AJP_REMOTE_PORT`,
//! `JK_LB_ACTIVATION` (mod_jk's `ACT`/`DIS`/`STP`), `secret` when configured, and
//! `stored_method` for a method without a code. Tomcat (9.0.31+) answers 403 to any other
//! request attribute, so nothing else is sent.

use super::{push_int, push_string, HEADER_LEN};

/// Method codes, in code order from 1 (`OPTIONS`).
const METHODS: [&[u8]; 27] = [
    b"OPTIONS",
    b"GET",
    b"HEAD",
    b"POST",
    b"PUT",
    b"DELETE",
    b"TRACE",
    b"PROPFIND",
    b"PROPPATCH",
    b"MKCOL",
    b"COPY",
    b"MOVE",
    b"LOCK",
    b"UNLOCK",
    b"ACL",
    b"REPORT",
    b"VERSION-CONTROL",
    b"CHECKIN",
    b"CHECKOUT",
    b"UNCHECKOUT",
    b"SEARCH",
    b"MKWORKSPACE",
    b"UPDATE",
    b"LABEL",
    b"MERGE",
    b"BASELINE-CONTROL",
    b"MKACTIVITY",
];

/// Request header codes, in code order from `0xA001` (`accept`).
const HEADERS: [&[u8]; 14] = [
    b"accept",
    b"accept-charset",
    b"accept-encoding",
    b"accept-language",
    b"authorization",
    b"connection",
    b"content-type",
    b"content-length",
    b"cookie",
    b"cookie2",
    b"host",
    b"pragma",
    b"referer",
    b"user-agent",
];

const FORWARD_REQUEST: u8 = 2;
/// A method sent by name in the `stored_method` attribute.
const STORED_METHOD: u8 = 0xFF;

const A_QUERY_STRING: u8 = 5;
const A_JVM_ROUTE: u8 = 6;
const A_SSL_CERT: u8 = 7;
const A_SSL_CIPHER: u8 = 8;
const A_REQ_ATTRIBUTE: u8 = 10;
const A_SSL_KEY_SIZE: u8 = 11;
const A_SECRET: u8 = 12;
const A_STORED_METHOD: u8 = 13;
const A_ARE_DONE: u8 = 0xFF;

/// The TLS facts of the client's connection.
#[derive(Clone, Copy, Debug)]
pub struct Ssl<'a> {
    /// OpenSSL's cipher name (mod_ssl's `SSL_CIPHER`).
    pub cipher: &'a [u8],
    /// `TLSv1.3`, `TLSv1.2`.
    pub protocol: &'a [u8],
    /// The cipher's key size in bits, when known.
    pub key_bits: Option<u16>,
    /// The client's certificate (PEM), when it presented one.
    pub cert: Option<&'a [u8]>,
}

/// Everything a forward-request packet carries. Byte strings are sent as they are: the
/// caller passes a request that already passed HTTP parsing (no CR, LF or NUL in any value).
#[derive(Clone, Copy, Debug)]
pub struct ForwardRequest<'a> {
    pub method: &'a [u8],
    /// `HTTP/1.1` or `HTTP/1.0`.
    pub protocol: &'a [u8],
    /// The path, without the query.
    pub uri: &'a [u8],
    /// The query, without the `?`; `None` when the target has none.
    pub query: Option<&'a [u8]>,
    /// The client's address and port, as text and number.
    pub remote_addr: &'a [u8],
    pub remote_port: u16,
    /// The name and port the client asked for (its `Host`, else the listener's).
    pub server_name: &'a [u8],
    pub server_port: u16,
    pub ssl: Option<Ssl<'a>>,
    /// The header fields, in order.
    pub headers: &'a [(&'a [u8], &'a [u8])],
    /// The member's route; empty = not sent.
    pub route: &'a [u8],
    /// mod_jk's `JK_LB_ACTIVATION` for the member.
    pub activation: &'a [u8],
    /// The connector's `secret`, when configured.
    pub secret: Option<&'a [u8]>,
}

/// The request does not fit one packet of the member's `packet_size` (mod_jk's and
/// mod_proxy_ajp's limit too: a head goes in one packet).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TooLarge;

/// The method's code, or [`STORED_METHOD`].
fn method_code(method: &[u8]) -> u8 {
    match METHODS.iter().position(|m| *m == method) {
        Some(i) => i as u8 + 1,
        None => STORED_METHOD,
    }
}

/// The header's code (`0xA0xx`), if it has one. Names match case-insensitively.
fn header_code(name: &[u8]) -> Option<u16> {
    (HEADERS.iter())
        .position(|h| h.eq_ignore_ascii_case(name))
        .map(|i| 0xA001 + i as u16)
}

/// `n` in decimal, written into `buf`.
fn decimal(mut n: u16, buf: &mut [u8; 5]) -> &[u8] {
    let mut at = buf.len();
    loop {
        at -= 1;
        buf[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            return &buf[at..];
        }
    }
}

fn push_attribute(out: &mut Vec<u8>, code: u8, value: &[u8]) {
    out.push(code);
    push_string(out, value);
}

fn push_request_attribute(out: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    out.push(A_REQ_ATTRIBUTE);
    push_string(out, name);
    push_string(out, value);
}

/// Appends the forward-request packet for `req` to `out`. On [`TooLarge`] `out` is left as it
/// was.
pub fn encode(
    req: &ForwardRequest<'_>,
    packet_size: usize,
    out: &mut Vec<u8>,
) -> Result<(), TooLarge> {
    let start = out.len();
    out.extend_from_slice(&[0x12, 0x34, 0, 0]);
    out.push(FORWARD_REQUEST);
    let method = method_code(req.method);
    out.push(method);
    push_string(out, req.protocol);
    push_string(out, req.uri);
    push_string(out, req.remote_addr);
    // remote_host: no reverse lookups (httpd's `HostnameLookups Off` sends the address).
    push_string(out, req.remote_addr);
    push_string(out, req.server_name);
    push_int(out, req.server_port);
    out.push(req.ssl.is_some() as u8);
    push_int(out, req.headers.len() as u16);
    for (name, value) in req.headers {
        match header_code(name) {
            Some(code) => push_int(out, code),
            None => push_string(out, name),
        }
        push_string(out, value);
    }
    if let Some(query) = req.query {
        push_attribute(out, A_QUERY_STRING, query);
    }
    if !req.route.is_empty() {
        push_attribute(out, A_JVM_ROUTE, req.route);
    }
    if let Some(ssl) = &req.ssl {
        push_attribute(out, A_SSL_CIPHER, ssl.cipher);
        if let Some(cert) = ssl.cert {
            push_attribute(out, A_SSL_CERT, cert);
        }
        if let Some(bits) = ssl.key_bits {
            out.push(A_SSL_KEY_SIZE);
            push_int(out, bits);
        }
        push_request_attribute(out, b"AJP_SSL_PROTOCOL", ssl.protocol);
    }
    let mut digits = [0u8; 5];
    push_request_attribute(
        out,
        b"AJP_REMOTE_PORT",
        decimal(req.remote_port, &mut digits),
    );
    push_request_attribute(out, b"JK_LB_ACTIVATION", req.activation);
    if let Some(secret) = req.secret {
        push_attribute(out, A_SECRET, secret);
    }
    if method == STORED_METHOD {
        push_attribute(out, A_STORED_METHOD, req.method);
    }
    out.push(A_ARE_DONE);
    let payload = out.len() - start - HEADER_LEN;
    if payload + HEADER_LEN > packet_size || req.headers.len() > u16::MAX as usize {
        out.truncate(start);
        return Err(TooLarge);
    }
    out[start + 2..start + 4].copy_from_slice(&(payload as u16).to_be_bytes());
    Ok(())
}
