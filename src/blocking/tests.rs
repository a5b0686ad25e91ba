use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::time::Duration;

use super::*;

const LIMITS: Limits = Limits {
    head: 1024,
    headers: 16,
    body: 64,
};

const GET: Role<'static> = Role::Response { method: b"GET" };

fn request(bytes: &[u8]) -> Result<Message, Error> {
    parse_complete(bytes, Role::Request, LIMITS)
}

#[test]
fn request_with_length_chunked_and_no_body() {
    let m =
        request(b"POST /a?b HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nX: 1\r\n\r\nabc").unwrap();
    assert_eq!((m.method(), m.target(), m.status()), ("POST", "/a?b", 0));
    assert_eq!(m.body, b"abc");
    assert_eq!(m.header("x"), Some(&b"1"[..]));
    assert_eq!(m.count("HOST"), 1);
    assert!(m.keep_alive);
    let names: Vec<&str> = m.headers().map(|(n, _)| n).collect();
    assert_eq!(names, ["Host", "Content-Length", "X"]);

    let chunked = b"PUT / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
                    3;ext=1\r\nhel\r\n2\r\nlo\r\n0\r\nTrailer: t\r\n\r\n";
    assert_eq!(request(chunked).unwrap().body, b"hello");

    let m = request(b"GET / HTTP/1.0\r\n\r\n").unwrap();
    assert!(m.body.is_empty() && !m.keep_alive);
    assert_eq!(m.version(), Version::Http10);
}

#[test]
fn responses_by_framing() {
    let m = parse_complete(
        b"HTTP/1.1 404 Not Found\r\nContent-Length: 2\r\n\r\nno",
        GET,
        LIMITS,
    )
    .unwrap();
    assert_eq!(
        (m.status(), m.reason().as_str(), &m.body[..]),
        (404, "Not Found", &b"no"[..])
    );
    let m = parse_complete(b"HTTP/1.0 200 OK\r\n\r\nto the end", GET, LIMITS).unwrap();
    assert_eq!(m.body, b"to the end");
    assert!(!m.keep_alive);
    let head = Role::Response { method: b"HEAD" };
    let m = parse_complete(
        b"HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n",
        head,
        LIMITS,
    )
    .unwrap();
    assert!(m.body.is_empty());
    assert_eq!(m.method(), "");
}

#[test]
fn malformed_input_is_an_error_never_a_panic() {
    let cases: [(&[u8], &str); 11] = [
        (b"", "closed"),
        (b"GET / HTTP/1.1\r\nHost", "middle of the head"),
        (b"\x01\x02 nonsense\r\n\r\n", "invalid"),
        (b"GET / HTTP/1.1\r\n\r\n", "missing host"),
        (b"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", "more than one host"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: x\r\n\r\n", "content-length"),
        (
            b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "both",
        ),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nab", "after 2 of 5"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 65\r\n\r\n", "body too large"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "chunked"),
        (b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab", "truncated"),
    ];
    for (bytes, needle) in cases {
        let err = request(bytes).expect_err(&String::from_utf8_lossy(bytes));
        assert!(err.to_string().contains(needle), "{bytes:?}: {err}");
    }
    let chunk = format!(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n{}\r\n0\r\n\r\n",
        "x".repeat(65)
    );
    assert!(matches!(
        request(chunk.as_bytes()),
        Err(Error::BodyTooLarge)
    ));
    let big = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "x".repeat(2000)
    );
    assert!(matches!(request(big.as_bytes()), Err(Error::HeadTooLarge)));
    let many: String = (0..20).map(|i| format!("X{i}: v\r\n")).collect();
    let many = format!("GET / HTTP/1.1\r\nHost: h\r\n{many}\r\n");
    assert!(matches!(request(many.as_bytes()), Err(Error::Head(_))));
    let err = parse_complete(b"SSH-2.0-OpenSSH\r\n\r\n", GET, LIMITS).unwrap_err();
    assert!(matches!(err, Error::Head(_)), "{err}");
}

