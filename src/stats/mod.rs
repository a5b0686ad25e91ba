//! Cross-core member statistics: per-core single-writer counter slots and their summed view.
//!
//! Each worker core counts, per balancer member, the requests it sent, the bytes it moved, its
//! requests in flight (`busy`), its errors and its responses by status class, and keeps the
//! last failure it saw ([`LastError`], one packed word), in its own slot
//! ([`CoreWriter`]). Anyone can sum the slots of all cores ([`Stats::totals`]); the balancers
//! of every core do so every `stats.merge_interval` to decide bybusyness and bytraffic on a
//! global view (`Balancer::merge`), and the admin pages will read the same sums.
//!
//! This module owns the counters only. It does no I/O, reads no clock, takes no lock and
//! allocates only in [`Stats::new`]. Summing is the pure function [`merge`].
//!
//! # Concurrency
//!
//! `Stats` is created once and shared as `Arc<Stats>`. Slot *i* is written only by core *i*,
//! through the one [`CoreWriter`] of that core, with a plain `load` + `store(Relaxed)` on
//! counters no other core writes: no read-modify-write, no lock prefix, no contended cache
//! line (the slots are `CachePadded` and their counter arrays carry guard words). Any thread
//! reads any slot with `Relaxed` loads. A reader sees each counter's values in order, but not
//! the counters of one request together, and the values may lag the writer by the updates
//! still in its store buffer: a sum can be a few requests old, never torn within a counter.

mod checks;
mod fault;
mod flow;
mod generated;
mod listeners;
mod queue;
mod slots;
#[cfg(test)]
mod tests;

use std::cell::Cell;
use std::marker::PhantomData;
use std::sync::Arc;

use crossbeam_utils::CachePadded;

pub use checks::{CheckTotals, LastCheck};
pub use fault::{Fault, LastError};
pub use flow::FlowTotals;
pub use generated::{generated_index, GENERATED_CODES};
use generated::{GeneratedSlot, GENERATED_WORDS};
pub use listeners::ListenerTotals;
use listeners::LISTENER_WORDS;
pub use queue::QueueTotals;
pub use slots::LATENCY_BOUNDS_US;
use slots::{CoreSlot, Field, FIELDS};

/// One member's counters, for one core ([`Stats::core_counts`]) or summed over all cores
/// ([`Stats::totals`]).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberTotals {
    /// Requests sent to the member (each attempt counts).
    pub requests: u64,
    /// Bytes received from the member (Apache `read`).
    pub bytes_in: u64,
    /// Bytes sent to the member (Apache `transferred`).
    pub bytes_out: u64,
    /// Requests in flight on the member now.
    pub busy: u64,
    /// Failed attempts (connect errors, timeouts, `failonstatus`).
    pub errors: u64,
    /// Responses by status class: index 0 = 1xx ... 4 = 5xx.
    pub responses: [u64; 5],
    /// Sum of response times (request sent to response head received), microseconds.
    pub latency_sum_us: u64,
    /// Response times observed.
    pub latency_count: u64,
    /// Response times per bucket of [`LATENCY_BOUNDS_US`] (not cumulative).
    pub latency_buckets: [u64; LATENCY_BOUNDS_US.len()],
    /// The most recent failure recorded (over the cores summed: the latest of theirs).
    pub last_error: Option<LastError>,
}

impl MemberTotals {
    /// Adds `other` to `self`, field by field, saturating; `last_error` becomes the later of
    /// the two.
    pub fn add(&mut self, other: &MemberTotals) {
        self.last_error = LastError::latest(self.last_error, other.last_error);
        self.requests = self.requests.saturating_add(other.requests);
        self.bytes_in = self.bytes_in.saturating_add(other.bytes_in);
        self.bytes_out = self.bytes_out.saturating_add(other.bytes_out);
        self.busy = self.busy.saturating_add(other.busy);
        self.errors = self.errors.saturating_add(other.errors);
        self.latency_sum_us = self.latency_sum_us.saturating_add(other.latency_sum_us);
        self.latency_count = self.latency_count.saturating_add(other.latency_count);
        for (sum, n) in self.latency_buckets.iter_mut().zip(other.latency_buckets) {
            *sum = sum.saturating_add(n);
        }
        for (sum, n) in self.responses.iter_mut().zip(other.responses) {
            *sum = sum.saturating_add(n);
        }
    }
}

