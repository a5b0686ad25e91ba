//! Self-tests of the test helpers, with the client talking straight to a mock member (no proxy):
//! when a proxy test fails, these say whether the harness itself can be trusted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{
    get, poll_until, post, raw_exchange, response_bytes, secs, Client, Fnv, MockMember, Noise,
    Reply,
};

#[test]
fn echo_member_keeps_alive_and_records() {
    let member = MockMember::echo();
    let mut client = Client::connect(member.addr());
    for i in 0..3 {
        let body = format!("body {i}");
        let resp = client.request(&post(&format!("/p{i}"), body.as_bytes()));
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body_text(), body);
    }
    assert_eq!(member.connections(), 1);
    let seen = member.requests();
    assert_eq!(seen.len(), 3);
    assert_eq!(seen[2].path, "/p2");
    assert_eq!(seen[2].body, b"body 2");
    assert!(seen[0].head.ends_with(b"\r\n\r\n"));
    assert!(member.bytes_received() > 0);
}

#[test]
fn chunked_both_ways() {
    let member = MockMember::respond(|req| {
        assert!(req.chunked);
        let mut out = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n".to_vec();
        for part in req.body.chunks(3) {
            out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
            out.extend_from_slice(part);
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
        Reply::Send(out)
    });
    let mut client = Client::connect(member.addr());
    let resp = client.request(
        b"POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n\
          5;x=y\r\nhello\r\n6\r\n world\r\n0\r\n\r\n",
    );
    assert!(resp.chunked);
    assert_eq!(resp.body, b"hello world");
    assert_eq!(member.requests()[0].body, b"hello world");
}

#[test]
fn close_delimited_and_raw_exchange() {
    let member = MockMember::respond(|_| {
        Reply::SendAndClose(b"HTTP/1.1 200 OK\r\n\r\nuntil close".to_vec())
    });
    let resp = Client::connect(member.addr()).request(&get("/"));
    assert!(resp.close_delimited);
    assert_eq!(resp.body, b"until close");

    let raw = raw_exchange(member.addr(), &get("/"));
    assert_eq!(raw, b"HTTP/1.1 200 OK\r\n\r\nuntil close");
}

#[test]
fn interim_responses_collected() {
    let member = MockMember::fixed(
        b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: <a>\r\n\r\n\
          HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
    );
    let resp = Client::connect(member.addr()).request(&get("/"));
    let codes: Vec<u16> = resp.interim.iter().map(|r| r.status).collect();
    assert_eq!(codes, vec![100, 103]);
    assert_eq!(resp.interim[1].header("LINK"), Some("<a>"));
    assert_eq!(resp.body, b"ok");
}

#[test]
fn head_and_bodiless_statuses() {
    let member = MockMember::respond(|req| match (req.method.as_str(), req.path.as_str()) {
        ("HEAD", _) => Reply::Send(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n".to_vec()),
        (_, "/204") => {
            Reply::Send(b"HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n".to_vec())
        }
        (_, "/304") => Reply::Send(b"HTTP/1.1 304 Not Modified\r\n\r\n".to_vec()),
        _ => Reply::Send(response_bytes(200, "OK", &[], b"12345")),
    });
    let mut client = Client::connect(member.addr());
    client.send(b"HEAD / HTTP/1.1\r\nHost: h\r\n\r\n");
    let resp = client.read_head_response();
    assert_eq!(resp.header("content-length"), Some("5"));
    assert!(resp.body.is_empty());
    assert_eq!(client.request(&get("/204")).status, 204);
    assert_eq!(client.request(&get("/304")).status, 304);
    assert_eq!(client.request(&get("/")).body, b"12345");
}

#[test]
fn close_without_answer_is_seen_as_eof() {
    let member = MockMember::respond(|_| Reply::Close);
    let mut client = Client::connect(member.addr());
    client.send(&get("/"));
    client.expect_closed();
}

#[test]
fn hanging_member_stops_when_dropped() {
    let member = MockMember::hang();
    let mut client = Client::connect(member.addr());
    client.send(&get("/"));
    assert!(poll_until(secs(5), || member.requests().len() == 1));
    drop(member);
    client.expect_closed();
}

#[test]
fn tunnel_echo() {
    let member = MockMember::raw(|conn| {
        conn.read_head()?;
        conn.write_all(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n")?;
        loop {
            let d = conn.read_some()?;
            if d.is_empty() {
                return Ok(());
            }
            conn.write_all(&d)?;
        }
    });
    let mut client = Client::connect(member.addr());
    let resp = client.request(&get("/"));
    assert_eq!(resp.status, 101);
    client.send(b"ping");
    assert_eq!(client.read_exact(4), b"ping");
}

#[test]
fn noise_and_fnv_are_deterministic_and_block_independent() {
    let mut whole = vec![0u8; 1000];
    Noise::new(7).fill(&mut whole);
    let mut a = Fnv::new();
    a.update(&whole);

    // The same stream in 8-byte-multiple blocks hashes the same.
    let mut noise = Noise::new(7);
    let mut b = Fnv::new();
    for size in [64usize, 512, 424] {
        let mut block = vec![0u8; size];
        noise.fill(&mut block);
        b.update(&block);
    }
    assert_eq!(a.0, b.0);
    assert_ne!(whole[..8], whole[8..16]);
}
