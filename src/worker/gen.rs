//! One configuration generation as one worker sees it: the config and everything derived
//! from it (balancers, member connection pools, counter slots, the access log). A new
//! generation (a reload, a member added or removed) builds all of it afresh; an operator's
//! in-place edit ([`Gen::edited`]) shares it and changes the balancers. Requests in flight
//! finish on the `Gen` they started with. What carries over is described in `link`.

use std::cell::{Cell, RefCell};
use std::net::SocketAddr;
use std::rc::{Rc, Weak};
use std::sync::Arc;
use std::time::Instant;

use super::BufPool;
use crate::accesslog::format::Format;
use crate::accesslog::sink::Sink;
use crate::accesslog::AccessLog;
use crate::balancer::{Balancer, Change, HealthState, Outages};
use crate::clock;
use crate::config::{
    AccessTarget, BalancerConfig, Config, MemberConfig, Sticky, MAX_IDLE_PER_MEMBER,
};
use crate::error::ProxyError;
use crate::http::mount::{Located, Mount, Router};
use crate::link::{MemberEdit, SharedGen};
use crate::log;
use crate::stats::{CoreWriter, Fault, LastError, MemberTotals};
use crate::tls::Connector;
use crate::upstream::{ConnectError, Gate, MemberStream, Pool, TlsFailure};

/// One balancer's per-core runtime state.
#[derive(Debug)]
pub(crate) struct BalancerRt {
    pub(crate) balancer: RefCell<Balancer>,
    pub(crate) pool: Pool,
    /// In insert-cookie mode, how ringlb's own route cookie is read back.
    pub(crate) insert_sticky: Option<Sticky>,
}

/// One generation on one core. Lives in an `Rc`; `RefCell`s are never borrowed across `.await`.
/// The `Rc` fields are shared with the `Gen`s that in-place edits derive from this one.
#[derive(Debug)]
pub(crate) struct Gen {
    pub(crate) config: Arc<Config>,
    pub(crate) balancers: Rc<[BalancerRt]>,
    /// Which mount serves a request.
    router: Rc<Router>,
    pub(crate) bufs: Rc<BufPool>,
    pub(crate) epoch: Instant,
    /// This worker's access log for this generation, when configured.
    pub(crate) access: Rc<RefCell<Option<AccessLog>>>,
    /// Set when a new generation replaced this one (its probe tasks end); not by an edit.
    pub(crate) retired: Rc<Cell<bool>>,
    /// The generation that replaced this one, once one did: member connections that requests
    /// in flight here return go to its pool (see [`Gen::checkin`]).
    replaced_by: Rc<RefCell<Weak<Gen>>>,
    /// What every worker shares for this generation: the cross-core counters, the member
    /// health words, the carry-over map and the TLS acceptors.
    shared: Arc<SharedGen>,
    /// This core's slot in the cross-core counters.
    pub(crate) stats: Rc<CoreWriter>,
    /// Client connections this worker holds at most (`limits.max_connections`, or derived
    /// from the open files limit when that is `auto`).
    pub(crate) max_connections: u64,
}

impl Gen {
    /// The generation `shared` on worker `index`. With `previous` (the generation it replaces
    /// on this worker), what `shared.origin` carries over moves across: idle member
    /// connections of members whose address is the same, byrequests scores, the queues of
    /// members that keep their connection count, and the access log when its target and
    /// format did not change.
    pub(super) fn new(
        shared: &Arc<SharedGen>,
        index: usize,
        bufs: Rc<BufPool>,
        epoch: Instant,
        previous: Option<&Gen>,
    ) -> Gen {
        let config = shared.config.clone();
        let stats = shared.stats.clone();
        let idle = config.timeouts.upstream_idle;
        let balancers: Rc<[BalancerRt]> = config
            .balancers
            .iter()
            .enumerate()
            .map(|(i, b)| BalancerRt {
                balancer: RefCell::new(Balancer::with_health(b, shared.health.clone(), i)),
                pool: Pool::new(
                    super::limits::member_policies(shared, index, i, previous),
                    MAX_IDLE_PER_MEMBER,
                    idle,
                ),
                insert_sticky: b.options.insert_cookie.as_ref().map(|c| {
                    let sep = b.sticky.as_ref().map_or(Some(b'.'), |s| s.sep);
                    Sticky {
                        sep,
                        ..Sticky::new(&c.name, "")
                    }
                }),
            })
            .collect();
        let router = Rc::new(Router::new(&config.balancers, &config.routes));
        let access = match previous {
            Some(old) if same_access_log(&old.config, &config) => old.access.clone(),
            _ => Rc::new(RefCell::new(open_access_log(&config))),
        };
        if let Some(old) = previous {
            carry_over(shared, old, &balancers);
        }
        Gen {
            config,
            balancers,
            router,
            bufs,
            epoch,
            access,
            shared: shared.clone(),
            retired: Rc::new(Cell::new(false)),
            replaced_by: Rc::new(RefCell::new(Weak::new())),
            max_connections: shared.config.limits.max_connections.map_or_else(
                || super::auto_max_connections(crate::rlimit::open_files_limit(), stats.cores()),
                u64::from,
            ),
            stats: Rc::new(stats.writer(index)),
        }
    }

