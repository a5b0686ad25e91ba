//! `chunked`: the incremental chunked decoder against a naive recursive-descent reference
//! decoder of the same grammar, with the input fed whole, one byte at a time and cut at
//! pseudo-random points; the decoder itself never allocates.
//!
//! Input: the bytes of a chunked body (and whatever follows it).

use ringlb::http::chunked::{
    ChunkedDecoder, ChunkedError, MAX_CHUNK_EXT_BYTES, MAX_CHUNK_SIZE_DIGITS, MAX_TRAILER_BYTES,
};

use crate::alloc::bounded;

/// Result of decoding: payload, bytes consumed, done; or the decoder's error.
type Decoded = Result<(Vec<u8>, usize, bool), ChunkedError>;

/// The fuzz target. Panics on a broken invariant.
pub fn chunked(data: &[u8]) {
    let whole = decode_pieces(data, &[]);
    match (&whole, reference(data)) {
        (Ok((payload, consumed, true)), Reference::Done(want, end)) => {
            assert_eq!(payload, &want, "payload differs from the reference");
            assert_eq!(*consumed, end, "message end differs from the reference");
        }
        (Ok((_, consumed, false)), Reference::Incomplete) => assert_eq!(*consumed, data.len()),
        (Err(_), Reference::Invalid) => {}
        (got, want) => panic!("decoder gave {got:?}, the reference {want:?}"),
    }
    if let Ok((payload, consumed, _)) = &whole {
        assert!(payload.len() <= *consumed && *consumed <= data.len());
    }

    // Byte at a time (bounded, to keep long inputs fast), then pseudo-random cuts.
    let every: Vec<usize> = (1..data.len().min(8192)).collect();
    assert_eq!(
        decode_pieces(data, &every),
        whole,
        "byte-at-a-time decode differs"
    );
    let mut state = seed(data);
    let mut cuts: Vec<usize> = (0..8).map(|_| next_cut(&mut state, data.len())).collect();
    cuts.sort_unstable();
    assert_eq!(
        decode_pieces(data, &cuts),
        whole,
        "decode cut at {cuts:?} differs"
    );

    let mut dec = ChunkedDecoder::new();
    let scanned = bounded("scan", 0, || dec.scan(data));
    let expected = whole.as_ref().map(|&(_, consumed, done)| (consumed, done));
    assert_eq!(scanned, expected.map_err(|e| *e), "scan differs from step");
}

/// Feeds `input` in pieces ending at `cuts` (ascending) and then at its end, re-offering
/// unconsumed bytes, and checks each step's post-conditions.
fn decode_pieces(input: &[u8], cuts: &[usize]) -> Decoded {
    let mut dec = ChunkedDecoder::new();
    let mut payload = Vec::new();
    let mut consumed = 0;
    for end in cuts.iter().copied().chain([input.len()]) {
        while consumed < end {
            let piece = &input[consumed..end];
            let step = bounded("step", 0, || dec.step(piece));
            let step = match step {
                Ok(step) => step,
                Err(e) => {
                    assert_eq!(dec.step(b"0\r\n\r\n"), Err(e), "error not repeated");
                    return Err(e);
                }
            };
            assert!(step.consumed >= 1 || step.done, "no progress at {consumed}");
            assert!(step.consumed <= piece.len());
            assert!(step.data.start <= step.data.end && step.data.end <= step.consumed);
            payload.extend_from_slice(&piece[step.data.clone()]);
            consumed += step.consumed;
            if step.done {
                assert!(dec.is_done());
                let after = dec.step(b"5\r\nhello\r\n").map(|s| (s.consumed, s.done));
                assert_eq!(after, Ok((0, true)), "decoder went on after the end");
                return Ok((payload, consumed, true));
            }
        }
    }
    Ok((payload, consumed, false))
}

