//! `ringlb import modjk` and `ringlb import modjk2` on the import corpus (and a few seed
//! excerpts of the mod_jk documents): each output against its golden files, and the facts
//! the corpus index says each file must import to.
#![allow(clippy::unwrap_used, clippy::expect_used)]

// The harness's items are `pub` for every test crate that includes it.
#[path = "import_support/corpus.rs"]
mod corpus;

use std::path::{Path, PathBuf};

use corpus::{balancer, balancer_names, seeds};
use ringlb::import::Source;
use toml::{Table, Value};

/// A file: from the corpus, or (`seeds/NAME`) from this repository's seed excerpts.
fn file(dir: &Path, name: &str) -> PathBuf {
    match name.strip_prefix("seeds/") {
        Some(seed) => seeds().join(seed),
        None => corpus::corpus_file(dir, name),
    }
}

/// `ringlb import modjk WORKERS [--uriworkermap U] [--httpd H]`, checked against
/// `golden/modjk/GOLDEN.{toml,report}`.
fn modjk(
    dir: &Path,
    golden: &str,
    workers: &str,
    uri: Option<&str>,
    httpd: Option<&str>,
) -> corpus::Printed {
    let source = Source::Modjk {
        workers: file(dir, workers),
        uriworkermap: uri.map(|u| file(dir, u)),
        httpd: httpd.map(|h| file(dir, h)),
    };
    let seeds = seeds();
    let printed = corpus::check(
        &format!("modjk/{golden}"),
        &source,
        &[(dir, ""), (&seeds, "seeds/")],
    );
    // Deterministic: the same files give the same bytes.
    let again = corpus::run(&source, &[(dir, ""), (&seeds, "seeds/")]);
    assert_eq!(again.toml, printed.toml);
    assert_eq!(again.report, printed.report);
    printed
}

fn modjk2(dir: &Path, golden: &str, name: &str) -> corpus::Printed {
    let source = Source::Modjk2 {
        file: file(dir, name),
    };
    let seeds = seeds();
    let strip = [(dir, ""), (seeds.as_path(), "seeds/")];
    let printed = corpus::check(&format!("modjk2/{golden}"), &source, &strip);
    assert_eq!(corpus::run(&source, &strip).toml, printed.toml);
    printed
}

fn parsed(p: &corpus::Printed) -> Table {
    assert!(p.ok, "refused: {}\n{}", p.toml, p.report);
    toml::from_str(&p.toml).expect("valid TOML")
}

fn members(b: &Table) -> Vec<&Table> {
    b["member"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_table().unwrap())
        .collect()
}

fn str_of<'a>(t: &'a Table, key: &str) -> Option<&'a str> {
    t.get(key).and_then(Value::as_str)
}

/// `(url, route)` of each member of balancer `name`.
fn urls(t: &Table, name: &str) -> Vec<(String, Option<String>)> {
    members(balancer(t, name))
        .iter()
        .map(|m| {
            (
                str_of(m, "url").unwrap().to_owned(),
                str_of(m, "route").map(str::to_owned),
            )
        })
        .collect()
}

/// The top-level mounts as `PATTERN -> BALANCER`, `PATTERN !BALANCERS` for exclusions
/// (`path:` in front of a path mount).
fn mounts(t: &Table) -> Vec<String> {
    mounts_of(t.get("mount"))
}

fn mounts_of(v: Option<&Value>) -> Vec<String> {
    let Some(list) = v.and_then(Value::as_array) else {
        return Vec::new();
    };
    list.iter()
        .map(|m| {
            let m = m.as_table().unwrap();
            let what = match (str_of(m, "pattern"), str_of(m, "path")) {
                (Some(p), _) => p.to_owned(),
                (None, Some(p)) => format!("path:{p}"),
                _ => panic!("mount without pattern or path: {m:?}"),
            };
            match (str_of(m, "balancer"), m.get("balancers")) {
                (Some(b), _) => format!("{what} -> {b}"),
                (None, Some(bs)) => format!("{what} !{bs}"),
                (None, None) => format!("{what} !*"),
            }
        })
        .collect()
}

fn owned(v: &[&str]) -> Vec<String> {
    v.iter().map(|s| s.to_string()).collect()
}

fn route(r: &str) -> Option<String> {
    Some(r.to_owned())
}

