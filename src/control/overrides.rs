//! The operator's overrides of the configuration file, and what a file does to them.
//!
//! A change made through the manager or the API (status flags, loadfactor, lbset, route,
//! redirect of a member of the file) is kept per key, together with the file's value for that
//! key at the time. It holds across reloads until either
//! - the file's own value for that key changes (the operator edited the file after the
//!   override: the file wins, and the reload says so), or
//! - it is cleared (`POST /api/overrides/clear`, or the manager's button).
//!
//! Status flags are held letter by letter (`+N` held does not hold `D`). Changing a key back
//! to the file's value ends its override. A member added through the manager is the
//! operator's own, with all its keys; it holds until cleared, or until the file gains a member
//! with the same URL in that balancer (the file wins). A removal holds until cleared, or until
//! the file's definition of that member changes (the file wins: the member is back).
//!
//! Pure: no I/O, no locks. The control plane keeps one [`Overrides`] and the admin listener
//! serves it (`GET /api/overrides`), so `ringlb check --diff` computes with the same code
//! exactly what a reload would do.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::balancer::Status;
use crate::config::{self, BalancerConfig, Config, MemberConfig, MemberOptions, MemberTlsDefaults};

/// An operator's change to one member, as the manager and the API send it: `None` and empty
/// flag sets leave a key alone.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberChange {
    pub lbfactor: Option<u32>,
    pub lbset: Option<u32>,
    pub route: Option<String>,
    pub redirect: Option<String>,
    pub set: Status,
    pub clear: Status,
}

/// One key held by the operator: the value in force, and the file's value when it was set.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held<T> {
    pub value: T,
    pub file: T,
}

/// The keys the operator holds for one member of the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberOverride {
    pub balancer: String,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lbfactor: Option<Held<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lbset: Option<Held<u32>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub route: Option<Held<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect: Option<Held<String>>,
    /// Status letter -> whether the flag is on.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub flags: BTreeMap<String, Held<bool>>,
}

/// A member the operator added (the operator owns all its keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AddedMember {
    pub balancer: String,
    pub url: String,
    pub route: String,
    pub lbfactor: u32,
    pub lbset: u32,
    pub redirect: String,
    /// Status letters, as in the file's `status` (e.g. `"D"`).
    pub status: String,
}

/// A member of the file the operator removed, with the file's definition at the time.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemovedMember {
    pub balancer: String,
    pub url: String,
    pub file: String,
}

/// Everything the operator changed, on top of the file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Overrides {
    #[serde(default)]
    pub members: Vec<MemberOverride>,
    #[serde(default)]
    pub added: Vec<AddedMember>,
    #[serde(default)]
    pub removed: Vec<RemovedMember>,
}

/// The letters of the status flags an override holds. `E` (in error) and `C` (failed check)
/// are states, not settings: the manager's change to them acts on the shared health once
/// and is not held.
const LETTERS: &[u8] = b"DSNHRI";

impl Overrides {
    pub fn is_empty(&self) -> bool {
        self.members.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }

    /// Records `change` to member `url` of `balancer`, against the file `base`. The member
    /// must exist in `base` (and not be removed) or have been added.
    pub fn change(
        &mut self,
        base: &Config,
        balancer: &str,
        url: &str,
        change: &MemberChange,
    ) -> Result<(), String> {
        if let Some(added) = self
            .added
            .iter_mut()
            .find(|a| a.balancer == balancer && a.url == url)
        {
            added.apply(change);
            return Ok(());
        }
        let file = file_member(base, balancer, url)
            .filter(|_| !self.is_removed(balancer, url))
            .ok_or_else(|| format!("{balancer} has no member {url}"))?;
        let i = match self
            .members
            .iter()
            .position(|o| o.balancer == balancer && o.url == url)
        {
            Some(i) => i,
            None => {
                self.members.push(MemberOverride {
                    balancer: balancer.to_string(),
                    url: url.to_string(),
                    ..MemberOverride::default()
                });
                self.members.len() - 1
            }
        };
        let o = &mut self.members[i];
        hold(&mut o.lbfactor, change.lbfactor, file.lbfactor);
        hold(&mut o.lbset, change.lbset, file.options.lbset);
        hold(&mut o.route, change.route.clone(), file.route.clone());
        hold(
            &mut o.redirect,
            change.redirect.clone(),
            file.options.redirect.clone(),
        );
        for &letter in LETTERS {
            let Some(flag) = Status::from_letter(letter) else {
                continue;
            };
            let wanted = if change.set.contains(flag) {
                Some(true)
            } else if change.clear.contains(flag) {
                Some(false)
            } else {
                None
            };
            let key = char::from(letter).to_string();
            let on_file = file.options.status.contains(flag);
            match wanted {
                Some(value) if value != on_file => {
                    o.flags.insert(
                        key,
                        Held {
                            value,
                            file: on_file,
                        },
                    );
                }
                Some(_) => {
                    o.flags.remove(&key);
                }
                None => {}
            }
        }
        if o.is_empty() {
            self.members.remove(i);
        }
        Ok(())
    }

