//! `path`: the dot-segment rule of `ringlb::http::path::normalize`, checked against its
//! contract: the normal form starts with `/`, is a fixed point, has no dot-segment however
//! spelled and no `\`, `%2f` or `%5c`; `Rewritten` only for a plain dot-segment, and shorter.
//!
//! Input: the path bytes as they would follow the request target's authority.

use ringlb::http::path::{normalize, Normal};

use crate::alloc::bounded;

/// The fuzz target: see the module doc. Panics on a broken invariant.
pub fn path(data: &[u8]) {
    let mut out = Vec::new();
    // The normal form is never longer than the path; growing the scratch buffer to it by
    // doubling holds the old and the new block at once: at most three times the path.
    let limit = 3 * data.len() + 64;
    let Ok(normal) = bounded("path", limit, || normalize(data, &mut out)) else {
        return;
    };
    let form: &[u8] = match normal {
        Normal::AsIs => data,
        Normal::Rewritten => {
            assert!(out.len() < data.len(), "a rewrite is shorter than the path");
            assert!(
                has_plain_dot_segment(data),
                "a rewrite needs a plain dot-segment"
            );
            &out
        }
    };
    assert_eq!(form.first(), Some(&b'/'), "the normal form starts with /");
    let mut again = Vec::new();
    assert_eq!(
        normalize(form, &mut again),
        Ok(Normal::AsIs),
        "the normal form is a fixed point"
    );
    for segment in form.split(|&b| b == b'/').skip(1) {
        assert!(
            !is_dot_segment(segment),
            "a dot-segment survived: {segment:?}"
        );
    }
    let lower = form.to_ascii_lowercase();
    for bad in [&b"\\"[..], b"%2f", b"%5c"] {
        assert!(
            !lower.windows(bad.len()).any(|w| w == bad),
            "a separator survived"
        );
    }
}

/// Whether `path` has a `.` or `..` segment written plainly (no `%2e`, no `;parameters`).
fn has_plain_dot_segment(path: &[u8]) -> bool {
    path.split(|&b| b == b'/').any(|s| s == b"." || s == b"..")
}

/// Whether `segment` reads as `.` or `..` once `%2e` is decoded and `;parameters` dropped.
fn is_dot_segment(segment: &[u8]) -> bool {
    let name = segment.split(|&b| b == b';').next().unwrap_or_default();
    let decoded = String::from_utf8_lossy(name)
        .to_ascii_lowercase()
        .replace("%2e", ".");
    decoded == "." || decoded == ".."
}
