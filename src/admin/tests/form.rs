use crate::admin::form::{
    decode_component, decode_pairs, parse_form, parse_json_action, parse_status_change,
    AdminAction, AdminRequest, FormError, StatusLetters,
};

fn letters(s: &str) -> StatusLetters {
    StatusLetters::from_letters(s).expect("settable letters")
}

fn update(member: &str) -> AdminAction {
    AdminAction::Update {
        balancer: "app".to_owned(),
        member: member.to_owned(),
        loadfactor: None,
        lbset: None,
        route: None,
        redirect: None,
        set: StatusLetters::EMPTY,
        clear: StatusLetters::EMPTY,
    }
}

/// An update of member `m1` in `app` with the given loadfactor, lbset and flag changes.
fn update_with(lf: Option<f64>, ls: Option<u32>, set: &str, clear: &str) -> AdminAction {
    AdminAction::Update {
        balancer: "app".to_owned(),
        member: "m1".to_owned(),
        loadfactor: lf,
        lbset: ls,
        route: None,
        redirect: None,
        set: letters(set),
        clear: letters(clear),
    }
}

fn action(input: &str) -> Result<AdminAction, FormError> {
    parse_form(input.as_bytes()).map(|r| r.action)
}

#[test]
fn decoding() {
    let ok = [
        ("", vec![]),
        ("a=1&b=2", vec![("a", "1"), ("b", "2")]),
        ("a=x+y%20z", vec![("a", "x y z")]),
        ("k%3D=%26v", vec![("k=", "&v")]),
        ("flag&&x=", vec![("flag", ""), ("x", "")]),
        ("a=b=c", vec![("a", "b=c")]),
        ("u=%C3%A9%c3%a9", vec![("u", "éé")]),
    ];
    for (input, want) in ok {
        let got = decode_pairs(input.as_bytes()).expect(input);
        let want: Vec<(String, String)> = want
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        assert_eq!(got, want, "{input:?}");
    }
    for bad in ["a=%", "a=%4", "a=%zz", "a=%C3", "%ff=1", "a=%G1"] {
        assert!(
            matches!(decode_pairs(bad.as_bytes()), Err(FormError::Syntax(_))),
            "accepted {bad:?}"
        );
    }
    assert!(decode_component(b"\xff").is_err());
}

#[test]
fn full_update_form_as_the_page_sends_it() {
    let body = "b=app&w=http%3A%2F%2F10.0.0.1%3A8080&nonce=abc&w_lf=2.5&w_ls=3&w_wr=n1&w_rr=\
                &w_status_D=0&w_status_S=0&w_status_N=0&w_status_N=1&w_status_H=0\
                &w_status_R=0&w_status_I=0&w_status_I=1";
    let got = parse_form(body.as_bytes()).expect("valid");
    let want = AdminRequest {
        action: AdminAction::Update {
            balancer: "app".to_owned(),
            member: "http://10.0.0.1:8080".to_owned(),
            loadfactor: Some(2.5),
            lbset: Some(3),
            route: Some("n1".to_owned()),
            redirect: Some(String::new()),
            set: letters("NI"),
            clear: letters("DSHR"),
        },
        nonce: Some("abc".to_owned()),
    };
    assert_eq!(got, want);
}

#[test]
fn form_actions() {
    let drain = update_with(None, None, "N", "");
    let cases: Vec<(&str, Result<AdminAction, FormError>)> = vec![
        ("b=app&w=m1&w_status_N=1", Ok(drain)),
        ("b=app&w=m1", Ok(update("m1"))),
        ("b=app&w=m1&w_lf=&w_ls=", Ok(update("m1"))),
        (
            "b=app&w=m1&w_lf=100&w_ls=99",
            Ok(update_with(Some(100.0), Some(99), "", "")),
        ),
        ("b=app&w=m1&submit=Update&json", Ok(update("m1"))),
        (
            "b=app&w=m1&w_status_C=1&w_status_D=1&w_status_D=0",
            Ok(update_with(None, None, "C", "D")),
        ),
        (
            "b=app&add_url=http://10.0.0.9:8080&add_route=n9&add_lf=5&nonce=x",
            Ok(AdminAction::Add {
                balancer: "app".to_owned(),
                url: "http://10.0.0.9:8080".to_owned(),
                route: "n9".to_owned(),
                loadfactor: 5.0,
            }),
        ),
        (
            "b=app&add_url=HTTP://h",
            Ok(AdminAction::Add {
                balancer: "app".to_owned(),
                url: "HTTP://h".to_owned(),
                route: String::new(),
                loadfactor: 1.0,
            }),
        ),
        (
            "b=app&w=m1&remove=1",
            Ok(AdminAction::Remove {
                balancer: "app".to_owned(),
                member: "m1".to_owned(),
            }),
        ),
        ("clear_overrides=1", Ok(AdminAction::ClearOverrides)),
        (
            "clear_overrides=yes",
            Err(FormError::Invalid {
                field: "clear_overrides".to_owned(),
                message: "expected 1, got \"yes\"".to_owned(),
            }),
        ),
        ("", Err(FormError::NoAction)),
        ("json", Err(FormError::NoAction)),
        ("b=app", Err(FormError::Missing("w"))),
        ("w=m1", Err(FormError::Missing("b"))),
        ("b=app&remove=1", Err(FormError::Missing("w"))),
        ("add_url=http://h", Err(FormError::Missing("b"))),
    ];
    for (input, want) in cases {
        assert_eq!(action(input), want, "{input:?}");
    }
}

