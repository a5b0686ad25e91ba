//! Blocking-socket helpers for the threads off the data path (admin listener, demo members,
//! the `check --diff` fetch). Workers never block.

use std::io::{self, Read};

/// `read`, repeated when a signal interrupts it: a blocking read on any thread of the process
/// can return `EINTR`, and `Read::read` (unlike `read_exact`) does not retry.
pub fn read_retrying(stream: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    loop {
        match stream.read(buf) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            other => return other,
        }
    }
}
