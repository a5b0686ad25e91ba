//! Driving the `ringlb` binary: run a command to its end, by its PID, within a deadline.

use std::io::Read;
use std::process::{Command, Stdio};
use std::thread;

use super::{poll_until, secs};

/// Runs `cmd` to its end within 10 s (killing it by PID otherwise) and returns its exit
/// success and stderr.
pub(crate) fn run_to_end(cmd: &mut Command) -> (bool, String) {
    let mut child = cmd
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = child.stderr.take().unwrap();
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let mut status = None;
    let ended = poll_until(secs(10), || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    if !ended {
        let _ = child.kill();
        let _ = child.wait();
        panic!("ringlb kept running: {}", reader.join().unwrap());
    }
    (status.unwrap().success(), reader.join().unwrap())
}
