//! The `%t` timestamp: Unix seconds to Apache's Common Log Format date,
//! `[dd/Mon/yyyy:HH:MM:SS +0000]`, always in UTC; and the RFC 3339 time with milliseconds
//! (`2026-12-02T01:02:03.456Z`) of the error log and the admin's `last_error`.
//!
//! Pure: no clock reads, no allocation. The caller passes the time. [`TimeCache`] keeps the text
//! of the last second so that every request within one second costs a 28-byte copy instead of the
//! calendar arithmetic.

/// Length of the bracketed timestamp, `[21/Nov/2026:20:36:21 +0000]`.
pub const CLF_LEN: usize = 28;

/// The last second representable with a four-digit year, 9999-12-31 23:59:59 UTC. Later times
/// are clamped to it so the text always has [`CLF_LEN`] bytes.
pub const MAX_UNIX: u64 = 253_402_300_799;

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A UTC calendar date and time of day.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: u32,
    /// 1..=12
    pub month: u32,
    /// 1..=31
    pub day: u32,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
}

/// The proleptic Gregorian date of day `days` after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, restricted to non-negative days). Returns `(year, month, day)`.
pub fn civil_from_days(days: u64) -> (u32, u32, u32) {
    // Shift the epoch to 0000-03-01 so that the leap day is the last day of the "year".
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097; // day of era, 0..=146096
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365; // 0..=399
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100); // day of the March-based year, 0..=365
    let mp = (5 * doy + 2) / 153; // March = 0
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = (yoe + era * 400 + u64::from(month <= 2)) as u32;
    (year, month, day)
}

/// UTC calendar fields of `unix` seconds, clamped to [`MAX_UNIX`].
pub fn civil_from_unix(unix: u64) -> Civil {
    let unix = unix.min(MAX_UNIX);
    let (year, month, day) = civil_from_days(unix / 86_400);
    let secs = (unix % 86_400) as u32;
    Civil {
        year,
        month,
        day,
        hour: secs / 3600,
        minute: secs / 60 % 60,
        second: secs % 60,
    }
}

/// `[dd/Mon/yyyy:HH:MM:SS +0000]` for `unix` seconds (clamped to [`MAX_UNIX`]).
pub fn clf(unix: u64) -> [u8; CLF_LEN] {
    let c = civil_from_unix(unix);
    let mut out = *b"[01/Jan/1970:00:00:00 +0000]";
    put2(&mut out[1..3], c.day);
    out[4..7].copy_from_slice(MONTHS[(c.month - 1) as usize]);
    put2(&mut out[8..10], c.year / 100);
    put2(&mut out[10..12], c.year % 100);
    put2(&mut out[13..15], c.hour);
    put2(&mut out[16..18], c.minute);
    put2(&mut out[19..21], c.second);
    out
}

/// Length of [`rfc3339_ms`]'s text, `2026-12-02T01:02:03.456Z`.
pub const RFC3339_MS_LEN: usize = 24;

/// RFC 3339 UTC time with milliseconds for `unix_ms` milliseconds since the Unix epoch
/// (seconds clamped to [`MAX_UNIX`]), e.g. `2026-12-02T01:02:03.456Z`.
pub fn rfc3339_ms(unix_ms: u64) -> [u8; RFC3339_MS_LEN] {
    let c = civil_from_unix(unix_ms / 1000);
    let ms = (unix_ms % 1000) as u32;
    let mut out = *b"1970-01-01T00:00:00.000Z";
    put2(&mut out[0..2], c.year / 100);
    put2(&mut out[2..4], c.year % 100);
    put2(&mut out[5..7], c.month);
    put2(&mut out[8..10], c.day);
    put2(&mut out[11..13], c.hour);
    put2(&mut out[14..16], c.minute);
    put2(&mut out[17..19], c.second);
    out[20] = b'0' + (ms / 100) as u8;
    put2(&mut out[21..23], ms % 100);
    out
}

/// [`rfc3339_ms`] as a `String`.
pub fn rfc3339_ms_string(unix_ms: u64) -> String {
    String::from_utf8_lossy(&rfc3339_ms(unix_ms)).into_owned()
}

