//! The process's open files limit (`RLIMIT_NOFILE`): raised to the hard limit when ringlb starts
//! serving, and read to size the automatic per-worker connection cap. Every client connection
//! costs a descriptor, and most a second one for their member connection, so the default soft
//! limit (often 1024) would otherwise run out long before the CPUs do.

use std::fmt;
use std::io;

/// The open files limit after [`raise_open_files`], and what it was before.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpenFiles {
    pub limit: u64,
    pub was: u64,
}

impl fmt::Display for OpenFiles {
    /// `open files limit N` or `open files limit N (raised from M)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "open files limit {}", self.limit)?;
        if self.limit != self.was {
            write!(f, " (raised from {})", self.was)?;
        }
        Ok(())
    }
}

/// Raises the soft open files limit to the hard limit (to `fs.nr_open` when the hard limit is
/// unlimited, which Linux refuses as a soft limit). Never lowers it.
pub fn raise_open_files() -> io::Result<OpenFiles> {
    let mut lim = get()?;
    let was = lim.rlim_cur;
    let target = if lim.rlim_max == libc::RLIM_INFINITY {
        nr_open().unwrap_or(was)
    } else {
        lim.rlim_max
    };
    if target > was {
        lim.rlim_cur = target;
        set(&lim)?;
    }
    Ok(OpenFiles {
        limit: get()?.rlim_cur,
        was,
    })
}

/// The current soft open files limit (`u64::MAX` when unlimited or unknown).
pub fn open_files_limit() -> u64 {
    get().map_or(u64::MAX, |l| l.rlim_cur)
}

fn nr_open() -> Option<u64> {
    std::fs::read_to_string("/proc/sys/fs/nr_open")
        .ok()?
        .trim()
        .parse()
        .ok()
}

#[allow(unsafe_code)]
fn get() -> io::Result<libc::rlimit> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: `lim` is a valid, writable rlimit; getrlimit only writes to it.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(lim)
}

#[allow(unsafe_code)]
fn set(lim: &libc::rlimit) -> io::Result<()> {
    // SAFETY: `lim` points to a valid rlimit that setrlimit only reads.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, lim) } != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_says_whether_it_was_raised() {
        let same = OpenFiles {
            limit: 1024,
            was: 1024,
        };
        assert_eq!(same.to_string(), "open files limit 1024");
        let raised = OpenFiles {
            limit: 524_288,
            was: 1024,
        };
        assert_eq!(
            raised.to_string(),
            "open files limit 524288 (raised from 1024)"
        );
    }
}
