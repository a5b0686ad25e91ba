//! The config built from command-line flags: the same as the file's, errors naming the flag.

use std::net::SocketAddr;

use super::{addr, example_config, member};
use crate::config::*;

#[test]
fn from_flags_builds_one_balancer() {
    let members = [
        "http://127.0.0.1:9001,route=node1".to_owned(),
        "http://127.0.0.1:9002,route=node2,loadfactor=3".to_owned(),
        "http://localhost:9003,loadfactor=1.5".to_owned(),
    ];
    let listen = vec![addr("127.0.0.1:8080")];
    let cfg = from_flags(
        listen,
        Some(1),
        IoDriver::Auto,
        &members,
        Some("JSESSIONID|jsessionid"),
        LbMethod::ByRequests,
    )
    .unwrap();
    let mut want = example_config();
    want.source = COMMAND_LINE.into();
    want.workers = Some(1);
    want.balancers[0].members = vec![
        member("http://127.0.0.1:9001", "127.0.0.1:9001", "node1", 100),
        member("http://127.0.0.1:9002", "127.0.0.1:9002", "node2", 300),
        member("http://localhost:9003", "127.0.0.1:9003", "", 150),
    ];
    assert_eq!(cfg, want);
}

#[test]
fn from_flags_errors_name_the_flag() {
    let run = |listen: Vec<SocketAddr>, workers, members: &[&str], sticky| {
        let members: Vec<String> = members.iter().map(|m| m.to_string()).collect();
        let err = from_flags(
            listen,
            workers,
            IoDriver::Auto,
            &members,
            sticky,
            LbMethod::ByRequests,
        )
        .unwrap_err();
        assert_eq!((err.file.as_str(), err.line), (COMMAND_LINE, 0), "{err}");
        err.key
    };
    let ok = "http://127.0.0.1:1";
    assert_eq!(run(vec![], None, &[ok], None), "--listen");
    assert_eq!(run(vec![DEFAULT_LISTEN], Some(0), &[ok], None), "--workers");
    assert_eq!(run(vec![DEFAULT_LISTEN], None, &[], None), "--member");
    assert_eq!(
        run(vec![DEFAULT_LISTEN], None, &[ok], Some("|x")),
        "--stickysession"
    );
    for bad in [
        "https://127.0.0.1:1",
        "http://db_local:1",
        "http://127.0.0.1:1,route=a b",
        "http://127.0.0.1:1,loadfactor=0",
        "http://127.0.0.1:1,loadfactor=x",
        "http://127.0.0.1:1,weight=2",
        "http://127.0.0.1:1,route",
        "http://127.0.0.1:1,route=a,route=b",
    ] {
        assert_eq!(
            run(vec![DEFAULT_LISTEN], None, &[bad], None),
            "--member",
            "{bad}"
        );
    }
    assert_eq!(
        run(
            vec![DEFAULT_LISTEN],
            None,
            &["http://127.0.0.1:1,route=a", "http://127.0.0.1:2,route=a"],
            None
        ),
        "--member"
    );
    let many: Vec<String> = (1..=65).map(|p| format!("http://127.0.0.1:{p}")).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    assert_eq!(run(vec![DEFAULT_LISTEN], None, &many, None), "--member");
}