    /// Records a member added to `balancer` of the file `base`: it starts disabled.
    pub fn add(
        &mut self,
        base: &Config,
        balancer: &str,
        url: &str,
        route: &str,
        lbfactor: u32,
    ) -> Result<(), String> {
        if !base.balancers.iter().any(|b| b.name == balancer) {
            return Err(format!("no balancer named {balancer}"));
        }
        let exists = (file_member(base, balancer, url).is_some()
            && !self.is_removed(balancer, url))
            || self
                .added
                .iter()
                .any(|a| a.balancer == balancer && a.url == url);
        if exists {
            return Err(format!("{balancer} already has member {url}"));
        }
        config::parse_member_url(url)?;
        if file_member(base, balancer, url).is_some() {
            // Adding back a removed member of the file ends the removal, and starts it
            // disabled like any added member.
            self.removed
                .retain(|r| !(r.balancer == balancer && r.url == url));
            return self.change(
                base,
                balancer,
                url,
                &MemberChange {
                    set: Status::DISABLED,
                    ..MemberChange::default()
                },
            );
        }
        self.added.push(AddedMember {
            balancer: balancer.to_string(),
            url: url.to_string(),
            route: route.to_string(),
            lbfactor,
            lbset: 0,
            redirect: String::new(),
            status: Status::DISABLED.to_string(),
        });
        Ok(())
    }

    /// Records the removal of member `url` of `balancer`.
    pub fn remove(&mut self, base: &Config, balancer: &str, url: &str) -> Result<(), String> {
        let before = self.added.len();
        self.added
            .retain(|a| !(a.balancer == balancer && a.url == url));
        if self.added.len() != before {
            return Ok(());
        }
        let file = file_member(base, balancer, url)
            .filter(|_| !self.is_removed(balancer, url))
            .ok_or_else(|| format!("{balancer} has no member {url}"))?;
        self.members
            .retain(|o| !(o.balancer == balancer && o.url == url));
        self.removed.push(RemovedMember {
            balancer: balancer.to_string(),
            url: url.to_string(),
            file: fingerprint(file),
        });
        Ok(())
    }

    fn is_removed(&self, balancer: &str, url: &str) -> bool {
        self.removed
            .iter()
            .any(|r| r.balancer == balancer && r.url == url)
    }

    /// The file `base` with these overrides applied. Not validated: the control plane passes
    /// the result through [`config::revalidate`].
    pub fn apply(&self, base: &Config) -> Config {
        let mut config = base.clone();
        for b in &mut config.balancers {
            b.members.retain(|m| !self.is_removed(&b.name, &m.url));
            for m in &mut b.members {
                if let Some(o) = self
                    .members
                    .iter()
                    .find(|o| o.balancer == b.name && o.url == m.url)
                {
                    o.apply(m);
                }
            }
            for a in self.added.iter().filter(|a| a.balancer == b.name) {
                if let Some(member) = a.to_member(&b.options.member_tls) {
                    b.members.push(member);
                }
            }
        }
        config
    }

