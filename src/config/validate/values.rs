//! The pure value checks of `validate`: one value in, the parsed value or a message without a
//! location out. Shared with `flags` so that the file and the command line accept the same
//! spellings.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use super::super::file::Scalar;
use super::super::{IoDriver, LbMethod, Sticky, MAX_WORKERS};
use crate::config::Status;

/// `workers`: an integer `1..=MAX_WORKERS`, or `"auto"` (`None`).
pub(crate) fn parse_workers(value: &Scalar) -> Result<Option<usize>, String> {
    match value {
        Scalar::Int(n) if (1..=MAX_WORKERS as i64).contains(n) => Ok(Some(*n as usize)),
        Scalar::Int(n) => Err(format!("{n} is out of range 1..={MAX_WORKERS}")),
        Scalar::Str(s) if s == "auto" => Ok(None),
        other => Err(format!(
            "expected an integer 1..={MAX_WORKERS} or \"auto\", found {other}"
        )),
    }
}

pub(crate) fn parse_io_driver(name: &str) -> Result<IoDriver, String> {
    IoDriver::from_name(name)
        .ok_or_else(|| format!("unknown io_driver {name:?}; expected auto, io_uring or epoll"))
}

pub(crate) fn parse_lbmethod(name: &str) -> Result<LbMethod, String> {
    LbMethod::from_name(name).ok_or_else(|| {
        format!("unknown lbmethod {name:?}; expected byrequests, bytraffic or bybusyness")
    })
}

/// A listen address: `IP:PORT` (IPv6 in brackets); names are not resolved.
pub(crate) fn parse_listen(text: &str) -> Result<SocketAddr, String> {
    text.parse().map_err(|_| {
        format!("expected IP:PORT such as 127.0.0.1:8080 or [::1]:8080, found {text:?}")
    })
}

/// Balancer names: `[A-Za-z0-9_.-]+`.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-');
    if name.is_empty() || !name.chars().all(ok) {
        return Err(format!(
            "name {name:?} must be non-empty and use only A-Z a-z 0-9 _ . -"
        ));
    }
    Ok(())
}

/// `mount` and `target_path`: start with `/`; no whitespace, control characters, `?` or `#`.
pub(crate) fn check_path(path: &str) -> Result<(), String> {
    if !path.starts_with('/') {
        return Err(format!("path {path:?} must start with \"/\""));
    }
    if path
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || c == '?' || c == '#')
    {
        return Err(format!(
            "path {path:?} must not contain whitespace, control characters, ? or #"
        ));
    }
    Ok(())
}

/// A route (Tomcat `jvmRoute`): visible ASCII without `;`, `,`, `=`, `"` or `\\`, which end,
/// split or quote cookie values (RFC 6265 `cookie-octet`). A `.` is allowed: the route is the
/// text after the first `.` of the session id (docs/semantics.md §3), so a route `a.b` matches
/// `id.a.b` in Apache, though mod_jk would read `a` as a domain.
pub(crate) fn check_route(route: &str) -> Result<(), String> {
    if route_chars(route) {
        return Ok(());
    }
    Err(format!(
        "route {route:?} must be visible ASCII without whitespace, ; , = \" or \\"
    ))
}

/// A member's replication `domain`: the same characters as a route, as a session route can
/// name a domain.
pub(crate) fn check_domain(domain: &str) -> Result<(), String> {
    if route_chars(domain) {
        return Ok(());
    }
    Err(format!(
        "domain {domain:?} must be visible ASCII without whitespace, ; , = \" or \\"
    ))
}

fn route_chars(text: &str) -> bool {
    text.chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '=' | '"' | '\\'))
}

