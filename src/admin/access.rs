//! The access rules in force on the admin listener, as one value swapped whole: the
//! allow-list, the htpasswd users with a short cache of verified credentials, and the extra
//! names the `Host` header may carry. Built from `[admin]` when the listener starts and again
//! at every reload (by the controller, under its lock, together with the new generation), so
//! a reload that reports success has changed the rules for the next request.
//!
//! Runs on the admin threads only; the locks here are never touched by a worker.

#![allow(clippy::disallowed_types)] // admin-side locks, never on the request path

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use super::auth::{self, Htpasswd, IpNet};
use crate::config::{AdminConfig, JkStatusMode};

/// How long a verified `Authorization` value is accepted without a new bcrypt check.
pub const VERIFIED_FOR: Duration = Duration::from_secs(30);

/// Most verified credentials remembered; a browser and a few scrapers need a handful.
pub const VERIFIED_MAX: usize = 64;

/// One version of the access rules. Immutable but for its credential cache.
#[derive(Debug)]
pub struct Access {
    allow: Vec<IpNet>,
    htpasswd: Option<Htpasswd>,
    server_names: Vec<String>,
    jkstatus: JkStatusMode,
    verified: Mutex<Verified>,
    /// Keys the credential cache (SipHash, random key per process).
    hasher: RandomState,
    /// Held for each bcrypt check, so a flood of bad credentials costs at most one CPU.
    bcrypt: Mutex<()>,
}

impl Access {
    /// Parses the allow-list and reads and parses the htpasswd file; the error names the file
    /// or the entry. The credential cache starts empty.
    pub fn load(cfg: &AdminConfig) -> Result<Access, String> {
        let allow = auth::parse_allow(&cfg.allow)?;
        let htpasswd = match &cfg.htpasswd {
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .map_err(|e| format!("htpasswd {}: {e}", path.display()))?;
                Some(Htpasswd::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?)
            }
            None => None,
        };
        Ok(Access {
            allow,
            htpasswd,
            server_names: cfg.server_names.clone(),
            jkstatus: cfg.jkstatus,
            verified: Mutex::new(Verified::default()),
            hasher: RandomState::new(),
            bcrypt: Mutex::new(()),
        })
    }

    /// What `/jkstatus` may do (`[admin] jkstatus`).
    pub fn jkstatus(&self) -> JkStatusMode {
        self.jkstatus
    }

    /// Whether `peer` may change anything (and see the nonce and the forms).
    pub fn may_change(&self, peer: IpAddr) -> bool {
        auth::allowed(&self.allow, peer)
    }

    /// Whether a request may be served at all: always without an htpasswd file, else when
    /// `authorization` carries a user's password. A value verified within [`VERIFIED_FOR`]
    /// of `now` is accepted without a bcrypt check; the cache keys on a keyed hash of the
    /// value (SipHash with a per-process random key), never on the value itself.
    pub fn authenticated(&self, authorization: Option<&[u8]>, now: Instant) -> bool {
        let Some(users) = &self.htpasswd else {
            return true;
        };
        let Some(value) = authorization else {
            return false;
        };
        let key = self.hasher.hash_one(value);
        if lock(&self.verified).valid(key, now) {
            return true;
        }
        let _gate = lock(&self.bcrypt);
        if lock(&self.verified).valid(key, now) {
            return true; // verified by another thread while this one waited
        }
        let ok = users.verify(value);
        if ok {
            lock(&self.verified).insert(key, now + VERIFIED_FOR, now);
        }
        ok
    }

    /// Whether `authorization` would be accepted at `now` without a bcrypt check.
    #[cfg(test)]
    pub(crate) fn cached(&self, authorization: &[u8], now: Instant) -> bool {
        lock(&self.verified).valid(self.hasher.hash_one(authorization), now)
    }

    /// Whether `host` (a `Host` header value) names the listener reached at `local`.
    pub fn host_allowed(&self, host: &str, local: SocketAddr) -> bool {
        auth::host_allowed(host, local, &self.server_names)
    }

    /// Whether a change request comes from the listener's own pages: each of `origin` and
    /// `referer` that is present must name the listener (see [`auth::origin_allowed`]).
    pub fn same_origin(
        &self,
        origin: Option<&str>,
        referer: Option<&str>,
        local: SocketAddr,
    ) -> bool {
        let names = &self.server_names;
        origin.map_or(true, |o| auth::origin_allowed(o, local, names))
            && referer.map_or(true, |r| auth::referer_allowed(r, local, names))
    }
}

/// The access rules in force, shared by the admin listener (reads them per request) and the
/// controller (replaces them at reload).
#[derive(Debug)]
pub struct AccessSlot(Mutex<Arc<Access>>);

impl AccessSlot {
    pub fn new(access: Access) -> AccessSlot {
        AccessSlot(Mutex::new(Arc::new(access)))
    }

    /// The rules for one request.
    pub fn get(&self) -> Arc<Access> {
        lock(&self.0).clone()
    }

    /// Puts `access` in force for every request that calls [`AccessSlot::get`] after this.
    pub fn set(&self, access: Access) {
        *lock(&self.0) = Arc::new(access);
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// Verified credential hashes and until when each is accepted, at most [`VERIFIED_MAX`].
#[derive(Debug, Default)]
pub struct Verified {
    until: HashMap<u64, Instant>,
}

impl Verified {
    /// Whether `key` was verified and is still accepted at `now`.
    pub fn valid(&self, key: u64, now: Instant) -> bool {
        self.until.get(&key).is_some_and(|&until| now < until)
    }

    /// Remembers `key` until `until`. When full, expired entries go first, then the one that
    /// expires soonest.
    pub fn insert(&mut self, key: u64, until: Instant, now: Instant) {
        if self.until.len() >= VERIFIED_MAX && !self.until.contains_key(&key) {
            self.until.retain(|_, &mut u| now < u);
            if self.until.len() >= VERIFIED_MAX {
                let soonest = self.until.iter().min_by_key(|(_, &u)| u).map(|(&k, _)| k);
                if let Some(k) = soonest {
                    self.until.remove(&k);
                }
            }
        }
        self.until.insert(key, until);
    }
}
