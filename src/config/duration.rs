//! Timeout values: parsing from the config's three spellings and printing them back.
//!
//! Accepted: an integer number of seconds (`5`), a float number of seconds (`0.5`), or a string
//! of a decimal number and a unit, `ms`, `s`, `m` or `h` (`"500ms"`, `"1.5s"`, `"2m"`).
//! Values are rounded to whole milliseconds and must lie in [`MIN`]`..=`[`MAX`] (or another
//! range, [`parse_within`]); zero is rejected for timeouts because each bounds a wait that must
//! end, but a range may start at zero for settings where zero means "off" (`retry`, `slowstart`). [`format()`] prints a value so that [`parse`] gives it back exactly.

use std::time::Duration;

use super::file::Scalar;

/// Smallest timeout: one millisecond (the resolution of the per-core clock).
pub(crate) const MIN: Duration = Duration::from_millis(1);
/// Largest timeout: one day; anything longer is a mistake, and it keeps deadline sums small.
pub(crate) const MAX: Duration = Duration::from_secs(86_400);

const EXPECTED: &str =
    "expected seconds (5, 0.5) or a string with a unit ms, s, m or h (\"500ms\", \"5s\", \"2m\")";

/// Parses one timeout value; the error is a message without the key.
pub(crate) fn parse(value: &Scalar) -> Result<Duration, String> {
    parse_within(value, MIN, MAX)
}

/// Parses a value in the timeout spellings that must lie in `min..=max`, a range within
/// `0..=`[`MAX`] (e.g. `stats.merge_interval`, or `retry` which allows zero).
pub(crate) fn parse_within(
    value: &Scalar,
    min: Duration,
    max: Duration,
) -> Result<Duration, String> {
    let millis = match value {
        Scalar::Int(secs) => (*secs as f64) * 1000.0,
        Scalar::Float(secs) => secs * 1000.0,
        Scalar::Str(text) => parse_with_unit(text)?,
        Scalar::Bool(_) => return Err(format!("{EXPECTED}, found {value}")),
    };
    from_millis(millis)
        .filter(|d| (min..=max).contains(d))
        .ok_or_else(|| {
            let shown = match value {
                Scalar::Int(n) => format!("{n} seconds"),
                Scalar::Float(x) => format!("{x} seconds"),
                other => other.to_string(),
            };
            format!("{shown} is out of range {}..={}", human(min), human(max))
        })
}

/// Parses `"<decimal><unit>"` into (possibly fractional) milliseconds.
fn parse_with_unit(text: &str) -> Result<f64, String> {
    let bad = || format!("{EXPECTED}, found string {text:?}");
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .ok_or_else(bad)?;
    let (number, unit) = trimmed.split_at(split);
    let scale = match unit.trim() {
        "ms" => 1.0,
        "s" => 1000.0,
        "m" => 60_000.0,
        "h" => 3_600_000.0,
        _ => return Err(bad()),
    };
    if !number.bytes().any(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let value: f64 = number.parse().map_err(|_| bad())?;
    Ok(value * scale)
}

/// Rounds to whole milliseconds; `None` outside `0..=MAX` (or NaN).
fn from_millis(millis: f64) -> Option<Duration> {
    let rounded = millis.round();
    if rounded.is_nan() || rounded < 0.0 || rounded > MAX.as_millis() as f64 {
        return None;
    }
    Some(Duration::from_millis(rounded as u64))
}

/// The largest whole unit for a range bound in messages: `1ms`, `1s`, `24h`.
fn human(d: Duration) -> String {
    let millis = d.as_millis();
    match millis {
        0 => "0".to_owned(),
        m if m % 3_600_000 == 0 => format!("{}h", m / 3_600_000),
        m if m % 60_000 == 0 => format!("{}m", m / 60_000),
        m if m % 1000 == 0 => format!("{}s", m / 1000),
        m => format!("{m}ms"),
    }
}

/// `"5s"` for whole seconds, else `"1500ms"`; sub-millisecond parts are dropped (validated
/// values have none).
pub(crate) fn format(d: Duration) -> String {
    let millis = d.as_millis();
    if millis % 1000 == 0 {
        format!("{}s", millis / 1000)
    } else {
        format!("{millis}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spellings() {
        let cases: [(Scalar, Option<u64>); 14] = [
            (Scalar::Int(5), Some(5000)),
            (Scalar::Float(0.5), Some(500)),
            (Scalar::Str("500ms".into()), Some(500)),
            (Scalar::Str("5s".into()), Some(5000)),
            (Scalar::Str("1.5s".into()), Some(1500)),
            (Scalar::Str("2m".into()), Some(120_000)),
            (Scalar::Str("1h".into()), Some(3_600_000)),
            (Scalar::Str(" 3 s ".into()), Some(3000)),
            (Scalar::Int(0), None),
            (Scalar::Int(-1), None),
            (Scalar::Str("5".into()), None),
            (Scalar::Str("s".into()), None),
            (Scalar::Str("5d".into()), None),
            (Scalar::Str("25h".into()), None),
        ];
        for (value, want) in cases {
            let got = parse(&value).ok().map(|d| d.as_millis() as u64);
            assert_eq!(got, want, "{value}");
        }
        assert!(parse(&Scalar::Bool(true)).is_err());
        assert!(parse(&Scalar::Float(f64::NAN)).is_err());
        assert_eq!(
            parse(&Scalar::Int(0)),
            Err("0 seconds is out of range 1ms..=24h".to_owned())
        );
    }

    #[test]
    fn narrower_range() {
        let (min, max) = (MIN, Duration::from_secs(1));
        let ms = |n| Duration::from_millis(n);
        assert_eq!(
            parse_within(&Scalar::Str("5ms".into()), min, max),
            Ok(ms(5))
        );
        assert_eq!(parse_within(&Scalar::Int(1), min, max), Ok(ms(1000)));
        assert_eq!(
            parse_within(&Scalar::Str("2s".into()), min, max),
            Err("string \"2s\" is out of range 1ms..=1s".to_owned())
        );
        assert!(parse_within(&Scalar::Float(0.0004), min, max).is_err());
    }

    #[test]
    fn range_from_zero() {
        let max = Duration::from_secs(3600);
        let within = |v: Scalar| parse_within(&v, Duration::ZERO, max);
        assert_eq!(within(Scalar::Int(0)), Ok(Duration::ZERO));
        assert_eq!(within(Scalar::Str("0s".into())), Ok(Duration::ZERO));
        assert_eq!(within(Scalar::Float(0.0004)), Ok(Duration::ZERO));
        assert_eq!(
            within(Scalar::Int(-1)),
            Err("-1 seconds is out of range 0..=1h".to_owned())
        );
        assert!(within(Scalar::Str("-1s".into())).is_err());
        assert!(within(Scalar::Str("61m".into())).is_err());
        assert_eq!(parse(&Scalar::Str(format(Duration::ZERO))).ok(), None);
    }

    #[test]
    fn format_round_trips() {
        for ms in [1u64, 500, 1000, 1500, 60_000, 86_400_000] {
            let d = Duration::from_millis(ms);
            let printed = format(d);
            assert_eq!(parse(&Scalar::Str(printed.clone())), Ok(d), "{printed}");
        }
    }
}
