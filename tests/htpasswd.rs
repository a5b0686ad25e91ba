//! htpasswd files as operators bring them (issue 10, item 10): what the real `htpasswd`
//! tool writes with `-m` (Apache MD5, its default), `-s` (SHA-1) and `-B` (bcrypt) is
//! accepted by `ringlb check` and verifies passwords; `-d` (DES crypt) is refused naming the
//! file, the line and the user. Then check-equals-run: for each check `ringlb run` makes at
//! start beyond config validation (see `ringlb::startup`), `check` and `run` on the same file
//! both refuse it with the same message.
//!
//! The `htpasswd` tool (apache2-utils) is optional locally: the tests that need it say so and
//! pass without it, unless `RINGLB_REQUIRE_HTPASSWD=1` (CI installs it and sets that). Fixed
//! vectors made by the tool are tested in `src/admin/tests/auth.rs` either way.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::process::run_to_end;
use ringlb::admin::access::Access;
use ringlb::clock;
use ringlb::config::AdminConfig;

const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");

/// A fresh directory under the target dir for one test.
fn dir(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("htpasswd-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Whether the `htpasswd` tool runs; when it does not, says so (or fails under
/// `RINGLB_REQUIRE_HTPASSWD`).
fn have_htpasswd() -> bool {
    let found = Command::new("htpasswd")
        .arg("-nbB")
        .args(["u", "p"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("RINGLB_REQUIRE_HTPASSWD").is_none(),
            "htpasswd (apache2-utils) is required (RINGLB_REQUIRE_HTPASSWD)"
        );
        eprintln!("skipped: the htpasswd tool (apt-get install apache2-utils) is not installed");
    }
    found
}

/// Adds `user` with `password` to `file` (created with `-c` when it does not exist yet),
/// hashed as `scheme` asks (`-m`, `-s`, `-B`, `-d`).
fn htpasswd(file: &Path, scheme: &str, user: &str, password: &str) {
    let mut cmd = Command::new("htpasswd");
    if !file.exists() {
        cmd.arg("-c");
    }
    let out = cmd
        .args([scheme, "-b"])
        .arg(file)
        .args([user, password])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn config(dir: &Path, htpasswd: &Path) -> PathBuf {
    let path = dir.join("ringlb.toml");
    let text = format!(
        "workers = 1\nlisten = [\"127.0.0.1:0\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n\
         htpasswd = {:?}\n[[balancer]]\nname = \"c\"\n[[balancer.member]]\n\
         url = \"http://127.0.0.1:9\"\n",
        htpasswd.display().to_string()
    );
    std::fs::write(&path, text).unwrap();
    path
}

/// Runs ringlb with `args` and `-c config` to its end (see [`run_to_end`]).
fn ringlb(args: &[&str], config: &Path) -> (bool, String) {
    run_to_end(Command::new(RINGLB).args(args).arg("-c").arg(config))
}

/// `check` and `run` both refuse `config`, with the same message, which contains `needles`.
fn check_equals_run(config: &Path, needles: &[&str]) {
    let (check_ok, check_err) = ringlb(&["check"], config);
    let (run_ok, run_err) = ringlb(&["run"], config);
    assert!(!check_ok, "check accepted what run refuses: {check_err}");
    assert!(!run_ok, "run started: {run_err}");
    assert_eq!(check_err, run_err, "check and run say different things");
    for needle in needles {
        assert!(check_err.contains(needle), "no {needle:?} in {check_err}");
    }
}

fn basic(user: &str, password: &str) -> Vec<u8> {
    let pair = format!("{user}:{password}");
    format!("Basic {}", base64(pair.as_bytes())).into_bytes()
}

fn base64(data: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        for i in 0..4 {
            let c = ALPHABET[(n >> (18 - 6 * i) & 63) as usize];
            out.push(if i <= chunk.len() { char::from(c) } else { '=' });
        }
    }
    out
}

#[test]
fn what_htpasswd_writes_is_accepted_and_verified() {
    if !have_htpasswd() {
        return;
    }
    let dir = dir("schemes");
    let file = dir.join("htpasswd");
    let users = [
        ("-m", "apr1", "md5 password"),
        ("-s", "sha", "sha password"),
        ("-B", "bcrypt", "bcrypt password"),
        ("-m", "empty", ""),
    ];
    for (scheme, user, password) in users {
        htpasswd(&file, scheme, user, password);
    }
    let (ok, stderr) = ringlb(&["check"], &config(&dir, &file));
    assert!(ok, "check refused htpasswd's own file: {stderr}");
    let access = Access::load(&AdminConfig {
        htpasswd: Some(file.clone()),
        ..AdminConfig::default()
    })
    .unwrap();
    let now = clock::now();
    for (_, user, password) in users {
        assert!(
            access.authenticated(Some(&basic(user, password)), now),
            "{user}"
        );
        let wrong = basic(user, &format!("{password}!"));
        assert!(!access.authenticated(Some(&wrong), now), "{user}");
    }
}

#[test]
fn crypt_is_refused_by_check_and_run_naming_file_line_and_user() {
    if !have_htpasswd() {
        return;
    }
    let dir = dir("crypt");
    let file = dir.join("htpasswd");
    htpasswd(&file, "-B", "ops", "fine");
    htpasswd(&file, "-d", "legacy", "cryptpw");
    let shown = file.display().to_string();
    let needles = [
        shown.as_str(),
        "line 2",
        "user \"legacy\"",
        "crypt (DES",
        "htpasswd -B",
    ];
    check_equals_run(&config(&dir, &file), &needles);
}

#[test]
fn missing_htpasswd_file_is_refused_by_check_and_run() {
    let dir = dir("missing");
    let file = dir.join("no-such-htpasswd");
    let shown = file.display().to_string();
    check_equals_run(&config(&dir, &file), &[&shown, "No such file"]);
}

#[test]
fn unknown_scheme_is_refused_by_check_and_run() {
    let dir = dir("unknown");
    let file = dir.join("htpasswd");
    std::fs::write(
        &file,
        "# admins\nops:$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA\n",
    )
    .unwrap();
    let shown = file.display().to_string();
    let needles = [shown.as_str(), "line 2", "user \"ops\"", "unknown scheme"];
    check_equals_run(&config(&dir, &file), &needles);
}

#[test]
fn unreadable_htpasswd_is_refused_by_check_and_run() {
    let dir = dir("notutf8");
    let file = dir.join("htpasswd");
    std::fs::write(&file, b"ops:\xff\xfe\n").unwrap();
    let shown = file.display().to_string();
    check_equals_run(&config(&dir, &file), &[&shown]);
}
