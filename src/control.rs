//! The control plane: the one place that changes what the workers run. It owns the base
//! configuration (from the file), the operator's changes made through the manager or the API
//! (kept as an overlay keyed by member identity, so they survive a reload), and the current
//! generation. Every change builds a new validated `Config` and a new generation, carries
//! member runtime state over by identity (counters, error windows, failed checks, slow start),
//! and hands it to every worker, which switches between requests. A reload also puts the new
//! `[admin]` access rules in force on the admin listener and the new `log.level`; it refuses,
//! with nothing changed, what only a restart can apply (see [`Change::needs_restart`]).
//!
//! Runs on the admin and signal threads only; the lock here is never touched by a worker.

#![allow(clippy::disallowed_types)] // admin-side lock, never on the request path

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crossbeam_channel::Sender;

use crate::admin::access::{Access, AccessSlot};
use crate::balancer::Status;
use crate::config::{self, Change, Config, MemberConfig, MemberOptions};
use crate::log;
use crate::server::{Control, SharedGen, WorkerInfo};

/// Identity of a member across generations: balancer name and member URL.
type MemberId = (String, String);

/// An operator's change to one member.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct MemberChange {
    pub lbfactor: Option<u32>,
    pub lbset: Option<u32>,
    pub route: Option<String>,
    pub redirect: Option<String>,
    pub set: Status,
    pub clear: Status,
}

/// All operator changes, applied on top of the base configuration.
#[derive(Clone, Debug, Default)]
struct Overlay {
    changes: HashMap<MemberId, MemberChange>,
    /// Members added through the manager, by balancer name, in the order added.
    added: Vec<(String, MemberConfig)>,
    removed: Vec<MemberId>,
}

#[derive(Debug)]
struct State {
    base: Arc<Config>,
    overlay: Overlay,
    current: Arc<SharedGen>,
    /// The admin listener's access rules, once a listener is attached.
    admin: Option<Arc<AccessSlot>>,
}

/// Shared by the server handle, the admin listener and the signal thread.
#[derive(Debug)]
pub struct Controller {
    state: Mutex<State>,
    controls: Vec<Sender<Control>>,
    workers: Vec<WorkerInfo>,
    connections: Arc<[AtomicU64]>,
    epoch: Instant,
}

impl Controller {
    pub(crate) fn new(
        current: Arc<SharedGen>,
        controls: Vec<Sender<Control>>,
        workers: Vec<WorkerInfo>,
        connections: Arc<[AtomicU64]>,
        epoch: Instant,
    ) -> Controller {
        let state = State {
            base: current.config.clone(),
            overlay: Overlay::default(),
            current,
            admin: None,
        };
        Controller {
            state: Mutex::new(state),
            controls,
            workers,
            connections,
            epoch,
        }
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

    pub fn workers(&self) -> &[WorkerInfo] {
        &self.workers
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

    /// Replaces the base configuration (a reload) and keeps the operator's changes; the new
    /// `[admin]` rules (the htpasswd file re-read) and `log.level` apply from the next request.
    /// Refused, with nothing changed, if the result is not a valid configuration, the
    /// htpasswd file cannot be read or parsed, or a key changes that needs a restart.
    pub fn reload(&self, base: Config) -> Result<u64, String> {
        let mut state = self.lock();
        let restart: Vec<String> = config::diff(&state.base, &base)
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
        let config = effective(&base, &state.overlay)?;
        let access = match (&state.admin, &base.ops.admin) {
            (Some(slot), Some(admin)) => Some((slot.clone(), Access::load(admin)?)),
            _ => None,
        };
        if let Some((slot, access)) = access {
            slot.set(access);
        }
        log::set_level(base.ops.log.level);
        state.base = Arc::new(base);
        Ok(self.publish(&mut state, config))
    }

    /// Re-reads the configuration file the server started from.
    pub fn reload_file(&self) -> Result<u64, String> {
        let source = self.current().config.source.clone();
        let path = std::path::Path::new(&source);
        if !path.is_file() {
            return Err(format!(
                "{source} is not a configuration file that can be re-read"
            ));
        }
        let base = config::load(path).map_err(|e| e.to_string())?;
        self.reload(Config::clone(&base))
    }

    /// Changes one member (manager form or API). Returns a message for the operator.
    pub fn change_member(
        &self,
        balancer: &str,
        url: &str,
        change: MemberChange,
    ) -> Result<String, String> {
        let mut state = self.lock();
        let id: MemberId = (balancer.to_string(), url.to_string());
        find_member(&state.current.config, balancer, url)?;
        let mut overlay = state.overlay.clone();
        let entry = overlay.changes.entry(id).or_default();
        merge_change(entry, &change);
        let config = effective(&state.base, &overlay)?;
        state.overlay = overlay;
        self.publish(&mut state, config);
        Ok(format!("member {url} of {balancer} updated"))
    }

    /// Adds a member (it starts disabled, as in Apache's manager).
    pub fn add_member(
        &self,
        balancer: &str,
        url: &str,
        route: &str,
        lbfactor: u32,
    ) -> Result<String, String> {
        let (addr, authority) = config::parse_member_url(url)?;
        if !route.is_empty() {
            config::check_route(route)?;
        }
        let mut state = self.lock();
        if find_member(&state.current.config, balancer, url).is_ok() {
            return Err(format!("{balancer} already has member {url}"));
        }
        let member = MemberConfig {
            url: url.to_string(),
            addr,
            authority,
            route: route.to_string(),
            lbfactor,
            options: MemberOptions {
                status: Status::DISABLED,
                ..MemberOptions::default()
            },
        };
        let mut overlay = state.overlay.clone();
        let id = (balancer.to_string(), url.to_string());
        overlay.removed.retain(|r| *r != id);
        overlay.added.push((balancer.to_string(), member));
        let config = effective(&state.base, &overlay)?;
        state.overlay = overlay;
        self.publish(&mut state, config);
        Ok(format!(
            "member {url} added to {balancer} (disabled until enabled)"
        ))
    }

    /// Removes a member.
    pub fn remove_member(&self, balancer: &str, url: &str) -> Result<String, String> {
        let mut state = self.lock();
        find_member(&state.current.config, balancer, url)?;
        let mut overlay = state.overlay.clone();
        let id = (balancer.to_string(), url.to_string());
        overlay
            .added
            .retain(|(b, m)| !(b == balancer && m.url == url));
        overlay.changes.remove(&id);
        overlay.removed.push(id);
        let config = effective(&state.base, &overlay)?;
        state.overlay = overlay;
        self.publish(&mut state, config);
        Ok(format!("member {url} removed from {balancer}"))
    }

    /// Builds the next generation from `config`, carries state over and sends it to every
    /// worker. Returns the new generation's number.
    fn publish(&self, state: &mut State, config: Config) -> u64 {
        let next = Arc::new(state.current.successor(Arc::new(config)));
        for control in &self.controls {
            let _ = control.send(Control::Swap(next.clone()));
        }
        state.current = next.clone();
        log::info(format_args!(
            "configuration generation {} in use",
            next.number
        ));
        next.number
    }
}

fn find_member<'a>(
    config: &'a Config,
    balancer: &str,
    url: &str,
) -> Result<&'a MemberConfig, String> {
    let b = config
        .balancers
        .iter()
        .find(|b| b.name == balancer)
        .ok_or_else(|| format!("no balancer named {balancer}"))?;
    b.members
        .iter()
        .find(|m| m.url == url)
        .ok_or_else(|| format!("{balancer} has no member {url}"))
}

