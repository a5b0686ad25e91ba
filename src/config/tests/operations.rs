//! Tests of `[admin]`, `[log]`, `shutdown_grace`, `pid_file` and `reload_on_change`: values, defaults, relative paths, the
//! printed round trip, and one test per kind of mistake with its exact line and key.

use std::path::PathBuf;
use std::time::Duration;

use super::{expect_err, MINIMAL};
use crate::config::*;
use crate::log::Level;

const OPS: &str = r#"listen = ["127.0.0.1:8080"]
shutdown_grace = "30s"
pid_file = "run/ringlb.pid"
reload_on_change = true

[admin]
listen = "127.0.0.1:9090"
allow = ["10.0.0.0/8", " ::1/128", "192.168.1.7"]
htpasswd = "htpasswd"
server_names = ["admin.example", "admin.example:9090"]
jkstatus = "read-only"

[log]
access = "/var/log/ringlb/access.log"
access_format = "%h %>s %{BALANCER_WORKER_ROUTE}e"
level = "DEBUG"

[[balancer]]
name = "c"
[[balancer.member]]
url = "http://127.0.0.1:9001"
"#;

/// MINIMAL with `extra` (top-level keys and tables) put before the balancer.
fn with(extra: &str) -> String {
    format!("{extra}\n{MINIMAL}")
}

#[test]
fn ops_keys_parse_to_exact_values() {
    let cfg = parse_str(OPS, "/etc/ringlb/ringlb.toml").unwrap();
    let want = Ops {
        admin: Some(AdminConfig {
            listen: "127.0.0.1:9090".parse().unwrap(),
            allow: vec!["10.0.0.0/8".into(), "::1/128".into(), "192.168.1.7".into()],
            htpasswd: Some(PathBuf::from("/etc/ringlb/htpasswd")),
            server_names: vec!["admin.example".into(), "admin.example:9090".into()],
            jkstatus: JkStatusMode::ReadOnly,
        }),
        log: LogConfig {
            access: Some(AccessTarget::File("/var/log/ringlb/access.log".into())),
            access_format: "%h %>s %{BALANCER_WORKER_ROUTE}e".into(),
            level: Level::Debug,
            error: AccessTarget::Stderr,
        },
        shutdown_grace: Duration::from_secs(30),
        pid_file: Some(PathBuf::from("/etc/ringlb/run/ringlb.pid")),
        reload_on_change: true,
    };
    assert_eq!(cfg.ops, want);
}

#[test]
fn ops_defaults() {
    let cfg = parse_str(MINIMAL, "m.toml").unwrap();
    assert_eq!(cfg.ops, Ops::default());
    assert_eq!(cfg.ops.admin, None);
    assert_eq!(cfg.ops.log.access, None);
    assert_eq!(cfg.ops.log.access_format, "combined");
    assert_eq!(cfg.ops.log.level, Level::Info);
    assert_eq!(cfg.ops.shutdown_grace, Duration::from_secs(10));
    assert_eq!(cfg.ops.pid_file, None);
    assert!(!cfg.ops.reload_on_change);

    // An empty [admin] turns the listener on with every default.
    let cfg = parse_str(&with("[admin]"), "m.toml").unwrap();
    assert_eq!(cfg.ops.admin, Some(AdminConfig::default()));
    let a = cfg.ops.admin.unwrap();
    assert_eq!(a.listen, "127.0.0.1:8081".parse().unwrap());
    assert_eq!(a.allow, ["127.0.0.1/32", "::1/128"]);
    assert_eq!(a.htpasswd, None);
}

#[test]
fn ops_other_spellings() {
    let text = with(
        "shutdown_grace = 0\n[admin]\nallow = []\nhtpasswd = \"/abs/htpasswd\"\n\
         [log]\naccess = \"Stdout\"\naccess_format = \"balancer\"\nlevel = \"warn\"\n",
    );
    let cfg = parse_str(&text, "conf/o.toml").unwrap();
    assert_eq!(cfg.ops.shutdown_grace, Duration::ZERO);
    let a = cfg.ops.admin.as_ref().unwrap();
    assert!(a.allow.is_empty());
    assert_eq!(a.htpasswd, Some(PathBuf::from("/abs/htpasswd")));
    assert_eq!(cfg.ops.log.access, Some(AccessTarget::Stdout));
    assert_eq!(cfg.ops.log.access_format, "balancer");
    assert_eq!(cfg.ops.log.level, Level::Warn);

    let off = parse_str(&with("[log]\naccess = \"off\"\n"), "o.toml").unwrap();
    assert_eq!(off.ops.log.access, None);
    let grace = parse_str(&with("shutdown_grace = \"10m\""), "o.toml").unwrap();
    assert_eq!(grace.ops.shutdown_grace, Duration::from_secs(600));
}

