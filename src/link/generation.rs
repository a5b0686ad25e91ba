//! One configuration generation as every worker shares it, and the one place where member
//! state is carried from a generation to the next.
//!
//! What carries over, by member identity (balancer name and member URL), decided here once as
//! [`SharedGen::origin`]:
//! - a **new generation** (a reload of the file, a member added or removed through the
//!   manager, a host name's new address): the shared counters of every member that is in
//!   both, and its error window, failed check and "usable since" clock when its address is
//!   the same, here; and on each worker (`worker::Gen::new`,
//!   following `origin`) its idle member connections (when the address is the same, and for
//!   an `https://` member the same TLS configuration: a reload re-reads its files), its
//!   byrequests score and its health-check pass/fail counts. The access log stays open when
//!   its target and format are the same (`SIGUSR1` reopens it). A member that keeps a `max`
//!   keeps its shared connection count ([`SharedLimit`]), so the connections opened before
//!   the reload go on counting, and each worker keeps its queue of requests waiting for it.
//! - an **in-place edit** (status flags, loadfactor, lbset, route, redirect): everything. The
//!   shared counters and health are the same objects ([`SharedGen::edited`]); each worker keeps
//!   its pools, balancer scores, probe counters and access log and applies the edit to its
//!   balancer (`worker::Gen::edited`).

use std::sync::Arc;

use crate::balancer::Health;
use crate::config::Config;
use crate::stats::Stats;
use crate::tls::{Acceptors, Connectors};
use crate::upstream::SharedLimit;

/// What every worker shares for one configuration generation: the config, the cross-core
/// counters and the member health words sized for it.
#[derive(Debug)]
pub struct SharedGen {
    /// 1 for the configuration ringlb started with, then one more per new generation (a
    /// reload, a member added or removed); an in-place edit keeps the number.
    pub number: u64,
    pub config: Arc<Config>,
    pub stats: Arc<Stats>,
    pub health: Arc<Health>,
    /// The rustls configuration of each TLS listener, loaded for this generation (a reload
    /// re-reads the certificates; an in-place edit keeps them).
    pub tls: Arc<Acceptors>,
    /// The rustls configuration of each `https://` member, loaded for this generation (a
    /// reload re-reads the files; a member added or removed re-indexes them; an in-place edit
    /// keeps them).
    pub connectors: Arc<Connectors>,
    /// `origin[b][m]`: where member `m` of balancer `b` was in the previous generation
    /// (balancer, member), if it was there.
    origin: Vec<Vec<Option<(usize, usize)>>>,
    /// `limits[b][m]`: the connection count of member `m` of balancer `b` when it has `max`.
    limits: Vec<Vec<Option<Arc<SharedLimit>>>>,
}

impl SharedGen {
    /// A generation for `config` on `cores` workers, with fresh counters.
    pub fn new(number: u64, config: Arc<Config>, cores: usize) -> SharedGen {
        let members: Vec<usize> = config.balancers.iter().map(|b| b.members.len()).collect();
        let limits = (config.balancers.iter())
            .map(|b| {
                (b.members.iter())
                    .map(|m| {
                        let limited = m.options.limits.max.is_some();
                        limited.then(|| Arc::new(SharedLimit::new(cores)))
                    })
                    .collect()
            })
            .collect();
        SharedGen {
            number,
            limits,
            stats: Arc::new(
                Stats::new(cores, &members)
                    .with_listeners(config.listen.len() + config.listeners.len()),
            ),
            health: Arc::new(Health::new(&members)),
            origin: members.iter().map(|&n| vec![None; n]).collect(),
            tls: Arc::default(),
            connectors: Arc::default(),
            config,
        }
    }

    /// This generation with the TLS listeners' configurations `tls` (see
    /// [`Acceptors::load`]).
    pub fn with_tls(mut self, tls: Arc<Acceptors>) -> SharedGen {
        self.tls = tls;
        self
    }

