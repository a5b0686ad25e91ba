use std::net::{IpAddr, SocketAddr};

use crate::admin::auth::{
    allowed, base64_decode, basic_challenge, host_allowed, nonce_matches, origin_allowed,
    parse_allow, parse_basic, referer_allowed, Htpasswd, IpNet,
};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test address")
}

fn nets(list: &[&str]) -> Vec<IpNet> {
    parse_allow(&list.iter().map(|s| s.to_string()).collect::<Vec<_>>()).expect("valid list")
}

#[test]
fn nonce_comparison() {
    assert!(nonce_matches("0123abcd", "0123abcd"));
    assert!(!nonce_matches("0123abcd", "0123abce"));
    assert!(!nonce_matches("0123abcd", "0123abc"));
    assert!(!nonce_matches("0123abcd", ""));
    assert!(!nonce_matches("", ""));
}

#[test]
fn cidr_table() {
    let list = nets(&[
        "127.0.0.1/32",
        "::1/128",
        "10.0.0.0/8",
        "192.168.1.7",
        "fd00::/8",
    ]);
    let cases = [
        ("127.0.0.1", true),
        ("127.0.0.2", false),
        ("::1", true),
        ("::2", false),
        ("10.0.0.0", true),
        ("10.255.255.255", true),
        ("11.0.0.0", false),
        ("9.255.255.255", false),
        ("192.168.1.7", true),
        ("192.168.1.8", false),
        ("fd12:3456::1", true),
        ("fe00::1", false),
        ("::ffff:10.1.2.3", true),
        ("::ffff:127.0.0.1", true),
        ("::ffff:11.0.0.1", false),
        ("::a00:1", false), // IPv4-compatible (not mapped) is not IPv4
    ];
    for (addr, want) in cases {
        assert_eq!(allowed(&list, ip(addr)), want, "{addr}");
    }
    assert!(!allowed(&[], ip("127.0.0.1")));
}

#[test]
fn cidr_edges() {
    assert!(allowed(&nets(&["0.0.0.0/0"]), ip("203.0.113.9")));
    assert!(!allowed(&nets(&["0.0.0.0/0"]), ip("2001:db8::1")));
    assert!(allowed(&nets(&["::/0"]), ip("2001:db8::1")));
    let net: IpNet = "10.1.2.3/8".parse().expect("valid");
    assert_eq!(net.to_string(), "10.0.0.0/8");
    assert_eq!(net.prefix(), 8);
    assert_eq!(net.addr(), ip("10.0.0.0"));
    let net: IpNet = "2001:db8::ff/120".parse().expect("valid");
    assert_eq!(net.to_string(), "2001:db8::/120");
    assert!(net.contains(ip("2001:db8::1")));
    assert!(!net.contains(ip("2001:db8::100")));
    let host: IpNet = " 10.9.9.9 ".trim().parse().expect("bare host");
    assert_eq!(host.prefix(), 32);
}

#[test]
fn cidr_rejections() {
    for bad in [
        "",
        "10.0.0.0/33",
        "::/129",
        "10.0.0.0/",
        "10.0.0.0/+8",
        "10.0.0.0/-1",
        "10.0.0/8",
        "localhost",
        "10.0.0.0/8/8",
        "10.0.0.0 /8",
    ] {
        assert!(bad.parse::<IpNet>().is_err(), "accepted {bad:?}");
    }
    let err = parse_allow(&["127.0.0.1".to_owned(), "nope/8".to_owned()]).expect_err("bad");
    assert!(err.contains("nope"), "{err}");
}

