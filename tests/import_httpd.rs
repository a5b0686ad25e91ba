//! `ringlb import httpd` on the import corpus and on seed excerpts (`tests/import/seeds/`: the
//! examples of the articles ringlb was specified from, kept in the repository): each
//! output against its golden files, and what the corpus index says each file must import to,
//! checked on the configuration ringlb reads back: balancers, members and where requests go.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "import_support/corpus.rs"]
mod corpus;

use std::path::Path;

use corpus::{balancer, balancer_names, seeds};
use ringlb::config::Config;
use ringlb::http::mount::{member_target, Router};
use ringlb::import::Source;
use toml::{Table, Value};

/// Imports `file` with server root `root`, checks `golden/httpd/GOLDEN.{toml,report}` and
/// that a second import gives the same bytes.
fn httpd(dir: &Path, golden: &str, file: &Path, root: &Path) -> corpus::Printed {
    let source = Source::Httpd {
        file: file.to_path_buf(),
        defines: Vec::new(),
        server_root: Some(root.to_path_buf()),
    };
    let seeds = seeds();
    let strip = [
        (seeds.as_path(), "seeds/"),
        (dir, "import-corpus/"),
        (root, "<root>/"),
    ];
    let printed = corpus::check(&format!("httpd/{golden}"), &source, &strip);
    let again = corpus::run(&source, &strip);
    assert_eq!(again.toml, printed.toml, "deterministic TOML");
    assert_eq!(again.report, printed.report, "deterministic report");
    printed
}

/// A corpus file imported with an empty scratch server root (`files`: corpus files placed
/// under it by name).
fn corpus_import(dir: &Path, name: &str, files: &[(&str, &str)]) -> corpus::Printed {
    let root = corpus::scratch_dir(name);
    for (from, to) in files {
        corpus::place(dir, from, &root, to);
    }
    let file = corpus::corpus_file(dir, &format!("{name}.conf"));
    let printed = httpd(dir, name, &file, &root);
    let _ = std::fs::remove_dir_all(&root);
    printed
}

/// A copy of corpus file `name` with `edits` (from, to) applied, imported from a scratch root
/// (`files` placed there too); the golden files are `GOLDEN`.
fn edited_import(
    dir: &Path,
    name: &str,
    golden: &str,
    edits: &[(&str, &str)],
    files: &[(&str, &str)],
) -> corpus::Printed {
    let root = corpus::scratch_dir(golden);
    for (from, to) in files {
        corpus::place(dir, from, &root, to);
    }
    let text = std::fs::read_to_string(corpus::corpus_file(dir, name)).unwrap();
    let text = edits
        .iter()
        .fold(text, |text, (from, to)| text.replace(from, to));
    let file = root.join("edited.conf");
    std::fs::write(&file, text).unwrap();
    let printed = httpd(dir, golden, &file, &root);
    let _ = std::fs::remove_dir_all(&root);
    printed
}

fn table(p: &corpus::Printed) -> Table {
    assert!(p.ok, "refused: {}\n{}", p.toml, p.report);
    toml::from_str(&p.toml).expect("valid TOML")
}

/// The configuration ringlb reads from the output (as `ringlb check` does).
fn config(p: &corpus::Printed) -> Config {
    assert!(p.ok, "refused: {}\n{}", p.toml, p.report);
    ringlb::config::parse_str(&p.toml, "<imported>").expect("validates")
}

/// `(url, key, value)` of a member, `None` when the key is absent.
fn member_key<'a>(b: &'a Table, url: &str, key: &str) -> Option<&'a Value> {
    b["member"]
        .as_array()
        .and_then(|ms| ms.iter().find(|m| m["url"].as_str() == Some(url)))
        .unwrap_or_else(|| panic!("no member {url}"))
        .get(key)
}

fn urls(b: &Table) -> Vec<&str> {
    b["member"]
        .as_array()
        .map(|ms| ms.iter().filter_map(|m| m["url"].as_str()).collect())
        .unwrap_or_default()
}

/// Where ringlb sends `path` asked of `host` on `port`: the balancer's name and what the
/// member gets; `None` for a 404.
fn route(cfg: &Config, host: &str, port: u16, path: &str) -> Option<(String, String)> {
    let router = Router::new(&cfg.balancers, &cfg.routes);
    let located = router
        .locate(Some(host.as_bytes()), port, path.as_bytes())
        .ok()?;
    let mount = router.mount(located.mount).expect("mount");
    let (prefix, rest) = member_target(mount, path.as_bytes(), &located.origin);
    let sent = String::from_utf8([prefix, rest].concat()).expect("utf-8");
    Some((cfg.balancers[located.balancer].name.clone(), sent))
}

