//! Chunked decoder: valid bodies (extensions, trailers), refusals, and resumability at every
//! split point.

use super::chunked::{ChunkedDecoder, ChunkedError, MAX_CHUNK_EXT_BYTES, MAX_TRAILER_BYTES};

/// Feeds `input` in pieces cut at `cuts` (ascending offsets) and collects payload, total
/// consumed and done. Stops feeding once done; leftover bytes are not consumed.
fn decode_pieces(input: &[u8], cuts: &[usize]) -> Result<(Vec<u8>, usize, bool), ChunkedError> {
    let mut dec = ChunkedDecoder::new();
    let mut payload = Vec::new();
    let mut consumed = 0;
    let mut bounds = cuts.to_vec();
    bounds.push(input.len());
    for end in bounds {
        // Re-offer unconsumed bytes of the previous piece along with the new ones.
        while consumed < end {
            let piece = &input[consumed..end];
            let step = dec.step(piece)?;
            assert!(step.consumed >= 1 || step.done, "no progress at {consumed}");
            assert!(step.data.end <= step.consumed);
            payload.extend_from_slice(&piece[step.data.clone()]);
            consumed += step.consumed;
            if step.done {
                return Ok((payload, consumed, true));
            }
        }
    }
    Ok((payload, consumed, false))
}

fn decode(input: &[u8]) -> Result<(Vec<u8>, usize, bool), ChunkedError> {
    decode_pieces(input, &[])
}

const VALID: [(&str, &[u8], &[u8]); 9] = [
    ("single chunk", b"5\r\nhello\r\n0\r\n\r\n", b"hello"),
    (
        "two chunks, hex",
        b"3\r\nabc\r\nA\r\n0123456789\r\n0\r\n\r\n",
        b"abc0123456789",
    ),
    (
        "upper and lower hex",
        b"a\r\n0123456789\r\nB\r\n0123456789a\r\n0\r\n\r\n",
        b"01234567890123456789a",
    ),
    ("empty body", b"0\r\n\r\n", b""),
    ("leading zeros", b"0005\r\nhello\r\n000\r\n\r\n", b"hello"),
    (
        "extensions",
        b"5;name=value;flag\r\nhello\r\n0;last=\"yes\"\r\n\r\n",
        b"hello",
    ),
    (
        "BWS before extension",
        b"5 \t;a=b\r\nhello\r\n0 ;x\r\n\r\n",
        b"hello",
    ),
    (
        "trailers",
        b"5\r\nhello\r\n0\r\nExpires: never\r\nX-Sum:\tab c\r\n\r\n",
        b"hello",
    ),
    (
        "data containing CRLF",
        b"4\r\n\r\n\r\n\r\n0\r\n\r\n",
        b"\r\n\r\n",
    ),
];

#[test]
fn valid_bodies() {
    for (what, input, payload) in VALID {
        let mut with_next = input.to_vec();
        with_next.extend_from_slice(b"GET / HTTP/1.1\r\n");
        assert_eq!(
            decode(&with_next),
            Ok((payload.to_vec(), input.len(), true)),
            "{what}"
        );
    }
}

#[test]
fn done_stops_at_message_end() {
    let mut dec = ChunkedDecoder::new();
    let input = b"0\r\n\r\nNEXT";
    let (consumed, done) = dec.scan(input).unwrap();
    assert_eq!((consumed, done), (5, true));
    assert!(dec.is_done());
    let again = dec.step(b"NEXT").unwrap();
    assert_eq!((again.consumed, again.data, again.done), (0, 0..0, true));
}

#[test]
fn one_data_range_per_step() {
    let input = b"3\r\nabc\r\n3\r\ndef\r\n0\r\n\r\n";
    let mut dec = ChunkedDecoder::new();
    let first = dec.step(input).unwrap();
    assert_eq!(&input[first.data.clone()], b"abc");
    assert!(!first.done);
    // The framing up to the next chunk's data is consumed with the first range.
    assert_eq!(first.consumed, 11);
    let second = dec.step(&input[first.consumed..]).unwrap();
    assert_eq!(&input[first.consumed..][second.data.clone()], b"def");
    assert!(second.done);
    assert_eq!(first.consumed + second.consumed, input.len());
}

