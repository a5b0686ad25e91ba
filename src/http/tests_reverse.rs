//! Reverse rewriting of `Location`, `Content-Location`, `URI` and `Set-Cookie`.

use super::head::parse_response;
use super::reverse::{names_client_server, push_reversed, same_authority, Reverse};
use super::rewrite::{write_response_head, BodyOut, ResponseRewrite};
use super::Version;

const MEMBERS: [(&str, &str); 2] = [("http", "127.0.0.1:18181"), ("https", "m2.internal")];

fn is_member(scheme: &[u8], authority: &[u8]) -> bool {
    MEMBERS
        .iter()
        .any(|(s, a)| same_authority(scheme, authority, s.as_bytes(), a.as_bytes()))
}

fn paths() -> Vec<(String, String)> {
    vec![
        ("/app/legacy".to_owned(), "/old".to_owned()),
        ("/other".to_owned(), "/x".to_owned()),
    ]
}

fn domains() -> Vec<(String, String)> {
    vec![("internal.example".to_owned(), "www.example.com".to_owned())]
}

fn reversed(name: &str, value: &str, rv: &Reverse<'_>) -> String {
    let mut out = b"KEPT|".to_vec();
    push_reversed(&mut out, name.as_bytes(), value.as_bytes(), rv);
    let out = String::from_utf8(out).unwrap();
    let out = out.strip_prefix("KEPT|").expect("appends to out");
    let (n, v) = out.strip_suffix("\r\n").unwrap().split_once(": ").unwrap();
    assert_eq!(n, name);
    v.to_owned()
}

