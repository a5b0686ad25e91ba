//! Apache `LogFormat` strings: compiled once into a [`Format`] (a list of [`Piece`]s) at
//! start-up or reload, then rendered per request by [`Format::write`].
//!
//! Pure: no I/O, no clock, no thread-locals. Rendering appends to the caller's buffer and does
//! not allocate otherwise (digits go through a stack buffer, escaping is done byte by byte into
//! `out`), so the only cost per request is `out`'s amortised growth.
//!
//! # Directives
//!
//! | directive | prints |
//! |---|---|
//! | `%h`, `%a` | client IP (IPv4-mapped IPv6 printed as IPv4, as APR does) |
//! | `%l`, `%u` | `-` (no identd, no authentication) |
//! | `%t` | `[21/Nov/2026:20:36:21 +0000]`, the time the request was received, UTC |
//! | `%r` | request line `METHOD target VERSION`, escaped; `-` if nothing was parsed |
//! | `%m`, `%H` | method, protocol (`HTTP/1.1`), escaped; `-` if empty |
//! | `%U` | path of the target, without the query, as received (not percent-decoded), escaped |
//! | `%q` | `?` + query, escaped, or the empty string when the target has no `?` |
//! | `%s`, `%>s`, `%<s` | status (ringlb has one status per request); `-` for 0 (no response) |
//! | `%b` | response body bytes, `-` for 0 (CLF) |
//! | `%B` | response body bytes |
//! | `%O` | bytes sent to the client, head included |
//! | `%I` | bytes received from the client, head included |
//! | `%D`, `%{us}T` | total time in microseconds |
//! | `%T`, `%{s}T` | total time in whole seconds (truncated) |
//! | `%{ms}T` | total time in milliseconds |
//! | `%{Name}i` | request header: all fields of that name joined with `, `; `-` if absent |
//! | `%{Name}o` | response header, joined the same way; `Content-Type` without parameters |
//! | `%{VAR}e` | a balancer value, see below; `-` when unset |
//! | `%%` | `%` |
//!
//! `%{VAR}e` names: `BALANCER_NAME`, `BALANCER_WORKER_NAME`, `BALANCER_WORKER_ROUTE`,
//! `BALANCER_SESSION_STICKY`, `BALANCER_SESSION_ROUTE`, `BALANCER_ROUTE_CHANGED` (`1` or `-`),
//! as Apache sets them (docs/semantics.md §3 item 8), and ringlb's `RINGLB_UPSTREAM_TIME` (µs from
//! sending the request to the member until its response head arrived), `RINGLB_WORKER` (worker
//! thread index) and `RINGLB_ATTEMPTS` (members tried). Joining repeated request headers matches
//! Apache, which merges them when reading the head; `Content-Type` without parameters matches
//! its `ap_field_noparam`.
//!
//! Literal text may use `\"`, `\\`, `\t`, `\n` and `\r`; any other backslash is kept verbatim
//! (Apache's rule). Anything else after `%` (unknown letters, Apache's status conditions such as
//! `%400,501{X}i`, `%{format}t`, unknown `%{VAR}e` names) is a parse error naming its column,
//! so a format that ringlb would print differently from Apache is refused at start-up.
//!
//! # Escaping
//!
//! Every value that can come from a client or a member (request line, path, query, headers,
//! session values) is escaped exactly as Apache's `ap_escape_logitem`: `"` and `\` get a
//! backslash, `\b \n \r \t \v` are written as those two-character escapes, and every other byte
//! outside printable ASCII (0x20..=0x7e) as `\xhh` with lower-case hex. A line therefore never
//! contains a raw newline from a request, which keeps the sink's whole-line writes whole.
//! `%{VAR}e` values are escaped too (Apache does not escape environment variables, but the
//! session route is client-controlled).

use std::io::Write as _;
use std::net::IpAddr;

use super::time::TimeCache;
use super::{HeaderView, Record};
use crate::http::push_decimal;

