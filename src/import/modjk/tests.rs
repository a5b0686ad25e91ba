#![allow(clippy::unwrap_used, clippy::expect_used)]

use toml::Value;

use super::attrs::{bool_code, int_code, millis};
use super::mounts::{parse_httpd, parse_uriworkermap};
use super::*;
use crate::import::model;
use crate::import::report::Disposition;

fn workers(text: &str) -> (Workers, Report) {
    let mut report = Report::default();
    let w = parse_workers(text, "w.properties", &mut report).expect("parses");
    (w, report)
}

fn prop<'a>(w: &'a Workers, worker: &str, attr: &str) -> Option<&'a str> {
    let worker = w.parsed.workers.iter().find(|x| x.name == worker)?;
    worker.value(attr)
}

/// The report lines for `line` of `w.properties`.
fn at(report: &Report, line: usize) -> Vec<String> {
    report
        .entries
        .iter()
        .filter(|e| e.loc.line == line)
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn properties_are_read_as_mod_jk_reads_them() {
    let (w, report) = workers(
        "  worker.list = a , b  \n\
         worker.a.host=h1 # a comment after the value\n\
         worker.a.port\n\
         worker.a.secret=\n\
         worker.a.route=r\\\n\
         worker.list=c\n\
         worker.a.host=h2\n\
         worker.list+=d\n",
    );
    let list: Vec<&str> = w.parsed.list.iter().map(|(n, _)| n.as_str()).collect();
    // Repeated worker.list accumulates; `+=` is no operator (mod_jk refuses the key).
    assert_eq!(list, ["a", "b", "c"]);
    // `#` cuts the value, blanks are trimmed, a later unique key wins.
    assert_eq!(prop(&w, "a", "host"), Some("h2"));
    assert!(at(&report, 2)[0].contains("ignored: worker.a.host: set again at line 7"));
    // No `=` and an empty value: skipped, with a line each.
    assert!(at(&report, 3)[0].contains("ignored"));
    assert!(at(&report, 4)[0].contains("empty key or value"));
    // No `\` continuation: the backslash is part of the value.
    assert_eq!(prop(&w, "a", "route"), Some("r\\"));
    assert!(at(&report, 8)[0].contains("ignored: worker.list+"));
}

#[test]
fn variables_are_substituted_from_earlier_properties_then_the_environment() {
    let (w, report) = workers(
        "workers.home=/opt/t\nps=/\n\
         worker.j.class_path=$(workers.home)$(ps)lib$(ps)x.jar\n\
         worker.j.cmd_line=$(later) $(ps\n\
         later=x\n\
         worker.j.sysprops=$(PATH)\n",
    );
    assert_eq!(prop(&w, "j", "class_path"), Some("/opt/t/lib/x.jar"));
    assert_eq!(prop(&w, "j", "cmd_line"), Some("$(later) $(ps"));
    assert!(at(&report, 4)[0].contains("$(later) is neither a property read before this line"));
    let path = std::env::var("PATH").expect("PATH is set");
    assert_eq!(prop(&w, "j", "sysprops"), Some(path.as_str()));
    assert!(at(&report, 6)[0].contains("the environment variable PATH"));
    assert!(at(&report, 1)[0].contains("ignored: workers.home: a variable"));
}

#[test]
fn list_properties_accumulate_and_split_on_blanks_and_commas() {
    let (w, _) = workers(
        "worker.lb.type=lb\nworker.lb.balance_workers=a\nworker.lb.balance_workers=b c,,d\n",
    );
    let lb = w.parsed.workers.iter().find(|x| x.name == "lb").unwrap();
    assert_eq!(lb.members(), ["a", "b", "c", "d"]);
}

#[test]
fn nested_references_inherit_what_a_worker_does_not_set() {
    let (w, _) = workers(
        "worker.list=lb\n\
         worker.basic.port=8009\nworker.basic.type=ajp13\n\
         worker.lb1.domain=dom1\nworker.lb1.reference=worker.basic\n\
         worker.lb.type=lb\nworker.lb.balanced_workers=w11\n\
         worker.w11.host=h11\nworker.w11.port=9000\nworker.w11.reference=worker.lb1\n",
    );
    assert_eq!(prop(&w, "w11", "port"), Some("9000"));
    assert_eq!(prop(&w, "w11", "domain"), Some("dom1"));
    assert_eq!(prop(&w, "w11", "type"), Some("ajp13"));
    let w11 = w.parsed.workers.iter().find(|x| x.name == "w11").unwrap();
    let ty = w11.attr("type").unwrap();
    assert_eq!(ty.from.as_deref(), Some("basic"));
    assert_eq!(ty.key, "worker.basic.type");
    assert_eq!(w.parsed.templates, ["basic", "lb1"]);
}

#[test]
fn broken_references_are_refused_with_their_line() {
    for (text, line, want) in [
        ("worker.a.reference=worker.none\n", 1, "names no worker"),
        (
            "worker.a.reference=b\nworker.b.port=1\n",
            1,
            "write worker.NAME",
        ),
        (
            "worker.a.port=1\nworker.a.reference=worker.b\nworker.b.reference=worker.a\n",
            2,
            "deeper than 20",
        ),
    ] {
        let mut report = Report::default();
        let err = parse_workers(text, "w.properties", &mut report).unwrap_err();
        assert_eq!(err.loc.line, line, "{text}");
        assert!(err.message.contains(want), "{text}: {}", err.message);
    }
}

#[test]
fn unknown_worker_attributes_are_reported_not_imported() {
    let (w, report) = workers("worker.a.max_reuse_connections=250\nworker.maintain=30\n");
    assert!(w.parsed.workers.is_empty());
    assert!(at(&report, 1)[0].contains("not a mod_jk worker attribute"));
    assert_eq!(w.parsed.maintain.as_ref().map(|m| m.0), Some(30));
}

#[test]
fn mount_rules_expand_alternatives_and_read_prefixes() {
    let loc = Loc::new("u", 1);
    type Case<'a> = (&'a str, &'a str, bool, &'a [(&'a str, bool)]);
    let cases: [Case; 7] = [
        ("/app|/*", "w", false, &[("/app", false), ("/app/*", false)]),
        ("/x/*.gif", "w", true, &[("/x/*.gif", true)]),
        ("!/*.gif", "w", false, &[("/*.gif", true)]),
        ("-/examples/jsp/*", "w", false, &[]),
        ("examples/*", "w", false, &[]),
        ("/a b", "w", false, &[]),
        ("/x", "w;reply_timeout=5", false, &[("/x", false)]),
    ];
    for (pattern, worker, unmount, want) in cases {
        let mut report = Report::default();
        let got: Vec<(String, bool)> = mounts_of(&loc, pattern, worker, unmount, &mut report)
            .into_iter()
            .map(|m| {
                assert_eq!(m.worker, "w");
                (m.pattern, m.exclude)
            })
            .collect();
        let want: Vec<(String, bool)> = want.iter().map(|(p, e)| (p.to_string(), *e)).collect();
        assert_eq!(got, want, "{pattern}");
        // Whatever is not a plain mount says why.
        let plain = want.len() == 1 && !worker.contains(';');
        assert_eq!(
            report.entries.is_empty(),
            plain || pattern.contains('|'),
            "{pattern}"
        );
    }
}

#[test]
fn uriworkermap_lines_trim_and_the_last_of_a_pattern_wins() {
    let mut report = Report::default();
    let mounts = parse_uriworkermap(
        "/a/* = one \n# c\n/b=two\n/a/*=three\n!/a/*.jpg=three\nnothing\n",
        "u",
        &mut report,
    );
    let got: Vec<(&str, &str, bool)> = mounts
        .iter()
        .map(|m| (m.pattern.as_str(), m.worker.as_str(), m.exclude))
        .collect();
    assert_eq!(
        got,
        [
            ("/b", "two", false),
            ("/a/*", "three", false),
            ("/a/*.jpg", "three", true)
        ]
    );
    assert!(report.entries[0]
        .to_string()
        .contains("u:1: ignored: /a/*=one"));
    assert!(report.entries[1]
        .to_string()
        .contains("u:6: ignored: nothing"));
}

#[test]
fn httpd_files_give_only_their_jkmounts() {
    let mut report = Report::default();
    let mounts = parse_httpd(
        "LoadModule jk_module m.so\n<VirtualHost *:80>\n  JkMount /a/* w\n\
         <Location /st>\n JkMount st\n</Location>\n</VirtualHost>\n\
         # JkMount /commented w\nJkUnMount /a/*.gif \\\n  w\n",
        "h.conf",
        &mut report,
    )
    .unwrap();
    let got: Vec<(&str, &str, bool, usize)> = mounts
        .iter()
        .map(|m| (m.pattern.as_str(), m.worker.as_str(), m.exclude, m.loc.line))
        .collect();
    assert_eq!(
        got,
        [
            ("/a/*", "w", false, 3),
            ("/st", "st", false, 5),
            ("/a/*.gif", "w", true, 9)
        ]
    );
    assert!(report.entries[0]
        .to_string()
        .contains("ignored: LoadModule: not a mod_jk mount"));
    let bad = parse_httpd("<Location /x>\n", "h.conf", &mut Report::default());
    assert!(bad.unwrap_err().message.contains("not closed"));
    let bad = parse_httpd("JkMount /x\n", "h.conf", &mut Report::default());
    assert!(bad
        .unwrap_err()
        .message
        .contains("takes a pattern and a worker"));
}

#[test]
fn values_read_as_mod_jk_reads_booleans_integers_and_times() {
    for (v, want) in [
        ("True", Some(true)),
        ("1", Some(true)),
        ("on", Some(true)),
        ("yes", Some(true)),
        ("false", Some(false)),
        ("Off", Some(false)),
        ("0", Some(false)),
        ("no", Some(false)),
        ("10", None),
        ("maybe", None),
    ] {
        assert_eq!(bool_code(v), want, "{v}");
    }
    for (v, want) in [
        ("10", Some(10)),
        ("8k", Some(8192)),
        ("1M", Some(1 << 20)),
        ("-404", Some(-404)),
        ("12x", Some(12)),
        ("x", None),
        ("", None),
    ] {
        assert_eq!(int_code(v), want, "{v}");
    }
    assert_eq!(millis(10000), "10s");
    assert_eq!(millis(1500), "1500ms");
}

/// Imports `text` with `mounts` (uriworkermap lines) and returns the output and report.
fn emit_with(text: &str, mounts: &str) -> (Imported, Report) {
    let (w, mut report) = workers(text);
    let mounts = parse_uriworkermap(mounts, "u", &mut report);
    let mut out = Imported::default();
    w.emit(&mounts, Scope::Top, &mut out, &mut report);
    w.report_unused(&mut report);
    (out, report)
}

fn member<'a>(out: &'a Imported, b: &str, i: usize, key: &str) -> Option<&'a Value> {
    let b = out.balancers.iter().find(|x| x.name == b)?;
    model::get(b.members.get(i)?, key)
}

fn bkey<'a>(out: &'a Imported, b: &str, key: &str) -> Option<&'a Value> {
    model::get(&out.balancers.iter().find(|x| x.name == b)?.keys, key)
}