/// `stickysession = "COOKIE|URLNAME"`; a single name serves as both. Names follow the route
/// rules (no whitespace, `;`, `,`, `=`) and must not be empty.
pub(crate) fn parse_sticky(text: &str) -> Result<Sticky, String> {
    let (cookie, url) = text.split_once('|').unwrap_or((text, text));
    let bad = |c: char| !c.is_ascii_graphic() || matches!(c, ';' | ',' | '=' | '|');
    if cookie.is_empty() || url.is_empty() || cookie.chars().any(bad) || url.chars().any(bad) {
        return Err(format!(
            "{text:?}: expected NAME or COOKIE|URLNAME, each non-empty visible \
             ASCII without whitespace, '|', ';', ',' or '='"
        ));
    }
    Ok(Sticky {
        cookie_name: cookie.to_owned(),
        url_name: url.to_owned(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    })
}

/// `loadfactor`: an integer or decimal in 1..=100, returned × 100 and rounded (100..=10000).
pub(crate) fn parse_loadfactor(value: &Scalar) -> Result<u32, String> {
    let factor = match value {
        Scalar::Int(n) => *n as f64,
        Scalar::Float(x) => *x,
        other => return Err(format!("expected a number 1..=100, found {other}")),
    };
    if !(1.0..=100.0).contains(&factor) {
        return Err(format!("{} is out of range 1..=100", value_text(value)));
    }
    Ok((factor * 100.0).round() as u32)
}

fn value_text(value: &Scalar) -> String {
    match value {
        Scalar::Int(n) => n.to_string(),
        Scalar::Float(x) => x.to_string(),
        other => other.to_string(),
    }
}

/// A member URL taken apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct MemberUrl {
    /// The address of an IP literal (or `localhost`); for a host name, the unspecified
    /// address with the port until the name is looked up (`dns_name`).
    pub(crate) addr: SocketAddr,
    /// The host name to look up: lowercased, a trailing `.` kept; `None` for an IP literal or
    /// `localhost`.
    pub(crate) dns_name: Option<String>,
    /// `host:port`, the host as written and the port always present (the `Host` header).
    pub(crate) authority: String,
    /// `https://`: ringlb speaks TLS to the member.
    pub(crate) https: bool,
    /// `ajp://`: ringlb speaks AJP13 to the member.
    pub(crate) ajp: bool,
    /// The host as written (`localhost`, `10.0.0.5`, `[::1]`).
    pub(crate) host: String,
}

/// A member URL: `http://`, `https://` or `ajp://`, then `HOST[:PORT][/]`, HOST an IPv4
/// literal, a bracketed IPv6 literal, `localhost` (127.0.0.1, no lookup) or a host name
/// ([`host_name`]), which is looked up later, not here. PORT defaults to 80 (`http`), 443
/// (`https`) or 8009 (`ajp`).
pub(crate) fn parse_member_url(url: &str) -> Result<MemberUrl, String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return Err(format!("{url:?} is not a URL; expected http://IP:PORT"));
    };
    let (https, ajp, default_port) = if scheme.eq_ignore_ascii_case("http") {
        (false, false, 80)
    } else if scheme.eq_ignore_ascii_case("https") {
        (true, false, 443)
    } else if scheme.eq_ignore_ascii_case("ajp") {
        (false, true, 8009)
    } else {
        return Err(format!(
            "scheme {scheme:?} is not supported; members use http://, https:// or ajp://"
        ));
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    if !(path.is_empty() || path == "/") {
        return Err(format!(
            "path {path:?} in a member URL is not supported; use the balancer's target_path"
        ));
    }
    if authority.contains(['@', '?', '#']) {
        return Err(format!(
            "{url:?}: user info, query and fragment are not allowed"
        ));
    }
    let (host, port) = split_host_port(authority)?;
    let port: u16 = match port {
        None => default_port,
        Some(p) => p
            .parse()
            .ok()
            .filter(|&p| p != 0)
            .ok_or_else(|| format!("port {p:?} in {url:?} is not a number 1..=65535"))?,
    };
    let (ip, dns_name) = member_host(host)?;
    Ok(MemberUrl {
        addr: SocketAddr::new(ip, port),
        dns_name,
        authority: format!("{host}:{port}"),
        https,
        ajp,
        host: host.to_owned(),
    })
}

