//! AWS Signature Version 4 verification for administrative operations.
//! (Being written: see the helper task.)

use alloc::string::String;

use crate::error::Error;
use crate::http::Request;
use crate::service::AdminKey;

/// Who signed a request, once the signature checked out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedBy {
    pub access_key_id: String,
    /// The region of the credential scope.
    pub region: String,
}

/// Verifies the request's SigV4 `Authorization` header against the configured keys.
pub fn verify(
    _request: &Request,
    _service: &str,
    _keys: &[AdminKey],
    _now_millis: u64,
) -> Result<SignedBy, Error> {
    Err(Error::new(
        crate::error::ErrorKind::UnrecognizedClient,
        "The security token included in the request is invalid.",
    ))
}

/// The region named in the request's SigV4 credential scope, if it carries one (unverified:
/// used only to pick the region of a public request).
pub fn credential_region(_request: &Request) -> Option<String> {
    None
}
