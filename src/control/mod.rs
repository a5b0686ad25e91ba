//! The control plane: the one place that changes what the workers run.
//!
//! It owns the configuration file's `Config` (the base), the operator's [`Overrides`] of it
//! (made through the manager or the API; their meaning against the file is in `overrides`),
//! and the generation the workers run. Every change is turned into the effective
//! configuration (base with overrides applied), validated by [`config::revalidate`] like a
//! file, and then put in force on every worker over [`crate::link`]:
//! - an operator's change to existing members (status flags, loadfactor, lbset, route,
//!   redirect, or clearing overrides that only touch those) is an in-place edit: workers keep
//!   their pools, balancer scores, probe counters and access logs;
//! - a reload of the file, or a member added or removed, is a new generation (carry-over by
//!   member identity, see `link`).
//!
//! A change returns once every worker has put it in force (each acknowledges), so a request
//! that starts after the answer sees it. Each change is logged once, with who made it and
//! every key as `old -> new`. A reload also puts the new `[admin]` access rules in force on
//! the admin listener and the new `log.level`; it refuses, with nothing changed, what only a
//! restart can apply (see [`Change::needs_restart`]).
//!
//! Runs on the admin and signal threads only; the lock here is never touched by a worker.

#![allow(clippy::disallowed_types)] // admin-side lock, never on the request path

mod dns;
mod overrides;
mod reloads;
#[cfg(test)]
mod tests;

pub(crate) use dns::{spawn as spawn_dns, Wake};

pub use overrides::{MemberChange, Overrides};

use std::fmt;
use std::net::{IpAddr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::Sender;

use crate::admin::access::{Access, AccessSlot};
use crate::balancer::Status;
use crate::clock;
use crate::config::{self, Change, Config};
use crate::dns::Names;
use crate::link::{Ack, Control, MemberEdit, SharedGen, WorkerInfo};
use crate::log;
use crate::systemd;
pub use reloads::ReloadCounts;
use reloads::Reloads;

/// How long a change waits for every worker to acknowledge it.
const APPLY_TIMEOUT: Duration = Duration::from_secs(5);

/// Who asked for a change, for the log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// The manager page or the JSON API, from `peer`, as `user` when basic auth is on.
    Admin {
        peer: IpAddr,
        user: Option<String>,
        via: &'static str,
    },
    /// `SIGHUP`.
    Signal,
    /// `reload_on_change`: the configuration file changed.
    FileWatch,
    /// The embedding program (tests, `ringlb demo`).
    Program,
    /// The DNS thread: a member host name's address changed.
    Dns,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Admin { peer, user, via } => {
                write!(f, "{via} from {peer}")?;
                match user {
                    Some(user) => write!(f, " (user {user})"),
                    None => Ok(()),
                }
            }
            Actor::Signal => f.write_str("SIGHUP"),
            Actor::FileWatch => f.write_str("reload_on_change"),
            Actor::Program => f.write_str("the program"),
            Actor::Dns => f.write_str("DNS"),
        }
    }
}

/// What a reload of `file` does to the running configuration: the effective configuration it
/// puts in force, the overrides that still hold, and one line per override the file ends.
#[derive(Debug)]
pub struct ReloadPlan {
    pub config: Config,
    pub overrides: Overrides,
    pub ended: Vec<String>,
}

/// Plans a reload to `file` with the operator's `overrides` (pure; `ringlb check --diff`
/// uses it too). Refused when the result is not a valid configuration.
pub fn plan_reload(file: &Config, overrides: &Overrides) -> Result<ReloadPlan, String> {
    let (kept, ended) = overrides.rebase(file);
    let config = effective(file, &kept)?;
    Ok(ReloadPlan {
        config,
        overrides: kept,
        ended,
    })
}

/// `file` with `overrides` applied, validated as a file is.
fn effective(file: &Config, overrides: &Overrides) -> Result<Config, String> {
    config::revalidate(&overrides.apply(file)).map_err(|e| {
        format!(
            "the result would not be a valid configuration: {}: {}",
            e.key, e.message
        )
    })
}

