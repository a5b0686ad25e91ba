use super::*;

fn pairs(q: &str) -> Vec<(String, String)> {
    crate::admin::form::decode_pairs(q.as_bytes()).unwrap_or_default()
}

fn snap() -> Snapshot {
    let m = |route: &str, port: u16, status: &str, health: Health| MemberView {
        url: format!("http://127.0.0.1:{port}"),
        address: format!("127.0.0.1:{port}"),
        route: route.into(),
        loadfactor: 1.0,
        status: status.into(),
        health,
        ..MemberView::default()
    };
    Snapshot {
        balancers: vec![BalancerView {
            name: "lb".into(),
            lbmethod: "byrequests".into(),
            sticky: Some("JSESSIONID".into()),
            members: vec![
                m("node1", 9001, "", Health::Ok),
                m("", 9002, "N", Health::Draining),
                m("node3", 9003, "S", Health::Stopped),
            ],
            ..BalancerView::default()
        }],
        ..Snapshot::default()
    }
}

fn server() -> Server {
    Server {
        name: "127.0.0.1".into(),
        port: 8081,
        datetime: "20261203083445".into(),
        unix: 1_796_286_885,
        web_server: "ringlb/0.1.0".into(),
    }
}

#[test]
fn queries_parse_as_mod_jk_reads_them() {
    let q = parse_query(&pairs("cmd=update&w=lb&sw=node1&vwa=D&mime=prop")).unwrap();
    assert_eq!((q.cmd, q.mime), (Cmd::Update, Mime::Prop));
    assert_eq!(
        (q.w.as_deref(), q.sw.as_deref()),
        (Some("lb"), Some("node1"))
    );
    assert_eq!(q.update.activation, Some(Activation::Disabled));
    let cases: &[(&str, Option<Activation>)] = &[
        ("vwa=A", Some(Activation::Active)),
        ("vwa=0", Some(Activation::Active)),
        ("vwa=1", Some(Activation::Disabled)),
        ("vwa=S", Some(Activation::Stopped)),
        ("vwa=2", Some(Activation::Stopped)),
        ("", None),
    ];
    for (q, want) in cases {
        assert_eq!(
            parse_query(&pairs(q)).unwrap().update.activation,
            *want,
            "{q}"
        );
    }
    let q = parse_query(&pairs("vwf=3&vwd=1&vwn=n9&vwr=n2")).unwrap();
    assert_eq!(q.cmd, Cmd::List, "list is the default");
    assert_eq!(q.mime, Mime::Txt);
    assert_eq!(
        q.update,
        Update {
            activation: None,
            lbfactor: Some(3),
            distance: Some(1),
            route: Some("n9".into()),
            redirect: Some("n2".into()),
        }
    );
    for bad in [
        "cmd=edit", "vwa=X", "vwf=0", "vwf=101", "vwd=100", "vwf=-1", "vwd=x",
    ] {
        assert!(parse_query(&pairs(bad)).is_err(), "{bad}");
    }
    assert_eq!(
        parse_query(&pairs("mime=xml&cmd=bogus")).unwrap_err().0,
        Mime::Xml
    );
}

#[test]
fn selection_by_w_and_sw() {
    let s = snap();
    assert_eq!(
        select(&s, Some("lb"), None).map(|(b, i)| (b.name.as_str(), i)),
        Ok(("lb", None))
    );
    assert_eq!(
        select(&s, Some("lb"), Some("node3")).map(|(_, i)| i),
        Ok(Some(2))
    );
    assert_eq!(
        select(&s, Some("lb"), Some("member2")).map(|(_, i)| i),
        Ok(Some(1))
    );
    assert_eq!(
        select(&s, Some("x"), None).unwrap_err(),
        "could not find worker"
    );
    assert_eq!(
        select(&s, Some("lb"), Some("nodeX")).unwrap_err(),
        "could not find sub worker"
    );
    assert!(select(&s, None, None).is_err());
}

