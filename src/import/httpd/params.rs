//! The `key=value` parameters of `BalancerMember`, `ProxyPass` and `ProxySet`: worker
//! parameters onto a `[[balancer.member]]`, balancer parameters onto a `[[balancer]]`.
//!
//! What ringlb has no per-member form of (`timeout`, `connectiontimeout`, `ping` on an HTTP
//! member) is folded into [`Folded`], which becomes the global `[timeouts]`; what it lacks
//! altogether is noted as ignored, with why.

use std::collections::BTreeMap;

use toml::Value;

use crate::import::model::{self, Keys};
use crate::import::{ImportError, Loc};

/// Remarks about one directive's parameters: each says what became of one that was not
/// carried over as it is. An empty list means everything was imported.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct Notes(pub Vec<String>);

impl Notes {
    pub(super) fn add(&mut self, note: impl Into<String>) {
        self.0.push(note.into());
    }
}

/// Worker timeouts that ringlb has only globally: the longest of each, with where it was set.
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Folded {
    pub(super) response: Option<(f64, Loc)>,
    pub(super) connect: Option<(f64, Loc)>,
    pub(super) ping: Option<(f64, Loc)>,
    /// The longest `ttl=`: ringlb's `timeouts.upstream_idle` bounds every member's `ttl`.
    pub(super) ttl: Option<(f64, Loc)>,
    /// How many workers set `timeout=` (the others wait httpd's `Timeout`, 60 s by default).
    pub(super) response_workers: usize,
}

/// ringlb's default `timeouts.upstream_idle`, in seconds.
pub(super) const DEFAULT_UPSTREAM_IDLE: i64 = 15;

fn fold(slot: &mut Option<(f64, Loc)>, secs: f64, loc: &Loc) {
    if slot.as_ref().map_or(true, |(s, _)| secs > *s) {
        *slot = Some((secs, loc.clone()));
    }
}

/// `key=value` split, the key lowercased; `None` without a `=`.
pub(super) fn split(arg: &str) -> Option<(String, String)> {
    let (k, v) = arg.split_once('=')?;
    Some((k.to_ascii_lowercase(), v.to_owned()))
}

/// httpd's `ap_timeout_parameter_parse`: a whole number with an optional unit `ms`, `s`,
/// `mi` or `h` (`default_unit` without one), as seconds and as the ringlb spelling.
pub(super) fn duration(value: &str, default_unit: &str) -> Option<(f64, Value)> {
    let digits = value.bytes().take_while(u8::is_ascii_digit).count();
    let (number, unit) = value.split_at(digits);
    let n: i64 = number.parse().ok()?;
    let unit = if unit.is_empty() { default_unit } else { unit };
    let (secs, text) = match unit.to_ascii_lowercase().as_str() {
        "ms" => (n as f64 / 1000.0, Value::from(format!("{n}ms"))),
        "s" => (n as f64, Value::from(n)),
        "mi" => (n as f64 * 60.0, Value::from(format!("{n}m"))),
        "h" => (n as f64 * 3600.0, Value::from(format!("{n}h"))),
        _ => return None,
    };
    Some((secs, text))
}

fn on_off(value: &str) -> Option<bool> {
    match value.to_ascii_lowercase().as_str() {
        "on" => Some(true),
        "off" => Some(false),
        _ => None,
    }
}

fn bad(loc: &Loc, key: &str, value: &str, why: &str) -> ImportError {
    ImportError::new(
        loc.clone(),
        format!("{key}={value}: {why} (httpd refuses it)"),
    )
}

fn count(loc: &Loc, key: &str, value: &str) -> Result<i64, ImportError> {
    value
        .parse::<i64>()
        .ok()
        .filter(|n| *n >= 0)
        .ok_or_else(|| bad(loc, key, value, "not a whole number"))
}

/// What a worker parameter is applied to.
pub(super) struct Worker<'a> {
    pub(super) keys: &'a mut Keys,
    /// The member speaks AJP (`ping` and `CPING` checks are its own then).
    pub(super) ajp: bool,
}