    /// The rustls configuration of each TLS listener in this generation.
    pub(crate) fn shared_tls(&self) -> &crate::tls::Acceptors {
        &self.shared.tls
    }

    /// This generation with the config of `shared` (an edit of this one, see
    /// [`SharedGen::edited`]) and `edits` applied to its balancers in place: pools, balancer
    /// scores, probes, counters and the access log are the same objects, so requests in
    /// flight on this `Gen` see the edit too.
    pub(super) fn edited(&self, shared: &Arc<SharedGen>, edits: &[MemberEdit]) -> Gen {
        for edit in edits {
            let Some(rt) = self.balancers.get(edit.balancer) else {
                continue;
            };
            let mut balancer = rt.balancer.borrow_mut();
            balancer.change_status(edit.member, edit.set, edit.clear);
            if let Some(lbfactor) = edit.lbfactor {
                balancer.set_lbfactor(edit.member, lbfactor);
            }
            if let Some(lbset) = edit.lbset {
                balancer.set_lbset(edit.member, lbset);
            }
            if let Some(route) = &edit.route {
                balancer.set_route(edit.member, route);
            }
            if let Some(redirect) = &edit.redirect {
                balancer.set_redirect(edit.member, redirect);
            }
        }
        Gen {
            config: shared.config.clone(),
            balancers: self.balancers.clone(),
            router: self.router.clone(),
            bufs: self.bufs.clone(),
            epoch: self.epoch,
            access: self.access.clone(),
            retired: self.retired.clone(),
            replaced_by: self.replaced_by.clone(),
            shared: shared.clone(),
            stats: self.stats.clone(),
            max_connections: self.max_connections,
        }
    }

    /// Marks this generation (and the edits that share its state) replaced by `next`.
    pub(super) fn retire(&self, next: &Rc<Gen>) {
        self.retired.set(true);
        *self.replaced_by.borrow_mut() = Rc::downgrade(next);
    }

    /// An idle connection to member `m` of balancer `b` ([`Pool::checkout`]). When a new
    /// generation has replaced this one, from that generation's pool (if it kept the member
    /// at the same address): the old pool's connections moved there.
    pub(crate) fn checkout(&self, b: usize, m: usize, now: Instant) -> Option<MemberStream> {
        if !self.retired.get() {
            return self.balancers.get(b)?.pool.checkout(m, now);
        }
        let (next, nb, nm) = self.successor_slot(b, m)?;
        next.checkout(nb, nm, now)
    }

    /// This worker's gate of member `m` of balancer `b`, when it has `max`.
    pub(crate) fn gate(&self, b: usize, m: usize) -> Option<&Rc<Gate>> {
        self.balancers.get(b)?.pool.gate(m)
    }

    /// Returns a member connection of member `m` of balancer `b` to the pool, the caller
    /// guaranteeing what [`Pool::checkin`] asks. When a new generation has replaced this one,
    /// the connection goes to that generation's pool if it kept the member (same address,
    /// and for TLS the same client configuration: see [`same_endpoint`]), so requests in
    /// flight during a reload or an added member do not cost connections.
    pub(crate) fn checkin(&self, b: usize, m: usize, stream: MemberStream, now: Instant) {
        if !self.retired.get() {
            if let Some(rt) = self.balancers.get(b) {
                rt.pool.checkin(m, stream, now);
            }
            return;
        }
        if let Some((next, nb, nm)) = self.successor_slot(b, m) {
            next.checkin(nb, nm, stream, now);
        }
    }

