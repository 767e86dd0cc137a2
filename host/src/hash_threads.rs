//! Password hashing's own threads. Each keeps argon2id's ~19 MiB of working memory from one
//! hash to the next, so a sign-in does not fault in and zero fresh pages. On tokio's shared
//! blocking pool (which also runs SQLite's writes) the next hash often landed on a thread
//! without one, and a loaded server ended up holding one working memory per blocking thread:
//! 219 MB RSS after the sign-in benchmark, 67 MB on these threads (issue 23).
//!
//! At most `threads` hashes run at once (a semaphore); an idle thread is taken most recently
//! used first, so the warmest memory is reused; a thread idle for [`RELEASE_AFTER`] frees its
//! memory (an idle server goes back to its idle size) and keeps waiting.
//!
//! The working memory is on transparent huge pages where the system offers them
//! ([`ThreadMemory`]): argon2id reads its 19 MiB in a data-dependent order, so with 4 KiB pages
//! most of its reads miss the TLB, and in a virtual machine each miss walks two page tables.
//! Measured with both cores hashing (a throwaway program, 8 rounds each): 14.8 against 15.6 ms
//! per verification, ~5% (issue 23).

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use cognate_core::Error;
use cognate_core::password::{Block, HashMemory, WorkingMemory};
use tokio::sync::Semaphore;

/// How long an idle thread keeps its working memory.
pub const RELEASE_AFTER: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut ThreadMemory) + Send>;

/// The huge page size on x86-64 and aarch64 (4 KiB base pages): the mapping is aligned to it.
const HUGE_PAGE: usize = 2 << 20;

/// A hashing thread's working memory: a private anonymous mapping aligned to a huge page and
/// advised to use them (`MADV_HUGEPAGE`), or an ordinary vector where mapping fails.
#[derive(Debug, Default)]
pub struct ThreadMemory {
    mapped: Option<Mapped>,
    fallback: HashMemory,
}

#[derive(Debug)]
struct Mapped {
    map: memmap2::MmapMut,
    /// Where the blocks start: the first huge-page boundary in the mapping.
    offset: usize,
    blocks: usize,
}

impl ThreadMemory {
    /// Bytes of working memory held (kept between verifications).
    pub fn bytes(&self) -> usize {
        self.mapped
            .as_ref()
            .map_or(0, |m| m.blocks * std::mem::size_of::<Block>())
            + self.fallback.bytes()
    }

    fn map(blocks: usize) -> Option<Mapped> {
        let len = blocks.checked_mul(std::mem::size_of::<Block>())?;
        let map = memmap2::MmapMut::map_anon(len.checked_add(HUGE_PAGE)?).ok()?;
        let start = map.as_ptr() as usize;
        let offset = start.next_multiple_of(HUGE_PAGE) - start;
        // Only a hint: without transparent huge pages the mapping is ordinary memory.
        #[cfg(target_os = "linux")]
        let _ = map.advise_range(memmap2::Advice::HugePage, offset, len);
        Some(Mapped {
            map,
            offset,
            blocks,
        })
    }
}

impl WorkingMemory for ThreadMemory {
    fn blocks(&mut self, count: usize) -> &mut [Block] {
        if self.mapped.as_ref().is_none_or(|m| m.blocks < count) {
            // The old mapping goes first, so the two are never held at once.
            self.mapped = None;
            self.mapped = Self::map(count);
        }
        let Some(mapped) = &mut self.mapped else {
            return self.fallback.blocks(count);
        };
        let end = mapped.offset + count * std::mem::size_of::<Block>();
        let Some(bytes) = mapped.map.get_mut(mapped.offset..end) else {
            return self.fallback.blocks(count);
        };
        // SAFETY: `bytes` is `count` blocks' worth of this mapping, borrowed exclusively for as
        // long as the returned slice (through `&mut self`); it starts on a huge-page boundary,
        // which is aligned for `Block` (64 bytes); and a `Block` is 128 `u64`s, for which any
        // bytes are a valid value (the mapping starts zeroed, and argon2 overwrites it).
        #[allow(unsafe_code)]
        let blocks =
            unsafe { std::slice::from_raw_parts_mut(bytes.as_mut_ptr().cast::<Block>(), count) };
        blocks
    }
}

/// A hashing thread: jobs go to it through its channel; dropping this ends the thread once its
/// current job is done.
#[derive(Debug)]
struct Worker {
    jobs: mpsc::Sender<Job>,
}

impl Worker {
    fn spawn(release_after: Duration) -> Result<Self, Error> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("cognate-hash".into())
            .spawn(move || {
                let mut memory = ThreadMemory::default();
                loop {
                    let job = match queue.recv_timeout(release_after) {
                        Ok(job) => job,
                        Err(RecvTimeoutError::Timeout) => {
                            memory = ThreadMemory::default();
                            crate::allocator::return_freed_memory();
                            match queue.recv() {
                                Ok(job) => job,
                                Err(_) => return,
                            }
                        }
                        Err(RecvTimeoutError::Disconnected) => return,
                    };
                    job(&mut memory);
                }
            })
            .map_err(|e| Error::internal(format!("could not start a hashing thread: {e}")))?;
        Ok(Self { jobs })
    }
}

/// The hashing threads (started on demand, at most `threads`).
#[derive(Debug)]
pub struct HashThreads {
    permits: Semaphore,
    idle: Mutex<Vec<Worker>>,
    release_after: Duration,
}

/// Gives a worker back when the job's future ends, finished or dropped (a dropped request's
/// job still completes on its thread; the next job queues behind it there).
struct Lease<'a> {
    pool: &'a HashThreads,
    worker: Option<Worker>,
}

