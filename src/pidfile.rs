//! The pid file (`pid_file`): the process id in decimal and a newline, as nginx and httpd
//! write theirs. Written whole (a temporary file renamed over it), so a reader never sees a
//! half-written one; after a binary upgrade the new process writes its own id, and the old one
//! leaves the file alone when it stops.

use std::io;
use std::path::Path;

/// Writes `pid` to `path`, replacing what was there in one rename.
pub fn write(path: &Path, pid: u32) -> io::Result<()> {
    let mut temporary = path.as_os_str().to_owned();
    temporary.push(format!(".{pid}.tmp"));
    std::fs::write(&temporary, format!("{pid}\n"))?;
    std::fs::rename(&temporary, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&temporary);
    })
}

/// The process id `path` holds.
pub fn read(path: &Path) -> io::Result<u32> {
    let text = std::fs::read_to_string(path)?;
    parse(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("{}: not a process id: {text:?}", path.display()),
        )
    })
}

/// A pid file's process id: decimal digits, surrounding white space allowed. Pure.
pub fn parse(text: &str) -> Option<u32> {
    text.trim().parse().ok().filter(|&pid| pid > 0)
}

/// Removes `path` if it still names `pid` (not when a newer process wrote it).
pub fn remove_if_ours(path: &Path, pid: u32) {
    if read(path).is_ok_and(|p| p == pid) {
        let _ = std::fs::remove_file(path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pid_files_hold_a_positive_decimal() {
        let cases = [
            ("1234\n", Some(1234)),
            ("  77 ", Some(77)),
            ("0\n", None),
            ("-3\n", None),
            ("12ab\n", None),
            ("", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse(text), want, "{text:?}");
        }
    }

    #[test]
    fn only_the_writer_removes_it() {
        let dir = std::env::temp_dir().join(format!("ringlb-pidfile-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("ringlb.pid");
        write(&path, 41).expect("write");
        assert_eq!(read(&path).expect("read"), 41);
        write(&path, 42).expect("rewrite");
        remove_if_ours(&path, 41);
        assert_eq!(read(&path).expect("still there"), 42);
        remove_if_ours(&path, 42);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
