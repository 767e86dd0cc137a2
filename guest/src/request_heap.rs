//! The guest's heap: a bump region rewound at every request, in front of dlmalloc.
//!
//! Nothing a request allocates outlives it: `handle` drops the previous response and the
//! executor's wakers before it starts the next request, and the guest keeps no other state
//! between requests (see the crate's Security section). So a request's allocations can be
//! carved one after another out of one region, each in a few instructions, and the whole region
//! taken back at once when the next request starts ([`RequestHeap::begin_request`]). A free
//! inside the region costs nothing (the most recent allocation is given back, so a buffer grown
//! and shrunk in turn stays in place); a request that allocates more than the region holds goes
//! on to dlmalloc, which reuses what it frees, so a large request costs memory as before.
//!
//! dlmalloc's `malloc`, `free` and their bin bookkeeping were 8% of the Wasm engine's GetUser
//! in-process (`host/benches/engines.rs` under perf); a bump allocation is a comparison and an
//! addition, and a request's data stays together in memory the last request already warmed.

use core::alloc::Layout;

/// The bump arithmetic over a region `[start, end)` of addresses: no memory is touched, so it
/// is tested natively.
#[derive(Debug, Clone, Copy)]
pub struct Bump {
    start: usize,
    end: usize,
    /// Where the next allocation may start.
    next: usize,
    /// The most recent allocation (the one a free or a resize may give back or extend), or
    /// `usize::MAX` when there is none.
    last: usize,
}

impl Bump {
    /// An empty region (every allocation falls through).
    pub const EMPTY: Self = Self {
        start: 0,
        end: 0,
        next: 0,
        last: usize::MAX,
    };

    pub const fn new(start: usize, len: usize) -> Self {
        Self {
            start,
            end: start.saturating_add(len),
            next: start,
            last: usize::MAX,
        }
    }

    /// Whether `ptr` was allocated here.
    pub fn owns(&self, ptr: usize) -> bool {
        ptr >= self.start && ptr < self.end
    }

    /// An address for `layout`, or `None` when the region has no room left.
    pub fn alloc(&mut self, layout: Layout) -> Option<usize> {
        let at = self.next.checked_add(layout.align() - 1)? & !(layout.align() - 1);
        let after = at.checked_add(layout.size())?;
        if after > self.end {
            return None;
        }
        self.next = after;
        self.last = at;
        Some(at)
    }

    /// Frees `ptr` (which [`Bump::owns`]): only the most recent allocation's room is reused.
    pub fn dealloc(&mut self, ptr: usize) {
        if ptr == self.last {
            self.next = ptr;
            self.last = usize::MAX;
        }
    }

    /// Resizes `ptr` (which [`Bump::owns`]) in place when it can: the most recent allocation
    /// grows or shrinks while the region has room, any other only shrinks. `false`: move it.
    pub fn resize_in_place(&mut self, ptr: usize, old_size: usize, new_size: usize) -> bool {
        if ptr == self.last {
            match ptr.checked_add(new_size) {
                Some(after) if after <= self.end => {
                    self.next = after;
                    true
                }
                _ => false,
            }
        } else {
            new_size <= old_size
        }
    }

    /// Takes the whole region back. Every allocation in it must be gone.
    pub fn reset(&mut self) {
        self.next = self.start;
        self.last = usize::MAX;
    }
}

#[cfg(target_arch = "wasm32")]
pub use heap::{begin_request, outside_region};

#[cfg(target_arch = "wasm32")]
mod heap {
    use core::alloc::{GlobalAlloc, Layout};
    use core::cell::Cell;
    use core::sync::atomic::{AtomicBool, Ordering};

    use super::Bump;

    /// The region's size: a GetUser or a token refresh allocates a few tens of KiB; a request
    /// that needs more continues in dlmalloc.
    const REGION_BYTES: usize = 1 << 20;

    #[global_allocator]
    static ALLOCATOR: RequestHeap = RequestHeap::new();

