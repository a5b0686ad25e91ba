use super::*;

fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = payload.len() as u32;
    let mut f = len.to_be_bytes()[1..].to_vec();
    f.push(kind);
    f.push(flags);
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn headers(stream: u32, flags: u8) -> Vec<u8> {
    frame(HEADERS, flags, stream, &[0x82, 0x84, 0x87])
}

fn fed_with(frames: &[Vec<u8>]) -> (FrameGuard, Result<(), Flood>) {
    let mut guard = FrameGuard::new();
    let mut result = guard.feed(PREFACE);
    for f in frames {
        if result.is_err() {
            break;
        }
        result = guard.feed(f);
    }
    (guard, result)
}

fn repeat(n: usize, f: Vec<u8>) -> Vec<Vec<u8>> {
    vec![f; n]
}

#[test]
fn an_ordinary_connection_passes() {
    let mut frames = vec![frame(SETTINGS, 0, 0, &[0, 3, 0, 0, 0, 100])];
    frames.push(frame(SETTINGS, ACK, 0, &[]));
    frames.push(frame(WINDOW_UPDATE, 0, 0, &[0, 0, 1, 0]));
    for id in (1..2000).step_by(2) {
        frames.push(headers(id, END_HEADERS));
        frames.push(frame(DATA, 0, id, b"body"));
        frames.push(frame(DATA, END_STREAM, id, &[]));
    }
    frames.push(frame(PING, 0, 0, &[0; 8]));
    frames.push(frame(GOAWAY, 0, 0, &[0; 8]));
    assert_eq!(fed_with(&frames).1, Ok(()));
}

#[test]
fn floods_trip_at_their_budgets() {
    let budget = GLITCH_BUDGET as usize;
    let cases: Vec<(&str, Vec<u8>, usize, Option<Flood>)> = vec![
        (
            "pings within budget",
            frame(PING, 0, 0, &[0; 8]),
            budget,
            None,
        ),
        (
            "ping flood",
            frame(PING, 0, 0, &[0; 8]),
            budget + 1,
            Some(Flood::Glitches),
        ),
        (
            "ping acks are free",
            frame(PING, ACK, 0, &[0; 8]),
            5000,
            None,
        ),
        (
            "settings flood",
            frame(SETTINGS, 0, 0, &[]),
            budget + 1,
            Some(Flood::Glitches),
        ),
        (
            "settings acks are free",
            frame(SETTINGS, ACK, 0, &[]),
            5000,
            None,
        ),
        (
            "empty data flood",
            frame(DATA, 0, 1, &[]),
            budget + 1,
            Some(Flood::Glitches),
        ),
        (
            "priority flood",
            frame(0x2, 0, 3, &[0, 0, 0, 1, 16]),
            budget + 1,
            Some(Flood::Glitches),
        ),
        (
            "unknown frame flood",
            frame(0xfa, 0, 0, b"x"),
            budget + 1,
            Some(Flood::Glitches),
        ),
        (
            "window updates are free",
            frame(WINDOW_UPDATE, 0, 0, &[0, 0, 0, 1]),
            5000,
            None,
        ),
    ];
    for (name, f, n, want) in cases {
        let (_, got) = fed_with(&repeat(n, f));
        assert_eq!(got, want.map_or(Ok(()), Err), "{name}");
    }
}

#[test]
fn each_request_earns_one_more_glitch() {
    let mut frames = Vec::new();
    for id in (1..201).step_by(2) {
        frames.push(headers(id, END_HEADERS | END_STREAM));
    }
    frames.extend(repeat(
        GLITCH_BUDGET as usize + 100,
        frame(PING, 0, 0, &[0; 8]),
    ));
    assert_eq!(fed_with(&frames).1, Ok(()));
    frames.push(frame(PING, 0, 0, &[0; 8]));
    assert_eq!(fed_with(&frames).1, Err(Flood::Glitches));
}

#[test]
fn rapid_reset_trips_and_occasional_cancels_do_not() {
    let rst = |id| frame(RST_STREAM, 0, id, &[0, 0, 0, 8]);
    // Every stream opened and reset at once.
    let mut attack = Vec::new();
    for id in (1..1000).step_by(2) {
        attack.push(headers(id, END_HEADERS | END_STREAM));
        attack.push(rst(id));
    }
    let (guard, got) = fed_with(&attack);
    assert_eq!(got, Err(Flood::Resets));
    assert_eq!(guard.resets, RESET_BUDGET + 1);
    // A browser cancelling a third of a page's 900 downloads.
    let mut page = Vec::new();
    for id in (1..1800).step_by(2) {
        page.push(headers(id, END_HEADERS | END_STREAM));
        if id % 3 == 0 {
            page.push(rst(id));
        }
    }
    assert_eq!(fed_with(&page).1, Ok(()));
}

#[test]
fn continuation_flood_trips_and_a_long_header_block_does_not() {
    let cont = |flags| frame(CONTINUATION, flags, 1, &[0x40, 1, b'a', 1, b'b']);
    let mut long = vec![headers(1, 0)];
    long.extend(repeat(MAX_CONTINUATIONS as usize - 1, cont(0)));
    long.push(cont(END_HEADERS));
    long.push(headers(3, 0));
    long.extend(repeat(MAX_CONTINUATIONS as usize - 1, cont(0)));
    long.push(cont(END_HEADERS));
    assert_eq!(fed_with(&long).1, Ok(()));
    let mut flood = vec![headers(1, 0)];
    flood.extend(repeat(MAX_CONTINUATIONS as usize + 1, cont(0)));
    assert_eq!(fed_with(&flood).1, Err(Flood::Continuation));
}

#[test]
fn empty_continuations_are_glitches_too() {
    let mut frames = vec![headers(1, 0)];
    frames.extend(repeat(
        MAX_CONTINUATIONS as usize,
        frame(CONTINUATION, 0, 1, &[]),
    ));
    let (guard, got) = fed_with(&frames);
    assert_eq!(got, Ok(()));
    assert_eq!(guard.glitches, u64::from(MAX_CONTINUATIONS));
}

#[test]
fn any_split_of_the_bytes_scans_the_same() {
    let mut bytes = PREFACE.to_vec();
    bytes.extend(headers(1, END_HEADERS));
    bytes.extend(frame(DATA, 0, 1, &[7; 300]));
    bytes.extend(frame(DATA, END_STREAM, 1, &[]));
    for _ in 0..GLITCH_BUDGET + 1 {
        bytes.extend(frame(PING, 0, 0, &[1; 8]));
    }
    let whole = {
        let mut g = FrameGuard::new();
        (g.feed(&bytes), g.glitches, g.requests)
    };
    assert_eq!(whole.0, Ok(()));
    assert_eq!((whole.1, whole.2), (GLITCH_BUDGET + 1, 1));
    for size in [1, 2, 5, 9, 10, 17, 4096] {
        let mut g = FrameGuard::new();
        for piece in bytes.chunks(size) {
            assert_eq!(g.feed(piece), Ok(()), "split {size}");
        }
        assert_eq!((g.glitches, g.requests), (whole.1, whole.2), "split {size}");
    }
}

#[test]
fn a_wrong_preface_trips_and_stays_tripped() {
    let mut g = FrameGuard::new();
    assert_eq!(g.feed(b"PRI * HTTP/2.0\r\n"), Ok(()));
    assert_eq!(g.feed(b"\r\nXX"), Err(Flood::BadPreface));
    assert_eq!(g.feed(b"anything"), Err(Flood::BadPreface));
    let mut g = FrameGuard::new();
    assert_eq!(g.feed(b"GET / HTTP/1.1\r\n"), Err(Flood::BadPreface));
}
