//! Response bodies of known length, from a few bytes to megabytes, relayed through the
//! worker's buffers (16 KiB reads, growing to 64 KiB for a large body): every byte arrives,
//! both connections are reused after an exact body, pipelined requests behind a large body
//! are answered, and a member that dies or goes silent mid-body leaves the client with exactly
//! the bytes it sent, then a closed connection. (Bytes a member writes after a large body are
//! in `desync.rs`; 100 MB bodies in `large.rs`.)
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::disallowed_methods,
    clippy::disallowed_types
)]

#[macro_use]
mod common;

use std::sync::mpsc;
use std::sync::Mutex;

use common::{
    find, lock, millis, poll_until, proxy_for, secs, single, start_proxy, within, Client, Fnv,
    MockMember, Noise,
};
use ringlb::config::IoDriver;

both_drivers!(
    bodies_of_every_size_arrive_whole_over_one_reused_connection,
    pipelined_requests_behind_a_large_body_are_answered,
    a_member_gone_mid_body_leaves_the_client_its_bytes_then_a_close,
    a_member_silent_mid_body_past_the_timeout_leaves_the_client_its_bytes_then_a_close,
);

/// Body sizes around the relay's read sizes (16 and 64 KiB) and well above them.
const SIZES: [u64; 7] = [
    1_000,
    16_384,
    16_385,
    65_536,
    65_537,
    300_001,
    3 * 1_048_576 + 7,
];

/// The checksum of the body the member sends for `size` (seeded by the size).
fn body_fnv(size: u64) -> u64 {
    let mut noise = Noise::new(size);
    let mut fnv = Fnv::new();
    let mut block = vec![0u8; 65_536];
    let mut left = size;
    while left > 0 {
        let n = (left as usize).min(block.len());
        noise.fill(&mut block[..n]);
        fnv.update(&block[..n]);
        left -= n as u64;
    }
    fnv.0
}

/// A member answering `GET /<size>` with `size` pseudo-random bytes (Content-Length), written
/// in blocks. With `cut_at`, it stops a body after that many bytes, calls `stop` (which may
/// hold the connection open, silent) and closes the connection.
fn sized_member(cut_at: Option<u64>, stop: impl Fn() + Send + Sync + 'static) -> MockMember {
    MockMember::raw(move |conn| {
        while let Some(req) = conn.read_request()? {
            let size: u64 = req.path.trim_start_matches('/').parse().unwrap_or(0);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Length: {size}\r\n\r\n");
            conn.write_all(head.as_bytes())?;
            let mut noise = Noise::new(size);
            let mut block = vec![0u8; 65_536];
            let mut sent = 0u64;
            while sent < size {
                let n = ((size - sent) as usize).min(block.len());
                noise.fill(&mut block[..n]);
                let n = match cut_at {
                    Some(cut) if sent + n as u64 >= cut => (cut - sent) as usize,
                    _ => n,
                };
                conn.write_all(&block[..n])?;
                sent += n as u64;
                if Some(sent) == cut_at {
                    stop();
                    conn.shutdown();
                    return Ok(());
                }
            }
        }
        Ok(())
    })
}

/// Reads one response's body from `client` and checks its length and checksum.
fn read_and_check(client: &mut Client, size: u64) {
    let mut fnv = Fnv::new();
    let mut got = 0u64;
    let resp = client.read_response_with(&mut |b| {
        got += b.len() as u64;
        fnv.update(b);
    });
    assert_eq!(resp.status, 200, "/{size}");
    assert_eq!(got, size, "/{size}: body length");
    assert_eq!(fnv.0, body_fnv(size), "/{size}: the same bytes");
}

fn bodies_of_every_size_arrive_whole_over_one_reused_connection(driver: IoDriver) {
    let member = sized_member(None, || {});
    let (_proxy, a) = proxy_for(driver, &member);
    within(secs(60), move || {
        let mut client = Client::connect(a);
        for size in SIZES.iter().chain(SIZES.iter().rev()) {
            client.send(&common::get(&format!("/{size}")));
            read_and_check(&mut client, *size);
        }
    });
    assert_eq!(
        member.connections(),
        1,
        "every body ended exactly: one member connection served all"
    );
}

fn pipelined_requests_behind_a_large_body_are_answered(driver: IoDriver) {
    let member = sized_member(None, || {});
    let (_proxy, a) = proxy_for(driver, &member);
    within(secs(60), move || {
        let mut client = Client::connect(a);
        let sizes = [2_000_000u64, 17, 700_000, 5];
        let pipelined: Vec<u8> = sizes
            .iter()
            .flat_map(|s| common::get(&format!("/{s}")))
            .collect();
        client.send(&pipelined);
        for size in sizes {
            read_and_check(&mut client, size);
        }
    });
}

/// Sends `GET /<size>` on a fresh connection and reads until the proxy closes it: returns the
/// response head and the number of body bytes that came before the close.
fn get_until_close(a: std::net::SocketAddr, size: u64) -> (String, u64) {
    let all = common::raw_exchange(a, &common::get(&format!("/{size}")));
    let end = find(&all, b"\r\n\r\n").expect("a response head") + 4;
    let head = String::from_utf8_lossy(&all[..end]).into_owned();
    (head, (all.len() - end) as u64)
}

fn a_member_gone_mid_body_leaves_the_client_its_bytes_then_a_close(driver: IoDriver) {
    let cut = 700_000;
    let member = sized_member(Some(cut), || {});
    let (_proxy, a) = proxy_for(driver, &member);
    let (head, got) = within(secs(30), move || get_until_close(a, 2_000_000));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert!(head.contains("Content-Length: 2000000"), "{head}");
    assert_eq!(got, cut, "every byte the member sent, then the close");
    // The proxy goes on serving on a fresh member connection.
    let mut client = Client::connect(a);
    client.send(&common::get("/300000"));
    read_and_check(&mut client, 300_000);
}

fn a_member_silent_mid_body_past_the_timeout_leaves_the_client_its_bytes_then_a_close(
    driver: IoDriver,
) {
    let cut = 400_000;
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let release_rx = Mutex::new(release_rx);
    // The member holds the connection open, silent, until the test has seen the close.
    let member = sized_member(Some(cut), move || {
        let _ = lock(&release_rx).recv_timeout(secs(20));
    });
    let mut cfg = single(driver, &member);
    cfg.timeouts.upstream_response = millis(500);
    let proxy = start_proxy(cfg);
    let a = common::addr(&proxy);
    let (head, got) = within(secs(30), move || get_until_close(a, 1_000_000));
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    assert_eq!(got, cut, "every byte the member sent, then the close");
    assert!(
        poll_until(secs(10), || member.open_now() == 0),
        "the proxy closed the silent member connection"
    );
    release_tx.send(()).unwrap();
}
