//! Session route extraction from the request target and Cookie headers (docs/semantics.md §3).
//!
//! Pure: borrows the request bytes, allocates nothing (up to four routes stay inline in
//! [`Routes`]), reads no clock. Which member a route names is the balancer's business, not
//! this module's.
//!
//! # Grammar
//!
//! `cfg.url_name` and `cfg.cookie_name` are matched case-sensitively; an empty name matches
//! nothing.
//!
//! 1. **URL first.** In `target` (path and query), the URL name must follow `;`, `?` or `&` and
//!    be followed by `=`. This is deliberately stricter than Apache's plain `strstr`:
//!    `;xjsessionid=` does not match `jsessionid`.
//! 2. The URL value runs to the first `?` or `&`, or the end; also to the first `;` when
//!    `cfg.scolonpathdelim` is set (without it, `;jsessionid=ABC.n1;x=y` gives the route
//!    `n1;x=y`, exactly as Apache does); a match in the path (before the first `?`) also ends
//!    at `/`. The first match with a non-empty value is the URL's session id; there is at most
//!    one.
//! 3. **Only when the URL carries no session id, each `Cookie` header value, in order**
//!    (Apache's `find_session_route`). A URL session id decides alone, even when it has no
//!    route (`;jsessionid=nodot`): the cookies are then not read, so a request whose URL names
//!    an unusable member is never sent to a cookie's. Cookies are separated by `;` (a `,` is
//!    tolerated as a separator too). The cookie name must be at the start of the value or
//!    follow `;`, `,`, a space or a tab.
//! 4. Optional spaces or tabs are allowed before and after the `=`. The value ends at `;`, `,`
//!    or the end, without trailing spaces or tabs, and one pair of surrounding double quotes is
//!    stripped.
//! 5. **Every** matching cookie is a candidate, in header order (mod_jk's behaviour; Apache
//!    stops at the first). Duplicate `JSESSIONID`s from different cookie paths are common.
//!    This deviation is among cookies only: it never adds a cookie behind a URL session id.
//! 6. The route of a session id is the text after the **first** occurrence of `cfg.sep`
//!    (`stickysessionsep`, default `.`). An id without the separator gives no route (it is not
//!    used whole). With `sep = None` (`Off`) the whole id is the route. An empty route is
//!    ignored.
//!
//! The routes are therefore either the URL's one route (or none) or the cookies' routes in
//! order, and [`collect_routes`] says which ([`Source`]): the balancer tries them in that
//! order, and the access log and the `X-Balancer-Session-*` headers name that source.

use memchr::{memchr, memchr2, memmem};
use smallvec::SmallVec;

use crate::config::{InsertCookie, Sticky};
use crate::http::head::RequestHead;
use crate::http::Span;

#[cfg(test)]
mod tests;

/// Candidate routes in the order they are tried: the URL's, or else each session cookie's.
pub type Routes<'a> = SmallVec<[&'a [u8]; 4]>;

/// Where [`collect_routes`] looked for the session id.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Source {
    /// The URL carries a session id under `url_name`: its route (if it has one) is the only
    /// one, and the cookies were not read (clause 3).
    Url,
    /// The URL carries no session id: the routes, if any, are the cookies'.
    #[default]
    Cookies,
}

/// Appends to `out` the route of the session id in `target` (path parameter / query) or, when
/// `target` carries none, the routes in each `Cookie` header value of `cookie_headers`, in
/// order (the grammar is in the module doc); returns which of the two it read. `out` may
/// already hold routes: a caller with a second cookie to read (insert-cookie mode) does so
/// only on [`Source::Cookies`], so a URL session id keeps deciding alone.
pub fn collect_routes<'a>(
    cfg: &Sticky,
    target: &'a [u8],
    cookie_headers: impl Iterator<Item = &'a [u8]>,
    out: &mut Routes<'a>,
) -> Source {
    let sep = cfg.sep;
    let url_name = cfg.url_name.as_bytes();
    if let Some(id) = url_session_id_delim(target, url_name, cfg.scolonpathdelim) {
        out.extend(route_after(id, sep));
        return Source::Url;
    }
    let name = cfg.cookie_name.as_bytes();
    let mut headers = cookie_headers.peekable();
    if name.is_empty() || headers.peek().is_none() {
        return Source::Cookies;
    }
    // Built only when there is a header to search: building it costs about as much as
    // scanning a short header.
    let finder = memmem::Finder::new(name);
    for header in headers {
        let values = CookieValues {
            header,
            pos: 0,
            finder: &finder,
        };
        out.extend(values.filter_map(|id| route_after(id, sep)));
    }
    Source::Cookies
}

