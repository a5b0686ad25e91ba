//! Driving the `ringlb` binary: run a command to its end, by its PID, within a deadline.

use std::io::{BufRead, BufReader, Read};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;

use super::{poll_until, secs};

/// Runs `ringlb check -c config` and `ringlb run -c config` and asserts that both refuse it
/// with the same message, which names each of `needles`.
pub(crate) fn check_and_run_refuse(config: &std::path::Path, needles: &[String]) {
    const RINGLB: &str = env!("CARGO_BIN_EXE_ringlb");
    let check = run_to_end(Command::new(RINGLB).arg("check").arg("-c").arg(config));
    let run = run_to_end(Command::new(RINGLB).arg("run").arg("-c").arg(config));
    let text = std::fs::read_to_string(config).unwrap_or_default();
    assert!(!check.0, "check accepted {text}");
    assert!(!run.0, "run started with {text}");
    assert_eq!(check.1, run.1, "check and run say different things");
    for needle in needles {
        assert!(
            check.1.contains(needle.as_str()),
            "no {needle:?} in {}",
            check.1
        );
    }
}

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

/// A ringlb process that is killed (by its PID) and reaped when dropped, with its stderr
/// lines arriving on `lines`.
pub(crate) struct Process {
    child: Child,
    lines: mpsc::Receiver<String>,
}

impl Process {
    pub(crate) fn start(cmd: &mut Command) -> Process {
        let mut child = cmd
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start ringlb");
        let stderr = child.stderr.take().unwrap();
        let (tx, lines) = mpsc::channel();
        thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx.send(line);
            }
        });
        Process { child, lines }
    }

    /// The next stderr line containing `needle`, with every line read on the way.
    pub(crate) fn wait_for(&self, needle: &str) -> (String, Vec<String>) {
        let mut seen = Vec::new();
        loop {
            match self.lines.recv_timeout(secs(10)) {
                Ok(line) if line.contains(needle) => return (line, seen),
                Ok(line) => seen.push(line),
                Err(_) => panic!("no {needle:?} from ringlb; it said {seen:?}"),
            }
        }
    }

    /// The stderr lines that arrived since the last call (or [`Process::wait_for`]), without
    /// waiting.
    pub(crate) fn lines_so_far(&self) -> Vec<String> {
        self.lines.try_iter().collect()
    }

    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