    /// These overrides against a new file `base`: those that still hold, and one line for
    /// each that the file ends (the file wins).
    pub fn rebase(&self, base: &Config) -> (Overrides, Vec<String>) {
        let mut kept = Overrides::default();
        let mut ended = Vec::new();
        for o in &self.members {
            let Some(file) = file_member(base, &o.balancer, &o.url) else {
                ended.push(format!(
                    "balancer {} member {}: no longer in the file; its overrides end",
                    o.balancer, o.url
                ));
                continue;
            };
            let (still, lines) = o.rebase(file);
            ended.extend(lines);
            if !still.is_empty() {
                kept.members.push(still);
            }
        }
        for a in &self.added {
            if file_member(base, &a.balancer, &a.url).is_some() {
                ended.push(format!(
                    "balancer {} member {}: now in the file; the file's definition wins over \
                     the one added through the manager",
                    a.balancer, a.url
                ));
            } else if !base.balancers.iter().any(|b| b.name == a.balancer) {
                ended.push(format!(
                    "balancer {} member {}: the balancer is no longer in the file; the added \
                     member ends",
                    a.balancer, a.url
                ));
            } else {
                kept.added.push(a.clone());
            }
        }
        for r in &self.removed {
            match file_member(base, &r.balancer, &r.url) {
                Some(file) if fingerprint(file) == r.file => kept.removed.push(r.clone()),
                Some(_) => ended.push(format!(
                    "balancer {} member {}: its definition in the file changed; the file wins \
                     and the member removed through the manager is back",
                    r.balancer, r.url
                )),
                None => {} // the file removed it too
            }
        }
        (kept, ended)
    }

    /// One line per override in force, for the operator.
    pub fn describe(&self) -> Vec<String> {
        let mut lines = Vec::new();
        for o in &self.members {
            let mut keys = Vec::new();
            if let Some(h) = &o.lbfactor {
                keys.push(format!(
                    "loadfactor {} (file: {})",
                    config::loadfactor_text(h.value),
                    config::loadfactor_text(h.file)
                ));
            }
            if let Some(h) = &o.lbset {
                keys.push(format!("lbset {} (file: {})", h.value, h.file));
            }
            if let Some(h) = &o.route {
                keys.push(format!("route {:?} (file: {:?})", h.value, h.file));
            }
            if let Some(h) = &o.redirect {
                keys.push(format!("redirect {:?} (file: {:?})", h.value, h.file));
            }
            for (letter, h) in &o.flags {
                let sign = if h.value { '+' } else { '-' };
                keys.push(format!("status {sign}{letter}"));
            }
            lines.push(format!(
                "balancer {} member {}: {}",
                o.balancer,
                o.url,
                keys.join(", ")
            ));
        }
        for a in &self.added {
            lines.push(format!(
                "balancer {} member {}: added (status {})",
                a.balancer,
                a.url,
                if a.status.is_empty() { "-" } else { &a.status }
            ));
        }
        for r in &self.removed {
            lines.push(format!("balancer {} member {}: removed", r.balancer, r.url));
        }
        lines
    }
}

impl MemberOverride {
    fn is_empty(&self) -> bool {
        self.lbfactor.is_none()
            && self.lbset.is_none()
            && self.route.is_none()
            && self.redirect.is_none()
            && self.flags.is_empty()
    }

    fn apply(&self, m: &mut MemberConfig) {
        if let Some(h) = &self.lbfactor {
            m.lbfactor = h.value;
        }
        if let Some(h) = &self.lbset {
            m.options.lbset = h.value;
        }
        if let Some(h) = &self.route {
            m.route.clone_from(&h.value);
        }
        if let Some(h) = &self.redirect {
            m.options.redirect.clone_from(&h.value);
        }
        for (letter, h) in &self.flags {
            let Some(flag) = letter.bytes().next().and_then(Status::from_letter) else {
                continue;
            };
            m.options.status = if h.value {
                m.options.status | flag
            } else {
                m.options.status.without(flag)
            };
        }
    }

