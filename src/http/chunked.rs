//! Incremental chunked-body decoder (RFC 9112 section 7.1): an explicit `State` machine
//! stepped over borrowed input. It holds no buffer, does no I/O and never allocates; the caller
//! keeps the bytes and forwards them (verbatim with [`ChunkedDecoder::scan`], or only the
//! payload ranges [`ChunkedDecoder::step`] reports).
//!
//! Grammar accepted:
//!
//! ```text
//! chunked-body = *chunk last-chunk trailer-section CRLF
//! chunk        = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
//! chunk-size   = 1*16HEXDIG
//! last-chunk   = 1*16"0" [ chunk-ext ] CRLF
//! chunk-ext    = *( BWS ";" ext-bytes )      ; ext-bytes: no CTL but HTAB, <= MAX_CHUNK_EXT_BYTES
//! trailer-section = *( field-line CRLF )     ; skipped, <= MAX_TRAILER_BYTES
//! ```
//!
//! Line endings are strictly CRLF: a bare LF, or a CR followed by anything but LF, is an error.
//! Peers that disagree on where a chunk line ends are the classic chunked smuggling vector
//! (a proxy that accepts a bare LF forwarding to a member that does not, or the reverse), and
//! since [`ChunkedDecoder::scan`] forwards the bytes verbatim, the only safe choice is to accept
//! exactly one reading of them.

use std::ops::Range;

/// Most bytes of chunk extensions on one chunk-size line (from the first `;` to the CR).
/// Extensions are skipped, so without a bound one "line" could make the decoder consume
/// unbounded input without progress; the bound also caps how much unparsed material is relayed
/// verbatim to members that may read extensions differently (smuggling surface).
pub const MAX_CHUNK_EXT_BYTES: usize = 4096;

/// Most bytes of the trailer section's field lines, not counting line endings.
/// Trailers are skipped; the bound keeps a body from ending in an unbounded header-like tail.
pub const MAX_TRAILER_BYTES: usize = 16 * 1024;

/// At most this many hex digits in a chunk size: 16 fill a u64, so sizes never overflow.
pub const MAX_CHUNK_SIZE_DIGITS: u8 = 16;

/// Result of one [`ChunkedDecoder::step`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Step {
    /// Bytes of the input that belong to the chunked message and were consumed.
    pub consumed: usize,
    /// Chunk payload found in `input[..consumed]` (may be empty).
    pub data: Range<usize>,
    /// The message (last chunk, trailers, final CRLF) is complete; `consumed` ends at it.
    pub done: bool,
}

/// A malformed chunked body.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChunkedError(pub &'static str);

/// Where the decoder is in the chunked grammar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// Reading chunk-size hex digits; `digits` read so far.
    Size { size: u64, digits: u8 },
    /// After the size, inside BWS that must lead to `;`.
    SizeBws { size: u64 },
    /// Inside chunk extensions; `used` bytes so far, from the `;`.
    Ext { size: u64, used: usize },
    /// Saw the CR ending the size line.
    SizeLf { size: u64 },
    /// Inside chunk data.
    Data { remaining: u64 },
    /// Chunk data ended; expecting CR.
    DataCr,
    /// Expecting the LF after chunk data.
    DataLf,
    /// At the start of a trailer line or of the final CRLF.
    TrailerStart { used: usize },
    /// Inside a trailer field line; `colon` once its `:` was seen.
    TrailerLine { used: usize, colon: bool },
    /// Saw the CR ending a trailer line.
    TrailerLf { used: usize },
    /// Saw the CR of the final CRLF.
    EndLf,
    /// The message is complete.
    Done,
    /// An error was returned; the decoder repeats it.
    Failed(&'static str),
}

/// State machine over the chunked framing; holds no buffer. Resumable at any byte boundary.
#[derive(Clone, Debug)]
pub struct ChunkedDecoder {
    state: State,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self {
            state: State::Size { size: 0, digits: 0 },
        }
    }
}

/// What one byte did to the state machine.
enum Next {
    /// Move to this state, continue.
    To(State),
    /// The message is complete.
    Done,
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last chunk, trailers and final CRLF have been consumed.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Advances over `input`. Consumes at least one byte when `input` is non-empty and the
    /// message is not done; returns at most one data range per call.
    ///
    /// Post-conditions: `data` lies within `input[..consumed]`; when `done`, `consumed` ends
    /// exactly after the final CRLF (later bytes belong to the next message), and later calls
    /// return `consumed == 0, done == true`. After an `Err`, every later call returns it again.
    pub fn step(&mut self, input: &[u8]) -> Result<Step, ChunkedError> {
        let mut pos = 0;
        let mut data = 0..0;
        while pos < input.len() {
            let state = match self.state {
                State::Done => break,
                State::Failed(why) => return Err(ChunkedError(why)),
                State::Data { remaining } => {
                    if !data.is_empty() {
                        break; // one data range per call
                    }
                    let avail = input.len() - pos;
                    let take = usize::try_from(remaining).map_or(avail, |r| r.min(avail));
                    data = pos..pos + take;
                    pos += take;
                    // take <= remaining, so this cannot underflow.
                    let remaining = remaining - take as u64;
                    self.state = if remaining == 0 {
                        State::DataCr
                    } else {
                        State::Data { remaining }
                    };
                    continue;
                }
                other => other,
            };
            let byte = input[pos];
            pos += 1;
            match next(state, byte) {
                Ok(Next::To(s)) => self.state = s,
                Ok(Next::Done) => {
                    self.state = State::Done;
                    break;
                }
                Err(why) => {
                    self.state = State::Failed(why);
                    return Err(ChunkedError(why));
                }
            }
        }
        Ok(Step {
            consumed: pos,
            data,
            done: self.state == State::Done,
        })
    }

