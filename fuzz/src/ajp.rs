//! `ajp_reply`: `ringlb::ajp::reply` over the bytes an AJP13 member sends, checked against
//! its contract: `parse` allocates nothing and never reads past one packet of at most
//! `packet_size` bytes; every strict prefix of a packet it accepts asks for more; and the head
//! `write_head` makes of a `SEND_HEADERS` packet is one complete HTTP/1.1 response head that
//! ringlb's own head parser reads back whole, with the same status and a framing field (none
//! on a 204 or 304; so a member can never smuggle a line or a second response through it).
//!
//! Input: one byte choosing `packet_size` (8192 plus 256 times it, up to 65536), then the
//! member's bytes, read packet after packet until one is refused or incomplete.

use ringlb::ajp::reply::{self, Reply};
use ringlb::http::head;

use crate::alloc::bounded;

/// The fuzz target: see the module doc. Panics on a broken invariant.
pub fn ajp_reply(data: &[u8]) {
    let Some((&size, mut rest)) = data.split_first() else {
        return;
    };
    let packet_size = (8192 + 256 * usize::from(size)).min(65536);
    loop {
        let parsed = bounded("ajp_reply", 0, || reply::parse(rest, packet_size));
        let (reply, n) = match parsed {
            Ok(Some(found)) => found,
            Ok(None) | Err(_) => return,
        };
        assert!(n <= rest.len() && n <= packet_size, "packet of {n} bytes");
        for cut in [2.min(n - 1), n / 2, n - 1] {
            assert_eq!(
                reply::parse(&rest[..cut], packet_size),
                Ok(None),
                "a prefix of {cut} bytes of a {n}-byte packet"
            );
        }
        assert_eq!(reply::parse(&rest[..n], packet_size), Ok(Some((reply, n))));
        if let Reply::Headers(payload) = reply {
            check_head(payload);
        }
        rest = &rest[n..];
    }
}

fn check_head(payload: &[u8]) {
    let mut out = Vec::new();
    let Ok(status) = reply::write_head(payload, &mut out) else {
        return;
    };
    let parsed = head::parse_response(&out, ringlb::http::MAX_HEADERS);
    let resp = match parsed {
        Ok(Some(resp)) => resp,
        // More fields than ringlb reads: refused downstream as a bad response.
        Err(head::HeadError::TooManyHeaders) => return,
        other => panic!("write_head made an unreadable head: {other:?}"),
    };
    assert_eq!(resp.len, out.len(), "one head, nothing after it");
    assert_eq!(resp.status, status);
    let framing = (resp.headers.iter())
        .filter(|h| {
            let name = h.name.get(&out);
            name.eq_ignore_ascii_case(b"transfer-encoding")
                || name.eq_ignore_ascii_case(b"content-length")
        })
        .count();
    if matches!(status, 204 | 304) {
        assert_eq!(framing, 0, "a framing field on a {status}");
    } else {
        assert!(framing >= 1, "no framing field");
    }
    let chunked = (resp.headers.iter())
        .filter(|h| h.name.get(&out).eq_ignore_ascii_case(b"transfer-encoding"))
        .count();
    assert!(chunked <= 1, "a member's Transfer-Encoding went through");
}