#[test]
fn tc_connectors_workers_and_uriworkermap() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "tc-connectors",
        "tc-connectors-workers.properties",
        Some("tc-connectors-uriworkermap.properties"),
        None,
    );
    let t = parsed(&p);
    // worker.template is a template, the status workers are [admin]: one balancer.
    assert_eq!(balancer_names(&t), ["balancer"]);
    let b = balancer(&t, "balancer");
    assert_eq!(str_of(b, "stickysession"), Some("JSESSIONID|jsessionid"));
    assert_eq!(
        urls(&t, "balancer"),
        [
            ("ajp://localhost:8109".to_owned(), route("node1")),
            ("ajp://localhost:8209".to_owned(), route("node2"))
        ]
    );
    for m in members(b) {
        assert_eq!(
            str_of(m, "ping"),
            Some("10s"),
            "ping_mode A, ping_timeout 10000"
        );
        assert!(m.get("activation").is_none(), "activation=A is the default");
    }
    assert_eq!(t["timeouts"]["upstream_response"].as_str(), Some("300s"));
    assert_eq!(t["timeouts"]["upstream_idle"].as_str(), Some("600s"));
    // jk-manager is read/write: the admin listener lets localhost change.
    assert!(t["admin"].get("allow").is_none());
    assert_eq!(
        mounts(&t),
        owned(&[
            "/admin/* -> balancer",
            "/manager/* -> balancer",
            "/examples/* -> balancer",
            "/examples/*.jpg ![\"balancer\"]",
        ])
    );
    assert!(p
        .report
        .contains("/jk-status=jk-status: worker jk-status is a status worker"));
}

#[test]
fn tc_connectors_workers_without_mounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "tc-connectors-no-mounts",
        "tc-connectors-workers.properties",
        None,
        None,
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["balancer"]);
    // Balancers, and nothing routed: one exclusion of every path keeps them unmounted.
    assert_eq!(mounts(&t), owned(&["/* !*"]));
    assert!(p.report.contains("no mounts given"));
    // jk-status is read-only, jk-manager read/write: the latter decides.
    assert!(t["admin"].get("allow").is_none());
}

#[test]
fn tc_connectors_legacy_workers() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "tc-connectors-legacy",
        "tc-connectors-legacy-workers.properties",
        None,
        None,
    );
    let t = parsed(&p);
    // ajp12 is exported but unsupported; the lb is not exported; jni is unsupported.
    assert_eq!(balancer_names(&t), ["ajp13"]);
    assert_eq!(
        urls(&t, "ajp13"),
        [("ajp://localhost:8009".to_owned(), None)]
    );
    assert!(p.report.contains("type ajp12 is not supported"));
    assert!(p.report.contains(
        "class_path=/var/tomcat3/lib/tomcat.jar: worker inprocess is not in worker.list"
    ));
    assert!(p
        .report
        .contains("worker.loadbalancer.type=lb: worker loadbalancer is not in worker.list"));
}

#[test]
fn wlod_template_workers_with_jkmounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "wlod",
        "wlod-template-workers.properties",
        None,
        Some("wlod-jkmount-vhost.conf"),
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["app-worker-balancer"]);
    let b = balancer(&t, "app-worker-balancer");
    assert_eq!(
        urls(&t, "app-worker-balancer"),
        [
            ("ajp://localhost:8019".to_owned(), route("app-worker2")),
            ("ajp://localhost:8009".to_owned(), route("app-worker1"))
        ]
    );
    assert_eq!(
        b["failonstatus"],
        Value::Array(vec![Value::from(500), Value::from(503)])
    );
    assert_eq!(str_of(b, "stickysession"), Some("JSESSIONID|jsessionid"));
    for m in members(b) {
        assert_eq!(str_of(m, "ping"), Some("2s"));
        assert_eq!(m["loadfactor"].as_integer(), Some(1));
    }
    assert!(p
        .report
        .contains("recover_time=1 (inherited by app-worker2): an lb attribute"));
    assert_eq!(mounts(&t), owned(&["/api/* -> app-worker-balancer"]));
    assert!(t.contains_key("admin"), "JkMount /jkmanager/* jkstatus");
    assert!(p.report.contains("ignored: Header: not a mod_jk mount"));
}

#[test]
fn httpd24jk_sessions_method_and_exclusions() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "httpd24jk",
        "httpd24jk-workers.properties",
        Some("httpd24jk-uriworkermap.properties"),
        None,
    );
    let t = parsed(&p);
    let b = balancer(&t, "loadbalancer");
    assert_eq!(str_of(b, "lbmethod"), Some("byrequests"));
    assert!(p.report.contains("method=Session: byrequests"));
    assert_eq!(str_of(b, "stickysession"), Some("JSESSIONID|jsessionid"));
    let m = members(b)[0];
    assert_eq!(str_of(m, "url"), Some("ajp://www-was.s-card.svc:8009"));
    assert_eq!(
        m["loadfactor"].as_integer(),
        Some(1),
        "`lbfactor=1 ` trimmed"
    );
    assert_eq!(
        mounts(&t),
        owned(&[
            "/* -> loadbalancer",
            "/images/* ![\"loadbalancer\"]",
            "/jkstatus/* ![\"loadbalancer\"]",
        ])
    );
    assert!(t.contains_key("admin"));
}