    /// The generation that replaced this one and where member `m` of balancer `b` is in it,
    /// if it kept that member at the same address.
    fn successor_slot(&self, b: usize, m: usize) -> Option<(Rc<Gen>, usize, usize)> {
        let next = self.replaced_by.borrow().upgrade()?;
        let (nb, nm) = next
            .config
            .balancers
            .iter()
            .enumerate()
            .find_map(|(nb, bc)| {
                let nm =
                    (0..bc.members.len()).find(|&nm| next.shared.origin(nb, nm) == Some((b, m)))?;
                same_endpoint(&self.shared, (b, m), &next.shared, (nb, nm)).then_some((nb, nm))
            })?;
        Some((next, nb, nm))
    }

    /// How to open TLS to member `m` of balancer `b`: `Ok(None)` for an `http://` member.
    /// An `https://` member whose configuration is missing (see
    /// [`crate::tls::Connectors::follow`]) fails like a failed handshake.
    pub(crate) fn connector(&self, b: usize, m: usize) -> Result<Option<&Connector>, ConnectError> {
        let https = (self.config.balancers.get(b))
            .and_then(|bc| bc.members.get(m))
            .is_some_and(|member| member.options.tls.is_some());
        match self.shared.connectors.get(b, m) {
            Some(c) => Ok(Some(c)),
            None if https => Err(ConnectError::Tls(TlsFailure::Handshake)),
            None => Ok(None),
        }
    }

    /// Feeds every balancer the cross-core totals (its global view for bybusyness/bytraffic).
    pub(super) fn merge_stats(&self, scratch: &mut Vec<MemberTotals>) {
        for (b, rt) in self.balancers.iter().enumerate() {
            scratch.clear();
            let members = self.config.balancers[b].members.len();
            scratch.extend((0..members).map(|m| self.shared.stats.load_totals(b, m)));
            rt.balancer.borrow_mut().merge(scratch);
        }
    }

    /// The mount for a request (its host, the listener port, its target) and what its
    /// member gets: [`Router::locate`].
    pub(crate) fn locate(
        &self,
        host: Option<&[u8]>,
        port: u16,
        target: &[u8],
    ) -> Result<Located, (u16, &'static str)> {
        self.router.locate(host, port, target)
    }

    /// Mount `index` of a [`Located`] this generation made.
    pub(crate) fn mount(&self, index: usize) -> Option<&Mount> {
        self.router.mount(index)
    }

    /// Records a failed attempt on member `m` of balancer `b`: counts it, keeps it as the
    /// member's last failure (what [`fault_of`] makes of `error`), and puts the member in
    /// error for its `retry` when the failure says the member is unhealthy (a connect
    /// failure, or a timeout with `failontimeout`). Logs nothing: [`Gen::log_state_changes`]
    /// reports the state change once, however many requests fail.
    pub(crate) fn member_failed(&self, b: usize, m: usize, error: ProxyError) {
        self.member_failed_as(b, m, error, fault_of(&error));
    }

    /// [`Gen::member_failed`] with the fault given (a connect failure, which `error` does not
    /// tell apart).
    pub(crate) fn member_failed_as(&self, b: usize, m: usize, error: ProxyError, fault: Fault) {
        let status = if fault.is_connect() { 0 } else { error.status };
        self.record_failure(b, m, fault, status);
        let bcfg = &self.config.balancers[b];
        let unhealthy =
            error.unreachable || (error.status == 504 && bcfg.options.failover.failontimeout);
        if unhealthy {
            self.enter_error(b, m);
        }
    }

    /// A `failonstatus` answer (`status`) from member `m` of balancer `b`: counted as a failed
    /// attempt, kept as its last failure, and the member in error (`E`) until its `retry` has
    /// passed (members with `I` never enter error).
    pub(crate) fn put_in_error(&self, b: usize, m: usize, status: u16) {
        self.record_failure(b, m, Fault::FailOnStatus, status);
        self.enter_error(b, m);
    }

