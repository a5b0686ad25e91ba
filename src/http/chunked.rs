//! Incremental chunked-body decoder (RFC 9112 section 7.1). STUB: interface fixed.

use std::ops::Range;

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

/// State machine over the chunked framing; holds no buffer.
#[derive(Clone, Debug, Default)]
pub struct ChunkedDecoder {
    _state: u8,
}

impl ChunkedDecoder {
    pub fn new() -> Self {
        Self::default()
    }

    /// Advances over `input`. Consumes at least one byte when `input` is non-empty and the
    /// message is not done; returns at most one data range per call.
    pub fn step(&mut self, input: &[u8]) -> Result<Step, ChunkedError> {
        let _ = input;
        Err(ChunkedError("not implemented"))
    }

    /// Steps over `input` until it is exhausted or the message is done; returns (bytes
    /// consumed, done). For pass-through forwarding of the encoded bytes.
    pub fn scan(&mut self, input: &[u8]) -> Result<(usize, bool), ChunkedError> {
        let mut at = 0;
        while at < input.len() {
            let step = self.step(&input[at..])?;
            at += step.consumed;
            if step.done {
                return Ok((at, true));
            }
        }
        Ok((at, false))
    }
}
