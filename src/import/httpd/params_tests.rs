use super::*;

fn member(params: &[(&str, &str)], ajp: bool) -> (Keys, Notes, Folded) {
    let mut keys = Keys::new();
    let mut notes = Notes::default();
    let mut folded = Folded::default();
    let mut exprs = BTreeMap::new();
    exprs.insert("ok".to_owned(), "{%{REQUEST_STATUS} =~ /^[23]/}".to_owned());
    let loc = Loc::new("f", 1);
    for (k, v) in params {
        let w = Worker {
            keys: &mut keys,
            ajp,
        };
        worker(w, k, v, &exprs, &mut folded, &mut notes, &loc).expect("valid");
    }
    (keys, notes, folded)
}

#[test]
fn worker_parameters_map_to_member_keys() {
    let (keys, notes, folded) = member(
        &[
            ("loadfactor", "2.25"),
            ("lbset", "1"),
            ("status", "H"),
            ("retry", "1ms"),
            ("ttl", "60"),
            ("acquire", "500"),
            ("smax", "5"),
            ("max", "10"),
            ("route", "n1"),
            ("redirect", "n2"),
            ("secret", "s"),
            ("ping", "2"),
            ("timeout", "15"),
            ("hcmethod", "GET"),
            ("hcexpr", "ok"),
            ("min", "1"),
        ],
        true,
    );
    let text = |k: &str| model::get(&keys, k).map(ToString::to_string);
    assert_eq!(text("loadfactor").as_deref(), Some("2.25"));
    assert_eq!(text("lbset").as_deref(), Some("1"));
    assert_eq!(text("status").as_deref(), Some("\"+H\""));
    assert_eq!(text("retry").as_deref(), Some("\"1ms\""));
    assert_eq!(text("ttl").as_deref(), Some("60"));
    assert_eq!(text("acquire").as_deref(), Some("\"500ms\""));
    assert_eq!(text("smax").as_deref(), Some("5"));
    assert_eq!(text("max").as_deref(), Some("10"));
    assert_eq!(text("secret").as_deref(), Some("\"s\""));
    assert_eq!(text("ping").as_deref(), Some("2"));
    assert_eq!(
        text("health").as_deref(),
        Some("{ method = \"CPING\", status = \"200-399\" }")
    );
    assert_eq!(folded.response.map(|(s, _)| s), Some(15.0));
    assert!(notes.0.iter().any(|n| n.starts_with("timeout=15")));
    assert!(notes.0.iter().any(|n| n.starts_with("min=1")));
    assert!(notes.0.iter().any(|n| n.starts_with("hcmethod=GET")));
}

#[test]
fn loadfactor_out_of_range_is_refused() {
    let mut keys = Keys::new();
    let w = Worker {
        keys: &mut keys,
        ajp: false,
    };
    let err = worker(
        w,
        "loadfactor",
        "0.5",
        &BTreeMap::new(),
        &mut Folded::default(),
        &mut Notes::default(),
        &Loc::new("f", 3),
    );
    assert!(err.is_err());
}

#[test]
fn balancer_parameters_map_to_balancer_keys() {
    let mut keys = Keys::new();
    let mut notes = Notes::default();
    let loc = Loc::new("f", 1);
    for (k, v) in [
        ("lbmethod", "bytraffic"),
        ("stickysession", "JSESSIONID|jsessionid"),
        ("nofailover", "On"),
        ("scolonpathdelim", "off"),
        ("maxattempts", "2"),
        ("failonstatus", "500,503"),
        ("forcerecovery", "Off"),
        ("growth", "10"),
    ] {
        balancer(&mut keys, k, v, &mut notes, &loc).expect("valid");
    }
    let text = |k: &str| model::get(&keys, k).map(ToString::to_string);
    assert_eq!(text("lbmethod").as_deref(), Some("\"bytraffic\""));
    assert_eq!(text("nofailover").as_deref(), Some("true"));
    assert_eq!(text("scolonpathdelim").as_deref(), Some("false"));
    assert_eq!(text("failonstatus").as_deref(), Some("[500, 503]"));
    assert_eq!(notes.0.len(), 1, "{notes:?}");
    let mut notes = Notes::default();
    balancer(&mut keys, "lbmethod", "heartbeat", &mut notes, &loc).expect("valid");
    assert_eq!(
        model::get(&keys, "lbmethod").and_then(|v| v.as_str()),
        Some("byrequests")
    );
    assert!(balancer(&mut keys, "nofailover", "maybe", &mut notes, &loc).is_err());
}

#[test]
fn health_status_ranges() {
    assert_eq!(
        status_range("{%{REQUEST_STATUS} =~ /^[234]/}").as_deref(),
        Some("200-499")
    );
    assert_eq!(
        status_range("%{REQUEST_STATUS} < 400").as_deref(),
        Some("100-399")
    );
    assert_eq!(status_range("hc('body') =~ /OK/"), None);
    assert_eq!(duration("2mi", "s").map(|(s, _)| s), Some(120.0));
}