/// A routing table: each (host, port, path) against (balancer, member path), or `None` for
/// what httpd does not proxy.
type Row<'a> = (&'a str, u16, &'a str, Option<(&'a str, &'a str)>);

fn routes(cfg: &Config, rows: &[Row<'_>]) {
    for (host, port, path, want) in rows {
        let got = route(cfg, host, *port, path);
        let want = want.map(|(b, p)| (b.to_owned(), p.to_owned()));
        assert_eq!(got, want, "{host}:{port}{path}");
    }
}

macro_rules! corpus_or_skip {
    () => {
        match corpus::corpus_dir() {
            Some(dir) => dir,
            None => return,
        }
    };
}

const TC_JK: &[(&str, &str)] = &[
    (
        "tc-connectors-workers.properties",
        "conf/workers.properties",
    ),
    (
        "tc-connectors-uriworkermap.properties",
        "conf/extra/uriworkermap.properties",
    ),
];

#[test]
fn tc_connectors_httpd_jk_mounts_only_status_workers() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "tc-connectors-httpd-jk", TC_JK);
    // Its only mounts are the two status workers (ringlb's [admin]): no balancer to print.
    assert!(!p.ok);
    assert!(p.toml.contains("[admin]"), "{}", p.toml);
    assert!(p.report.contains("/jk-status=jk-status"), "{}", p.report);
    assert!(p.report.contains("/jk-manager=jk-manager"), "{}", p.report);
    // The commented JkMount/JkUnMount/JkMountCopy lines are not directives.
    for absent in ["/myapp", "JkUnMount", "JkMountCopy"] {
        assert!(!p.report.contains(absent), "{absent} in\n{}", p.report);
    }
}

#[test]
fn wlod_jkmount_vhost() {
    let dir = corpus_or_skip!();
    let files = [(
        "wlod-template-workers.properties",
        "conf/workers.properties",
    )];
    let p = corpus_import(&dir, "wlod-jkmount-vhost", &files);
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["app-worker-balancer"]);
    let b = balancer(&t, "app-worker-balancer");
    assert_eq!(urls(b), ["ajp://localhost:8019", "ajp://localhost:8009"]);
    assert!(t.contains_key("admin"), "jkstatus is the admin listener");
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            (
                "localhost",
                1234,
                "/api/x",
                Some(("app-worker-balancer", "/api/x")),
            ),
            ("localhost", 1234, "/jkmanager/x", None),
            ("localhost", 80, "/api/x", None),
        ],
    );
}

#[test]
fn cws_httpd_proxy_balancer() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "cws-httpd-proxy-balancer", &[]);
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["examplecluster"]);
    let b = balancer(&t, "examplecluster");
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID"));
    assert_eq!(b["nofailover"].as_bool(), Some(false));
    assert_eq!(b["lbmethod"].as_str(), Some("byrequests"));
    assert_eq!(b["proxypassreverse"].as_bool(), Some(false));
    let m1 = "ajp://127.0.0.1:8009";
    assert_eq!(member_key(b, m1, "route").unwrap().as_str(), Some("test1"));
    assert_eq!(
        member_key(b, m1, "redirect").unwrap().as_str(),
        Some("test3")
    );
    assert_eq!(member_key(b, m1, "retry").unwrap().as_integer(), Some(300));
    assert_eq!(t["timeouts"]["upstream_response"].as_integer(), Some(15));
    assert!(p
        .report
        .contains("ProxyPassMatch ^(/.*)$ balancer://examplecluster$1: never"));
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            ("x", 80, "/", Some(("examplecluster", "/"))),
            ("x", 80, "/app/a?b", Some(("examplecluster", "/app/a?b"))),
            ("x", 80, "/balancer-manager", None),
            ("x", 80, "/server-status", None),
        ],
    );
}

