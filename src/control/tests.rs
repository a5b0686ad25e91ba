//! What an operator change means against the file: overrides held per key, ended by a file
//! that changes their key or by a clear; the effective configuration validated as a file is;
//! the in-place edits derived from two effective configurations.

use super::overrides::{MemberChange, Overrides};
use super::{member_edits, plan_reload};
use crate::balancer::Status;
use crate::config::{self, Config};

const FILE: &str = r#"
[[balancer]]
name = "app"
[[balancer.member]]
url = "http://127.0.0.1:9001"
route = "a"
[[balancer.member]]
url = "http://127.0.0.1:9002"
route = "b"
loadfactor = 2
"#;

const A: &str = "http://127.0.0.1:9001";
const B: &str = "http://127.0.0.1:9002";

fn file(text: &str) -> Config {
    config::parse_str(text, "t.toml").unwrap()
}

fn change(f: impl FnOnce(&mut MemberChange)) -> MemberChange {
    let mut c = MemberChange::default();
    f(&mut c);
    c
}

fn effective(base: &Config, o: &Overrides) -> Config {
    plan_reload(base, o).unwrap().config
}

#[test]
fn a_change_holds_with_the_files_value_and_back_to_it_ends_it() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(&base, "app", A, &change(|c| c.lbfactor = Some(300)))
        .unwrap();
    assert_eq!(effective(&base, &o).balancers[0].members[0].lbfactor, 300);
    let held = o.members[0].lbfactor.clone().unwrap();
    assert_eq!((held.value, held.file), (300, 100));
    o.change(&base, "app", A, &change(|c| c.lbfactor = Some(100)))
        .unwrap();
    assert!(
        o.is_empty(),
        "the file's value again ends the override: {o:?}"
    );
}

#[test]
fn flags_are_held_letter_by_letter() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(&base, "app", A, &change(|c| c.set = Status::DRAIN))
        .unwrap();
    o.change(&base, "app", A, &change(|c| c.set = Status::DISABLED))
        .unwrap();
    o.change(&base, "app", A, &change(|c| c.clear = Status::DRAIN))
        .unwrap();
    let status = effective(&base, &o).balancers[0].members[0].options.status;
    assert_eq!(status, Status::DISABLED);
    assert_eq!(
        o.describe(),
        vec![format!("balancer app member {A}: status +D")]
    );
}

#[test]
fn a_reload_keeps_an_override_until_the_file_changes_its_key() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(
        &base,
        "app",
        B,
        &change(|c| {
            c.lbfactor = Some(500);
            c.set = Status::DRAIN;
        }),
    )
    .unwrap();
    // Same file, or one that changes other keys: everything holds.
    let other = file(&FILE.replace("route = \"a\"", "route = \"a2\""));
    let plan = plan_reload(&other, &o).unwrap();
    assert_eq!(plan.overrides, o);
    assert!(plan.ended.is_empty(), "{:?}", plan.ended);
    let m = &plan.config.balancers[0].members[1];
    assert_eq!((m.lbfactor, m.options.status), (500, Status::DRAIN));
    // The file changes b's loadfactor: that override ends, the drain holds.
    let edited = file(&FILE.replace("loadfactor = 2", "loadfactor = 4"));
    let plan = plan_reload(&edited, &o).unwrap();
    let m = &plan.config.balancers[0].members[1];
    assert_eq!((m.lbfactor, m.options.status), (400, Status::DRAIN));
    assert_eq!(plan.ended.len(), 1, "{:?}", plan.ended);
    assert!(
        plan.ended[0].contains("loadfactor: the file changed it (2.0 -> 4.0)"),
        "{:?}",
        plan.ended
    );
    // The file drains b itself, then un-drains it: the override's file value changed.
    let drained = file(&FILE.replace("loadfactor = 2", "loadfactor = 2\nstatus = \"+N\""));
    let plan = plan_reload(&drained, &o).unwrap();
    assert!(
        plan.ended.iter().any(|l| l.contains("status")),
        "{:?}",
        plan.ended
    );
}

