//! CPU time of the calling thread, shared by the benchmarks that report per-operation bounds.

use std::time::{Duration, Instant};

/// This thread's CPU time in nanoseconds (Linux: `/proc/thread-self/schedstat`), so a round
/// counts the work done, not the time other processes held the core (a shared machine); `None`
/// elsewhere, where wall time is used instead.
fn thread_cpu_ns() -> Option<u64> {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}

/// Runs `op` (which does `per_call` operations) for about `slice` of CPU time; returns µs of CPU
/// (wall time where CPU time cannot be read) per operation.
pub fn time_per_op(slice: Duration, per_call: u32, mut op: impl FnMut()) -> f64 {
    let (start_cpu, start) = (thread_cpu_ns(), Instant::now());
    let spent = || match (start_cpu, thread_cpu_ns()) {
        (Some(a), Some(b)) => Duration::from_nanos(b.saturating_sub(a)),
        _ => start.elapsed(),
    };
    let mut ops = 0u32;
    while spent() < slice {
        op();
        ops += per_call;
    }
    spent().as_secs_f64() * 1e6 / f64::from(ops)
}

/// The median of a round's figures (the middle one of an odd count).
#[allow(clippy::indexing_slicing)] // never empty: at least one round
pub fn median(mut xs: Vec<f64>) -> f64 {
    xs.sort_by(f64::total_cmp);
    xs[xs.len() / 2]
}
