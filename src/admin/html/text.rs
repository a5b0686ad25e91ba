//! Text helpers of the manager page: escaping, units, dates, and the words for flags and
//! health states.

use crate::admin::model::Health;

pub(super) fn on_off(value: bool) -> &'static str {
    if value {
        "On"
    } else {
        "Off"
    }
}

/// Tooltip for a status letter (docs/semantics.md §4).
pub(super) fn flag_title(letter: char) -> &'static str {
    match letter {
        'D' => "Disabled: no requests, manual recovery",
        'S' => "Stopped: no requests, never retried",
        'I' => "Ignore errors: errors never set E",
        'H' => "Hot standby: used when nothing else in its lbset is usable",
        'R' => "Hot spare: replaces unusable members of its lbset",
        'E' => "In error: excluded until the retry window ends",
        'N' => "Drain: only existing sticky sessions",
        'C' => "Health check failed",
        'O' => "Initialized",
        'G' => "Generic",
        'U' => "Shutting down",
        'F' => "Free slot",
        _ => "Unknown flag",
    }
}

/// The health cell's text.
pub fn health_text(health: Health) -> String {
    match health {
        Health::Ok => "ok".to_owned(),
        Health::Draining => "draining".to_owned(),
        Health::InError { retry_in_secs: 0 } => "error, retry at next request".to_owned(),
        Health::InError { retry_in_secs } => {
            format!("error, retry in {}", human_duration(retry_in_secs))
        }
        Health::HcFailed => "health check failed".to_owned(),
        Health::Disabled => "disabled".to_owned(),
        Health::Stopped => "stopped".to_owned(),
    }
}

/// Escapes `& < > " '` so `text` is safe both as element content and inside a quoted attribute.
pub fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Bytes in binary units with one decimal: `512 B`, `1.5 KiB`, `12.0 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// Seconds as the two largest units: `45s`, `3m 12s`, `2h 5m`, `3d 4h`.
pub fn human_duration(secs: u64) -> String {
    let (d, h, m, s) = (secs / 86_400, secs / 3600 % 24, secs / 60 % 60, secs % 60);
    if d > 0 {
        format!("{d}d {h}h")
    } else if h > 0 {
        format!("{h}h {m}m")
    } else if m > 0 {
        format!("{m}m {s}s")
    } else {
        format!("{s}s")
    }
}

/// `YYYY-MM-DD HH:MM:SS` for seconds since the Unix epoch (UTC, proleptic Gregorian).
pub fn utc_datetime(unix: u64) -> String {
    let days = unix / 86_400;
    let rem = unix % 86_400;
    // Civil-from-days (H. Hinnant), shifted so the era starts on 0000-03-01.
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}
