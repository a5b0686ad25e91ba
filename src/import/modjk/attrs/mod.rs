//! Each worker attribute into ringlb keys (or a reason why not), with its report line. The
//! defaults are mod_jk's (`jk_util.c`, `jk_lb_worker.c`, `jk_ajp_common.c`): `host`
//! localhost, `port` 8009, `lbfactor` 1, `distance` 0, `activation` A, `sticky_session` true
//! with cookie `JSESSIONID` and path parameter `jsessionid`, `method` R, `ping_timeout` 10 s.

use toml::Value;

mod lb;
mod member;

use super::super::model::{self, Keys};
use super::super::{Imported, Loc, Report};
use super::workers::{Attr, Parsed, Worker};

pub(super) use lb::{lb, status};
pub(super) use member::member;

/// What one balancer collects while its workers' attributes are read: its keys, the global
/// `[timeouts]` they set, the union of its members' `fail_on_status`.
pub(super) struct Ctx<'a> {
    parsed: &'a Parsed,
    out: &'a mut Imported,
    keys: Keys,
    failonstatus: Vec<i64>,
    lb: bool,
}

impl<'a> Ctx<'a> {
    pub(super) fn new(parsed: &'a Parsed, out: &'a mut Imported) -> Ctx<'a> {
        Ctx {
            parsed,
            out,
            keys: Keys::new(),
            failonstatus: Vec::new(),
            lb: false,
        }
    }

    /// The balancer's keys, `failonstatus` and (for an `lb` worker) `lbstatus_decay` added.
    pub(super) fn finish(mut self, _report: &mut Report) -> Keys {
        if !self.failonstatus.is_empty() {
            self.failonstatus.sort_unstable();
            self.failonstatus.dedup();
            let list: Vec<Value> = self.failonstatus.iter().map(|s| Value::from(*s)).collect();
            model::set(&mut self.keys, "failonstatus", Value::Array(list));
        }
        if self.lb {
            if let Some((secs, _)) = &self.parsed.maintain {
                if *secs != 60 {
                    model::set(&mut self.keys, "lbstatus_decay", format!("{secs}s"));
                }
            }
        }
        self.keys
    }

    /// Sets `[table].key`, shared by every member: the first setter wins and a different
    /// later value is reported as not carried.
    fn global(
        &mut self,
        table: &str,
        key: &str,
        value: String,
        d: &Dir,
        how: &str,
        r: &mut Report,
    ) {
        let keys = self.out.table_mut(table);
        match model::get(keys, key).and_then(Value::as_str) {
            Some(old) if old != value => {
                let why = format!(
                    "{table}.{key} is one setting for every member in ringlb and is already \
                     {old} from an earlier worker"
                );
                d.ignored(r, why);
            }
            Some(_) => d.approx(r, format!("{table}.{key} = {value} (as already set)")),
            None => {
                model::set(keys, key, value.as_str());
                d.approx(
                    r,
                    format!("{table}.{key} = {value} for every member: {how}"),
                );
            }
        }
    }
}

/// The report name of one attribute of `w`: its key as written, and for an inherited one
/// the worker that inherits it.
struct Dir {
    name: String,
    locs: Vec<Loc>,
}

impl Dir {
    fn of(w: &Worker, a: &Attr) -> Dir {
        // The value as read (after `$(...)`), except a secret's.
        let value = if a.name == "secret" {
            "..."
        } else {
            a.value.as_str()
        };
        let name = match &a.from {
            None => format!("{}={value}", a.key),
            Some(_) => format!("{}={value} (inherited by {})", a.key, w.name),
        };
        Dir {
            name,
            locs: a.locs.clone(),
        }
    }

    fn imported(&self, r: &mut Report) {
        for loc in &self.locs {
            r.imported(loc, &self.name);
        }
    }

    fn approx(&self, r: &mut Report, how: impl Into<String>) {
        let how = how.into();
        for loc in &self.locs {
            r.approximated(loc, &self.name, how.clone());
        }
    }

    fn ignored(&self, r: &mut Report, why: impl Into<String>) {
        let why = why.into();
        for loc in &self.locs {
            r.ignored(loc, &self.name, why.clone());
        }
    }
}

/// mod_jk's boolean (`jk_get_bool_code`): `off`, `F...`, `N...`, `0` are false; `on`,
/// `T...`, `Y...`, `1` true; anything else is `None` (the default applies).
pub(super) fn bool_code(v: &str) -> Option<bool> {
    let first = v.chars().next().map(|c| c.to_ascii_lowercase());
    if v.eq_ignore_ascii_case("off") || matches!(first, Some('f' | 'n')) || v == "0" {
        Some(false)
    } else if v.eq_ignore_ascii_case("on") || matches!(first, Some('t' | 'y')) || v == "1" {
        Some(true)
    } else {
        None
    }
}

/// mod_jk's integer (`jk_map_get_int`): leading digits (with a sign), `k`/`m` multiplying by
/// 1024 / 1024²; `None` without digits.
pub(super) fn int_code(v: &str) -> Option<i64> {
    let v = v.trim();
    let (neg, digits) = match v.strip_prefix('-') {
        Some(d) => (true, d),
        None => (false, v.strip_prefix('+').unwrap_or(v)),
    };
    let end = digits
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(digits.len());
    let n: i64 = digits.get(..end)?.parse().ok()?;
    let mult = match digits[end..].chars().next() {
        Some('k' | 'K') => 1024,
        Some('m' | 'M') => 1024 * 1024,
        _ => 1,
    };
    let n = n.checked_mul(mult)?;
    Some(if neg { -n } else { n })
}

/// Milliseconds as a ringlb duration (`"10s"`, `"1500ms"`).
pub(super) fn millis(ms: i64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{ms}ms")
    }
}

/// Reports every attribute of a worker that is not imported, with `why`.
pub(super) fn unused(w: &Worker, why: &str, r: &mut Report) {
    let lb = w.value("type") == Some("lb");
    for a in &w.attrs {
        if a.from.is_some() {
            continue;
        }
        let d = Dir::of(w, a);
        if !lb && matches!(a.name.as_str(), "balance_workers" | "balanced_workers") {
            d.ignored(r, format!("{why}; and without type=lb it is an ajp13 worker (mod_jk's default type), whose members mean nothing"));
        } else {
            d.ignored(r, why);
        }
    }
}
