//! A per-core free list of I/O buffers, so requests reuse buffers instead of allocating.

use std::cell::RefCell;

/// Size of body-forwarding and member-response buffers.
pub(crate) const IO_BUF: usize = 16 * 1024;

/// Buffers kept on the free list at most; beyond this they are freed.
const MAX_FREE: usize = 1024;

/// Free list of `IO_BUF`-capacity vectors. Owned by one core.
#[derive(Debug, Default)]
pub(crate) struct BufPool {
    free: RefCell<Vec<Vec<u8>>>,
}

impl BufPool {
    pub(crate) fn new() -> BufPool {
        BufPool::default()
    }

    /// An empty buffer with at least `IO_BUF` capacity.
    pub(crate) fn get(&self) -> Vec<u8> {
        self.free
            .borrow_mut()
            .pop()
            .unwrap_or_else(|| Vec::with_capacity(IO_BUF))
    }

    /// Returns a buffer for reuse; oversized or surplus ones are freed.
    pub(crate) fn put(&self, mut buf: Vec<u8>) {
        let mut free = self.free.borrow_mut();
        if buf.capacity() <= 4 * IO_BUF && free.len() < MAX_FREE {
            buf.clear();
            free.push(buf);
        }
    }
}
