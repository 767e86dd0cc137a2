//! The host's memory allocator: mimalloc, for every binary that links the host (the server,
//! its tests and benchmarks alike).
//!
//! glibc's malloc took a lock on the owning arena whenever a thread freed memory another thread
//! had allocated, which a multi-threaded runtime does on most requests (a request's buffers
//! are allocated on one worker and freed on another): under load two workers waited on each
//! other in `futex` calls. mimalloc frees across threads without that lock. Measured on GetUser,
//! native engine, wrk -t2 -c8, interleaved runs: 0.81-0.93× the CPU per request (issue 23).
//!
//! mimalloc gives freed pages back to the system lazily, at later allocations, which an idle
//! server does not make: [`return_freed_memory`] does it at once where a large block was just
//! freed (argon2id's working memory, [`crate::hash_threads`]).

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Gives the memory mimalloc holds free back to the system now.
pub fn return_freed_memory() {
    // SAFETY: `mi_collect` only walks mimalloc's own heaps and free lists and may be called from
    // any thread at any time; it takes and returns no pointers.
    #[allow(unsafe_code)]
    unsafe {
        libmimalloc_sys::mi_collect(true);
    }
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    #![allow(clippy::unwrap_used)]

    /// Resident bytes of this process (`/proc/self/statm`, second field, in pages of 4 KiB).
    fn resident_bytes() -> usize {
        let statm = std::fs::read_to_string("/proc/self/statm").unwrap();
        let pages: usize = statm.split_whitespace().nth(1).unwrap().parse().unwrap();
        pages * 4096
    }

    #[test]
    fn freed_large_blocks_go_back_to_the_system() {
        const BLOCK: usize = 64 << 20;
        let block = vec![1u8; BLOCK];
        let touched = resident_bytes();
        assert_eq!(
            block
                .iter()
                .step_by(4096)
                .map(|&b| usize::from(b))
                .sum::<usize>(),
            BLOCK / 4096
        );
        drop(block);
        super::return_freed_memory();
        let after = resident_bytes();
        // Other tests allocate meanwhile; most of the 64 MiB must still be gone.
        assert!(
            after + BLOCK / 2 < touched,
            "resident {touched} bytes with the block, {after} after freeing it"
        );
    }
}