/// Applies worker parameter `key=value`.
pub(super) fn worker(
    w: Worker<'_>,
    key: &str,
    value: &str,
    hcexprs: &BTreeMap<String, String>,
    folded: &mut Folded,
    notes: &mut Notes,
    loc: &Loc,
) -> Result<(), ImportError> {
    let keys = w.keys;
    match key {
        "loadfactor" => {
            let f: f64 = value
                .parse()
                .ok()
                .filter(|f| (1.0..=100.0).contains(f))
                .ok_or_else(|| {
                    bad(
                        loc,
                        key,
                        value,
                        "LoadFactor must be a number between 1..100",
                    )
                })?;
            // httpd keeps hundredths.
            let f = (f * 100.0).trunc() / 100.0;
            if f.fract() == 0.0 {
                model::set(keys, "loadfactor", f as i64);
            } else {
                model::set(keys, "loadfactor", f);
            }
        }
        "lbset" => {
            let n = count(loc, key, value)?;
            if n > 99 {
                return Err(bad(loc, key, value, "lbset must be between 0 and 99"));
            }
            model::set(keys, "lbset", n);
        }
        "route" | "redirect" => model::set(keys, key, value),
        "status" => status(keys, value, notes),
        "retry" => {
            let (_, v) =
                duration(value, "s").ok_or_else(|| bad(loc, key, value, "wrong format"))?;
            model::set(keys, "retry", v);
        }
        "ttl" => {
            let n = count(loc, key, value)?;
            if n < 1 {
                return Err(bad(loc, key, value, "TTL must be at least one second"));
            }
            model::set(keys, "ttl", n);
            if n > DEFAULT_UPSTREAM_IDLE {
                notes.add(format!(
                    "ttl={n}: [timeouts] upstream_idle is raised to the longest ttl (it bounds \
                     every pooled member connection; ringlb's default is \
                     {DEFAULT_UPSTREAM_IDLE} s)"
                ));
            }
            fold(&mut folded.ttl, n as f64, loc);
        }
        "acquire" => {
            let (_, v) =
                duration(value, "ms").ok_or_else(|| bad(loc, key, value, "wrong format"))?;
            model::set(keys, "acquire", v);
        }
        "max" => {
            let n = count(loc, key, value)?;
            if n == 0 {
                notes.add("max=0: httpd's default (no limit beyond its threads); left out");
            } else if n > 65535 {
                notes.add(format!("max={n}: capped at ringlb's 65535"));
                model::set(keys, "max", 65535);
            } else {
                model::set(keys, "max", n);
            }
        }
        "smax" => {
            let n = count(loc, key, value)?;
            if n > 256 {
                notes.add(format!("smax={n}: capped at ringlb's 256"));
            }
            model::set(keys, "smax", n.min(256));
        }
        "secret" if w.ajp => model::set(keys, "secret", value),
        "ping" if w.ajp => {
            let (_, v) =
                duration(value, "s").ok_or_else(|| bad(loc, key, value, "wrong format"))?;
            model::set(keys, "ping", v);
        }
        "timeout" | "connectiontimeout" | "ping" => {
            let (secs, _) =
                duration(value, "s").ok_or_else(|| bad(loc, key, value, "wrong format"))?;
            let (slot, global) = match key {
                "timeout" => (&mut folded.response, "upstream_response"),
                "connectiontimeout" => (&mut folded.connect, "connect"),
                _ => (&mut folded.ping, "ping"),
            };
            fold(slot, secs, loc);
            if key == "timeout" {
                folded.response_workers += 1;
            }
            notes.add(format!(
                "{key}={value}: ringlb has one for all members, [timeouts] {global} (the longest \
                 member value, unless set by a directive)"
            ));
        }
        "hcmethod" | "hcuri" | "hcinterval" | "hcpasses" | "hcfails" | "hcexpr" => {
            health(keys, w.ajp, key, value, hcexprs, notes, loc)?
        }
        "min" => notes.add(format!(
            "min={value}: ignored, ringlb opens member connections on demand"
        )),
        "keepalive" => notes.add(format!(
            "keepalive={value}: ignored, ringlb does not set TCP keep-alive on member connections"
        )),
        "disablereuse" | "enablereuse" => {
            let reuse = on_off(value).map(|on| on == (key == "enablereuse"));
            if reuse == Some(false) {
                notes.add(format!(
                    "{key}={value}: ignored, ringlb always pools member connections"
                ));
            }
        }
        "hctemplate" => notes.add(format!(
            "hctemplate={value}: ignored, ProxyHCTemplate is not imported"
        )),
        _ => notes.add(format!(
            "{key}={value}: ignored, ringlb has no such member setting"
        )),
    }
    Ok(())
}