fn merge_change(into: &mut MemberChange, change: &MemberChange) {
    into.lbfactor = change.lbfactor.or(into.lbfactor);
    into.lbset = change.lbset.or(into.lbset);
    into.route = change.route.clone().or(into.route.take());
    into.redirect = change.redirect.clone().or(into.redirect.take());
    // A later change wins letter by letter.
    into.set = into.set.without(change.clear) | change.set;
    into.clear = into.clear.without(change.set) | change.clear;
}

/// The base configuration with the operator's changes applied, checked for what the changes
/// can break (duplicate routes, dangling redirects, the member limit).
fn effective(base: &Config, overlay: &Overlay) -> Result<Config, String> {
    let mut config = base.clone();
    for b in &mut config.balancers {
        b.members
            .retain(|m| !overlay.removed.contains(&(b.name.clone(), m.url.clone())));
        for (name, member) in &overlay.added {
            if *name == b.name && !b.members.iter().any(|m| m.url == member.url) {
                b.members.push(member.clone());
            }
        }
        for m in &mut b.members {
            if let Some(change) = overlay.changes.get(&(b.name.clone(), m.url.clone())) {
                apply_change(m, change);
            }
        }
        check_balancer(b)?;
    }
    Ok(config)
}

fn apply_change(m: &mut MemberConfig, change: &MemberChange) {
    if let Some(lf) = change.lbfactor {
        m.lbfactor = lf;
    }
    if let Some(lbset) = change.lbset {
        m.options.lbset = lbset;
    }
    if let Some(route) = &change.route {
        m.route = route.clone();
    }
    if let Some(redirect) = &change.redirect {
        m.options.redirect = redirect.clone();
    }
    m.options.status = m.options.status.without(change.clear) | change.set;
}

fn check_balancer(b: &config::BalancerConfig) -> Result<(), String> {
    if b.members.is_empty() {
        return Err(format!("balancer {} would have no members", b.name));
    }
    if b.members.len() > config::MAX_MEMBERS {
        return Err(format!(
            "balancer {} would have more than {} members",
            b.name,
            config::MAX_MEMBERS
        ));
    }
    for (i, m) in b.members.iter().enumerate() {
        if !m.route.is_empty() && b.members[..i].iter().any(|o| o.route == m.route) {
            return Err(format!(
                "route {} would be used twice in {}",
                m.route, b.name
            ));
        }
        let r = &m.options.redirect;
        if !r.is_empty() && (r == &m.route || !b.members.iter().any(|o| &o.route == r)) {
            return Err(format!(
                "redirect {r} of {} names no other member of {}",
                m.url, b.name
            ));
        }
    }
    Ok(())
}