    /// This generation with the `https://` members' configurations `connectors` (see
    /// [`Connectors::load`]), loaded for this generation's config.
    pub fn with_connectors(mut self, connectors: Arc<Connectors>) -> SharedGen {
        self.connectors = connectors;
        self
    }

    /// Where member `m` of balancer `b` was in the previous generation, if it was there.
    pub fn origin(&self, b: usize, m: usize) -> Option<(usize, usize)> {
        self.origin.get(b)?.get(m).copied().flatten()
    }

    /// The shared connection count of member `m` of balancer `b`, when it has `max`.
    pub fn limit(&self, b: usize, m: usize) -> Option<&Arc<SharedLimit>> {
        self.limits.get(b)?.get(m)?.as_ref()
    }

    /// The next generation for `config`: fresh counters and health words, with every member
    /// that exists in both (same balancer name and URL) carrying its counters over, its
    /// error window, failed check and slow-start clock when its address is the same, and its
    /// connection count when it keeps a `max` (whatever its value). The TLS configurations stay: the listeners' as
    /// they are, the members' re-indexed for the new members ([`Connectors::follow`]); a
    /// reload of the file replaces both ([`SharedGen::with_tls`],
    /// [`SharedGen::with_connectors`]).
    pub fn successor(&self, config: Arc<Config>) -> SharedGen {
        let connectors = Arc::new(self.connectors.follow(&self.config, &config));
        let mut next = SharedGen::new(self.number + 1, config, self.stats.cores())
            .with_tls(self.tls.clone())
            .with_connectors(connectors);
        next.stats.seed_generated(&self.stats);
        next.stats.seed_listeners(&self.stats);
        for (b, bcfg) in next.config.balancers.iter().enumerate() {
            let Some(ob) = self
                .config
                .balancers
                .iter()
                .position(|o| o.name == bcfg.name)
            else {
                continue;
            };
            for (m, member) in bcfg.members.iter().enumerate() {
                let old = &self.config.balancers[ob].members;
                if let Some(om) = old.iter().position(|o| o.url == member.url) {
                    next.stats.seed(b, m, &self.stats.totals(ob, om));
                    next.stats
                        .seed_queue(b, m, &self.stats.queue_totals(ob, om));
                    next.stats
                        .seed_checks(b, m, &self.stats.check_totals(ob, om));
                    next.stats.seed_flow(b, m, &self.stats.flow_totals(ob, om));
                    // A host name that moved to another address starts with a clean
                    // health: the errors were the old address's.
                    if old[om].addr == member.addr {
                        next.health.carry_from(b, m, &self.health, ob, om);
                    }
                    next.origin[b][m] = Some((ob, om));
                    if let (Some(slot), Some(old)) =
                        (next.limits[b][m].as_mut(), self.limit(ob, om))
                    {
                        *slot = old.clone();
                    }
                }
            }
        }
        next
    }

    /// This generation with `config` in force: the same number, counters and health. Only
    /// for a `config` with the same balancers and members in the same order (an in-place
    /// edit), so every index keeps its meaning.
    pub fn edited(&self, config: Arc<Config>) -> SharedGen {
        SharedGen {
            number: self.number,
            config,
            stats: self.stats.clone(),
            health: self.health.clone(),
            tls: self.tls.clone(),
            connectors: self.connectors.clone(),
            origin: self.origin.clone(),
            limits: self.limits.clone(),
        }
    }

    /// Whether `config` can be put in force by [`SharedGen::edited`]: the same balancers,
    /// with the same members (by URL, at the same address), in the same order.
    pub fn same_members(&self, config: &Config) -> bool {
        let old = &self.config.balancers;
        old.len() == config.balancers.len()
            && old.iter().zip(&config.balancers).all(|(a, b)| {
                a.name == b.name
                    && a.members.len() == b.members.len()
                    && a.members
                        .iter()
                        .zip(&b.members)
                        .all(|(x, y)| x.url == y.url && x.addr == y.addr)
            })
    }
}
