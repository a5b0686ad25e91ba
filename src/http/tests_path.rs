//! Target splitting, the dot-segment rule and the `target_path` join: the cases of issue 9,
//! the RFC 3986 section 5.4 examples that apply to a path, and every short path over a small
//! alphabet checked against the RFC's own algorithm.

use super::path::{join, normalize, split_target, Normal, PathError, Target, TargetError};

fn show(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn targets_split_into_path_and_query() {
    let t = |path: &'static [u8], query: &'static [u8], path_added| {
        Ok(Target {
            path,
            query,
            path_added,
        })
    };
    let cases: [(&[u8], Result<Target<'_>, TargetError>); 22] = [
        (b"/a/b?c=1", t(b"/a/b", b"?c=1", false)),
        (b"/", t(b"/", b"", false)),
        (b"/?", t(b"/", b"?", false)),
        (b"/a?b?c", t(b"/a", b"?b?c", false)),
        (b"*", t(b"*", b"", false)),
        (b"http://h:80/x", t(b"/x", b"", false)),
        (b"HTTPS://h/x?y", t(b"/x", b"?y", false)),
        (b"http://h", t(b"/", b"", true)),
        // Issue 9 defect 7: the query is not the path.
        (b"http://evil?x=/app/admin", t(b"/", b"?x=/app/admin", true)),
        (
            b"http://evil/?x=/app/admin",
            t(b"/", b"?x=/app/admin", false),
        ),
        (b"http://[::1]:8080/x", t(b"/x", b"", false)),
        (b"http://10.0.0.1:/x", t(b"/x", b"", false)),
        // Issue 9 defect 7: an empty host is refused (RFC 9110 section 4.2.1).
        (b"http:///app/x", Err(TargetError::EmptyHost)),
        (b"http://:80/x", Err(TargetError::EmptyHost)),
        (b"http://?x=/app", Err(TargetError::EmptyHost)),
        (b"http://[]/x", Err(TargetError::EmptyHost)),
        (b"http://user@h/x", Err(TargetError::Userinfo)),
        (b"http://h:8o/x", Err(TargetError::Invalid)),
        (b"http://[::1/x", Err(TargetError::Invalid)),
        (b"http://h#f/x", Err(TargetError::Invalid)),
        (b"ftp://h/x", Err(TargetError::Invalid)),
        (b"a/b", Err(TargetError::Invalid)),
    ];
    for (target, want) in cases {
        assert_eq!(split_target(target), want, "{}", show(target));
    }
    for target in [&b""[..], b"http:", b"http:/x", b"http//h/x", b"**"] {
        assert_eq!(
            split_target(target),
            Err(TargetError::Invalid),
            "{}",
            show(target)
        );
    }
}

#[test]
fn path_and_query_are_the_targets_tail_unless_the_path_was_added() {
    for target in [
        &b"/a?q"[..],
        b"http://h/a?q",
        b"http://h?q",
        b"*",
        b"https://h",
    ] {
        let t = split_target(target).unwrap();
        let tail = [t.path, t.query].concat();
        assert_eq!(t.path_added, !target.ends_with(&tail), "{}", show(target));
    }
}

/// `Ok(Some(n))`: rewritten to `n`; `Ok(None)`: already normal.
fn normal_form(path: &[u8]) -> Result<Option<Vec<u8>>, PathError> {
    let mut out = b"junk".to_vec();
    match normalize(path, &mut out)? {
        Normal::AsIs => Ok(None),
        Normal::Rewritten => Ok(Some(out)),
    }
}

#[test]
fn the_escapes_of_issue_9_are_refused_or_resolved() {
    assert_eq!(
        normal_form(b"/app/../other/secret"),
        Ok(Some(b"/other/secret".to_vec()))
    );
    assert_eq!(
        normal_form(b"/app/%2e%2e/other/secret"),
        Err(PathError::EncodedDot)
    );
    assert_eq!(
        normal_form(b"/app/..;/manager/html"),
        Err(PathError::ParamDot)
    );
}

#[test]
fn dot_segment_rule() {
    use PathError::*;
    let cases: [(&str, Result<Option<&str>, PathError>); 42] = [
        // Normal already: nothing to do.
        ("/", Ok(None)),
        ("/app/x", Ok(None)),
        ("/app/index.html", Ok(None)),
        ("/.well-known/acme", Ok(None)),
        ("/a..b/...", Ok(None)),
        ("/a/.../b", Ok(None)),
        ("/a/..b/.c", Ok(None)),
        ("/x;jsessionid=abc.n1", Ok(None)),
        ("/app/;jsessionid=abc", Ok(None)),
        ("/a//b/", Ok(None)),
        ("/a%2eb", Ok(None)),
        ("/a/%2e%2e%2e/b", Ok(None)),
        ("/a/..%3b/b", Ok(None)),
        ("/a/%252e%252e/b", Ok(None)),
        ("/a%20b/%41", Ok(None)),
        ("/a%", Ok(None)),
        ("/a%2", Ok(None)),
        // Plain dot-segments are removed.
        ("/app/./x", Ok(Some("/app/x"))),
        ("/app/a/../x", Ok(Some("/app/x"))),
        ("/.", Ok(Some("/"))),
        ("/./", Ok(Some("/"))),
        ("/a/.", Ok(Some("/a/"))),
        ("/a/..", Ok(Some("/"))),
        ("/a/b/../", Ok(Some("/a/"))),
        ("/a;x/../b", Ok(Some("/b"))),
        ("/a//../b", Ok(Some("/a/b"))),
        ("//..", Ok(Some("/"))),
        // Climbing above the root.
        ("/..", Err(AboveRoot)),
        ("/../a", Err(AboveRoot)),
        ("/a/../..", Err(AboveRoot)),
        ("/a/./../../b", Err(AboveRoot)),
        // Dot-segments spelled otherwise.
        ("/a/%2e/b", Err(EncodedDot)),
        ("/a/%2E%2E/b", Err(EncodedDot)),
        ("/a/.%2e", Err(EncodedDot)),
        ("/a/%2e.;x/b", Err(EncodedDot)),
        ("/a/.;/b", Err(ParamDot)),
        ("/a/..;x=1/b", Err(ParamDot)),
        // Separators a member may decode.
        ("/a\\b", Err(Separator)),
        ("/a/..%2fb", Err(Separator)),
        ("/a%2F..", Err(Separator)),
        ("/a%5c../b", Err(Separator)),
        ("/a/%5C", Err(Separator)),
    ];
    for (path, want) in cases {
        let want = want.map(|n| n.map(|n| n.as_bytes().to_vec()));
        assert_eq!(normal_form(path.as_bytes()), want, "{path}");
    }
    assert_eq!(normal_form(b"a/b"), Err(NotAbsolute));
    assert_eq!(normal_form(b""), Err(NotAbsolute));
    assert_eq!(normal_form(b"*"), Err(NotAbsolute));
}

/// RFC 3986 section 5.4 with base `http://a/b/c/d;p?q`: each reference's merged path (section
/// 5.2.3: the base path up to its last `/`, then the reference) and its result. Those whose
/// result the RFC reaches by climbing above the root are refused here instead.
#[test]
fn rfc3986_examples() {
    let cases: [(&str, Result<&str, PathError>); 24] = [
        ("/b/c/g", Ok("/b/c/g")),
        ("/b/c/./g", Ok("/b/c/g")),
        ("/b/c/g/", Ok("/b/c/g/")),
        ("/g", Ok("/g")),
        ("/b/c/g;x", Ok("/b/c/g;x")),
        ("/b/c/.", Ok("/b/c/")),
        ("/b/c/./", Ok("/b/c/")),
        ("/b/c/..", Ok("/b/")),
        ("/b/c/../", Ok("/b/")),
        ("/b/c/../g", Ok("/b/g")),
        ("/b/c/../..", Ok("/")),
        ("/b/c/../../", Ok("/")),
        ("/b/c/../../g", Ok("/g")),
        // Section 5.4.2, abnormal examples.
        ("/b/c/../../../g", Err(PathError::AboveRoot)),
        ("/b/c/../../../../g", Err(PathError::AboveRoot)),
        ("/./g", Ok("/g")),
        ("/../g", Err(PathError::AboveRoot)),
        ("/b/c/g.", Ok("/b/c/g.")),
        ("/b/c/.g", Ok("/b/c/.g")),
        ("/b/c/..g", Ok("/b/c/..g")),
        ("/b/c/./../g", Ok("/b/g")),
        ("/b/c/./g/.", Ok("/b/c/g/")),
        ("/b/c/g;x=1/./y", Ok("/b/c/g;x=1/y")),
        ("/b/c/g;x=1/../y", Ok("/b/c/y")),
    ];
    for (path, want) in cases {
        let got = normal_form(path.as_bytes()).map(|n| n.unwrap_or_else(|| path.into()));
        assert_eq!(got, want.map(|w| w.as_bytes().to_vec()), "{path}");
    }
}

/// RFC 3986 section 5.2.4 as written (buffer steps A to E), and whether step C found no
/// segment to remove (climbed above the root).
fn rfc_remove_dot_segments(path: &[u8]) -> (Vec<u8>, bool) {
    let (mut input, mut output, mut climbed) = (path.to_vec(), Vec::new(), false);
    while !input.is_empty() {
        if input.starts_with(b"../") {
            input.drain(..3);
        } else if input.starts_with(b"./") || input.starts_with(b"/./") {
            input.drain(..2);
        } else if input == b"/." {
            input = b"/".to_vec();
        } else if input.starts_with(b"/../") || input == b"/.." {
            if input.len() == 3 {
                input = b"/".to_vec();
            } else {
                input.drain(..3);
            }
            match output.iter().rposition(|&b| b == b'/') {
                Some(cut) => output.truncate(cut),
                None => climbed = true,
            }
        } else if input == b"." || input == b".." {
            input.clear();
        } else {
            let end = input[1..]
                .iter()
                .position(|&b| b == b'/')
                .map_or(input.len(), |i| i + 1);
            output.extend(input.drain(..end));
        }
    }
    (output, climbed)
}

/// What each segment of `path` is, by the module's rules read independently: (a separator
/// somewhere, a dot-segment spelled with `%2e`, one with `;parameters`).
fn spellings(path: &[u8]) -> (bool, bool, bool) {
    let text = show(path).to_ascii_lowercase();
    let separator = text.contains('\\') || text.contains("%2f") || text.contains("%5c");
    let (mut encoded, mut param) = (false, false);
    for segment in text.split('/') {
        let name = segment.split(';').next().unwrap_or("");
        let decoded = name.replace("%2e", ".");
        if decoded == "." || decoded == ".." {
            encoded |= decoded != name;
            param |= name != segment;
        }
    }
    (separator, encoded, param)
}

fn has_dot_segment(path: &[u8]) -> bool {
    let (separator, encoded, param) = spellings(path);
    let plain = show(path).split('/').any(|s| s == "." || s == "..");
    separator || encoded || param || plain
}

/// Every path of up to 6 bytes after the leading `/` over an alphabet that spells every rule:
/// the invariants of [`normalize`], and agreement with the RFC's algorithm wherever the module
/// does not refuse a spelling.
#[test]
fn every_short_path_against_the_rfc_algorithm() {
    const ALPHABET: &[u8] = b"/.;%2eF\\";
    let mut path = Vec::new();
    let mut count = 0usize;
    for len in 0..=6u32 {
        for mut n in 0..(ALPHABET.len() as u64).pow(len) {
            path.clear();
            path.push(b'/');
            for _ in 0..len {
                path.push(ALPHABET[(n % ALPHABET.len() as u64) as usize]);
                n /= ALPHABET.len() as u64;
            }
            check_one(&path);
            count += 1;
        }
    }
    assert!(count > 250_000, "{count} paths");
}

fn check_one(path: &[u8]) {
    let case = show(path);
    let (separator, encoded, param) = spellings(path);
    let (rfc, climbed) = rfc_remove_dot_segments(path);
    let mut out = Vec::new();
    match normalize(path, &mut out) {
        Ok(result) => {
            assert!(!(separator || encoded || param), "{case}: accepted");
            assert!(!climbed, "{case}: climbed above the root");
            let normal: &[u8] = match result {
                Normal::AsIs => path,
                Normal::Rewritten => {
                    assert!(out.len() < path.len(), "{case}: not shorter");
                    &out
                }
            };
            assert_eq!(show(normal), show(&rfc), "{case}: differs from RFC 3986");
            assert!(normal.starts_with(b"/"), "{case}");
            assert!(!has_dot_segment(normal), "{case}: {}", show(normal));
            let mut again = Vec::new();
            assert_eq!(normalize(normal, &mut again), Ok(Normal::AsIs), "{case}");
        }
        Err(PathError::Separator) => assert!(separator, "{case}"),
        Err(PathError::EncodedDot) => assert!(encoded, "{case}"),
        Err(PathError::ParamDot) => assert!(param, "{case}"),
        Err(PathError::AboveRoot) => assert!(climbed, "{case}"),
        Err(PathError::NotAbsolute) => panic!("{case}: starts with /"),
    }
    if !(separator || encoded || param) && climbed {
        assert_eq!(
            normalize(path, &mut out),
            Err(PathError::AboveRoot),
            "{case}"
        );
    }
}

#[test]
fn target_path_is_joined_with_one_slash() {
    let cases: [(&str, &str, &str, &str); 27] = [
        // Issue 9 defect 11c.
        ("/", "/backend", "/x", "/backend/x"),
        ("/", "/backend", "/", "/backend/"),
        ("/", "/backend", "/?q", "/backend/?q"),
        ("/", "/backend/", "/x/y", "/backend/x/y"),
        ("/", "/backend/", "/", "/backend/"),
        ("/", "/", "/x?q", "/x?q"),
        ("/app", "/", "/app", "/"),
        ("/app", "/", "/app/", "/"),
        ("/app", "/", "/app/x", "/x"),
        ("/app", "/", "/app?q", "/?q"),
        ("/app", "/", "/app;jsessionid=a", "/;jsessionid=a"),
        ("/app", "/backend", "/app", "/backend"),
        ("/app", "/backend", "/app/x", "/backend/x"),
        ("/app", "/backend", "/app?q=/x", "/backend?q=/x"),
        (
            "/app",
            "/backend",
            "/app;jsessionid=a",
            "/backend;jsessionid=a",
        ),
        ("/app", "/backend/", "/app", "/backend/"),
        ("/app", "/backend/", "/app/x", "/backend/x"),
        ("/app/", "/backend", "/app/", "/backend/"),
        ("/app/", "/backend", "/app/x", "/backend/x"),
        ("/app/", "/backend/", "/app/x", "/backend/x"),
        ("/app/", "/backend/", "/app/?q", "/backend/?q"),
        ("/app/", "/", "/app/x", "/x"),
        ("/app", "/app", "/app", "/app"),
        ("/app", "/app", "/app/x?q", "/app/x?q"),
        ("/app/", "/app/", "/app/x", "/app/x"),
        ("/a/b", "/c", "/a/b/d", "/c/d"),
        ("/app", "/backend", "/other", "/backend/other"),
    ];
    for (mount, target_path, origin, want) in cases {
        let (prefix, rest) = join(mount.as_bytes(), target_path.as_bytes(), origin.as_bytes());
        let got = show(&[prefix, rest].concat());
        assert_eq!(got, want, "{mount} -> {target_path}: {origin}");
    }
}
