//! Config tests: the documented example, defaults, the printed round trip, one test per kind of
//! mistake (each asserting the exact line and key), and the flag-built config.

use std::net::SocketAddr;
use std::time::Duration;

use super::*;

mod decay;
mod diff;
mod display;
mod dns;
mod failover;
mod flags;
mod limits;
mod listener;
mod log_targets;
mod member_ajp;
mod member_limits;
mod member_tls;
mod operations;
mod options;
mod remote;
mod reverse;
mod routes;
mod trust;

const EXAMPLE: &str = r#"workers = 2              # or "auto" (default) -> Config.workers = None
io_driver = "auto"       # auto | io_uring | epoll
listen = ["127.0.0.1:8080"]

[timeouts]
connect = 5
client_header = 20
keepalive_idle = 5
upstream_response = 60
upstream_idle = 15
ping = 1

[limits]
max_head_bytes = 65536
max_headers = 100
max_body_bytes = 1073741824

[headers]
x_forwarded_for = true
x_forwarded_proto = true
x_forwarded_host = true
preserve_host = false

[[balancer]]
name = "cluster"
mount = "/"
target_path = "/"
lbmethod = "byrequests"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:9001"
route = "node1"
loadfactor = 1
"#;

/// A valid file with one balancer and one member, for tests that add one mistake to it.
const MINIMAL: &str =
    "[[balancer]]\nname = \"c\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n";

fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

fn member(url: &str, addr_text: &str, route: &str, lbfactor: u32) -> MemberConfig {
    let authority = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    MemberConfig {
        url: url.into(),
        addr: addr(addr_text),
        dns_name: None,
        authority,
        route: route.into(),
        lbfactor,
        options: Default::default(),
    }
}

fn example_config() -> Config {
    Config {
        source: "ringlb.toml".into(),
        workers: Some(2),
        io_driver: IoDriver::Auto,
        listen: vec![addr("127.0.0.1:8080")],
        listeners: Vec::new(),
        timeouts: Timeouts {
            connect: Duration::from_secs(5),
            client_header: Duration::from_secs(20),
            keepalive_idle: Duration::from_secs(5),
            upstream_response: Duration::from_secs(60),
            upstream_idle: Duration::from_secs(15),
            ping: Duration::from_secs(1),
            client_body: Duration::from_secs(20),
            client_body_max: Duration::ZERO,
            tunnel_idle: Duration::from_secs(3600),
        },
        limits: Limits {
            max_head_bytes: 65536,
            max_headers: 100,
            max_body_bytes: 1 << 30,
            min_body_rate: 500,
            max_connections: None,
        },
        forwarded: Forwarded {
            x_forwarded_for: true,
            x_forwarded_proto: true,
            x_forwarded_host: true,
            preserve_host: false,
        },
        trust: Default::default(),
        stats: Default::default(),
        ops: Default::default(),
        dns: Default::default(),
        routes: Default::default(),
        balancers: vec![BalancerConfig {
            name: "cluster".into(),
            mount: Some(crate::config::PathMount::new("/", "/")),
            lbmethod: LbMethod::ByRequests,
            options: Default::default(),
            sticky: Some(Sticky {
                cookie_name: "JSESSIONID".into(),
                url_name: "jsessionid".into(),
                sep: Some(b'.'),
                scolonpathdelim: true,
            }),
            members: vec![member(
                "http://127.0.0.1:9001",
                "127.0.0.1:9001",
                "node1",
                100,
            )],
        }],
    }
}

/// Parses `text`, expects an error at `line` for `key`, and returns its message.
fn expect_err(text: &str, line: usize, key: &str) -> String {
    let err = parse_str(text, "t.toml").expect_err("config should be rejected");
    assert_eq!(
        (err.file.as_str(), err.line, err.key.as_str()),
        ("t.toml", line, key),
        "{err}"
    );
    err.message
}

#[test]
fn example_parses_to_exact_config() {
    assert_eq!(parse_str(EXAMPLE, "ringlb.toml"), Ok(example_config()));
}

#[test]
fn minimal_file_gets_all_defaults() {
    let cfg = parse_str(MINIMAL, "m.toml").unwrap();
    assert_eq!(cfg.workers, None);
    assert_eq!(cfg.io_driver, IoDriver::Auto);
    assert_eq!(cfg.listen, vec![DEFAULT_LISTEN]);
    assert_eq!(cfg.timeouts, example_config().timeouts);
    assert_eq!(cfg.limits, example_config().limits);
    assert_eq!(cfg.forwarded, example_config().forwarded);
    let b = &cfg.balancers[0];
    assert_eq!(b.mount, Some(PathMount::new("/", "/")));
    assert_eq!((b.lbmethod, &b.sticky), (LbMethod::ByRequests, &None));
    assert_eq!(
        b.members,
        vec![member("http://127.0.0.1:9001", "127.0.0.1:9001", "", 100)]
    );
}