/// The sum of per-core counters: the global view of one member. Pure; saturating.
pub fn merge(parts: impl IntoIterator<Item = MemberTotals>) -> MemberTotals {
    parts
        .into_iter()
        .fold(MemberTotals::default(), |mut sum, part| {
            sum.add(&part);
            sum
        })
}

/// All cores' counters for all members of all balancers. See the module doc for the
/// concurrency contract.
#[derive(Debug)]
pub struct Stats {
    /// Slot *i* belongs to core *i*.
    slots: Box<[CachePadded<CoreSlot>]>,
    /// `offsets[b]` = flat index of balancer `b`'s member 0; `offsets[balancers]` = total.
    offsets: Box<[usize]>,
    /// Slot *i*: the responses core *i* generated itself, by code.
    generated: Box<[CachePadded<GeneratedSlot>]>,
    /// Slot *i*: core *i*'s counters per listener ([`Stats::with_listeners`]).
    listeners: Box<[CachePadded<CoreSlot>]>,
    listener_count: usize,
}

impl Stats {
    /// Zeroed counters for `cores` cores and the balancers whose member counts are `members`
    /// (`members[b]` = number of members of balancer `b`, in config order).
    pub fn new(cores: usize, members: &[usize]) -> Stats {
        let mut offsets = Vec::with_capacity(members.len() + 1);
        let mut total = 0usize;
        offsets.push(0);
        for &n in members {
            total = total.saturating_add(n);
            offsets.push(total);
        }
        Stats {
            slots: (0..cores)
                .map(|_| CachePadded::new(CoreSlot::new(total, FIELDS)))
                .collect(),
            offsets: offsets.into(),
            generated: (0..cores).map(|_| CachePadded::default()).collect(),
            listeners: Box::default(),
            listener_count: 0,
        }
    }

    /// These counters with rows for `listeners` listening addresses (none by default).
    pub fn with_listeners(mut self, listeners: usize) -> Stats {
        self.listeners = (0..self.cores())
            .map(|_| CachePadded::new(CoreSlot::new(listeners, LISTENER_WORDS)))
            .collect();
        self.listener_count = listeners;
        self
    }

    /// Number of listening addresses counted.
    pub fn listener_count(&self) -> usize {
        self.listener_count
    }

    pub fn cores(&self) -> usize {
        self.slots.len()
    }

    pub fn balancers(&self) -> usize {
        self.offsets.len() - 1
    }

    /// Number of members of balancer `b` (0 for an unknown balancer).
    pub fn members(&self, b: usize) -> usize {
        let end = b.checked_add(1).and_then(|next| self.offsets.get(next));
        match (self.offsets.get(b), end) {
            (Some(start), Some(end)) => end - start,
            _ => 0,
        }
    }

    /// The writing handle of core `core`. Create **one** per core and keep it on that core:
    /// two writers of the same slot on different threads would lose updates (never memory
    /// safety; the counters are atomics). For a `core` out of range the writer counts nothing.
    pub fn writer(self: &Arc<Self>, core: usize) -> CoreWriter {
        CoreWriter {
            stats: Arc::clone(self),
            core,
            _not_sync: PhantomData,
        }
    }

    /// Flat index of member `m` of balancer `b`, when both exist.
    fn flat(&self, b: usize, m: usize) -> Option<usize> {
        (m < self.members(b)).then(|| self.offsets[b] + m)
    }

    /// Core `core`'s counters for member `m` of balancer `b` (zeros when any is unknown).
    pub fn core_counts(&self, core: usize, b: usize, m: usize) -> MemberTotals {
        match (self.slots.get(core), self.flat(b, m)) {
            (Some(slot), Some(flat)) => read(slot, flat),
            _ => MemberTotals::default(),
        }
    }

    /// Member `m` of balancer `b` summed over all cores (zeros when unknown): `merge` of the
    /// per-core counts, read with `Relaxed` loads, O(cores).
    pub fn totals(&self, b: usize, m: usize) -> MemberTotals {
        let Some(flat) = self.flat(b, m) else {
            return MemberTotals::default();
        };
        merge(self.slots.iter().map(|slot| read(slot, flat)))
    }