#[test]
fn ox_appsuite_proxy_http() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "ox-appsuite-proxy_http", &[]);
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["oxcluster", "eas_oxcluster"]);
    for name in ["oxcluster", "eas_oxcluster"] {
        let b = balancer(&t, name);
        assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID|jsessionid"));
        assert_eq!(b["scolonpathdelim"].as_bool(), Some(true));
        let m = "http://ox-backend:8009";
        assert_eq!(
            member_key(b, m, "loadfactor").unwrap().as_integer(),
            Some(50)
        );
        assert_eq!(member_key(b, m, "route").unwrap().as_str(), Some("APP1"));
    }
    // ttl=60 holds: the pool bound is raised to it.
    assert_eq!(t["timeouts"]["upstream_idle"].as_integer(), Some(60));
    let cfg = config(&p);
    let mut rows = Vec::new();
    for app in [
        "/ajax",
        "/drive",
        "/infostore",
        "/publications",
        "/realtime",
        "/servlet",
        "/webservices",
    ] {
        rows.push(("ox", 80, app, Some(("oxcluster", app))));
    }
    rows.push(("ox", 80, "/appsuite/api", Some(("oxcluster", "/ajax"))));
    rows.push(("ox", 80, "/usm-json", Some(("eas_oxcluster", "/usm-json"))));
    rows.push(("ox", 80, "/other", None));
    routes(&cfg, &rows);
    assert_eq!(
        route(&cfg, "ox", 80, "/appsuite/api/login?x=1"),
        Some(("oxcluster".into(), "/ajax/login?x=1".into()))
    );
}

const TEMPLATE_VALUES: &[(&str, &str)] = &[
    ("@SERVERNAME@", "localhost"),
    ("@SERVERROOT@", "/srv/httpd-tests"),
    ("@PORT@", "8529"),
    ("@PROXY_HTTP_BAL1_PORT@", "8531"),
    ("@PROXY_HTTP_BAL2_PORT@", "8532"),
    ("@NextAvailablePort@", "8535"),
    (
        "<VirtualHost _default_:mod_proxy>",
        "<VirtualHost _default_:8530>",
    ),
    (
        "<VirtualHost proxy_http_bal1>",
        "<VirtualHost _default_:8531>",
    ),
    (
        "<VirtualHost proxy_http_bal2>",
        "<VirtualHost _default_:8532>",
    ),
    (
        "<VirtualHost proxy_http_balancer>",
        "<VirtualHost _default_:8533>",
    ),
    ("<VirtualHost proxy_fcgi>", "<VirtualHost _default_:8534>"),
];

#[test]
fn httpd_tests_proxy_template_is_refused_and_substituted_imports() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-tests-proxy", &[]);
    assert!(!p.ok);
    assert!(
        p.toml
            .starts_with("error: import-corpus/httpd-tests-proxy.conf:6: "),
        "{}",
        p.toml
    );
    // Apache::Test's substitution done by hand: the INDEX semantics.
    let p = edited_import(
        &dir,
        "httpd-tests-proxy.conf",
        "httpd-tests-proxy-substituted",
        TEMPLATE_VALUES,
        &[],
    );
    let t = table(&p);
    for (name, method) in [
        ("foo1", "byrequests"),
        ("foo2", "bytraffic"),
        ("foo3", "bybusyness"),
        ("foo4", "byrequests"),
    ] {
        let b = balancer(&t, name);
        assert_eq!(b["lbmethod"].as_str(), Some(method), "{name}");
        assert_eq!(
            urls(b),
            ["http://localhost:8531", "http://localhost:8532"],
            "{name}"
        );
    }
    assert!(p.report.contains("lbmethod=heartbeat: not a ringlb method"));
    let f = balancer(&t, "failover");
    let m1 = "http://localhost:8535";
    assert_eq!(member_key(f, m1, "retry").unwrap().as_str(), Some("1ms"));
    let m2 = "http://localhost:8531";
    assert_eq!(member_key(f, m2, "status").unwrap().as_str(), Some("+H"));
    assert!(
        !balancer_names(&t).contains(&"dynproxy"),
        "no members: not importable"
    );
    assert!(p
        .report
        .contains("balancer://dynproxy: it has no BalancerMember"));
    assert!(balancer(&t, "pr45434").get("proxypassreverse").is_none());
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            ("localhost", 8533, "/baltest1/x", Some(("foo1", "/x"))),
            ("localhost", 8533, "/baltest4", Some(("foo4", "/"))),
            (
                "localhost",
                8533,
                "/pr45434/a",
                Some(("pr45434", "/modules/alias/a")),
            ),
            // No $N in the target: httpd appends the path (proxy_trans), as ringlb does.
            (
                "localhost",
                8533,
                "/baltest_echo_post",
                Some(("failover", "/echo_post/baltest_echo_post")),
            ),
            ("localhost", 8533, "/dynproxy", None),
            ("localhost", 8531, "/baltest1/x", None),
        ],
    );
}