#[test]
fn added_and_removed_members_hold_until_the_file_decides() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.add(&base, "app", "http://127.0.0.1:9003", "c", 100)
        .unwrap();
    o.remove(&base, "app", A).unwrap();
    let cfg = effective(&base, &o);
    let urls: Vec<&str> = cfg.balancers[0]
        .members
        .iter()
        .map(|m| m.url.as_str())
        .collect();
    assert_eq!(urls, [B, "http://127.0.0.1:9003"]);
    assert_eq!(cfg.balancers[0].members[1].options.status, Status::DISABLED);
    assert!(o.add(&base, "app", B, "", 100).is_err(), "B exists");
    assert!(
        o.change(&base, "app", A, &MemberChange::default()).is_err(),
        "A is removed"
    );
    // Enabling the added member edits it, not an override of the file.
    o.change(
        &base,
        "app",
        "http://127.0.0.1:9003",
        &change(|c| c.clear = Status::DISABLED),
    )
    .unwrap();
    assert!(o.members.is_empty());
    assert_eq!(o.added[0].status, "");
    // A file that defines the added member, and changes the removed one: the file wins twice.
    let text = FILE.replace("route = \"a\"", "route = \"a\"\nloadfactor = 3")
        + "[[balancer.member]]\nurl = \"http://127.0.0.1:9003\"\nroute = \"c\"\n";
    let plan = plan_reload(&file(&text), &o).unwrap();
    assert!(plan.overrides.is_empty(), "{:?}", plan.overrides);
    assert_eq!(plan.ended.len(), 2, "{:?}", plan.ended);
    assert_eq!(plan.config.balancers[0].members.len(), 3);
}

#[test]
fn the_effective_configuration_is_validated_like_a_file() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(&base, "app", A, &change(|c| c.route = Some("b".into())))
        .unwrap();
    let err = plan_reload(&base, &o).unwrap_err();
    assert!(err.contains("route"), "{err}");
    let mut o = Overrides::default();
    o.change(
        &base,
        "app",
        A,
        &change(|c| c.redirect = Some("nobody".into())),
    )
    .unwrap();
    assert!(plan_reload(&base, &o).is_err());
    let mut o = Overrides::default();
    o.remove(&base, "app", A).unwrap();
    o.remove(&base, "app", B).unwrap();
    assert!(plan_reload(&base, &o).is_err(), "a balancer needs a member");
}

#[test]
fn overrides_round_trip_through_json() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(
        &base,
        "app",
        A,
        &change(|c| {
            c.set = Status::DRAIN;
            c.lbset = Some(2);
        }),
    )
    .unwrap();
    o.add(&base, "app", "http://127.0.0.1:9003", "", 150)
        .unwrap();
    o.remove(&base, "app", B).unwrap();
    let text = serde_json::to_string(&o).unwrap();
    let back: Overrides = serde_json::from_str(&text).unwrap();
    assert_eq!(back, o);
}

#[test]
fn edits_name_only_what_changed_and_split_nothing() {
    let base = file(FILE);
    let mut o = Overrides::default();
    o.change(
        &base,
        "app",
        B,
        &change(|c| {
            c.set = Status::DRAIN | Status::ERROR;
            c.lbfactor = Some(700);
        }),
    )
    .unwrap();
    let next = effective(&base, &o);
    let edits = member_edits(&base, &next);
    assert_eq!(edits.len(), 1, "{edits:?}");
    let e = &edits[0];
    assert_eq!((e.balancer, e.member), (0, 1));
    assert_eq!(
        (e.set, e.clear),
        (Status::DRAIN, Status::NONE),
        "E is not held"
    );
    assert_eq!(
        (e.lbfactor, e.lbset, e.route.as_ref()),
        (Some(700), None, None)
    );
    assert!(member_edits(&next, &next).is_empty());
}

#[test]
fn an_added_https_member_takes_its_balancers_tls_keys() {
    let with_ca = FILE.replace(
        "name = \"app\"\n",
        "name = \"app\"\ntls_ca = \"/etc/ca.pem\"\n",
    );
    let base = file(&with_ca);
    let mut o = Overrides::default();
    o.add(&base, "app", "https://127.0.0.1:9443", "c", 100)
        .unwrap();
    let cfg = effective(&base, &o);
    let added = &cfg.balancers[0].members[2];
    let tls = added
        .options
        .tls
        .as_ref()
        .expect("an https:// member has TLS");
    assert_eq!(tls.verify, config::TlsVerify::Ca("/etc/ca.pem".into()));
    assert_eq!(tls.server_name, "127.0.0.1");

    // Without a tls_ca to inherit, the result is refused naming the missing key.
    let base = file(FILE);
    let mut o = Overrides::default();
    o.add(&base, "app", "https://127.0.0.1:9443", "c", 100)
        .unwrap();
    let err = plan_reload(&base, &o).unwrap_err();
    assert!(err.contains("tls_ca"), "{err}");
}
