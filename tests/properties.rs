//! Property tests where a generator is a simpler model than a corpus: any chunked encoding of
//! any body, cut anywhere, decodes to the body; cookie headers and URLs built around a known
//! session route give exactly that route. (The fuzz targets in `fuzz/` cover arbitrary bytes.)

use proptest::collection::vec;
use proptest::prelude::*;
use ringlb::config::Sticky;
use ringlb::http::chunked::ChunkedDecoder;
use ringlb::sticky::{collect_routes, Routes};

/// A chunked encoding of `body` cut into chunks of `sizes` (cycled; 0 is skipped so it does
/// not end the body early), with optional extensions and trailers.
fn encode_chunked(
    body: &[u8],
    sizes: &[usize],
    ext: bool,
    trailers: &[(String, String)],
) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    let mut i = 0;
    while !rest.is_empty() {
        let size = sizes[i % sizes.len()].clamp(1, rest.len());
        i += 1;
        out.extend_from_slice(format!("{size:x}").as_bytes());
        if ext {
            out.extend_from_slice(b" ;name=\"v\";flag");
        }
        out.extend_from_slice(b"\r\n");
        out.extend_from_slice(&rest[..size]);
        out.extend_from_slice(b"\r\n");
        rest = &rest[size..];
    }
    out.extend_from_slice(b"0\r\n");
    for (name, value) in trailers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// Decodes `input` fed in pieces ending at `cuts` (any order, any values: they are clamped and
/// sorted), re-offering unconsumed bytes. Returns (payload, consumed, done).
fn decode_cut(input: &[u8], cuts: &[usize]) -> (Vec<u8>, usize, bool) {
    let mut ends: Vec<usize> = cuts.iter().map(|&c| c % (input.len() + 1)).collect();
    ends.sort_unstable();
    ends.push(input.len());
    let mut dec = ChunkedDecoder::new();
    let (mut payload, mut consumed) = (Vec::new(), 0);
    for end in ends {
        while consumed < end {
            let step = dec.step(&input[consumed..end]).expect("a valid encoding");
            payload.extend_from_slice(&input[consumed..end][step.data.clone()]);
            consumed += step.consumed;
            if step.done {
                return (payload, consumed, true);
            }
        }
    }
    (payload, consumed, false)
}

proptest! {
    #[test]
    fn chunked_any_encoding_any_cuts_decodes_to_the_body(
        body in vec(any::<u8>(), 0..2048),
        sizes in vec(0usize..300, 1..8),
        ext in any::<bool>(),
        trailers in vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..3),
        cuts in vec(any::<usize>(), 0..16),
        tail in vec(any::<u8>(), 0..8),
    ) {
        let mut input = encode_chunked(&body, &sizes, ext, &trailers);
        let end = input.len();
        // Bytes after the message belong to the next one and are not consumed.
        input.extend_from_slice(&tail);
        let (payload, consumed, done) = decode_cut(&input, &cuts);
        prop_assert!(done);
        prop_assert_eq!(consumed, end);
        prop_assert_eq!(payload, body);
    }
}

fn sticky_cfg() -> Sticky {
    Sticky::new("JSESSIONID", "jsessionid")
}

fn routes_of<'a>(target: &'a [u8], cookies: &'a [String]) -> Vec<String> {
    let mut out = Routes::new();
    collect_routes(
        &sticky_cfg(),
        target,
        cookies.iter().map(|c| c.as_bytes()),
        &mut out,
    );
    out.iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect()
}

/// Another cookie: lowercase name, alphanumeric value (neither can form `JSESSIONID=`).
fn other_cookie() -> impl Strategy<Value = String> {
    ("[a-z]{1,6}", "[A-Za-z0-9]{0,8}").prop_map(|(n, v)| format!("{n}={v}"))
}

proptest! {
    /// A session cookie among others, with any separator, spacing and quoting the grammar
    /// allows, gives exactly its route.
    #[test]
    fn sticky_cookie_with_a_known_route_gives_it(
        before in vec(other_cookie(), 0..4),
        after in vec(other_cookie(), 0..4),
        id in "[A-F0-9]{1,16}",
        route in "[a-z0-9]{1,8}",
        ws_before in "[ \t]{0,2}",
        ws_after in "[ \t]{0,2}",
        quoted in any::<bool>(),
        sep in prop::sample::select(vec!["; ", ";", ",", ", ", ";\t"]),
    ) {
        let value = if quoted { format!("\"{id}.{route}\"") } else { format!("{id}.{route}") };
        let session = format!("JSESSIONID{ws_before}={ws_after}{value}");
        let all: Vec<String> = before.into_iter().chain([session]).chain(after).collect();
        let header = vec![all.join(sep)];
        prop_assert_eq!(routes_of(b"/app", &header), vec![route]);
    }

    /// A `;jsessionid=` path parameter or a `jsessionid=` query parameter, wherever it sits and
    /// whatever follows it, gives exactly its route.
    #[test]
    fn sticky_url_with_a_known_route_gives_it(
        segments in vec("[a-z0-9]{1,6}", 1..4),
        id in "[A-F0-9]{1,16}",
        route in "[a-z0-9]{1,8}",
        in_query in any::<bool>(),
        params_before in vec("[a-z]{1,4}=[a-z0-9]{0,4}", 0..3),
        suffix in prop::sample::select(vec!["", ";x=y", "/more", "?q=1", "&z", "/a?b=c"]),
    ) {
        let path = format!("/{}", segments.join("/"));
        let target = if in_query {
            let mut params = params_before;
            params.push(format!("jsessionid={id}.{route}"));
            // A `/` in the query does not end the value, so no path-only suffix here.
            let suffix = if suffix.starts_with('/') || suffix.starts_with(';') { "" } else { suffix };
            format!("{path}?{}{suffix}", params.join("&"))
        } else {
            format!("{path};jsessionid={id}.{route}{suffix}")
        };
        prop_assert_eq!(routes_of(target.as_bytes(), &[]), vec![route]);
    }
}
