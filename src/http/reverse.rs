//! Reverse rewriting of response fields (httpd `ProxyPassReverse`, `ProxyPassReverseCookiePath`,
//! `ProxyPassReverseCookieDomain`): what a member says about its own address and paths is put
//! in the client's terms before the head goes out.
//!
//! - `Location`, `Content-Location` and `URI` naming a member (`http://` or `https://` with the
//!   member's authority, default ports equal to none; for an AJP13 member also the client's own
//!   scheme and Host, see [`names_client_server`]) get the scheme the client used, the Host
//!   it sent and the mount in place of `target_path`; with no Host from the client the value
//!   becomes the path alone. A value starting with `target_path` (a relative reference) gets
//!   the mount swapped in. Anything else is left alone.
//! - `Set-Cookie`: a `Path=` attribute goes through the balancer's explicit path map (longest
//!   `from` first), else `target_path` -> mount; a `Domain=` attribute equal to a map's `from`
//!   (ASCII case ignored, a leading `.` kept) becomes its `to`.
//!
//! Paths are matched at a segment boundary: `/app` maps `/app`, `/app/x`, `/app?q`, `/app;p`,
//! not `/apple`. Writes into the caller's buffer only; nothing is allocated.

/// How one response's fields are reversed.
#[derive(Clone, Copy)]
pub struct Reverse<'a> {
    /// The balancer's mount, what the client sees.
    pub mount: &'a [u8],
    /// The balancer's `target_path`, what the member sees.
    pub target_path: &'a [u8],
    /// `http` or `https`: the scheme of the client's connection.
    pub scheme: &'a [u8],
    /// The client's Host; empty when it sent none.
    pub host: &'a [u8],
    /// Whether (scheme, authority) of an absolute URL names a member of the balancer.
    pub is_member: &'a dyn Fn(&[u8], &[u8]) -> bool,
    /// `Path=` map (from, to), longest `from` first.
    pub cookie_path: &'a [(String, String)],
    /// `Domain=` map (from, to).
    pub cookie_domain: &'a [(String, String)],
}

impl std::fmt::Debug for Reverse<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reverse")
            .field("mount", &self.mount)
            .field("target_path", &self.target_path)
            .finish_non_exhaustive()
    }
}

/// Whether a field of this name is one [`push_reversed`] may change.
pub fn is_reversed_field(name: &[u8]) -> bool {
    [
        b"location".as_slice(),
        b"content-location",
        b"uri",
        b"set-cookie",
    ]
    .iter()
    .any(|n| name.eq_ignore_ascii_case(n))
}

/// Appends `name: value` CRLF to `out` with the value reversed; `name` must satisfy
/// [`is_reversed_field`]. A value with nothing to change is copied byte for byte.
pub fn push_reversed(out: &mut Vec<u8>, name: &[u8], value: &[u8], rv: &Reverse<'_>) {
    out.extend_from_slice(name);
    out.extend_from_slice(b": ");
    if name.eq_ignore_ascii_case(b"set-cookie") {
        push_cookie(out, value, rv);
    } else {
        push_url(out, value, rv);
    }
    out.extend_from_slice(b"\r\n");
}

/// The default port of `scheme`.
fn default_port(scheme: &[u8]) -> &'static [u8] {
    if scheme.eq_ignore_ascii_case(b"https") {
        b"443"
    } else {
        b"80"
    }
}

/// The server name an AJP13 member is told for a request without a `Host`.
pub const UNNAMED_SERVER: &[u8] = b"localhost";

/// (host, port) of an authority, the port defaulted from `scheme` (`https`: 443, else 80).
pub fn host_port<'a>(scheme: &[u8], authority: &'a [u8]) -> (&'a [u8], &'a [u8]) {
    let host_end = if authority.first() == Some(&b'[') {
        authority
            .iter()
            .position(|&b| b == b']')
            .map_or(0, |i| i + 1)
    } else {
        authority
            .iter()
            .position(|&b| b == b':')
            .unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(b":") {
        Some(port) if !port.is_empty() => (host, port),
        _ => (host, default_port(scheme)),
    }
}

/// Whether `authority` under `scheme` is the same host and port as a member's `member_auth`
/// under `member_scheme` (ASCII case of the host ignored; a missing port is the scheme's
/// default).
pub fn same_authority(
    scheme: &[u8],
    authority: &[u8],
    member_scheme: &[u8],
    member_auth: &[u8],
) -> bool {
    let (h1, p1) = host_port(scheme, authority);
    let (h2, p2) = host_port(member_scheme, member_auth);
    h1.eq_ignore_ascii_case(h2) && p1 == p2
}

/// Whether the absolute URL `scheme://authority` names the server the client asked for: the
/// client's own scheme and its `Host` (`localhost` when it sent none, the scheme's default port
/// when the Host has none). An AJP13 member is told that name and port instead of its own
/// address (as mod_proxy_ajp and mod_jk tell it), so its self-referencing URLs carry them.
pub fn names_client_server(
    scheme: &[u8],
    authority: &[u8],
    client_scheme: &[u8],
    client_host: &[u8],
) -> bool {
    let told: &[u8] = if client_host.is_empty() {
        UNNAMED_SERVER
    } else {
        client_host
    };
    scheme.eq_ignore_ascii_case(client_scheme)
        && same_authority(scheme, authority, client_scheme, told)
}

/// Where a path continues after `prefix` (a trailing `/` of `prefix` aside), if `path` starts
/// with it at a segment boundary.
fn strip_path_prefix<'a>(path: &'a [u8], prefix: &[u8]) -> Option<&'a [u8]> {
    if prefix.ends_with(b"/") {
        // `/app/` (or `/`) matches what it prefixes, and `/app` itself.
        let bare = &prefix[..prefix.len() - 1];
        if path == bare {
            return Some(b"");
        }
        return path
            .strip_prefix(bare)
            .filter(|rest| rest.starts_with(b"/"));
    }
    let rest = path.strip_prefix(prefix)?;
    matches!(rest.first(), None | Some(b'/' | b'?' | b';' | b'#')).then_some(rest)
}

