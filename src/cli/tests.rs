//! One test per command form and per usage error.

use super::*;
use crate::config::LbMethod;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_owned).collect()
}

fn ok(line: &str) -> Command {
    parse(&args(line)).unwrap_or_else(|e| panic!("{line}: {e}"))
}

/// Expects a usage error whose message contains `needle` (usually the flag).
fn usage_err(line: &str, needle: &str) {
    match parse(&args(line)) {
        Err(CliError::Usage(msg)) => assert!(msg.contains(needle), "{line}: {msg}"),
        other => panic!("{line}: expected a usage error, got {other:?}"),
    }
}

fn flags_config(line: &str) -> Config {
    match ok(line) {
        Command::Run(RunSource::Flags(config)) => *config,
        other => panic!("{line}: {other:?}"),
    }
}

#[test]
fn help_forms() {
    for line in [
        "",
        "-h",
        "--help",
        "help",
        "run --help",
        "run --member x -h",
        "check -h",
        "demo --help",
        "help run",
    ] {
        assert!(matches!(ok(line), Command::Help(_)), "{line:?}");
    }
}

/// `-h` after a command shows that command's usage and flags only.
#[test]
fn help_is_per_command() {
    let Command::Help(text) = ok("check -h") else {
        panic!("check -h")
    };
    assert!(text.contains("Usage: ringlb check"), "{text}");
    assert!(text.contains("--diff <OLD>"), "{text}");
    assert!(!text.contains("--member"), "{text}");
    let Command::Help(text) = ok("") else {
        panic!("no arguments")
    };
    for command in ["run", "check", "demo", "bench-member", "import", "version"] {
        assert!(
            text.contains(&format!("\n  {command} ")),
            "{command}: {text}"
        );
    }
}

/// A mistake shows the usage of the command it is in, not the others'.
#[test]
fn errors_show_only_their_command_usage() {
    for (line, usage, other) in [
        ("run --port 80", "Usage: ringlb run", "ringlb check"),
        ("check", "Usage: ringlb check", "ringlb run"),
        (
            "demo --https 127.0.0.1:8080 --cert a --key b",
            "Usage: ringlb demo",
            "ringlb run",
        ),
        ("bench-member", "Usage: ringlb bench-member", "ringlb demo"),
    ] {
        match parse(&args(line)) {
            Err(CliError::Usage(msg)) => {
                assert!(msg.contains(usage), "{line}: {msg}");
                assert!(!msg.contains(other), "{line}: {msg}");
            }
            other => panic!("{line}: {other:?}"),
        }
    }
}

#[test]
fn version_forms() {
    for line in ["-V", "--version", "version"] {
        assert_eq!(ok(line), Command::Version, "{line:?}");
    }
}

#[test]
fn run_with_config_file() {
    for line in [
        "run -c ringlb.toml",
        "run --config ringlb.toml",
        "run --config=ringlb.toml",
    ] {
        assert_eq!(
            ok(line),
            Command::Run(RunSource::File("ringlb.toml".into())),
            "{line}"
        );
    }
}

#[test]
fn run_from_flags_matches_config_from_flags() {
    let line = "run --listen 127.0.0.1:8080 --workers 1 \
        --member http://127.0.0.1:9001,route=node1 \
        --member http://127.0.0.1:9002,route=node2,loadfactor=3 \
        --stickysession JSESSIONID|jsessionid";
    let members = [
        "http://127.0.0.1:9001,route=node1",
        "http://127.0.0.1:9002,route=node2,loadfactor=3",
    ]
    .map(str::to_owned);
    let want = config::from_flags(
        vec!["127.0.0.1:8080".parse().unwrap()],
        Some(1),
        IoDriver::Auto,
        &members,
        Some("JSESSIONID|jsessionid"),
        LbMethod::ByRequests,
    )
    .unwrap();
    assert_eq!(flags_config(line), want);
    assert_eq!(want.balancers[0].members[1].lbfactor, 300);
}

