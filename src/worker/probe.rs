//! Active health checks (mod_proxy_hcheck semantics): each member with a check is probed by
//! exactly one core, the one its global member number maps to, so every member is probed once
//! per `interval` in total, not once per core. `fails` consecutive failures set the failed-check
//! flag `C` in the shared health word (every core stops choosing the member at once); `passes`
//! consecutive passes clear it. Every failed probe is kept as the member's last failure; the
//! flag's changes are logged once each by `Gen::log_state_changes`, not here. An `https://`
//! member is probed over TLS, with the same configuration as its requests.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::rc::Rc;
use std::time::Duration;

use monoio::io::AsyncWriteRentExt;

use super::ajp::PongFail;
use super::forward::{self, Read};
use super::{Core, Gen};
use crate::clock;
use crate::config::{HcMethod, HealthCheck, MemberConfig};
use crate::http::head;
use crate::stats::Fault;
use crate::tls::Connector;
use crate::upstream::{self, ConnectError};

/// Largest response head a probe reads.
const MAX_PROBE_HEAD: usize = 16 * 1024;

/// Consecutive (passes, fails) per member (balancer name, URL), kept by the worker across
/// generations so that neither an edit nor a reload restarts a member's count.
#[derive(Debug, Default)]
pub(crate) struct Counts(RefCell<HashMap<(String, String), (u32, u32)>>);

impl Counts {
    fn get(&self, key: &(String, String)) -> (u32, u32) {
        self.0.borrow().get(key).copied().unwrap_or_default()
    }

    fn set(&self, key: &(String, String), counts: (u32, u32)) {
        if let Some(slot) = self.0.borrow_mut().get_mut(key) {
            *slot = counts;
            return;
        }
        self.0.borrow_mut().insert(key.clone(), counts);
    }

    /// Forgets the members `keep` rejects.
    fn retain(&self, keep: impl Fn(&(String, String)) -> bool) {
        self.0.borrow_mut().retain(|k, _| keep(k));
    }
}

/// Starts a probe task for every member with a health check that this worker owns, for its
/// current generation. A probe runs until a new generation replaces that one; an in-place
/// edit keeps it running, and each round reads the member's current settings. Its pass/fail
/// counts continue from the previous generation's (by member identity).
pub(super) fn start(worker: &Rc<Core>, cores: usize) {
    let gen = worker.current();
    let config = &gen.config;
    worker.probe_counts.retain(|(b, url)| {
        config
            .balancers
            .iter()
            .any(|bc| &bc.name == b && bc.members.iter().any(|m| &m.url == url))
    });
    let mut global = 0usize;
    for (b, bcfg) in gen.config.balancers.iter().enumerate() {
        for (m, member) in bcfg.members.iter().enumerate() {
            if member.options.health.is_some() && global % cores.max(1) == worker.index {
                monoio::spawn(probe_loop(worker.clone(), gen.retired.clone(), b, m));
            }
            global += 1;
        }
    }
}

async fn probe_loop(worker: Rc<Core>, retired: Rc<Cell<bool>>, b: usize, m: usize) {
    let key = {
        let gen = worker.current();
        let bcfg = &gen.config.balancers[b];
        (bcfg.name.clone(), bcfg.members[m].url.clone())
    };
    let (mut passes, mut fails) = worker.probe_counts.get(&key);
    loop {
        let interval = match health_check(&worker.current(), b, m) {
            Some(hc) => hc.interval,
            None => return,
        };
        monoio::time::sleep(interval).await;
        if retired.get() {
            return;
        }
        let gen = worker.current();
        let Some(hc) = health_check(&gen, b, m) else {
            return;
        };
        let member = &gen.config.balancers[b].members[m];
        let timeout = hc.interval.min(gen.config.timeouts.upstream_response);
        let started = clock::now();
        let outcome = match gen.connector(b, m) {
            Ok(tls) => probe(member, tls, hc, gen.config.timeouts.connect, timeout).await,
            Err(e) => Err(Some((connect_fault(e), 0))),
        };
        if retired.get() {
            return;
        }
        let now = clock::now();
        let now_ms = gen.now_ms(now);
        // A probe this host could not even start (`Err(None)`) says nothing of the member.
        if let Ok(()) | Err(Some(_)) = outcome {
            let micros = u64::try_from(now.saturating_duration_since(started).as_micros());
            let fault = outcome.err().flatten().map(|(fault, _)| fault);
            let micros = micros.unwrap_or(u64::MAX);
            gen.stats
                .observe_check(b, m, fault, micros, clock::unix_now_ms());
        }
        match outcome {
            Ok(()) => {
                (passes, fails) = (passes.saturating_add(1), 0);
                if passes >= hc.passes {
                    gen.set_hc_failed(b, m, false, now_ms);
                }
            }
            Err(None) => {}
            Err(Some((fault, status))) => {
                (passes, fails) = (0, fails.saturating_add(1));
                gen.check_failed(b, m, fault, status);
                if fails >= hc.fails {
                    gen.set_hc_failed(b, m, true, now_ms);
                }
            }
        }
        worker.probe_counts.set(&key, (passes, fails));
    }
}

