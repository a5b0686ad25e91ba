//! `[[mount]]` and `[[vhost]]`: what they parse to, the printed round trip, the diff, and
//! the refusals naming file, line and key.

use super::expect_err;
use crate::config::*;

/// Balancers `a` (line 1) and `b` (line 5), without their own mounts, then `extra` from
/// line 9.
fn file(extra: &str) -> String {
    format!(
        "[[balancer]]\nname = \"a\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n\
         [[balancer]]\nname = \"b\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\n{extra}"
    )
}

fn parse(text: &str) -> Config {
    parse_str(text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

const ROUTED: &str = "[[mount]]\npath = \"/app\"\nbalancer = \"a\"\ntarget_path = \"/\"\n\
    [[mount]]\npattern = \"/*.gif\"\nexclude = true\nbalancers = [\"a\"]\n\
    [[vhost]]\nserver_name = \"WWW.Example.com\"\nserver_alias = [\"*.example.org\"]\n\
    ports = [80, 8080]\ndefault = true\n\
    [[vhost.mount]]\nregex = '^/old/(.*)$'\nbalancer = \"b\"\ntarget = \"/new/$1\"\n\
    [[vhost.mount]]\npattern = \"/shop/*\"\nbalancer = \"b\"\n";

#[test]
fn mounts_and_vhosts_parse_and_balancers_lose_the_default_mount() {
    let cfg = parse(&file(ROUTED));
    assert_eq!(cfg.balancers[0].mount, None);
    assert_eq!(cfg.balancers[1].mount, None);
    let r = &cfg.routes;
    assert_eq!(
        r.mounts,
        vec![
            MountConfig {
                matcher: Matcher::Path("/app".into()),
                action: MountAction::Balancer {
                    balancer: 0,
                    target: "/".into()
                },
            },
            MountConfig {
                matcher: Matcher::Pattern("/*.gif".into()),
                action: MountAction::Exclude { balancers: vec![0] },
            },
        ]
    );
    let v = &r.vhosts[0];
    assert_eq!(
        (v.server_name.as_str(), v.ports.as_slice(), v.default),
        ("www.example.com", &[80, 8080][..], true)
    );
    assert_eq!(v.server_alias, vec!["*.example.org".to_owned()]);
    assert_eq!(
        v.mounts[0].action,
        MountAction::Balancer {
            balancer: 1,
            target: "/new/$1".into()
        }
    );
    assert_eq!(
        v.mounts[1].action,
        MountAction::Balancer {
            balancer: 1,
            target: String::new()
        }
    );
    assert_eq!(
        r.mounts_text(&cfg.balancers, 1),
        "www.example.com regex ^/old/(.*)$, www.example.com pattern /shop/*"
    );
    assert_eq!(r.mounts_text(&cfg.balancers, 0), "/app");
}

#[test]
fn without_routes_a_balancer_is_mounted_at_the_root() {
    let one = "[[balancer]]\nname = \"a\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n";
    assert_eq!(
        parse(one).balancers[0].mount,
        Some(PathMount::new("/", "/"))
    );
    // Two balancers both defaulting to `/` collide, as before.
    let msg = expect_err(&file(""), 5, "balancer[1].mount");
    assert!(msg.contains("already used by balancer \"a\""), "{msg}");
}

#[test]
fn the_printed_config_parses_back_equal() {
    let cfg = parse(&file(ROUTED));
    let printed = cfg.to_string();
    assert_eq!(parse_str(&printed, "t.toml"), Ok(cfg), "{printed}");
    let own = parse("[[balancer]]\nname = \"a\"\nmount = \"/x\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n[[mount]]\npath = \"/y\"\nbalancer = \"a\"\n");
    assert_eq!(parse_str(&own.to_string(), "t.toml"), Ok(own));
}

#[test]
fn the_diff_names_changed_mounts_and_vhosts() {
    let old = parse(&file(ROUTED));
    let new = parse(&file(
        &ROUTED
            .replace("/shop/*", "/store/*")
            .replace("target_path = \"/\"", "target_path = \"/v2\""),
    ));
    let lines: Vec<String> = diff(&old, &new).iter().map(|c| c.to_string()).collect();
    assert!(
        lines
            .iter()
            .any(|l| l.contains("mount") && l.contains("/v2")),
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.contains("vhost[\"www.example.com\"].mount") && l.contains("/store/*")),
        "{lines:?}"
    );
    assert!(diff(&old, &old).is_empty());
}

#[test]
fn refusals_name_the_line_and_key() {
    // (extra from line 9, line, key, part of the message)
    let cases: [(&str, usize, &str, &str); 16] = [
        ("[[mount]]\nbalancer = \"a\"\n", 9, "mount[0]", "one of `path`"),
        ("[[mount]]\npath = \"/x\"\npattern = \"/y\"\nbalancer = \"a\"\n", 11, "mount[0].pattern", "is a second"),
        ("[[mount]]\npath = \"x\"\nbalancer = \"a\"\n", 10, "mount[0].path", "must start with"),
        ("[[mount]]\npath = \"/x\"\nbalancer = \"nope\"\n", 11, "mount[0].balancer", "no [[balancer]] is named \"nope\""),
        ("[[mount]]\npath = \"/x\"\n", 9, "mount[0].balancer", "needs `balancer`"),
        ("[[mount]]\nregex = '(unclosed'\nbalancer = \"a\"\n", 10, "mount[0].regex", "not a valid regex"),
        ("[[mount]]\nregex = '(a)\\1'\nbalancer = \"a\"\n", 10, "mount[0].regex", "backreferences"),
        ("[[mount]]\nregex = '^/(a)'\nbalancer = \"a\"\ntarget = \"/$2\"\n", 12, "mount[0].target", "has 1 group"),
        ("[[mount]]\nregex = '^/(a)'\nbalancer = \"a\"\ntarget = \"/$x\"\n", 12, "mount[0].target", "followed by a digit"),
        ("[[mount]]\npattern = \"/*\"\nbalancer = \"a\"\ntarget_path = \"/x\"\n", 12, "mount[0].target_path", "goes with `path` only"),
        ("[[mount]]\npath = \"/x\"\nexclude = true\nbalancer = \"a\"\n", 12, "mount[0].balancer", "use `balancers`"),
        ("[[mount]]\npath = \"/x\"\nbalancer = \"a\"\nbalancers = [\"a\"]\n", 12, "mount[0].balancers", "goes with `exclude = true`"),
        ("[[mount]]\npath = \"/x\"\nbalancer = \"a\"\n[[mount]]\npath = \"/x\"\nbalancer = \"b\"\n", 12, "mount[1].path", "already mounted at line 9"),
        ("[[vhost]]\nserver_alias = [\"a\"]\n", 9, "vhost[0].server_name", "missing required key"),
        ("[[vhost]]\nserver_name = \"a.test:80\"\n", 10, "vhost[0].server_name", "must not have a port"),
        ("[[vhost]]\nserver_name = \"a\"\ndefault = true\n[[vhost]]\nserver_name = \"b\"\nports = [80]\ndefault = true\n", 15, "vhost[1].default", "both the default"),
    ];
    for (extra, line, key, part) in cases {
        let msg = expect_err(&file(extra), line, key);
        assert!(msg.contains(part), "{key}: {msg}");
    }
    let msg = expect_err(
        &file("[[vhost]]\nserver_name = \"a\"\nports = [0]\n"),
        11,
        "vhost[0].ports[0]",
    );
    assert!(msg.contains("1..=65535"), "{msg}");
    let own = "[[balancer]]\nname = \"a\"\nmount = \"/x\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n[[mount]]\npath = \"/x\"\nbalancer = \"a\"\n";
    let msg = expect_err(own, 6, "mount[0].path");
    assert!(msg.contains("already the mount of balancer \"a\""), "{msg}");
    let tp = "[[balancer]]\nname = \"a\"\ntarget_path = \"/x\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n[[mount]]\npath = \"/x\"\nbalancer = \"a\"\n";
    let msg = expect_err(tp, 3, "balancer[0].target_path");
    assert!(msg.contains("needs the balancer's own `mount`"), "{msg}");
}