/// The host of a member URL: its address and, for a host name, the name to look up (the
/// address is then the unspecified one, a placeholder).
fn member_host(host: &str) -> Result<(IpAddr, Option<String>), String> {
    if host.eq_ignore_ascii_case("localhost") {
        return Ok((IpAddr::V4(Ipv4Addr::LOCALHOST), None));
    }
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        let ip: Ipv6Addr = v6
            .parse()
            .map_err(|_| format!("{host:?} is not an IPv6 address"))?;
        return Ok((IpAddr::V6(ip), None));
    }
    if let Ok(ip) = host.parse::<Ipv4Addr>() {
        return Ok((IpAddr::V4(ip), None));
    }
    host_name(host).map(|name| (IpAddr::V4(Ipv4Addr::UNSPECIFIED), Some(name)))
}

/// Longest host name, without its trailing `.` (RFC 1035 §2.3.4: 255 octets on the wire).
const MAX_HOST_NAME: usize = 253;
/// Longest label of a host name (RFC 1035 §2.3.4).
const MAX_LABEL: usize = 63;

/// A host name to look up (RFC 1123 §2.1): dot-separated labels of 1 to 63 ASCII letters,
/// digits and `-`, not starting or ending with `-`, at most 253 characters, and an optional
/// trailing `.` (an absolute name: no search domains). The last label is not all digits,
/// which keeps a mistyped address (`10.0.0.256`, `127.1`) from being taken as a name. No `_`
/// (servlet containers refuse it in `Host`) and no non-ASCII letters: an internationalised
/// name is written in its `xn--` form. Returned lowercased.
pub(crate) fn host_name(host: &str) -> Result<String, String> {
    let bare = host.strip_suffix('.').unwrap_or(host);
    let bad = |why: &str| {
        Err(format!(
            "host {host:?} is not an IP address or a host name: {why}"
        ))
    };
    if bare.is_empty() {
        return bad("it is empty");
    }
    if !host.is_ascii() {
        return bad("non-ASCII letters; write an internationalised name in its xn-- form");
    }
    if bare.len() > MAX_HOST_NAME {
        return bad("longer than 253 characters");
    }
    for label in bare.split('.') {
        if label.is_empty() {
            return bad("an empty label (two dots in a row, or a leading dot)");
        }
        if label.len() > MAX_LABEL {
            return bad("a label longer than 63 characters");
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return bad(&format!(
                "{c:?} is not allowed (letters, digits, - and . only)"
            ));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return bad("a label starts or ends with -");
        }
    }
    if bare
        .rsplit('.')
        .next()
        .is_some_and(|last| last.bytes().all(|b| b.is_ascii_digit()))
    {
        return bad("its last label is all digits (a mistyped IPv4 address?)");
    }
    Ok(host.to_ascii_lowercase())
}

/// Refuses a member at `member` that would be ringlb itself: one of `own` (the client listen
/// addresses, then the admin listener's, named by `what`) on the same port and address, or a
/// wildcard listener (`0.0.0.0`, `[::]`) and a loopback or wildcard member of the same family
/// (connecting to `0.0.0.0` reaches the local host). Other addresses of this host behind a
/// wildcard listener cannot be known without I/O and pass. A listener on port 0 never loops.
pub(crate) fn check_not_self(
    member: SocketAddr,
    own: &[(SocketAddr, String)],
) -> Result<(), String> {
    let local = |ip: IpAddr| ip.is_loopback() || ip.is_unspecified();
    for (addr, what) in own {
        let same_family = addr.is_ipv4() == member.is_ipv4();
        let loops = addr.port() != 0
            && addr.port() == member.port()
            && (addr.ip() == member.ip()
                || same_family
                    && local(member.ip())
                    && (addr.ip().is_unspecified() || member.ip().is_unspecified()));
        if loops {
            return Err(format!(
                "{member} is ringlb's own {what} ({addr}): requests would loop back into ringlb"
            ));
        }
    }
    Ok(())
}

/// Splits `host[:port]`, keeping the brackets of an IPv6 host.
fn split_host_port(authority: &str) -> Result<(&str, Option<&str>), String> {
    let host_end = if authority.starts_with('[') {
        authority
            .find(']')
            .map(|i| i + 1)
            .ok_or_else(|| format!("{authority:?}: IPv6 address without closing ']'"))?
    } else {
        authority.find(':').unwrap_or(authority.len())
    };
    let (host, rest) = authority.split_at(host_end);
    match rest.strip_prefix(':') {
        Some(port) => Ok((host, Some(port))),
        None if rest.is_empty() => Ok((host, None)),
        None => Err(format!("{authority:?}: expected HOST[:PORT]")),
    }
}