fn put2(dst: &mut [u8], v: u32) {
    dst[0] = b'0' + (v / 10) as u8;
    dst[1] = b'0' + (v % 10) as u8;
}

/// The formatted timestamp of the last second asked for. One per worker thread (it is mutated
/// on every lookup, so it is not shared).
#[derive(Clone, Debug)]
pub struct TimeCache {
    unix: u64,
    text: [u8; CLF_LEN],
}

impl Default for TimeCache {
    fn default() -> Self {
        TimeCache::new()
    }
}

impl TimeCache {
    /// An empty cache; the first [`get`](Self::get) formats.
    pub fn new() -> TimeCache {
        TimeCache {
            unix: u64::MAX,
            text: [0; CLF_LEN],
        }
    }

    /// The text for `unix` seconds. Reformats only when the second differs from the previous
    /// call's; times may go backwards (requests finish out of order), which just reformats.
    #[inline]
    pub fn get(&mut self, unix: u64) -> &[u8; CLF_LEN] {
        if unix != self.unix {
            self.text = clf(unix);
            self.unix = unix;
        }
        &self.text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table() {
        let cases: [(u64, &str); 13] = [
            (0, "[01/Jan/1970:00:00:00 +0000]"),
            (68_256_000, "[01/Mar/1972:00:00:00 +0000]"),
            (946_684_799, "[31/Dec/1999:23:59:59 +0000]"),
            (951_782_400, "[29/Feb/2000:00:00:00 +0000]"),
            (951_868_800, "[01/Mar/2000:00:00:00 +0000]"),
            (1_709_251_199, "[29/Feb/2024:23:59:59 +0000]"),
            (1_795_293_381, "[21/Nov/2026:20:36:21 +0000]"),
            (2_147_483_647, "[19/Jan/2038:03:14:07 +0000]"),
            (2_147_483_648, "[19/Jan/2038:03:14:08 +0000]"),
            (4_102_444_799, "[31/Dec/2099:23:59:59 +0000]"),
            (4_107_542_400, "[01/Mar/2100:00:00:00 +0000]"), // 2100 is not a leap year
            (MAX_UNIX, "[31/Dec/9999:23:59:59 +0000]"),
            (u64::MAX, "[31/Dec/9999:23:59:59 +0000]"), // clamped
        ];
        for (unix, want) in cases {
            assert_eq!(
                std::str::from_utf8(&clf(unix)).unwrap(),
                want,
                "unix {unix}"
            );
        }
    }

    /// Every day from 1970 to 2600 against a naive month-length walk.
    #[test]
    fn every_day_matches_naive_calendar() {
        let leap = |y: u32| (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
        let (mut y, mut m, mut d) = (1970u32, 1u32, 1u32);
        let mut days = 0u64;
        while y < 2600 {
            assert_eq!(civil_from_days(days), (y, m, d), "day {days}");
            let len = match m {
                2 if leap(y) => 29,
                2 => 28,
                4 | 6 | 9 | 11 => 30,
                _ => 31,
            };
            d += 1;
            if d > len {
                d = 1;
                m += 1;
                if m > 12 {
                    m = 1;
                    y += 1;
                }
            }
            days += 1;
        }
    }

    #[test]
    fn rfc3339_with_milliseconds() {
        let cases: [(u64, &str); 5] = [
            (0, "1970-01-01T00:00:00.000Z"),
            (951_782_400_007, "2000-02-29T00:00:00.007Z"),
            (1_795_293_381_456, "2026-11-21T20:36:21.456Z"),
            (1_795_293_381_999, "2026-11-21T20:36:21.999Z"),
            (u64::MAX, "9999-12-31T23:59:59.615Z"), // seconds clamped, milliseconds kept
        ];
        for (ms, want) in cases {
            assert_eq!(rfc3339_ms_string(ms), want, "{ms}");
        }
    }

    #[test]
    fn cache_reformats_only_on_a_new_second() {
        let mut cache = TimeCache::new();
        assert_eq!(cache.get(0), &clf(0));
        assert_eq!(cache.get(0), &clf(0));
        assert_eq!(cache.get(1_795_293_381), &clf(1_795_293_381));
        assert_eq!(cache.get(59), &clf(59)); // backwards is fine
        assert_eq!(&cache.get(59)[13..21], b"00:00:59");
    }
}
