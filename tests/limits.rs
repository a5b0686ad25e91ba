//! Resource limits (issue 9, defects 5 and 6): a request body that trickles gets 408 within its
//! deadline and releases its member connection; a tunnel with no traffic either way is closed
//! on both sides after `tunnel_idle`; a worker at `max_connections` stops accepting until a
//! connection closes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::TcpStream;
use std::sync::mpsc;
use std::thread;
use std::time::Instant;

use common::{
    assert_error, get, is_timeout, millis, secs, set_timeouts, single, start_proxy, Client,
    MockMember,
};
use ringlb::config::IoDriver;

both_drivers!(
    trickled_body_gets_408_and_frees_the_member,
    stalled_body_gets_408,
    idle_tunnel_is_closed_both_ways,
    accept_pauses_at_max_connections,
);

/// A member that reads a request head, then reports on `closed` when the proxy closes the
/// connection (it never answers).
fn member_reporting_close() -> (MockMember, mpsc::Receiver<()>) {
    let (tx, rx) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let member = MockMember::raw(move |conn| {
        if conn.read_head()?.is_some() {
            conn.wait_for_close();
            let _ = common::lock(&tx).send(());
        }
        Ok(())
    });
    (member, rx)
}

fn trickled_body_gets_408_and_frees_the_member(driver: IoDriver) {
    let (member, closed) = member_reporting_close();
    let mut cfg = single(driver, &member);
    cfg.timeouts.client_body = millis(600);
    cfg.limits.min_body_rate = 1000; // each byte buys 1 ms
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    client.send(b"POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 1000\r\n\r\n");
    // One byte every 100 ms, as long as the proxy takes them: far below 1000 bytes/s.
    let mut trickle = client.try_clone_stream();
    let started = Instant::now();
    let writer = thread::spawn(move || {
        for _ in 0..1000 {
            if trickle.write_all(b"x").is_err() {
                return;
            }
            thread::park_timeout(millis(100));
        }
    });
    let resp = client.read_response();
    let took = started.elapsed();
    assert_error(&resp, 408);
    assert!(took >= millis(500), "408 before the deadline: {took:?}");
    assert!(took < secs(4), "408 long after the deadline: {took:?}");
    assert_eq!(resp.header("connection"), Some("close"));
    closed
        .recv_timeout(secs(5))
        .expect("the member connection is closed with the 408");
    drop(client);
    writer.join().unwrap();
}

fn stalled_body_gets_408(driver: IoDriver) {
    // Half a body, then silence: the per-read wait ends it, with a 408 rather than a bare EOF.
    let (member, closed) = member_reporting_close();
    let mut cfg = single(driver, &member);
    cfg.timeouts.client_header = millis(300);
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    let resp =
        client.request(b"POST / HTTP/1.1\r\nHost: example.test\r\nContent-Length: 10\r\n\r\nhello");
    assert_error(&resp, 408);
    closed
        .recv_timeout(secs(5))
        .expect("member connection closed");
}

fn idle_tunnel_is_closed_both_ways(driver: IoDriver) {
    let (tx, member_closed) = mpsc::channel();
    let tx = std::sync::Mutex::new(tx);
    let member = MockMember::raw(move |conn| {
        if conn.read_head()?.is_none() {
            return Ok(());
        }
        conn.write_all(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
        )?;
        // Echo until the proxy closes (an error also means the tunnel is gone).
        while let Ok(data) = conn.read_some() {
            if data.is_empty() {
                break;
            }
            conn.write_all(&data)?;
        }
        let _ = common::lock(&tx).send(());
        Ok(())
    });
    let mut cfg = single(driver, &member);
    cfg.timeouts.tunnel_idle = millis(400);
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    client.send(
        b"GET /chat HTTP/1.1\r\nHost: example.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n",
    );
    assert_eq!(client.read_response().status, 101);
    // Traffic keeps the tunnel open past the idle limit (four pings 150 ms apart)...
    for _ in 0..4 {
        thread::park_timeout(millis(150));
        client.send(b"ping");
        assert_eq!(client.read_exact(4), b"ping", "echo through the tunnel");
    }
    // ...and silence both ways closes it, towards the client and towards the member.
    let quiet = Instant::now();
    client.expect_closed();
    let took = quiet.elapsed();
    assert!(took >= millis(300), "closed before tunnel_idle: {took:?}");
    assert!(took < secs(5), "closed long after tunnel_idle: {took:?}");
    member_closed
        .recv_timeout(secs(5))
        .expect("the member side of the tunnel is closed too");
}

/// Reads from `s` until a whole `Content-Length` response is in; `Err` on timeout.
fn read_response_raw(s: &mut TcpStream) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = match s.read(&mut buf) {
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            r => r?,
        };
        if n == 0 {
            return Err(ErrorKind::UnexpectedEof.into());
        }
        out.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&out);
        if let Some(end) = text.find("\r\n\r\n") {
            let len: usize = text[..end]
                .lines()
                .find_map(|l| l.strip_prefix("Content-Length: "))
                .map_or(0, |v| v.trim().parse().unwrap());
            if out.len() >= end + 4 + len {
                return Ok(out);
            }
        }
    }
}

fn accept_pauses_at_max_connections(driver: IoDriver) {
    let member = MockMember::named("a");
    let mut cfg = single(driver, &member);
    cfg.limits.max_connections = Some(2);
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);
    let open = || {
        let s = TcpStream::connect(a).unwrap();
        set_timeouts(&s);
        s
    };
    let mut held: Vec<TcpStream> = (0..2).map(|_| open()).collect();
    for s in &mut held {
        s.write_all(&get("/")).unwrap();
        let resp = read_response_raw(s).unwrap();
        assert!(resp.starts_with(b"HTTP/1.1 200"), "served below the cap");
    }
    // The third connection completes in the kernel but is not accepted: no answer...
    let mut third = open();
    third.write_all(&get("/third")).unwrap();
    third.set_read_timeout(Some(millis(400))).unwrap();
    match read_response_raw(&mut third) {
        Err(e) if is_timeout(&e) => {}
        other => panic!("connection 3 was served above max_connections = 2: {other:?}"),
    }
    // ...until one of the two closes: then it is accepted and served.
    drop(held.remove(0));
    third.set_read_timeout(Some(secs(10))).unwrap();
    let resp = read_response_raw(&mut third).expect("served once a connection closed");
    assert!(
        resp.starts_with(b"HTTP/1.1 200"),
        "{:?}",
        String::from_utf8_lossy(&resp)
    );
    assert!(member.requests().iter().any(|r| r.path == "/third"));
}
