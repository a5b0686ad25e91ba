//! HTTP/1.1 message handling as pure functions over borrowed bytes: head parsing into spans,
//! body framing (RFC 9112 section 6), the incremental chunked decoder, request targets and
//! paths (splitting, dot-segments, the `target_path` join), the mount a target goes to
//! ([`mount`]), head rewriting and the client address a trusted proxy names ([`forwarded`]).
//!
//! Nothing here does I/O, reads a clock or allocates per request beyond the caller's reused
//! output buffers (and the rare target that must be rebuilt, see [`mount::Origin`]).

pub mod chunked;
pub mod forwarded;
pub mod framing;
pub mod h2_guard;
pub mod h2_request;
pub mod head;
pub mod mount;
pub mod path;
pub mod reverse;
pub mod rewrite;

#[cfg(test)]
mod tests_chunked;
#[cfg(test)]
mod tests_forwarded;
#[cfg(test)]
mod tests_framing;
#[cfg(test)]
mod tests_head;
#[cfg(test)]
mod tests_path;
#[cfg(test)]
mod tests_reverse;
#[cfg(test)]
mod tests_rewrite;

/// Hard upper bound on header fields in one head; the configured `max_headers` is at most this.
/// It sizes the stack array handed to httparse, so it is a compile-time constant.
pub const MAX_HEADERS: usize = 128;

/// A byte range `start..end` into the buffer a head was parsed from. Heads keep spans instead of
/// slices so the buffer can be moved (owned-buffer I/O) while the parse result is kept.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// The bytes this span covers. Panics only if the span was not produced over `buf`.
    #[inline]
    pub fn get<'a>(&self, buf: &'a [u8]) -> &'a [u8] {
        &buf[self.start as usize..self.end as usize]
    }

    /// Span of `part`, which must be a sub-slice of `buf`.
    #[inline]
    pub fn of(buf: &[u8], part: &[u8]) -> Span {
        let start = part.as_ptr() as usize - buf.as_ptr() as usize;
        Span {
            start: start as u32,
            end: (start + part.len()) as u32,
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.start == self.end
    }
}

/// The HTTP version of a message head. HTTP/1.x only.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Version {
    Http10,
    Http11,
}

/// Appends `n` in decimal ASCII to `out` without allocating beyond `out`'s own growth.
pub fn push_decimal(out: &mut Vec<u8>, mut n: u64) {
    let mut digits = [0u8; 20]; // u64::MAX has 20 digits
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[i..]);
}
