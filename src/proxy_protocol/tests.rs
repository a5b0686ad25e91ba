//! One case per rule of the module doc, then the incremental properties: every strict prefix
//! of a valid header needs more, and bytes after a header never change it.

use std::net::SocketAddr;

use super::{
    parse, read_limit, Parse, MAX_HEADER_BYTES, V1_MAX_BYTES, V2_MAX_PAYLOAD, V2_SIGNATURE,
};

fn addr(text: &str) -> SocketAddr {
    text.parse().expect("a socket address")
}

fn done(source: Option<&str>, consumed: usize) -> Parse {
    Parse::Done {
        source: source.map(addr),
        consumed,
    }
}

/// A v2 header: version/command byte, family byte, then `rest` with its length.
fn v2(ver_cmd: u8, family: u8, rest: &[u8]) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    out.push(ver_cmd);
    out.push(family);
    out.extend_from_slice(&(rest.len() as u16).to_be_bytes());
    out.extend_from_slice(rest);
    out
}

/// The INET address block of 192.0.2.1:56324 -> 198.51.100.2:443.
fn inet_block() -> Vec<u8> {
    let mut b = vec![192, 0, 2, 1, 198, 51, 100, 2];
    b.extend_from_slice(&56324u16.to_be_bytes());
    b.extend_from_slice(&443u16.to_be_bytes());
    b
}

/// The INET6 address block of [2001:db8::1]:4242 -> [2001:db8::2]:80.
fn inet6_block() -> Vec<u8> {
    let src: std::net::Ipv6Addr = "2001:db8::1".parse().expect("v6");
    let dst: std::net::Ipv6Addr = "2001:db8::2".parse().expect("v6");
    let mut b = src.octets().to_vec();
    b.extend_from_slice(&dst.octets());
    b.extend_from_slice(&4242u16.to_be_bytes());
    b.extend_from_slice(&80u16.to_be_bytes());
    b
}

fn tlv(kind: u8, value: &[u8]) -> Vec<u8> {
    let mut out = vec![kind];
    out.extend_from_slice(&(value.len() as u16).to_be_bytes());
    out.extend_from_slice(value);
    out
}

fn with(mut a: Vec<u8>, b: &[u8]) -> Vec<u8> {
    a.extend_from_slice(b);
    a
}

/// Complete, valid headers and what they parse to.
fn valid_cases() -> Vec<(&'static str, Vec<u8>, Parse)> {
    let v1_tcp4 = b"PROXY TCP4 192.0.2.1 198.51.100.2 56324 443\r\n".to_vec();
    let v1_tcp6 = b"PROXY TCP6 2001:db8::1 2001:db8::2 4242 80\r\n".to_vec();
    let full = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    let longest_tcp6 = format!("PROXY TCP6 {full} {full} 65535 65535\r\n");
    // The spec's worst case: UNKNOWN followed by what a TCP6 line would carry.
    let longest = format!("PROXY UNKNOWN {full} {full} 65535 65535\r\n");
    assert_eq!(longest.len(), V1_MAX_BYTES);
    let tlvs = [
        tlv(0x01, b"h2"),
        tlv(0x02, b"shop.example.com"),
        tlv(0x04, b""),
    ]
    .concat();
    let unix = vec![0u8; 216];
    let big_tlv = tlv(0xea, &vec![7u8; V2_MAX_PAYLOAD - 12 - 3]);
    vec![
        (
            "v1 TCP4",
            v1_tcp4.clone(),
            done(Some("192.0.2.1:56324"), v1_tcp4.len()),
        ),
        (
            "v1 TCP6",
            v1_tcp6.clone(),
            done(Some("[2001:db8::1]:4242"), v1_tcp6.len()),
        ),
        (
            "v1 longest TCP6",
            longest_tcp6.into_bytes(),
            done(Some("[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"), 104),
        ),
        ("v1 longest", longest.into_bytes(), done(None, V1_MAX_BYTES)),
        (
            "v1 port 0",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 0 0\r\n".to_vec(),
            done(Some("1.2.3.4:0"), 32),
        ),
        ("v1 UNKNOWN", b"PROXY UNKNOWN\r\n".to_vec(), done(None, 15)),
        (
            "v1 UNKNOWN with addresses",
            b"PROXY UNKNOWN ffff:: ffff:: 1 2\r\n".to_vec(),
            done(None, 33),
        ),
        (
            "v1 UNKNOWN with junk",
            b"PROXY UNKNOWN \x01\xff\r\n".to_vec(),
            done(None, 18),
        ),
        (
            "v2 PROXY INET",
            v2(0x21, 0x11, &inet_block()),
            done(Some("192.0.2.1:56324"), 28),
        ),
        (
            "v2 PROXY INET6",
            v2(0x21, 0x21, &inet6_block()),
            done(Some("[2001:db8::1]:4242"), 52),
        ),
        (
            "v2 PROXY INET with TLVs",
            v2(0x21, 0x11, &with(inet_block(), &tlvs)),
            done(Some("192.0.2.1:56324"), 28 + tlvs.len()),
        ),
        (
            "v2 PROXY INET6 with TLVs",
            v2(0x21, 0x21, &with(inet6_block(), &tlvs)),
            done(Some("[2001:db8::1]:4242"), 52 + tlvs.len()),
        ),
        (
            "v2 PROXY INET, largest",
            v2(0x21, 0x11, &with(inet_block(), &big_tlv)),
            done(Some("192.0.2.1:56324"), MAX_HEADER_BYTES),
        ),
        ("v2 LOCAL", v2(0x20, 0x00, b""), done(None, 16)),
        (
            "v2 LOCAL with an address",
            v2(0x20, 0x11, &inet_block()),
            done(None, 28),
        ),
        (
            "v2 LOCAL ignores the family byte",
            v2(0x20, 0xff, b"anything"),
            done(None, 24),
        ),
        (
            "v2 PROXY UNSPEC",
            v2(0x21, 0x00, b"ignored"),
            done(None, 23),
        ),
        (
            "v2 PROXY INET datagram",
            v2(0x21, 0x12, &inet_block()),
            done(None, 28),
        ),
        (
            "v2 PROXY INET6 datagram",
            v2(0x21, 0x22, &inet6_block()),
            done(None, 52),
        ),
        (
            "v2 PROXY UNIX stream",
            v2(0x21, 0x31, &unix),
            done(None, 232),
        ),
        (
            "v2 PROXY UNIX datagram",
            v2(0x21, 0x32, &with(unix.clone(), &tlvs)),
            done(None, 232 + tlvs.len()),
        ),
    ]
}