#[test]
fn cws_router_with_its_jkmountfile() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "cws",
        "cws-modjk-workers.properties",
        Some("cws-modjk-uri.properties"),
        None,
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["router"]);
    assert_eq!(
        urls(&t, "router"),
        [
            ("ajp://node1.domain.org:8009".to_owned(), route("worker1")),
            ("ajp://node2.domain.org:8009".to_owned(), route("worker2"))
        ]
    );
    assert_eq!(mounts(&t), owned(&["/* -> router"]));
    assert!(p
        .report
        .contains("balanced_workers=worker1,worker2: the members (deprecated"));
}

#[test]
fn coc23_indented_single_worker() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "coc23",
        "coc23-indented-workers.properties",
        None,
        None,
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["worker1"]);
    assert_eq!(
        urls(&t, "worker1"),
        [("ajp://192.168.1.124:8009".to_owned(), None)]
    );
}

#[test]
fn wyona_minimal_lb_with_its_jkmounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "wyona",
        "wyona-workers.properties",
        None,
        Some("wyona-jk-and-ajp-balancer-vhosts.conf"),
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["wlb"]);
    assert_eq!(
        urls(&t, "wlb"),
        [
            ("ajp://127.0.0.1:9019".to_owned(), route("ajp13w1")),
            ("ajp://127.0.0.1:9029".to_owned(), route("ajp13w2"))
        ]
    );
    assert_eq!(mounts(&t), owned(&["/* -> wlb"]));
    assert!(t.contains_key("admin"), "JkMount /status.html jkstatus");
    assert!(p.report.contains("ProxyPass: not a mod_jk mount"));
}

#[test]
fn cf_iis_non_sticky_lb_and_many_patterns() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "cf-iis",
        "cf-iis-lb-workers.properties",
        Some("cf-iis-uriworkermap.properties"),
        None,
    );
    let t = parsed(&p);
    let b = balancer(&t, "cfusion_balancer");
    assert!(b.get("stickysession").is_none(), "sticky_session=false");
    assert_eq!(
        urls(&t, "cfusion_balancer"),
        [
            ("ajp://127.0.0.1:8021".to_owned(), route("cfusiontest")),
            ("ajp://127.0.0.1:8014".to_owned(), route("cfusiontest1"))
        ]
    );
    for m in members(b) {
        assert_eq!(m["max"].as_integer(), Some(500));
    }
    assert_eq!(t["timeouts"]["upstream_idle"].as_str(), Some("60s"));
    let m = mounts(&t);
    assert_eq!(m.len(), 42);
    assert_eq!(m.iter().filter(|m| m.contains('!')).count(), 1);
    assert!(
        m.contains(&"/*.CFM -> cfusion_balancer".to_owned()),
        "case variants kept"
    );
    assert_eq!(m[41], "/CFIDE/* ![\"cfusion_balancer\"]");
    assert!(p
        .report
        .contains("max_reuse_connections=250: `max_reuse_connections` is not a mod_jk"));
    assert!(p
        .report
        .contains("/private/admin/0987654321/jk=status: worker status is a status"));
}

#[test]
fn ideaesb_untyped_worker_with_jkmounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "ideaesb",
        "ideaesb-untyped-lb-workers.properties",
        None,
        Some("ideaesb-jkmounts.conf"),
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["worker1"]);
    assert_eq!(
        urls(&t, "worker1"),
        [("ajp://localhost:8009".to_owned(), None)]
    );
    let m = mounts(&t);
    assert_eq!(m.len(), 18);
    assert_eq!(m[0], "/asmts -> worker1");
    assert_eq!(m[1], "/asmts/* -> worker1");
    assert!(p
        .report
        .contains("without type=lb it is an ajp13 worker (mod_jk's default type)"));
}