fn seed(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// xorshift64 step, mapped onto `0..=len`.
fn next_cut(state: &mut u64, len: usize) -> usize {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    (*state % (len as u64 + 1)) as usize
}

/// What the reference decoder makes of a whole input.
#[derive(Debug, PartialEq, Eq)]
enum Reference {
    /// A complete message: its payload and where it ends.
    Done(Vec<u8>, usize),
    /// A valid prefix of a message.
    Incomplete,
    /// No message starts with these bytes.
    Invalid,
}

/// Why the reference parser stopped.
enum Stop {
    Eof,
    Bad,
}

/// The grammar of `ringlb::http::chunked`'s module doc, parsed top-down over the whole input.
fn reference(input: &[u8]) -> Reference {
    let mut p = Parser { input, pos: 0 };
    match p.body() {
        Ok(payload) => Reference::Done(payload, p.pos),
        Err(Stop::Eof) => Reference::Incomplete,
        Err(Stop::Bad) => Reference::Invalid,
    }
}

struct Parser<'a> {
    input: &'a [u8],
    pos: usize,
}

/// Visible text as the chunked module defines it: no CTL except HTAB.
fn is_text(b: u8) -> bool {
    b == b'\t' || (0x20..0x7f).contains(&b) || b >= 0x80
}

impl Parser<'_> {
    fn peek(&self) -> Result<u8, Stop> {
        self.input.get(self.pos).copied().ok_or(Stop::Eof)
    }

    fn take(&mut self) -> Result<u8, Stop> {
        let b = self.peek()?;
        self.pos += 1;
        Ok(b)
    }

    fn expect(&mut self, want: u8) -> Result<(), Stop> {
        if self.take()? == want {
            Ok(())
        } else {
            Err(Stop::Bad)
        }
    }

    fn body(&mut self) -> Result<Vec<u8>, Stop> {
        let mut payload = Vec::new();
        loop {
            let size = self.size_line()?;
            if size == 0 {
                self.trailers()?;
                return Ok(payload);
            }
            let avail = self.input.len() - self.pos;
            let size = usize::try_from(size).ok().filter(|&s| s <= avail);
            let Some(size) = size else {
                return Err(Stop::Eof);
            };
            payload.extend_from_slice(&self.input[self.pos..self.pos + size]);
            self.pos += size;
            self.expect(b'\r')?;
            self.expect(b'\n')?;
        }
    }

    /// `chunk-size [ BWS ";" ext-bytes ] CRLF`.
    fn size_line(&mut self) -> Result<u64, Stop> {
        let mut size = 0u64;
        let mut digits = 0;
        while let Some(d) = char::from(self.peek()?).to_digit(16) {
            if digits == MAX_CHUNK_SIZE_DIGITS {
                return Err(Stop::Bad);
            }
            size = size * 16 + u64::from(d);
            digits += 1;
            self.pos += 1;
        }
        if digits == 0 {
            return Err(Stop::Bad);
        }
        let mut bws = false;
        while matches!(self.peek()?, b' ' | b'\t') {
            self.pos += 1;
            bws = true;
        }
        match self.take()? {
            b';' => {
                let mut used = 1;
                loop {
                    let b = self.take()?;
                    if b == b'\r' {
                        break;
                    }
                    if used >= MAX_CHUNK_EXT_BYTES || !is_text(b) {
                        return Err(Stop::Bad);
                    }
                    used += 1;
                }
            }
            b'\r' if !bws => {}
            _ => return Err(Stop::Bad),
        }
        self.expect(b'\n')?;
        Ok(size)
    }

    /// `*( field-line CRLF ) CRLF`, field lines of text with a `:` after a non-empty name.
    fn trailers(&mut self) -> Result<(), Stop> {
        let mut used = 0;
        loop {
            let mut b = self.take()?;
            if b == b'\r' {
                return self.expect(b'\n');
            }
            if matches!(b, b' ' | b'\t' | b':') {
                return Err(Stop::Bad);
            }
            let mut colon = false;
            while b != b'\r' {
                if used >= MAX_TRAILER_BYTES || !is_text(b) {
                    return Err(Stop::Bad);
                }
                used += 1;
                colon |= b == b':';
                b = self.take()?;
            }
            if !colon {
                return Err(Stop::Bad);
            }
            self.expect(b'\n')?;
        }
    }
}