#[test]
fn prop_has_mod_jks_names() {
    let s = snap();
    let body = Body::Balancers(vec![(&s.balancers[0], None)]);
    let text = render(Mime::Prop, &server(), &body, Ok(()));
    for line in [
        "worker.server_name=127.0.0.1\n",
        "worker.server_port=8081\n",
        "worker.time_unix=1796286885\n",
        "worker.lb_count=1\n",
        "worker.list=lb\n",
        "worker.lb.type=lb\n",
        "worker.lb.sticky_session=True\n",
        "worker.lb.method=Request\n",
        "worker.lb.member_count=3\n",
        "worker.lb.good=1\n",
        "worker.lb.balance_workers=node1\nworker.node1.type=http\n",
        "worker.node1.activation=ACT\n",
        "worker.node1.lbfactor=1\n",
        "worker.node1.distance=0\n",
        "worker.node1.state=OK/IDLE\n",
        "worker.node1.busy=0\n",
        "worker.lb.balance_workers=member2\n",
        "worker.member2.activation=DIS\n",
        "worker.node3.activation=STP\n",
        "worker.result.type=OK\nworker.result.message=Action finished\n",
    ] {
        assert!(text.contains(line), "{line:?} missing in\n{text}");
    }
    let one = Body::Balancers(vec![(&s.balancers[0], Some(2))]);
    let text = render(Mime::Prop, &server(), &one, Ok(()));
    assert!(
        text.contains("worker.node3.") && !text.contains("worker.node1."),
        "{text}"
    );
}

#[test]
fn txt_and_xml_shapes() {
    let s = snap();
    let body = Body::Balancers(vec![(&s.balancers[0], Some(0))]);
    let txt = render(Mime::Txt, &server(), &body, Ok(()));
    assert!(
        txt.starts_with("Server: name=127.0.0.1 port=8081\n"),
        "{txt}"
    );
    assert!(
        txt.contains("\nBalancer Workers: count=1\nBalancer Worker: name=lb type=lb "),
        "{txt}"
    );
    assert!(
        txt.contains("\nMember: name=node1 type=http host=127.0.0.1 port=9001 "),
        "{txt}"
    );
    assert!(txt.contains(" route=node1 redirect=\"\" "), "{txt}");
    assert!(
        txt.ends_with("Result: type=OK message=\"Action finished\"\n"),
        "{txt}"
    );

    let xml = render(Mime::Xml, &server(), &body, Ok(()));
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<jk:status\n  xmlns:jk=\"http://tomcat.apache.org\">\n<jk:server\n  name=\"127.0.0.1\"\n  port=\"8081\"\n/>\n"), "{xml}");
    assert!(
        xml.contains(
            "<jk:balancers\n  count=\"1\"\n>\n  <jk:balancer\n    name=\"lb\"\n    type=\"lb\"\n"
        ),
        "{xml}"
    );
    assert!(
        xml.contains("      <jk:member\n        name=\"node1\"\n"),
        "{xml}"
    );
    assert!(xml.contains("        activation=\"ACT\"\n"), "{xml}");
    assert!(xml.ends_with("  </jk:balancer>\n</jk:balancers>\n  <jk:result\n    type=\"OK\"\n    message=\"Action finished\"\n  />\n</jk:status>\n"), "{xml}");
}

#[test]
fn results_only_and_errors_are_escaped() {
    let prop = render(
        Mime::Prop,
        &server(),
        &Body::ResultOnly,
        Err("could not find sub worker"),
    );
    assert_eq!(
        prop,
        "worker.result.type=ERROR\nworker.result.message=could not find sub worker\n"
    );
    let txt = render(Mime::Txt, &server(), &Body::ResultOnly, Ok(()));
    assert_eq!(txt, "Result: type=OK message=\"Action finished\"\n");
    let xml = render(Mime::Xml, &server(), &Body::ResultOnly, Err("bad <\"x\">"));
    assert_eq!(
        xml,
        "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n<jk:status\n  xmlns:jk=\"http://tomcat.apache.org\">\n  <jk:result\n    type=\"ERROR\"\n    message=\"bad &lt;&quot;x&quot;&gt;\"\n  />\n</jk:status>\n"
    );
    let v = render(Mime::Prop, &server(), &Body::Version, Ok(()));
    assert!(
        v.starts_with("worker.server_name=127.0.0.1\n")
            && v.contains("worker.jk_version=ringlb/0.1.0\n"),
        "{v}"
    );
    assert!(!v.contains("worker.list"), "{v}");
}