/// A switch: a TOML boolean, or Apache's `"On"` / `"Off"` (case-insensitive).
pub(crate) fn parse_on_off(value: &Scalar) -> Result<bool, String> {
    match value {
        Scalar::Bool(b) => Ok(*b),
        Scalar::Str(s) if s.eq_ignore_ascii_case("on") => Ok(true),
        Scalar::Str(s) if s.eq_ignore_ascii_case("off") => Ok(false),
        other => Err(format!(
            "expected true, false, \"On\" or \"Off\", found {other}"
        )),
    }
}

/// `stickysessionsep`: one ASCII punctuation character, or `"Off"` (case-insensitive; `None`,
/// the whole session value is the route). Apache takes any single character; letters and
/// digits are refused here because they occur in session ids and would cut them anywhere.
pub(crate) fn parse_sticky_sep(text: &str) -> Result<Option<u8>, String> {
    if text.eq_ignore_ascii_case("off") {
        return Ok(None);
    }
    match text.as_bytes() {
        [c] if c.is_ascii_punctuation() => Ok(Some(*c)),
        _ => Err(format!(
            "{text:?}: expected one ASCII punctuation character such as \".\", or \"Off\""
        )),
    }
}

/// The text of a separator as [`parse_sticky_sep`] reads it back: the character, or `Off`.
pub(crate) fn sticky_sep_text(sep: Option<u8>) -> String {
    sep.map_or_else(|| "Off".to_owned(), |c| char::from(c).to_string())
}

/// `lbset` / `distance`: an integer 0..=99 (Apache's range).
pub(crate) fn parse_lbset(value: &Scalar) -> Result<u32, String> {
    match value {
        Scalar::Int(n) if (0..=99).contains(n) => Ok(*n as u32),
        Scalar::Int(n) => Err(format!("{n} is out of range 0..=99")),
        other => Err(format!("expected an integer 0..=99, found {other}")),
    }
}

/// The status flags a config may set, in the order [`status_text`] prints them.
const CONFIG_FLAGS: [(u8, Status); 6] = [
    (b'D', Status::DISABLED),
    (b'S', Status::STOPPED),
    (b'I', Status::IGNORE_ERRORS),
    (b'H', Status::HOT_STANDBY),
    (b'R', Status::HOT_SPARE),
    (b'N', Status::DRAIN),
];

/// Applies Apache's `status` syntax to `start`: a sequence of flag letters, each optionally
/// preceded by `+` (set) or `-` (clear). As in `mod_proxy`'s `set_worker_param`, a sign stays
/// in force for the letters that follow it, and the initial mode is `+`: `"DS"` sets both,
/// `"+H-DS"` sets `H` and clears `D` and `S`. Letters are `D S I H R N`, case-insensitive;
/// `E` and `C` are runtime states and are refused, as is a sign not followed by a letter.
/// An empty string changes nothing.
pub(crate) fn apply_status(start: Status, text: &str) -> Result<Status, String> {
    let mut status = start;
    let mut set = true;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        let letter = match c {
            '+' | '-' => {
                set = c == '+';
                match chars.next() {
                    Some(l) if l != '+' && l != '-' => l,
                    _ => {
                        return Err(format!(
                            "malformed status {text:?}: each + or - must be followed by a \
                             letter, as in \"+H\" or \"+H-D\""
                        ))
                    }
                }
            }
            other => other,
        };
        let flag = config_flag(letter, text)?;
        status = if set {
            status | flag
        } else {
            status.without(flag)
        };
    }
    Ok(status)
}

/// The flag of one `status` letter that a config may set.
fn config_flag(letter: char, text: &str) -> Result<Status, String> {
    let upper = letter.to_ascii_uppercase();
    if let Some((_, flag)) = CONFIG_FLAGS.iter().find(|(l, _)| char::from(*l) == upper) {
        return Ok(*flag);
    }
    let runtime = match upper {
        'E' => "in error",
        'C' => "health check failed",
        _ => {
            return Err(format!(
                "unknown status flag {letter:?} in {text:?}; expected D, S, I, H, R or N"
            ))
        }
    };
    Err(format!(
        "status flag {letter:?} ({runtime}) is set at run time only and cannot be configured"
    ))
}

