#![allow(clippy::unwrap_used, clippy::expect_used)]

use toml::Value;

use super::*;
use crate::import::model;

fn run(text: &str) -> (Result<Imported, ImportError>, Report) {
    let mut report = Report::default();
    let out = import_str(text, "w2", &mut report);
    (out, report)
}

fn lines(report: &Report, line: usize) -> String {
    let at: Vec<String> = report
        .entries
        .iter()
        .filter(|e| e.loc.line == line)
        .map(|e| e.to_string())
        .collect();
    at.join("\n")
}

#[test]
fn sections_and_lines_are_read_with_variables() {
    let mut report = Report::default();
    let s = parse(
        "root=/srv\n# c\n[shm]\nfile=${root}/jk2.shm\nsize\n[uri:/a/*]\ngroup = lb \nx=${nope}\n",
        "w2",
        &mut report,
    );
    let headers: Vec<(&str, &str)> = s
        .iter()
        .map(|s| (s.kind.as_str(), s.name.as_str()))
        .collect();
    assert_eq!(headers, [("shm", ""), ("uri", "/a/*")]);
    assert_eq!(s[0].value("file"), Some("/srv/jk2.shm"));
    assert_eq!(s[1].value("group"), Some("lb"));
    assert_eq!(s[1].value("x"), Some("${nope}"));
    assert!(lines(&report, 1).contains("ignored: root: a variable"));
    assert!(lines(&report, 5).contains("ignored: size: no `=`"));
    assert!(lines(&report, 8).contains("${nope} is not a variable of the file"));
}

#[test]
fn channels_join_the_default_lb_and_explicit_groups() {
    let (out, report) = run("[lb:lb]\n[lb:other]\nsticky=0\n\
         [channel.socket:h1:8009]\ntomcatId=t1\nlb_factor=3\n\
         [channel.socket:h2:8010]\ngroup=other\n\
         [channel.socket:h3:8011]\ndisabled=1\n\
         [uri:/a/*]\n[uri:/b]\ncontext=/b\ngroup=other\n[uri:/c]\n");
    let out = out.unwrap();
    let names: Vec<&str> = out.balancers.iter().map(|b| b.name.as_str()).collect();
    assert_eq!(names, ["lb", "other"]);
    let lb = &out.balancers[0];
    assert_eq!(lb.members.len(), 1);
    assert_eq!(
        model::get(&lb.members[0], "url"),
        Some(&Value::from("ajp://h1:8009"))
    );
    assert_eq!(
        model::get(&lb.members[0], "route"),
        Some(&Value::from("t1"))
    );
    assert_eq!(
        model::get(&lb.members[0], "loadfactor"),
        Some(&Value::from(3))
    );
    assert!(model::get(&lb.keys, "stickysession").is_some());
    let other = &out.balancers[1];
    assert_eq!(
        model::get(&other.members[0], "route"),
        Some(&Value::from("h2:8010"))
    );
    assert!(model::get(&other.keys, "stickysession").is_none());
    let mounts: Vec<(&str, &Value)> = out
        .mounts
        .iter()
        .map(|m| (m[0].0.as_str(), &m[0].1))
        .collect();
    assert_eq!(
        mounts,
        [
            ("pattern", &Value::from("/a/*")),
            ("path", &Value::from("/b")),
            ("pattern", &Value::from("/c"))
        ]
    );
    assert!(lines(&report, 4).contains("a member of lb"));
    assert!(lines(&report, 9).contains("in no imported balancer"));
}

#[test]
fn ajp13_workers_name_their_channel_and_uris_their_worker() {
    let (out, report) = run("[channel.socket:localhost:8009]\ntomcatId=localhost:8009\n\
         [ajp13:localhost:8009]\nchannel=channel.socket:localhost:8009 \n\
         [uri:/x/*]\nworker=ajp13:localhost:8009\n[status:status]\n[uri:/jkstatus/*]\n\
         worker=status:status\n[uri:/y/*]\nworker=ajp13:none\n");
    let out = out.unwrap();
    assert_eq!(out.balancers.len(), 1);
    assert_eq!(out.balancers[0].name, "ajp13_localhost_8009");
    assert_eq!(
        out.balancers[0].members[0].len(),
        1,
        "a balancer of one: the url only"
    );
    assert!(out.tables.iter().any(|(n, _)| n == "admin"));
    assert!(lines(&report, 8).contains("is the status worker"));
    assert!(lines(&report, 10).contains("no worker or [lb:] named ajp13:none"));
}

#[test]
fn uri_hosts_are_virtual_hosts_with_aliases() {
    let (out, report) = run(
        "[channel.socket:h:1]\n[uri:www.example.com:8003]\nalias=example.com:8003\n\
         [uri:www.example.com:8003/ex]\ncontext=/ex\n[uri:empty.example]\n",
    );
    let out = out.unwrap();
    assert_eq!(out.vhosts.len(), 1);
    let v = &out.vhosts[0];
    assert_eq!(
        model::get(&v.keys, "server_name"),
        Some(&Value::from("www.example.com"))
    );
    assert_eq!(
        model::get(&v.keys, "server_alias"),
        Some(&Value::Array(vec![Value::from("example.com")]))
    );
    assert_eq!(model::get(&v.mounts[0], "path"), Some(&Value::from("/ex")));
    assert!(lines(&report, 2).contains("the port 8003 is not kept"));
    assert!(lines(&report, 6).contains("has no imported mount"));
}

#[test]
fn a_file_that_mounts_nothing_is_refused() {
    let (out, _) = run("[channel.socket:h:1]\n[lb:lb_1]\n[uri:/a/*]\ngroup=lb_1\n");
    let err = out.unwrap_err();
    assert!(err.message.contains("nothing to import"), "{err}");
}
