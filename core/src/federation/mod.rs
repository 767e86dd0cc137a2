//! Federation: signing in to a user pool through another identity provider.
//!
//! - [`upstream`]: upstream OpenID providers' discovery documents and JWKS (fetched over the
//!   outbound-HTTP port, cached in the store) and [`upstream::verify_id_token`].
//! - [`provider`]: a pool's identity providers (CreateIdentityProvider and friends), what each
//!   `ProviderType` takes in `ProviderDetails`, and the endpoints a sign-in uses.
//! - [`federated`]: federated users (`<ProviderName>_<subject>`, status `EXTERNAL_PROVIDER`),
//!   their attribute mapping and `identities`, and links to native users
//!   (AdminLinkProviderForUser, AdminDisableProviderForUser).
//!
//! The browser flow (`/oauth2/authorize` with `identity_provider=`, the callback at
//! `/oauth2/idpresponse`) is in `crate::oidc::federation`. SAML providers are stored and
//! described, and refused by the flows (`UnsupportedIdentityProviderException`) for now.

pub mod apple;
pub mod federated;
pub mod provider;
pub mod upstream;

pub use provider::{IdentityProvider, ProviderType};
pub use upstream::verify_id_token;

#[cfg(test)]
mod tests;
