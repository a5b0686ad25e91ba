//! `mount`: `http::mount::Router::locate` and `member_target` over a fixed configuration of
//! every mount kind (own mounts, `path` with `target_path`, exact and wildcard `pattern`s,
//! `regex` with `$N`, exclusions, vhosts with aliases and ports). Invariants: an accepted
//! request names a real balancer and mount, its member target starts with `/` (or is `*`);
//! an error is 400 or 404; the same request always gets the same answer.
//!
//! Input: `HOST \n TARGET` (no newline: no `Host`); the listener port is 80 or, when the
//! first byte is odd, 8443.

use ringlb::config::parse_str;
use ringlb::http::mount::{member_target, Router};

use crate::alloc::bounded;

const CONFIG: &str = "\
[[balancer]]\nname = \"a\"\nmount = \"/app\"\ntarget_path = \"/\"\n\
[[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\n\
[[balancer]]\nname = \"b\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\n\
[[balancer]]\nname = \"c\"\n[[balancer.member]]\nurl = \"http://127.0.0.1:9003\"\n\
[[mount]]\npath = \"/\"\nbalancer = \"c\"\ntarget_path = \"/root\"\n\
[[mount]]\npattern = \"/*.jsp\"\nbalancer = \"b\"\n\
[[mount]]\npattern = \"/status\"\nbalancer = \"a\"\n\
[[mount]]\npattern = \"/*.gif\"\nexclude = true\nbalancers = [\"b\", \"c\"]\n\
[[mount]]\nregex = '^/old/([^/]*)/(.*)$'\nbalancer = \"b\"\ntarget = \"/$2/$1$$\"\n\
[[mount]]\nregex = '\\.do$'\nbalancer = \"a\"\ntarget = \"x$0\"\n\
[[vhost]]\nserver_name = \"www.example.com\"\nserver_alias = [\"*.example.*\", \"h?st\"]\n\
[[vhost.mount]]\npath = \"/static\"\nexclude = true\n\
[[vhost.mount]]\npattern = \"/shop/*\"\nbalancer = \"a\"\n\
[[vhost]]\nserver_name = \"admin.test\"\nports = [8443]\ndefault = true\n\
[[vhost.mount]]\npath = \"/\"\nbalancer = \"b\"\ntarget_path = \"/admin/\"\n";

/// The fuzz target: see the module doc. Panics on a broken invariant.
pub fn mount(data: &[u8]) {
    let Ok(config) = parse_str(CONFIG, "<fuzz>") else {
        panic!("the fixed configuration is valid");
    };
    let router = Router::new(&config.balancers, &config.routes);
    let (host, target) = match data.iter().position(|&b| b == b'\n') {
        Some(at) => (Some(&data[..at]), &data[at + 1..]),
        None => (None, data),
    };
    let port = if data.first().is_some_and(|b| b & 1 == 1) {
        8443
    } else {
        80
    };
    let limit = 4 * data.len() + 1024;
    // The first search through a regex builds its per-thread match cache (kilobytes, once
    // per router and thread); what is bounded is a request after that.
    let first = router.locate(host, port, target);
    let result = bounded("mount", limit, || router.locate(host, port, target));
    assert_eq!(result, first, "the same answer twice");
    match result {
        Err((status, _)) => assert!(status == 400 || status == 404, "status {status}"),
        Ok(located) => {
            assert!(located.balancer < config.balancers.len(), "a real balancer");
            let mount = router.mount(located.mount).expect("a real mount");
            assert_eq!(mount.balancer, located.balancer, "the mount's balancer");
            let (prefix, rest) = member_target(mount, target, &located.origin);
            let sent = [prefix, rest].concat();
            assert!(
                sent.first() == Some(&b'/') || sent == b"*",
                "the member target starts with /: {sent:?}"
            );
        }
    }
}
