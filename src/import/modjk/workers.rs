//! From properties to workers: `worker.list`, `worker.maintain`, the variables, `reference`
//! inheritance and each worker's attributes (what `jk_worker.c` and `jk_map.c` do before any
//! worker is created).

use super::props::{Prop, KNOWN_ATTRS};
use super::{ImportError, JkMount, Loc, Report};

/// What mod_jk makes of a worker's `type` (default `ajp13`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Kind {
    Lb,
    Ajp13,
    Status,
    /// `ajp12`, `ajp14`, `jni` or an unknown type, as written.
    Unsupported(String),
}

/// One attribute of a worker: its value and the lines it came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Attr {
    pub(super) name: String,
    pub(super) value: String,
    pub(super) locs: Vec<Loc>,
    /// The key as written (`worker.template.ping_mode` for an inherited one).
    pub(super) key: String,
    /// The template it was inherited from (`template`), or `None` when the worker's own.
    pub(super) from: Option<String>,
}

/// A worker: its own attributes, then the inherited ones (`reference` resolved).
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Worker {
    pub(super) name: String,
    pub(super) kind: Kind,
    pub(super) attrs: Vec<Attr>,
}

impl Worker {
    /// A worker no property names (in `worker.list` or `balance_workers` only): mod_jk's
    /// defaults, an `ajp13` worker on localhost:8009.
    pub(super) fn undefined(name: &str) -> Worker {
        Worker {
            name: name.to_owned(),
            kind: Kind::Ajp13,
            attrs: Vec::new(),
        }
    }

    pub(super) fn attr(&self, name: &str) -> Option<&Attr> {
        self.attrs.iter().find(|a| a.name == name)
    }

    pub(super) fn value(&self, name: &str) -> Option<&str> {
        self.attr(name).map(|a| a.value.as_str())
    }

    /// `balance_workers` (or the older `balanced_workers`), split as mod_jk splits lists.
    pub(super) fn members(&self) -> Vec<String> {
        self.value("balance_workers")
            .or_else(|| self.value("balanced_workers"))
            .map(split_list)
            .unwrap_or_default()
    }
}