/// The health check of member `m` of balancer `b` in `gen`, if it has one.
fn health_check(gen: &Gen, b: usize, m: usize) -> Option<&HealthCheck> {
    gen.config
        .balancers
        .get(b)?
        .members
        .get(m)?
        .options
        .health
        .as_ref()
}

/// The fault of a probe that could not connect: a TLS failure says which (the same faults as
/// a request's), any other is [`Fault::CheckConnect`].
fn connect_fault(e: ConnectError) -> Fault {
    match e {
        ConnectError::Tls(why) => super::gen::tls_fault(why),
        _ => Fault::CheckConnect,
    }
}

/// One probe: connect (with the TLS handshake, for an `https://` member: `tls`), and for the
/// HTTP methods send the request and check the status. A `TCP` check of an `https://` member
/// passes once the handshake does.
/// `Err(None)`: this host could not make the connection ([`ConnectError::Local`]), which says
/// nothing about the member; `Err(Some((fault, status)))`: the member failed the check
/// (`status` is the member's answer for [`Fault::CheckStatus`], else 0).
async fn probe(
    member: &MemberConfig,
    tls: Option<&Connector>,
    hc: &HealthCheck,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<(), Option<(Fault, u16)>> {
    let mut stream = match upstream::connect(member.addr, tls, connect_timeout).await {
        Ok(stream) => stream,
        Err(ConnectError::Local) => return Err(None),
        Err(e) => return Err(Some((connect_fault(e), 0))),
    };
    let method = match hc.method {
        HcMethod::Tcp => return Ok(()),
        HcMethod::Cping => {
            return (super::ajp::cping(&mut stream, timeout).await).map_err(|e| {
                let fault = match e {
                    PongFail::NotSent => Fault::CheckNotSent,
                    PongFail::TimedOut => Fault::CheckTimeout,
                    PongFail::Closed => Fault::CheckClosed,
                    PongFail::Invalid => Fault::CheckInvalid,
                };
                Some((fault, 0))
            })
        }
        HcMethod::Options => "OPTIONS",
        HcMethod::Head => "HEAD",
        HcMethod::Get => "GET",
    };
    let request = format!(
        "{method} {} HTTP/1.1\r\nHost: {}\r\nUser-Agent: ringlb-hcheck\r\nConnection: close\r\n\r\n",
        hc.uri, member.authority
    );
    let write = monoio::time::timeout(timeout, stream.write_all(request.into_bytes())).await;
    if !matches!(write, Ok((Ok(_), _))) {
        return Err(Some((Fault::CheckNotSent, 0)));
    }
    let deadline = clock::now() + timeout;
    let mut buf = Vec::with_capacity(1024);
    loop {
        match head::parse_response(&buf, crate::http::MAX_HEADERS) {
            Ok(Some(resp)) if (hc.status.0..=hc.status.1).contains(&resp.status) => return Ok(()),
            Ok(Some(resp)) => return Err(Some((Fault::CheckStatus, resp.status))),
            Ok(None) if buf.len() < MAX_PROBE_HEAD => {}
            Ok(None) | Err(_) => return Err(Some((Fault::CheckInvalid, 0))),
        }
        let wait = deadline.saturating_duration_since(clock::now());
        let (read, b) = forward::read_into(&mut stream, buf, MAX_PROBE_HEAD, wait).await;
        buf = b;
        match read {
            Read::Data => {}
            Read::TimedOut => return Err(Some((Fault::CheckTimeout, 0))),
            Read::Eof | Read::Failed => return Err(Some((Fault::CheckClosed, 0))),
        }
    }
}
