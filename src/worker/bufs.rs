//! Per-core free lists of I/O buffers, so requests reuse buffers instead of allocating.

use std::cell::RefCell;

/// Size of body-forwarding and member-response buffers.
pub(crate) const IO_BUF: usize = 16 * 1024;

/// Capacity of a connection's request-head buffer to start with; it grows for larger heads.
pub(crate) const HEAD_BUF: usize = 2048;

/// Buffers kept on a free list at most; beyond this they are freed.
const MAX_FREE: usize = 1024;

/// Free list of vectors of one capacity. Owned by one core.
#[derive(Debug)]
pub(crate) struct BufPool {
    free: RefCell<Vec<Vec<u8>>>,
    size: usize,
}

impl BufPool {
    /// A pool of `size`-byte buffers.
    pub(crate) fn new(size: usize) -> BufPool {
        BufPool {
            free: RefCell::new(Vec::new()),
            size,
        }
    }

    /// An empty buffer with at least the pool's capacity.
    pub(crate) fn get(&self) -> Vec<u8> {
        self.free
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(self.size))
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
}
