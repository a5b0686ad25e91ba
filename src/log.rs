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

/// Writes one line at `level` (seconds since the Unix epoch, with milliseconds).
pub fn write(level: Level, args: fmt::Arguments<'_>) {
    if !enabled(level) {
        return;
    }
    #[allow(clippy::disallowed_methods)] // wall-clock time for log lines only
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let line = format!(
        "[{}.{:03}] [{}] {args}\n",
        now.as_secs(),
        now.subsec_millis(),
        level.as_str()
    );
    let _ = std::io::stderr().write_all(line.as_bytes());
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