/// Apache's `combined` format, ringlb's default.
pub const COMBINED: &str = r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#;
/// Apache's `common` format (CLF).
pub const COMMON: &str = r#"%h %l %u %t "%r" %>s %b"#;
/// `combined` plus the balancer decision and timings.
pub const BALANCER: &str = concat!(
    r#"%h %l %u %t "%r" %>s %b "%{Referer}i" "%{User-Agent}i""#,
    " %{BALANCER_WORKER_ROUTE}e %{BALANCER_SESSION_ROUTE}e %{BALANCER_ROUTE_CHANGED}e",
    " %D %{RINGLB_UPSTREAM_TIME}e"
);

/// The format string behind a predefined name (`combined`, `common`, `balancer`).
pub fn named(name: &str) -> Option<&'static str> {
    match name {
        "combined" => Some(COMBINED),
        "common" => Some(COMMON),
        "balancer" => Some(BALANCER),
        _ => None,
    }
}

/// A compiled log format: immutable, cheap to render, shareable across threads (`Arc<Format>`
/// in the configuration snapshot).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Format {
    pieces: Vec<Piece>,
}

/// One element of a compiled format. Adjacent literal text is merged into one `Literal`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Piece {
    Literal(Box<[u8]>),
    ClientIp,
    Time,
    RequestLine,
    Method,
    Path,
    Query,
    Protocol,
    Status,
    /// `%b`: `-` for zero.
    BodyBytesClf,
    /// `%B`
    BodyBytes,
    BytesOut,
    BytesIn,
    Duration(Unit),
    /// Header name as written in the format; matched ASCII case-insensitively.
    RequestHeader(Box<[u8]>),
    ResponseHeader(Box<[u8]>),
    Env(Var),
}

/// Unit of a `%T` / `%D` duration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Seconds,
    Millis,
    Micros,
}

/// The `%{VAR}e` names ringlb knows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Var {
    BalancerName,
    WorkerName,
    WorkerRoute,
    SessionSticky,
    SessionRoute,
    RouteChanged,
    UpstreamTime,
    QueueTime,
    Worker,
    Attempts,
}

impl Var {
    /// The variable for an `%{NAME}e` argument (case-sensitive, as environment names are).
    pub fn from_name(name: &str) -> Option<Var> {
        Some(match name {
            "BALANCER_NAME" => Var::BalancerName,
            "BALANCER_WORKER_NAME" => Var::WorkerName,
            "BALANCER_WORKER_ROUTE" => Var::WorkerRoute,
            "BALANCER_SESSION_STICKY" => Var::SessionSticky,
            "BALANCER_SESSION_ROUTE" => Var::SessionRoute,
            "BALANCER_ROUTE_CHANGED" => Var::RouteChanged,
            "RINGLB_UPSTREAM_TIME" => Var::UpstreamTime,
            "RINGLB_QUEUE_TIME" => Var::QueueTime,
            "RINGLB_WORKER" => Var::Worker,
            "RINGLB_ATTEMPTS" => Var::Attempts,
            _ => return None,
        })
    }
}

impl Default for Format {
    /// `combined`.
    fn default() -> Self {
        match Format::parse(COMBINED) {
            Ok(f) => f,
            Err(e) => unreachable!("built-in format: {e}"),
        }
    }
}