#[test]
fn lb_methods_by_first_letter() {
    for (v, want, approximated) in [
        ("R", "byrequests", false),
        ("Request", "byrequests", false),
        ("t", "bytraffic", false),
        ("Traffic", "bytraffic", false),
        ("b", "bybusyness", false),
        ("Busyness", "bybusyness", false),
        ("S", "byrequests", true),
        ("Session", "byrequests", true),
        ("Next", "byrequests", true),
        ("x", "byrequests", true),
    ] {
        let text = format!("worker.list=lb\nworker.lb.type=lb\nworker.lb.method={v}\nworker.lb.balance_workers=a\n");
        let (out, report) = emit_with(&text, "/*=lb\n");
        assert_eq!(
            bkey(&out, "lb", "lbmethod"),
            Some(&Value::from(want)),
            "{v}"
        );
        let line = &at(&report, 3)[0];
        assert_eq!(line.contains("approximated"), approximated, "{v}: {line}");
    }
}

#[test]
fn activation_redirect_and_routes_of_members() {
    let (out, _) = emit_with(
        "worker.list=router\nworker.router.type=lb\nworker.router.balance_workers=w1,w2,w3,w4\n\
         worker.w1.redirect=w2\nworker.w2.activation=disabled\nworker.w2.route=r2\n\
         worker.w3.activation=S\nworker.w4.stopped=true\nworker.w4.jvm_route=j4\n",
        "/*=router\n",
    );
    assert_eq!(member(&out, "router", 0, "route"), Some(&Value::from("w1")));
    assert_eq!(
        member(&out, "router", 0, "redirect"),
        Some(&Value::from("r2"))
    );
    assert_eq!(
        member(&out, "router", 0, "url"),
        Some(&Value::from("ajp://localhost:8009"))
    );
    assert_eq!(
        member(&out, "router", 1, "activation"),
        Some(&Value::from("disabled"))
    );
    assert_eq!(
        member(&out, "router", 2, "activation"),
        Some(&Value::from("stopped"))
    );
    assert_eq!(
        member(&out, "router", 3, "activation"),
        Some(&Value::from("stopped"))
    );
    assert_eq!(member(&out, "router", 3, "route"), Some(&Value::from("j4")));
}

