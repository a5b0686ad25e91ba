//! Request targets and their paths: splitting a target into path and query (RFC 9112 section
//! 3.2), the dot-segment rule that keeps a request inside the mount it names, and joining a
//! mount's remainder onto a balancer's `target_path`.
//!
//! The dot-segment rule reads a path as Tomcat does before it maps it to a context
//! (`CoyoteAdapter`: path parameters stripped from each segment, `%2e` decoded, `\` and an
//! encoded `/` refused, then RFC 3986 section 5.2.4 `remove_dot_segments`, refusing to climb
//! above the root), so that ringlb routes the path the member will serve, and refuses every
//! spelling whose meaning a member could read differently:
//!
//! 1. `\`, `%2f` and `%5c` (any case) anywhere in the path: refused (Tomcat's defaults refuse
//!    them too; with its `allowBackslash` or `encodedSolidusHandling=decode` they become
//!    separators and `..%2f` climbs).
//! 2. A segment that is `.` or `..` once `%2e` is decoded and its `;parameters` are dropped, but
//!    is not written exactly `.` or `..`: `%2e`, `.%2E`, `..;`, `.;x=1`: refused.
//! 3. Plain `.` and `..` segments are removed as RFC 3986 section 5.2.4 says; a `..` with no
//!    segment left to remove (`/..`, `/a/../..`) is refused, as Tomcat does.
//!
//! Everything else is left as sent: other percent-encodings, empty segments, `;parameters` of
//! ordinary segments (`;jsessionid=`), the query. Pure: no I/O, no allocation except in the
//! caller's `out` on the rare path that has dot-segments.

use memchr::{memchr, memchr3_iter, memrchr};

/// A request target split into the parts a reverse proxy uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Target<'a> {
    /// The path: starts with `/`, except `*` for the asterisk-form. `/` for an absolute-form
    /// target whose path is empty (RFC 9112 section 3.2.1).
    pub path: &'a [u8],
    /// The query with its leading `?`, or empty.
    pub query: &'a [u8],
    /// The target had an empty path (`http://host`, `http://host?q`) and [`Target::path`] is
    /// the `/` put in its place. Otherwise `path` followed by `query` are the target's last
    /// bytes, in this order.
    pub path_added: bool,
}

/// Why a request target was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetError {
    /// Not origin-, absolute- (`http`/`https`) or asterisk-form, or an authority that does not
    /// parse as `host[:port]`.
    Invalid,
    /// An absolute-form target with an empty host (RFC 9110 section 4.2.1).
    EmptyHost,
    /// An absolute-form target with `user@` (RFC 9110 section 4.2.4: treat as an error).
    Userinfo,
}

impl TargetError {
    /// The cause named in the 400 response.
    pub fn reason(self) -> &'static str {
        match self {
            TargetError::Invalid => "invalid request target",
            TargetError::EmptyHost => "empty host in the request target",
            TargetError::Userinfo => "userinfo in the request target",
        }
    }
}

/// Splits a request target (RFC 9112 section 3.2): origin-form `/path?query`, absolute-form
/// `http://authority/path?query` (scheme `http` or `https`, any case) and asterisk-form `*`.
///
/// The authority of an absolute-form target ends at the first `/` or `?`; it must be
/// `host[:port]` with a non-empty host (a reg-name, an IPv4 address or a bracketed IP
/// literal) and a decimal port, if any. The path ends at the first `?`. Nothing is decoded.
/// The authority is only checked, not returned: ringlb routes by path and sends the member
/// its own or the client's `Host`.
pub fn split_target(target: &[u8]) -> Result<Target<'_>, TargetError> {
    if target == b"*" {
        return Ok(Target {
            path: target,
            query: b"",
            path_added: false,
        });
    }
    let after_authority = if target.first() == Some(&b'/') {
        target
    } else {
        let rest = strip_scheme(target).ok_or(TargetError::Invalid)?;
        let end = rest
            .iter()
            .position(|&b| b == b'/' || b == b'?')
            .unwrap_or(rest.len());
        check_authority(&rest[..end])?;
        &rest[end..]
    };
    let query_at = memchr(b'?', after_authority).unwrap_or(after_authority.len());
    let (path, query) = after_authority.split_at(query_at);
    if path.is_empty() {
        return Ok(Target {
            path: b"/",
            query,
            path_added: true,
        });
    }
    Ok(Target {
        path,
        query,
        path_added: false,
    })
}

