//! The HTTP/2 flood guard: a scan of the frame headers a client sends, before the HTTP/2
//! implementation reads them, that ends connections whose frames do work for ringlb and none
//! for the client. Pure: it holds no buffer (nine bytes of a split frame header at most), does
//! no I/O and never allocates, so it is table-tested with hand-built frames.
//!
//! The HTTP/2 library already bounds memory (one pending PING answer, concurrent streams,
//! header list and HPACK table sizes, streams reset before they were accepted, CONTINUATION
//! frames of one header block); what it cannot see is the cost of frames it answers cheaply
//! but without end. Like HAProxy's "glitches", the guard counts them:
//!
//! - **Control and empty frames** ([`GLITCH_BUDGET`] plus one per request): PING and SETTINGS
//!   that are not acknowledgements, PRIORITY, unknown frame types, DATA with no payload that
//!   does not end its stream, and HEADERS or CONTINUATION with no header block that does not
//!   end it. The 2019 SETTINGS, PING and empty-frame floods (CVE-2019-9512/9515/9518).
//! - **Resets** (rapid reset, CVE-2023-44487): more than [`RESET_BUDGET`] RST_STREAM frames
//!   from the client, once they are more than half of the streams it opened. A browser that
//!   cancels a page's downloads stays well inside; a client that opens streams only to reset
//!   them (each of which may already have reached a member) does not.
//! - **CONTINUATION** (the 2024 floods): more than [`MAX_CONTINUATIONS`] CONTINUATION frames in
//!   one header block, whatever their size.
//!
//! A tripped guard is permanent: the connection is told `ENHANCE_YOUR_CALM` and closed.

/// The connection preface every client sends before its first frame (RFC 9113 section 3.4).
pub const PREFACE: &[u8] = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n";

/// Control and empty frames a connection may send before the guard trips, plus one per
/// request it made.
pub const GLITCH_BUDGET: u64 = 500;
/// RST_STREAM frames a connection may send before the reset ratio is looked at.
pub const RESET_BUDGET: u64 = 100;
/// CONTINUATION frames allowed in one header block (a 64 KiB header list in default-size
/// frames needs four).
pub const MAX_CONTINUATIONS: u32 = 32;

const DATA: u8 = 0x0;
const HEADERS: u8 = 0x1;
const RST_STREAM: u8 = 0x3;
const SETTINGS: u8 = 0x4;
const PUSH_PROMISE: u8 = 0x5;
const PING: u8 = 0x6;
const GOAWAY: u8 = 0x7;
const WINDOW_UPDATE: u8 = 0x8;
const CONTINUATION: u8 = 0x9;

const END_STREAM: u8 = 0x1;
const ACK: u8 = 0x1;
const END_HEADERS: u8 = 0x4;

/// Why the guard tripped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flood {
    /// Control or empty frames beyond the budget.
    Glitches,
    /// Streams opened and reset (rapid reset).
    Resets,
    /// Too many CONTINUATION frames in one header block.
    Continuation,
    /// The bytes before the first frame were not the connection preface.
    BadPreface,
}

impl Flood {
    /// For the log and the metric label.
    pub fn as_str(self) -> &'static str {
        match self {
            Flood::Glitches => "control_frames",
            Flood::Resets => "rapid_reset",
            Flood::Continuation => "continuation",
            Flood::BadPreface => "bad_preface",
        }
    }
}

/// Where the scan is in the client's byte stream.
#[derive(Clone, Copy, Debug)]
enum Scan {
    /// Inside the preface, this many bytes matched.
    Preface(usize),
    /// Inside a frame header, this many of its nine bytes seen.
    Header(usize),
    /// Inside a frame's payload, this many bytes left.
    Payload(u32),
}

/// The guard of one connection. See the module documentation for what it counts.
#[derive(Clone, Debug)]
pub struct FrameGuard {
    scan: Scan,
    header: [u8; 9],
    requests: u64,
    glitches: u64,
    resets: u64,
    /// CONTINUATION frames in the header block being received, if one is open.
    continuations: Option<u32>,
    tripped: Option<Flood>,
}

