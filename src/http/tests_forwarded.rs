//! `forwarded::client_ip`: one case per rule of its module doc.

use std::net::IpAddr;

use super::forwarded::client_ip;
use super::head::parse_request;
use crate::ipnet::{parse_allow, IpNet};

fn ip(text: &str) -> IpAddr {
    text.parse().expect("an address")
}

fn trusted() -> Vec<IpNet> {
    let list = ["10.0.0.0/8", "2001:db8:ffff::/48"].map(String::from);
    parse_allow(&list).expect("valid blocks")
}

/// The client of a request from `peer` carrying `fields` (CRLF-terminated lines).
fn client(peer: &str, fields: &str) -> IpAddr {
    let raw = format!("GET / HTTP/1.1\r\nHost: a\r\n{fields}\r\n");
    let head = parse_request(raw.as_bytes(), 64)
        .expect("parses")
        .expect("complete");
    client_ip(ip(peer), &trusted(), &head.headers, raw.as_bytes())
}

#[test]
fn the_right_most_untrusted_address_is_the_client() {
    let cases = [
        // rule 1: an untrusted peer is the client, whatever it says
        (
            "198.51.100.9",
            "X-Forwarded-For: 203.0.113.1\r\n",
            "198.51.100.9",
        ),
        ("198.51.100.9", "", "198.51.100.9"),
        // rule 2
        ("10.0.0.1", "", "10.0.0.1"),
        (
            "10.0.0.1",
            "X-Forwarded-For: 203.0.113.1\r\n",
            "203.0.113.1",
        ),
        (
            "10.0.0.1",
            "X-Forwarded-For: 6.6.6.6, 203.0.113.1, 10.2.3.4\r\n",
            "203.0.113.1",
        ),
        (
            "10.0.0.1",
            "X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-For: 203.0.113.1 ,, 10.2.3.4\r\n",
            "203.0.113.1",
        ),
        (
            "::ffff:10.0.0.1",
            "x-forwarded-for: 2001:db8::7\r\n",
            "2001:db8::7",
        ),
        (
            "2001:db8:ffff::1",
            "X-Forwarded-For: 198.51.100.1, 2001:db8:ffff::2\r\n",
            "198.51.100.1",
        ),
        // rule 3: all trusted, the left-most
        (
            "10.0.0.1",
            "X-Forwarded-For: 10.9.9.9, 10.8.8.8\r\n",
            "10.9.9.9",
        ),
        // rule 4: junk ends the walk at the hop that passed it on
        (
            "10.0.0.1",
            "X-Forwarded-For: 203.0.113.1, unknown\r\n",
            "10.0.0.1",
        ),
        (
            "10.0.0.1",
            "X-Forwarded-For: 203.0.113.1, junk, 10.2.3.4\r\n",
            "10.2.3.4",
        ),
        (
            "10.0.0.1",
            "X-Forwarded-For: 203.0.113.1:5555\r\n",
            "203.0.113.1",
        ),
        (
            "10.0.0.1",
            "X-Forwarded-For: [2001:db8::5]:443\r\n",
            "2001:db8::5",
        ),
        ("10.0.0.1", "X-Forwarded-For: [2001:db8::5]\r\n", "10.0.0.1"),
        // rule 5: an X-Forwarded-For named by Connection is not believed
        (
            "10.0.0.1",
            "Connection: X-Forwarded-For\r\nX-Forwarded-For: 203.0.113.1\r\n",
            "10.0.0.1",
        ),
    ];
    for (peer, fields, want) in cases {
        assert_eq!(client(peer, fields), ip(want), "{peer} {fields:?}");
    }
}

#[test]
fn nobody_is_trusted_by_default() {
    let raw = b"GET / HTTP/1.1\r\nHost: a\r\nX-Forwarded-For: 203.0.113.1\r\n\r\n";
    let head = parse_request(raw, 64).expect("parses").expect("complete");
    let peer = ip("127.0.0.1");
    assert_eq!(client_ip(peer, &[], &head.headers, raw), peer);
}