    /// What a worker's balancer merges of member `m` of balancer `b` ([`MemberTotals`] with
    /// only `busy`, `bytes_in` and `bytes_out` summed over the cores, the rest zero): three
    /// loads per core instead of every counter and histogram bucket, so a merge on each core
    /// every `merge_interval` stays cheap at many cores and members.
    pub fn load_totals(&self, b: usize, m: usize) -> MemberTotals {
        let Some(flat) = self.flat(b, m) else {
            return MemberTotals::default();
        };
        let mut sum = MemberTotals::default();
        for slot in &self.slots {
            let word = |f: Field| slot.get(flat, f as usize);
            sum.busy = sum.busy.saturating_add(word(Field::Busy));
            sum.bytes_in = sum.bytes_in.saturating_add(word(Field::BytesIn));
            sum.bytes_out = sum.bytes_out.saturating_add(word(Field::BytesOut));
        }
        sum
    }

    /// Fills `out[m]` with [`Self::totals`]`(b, m)` for every member of balancer `b` that
    /// `out` has room for; returns how many were filled. Allocates nothing, so a core can
    /// reuse one buffer for every merge.
    pub fn totals_into(&self, b: usize, out: &mut [MemberTotals]) -> usize {
        let n = self.members(b).min(out.len());
        for (m, slot_out) in out.iter_mut().enumerate().take(n) {
            *slot_out = self.totals(b, m);
        }
        n
    }
}

/// One core's view of one member's counters in `slot`.
fn read(slot: &CoreSlot, flat: usize) -> MemberTotals {
    let get = |f: Field| slot.get(flat, f as usize);
    let mut responses = [0u64; 5];
    for (class, r) in responses.iter_mut().enumerate() {
        *r = slot.get(flat, Field::Status1xx as usize + class);
    }
    let mut latency_buckets = [0u64; LATENCY_BOUNDS_US.len()];
    for (i, n) in latency_buckets.iter_mut().enumerate() {
        *n = slot.get(flat, Field::Latency0 as usize + i);
    }
    MemberTotals {
        requests: get(Field::Requests),
        bytes_in: get(Field::BytesIn),
        bytes_out: get(Field::BytesOut),
        busy: get(Field::Busy),
        errors: get(Field::Errors),
        responses,
        latency_sum_us: get(Field::LatencySumUs),
        latency_count: get(Field::LatencyCount),
        latency_buckets,
        last_error: LastError::decode(get(Field::LastError)),
    }
}

/// Core *i*'s handle for writing slot *i*. Cheap (an `Arc` and an index); `Send` so it can be
/// built before the core's thread starts, but not `Sync` and not `Clone`, so it stays the
/// single writer of its slot. Every method ignores an unknown balancer or member.
///
/// # Concurrency
///
/// Each update is one `Relaxed` load and one `Relaxed` store to counters only this core
/// writes; other cores may see it late (see the module doc).
#[derive(Debug)]
pub struct CoreWriter {
    stats: Arc<Stats>,
    core: usize,
    /// Not `Sync`: a shared `&CoreWriter` on two threads would be two writers.
    _not_sync: PhantomData<Cell<()>>,
}

impl CoreWriter {
    /// The core (slot) this writer writes.
    pub fn core(&self) -> usize {
        self.core
    }

    /// The shared statistics this writer writes into.
    pub fn stats(&self) -> &Arc<Stats> {
        &self.stats
    }

    fn add(&self, b: usize, m: usize, field: usize, n: u64) {
        if let (Some(slot), Some(flat)) = (self.stats.slots.get(self.core), self.stats.flat(b, m)) {
            slot.add(flat, field, n);
        }
    }

    /// One request (attempt) sent to member `m` of balancer `b`.
    pub fn add_request(&self, b: usize, m: usize) {
        self.add(b, m, Field::Requests as usize, 1);
    }

    /// Bytes moved for member `m`: `bytes_in` received from it, `bytes_out` sent to it.
    pub fn add_bytes(&self, b: usize, m: usize, bytes_in: u64, bytes_out: u64) {
        self.add(b, m, Field::BytesIn as usize, bytes_in);
        self.add(b, m, Field::BytesOut as usize, bytes_out);
    }

    /// One more request in flight on member `m`; pair it with exactly one [`Self::busy_dec`].
    pub fn busy_inc(&self, b: usize, m: usize) {
        self.add(b, m, Field::Busy as usize, 1);
    }

    /// One request fewer in flight on member `m`; this core's count is floored at 0.
    pub fn busy_dec(&self, b: usize, m: usize) {
        if let (Some(slot), Some(flat)) = (self.stats.slots.get(self.core), self.stats.flat(b, m)) {
            slot.dec(flat, Field::Busy as usize);
        }
    }