#[derive(Debug)]
struct State {
    /// The configuration file as last loaded.
    file: Arc<Config>,
    overrides: Overrides,
    current: Arc<SharedGen>,
    /// The admin listener's access rules, once a listener is attached.
    admin: Option<Arc<AccessSlot>>,
    /// The host names of the members in force, with their addresses (`control::dns`).
    names: Names,
}

/// Shared by the server handle, the admin listener and the signal thread.
#[derive(Debug)]
pub struct Controller {
    state: Mutex<State>,
    controls: Vec<Sender<Control>>,
    workers: Vec<WorkerInfo>,
    connections: Arc<[AtomicU64]>,
    epoch: Instant,
    listeners: Vec<SocketAddr>,
    /// Tells the DNS thread that the names or the DNS settings may have changed.
    dns_wake: Sender<Wake>,
    /// Reload outcomes, for the metrics.
    reloads: Reloads,
}

/// What the server hands the controller about the workers it started.
#[derive(Debug)]
pub(crate) struct WorkerLinks {
    pub(crate) controls: Vec<Sender<Control>>,
    pub(crate) workers: Vec<WorkerInfo>,
    pub(crate) connections: Arc<[AtomicU64]>,
    pub(crate) epoch: Instant,
    /// The bound listening addresses: `listen`, then `[[listener]]`, in config order.
    pub(crate) listeners: Vec<SocketAddr>,
}

impl Controller {
    /// The controller of the workers `links` runs `current`, made from the configuration
    /// `file` (as validated, before any address was looked up) with the addresses of
    /// `names`; `dns_wake` wakes the DNS thread.
    pub(crate) fn new(
        file: Arc<Config>,
        current: Arc<SharedGen>,
        names: Names,
        links: WorkerLinks,
        dns_wake: Sender<Wake>,
    ) -> Controller {
        let state = State {
            file,
            overrides: Overrides::default(),
            current,
            admin: None,
            names,
        };
        Controller {
            state: Mutex::new(state),
            controls: links.controls,
            workers: links.workers,
            connections: links.connections,
            epoch: links.epoch,
            listeners: links.listeners,
            dns_wake,
            reloads: Reloads::default(),
        }
    }

    /// Reload outcomes since start (the file re-read, a SIGHUP, the API, a program).
    pub fn reloads(&self) -> ReloadCounts {
        self.reloads.counts()
    }