impl Default for FrameGuard {
    fn default() -> Self {
        FrameGuard::new()
    }
}

impl FrameGuard {
    /// A guard for a connection whose first bytes are the client preface.
    pub fn new() -> FrameGuard {
        FrameGuard {
            scan: Scan::Preface(0),
            header: [0; 9],
            requests: 0,
            glitches: 0,
            resets: 0,
            continuations: None,
            tripped: None,
        }
    }

    /// Scans the next bytes the client sent (any split). Once it returns an error it returns
    /// the same one for every later call.
    pub fn feed(&mut self, mut bytes: &[u8]) -> Result<(), Flood> {
        if let Some(flood) = self.tripped {
            return Err(flood);
        }
        while !bytes.is_empty() {
            match self.scan {
                Scan::Preface(seen) => {
                    let take = (PREFACE.len() - seen).min(bytes.len());
                    if bytes[..take] != PREFACE[seen..seen + take] {
                        return self.trip(Flood::BadPreface);
                    }
                    bytes = &bytes[take..];
                    let seen = seen + take;
                    self.scan = if seen == PREFACE.len() {
                        Scan::Header(0)
                    } else {
                        Scan::Preface(seen)
                    };
                }
                Scan::Header(seen) => {
                    let take = (9 - seen).min(bytes.len());
                    self.header[seen..seen + take].copy_from_slice(&bytes[..take]);
                    bytes = &bytes[take..];
                    if seen + take < 9 {
                        self.scan = Scan::Header(seen + take);
                        continue;
                    }
                    let h = self.header;
                    let len = u32::from_be_bytes([0, h[0], h[1], h[2]]);
                    self.frame(h[3], h[4], len)?;
                    self.scan = if len == 0 {
                        Scan::Header(0)
                    } else {
                        Scan::Payload(len)
                    };
                }
                Scan::Payload(left) => {
                    let take = (left as usize).min(bytes.len());
                    bytes = &bytes[take..];
                    let left = left - take as u32; // take <= left
                    self.scan = if left == 0 {
                        Scan::Header(0)
                    } else {
                        Scan::Payload(left)
                    };
                }
            }
        }
        Ok(())
    }

    /// Counts one frame by its header.
    fn frame(&mut self, kind: u8, flags: u8, len: u32) -> Result<(), Flood> {
        let glitch = match kind {
            DATA => len == 0 && flags & END_STREAM == 0,
            HEADERS => {
                self.requests += 1;
                self.open_block(flags);
                len == 0 && flags & END_HEADERS == 0
            }
            CONTINUATION => {
                if let Some(n) = self.continuations.as_mut() {
                    *n += 1;
                    if *n > MAX_CONTINUATIONS {
                        return self.trip(Flood::Continuation);
                    }
                }
                if flags & END_HEADERS != 0 {
                    self.continuations = None;
                }
                len == 0 && flags & END_HEADERS == 0
            }
            RST_STREAM => {
                self.resets += 1;
                if self.resets > RESET_BUDGET && self.resets * 2 > self.requests {
                    return self.trip(Flood::Resets);
                }
                false
            }
            SETTINGS | PING => flags & ACK == 0,
            WINDOW_UPDATE | GOAWAY | PUSH_PROMISE => false,
            _ => true, // PRIORITY (0x2) and unknown types: read and ignored
        };
        if glitch {
            self.glitches += 1;
            if self.glitches > GLITCH_BUDGET + self.requests {
                return self.trip(Flood::Glitches);
            }
        }
        Ok(())
    }

    fn open_block(&mut self, flags: u8) {
        self.continuations = (flags & END_HEADERS == 0).then_some(0);
    }

    fn trip(&mut self, flood: Flood) -> Result<(), Flood> {
        self.tripped = Some(flood);
        Err(flood)
    }
}

#[cfg(test)]
#[path = "tests_h2_guard.rs"]
mod tests;
