//! `h2_guard`: `ringlb::http::h2_guard::FrameGuard` over the bytes a client sends on an
//! HTTP/2 connection, checked against its contract: it allocates nothing; the verdict is the
//! same whether the bytes come whole, byte by byte or cut at fuzzer-chosen points; a tripped
//! guard answers the same error for every later call; and bytes added after a trip never
//! clear it.
//!
//! Input: one byte choosing a cut length (1 to 256), then the bytes; the connection preface
//! is put in front when the input does not start with it, so frames are reached.

use ringlb::http::h2_guard::{FrameGuard, PREFACE};

use crate::alloc::bounded;

/// The fuzz target: see the module doc. Panics on a broken invariant.
pub fn h2_guard(data: &[u8]) {
    let Some((&cut, rest)) = data.split_first() else {
        return;
    };
    let bytes = if rest.starts_with(PREFACE) || rest.len() < 4 {
        rest.to_vec()
    } else {
        [PREFACE, rest].concat()
    };
    let whole = bounded("h2_guard", 0, || {
        let mut guard = FrameGuard::new();
        guard.feed(&bytes)
    });
    let cut = usize::from(cut) + 1;
    for size in [1, cut] {
        let split = bounded("h2_guard", 0, || {
            let mut guard = FrameGuard::new();
            let mut verdict = Ok(());
            for piece in bytes.chunks(size) {
                let got = guard.feed(piece);
                if let Err(flood) = verdict {
                    assert_eq!(got, Err(flood), "a tripped guard changed its answer");
                }
                verdict = verdict.and(got);
            }
            (verdict, guard)
        });
        assert_eq!(split.0, whole, "cut every {size} bytes");
        if let Err(flood) = whole {
            let mut guard = split.1;
            assert_eq!(
                guard.feed(b"\0\0\0\x04\0\0\0\0\0"),
                Err(flood),
                "trip is permanent"
            );
        }
    }
}