/// Every prefix of valid messages, fed byte by byte and whole, and bytes of garbage: the
/// parser returns, never panics, and agrees with itself.
#[test]
fn every_prefix_and_every_split_point() {
    let messages: [&[u8]; 3] = [
        b"POST /x HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nab\r\n0\r\n\r\n",
        b"POST /x HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nwxyz",
        b"GET / HTTP/1.1\r\nHost: h\r\n\r\n",
    ];
    for msg in messages {
        let whole = request(msg).unwrap();
        let mut parser = Parser::new(LIMITS);
        let mut got = None;
        for end in 0..=msg.len() {
            if let Some(done) = parser.parse(&msg[..end], false, Role::Request).unwrap() {
                got = Some(done);
                break;
            }
        }
        let (m, used) = got.expect("complete at the end");
        assert_eq!((m.body, used), (whole.body, msg.len()));
        for end in 0..msg.len() {
            assert!(request(&msg[..end]).is_err(), "prefix {end} of {msg:?}");
        }
    }
    let mut x: u32 = 7;
    for _ in 0..2000 {
        let len = (x % 200) as usize;
        let garbage: Vec<u8> = (0..len)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12345);
                b"GET /HTP1.\r\n: Host Content-Length chunked 0a"[(x >> 16) as usize % 44]
            })
            .collect();
        let _ = request(&garbage);
        let _ = parse_complete(&garbage, GET, LIMITS);
    }
}

#[test]
fn pipelined_messages_keep_the_rest() {
    let bytes = b"GET /1 HTTP/1.1\r\nHost: h\r\n\r\nGET /2 HTTP/1.1\r\nHost: h\r\n\r\nGET /3";
    let mut parser = Parser::new(LIMITS);
    let (m, used) = parser.parse(bytes, false, Role::Request).unwrap().unwrap();
    assert_eq!(m.target(), "/1");
    let rest = &bytes[used..];
    let (m, used) = Parser::new(LIMITS)
        .parse(rest, false, Role::Request)
        .unwrap()
        .unwrap();
    assert_eq!(m.target(), "/2");
    assert!(Parser::new(LIMITS)
        .parse(&rest[used..], false, Role::Request)
        .unwrap()
        .is_none());
}

fn pair() -> (TcpStream, TcpStream) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    let (server, _) = listener.accept().unwrap();
    (client, server)
}

#[test]
fn reads_from_a_socket_across_writes_and_keeps_the_next_request() {
    let (mut client, mut server) = pair();
    client
        .write_all(b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nab")
        .unwrap();
    let writer = std::thread::spawn(move || {
        client
            .write_all(b"cdGET /next HTTP/1.1\r\nHost: h\r\n\r\n")
            .unwrap();
        client
    });
    let mut buf = Vec::new();
    let deadline = Some(clock::now() + Duration::from_secs(10));
    let m = read_message(&mut server, &mut buf, Role::Request, LIMITS, deadline).unwrap();
    assert_eq!(m.body, b"abcd");
    let client = writer.join().unwrap();
    let m = read_message(&mut server, &mut buf, Role::Request, LIMITS, deadline).unwrap();
    assert_eq!(m.target(), "/next");
    assert!(buf.is_empty());
    drop(client);
    let err = read_message(&mut server, &mut buf, Role::Request, LIMITS, deadline).unwrap_err();
    assert!(matches!(err, Error::Closed), "{err}");
}

#[test]
fn a_silent_peer_times_out_at_the_deadline() {
    let (mut client, mut server) = pair();
    client.write_all(b"GET / HTTP/1.1\r\n").unwrap();
    let mut buf = Vec::new();
    let deadline = Some(clock::now() + Duration::from_millis(50));
    let err = read_message(&mut server, &mut buf, Role::Request, LIMITS, deadline).unwrap_err();
    assert!(matches!(err, Error::TimedOut), "{err}");
    let past = Some(clock::now());
    let err = read_message(&mut server, &mut buf, Role::Request, LIMITS, past).unwrap_err();
    assert!(matches!(err, Error::TimedOut), "{err}");
}

#[test]
fn response_bytes_has_length_and_leaves_the_body_out_for_head() {
    let r = response_bytes(404, &[("Content-Type", "text/plain")], b"gone", false);
    assert_eq!(
        r,
        b"HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\ngone"
    );
    let h = response_bytes(200, &[], b"body", true);
    assert_eq!(h, b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\n");
    let back = parse_complete(&r, GET, LIMITS).unwrap();
    assert_eq!((back.status(), &back.body[..]), (404, &b"gone"[..]));
}
