//! Per-core free lists of I/O buffers, so requests reuse buffers instead of allocating, and
//! let go of the buffers a load no longer needs once it has passed.

use std::cell::{Cell, RefCell};

/// Size of body-forwarding and member-response buffers.
pub(crate) const IO_BUF: usize = 16 * 1024;

/// Capacity of a connection's request-head buffer to start with; it grows for larger heads.
pub(crate) const HEAD_BUF: usize = 2048;

/// Buffers kept on a free list at most; beyond this they are freed.
const MAX_FREE: usize = 1024;

/// Free list of vectors of one capacity. Owned by one core.
#[derive(Debug)]
pub(crate) struct BufPool {
    /// A stack: `get` takes the most recently returned buffer, so the ones at the bottom are
    /// those no request needed for longest.
    free: RefCell<Vec<Vec<u8>>>,
    size: usize,
    /// The fewest buffers the free list held since the last [`BufPool::trim`]: that many, at
    /// the bottom, were not used in that time.
    unused: Cell<usize>,
}

impl BufPool {
    /// A pool of `size`-byte buffers.
    pub(crate) fn new(size: usize) -> BufPool {
        BufPool {
            free: RefCell::new(Vec::new()),
            size,
            unused: Cell::new(0),
        }
    }

    /// An empty buffer with at least the pool's capacity.
    pub(crate) fn get(&self) -> Vec<u8> {
        let mut free = self.free.borrow_mut();
        let buf = free.pop();
        self.unused.set(self.unused.get().min(free.len()));
        buf.unwrap_or_else(|| Vec::with_capacity(self.size))
    }

    /// Returns a buffer for reuse; buffers of another size class, or surplus ones, are freed.
    pub(crate) fn put(&self, mut buf: Vec<u8>) {
        let mut free = self.free.borrow_mut();
        let fits = buf.capacity() >= self.size && buf.capacity() <= 4 * self.size;
        if fits && free.len() < MAX_FREE {
            buf.clear();
            free.push(buf);
        }
    }

    /// Frees the buffers no `get` needed since the previous call, and returns how many. Called
    /// from the worker's tick at a steady interval: a pool sized by a burst shrinks back within
    /// two intervals of the burst's end, and a steady load keeps what it uses.
    pub(crate) fn trim(&self) -> usize {
        let mut free = self.free.borrow_mut();
        let unused = self.unused.get().min(free.len());
        free.drain(..unused);
        if free.is_empty() {
            *free = Vec::new();
        }
        self.unused.set(free.len());
        unused
    }

    /// Buffers on the free list.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.free.borrow().len()
    }
}

#[cfg(test)]
mod tests {
    use super::BufPool;

    #[test]
    fn trim_frees_what_no_get_needed_since_the_last_trim() {
        let pool = BufPool::new(64);
        // A burst of 8 at once, returned: 8 on the free list.
        let burst: Vec<_> = (0..8).map(|_| pool.get()).collect();
        burst.into_iter().for_each(|b| pool.put(b));
        assert_eq!(pool.len(), 8);
        // The first trim after the burst frees nothing taken from the list in the interval.
        assert_eq!(pool.trim(), 0);
        // A steady load of 2 at a time over the next interval keeps 2.
        for _ in 0..5 {
            let (a, b) = (pool.get(), pool.get());
            pool.put(a);
            pool.put(b);
        }
        assert_eq!(pool.trim(), 6);
        assert_eq!(pool.len(), 2);
        // An interval without any get frees the rest.
        assert_eq!(pool.trim(), 2);
        assert_eq!(pool.len(), 0);
        assert_eq!(pool.trim(), 0);
        // A buffer of the pool's size still comes out of an empty pool.
        assert!(pool.get().capacity() >= 64);
    }
}