#[test]
fn valid_headers_parse_to_their_source_and_length() {
    for (name, bytes, want) in valid_cases() {
        assert_eq!(parse(&bytes), want, "{name}");
    }
}

#[test]
fn every_strict_prefix_of_a_valid_header_needs_more() {
    for (name, bytes, _) in valid_cases() {
        for n in 0..bytes.len() {
            assert_eq!(
                parse(&bytes[..n]),
                Parse::NeedMore,
                "{name}: first {n} bytes"
            );
            // The reader may always take another byte, and the whole header once its
            // length is known.
            let limit = read_limit(&bytes[..n]);
            assert!(limit > n, "{name}: no progress at {n}");
            if n >= 16 || bytes.len() <= V1_MAX_BYTES {
                assert!(limit >= bytes.len(), "{name}: limit {limit} at {n}");
            }
        }
    }
}

#[test]
fn bytes_after_a_header_are_the_clients() {
    for (name, bytes, want) in valid_cases() {
        for tail in [
            &b"GET / HTTP/1.1\r\n\r\n"[..],
            b"\r\n",
            b"PROXY ",
            &[0u8; 200],
        ] {
            assert_eq!(parse(&with(bytes.clone(), tail)), want, "{name} + {tail:?}");
        }
    }
}

#[test]
fn refused_headers_name_their_fault() {
    let long_unknown = with(b"PROXY UNKNOWN ".to_vec(), &[b'x'; 100]);
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        // rule 1
        (
            "HTTP request",
            b"GET / HTTP/1.1\r\n\r\n".to_vec(),
            "not a PROXY",
        ),
        ("one wrong byte", b"G".to_vec(), "not a PROXY"),
        ("v1 lower case", b"proxy TCP4".to_vec(), "not a PROXY"),
        ("v1 prefix broken early", b"PRX".to_vec(), "not a PROXY"),
        ("v1 no space", b"PROXYTCP4".to_vec(), "not a PROXY"),
        (
            "v2 signature broken",
            b"\r\n\r\n\0\r\nQUIX".to_vec(),
            "not a PROXY",
        ),
        ("v2 bare CRLF", b"\r\nGET".to_vec(), "not a PROXY"),
        // rule 2
        ("v1 too long", long_unknown, "longer than 107"),
        ("v1 bare LF", b"PROXY UNKNOWN\n".to_vec(), "CRLF"),
        ("v1 CR then junk", b"PROXY UNKNOWN\rX".to_vec(), "CRLF"),
        (
            "v1 LF before CR",
            b"PROXY TCP4 1.2.3.4\n\r\n".to_vec(),
            "CRLF",
        ),
        // rule 3
        (
            "v1 TCP5",
            b"PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            "protocol",
        ),
        ("v1 no protocol", b"PROXY \r\n".to_vec(), "protocol"),
        (
            "v1 tcp4 lower case",
            b"PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            "protocol",
        ),
        (
            "v1 three fields",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n".to_vec(),
            "four fields",
        ),
        (
            "v1 five fields",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n".to_vec(),
            "four fields",
        ),
        (
            "v1 trailing space",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n".to_vec(),
            "four fields",
        ),
        (
            "v1 two spaces",
            b"PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            "four fields",
        ),
        (
            "v1 TCP4 with IPv6",
            b"PROXY TCP4 ::1 ::1 1 2\r\n".to_vec(),
            "IPv4",
        ),
        (
            "v1 TCP6 with IPv4",
            b"PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n".to_vec(),
            "IPv6",
        ),
        (
            "v1 bad destination",
            b"PROXY TCP4 1.2.3.4 5.6.7 1 2\r\n".to_vec(),
            "IPv4",
        ),
        (
            "v1 octet too big",
            b"PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n".to_vec(),
            "IPv4",
        ),
        (
            "v1 not ASCII",
            b"PROXY TCP4 1.2.3.\xff 5.6.7.8 1 2\r\n".to_vec(),
            "ASCII",
        ),
        (
            "v1 port too big",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n".to_vec(),
            "port",
        ),
        (
            "v1 port six digits",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 000001 2\r\n".to_vec(),
            "port",
        ),
        (
            "v1 port signed",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n".to_vec(),
            "port",
        ),
        (
            "v1 bad destination port",
            b"PROXY TCP4 1.2.3.4 5.6.7.8 1 x\r\n".to_vec(),
            "port",
        ),
        // rule 4
        ("v1 UNKNOWNX", b"PROXY UNKNOWNX\r\n".to_vec(), "protocol"),
        // rule 5
        ("v2 version 1", v2(0x11, 0x11, &inet_block()), "version"),
        ("v2 version 3", v2(0x31, 0x11, &inet_block()), "version"),
        ("v2 command 2", v2(0x22, 0x11, &inet_block()), "command"),
        ("v2 command F", v2(0x2f, 0x11, &inet_block()), "command"),
        (
            "v2 too long",
            v2(0x21, 0x11, &with(inet_block(), &[0; V2_MAX_PAYLOAD - 11])),
            "longer",
        ),
        (
            "v2 LOCAL too long",
            v2(0x20, 0x00, &[0; V2_MAX_PAYLOAD + 1]),
            "longer",
        ),
        // rule 7
        ("v2 family 4", v2(0x21, 0x41, &inet_block()), "family"),
        ("v2 transport 3", v2(0x21, 0x13, &inet_block()), "family"),
        (
            "v2 INET transport 0",
            v2(0x21, 0x10, &inet_block()),
            "family",
        ),
        (
            "v2 INET short",
            v2(0x21, 0x11, &inet_block()[..11]),
            "shorter",
        ),
        (
            "v2 INET6 short",
            v2(0x21, 0x21, &inet6_block()[..35]),
            "shorter",
        ),
        ("v2 UNIX short", v2(0x21, 0x31, &[0; 215]), "shorter"),
        (
            "v2 TLV header cut",
            v2(0x21, 0x11, &with(inet_block(), &[1, 0])),
            "cut short",
        ),
        (
            "v2 one stray byte",
            v2(0x21, 0x11, &with(inet_block(), &[0])),
            "cut short",
        ),
        (
            "v2 TLV overruns",
            v2(0x21, 0x11, &with(inet_block(), &[1, 0, 3, b'h', b'2'])),
            "longer than the header",
        ),
        (
            "v2 second TLV overruns",
            v2(
                0x21,
                0x21,
                &with(
                    inet6_block(),
                    &[tlv(1, b"h2"), vec![2, 0xff, 0xff]].concat(),
                ),
            ),
            "longer than the header",
        ),
    ];
    for (name, bytes, fault) in cases {
        match parse(&bytes) {
            Parse::Invalid(why) => assert!(why.contains(fault), "{name}: {why:?}, want {fault:?}"),
            other => panic!("{name}: {other:?}, want Invalid({fault:?})"),
        }
    }
}

