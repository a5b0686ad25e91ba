//! `diff`: one test per kind of change, the printed lines, and "no changes".

use crate::config::*;

const BASE: &str = r#"workers = 2
listen = ["127.0.0.1:8080"]

[[balancer]]
name = "app"
mount = "/app"
stickysession = "JSESSIONID|jsessionid"

[[balancer.member]]
url = "http://127.0.0.1:9001"
route = "n1"

[[balancer.member]]
url = "http://127.0.0.1:9002"
route = "n2"

[[balancer]]
name = "static"
mount = "/static"

[[balancer.member]]
url = "http://127.0.0.1:9101"
route = "s1"
"#;

fn cfg(text: &str) -> Config {
    parse_str(text, "d.toml").unwrap_or_else(|e| panic!("{e}\n{text}"))
}

/// The changes from BASE to BASE with `from` replaced by `to`, printed one per line.
fn changes(from: &str, to: &str) -> Vec<String> {
    assert!(BASE.contains(from), "{from:?} not in BASE");
    let new = BASE.replacen(from, to, 1);
    diff(&cfg(BASE), &cfg(&new))
        .iter()
        .map(ToString::to_string)
        .collect()
}

#[test]
fn no_changes() {
    let base = cfg(BASE);
    assert_eq!(diff(&base, &base), vec![]);
    // Another source, the printed form, explicit defaults and a trailing `/` change nothing.
    let printed = parse_str(&base.to_string(), "<running config at http://x>").unwrap();
    assert_eq!(diff(&base, &printed), vec![]);
    let explicit = BASE
        .replace("workers = 2\n", "workers = 2\nshutdown_grace = 10\n")
        .replace(
            "listen = [\"127.0.0.1:8080\"]\n",
            "listen = [\"127.0.0.1:8080\"]\n[log]\nlevel = \"info\"\n",
        )
        .replace("\"http://127.0.0.1:9001\"", "\"http://127.0.0.1:9001/\"");
    assert_eq!(diff(&base, &cfg(&explicit)), vec![]);
}

#[test]
fn top_level_changes_and_restarts() {
    let text = BASE
        .replace(
            "workers = 2\n",
            "workers = \"auto\"\nio_driver = \"epoll\"\n",
        )
        .replace(
            "\"127.0.0.1:8080\"]",
            "\"127.0.0.1:8080\", \"[::1]:8080\"]\n\
            [timeouts]\nconnect = \"1500ms\"\n[limits]\nmax_body_bytes = 0\n\
            [headers]\npreserve_host = true\n[stats]\nmerge_interval = \"10ms\"\n",
        );
    let got = diff(&cfg(BASE), &cfg(&text));
    let lines: Vec<String> = got.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "~ workers: 2 -> auto (needs a restart; a reload refuses it)",
            "~ io_driver: auto -> epoll (needs a restart; a reload refuses it)",
            "~ listen: [127.0.0.1:8080] -> [127.0.0.1:8080, [::1]:8080] (needs a restart; a reload refuses it)",
            "~ timeouts.connect: 5s -> 1500ms",
            "~ stats.merge_interval: 5ms -> 10ms",
            "~ limits.max_body_bytes: 1073741824 -> 0",
            "~ headers.preserve_host: false -> true",
        ]
    );
    let restarts: Vec<bool> = got.iter().map(Change::needs_restart).collect();
    assert_eq!(restarts, [true, true, true, false, false, false, false]);
    assert_eq!(
        got[3],
        Change::Setting {
            key: "timeouts.connect".into(),
            old: "5s".into(),
            new: "1500ms".into(),
            restart: false,
        }
    );
}

