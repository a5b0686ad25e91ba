use super::*;
use crate::config::{self, Config};

/// A config of balancers `a`, `b`, `c` (each one member) plus `extra` (mount and vhost
/// tables, or balancers' own `mount` lines given as `a = "/x"` ... through `own`).
fn config(own: [Option<&str>; 3], extra: &str) -> Config {
    let mut text = String::new();
    for (i, (name, mount)) in ["a", "b", "c"].iter().zip(own).enumerate() {
        text.push_str(&format!("[[balancer]]\nname = \"{name}\"\n"));
        if let Some(m) = mount {
            text.push_str(&format!("mount = \"{m}\"\n"));
        }
        text.push_str(&format!(
            "[[balancer.member]]\nurl = \"http://127.0.0.1:{}\"\n\n",
            9001 + i
        ));
    }
    text.push_str(extra);
    config::parse_str(&text, "t.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// (balancer name, the target its member gets) for a request, or the error status.
fn route(
    config: &Config,
    host: Option<&str>,
    port: u16,
    target: &str,
) -> Result<(String, String), u16> {
    let router = Router::new(&config.balancers, &config.routes);
    let located = router
        .locate(host.map(str::as_bytes), port, target.as_bytes())
        .map_err(|(status, _)| status)?;
    let mount = router.mount(located.mount).expect("mount");
    let (prefix, rest) = member_target(mount, target.as_bytes(), &located.origin);
    let sent = String::from_utf8([prefix, rest].concat()).unwrap();
    Ok((config.balancers[located.balancer].name.clone(), sent))
}

type Case = (&'static str, Result<(&'static str, &'static str), u16>);

fn check(config: &Config, host: Option<&str>, port: u16, cases: &[Case]) {
    for (target, want) in cases {
        let want = want.map(|(b, t)| (b.to_owned(), t.to_owned()));
        assert_eq!(
            route(config, host, port, target),
            want,
            "{host:?}:{port} {target}"
        );
    }
}

#[test]
fn own_mounts_take_the_longest_prefix_at_a_segment_boundary() {
    let c = config([Some("/"), Some("/app"), Some("/app/admin")], "");
    check(
        &c,
        None,
        80,
        &[
            ("/", Ok(("a", "/"))),
            ("/x", Ok(("a", "/x"))),
            ("/app", Ok(("b", "/app"))),
            ("/app/x", Ok(("b", "/app/x"))),
            ("/app?q=1", Ok(("b", "/app?q=1"))),
            ("/app;jsessionid=a.b", Ok(("b", "/app;jsessionid=a.b"))),
            ("/apple", Ok(("a", "/apple"))),
            ("/app/admin", Ok(("c", "/app/admin"))),
            ("/app/administrator", Ok(("b", "/app/administrator"))),
            ("*", Ok(("a", "*"))),
            ("http://h/app/x", Ok(("b", "/app/x"))),
            ("http://h", Ok(("a", "/"))),
            ("/app/./x", Ok(("b", "/app/x"))),
            ("/app/../x", Err(400)),
            ("x", Err(400)),
        ],
    );
    let c = config(
        [Some("/app"), Some("/b"), None],
        "[[mount]]\npath = \"/c\"\nbalancer = \"c\"\n",
    );
    check(
        &c,
        None,
        80,
        &[
            ("/", Err(404)),
            ("/other", Err(404)),
            ("/b/x", Ok(("b", "/b/x"))),
        ],
    );
}

#[test]
fn path_mounts_replace_the_prefix_with_target_path() {
    let extra = "[[mount]]\npath = \"/shop\"\nbalancer = \"a\"\ntarget_path = \"/\"\n\n\
                 [[mount]]\npath = \"/\"\nbalancer = \"b\"\ntarget_path = \"/backend\"\n\n\
                 [[mount]]\npath = \"/img\"\nbalancer = \"c\"\ntarget_path = \"/b/\"\n";
    let c = config([None, None, None], extra);
    check(
        &c,
        None,
        80,
        &[
            ("/shop/x", Ok(("a", "/x"))),
            ("/shop", Ok(("a", "/"))),
            ("/x?q", Ok(("b", "/backend/x?q"))),
            ("*", Ok(("b", "*"))),
            ("http://h/img/y", Ok(("c", "/b/y"))),
        ],
    );
}

#[test]
fn the_most_specific_mount_wins_whatever_the_order() {
    // Exact patterns, then regexes in order, then the longest path or glob.
    let extra = "[[mount]]\npath = \"/\"\nbalancer = \"a\"\n\n\
                 [[mount]]\npattern = \"/app/*.jsp\"\nbalancer = \"b\"\n\n\
                 [[mount]]\npath = \"/app\"\nbalancer = \"c\"\n\n\
                 [[mount]]\npattern = \"/app/status\"\nbalancer = \"a\"\n\n\
                 [[mount]]\nregex = '^/app/(.*)\\.do$'\nbalancer = \"a\"\ntarget = \"/legacy/$1\"\n\n\
                 [[mount]]\nregex = '\\.do$'\nbalancer = \"b\"\n\n\
                 [[mount]]\npattern = \"/*.cfm\"\nbalancer = \"b\"\n";
    let c = config([None, None, None], extra);
    check(
        &c,
        None,
        80,
        &[
            ("/app/x.jsp", Ok(("b", "/app/x.jsp"))), // 10 > 4
            (
                "/app/x.jsp;jsessionid=A.n1",
                Ok(("b", "/app/x.jsp;jsessionid=A.n1")),
            ),
            ("/app/x.jspx", Ok(("c", "/app/x.jspx"))),
            ("/app/status", Ok(("a", "/app/status"))), // exact first
            ("/app/status/x", Ok(("c", "/app/status/x"))),
            ("/app/buy.do?id=1", Ok(("a", "/legacy/buy?id=1"))), // regex before paths
            ("/x/y.do", Ok(("b", "/x/y.do"))),                   // no target: as sent
        ],
    );
    // Equal `/` counts: `/*.cfm` (6) is longer than `/app` (4), so it wins for `/app/a.cfm`.
    check(
        &c,
        None,
        80,
        &[
            ("/app/a.cfm", Ok(("b", "/app/a.cfm"))),
            ("/b.cfm", Ok(("b", "/b.cfm"))),
        ],
    );
}

#[test]
fn more_slashes_beat_a_longer_text_as_in_mod_jk() {
    let extra = "[[mount]]\npattern = \"/*.jspx\"\nbalancer = \"a\"\n\n\
                 [[mount]]\npattern = \"/a/b/*\"\nbalancer = \"b\"\n\n\
                 [[mount]]\npath = \"/a\"\nbalancer = \"c\"\n";
    let c = config([None, None, None], extra);
    check(
        &c,
        None,
        80,
        &[
            ("/a/b/c.jspx", Ok(("b", "/a/b/c.jspx"))),
            ("/a/c.jspx", Ok(("a", "/a/c.jspx"))),
            ("/a/c", Ok(("c", "/a/c"))),
        ],
    );
}

#[test]
fn exclusions_veto_their_balancers_whatever_the_lengths() {
    let extra = "[[mount]]\npattern = \"/examples/*\"\nbalancer = \"a\"\n\n\
                 [[mount]]\npattern = \"/*.gif\"\nexclude = true\nbalancers = [\"a\"]\n\n\
                 [[mount]]\npath = \"/static\"\nbalancer = \"b\"\n\n\
                 [[mount]]\npath = \"/static/private\"\nexclude = true\n\n\
                 [[mount]]\npath = \"/\"\nbalancer = \"c\"\n";
    let c = config([None, None, None], extra);
    check(
        &c,
        None,
        80,
        &[
            ("/examples/x.jsp", Ok(("a", "/examples/x.jsp"))),
            ("/examples/img/x.gif", Err(404)), // JkUnMount beats the longer JkMount
            ("/static/x.gif", Ok(("b", "/static/x.gif"))), // only `a` excludes .gif
            ("/static/private/k", Err(404)),   // excluded from every balancer
            ("/static/privateer", Ok(("b", "/static/privateer"))),
            ("/other.gif", Ok(("c", "/other.gif"))),
            // A dot-segment cannot step into or out of an exclusion.
            ("/static/x/../private/k", Err(400)),
            ("/static/private/../x", Err(400)),
        ],
    );
}

#[test]
fn vhosts_are_chosen_by_host_and_port_then_inherit_the_top_level() {
    let extra = "[[mount]]\npath = \"/common\"\nbalancer = \"c\"\n\n\
                 [[vhost]]\nserver_name = \"www.example.com\"\nserver_alias = [\"example.com\", \"*.example.org\"]\n\
                 [[vhost.mount]]\npath = \"/\"\nbalancer = \"a\"\n\n\
                 [[vhost]]\nserver_name = \"shop.example.com\"\ndefault = true\n\
                 [[vhost.mount]]\npath = \"/\"\nbalancer = \"b\"\n\n\
                 [[vhost]]\nserver_name = \"admin.example.com\"\nports = [8443]\n\
                 [[vhost.mount]]\npath = \"/\"\nbalancer = \"c\"\n";
    let c = config([None, None, None], extra);
    // (host, port, target, balancer)
    type HostCase = (
        Option<&'static str>,
        u16,
        &'static str,
        Result<&'static str, u16>,
    );
    let cases: [HostCase; 12] = [
        (Some("www.example.com"), 80, "/x", Ok("a")),
        (Some("WWW.Example.COM:8080"), 80, "/x", Ok("a")),
        (Some("www.example.com."), 80, "/x", Ok("a")),
        (Some("example.com"), 80, "/x", Ok("a")),
        (Some("a.b.example.org"), 80, "/x", Ok("a")),
        (Some("example.org"), 80, "/x", Ok("b")), // `*.example.org` needs a label
        (Some("shop.example.com"), 80, "/x", Ok("b")),
        (Some("unknown.test"), 80, "/x", Ok("b")), // the default takes the rest
        (None, 80, "/x", Ok("b")),
        (Some("admin.example.com"), 80, "/x", Ok("b")), // not on this port
        (Some("admin.example.com"), 8443, "/x", Ok("c")),
        (Some("www.example.com"), 80, "/common/y", Ok("c")), // inherited
    ];
    for (host, port, target, want) in cases {
        let got = route(&c, host, port, target).map(|(b, _)| b);
        assert_eq!(got, want.map(str::to_owned), "{host:?}:{port} {target}");
    }
}

#[test]
fn without_a_default_the_first_vhost_of_the_port_takes_unknown_hosts() {
    let extra = "[[vhost]]\nserver_name = \"one.test\"\nports = [8080]\n\
                 [[vhost.mount]]\npath = \"/\"\nbalancer = \"a\"\n\n\
                 [[vhost]]\nserver_name = \"two.test\"\n\
                 [[vhost.mount]]\npath = \"/\"\nbalancer = \"b\"\n";
    let c = config([None, None, Some("/top")], extra);
    let b = |host: &str, port: u16, target: &str| route(&c, Some(host), port, target).map(|r| r.0);
    assert_eq!(b("x.test", 8080, "/"), Ok("a".to_owned()));
    assert_eq!(b("x.test", 9090, "/"), Ok("b".to_owned()));
    assert_eq!(b("one.test", 9090, "/"), Ok("b".to_owned()));
    assert_eq!(b("one.test", 8080, "/top/x"), Ok("c".to_owned()));
}

#[test]
fn lowercase_host_strips_the_port_and_the_dot() {
    let mut buf = [0u8; 256];
    assert_eq!(lowercase_host(b"A.B:80", &mut buf), Some(&b"a.b"[..]));
    assert_eq!(lowercase_host(b"[::1]:80", &mut buf), Some(&b"[::1]"[..]));
    assert_eq!(lowercase_host(b"", &mut buf), None);
    assert_eq!(lowercase_host(&[b'a'; 300], &mut buf), None);
    assert_eq!(request_host(b"/x", Some(b"h")), Some(&b"h"[..]));
    assert_eq!(request_host(b"http://a:1/x", Some(b"h")), Some(&b"a:1"[..]));
    assert_eq!(request_host(b"https://a?q", None), Some(&b"a"[..]));
}

#[test]
fn origin_form_offset_skips_scheme_and_authority() {
    assert_eq!(origin_form_offset(b"/a?b", b"/a", b"?b"), 0);
    assert_eq!(origin_form_offset(b"http://h:8/a?b", b"/a", b"?b"), 10);
    assert_eq!(origin_form_offset(b"", b"/", b""), 0);
}
