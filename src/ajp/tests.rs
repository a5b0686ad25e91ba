use super::reply::{self, Reply};
use super::request::{self, ForwardRequest, Ssl};
use super::*;

fn string(out: &mut Vec<u8>, s: &[u8]) {
    out.extend_from_slice(&(s.len() as u16).to_be_bytes());
    out.extend_from_slice(s);
    out.push(0);
}

fn get<'a>(headers: &'a [(&'a [u8], &'a [u8])]) -> ForwardRequest<'a> {
    ForwardRequest {
        method: b"GET",
        protocol: b"HTTP/1.1",
        uri: b"/app/x.jsp",
        query: Some(b"a=1&b=2"),
        remote_addr: b"10.0.0.9",
        remote_port: 40123,
        server_name: b"shop.example",
        server_port: 80,
        ssl: None,
        headers,
        route: b"node1",
        activation: b"ACT",
        secret: Some(b"s3cret"),
    }
}

#[test]
fn a_forward_request_is_byte_exact() {
    let headers: [(&[u8], &[u8]); 3] = [
        (b"Host", b"shop.example"),
        (b"X-Custom", b"v"),
        (b"Cookie", b"JSESSIONID=abc.node1"),
    ];
    let mut out = Vec::new();
    request::encode(&get(&headers), DEFAULT_PACKET_SIZE, &mut out).unwrap();

    let mut want = vec![2, 2];
    string(&mut want, b"HTTP/1.1");
    string(&mut want, b"/app/x.jsp");
    string(&mut want, b"10.0.0.9");
    string(&mut want, b"10.0.0.9");
    string(&mut want, b"shop.example");
    want.extend_from_slice(&80u16.to_be_bytes());
    want.push(0);
    want.extend_from_slice(&3u16.to_be_bytes());
    want.extend_from_slice(&0xA00Bu16.to_be_bytes());
    string(&mut want, b"shop.example");
    string(&mut want, b"X-Custom");
    string(&mut want, b"v");
    want.extend_from_slice(&0xA009u16.to_be_bytes());
    string(&mut want, b"JSESSIONID=abc.node1");
    want.push(5);
    string(&mut want, b"a=1&b=2");
    want.push(6);
    string(&mut want, b"node1");
    for (name, value) in [
        (&b"AJP_REMOTE_PORT"[..], &b"40123"[..]),
        (b"JK_LB_ACTIVATION", b"ACT"),
    ] {
        want.push(10);
        string(&mut want, name);
        string(&mut want, value);
    }
    want.push(12);
    string(&mut want, b"s3cret");
    want.push(0xFF);

    assert_eq!(&out[..2], &[0x12, 0x34]);
    assert_eq!(u16::from_be_bytes([out[2], out[3]]) as usize, want.len());
    assert_eq!(&out[4..], &want[..]);
}

#[test]
fn methods_without_a_code_are_stored_by_name() {
    let cases: [(&[u8], u8); 5] = [
        (b"OPTIONS", 1),
        (b"POST", 4),
        (b"MKACTIVITY", 27),
        (b"PATCH", 0xFF),
        (b"get", 0xFF),
    ];
    for (method, code) in cases {
        let req = ForwardRequest {
            method,
            secret: None,
            ..get(&[])
        };
        let mut out = Vec::new();
        request::encode(&req, DEFAULT_PACKET_SIZE, &mut out).unwrap();
        assert_eq!(out[5], code, "{}", String::from_utf8_lossy(method));
        let mut tail = Vec::new();
        if code == 0xFF {
            tail.push(13);
            string(&mut tail, method);
        }
        tail.push(0xFF);
        assert!(out.ends_with(&tail), "{}", String::from_utf8_lossy(method));
    }
}

