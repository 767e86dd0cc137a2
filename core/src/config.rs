//! Service-wide configuration: the public base URL, the default region, the operator's access
//! keys. Every protocol reads it; nothing in it is per pool.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::secret::Secret;

/// An operator's access key pair for administrative operations; defined with the SigV4 check
/// that uses it (so `sigv4` does not depend on `service`).
pub use crate::sigv4::AdminKey;

/// Service-wide configuration.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Config {
    /// The public base URL; token issuers are `<base_url>/<poolId>`. No trailing slash.
    pub base_url: String,
    /// The region for requests whose SigV4 credential scope names none.
    pub default_region: String,
    pub admin_keys: Vec<AdminKey>,
    /// How long a hosted-UI sign-in lasts (the session cookie), in seconds. Default 1 hour.
    pub hosted_ui_session_seconds: u64,
    /// The OpenID Connect providers identity pools may name in `OpenIdConnectProviderARNs`.
    #[serde(default)]
    pub oidc_providers: Vec<OidcProvider>,
    /// The certificate (base64 DER) SAML IdPs encrypt assertions to, published in the SP
    /// metadata, when the server has a SAML encryption key (`EncryptedResponses`). The private
    /// key stays with the `Saml` port.
    #[serde(default)]
    pub saml_encryption_certificate: Option<String>,
    /// The certificate (base64 DER) of the server's SAML signing key, which signs single-logout
    /// requests (`IDPSignout`), published in the SP metadata; the key stays with the `Saml` port.
    #[serde(default)]
    pub saml_signing_certificate: Option<String>,
}

/// An OpenID Connect provider as AWS IAM registers one (CreateOpenIDConnectProvider), for
/// identity pools: tokens of the identity pool's `arn:aws:iam::<account>:oidc-provider/<host/path>`
/// must come from the issuer `url` (whose address without the scheme is `<host/path>`) and be
/// issued to one of `client_ids`. Cognito asks IAM for this; Cognate, which has no IAM, reads it
/// from its configuration.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct OidcProvider {
    /// The issuer, e.g. `https://login.example.com` (`http://` only for loopback tests).
    pub url: String,
    /// The audiences (`aud`) its tokens may name.
    pub client_ids: Vec<String>,
}

impl OidcProvider {
    /// The provider's name in `Logins` and in IAM ARNs: the issuer without its scheme.
    pub fn name(&self) -> &str {
        let url = self.url.trim_end_matches('/');
        url.split_once("://").map_or(url, |(_, rest)| rest)
    }
}

impl Config {
    pub fn new(base_url: &str, default_region: &str) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            default_region: default_region.to_string(),
            admin_keys: Vec::new(),
            hosted_ui_session_seconds: 3600,
            oidc_providers: Vec::new(),
            saml_encryption_certificate: None,
            saml_signing_certificate: None,
        }
    }
    pub fn with_admin_key(mut self, access_key_id: &str, secret_access_key: &str) -> Self {
        self.admin_keys.push(AdminKey {
            access_key_id: access_key_id.to_string(),
            secret_access_key: Secret::new(secret_access_key),
        });
        self
    }
}