#[test]
fn coc23_proxy_ssl_balancer() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "coc23-proxy-ssl-balancer", &[]);
    let t = table(&p);
    let b = balancer(&t, "mycluster");
    assert_eq!(urls(b), ["https://server1:8443", "https://server2:8443"]);
    assert!(b.get("stickysession").is_none() && b.get("lbmethod").is_none());
    // No SSLProxyVerify: httpd checks no member certificate.
    assert_eq!(b["tls_verify"].as_bool(), Some(false));
    assert_eq!(
        b["tls_client_cert"].as_str(),
        Some("/home/jfclere/CERTS/proxies/cert_key.pem")
    );
    let listener = &t["listener"].as_array().unwrap()[0];
    assert_eq!(listener["address"].as_str(), Some("0.0.0.0:8888"));
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            (
                "localhost",
                8888,
                "/examples/a",
                Some(("mycluster", "/examples/a")),
            ),
            ("localhost", 8888, "/other", None),
        ],
    );
}

#[test]
fn wyona_template_is_refused_and_substituted_imports() {
    let dir = corpus_or_skip!();
    let files = [("wyona-workers.properties", "conf/workers.properties")];
    let p = corpus_import(&dir, "wyona-jk-and-ajp-balancer-vhosts", &files);
    assert!(!p.ok);
    assert!(
        p.toml.contains("`@PORT@` is a template placeholder"),
        "{}",
        p.toml
    );
    let p = edited_import(
        &dir,
        "wyona-jk-and-ajp-balancer-vhosts.conf",
        "wyona-jk-and-ajp-balancer-vhosts-port80",
        &[("@PORT@", "80")],
        &files,
    );
    let t = table(&p);
    let c = balancer(&t, "tomcatcluster");
    assert_eq!(c["stickysession"].as_str(), Some("JSESSIONID"));
    assert_eq!(c["nofailover"].as_bool(), Some(false));
    assert_eq!(urls(c), ["ajp://127.0.0.1:9019", "ajp://127.0.0.1:9029"]);
    let w = balancer(&t, "wlb");
    assert_eq!(urls(w), ["ajp://127.0.0.1:9019", "ajp://127.0.0.1:9029"]);
    assert!(
        p.report
            .contains("approximated: SetEnvIf Request_URI /index.html no-jk: a regex exclusion"),
        "{}",
        p.report
    );
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            ("h", 80, "/cluster/a", Some(("tomcatcluster", "/cluster/a"))),
            ("h", 80, "/x/y", Some(("wlb", "/x/y"))),
            // no-jk: mod_jk declines what the unanchored regex matches; ProxyPass still
            // serves it (httpd serves the rest itself; ringlb answers 404).
            ("h", 80, "/index.html", None),
            ("h", 80, "/docs/index.html", None),
            ("h", 80, "/index.htm", Some(("wlb", "/index.htm"))),
            (
                "h",
                80,
                "/cluster/index.html",
                Some(("tomcatcluster", "/cluster/index.html")),
            ),
            (
                "h",
                80,
                "/balancer-manager",
                Some(("wlb", "/balancer-manager")),
            ),
        ],
    );
}

const IDEAESB: &[(&str, &str)] = &[
    ("ideaesb-vhosts-continuations.conf", "conf/vhosts.conf"),
    ("ideaesb-jkmounts.conf", "conf/jkmounts.conf"),
    (
        "ideaesb-untyped-lb-workers.properties",
        "conf/workers.properties",
    ),
];

#[test]
fn ideaesb_missing_absolute_include_is_refused_then_imports_without_it() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "ideaesb-httpd-includes", IDEAESB);
    assert!(!p.ok);
    assert!(
        p.toml
            .starts_with("error: import-corpus/ideaesb-httpd-includes.conf:516: Include "),
        "{}",
        p.toml
    );
    let line = "Include C:/Apache2.2.22/conf/extra/pscp.conf";
    let p = edited_import(
        &dir,
        "ideaesb-httpd-includes.conf",
        "ideaesb-httpd-includes-without-pscp",
        &[(line, "")],
        IDEAESB,
    );
    let t = table(&p);
    assert_eq!(
        balancer_names(&t),
        ["backend_192_168_1_50", "worker1", "worker2"]
    );
    assert_eq!(t["vhost"].as_array().unwrap().len(), 7);
    assert!(p.report.contains("balance_workers=worker1,worker2"));
    ideaesb_vhost_routes(&config(&p));
    // The main server's mounts reach no vhost (no JkMountCopy): said, not dropped.
    assert!(p
        .report
        .contains("JkMount /asmts worker1: a main-server mount"));
}