#[test]
fn tls_facts_go_as_attributes() {
    let req = ForwardRequest {
        ssl: Some(Ssl {
            cipher: b"TLS_AES_128_GCM_SHA256",
            protocol: b"TLSv1.3",
            key_bits: Some(128),
            cert: Some(b"-----BEGIN CERTIFICATE-----"),
        }),
        ..get(&[])
    };
    let mut out = Vec::new();
    request::encode(&req, DEFAULT_PACKET_SIZE, &mut out).unwrap();
    let mut want = vec![8];
    string(&mut want, b"TLS_AES_128_GCM_SHA256");
    want.push(7);
    string(&mut want, b"-----BEGIN CERTIFICATE-----");
    want.push(11);
    want.extend_from_slice(&128u16.to_be_bytes());
    want.push(10);
    string(&mut want, b"AJP_SSL_PROTOCOL");
    string(&mut want, b"TLSv1.3");
    let at = memchr::memmem::find(&out, &want).expect("the TLS attributes in order");
    assert!(at > 0);
    // is_ssl
    let is_ssl_at = 4 + 2 + 11 + 13 + 11 + 11 + 15 + 2;
    assert_eq!(out[is_ssl_at], 1);
}

#[test]
fn a_request_that_does_not_fit_the_packet_is_refused() {
    let long = vec![b'a'; 9000];
    let headers: [(&[u8], &[u8]); 1] = [(b"X-Long", &long)];
    let mut out = b"kept".to_vec();
    assert_eq!(
        request::encode(&get(&headers), DEFAULT_PACKET_SIZE, &mut out),
        Err(request::TooLarge)
    );
    assert_eq!(out, b"kept");
    request::encode(&get(&headers), 16384, &mut out).unwrap();
}

#[test]
fn body_packets_carry_their_length() {
    let mut out = Vec::new();
    push_body_packet(&mut out, b"hello");
    assert_eq!(out, [0x12, 0x34, 0, 7, 0, 5, b'h', b'e', b'l', b'l', b'o']);
    out.clear();
    push_body_packet(&mut out, b"");
    assert_eq!(out, END_OF_BODY);
    assert_eq!(max_body_chunk(8192), 8186);
}

fn packet(payload: &[u8]) -> Vec<u8> {
    let mut p = b"AB".to_vec();
    p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
    p.extend_from_slice(payload);
    p
}