    /// The global allocator: [`Bump`] over a region of its own, dlmalloc beyond it.
    struct RequestHeap {
        /// Empty until the first request reserves the region (and for good if `memory.grow`
        /// refused it: then everything goes to dlmalloc).
        bump: Cell<Bump>,
        /// Set while [`outside_region`] runs: allocations then go to dlmalloc.
        outside: Cell<bool>,
        fallback: dlmalloc::GlobalDlmalloc,
    }

    // SAFETY: the guest is single-threaded (wasm32-unknown-unknown without threads).
    unsafe impl Sync for RequestHeap {}

    impl RequestHeap {
        const fn new() -> Self {
            Self {
                bump: Cell::new(Bump::EMPTY),
                outside: Cell::new(false),
                fallback: dlmalloc::GlobalDlmalloc,
            }
        }

        fn with_bump<T>(&self, f: impl FnOnce(&mut Bump) -> T) -> T {
            let mut bump = self.bump.get();
            let out = f(&mut bump);
            self.bump.set(bump);
            out
        }
    }

    /// Takes the region back for a new request; the first call reserves it, so allocating
    /// never has to ask whether it exists.
    ///
    /// # Safety
    /// No allocation made since the last call may still be in use.
    pub unsafe fn begin_request() {
        static RESERVED: AtomicBool = AtomicBool::new(false);
        if !RESERVED.swap(true, Ordering::Relaxed) {
            const PAGE: usize = 64 * 1024;
            let pages = core::arch::wasm32::memory_grow(0, REGION_BYTES / PAGE);
            if pages != usize::MAX {
                ALLOCATOR.bump.set(Bump::new(pages * PAGE, REGION_BYTES));
            }
        }
        ALLOCATOR.with_bump(Bump::reset);
    }

    /// Runs `f` with every allocation it makes outside the region, in dlmalloc: for what the
    /// guest keeps beyond the request (its decoded records), which the next request's rewind of
    /// the region would otherwise overwrite. Frees and resizes need nothing: each goes to the
    /// allocator that owns the address.
    pub fn outside_region<T>(f: impl FnOnce() -> T) -> T {
        let was = ALLOCATOR.outside.replace(true);
        let out = f();
        ALLOCATOR.outside.set(was);
        out
    }

    // SAFETY: every address handed out lies in memory owned by this allocator (the region it
    // grew, or dlmalloc's), is aligned as asked and overlaps no other live allocation; a pointer
    // is freed or resized by whichever of the two owns its address.
    unsafe impl GlobalAlloc for RequestHeap {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            if self.outside.get() {
                // SAFETY: the caller's contract, passed on.
                return unsafe { self.fallback.alloc(layout) };
            }
            match self.with_bump(|bump| bump.alloc(layout)) {
                Some(at) => at as *mut u8,
                // SAFETY: the caller's contract, passed on.
                None => unsafe { self.fallback.alloc(layout) },
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            let owned = self.with_bump(|bump| {
                let owned = bump.owns(ptr as usize);
                if owned {
                    bump.dealloc(ptr as usize);
                }
                owned
            });
            if !owned {
                // SAFETY: dlmalloc allocated it.
                unsafe { self.fallback.dealloc(ptr, layout) }
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            let at = ptr as usize;
            // `None`: dlmalloc's; `Some(done)`: the region's, resized in place when `done` (never
            // outside the region: what is made there must leave it).
            let outside = self.outside.get();
            let in_region = self.with_bump(|bump| {
                bump.owns(at)
                    .then(|| !outside && bump.resize_in_place(at, layout.size(), new_size))
            });
            match in_region {
                // SAFETY: dlmalloc allocated it; the caller's contract, passed on.
                None => return unsafe { self.fallback.realloc(ptr, layout, new_size) },
                Some(true) => return ptr,
                Some(false) => {}
            }
            // SAFETY: `new_size` with the old alignment is a valid layout (the caller's contract).
            let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
            // SAFETY: a new allocation, of non-zero size as the caller guarantees.
            let moved = unsafe { self.alloc(new_layout) };
            if !moved.is_null() {
                // SAFETY: both are live and distinct; the old one holds `layout.size()` bytes and
                // the new one more (a shrink never gets here).
                unsafe {
                    core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size));
                    self.dealloc(ptr, layout);
                }
            }
            moved
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn allocations_are_aligned_disjoint_and_inside_the_region() {
        let mut bump = Bump::new(1000, 4096);
        let mut taken: Vec<(usize, usize)> = Vec::new();
        for (size, align) in [(3, 1), (8, 8), (1, 1), (24, 16), (5, 4), (100, 64), (0, 1)] {
            let at = bump.alloc(layout(size, align)).unwrap();
            assert_eq!(at % align, 0, "{size} bytes aligned to {align}");
            assert!(bump.owns(at) || size == 0);
            assert!(at + size <= 1000 + 4096);
            for &(other, other_size) in &taken {
                assert!(at + size <= other || other + other_size <= at, "overlap");
            }
            taken.push((at, size));
        }
        assert!(!bump.owns(999) && !bump.owns(1000 + 4096));
    }

