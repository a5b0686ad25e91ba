//! `log.access` and `log.error`: every accepted target, the printed round trip, and every
//! refusal (a pipe, a keyword-like word, an unknown `scheme:`, an empty value) with the file,
//! line and key it names.

use std::path::PathBuf;

use super::{expect_err, MINIMAL};
use crate::config::*;

fn with(extra: &str) -> String {
    format!("{extra}\n{MINIMAL}")
}

fn syslog(path: &str) -> AccessTarget {
    AccessTarget::Syslog(PathBuf::from(path))
}

fn file(path: &str) -> AccessTarget {
    AccessTarget::File(PathBuf::from(path))
}

/// (value, what `log.access` becomes, what `log.error` becomes), parsed from
/// `/etc/ringlb/r.toml` (relative paths resolve against `/etc/ringlb`).
#[test]
fn accepted_targets() {
    let cases: [(&str, Option<AccessTarget>, Option<AccessTarget>); 13] = [
        (
            "stdout",
            Some(AccessTarget::Stdout),
            Some(AccessTarget::Stdout),
        ),
        (
            "STDOUT",
            Some(AccessTarget::Stdout),
            Some(AccessTarget::Stdout),
        ),
        (
            "stderr",
            Some(AccessTarget::Stderr),
            Some(AccessTarget::Stderr),
        ),
        ("syslog", Some(syslog("/dev/log")), Some(syslog("/dev/log"))),
        ("Syslog", Some(syslog("/dev/log")), Some(syslog("/dev/log"))),
        (
            "syslog:/run/x.sock",
            Some(syslog("/run/x.sock")),
            Some(syslog("/run/x.sock")),
        ),
        (
            "syslog:log.sock",
            Some(syslog("/etc/ringlb/log.sock")),
            Some(syslog("/etc/ringlb/log.sock")),
        ),
        (
            "/var/log/a.log",
            Some(file("/var/log/a.log")),
            Some(file("/var/log/a.log")),
        ),
        (
            "a.log",
            Some(file("/etc/ringlb/a.log")),
            Some(file("/etc/ringlb/a.log")),
        ),
        (
            "./access",
            Some(file("/etc/ringlb/./access")),
            Some(file("/etc/ringlb/./access")),
        ),
        (
            "logs/access",
            Some(file("/etc/ringlb/logs/access")),
            Some(file("/etc/ringlb/logs/access")),
        ),
        (
            "logs/a:b.log",
            Some(file("/etc/ringlb/logs/a:b.log")),
            Some(file("/etc/ringlb/logs/a:b.log")),
        ),
        ("off", None, None),
    ];
    for (value, access, error) in cases {
        let text = with(&format!("[log]\naccess = \"{value}\"\n"));
        let cfg = parse_str(&text, "/etc/ringlb/r.toml").unwrap_or_else(|e| panic!("{value}: {e}"));
        assert_eq!(cfg.ops.log.access, access, "log.access = {value}");
        let text = with(&format!("[log]\nerror = \"{value}\"\n"));
        match error {
            Some(want) => {
                let cfg = parse_str(&text, "/etc/ringlb/r.toml").unwrap();
                assert_eq!(cfg.ops.log.error, want, "log.error = {value}");
            }
            None => {
                let msg = expect_err(&text, 2, "log.error");
                assert!(msg.contains("not a known target"), "{msg}");
            }
        }
    }
}

#[test]
fn error_log_defaults_to_stderr() {
    let cfg = parse_str(MINIMAL, "m.toml").unwrap();
    assert_eq!(cfg.ops.log.error, AccessTarget::Stderr);
}

/// (value, a piece of the message). Each is refused for both keys, at its line.
#[test]
fn refused_targets_name_the_file_line_and_key() {
    let cases = [
        ("|/usr/bin/rotatelogs /var/log/a 86400", "piped log"),
        ("| logger -t ringlb", "piped log"),
        ("", "found an empty string"),
        ("   ", "found an empty string"),
        ("syslog:", "needs a socket path"),
        ("sylog:/dev/log", "unknown target \"sylog\""),
        ("udp://10.0.0.1:514", "unknown target \"udp\""),
        ("journald", "not a known target"),
        ("on", "not a known target"),
        ("true", "not a known target"),
        ("std-out", "not a known target"),
        ("console", "write ./console for a file"),
    ];
    for key in ["access", "error"] {
        for (value, want) in cases {
            let text = with(&format!("# a comment\n[log]\n{key} = \"{value}\"\n"));
            let msg = expect_err(&text, 3, &format!("log.{key}"));
            assert!(msg.contains(want), "{key} = {value:?}: {msg}");
        }
    }
}

/// Every accepted target prints as text that parses back to it.
#[test]
fn targets_print_as_they_parse() {
    let targets = [
        AccessTarget::Stdout,
        AccessTarget::Stderr,
        syslog("/dev/log"),
        syslog("/run/x.sock"),
        file("/var/log/a.log"),
        file("stdout"),
        file("access"),
    ];
    for target in targets {
        let text = target_text(&target);
        let back = super::super::validate::parse_target_for_tests(&text);
        let want = match &target {
            AccessTarget::File(p) if p.is_relative() => file(&format!("./{}", p.display())),
            t => t.clone(),
        };
        assert_eq!(back, Ok(want), "{target:?} printed as {text:?}");
    }
}

#[test]
fn changing_the_error_log_needs_a_restart() {
    let old = parse_str(MINIMAL, "m.toml").unwrap();
    let new = parse_str(&with("[log]\nerror = \"syslog\"\n"), "m.toml").unwrap();
    let changes = diff(&old, &new);
    assert_eq!(changes.len(), 1, "{changes:?}");
    assert!(changes[0].needs_restart());
    assert!(changes[0].to_string().contains("log.error"));
    let printed = new.to_string();
    assert!(printed.contains("error = \"syslog\""), "{printed}");
}
