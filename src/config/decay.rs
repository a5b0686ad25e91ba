//! `lbstatus_decay`: how often a balancer halves its byrequests / bybusyness scores
//! (`lbstatus`), mod_jk's `worker.maintain` decay of `lb_value`. A deliberate difference from
//! httpd, which never decays them (docs/semantics.md).
//!
//! Spellings: `true` / `"On"` (the default: halve every 60 s, as mod_jk), `false` / `"Off"`
//! (never: httpd's exact behaviour), or a period in the timeout spellings, `1s..=1h` (`30`,
//! `"30s"`, `"5m"`).

use std::time::Duration;

use super::duration;
use super::file::Scalar;

/// mod_jk's `worker.maintain` default.
pub(crate) const DEFAULT_PERIOD: Duration = Duration::from_secs(60);
/// Shortest period: one second (shorter would halve the scores between most picks).
pub(crate) const MIN_PERIOD: Duration = Duration::from_secs(1);
/// Longest period: one hour.
pub(crate) const MAX_PERIOD: Duration = Duration::from_secs(3600);

/// A balancer's `lbstatus_decay`: the halving period, or `None` for off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LbstatusDecay(pub Option<Duration>);

impl Default for LbstatusDecay {
    /// On: halve every [`DEFAULT_PERIOD`].
    fn default() -> LbstatusDecay {
        LbstatusDecay(Some(DEFAULT_PERIOD))
    }
}

impl LbstatusDecay {
    /// Off: httpd's behaviour (the scores are never decayed).
    pub const OFF: LbstatusDecay = LbstatusDecay(None);

    /// The period in milliseconds; 0 = off.
    pub fn period_ms(self) -> u64 {
        self.0
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// The value as the config prints it, which [`parse`] reads back: `false` or a quoted
    /// duration.
    pub(crate) fn toml(self) -> String {
        match self.0 {
            None => "false".to_owned(),
            Some(d) => format!("\"{}\"", duration::format(d)),
        }
    }

    /// As `config diff` shows it: `off` or the period.
    pub(crate) fn text(self) -> String {
        match self.0 {
            None => "off".to_owned(),
            Some(d) => duration::format(d),
        }
    }
}

/// Parses `lbstatus_decay`; the error is a message without the key.
pub(crate) fn parse(value: &Scalar) -> Result<LbstatusDecay, String> {
    match value {
        Scalar::Bool(true) => Ok(LbstatusDecay::default()),
        Scalar::Bool(false) => Ok(LbstatusDecay::OFF),
        Scalar::Str(s) if s.eq_ignore_ascii_case("on") => Ok(LbstatusDecay::default()),
        Scalar::Str(s) if s.eq_ignore_ascii_case("off") => Ok(LbstatusDecay::OFF),
        other => duration::parse_within(other, MIN_PERIOD, MAX_PERIOD)
            .map(|d| LbstatusDecay(Some(d)))
            .map_err(|e| format!("expected true, false, \"On\", \"Off\" or a period: {e}")),
    }
}