    /// Steps over all of `input` until it is exhausted or the message is done, for pass-through
    /// forwarding where the consumed bytes are relayed verbatim. Returns (bytes consumed, done);
    /// when done, the consumed bytes end exactly at the message end.
    pub fn scan(&mut self, input: &[u8]) -> Result<(usize, bool), ChunkedError> {
        let mut pos = 0;
        loop {
            let step = self.step(&input[pos..])?;
            pos += step.consumed;
            if step.done || pos == input.len() {
                return Ok((pos, step.done));
            }
        }
    }
}

fn hex_value(b: u8) -> Option<u64> {
    match b {
        b'0'..=b'9' => Some(u64::from(b - b'0')),
        b'a'..=b'f' => Some(u64::from(b - b'a' + 10)),
        b'A'..=b'F' => Some(u64::from(b - b'A' + 10)),
        _ => None,
    }
}

/// Field-line bytes the trailer and extension scanners accept: no CTL except HTAB.
fn is_text(b: u8) -> bool {
    b == b'\t' || (b >= 0x20 && b != 0x7f)
}

/// One byte of framing (every state except `Data`, `Done` and `Failed`).
fn next(state: State, b: u8) -> Result<Next, &'static str> {
    let to = match state {
        State::Size { size, digits } => match (hex_value(b), b) {
            (Some(_), _) if digits == MAX_CHUNK_SIZE_DIGITS => return Err("chunk size too large"),
            (Some(d), _) => State::Size {
                size: size << 4 | d,
                digits: digits + 1,
            },
            _ if digits == 0 => return Err("invalid chunk size"),
            (None, b'\r') => State::SizeLf { size },
            (None, b';') => State::Ext { size, used: 1 },
            (None, b' ' | b'\t') => State::SizeBws { size },
            (None, b'\n') => return Err("bare LF in chunk size line"),
            (None, _) => return Err("invalid chunk size"),
        },
        State::SizeBws { size } => match b {
            b' ' | b'\t' => State::SizeBws { size },
            b';' => State::Ext { size, used: 1 },
            _ => return Err("invalid chunk size line"),
        },
        State::Ext { size, used } => match b {
            b'\r' => State::SizeLf { size },
            _ if used >= MAX_CHUNK_EXT_BYTES => return Err("chunk extensions too long"),
            _ if is_text(b) => State::Ext {
                size,
                used: used + 1,
            },
            _ => return Err("invalid byte in chunk extension"),
        },
        State::SizeLf { size } => match b {
            b'\n' if size == 0 => State::TrailerStart { used: 0 },
            b'\n' => State::Data { remaining: size },
            _ => return Err("expected LF after chunk size"),
        },
        State::DataCr => match b {
            b'\r' => State::DataLf,
            _ => return Err("expected CRLF after chunk data"),
        },
        State::DataLf => match b {
            b'\n' => State::Size { size: 0, digits: 0 },
            _ => return Err("expected CRLF after chunk data"),
        },
        State::TrailerStart { used } => match b {
            b'\r' => State::EndLf,
            b' ' | b'\t' => return Err("obs-fold in trailer"),
            b':' => return Err("invalid trailer field"),
            _ if used >= MAX_TRAILER_BYTES => return Err("trailer section too large"),
            _ if is_text(b) => State::TrailerLine {
                used: used + 1,
                colon: false,
            },
            _ => return Err("invalid trailer field"),
        },
        State::TrailerLine { used, colon } => match b {
            b'\r' if colon => State::TrailerLf { used },
            b'\r' => return Err("invalid trailer field"),
            _ if used >= MAX_TRAILER_BYTES => return Err("trailer section too large"),
            _ if is_text(b) => State::TrailerLine {
                used: used + 1,
                colon: colon || b == b':',
            },
            _ => return Err("invalid trailer field"),
        },
        State::TrailerLf { used } => match b {
            b'\n' => State::TrailerStart { used },
            _ => return Err("expected LF after trailer field"),
        },
        State::EndLf => match b {
            b'\n' => return Ok(Next::Done),
            _ => return Err("expected LF at end of chunked body"),
        },
        State::Data { .. } | State::Done | State::Failed(_) => state,
    };
    Ok(Next::To(to))
}
