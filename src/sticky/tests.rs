//! One case per grammar clause of the `sticky` module doc, as `(input, expected)` tables.

use super::*;

fn cfg() -> Sticky {
    Sticky {
        cookie_name: "JSESSIONID".into(),
        url_name: "jsessionid".into(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    }
}

/// Runs `collect_routes` with the default names and returns the routes as strings.
fn routes(target: &str, cookies: &[&str]) -> Vec<String> {
    let mut out = Routes::new();
    collect_routes(
        &cfg(),
        target.as_bytes(),
        cookies.iter().map(|c| c.as_bytes()),
        &mut out,
    );
    out.iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect()
}

#[test]
fn clause1_url_name_must_follow_a_delimiter() {
    let cases: &[(&str, &[&str])] = &[
        ("/app;jsessionid=abc.n1", &["n1"]),
        ("/app?jsessionid=abc.n2", &["n2"]),
        ("/app?x=1&jsessionid=abc.n3", &["n3"]),
        ("/app;xjsessionid=abc.n1", &[]),
        ("/app?xjsessionid=abc.n1", &[]),
        ("/jsessionid=abc.n1", &[]),
        ("/app;JSESSIONID=abc.n1", &[]),
        ("/app;jsessionid", &[]),
        ("/app;jsessionidx=abc.n1", &[]),
        // A false match first does not hide a real one later.
        ("/app;xjsessionid=abc.n1;jsessionid=abc.n2", &["n2"]),
    ];
    for (target, want) in cases {
        assert_eq!(routes(target, &[]), *want, "target {target:?}");
    }
}

#[test]
fn clause2_url_value_ends_at_delimiters() {
    let cases: &[(&str, &[&str])] = &[
        ("/app;jsessionid=abc.n1?x=1", &["n1"]),
        ("/app;jsessionid=abc.n1/more", &["n1"]),
        ("/app;jsessionid=abc.n1;x=y", &["n1"]),
        ("/app;jsessionid=abc.n1&x=y", &["n1"]),
        ("/app?jsessionid=abc.n2&y", &["n2"]),
        ("/app?jsessionid=abc.n2;y", &["n2"]),
        // `/` ends a value only in the path.
        ("/app?jsessionid=abc.n2/x", &["n2/x"]),
        // Empty values are skipped; a later non-empty one is used.
        ("/app;jsessionid=?jsessionid=abc.n4", &["n4"]),
        ("/app;jsessionid=", &[]),
        // At most one URL route: the first.
        ("/app;jsessionid=a.n1?jsessionid=b.n2", &["n1"]),
    ];
    for (target, want) in cases {
        assert_eq!(routes(target, &[]), *want, "target {target:?}");
    }
}

#[test]
fn clause3_cookie_position_among_others() {
    let cases: &[(&str, &[&str])] = &[
        ("JSESSIONID=abc.n1", &["n1"]),
        ("JSESSIONID=abc.n1; a=1; b=2", &["n1"]),
        ("a=1; JSESSIONID=abc.n1; b=2", &["n1"]),
        ("a=1; b=2; JSESSIONID=abc.n1", &["n1"]),
        ("a=1;JSESSIONID=abc.n1", &["n1"]),
        ("a=1,JSESSIONID=abc.n1", &["n1"]),
        ("a=1,\tJSESSIONID=abc.n1", &["n1"]),
        ("a=1; b=2", &[]),
        ("", &[]),
        ("XJSESSIONID=abc.n1", &[]),
        ("a=1; XJSESSIONID=abc.n1", &[]),
        ("JSESSIONIDX=abc.n1", &[]),
        ("a=JSESSIONID=abc.n1", &[]),
        // The name is case-sensitive.
        ("jsessionid=abc.n1", &[]),
        ("JSessionId=abc.n1", &[]),
    ];
    for (header, want) in cases {
        assert_eq!(routes("/app", &[header]), *want, "cookie {header:?}");
    }
}

#[test]
fn clause4_whitespace_and_quotes() {
    let cases: &[(&str, &[&str])] = &[
        ("JSESSIONID = abc.n1", &["n1"]),
        ("JSESSIONID\t=\tabc.n1 ; a=1", &["n1"]),
        ("JSESSIONID=abc.n1   ", &["n1"]),
        ("JSESSIONID=\"abc.n1\"", &["n1"]),
        ("a=1; JSESSIONID= \"abc.n1\" ; b=2", &["n1"]),
        // An unbalanced quote is not stripped: it stays in the id (here before the dot) or
        // in the route.
        ("JSESSIONID=\"abc.n1", &["n1"]),
        ("JSESSIONID=abc.n1\"", &["n1\""]),
        ("JSESSIONID=", &[]),
        ("JSESSIONID=;a=1", &[]),
    ];
    for (header, want) in cases {
        assert_eq!(routes("/app", &[header]), *want, "cookie {header:?}");
    }
}

#[test]
fn clause5_every_matching_cookie_in_order() {
    let cases: &[(&[&str], &[&str])] = &[
        (&["JSESSIONID=a.n1; JSESSIONID=b.n2"], &["n1", "n2"]),
        (&["JSESSIONID=a.n1", "JSESSIONID=b.n2"], &["n1", "n2"]),
        (&["x=1", "JSESSIONID=b.n2; JSESSIONID=c.n3", "JSESSIONID=d.n4"], &["n2", "n3", "n4"]),
        // Duplicates are kept: the balancer tries each.
        (&["JSESSIONID=a.n1; JSESSIONID=b.n1"], &["n1", "n1"]),
        // An id without a route is skipped, the next cookie still counts.
        (&["JSESSIONID=nodot; JSESSIONID=b.n2"], &["n2"]),
        // More than four routes spill from the inline storage but are all kept.
        (
            &["JSESSIONID=a.r1; JSESSIONID=a.r2; JSESSIONID=a.r3; JSESSIONID=a.r4; JSESSIONID=a.r5"],
            &["r1", "r2", "r3", "r4", "r5"],
        ),
    ];
    for (headers, want) in cases {
        assert_eq!(routes("/app", headers), *want, "cookies {headers:?}");
    }
}

#[test]
fn clause6_route_is_after_the_first_dot() {
    let cases: &[(&str, Option<&str>)] = &[
        ("abc.n1", Some("n1")),
        ("abc.n1.x", Some("n1.x")),
        (".n1", Some("n1")),
        ("abc", None),
        ("abc.", None),
        ("", None),
    ];
    for (id, want) in cases {
        assert_eq!(
            route_of(id.as_bytes()),
            want.map(str::as_bytes),
            "id {id:?}"
        );
    }
    assert_eq!(
        routes("/app;jsessionid=nodot", &["JSESSIONID=nodot"]),
        Vec::<String>::new()
    );
}

/// Runs `collect_routes` with the default names: where it looked, and the routes.
fn found(target: &str, cookies: &[&str]) -> (Source, Vec<String>) {
    let mut out = Routes::new();
    let source = collect_routes(
        &cfg(),
        target.as_bytes(),
        cookies.iter().map(|c| c.as_bytes()),
        &mut out,
    );
    let routes = out.iter().map(|r| String::from_utf8_lossy(r).into_owned());
    (source, routes.collect())
}

#[test]
fn a_url_session_id_decides_alone_the_cookies_only_without_one() {
    use Source::{Cookies, Url};
    // (target, cookie header, where the id was found, routes)
    let cases: &[(&str, &str, Source, &[&str])] = &[
        // Issue 9 defect 13: the URL's route, never the cookie's behind it.
        ("/x;jsessionid=abc.a", "JSESSIONID=abc.c", Url, &["a"]),
        ("/x?jsessionid=abc.a", "JSESSIONID=abc.c", Url, &["a"]),
        // A URL id without a route still decides: no route at all (Apache balances).
        ("/x;jsessionid=nodot", "JSESSIONID=abc.c", Url, &[]),
        ("/x;jsessionid=abc.", "JSESSIONID=abc.c", Url, &[]),
        // Nor do duplicate cookies come back behind a URL id.
        (
            "/x;jsessionid=abc.a",
            "JSESSIONID=1.b; JSESSIONID=2.c",
            Url,
            &["a"],
        ),
        // No URL id (no name, an empty value, a false prefix): every cookie, in order.
        ("/x", "JSESSIONID=abc.c", Cookies, &["c"]),
        ("/x;jsessionid=", "JSESSIONID=abc.c", Cookies, &["c"]),
        ("/x;xjsessionid=abc.a", "JSESSIONID=abc.c", Cookies, &["c"]),
        ("/x", "JSESSIONID=1.b; JSESSIONID=2.c", Cookies, &["b", "c"]),
        ("/x", "a=1", Cookies, &[]),
    ];
    for (target, cookie, source, want) in cases {
        let want: Vec<String> = want.iter().map(|r| r.to_string()).collect();
        assert_eq!(
            found(target, &[cookie]),
            (*source, want),
            "{target:?} {cookie:?}"
        );
    }
    assert_eq!(found("/x;jsessionid=abc.a", &[]), (Url, vec!["a".into()]));
    assert_eq!(found("/x", &[]), (Cookies, vec![]));
}

#[test]
fn separate_and_empty_names() {
    let cfg = Sticky {
        cookie_name: "ROUTEID".into(),
        url_name: "sid".into(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    };
    let mut out = Routes::new();
    let cookies = ["JSESSIONID=a.n9; ROUTEID=.n2"];
    let source = collect_routes(
        &cfg,
        b"/a?sid=x.n1",
        cookies.iter().map(|c| c.as_bytes()),
        &mut out,
    );
    assert_eq!((source, out.as_slice()), (Source::Url, &[&b"n1"[..]][..]));
    out.clear();
    let source = collect_routes(&cfg, b"/a", cookies.iter().map(|c| c.as_bytes()), &mut out);
    assert_eq!(
        (source, out.as_slice()),
        (Source::Cookies, &[&b"n2"[..]][..])
    );

    let empty = Sticky {
        cookie_name: String::new(),
        url_name: String::new(),
        sep: Some(b'.'),
        scolonpathdelim: true,
    };
    let mut out = Routes::new();
    let source = collect_routes(&empty, b"/a;=x.n1", [&b"=x.n2"[..]].into_iter(), &mut out);
    assert_eq!(source, Source::Cookies);
    assert!(out.is_empty());
}

#[test]
fn appends_to_existing_routes() {
    let mut out = Routes::new();
    out.push(b"pre");
    let cookies = ["JSESSIONID=a.n1"];
    collect_routes(&cfg(), b"/", cookies.iter().map(|c| c.as_bytes()), &mut out);
    assert_eq!(out.as_slice(), [&b"pre"[..], &b"n1"[..]]);
}

/// Runs `collect_routes` with the default names and the given `sep` / `scolonpathdelim`.
fn routes_with(sep: Option<u8>, scolon: bool, target: &str, cookies: &[&str]) -> Vec<String> {
    let cfg = Sticky {
        sep,
        scolonpathdelim: scolon,
        ..cfg()
    };
    let mut out = Routes::new();
    collect_routes(
        &cfg,
        target.as_bytes(),
        cookies.iter().map(|c| c.as_bytes()),
        &mut out,
    );
    out.iter()
        .map(|r| String::from_utf8_lossy(r).into_owned())
        .collect()
}

#[test]
fn stickysessionsep_takes_the_text_after_the_first_separator() {
    // (sep, session id in a cookie, route)
    let cases: &[(Option<u8>, &str, &[&str])] = &[
        (Some(b'.'), "abc.n1", &["n1"]),
        (Some(b'.'), "abc.dom.n1", &["dom.n1"]),
        (Some(b'.'), "abc", &[]),
        (Some(b'.'), "abc.", &[]),
        (Some(b'.'), ".n1", &["n1"]),
        (Some(b'~'), "abc~n1", &["n1"]),
        (Some(b'~'), "a.b~n1~x", &["n1~x"]),
        (Some(b'~'), "abc.n1", &[]),
        // Off: the whole value is the route (the `ROUTEID=.x` insert recipe then needs
        // `sep` on; with Off the leading dot stays).
        (None, "n1", &["n1"]),
        (None, "abc.n1", &["abc.n1"]),
        (None, ".n1", &[".n1"]),
        (None, "", &[]),
    ];
    for (sep, id, want) in cases {
        let cookie = format!("JSESSIONID={id}");
        assert_eq!(
            routes_with(*sep, true, "/app", &[&cookie]),
            *want,
            "sep {sep:?} cookie {id:?}"
        );
        let target = format!("/app;jsessionid={id}");
        assert_eq!(
            routes_with(*sep, true, &target, &[]),
            *want,
            "sep {sep:?} url {id:?}"
        );
    }
    assert_eq!(route_after(b"a~b", Some(b'~')), Some(&b"b"[..]));
    assert_eq!(route_after(b"a~b", None), Some(&b"a~b"[..]));
    assert_eq!(route_of(b"a.b"), route_after(b"a.b", Some(b'.')));
}

#[test]
fn scolonpathdelim_decides_whether_a_semicolon_ends_the_url_value() {
    // (target, route with scolonpathdelim on, route with it off)
    let cases: &[(&str, &[&str], &[&str])] = &[
        ("/app;jsessionid=ABC.n1;x=y", &["n1"], &["n1;x=y"]),
        ("/app;jsessionid=ABC.n1;x=y?q=1", &["n1"], &["n1;x=y"]),
        ("/app;jsessionid=ABC.n1", &["n1"], &["n1"]),
        ("/app;jsessionid=ABC.n1?q=1", &["n1"], &["n1"]),
        ("/app;jsessionid=ABC.n1&q=1", &["n1"], &["n1"]),
        ("/app;jsessionid=ABC.n1/more", &["n1"], &["n1"]),
        ("/app?jsessionid=ABC.n2;y", &["n2"], &["n2;y"]),
        ("/app?q=1&jsessionid=ABC.n2;y&z", &["n2"], &["n2;y"]),
        // Off: a `;` right after `=` is part of a (non-empty) value; the dot is further on.
        ("/app;jsessionid=;jsessionid=a.n4", &["n4"], &["n4"]),
        ("/app;jsessionid=ABC;x=y.z", &[], &["z"]),
    ];
    for (target, on, off) in cases {
        assert_eq!(
            routes_with(Some(b'.'), true, target, &[]),
            *on,
            "on {target:?}"
        );
        assert_eq!(
            routes_with(Some(b'.'), false, target, &[]),
            *off,
            "off {target:?}"
        );
    }
    // Cookies are not affected: `;` always separates cookies.
    for scolon in [true, false] {
        assert_eq!(
            routes_with(Some(b'.'), scolon, "/", &["JSESSIONID=ABC.n1;x=y"]),
            ["n1"]
        );
    }
    assert_eq!(
        url_session_id_delim(b"/a;jsessionid=x.1;b", b"jsessionid", false),
        Some(&b"x.1;b"[..])
    );
    assert_eq!(
        url_session_id_delim(b"/a;jsessionid=x.1;b", b"jsessionid", true),
        Some(&b"x.1"[..])
    );
}

/// `SessionRoutes::collect` over a parsed request: (request, insert cookie configured,
/// routes in order, the named session).
#[test]
fn session_routes_are_read_once_as_spans() {
    let insert = Sticky {
        sep: Some(b'.'),
        ..Sticky::new("ROUTEID", "")
    };
    type Case = (
        &'static str,
        bool,
        &'static [&'static str],
        Option<(Source, &'static str)>,
    );
    let cases: &[Case] = &[
        ("GET / HTTP/1.1\r\nHost: h\r\n\r\n", false, &[], None),
        (
            "GET /a;jsessionid=x.n1 HTTP/1.1\r\nHost: h\r\nCookie: JSESSIONID=y.n2\r\n\r\n",
            true,
            &["n1"],
            Some((Source::Url, "n1")),
        ),
        (
            "GET / HTTP/1.1\r\nHost: h\r\nCookie: JSESSIONID=y.n2\r\nCookie: ROUTEID=.n3\r\n\r\n",
            true,
            &["n2", "n3"],
            Some((Source::Cookies, "n2")),
        ),
        (
            "GET / HTTP/1.1\r\nHost: h\r\nCookie: ROUTEID=.n3; JSESSIONID=y.n2\r\n\r\n",
            false,
            &["n2"],
            Some((Source::Cookies, "n2")),
        ),
        // Only the insert cookie's route: tried, never named.
        (
            "GET / HTTP/1.1\r\nHost: h\r\nCookie: ROUTEID=.n3\r\n\r\n",
            true,
            &["n3"],
            None,
        ),
    ];
    for &(raw, with_insert, want, session) in cases {
        let buf = raw.as_bytes();
        let head = crate::http::head::parse_request(buf, 64).unwrap().unwrap();
        let got = SessionRoutes::collect(Some(&cfg()), with_insert.then_some(&insert), buf, &head);
        let routes: Vec<&[u8]> = got.routes(buf).to_vec();
        let want: Vec<&[u8]> = want.iter().map(|r| r.as_bytes()).collect();
        assert_eq!(routes, want, "{raw:?}");
        let session = session.map(|(s, r)| (s, r.as_bytes()));
        assert_eq!(got.session(buf), session, "{raw:?}");
    }
    // No sticky config: only the insert cookie is read.
    let raw = b"GET /;jsessionid=a.n1 HTTP/1.1\r\nHost: h\r\nCookie: ROUTEID=.n3\r\n\r\n";
    let head = crate::http::head::parse_request(raw, 64).unwrap().unwrap();
    let got = SessionRoutes::collect(None, Some(&insert), raw, &head);
    assert_eq!(got.routes(raw).to_vec(), vec![b"n3".as_slice()]);
    assert_eq!(got.session(raw), None);
    // A buffer that no longer covers the spans gives no route, never a panic.
    assert!(got.routes(b"").is_empty());
}

#[test]
fn insert_cookie_carries_route_and_attributes() {
    let cookie = InsertCookie {
        name: "ROUTEID".into(),
        path: "/app".into(),
        domain: Some("example.com".into()),
        max_age: Some(3600),
        http_only: true,
        secure: true,
        same_site: Some("Lax".into()),
    };
    let mut out = SmallVec::new();
    insert_cookie_value(&cookie, Some(b'.'), b"node2", &mut out);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "ROUTEID=.node2; Path=/app; Domain=example.com; Max-Age=3600; HttpOnly; Secure; \
         SameSite=Lax"
    );
    for (max_age, text) in [
        (0, "Max-Age=0;"),
        (u64::MAX, "Max-Age=18446744073709551615;"),
    ] {
        let mut out = SmallVec::new();
        let cookie = InsertCookie {
            max_age: Some(max_age),
            ..cookie.clone()
        };
        insert_cookie_value(&cookie, None, b"n", &mut out);
        assert!(
            std::str::from_utf8(&out).unwrap().contains(text),
            "{max_age}"
        );
    }
    let plain = InsertCookie {
        domain: None,
        max_age: None,
        same_site: None,
        ..cookie
    };
    let mut out = SmallVec::new();
    insert_cookie_value(&plain, None, b"n1", &mut out);
    assert_eq!(
        std::str::from_utf8(&out).unwrap(),
        "ROUTEID=n1; Path=/app; HttpOnly; Secure"
    );
}