#[test]
fn base64_table() {
    let ok: [(&str, &[u8]); 8] = [
        ("", b""),
        ("Zg==", b"f"),
        ("Zm8=", b"fo"),
        ("Zm9v", b"foo"),
        ("Zg", b"f"),
        ("Zm8", b"fo"),
        ("YWxpY2U6c2VjcmV0", b"alice:secret"),
        ("+/+/", &[0xfb, 0xff, 0xbf]),
    ];
    for (text, want) in ok {
        assert_eq!(
            base64_decode(text.as_bytes()).as_deref(),
            Some(want),
            "{text}"
        );
    }
    for bad in [
        "Z", "Zm9vY", "Zm9v=", "Zg===", "Z=g=", "Zm 9v", "Zm9v\n", "Zm-_",
    ] {
        assert_eq!(base64_decode(bad.as_bytes()), None, "accepted {bad:?}");
    }
}

#[test]
fn basic_header_parsing() {
    assert_eq!(
        parse_basic(b"Basic YWxpY2U6c2VjcmV0"),
        Some((b"alice".to_vec(), b"secret".to_vec()))
    );
    assert_eq!(
        parse_basic(b"  basic   YWxpY2U6YTpi  "),
        Some((b"alice".to_vec(), b"a:b".to_vec()))
    );
    for bad in [
        &b""[..],
        b"Basic",
        b"Basic ",
        b"Bearer YWxpY2U6c2VjcmV0",
        b"BasicYWxpY2U6c2VjcmV0",
        b"Basic YWxpY2U", // "alice": no colon
        b"Basic !!!!",
    ] {
        assert_eq!(
            parse_basic(bad),
            None,
            "accepted {:?}",
            String::from_utf8_lossy(bad)
        );
    }
}

pub(super) fn basic(user: &str, pass: &str) -> Vec<u8> {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{pass}").into_bytes();
    let mut out = b"Basic ".to_vec();
    for chunk in input.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |acc, (i, &b)| acc | u32::from(b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize]);
            } else {
                out.push(b'=');
            }
        }
    }
    out
}

#[test]
fn htpasswd_verifies_bcrypt() {
    let alice = bcrypt::hash("s3cret: with colon", 4).expect("hash");
    let bob = bcrypt::hash("hunter2", 4)
        .expect("hash")
        .replacen("$2b$", "$2y$", 1);
    let text = format!("# admins\n\nalice:{alice}\r\nbob:{bob}\n");
    let file = Htpasswd::parse(&text).expect("valid file");
    assert_eq!(file.users().collect::<Vec<_>>(), ["alice", "bob"]);
    assert!(file.verify(&basic("alice", "s3cret: with colon")));
    assert_eq!(file.authenticate(&basic("bob", "hunter2")), Some("bob"));
    assert!(!file.verify(&basic("alice", "hunter2")));
    assert!(!file.verify(&basic("bob", "")));
    assert!(!file.verify(&basic("carol", "hunter2")));
    assert!(!file.verify(b"Basic !!"));
    assert!(!file.verify(b"Digest username=\"alice\""));
    assert!(!file.verify(b""));
    assert!(!Htpasswd::parse("")
        .expect("empty")
        .verify(&basic("alice", "x")));
    assert!(!format!("{file:?}").contains("$2"), "Debug leaks hashes");
}

/// Made by apache2-utils 2.4 `htpasswd -nb[m|s|B|d] USER PASSWORD` (the `htpasswd` tool is
/// not needed to run this test; `tests/htpasswd.rs` makes fresh ones when it is installed).
const HTPASSWD_VECTORS: [(&str, &str, &str); 6] = [
    (
        "alice",
        "apr1 pass",
        "$apr1$7veC4mES$joMNBOiBfOeJ9VFqAcsWZ.",
    ),
    ("empty", "", "$apr1$ymTmlK0V$kfYtruPrdY8XJI6cAvO3B."),
    (
        "long",
        "a very long password that exceeds sixteen bytes and more",
        "$apr1$sKHm31eB$f4cRzf3fxrpXBLXfz31D.1",
    ),
    ("bob", "sha pass", "{SHA}KvPXpIScDQubdcQXyPXUdUCmoqA="),
    (
        "carol",
        "bcrypt pass",
        "$2y$05$QeoaZ4WbAN2LcYnJd3W6B.AxFxEPn1pa9iKqsYx0D8/yTDwHiHmvq",
    ),
    (
        "dan",
        "",
        "$2y$05$QeoaZ4WbAN2LcYnJd3W6B.AxFxEPn1pa9iKqsYx0D8/yTDwHiHmvq",
    ),
];

