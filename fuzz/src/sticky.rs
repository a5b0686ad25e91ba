//! `sticky`: session route extraction against a byte-by-byte reference model of the grammar in
//! `ringlb::sticky`'s module doc; every route is a non-empty slice of the request bytes.
//!
//! Input: one option byte (bits 0-2: the name pair, bits 3-4: the separator, bit 5:
//! `scolonpathdelim`), then the request target, then one `Cookie` header value per further
//! line (`\n`-separated).

use ringlb::config::Sticky;
use ringlb::sticky::{collect_routes, url_session_id_delim, Routes, Source};

use crate::alloc::bounded;

/// (cookie name, URL name) pairs: the defaults, short names that overlap their own
/// occurrences, and each name empty (matches nothing).
const NAMES: [(&str, &str); 8] = [
    ("JSESSIONID", "jsessionid"),
    ("sid", "sid"),
    ("a", "a"),
    ("aa", "aa"),
    ("JSESSIONID", ""),
    ("", "jsessionid"),
    ("PHPSESSID", "PHPSESSID"),
    ("s.id", "s.id"),
];

/// `stickysessionsep` values: `.` (default), `Off`, and two others.
const SEPS: [Option<u8>; 4] = [Some(b'.'), None, Some(b'!'), Some(b'=')];

/// The fuzz target: see the module doc for the input format. Panics on a broken invariant.
pub fn sticky(data: &[u8]) {
    let Some((&options, rest)) = data.split_first() else {
        return;
    };
    let (cookie_name, url_name) = NAMES[usize::from(options & 7)];
    let cfg = Sticky {
        cookie_name: cookie_name.to_owned(),
        url_name: url_name.to_owned(),
        sep: SEPS[usize::from((options >> 3) & 3)],
        scolonpathdelim: options & 0x20 != 0,
    };
    let mut lines = rest.split(|&b| b == b'\n');
    let target = lines.next().unwrap_or_default();
    let cookies: Vec<&[u8]> = lines.collect();

    let mut got = Routes::new();
    // Routes are borrowed; only the spill of more than four of them may allocate (16 bytes
    // per route of at least four input bytes, the vector doubling and copying).
    let source = bounded("collect_routes", 32 * rest.len() + 256, || {
        collect_routes(&cfg, target, cookies.iter().copied(), &mut got)
    });
    for route in &got {
        assert!(!route.is_empty(), "empty route");
        let inside = |part: &[u8]| {
            let (start, end) = (rest.as_ptr() as usize, rest.as_ptr() as usize + rest.len());
            let p = part.as_ptr() as usize;
            p >= start && p + part.len() <= end
        };
        assert!(inside(route), "route is not a slice of the request");
    }

    let url_id = url_id_model(target, url_name.as_bytes(), cfg.scolonpathdelim);
    let real_id = url_session_id_delim(target, url_name.as_bytes(), cfg.scolonpathdelim);
    assert_eq!(real_id, url_id, "URL session id differs from the model");
    // The combination rule of the module doc (httpd's): a URL session id decides alone, even
    // without a route; only without one are the cookies read, every cookie's route in order.
    let want: Vec<&[u8]> = match url_id {
        Some(id) => {
            assert_eq!(source, Source::Url, "a URL session id is the source");
            route_model(id, cfg.sep).into_iter().collect()
        }
        None => {
            assert_eq!(
                source,
                Source::Cookies,
                "without a URL session id, the cookies"
            );
            cookies
                .iter()
                .flat_map(|h| {
                    cookie_ids_model(h, cookie_name.as_bytes())
                        .into_iter()
                        .filter_map(|id| route_model(id, cfg.sep))
                })
                .collect()
        }
    };
    assert_eq!(got.to_vec(), want, "routes differ from the model");
}

/// Clause 6: the text after the first `sep` (the whole id without one), if non-empty.
fn route_model(id: &[u8], sep: Option<u8>) -> Option<&[u8]> {
    let route = match sep {
        None => id,
        Some(sep) => {
            let at = id.iter().position(|&b| b == sep)?;
            &id[at + 1..]
        }
    };
    if route.is_empty() {
        None
    } else {
        Some(route)
    }
}

/// Clauses 1 and 2: the first `name=value` (overlapping occurrences considered) after `;`,
/// `?` or `&` with a non-empty value.
fn url_id_model<'a>(target: &'a [u8], name: &[u8], semicolon: bool) -> Option<&'a [u8]> {
    if name.is_empty() {
        return None;
    }
    let query = target
        .iter()
        .position(|&b| b == b'?')
        .unwrap_or(target.len());
    for at in 1..target.len() {
        if !target[at..].starts_with(name) || !b";?&".contains(&target[at - 1]) {
            continue;
        }
        let after = at + name.len();
        if target.get(after) != Some(&b'=') {
            continue;
        }
        let mut end = after + 1;
        while end < target.len() {
            let b = target[end];
            let stop =
                b == b'?' || b == b'&' || (semicolon && b == b';') || (at < query && b == b'/');
            if stop {
                break;
            }
            end += 1;
        }
        if end > after + 1 {
            return Some(&target[after + 1..end]);
        }
    }
    None
}

/// Clauses 3 to 5: every value of a cookie `name` in one header, in order. A name counts at
/// the start or after `;`, `,`, SP or HTAB, followed by optional SP/HTAB and `=`; the value
/// runs to `;`, `,` or the end, trailing SP/HTAB dropped, one pair of quotes stripped; the
/// search goes on after the value.
fn cookie_ids_model<'a>(header: &'a [u8], name: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    if name.is_empty() {
        return out;
    }
    let is_ws = |b: u8| b == b' ' || b == b'\t';
    let mut at = 0;
    while at < header.len() {
        let starts =
            header[at..].starts_with(name) && (at == 0 || b";, \t".contains(&header[at - 1]));
        if !starts {
            at += 1;
            continue;
        }
        let mut i = at + name.len();
        while i < header.len() && is_ws(header[i]) {
            i += 1;
        }
        if header.get(i) != Some(&b'=') {
            at += 1;
            continue;
        }
        i += 1;
        while i < header.len() && is_ws(header[i]) {
            i += 1;
        }
        let start = i;
        while i < header.len() && header[i] != b';' && header[i] != b',' {
            i += 1;
        }
        let mut value = &header[start..i];
        while let Some((&last, rest)) = value.split_last() {
            if !is_ws(last) {
                break;
            }
            value = rest;
        }
        if value.len() >= 2 && value[0] == b'"' && value[value.len() - 1] == b'"' {
            value = &value[1..value.len() - 1];
        }
        out.push(value);
        at = i;
    }
    out
}
