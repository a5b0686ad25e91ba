//! Sink tests against real files in the temp directory: thresholds, reopen after a rename
//! (logrotate), bounded memory when writes fail, and whole lines from concurrent sinks.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;

use super::sink::{self, chunk_len, Sink, FLUSH_BYTES, FLUSH_INTERVAL_MS, MAX_BUFFER};
use super::{request_reopen, AccessLog, Format, Record};

/// A unique path in the temp directory, removed (with `.1`) on drop.
struct TempPath(PathBuf);

impl TempPath {
    fn new(tag: &str) -> TempPath {
        static SEQ: AtomicU32 = AtomicU32::new(0);
        let n = SEQ.fetch_add(1, Ordering::Relaxed);
        let name = format!("ringlb-accesslog-{tag}-{}-{n}.log", std::process::id());
        let path = std::env::temp_dir().join(name);
        let _ = std::fs::remove_file(&path);
        TempPath(path)
    }

    fn rotated(&self) -> PathBuf {
        self.0.with_extension("log.1")
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
        let _ = std::fs::remove_file(self.rotated());
    }
}

fn read(path: &Path) -> String {
    String::from_utf8(std::fs::read(path).unwrap_or_default()).unwrap()
}

fn push_line(sink: &mut Sink, text: &str) {
    let buf = sink.buffer();
    buf.extend_from_slice(text.as_bytes());
    buf.push(b'\n');
    sink.appended();
}

#[test]
fn buffers_until_flush() {
    let tmp = TempPath::new("flush");
    let mut s = Sink::open(&tmp.0).unwrap();
    push_line(&mut s, "one");
    push_line(&mut s, "two");
    assert_eq!(read(&tmp.0), "", "nothing written per line");
    s.flush();
    assert_eq!(read(&tmp.0), "one\ntwo\n");
    assert_eq!(s.buffered_len(), 0);
    assert_eq!(s.path(), Some(tmp.0.as_path()));
}

#[test]
fn appends_to_an_existing_file() {
    let tmp = TempPath::new("append");
    std::fs::write(&tmp.0, "old\n").unwrap();
    let mut s = Sink::open(&tmp.0).unwrap();
    push_line(&mut s, "new");
    drop(s); // flushes
    assert_eq!(read(&tmp.0), "old\nnew\n");
}

#[test]
fn tick_flushes_after_the_interval() {
    let tmp = TempPath::new("tick");
    let mut s = Sink::open(&tmp.0).unwrap();
    s.flush_if_due(1000); // nothing buffered: nothing to do, not counted as a flush
    push_line(&mut s, "a");
    s.flush_if_due(1000);
    assert_eq!(read(&tmp.0), "a\n", "first tick after a long pause flushes");
    push_line(&mut s, "b");
    s.flush_if_due(1000 + FLUSH_INTERVAL_MS - 1);
    assert_eq!(read(&tmp.0), "a\n", "not yet due");
    s.flush_if_due(1000 + FLUSH_INTERVAL_MS);
    assert_eq!(read(&tmp.0), "a\nb\n");
}

#[test]
fn size_threshold_flushes_without_a_tick() {
    let tmp = TempPath::new("size");
    let mut s = Sink::open(&tmp.0).unwrap();
    let line = "x".repeat(99);
    let lines = FLUSH_BYTES / 100;
    for _ in 0..lines - 1 {
        push_line(&mut s, &line);
    }
    assert_eq!(read(&tmp.0).len(), 0);
    push_line(&mut s, &line); // reaches FLUSH_BYTES - 36 bytes: still below
    push_line(&mut s, &line); // now at or over 64 KiB
    assert_eq!(read(&tmp.0).len(), (lines + 1) * 100);
    assert_eq!(s.buffered_len(), 0);
}

#[test]
fn only_whole_lines_are_written() {
    let tmp = TempPath::new("partial");
    let mut s = Sink::open(&tmp.0).unwrap();
    s.buffer().extend_from_slice(b"done\nhalf");
    s.flush();
    assert_eq!(read(&tmp.0), "done\n");
    s.buffer().extend_from_slice(b" line\n");
    s.flush();
    assert_eq!(read(&tmp.0), "done\nhalf line\n");
}

#[test]
fn reopen_after_rename() {
    let tmp = TempPath::new("rotate");
    let mut s = Sink::open(&tmp.0).unwrap();
    push_line(&mut s, "before 1");
    push_line(&mut s, "before 2");
    s.flush();
    std::fs::rename(&tmp.0, tmp.rotated()).unwrap();
    request_reopen();
    // A tick reopens even with nothing buffered, so the old file is released promptly.
    s.flush_if_due(10_000);
    assert_eq!(read(&tmp.0), "", "new file created by the reopen");
    push_line(&mut s, "after 1");
    s.flush();
    push_line(&mut s, "after 2");
    s.flush();
    assert_eq!(read(&tmp.rotated()), "before 1\nbefore 2\n");
    assert_eq!(read(&tmp.0), "after 1\nafter 2\n");
    assert_eq!(s.errors(), 0);
}