    /// Counts a failure of member `m` and publishes it as its last one.
    fn record_failure(&self, b: usize, m: usize, fault: Fault, status: u16) {
        self.stats.add_error(b, m);
        self.set_last_error(b, m, fault, status);
    }

    /// Publishes member `m`'s last failure, stamped now, in this core's slot: one store, no
    /// lock, no cache line another core writes.
    fn set_last_error(&self, b: usize, m: usize, fault: Fault, status: u16) {
        let unix_ms = clock::unix_now_ms();
        let error = LastError {
            fault,
            status,
            unix_ms,
        };
        self.stats.set_last_error(b, m, error);
    }

    /// Puts member `m` in error until its `retry` has passed.
    fn enter_error(&self, b: usize, m: usize) {
        let member = &self.config.balancers[b].members[m];
        let now_ms = self.now_ms(clock::now());
        let until = now_ms + member.options.retry.as_millis() as u64;
        self.balancers[b]
            .balancer
            .borrow_mut()
            .mark_error_at(m, now_ms, until);
    }

    /// A failed health check of member `m`: kept as its last failure (not counted as a failed
    /// attempt; no request was involved).
    pub(crate) fn check_failed(&self, b: usize, m: usize, fault: Fault, status: u16) {
        self.set_last_error(b, m, fault, status);
    }

    pub(crate) fn now_ms(&self, now: Instant) -> u64 {
        clock::ms_since(self.epoch, now)
    }

    /// Sets or clears the failed-check flag `C` of member `m` for every core; true when it
    /// changed.
    pub(crate) fn set_hc_failed(&self, b: usize, m: usize, failed: bool, now_ms: u64) -> bool {
        self.balancers[b]
            .balancer
            .borrow_mut()
            .set_hc_failed(m, failed, now_ms)
    }

    /// Logs each member state change once: entering error, a failed health check, serving
    /// again ([`Outage`](crate::balancer::Outage) decides, from the shared health and the
    /// counters summed over the cores). One core calls it from its tick, so no change is
    /// logged twice; `outages` is its memory across calls and generations (kept by member
    /// identity).
    pub(crate) fn log_state_changes(&self, outages: &mut Outages) {
        let balancers = &self.config.balancers;
        outages.follow(
            balancers
                .iter()
                .flat_map(|b| b.members.iter().map(|m| (b.name.as_str(), m.url.as_str()))),
        );
        let mut i = 0;
        for (b, bcfg) in balancers.iter().enumerate() {
            for (m, member) in bcfg.members.iter().enumerate() {
                // Counters before the state: a failure landing in between then shows as a
                // state in error, never as a response without its failure.
                let t = self.shared.stats.totals(b, m);
                let state = self.shared.health.state(b, m, self.now_ms(clock::now()));
                let responses = t.responses.iter().sum();
                let change = outages
                    .get_mut(i)
                    .and_then(|o| o.observe(state, responses, t.errors));
                if let Some(change) = change {
                    log_change(bcfg, member, change, state, &t);
                }
                i += 1;
            }
        }
    }
}

/// Moves what `shared.origin` carries from `old` into the new generation's `balancers`: each
/// member's idle connections (when it is the same endpoint: [`same_endpoint`]) and each
/// balancer's byrequests scores (when its method is the same).
fn carry_over(shared: &SharedGen, old: &Gen, balancers: &[BalancerRt]) {
    for (b, rt) in balancers.iter().enumerate() {
        let members = shared.config.balancers[b].members.len();
        let mut from_balancer = None;
        for m in 0..members {
            let Some((ob, om)) = shared.origin(b, m) else {
                continue;
            };
            from_balancer = Some(ob);
            let Some(old_rt) = old.balancers.get(ob) else {
                continue;
            };
            if same_endpoint(&old.shared, (ob, om), shared, (b, m)) {
                rt.pool.adopt(m, &old_rt.pool, om);
            }
        }
        let Some(ob) = from_balancer else {
            continue;
        };
        if old.config.balancers.get(ob).map(|o| o.lbmethod)
            == Some(shared.config.balancers[b].lbmethod)
        {
            let old_balancer = old.balancers[ob].balancer.borrow();
            rt.balancer.borrow_mut().carry_scores(&old_balancer, |m| {
                shared
                    .origin(b, m)
                    .filter(|&(o, _)| o == ob)
                    .map(|(_, om)| om)
            });
        }
    }
}