/// Appends `to` then `rest`, with one `/` where they meet.
fn push_joined(out: &mut Vec<u8>, to: &[u8], rest: &[u8]) {
    if rest.starts_with(b"/") {
        out.extend_from_slice(to.strip_suffix(b"/").unwrap_or(to));
    } else {
        out.extend_from_slice(to);
    }
    out.extend_from_slice(rest);
}

/// Appends `path` with `from` replaced by `to`, if it starts with `from`; false (nothing
/// appended) otherwise.
fn push_mapped(out: &mut Vec<u8>, path: &[u8], from: &[u8], to: &[u8]) -> bool {
    match strip_path_prefix(path, from) {
        Some(rest) => {
            push_joined(out, to, rest);
            true
        }
        None => false,
    }
}

/// A path from the member: `target_path` replaced by the mount, else as is.
fn push_path(out: &mut Vec<u8>, path: &[u8], rv: &Reverse<'_>) {
    if rv.mount == rv.target_path || !push_mapped(out, path, rv.target_path, rv.mount) {
        out.extend_from_slice(path);
    }
}

fn push_url(out: &mut Vec<u8>, value: &[u8], rv: &Reverse<'_>) {
    let trimmed = value.trim_ascii();
    let Some((scheme, after)) = split_scheme(trimmed) else {
        if trimmed.starts_with(b"/") && !trimmed.starts_with(b"//") {
            push_path(out, trimmed, rv);
        } else {
            out.extend_from_slice(value);
        }
        return;
    };
    let auth_end = after
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(after.len());
    let (authority, rest) = after.split_at(auth_end);
    if !(rv.is_member)(scheme, authority) {
        out.extend_from_slice(value);
        return;
    }
    if !rv.host.is_empty() {
        out.extend_from_slice(rv.scheme);
        out.extend_from_slice(b"://");
        out.extend_from_slice(rv.host);
    }
    if !rest.starts_with(b"/") {
        // `http://m:1` or `http://m:1?q`: the member's root.
        push_path(out, b"/", rv);
        out.extend_from_slice(rest);
        return;
    }
    push_path(out, rest, rv);
}

/// `(scheme, rest after "://")` of an absolute `http`/`https` URL.
fn split_scheme(v: &[u8]) -> Option<(&[u8], &[u8])> {
    let colon = v.iter().position(|&b| b == b':')?;
    let (scheme, rest) = v.split_at(colon);
    let ok = scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https");
    rest.strip_prefix(b"://")
        .filter(|_| ok)
        .map(|r| (scheme, r))
}

fn push_cookie(out: &mut Vec<u8>, value: &[u8], rv: &Reverse<'_>) {
    let mut segments = value.split(|&b| b == b';');
    // The first segment is the cookie's name=value, never an attribute.
    if let Some(first) = segments.next() {
        out.extend_from_slice(first);
    }
    for seg in segments {
        out.push(b';');
        let Some(eq) = seg.iter().position(|&b| b == b'=') else {
            out.extend_from_slice(seg);
            continue;
        };
        let attr = seg[..eq].trim_ascii();
        let raw = &seg[eq + 1..];
        let val = raw.trim_ascii();
        let lead = raw.len() - raw.trim_ascii_start().len();
        let (head, tail) = (&seg[..eq + 1 + lead], &seg[eq + 1 + lead + val.len()..]);
        if attr.eq_ignore_ascii_case(b"path") {
            out.extend_from_slice(head);
            push_cookie_path(out, val, rv);
            out.extend_from_slice(tail);
        } else if attr.eq_ignore_ascii_case(b"domain") {
            out.extend_from_slice(head);
            push_cookie_domain(out, val, rv);
            out.extend_from_slice(tail);
        } else {
            out.extend_from_slice(seg);
        }
    }
}

fn push_cookie_path(out: &mut Vec<u8>, path: &[u8], rv: &Reverse<'_>) {
    for (from, to) in rv.cookie_path {
        if push_mapped(out, path, from.as_bytes(), to.as_bytes()) {
            return;
        }
    }
    push_path(out, path, rv);
}

fn push_cookie_domain(out: &mut Vec<u8>, domain: &[u8], rv: &Reverse<'_>) {
    let (dot, bare) = match domain.strip_prefix(b".") {
        Some(bare) => (b".".as_slice(), bare),
        None => (b"".as_slice(), domain),
    };
    for (from, to) in rv.cookie_domain {
        let from = from.as_bytes();
        let from = from.strip_prefix(b".").unwrap_or(from);
        if bare.eq_ignore_ascii_case(from) {
            out.extend_from_slice(dot);
            out.extend_from_slice(to.as_bytes());
            return;
        }
    }
    out.extend_from_slice(domain);
}
