//! One member's runtime state on one core: status flags (docs/semantics.md §4), lbset, the
//! error-retry window and the load numbers the methods read.
//!
//! The per-core flags (`I N D S H R`) live here; `E` and `C` live in the shared
//! [`super::Health`] word, of which each member keeps the copy its core last read (refreshed at
//! every pick and after every change this core makes). The balancer decides when flags change.

use crate::config::{MemberConfig, Status};

use super::health::{word_hc_failed, word_in_error, word_until};

/// The numbers a balancing method reads (and, for `lbstatus`, updates). Methods see only this,
/// never the flags or the route, so a method cannot change eligibility.
///
/// `busy` and the traffic counters are a **global view**: the sums over all cores at the last
/// [`Balancer::merge`](super::Balancer::merge) (`base_*`, which include this core's own
/// share) plus this core's exact changes since (`local_*`). Between merges, other cores'
/// changes are missing (they lag by at most one merge interval); this core's are never
/// missing. Without merges the base stays 0 and the view is this core's own counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(super) struct Load {
    /// Apache `lbfactor` (`loadfactor` × 100); always ≥ 1.
    pub(super) lbfactor: u32,
    /// The effective lbfactor of the current pick: `lbfactor`, or less during a slow-start
    /// ramp (`slowstart.rs`); always in `1..=lbfactor`. The methods read only this one.
    pub(super) weight: u32,
    /// Apache `lbstatus`: the smooth weighted round-robin credit (per core, never merged).
    pub(super) lbstatus: i64,
    /// Requests in flight on all cores at the last merge.
    pub(super) base_busy: u64,
    /// This core's `busy_inc` minus `busy_dec` since the last merge (may be negative).
    pub(super) local_busy: i64,
    /// Cumulative bytes received from / sent to the member, all cores, at the last merge.
    pub(super) base_in: u64,
    pub(super) base_out: u64,
    /// Bytes this core moved since the last merge.
    pub(super) local_in: u64,
    pub(super) local_out: u64,
}

impl Load {
    /// Requests in flight: global base + local delta, floored at 0.
    pub(super) fn busy(&self) -> u64 {
        self.base_busy.saturating_add_signed(self.local_busy)
    }

    /// Bytes (in, out): global base + local delta, saturating.
    pub(super) fn traffic(&self) -> (u64, u64) {
        (
            self.base_in.saturating_add(self.local_in),
            self.base_out.saturating_add(self.local_out),
        )
    }
}

/// One member's runtime state. Read it through [`Balancer::member`](super::Balancer::member);
/// change it through the `Balancer` setters, which keep the balancer's invariants.
#[derive(Clone, Debug)]
pub struct Member {
    route: Box<[u8]>,
    /// Route of the member that takes this one's sticky traffic while it is unusable; empty
    /// = none.
    redirect: Box<[u8]>,
    /// Replication domain (mod_jk `domain`): the members that hold copies of this one's
    /// sessions share it; empty = none.
    domain: Box<[u8]>,
    /// This core's flags: never `E` or `C`, which are in `word`.
    local: Status,
    lbset: u32,
    /// This core's copy of the shared health word (`health.rs` layout).
    pub(super) word: u64,
    /// `slowstart` in ms; 0 = off.
    pub(super) slowstart_ms: u64,
    /// When this core saw its own flags (`D`, `S`) make the member usable again; a slow-start
    /// ramp starts at the later of this and the shared "usable since".
    pub(super) local_since_ms: u64,
    /// Usable at the end of the previous refresh (for the byrequests re-entry).
    pub(super) was_usable: bool,
    /// Neither `D` nor `S` at the end of the previous refresh.
    pub(super) was_local_ok: bool,
    pub(super) load: Load,
}