    #[test]
    fn a_full_region_refuses_so_the_fallback_takes_over() {
        let mut bump = Bump::new(0, 64);
        assert_eq!(bump.alloc(layout(48, 8)), Some(0));
        assert_eq!(bump.alloc(layout(32, 8)), None, "only 16 bytes left");
        assert_eq!(bump.alloc(layout(16, 8)), Some(48));
        assert_eq!(bump.alloc(layout(1, 1)), None);
        let mut empty = Bump::EMPTY;
        assert_eq!(
            empty.alloc(layout(1, 1)),
            None,
            "no region: all to dlmalloc"
        );
        // An alignment past the end cannot overflow into a bogus address.
        let mut high = Bump::new(usize::MAX - 8, 8);
        assert_eq!(high.alloc(layout(4, 4096)), None);
    }

    #[test]
    fn only_the_latest_allocation_is_given_back_or_grown_in_place() {
        let mut bump = Bump::new(0, 1024);
        let a = bump.alloc(layout(100, 8)).unwrap();
        let b = bump.alloc(layout(100, 8)).unwrap();
        // `a` is not the latest: it can shrink in place but not grow, and freeing it reclaims
        // nothing.
        assert!(!bump.resize_in_place(a, 100, 200));
        assert!(bump.resize_in_place(a, 100, 50));
        bump.dealloc(a);
        let after_b = bump.alloc(layout(8, 8)).unwrap();
        assert!(after_b >= b + 100, "{after_b}: a's room was reused under b");
        // The latest grows in place while the region has room, and its room is reused once
        // freed.
        let c = bump.alloc(layout(16, 8)).unwrap();
        assert!(bump.resize_in_place(c, 16, 600));
        assert_eq!(
            bump.alloc(layout(8, 8)),
            Some(c + 600),
            "the grown room is c's"
        );
        let d = c + 600;
        assert!(!bump.resize_in_place(d, 8, 2000), "past the region's end");
        bump.dealloc(d);
        assert_eq!(bump.alloc(layout(8, 8)), Some(d));
    }

    #[test]
    fn a_reset_hands_out_the_region_again_from_its_start() {
        let mut bump = Bump::new(4096, 4096);
        let first = bump.alloc(layout(10, 1)).unwrap();
        let big = bump.alloc(layout(4000, 8)).unwrap();
        assert_eq!(bump.alloc(layout(200, 8)), None);
        bump.reset();
        assert_eq!(bump.alloc(layout(10, 1)), Some(first));
        // What was the latest before the reset is not now: freeing it reclaims nothing.
        bump.dealloc(big);
        assert_eq!(bump.alloc(layout(1, 1)), Some(first + 10));
    }
}