    /// One failed attempt on member `m`.
    pub fn add_error(&self, b: usize, m: usize) {
        self.add(b, m, Field::Errors as usize, 1);
    }

    /// Records `error` as member `m`'s last failure on this core (one `Relaxed` store).
    pub fn set_last_error(&self, b: usize, m: usize, error: LastError) {
        if let (Some(slot), Some(flat)) = (self.stats.slots.get(self.core), self.stats.flat(b, m)) {
            slot.set(flat, Field::LastError as usize, error.encode());
        }
    }

    /// One response with `status` from member `m`, counted by class; a status outside
    /// 100..=599 is not counted.
    pub fn add_response(&self, b: usize, m: usize, status: u16) {
        if let 100..=599 = status {
            let class = usize::from(status / 100 - 1);
            self.add(b, m, Field::Status1xx as usize + class, 1);
        }
    }
}

impl CoreWriter {
    /// One response ringlb generated itself with `status` (not relayed from a member).
    pub fn add_generated(&self, status: u16) {
        if let Some(slot) = self.stats.generated.get(self.core) {
            slot.add(generated_index(status), 1);
        }
    }

    /// One response time of member `m`, in microseconds.
    pub fn observe_latency(&self, b: usize, m: usize, micros: u64) {
        self.add(b, m, Field::LatencySumUs as usize, micros);
        self.add(b, m, Field::LatencyCount as usize, 1);
        if let Some(i) = LATENCY_BOUNDS_US.iter().position(|&bound| micros <= bound) {
            self.add(b, m, Field::Latency0 as usize + i, 1);
        }
    }
}

impl Stats {
    /// Generated responses summed over the cores: `(code, count)` for each of
    /// [`GENERATED_CODES`], then the count of any other code as `(0, count)`.
    pub fn generated(&self) -> Vec<(u16, u64)> {
        let mut sum = [0u64; GENERATED_WORDS];
        for slot in self.generated.iter() {
            slot.sum_into(&mut sum);
        }
        (GENERATED_CODES.iter().copied().chain([0]))
            .zip(sum)
            .collect()
    }

    /// Starts the generated-response counters from `from`'s (the previous generation, on
    /// reload). Same rule as [`Self::seed`]: only before the workers share it.
    pub fn seed_generated(&self, from: &Stats) {
        let Some(slot) = self.generated.first() else {
            return;
        };
        for (i, (_, n)) in from.generated().into_iter().enumerate() {
            slot.add(i, n);
        }
    }

    /// Starts member `m` of balancer `b` from `totals` (carried over from the previous
    /// generation on reload), busy excepted, its last failure included. Call only before the
    /// `Stats` is shared with the workers: it writes core 0's slot, whose single writer is
    /// core 0 afterwards.
    pub fn seed(&self, b: usize, m: usize, totals: &MemberTotals) {
        let (Some(slot), Some(flat)) = (self.slots.first(), self.flat(b, m)) else {
            return;
        };
        slot.add(flat, Field::Requests as usize, totals.requests);
        slot.add(flat, Field::BytesIn as usize, totals.bytes_in);
        slot.add(flat, Field::BytesOut as usize, totals.bytes_out);
        slot.add(flat, Field::Errors as usize, totals.errors);
        for (class, n) in totals.responses.iter().enumerate() {
            slot.add(flat, Field::Status1xx as usize + class, *n);
        }
        slot.add(flat, Field::LatencySumUs as usize, totals.latency_sum_us);
        slot.add(flat, Field::LatencyCount as usize, totals.latency_count);
        for (i, n) in totals.latency_buckets.iter().enumerate() {
            slot.add(flat, Field::Latency0 as usize + i, *n);
        }
        if let Some(e) = totals.last_error {
            slot.set(flat, Field::LastError as usize, e.encode());
        }
    }
}

const _: () =
    assert!(Field::Latency0 as usize + LATENCY_BOUNDS_US.len() == Field::LastError as usize);
const _: () = assert!(Field::LastError as usize + 1 == Field::Queued as usize);
const _: () =
    assert!(Field::QueueWait0 as usize + LATENCY_BOUNDS_US.len() == Field::CheckRuns as usize);
const _: () = assert!(Field::MemberAborts as usize + 1 == FIELDS);