#[test]
fn refusals() {
    let long_ext = {
        let mut v = b"1;".to_vec();
        v.resize(2 + MAX_CHUNK_EXT_BYTES, b'a');
        v.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
        v
    };
    let mut fits_ext = b"1;".to_vec();
    fits_ext.resize(1 + MAX_CHUNK_EXT_BYTES, b'a');
    fits_ext.extend_from_slice(b"\r\nx\r\n0\r\n\r\n");
    assert_eq!(decode(&fits_ext).map(|r| r.2), Ok(true));
    let long_trailer = {
        let mut v = b"0\r\nX: ".to_vec();
        v.resize(4 + MAX_TRAILER_BYTES, b'a');
        v.extend_from_slice(b"\r\n\r\n");
        v
    };
    let mut fits_trailer = b"0\r\nX: ".to_vec();
    fits_trailer.resize(3 + MAX_TRAILER_BYTES, b'a');
    fits_trailer.extend_from_slice(b"\r\n\r\n");
    assert_eq!(decode(&fits_trailer).map(|r| r.2), Ok(true));
    let cases: [(&str, &[u8], &str); 22] = [
        ("no digits", b"\r\n", "invalid chunk size"),
        (
            "17 hex digits",
            b"10000000000000000\r\n",
            "chunk size too large",
        ),
        (
            "17 leading zeros",
            b"00000000000000001\r\n",
            "chunk size too large",
        ),
        (
            "0x prefix",
            b"0x5\r\nhello\r\n0\r\n\r\n",
            "invalid chunk size",
        ),
        (
            "plus sign",
            b"+5\r\nhello\r\n0\r\n\r\n",
            "invalid chunk size",
        ),
        (
            "minus sign",
            b"-5\r\nhello\r\n0\r\n\r\n",
            "invalid chunk size",
        ),
        (
            "leading space",
            b" 5\r\nhello\r\n0\r\n\r\n",
            "invalid chunk size",
        ),
        ("space inside digits", b"1 0\r\n", "invalid chunk size line"),
        (
            "trailing space without ext",
            b"5 \r\nhello\r\n0\r\n\r\n",
            "invalid chunk size line",
        ),
        ("non-hex", b"5g\r\n", "invalid chunk size"),
        (
            "bare LF after size",
            b"5\nhello\r\n0\r\n\r\n",
            "bare LF in chunk size line",
        ),
        (
            "bare CR after size",
            b"5\rhello\r\n",
            "expected LF after chunk size",
        ),
        (
            "data too long",
            b"5\r\nhello!\r\n0\r\n\r\n",
            "expected CRLF after chunk data",
        ),
        (
            "bare LF after data",
            b"5\r\nhello\n0\r\n\r\n",
            "expected CRLF after chunk data",
        ),
        (
            "bare CR after data",
            b"5\r\nhello\rX\n0\r\n\r\n",
            "expected CRLF after chunk data",
        ),
        (
            "NUL in extension",
            b"5;a\0\r\nhello\r\n0\r\n\r\n",
            "invalid byte in chunk extension",
        ),
        (
            "LF in extension",
            b"5;a\nb\r\nhello\r\n0\r\n\r\n",
            "invalid byte in chunk extension",
        ),
        ("extension too long", &long_ext, "chunk extensions too long"),
        (
            "obs-fold trailer",
            b"0\r\nX: a\r\n b\r\n\r\n",
            "obs-fold in trailer",
        ),
        (
            "trailer without colon",
            b"0\r\nX-Nothing\r\n\r\n",
            "invalid trailer field",
        ),
        (
            "bare CR at end",
            b"0\r\n\rX",
            "expected LF at end of chunked body",
        ),
        (
            "trailer too large",
            &long_trailer,
            "trailer section too large",
        ),
    ];
    for (what, input, why) in cases {
        assert_eq!(decode(input), Err(ChunkedError(why)), "{what}");
        // The decoder stays failed.
        let mut dec = ChunkedDecoder::new();
        assert!(dec.scan(input).is_err(), "{what}");
        assert_eq!(dec.step(b"0\r\n\r\n"), Err(ChunkedError(why)), "{what}");
    }
}

#[test]
fn largest_size_does_not_overflow() {
    let mut dec = ChunkedDecoder::new();
    let step = dec.step(b"FFFFFFFFFFFFFFFF\r\nabc").unwrap();
    assert_eq!((step.consumed, step.data, step.done), (21, 18..21, false));
    let (consumed, done) = dec.scan(&[b'x'; 4096]).unwrap();
    assert_eq!((consumed, done), (4096, false));
}

#[test]
fn every_split_matches_one_shot() {
    let mut messages: Vec<Vec<u8>> = VALID.iter().map(|(_, m, _)| m.to_vec()).collect();
    messages.push(b"5\r\nhello\r\n0\r\n\r\n0\r\n\r\nNEXT".to_vec());
    for input in &messages {
        let whole = decode(input).unwrap();
        for a in 0..=input.len() {
            assert_eq!(decode_pieces(input, &[a]).unwrap(), whole, "split at {a}");
            for b in a..=input.len() {
                assert_eq!(
                    decode_pieces(input, &[a, b]).unwrap(),
                    whole,
                    "splits {a},{b}"
                );
            }
        }
        let bytewise: Vec<usize> = (1..input.len()).collect();
        assert_eq!(
            decode_pieces(input, &bytewise).unwrap(),
            whole,
            "byte at a time"
        );
    }
}

#[test]
fn errors_are_found_at_any_split() {
    let input = b"5\r\nhello\r\n0x\r\n\r\n";
    for a in 0..=input.len() {
        assert_eq!(
            decode_pieces(input, &[a]),
            Err(ChunkedError("invalid chunk size")),
            "{a}"
        );
    }
}

#[test]
fn scan_counts_pass_through_bytes() {
    let input = b"3\r\nabc\r\n3\r\ndef\r\n0\r\nT: 1\r\n\r\nHTTP/1.1 200 OK\r\n";
    let end = input.len() - b"HTTP/1.1 200 OK\r\n".len();
    for cut in 0..=end {
        let mut dec = ChunkedDecoder::new();
        let (first, done) = dec.scan(&input[..cut]).unwrap();
        assert_eq!((first, done), (cut, cut == end), "cut {cut}");
        let (second, done) = dec.scan(&input[cut..]).unwrap();
        assert_eq!((first + second, done), (end, true), "cut {cut}");
    }
}
