//! The `process_*` families the Prometheus client libraries export, read from `/proc` as they
//! do: CPU seconds and start time from `/proc/self/stat`, resident memory from its `rss` field,
//! open descriptors by listing `/proc/self/fd`, the limit from `/proc/self/limits`, boot time
//! from `/proc/stat`. The parsers are pure; [`read`] is the thin I/O around them.

use super::model::ProcessView;

/// Parsed from `/proc/self/stat`: CPU time (user + system) and start time, in clock ticks
/// (start time since boot), and the resident set in pages.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Stat {
    pub cpu_ticks: u64,
    pub start_ticks: u64,
    pub rss_pages: u64,
}

/// Parses `/proc/PID/stat`. The command name (field 2) is in parentheses and may hold spaces
/// and `)`, so the fields are counted from the last `)`. `None` when a field is missing or not
/// a number.
pub fn parse_stat(text: &str) -> Option<Stat> {
    let rest = &text[text.rfind(')')? + 1..];
    // After ")" the fields are numbered from 3 (state); utime is 14, stime 15, starttime 22,
    // rss 24: indices 11, 12, 19 and 21 of the remainder.
    let fields: Vec<&str> = rest.split_ascii_whitespace().collect();
    let num = |i: usize| fields.get(i)?.parse::<u64>().ok();
    Some(Stat {
        cpu_ticks: num(11)?.saturating_add(num(12)?),
        start_ticks: num(19)?,
        rss_pages: num(21)?,
    })
}

/// The `btime` line of `/proc/stat`: boot time, Unix seconds.
pub fn parse_btime(text: &str) -> Option<u64> {
    text.lines()
        .find_map(|l| l.strip_prefix("btime "))
        .and_then(|v| v.trim().parse().ok())
}

/// The soft `Max open files` limit of `/proc/self/limits`; `None` when absent or `unlimited`.
pub fn parse_max_fds(text: &str) -> Option<u64> {
    let line = text.lines().find(|l| l.starts_with("Max open files"))?;
    line["Max open files".len()..]
        .split_ascii_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Combines the parsed files into the view; `ticks` is `_SC_CLK_TCK`, `page` the page size in
/// bytes. A family whose source is missing is `None` (and not rendered).
pub fn view(
    stat: Option<Stat>,
    btime: Option<u64>,
    open_fds: Option<u64>,
    max_fds: Option<u64>,
    ticks: u64,
    page: u64,
) -> ProcessView {
    let ticks = ticks.max(1);
    ProcessView {
        cpu_seconds: stat.map(|s| s.cpu_ticks as f64 / ticks as f64),
        resident_memory_bytes: stat.map(|s| s.rss_pages.saturating_mul(page)),
        start_time_seconds: stat
            .zip(btime)
            .map(|(s, boot)| boot as f64 + s.start_ticks as f64 / ticks as f64),
        open_fds,
        max_fds,
    }
}

/// Reads this process's figures from `/proc` (absent ones are `None`).
#[allow(unsafe_code)]
pub fn read() -> ProcessView {
    let file = |p: &str| std::fs::read_to_string(p).ok();
    let stat = file("/proc/self/stat").as_deref().and_then(parse_stat);
    let btime = file("/proc/stat").as_deref().and_then(parse_btime);
    let max_fds = file("/proc/self/limits").as_deref().and_then(parse_max_fds);
    let open_fds = std::fs::read_dir("/proc/self/fd")
        .ok()
        .map(|d| d.count() as u64);
    // SAFETY: sysconf takes no pointer and only reads a system constant.
    let ticks = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
    // SAFETY: as above.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    view(
        stat,
        btime,
        open_fds,
        max_fds,
        u64::try_from(ticks).unwrap_or(100),
        u64::try_from(page).unwrap_or(4096),
    )
}