/// #24's routing, whether read alone or through #22's Include.
fn ideaesb_vhost_routes(cfg: &Config) {
    let cis = "www.pacificcis.org";
    routes(
        cfg,
        &[
            (
                cis,
                80,
                "/rcsd/a",
                Some(("backend_192_168_1_50", "/rcsd/a")),
            ),
            (
                "x.pacis.org",
                80,
                "/cms/",
                Some(("backend_192_168_1_50", "/cms/")),
            ),
            (cis, 80, "/outlooks/a", Some(("worker1", "/outlooks/a"))),
            (cis, 80, "/paws/a", None),
            (
                "www.pacificstormsclimatology.org",
                80,
                "/pscp-api/x",
                Some(("worker1", "/pscp-api/x")),
            ),
            (
                "pacificislandsclimate.org",
                80,
                "/paws/x",
                Some(("worker2", "/paws/x")),
            ),
            (
                "pacificislandsclimate.org",
                80,
                "/piko",
                Some(("worker1", "/piko")),
            ),
            (
                "www.neclimateus.org",
                80,
                "/nexus/",
                Some(("worker1", "/nexus/")),
            ),
            (
                "www.pricip.org",
                80,
                "/ea-portal/x",
                Some(("worker2", "/ea-portal/x")),
            ),
            (
                "sealevelstations.org",
                80,
                "/wls",
                Some(("worker2", "/wls")),
            ),
            ("192.168.1.20", 80, "/paws/x", Some(("worker1", "/paws/x"))),
        ],
    );
}

#[test]
fn ideaesb_jkmounts() {
    let dir = corpus_or_skip!();
    let files = [(
        "ideaesb-untyped-lb-workers.properties",
        "conf/workers.properties",
    )];
    let p = corpus_import(&dir, "ideaesb-jkmounts", &files);
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["worker1"]);
    let cfg = config(&p);
    let mut rows = Vec::new();
    for app in [
        "/asmts",
        "/daps",
        "/epiko",
        "/nexus",
        "/orgs",
        "/outlooks",
        "/paws",
        "/pawz",
        "/piko",
    ] {
        rows.push(("h", 80, app, Some(("worker1", app))));
    }
    rows.push(("h", 80, "/piko/a/b", Some(("worker1", "/piko/a/b"))));
    rows.push(("h", 80, "/pikox", None));
    routes(&cfg, &rows);
}

#[test]
fn ideaesb_vhosts_continuations() {
    let dir = corpus_or_skip!();
    let files = [(
        "ideaesb-untyped-lb-workers.properties",
        "conf/workers.properties",
    )];
    let p = corpus_import(&dir, "ideaesb-vhosts-continuations", &files);
    let t = table(&p);
    let vhosts = t["vhost"].as_array().unwrap();
    assert_eq!(vhosts.len(), 7);
    assert_eq!(vhosts[0]["server_alias"].as_array().unwrap().len(), 14);
    ideaesb_vhost_routes(&config(&p));
}

#[test]
fn eastuni_jkmount_vhosts() {
    let dir = corpus_or_skip!();
    let files = [("eastuni-many-workers.properties", "conf/workers.properties")];
    let p = corpus_import(&dir, "eastuni-jkmount-vhosts", &files);
    let t = table(&p);
    assert_eq!(
        balancer(&t, "backend_localhost_31443")["tls_verify"].as_bool(),
        Some(false)
    );
    let cfg = config(&p);
    let s = "/serviceEndpoint/a";
    routes(
        &cfg,
        &[
            ("cbpedu.bankware", 80, s, Some(("edu_online_worker", s))),
            (
                "cbpedu.bankware",
                80,
                "/bxmAdmin/x",
                Some(("edu_admin_worker", "/bxmAdmin/x")),
            ),
            ("ccm.cbpedu.bankware", 80, s, Some(("edu_ccm_worker", s))),
            (
                "admin.cbpedu.bankware",
                80,
                s,
                Some(("edu_online_worker", s)),
            ),
            (
                "sonar.cbpedu.bankware",
                80,
                "/x",
                Some(("backend_localhost_9004", "/x")),
            ),
            (
                "jenkins.cbpedu.bankware",
                80,
                "/x",
                Some(("backend_localhost_8082", "/x")),
            ),
            (
                "svn.cbpedu.bankware",
                80,
                "/x",
                Some(("backend_localhost_31080", "/x")),
            ),
            (
                "svn.cbpedu.bankware",
                443,
                "/x",
                Some(("backend_localhost_31443", "/x")),
            ),
            (
                "pf.cbpedu.bankware",
                80,
                "/x",
                Some(("edu_pf_worker", "/x")),
            ),
            (
                "pfdist.cbpedu.bankware",
                80,
                "/x",
                Some(("edu_pfdist_worker", "/x")),
            ),
        ],
    );
}