#[test]
fn urls() {
    let cookie_path = paths();
    let cookie_domain = domains();
    let base = Reverse {
        mount: b"/mnt",
        target_path: b"/app",
        scheme: b"https",
        host: b"www.example.com",
        is_member: &is_member,
        cookie_path: &cookie_path,
        cookie_domain: &cookie_domain,
    };
    let no_host = Reverse { host: b"", ..base };
    let root_mount = Reverse {
        mount: b"/",
        ..base
    };
    let same = Reverse {
        mount: b"/app",
        scheme: b"http",
        host: b"lb:8080",
        ..base
    };
    let cases: [(&str, &str, &Reverse<'_>, &str); 17] = [
        (
            "Location",
            "http://127.0.0.1:18181/app/session.jsp",
            &base,
            "https://www.example.com/mnt/session.jsp",
        ),
        (
            "location",
            "http://127.0.0.1:18181/app",
            &base,
            "https://www.example.com/mnt",
        ),
        (
            "Location",
            "http://127.0.0.1:18181/app?q=1#f",
            &base,
            "https://www.example.com/mnt?q=1#f",
        ),
        (
            "Location",
            "http://127.0.0.1:18181/apple",
            &base,
            "https://www.example.com/apple",
        ),
        (
            "Location",
            "http://127.0.0.1:18181",
            &base,
            "https://www.example.com/",
        ),
        (
            "Location",
            "HTTP://127.0.0.1:18181/app/x",
            &base,
            "https://www.example.com/mnt/x",
        ),
        (
            "Location",
            "https://M2.internal:443/app/y",
            &base,
            "https://www.example.com/mnt/y",
        ),
        (
            "Location",
            "http://127.0.0.1:18182/app/x",
            &base,
            "http://127.0.0.1:18182/app/x",
        ),
        (
            "Location",
            "https://elsewhere.example/app/x",
            &base,
            "https://elsewhere.example/app/x",
        ),
        ("Location", "/app/login", &base, "/mnt/login"),
        ("Location", "/apply", &base, "/apply"),
        ("Location", "login.jsp", &base, "login.jsp"),
        (
            "Content-Location",
            "http://127.0.0.1:18181/app/a",
            &no_host,
            "/mnt/a",
        ),
        (
            "URI",
            "http://127.0.0.1:18181/app/a",
            &root_mount,
            "https://www.example.com/a",
        ),
        (
            "Location",
            "http://127.0.0.1:18181/app",
            &root_mount,
            "https://www.example.com/",
        ),
        (
            "Location",
            "http://127.0.0.1:18181/app/a",
            &same,
            "http://lb:8080/app/a",
        ),
        (
            "Location",
            "//127.0.0.1:18181/app/a",
            &base,
            "//127.0.0.1:18181/app/a",
        ),
    ];
    for (name, value, rv, expected) in cases {
        assert_eq!(reversed(name, value, rv), expected, "{name}: {value}");
    }
}

#[test]
fn cookies() {
    let cookie_path = paths();
    let cookie_domain = domains();
    let base = Reverse {
        mount: b"/mnt",
        target_path: b"/app",
        scheme: b"http",
        host: b"lb",
        is_member: &is_member,
        cookie_path: &cookie_path,
        cookie_domain: &cookie_domain,
    };
    let same = Reverse {
        mount: b"/app",
        ..base
    };
    let cases: [(&str, &Reverse<'_>, &str); 11] = [
        (
            "JSESSIONID=a.n1; Path=/app; HttpOnly",
            &base,
            "JSESSIONID=a.n1; Path=/mnt; HttpOnly",
        ),
        (
            "JSESSIONID=a.n1; path=/app/x",
            &base,
            "JSESSIONID=a.n1; path=/mnt/x",
        ),
        (
            "JSESSIONID=a.n1; Path=/app/",
            &base,
            "JSESSIONID=a.n1; Path=/mnt/",
        ),
        (
            "JSESSIONID=a.n1; Path=/apple",
            &base,
            "JSESSIONID=a.n1; Path=/apple",
        ),
        ("a=b; Path=/app/legacy/z", &base, "a=b; Path=/old/z"),
        ("a=b; Path=/other", &same, "a=b; Path=/x"),
        (
            "a=b; PATH = /app ; Secure",
            &base,
            "a=b; PATH = /mnt ; Secure",
        ),
        ("Path=/app; Path=/app", &base, "Path=/app; Path=/mnt"),
        (
            "a=b; Domain=Internal.Example; Path=/",
            &base,
            "a=b; Domain=www.example.com; Path=/",
        ),
        (
            "a=b; domain=.internal.example",
            &base,
            "a=b; domain=.www.example.com",
        ),
        (
            "a=b; Domain=other.example; Path=/app",
            &same,
            "a=b; Domain=other.example; Path=/app",
        ),
    ];
    for (value, rv, expected) in cases {
        assert_eq!(reversed("Set-Cookie", value, rv), expected, "{value}");
    }
}

#[test]
fn response_head_reversed_only_when_asked() {
    let raw = b"HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:18181/app/s.jsp\r\nSet-Cookie: J=1; Path=/app\r\nX-Location: http://127.0.0.1:18181/app\r\nContent-Length: 0\r\n\r\n";
    let head = parse_response(raw, 64).unwrap().unwrap();
    let rv = Reverse {
        mount: b"/mnt",
        target_path: b"/app",
        scheme: b"http",
        host: b"lb:80",
        is_member: &is_member,
        cookie_path: &[],
        cookie_domain: &[],
    };
    let write = |reverse| {
        let rw = ResponseRewrite {
            keep_alive: true,
            client_version: Version::Http11,
            body: BodyOut::Length(0),
            extra: &[],
            reverse,
        };
        let mut out = Vec::new();
        write_response_head(&mut out, raw, &head, &rw);
        String::from_utf8(out).unwrap()
    };
    assert_eq!(
        write(Some(&rv)),
        "HTTP/1.1 302 Found\r\nLocation: http://lb:80/mnt/s.jsp\r\nSet-Cookie: J=1; Path=/mnt\r\nX-Location: http://127.0.0.1:18181/app\r\nContent-Length: 0\r\n\r\n"
    );
    assert_eq!(
        write(None),
        "HTTP/1.1 302 Found\r\nLocation: http://127.0.0.1:18181/app/s.jsp\r\nSet-Cookie: J=1; Path=/app\r\nX-Location: http://127.0.0.1:18181/app\r\nContent-Length: 0\r\n\r\n"
    );
}

#[test]
fn authorities() {
    assert!(same_authority(b"http", b"m", b"http", b"m:80"));
    assert!(same_authority(b"https", b"[::1]", b"https", b"[::1]:443"));
    assert!(!same_authority(b"http", b"[::1]:81", b"http", b"[::1]"));
    assert!(!same_authority(b"https", b"m", b"http", b"m"));
}

#[test]
fn ajp_member_names_itself_by_the_clients_host() {
    // (scheme, authority, client scheme, client Host) -> names the server the client asked for
    let cases: [(&str, &str, &str, &str, bool); 9] = [
        ("http", "127.0.0.1:18080", "http", "127.0.0.1:18080", true),
        (
            "HTTP",
            "WWW.example.com",
            "http",
            "www.example.com:80",
            true,
        ),
        (
            "https",
            "www.example.com:443",
            "https",
            "www.example.com",
            true,
        ),
        ("http", "localhost", "http", "", true),
        ("http", "www.example.com", "https", "www.example.com", false),
        (
            "https",
            "www.example.com:8443",
            "https",
            "www.example.com",
            false,
        ),
        ("http", "other.example", "http", "www.example.com", false),
        ("http", "[::1]:8080", "http", "[::1]:8080", true),
        ("http", "127.0.0.1:18091", "http", "127.0.0.1:18080", false),
    ];
    for (scheme, authority, client_scheme, host, expected) in cases {
        let got = names_client_server(
            scheme.as_bytes(),
            authority.as_bytes(),
            client_scheme.as_bytes(),
            host.as_bytes(),
        );
        assert_eq!(
            got, expected,
            "{scheme}://{authority} for {client_scheme} Host {host}"
        );
    }
    // As response_head.rs puts it together for an AJP member: the absolute Location Tomcat
    // writes with useRelativeRedirects="false" comes back in mount terms.
    let ajp_is_member = |scheme: &[u8], authority: &[u8]| {
        names_client_server(scheme, authority, b"http", b"lb:8080")
    };
    let rv = Reverse {
        mount: b"/mnt",
        target_path: b"/app",
        scheme: b"http",
        host: b"lb:8080",
        is_member: &ajp_is_member,
        cookie_path: &[],
        cookie_domain: &[],
    };
    assert_eq!(
        reversed("Location", "http://lb:8080/app/session.jsp?x=2", &rv),
        "http://lb:8080/mnt/session.jsp?x=2"
    );
    assert_eq!(
        reversed("Location", "http://lb:8080/apple", &rv),
        "http://lb:8080/apple"
    );
}