    /// Counts the outcome of one reload.
    fn count_reload<T>(&self, result: &Result<T, String>) {
        #[allow(clippy::disallowed_methods)] // wall-clock time shown to the operator
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX));
        self.reloads.record(result.is_ok(), now);
    }

    /// The looked-up address of host name `name` (as `MemberConfig::dns_name` holds it).
    pub fn address_of(&self, name: &str) -> Option<IpAddr> {
        self.lock().names.address(name)
    }

    /// The workers' clock origin (member health times count from here).
    pub fn epoch(&self) -> Instant {
        self.epoch
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The generation new requests use.
    pub fn current(&self) -> Arc<SharedGen> {
        self.lock().current.clone()
    }

    /// The operator's overrides in force.
    pub fn overrides(&self) -> Overrides {
        self.lock().overrides.clone()
    }

    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
    }

    /// The bound listening addresses, in the order of the per-listener counters.
    pub fn listeners(&self) -> &[SocketAddr] {
        &self.listeners
    }

    /// Open client connections per worker.
    pub fn connections(&self, worker: usize) -> u64 {
        self.connections
            .get(worker)
            .map_or(0, |c| c.load(Ordering::Relaxed))
    }

    /// Attaches the admin listener's access rules, which [`Controller::reload`] then replaces
    /// from each new `[admin]` section.
    pub fn attach_admin(&self, access: Arc<AccessSlot>) {
        self.lock().admin = Some(access);
    }

    /// Replaces the configuration file's `Config` (a reload). Overrides hold unless the file
    /// changed their key (see `overrides`); the new `[admin]` rules (the htpasswd file
    /// re-read) and `log.level` apply from the next request, the TLS listeners' certificates
    /// and the `https://` members' `tls_*` files (re-read) from the next connection. Refused,
    /// with nothing changed, if the result is not a valid configuration, the htpasswd file or
    /// a certificate, key or CA file cannot be read or parsed, or a key changes that needs a
    /// restart. Returns the new generation's number once every
    /// worker runs it.
    pub fn reload(&self, file: Config, who: &Actor) -> Result<u64, String> {
        let result = self.apply_reload(file, who);
        self.count_reload(&result);
        result
    }

    fn apply_reload(&self, file: Config, who: &Actor) -> Result<u64, String> {
        let mut state = self.lock();
        let restart: Vec<String> = config::diff(&state.file, &file)
            .into_iter()
            .filter_map(|c| match c {
                Change::Setting {
                    key,
                    old,
                    new,
                    restart: true,
                } => Some(format!("{key} {old} -> {new}")),
                _ => None,
            })
            .collect();
        if !restart.is_empty() {
            return Err(format!(
                "{} needs a restart, a reload cannot apply it; restart ringlb, or put the old \
                 value back to reload the rest",
                restart.join("; ")
            ));
        }
        let plan = plan_reload(&file, &state.overrides)?;
        let old_dns = state.current.config.dns.clone();
        let (resolved, names) = dns::with_names(plan.config, &state.names, &old_dns)?;
        let tls = Arc::new(crate::tls::Acceptors::load(&file)?);
        // For the members in force: the file's and those added through the manager.
        let connectors = Arc::new(crate::tls::Connectors::load(&resolved)?);
        let access = match (&state.admin, &file.ops.admin) {
            (Some(slot), Some(admin)) => Some((slot.clone(), Access::load(admin)?)),
            _ => None,
        };
        if let Some((slot, access)) = access {
            slot.set(access);
        }
        log::set_level(file.ops.log.level);
        for line in &plan.ended {
            log::info(format_args!("reload by {who}: {line}"));
        }
        state.file = Arc::new(file);
        state.overrides = plan.overrides;
        state.names = names;
        crate::tls::warn_unverified(&resolved);
        let next = Arc::new(
            (state.current)
                .successor(Arc::new(resolved))
                .with_tls(tls)
                .with_connectors(connectors),
        );
        let pending = self.publish(&mut state, who, "reload", next.clone(), |ack| {
            Control::Swap(next.clone(), ack)
        });
        drop(state);
        let _ = self.dns_wake.send(Wake::Nudge);
        pending.wait()?;
        Ok(next.number)
    }

    /// Re-reads the configuration file the server started from, telling systemd that a
    /// reload runs (`RELOADING=1`, then `READY=1` whatever the outcome).
    pub fn reload_file(&self, who: &Actor) -> Result<u64, String> {
        systemd::notify(systemd::State::Reloading);
        let outcome = self.reload_file_now(who);
        systemd::notify(systemd::State::Ready { main_pid: None });
        outcome
    }

    fn reload_file_now(&self, who: &Actor) -> Result<u64, String> {
        let source = self.lock().file.source.clone();
        let path = std::path::Path::new(&source);
        if !path.is_file() {
            return Err(format!(
                "{source} is not a configuration file that can be re-read"
            ));
        }
        let file = match config::load(path) {
            Ok(file) => file,
            Err(e) => {
                let result = Err(e.to_string());
                self.count_reload(&result);
                return result;
            }
        };
        self.reload(Config::clone(&file), who)
    }

    /// Changes one member (manager form or API). Returns a message for the operator once
    /// every worker applies the change. Setting or clearing `E` or `C` acts on the member's
    /// shared health at once (an error window or a failed check begins or ends); it is not
    /// an override.
    pub fn change_member(
        &self,
        who: &Actor,
        balancer: &str,
        url: &str,
        change: MemberChange,
    ) -> Result<String, String> {
        self.update(who, |o, file| o.change(file, balancer, url, &change))?;
        let (set, clear) = (
            change.set.intersection(Status::SHARED),
            change.clear.intersection(Status::SHARED),
        );
        if set != Status::NONE || clear != Status::NONE {
            let current = self.current();
            let index = current
                .config
                .balancers
                .iter()
                .enumerate()
                .find(|(_, b)| b.name == balancer)
                .and_then(|(b, bc)| Some((b, bc.members.iter().position(|m| m.url == url)?)));
            if let Some((b, m)) = index {
                self.write_shared_flags(&current, b, m, set, clear);
                log::info(format_args!(
                    "change by {who}: balancer {balancer} member {url}: health {}{}",
                    signed('+', set),
                    signed('-', clear)
                ));
            }
        }
        Ok(format!("member {url} of {balancer} updated"))
    }

    /// Adds a member (it starts disabled, as in Apache's manager).
    pub fn add_member(
        &self,
        who: &Actor,
        balancer: &str,
        url: &str,
        route: &str,
        lbfactor: u32,
    ) -> Result<String, String> {
        self.update(who, |o, file| o.add(file, balancer, url, route, lbfactor))?;
        Ok(format!(
            "member {url} added to {balancer} (disabled until enabled)"
        ))
    }

    /// Removes a member.
    pub fn remove_member(&self, who: &Actor, balancer: &str, url: &str) -> Result<String, String> {
        self.update(who, |o, file| o.remove(file, balancer, url))?;
        Ok(format!("member {url} removed from {balancer}"))
    }

    /// Takes `overrides` as the ones in force, without a change to the workers: the
    /// configuration they run was made with them (a binary upgrade's new process starts on
    /// the old one's overrides, `plan_reload`ed onto its file).
    pub fn carry_overrides(&self, overrides: Overrides) {
        self.lock().overrides = overrides;
    }

    /// Ends every override: the file's values are in force again.
    pub fn clear_overrides(&self, who: &Actor) -> Result<String, String> {
        let mut n = 0;
        self.update(who, |o, _| {
            n = o.describe().len();
            *o = Overrides::default();
            Ok(())
        })?;
        Ok(match n {
            0 => "no overrides to clear".to_string(),
            1 => "1 override cleared: the file's values are in force".to_string(),
            n => format!("{n} overrides cleared: the file's values are in force"),
        })
    }

    /// Applies `edit` to a copy of the overrides; if the result is a valid configuration,
    /// puts it in force (in place when the members stay the same) and keeps the copy.
    fn update(
        &self,
        who: &Actor,
        edit: impl FnOnce(&mut Overrides, &Config) -> Result<(), String>,
    ) -> Result<(), String> {
        let mut state = self.lock();
        let mut overrides = state.overrides.clone();
        edit(&mut overrides, &state.file)?;
        let old_dns = state.current.config.dns.clone();
        let effective = effective(&state.file, &overrides)?;
        let (config, names) = dns::with_names(effective, &state.names, &old_dns)?;
        let config = Arc::new(config);
        state.overrides = overrides;
        state.names = names;
        let current = state.current.clone();
        let pending = if current.same_members(&config) {
            let edits = member_edits(&current.config, &config);
            let next = Arc::new(current.edited(config));
            self.publish(&mut state, who, "change", next.clone(), |ack| {
                Control::Edit(next.clone(), edits.clone(), ack)
            })
        } else {
            let next = Arc::new(current.successor(config));
            self.publish(&mut state, who, "change", next.clone(), |ack| {
                Control::Swap(next.clone(), ack)
            })
        };
        drop(state);
        let _ = self.dns_wake.send(Wake::Nudge);
        pending.wait()
    }

    /// Sets or clears the shared flags (`E`, `C`) of member `m` of balancer `b` in the
    /// shared health, once for every worker.
    fn write_shared_flags(&self, gen: &SharedGen, b: usize, m: usize, set: Status, clear: Status) {
        let now_ms = clock::ms_since(self.epoch, clock::now());
        let health = &gen.health;
        if set.contains(Status::ERROR) {
            health.set_error_flag(b, m);
        } else if clear.contains(Status::ERROR) {
            health.clear_error(b, m, now_ms);
        }
        if set.contains(Status::HC_FAILED) {
            health.set_hc_failed(b, m, true, now_ms);
        } else if clear.contains(Status::HC_FAILED) {
            health.set_hc_failed(b, m, false, now_ms);
        }
    }

    /// Logs what changes from the current generation to `next`, makes `next` current and
    /// sends every worker the message `control` makes. Call [`Pending::wait`] after
    /// releasing the lock.
    fn publish(
        &self,
        state: &mut State,
        who: &Actor,
        what: &str,
        next: Arc<SharedGen>,
        control: impl Fn(Ack) -> Control,
    ) -> Pending {
        let changes = config::diff(&state.current.config, &next.config);
        if changes.is_empty() && what == "reload" {
            log::info(format_args!(
                "{what} by {who}: no configuration key changes (certificate, member tls_* and \
                 htpasswd files were re-read)"
            ));
        } else if changes.is_empty() {
            log::info(format_args!("{what} by {who}: nothing changes"));
        }
        for change in &changes {
            log::info(format_args!("{what} by {who}: {change}"));
        }
        if next.number != state.current.number {
            log::info(format_args!(
                "configuration generation {} in use",
                next.number
            ));
        }
        state.current = next;
        let (tx, rx) = crossbeam_channel::unbounded();
        let mut expected = 0;
        for c in &self.controls {
            if c.send(control(tx.clone())).is_ok() {
                expected += 1;
            }
        }
        Pending { rx, expected }
    }
}

