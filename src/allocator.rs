//! What ringlb asks of its allocator (mimalloc, the binary's global allocator): give freed
//! memory back to the system soon, so that RSS follows the load down.
//!
//! mimalloc keeps a page it emptied until later allocator activity on the same thread
//! retires it, and an idle worker has none: without [`collect`] the memory of a load that
//! ended would stay resident. Its purge delay stays at its default (10 ms): purging each
//! emptied page at once instead cost a page fault per new connection under
//! connection-per-request load (56 000 faults in 4 s at 14 000 connections/s; some 600 with
//! the default delay and the forced [`collect`] each second).

/// Returns the calling thread's emptied pages to the system now, whatever their purge delay.
/// For a worker's once-a-second tick: it walks the thread's heap (microseconds), and it is
/// what brings RSS back down after a load, since an idle worker does no allocator activity
/// that would purge them otherwise.
#[allow(unsafe_code)]
pub fn collect() {
    // SAFETY: `mi_collect` takes no pointers; it may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(true) };
}
