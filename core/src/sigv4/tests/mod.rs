//! The SigV4 tests: AWS's test suite and requests captured from AWS's signers (data files in
//! `vectors/`), the checks' error answers, and the AWS SDK for Rust's signer as an oracle.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::*;
use crate::error::Error;
use crate::http::Request;
use crate::secret::Secret;

mod checks;
mod codecs;
mod oracle;
mod suite;

// The credentials, region, service and time of AWS's SigV4 test suite.
const SUITE_KEY_ID: &str = "AKIDEXAMPLE";
const SUITE_SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
const SUITE_DATE: &str = "20150830T123600Z";
const SUITE_SCOPE: &str = "20150830/us-east-1/service/aws4_request";
/// 2015-08-30T12:36:00Z.
const SUITE_NOW_MS: u64 = 1_440_938_160_000;

/// A request of AWS's test suite (`vectors/aws-signing-test-suite.json`).
#[derive(Debug, Clone, serde::Deserialize)]
struct Vector {
    name: String,
    method: String,
    /// The request line's target: path and query.
    target: String,
    headers: Vec<(String, String)>,
    body: String,
    signed_headers: String,
    signature: String,
}

#[derive(serde::Deserialize)]
struct SuiteFile {
    vectors: Vec<Vector>,
}

fn suite() -> Vec<Vector> {
    let file: SuiteFile =
        serde_json::from_str(include_str!("../vectors/aws-signing-test-suite.json")).unwrap();
    file.vectors
}

fn vector(name: &str) -> Vector {
    suite()
        .into_iter()
        .find(|vector| vector.name == name)
        .unwrap_or_else(|| panic!("no vector {name}"))
}

/// A request signed by one of AWS's signers (`vectors/signed-requests.json`).
#[derive(Debug, Clone, serde::Deserialize)]
struct Signed {
    name: String,
    service: String,
    now_millis: u64,
    region: String,
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
    body: String,
}

#[derive(serde::Deserialize)]
struct SignedFile {
    requests: Vec<Signed>,
}

impl Signed {
    fn named(name: &str) -> Self {
        let file: SignedFile =
            serde_json::from_str(include_str!("../vectors/signed-requests.json")).unwrap();
        file.requests
            .into_iter()
            .find(|request| request.name == name)
            .unwrap_or_else(|| panic!("no signed request {name}"))
    }

    fn request(&self) -> Request {
        let mut request = Request::new(&self.method, &self.path).with_body(self.body.as_bytes());
        request.query = self.query.clone();
        for (name, value) in &self.headers {
            request = request.with_header(name, value);
        }
        request
    }

    fn verify(&self, request: &Request) -> Result<SignedBy, Error> {
        verify(request, &self.service, &keys(), self.now_millis)
    }
}

fn keys() -> Vec<AdminKey> {
    alloc::vec![
        AdminKey {
            access_key_id: "AKIDOTHER".to_string(),
            secret_access_key: Secret::new("another secret"),
        },
        AdminKey {
            access_key_id: SUITE_KEY_ID.to_string(),
            secret_access_key: Secret::new(SUITE_SECRET),
        },
    ]
}

fn authorization(scope: &str, signed_headers: &str, signature: &str) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/{scope}, \
         SignedHeaders={signed_headers}, Signature={signature}"
    )
}

/// A request of the test suite: `target` is the request line's target (path and query),
/// `host: example.amazonaws.com` and `x-amz-date` are added as the suite's signer does.
fn suite_request(
    method: &str,
    target: &str,
    headers: &[(String, String)],
    body: &[u8],
    signed_headers: &str,
    signature: &str,
) -> Request {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let mut request = Request::new(method, path)
        .with_header("Host", "example.amazonaws.com")
        .with_body(body.to_vec());
    request.query = query.to_string();
    for (name, value) in headers {
        request = request.with_header(name, value);
    }
    request.with_header("X-Amz-Date", SUITE_DATE).with_header(
        "Authorization",
        &authorization(SUITE_SCOPE, signed_headers, signature),
    )
}

fn vector_request(vector: &Vector) -> Request {
    suite_request(
        &vector.method,
        &vector.target,
        &vector.headers,
        vector.body.as_bytes(),
        &vector.signed_headers,
        &vector.signature,
    )
}

/// `vector` with its Authorization header replaced.
fn with_authorization(vector: &Vector, value: &str) -> Request {
    let mut request = vector_request(vector);
    request.headers.retain(|(name, _)| name != "authorization");
    request.with_header("authorization", value)
}

fn verify_suite(request: &Request) -> Result<SignedBy, Error> {
    verify(request, "service", &keys(), SUITE_NOW_MS)
}

fn assert_error(result: Result<SignedBy, Error>, kind: ErrorKind, message: &str) {
    match result {
        Ok(signed_by) => panic!("accepted, signed by {signed_by:?}; wanted {message}"),
        Err(error) => {
            assert_eq!(error.kind, kind, "{error}");
            assert!(
                error.message.contains(message),
                "{:?} does not contain {message:?}",
                error.message
            );
        }
    }
}