impl Format {
    /// Compiles `spec`, which is either a predefined name (see [`named`]) or a format string.
    /// The error names the 1-based column (in characters) of the offending directive.
    pub fn parse(spec: &str) -> Result<Format, String> {
        let spec = named(spec).unwrap_or(spec);
        let b = spec.as_bytes();
        let mut pieces = Vec::new();
        let mut lit = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'\\' => {
                    let unescaped = match b.get(i + 1) {
                        Some(b'n') => b'\n',
                        Some(b't') => b'\t',
                        Some(b'r') => b'\r',
                        Some(b'"') => b'"',
                        Some(b'\\') => b'\\',
                        // Apache keeps an unknown escape verbatim; the next byte is read as usual.
                        _ => {
                            lit.push(b'\\');
                            i += 1;
                            continue;
                        }
                    };
                    lit.push(unescaped);
                    i += 2;
                }
                b'%' => {
                    let (piece, next) = parse_directive(spec, i)?;
                    i = next;
                    match piece {
                        Piece::Literal(text) => lit.extend_from_slice(&text),
                        piece => {
                            if !lit.is_empty() {
                                pieces.push(Piece::Literal(std::mem::take(&mut lit).into()));
                            }
                            pieces.push(piece);
                        }
                    }
                }
                c => {
                    lit.push(c);
                    i += 1;
                }
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Literal(lit.into()));
        }
        Ok(Format { pieces })
    }

    /// The compiled pieces, in order.
    pub fn pieces(&self) -> &[Piece] {
        &self.pieces
    }

    /// Appends the line for `rec`, ending in `\n`, to `out`. Formats `%t` from scratch; workers
    /// use [`write_with`](Self::write_with) and keep a [`TimeCache`].
    pub fn write(&self, rec: &Record<'_>, out: &mut Vec<u8>) {
        self.write_with(rec, &mut TimeCache::new(), out);
    }

    /// Appends the line for `rec`, ending in `\n`, to `out`, taking `%t` from `time`.
    ///
    /// Post-conditions: exactly one `\n` is appended, at the end, unless the format itself has
    /// literal `\n`s; values never contribute raw control bytes. Nothing is allocated except by
    /// `out` growing.
    pub fn write_with(&self, rec: &Record<'_>, time: &mut TimeCache, out: &mut Vec<u8>) {
        for piece in &self.pieces {
            match piece {
                Piece::Literal(text) => out.extend_from_slice(text),
                Piece::ClientIp => write_ip(out, rec.client_ip),
                Piece::Time => out.extend_from_slice(time.get(rec.unix_time)),
                Piece::RequestLine => {
                    if rec.method.is_empty() && rec.target.is_empty() {
                        out.push(b'-');
                    } else {
                        escape_into(out, rec.method);
                        out.push(b' ');
                        escape_into(out, rec.target);
                        if !rec.version.is_empty() {
                            out.push(b' ');
                            escape_into(out, rec.version);
                        }
                    }
                }
                Piece::Method => escape_or_dash(out, rec.method),
                Piece::Path => escape_or_dash(out, split_target(rec.target).0),
                Piece::Query => {
                    if let Some(q) = split_target(rec.target).1 {
                        out.push(b'?');
                        escape_into(out, q);
                    }
                }
                Piece::Protocol => escape_or_dash(out, rec.version),
                Piece::Status => nonzero_or_dash(out, u64::from(rec.status)),
                Piece::BodyBytesClf => nonzero_or_dash(out, rec.body_bytes),
                Piece::BodyBytes => push_decimal(out, rec.body_bytes),
                Piece::BytesOut => push_decimal(out, rec.bytes_out),
                Piece::BytesIn => push_decimal(out, rec.bytes_in),
                Piece::Duration(Unit::Seconds) => push_decimal(out, rec.total_us / 1_000_000),
                Piece::Duration(Unit::Millis) => push_decimal(out, rec.total_us / 1_000),
                Piece::Duration(Unit::Micros) => push_decimal(out, rec.total_us),
                Piece::RequestHeader(name) => write_header(out, rec.request_headers, name, false),
                Piece::ResponseHeader(name) => {
                    let no_param = name.eq_ignore_ascii_case(b"content-type");
                    write_header(out, rec.response_headers, name, no_param);
                }
                Piece::Env(var) => write_var(out, rec, *var),
            }
        }
        out.push(b'\n');
    }
}

