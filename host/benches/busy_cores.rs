//! The physical bounds of a loaded server: the CPU time of one RS256 signature (aws-lc-rs, as
//! the host signs) and of one argon2id verification (OWASP parameters, working memory reused,
//! on huge pages, as the host's password port does; also on 4 KiB pages, for comparison) on one thread of an otherwise idle machine, and on every core
//! at once. A server under load runs these on all its cores together, and argon2id's 19 MiB per
//! verification do not all fit the cores' shared cache twice: per core, the machine verifies
//! fewer passwords per CPU-second when every core hashes than when one does. The load
//! benchmark (scripts/bench-load.sh) compares each path with both (issue 23).
//!
//! Run: `cargo bench -p cognate-host --bench busy_cores` (`-- --rounds N`). Alone and busy are
//! interleaved round by round, so a shared machine's drift falls on both; every figure is CPU
//! time per operation of the threads that did it (`/proc/thread-self/schedstat`), medians over
//! the rounds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::hint::black_box;
use std::time::Duration;

mod measure;
use measure::{median, new_rsa_key_der, rounds_arg, time_per_op};

use cognate_core::password::{HashMemory, WorkingMemory, hash_argon2id, verify_argon2id_in};
use cognate_core::ports::{HashParams, PasswordCheck};
use cognate_host::hash_threads::ThreadMemory;

/// µs per operation on `threads` threads running at once (their mean); each thread makes its
/// own state with `setup` first, so a thread's working memory is its own, as on the server.
fn per_op_on<S>(
    threads: usize,
    slice: Duration,
    setup: &(dyn Fn() -> S + Sync),
    op: &(dyn Fn(&mut S) + Sync),
) -> f64 {
    let barrier = std::sync::Barrier::new(threads);
    let each: Vec<f64> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let mut state = setup();
                    op(&mut state); // warm: memory faulted in, key parsed
                    barrier.wait();
                    time_per_op(slice, 1, || op(&mut state))
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    each.iter().sum::<f64>() / each.len() as f64
}

fn main() {
    let rounds = rounds_arg(5);
    let cores = std::thread::available_parallelism().map_or(1, usize::from);

    let der = new_rsa_key_der();
    let input = vec![b'e'; 900];
    let sign_setup = || aws_lc_rs::signature::RsaKeyPair::from_pkcs8(&der).unwrap();
    let sign = |pair: &mut aws_lc_rs::signature::RsaKeyPair| {
        let mut signature = vec![0; pair.public_modulus_len()];
        pair.sign(
            &aws_lc_rs::signature::RSA_PKCS1_SHA256,
            &aws_lc_rs::rand::SystemRandom::new(),
            black_box(&input),
            &mut signature,
        )
        .unwrap();
        black_box(signature);
    };

    let params = HashParams::default();
    let phc = hash_argon2id("Passw0rd!", [7; 16], params).unwrap();
    let verify_in = |memory: &mut dyn WorkingMemory| {
        let check = verify_argon2id_in(black_box("Passw0rd!"), &phc, params, memory).unwrap();
        assert_eq!(check, PasswordCheck::Match);
    };
    let verify = |memory: &mut ThreadMemory| verify_in(memory);
    // The same in an ordinary vector (4 KiB pages): what the huge pages gain.
    let verify_small_pages = |memory: &mut HashMemory| verify_in(memory);

    // Untimed first: a process's first slices run on cold caches and unfaulted pages (one-round
    // runs, each a fresh process, once gave 2,808 signatures/s against 3,648/s for five rounds).
    per_op_on(cores, Duration::from_millis(300), &sign_setup, &sign);
    per_op_on(
        cores,
        Duration::from_millis(300),
        &ThreadMemory::default,
        &verify,
    );
    let (mut sign_alone, mut sign_busy) = (Vec::new(), Vec::new());
    let (mut argon_alone, mut argon_busy) = (Vec::new(), Vec::new());
    let (mut small_alone, mut small_busy) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let slice = Duration::from_millis(400);
        sign_alone.push(per_op_on(1, slice, &sign_setup, &sign));
        sign_busy.push(per_op_on(cores, slice, &sign_setup, &sign));
        let slice = Duration::from_millis(1500);
        argon_alone.push(per_op_on(1, slice, &ThreadMemory::default, &verify));
        argon_busy.push(per_op_on(cores, slice, &ThreadMemory::default, &verify));
        small_alone.push(per_op_on(
            1,
            slice,
            &HashMemory::default,
            &verify_small_pages,
        ));
        small_busy.push(per_op_on(
            cores,
            slice,
            &HashMemory::default,
            &verify_small_pages,
        ));
    }

    println!(
        "CPU time per operation, one thread alone and {cores} threads at once (all cores busy), \
         {rounds} interleaved rounds, medians"
    );
    println!(
        "{:<44} {:>10} {:>9} {:>10} {:>9} {:>7}",
        "operation", "alone µs", "alone/s", "busy µs", "busy/s", "ratio"
    );
    for (name, alone, busy) in [
        ("RS256 sign (aws-lc-rs)", sign_alone, sign_busy),
        (
            "argon2id verify (m=19456 t=2 p=1, reused)",
            argon_alone,
            argon_busy,
        ),
        (
            "the same on 4 KiB pages (not the host's)",
            small_alone,
            small_busy,
        ),
    ] {
        let (a, b) = (median(alone), median(busy));
        println!(
            "{name:<44} {a:>10.1} {:>9.1} {b:>10.1} {:>9.1} {:>7.2}",
            1e6 / a,
            1e6 / b,
            a / b
        );
    }
}
