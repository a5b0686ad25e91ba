//! What ringlb asks of its allocator (mimalloc, the binary's global allocator): give freed
//! memory back to the system soon, so that RSS follows the load down.
//!
//! mimalloc keeps a page it emptied until later allocator activity on the same thread
//! retires it, and an idle worker has none: without [`collect`] the memory of a load that
//! ended would stay resident.

/// `mi_option_purge_delay` in mimalloc.h's `mi_option_e`.
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Purges freed memory at once instead of after mimalloc's default delay. Call once, before
/// the workers start (the request path does not allocate, so this costs it nothing).
#[allow(unsafe_code)]
pub fn return_freed_memory_at_once() {
    // SAFETY: sets a documented mimalloc option to a documented value (0 = purge at once);
    // options may be set at any time and are read atomically by the allocator.
    unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
}

/// Returns the calling thread's emptied pages to the system. Not forced: a few
/// microseconds, for a worker's tick after it freed what it no longer needs.
#[allow(unsafe_code)]
pub fn collect() {
    // SAFETY: `mi_collect` takes no pointers; it may be called from any thread at any time.
    unsafe { libmimalloc_sys::mi_collect(false) };
}
