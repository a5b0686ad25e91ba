//! Session route extraction from the request target and Cookie headers (SEMANTICS.md 2.3).
//! Pure; borrows the request bytes; no allocation. STUB: interface fixed.

use smallvec::SmallVec;

use crate::config::Sticky;

/// Candidate routes in the order they are tried: URL first, then each session cookie.
pub type Routes<'a> = SmallVec<[&'a [u8]; 4]>;

/// Appends to `out` the routes found in `target` (path parameter / query) and then in each
/// `Cookie` header value of `cookie_headers`, in order.
pub fn collect_routes<'a>(
    cfg: &Sticky,
    target: &'a [u8],
    cookie_headers: impl Iterator<Item = &'a [u8]>,
    out: &mut Routes<'a>,
) {
    let _ = (cfg, target, cookie_headers, out);
}