#[test]
fn form_validation_errors_name_the_field() {
    let cases = [
        ("b=app&w=m1&w_lf=0", "w_lf"),
        ("b=app&w=m1&w_lf=100.5", "w_lf"),
        ("b=app&w=m1&w_lf=abc", "w_lf"),
        ("b=app&w=m1&w_lf=NaN", "w_lf"),
        ("b=app&w=m1&w_lf=inf", "w_lf"),
        ("b=app&w=m1&w_ls=100", "w_ls"),
        ("b=app&w=m1&w_ls=-1", "w_ls"),
        ("b=app&w=m1&w_ls=1.5", "w_ls"),
        ("b=app&w=m1&w_wr=a+b", "w_wr"),
        ("b=app&w=m1&w_wr=a;b", "w_wr"),
        ("b=app&w=m1&w_wr=a%2Cb", "w_wr"),
        ("b=app&w=m1&w_wr=a%3Db", "w_wr"),
        ("b=app&w=m1&w_wr=a%22b", "w_wr"),
        ("b=app&w=m1&w_rr=%C3%A9", "w_rr"),
        ("b=app&w=m1&w_status_E=1", "w_status_E"),
        ("b=app&w=m1&w_status_X=1", "w_status_X"),
        ("b=app&w=m1&w_status_DN=1", "w_status_DN"),
        ("b=app&w=m1&w_status_=1", "w_status_"),
        ("b=app&w=m1&w_status_D=on", "w_status_D"),
        ("b=app&w=m1&w_status_D=2", "w_status_D"),
        ("b=app&w=m1&remove=yes", "remove"),
        ("b=&w=m1", "b"),
        ("b=app&w=", "w"),
        ("b=app&add_url=ftp://h", "add_url"),
        ("b=app&add_url=http://", "add_url"),
        ("b=app&add_url=http://a+b", "add_url"),
        ("b=app&add_url=http://h&add_lf=101", "add_lf"),
        ("b=app&add_url=http://h&add_route=x%20y", "add_route"),
    ];
    for (input, field) in cases {
        match action(input) {
            Err(FormError::Invalid { field: f, message }) => {
                assert_eq!(f, field, "{input:?}");
                assert!(!message.is_empty());
            }
            other => panic!("{input:?}: expected Invalid({field}), got {other:?}"),
        }
    }
    let long_route = format!("b=app&w=m1&w_wr={}", "r".repeat(97));
    assert!(matches!(
        action(&long_route),
        Err(FormError::Invalid { .. })
    ));
    let ok_route = format!("b=app&w=m1&w_wr={}", "r".repeat(96));
    assert!(action(&ok_route).is_ok());
}

#[test]
fn error_messages() {
    let e = action("b=app&w=m1&w_lf=0").expect_err("out of range");
    assert_eq!(e.to_string(), "w_lf: 0 is out of range 1..=100");
    assert_eq!(FormError::Missing("w").to_string(), "missing field w");
    assert_eq!(FormError::NoAction.to_string(), "no action requested");
    let e = action("b=app&w=m1&w_status_E=1").expect_err("E");
    assert!(e.to_string().contains("DSIHRNC"), "{e}");
}

#[test]
fn status_letters() {
    let mut s = StatusLetters::EMPTY;
    assert!(s.is_empty());
    assert!(s.insert(b'N'));
    assert!(s.insert(b'D'));
    assert!(!s.insert(b'E'));
    assert!(s.contains(b'D') && s.contains(b'N') && !s.contains(b'S'));
    assert_eq!(s.to_string(), "DN");
    s.remove(b'D');
    assert_eq!(s.to_string(), "N");
    assert_eq!(
        StatusLetters::from_letters("CRHISD").map(|l| l.to_string()),
        Some("DSIHRC".to_owned())
    );
    assert_eq!(StatusLetters::from_letters("DE"), None);
}

#[test]
fn status_change_grammar() {
    let ok = [
        ("", "", ""),
        ("+N-D", "N", "D"),
        ("N", "N", ""),
        ("-DS+H", "H", "DS"),
        ("+N+N", "N", ""),
        ("+CIR-", "IRC", ""),
    ];
    for (input, set, clear) in ok {
        assert_eq!(
            parse_status_change(input),
            Ok((letters(set), letters(clear))),
            "{input:?}"
        );
    }
    for bad in ["+E", "+N-N", "-D+D", "+n", "+N -D", "X"] {
        assert!(
            matches!(parse_status_change(bad), Err(FormError::Invalid { .. })),
            "accepted {bad:?}"
        );
    }
}

