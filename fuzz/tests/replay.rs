//! Replays every committed corpus file (`fuzz/corpus/<target>/*`) through its target: each is
//! an ordinary regression test, run by `./scripts/check.sh` without any fuzzer installed.

use std::fs;
use std::path::Path;

fn replay(target: &str) {
    let (_, run) = ringlb_fuzz::TARGETS
        .into_iter()
        .find(|(name, _)| *name == target)
        .expect("a known target");
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("corpus")
        .join(target);
    let mut files: Vec<_> = fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("a readable directory entry").path())
        .collect();
    files.sort();
    assert!(!files.is_empty(), "{}: empty corpus", dir.display());
    for file in &files {
        let data = fs::read(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let outcome = std::panic::catch_unwind(|| run(&data));
        assert!(outcome.is_ok(), "{} failed its invariants", file.display());
    }
}

#[test]
fn request_head() {
    replay("request_head");
}

#[test]
fn chunked() {
    replay("chunked");
}

#[test]
fn response_head() {
    replay("response_head");
}

#[test]
fn sticky() {
    replay("sticky");
}

#[test]
fn config() {
    replay("config");
}

#[test]
fn admin_form() {
    replay("admin_form");
}

#[test]
fn admin_json() {
    replay("admin_json");
}

#[test]
fn every_target_has_a_replay_test() {
    let dirs: Vec<String> = fs::read_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus"))
        .expect("fuzz/corpus")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    for (name, _) in ringlb_fuzz::TARGETS {
        assert!(dirs.iter().any(|d| d == name), "no corpus for {name}");
    }
    assert_eq!(
        dirs.len(),
        ringlb_fuzz::TARGETS.len(),
        "a corpus without a target: {dirs:?}"
    );
}

#[test]
fn mount() {
    replay("mount");
}

#[test]
fn path() {
    replay("path");
}

#[test]
fn proxy_protocol() {
    replay("proxy_protocol");
}

#[test]
fn h2_guard() {
    replay("h2_guard");
}

#[test]
fn ajp_reply() {
    replay("ajp_reply");
}
