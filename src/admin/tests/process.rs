//! The `/proc` parsers behind the `process_*` families.

use crate::admin::process::{parse_btime, parse_max_fds, parse_stat, view, Stat};

/// A real `/proc/self/stat` line, with a command name holding `) (` and spaces.
const STAT: &str = "4242 (ring lb) (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 250 50 0 0 20 0 \
                    3 0 123400 104857600 2560 18446744073709551615 1 1 0 0 0 0 0 4096 0 0 0 0 \
                    17 1 0 0 0 0 0";

#[test]
fn stat_fields() {
    let cases = [
        (
            STAT,
            Some(Stat {
                cpu_ticks: 300,
                start_ticks: 123_400,
                rss_pages: 2560,
            }),
        ),
        ("4242 (x) S 1 2", None),
        ("no parenthesis", None),
        ("1 (x) S 1 1 1 0 -1 0 0 0 0 0 u 50 0 0 20 0 3 0 1 1 1", None),
    ];
    for (text, want) in cases {
        assert_eq!(parse_stat(text), want, "{text}");
    }
}

#[test]
fn btime_and_limits() {
    assert_eq!(
        parse_btime("cpu  1 2 3\nbtime 1700000000\nprocesses 9\n"),
        Some(1_700_000_000)
    );
    assert_eq!(parse_btime("cpu 1\n"), None);
    let limits = "Limit                     Soft Limit           Hard Limit           Units\n\
                  Max open files            65536                524288               files\n";
    assert_eq!(parse_max_fds(limits), Some(65536));
    let unlimited = "Max open files            unlimited            unlimited            files\n";
    assert_eq!(parse_max_fds(unlimited), None);
}

#[test]
fn view_converts_units() {
    let stat = parse_stat(STAT);
    let v = view(stat, Some(1_700_000_000), Some(9), Some(1024), 100, 4096);
    assert_eq!(v.cpu_seconds, Some(3.0));
    assert_eq!(v.resident_memory_bytes, Some(2560 * 4096));
    assert_eq!(v.start_time_seconds, Some(1_700_000_000.0 + 1234.0));
    assert_eq!((v.open_fds, v.max_fds), (Some(9), Some(1024)));
    let none = view(None, Some(1), None, None, 100, 4096);
    assert_eq!((none.cpu_seconds, none.start_time_seconds), (None, None));
}
