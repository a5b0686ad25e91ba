//! `proxy_protocol`: `ringlb::proxy_protocol::parse` over the first bytes of a connection,
//! checked against its contract: it allocates nothing; a header is between 15 and
//! `MAX_HEADER_BYTES` bytes, ends in CRLF (v1, at most 107 bytes) or is exactly 16 plus its
//! length field (v2); the source agrees with the header's bytes (family, address, port);
//! the verdict on a prefix is "need more" until it is final, and final verdicts never change
//! as bytes are added (so reading in any pieces gives the same answer); a reader that keeps
//! to `read_limit` can always make progress; what a conforming sender writes for the source
//! parses back to it.
//!
//! Input: the bytes as a connection would start.

use std::net::SocketAddr;

use ringlb::proxy_protocol::{
    parse, read_limit, Parse, MAX_HEADER_BYTES, V1_MAX_BYTES, V2_FIXED_BYTES, V2_SIGNATURE,
};

use crate::alloc::bounded;

/// Prefixes checked one by one up to this length; beyond it, a few cut points.
const ALL_PREFIXES: usize = 300;

/// The fuzz target: see the module doc. Panics on a broken invariant.
pub fn proxy_protocol(data: &[u8]) {
    let whole = bounded("proxy_protocol", 0, || parse(data));
    match whole {
        Parse::Done { source, consumed } => check_header(data, source, consumed),
        Parse::NeedMore => assert!(
            read_limit(data) > data.len(),
            "need more, but the read limit {} allows no more than {}",
            read_limit(data),
            data.len()
        ),
        Parse::Invalid(why) => {
            assert!(!why.is_empty(), "a refusal says why");
            for tail in [&b"\r\n"[..], &[0u8; 64], b" 1 2\r\n"] {
                let longer = [data, tail].concat();
                assert!(
                    matches!(parse(&longer), Parse::Invalid(_)),
                    "a refused start became acceptable"
                );
            }
        }
    }
    check_prefixes(data, whole);
}

/// A complete header: its length and source agree with its bytes.
fn check_header(data: &[u8], source: Option<SocketAddr>, consumed: usize) {
    assert!(
        (15..=MAX_HEADER_BYTES).contains(&consumed) && consumed <= data.len(),
        "header length {consumed} of {}",
        data.len()
    );
    let header = &data[..consumed];
    assert_eq!(
        parse(header),
        Parse::Done { source, consumed },
        "the header alone parses the same"
    );
    if header.starts_with(&V2_SIGNATURE) {
        let len = usize::from(u16::from_be_bytes([header[14], header[15]]));
        assert_eq!(consumed, V2_FIXED_BYTES + len, "v2 length field");
        if let Some(src) = source {
            let (family, block) = (header[13], &header[V2_FIXED_BYTES..]);
            match src {
                SocketAddr::V4(a) => {
                    assert_eq!((header[12], family), (0x21, 0x11), "v4 source: PROXY, TCP4");
                    assert_eq!(&block[..4], &a.ip().octets());
                    assert_eq!(&block[8..10], &a.port().to_be_bytes());
                }
                SocketAddr::V6(a) => {
                    assert_eq!((header[12], family), (0x21, 0x21), "v6 source: PROXY, TCP6");
                    assert_eq!(&block[..16], &a.ip().octets());
                    assert_eq!(&block[32..34], &a.port().to_be_bytes());
                }
            }
        }
    } else {
        assert!(header.starts_with(b"PROXY "), "v1 starts with PROXY");
        assert!(consumed <= V1_MAX_BYTES, "v1 at most 107 bytes");
        assert!(header.ends_with(b"\r\n"), "v1 ends in CRLF");
        let crlf = header.windows(2).filter(|w| w == b"\r\n").count();
        assert_eq!(crlf, 1, "one line");
        if let Some(src) = source {
            let proto = if src.is_ipv4() { "TCP4 " } else { "TCP6 " };
            assert!(header[6..].starts_with(proto.as_bytes()), "family of {src}");
        }
    }
    if let Some(src) = source {
        for sent in [v1_line(src), v2_header(src)] {
            assert_eq!(
                parse(&sent),
                Parse::Done {
                    source: Some(src),
                    consumed: sent.len()
                },
                "a sender's header for {src}"
            );
        }
    }
}

/// Shorter inputs: "need more" until the verdict is final, then the same final verdict.
fn check_prefixes(data: &[u8], whole: Parse) {
    let cuts: Vec<usize> = if data.len() <= ALL_PREFIXES {
        (0..data.len()).collect()
    } else {
        let step = data.len() / 16;
        let coarse = (1..16).map(|i| i * step).filter(|&n| n > ALL_PREFIXES);
        (0..ALL_PREFIXES).chain(coarse).collect()
    };
    let mut final_from = None;
    for n in cuts {
        let got = parse(&data[..n]);
        match (got, final_from) {
            (Parse::NeedMore, None) => {
                assert!(read_limit(&data[..n]) > n, "no progress possible at {n}");
            }
            (Parse::NeedMore, Some(at)) => panic!("final at {at}, need more again at {n}"),
            (Parse::Invalid(_), _) => {
                assert!(
                    matches!(whole, Parse::Invalid(_)),
                    "prefix {n} refused, whole {whole:?}"
                );
                final_from.get_or_insert(n);
            }
            (done, _) => {
                assert_eq!(done, whole, "prefix {n} done differently");
                final_from.get_or_insert(n);
            }
        }
    }
}

/// What a v1 sender writes for `src` (the destination is made up).
fn v1_line(src: SocketAddr) -> Vec<u8> {
    let (proto, dst) = match src {
        SocketAddr::V4(_) => ("TCP4", "192.0.2.1"),
        SocketAddr::V6(_) => ("TCP6", "2001:db8::1"),
    };
    format!("PROXY {proto} {} {dst} {} 443\r\n", src.ip(), src.port()).into_bytes()
}

/// What a v2 sender writes for `src`, with one TLV.
fn v2_header(src: SocketAddr) -> Vec<u8> {
    let mut out = V2_SIGNATURE.to_vec();
    let mut block = Vec::new();
    match src {
        SocketAddr::V4(a) => {
            out.extend_from_slice(&[0x21, 0x11]);
            block.extend_from_slice(&a.ip().octets());
            block.extend_from_slice(&[192, 0, 2, 1]);
        }
        SocketAddr::V6(a) => {
            out.extend_from_slice(&[0x21, 0x21]);
            block.extend_from_slice(&a.ip().octets());
            block.extend_from_slice(&[0x20, 1, 0xd, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        }
    }
    block.extend_from_slice(&src.port().to_be_bytes());
    block.extend_from_slice(&443u16.to_be_bytes());
    block.extend_from_slice(&[0x01, 0, 2, b'h', b'2']);
    let len = u16::try_from(block.len()).unwrap_or(u16::MAX);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(&block);
    out
}