#[test]
fn garbage_is_refused_from_the_first_byte_that_cannot_start_a_header() {
    for first in 0..=255u8 {
        let want_more = first == b'P' || first == b'\r';
        assert_eq!(
            parse(&[first]) == Parse::NeedMore,
            want_more,
            "first byte {first:#04x}"
        );
    }
    // A fixed part that is already wrong is refused before the rest arrives.
    let header = v2(0x21, 0x41, &inet_block());
    assert!(matches!(parse(&header[..14]), Parse::Invalid(_)));
    let header = v2(0x13, 0x11, &inet_block());
    assert!(matches!(parse(&header[..13]), Parse::Invalid(_)));
    let mut huge = v2(0x21, 0x11, b"");
    huge[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    assert!(matches!(parse(&huge), Parse::Invalid(_)));
}

#[test]
fn read_limit_stops_at_the_v2_header_or_v1_longest_line() {
    assert_eq!(read_limit(b""), V1_MAX_BYTES);
    assert_eq!(read_limit(b"PROXY TCP4 1.2"), V1_MAX_BYTES);
    assert_eq!(read_limit(&V2_SIGNATURE), V1_MAX_BYTES);
    assert_eq!(read_limit(&v2(0x21, 0x11, &inet_block())), V1_MAX_BYTES);
    let long = v2(0x21, 0x11, &with(inet_block(), &tlv(1, &[0; 200])));
    assert_eq!(read_limit(&long[..16]), long.len());
    let mut huge = v2(0x21, 0x11, b"");
    huge[14..16].copy_from_slice(&u16::MAX.to_be_bytes());
    assert_eq!(read_limit(&huge), MAX_HEADER_BYTES);
}
