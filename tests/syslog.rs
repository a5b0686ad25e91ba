//! Log targets over a real Unix datagram socket the test binds (`syslog:/path`): the access
//! log sends one RFC 3164 datagram per request line from each worker's tick, and the error
//! log sends its member state changes there. Both drivers for the access log.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::disallowed_methods)]

#[macro_use]
mod common;

use std::os::unix::net::UnixDatagram;
use std::path::PathBuf;

use common::{config, dead_addr, get, member, secs, start_proxy, Client, MockMember};
use ringlb::config::{AccessTarget, IoDriver};

both_drivers!(access_log_lines_are_syslog_datagrams);

/// A datagram socket bound in a fresh directory, with a read timeout.
fn bind(name: &str) -> (UnixDatagram, PathBuf) {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("syslog-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("log.sock");
    let _ = std::fs::remove_file(&path);
    let socket = UnixDatagram::bind(&path).unwrap();
    socket.set_read_timeout(Some(secs(10))).unwrap();
    (socket, path)
}

/// The next datagram, as text; panics after the read timeout.
fn recv(socket: &UnixDatagram) -> String {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        match socket.recv(&mut buf) {
            Ok(n) => return String::from_utf8(buf[..n].to_vec()).unwrap(),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => panic!("no datagram within the timeout: {e}"),
        }
    }
}

fn access_log_lines_are_syslog_datagrams(driver: IoDriver) {
    let (socket, path) = bind(match driver {
        IoDriver::IoUring => "uring",
        _ => "epoll",
    });
    let mock = MockMember::named("a");
    let mut cfg = common::single(driver, &mock);
    cfg.ops.log.access = Some(AccessTarget::Syslog(path));
    cfg.ops.log.access_format = "common".into();
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    for i in 0..3 {
        let resp = client.request(&get(&format!("/page{i}")));
        assert_eq!(resp.status, 200);
    }
    let tag = format!("ringlb[{}]: ", std::process::id());
    for i in 0..3 {
        let datagram = recv(&socket);
        assert!(datagram.starts_with("<30>"), "daemon.info: {datagram}");
        let (header, line) = datagram.split_once(&tag).expect("the tag");
        assert_eq!(header.len(), "<30>Dec  2 01:02:03 ".len(), "{datagram}");
        assert!(line.starts_with("127.0.0.1 - - ["), "{line}");
        assert!(
            line.ends_with(&format!("\"GET /page{i} HTTP/1.1\" 200 1")),
            "{line}"
        );
        assert!(
            !line.ends_with('\n'),
            "one line per datagram, without its newline"
        );
    }
    drop((proxy, mock));
}

/// The error log's state changes reach the socket (one process-wide target: this is the one
/// test in this binary that sets it).
#[test]
fn error_log_sends_state_changes_to_syslog() {
    let (socket, path) = bind("error");
    ringlb::log::set_target(&AccessTarget::Syslog(path)).unwrap();
    let dead = dead_addr();
    let cfg = config(IoDriver::Epoll, vec![member(dead, "", 100)]);
    let proxy = start_proxy(cfg);
    let mut client = Client::connect(common::addr(&proxy));
    assert_eq!(client.request(&get("/")).status, 503);
    let want = format!("balancer test: member http://{dead} in error for 60s: connect refused");
    let datagram = loop {
        let d = recv(&socket);
        if d.contains(&format!("http://{dead}")) {
            break d;
        }
    };
    assert!(datagram.starts_with("<28>"), "daemon.warning: {datagram}");
    assert!(datagram.ends_with(&format!("]: {want}")), "{datagram}");
}