#[test]
fn run_from_flags_defaults_and_equals_form() {
    let cfg = flags_config("run --member=http://127.0.0.1:9001");
    assert_eq!(cfg.listen, vec![config::DEFAULT_LISTEN]);
    assert_eq!((cfg.workers, cfg.io_driver), (None, IoDriver::Auto));
    assert_eq!(
        (cfg.balancers[0].lbmethod, &cfg.balancers[0].sticky),
        (LbMethod::ByRequests, &None)
    );

    let cfg = flags_config(
        "run --listen=[::1]:81 --listen 127.0.0.1:82 --workers=auto --io-driver=epoll \
         --lbmethod=bybusyness --member http://127.0.0.1:9001",
    );
    let listen: Vec<SocketAddr> =
        vec!["[::1]:81".parse().unwrap(), "127.0.0.1:82".parse().unwrap()];
    assert_eq!(cfg.listen, listen);
    assert_eq!((cfg.workers, cfg.io_driver), (None, IoDriver::Epoll));
    assert_eq!(cfg.balancers[0].lbmethod, LbMethod::ByBusyness);
}

#[test]
fn run_config_error_from_flags() {
    match parse(&args("run --member http://tomcat_1:9001")) {
        Err(CliError::Config(e)) => {
            assert_eq!(
                (e.file.as_str(), e.line, e.key.as_str()),
                (config::COMMAND_LINE, 0, "--member")
            )
        }
        other => panic!("{other:?}"),
    }
    match parse(&args("run --workers 5000 --member http://127.0.0.1:1")) {
        Err(CliError::Config(e)) => assert_eq!(e.key, "--workers"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn run_config_file_and_member_conflict() {
    usage_err("run -c x.toml --member http://127.0.0.1:1", "--member");
    usage_err("run --member http://127.0.0.1:1 -c x.toml", "--member");
    usage_err("run -c x.toml --listen 127.0.0.1:1", "--listen");
}

#[test]
fn run_without_source() {
    usage_err("run", "--member");
    usage_err("run --listen 127.0.0.1:8080", "--member");
}

#[test]
fn run_bad_flag_values() {
    usage_err(
        "run --listen localhost:80 --member http://127.0.0.1:1",
        "--listen",
    );
    usage_err(
        "run --workers many --member http://127.0.0.1:1",
        "--workers",
    );
    usage_err("run --workers 0 --member http://127.0.0.1:1", "--workers");
    usage_err(
        "run --io-driver uring --member http://127.0.0.1:1",
        "--io-driver",
    );
    usage_err(
        "run --lbmethod roundrobin --member http://127.0.0.1:1",
        "--lbmethod",
    );
}

#[test]
fn run_flag_given_twice() {
    usage_err(
        "run -c a -c b",
        "'--config <FILE>' cannot be used multiple times",
    );
    usage_err(
        "run --workers 1 --workers 2 --member http://127.0.0.1:1",
        "--workers",
    );
}

#[test]
fn missing_values() {
    usage_err("run -c", "a value is required for '--config <FILE>'");
    usage_err("run --member", "a value is required for '--member <SPEC>'");
    usage_err(
        "run --listen --member http://127.0.0.1:1",
        "a value is required for '--listen <ADDR>'",
    );
    usage_err(
        "check --config",
        "a value is required for '--config <FILE>'",
    );
    usage_err(
        "demo --member-port",
        "a value is required for '--member-port <PORT>'",
    );
}

#[test]
fn unknown_flags_and_words() {
    usage_err("run --port 80", "unexpected argument '--port'");
    usage_err("check -c x --verbose", "unexpected argument '--verbose'");
    usage_err(
        "demo --member http://127.0.0.1:1",
        "unexpected argument '--member'",
    );
    // clap reads `-c=FILE` as `-c FILE`.
    assert_eq!(
        ok("run -c=x.toml"),
        Command::Run(RunSource::File("x.toml".into()))
    );
    usage_err("run ringlb.toml", "unexpected argument 'ringlb.toml'");
    usage_err("--listen 127.0.0.1:80", "unexpected argument '--listen'");
}

#[test]
fn unknown_command() {
    usage_err("serve -c x", "unrecognized subcommand 'serve'");
}

#[test]
fn check_forms() {
    for line in [
        "check -c a.toml",
        "check --config a.toml",
        "check --config=a.toml",
    ] {
        assert_eq!(
            ok(line),
            Command::Check {
                config: "a.toml".into(),
                diff: None,
            },
            "{line}"
        );
    }
    usage_err("check", "--config <FILE>");
}

#[test]
fn upgrade_forms() {
    for (line, want) in [
        ("upgrade -c a.toml", Upgrade::Config("a.toml".into())),
        ("upgrade --config=a.toml", Upgrade::Config("a.toml".into())),
        (
            "upgrade --pid-file /run/r.pid",
            Upgrade::PidFile("/run/r.pid".into()),
        ),
    ] {
        assert_eq!(ok(line), Command::Upgrade(want), "{line}");
    }
    usage_err("upgrade", "--config <FILE>");
    usage_err("upgrade -c a.toml --pid-file b", "cannot be used with");
    usage_err("upgrade --workers 2", "--workers");
}

#[test]
fn check_with_diff() {
    for (line, old) in [
        ("check -c a.toml --diff old.toml", "old.toml"),
        ("check --diff=old.toml --config a.toml", "old.toml"),
        (
            "check -c a.toml --diff http://127.0.0.1:8081",
            "http://127.0.0.1:8081",
        ),
        (
            "check --diff=http://[::1]:8081/ -c a.toml",
            "http://[::1]:8081/",
        ),
    ] {
        assert_eq!(
            ok(line),
            Command::Check {
                config: "a.toml".into(),
                diff: Some(old.into()),
            },
            "{line}"
        );
    }
    assert!(matches!(
        ok("check -c a.toml --diff old.toml -h"),
        Command::Help(_)
    ));
    usage_err("check --diff old.toml", "--config <FILE>");
    usage_err(
        "check -c a.toml --diff",
        "a value is required for '--diff <OLD>'",
    );
    usage_err(
        "check -c a.toml --diff --config b",
        "a value is required for '--diff <OLD>'",
    );
    usage_err(
        "check -c a.toml --diff=",
        "for '--diff <OLD>': expects a config file",
    );
    usage_err(
        "check -c a.toml --diff a --diff b",
        "'--diff <OLD>' cannot be used multiple times",
    );
    usage_err("check -c a.toml old.toml", "unexpected argument 'old.toml'");
    usage_err("check -c a.toml --dif x", "unexpected argument '--dif'");
    let help = help_of("check");
    assert!(
        help.contains("ringlb check [OPTIONS] --config <FILE>"),
        "{help}"
    );
    assert!(help.contains("--diff <OLD>"), "{help}");
}

#[test]
fn diff_report_lines() {
    let text = "[[balancer]]\nname = \"c\"\nstickysession = \"JSESSIONID\"\n\
                [[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\nroute = \"n1\"\n";
    let old = config::parse_str(text, "old.toml").unwrap();
    assert_eq!(
        diff_report(&old, &old),
        "old.toml: valid; compared with old.toml\nno changes\n"
    );
    let new_text = text
        .replace("n1", "n2")
        .replace("[[balancer]]", "workers = 4\n[[balancer]]");
    let new = config::parse_str(&new_text, "new.toml").unwrap();
    assert_eq!(
        diff_report(&old, &new),
        "new.toml: valid; compared with old.toml\n\
         ~ workers: auto -> 4 (needs a restart; a reload refuses it)\n\
         ~ balancer \"c\" member http://127.0.0.1:9001: route: \"n1\" -> \"n2\"\n\
         ! balancer \"c\": route \"n1\" is ORPHANED: no member has it any more; sessions \
         pinned to it will be re-balanced\n"
    );
}

#[test]
fn demo_defaults() {
    let want = DemoArgs {
        listen: "127.0.0.1:8080".parse().unwrap(),
        member_port: 8180,
        workers: None,
        io_driver: IoDriver::Auto,
        https: None,
    };
    assert_eq!(ok("demo"), Command::Demo(want));
}

#[test]
fn demo_with_flags() {
    let want = DemoArgs {
        listen: "0.0.0.0:9000".parse().unwrap(),
        member_port: 9100,
        workers: Some(2),
        io_driver: IoDriver::IoUring,
        https: None,
    };
    let line = "demo --listen 0.0.0.0:9000 --member-port=9100 --workers 2 --io-driver io_uring";
    assert_eq!(ok(line), Command::Demo(want));
}

#[test]
fn demo_with_https() {
    let want = DemoArgs {
        https: Some(DemoHttps {
            listen: "127.0.0.1:8443".parse().unwrap(),
            cert: "certs/demo.crt".into(),
            key: "/tmp/demo.key".into(),
        }),
        ..DemoArgs::default()
    };
    for line in [
        "demo --https 127.0.0.1:8443 --cert certs/demo.crt --key /tmp/demo.key",
        "demo --key=/tmp/demo.key --cert=certs/demo.crt --https=127.0.0.1:8443",
    ] {
        assert_eq!(ok(line), Command::Demo(want.clone()), "{line}");
    }
    let line = "demo --listen 127.0.0.1:0 --https 127.0.0.1:0 --cert a --key b";
    match ok(line) {
        Command::Demo(args) => assert_eq!(args.https.unwrap().listen.port(), 0),
        other => panic!("{other:?}"),
    }
}

#[test]
fn demo_https_flags_go_together() {
    let missing = |line: &str, flags: &[&str], present: &[&str]| match parse(&args(line)) {
        Err(CliError::Usage(msg)) => {
            assert!(
                msg.contains("required arguments were not provided"),
                "{line}: {msg}"
            );
            let (missing, _usage) = msg.split_once("Usage:").unwrap_or((&msg, ""));
            for flag in flags {
                assert!(missing.contains(flag), "{line}: {flag}: {msg}");
            }
            for flag in present {
                assert!(!missing.contains(flag), "{line}: {flag}: {msg}");
            }
        }
        other => panic!("{line}: {other:?}"),
    };
    missing(
        "demo --https 127.0.0.1:8443",
        &["--cert <FILE>", "--key <FILE>"],
        &["--https"],
    );
    missing(
        "demo --https 127.0.0.1:8443 --cert a.crt",
        &["--key <FILE>"],
        &["--cert"],
    );
    missing("demo --cert a.crt --key a.key", &["--https <ADDR>"], &[]);
    missing(
        "demo --key a.key",
        &["--https <ADDR>", "--cert <FILE>"],
        &[],
    );
    usage_err(
        "demo --https 8443 --cert a --key b",
        "for '--https <ADDR>': expects IP:PORT",
    );
    usage_err(
        "demo --https 127.0.0.1:8443 --cert --key b",
        "a value is required for '--cert <FILE>'",
    );
    usage_err(
        "demo --https 127.0.0.1:8443 --cert= --key b",
        "for '--cert <FILE>': expects a file",
    );
    usage_err(
        "demo --https 127.0.0.1:8443 --cert a --cert b --key c",
        "'--cert <FILE>' cannot be used multiple times",
    );
    // The balancer's own address, or its admin address (the next port), is refused.
    usage_err(
        "demo --https 127.0.0.1:8080 --cert a --key b",
        "`--https` 127.0.0.1:8080 is also the `--listen` address",
    );
    usage_err(
        "demo --listen 127.0.0.1:9000 --https 127.0.0.1:9001 --cert a --key b",
        "`--https` 127.0.0.1:9001 is the demo's admin address",
    );
}

#[test]
fn demo_bad_values() {
    usage_err("demo --member-port 0", "--member-port");
    usage_err("demo --member-port 70000", "--member-port");
    usage_err("demo --workers 2000", "--workers");
    usage_err("demo --listen 8080", "--listen");
    usage_err("demo --io-driver fast", "--io-driver");
    usage_err(
        "demo --listen 127.0.0.1:1 --listen 127.0.0.1:2",
        "cannot be used multiple times",
    );
}

#[test]
fn usage_mentions_every_flag_and_the_flag_example() {
    for (command, words) in [
        (
            "run",
            &[
                "-c, --config <FILE>",
                "--listen <ADDR>",
                "--workers <N|auto>",
                "--io-driver <DRIVER>",
                "--member <SPEC>",
                "--stickysession <NAMES>",
                "--lbmethod <METHOD>",
                "--help",
            ][..],
        ),
        (
            "demo",
            &[
                "--listen <ADDR>",
                "--member-port <PORT>",
                "--https <ADDR>",
                "--cert <FILE>",
                "--key <FILE>",
            ][..],
        ),
        (
            "bench-member",
            &["--listen <ADDR>", "--body-bytes <N>", "--route <NAME>"][..],
        ),
    ] {
        let help = help_of(command);
        for word in words {
            assert!(help.contains(word), "{command}: {word}: {help}");
        }
    }
    let top = command().render_long_help().to_string();
    assert!(top.contains("--version"), "{top}");
    let usage = top;
    let example = "ringlb run --listen 127.0.0.1:8080 --workers 1 \
        --member http://127.0.0.1:9001,route=node1 \
        --member http://127.0.0.1:9002,route=node2,loadfactor=3 \
        --stickysession 'JSESSIONID|jsessionid'";
    assert!(usage.contains(example));
    // The example itself parses (without the shell quotes).
    let line = example.trim_start_matches("ringlb ").replace('\'', "");
    assert!(matches!(ok(&line), Command::Run(RunSource::Flags(_))));
}

/// The long help of one command.
fn help_of(name: &str) -> String {
    let mut cmd = command();
    cmd.build();
    cmd.find_subcommand_mut(name)
        .unwrap_or_else(|| panic!("no command {name}"))
        .render_long_help()
        .to_string()
}

#[test]
fn error_display() {
    assert_eq!(CliError::Usage("bad".into()).to_string(), "bad");
    let e = parse(&args("run --member ftp://x")).unwrap_err();
    assert!(
        e.to_string().starts_with("<command line>:0: --member: "),
        "{e}"
    );
}

#[test]
fn bench_member_defaults_and_flags() {
    let want = BenchMemberArgs {
        listen: "127.0.0.1:9001".parse().unwrap(),
        body_bytes: 13,
        route: "member".to_owned(),
        workers: Some(1),
        io_driver: IoDriver::Auto,
    };
    assert_eq!(
        ok("bench-member --listen 127.0.0.1:9001"),
        Command::BenchMember(want)
    );
    let want = BenchMemberArgs {
        listen: "127.0.0.1:9002".parse().unwrap(),
        body_bytes: 1_048_576,
        route: "node2".to_owned(),
        workers: None,
        io_driver: IoDriver::Epoll,
    };
    let line = "bench-member --listen=127.0.0.1:9002 --body-bytes 1048576 --route node2 \
                --workers auto --io-driver epoll";
    assert_eq!(ok(line), Command::BenchMember(want));
}

#[test]
fn bench_member_bad_values() {
    usage_err("bench-member", "--listen");
    usage_err(
        "bench-member --listen 127.0.0.1:1 --body-bytes -1",
        "unexpected argument '-1'",
    );
    usage_err(
        "bench-member --listen 127.0.0.1:1 --body-bytes=-1",
        "for '--body-bytes <N>'",
    );
    usage_err(
        "bench-member --listen 127.0.0.1:1 --body-bytes 2000000000",
        "--body-bytes",
    );
    usage_err("bench-member --listen 127.0.0.1:1 --workers 0", "--workers");
    usage_err(
        "bench-member --listen 127.0.0.1:1 --route a --route b",
        "cannot be used multiple times",
    );
    usage_err("bench-member --listen 127.0.0.1:1 --bogus 1", "--bogus");
}