impl Drop for Lease<'_> {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            self.pool.idle_lock().push(worker);
        }
    }
}

impl HashThreads {
    pub fn new(threads: usize) -> Self {
        Self::with_release_after(threads, RELEASE_AFTER)
    }

    pub fn with_release_after(threads: usize, release_after: Duration) -> Self {
        Self {
            permits: Semaphore::new(threads.max(1)),
            idle: Mutex::new(Vec::new()),
            release_after,
        }
    }

    fn idle_lock(&self) -> std::sync::MutexGuard<'_, Vec<Worker>> {
        self.idle
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `work` on a hashing thread with that thread's working memory. Needs no tokio
    /// runtime (a benchmark's plain executor works too). A panic in `work` is an internal
    /// error and leaves the thread serving.
    pub async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce(&mut ThreadMemory) -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| Error::internal("password hasher closed"))?;
        let popped = self.idle_lock().pop();
        let worker = match popped {
            Some(worker) => worker,
            None => Worker::spawn(self.release_after)?,
        };
        let mut lease = Lease {
            pool: self,
            worker: Some(worker),
        };
        let (answer, answered) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let result = std::panic::catch_unwind(AssertUnwindSafe(|| work(memory)))
                .unwrap_or_else(|_| Err(Error::internal("password hashing failed")));
            let _ = answer.send(result);
        });
        let sent = lease
            .worker
            .as_ref()
            .is_some_and(|worker| worker.jobs.send(job).is_ok());
        let outcome = if sent { answered.await.ok() } else { None };
        // A thread that stopped (it cannot, short of an abort) is not given back.
        let Some(result) = outcome else {
            lease.worker = None;
            return Err(Error::internal("a hashing thread stopped"));
        };
        drop(lease);
        result
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use cognate_core::ports::{HashParams, PasswordCheck};

    const FAST: HashParams = HashParams {
        memory_kib: 64,
        iterations: 1,
        parallelism: 1,
    };

    fn thread_name_and_memory(memory: &mut ThreadMemory) -> Result<(String, usize), Error> {
        let id = format!("{:?}", std::thread::current().id());
        Ok((id, memory.bytes()))
    }

    /// Hashes one after another reuse one thread and its memory; after the idle time the
    /// memory is freed and the thread serves on.
    #[tokio::test]
    async fn one_thread_keeps_its_memory_until_idle() {
        let threads = HashThreads::with_release_after(2, Duration::from_millis(50));
        let phc = cognate_core::password::hash_argon2id("Passw0rd!", [1; 16], FAST).unwrap();
        let check = |password: &'static str| {
            let phc = phc.clone();
            threads.run(move |memory| {
                cognate_core::password::verify_argon2id_in(password, &phc, FAST, memory)
            })
        };
        assert_eq!(check("Passw0rd!").await.unwrap(), PasswordCheck::Match);
        let (first, warm) = threads.run(thread_name_and_memory).await.unwrap();
        assert!(
            warm >= 64 * 1024,
            "the verification's memory is kept: {warm}"
        );
        assert_eq!(check("wrong").await.unwrap(), PasswordCheck::Mismatch);
        let (again, _) = threads.run(thread_name_and_memory).await.unwrap();
        assert_eq!(first, again, "the most recently used thread is taken first");
        tokio::time::sleep(Duration::from_millis(500)).await;
        let (later, cold) = threads.run(thread_name_and_memory).await.unwrap();
        assert_eq!((later, cold), (first, 0), "idle: memory freed, thread kept");
    }

    /// The mapped memory starts on a huge-page boundary, is kept for the next hash of the same
    /// size or smaller, and gives the same answers as an ordinary vector.
    #[test]
    fn thread_memory_is_aligned_kept_and_correct() {
        let mut memory = ThreadMemory::default();
        let first = memory.blocks(64).as_ptr() as usize;
        assert_eq!(first % HUGE_PAGE, 0, "on a huge-page boundary");
        assert_eq!(
            memory.blocks(32).as_ptr() as usize,
            first,
            "kept, not mapped again"
        );
        assert_eq!(memory.bytes(), 64 * 1024);
        let phc = cognate_core::password::hash_argon2id("Passw0rd!", [3; 16], FAST).unwrap();
        for (password, expected) in [
            ("Passw0rd!", PasswordCheck::Match),
            ("Passw0rd?", PasswordCheck::Mismatch),
        ] {
            let in_map =
                cognate_core::password::verify_argon2id_in(password, &phc, FAST, &mut memory);
            let in_vec = cognate_core::password::verify_argon2id_in(
                password,
                &phc,
                FAST,
                &mut HashMemory::default(),
            );
            assert_eq!(in_map.unwrap(), expected);
            assert_eq!(in_vec.unwrap(), expected);
        }
    }

    /// A panic is an error, not a lost thread; a dropped job's thread comes back.
    #[tokio::test]
    async fn panics_and_dropped_requests_lose_no_capacity() {
        let threads = HashThreads::new(1);
        let failed = threads
            .run(|_| -> Result<(), Error> { panic!("in a hash") })
            .await;
        assert!(failed.is_err());
        let slow = threads.run(|_| {
            std::thread::sleep(Duration::from_millis(100));
            Ok(())
        });
        // Started, then dropped while its job runs.
        let dropped = tokio::time::timeout(Duration::from_millis(10), slow).await;
        assert!(dropped.is_err(), "still running when dropped");
        for _ in 0..3 {
            assert_eq!(threads.run(|_| Ok(7)).await.unwrap(), 7);
        }
        assert_eq!(threads.idle_lock().len(), 1, "one thread, back in the pool");
    }
}