/// The session routes of one request, read once ([`SessionRoutes::collect`]) and kept as
/// spans into the request buffer: the pick of every attempt, the `X-Balancer-Session-*`
/// headers and the access log all read these, none parses the request again. Up to four
/// routes stay inline (no allocation).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SessionRoutes {
    /// Every route in the order the balancer tries them: the sticky config's, then ringlb's
    /// insert cookie's.
    spans: SmallVec<[Span; 4]>,
    /// How many of `spans`, from the first, the sticky config found.
    sticky: usize,
    /// Where the sticky config found them.
    source: Source,
}

impl SessionRoutes {
    /// Reads the routes of the request whose head `head` was parsed from `buf`: those of
    /// `sticky` (the balancer's `stickysession`, clauses 1 to 6), then, only when no URL
    /// session id decided ([`Source::Cookies`]), those of `insert` (ringlb's insert cookie,
    /// one more cookie).
    pub fn collect(
        sticky: Option<&Sticky>,
        insert: Option<&Sticky>,
        buf: &[u8],
        head: &RequestHead,
    ) -> SessionRoutes {
        let target = head.target.get(buf);
        let mut routes = Routes::new();
        let mut source = Source::Cookies;
        if let Some(cfg) = sticky {
            source = collect_routes(cfg, target, head.cookies(buf), &mut routes);
        }
        let sticky_routes = routes.len();
        if let (Some(cfg), Source::Cookies) = (insert, source) {
            collect_routes(cfg, target, head.cookies(buf), &mut routes);
        }
        SessionRoutes {
            spans: routes.iter().map(|r| Span::of(buf, r)).collect(),
            sticky: sticky_routes,
            source,
        }
    }

    /// Every route, in the order the balancer tries them, read from the buffer they were
    /// collected from (a span that buffer no longer covers is left out).
    pub fn routes<'a>(&self, buf: &'a [u8]) -> Routes<'a> {
        self.spans.iter().filter_map(|s| span_in(buf, *s)).collect()
    }

    /// The first route the sticky config found, with where it found it: what the access log
    /// and the `X-Balancer-Session-*` headers name. `None` when it found none (an insert
    /// cookie's route is never named).
    pub fn session<'a>(&self, buf: &'a [u8]) -> Option<(Source, &'a [u8])> {
        let first = self.spans[..self.sticky].first()?;
        Some((self.source, span_in(buf, *first)?))
    }
}

fn span_in(buf: &[u8], span: Span) -> Option<&[u8]> {
    buf.get(span.start as usize..span.end as usize)
}

/// The route of a session id with the default separator `.`: [`route_after`]`(id, Some(b'.'))`.
pub fn route_of(session_id: &[u8]) -> Option<&[u8]> {
    route_after(session_id, Some(b'.'))
}

/// The route of a session id (clause 6): the text after the first `sep`, or the whole id when
/// `sep` is `None`; `None` when the separator is missing or the route would be empty.
pub fn route_after(session_id: &[u8], sep: Option<u8>) -> Option<&[u8]> {
    let route = match sep {
        Some(sep) => &session_id[memchr(sep, session_id)? + 1..],
        None => session_id,
    };
    (!route.is_empty()).then_some(route)
}

