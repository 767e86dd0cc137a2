//! Password hashing's own threads. Each keeps argon2id's ~19 MiB of working memory from one
//! hash to the next, so a sign-in does not fault in and zero fresh pages. On tokio's shared
//! blocking pool (which also runs SQLite's writes) the next hash often landed on a thread
//! without one, and a loaded server ended up holding one working memory per blocking thread:
//! 219 MB RSS after the sign-in benchmark, 67 MB on these threads (issue 23).
//!
//! At most `threads` hashes run at once (a semaphore); an idle thread is taken most recently
//! used first, so the warmest memory is reused; a thread idle for [`RELEASE_AFTER`] frees its
//! memory (an idle server goes back to its idle size) and keeps waiting.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

use cognate_core::Error;
use cognate_core::password::HashMemory;
use tokio::sync::Semaphore;

/// How long an idle thread keeps its working memory.
pub const RELEASE_AFTER: Duration = Duration::from_secs(10);

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

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
                let mut memory = HashMemory::default();
                loop {
                    let job = match queue.recv_timeout(release_after) {
                        Ok(job) => job,
                        Err(RecvTimeoutError::Timeout) => {
                            memory = HashMemory::default();
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
        work: impl FnOnce(&mut HashMemory) -> Result<T, Error> + Send + 'static,
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

    fn thread_name_and_memory(memory: &mut HashMemory) -> Result<(String, usize), Error> {
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