/// Parses the directive starting at the `%` at byte `start`; returns the piece and the index
/// after it. `%%`, `%l` and `%u` come back as literals so they merge with their neighbours.
fn parse_directive(spec: &str, start: usize) -> Result<(Piece, usize), String> {
    let b = spec.as_bytes();
    let col = spec[..start].chars().count() + 1;
    let mut i = start + 1;
    let mut arg: Option<&str> = None;
    let mut modifier = false;
    let letter = loop {
        match b.get(i) {
            None => return Err(format!("format ends inside the directive at column {col}")),
            Some(b'<' | b'>') if !modifier => {
                modifier = true;
                i += 1;
            }
            Some(b'{') if arg.is_none() => {
                let Some(len) = memchr::memchr(b'}', &b[i + 1..]) else {
                    return Err(format!("unclosed '{{' in the directive at column {col}"));
                };
                arg = Some(&spec[i + 1..i + 1 + len]);
                i += len + 2;
            }
            Some(_) => {
                // Directives are ASCII letters; take the whole char so the message is readable.
                let c = spec[i..].chars().next().unwrap_or('?');
                i += c.len_utf8();
                break c;
            }
        }
    };
    let no_arg = |piece: Piece| match arg {
        None => Ok(piece),
        Some(a) => Err(format!(
            "directive '%{letter}' at column {col} takes no {{argument}} (got '{a}')"
        )),
    };
    let piece = match letter {
        '%' if arg.is_none() && !modifier => Piece::Literal(Box::from(&b"%"[..])),
        'h' | 'a' => no_arg(Piece::ClientIp)?,
        'l' | 'u' => no_arg(Piece::Literal(Box::from(&b"-"[..])))?,
        't' => no_arg(Piece::Time)?,
        'r' => no_arg(Piece::RequestLine)?,
        'm' => no_arg(Piece::Method)?,
        'U' => no_arg(Piece::Path)?,
        'q' => no_arg(Piece::Query)?,
        'H' => no_arg(Piece::Protocol)?,
        's' => no_arg(Piece::Status)?,
        'b' => no_arg(Piece::BodyBytesClf)?,
        'B' => no_arg(Piece::BodyBytes)?,
        'O' => no_arg(Piece::BytesOut)?,
        'I' => no_arg(Piece::BytesIn)?,
        'D' => no_arg(Piece::Duration(Unit::Micros))?,
        'T' => match arg {
            None | Some("s") => Piece::Duration(Unit::Seconds),
            Some("ms") => Piece::Duration(Unit::Millis),
            Some("us") => Piece::Duration(Unit::Micros),
            Some(a) => {
                return Err(format!(
                    "unknown unit '{a}' in '%{{{a}}}T' at column {col} (use s, ms or us)"
                ))
            }
        },
        'i' | 'o' => {
            let Some(name) = arg.filter(|n| is_token(n)) else {
                let usage = format!("%{{Name}}{letter}");
                return Err(format!(
                    "directive '%{letter}' at column {col} needs a header name: {usage}"
                ));
            };
            let name = Box::from(name.as_bytes());
            if letter == 'i' {
                Piece::RequestHeader(name)
            } else {
                Piece::ResponseHeader(name)
            }
        }
        'e' => match arg.map(|a| (a, Var::from_name(a))) {
            Some((_, Some(var))) => Piece::Env(var),
            Some((a, None)) => {
                return Err(format!(
                    "unknown variable '{a}' in '%{{{a}}}e' at column {col}"
                ))
            }
            None => {
                return Err(format!(
                    "directive '%e' at column {col} needs a name: %{{VAR}}e"
                ))
            }
        },
        c => return Err(format!("unknown directive '%{c}' at column {col}")),
    };
    Ok((piece, i))
}

/// RFC 9110 token: what a header name may be.
fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&c))
}

/// Splits a request target into its path and its query (text after the first `?`, `None` when
/// there is no `?`). For an absolute-form target (`http://host/p?q`) the path starts at the first
/// `/` after the authority, `/` when there is none.
pub fn split_target(target: &[u8]) -> (&[u8], Option<&[u8]>) {
    let (before, query) = match memchr::memchr(b'?', target) {
        Some(q) => (&target[..q], Some(&target[q + 1..])),
        None => (target, None),
    };
    let path = if before.first() == Some(&b'/') {
        before
    } else if let Some(scheme_end) = memchr::memmem::find(before, b"://") {
        let rest = &before[scheme_end + 3..];
        match memchr::memchr(b'/', rest) {
            Some(p) => &rest[p..],
            None => b"/",
        }
    } else {
        before // `*` (OPTIONS) or a malformed target: print as received
    };
    (path, query)
}