#[test]
fn other_spellings() {
    let text = r#"workers = "auto"
io_driver = "epoll"
listen = ["0.0.0.0:81", "[::1]:8080"]
[timeouts]
connect = "500ms"
ping = 0.25
upstream_response = "2m"
[limits]
max_body_bytes = 0
[[balancer]]
name = "app-1.x"
mount = "/app"
lbmethod = "bybusyness"
stickysession = "JSESSIONID"
[[balancer.member]]
url = "http://localhost"
loadfactor = 2.5
[[balancer.member]]
url = "http://[::1]:9002/"
loadfactor = 100
"#;
    let cfg = parse_str(text, "o.toml").unwrap();
    assert_eq!(cfg.io_driver, IoDriver::Epoll);
    assert_eq!(cfg.listen, vec![addr("0.0.0.0:81"), addr("[::1]:8080")]);
    assert_eq!(cfg.timeouts.connect, Duration::from_millis(500));
    assert_eq!(cfg.timeouts.ping, Duration::from_millis(250));
    assert_eq!(cfg.timeouts.upstream_response, Duration::from_secs(120));
    assert_eq!(cfg.limits.max_body_bytes, 0);
    let b = &cfg.balancers[0];
    assert_eq!(b.mount, Some(PathMount::new("/app", "/app")));
    assert_eq!(b.lbmethod, LbMethod::ByBusyness);
    let sticky = Sticky {
        cookie_name: "JSESSIONID".into(),
        url_name: "JSESSIONID".into(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    };
    assert_eq!(b.sticky, Some(sticky));
    assert_eq!(
        (b.members[0].addr, b.members[0].authority.as_str()),
        (addr("127.0.0.1:80"), "localhost:80")
    );
    assert_eq!(b.members[0].lbfactor, 250);
    assert_eq!(
        (b.members[1].addr, b.members[1].authority.as_str()),
        (addr("[::1]:9002"), "[::1]:9002")
    );
    assert_eq!(b.members[1].lbfactor, 10000);
}

#[test]
fn error_display_format() {
    let err = parse_str("bogus = 1\n", "x.toml").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("x.toml:1: bogus: unknown field `bogus`"),
        "{err}"
    );
}

#[test]
fn unknown_key_at_top_level() {
    let msg = expect_err(
        &format!("workers = 1\nwrokers = 2\n{MINIMAL}"),
        2,
        "wrokers",
    );
    assert!(msg.contains("unknown field `wrokers`"), "{msg}");
}

#[test]
fn unknown_table_at_top_level() {
    expect_err(&format!("{MINIMAL}[timeout]\nconnect = 1\n"), 5, "timeout");
}

#[test]
fn unknown_key_in_section() {
    let msg = expect_err(
        &format!("[timeouts]\nconnect = 1\nread = 2\n{MINIMAL}"),
        3,
        "timeouts.read",
    );
    assert!(msg.contains("unknown field `read`"), "{msg}");
}

#[test]
fn unknown_key_in_balancer() {
    expect_err(
        &format!("{MINIMAL}[[balancer]]\nname = \"d\"\nsticky = \"x\"\n"),
        7,
        "balancer[1].sticky",
    );
}

#[test]
fn unknown_key_in_member() {
    let text =
        format!("{MINIMAL}[[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\nweight = 3\n");
    expect_err(&text, 7, "balancer[0].member[1].weight");
}

#[test]
fn unknown_key_in_inline_member() {
    let text = "[[balancer]]\nname = \"c\"\nmember = [{url = \"http://127.0.0.1:1\"},\n  {url = \"http://127.0.0.1:2\", lf = 1}]\n";
    expect_err(text, 4, "balancer[0].member[1].lf");
}

#[test]
fn wrong_type_string_for_bool() {
    let msg = expect_err(
        &format!("[headers]\npreserve_host = \"yes\"\n{MINIMAL}"),
        2,
        "headers.preserve_host",
    );
    assert!(msg.contains("invalid type"), "{msg}");
}

#[test]
fn wrong_type_integer_for_string() {
    let text = "[[balancer]]\nname = 5\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n";
    expect_err(text, 2, "balancer[0].name");
}

#[test]
fn wrong_type_table_for_array_of_members() {
    let text = "[[balancer]]\nname = \"c\"\n[balancer.member]\nurl = \"http://127.0.0.1:9001\"\n";
    expect_err(text, 3, "balancer[0].member");
}

#[test]
fn wrong_type_for_limit() {
    let msg = expect_err(
        &format!("[limits]\nmax_headers = \"100\"\n{MINIMAL}"),
        2,
        "limits.max_headers",
    );
    assert!(msg.contains("expected an integer"), "{msg}");
}