#[test]
fn htpasswd_verifies_what_htpasswd_writes() {
    let text: String = HTPASSWD_VECTORS
        .iter()
        .map(|(user, _, hash)| format!("{user}:{hash}\n"))
        .collect();
    let file = Htpasswd::parse(&text).expect("htpasswd's own output");
    for (user, password, _) in &HTPASSWD_VECTORS[..5] {
        assert_eq!(
            file.authenticate(&basic(user, password)),
            Some(*user),
            "{user}"
        );
        assert!(!file.verify(&basic(user, "wrong")), "{user}");
        assert!(
            !file.verify(&basic(user, &format!("{password}x"))),
            "{user}"
        );
    }
    assert!(
        !file.verify(&basic("dan", "")),
        "carol's hash, not an empty password"
    );
}

#[test]
fn apr1_matches_htpasswd() {
    use crate::admin::htpasswd::apr1;
    for (_, password, hash) in &HTPASSWD_VECTORS[..3] {
        let rest = hash.strip_prefix("$apr1$").unwrap();
        let (salt, digest) = rest.split_once('$').unwrap();
        assert_eq!(apr1(password.as_bytes(), salt.as_bytes()), digest, "{hash}");
    }
}

#[test]
fn htpasswd_rejects_other_formats_naming_the_line() {
    let good = "$2y$05$abcdefghijklmnopqrstuuQ8K3Vy6WJ6jn3q0H6xE1kQzq5E1m1dK";
    assert_eq!(good.len(), 60);
    assert!(Htpasswd::parse(&format!("u:{good}")).is_ok());
    let cases = [
        // htpasswd -d (DES crypt) of "cryptpw".
        ("dave:nZQURMymCDj9Q", "line 1", "crypt (DES"),
        ("u:$apr1$abc$def", "line 1", "Apache MD5"),
        (
            "u:$apr1$toolongsalt$joMNBOiBfOeJ9VFqAcsWZ.",
            "line 1",
            "$apr1$",
        ),
        ("# c\nu:{SHA}W6ph5Mm5Pz8GgiULbPg!", "line 2", "{SHA}"),
        ("u:{SHA}AAAA", "line 1", "20 bytes"),
        ("u:$6$salt$hash", "line 1", "SHA-crypt"),
        ("u:$1$salt$hash", "line 1", "MD5-crypt"),
        (
            "u:$argon2id$v=19$x",
            "line 1",
            "unknown scheme ($argon2id$)",
        ),
        ("u:plaintext", "line 1", "plain text"),
        (
            "u:$2x$05$abcdefghijklmnopqrstuuQ8K3Vy6WJ6jn3q0H6xE1kQzq5E1m1dK",
            "line 1",
            "bcrypt",
        ),
        ("u:$2y$05$short", "line 1", "bcrypt"),
        (
            "u:$2y$99$abcdefghijklmnopqrstuuQ8K3Vy6WJ6jn3q0H6xE1kQzq5E1m1dK",
            "line 1",
            "bcrypt",
        ),
        ("\n\nno-colon", "line 3", "user:hash"),
        (
            ":$2y$05$abcdefghijklmnopqrstuuQ8K3Vy6WJ6jn3q0H6xE1kQzq5E1m1dK",
            "line 1",
            "empty",
        ),
    ];
    for (text, line, what) in cases {
        let err = Htpasswd::parse(text).expect_err(text);
        assert!(err.contains(line) && err.contains(what), "{text:?}: {err}");
        if text.contains(':') && !text.starts_with(':') && !text.ends_with("no-colon") {
            let user = text.rsplit('\n').next().unwrap().split(':').next().unwrap();
            assert!(err.contains(&format!("user {user:?}")), "{err}");
            assert!(err.contains("htpasswd -B"), "{err}");
        }
    }
    let dup = format!("u:{good}\nu:{good}\n");
    let err = Htpasswd::parse(&dup).expect_err("duplicate");
    assert!(err.contains("line 2") && err.contains("duplicate"), "{err}");
}