#[test]
fn operations_changes() {
    let on = "shutdown_grace = 30\n[admin]\n[log]\naccess = \"stdout\"\nlevel = \"debug\"\n";
    assert_eq!(
        changes(
            "listen = [\"127.0.0.1:8080\"]\n",
            &format!("listen = [\"127.0.0.1:8080\"]\n{on}")
        ),
        [
            "~ shutdown_grace: 10s -> 30s",
            "~ admin: off -> on (listen 127.0.0.1:8081) (needs a restart; a reload refuses it)",
            "~ log.access: \"off\" -> \"stdout\"",
            "~ log.level: info -> debug",
        ]
    );
    let old = cfg(&BASE.replacen(
        "listen = [\"127.0.0.1:8080\"]\n",
        "listen = [\"127.0.0.1:8080\"]\n[admin]\n",
        1,
    ));
    let new = cfg(&BASE.replacen(
        "listen = [\"127.0.0.1:8080\"]\n",
        "listen = [\"127.0.0.1:8080\"]\n[admin]\nlisten = \"127.0.0.1:9\"\nallow = []\nhtpasswd = \"/h\"\n\
         server_names = [\"a.example\"]\n[log]\naccess_format = \"common\"\n",
        1,
    ));
    let lines: Vec<String> = diff(&old, &new).iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "~ admin.listen: 127.0.0.1:8081 -> 127.0.0.1:9 (needs a restart; a reload refuses it)",
            "~ admin.allow: [\"127.0.0.1/32\", \"::1/128\"] -> []",
            "~ admin.htpasswd: none -> \"/h\"",
            "~ admin.server_names: [] -> [\"a.example\"]",
            "~ log.access_format: \"combined\" -> \"common\"",
        ]
    );
}

#[test]
fn balancer_added_and_removed() {
    let added = format!(
        "{BASE}[[balancer]]\nname = \"new\"\nmount = \"/new\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:9201\"\n\
         [[balancer.member]]\nurl = \"http://127.0.0.1:9202\"\n"
    );
    let lines: Vec<String> = diff(&cfg(BASE), &cfg(&added))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        ["+ balancer \"new\": added (mount \"/new\", 2 members)"]
    );

    // Removing a balancer does not orphan its routes: nothing serves its mount any more.
    let (head, _) = BASE.split_once("[[balancer]]\nname = \"static\"").unwrap();
    let lines: Vec<String> = diff(&cfg(BASE), &cfg(head))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(lines, ["- balancer \"static\": removed"]);
}

#[test]
fn member_added_and_removed_orphans_its_route() {
    let added = BASE.replacen(
        "route = \"n2\"\n",
        "route = \"n2\"\n\n[[balancer.member]]\nurl = \"http://127.0.0.1:9003\"\nroute = \"n3\"\n",
        1,
    );
    let lines: Vec<String> = diff(&cfg(BASE), &cfg(&added))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        ["+ balancer \"app\" member http://127.0.0.1:9003: added (route \"n3\")"]
    );

    let removed = BASE.replacen(
        "\n[[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\nroute = \"n2\"\n",
        "",
        1,
    );
    let got = diff(&cfg(BASE), &cfg(&removed));
    assert_eq!(
        got,
        vec![
            Change::MemberRemoved {
                balancer: "app".into(),
                url: "http://127.0.0.1:9002".into(),
                route: "n2".into(),
            },
            Change::OrphanedRoute {
                balancer: "app".into(),
                route: "n2".into(),
            },
        ]
    );
    assert_eq!(
        got[0].to_string(),
        "- balancer \"app\" member http://127.0.0.1:9002: removed (route \"n2\")"
    );
    assert_eq!(
        got[1].to_string(),
        "! balancer \"app\": route \"n2\" is ORPHANED: no member has it any more; sessions \
         pinned to it will be re-balanced"
    );
}

#[test]
fn route_change_orphans_the_old_route() {
    assert_eq!(
        changes("route = \"n2\"", "route = \"n9\""),
        [
            "~ balancer \"app\" member http://127.0.0.1:9002: route: \"n2\" -> \"n9\"",
            "! balancer \"app\": route \"n2\" is ORPHANED: no member has it any more; sessions \
             pinned to it will be re-balanced",
        ]
    );
}

#[test]
fn a_route_that_becomes_a_domain_name_is_not_orphaned() {
    // Sessions routed to n2 now go to the best member of domain "n2" (n1).
    assert_eq!(
        changes("route = \"n2\"", "domain = \"n2\"\nroute = \"n9\""),
        [
            "~ balancer \"app\" member http://127.0.0.1:9002: route: \"n2\" -> \"n9\"",
            "~ balancer \"app\" member http://127.0.0.1:9002: domain: \"\" -> \"n2\"",
        ]
    );
}