#[test]
fn sticky_session_settings_of_an_lb() {
    let lb = "worker.list=lb\nworker.lb.type=lb\nworker.lb.balance_workers=a\n";
    for (extra, sticky, nofailover) in [
        ("", Some("JSESSIONID|jsessionid"), None),
        ("worker.lb.sticky_session=0\n", None, None),
        (
            "worker.lb.session_cookie=SID\nworker.lb.session_path=sid\n",
            Some("SID|sid"),
            None,
        ),
        (
            "worker.lb.sticky_session_force=true\n",
            Some("JSESSIONID|jsessionid"),
            Some(true),
        ),
    ] {
        let (out, _) = emit_with(&format!("{lb}{extra}"), "/*=lb\n");
        let got = bkey(&out, "lb", "stickysession").and_then(Value::as_str);
        assert_eq!(got, sticky, "{extra}");
        let got = bkey(&out, "lb", "nofailover").and_then(Value::as_bool);
        assert_eq!(got, nofailover, "{extra}");
    }
}

#[test]
fn mounts_route_exclude_and_report_what_they_cannot() {
    let (out, report) = emit_with(
        "worker.list=lb,st\nworker.lb.type=lb\nworker.lb.balance_workers=a\n\
         worker.st.type=status\nworker.tpl.port=1\nworker.a.reference=worker.tpl\n",
        "/app/*=lb\n!/app/*.gif=lb\n!/app/x=lb\n!/*.css=*\n/jk=st\n/n/*=nobody\n\
         !/o/*=other\n/t=tpl\n",
    );
    let mounts: Vec<String> = out
        .mounts
        .iter()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect();
    assert_eq!(
        mounts,
        [
            "pattern=\"/app/*\" balancer=\"lb\"",
            "pattern=\"/app/*.gif\" exclude=true balancers=[\"lb\"]",
            "pattern=\"/app/x\" exclude=true balancers=[\"lb\"]",
            "pattern=\"/*.css\" exclude=true",
        ]
    );
    assert_eq!(
        member(&out, "lb", 0, "url"),
        Some(&Value::from("ajp://localhost:1"))
    );
    assert!(out.tables.iter().any(|(n, _)| n == "admin"));
    let line = |n: usize| at(&report, n).join("\n");
    assert!(line(3).contains("approximated: !/app/x=lb: mod_jk 1.2 never applies"));
    assert!(line(5).contains("ignored: /jk=st: worker st is a status worker"));
    assert!(line(6).contains("worker nobody is not defined"));
    assert!(line(7).contains("no mount routes to worker other"));
    assert!(line(8).contains("worker tpl is a template"));
    for e in &report.entries {
        if e.loc.file == "w.properties" && e.loc.line == 5 {
            // The template's line is reported under the worker that inherits it.
            assert!(e.directive.contains("inherited by a"), "{e}");
        }
    }
}

#[test]
fn workers_no_mount_names_are_reported_unused() {
    let (out, report) = emit_with(
        "worker.list=a,b\nworker.a.port=1\nworker.b.port=2\nworker.c.port=3\n",
        "/a=a\n",
    );
    assert_eq!(out.balancers.len(), 1);
    assert!(at(&report, 3)[0].contains("worker b is in worker.list but no mount names it"));
    assert!(at(&report, 4)[0].contains("worker c is not in worker.list"));
    let e = report.entries.iter().find(|e| e.loc.line == 4).unwrap();
    assert!(matches!(e.disposition, Disposition::Ignored(_)));
}