#[test]
fn limit_out_of_range() {
    expect_err(
        &format!("[limits]\nmax_head_bytes = 512\n{MINIMAL}"),
        2,
        "limits.max_head_bytes",
    );
    expect_err(
        &format!("[limits]\nmax_headers = 129\n{MINIMAL}"),
        2,
        "limits.max_headers",
    );
    expect_err(
        &format!("[limits]\nmax_body_bytes = -1\n{MINIMAL}"),
        2,
        "limits.max_body_bytes",
    );
}

#[test]
fn bad_duration_string() {
    let msg = expect_err(
        &format!("[timeouts]\n\nping = \"5 sec\"\n{MINIMAL}"),
        3,
        "timeouts.ping",
    );
    assert!(msg.contains("\"5 sec\""), "{msg}");
}

#[test]
fn zero_duration() {
    expect_err(
        &format!("[timeouts]\nconnect = 0\n{MINIMAL}"),
        2,
        "timeouts.connect",
    );
}

#[test]
fn workers_out_of_range_or_wrong_word() {
    expect_err(&format!("workers = 0\n{MINIMAL}"), 1, "workers");
    expect_err(&format!("workers = 1025\n{MINIMAL}"), 1, "workers");
    let msg = expect_err(&format!("workers = \"all\"\n{MINIMAL}"), 1, "workers");
    assert!(msg.contains("\"auto\""), "{msg}");
}

#[test]
fn bad_io_driver() {
    let msg = expect_err(&format!("io_driver = \"uring\"\n{MINIMAL}"), 1, "io_driver");
    assert!(msg.contains("auto, io_uring or epoll"), "{msg}");
}

#[test]
fn bad_listen_address() {
    let text = format!("listen = [\n  \"127.0.0.1:8080\",\n  \"localhost:8080\",\n]\n{MINIMAL}");
    expect_err(&text, 3, "listen[1]");
}

#[test]
fn empty_or_duplicate_listen() {
    expect_err(&format!("listen = []\n{MINIMAL}"), 1, "listen");
    let text = format!("listen = [\"127.0.0.1:1\", \"127.0.0.1:1\"]\n{MINIMAL}");
    expect_err(&text, 1, "listen[1]");
}

#[test]
fn no_balancer() {
    expect_err("workers = 1\n", 0, "balancer");
    expect_err("workers = 1\nbalancer = []\n", 2, "balancer");
}

#[test]
fn balancer_without_name() {
    let text =
        "\n[[balancer]]\nmount = \"/\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n";
    expect_err(text, 2, "balancer[0].name");
}

#[test]
fn bad_balancer_name() {
    let text = MINIMAL.replace("name = \"c\"", "name = \"my cluster\"");
    expect_err(&text, 2, "balancer[0].name");
}

#[test]
fn duplicate_balancer_name() {
    let text = format!("{MINIMAL}[[balancer]]\nname = \"c\"\nmount = \"/b\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:1\"\n");
    let msg = expect_err(&text, 6, "balancer[1].name");
    assert!(msg.contains("first at line 1"), "{msg}");
}

#[test]
fn duplicate_mount() {
    let text = format!("{MINIMAL}[[balancer]]\nname = \"d\"\nmount = \"/\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:1\"\n");
    expect_err(&text, 7, "balancer[1].mount");
}

#[test]
fn mount_without_leading_slash() {
    let text = MINIMAL.replace("name = \"c\"\n", "name = \"c\"\nmount = \"app\"\n");
    expect_err(&text, 3, "balancer[0].mount");
    let text = MINIMAL.replace("name = \"c\"\n", "name = \"c\"\ntarget_path = \"app\"\n");
    expect_err(&text, 3, "balancer[0].target_path");
}

#[test]
fn bad_lbmethod() {
    let text = MINIMAL.replace(
        "name = \"c\"\n",
        "name = \"c\"\nlbmethod = \"roundrobin\"\n",
    );
    let msg = expect_err(&text, 3, "balancer[0].lbmethod");
    assert!(msg.contains("byrequests, bytraffic or bybusyness"), "{msg}");
}

#[test]
fn bad_stickysession() {
    for bad in ["|x", "x|", "", "a|b|c", "JSESSION ID"] {
        let text = MINIMAL.replace(
            "name = \"c\"\n",
            &format!("name = \"c\"\nstickysession = {bad:?}\n"),
        );
        expect_err(&text, 3, "balancer[0].stickysession");
    }
}

#[test]
fn balancer_without_members() {
    expect_err(
        "workers = 1\n[[balancer]]\nname = \"c\"\n",
        2,
        "balancer[0].member",
    );
}