/// Acknowledgements still to come for one published change.
struct Pending {
    rx: crossbeam_channel::Receiver<usize>,
    expected: usize,
}

impl Pending {
    /// Waits until every worker that got the change has put it in force, for at most
    /// [`APPLY_TIMEOUT`].
    fn wait(self) -> Result<(), String> {
        let deadline = clock::now() + APPLY_TIMEOUT;
        let mut got = 0;
        while got < self.expected {
            let left = deadline.saturating_duration_since(clock::now());
            match self.rx.recv_timeout(left) {
                Ok(_) => got += 1,
                Err(_) => break,
            }
        }
        if got < self.expected {
            return Err(format!(
                "the change is recorded, but only {got} of {} workers confirmed it within {:?}; \
                 the others apply it when they next look",
                self.expected, APPLY_TIMEOUT
            ));
        }
        Ok(())
    }
}

/// The per-member edits that turn `old` into `new` (same balancers and members, in order).
/// Only this core's flags are named: the shared `E` and `C` are not overrides.
fn member_edits(old: &Config, new: &Config) -> Vec<MemberEdit> {
    let mut edits = Vec::new();
    for (b, (ob, nb)) in old.balancers.iter().zip(&new.balancers).enumerate() {
        for (m, (om, nm)) in ob.members.iter().zip(&nb.members).enumerate() {
            let (os, ns) = (
                om.options.status.without(Status::SHARED),
                nm.options.status.without(Status::SHARED),
            );
            let edit = MemberEdit {
                balancer: b,
                member: m,
                set: ns.without(os),
                clear: os.without(ns),
                lbfactor: (om.lbfactor != nm.lbfactor).then_some(nm.lbfactor),
                lbset: (om.options.lbset != nm.options.lbset).then_some(nm.options.lbset),
                route: (om.route != nm.route).then(|| nm.route.clone()),
                redirect: (om.options.redirect != nm.options.redirect)
                    .then(|| nm.options.redirect.clone()),
            };
            let unchanged = edit.set == Status::NONE
                && edit.clear == Status::NONE
                && edit.lbfactor.is_none()
                && edit.lbset.is_none()
                && edit.route.is_none()
                && edit.redirect.is_none();
            if !unchanged {
                edits.push(edit);
            }
        }
    }
    edits
}

/// `+ND`-style letters of `flags` with `sign`; empty for none.
fn signed(sign: char, flags: Status) -> String {
    if flags == Status::NONE {
        String::new()
    } else {
        format!("{sign}{flags}")
    }
}