#[test]
fn eastuni_many_workers_with_vhost_jkmounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "eastuni",
        "eastuni-many-workers.properties",
        None,
        Some("eastuni-jkmount-vhosts.conf"),
    );
    let t = parsed(&p);
    assert_eq!(
        balancer_names(&t),
        ["edu_online_worker", "edu_admin_worker", "edu_pf_worker"]
    );
    assert_eq!(urls(&t, "edu_pf_worker")[0].0, "ajp://localhost:8949");
    assert_eq!(urls(&t, "edu_admin_worker")[0].0, "ajp://localhost:8939");
    // Every vhost's JkMounts in one scope: a pattern routes to its first worker only.
    assert!(p
        .report
        .contains("/serviceEndpoint/* is already routed to edu_online_worker"));
    assert!(p
        .report
        .contains("worker kbanktest_cbp_worker is not in worker.list"));
}

#[test]
fn jk_doc_two_stage_references() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "jk-doc-two-stage",
        "jk-doc-two-stage-reference-domain-distance.properties",
        None,
        None,
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["lb"], "basic, lb1, lb2 are templates");
    let b = balancer(&t, "lb");
    assert_eq!(str_of(b, "lbmethod"), Some("bybusyness"));
    let got: Vec<(String, String, i64)> = members(b)
        .iter()
        .map(|m| {
            (
                str_of(m, "url").unwrap().to_owned(),
                str_of(m, "domain").unwrap().to_owned(),
                m["lbset"].as_integer().unwrap(),
            )
        })
        .collect();
    let want = [
        ("ajp://myhost11:8009", "dom1", 0),
        ("ajp://myhost12:8009", "dom1", 0),
        ("ajp://myhost21:8009", "dom2", 1),
        ("ajp://myhost22:8009", "dom2", 1),
    ];
    let want: Vec<(String, String, i64)> = want
        .iter()
        .map(|(u, d, l)| (u.to_string(), d.to_string(), *l))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn jk_doc_router_redirect_and_disabled_hot_spare() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "jk-doc-router",
        "jk-doc-router-redirect-activation.properties",
        Some("seeds/modjk-router-uriworkermap.properties"),
        None,
    );
    let t = parsed(&p);
    let ms = members(balancer(&t, "router"));
    assert_eq!(str_of(ms[0], "redirect"), Some("worker2"));
    assert!(ms[0].get("activation").is_none());
    assert_eq!(str_of(ms[1], "activation"), Some("disabled"));
    assert_eq!(mounts(&t), owned(&["/app -> router", "/app/* -> router"]));
}

#[test]
fn seed_router_howto_matches_the_corpus_extract() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "seed-router",
        "seeds/modjk-router-redirect-activation.properties",
        Some("seeds/modjk-router-uriworkermap.properties"),
        None,
    );
    let corpus = parsed(&modjk(
        &dir,
        "jk-doc-router",
        "jk-doc-router-redirect-activation.properties",
        Some("seeds/modjk-router-uriworkermap.properties"),
        None,
    ));
    assert_eq!(parsed(&p), corpus);
}

#[test]
fn jk_doc_disabled_and_excluded_mounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "jk-doc-uriworkermap",
        "seeds/modjk-ajp13w.properties",
        Some("jk-doc-uriworkermap-disabled-and-excluded.properties"),
        None,
    );
    let t = parsed(&p);
    assert_eq!(
        mounts(&t),
        owned(&["/examples/* -> ajp13w", "/*.gif ![\"ajp13w\"]"])
    );
    assert!(p.report.contains("-/examples/jsp/*=ajp13w: disabled (`-`)"));
}

#[test]
fn jk_doc_jkunmount_needs_its_worker() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "jk-doc-jkunmount",
        "seeds/modjk-worker1.properties",
        None,
        Some("jk-doc-jkunmount.conf"),
    );
    let t = parsed(&p);
    assert_eq!(
        mounts(&t),
        owned(&["/servlet/* -> worker1", "/servlet/*.gif ![\"worker1\"]"])
    );
    // Without a worker1 in the workers file mod_jk declines these requests: no mount, and
    // the exported worker is imported unrouted.
    let p = modjk(
        &dir,
        "jk-doc-jkunmount-undefined",
        "seeds/modjk-ajp13w.properties",
        None,
        Some("jk-doc-jkunmount.conf"),
    );
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["ajp13w"]);
    assert_eq!(mounts(&t), owned(&["/* !*"]));
    assert!(p
        .report
        .contains("/servlet/*=worker1: worker worker1 is not defined"));
    assert!(p.report.contains("no mount reaches an lb or ajp13 worker"));
}