/// `target` after `http://` or `https://` (any case), or `None`.
fn strip_scheme(target: &[u8]) -> Option<&[u8]> {
    let colon = memchr(b':', target)?;
    let scheme = &target[..colon];
    let known = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    target[colon..].strip_prefix(b"://").filter(|_| known)
}

/// Checks `host[:port]` (RFC 3986 section 3.2 without userinfo).
fn check_authority(authority: &[u8]) -> Result<(), TargetError> {
    if memchr(b'@', authority).is_some() {
        return Err(TargetError::Userinfo);
    }
    // unreserved, sub-delims and `%` (pct-encoded; also an IPv6 zone id)
    let host_byte = |b: u8| b.is_ascii_alphanumeric() || b"-._~%!$&'()*+,;=".contains(&b);
    let (host, port) = if authority.first() == Some(&b'[') {
        let close = memchr(b']', authority).ok_or(TargetError::Invalid)?;
        let (literal, port) = authority.split_at(close + 1);
        let inner = &literal[1..literal.len() - 1];
        if !inner.iter().all(|&b| host_byte(b) || b == b':') {
            return Err(TargetError::Invalid);
        }
        (inner, port)
    } else {
        let colon = memchr(b':', authority).unwrap_or(authority.len());
        let (host, port) = authority.split_at(colon);
        if !host.iter().all(|&b| host_byte(b)) {
            return Err(TargetError::Invalid);
        }
        (host, port)
    };
    if host.is_empty() {
        return Err(TargetError::EmptyHost);
    }
    match port.split_first() {
        None => Ok(()),
        Some((b':', digits)) if digits.iter().all(u8::is_ascii_digit) => Ok(()),
        Some(_) => Err(TargetError::Invalid),
    }
}

/// What [`normalize`] made of a path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Normal {
    /// The path is already normal; it is what the member should get.
    AsIs,
    /// The path had plain `.`/`..` segments; `out` now holds its normal form (strictly
    /// shorter than the path).
    Rewritten,
}

/// Why a path was refused (each is a 400).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathError {
    /// The path does not start with `/`.
    NotAbsolute,
    /// A `\`, `%2f` or `%5c` in the path (rule 1).
    Separator,
    /// A `.`/`..` segment spelled with `%2e` (rule 2).
    EncodedDot,
    /// A `.`/`..` segment with `;parameters` (rule 2).
    ParamDot,
    /// A `..` with no segment left to remove (rule 3).
    AboveRoot,
}

impl PathError {
    /// The cause named in the 400 response.
    pub fn reason(self) -> &'static str {
        match self {
            PathError::NotAbsolute => "the path does not start with /",
            PathError::Separator => "a backslash or an encoded / or \\ in the path",
            PathError::EncodedDot => "a percent-encoded dot-segment in the path",
            PathError::ParamDot => "a dot-segment with ;parameters in the path",
            PathError::AboveRoot => "the path climbs above the root",
        }
    }
}

/// Applies the dot-segment rule of this module to `path` (a path without its query, as
/// [`split_target`] returns it). `out` is scratch space: it is read only after
/// [`Normal::Rewritten`], and then holds the normal form (its previous content replaced).
///
/// An already normal path costs one `memchr3` scan over `.`, `%` and `\` plus a look at the
/// bytes after each hit, and nothing is written.
///
/// Invariants (what a fuzzer checks), with `n` the normal form (`path` for `AsIs`, `out`
/// for `Rewritten`):
/// - `n` starts with `/`, and `normalize(n)` is `Ok(AsIs)` (idempotence);
/// - no segment of `n` is `.` or `..`, however spelled (`%2e`, `;parameters`), and `n` has
///   no `\`, `%2f` or `%5c`;
/// - `Rewritten` only when `path` has a plain `.`/`..` segment, and `n` is shorter than `path`;
/// - every error is one of [`PathError`]; nothing panics for any input.
pub fn normalize(path: &[u8], out: &mut Vec<u8>) -> Result<Normal, PathError> {
    if path.first() != Some(&b'/') {
        return Err(PathError::NotAbsolute);
    }
    if is_normal(path) {
        return Ok(Normal::AsIs);
    }
    remove_dot_segments(path, out)?;
    if out.as_slice() == path {
        // Only a `%2e` inside an ordinary segment (`a%2eb`, `...`) sent us here.
        return Ok(Normal::AsIs);
    }
    Ok(Normal::Rewritten)
}

