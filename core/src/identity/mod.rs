//! Identity pools (Cognito's `AWSCognitoIdentityService`): pools ([`pools`]), identities and the
//! logins linked to them ([`identities`]), how a login is proved ([`logins`]), the identity
//! service's OpenID tokens ([`open_id`]), roles and role mappings ([`roles`]), principal tags
//! ([`principal_tags`]), developer-authenticated identities ([`developer`]) and credentials
//! from an STS ([`credentials`]).
//!
//! # Security
//! - A login is a verified token, never a trusted string: a Cognate user pool's ID token is
//!   checked with the pool's keys ([`crate::token::verify`]), its audience against the identity
//!   pool's `CognitoIdentityProviders`, and with `ServerSideTokenCheck` against revocation.
//!   Developer logins are accepted only on the SigV4-signed developer operations.
//! - One login is one identity: the login's reservation is a create-only store write
//!   ([`crate::store::keys::identity_login`]), so racing requests agree on one identity.
//! - OpenID tokens are RS256 JWTs signed by the identity service's own key, published at
//!   [`open_id::JWKS_PATH`] with a discovery document, so AWS IAM (or any STS) can trust them.

use alloc::format;
use alloc::string::String;

use crate::error::Error;

pub mod credentials;
pub mod developer;
pub mod identities;
pub mod logins;
pub mod open_id;
pub mod pools;
pub mod principal_tags;
pub mod roles;

pub use identities::IdentityRecord;
pub use pools::IdentityPoolRecord;

/// Whether `id` has the form of an identity pool or identity id: `<region>:<uuid>`.
pub fn is_identity_id(id: &str) -> bool {
    match id.split_once(':') {
        Some((region, uuid)) => {
            !region.is_empty()
                && region.len() <= 30
                && region
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                && uuid.len() == 36
                && uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        }
        None => false,
    }
}

/// A new identity pool or identity id in `region`.
pub fn new_id(random: &dyn crate::ports::Random, region: &str) -> String {
    format!("{region}:{}", crate::ids::uuid_v4(random))
}

/// Cognito's answer for an identity pool that does not exist.
pub fn pool_not_found(identity_pool_id: &str) -> Error {
    Error::resource_not_found(format!(
        "IdentityPool '{}' not found.",
        identity_pool_id.chars().take(64).collect::<String>()
    ))
}

/// Cognito's answer for an identity that does not exist.
pub fn identity_not_found(identity_id: &str) -> Error {
    Error::resource_not_found(format!(
        "Identity '{}' not found.",
        identity_id.chars().take(64).collect::<String>()
    ))
}