#[test]
fn route_kept_by_another_member_is_not_orphaned() {
    // n2 moves from :9002 to a new member :9003.
    let moved = BASE.replacen(
        "url = \"http://127.0.0.1:9002\"",
        "url = \"http://127.0.0.1:9003\"",
        1,
    );
    let lines: Vec<String> = diff(&cfg(BASE), &cfg(&moved))
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        lines,
        [
            "- balancer \"app\" member http://127.0.0.1:9002: removed (route \"n2\")",
            "+ balancer \"app\" member http://127.0.0.1:9003: added (route \"n2\")",
        ]
    );
}

#[test]
fn routes_of_a_balancer_without_sessions_are_not_orphaned() {
    // "static" has no stickysession and no insert_cookie: no session is pinned to s1.
    assert_eq!(
        changes("route = \"s1\"", "route = \"s2\""),
        ["~ balancer \"static\" member http://127.0.0.1:9101: route: \"s1\" -> \"s2\""]
    );
}

#[test]
fn member_settings_changed() {
    let to = "route = \"n1\"\nloadfactor = 2.5\nlbset = 1\nstatus = \"+H\"\nredirect = \"n2\"\n\
              domain = \"east\"\nretry = \"5s\"\nslowstart = 30\n[balancer.member.health]\nmethod = \"GET\"\n\
              uri = \"/health\"\n";
    let m = "~ balancer \"app\" member http://127.0.0.1:9001";
    assert_eq!(
        changes("route = \"n1\"\n", to),
        [
            format!("{m}: loadfactor: 1.0 -> 2.5"),
            format!("{m}: lbset: 0 -> 1"),
            format!("{m}: status: \"\" -> \"+H\""),
            format!("{m}: redirect: \"\" -> \"n2\""),
            format!("{m}: domain: \"\" -> \"east\""),
            format!("{m}: retry: 60s -> 5s"),
            format!("{m}: slowstart: 0s -> 30s"),
            format!(
                "{m}: health: none -> GET \"/health\" every 30s, passes 1, fails 1, status 200-399"
            ),
        ]
    );
}

#[test]
fn balancer_settings_changed() {
    let to = "mount = \"/shop\"\nlbmethod = \"bybusyness\"\nstickysession = \"SID\"\n\
              nofailover = true\nmaxattempts = 1\nforcerecovery = false\n\
              failonstatus = [500, 503]\nfailontimeout = true\nbalancer_headers = true\n\
              [balancer.insert_cookie]\nname = \"ROUTEID\"\nsecure = true\n";
    let b = "~ balancer \"app\"";
    assert_eq!(
        changes(
            "mount = \"/app\"\nstickysession = \"JSESSIONID|jsessionid\"\n",
            to
        ),
        [
            format!("{b}: mount: \"/app\" -> \"/shop\""),
            format!("{b}: target_path: \"/app\" -> \"/shop\""),
            format!("{b}: lbmethod: byrequests -> bybusyness"),
            format!("{b}: stickysession: \"JSESSIONID|jsessionid\" -> \"SID|SID\""),
            format!("{b}: nofailover: false -> true"),
            format!("{b}: balancer_headers: false -> true"),
            format!("{b}: insert_cookie: none -> ROUTEID; Path=/; HttpOnly; Secure"),
            format!("{b}: maxattempts: members - 1 -> 1"),
            format!("{b}: forcerecovery: true -> false"),
            format!("{b}: failonstatus: [] -> [500, 503]"),
            format!("{b}: failontimeout: false -> true"),
        ]
    );
    assert_eq!(
        changes("stickysession = \"JSESSIONID|jsessionid\"\n", ""),
        [
            format!("{b}: stickysession: \"JSESSIONID|jsessionid\" -> none"),
            format!("{b}: stickysessionsep: \".\" -> none"),
            format!("{b}: scolonpathdelim: true -> none"),
        ]
    );
}