/// The fast check: no `\`, no `%2e`/`%2f`/`%5c`, no segment starting `.` or `..` followed by
/// the end, `/` or `;`. A path that passes has nothing for [`remove_dot_segments`] to do.
fn is_normal(path: &[u8]) -> bool {
    for i in memchr3_iter(b'.', b'%', b'\\', path) {
        let normal = match path[i] {
            b'\\' => false,
            b'%' => !path.get(i + 1..i + 3).is_some_and(|hex| {
                [b"2e", b"2f", b"5c"]
                    .iter()
                    .any(|h| hex.eq_ignore_ascii_case(*h))
            }),
            _ => {
                let at_segment_start = i > 0 && path[i - 1] == b'/';
                let rest = &path[i + 1..];
                let rest = rest.strip_prefix(b".").unwrap_or(rest);
                !(at_segment_start && matches!(rest.first(), None | Some(b'/' | b';')))
            }
        };
        if !normal {
            return false;
        }
    }
    true
}

/// RFC 3986 section 5.2.4 over whole segments, into `out`, with rules 1 and 2 checked per
/// segment. `path` starts with `/`.
fn remove_dot_segments(path: &[u8], out: &mut Vec<u8>) -> Result<(), PathError> {
    out.clear();
    let mut segments = path[1..].split(|&b| b == b'/').peekable();
    while let Some(segment) = segments.next() {
        let last = segments.peek().is_none();
        match dot_segment(segment)? {
            None => {
                out.push(b'/');
                out.extend_from_slice(segment);
            }
            Some(Dot::One) if last => out.push(b'/'),
            Some(Dot::One) => {}
            Some(Dot::Two) => {
                let cut = memrchr(b'/', out).ok_or(PathError::AboveRoot)?;
                out.truncate(cut);
                if last {
                    out.push(b'/');
                }
            }
        }
    }
    Ok(())
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Dot {
    One,
    Two,
}

/// Whether `segment` (between two `/`) is a plain dot-segment; the error when it is one
/// spelled otherwise or it holds a separator.
fn dot_segment(segment: &[u8]) -> Result<Option<Dot>, PathError> {
    if memchr(b'\\', segment).is_some()
        || segment.windows(3).any(|w| {
            w[0] == b'%'
                && (w[1..].eq_ignore_ascii_case(b"2f") || w[1..].eq_ignore_ascii_case(b"5c"))
        })
    {
        return Err(PathError::Separator);
    }
    let name = &segment[..memchr(b';', segment).unwrap_or(segment.len())];
    let (mut dots, mut encoded, mut rest) = (0, false, name);
    while !rest.is_empty() && dots <= 2 {
        if let Some(r) = rest.strip_prefix(b".") {
            rest = r;
        } else if rest.len() >= 3 && rest[..3].eq_ignore_ascii_case(b"%2e") {
            rest = &rest[3..];
            encoded = true;
        } else {
            return Ok(None);
        }
        dots += 1;
    }
    let dot = match dots {
        1 => Dot::One,
        2 => Dot::Two,
        _ => return Ok(None),
    };
    if encoded {
        Err(PathError::EncodedDot)
    } else if name.len() < segment.len() {
        Err(PathError::ParamDot)
    } else {
        Ok(Some(dot))
    }
}

/// The origin-form target a member gets for `origin` (path and query, as the client meant
/// them) served by a balancer mounted at `mount` with `target_path`: `mount` is replaced by
/// `target_path`, returned as (prefix, rest) to be sent one after the other.
///
/// The two are joined with exactly one `/`: the remainder of `origin` after `mount` (without
/// its trailing `/`) follows `target_path` without its trailing `/` when it starts with `/`,
/// and follows `target_path` as written when it is empty or starts with `?` or `;`. So
/// `/` -> `/backend` maps `/x` to `/backend/x` and `/` to `/backend/`; `/app` -> `/` maps
/// `/app` to `/`, `/app/x` to `/x` and `/app?q` to `/?q`; `/app/` and `/app`, or
/// `/backend/` and `/backend`, give the same result except for the bare mount itself, which
/// gets `target_path` as written. (httpd's `ProxyPass` appends the remainder as it is, so
/// `ProxyPass / http://m/backend` sends `/backendx`.)
///
/// `origin` should start with `mount` (the mount was chosen for it); if it does not, the whole
/// of `origin` is treated as the remainder.
pub fn join<'a>(mount: &[u8], target_path: &'a [u8], origin: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    let mount = mount.strip_suffix(b"/").unwrap_or(mount);
    let rest = origin.strip_prefix(mount).unwrap_or(origin);
    if rest.first() == Some(&b'/') {
        let prefix = target_path.strip_suffix(b"/").unwrap_or(target_path);
        (prefix, rest)
    } else {
        (target_path, rest)
    }
}