#[test]
fn junseon_nbsp_is_refused_with_its_line() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "junseon-nbsp-vhost", &[]);
    assert!(!p.ok);
    assert!(
        p.toml
            .starts_with("error: import-corpus/junseon-nbsp-vhost.conf:5: Invalid command"),
        "{}",
        p.toml
    );
    assert!(p.toml.contains("U+00A0"));
}

#[test]
fn novotnyr_bad_quote_is_a_dead_rule() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "novotnyr-ajp-balancer-badquote-httpd", &[]);
    let t = table(&p);
    let b = balancer(&t, "tomcat");
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID|jsessionid"));
    assert_eq!(b["scolonpathdelim"].as_bool(), Some(true));
    assert_eq!(urls(b), ["ajp://tomcat:8009", "ajp://tomcat2:8009"]);
    assert!(member_key(b, "ajp://tomcat:8009", "route").is_none());
    assert!(p.report.contains("ignored: ProxyPass \"/manager \""));
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            ("h", 80, "/manager/html", Some(("tomcat", "/manager/html"))),
            ("h", 80, "/balancer-manager", None),
        ],
    );
}

#[test]
fn modcluster_without_members_is_refused() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "modcluster-lbmethod-cluster", &[]);
    assert!(!p.ok);
    assert!(p.toml.contains("nothing to import"), "{}", p.toml);
    assert!(p.report.contains("lbmethod=cluster: not a ringlb method"));
    assert!(p.report.contains("growth=20"));
}

#[test]
fn pastebin_ajp_routeid_double_proxyset() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "pastebin-ajp-routeid-double-proxyset", &[]);
    let t = table(&p);
    let b = balancer(&t, "ajp-cluster");
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID"));
    assert!(
        b.get("insert_cookie").is_none(),
        "the ROUTEID cookie is unused"
    );
    let m = "ajp://10.100.10.10:8009";
    assert_eq!(member_key(b, m, "route").unwrap().as_str(), Some("node1"));
    assert_eq!(member_key(b, m, "retry").unwrap().as_integer(), Some(0));
    assert_eq!(member_key(b, m, "ttl").unwrap().as_integer(), Some(60));
    let cfg = config(&p);
    routes(&cfg, &[("test.ru", 443, "/a", Some(("ajp-cluster", "/a")))]);
}

#[test]
fn doc_failover_lbset_hotstandby() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-doc-failover-lbset-hotstandby", &[]);
    let t = table(&p);
    let b = balancer(&t, "myset");
    let h = |n: &str| format!("http://{n}.example.com:8080");
    assert_eq!(
        member_key(b, &h("www3"), "loadfactor")
            .unwrap()
            .as_integer(),
        Some(3)
    );
    for spare in ["spare1", "spare2"] {
        assert_eq!(
            member_key(b, &h(spare), "status").unwrap().as_str(),
            Some("+R")
        );
    }
    assert_eq!(
        member_key(b, &h("hstandby"), "status").unwrap().as_str(),
        Some("+H")
    );
    for bk in ["bkup1", "bkup2"] {
        assert_eq!(
            member_key(b, &h(bk), "lbset").unwrap().as_integer(),
            Some(1)
        );
    }
    // www3's timeout=1 is not every member's: the others wait httpd's Timeout.
    assert!(t.get("timeouts").is_none());
    routes(
        &config(&p),
        &[("h", 80, "/images/a.png", Some(("myset", "/a.png")))],
    );
}

#[test]
fn doc_routeid_sticky_cookie() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-doc-routeid-sticky-cookie", &[]);
    let t = table(&p);
    let b = balancer(&t, "mycluster");
    assert_eq!(b["stickysession"].as_str(), Some("ROUTEID"));
    assert_eq!(b["insert_cookie"]["name"].as_str(), Some("ROUTEID"));
    let m = "http://192.168.1.51:80";
    assert_eq!(member_key(b, m, "route").unwrap().as_str(), Some("2"));
    routes(
        &config(&p),
        &[
            ("h", 80, "/test", Some(("mycluster", "/"))),
            ("h", 80, "/test/a", Some(("mycluster", "/a"))),
        ],
    );
}