impl Member {
    /// A fresh member with the configured initial flags, lbset, redirect and domain; zero
    /// counters.
    /// The configured `E` and `C` are not kept here: the balancer writes them to the shared
    /// word (an initial `E` has an error window that has already ended).
    pub(super) fn new(cfg: &MemberConfig) -> Member {
        let local = cfg.options.status.without(Status::SHARED);
        let lbfactor = cfg.lbfactor.max(1);
        let local_ok = !local.intersects(Status::NOT_USABLE);
        Member {
            route: cfg.route.as_bytes().into(),
            redirect: cfg.options.redirect.as_bytes().into(),
            domain: cfg.options.domain.as_bytes().into(),
            local,
            lbset: cfg.options.lbset,
            word: 0,
            slowstart_ms: u64::try_from(cfg.options.slowstart.as_millis()).unwrap_or(u64::MAX),
            local_since_ms: 0,
            was_usable: local_ok,
            was_local_ok: local_ok,
            load: Load {
                lbfactor,
                weight: lbfactor,
                ..Load::default()
            },
        }
    }

    /// The session route (Tomcat `jvmRoute`); empty when the member has none.
    pub fn route(&self) -> &[u8] {
        &self.route
    }

    /// The route this member's sticky traffic is redirected to while it is unusable; empty
    /// when none is configured.
    pub fn redirect(&self) -> &[u8] {
        &self.redirect
    }

    /// The member's replication domain; empty when it has none.
    pub fn domain(&self) -> &[u8] {
        &self.domain
    }

    /// This core's flags plus `E` and `C` as this core last read them from the shared health
    /// (at its latest pick or change).
    pub fn status(&self) -> Status {
        let mut s = self.local;
        if word_in_error(self.word) {
            s |= Status::ERROR;
        }
        if word_hc_failed(self.word) {
            s |= Status::HC_FAILED;
        }
        s
    }

    pub fn lbset(&self) -> u32 {
        self.lbset
    }

    /// Until when (ms, the caller's clock) the member stays in error, as last read; 0 when
    /// [`Status::ERROR`] is not set.
    pub fn error_until_ms(&self) -> u64 {
        if word_in_error(self.word) {
            word_until(self.word)
        } else {
            0
        }
    }

    pub fn lbfactor(&self) -> u32 {
        self.load.lbfactor
    }

    /// The lbfactor the latest pick used: lower than [`Self::lbfactor`] during a slow-start
    /// ramp.
    pub fn effective_lbfactor(&self) -> u32 {
        self.load.weight
    }

    pub fn lbstatus(&self) -> i64 {
        self.load.lbstatus
    }

    /// Requests in flight as bybusyness sees them: all cores at the last merge plus this
    /// core's `busy_inc` / `busy_dec` since (saturating at `u32::MAX`).
    pub fn busy(&self) -> u32 {
        u32::try_from(self.load.busy()).unwrap_or(u32::MAX)
    }

    /// Bytes (received from, sent to) the member as bytraffic sees them: all cores at the last
    /// merge plus this core's `record_traffic` since.
    pub fn traffic(&self) -> (u64, u64) {
        self.load.traffic()
    }

    /// No flag of [`Status::NOT_USABLE`] is set (Apache `PROXY_WORKER_IS_USABLE`).
    pub fn is_usable(&self) -> bool {
        !self.status().intersects(Status::NOT_USABLE)
    }

    /// Neither `D` nor `S`: this core's flags allow traffic.
    pub(super) fn local_ok(&self) -> bool {
        !self.local.intersects(Status::NOT_USABLE)
    }

    pub(super) fn is_spare(&self) -> bool {
        self.local.contains(Status::HOT_SPARE)
    }

    pub(super) fn is_standby(&self) -> bool {
        self.local.contains(Status::HOT_STANDBY)
    }

    pub(super) fn is_draining(&self) -> bool {
        self.local.contains(Status::DRAIN)
    }

    pub(super) fn ignores_errors(&self) -> bool {
        self.local.contains(Status::IGNORE_ERRORS)
    }

    pub(super) fn is_stopped(&self) -> bool {
        self.local.contains(Status::STOPPED)
    }

    /// Replaces this core's flags; `E` and `C` in `status` are ignored (they are shared).
    pub(super) fn set_local(&mut self, status: Status) {
        self.local = status.without(Status::SHARED);
    }

    pub(super) fn set_lbset(&mut self, lbset: u32) {
        self.lbset = lbset;
    }

    pub(super) fn set_route(&mut self, route: &str) {
        self.route = route.as_bytes().into();
    }

    pub(super) fn set_redirect(&mut self, redirect: &str) {
        self.redirect = redirect.as_bytes().into();
    }
}