#[test]
fn replies_parse_at_every_split() {
    let mut headers = vec![4, 0, 200];
    string(&mut headers, b"OK");
    headers.extend_from_slice(&0u16.to_be_bytes());
    let cases: Vec<(Vec<u8>, Reply<'static>)> = vec![
        (packet(&[3, 0, 3, b'a', b'b', b'c', 0]), Reply::Body(b"abc")),
        (packet(&[3, 0, 3, b'a', b'b', b'c']), Reply::Body(b"abc")),
        (packet(&[3, 0, 0, 0]), Reply::Body(b"")),
        (packet(&[5, 1]), Reply::End { reuse: true }),
        (packet(&[5, 0]), Reply::End { reuse: false }),
        (packet(&[6, 0x1F, 0xFA]), Reply::GetBody(8186)),
        (packet(&[9]), Reply::Pong),
    ];
    for (bytes, want) in cases {
        for split in 0..bytes.len() {
            assert_eq!(
                reply::parse(&bytes[..split], 8192),
                Ok(None),
                "{bytes:?} at {split}"
            );
        }
        let mut more = bytes.clone();
        more.extend_from_slice(b"ABxx");
        assert_eq!(reply::parse(&more, 8192), Ok(Some((want, bytes.len()))));
    }
    let bytes = packet(&headers);
    match reply::parse(&bytes, 8192) {
        Ok(Some((Reply::Headers(payload), n))) => {
            assert_eq!(n, bytes.len());
            assert_eq!(payload, &headers[1..]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn bad_replies_are_refused() {
    let mut big = b"AB".to_vec();
    big.extend_from_slice(&8189u16.to_be_bytes());
    let cases: Vec<Vec<u8>> = vec![
        b"HTTP/1.1 200 OK\r\n".to_vec(),
        b"\x12\x34\x00\x01\x09".to_vec(),
        packet(&[]),
        packet(&[3, 0, 5, b'a']),
        packet(&[3, 0, 1, b'a', 0, 0]),
        packet(&[5]),
        packet(&[5, 1, 1]),
        packet(&[6, 0]),
        packet(&[9, 0]),
        packet(&[42]),
        big,
    ];
    for bytes in cases {
        assert!(reply::parse(&bytes, 8192).is_err(), "{bytes:?}");
    }
    // The same size is fine with a larger packet_size (and then waits for the rest).
    let mut big = b"AB".to_vec();
    big.extend_from_slice(&8189u16.to_be_bytes());
    assert_eq!(reply::parse(&big, 16384), Ok(None));
}

/// A response header: by code, or by name; and its value.
type Field<'a> = (Result<u16, &'a [u8]>, &'a [u8]);

fn headers_payload(status: u16, reason: &[u8], fields: &[Field]) -> Vec<u8> {
    let mut p = status.to_be_bytes().to_vec();
    string(&mut p, reason);
    p.extend_from_slice(&(fields.len() as u16).to_be_bytes());
    for (name, value) in fields {
        match name {
            Ok(code) => p.extend_from_slice(&code.to_be_bytes()),
            Err(name) => string(&mut p, name),
        }
        string(&mut p, value);
    }
    p
}

#[test]
fn send_headers_becomes_an_http_head() {
    let cases: Vec<(u16, &[u8], Vec<Field>, &str)> =
        vec![
        (
            200,
            b"OK",
            vec![(Ok(0xA001), b"text/html"), (Ok(0xA003), b"5")],
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n",
        ),
        (
            302,
            b"",
            vec![(Ok(0xA006), b"http://x/"), (Ok(0xA007), b"a=1; Path=/app")],
            "HTTP/1.1 302 Found\r\nLocation: http://x/\r\nSet-Cookie: a=1; Path=/app\r\n\
             Transfer-Encoding: chunked\r\n\r\n",
        ),
        (
            500,
            b"bad\x01reason",
            vec![(Err(b"X-App"), b"v"), (Err(b"Transfer-Encoding"), b"chunked")],
            "HTTP/1.1 500 Internal Server Error\r\nX-App: v\r\nTransfer-Encoding: chunked\r\n\r\n",
        ),
        // Tomcat's 304 from the default servlet, byte for byte: "304" as the message and the
        // swallowed body's length 0, which a 304 must not claim; nothing is added either.
        (
            304,
            b"304",
            vec![(Err(b"ETag"), b"W/\"13-1\""), (Ok(0xA003), b"0")],
            "HTTP/1.1 304 304\r\nETag: W/\"13-1\"\r\n\r\n",
        ),
        (
            204,
            b"",
            vec![(Ok(0xA003), b"0"), (Err(b"X-App"), b"v")],
            "HTTP/1.1 204 No Content\r\nX-App: v\r\n\r\n",
        ),
    ];
    for (status, reason, fields, want) in cases {
        let mut out = Vec::new();
        let got = reply::write_head(&headers_payload(status, reason, &fields), &mut out);
        assert_eq!(got, Ok(status));
        assert_eq!(String::from_utf8_lossy(&out), want);
    }
}

#[test]
fn bad_send_headers_are_refused() {
    let cases: Vec<(u16, Vec<Field>)> = vec![
        (200, vec![(Err(b"X-A"), b"v\r\nSet-Cookie: evil")]),
        (200, vec![(Err(b"X A"), b"v")]),
        (200, vec![(Err(b""), b"v")]),
        (200, vec![(Err(b"X-A"), b"v\0")]),
        (200, vec![(Ok(0xA00C), b"v")]),
        (100, vec![]),
        (101, vec![]),
        (600, vec![]),
        (1000, vec![]),
        (200, vec![(Err(b"X-A"), b"bell\x07")]),
        (200, vec![(Err(b"X-A"), b"del\x7f")]),
    ];
    for (status, fields) in cases {
        let mut out = Vec::new();
        let payload = headers_payload(status, b"", &fields);
        assert!(
            reply::write_head(&payload, &mut out).is_err(),
            "{status} {fields:?}"
        );
    }
    let good = headers_payload(200, b"OK", &[(Ok(0xA001), b"text/plain")]);
    for cut in 0..good.len() {
        assert!(
            reply::write_head(&good[..cut], &mut Vec::new()).is_err(),
            "cut {cut}"
        );
    }
    let mut trailing = good.clone();
    trailing.push(0);
    assert!(reply::write_head(&trailing, &mut Vec::new()).is_err());
}