#[test]
fn doc_hotcluster_decimal_loadfactor() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-doc-hotcluster-decimal-loadfactor", &[]);
    let t = table(&p);
    let b = balancer(&t, "hotcluster");
    assert_eq!(b["lbmethod"].as_str(), Some("bytraffic"));
    let lf = member_key(b, "ajp://1.2.3.5:8009", "loadfactor").unwrap();
    assert_eq!(lf.as_float(), Some(2.25));
    let hs = member_key(b, "ajp://1.2.3.6:8009", "status").unwrap();
    assert_eq!(hs.as_str(), Some("+H"));
    routes(&config(&p), &[("h", 80, "/x", Some(("hotcluster", "/x")))]);
}

#[test]
fn doc_ajp_sticky_smax_max() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-doc-ajp-sticky-smax-max", &[]);
    let t = table(&p);
    let s = balancer(&t, "backend_special_example_com");
    let m = "http://special.example.com";
    assert_eq!(member_key(s, m, "smax").unwrap().as_integer(), Some(5));
    assert_eq!(member_key(s, m, "max").unwrap().as_integer(), Some(10));
    let b = balancer(&t, "mycluster");
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID|jsessionid"));
    assert_eq!(b["nofailover"].as_bool(), Some(true));
    let lf = |u: &str| member_key(b, u, "loadfactor").and_then(Value::as_integer);
    assert_eq!(lf("ajp://1.2.3.4:8009"), None);
    assert_eq!(lf("ajp://1.2.3.5:8009"), Some(20));
    assert_eq!(lf("ajp://1.2.3.6:8009"), Some(5));
    routes(
        &config(&p),
        &[
            (
                "h",
                80,
                "/special-area/x",
                Some(("backend_special_example_com", "/x")),
            ),
            ("h", 80, "/x", Some(("mycluster", "/x"))),
        ],
    );
}

#[test]
fn doc_reverse_cookie_rewrites() {
    let dir = corpus_or_skip!();
    let p = corpus_import(&dir, "httpd-doc-reverse-cookie-rewrites", &[]);
    let t = table(&p);
    let b = balancer(&t, "backend_backend_example_com");
    assert_eq!(
        b["proxypassreverse_cookie_domain"]["backend.example.com"].as_str(),
        Some("public.example.com")
    );
    assert_eq!(
        b["proxypassreverse_cookie_path"]["/"].as_str(),
        Some("/mirror/foo/")
    );
    assert!(b.get("proxypassreverse").is_none(), "reversed");
    routes(
        &config(&p),
        &[(
            "h",
            80,
            "/mirror/foo/a",
            Some(("backend_backend_example_com", "/a")),
        )],
    );
}

#[test]
fn jk_doc_jkunmount() {
    let dir = corpus_or_skip!();
    let root = corpus::scratch_dir("jk-doc-jkunmount");
    let to = root.join("conf/workers.properties");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    std::fs::copy(seeds().join("modjk-worker1.properties"), &to).unwrap();
    let file = corpus::corpus_file(&dir, "jk-doc-jkunmount.conf");
    let p = httpd(&dir, "jk-doc-jkunmount", &file, &root);
    let _ = std::fs::remove_dir_all(&root);
    routes(
        &config(&p),
        &[
            ("h", 80, "/servlet/a", Some(("worker1", "/servlet/a"))),
            ("h", 80, "/servlet/a.gif", None),
            ("h", 80, "/other", None),
        ],
    );
}

/// A seed excerpt (`tests/import/seeds/NAME.conf`, in the repository: never skipped),
/// imported with an empty scratch server root; the golden files are `seed-NAME`.
fn seed_import(name: &str) -> corpus::Printed {
    let root = corpus::scratch_dir(&format!("seed-{name}"));
    let printed = httpd(
        &seeds(),
        &format!("seed-{name}"),
        &seeds().join(format!("{name}.conf")),
        &root,
    );
    let _ = std::fs::remove_dir_all(&root);
    printed
}