/// The session id carried in `target` under `name` (clauses 1 and 2), if any. `semicolon`
/// (`scolonpathdelim`) makes `;` end the value too.
pub fn url_session_id_delim<'t>(
    target: &'t [u8],
    name: &[u8],
    semicolon: bool,
) -> Option<&'t [u8]> {
    if name.is_empty() {
        return None;
    }
    let query_start = memchr(b'?', target).unwrap_or(target.len());
    for hit in memmem::find_iter(target, name) {
        let preceded = hit > 0 && matches!(target[hit - 1], b';' | b'?' | b'&');
        let eq = hit + name.len();
        if !preceded || target.get(eq) != Some(&b'=') {
            continue;
        }
        let rest = &target[eq + 1..];
        let in_path = hit < query_start;
        let end = rest
            .iter()
            .position(|&b| {
                matches!(b, b'?' | b'&') || (semicolon && b == b';') || (in_path && b == b'/')
            })
            .unwrap_or(rest.len());
        if end > 0 {
            return Some(&rest[..end]);
        }
    }
    None
}

/// The values of every cookie named `finder`'s needle in one `Cookie` header value, in order
/// (clauses 3 to 5). Values may be empty.
struct CookieValues<'h, 'f, 'n> {
    header: &'h [u8],
    /// Where the next search starts.
    pos: usize,
    finder: &'f memmem::Finder<'n>,
}

impl<'h> Iterator for CookieValues<'h, '_, '_> {
    type Item = &'h [u8];

    fn next(&mut self) -> Option<&'h [u8]> {
        let h = self.header;
        while self.pos < h.len() {
            let hit = self.pos + self.finder.find(&h[self.pos..])?;
            self.pos = hit + 1;
            if hit > 0 && !matches!(h[hit - 1], b';' | b',' | b' ' | b'\t') {
                continue;
            }
            let eq = skip_ws(h, hit + self.finder.needle().len());
            if h.get(eq) != Some(&b'=') {
                continue;
            }
            let start = skip_ws(h, eq + 1);
            let end = memchr2(b';', b',', &h[start..]).map_or(h.len(), |e| start + e);
            self.pos = end;
            return Some(unquote(trim_end_ws(&h[start..end])));
        }
        None
    }
}

/// The first index at or after `i` that is not a space or tab (may be `h.len()`).
fn skip_ws(h: &[u8], mut i: usize) -> usize {
    while matches!(h.get(i), Some(b' ' | b'\t')) {
        i += 1;
    }
    i
}

fn trim_end_ws(mut v: &[u8]) -> &[u8] {
    while let [rest @ .., b' ' | b'\t'] = v {
        v = rest;
    }
    v
}

/// `"x"` → `x`; anything else unchanged.
fn unquote(v: &[u8]) -> &[u8] {
    match v {
        [b'"', inner @ .., b'"'] => inner,
        _ => v,
    }
}

/// Writes the insert-cookie `Set-Cookie` value for `route` into `out`: the route behind the
/// separator (so [`collect_routes`] reads it back), then the configured attributes.
pub fn insert_cookie_value(
    cookie: &InsertCookie,
    sep: Option<u8>,
    route: &[u8],
    out: &mut SmallVec<[u8; 160]>,
) {
    out.extend_from_slice(cookie.name.as_bytes());
    out.push(b'=');
    if let Some(sep) = sep {
        out.push(sep);
    }
    out.extend_from_slice(route);
    out.extend_from_slice(b"; Path=");
    out.extend_from_slice(cookie.path.as_bytes());
    if let Some(domain) = &cookie.domain {
        out.extend_from_slice(b"; Domain=");
        out.extend_from_slice(domain.as_bytes());
    }
    if let Some(max_age) = cookie.max_age {
        out.extend_from_slice(b"; Max-Age=");
        push_decimal(out, max_age);
    }
    if cookie.http_only {
        out.extend_from_slice(b"; HttpOnly");
    }
    if cookie.secure {
        out.extend_from_slice(b"; Secure");
    }
    if let Some(same_site) = &cookie.same_site {
        out.extend_from_slice(b"; SameSite=");
        out.extend_from_slice(same_site.as_bytes());
    }
}

/// Appends `n` in decimal, without allocating.
fn push_decimal(out: &mut SmallVec<[u8; 160]>, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut at = digits.len();
    loop {
        at -= 1;
        digits[at] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[at..]);
}