/// Whether a connection to member `am` (balancer, member) of generation `a` may serve member
/// `bm` of generation `b`: the same address and, for an `https://` member, the very same
/// client configuration. A reload loads new TLS configurations (the CA file re-read), so
/// TLS connections verified under the old ones are not carried over it; an added or removed
/// member keeps them ([`crate::tls::Connectors::follow`]).
fn same_endpoint(a: &SharedGen, am: (usize, usize), b: &SharedGen, bm: (usize, usize)) -> bool {
    type Endpoint<'a> = (SocketAddr, bool, Option<&'a Arc<Connector>>);
    fn member(g: &SharedGen, (i, j): (usize, usize)) -> Option<Endpoint<'_>> {
        let m = g.config.balancers.get(i)?.members.get(j)?;
        Some((m.addr, m.options.tls.is_some(), g.connectors.get(i, j)))
    }
    match (member(a, am), member(b, bm)) {
        (Some((x, false, _)), Some((y, false, _))) => x == y,
        (Some((x, true, Some(cx))), Some((y, true, Some(cy)))) => x == y && Arc::ptr_eq(cx, cy),
        _ => false,
    }
}

/// Whether `a` and `b` write the same access log in the same format.
fn same_access_log(a: &Config, b: &Config) -> bool {
    a.ops.log.access == b.ops.log.access && a.ops.log.access_format == b.ops.log.access_format
}

/// The error-log line of one member state change.
fn log_change(
    bcfg: &BalancerConfig,
    member: &MemberConfig,
    change: Change,
    state: HealthState,
    totals: &MemberTotals,
) {
    let who = format!(
        "balancer {}: member {}{}",
        bcfg.name,
        member.url,
        route_suffix(&member.route)
    );
    let why = totals
        .last_error
        .map_or_else(String::new, |e| format!(": {}", e.what()));
    match change {
        Change::InError => {
            let retry = match state {
                HealthState::InError { .. } => format!(" for {:?}", member.options.retry),
                _ => String::new(),
            };
            log::warn(format_args!("{who} in error{retry}{why}"));
        }
        Change::CheckFailed => log::warn(format_args!("{who} failed its health check{why}")),
        Change::Recovered => log::info(format_args!("{who} is usable again")),
    }
}

/// ` (route r)` for a member with a route; nothing for one without.
fn route_suffix(route: &str) -> String {
    if route.is_empty() {
        String::new()
    } else {
        format!(" (route {route})")
    }
}

/// What a failed attempt ended as, for the member's last failure. Connect failures are told
/// apart by the caller ([`Gen::member_failed_as`]); an unreachable member here is a refusal.
pub(crate) fn fault_of(error: &ProxyError) -> Fault {
    match error.status {
        _ if error.unreachable => Fault::ConnectRefused,
        504 => Fault::ResponseTimeout,
        502 if error.detail == super::relay::CLOSED_EARLY => Fault::ClosedEarly,
        502 => Fault::BadResponse,
        _ => Fault::Other,
    }
}

/// The fault of a failed connect.
pub(crate) fn connect_fault(e: ConnectError) -> Fault {
    match e {
        ConnectError::TimedOut => Fault::ConnectTimeout,
        ConnectError::Refused | ConnectError::Local => Fault::ConnectRefused,
        ConnectError::Tls(why) => tls_fault(why),
        ConnectError::NoPong => Fault::NoPong,
        // Not a failure of the member (never recorded as one).
        ConnectError::Busy(_) => Fault::Other,
    }
}

/// The fault of a failed TLS handshake (a request's or a health check's).
pub(crate) fn tls_fault(why: TlsFailure) -> Fault {
    match why {
        TlsFailure::UnknownIssuer => Fault::TlsUnknownIssuer,
        TlsFailure::BadName => Fault::TlsBadName,
        TlsFailure::Expired => Fault::TlsExpired,
        TlsFailure::Certificate => Fault::TlsCertificate,
        TlsFailure::Alert => Fault::TlsAlert,
        TlsFailure::Handshake => Fault::TlsHandshake,
    }
}