#[test]
fn relative_paths_resolve_against_the_config_directory() {
    let text = with("[admin]\nhtpasswd = \"auth/htpasswd\"\n[log]\naccess = \"logs/a.log\"\n");
    let cfg = parse_str(&text, "/etc/ringlb/r.toml").unwrap();
    let a = cfg.ops.admin.as_ref().unwrap();
    assert_eq!(a.htpasswd, Some("/etc/ringlb/auth/htpasswd".into()));
    let want = AccessTarget::File("/etc/ringlb/logs/a.log".into());
    assert_eq!(cfg.ops.log.access, Some(want));
    // No directory, or a pseudo-name: as written.
    let cfg = parse_str(&text, "r.toml").unwrap();
    assert_eq!(
        cfg.ops.admin.unwrap().htpasswd,
        Some("auth/htpasswd".into())
    );
    let cfg = parse_str(&text, "<running config at http://x>").unwrap();
    assert_eq!(
        cfg.ops.admin.unwrap().htpasswd,
        Some("auth/htpasswd".into())
    );
}

#[test]
fn load_resolves_relative_paths_to_absolute_ones() {
    let dir = std::env::temp_dir().join(format!("ringlb-cfg-ops-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ringlb.toml");
    std::fs::write(&path, with("[admin]\nhtpasswd = \"htpasswd\"\n")).unwrap();
    let cfg = load(&path).unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
    let htpasswd = cfg.ops.admin.as_ref().unwrap().htpasswd.clone().unwrap();
    assert!(htpasswd.is_absolute(), "{htpasswd:?}");
    assert_eq!(htpasswd, std::path::absolute(dir.join("htpasswd")).unwrap());
}

#[test]
fn display_round_trips_ops() {
    let cfg = parse_str(OPS, "/etc/ringlb/ringlb.toml").unwrap();
    let printed = cfg.to_string();
    for line in [
        "shutdown_grace = \"30s\"\n",
        "\n[admin]\nlisten = \"127.0.0.1:9090\"\n\
         allow = [\"10.0.0.0/8\", \"::1/128\", \"192.168.1.7\"]\n\
         htpasswd = \"/etc/ringlb/htpasswd\"\n\
         server_names = [\"admin.example\", \"admin.example:9090\"]\n\
         jkstatus = \"read-only\"\n",
        "\n[log]\naccess = \"/var/log/ringlb/access.log\"\n\
         access_format = \"%h %>s %{BALANCER_WORKER_ROUTE}e\"\nlevel = \"debug\"\n",
    ] {
        assert!(printed.contains(line), "{line:?} missing in\n{printed}");
    }
    assert_eq!(parse_str(&printed, "/etc/ringlb/ringlb.toml"), Ok(cfg));

    // Defaults: no [admin], [log] written out in full.
    let minimal = parse_str(MINIMAL, "m.toml").unwrap();
    let printed = minimal.to_string();
    assert!(!printed.contains("[admin]"), "{printed}");
    assert!(printed.contains("shutdown_grace = \"10s\"\n"), "{printed}");
    let log = "\n[log]\naccess = \"off\"\naccess_format = \"combined\"\nlevel = \"info\"\n";
    assert!(printed.contains(log), "{printed}");
    assert_eq!(parse_str(&printed, "m.toml"), Ok(minimal));

    // Empty allow list, stdout, zero grace.
    let text = with("shutdown_grace = 0\n[admin]\nallow = []\n[log]\naccess = \"stdout\"\n");
    let cfg = parse_str(&text, "e.toml").unwrap();
    let printed = cfg.to_string();
    assert!(printed.contains("allow = []\n"), "{printed}");
    assert!(printed.contains("access = \"stdout\"\n"), "{printed}");
    assert!(printed.contains("shutdown_grace = \"0s\"\n"), "{printed}");
    assert_eq!(parse_str(&printed, "e.toml"), Ok(cfg));
}

#[test]
fn flag_config_keeps_admin_off() {
    let members = ["http://127.0.0.1:9001".to_owned()];
    let cfg = from_flags(
        vec![DEFAULT_LISTEN],
        None,
        IoDriver::Auto,
        &members,
        None,
        LbMethod::ByRequests,
    )
    .unwrap();
    assert_eq!(cfg.ops, Ops::default());
    assert_eq!(cfg.ops.admin, None);
}

#[test]
fn bad_admin_listen() {
    let text = with("[admin]\nallow = []\nlisten = \"localhost:8081\"\n");
    let msg = expect_err(&text, 3, "admin.listen");
    assert!(msg.contains("expected IP:PORT"), "{msg}");
}

#[test]
fn pid_file_and_reload_on_change_mistakes() {
    let msg = expect_err(&with("pid_file = \" \""), 1, "pid_file");
    assert!(msg.contains("must be a file path"), "{msg}");
    expect_err(&with("\npid_file = 3"), 2, "pid_file");
    expect_err(&with("reload_on_change = \"yes\""), 1, "reload_on_change");
}

#[test]
fn admin_listen_same_as_a_listen_address() {
    let text =
        with("listen = [\"127.0.0.1:8080\", \"[::1]:8080\"]\n[admin]\nlisten = \"[::1]:8080\"\n");
    let msg = expect_err(&text, 3, "admin.listen");
    assert!(msg.contains("listen[1]"), "{msg}");
    // A wildcard listen address takes the port on every address.
    let text = with("listen = [\"0.0.0.0:9000\"]\n\n[admin]\nlisten = \"127.0.0.1:9000\"\n");
    expect_err(&text, 4, "admin.listen");
    // The default admin address clashes too: the error points at the [admin] table.
    let text = with("listen = [\"127.0.0.1:8081\"]\n[admin]\n");
    let msg = expect_err(&text, 2, "admin.listen");
    assert!(
        msg.contains("127.0.0.1:8081 clashes with listen[0]"),
        "{msg}"
    );
    // Port 0 (any free port, as the demo and the tests run) clashes with nothing.
    let text = with("listen = [\"127.0.0.1:0\"]\n[admin]\nlisten = \"127.0.0.1:0\"\n");
    parse_str(&text, "zero.toml").unwrap();
}

#[test]
fn bad_admin_allow_cidr() {
    let text = with("[admin]\nallow = [\n  \"10.0.0.0/8\",\n  \"10.0.0.0/33\",\n]\n");
    let msg = expect_err(&text, 4, "admin.allow[1]");
    assert!(msg.contains("prefix \"33\""), "{msg}");
    let text = with("[admin]\nallow = [\"example.com\"]\n");
    let msg = expect_err(&text, 2, "admin.allow[0]");
    assert!(msg.contains("not an IP address"), "{msg}");
}

#[test]
fn bad_admin_jkstatus() {
    for bad in ["", "rw", "Read-Write", "on"] {
        let text = with(&format!("[admin]\njkstatus = {bad:?}\n"));
        let msg = expect_err(&text, 2, "admin.jkstatus");
        assert!(msg.contains("is not one of"), "{bad}: {msg}");
    }
}

#[test]
fn bad_admin_server_names() {
    for bad in [
        "",
        "http://admin.example",
        "admin.example/",
        "a b",
        "user@admin",
    ] {
        let text = with(&format!(
            "[admin]\nserver_names = [\"ok.example\", {bad:?}]\n"
        ));
        let msg = expect_err(&text, 2, "admin.server_names[1]");
        assert!(msg.contains("not a Host value"), "{bad}: {msg}");
    }
}

#[test]
fn empty_htpasswd_path() {
    let text = with("[admin]\n\nhtpasswd = \"\"\n");
    let msg = expect_err(&text, 3, "admin.htpasswd");
    assert!(msg.contains("not empty"), "{msg}");
}

#[test]
fn bad_access_format() {
    let text = with("[log]\naccess = \"stdout\"\naccess_format = \"%h %Q\"\n");
    let msg = expect_err(&text, 3, "log.access_format");
    assert!(msg.contains("unknown directive '%Q'"), "{msg}");
}

#[test]
fn empty_access_target() {
    let msg = expect_err(&with("[log]\naccess = \"\"\n"), 2, "log.access");
    assert!(msg.contains("\"stdout\", \"stderr\", \"syslog\""), "{msg}");
    assert!(msg.contains("(or \"off\")"), "{msg}");
}

#[test]
fn bad_log_level() {
    let msg = expect_err(&with("[log]\nlevel = \"verbose\"\n"), 2, "log.level");
    assert!(msg.contains("error, warn, info or debug"), "{msg}");
}

#[test]
fn unknown_keys_in_admin_and_log() {
    let msg = expect_err(
        &with("[admin]\nlisten = \"127.0.0.1:9\"\nport = 1\n"),
        3,
        "admin.port",
    );
    assert!(msg.contains("unknown field `port`"), "{msg}");
    let msg = expect_err(&with("[log]\nerror_log = \"x\"\n"), 2, "log.error_log");
    assert!(msg.contains("unknown field `error_log`"), "{msg}");
}

#[test]
fn shutdown_grace_out_of_range() {
    let msg = expect_err(
        &with("workers = 1\nshutdown_grace = \"11m\""),
        2,
        "shutdown_grace",
    );
    assert!(msg.contains("out of range 0"), "{msg}");
    expect_err(&with("shutdown_grace = -1"), 1, "shutdown_grace");
    let msg = expect_err(&with("shutdown_grace = \"soon\""), 1, "shutdown_grace");
    assert!(msg.contains("expected seconds"), "{msg}");
}
