//! A counting global allocator: [`peak_during`] reports the most bytes a closure had allocated
//! at once on the calling thread, so targets can assert that memory stays proportional to the
//! input (no unbounded allocation) both under the fuzzer and in the replay tests, which run in
//! parallel threads (the counters are per thread).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

/// [`System`] with per-thread live-byte and peak counters.
struct Counting;

thread_local! {
    /// Bytes allocated and not yet freed by this thread (frees of other threads' blocks may
    /// make it dip; only differences within one [`peak_during`] matter).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// Highest `LIVE` since the last reset.
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

fn add(delta: isize) {
    // `try_with`: during thread teardown the slots may be gone; counting stops then.
    let _ = LIVE.try_with(|live| {
        let now = live.get() + delta;
        live.set(now);
        let _ = PEAK.try_with(|peak| peak.set(peak.get().max(now)));
    });
}

// SAFETY: every method forwards to `System` with the caller's arguments unchanged; the counters
// are const-initialised thread-locals without destructors, so touching them never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        add(layout.size() as isize);
        // SAFETY: same contract as our caller's.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        add(-(layout.size() as isize));
        // SAFETY: same contract as our caller's.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // Count the new block before the old one is released: realloc may copy.
        add(new_size as isize);
        // SAFETY: same contract as our caller's.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        add(-(layout.size() as isize));
        new
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` and returns its result with the peak number of bytes it held allocated at once on
/// this thread, above what was live when it started.
pub fn peak_during<R>(f: impl FnOnce() -> R) -> (R, usize) {
    let start = LIVE.with(Cell::get);
    PEAK.with(|p| p.set(start));
    let result = f();
    let peak = PEAK.with(Cell::get);
    (result, usize::try_from(peak - start).unwrap_or(0))
}

/// Asserts that `f` never held more than `limit` bytes at once; `what` names it in the panic.
pub fn bounded<R>(what: &str, limit: usize, f: impl FnOnce() -> R) -> R {
    let (result, peak) = peak_during(f);
    assert!(
        peak <= limit,
        "{what}: {peak} bytes allocated at once, limit {limit}"
    );
    result
}