/// Opens the access log `config` asks for; a failure is logged and leaves logging off.
fn open_access_log(config: &Config) -> Option<AccessLog> {
    let target = config.ops.log.access.as_ref()?;
    let format = match Format::parse(&config.ops.log.access_format) {
        Ok(f) => f,
        Err(e) => {
            log::error(format_args!("access log format: {e}"));
            return None;
        }
    };
    let sink = match target {
        AccessTarget::Stdout => Sink::stdout(),
        AccessTarget::Stderr => Sink::stderr(),
        AccessTarget::File(path) => Sink::open(path),
        AccessTarget::Syslog(socket) => Sink::syslog(socket),
    };
    match sink {
        Ok(sink) => Some(AccessLog::new(Arc::new(format), sink)),
        Err(e) => {
            let target = crate::config::target_text(target);
            log::error(format_args!("access log {target:?}: {e}"));
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use std::rc::Rc;
    use std::sync::Arc;

    use super::Gen;
    use crate::balancer::{Balancer, Status};
    use crate::clock;
    use crate::config;
    use crate::link::{MemberEdit, SharedGen};
    use crate::worker::bufs::{BufPool, IO_BUF};

    const FILE: &str = "[[balancer]]\nname = \"app\"\n\
        [[balancer.member]]\nurl = \"http://127.0.0.1:9001\"\nroute = \"a\"\n\
        [[balancer.member]]\nurl = \"http://127.0.0.1:9002\"\nroute = \"b\"\nloadfactor = 2\n\
        [[balancer.member]]\nurl = \"http://127.0.0.1:9003\"\nroute = \"c\"\nloadfactor = 3\n";

    fn picks(balancer: &mut Balancer, n: usize) -> Vec<usize> {
        (0..n)
            .map(|_| balancer.pick(&[], 0, 1).unwrap().member)
            .collect()
    }

    /// An in-place edit continues the byrequests schedule where it was, exactly as the same
    /// setters on one balancer would; a new generation would start it again from zero.
    #[test]
    fn an_edit_continues_the_byrequests_schedule() {
        let cfg = Arc::new(config::parse_str(FILE, "t.toml").unwrap());
        let shared = Arc::new(SharedGen::new(1, cfg.clone(), 1));
        let gen = Gen::new(
            &shared,
            0,
            Rc::new(BufPool::new(IO_BUF)),
            clock::now(),
            None,
        );
        let mut reference = Balancer::new(&cfg.balancers[0]);
        let before = picks(&mut gen.balancers[0].balancer.borrow_mut(), 4);
        assert_eq!(before, picks(&mut reference, 4));

        let mut next = config::Config::clone(&cfg);
        next.balancers[0].members[0].lbfactor = 400;
        next.balancers[0].members[2].options.status = Status::DRAIN;
        let edit = |member, lbfactor, set| MemberEdit {
            balancer: 0,
            member,
            set,
            clear: Status::NONE,
            lbfactor,
            lbset: None,
            route: None,
            redirect: None,
        };
        let edits = [
            edit(0, Some(400), Status::NONE),
            edit(2, None, Status::DRAIN),
        ];
        let edited = gen.edited(&Arc::new(shared.edited(Arc::new(next.clone()))), &edits);
        reference.set_lbfactor(0, 400);
        reference.change_status(2, Status::DRAIN, Status::NONE);

        let after = picks(&mut edited.balancers[0].balancer.borrow_mut(), 12);
        assert_eq!(after, picks(&mut reference, 12), "the schedule continues");
        let restarted = picks(&mut Balancer::new(&next.balancers[0]), 12);
        assert_ne!(after, restarted, "a fresh balancer would start over");
        assert!(
            Rc::ptr_eq(&gen.balancers, &edited.balancers),
            "pools are shared"
        );
        assert!(
            Rc::ptr_eq(&gen.access, &edited.access),
            "the access log is kept"
        );
        assert_eq!(edited.config.balancers[0].members[0].lbfactor, 400);
    }
}