#[test]
fn jk2_tc_connectors_workers2() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk2(&dir, "tc-connectors", "tc-connectors-workers2.properties");
    let t = parsed(&p);
    // lb_1 gets no member: the group:lb:lb_1 line has no `=`.
    assert_eq!(balancer_names(&t), ["lb"]);
    assert_eq!(
        urls(&t, "lb"),
        [
            ("ajp://localhost:8009".to_owned(), route("localhost:8009")),
            ("ajp://localhost:8019".to_owned(), route("localhost:8019"))
        ]
    );
    assert_eq!(
        mounts(&t),
        owned(&[
            "path:/examples -> lb",
            "/examples/servlet/* -> lb",
            "/examples/*.jsp -> lb",
            "/examples/* -> lb",
            "/examples/servlet/HelloW -> lb",
        ])
    );
    assert!(t.contains_key("admin"));
    assert!(p.report.contains("group:lb:lb_1: no `=`"));
    assert!(p
        .report
        .contains("[channel.un:/opt/33/work/jk2.socket]: a unix socket"));
    assert!(p
        .report
        .contains("[uri:/examples1/*]: group lb_1 has no enabled worker"));
}

#[test]
fn jk2_storefront_worker_mounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk2(&dir, "storefront", "storefront-jk2-workers2.properties");
    let t = parsed(&p);
    assert_eq!(balancer_names(&t), ["ajp13_localhost_8009"]);
    assert_eq!(
        urls(&t, "ajp13_localhost_8009"),
        [("ajp://localhost:8009".to_owned(), None)]
    );
    assert_eq!(
        mounts(&t),
        owned(&[
            "/examples/* -> ajp13_localhost_8009",
            "/*.jsp -> ajp13_localhost_8009"
        ])
    );
    assert!(t.contains_key("admin"));
}

#[test]
fn jk2_seed_ha_cluster() {
    let dir = seeds();
    let p = modjk2(
        &dir,
        "seed-ha-cluster",
        "seeds/modjk2-ha-cluster-workers2.properties",
    );
    let t = parsed(&p);
    assert_eq!(
        urls(&t, "lb"),
        [
            ("ajp://server1:8009".to_owned(), route("server1")),
            ("ajp://server2:8009".to_owned(), route("server2"))
        ]
    );
    assert_eq!(
        str_of(balancer(&t, "lb"), "stickysession"),
        Some("JSESSIONID|jsessionid")
    );
    assert_eq!(mounts(&t), owned(&["/servlets-examples/* -> lb"]));
}

#[test]
fn eastuni_many_workers_alone() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "eastuni-no-mounts",
        "eastuni-many-workers.properties",
        None,
        None,
    );
    let t = parsed(&p);
    let names = balancer_names(&t);
    // 55 ajp13 workers and the lb, every one exported; kbanktest_* are not.
    assert_eq!(names.len(), 56);
    assert!(!names.iter().any(|n| n.starts_with("kbanktest")));
    for (name, port) in [
        ("edu_online_worker", 8909),
        ("edu_ccm_worker", 8919),
        ("edu_admin_worker", 8939),
        ("edu_pf_worker", 8949),
        ("edu_pfdist_worker", 8959),
    ] {
        assert_eq!(urls(&t, name), [(format!("ajp://localhost:{port}"), None)]);
    }
    assert_eq!(
        urls(&t, "loadbalancer"),
        [
            (
                "ajp://localhost:8009".to_owned(),
                route("dev_online_worker1")
            ),
            (
                "ajp://localhost:8009".to_owned(),
                route("dev_online_worker2")
            )
        ]
    );
    assert_eq!(mounts(&t), owned(&["/* !*"]));
}

#[test]
fn tc_connectors_location_jkmounts() {
    let Some(dir) = corpus::corpus_dir() else {
        return;
    };
    let p = modjk(
        &dir,
        "tc-connectors-httpd-jk",
        "tc-connectors-workers.properties",
        None,
        Some("tc-connectors-httpd-jk.conf"),
    );
    let t = parsed(&p);
    // The one-argument JkMounts take their <Location>'s path; both name status workers.
    assert!(p
        .report
        .contains("httpd-jk.conf:79: ignored: /jk-status=jk-status: worker jk-status is a status"));
    assert!(p
        .report
        .contains("httpd-jk.conf:84: ignored: /jk-manager=jk-manager"));
    // The commented JkMount / JkUnMount lines give nothing.
    assert!(!p.report.contains("/myapp"));
    // No mount reaches the lb: it is imported unrouted, each line reported once.
    assert_eq!(balancer_names(&t), ["balancer"]);
    assert_eq!(mounts(&t), owned(&["/* !*"]));
    assert_eq!(p.report.matches("worker.jk-status.type=status").count(), 1);
}