/// `status` as [`apply_status`] reads it back from no flags: `+D+S+I+H+R+N` order, `""` for
/// none. Runtime-only flags (`E`, `C`) are not printed.
pub(crate) fn status_text(status: Status) -> String {
    let mut out = String::new();
    for (letter, flag) in CONFIG_FLAGS {
        if status.contains(flag) {
            out.push('+');
            out.push(char::from(letter));
        }
    }
    out
}

/// mod_jk `activation`: `active`, `disabled` or `stopped`, or `A`, `D`, `S` (case-insensitive).
/// mod_jk's disabled takes sticky traffic only, which is Apache's drain `N`, not `D`
/// (docs/semantics.md §8); stopped is `S`.
pub(crate) fn parse_activation(text: &str) -> Result<Status, String> {
    match text.to_ascii_lowercase().as_str() {
        "active" | "a" => Ok(Status::NONE),
        "disabled" | "d" => Ok(Status::DRAIN),
        "stopped" | "s" => Ok(Status::STOPPED),
        _ => Err(format!(
            "unknown activation {text:?}; expected active, disabled or stopped (or A, D, S)"
        )),
    }
}

/// An RFC 9110 `token`: header field names and cookie names.
pub(crate) fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// `activation_header`: a header field name (RFC 9110 token characters).
pub(crate) fn check_header_name(name: &str) -> Result<(), String> {
    if is_token(name) {
        return Ok(());
    }
    Err(format!(
        "{name:?} is not a header name: expected letters, digits and ! # $ % & ' * + - . ^ _ ` | ~"
    ))
}

/// `insert_cookie.name`: a cookie name (RFC 6265 `cookie-name`, an RFC 9110 token).
pub(crate) fn check_cookie_name(name: &str) -> Result<(), String> {
    if is_token(name) {
        return Ok(());
    }
    Err(format!(
        "{name:?} is not a cookie name: expected letters, digits and ! # $ % & ' * + - . ^ _ ` | ~"
    ))
}

/// `insert_cookie.path`: starts with `/`; visible ASCII without `;` (RFC 6265 `path-value`,
/// less whitespace).
pub(crate) fn check_cookie_path(path: &str) -> Result<(), String> {
    if path.starts_with('/') && path.bytes().all(|b| b.is_ascii_graphic() && b != b';') {
        return Ok(());
    }
    Err(format!(
        "cookie path {path:?} must start with \"/\" and be visible ASCII without ;"
    ))
}

/// `insert_cookie.domain`: a host name of letters, digits, `-` and `.` (a leading `.` is
/// allowed, RFC 6265 ignores it).
pub(crate) fn check_cookie_domain(domain: &str) -> Result<(), String> {
    let host = domain.strip_prefix('.').unwrap_or(domain);
    let ok = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'.';
    if !host.is_empty() && host.bytes().all(ok) && !host.contains("..") && !host.ends_with('.') {
        return Ok(());
    }
    Err(format!(
        "cookie domain {domain:?} must be a host name (letters, digits, - and .)"
    ))
}

/// `insert_cookie.max_age`: whole seconds, 0 or more.
pub(crate) fn parse_max_age(value: &Scalar) -> Result<u64, String> {
    match value {
        Scalar::Int(n) if *n >= 0 => Ok(*n as u64),
        Scalar::Int(n) => Err(format!("{n} is negative; expected seconds, 0 or more")),
        other => Err(format!(
            "expected an integer number of seconds, found {other}"
        )),
    }
}

/// `insert_cookie.samesite`: `Strict`, `Lax` or `None`, case-insensitive, returned in that
/// canonical spelling.
pub(crate) fn parse_same_site(text: &str) -> Result<String, String> {
    ["Strict", "Lax", "None"]
        .into_iter()
        .find(|v| v.eq_ignore_ascii_case(text))
        .map(str::to_owned)
        .ok_or_else(|| format!("unknown samesite {text:?}; expected Strict, Lax or None"))
}
