//! RS256 (RSASSA-PKCS1-v1_5 with SHA-256), 2048-bit, on one thread: sign and verify with ring,
//! aws-lc-rs and RustCrypto's `rsa`, in interleaved rounds (A B C A B C …) so that the ratios hold
//! when a shared machine's speed drifts. This is the signing bound every token path of the load
//! benchmark (scripts/bench-load.sh) is compared with (issue 23).
//!
//! Run: `taskset -c 0 cargo bench -p cognate-host --bench rsa` (`-- --rounds N` for more rounds).
//! `openssl speed -seconds 3 rsa2048` (which also counts CPU time) is the reference bound
//! (scripts/bench-load.sh prints both). The `openssl` crate over the system's libcrypto 3 was
//! measured too (issue 23): within 2% of aws-lc-rs, at the cost of a system library.
//!
//! Every library signs the same input with the same key and must produce the same signature
//! (PKCS#1 v1.5 is deterministic) and verify each other's: a benchmark of a wrong signer fails.
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

use rsa::pkcs8::DecodePrivateKey;
use rsa::signature::{SignatureEncoding, Signer, Verifier};
use rsa::traits::{PrivateKeyParts, PublicKeyParts};

/// Signs an input.
type SignFn = Box<dyn Fn(&[u8]) -> Vec<u8>>;
/// Verifies a signature over an input.
type VerifyFn = Box<dyn Fn(&[u8], &[u8]) -> bool>;

/// One candidate: a name and its sign and verify closures.
struct Candidate {
    name: &'static str,
    sign: SignFn,
    verify: VerifyFn,
    /// RustCrypto is slow: fewer operations a round keep the rounds of equal length in time.
    weight: u32,
}

fn candidates(der: &[u8], n: &[u8], e: &[u8]) -> Vec<Candidate> {
    let ring_pair = ring::signature::RsaKeyPair::from_pkcs8(der).unwrap();
    let ring_public = ring::signature::RsaPublicKeyComponents {
        n: n.to_vec(),
        e: e.to_vec(),
    };
    let ring_rng = ring::rand::SystemRandom::new();

    let lc_pair = aws_lc_rs::signature::RsaKeyPair::from_pkcs8(der).unwrap();
    let lc_public = aws_lc_rs::signature::RsaPublicKeyComponents {
        n: n.to_vec(),
        e: e.to_vec(),
    };
    let lc_rng = aws_lc_rs::rand::SystemRandom::new();

    let rc_key = rsa::RsaPrivateKey::from_pkcs8_der(der).unwrap();
    let rc_signer = rsa::pkcs1v15::SigningKey::<rsa::sha2::Sha256>::new(rc_key.clone());
    let rc_verifier = rsa::pkcs1v15::VerifyingKey::<rsa::sha2::Sha256>::new(rc_key.to_public_key());

    vec![
        Candidate {
            name: "ring 0.17",
            sign: Box::new(move |input| {
                let mut sig = vec![0; ring_pair.public().modulus_len()];
                ring_pair
                    .sign(
                        &ring::signature::RSA_PKCS1_SHA256,
                        &ring_rng,
                        input,
                        &mut sig,
                    )
                    .unwrap();
                sig
            }),
            verify: Box::new(move |input, sig| {
                ring_public
                    .verify(&ring::signature::RSA_PKCS1_2048_8192_SHA256, input, sig)
                    .is_ok()
            }),
            weight: 4,
        },
        Candidate {
            name: "aws-lc-rs 1.19",
            sign: Box::new(move |input| {
                let mut sig = vec![0; lc_pair.public_modulus_len()];
                lc_pair
                    .sign(
                        &aws_lc_rs::signature::RSA_PKCS1_SHA256,
                        &lc_rng,
                        input,
                        &mut sig,
                    )
                    .unwrap();
                sig
            }),
            verify: Box::new(move |input, sig| {
                lc_public
                    .verify(
                        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                        input,
                        sig,
                    )
                    .is_ok()
            }),
            weight: 4,
        },
        Candidate {
            name: "RustCrypto rsa 0.9",
            sign: Box::new(move |input| rc_signer.sign(input).to_vec()),
            verify: Box::new(move |input, sig| {
                rsa::pkcs1v15::Signature::try_from(sig)
                    .map(|sig| rc_verifier.verify(input, &sig).is_ok())
                    .unwrap_or(false)
            }),
            weight: 1,
        },
    ]
}

fn main() {
    let rounds = rounds_arg(7);

    let der = new_rsa_key_der();
    let key = rsa::RsaPrivateKey::from_pkcs8_der(&der).unwrap();
    let primes: Vec<usize> = key.primes().iter().map(|p| p.bits()).collect();
    let n = key.n().to_bytes_be();
    let e = key.e().to_bytes_be();
    let all = candidates(&der, &n, &e);

    // A JWT's signing input is about this long (header.payload of an access token).
    let input = vec![b'e'; 900];
    let reference = (all[0].sign)(&input);
    for c in &all {
        let sig = (c.sign)(&input);
        assert_eq!(sig, reference, "{} signs differently", c.name);
        for other in &all {
            assert!(
                (other.verify)(&input, &sig),
                "{} rejects {}",
                other.name,
                c.name
            );
        }
        let mut bad = sig.clone();
        bad[7] ^= 1;
        assert!(
            !(c.verify)(&input, &bad),
            "{} accepts a bad signature",
            c.name
        );
    }

    // Per round each candidate signs for about `slice` of CPU time and verifies for `slice / 4`.
    let slice = Duration::from_millis(400);
    let mut sign_us: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    let mut verify_us: Vec<Vec<f64>> = vec![Vec::new(); all.len()];
    for _ in 0..rounds {
        for (i, c) in all.iter().enumerate() {
            sign_us[i].push(time_per_op(slice, c.weight, || {
                for _ in 0..c.weight {
                    black_box((c.sign)(black_box(&input)));
                }
            }));
            verify_us[i].push(time_per_op(slice / 4, 16, || {
                for _ in 0..16 {
                    black_box((c.verify)(black_box(&input), black_box(&reference)));
                }
            }));
        }
    }

    println!(
        "RS256 2048-bit (primes of {primes:?} bits), one thread, {rounds} interleaved rounds \
         (medians of CPU time per operation; ratio to ring)"
    );
    println!(
        "{:<28} {:>10} {:>10} {:>8} {:>10} {:>10} {:>8}",
        "library", "sign µs", "sign/s", "×ring", "verify µs", "verify/s", "×ring"
    );
    let ring_sign = median(sign_us[0].clone());
    let ring_verify = median(verify_us[0].clone());
    for (i, c) in all.iter().enumerate() {
        let s = median(sign_us[i].clone());
        let v = median(verify_us[i].clone());
        println!(
            "{:<28} {:>10.1} {:>10.0} {:>8.2} {:>10.1} {:>10.0} {:>8.2}",
            c.name,
            s,
            1e6 / s,
            ring_sign / s,
            v,
            1e6 / v,
            ring_verify / v
        );
    }
}