#[test]
fn seed_barcrawl_cookie_path_on_the_balancer() {
    let p = seed_import("httpd-barcrawl");
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["barcrawl"]);
    let b = balancer(&t, "barcrawl");
    assert_eq!(b["lbmethod"].as_str(), Some("bytraffic"));
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID"));
    // The server's ProxyPassReverseCookiePath lands on the balancer its ProxyPass mounts.
    let map = b["proxypassreverse_cookie_path"].as_table().unwrap();
    assert_eq!(map.len(), 1);
    assert_eq!(map["/bar"].as_str(), Some("/bar"));
    // No ProxyPassReverse: httpd leaves Location alone but still maps cookie paths; so does
    // ringlb with proxypassreverse = false and the map.
    assert_eq!(b["proxypassreverse"].as_bool(), Some(false));
    assert!(!p.report.contains("does nothing"), "{}", p.report);
    assert_eq!(urls(b).len(), 5);
    for url in urls(b) {
        assert!(member_key(b, url, "route").is_none(), "{url}: no route=");
    }
    let cfg = config(&p);
    assert_eq!(
        cfg.balancers[0].options.reverse.cookie_path,
        [("/bar".to_owned(), "/bar".to_owned())]
    );
    // httpd's alias_match: /bar at a segment boundary. httpd appends the rest to the
    // target's "/" (`//pub`); ringlb joins them with exactly one "/" (README, "Mounts and
    // paths"), which the member takes for the same path.
    routes(
        &cfg,
        &[
            ("h", 80, "/bar", Some(("barcrawl", "/"))),
            ("h", 80, "/bar/pub", Some(("barcrawl", "/pub"))),
            ("h", 80, "/barn", None),
            ("h", 80, "/", None),
        ],
    );
}

#[test]
fn seed_testcluster_min_max_on_the_members() {
    let p = seed_import("httpd-testcluster");
    let t = table(&p);
    assert_eq!(balancer_names(&t), ["testcluster"]);
    let b = balancer(&t, "testcluster");
    // stickysession= on the <Proxy> line is the balancer's, as a ProxySet would be.
    assert_eq!(b["stickysession"].as_str(), Some("JSESSIONID"));
    for (url, route, max, min) in [
        ("ajp://127.0.0.1:8009", "node1", 100, 10),
        ("ajp://127.0.0.1:8019", "node2", 200, 20),
    ] {
        assert_eq!(member_key(b, url, "route").unwrap().as_str(), Some(route));
        assert_eq!(member_key(b, url, "max").unwrap().as_integer(), Some(max));
        assert_eq!(
            member_key(b, url, "loadfactor").unwrap().as_integer(),
            Some(1)
        );
        // min= reserves httpd pool entries, opens nothing: ringlb has nothing to set.
        assert!(member_key(b, url, "min").is_none());
        let note = format!("min={min}: ignored, ringlb opens member connections on demand");
        assert!(p.report.contains(&note), "{}", p.report);
    }
    let cfg = config(&p);
    routes(
        &cfg,
        &[
            (
                "localhost",
                80,
                "/examples",
                Some(("testcluster", "/examples")),
            ),
            (
                "localhost",
                80,
                "/examples/servlets/x?a=1",
                Some(("testcluster", "/examples/servlets/x?a=1")),
            ),
            ("localhost", 80, "/examplesx", None),
            ("localhost", 80, "/", None),
        ],
    );
}

/// Every corpus `.conf` file: imported (or refused) as the tests above expect; prints how many
/// import without any `ignored` line (`--nocapture`).
#[test]
fn corpus_counts() {
    let dir = corpus_or_skip!();
    let mut confs: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".conf"))
        .collect();
    confs.sort();
    let total = std::fs::read_dir(&dir).unwrap().count() - 1; // INDEX.md
    let mut imported = 0;
    let mut clean = Vec::new();
    for name in &confs {
        let root = corpus::scratch_dir(&format!("count-{name}"));
        let files: &[(&str, &str)] = match name.split('-').next() {
            Some("ideaesb") => IDEAESB,
            Some("tc") => TC_JK,
            Some("wyona") => &[("wyona-workers.properties", "conf/workers.properties")],
            Some("eastuni") => &[("eastuni-many-workers.properties", "conf/workers.properties")],
            Some("wlod") => &[(
                "wlod-template-workers.properties",
                "conf/workers.properties",
            )],
            _ => &[],
        };
        for (from, to) in files {
            corpus::place(&dir, from, &root, to);
        }
        let source = Source::Httpd {
            file: dir.join(name),
            defines: Vec::new(),
            server_root: Some(root.clone()),
        };
        if let Ok(outcome) = ringlb::import::import(&source) {
            imported += 1;
            ringlb::config::parse_str(&outcome.toml, "<imported>").expect("validates");
            if outcome.report.ignored_count() == 0 {
                clean.push(name.clone());
            }
        }
        let _ = std::fs::remove_dir_all(&root);
    }
    println!(
        "import corpus: {total} files, {} httpd .conf; {imported} import as they are; {} \
         without any ignored line: {}",
        confs.len(),
        clean.len(),
        clean.join(", ")
    );
    assert_eq!(confs.len(), 21);
}
