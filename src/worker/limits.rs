//! Admission to a member before a connection is opened: a pooled connection, or for a member
//! with `max` a place among its connections, waited for in the member's queue at most
//! `acquire` (`upstream::Gate`). What the wait took goes to the counters and the access log.
//! And how each generation's pools keep a member's idle connections and find its gate.

use std::rc::Rc;
use std::sync::Arc;
use std::time::Instant;

use super::client::Done;
use super::Gen;
use crate::link::SharedGen;
use crate::upstream::{ConnectError, Gate, Grant, MemberPolicy, MemberStream, Refusal, Slot};

/// What a request may use to reach its member.
pub(super) enum Admitted {
    /// An idle connection, from the pool or handed over by a request that finished with it.
    Pooled(MemberStream),
    /// A new connection may be opened, holding this slot when the member has `max`.
    Open(Option<Slot>),
}

/// A pooled connection to member `m` of balancer `b`, or the right to open one. For a member
/// with `max` that right is a place among its connections, waited for at most `acquire`
/// ([`ConnectError::Busy`] otherwise: nothing was sent, and the member's state must not
/// change). The wait is added to `done.queue_us`, which is `Some` from the first call on.
pub(super) async fn admit(
    gen: &Gen,
    b: usize,
    m: usize,
    now: Instant,
    done: &mut Done,
) -> Result<Admitted, ConnectError> {
    let queue_us = done.queue_us.get_or_insert(0);
    if let Some(stream) = gen.checkout(b, m, now) {
        return Ok(Admitted::Pooled(stream));
    }
    let Some(gate) = gen.gate(b, m) else {
        return Ok(Admitted::Open(None));
    };
    let limits = &gen.config.balancers[b].members[m].options.limits;
    let max = limits.max.unwrap_or(u32::MAX);
    let wait = limits.acquire_or(gen.config.timeouts.connect);
    let admission = gate.acquire(max, limits.maxqueue, wait).await;
    if admission.queued {
        let us = admission.waited.as_micros() as u64;
        gen.stats.observe_queue_wait(b, m, us);
        *queue_us = queue_us.saturating_add(us);
    }
    match admission.result {
        Ok(Grant::Slot(slot)) => Ok(Admitted::Open(Some(slot))),
        Ok(Grant::Conn(stream)) => Ok(Admitted::Pooled(stream)),
        Err(why) => {
            match why {
                Refusal::TimedOut => gen.stats.add_queue_timeout(b, m),
                Refusal::QueueFull => gen.stats.add_queue_full(b, m),
            }
            Err(ConnectError::Busy(why))
        }
    }
}

/// How each member of balancer `b` keeps idle connections on worker `index` (`smax`, `ttl`),
/// and its gate when it has `max`: the previous generation's when the member kept its shared
/// count, so that a worker has one queue (and one writer of its `front` word) per count.
pub(super) fn member_policies(
    shared: &SharedGen,
    index: usize,
    b: usize,
    previous: Option<&Gen>,
) -> Vec<MemberPolicy> {
    let idle = shared.config.timeouts.upstream_idle;
    let members = &shared.config.balancers[b].members;
    (members.iter().enumerate())
        .map(|(m, member)| {
            let limits = &member.options.limits;
            let gate = shared.limit(b, m).map(|limit| {
                let carried = previous
                    .zip(shared.origin(b, m))
                    .and_then(|(old, (ob, om))| old.gate(ob, om))
                    .filter(|g| Arc::ptr_eq(g.shared(), limit));
                carried.map_or_else(|| Gate::new(limit.clone(), index), Rc::clone)
            });
            MemberPolicy {
                ttl: limits.ttl_or(idle),
                smax: limits.smax,
                gate,
            }
        })
        .collect()
}
