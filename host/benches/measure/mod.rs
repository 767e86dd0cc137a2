//! What the benchmarks of the physical bounds share (rsa.rs, busy_cores.rs): their `--rounds`
//! argument, a signing key as the host makes it, CPU time per operation of the calling thread.

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

/// `--rounds N` from the command line (`cargo bench` passes `--bench` and the like, which are
/// ignored); at least 1.
pub fn rounds_arg(default: usize) -> usize {
    let mut rounds = default;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        if arg == "--rounds" {
            rounds = args.next().and_then(|n| n.parse().ok()).unwrap_or(rounds);
        }
    }
    rounds.max(1)
}

/// A 2048-bit RSA key as the host makes it (host/src/jws.rs: the `rsa` crate's generator),
/// PKCS#8 DER.
#[allow(clippy::expect_used)] // a benchmark without a key has nothing to measure
pub fn new_rsa_key_der() -> Vec<u8> {
    use rsa::pkcs8::EncodePrivateKey;
    rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .expect("RSA key generation")
        .to_pkcs8_der()
        .expect("PKCS#8 encoding")
        .as_bytes()
        .to_vec()
}