#[test]
fn failed_reopen_keeps_the_old_file() {
    let tmp = TempPath::new("noreopen");
    let dir = std::env::temp_dir().join(format!("ringlb-accesslog-dir-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("a.log");
    let mut s = Sink::open(&path).unwrap();
    std::fs::rename(&path, &tmp.0).unwrap();
    std::fs::remove_dir(&dir).unwrap(); // the path can no longer be created
    request_reopen();
    push_line(&mut s, "kept");
    s.flush();
    assert!(s.errors() >= 1);
    assert_eq!(read(&tmp.0), "kept\n", "still written to the open file");
}

#[test]
fn failing_writes_drop_oldest_lines_and_never_exceed_the_cap() {
    let mut s = Sink::open(Path::new("/dev/full")).unwrap(); // every write fails with ENOSPC
    let lines = 3 * MAX_BUFFER / 100;
    for i in 0..lines {
        push_line(&mut s, &format!("{i:099}"));
        assert!(s.buffered_len() <= MAX_BUFFER + 100);
    }
    assert_eq!(
        s.errors(),
        1,
        "after a failure, lines do not retry the write"
    );
    let kept = (s.buffered_len() / 100) as u64;
    assert_eq!(s.dropped() + kept, lines as u64);
    // What is left are the newest lines, whole.
    let buf = s.buffer().clone();
    assert_eq!(buf.len() % 100, 0);
    assert_eq!(
        &buf[buf.len() - 100..],
        format!("{:099}\n", lines - 1).as_bytes()
    );
    s.flush_if_due(1_000_000); // the tick retries
    assert_eq!(s.errors(), 2);
}

#[test]
fn chunks_end_at_line_ends() {
    let buf = b"aaa\nbb\ncccccc\nd\n";
    assert_eq!(chunk_len(buf, 100), buf.len());
    assert_eq!(chunk_len(buf, 7), 7); // "aaa\nbb\n"
    assert_eq!(chunk_len(buf, 6), 4); // "aaa\n"
    assert_eq!(chunk_len(buf, 2), 4); // a longer line goes alone
    assert_eq!(chunk_len(&buf[7..], 3), 7); // "cccccc\n"
}

/// Two workers, two sinks, one file: every line arrives whole and exactly once.
#[test]
fn two_sinks_on_two_threads_write_whole_lines() {
    let tmp = TempPath::new("shared");
    const LINES: usize = 3000;
    let threads: Vec<_> = (0..2)
        .map(|t| {
            let path = tmp.0.clone();
            std::thread::spawn(move || {
                let mut s = Sink::open(&path).unwrap();
                for i in 0..LINES {
                    // Lengths from 20 to ~1 KiB so writes straddle many sizes.
                    let pad = "p".repeat((i * 37 + t * 11) % 1000);
                    push_line(&mut s, &format!("t{t} {i} {pad} end"));
                    if i % 97 == 0 {
                        s.flush();
                    }
                    if i % 200 == 0 {
                        s.flush_if_due(i as u64 * 10);
                    }
                }
                s.flush();
                assert_eq!(s.errors(), 0);
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let text = read(&tmp.0);
    let mut seen = [vec![false; LINES], vec![false; LINES]];
    for line in text.lines() {
        let mut parts = line.split(' ');
        let t: usize = parts.next().unwrap()[1..].parse().unwrap();
        let i: usize = parts.next().unwrap().parse().unwrap();
        let pad = parts.next().unwrap();
        assert_eq!(pad.len(), (i * 37 + t * 11) % 1000, "line {line:?}");
        assert!(pad.bytes().all(|b| b == b'p'));
        assert_eq!(parts.next(), Some("end"));
        assert_eq!(parts.next(), None);
        assert!(!seen[t][i], "duplicate {line:?}");
        seen[t][i] = true;
    }
    assert!(
        seen.iter().all(|s| s.iter().all(|&x| x)),
        "all lines present"
    );
}

#[test]
fn access_log_formats_into_the_sink() {
    let tmp = TempPath::new("accesslog");
    let format = Arc::new(Format::parse("%>s %U").unwrap());
    let mut log = AccessLog::new(format, Sink::open(&tmp.0).unwrap());
    let rec = Record {
        status: 204,
        target: b"/a?b",
        ..Record::default()
    };
    log.log(&rec);
    log.log(&Record { status: 404, ..rec });
    log.tick(0);
    assert_eq!(read(&tmp.0), "", "not due yet");
    log.tick(sink::FLUSH_INTERVAL_MS);
    assert_eq!(read(&tmp.0), "204 /a\n404 /a\n");
    log.log(&rec);
    log.flush();
    assert_eq!(read(&tmp.0), "204 /a\n404 /a\n204 /a\n");
    assert_eq!(log.sink().dropped(), 0);
}

#[test]
fn stdout_sink_opens() {
    let s = Sink::stdout().unwrap();
    assert_eq!(s.path(), None);
}

/// A syslog sink sends one datagram per complete line at flush time, keeps the lines it could
/// not send (the socket gone) for the next flush, and cannot be made without a socket.
#[test]
fn syslog_sink_sends_a_datagram_per_line() {
    use std::os::unix::net::UnixDatagram;
    let path = TempPath::new("syslog");
    let server = UnixDatagram::bind(&path.0).unwrap();
    server
        .set_read_timeout(Some(std::time::Duration::from_secs(5)))
        .unwrap();
    let mut s = Sink::syslog(&path.0).unwrap();
    s.buffer().extend_from_slice(b"one\ntwo\npart");
    s.appended();
    assert_eq!(s.buffered_len(), 12, "nothing sent before the flush");
    s.flush();
    let mut buf = [0u8; 512];
    for want in ["one", "two"] {
        let n = server.recv(&mut buf).unwrap();
        let got = std::str::from_utf8(&buf[..n]).unwrap();
        assert!(got.starts_with("<30>"), "{got}");
        assert!(got.ends_with(&format!("]: {want}")), "{got}");
    }
    assert_eq!(s.buffered_len(), 4, "the incomplete line waits");
    drop(server);
    std::fs::remove_file(&path.0).unwrap();
    s.buffer().extend_from_slice(b"\nthree\n");
    s.flush();
    assert_eq!(s.errors(), 1);
    assert_eq!(s.buffered_len(), 11, "unsent lines are kept");
    assert!(Sink::syslog(&path.0).is_err(), "nothing listens there");
    assert!(Sink::stderr().is_ok());
}
