//! `response_head`: response head parsing (the status is exactly three digits), framing against
//! the reference model, and parse -> rewrite -> parse stability of the head sent to the client.
//!
//! Input: one option byte (bits 0-1: the request method, `GET`, `HEAD`, `CONNECT` or `POST`;
//! bit 2: the client speaks HTTP/1.0), then the response bytes.

use ringlb::http::framing::{analyze_response, BodyKind, FramingError, ResponseFacts};
use ringlb::http::head::{parse_response, ResponseHead};
use ringlb::http::rewrite::{
    reason_phrase, write_interim_head, write_response_head, BodyOut, ResponseRewrite,
};
use ringlb::http::{Version, MAX_HEADERS};

use crate::alloc::bounded;
use crate::model::{self, Field, ModelError};

/// Room under [`MAX_HEADERS`] for the fields the rewrite adds.
const FIRST_PARSE_HEADERS: usize = MAX_HEADERS - 4;

const METHODS: [&[u8]; 4] = [b"GET", b"HEAD", b"CONNECT", b"POST"];

/// Fields that never reach the client as the member sent them (RFC 9110 section 7.6.1).
const HOP_BY_HOP: [&[u8]; 5] = [
    b"keep-alive",
    b"proxy-connection",
    b"te",
    b"trailer",
    b"upgrade",
];

/// The fuzz target: see the module doc for the input format. Panics on a broken invariant.
pub fn response_head(data: &[u8]) {
    let Some((&options, buf)) = data.split_first() else {
        return;
    };
    let method = METHODS[usize::from(options & 3)];
    let client_version = if options & 4 != 0 {
        Version::Http10
    } else {
        Version::Http11
    };
    let Ok(Some(head)) = parse_response(buf, FIRST_PARSE_HEADERS) else {
        return;
    };
    assert!(head.len <= buf.len());
    check_status_digits(&buf[..head.len], head.status);

    let fields = fields_of(buf, &head);
    let facts = match (
        analyze_response(buf, &head, method),
        model::response(head.version, head.status, &fields, method),
    ) {
        (Ok(facts), Ok(want)) => {
            assert_eq!(facts.body, want.body, "framing differs from the model");
            assert_eq!(facts.keep_alive, want.keep_alive, "keep-alive differs");
            assert_eq!(facts.interim, want.interim, "interim differs");
            assert_eq!(facts.switching, want.switching, "switching differs");
            facts
        }
        (Err(FramingError::Invalid(_)), Err(ModelError::Invalid)) => return,
        (got, want) => panic!("analyze_response gave {got:?}, the model {want:?}"),
    };

    // Only 100..=599 is relayed: anything else is a 502 (issue 9, defect 8; before that fix a
    // `000` went out as the unparseable `HTTP/1.1 0`).
    if !(100..600).contains(&head.status) {
        return;
    }
    // As for requests: the head at most doubles (`a:b` gains a space), the buffer growing to
    // it may hold four times that at once.
    let out = bounded("response rewrite", 8 * buf.len() + 8192, || {
        client_head(buf, &head, &facts, client_version)
    });
    assert!(
        out.len() <= 2 * buf.len() + 1024,
        "client head of {} bytes",
        out.len()
    );
    let again = match parse_response(&out, MAX_HEADERS) {
        Ok(Some(again)) => again,
        other => panic!("client head does not parse: {other:?}"),
    };
    assert_eq!(again.len, out.len(), "client head has bytes after its end");
    assert_eq!(again.status, head.status);
    assert_eq!(again.version, Version::Http11);
    let reason = match head.reason.get(buf) {
        [] => reason_phrase(head.status).as_bytes(),
        r => r,
    };
    assert_eq!(again.reason.get(&out), reason, "reason phrase changed");
    for (name, _) in fields_of(&out, &again) {
        let lower = name.to_ascii_lowercase();
        let allowed = lower == b"upgrade" && head.status == 101;
        assert!(
            allowed || !HOP_BY_HOP.contains(&lower.as_slice()),
            "hop-by-hop field {:?} relayed",
            String::from_utf8_lossy(name)
        );
    }
    let relayed = analyze_response(&out, &again, method)
        .unwrap_or_else(|e| panic!("client head has invalid framing: {e:?}"));
    assert_eq!(relayed.body, facts.body, "framing changed by the rewrite");
    assert_eq!(relayed.interim, facts.interim);
    assert_eq!(relayed.switching, facts.switching);
    if !facts.interim {
        assert_eq!(relayed.keep_alive, facts.keep_alive, "keep-alive changed");
    }
    // A rewritten head is a fixed point of the rewrite.
    assert_eq!(
        client_head(&out, &again, &relayed, client_version),
        out,
        "rewrite is not idempotent"
    );
}

/// The head ringlb writes to the client for this member head and its framing decision.
fn client_head(
    buf: &[u8],
    head: &ResponseHead,
    facts: &ResponseFacts,
    client_version: Version,
) -> Vec<u8> {
    let mut out = Vec::new();
    if facts.interim || head.status == 101 {
        write_interim_head(&mut out, buf, head);
        return out;
    }
    let body = match facts.body {
        BodyKind::None => BodyOut::None,
        BodyKind::Length(n) => BodyOut::Length(n),
        BodyKind::Chunked => BodyOut::Chunked,
        BodyKind::UntilClose => BodyOut::Close,
    };
    let rw = ResponseRewrite {
        keep_alive: facts.keep_alive,
        client_version,
        body,
        extra: &[],
        reverse: None,
    };
    write_response_head(&mut out, buf, head, &rw);
    out
}

/// The status line carries exactly three digits, and `status` is their value.
fn check_status_digits(head: &[u8], status: u16) {
    let start = head
        .windows(7)
        .position(|w| w == b"HTTP/1.")
        .expect("a parsed response has a status line");
    let line = &head[start..];
    let digits = &line[9..12];
    assert!(
        digits.iter().all(u8::is_ascii_digit),
        "status {digits:?} is not 3 digits"
    );
    assert!(
        matches!(line.get(12), Some(b' ' | b'\r' | b'\n')),
        "status has more than 3 digits"
    );
    let value = digits
        .iter()
        .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'));
    assert_eq!(value, status);
}

fn fields_of<'a>(buf: &'a [u8], head: &ResponseHead) -> Vec<Field<'a>> {
    head.headers
        .iter()
        .map(|h| (h.name.get(buf), h.value.get(buf)))
        .collect()
}
