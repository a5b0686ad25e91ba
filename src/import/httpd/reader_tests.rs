use super::*;

/// Reads `files` (name, text; the first is the main file) from a scratch server root.
fn read_files(
    test: &str,
    files: &[(&str, &str)],
    defines: &[&str],
) -> Result<Vec<Directive>, ImportError> {
    let root =
        std::env::temp_dir().join(format!("ringlb-httpd-reader-{}-{test}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    for (name, text) in files {
        let path = root.join(name);
        std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
        std::fs::write(&path, text).expect("write");
    }
    let defines: Vec<String> = defines.iter().map(|d| d.to_string()).collect();
    let env = |n: &str| (n == "FROM_ENV").then(|| "/env".to_owned());
    let options = Options {
        defines: &defines,
        server_root: Some(&root),
        env: &env,
    };
    let mut report = Report::default();
    let main = root.join(files[0].0);
    let out = read(&main, &options, &mut report).map(|r| r.directives);
    let _ = std::fs::remove_dir_all(&root);
    out
}

fn names(ds: &[Directive]) -> Vec<String> {
    ds.iter()
        .map(|d| format!("{} {}", d.name, d.args.join(" ")))
        .collect()
}

#[test]
fn conditionals_decide_what_is_read() {
    let text = "<IfDefine X>\nServerName x\n</IfDefine>\n<IfDefine !X>\nServerName notx\n</IfDefine>\n\
                <IfModule mod_proxy.c>\nListen 1\n</IfModule>\n<IfModule !proxy_module>\nListen 2\n</IfModule>\n\
                <IfModule mod_nothing.c>\nBogusDirective\n<Nested>\n</Nested>\n</IfModule>\n\
                <IfVersion >= 2.4.49>\nListen 3\n</IfVersion>\n<IfVersion < 2.4>\nListen 4\n</IfVersion>\n\
                Define D /d\nListen ${D}:5\n<IfDefine D>\nListen 6\n</IfDefine>\n";
    let got = names(&read_files("cond", &[("h.conf", text)], &[]).expect("reads"));
    assert_eq!(
        got,
        [
            "ServerName notx",
            "Listen 1",
            "Listen 3",
            "Listen /d:5",
            "Listen 6"
        ]
    );
    let got = names(&read_files("cond-d", &[("h.conf", text)], &["X"]).expect("reads"));
    assert_eq!(got[0], "ServerName x");
}

#[test]
fn sections_carry_their_scope() {
    let text =
        "<VirtualHost *:80>\n<Location /a>\nProxyPass balancer://c/\n</Location>\n</VirtualHost>\n\
                <Proxy balancer://c>\nBalancerMember http://m\n</Proxy>\n";
    let ds = read_files("scope", &[("h.conf", text)], &[]).expect("reads");
    let pass = ds.iter().find(|d| d.key == "proxypass").expect("ProxyPass");
    assert_eq!(pass.scope.vhost, Some(0));
    assert_eq!(pass.scope.location, Some(("/a".to_owned(), false)));
    let member = ds
        .iter()
        .find(|d| d.key == "balancermember")
        .expect("member");
    assert_eq!(member.scope.vhost, None);
    assert_eq!(member.scope.proxy, Some(("balancer://c".to_owned(), false)));
}

#[test]
fn includes_follow_globs_relative_to_the_root() {
    let files = [
        (
            "conf/h.conf",
            "Include conf/sub/*.conf\nIncludeOptional conf/none/*.conf\nListen ${FROM_ENV}:1\n",
        ),
        ("conf/sub/b.conf", "Listen 2\n"),
        ("conf/sub/a.conf", "Listen 1\n"),
    ];
    let got = names(&read_files("inc", &files, &[]).expect("reads"));
    assert_eq!(got, ["Listen 1", "Listen 2", "Listen /env:1"]);
}

#[test]
fn what_httpd_refuses_is_refused_with_its_line() {
    let cases: &[(&str, usize, &str)] = &[
        ("Listen 1\nBogus x\n", 2, "Invalid command 'Bogus'"),
        (
            "<VirtualHost *:80>\nListen 1\n",
            1,
            "<VirtualHost> was not closed",
        ),
        ("</VirtualHost>\n", 1, "without matching"),
        (
            "<VirtualHost *:80>\n</Location>\n",
            2,
            "expected </VirtualHost>",
        ),
        ("<Location /x\n</Location>\n", 1, "missing closing '>'"),
        ("Include conf/missing.conf\n", 1, "no such file"),
        ("Include conf/none/*.conf\n", 1, "no file matches"),
        (
            "<VirtualHost *:80>\n\u{a0} ServerName x\n</VirtualHost>\n",
            2,
            "no-break space",
        ),
        ("<Bogus>\n</Bogus>\n", 1, "Invalid command '<Bogus'"),
        (
            "<VirtualHost a>\n<VirtualHost b>\n</VirtualHost>\n</VirtualHost>\n",
            2,
            "cannot occur",
        ),
        ("<IfModule x>\n", 1, "was not closed"),
        ("<Proxy>\n</Proxy>\n", 1, "must specify a path"),
        (
            "<ProxyMatch ^balancer://c lbmethod=bytraffic>\n</ProxyMatch>\n",
            1,
            "multiple arguments",
        ),
        ("<Proxy balancer://* a=b>\n</Proxy>\n", 1, "wildchar"),
        ("<Proxy /local a=b>\n</Proxy>\n", 1, "non url"),
        (
            "<Proxy balancer://c lbmethod>\n</Proxy>\n",
            1,
            "form 'key=value'",
        ),
    ];
    for (i, (text, line, want)) in cases.iter().enumerate() {
        let err = read_files(&format!("bad{i}"), &[("conf/h.conf", text)], &[]).expect_err(text);
        assert_eq!(err.loc.line, *line, "{text:?}: {err}");
        assert!(err.message.contains(want), "{text:?}: {err}");
    }
}

#[test]
fn proxy_parameters_come_after_the_section_as_httpd_sets_them() {
    let text = "<Proxy balancer://c stickysession=S>\nProxySet stickysession=T\n</Proxy>\n\
                <Proxy balancer://d>\n</Proxy>\n";
    let ds = read_files("proxy-params", &[("h.conf", text)], &[]).expect("reads");
    assert_eq!(
        names(&ds),
        [
            "<Proxy balancer://c stickysession=S",
            "ProxySet stickysession=T",
            "</Proxy balancer://c stickysession=S",
            "<Proxy balancer://d",
        ]
    );
    let close = &ds[2];
    assert_eq!((close.key.as_str(), close.loc.line), ("</proxy", 1));
    assert_eq!(close.scope.proxy, Some(("balancer://c".to_owned(), false)));
}

#[test]
fn nbsp_after_a_section_close_is_dropped_as_httpd_does() {
    let text = "<VirtualHost *:80>\u{a0}\u{a0} DocumentRoot \"/x\"\u{a0} ServerName \"a\"\n</VirtualHost>\n";
    let ds = read_files("nbsp", &[("h.conf", text)], &[]).expect("reads");
    assert_eq!(names(&ds), ["<VirtualHost *:80"]);
}