/// httpd's `status=` letters onto ringlb's: a value without `+`/`-` sets its flags.
fn status(keys: &mut Keys, value: &str, notes: &mut Notes) {
    let mut out = String::new();
    let mut sign = '+';
    let mut written_sign = None;
    for c in value.chars() {
        match c {
            '+' | '-' => sign = c,
            c if "DSIHRN".contains(c.to_ascii_uppercase()) => {
                if written_sign != Some(sign) {
                    out.push(sign);
                    written_sign = Some(sign);
                }
                out.push(c.to_ascii_uppercase());
            }
            other => notes.add(format!("status flag {other}: ignored, not a ringlb flag")),
        }
    }
    if !out.is_empty() {
        model::set(keys, "status", out);
    }
}

fn health(
    keys: &mut Keys,
    ajp: bool,
    key: &str,
    value: &str,
    hcexprs: &BTreeMap<String, String>,
    notes: &mut Notes,
    loc: &Loc,
) -> Result<(), ImportError> {
    let mut table = match model::get(keys, "health") {
        Some(Value::Table(t)) => t.clone(),
        _ => toml::Table::new(),
    };
    match key {
        "hcmethod" => {
            let upper = value.to_ascii_uppercase();
            let method = upper.strip_suffix("11").unwrap_or(&upper).to_owned();
            if !matches!(
                method.as_str(),
                "GET" | "HEAD" | "OPTIONS" | "CPING" | "TCP"
            ) {
                notes.add(format!(
                    "hcmethod={value}: ignored, not a ringlb check method"
                ));
                return Ok(());
            }
            let method = if ajp && !matches!(method.as_str(), "CPING" | "TCP") {
                notes.add(format!(
                    "hcmethod={value}: an AJP member is checked with CPING"
                ));
                "CPING".to_owned()
            } else if !ajp && method == "CPING" {
                notes.add("hcmethod=CPING: an HTTP member is checked with OPTIONS");
                "OPTIONS".to_owned()
            } else {
                if method != upper {
                    notes.add(format!(
                        "hcmethod={value}: as {method} (ringlb checks with HTTP/1.1)"
                    ));
                }
                method
            };
            table.insert("method".into(), Value::from(method));
        }
        "hcuri" => {
            table.insert("uri".into(), Value::from(value));
        }
        "hcinterval" => {
            let (_, v) =
                duration(value, "s").ok_or_else(|| bad(loc, key, value, "wrong format"))?;
            table.insert("interval".into(), v);
        }
        "hcpasses" | "hcfails" => {
            let n = count(loc, key, value)?.max(1);
            table.insert(key.trim_start_matches("hc").into(), Value::from(n));
        }
        _ => match hcexprs
            .get(&value.to_ascii_lowercase())
            .and_then(|e| status_range(e))
        {
            Some(range) => {
                table.insert("status".into(), Value::from(range));
            }
            None => {
                notes.add(format!(
                    "hcexpr={value}: ignored, only a test of %{{REQUEST_STATUS}} against a \
                     range of statuses is expressible"
                ));
                return Ok(());
            }
        },
    }
    model::set(keys, "health", Value::Table(table));
    Ok(())
}