    /// The keys that still hold against the file's member `file`, and a line per key ended.
    fn rebase(&self, file: &MemberConfig) -> (MemberOverride, Vec<String>) {
        let mut ended = Vec::new();
        let who = format!("balancer {} member {}", self.balancer, self.url);
        let mut end = |key: &str, was: String, now: String| {
            ended.push(format!(
                "{who}: {key}: the file changed it ({was} -> {now}); the file wins over the \
                 manager's value"
            ));
        };
        let mut kept = MemberOverride {
            balancer: self.balancer.clone(),
            url: self.url.clone(),
            ..MemberOverride::default()
        };
        kept.lbfactor = keep(&self.lbfactor, &file.lbfactor, |a, b| {
            end(
                "loadfactor",
                config::loadfactor_text(*a),
                config::loadfactor_text(*b),
            )
        });
        kept.lbset = keep(&self.lbset, &file.options.lbset, |a, b| {
            end("lbset", a.to_string(), b.to_string())
        });
        kept.route = keep(&self.route, &file.route, |a, b| {
            end("route", format!("{a:?}"), format!("{b:?}"))
        });
        kept.redirect = keep(&self.redirect, &file.options.redirect, |a, b| {
            end("redirect", format!("{a:?}"), format!("{b:?}"))
        });
        for (letter, h) in &self.flags {
            let Some(flag) = letter.bytes().next().and_then(Status::from_letter) else {
                continue;
            };
            let on_file = file.options.status.contains(flag);
            if on_file == h.file {
                kept.flags.insert(letter.clone(), h.clone());
            } else {
                let text = |on: bool| format!("{}{letter}", if on { '+' } else { '-' });
                end("status", text(h.file), text(on_file));
            }
        }
        (kept, ended)
    }
}

impl AddedMember {
    fn apply(&mut self, change: &MemberChange) {
        if let Some(lf) = change.lbfactor {
            self.lbfactor = lf;
        }
        if let Some(lbset) = change.lbset {
            self.lbset = lbset;
        }
        if let Some(route) = &change.route {
            self.route.clone_from(route);
        }
        if let Some(redirect) = &change.redirect {
            self.redirect.clone_from(redirect);
        }
        let status = self.flags().without(change.clear) | change.set;
        self.status = status.to_string().replace('-', "");
    }

    fn flags(&self) -> Status {
        self.status
            .bytes()
            .filter_map(Status::from_letter)
            .fold(Status::NONE, |acc, s| acc | s)
    }

    /// The member as the configuration holds it; `None` when its URL does not parse (it was
    /// checked when added). An `https://` member takes its balancer's `tls_*` keys (`tls`);
    /// when they do not make a valid setting (no `tls_ca`), the member's `tls` is left out
    /// and validating the result refuses it, saying which key is missing.
    fn to_member(&self, tls: &MemberTlsDefaults) -> Option<MemberConfig> {
        let parsed = config::parse_member_url(&self.url).ok()?;
        let tls = parsed
            .https
            .then(|| config::resolve_member_tls(&MemberTlsDefaults::default(), tls, &parsed.host))
            .and_then(Result::ok);
        Some(MemberConfig {
            url: self.url.clone(),
            addr: parsed.addr,
            dns_name: parsed.dns_name,
            authority: parsed.authority,
            route: self.route.clone(),
            lbfactor: self.lbfactor,
            options: MemberOptions {
                lbset: self.lbset,
                redirect: self.redirect.clone(),
                status: self.flags(),
                tls,
                ..MemberOptions::default()
            },
        })
    }
}

/// Sets `slot` to hold `wanted` against the file's `file` value; a value equal to the file's
/// ends the override. `None` leaves the slot alone.
fn hold<T: PartialEq + Clone>(slot: &mut Option<Held<T>>, wanted: Option<T>, file: T) {
    match wanted {
        Some(value) if value == file => *slot = None,
        Some(value) => *slot = Some(Held { value, file }),
        None => {}
    }
}

/// `held` if the file still has the value it had when the override was made; otherwise
/// `ended(old file value, new file value)` is called and the override ends.
fn keep<T: PartialEq + Clone>(
    held: &Option<Held<T>>,
    file: &T,
    mut ended: impl FnMut(&T, &T),
) -> Option<Held<T>> {
    let h = held.as_ref()?;
    if &h.file == file {
        Some(h.clone())
    } else {
        ended(&h.file, file);
        None
    }
}

fn file_member<'a>(base: &'a Config, balancer: &str, url: &str) -> Option<&'a MemberConfig> {
    base.balancers
        .iter()
        .find(|b| b.name == balancer)
        .and_then(|b: &BalancerConfig| b.members.iter().find(|m| m.url == url))
}

/// What identifies the file's definition of a member, to notice that it changed.
fn fingerprint(m: &MemberConfig) -> String {
    format!("{m:?}")
}
