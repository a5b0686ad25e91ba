//! Per-request accounting that must happen on every path, errors and cancellation included:
//! the in-flight count (bybusyness) and the bytes moved (bytraffic), for both this core's
//! balancer and the cross-core counters.

use super::Gen;

/// Held while a request is in flight on a member. Creating it counts the request busy;
/// dropping it, however the exchange ended, counts it done and records its bytes.
#[derive(Debug)]
pub(super) struct Inflight<'a> {
    gen: &'a Gen,
    balancer: usize,
    member: usize,
    /// Bytes received from the member (response head and body).
    pub(super) bytes_in: u64,
    /// Bytes sent to the member (request head and body).
    pub(super) bytes_out: u64,
}

impl<'a> Inflight<'a> {
    pub(super) fn new(gen: &'a Gen, balancer: usize, member: usize) -> Inflight<'a> {
        gen.balancers[balancer]
            .balancer
            .borrow_mut()
            .busy_inc(member);
        gen.stats.busy_inc(balancer, member);
        Inflight {
            gen,
            balancer,
            member,
            bytes_in: 0,
            bytes_out: 0,
        }
    }
}

impl Drop for Inflight<'_> {
    fn drop(&mut self) {
        let (b, m) = (self.balancer, self.member);
        let mut balancer = self.gen.balancers[b].balancer.borrow_mut();
        balancer.busy_dec(m);
        balancer.record_traffic(m, self.bytes_in, self.bytes_out);
        self.gen.stats.busy_dec(b, m);
        self.gen
            .stats
            .add_bytes(b, m, self.bytes_in, self.bytes_out);
    }
}