#[test]
fn challenge_header() {
    assert_eq!(
        basic_challenge("ringlb"),
        "Basic realm=\"ringlb\", charset=\"UTF-8\""
    );
    assert_eq!(
        basic_challenge("a\"b\\c"),
        "Basic realm=\"abc\", charset=\"UTF-8\""
    );
}

#[test]
fn host_names_the_listener() {
    let v4: SocketAddr = "127.0.0.1:8081".parse().unwrap();
    let v6: SocketAddr = "[::1]:8081".parse().unwrap();
    let mapped: SocketAddr = "[::ffff:127.0.0.1]:8081".parse().unwrap();
    let lan: SocketAddr = "10.0.0.5:8081".parse().unwrap();
    let web: SocketAddr = "10.0.0.5:80".parse().unwrap();
    let names = vec!["admin.example".to_owned(), "ops.example:8081".to_owned()];
    let cases: [(&str, SocketAddr, bool); 24] = [
        ("127.0.0.1:8081", v4, true),
        ("localhost:8081", v4, true),
        ("LocalHost:8081", v4, true),
        ("127.0.0.1:8082", v4, false),
        ("127.0.0.1", v4, false),
        ("127.0.0.2:8081", v4, false),
        ("127.0.0.1:+8081", v4, false),
        ("127.0.0.1:", v4, false),
        ("[::1]:8081", v6, true),
        ("[0:0::1]:8081", v6, true),
        ("localhost:8081", v6, true),
        ("::1:8081", v6, false),
        ("127.0.0.1:8081", mapped, true),
        ("10.0.0.5:8081", lan, true),
        ("localhost:8081", lan, false),
        ("10.0.0.5", web, true),
        ("10.0.0.5:80", web, true),
        ("admin.example", lan, true),
        ("ADMIN.example", lan, true),
        ("admin.example:8081", lan, false),
        ("ops.example:8081", lan, true),
        ("evil.example", v4, false),
        ("evil.example:8081", v4, false),
        ("", v4, false),
    ];
    for (host, local, want) in cases {
        assert_eq!(host_allowed(host, local, &names), want, "{host} at {local}");
    }
}

#[test]
fn origin_and_referer_name_the_listener() {
    let local: SocketAddr = "127.0.0.1:8081".parse().unwrap();
    let names = vec!["admin.example".to_owned()];
    for (origin, want) in [
        ("http://127.0.0.1:8081", true),
        ("HTTP://localhost:8081", true),
        ("http://admin.example", true),
        ("https://127.0.0.1:8081", false),
        ("http://evil.example", false),
        ("http://127.0.0.1:8081.evil.example", false),
        ("http://user@127.0.0.1:8081", false),
        ("null", false),
        ("127.0.0.1:8081", false),
    ] {
        assert_eq!(origin_allowed(origin, local, &names), want, "{origin}");
    }
    for (referer, want) in [
        ("http://127.0.0.1:8081/balancer-manager", true),
        ("http://127.0.0.1:8081", true),
        ("http://127.0.0.1:8081?x=1", true),
        ("http://localhost:8081/balancer-manager?msg=x#top", true),
        ("http://evil.example/http://127.0.0.1:8081/", false),
        ("http://127.0.0.1:8081@evil.example/", false),
        ("https://127.0.0.1:8081/balancer-manager", false),
        ("/balancer-manager", false),
    ] {
        assert_eq!(referer_allowed(referer, local, &names), want, "{referer}");
    }
}