/// Appends `bytes` escaped as Apache's `ap_escape_logitem` does (see the module doc).
pub fn escape_into(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut clean = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if (0x20..0x7f).contains(&b) && b != b'"' && b != b'\\' {
            continue;
        }
        out.extend_from_slice(&bytes[clean..i]);
        clean = i + 1;
        let short = match b {
            b'"' | b'\\' => b,
            0x08 => b'b',
            b'\n' => b'n',
            b'\r' => b'r',
            b'\t' => b't',
            0x0b => b'v',
            _ => {
                const HEX: &[u8; 16] = b"0123456789abcdef";
                out.extend_from_slice(&[
                    b'\\',
                    b'x',
                    HEX[usize::from(b >> 4)],
                    HEX[usize::from(b & 15)],
                ]);
                continue;
            }
        };
        out.extend_from_slice(&[b'\\', short]);
    }
    out.extend_from_slice(&bytes[clean..]);
}

fn escape_or_dash(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_empty() {
        out.push(b'-');
    } else {
        escape_into(out, bytes);
    }
}

fn nonzero_or_dash(out: &mut Vec<u8>, n: u64) {
    if n == 0 {
        out.push(b'-');
    } else {
        push_decimal(out, n);
    }
}

fn opt_escaped(out: &mut Vec<u8>, value: Option<&[u8]>) {
    match value {
        Some(v) => escape_into(out, v),
        None => out.push(b'-'),
    }
}

fn write_ip(out: &mut Vec<u8>, ip: IpAddr) {
    match ip.to_canonical() {
        IpAddr::V4(v4) => {
            for (i, octet) in v4.octets().into_iter().enumerate() {
                if i > 0 {
                    out.push(b'.');
                }
                push_decimal(out, u64::from(octet));
            }
        }
        // `Display` for Ipv6Addr formats on the stack; writing into a Vec cannot fail.
        IpAddr::V6(v6) => {
            let _ = write!(out, "{v6}");
        }
    }
}

/// All values of header `name`, escaped and joined with `, `; `-` when there is none. With
/// `no_param`, each value stops before its first `;` (Apache's `ap_field_noparam`).
fn write_header(out: &mut Vec<u8>, view: HeaderView<'_>, name: &[u8], no_param: bool) {
    let mut first = true;
    view.for_each_value(name, |value| {
        if !first {
            out.extend_from_slice(b", ");
        }
        first = false;
        let value = match (no_param, memchr::memchr(b';', value)) {
            (true, Some(semi)) => value[..semi].trim_ascii_end(),
            _ => value,
        };
        escape_into(out, value);
    });
    if first {
        out.push(b'-');
    }
}

fn write_var(out: &mut Vec<u8>, rec: &Record<'_>, var: Var) {
    match var {
        Var::BalancerName => opt_escaped(out, rec.balancer.map(str::as_bytes)),
        Var::WorkerName => opt_escaped(out, rec.worker_name.map(str::as_bytes)),
        Var::WorkerRoute => opt_escaped(out, rec.worker_route.map(str::as_bytes)),
        Var::SessionSticky => opt_escaped(out, rec.session_sticky),
        Var::SessionRoute => opt_escaped(out, rec.session_route),
        Var::RouteChanged => out.push(if rec.route_changed { b'1' } else { b'-' }),
        Var::UpstreamTime => match rec.upstream_us {
            Some(us) => push_decimal(out, us),
            None => out.push(b'-'),
        },
        Var::QueueTime => match rec.queue_us {
            Some(us) => push_decimal(out, us),
            None => out.push(b'-'),
        },
        Var::Worker => push_decimal(out, rec.worker as u64),
        Var::Attempts => push_decimal(out, u64::from(rec.attempts)),
    }
}