#[test]
fn too_many_members() {
    let mut text = String::from("[[balancer]]\nname = \"c\"\n");
    for port in 1..=65 {
        text.push_str(&format!(
            "[[balancer.member]]\nurl = \"http://127.0.0.1:{port}\"\n"
        ));
    }
    // member[64] (the 65th) starts on line 2 + 64 * 2 + 1.
    let msg = expect_err(&text, 131, "balancer[0].member");
    assert!(msg.contains("at most 64"), "{msg}");
    let sixty_four = text.lines().take(130).collect::<Vec<_>>().join("\n");
    assert_eq!(
        parse_str(&sixty_four, "t").unwrap().balancers[0]
            .members
            .len(),
        64
    );
}

#[test]
fn member_without_url() {
    let text = format!("{MINIMAL}\n[[balancer.member]]\nroute = \"n2\"\n");
    expect_err(&text, 6, "balancer[0].member[1].url");
}

#[test]
fn bad_url_scheme() {
    let msg = expect_err(
        &MINIMAL.replace("http://", "ftp://"),
        4,
        "balancer[0].member[0].url",
    );
    assert!(msg.contains("\"ftp\""), "{msg}");
    assert!(msg.contains("ajp://"), "{msg}");
    expect_err(
        &MINIMAL.replace("http://", ""),
        4,
        "balancer[0].member[0].url",
    );
}

#[test]
fn bad_url_port_or_path() {
    for url in [
        "http://127.0.0.1:0",
        "http://127.0.0.1:99999",
        "http://127.0.0.1:x",
        "http://127.0.0.1:1/app",
        "http://[::1",
        "http://::1:80",
        "http://u@127.0.0.1",
    ] {
        let text = MINIMAL.replace("http://127.0.0.1:9001", url);
        expect_err(&text, 4, "balancer[0].member[0].url");
    }
}

#[test]
fn loadfactor_out_of_range() {
    for bad in ["0", "0.5", "101", "100.5", "-3", "\"2\""] {
        let text = format!("{MINIMAL}loadfactor = {bad}\n");
        expect_err(&text, 5, "balancer[0].member[0].loadfactor");
    }
}

#[test]
fn bad_route() {
    for bad in ["node 1", "a;b", "a,b", "a=b", "a\"b", ""] {
        let text = format!("{MINIMAL}route = {bad:?}\n");
        if bad.is_empty() {
            assert!(parse_str(&text, "t").is_ok(), "empty route means none");
        } else {
            expect_err(&text, 5, "balancer[0].member[0].route");
        }
    }
    assert!(parse_str(&format!("{MINIMAL}route = \"dc1.node1\"\n"), "t").is_ok());
}

#[test]
fn duplicate_route() {
    let text = format!(
        "{MINIMAL}route = \"n1\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\nroute = \"n1\"\n"
    );
    let msg = expect_err(&text, 8, "balancer[0].member[1].route");
    assert!(msg.contains("duplicate route \"n1\""), "{msg}");
}

#[test]
fn same_route_in_two_balancers_is_fine() {
    let text = format!("{MINIMAL}route = \"n1\"\n[[balancer]]\nname = \"d\"\nmount = \"/d\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:1\"\nroute = \"n1\"\n");
    assert!(parse_str(&text, "t").is_ok());
}

#[test]
fn syntax_error_missing_value() {
    let msg = expect_err(&format!("workers = 1\nlisten =\n{MINIMAL}"), 2, "listen");
    assert!(!msg.contains('\n'), "{msg}");
}

#[test]
fn syntax_error_in_header() {
    expect_err(&format!("{MINIMAL}[timeouts\nconnect = 1\n"), 5, "timeouts");
}

#[test]
fn syntax_error_in_member_value() {
    let text = format!("{MINIMAL}loadfactor = 1..5\n");
    expect_err(&text, 5, "balancer.member.loadfactor");
}

#[test]
fn date_value_is_rejected() {
    expect_err(&format!("workers = 1979-05-27\n{MINIMAL}"), 1, "workers");
}

#[test]
fn load_reports_missing_file() {
    let err = load(std::path::Path::new("/nonexistent/ringlb.toml")).unwrap_err();
    assert_eq!((err.line, err.key.as_str()), (0, ""));
    assert!(
        err.to_string()
            .starts_with("/nonexistent/ringlb.toml:0: : cannot read"),
        "{err}"
    );
}

/// toml 0.8 gives some syntax errors no words (a key without a value at the end of the file, a
/// control character in a comment); the error still says what is wrong. Inputs found by the
/// `config` fuzz target.
#[test]
fn syntax_errors_without_words_still_say_something() {
    for text in ["worworkers0= ", "    # wa\u{1}ting"] {
        let err = parse_str(text, "t.toml").expect_err("invalid TOML");
        assert_eq!((err.file.as_str(), err.line), ("t.toml", 1), "{err}");
        assert!(
            !err.message.is_empty(),
            "an error without a message: {err:?}"
        );
    }
}
