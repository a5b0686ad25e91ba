//! An error response sent while the client is still sending must reach it: ringlb closes
//! gracefully (FIN after the response, then drains what the client still sends) instead of
//! closing with unread bytes, which makes the kernel answer with a reset that can destroy the
//! response before the client reads it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[macro_use]
mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;

use common::{is_reset, set_timeouts, single, start_proxy, MockMember};
use ringlb::config::IoDriver;

both_drivers!(
    oversized_head_gets_431_then_a_clean_close,
    oversized_body_gets_413_then_a_clean_close,
);

/// Bytes the client writes after its request starts, while ringlb has already refused it.
const FLOOD: usize = 256 * 1024;

/// Sends `start` then `FLOOD` bytes of `fill` from a writer thread while reading everything
/// ringlb sends until it closes. Asserts that the whole write went through, that the answer
/// starts with `HTTP/1.1 <status>` and that the connection ended with a FIN, not a reset.
fn refused_while_sending(a: SocketAddr, start: Vec<u8>, fill: u8, status: u16) {
    let stream = TcpStream::connect(a).unwrap();
    set_timeouts(&stream);
    let mut writer = stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        writer.write_all(&start)?;
        writer.write_all(&vec![fill; FLOOD])
    });
    let mut reader = stream;
    let mut got = Vec::new();
    let mut block = [0u8; 16 * 1024];
    let end = loop {
        match reader.read(&mut block) {
            Ok(0) => break Ok(()),
            Ok(n) => got.extend_from_slice(&block[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => break Err(e),
        }
    };
    let text = String::from_utf8_lossy(&got).into_owned();
    assert!(
        text.starts_with(&format!("HTTP/1.1 {status} ")),
        "got {text:?} (then {end:?})"
    );
    match end {
        Ok(()) => {}
        Err(e) if is_reset(&e) => panic!("reset after the {status} instead of a clean close"),
        Err(e) => panic!("no close after the {status}: {e}"),
    }
    let sent = sender.join().unwrap();
    assert!(
        sent.is_ok(),
        "the client could not finish sending: {sent:?}"
    );
}

fn oversized_head_gets_431_then_a_clean_close(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.limits.max_head_bytes = 4096;
    let proxy = start_proxy(cfg);

    let start = b"GET / HTTP/1.1\r\nHost: example.test\r\nX-Big: ".to_vec();
    refused_while_sending(common::addr(&proxy), start, b'b', 431);
    member.assert_untouched("head over max_head_bytes");
}

fn oversized_body_gets_413_then_a_clean_close(driver: IoDriver) {
    let member = MockMember::echo();
    let mut cfg = single(driver, &member);
    cfg.limits.max_body_bytes = 1024;
    let proxy = start_proxy(cfg);

    // The head and the start of the body in one write: ringlb refuses on the head alone, with
    // body bytes already waiting unread.
    let mut start =
        b"POST /upload HTTP/1.1\r\nHost: example.test\r\nContent-Length: 10000000\r\n\r\n".to_vec();
    start.resize(start.len() + 64 * 1024, b'x');
    refused_while_sending(common::addr(&proxy), start, b'x', 413);
    member.assert_untouched("Content-Length over max_body_bytes");
}
