//! AWS Signature Version 4: checking the administrative requests Cognate receives, and signing
//! the calls it makes to AWS (SES, SNS).
//!
//! Checks the `Authorization: AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
//! header the AWS SDKs, the AWS CLI and botocore put on a request, as AWS services do for
//! header-based authentication (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html>).
//! Presigned (query-string) URLs, chunked/streaming and unsigned payloads are not accepted: an
//! administrative request's body must be covered by its signature. No crate verifies SigV4, so
//! the check is ours; the AWS SDK for Rust's signer (`aws-sigv4`) is its test oracle.
//!
//! The canonical request is rebuilt from the request as received. Where AWS's own signers
//! differ on a detail, each variant they produce is tried (at most eight, each one linear pass
//! over the request, all compared in constant time):
//! - the canonical URI: the SDKs for every service but S3 normalise the path (drop empty, `.`
//!   and `..` segments) and URI-encode the path *as sent*, so an escaped `%3A` is signed as
//!   `%253A` ("double encoding"); other signers neither normalise nor re-escape an existing
//!   `%XX`. The normalised and the raw path are each tried encoded both ways.
//! - header values: AWS's documentation and the Rust and Go SDKs collapse runs of spaces only,
//!   botocore and the JavaScript SDK every run of whitespace; both are tried when they differ.
//!
//! Work is linear in the request's size: `SignedHeaders` must be sorted and free of duplicates
//! (as every AWS signer writes it), so each header value is read once per variant.
//!
//! | file | concept |
//! |---|---|
//! | `verify.rs` | the check of a received request ([`verify`], [`credential_region`]) |
//! | `authorization.rs` | the `Authorization` header: algorithm, credential scope, signed headers |
//! | `date.rs` | the request's time (`x-amz-date`, `Date`) and the 15-minute clock skew |
//! | `canonical.rs` | the canonical request: URI, query, headers, payload hash |
//! | `key.rs` | the signing key derivation and the string to sign |
//! | `sign.rs` | signing Cognate's own calls to AWS ([`sign`]) |
//! | `vectors/` | AWS's test suite and captured SDK requests, the tests' data |

use alloc::string::String;

use crate::error::{Error, ErrorKind};
use crate::secret::Secret;

mod authorization;
mod canonical;
mod date;
mod key;
mod sign;
mod verify;

pub use sign::{Credentials, sign};
pub use verify::{credential_region, verify};

/// An operator's access key pair for administrative operations (SigV4).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct AdminKey {
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

/// Who signed a request, once the signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub access_key_id: String,
    /// The region of the credential scope.
    pub region: String,
}

const ALGORITHM: &str = "AWS4-HMAC-SHA256";
const TERMINATOR: &str = "aws4_request";

const MISSING_TOKEN: &str = "Missing Authentication Token";
const INVALID_TOKEN: &str = "The security token included in the request is invalid.";
const MISMATCH: &str = "The request signature we calculated does not match the signature you \
                        provided. Check your AWS Secret Access Key and signing method. Consult \
                        the service documentation for details.";

fn invalid(message: impl Into<String>) -> Error {
    Error::new(ErrorKind::InvalidSignature, message)
}

#[cfg(test)]
mod tests;
