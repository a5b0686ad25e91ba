//! The error log: one line per event, `[time] [level] message`, to standard error.
//!
//! Used for start-up, state changes (a member entering or leaving error) and failures of the
//! process itself; never once per request, so it is not on the request path's cost budget.

use std::fmt;
use std::io::Write;
use std::sync::atomic::{AtomicU8, Ordering};

/// Severity, most severe first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Level {
    Error = 0,
    Warn = 1,
    Info = 2,
    Debug = 3,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Error => "error",
            Level::Warn => "warn",
            Level::Info => "info",
            Level::Debug => "debug",
        }
    }
}

static MAX_LEVEL: AtomicU8 = AtomicU8::new(Level::Info as u8);

/// Lines less severe than `level` are dropped.
pub fn set_level(level: Level) {
    MAX_LEVEL.store(level as u8, Ordering::Relaxed);
}

/// Whether a line at `level` would be written.
pub fn enabled(level: Level) -> bool {
    level as u8 <= MAX_LEVEL.load(Ordering::Relaxed)
}

/// Writes one line at `level`: `[2026-12-02T01:02:03.456Z] [warn] message` (RFC 3339 UTC
/// time with milliseconds, then the level).
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    let line = format_line(crate::clock::unix_now_ms(), level, args);
    let _ = std::io::stderr().write_all(line.as_bytes());
}

/// One error-log line, newline included. Pure.
pub fn format_line(unix_ms: u64, level: Level, args: fmt::Arguments<'_>) -> String {
    let time = crate::accesslog::time::rfc3339_ms(unix_ms);
    let time = std::str::from_utf8(&time).unwrap_or("");
    format!("[{time}] [{}] {args}\n", level.as_str())
}

pub fn error(args: fmt::Arguments<'_>) {
    write(Level::Error, args);
}

pub fn warn(args: fmt::Arguments<'_>) {
    write(Level::Warn, args);
}

pub fn info(args: fmt::Arguments<'_>) {
    write(Level::Info, args);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_carry_an_rfc3339_time_and_the_level() {
        let line = format_line(
            1_795_293_381_456,
            Level::Warn,
            format_args!("member x down"),
        );
        assert_eq!(line, "[2026-11-21T20:36:21.456Z] [warn] member x down\n");
        let line = format_line(0, Level::Info, format_args!("up"));
        assert_eq!(line, "[1970-01-01T00:00:00.000Z] [info] up\n");
    }
}
