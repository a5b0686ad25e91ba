//! Active health checks (mod_proxy_hcheck semantics): each member with a check is probed by
//! exactly one core, the one its global member number maps to, so every member is probed once
//! per `interval` in total, not once per core. `fails` consecutive failures set the failed-check
//! flag `C` in the shared health word (every core stops choosing the member at once); `passes`
//! consecutive passes clear it. Every failed probe is kept as the member's last failure; the
//! flag's changes are logged once each by `Gen::log_state_changes`, not here.

use std::rc::Rc;
use std::time::Duration;

use monoio::io::AsyncWriteRentExt;

use super::forward::{self, Read};
use super::Gen;
use crate::clock;
use crate::config::{HcMethod, HealthCheck, MemberConfig};
use crate::http::head;
use crate::stats::Fault;
use crate::upstream::{self, ConnectError};

/// Largest response head a probe reads.
const MAX_PROBE_HEAD: usize = 16 * 1024;

/// Starts a probe task for every member with a health check that this core owns.
pub(super) fn start(core: &Rc<Gen>, core_index: usize, cores: usize) {
    let mut global = 0usize;
    for (b, bcfg) in core.config.balancers.iter().enumerate() {
        for (m, member) in bcfg.members.iter().enumerate() {
            if member.options.health.is_some() && global % cores.max(1) == core_index {
                monoio::spawn(probe_loop(core.clone(), b, m));
            }
            global += 1;
        }
    }
}

async fn probe_loop(core: Rc<Gen>, b: usize, m: usize) {
    let member = &core.config.balancers[b].members[m];
    let Some(hc) = &member.options.health else {
        return;
    };
    let (mut passes, mut fails) = (0u32, 0u32);
    loop {
        monoio::time::sleep(hc.interval).await;
        if core.retired.get() {
            return;
        }
        let timeout = hc.interval.min(core.config.timeouts.upstream_response);
        let outcome = probe(member, hc, core.config.timeouts.connect, timeout).await;
        let now_ms = core.now_ms(clock::now());
        match outcome {
            Ok(()) => {
                (passes, fails) = (passes.saturating_add(1), 0);
                if passes >= hc.passes {
                    core.set_hc_failed(b, m, false, now_ms);
                }
            }
            Err(None) => {}
            Err(Some((fault, status))) => {
                (passes, fails) = (0, fails.saturating_add(1));
                core.check_failed(b, m, fault, status);
                if fails >= hc.fails {
                    core.set_hc_failed(b, m, true, now_ms);
                }
            }
        }
    }
}

/// One probe: connect, and for the HTTP methods send the request and check the status.
/// `Err(None)`: this host could not make the connection ([`ConnectError::Local`]), which says
/// nothing about the member; `Err(Some((fault, status)))`: the member failed the check
/// (`status` is the member's answer for [`Fault::CheckStatus`], else 0).
async fn probe(
    member: &MemberConfig,
    hc: &HealthCheck,
    connect_timeout: Duration,
    timeout: Duration,
) -> Result<(), Option<(Fault, u16)>> {
    let mut stream = match upstream::connect(member.addr, connect_timeout).await {
        Ok(stream) => stream,
        Err(ConnectError::Local) => return Err(None),
        Err(ConnectError::Refused | ConnectError::TimedOut) => {
            return Err(Some((Fault::CheckConnect, 0)))
        }
    };
    let method = match hc.method {
        HcMethod::Tcp => return Ok(()),
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
