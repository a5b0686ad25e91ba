//! `ringlb bench-member`: started in-process on port 0, it answers pipelined requests in order
//! with the configured body and route, keeps the connection alive, and honours
//! `Connection: close`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use ringlb::benchmember;
use ringlb::cli::BenchMemberArgs;
use ringlb::config::IoDriver;

fn start(driver: IoDriver, body_bytes: usize) -> benchmember::BenchMember {
    benchmember::start(&BenchMemberArgs {
        listen: "127.0.0.1:0".parse().unwrap(),
        body_bytes,
        route: "node2".to_owned(),
        workers: Some(1),
        io_driver: driver,
    })
    .unwrap()
}

/// Reads exactly `n` bytes.
fn read_n(stream: &mut TcpStream, n: usize) -> Vec<u8> {
    let mut buf = vec![0; n];
    stream.read_exact(&mut buf).unwrap();
    buf
}

fn pipelined(driver: IoDriver) {
    let member = start(driver, 13);
    let mut s = TcpStream::connect(member.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"GET /a HTTP/1.1\r\nHost: x\r\n\r\nGET /b HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let one = benchmember::response(13, "node2", false);
    let got = read_n(&mut s, 2 * one.len());
    assert_eq!(&got[..one.len()], &one[..]);
    assert_eq!(&got[one.len()..], &one[..]);
    let text = String::from_utf8(got).unwrap();
    assert_eq!(text.matches("HTTP/1.1 200 OK\r\n").count(), 2);
    assert_eq!(text.matches("X-Member: node2\r\n").count(), 2);
    assert_eq!(text.matches("\r\n\r\nHello, world!").count(), 2);

    // Still alive; a closing request gets the closing answer, then EOF.
    s.write_all(b"GET /c HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let mut rest = Vec::new();
    s.read_to_end(&mut rest).unwrap();
    assert_eq!(rest, benchmember::response(13, "node2", true));
}

#[test]
fn pipelined_io_uring_or_fallback() {
    pipelined(IoDriver::Auto);
}

#[test]
fn pipelined_epoll() {
    pipelined(IoDriver::Epoll);
}

#[test]
fn large_body_and_request_body() {
    let member = start(IoDriver::Auto, 1 << 20);
    let mut s = TcpStream::connect(member.local_addr()).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(b"POST / HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET / HTTP/1.1\r\n\r\n")
        .unwrap();
    let one = benchmember::response(1 << 20, "node2", false);
    let got = read_n(&mut s, 2 * one.len());
    assert!(got[..one.len()] == one[..] && got[one.len()..] == one[..]);
}