/// The statuses a `ProxyHCExpr` accepts, as ringlb's `"200-399"`, when it is one of
/// `%{REQUEST_STATUS} =~ /^[2-3]/`, `=~ /^[23]/` or `< N` (`<= N`).
pub(super) fn status_range(expr: &str) -> Option<String> {
    let e: String = expr
        .trim()
        .trim_start_matches('{')
        .trim_end_matches('}')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ");
    let rest = e.strip_prefix("%{REQUEST_STATUS} ")?;
    if let Some(re) = rest.strip_prefix("=~ ") {
        let set = re.strip_prefix("/^[")?.strip_suffix("]/")?;
        let digits: Vec<u32> = match set.as_bytes() {
            [a, b'-', b] => (u32::from(*a)..=u32::from(*b))
                .map(|c| c.checked_sub(u32::from(b'0')))
                .collect::<Option<_>>()?,
            bytes => bytes
                .iter()
                .map(|c| char::from(*c).to_digit(10))
                .collect::<Option<_>>()?,
        };
        let (first, last) = (*digits.first()?, *digits.last()?);
        let contiguous = digits.windows(2).all(|w| w[1] == w[0] + 1);
        if !contiguous || first < 1 || last > 5 {
            return None;
        }
        return Some(format!("{first}00-{last}99"));
    }
    let (op, n) = rest.split_once(' ')?;
    let n: u32 = n.parse().ok()?;
    let last = match op {
        "<" => n.checked_sub(1)?,
        "<=" => n,
        _ => return None,
    };
    (200..=599).contains(&last).then(|| format!("100-{last}"))
}

/// Applies balancer parameter `key=value` to a `[[balancer]]`'s keys.
pub(super) fn balancer(
    keys: &mut Keys,
    key: &str,
    value: &str,
    notes: &mut Notes,
    loc: &Loc,
) -> Result<(), ImportError> {
    let switch = |notes: &mut Notes| -> Result<bool, ImportError> {
        let _ = notes;
        on_off(value).ok_or_else(|| bad(loc, key, value, "must be On|Off"))
    };
    match key {
        "lbmethod" => match value.to_ascii_lowercase().as_str() {
            m @ ("byrequests" | "bytraffic" | "bybusyness") => model::set(keys, "lbmethod", m),
            other => {
                notes.add(format!(
                    "lbmethod={other}: not a ringlb method (byrequests, bytraffic, bybusyness); \
                     byrequests"
                ));
                model::set(keys, "lbmethod", "byrequests");
            }
        },
        "stickysession" => model::set(keys, "stickysession", value),
        "stickysessionsep" => model::set(keys, "stickysessionsep", value),
        "scolonpathdelim" | "nofailover" | "forcerecovery" | "failontimeout" => {
            model::set(keys, key, switch(notes)?)
        }
        "maxattempts" => model::set(keys, "maxattempts", count(loc, key, value)?),
        "failonstatus" => {
            let statuses: Option<Vec<i64>> = value
                .split(',')
                .map(|s| {
                    s.trim()
                        .parse::<i64>()
                        .ok()
                        .filter(|n| (100..=599).contains(n))
                })
                .collect();
            let statuses =
                statuses.ok_or_else(|| bad(loc, key, value, "not a list of HTTP statuses"))?;
            model::set(keys, "failonstatus", statuses);
        }
        "timeout" => notes.add(format!(
            "timeout={value}: ignored, ringlb does not wait for a free member (a request that \
             finds none usable gets 503 at once; members' own waits are `acquire`)"
        )),
        "growth" => notes.add(format!(
            "growth={value}: ignored, ringlb's manager adds members without a reserve"
        )),
        "nonce" => notes.add(format!(
            "nonce={value}: ignored, ringlb's admin API has its own protection"
        )),
        "lbset" => notes.add(format!("lbset={value}: ignored on a balancer")),
        _ => notes.add(format!(
            "{key}={value}: ignored, ringlb has no such balancer setting"
        )),
    }
    Ok(())
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;