#[test]
fn json_actions() {
    let body = br#"{"balancer":"app","member":"http://10.0.0.1:8080","loadfactor":2,"lbset":0,
                    "route":"n1","redirect":"","status":"+N-D","nonce":"abc"}"#;
    assert_eq!(
        parse_json_action(body),
        Ok(AdminRequest {
            action: AdminAction::Update {
                balancer: "app".to_owned(),
                member: "http://10.0.0.1:8080".to_owned(),
                loadfactor: Some(2.0),
                lbset: Some(0),
                route: Some("n1".to_owned()),
                redirect: Some(String::new()),
                set: letters("N"),
                clear: letters("D"),
            },
            nonce: Some("abc".to_owned()),
        })
    );
    let cases: Vec<(&str, Result<AdminAction, FormError>)> = vec![
        (r#"{"balancer":"app","member":"m1"}"#, Ok(update("m1"))),
        (
            r#"{"balancer":"app","member":"m1","route":null,"status":"N"}"#,
            Ok(update_with(None, None, "N", "")),
        ),
        (
            r#"{"add":{"balancer":"app","url":"http://10.0.0.9:8080","route":"n9","loadfactor":1.5}}"#,
            Ok(AdminAction::Add {
                balancer: "app".to_owned(),
                url: "http://10.0.0.9:8080".to_owned(),
                route: "n9".to_owned(),
                loadfactor: 1.5,
            }),
        ),
        (
            r#"{"add":{"balancer":"app","url":"http://h"}}"#,
            Ok(AdminAction::Add {
                balancer: "app".to_owned(),
                url: "http://h".to_owned(),
                route: String::new(),
                loadfactor: 1.0,
            }),
        ),
        (
            r#"{"remove":{"balancer":"app","member":"m1"},"nonce":"x"}"#,
            Ok(AdminAction::Remove {
                balancer: "app".to_owned(),
                member: "m1".to_owned(),
            }),
        ),
        (
            r#"{"clear_overrides":true,"nonce":"x"}"#,
            Ok(AdminAction::ClearOverrides),
        ),
        ("{}", Err(FormError::NoAction)),
        (r#"{"nonce":"x"}"#, Err(FormError::NoAction)),
        (r#"{"balancer":"app"}"#, Err(FormError::Missing("member"))),
        (
            r#"{"remove":{"balancer":"app"}}"#,
            Err(FormError::Missing("remove.member")),
        ),
        (
            r#"{"add":{"url":"http://h"}}"#,
            Err(FormError::Missing("add.balancer")),
        ),
    ];
    for (input, want) in cases {
        assert_eq!(
            parse_json_action(input.as_bytes()).map(|r| r.action),
            want,
            "{input}"
        );
    }
}

#[test]
fn json_rejections() {
    let syntax = [
        "",
        "[]",
        "{",
        r#"{"balancer":"app","member":"m1","loadfator":2}"#,
        r#"{"balancer":"app","member":"m1","lbset":1.5}"#,
        r#"{"balancer":"app","member":"m1","loadfactor":"2"}"#,
        r#"{"balancer":"app","member":"m1","remove":{"balancer":"app","member":"m1"}}"#,
        r#"{"add":{"balancer":"app","url":"http://h"},"remove":{"balancer":"a","member":"m"}}"#,
        r#"{"add":{"balancer":"app","url":"http://h","extra":1}}"#,
    ];
    for input in syntax {
        assert!(
            matches!(
                parse_json_action(input.as_bytes()),
                Err(FormError::Syntax(_))
            ),
            "accepted {input}"
        );
    }
    let invalid = [
        (
            r#"{"balancer":"app","member":"m1","loadfactor":0}"#,
            "loadfactor",
        ),
        (r#"{"balancer":"app","member":"m1","lbset":-1}"#, "lbset"),
        (r#"{"balancer":"app","member":"m1","lbset":100}"#, "lbset"),
        (r#"{"balancer":"app","member":"m1","route":"a b"}"#, "route"),
        (
            r#"{"balancer":"app","member":"m1","redirect":"a;b"}"#,
            "redirect",
        ),
        (
            r#"{"balancer":"app","member":"m1","status":"+E"}"#,
            "status",
        ),
        (r#"{"balancer":"","member":"m1"}"#, "balancer"),
        (r#"{"add":{"balancer":"app","url":"https://h"}}"#, "add.url"),
        (
            r#"{"add":{"balancer":"app","url":"http://h","loadfactor":1000}}"#,
            "add.loadfactor",
        ),
        (
            r#"{"add":{"balancer":"app","url":"http://h","route":"x=y"}}"#,
            "add.route",
        ),
    ];
    for (input, field) in invalid {
        match parse_json_action(input.as_bytes()) {
            Err(FormError::Invalid { field: f, .. }) => assert_eq!(f, field, "{input}"),
            other => panic!("{input}: expected Invalid({field}), got {other:?}"),
        }
    }
}
