//! Per-core counters per member, summed on demand. STUB until the stats work lands.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// Totals of one member over all cores.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct MemberTotals {
    pub requests: u64,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub busy: u64,
    pub errors: u64,
}

/// All cores' counters.
#[derive(Debug)]
pub struct Stats {
    members: Vec<usize>,
    cells: Vec<AtomicU64>,
    cores: usize,
}

const FIELDS: usize = 5;

impl Stats {
    pub fn new(cores: usize, members: &[usize]) -> Stats {
        let total: usize = members.iter().sum();
        Stats {
            members: members.to_vec(),
            cells: (0..cores * total * FIELDS)
                .map(|_| AtomicU64::new(0))
                .collect(),
            cores,
        }
    }

    fn index(&self, core: usize, b: usize, m: usize, field: usize) -> usize {
        let total: usize = self.members.iter().sum();
        let before: usize = self.members[..b].iter().sum();
        ((core * total) + before + m) * FIELDS + field
    }

    pub fn writer(self: &Arc<Self>, core: usize) -> CoreWriter {
        CoreWriter {
            stats: self.clone(),
            core,
        }
    }

    pub fn totals(&self, b: usize, m: usize) -> MemberTotals {
        let get = |f| {
            (0..self.cores)
                .map(|c| self.cells[self.index(c, b, m, f)].load(Ordering::Relaxed))
                .sum()
        };
        MemberTotals {
            requests: get(0),
            bytes_in: get(1),
            bytes_out: get(2),
            busy: get(3),
            errors: get(4),
        }
    }
}

/// One core's writing handle.
#[derive(Debug, Clone)]
pub struct CoreWriter {
    stats: Arc<Stats>,
    core: usize,
}

impl CoreWriter {
    fn add(&self, b: usize, m: usize, f: usize, n: u64) {
        let cell = &self.stats.cells[self.stats.index(self.core, b, m, f)];
        cell.store(
            cell.load(Ordering::Relaxed).wrapping_add(n),
            Ordering::Relaxed,
        );
    }
    pub fn add_request(&self, b: usize, m: usize) {
        self.add(b, m, 0, 1);
    }
    pub fn add_bytes(&self, b: usize, m: usize, bytes_in: u64, bytes_out: u64) {
        self.add(b, m, 1, bytes_in);
        self.add(b, m, 2, bytes_out);
    }
    pub fn busy_inc(&self, b: usize, m: usize) {
        self.add(b, m, 3, 1);
    }
    pub fn busy_dec(&self, b: usize, m: usize) {
        self.add(b, m, 3, u64::MAX);
    }
    pub fn add_error(&self, b: usize, m: usize) {
        self.add(b, m, 4, 1);
    }
}