/// A mod_jk list value split at blanks, tabs and commas (`jk_map_get_string_list`).
pub(super) fn split_list(value: &str) -> Vec<String> {
    value
        .split([' ', '\t', ','])
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The parsed file: see [`super::Workers`].
#[derive(Clone, Debug, Default, PartialEq)]
pub(super) struct Parsed {
    pub(super) file: String,
    /// `worker.list`, in order, each name once, with the line that named it.
    pub(super) list: Vec<(String, Loc)>,
    /// `worker.maintain` in seconds, with its line.
    pub(super) maintain: Option<(u64, Loc)>,
    /// Every worker some property defines (templates included), in the order first named.
    pub(super) workers: Vec<Worker>,
    /// Names only referenced (`reference=worker.NAME`), never exported nor balanced.
    pub(super) templates: Vec<String>,
    /// `worker.NAME.mount` of the exported workers.
    pub(super) mounts: Vec<JkMount>,
}

/// Builds the workers from `props`, reporting the file-level properties (`worker.list`,
/// `worker.maintain`, variables) and the properties mod_jk does not know.
pub(super) fn build(
    file: &str,
    props: &[Prop],
    report: &mut Report,
) -> Result<Parsed, ImportError> {
    let mut parsed = Parsed {
        file: file.to_owned(),
        ..Parsed::default()
    };
    // (worker, attribute, prop index), in file order.
    let mut own: Vec<(String, String, usize)> = Vec::new();
    for (i, prop) in props.iter().enumerate() {
        let first = prop.locs.first().cloned().unwrap_or_else(Loc::none);
        let Some(rest) = prop.key.strip_prefix("worker.") else {
            for loc in &prop.locs {
                let why = "a variable for $(...) substitution, not a setting";
                report.ignored(loc, &prop.key, why);
            }
            continue;
        };
        match rest {
            "list" => {
                for name in split_list(&prop.value) {
                    if !parsed.list.iter().any(|(n, _)| *n == name) {
                        parsed.list.push((name, first.clone()));
                    }
                }
                for loc in &prop.locs {
                    report.imported(loc, "worker.list");
                }
                continue;
            }
            "maintain" => {
                match prop.value.parse::<u64>() {
                    Ok(secs) if (1..=3600).contains(&secs) => {
                        parsed.maintain = Some((secs, first.clone()));
                    }
                    _ => report.ignored(
                        &first,
                        "worker.maintain",
                        format!("{:?} is not 1..3600 seconds", prop.value),
                    ),
                }
                continue;
            }
            _ => {}
        }
        let Some((name, attr)) = rest.rsplit_once('.') else {
            let why = "not a mod_jk property (mod_jk refuses a file with it)";
            report.ignored(&first, &prop.key, why);
            continue;
        };
        if name.is_empty() || !KNOWN_ATTRS.contains(&attr) {
            for loc in &prop.locs {
                let why = format!(
                    "`{attr}` is not a mod_jk worker attribute (mod_jk 1.2 refuses a file with \
                     it; another connector's?)"
                );
                report.ignored(loc, &prop.key, why);
            }
            continue;
        }
        own.push((name.to_owned(), attr.to_owned(), i));
    }
    for (name, attr, i) in &own {
        let worker = worker_mut(&mut parsed.workers, name);
        let prop = &props[*i];
        worker.attrs.push(Attr {
            name: attr.clone(),
            value: prop.value.clone(),
            locs: prop.locs.clone(),
            key: prop.key.clone(),
            from: None,
        });
    }
    resolve_references(&mut parsed.workers)?;
    let balanced: Vec<String> = parsed.workers.iter().flat_map(|w| w.members()).collect();
    let mut templates = Vec::new();
    for w in &parsed.workers {
        for a in &w.attrs {
            if a.name == "reference" && a.from.is_none() {
                let t = a
                    .value
                    .strip_prefix("worker.")
                    .unwrap_or(&a.value)
                    .to_owned();
                let exported = parsed.list.iter().any(|(n, _)| *n == t);
                if !exported && !balanced.contains(&t) && !templates.contains(&t) {
                    templates.push(t);
                }
            }
        }
    }
    parsed.templates = templates;
    for w in &mut parsed.workers {
        w.kind = kind_of(w.value("type"));
    }
    Ok(parsed)
}

fn kind_of(value: Option<&str>) -> Kind {
    match value {
        None | Some("ajp13") => Kind::Ajp13,
        Some("lb") => Kind::Lb,
        Some("status") => Kind::Status,
        Some(other) => Kind::Unsupported(other.to_owned()),
    }
}

fn worker_mut<'a>(workers: &'a mut Vec<Worker>, name: &str) -> &'a mut Worker {
    let at = match workers.iter().position(|w| w.name == name) {
        Some(at) => at,
        None => {
            workers.push(Worker {
                name: name.to_owned(),
                kind: Kind::Ajp13,
                attrs: Vec::new(),
            });
            workers.len() - 1
        }
    };
    &mut workers[at]
}

/// mod_jk's reference depth limit (`JK_MAP_RECURSION`).
const MAX_DEPTH: usize = 20;

/// `worker.A.reference=worker.T`: A gets each attribute of T it does not set itself, T's own
/// references resolved first (nested templates).
fn resolve_references(workers: &mut [Worker]) -> Result<(), ImportError> {
    for i in 0..workers.len() {
        let attrs = inherited(workers, i, 0)?;
        workers[i].attrs = attrs;
    }
    Ok(())
}

/// Worker `i`'s attributes with its references resolved.
fn inherited(workers: &[Worker], i: usize, depth: usize) -> Result<Vec<Attr>, ImportError> {
    let worker = &workers[i];
    let mut attrs = worker.attrs.clone();
    let Some(reference) = worker.attrs.iter().find(|a| a.name == "reference") else {
        return Ok(attrs);
    };
    let loc = reference.locs.first().cloned().unwrap_or_else(Loc::none);
    if depth >= MAX_DEPTH {
        let msg = format!("reference chain deeper than {MAX_DEPTH} (a loop?): mod_jk refuses it");
        return Err(ImportError::new(loc, msg));
    }
    let target = reference.value.strip_prefix("worker.");
    let found = target.and_then(|t| workers.iter().position(|w| w.name == t));
    let Some(t) = found else {
        let msg = format!(
            "reference {:?} names no worker defined in the file (write worker.NAME): mod_jk \
             refuses it",
            reference.value
        );
        return Err(ImportError::new(loc, msg));
    };
    for a in inherited(workers, t, depth + 1)? {
        if a.name == "reference" || attrs.iter().any(|own| own.name == a.name) {
            continue;
        }
        let from = a.from.clone().or_else(|| Some(workers[t].name.clone()));
        attrs.push(Attr { from, ..a });
    }
    Ok(attrs)
}
