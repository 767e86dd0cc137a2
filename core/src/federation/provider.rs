//! A user pool's identity providers (Cognito's `IdentityProviderType`): what each
//! `ProviderType` takes in `ProviderDetails`, the stored record, and the endpoints a sign-in
//! uses.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, ErrorKind};
use crate::ports::Env;
use crate::store::keys;

/// Cognito's `IdentityProviderTypeType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ProviderType {
    #[serde(rename = "SAML")]
    Saml,
    Facebook,
    Google,
    LoginWithAmazon,
    SignInWithApple,
    #[serde(rename = "OIDC")]
    Oidc,
}

impl ProviderType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Saml => "SAML",
            Self::Facebook => "Facebook",
            Self::Google => "Google",
            Self::LoginWithAmazon => "LoginWithAmazon",
            Self::SignInWithApple => "SignInWithApple",
            Self::Oidc => "OIDC",
        }
    }
    /// Social providers must be named after their type.
    pub fn is_social(self) -> bool {
        matches!(
            self,
            Self::Facebook | Self::Google | Self::LoginWithAmazon | Self::SignInWithApple
        )
    }
    /// `ProviderDetails` keys a create or update must carry.
    fn required(self) -> &'static [&'static str] {
        match self {
            Self::Saml => &[],
            Self::Facebook | Self::Google | Self::LoginWithAmazon => {
                &["client_id", "client_secret", "authorize_scopes"]
            }
            Self::SignInWithApple => &[
                "client_id",
                "team_id",
                "key_id",
                "private_key",
                "authorize_scopes",
            ],
            Self::Oidc => &[
                "client_id",
                "attributes_request_method",
                "oidc_issuer",
                "authorize_scopes",
            ],
        }
    }
    /// Every `ProviderDetails` key it accepts (the required ones and the ones Cognito fills in).
    fn accepted(self) -> &'static [&'static str] {
        const OAUTH: &[&str] = &[
            "client_id",
            "client_secret",
            "authorize_scopes",
            "authorize_url",
            "token_url",
            "token_request_method",
            "attributes_url",
            "attributes_url_add_attributes",
            "attributes_request_method",
            "oidc_issuer",
            "jwks_uri",
            "api_version",
            "team_id",
            "key_id",
            "private_key",
        ];
        match self {
            Self::Saml => &[
                "MetadataURL",
                "MetadataFile",
                "IDPSignout",
                "IDPInit",
                "EncryptedResponses",
                "RequestSigningAlgorithm",
                "ActiveEncryptionCertificate",
                "SLORedirectBindingURI",
                "SSORedirectBindingURI",
            ],
            _ => OAUTH,
        }
    }
    /// The IdP attribute Cognito maps to `username` (the subject) by default.
    pub fn subject_claim(self) -> &'static str {
        match self {
            Self::Facebook => "id",
            Self::LoginWithAmazon => "user_id",
            Self::Saml => "NameID",
            _ => "sub",
        }
    }
}

/// A stored identity provider.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IdentityProvider {
    pub user_pool_id: String,
    pub provider_name: String,
    pub provider_type: ProviderType,
    pub provider_details: BTreeMap<String, String>,
    pub attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    pub idp_identifiers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr_mapping: Option<Value>,
    pub created_millis: u64,
    pub modified_millis: u64,
}

impl IdentityProvider {
    /// Cognito's `IdentityProviderType` (secrets included, as Cognito's DescribeIdentityProvider
    /// answers them, except Sign in with Apple's private key).
    pub fn to_wire(&self) -> Value {
        let mut details = self.provider_details.clone();
        details.remove("private_key");
        let mut out = json!({
            "UserPoolId": self.user_pool_id,
            "ProviderName": self.provider_name,
            "ProviderType": self.provider_type.as_str(),
            "ProviderDetails": details,
            "AttributeMapping": self.attribute_mapping,
            "IdpIdentifiers": self.idp_identifiers,
            "LastModifiedDate": crate::pool::epoch_seconds(self.modified_millis),
            "CreationDate": crate::pool::epoch_seconds(self.created_millis),
        });
        if let (Some(acr), Value::Object(map)) = (&self.acr_mapping, &mut out) {
            map.insert("AcrMapping".into(), acr.clone());
        }
        out
    }
    /// Cognito's `ProviderDescription` (ListIdentityProviders).
    pub fn description(&self) -> Value {
        json!({
            "ProviderName": self.provider_name,
            "ProviderType": self.provider_type.as_str(),
            "LastModifiedDate": crate::pool::epoch_seconds(self.modified_millis),
            "CreationDate": crate::pool::epoch_seconds(self.created_millis),
        })
    }
    pub fn detail(&self, key: &str) -> Option<&str> {
        self.provider_details
            .get(key)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }
}

pub fn provider_missing(pool_id: &str, name: &str) -> Error {
    Error::resource_not_found(format!(
        "Identity provider {name} does not exist in user pool {pool_id}."
    ))
}

/// Checks a provider name (`ProviderNameTypeV2`: 3..=32 characters, no `_` or space at either
/// end; social providers are named after their type; `Cognito` is the pool itself).
pub fn check_name(name: &str, provider_type: ProviderType) -> Result<(), Error> {
    let n = name.chars().count();
    let first = name.chars().next();
    let last = name.chars().last();
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c != '_' && !c.is_whitespace());
    if !(3..=32).contains(&n)
        || !edge_ok(first)
        || !edge_ok(last)
        || name.chars().any(char::is_control)
    {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'providerName' failed to satisfy constraint: Member must satisfy regular expression pattern: [^_\\p{Z}][\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}][^_\\p{Z}]+",
        ));
    }
    if name.eq_ignore_ascii_case("cognito") {
        return Err(Error::invalid_parameter(
            "The provider name Cognito is reserved for the user pool itself.",
        ));
    }
    if provider_type.is_social() && name != provider_type.as_str() {
        return Err(Error::invalid_parameter(format!(
            "The provider name of a {} provider must be {}.",
            provider_type.as_str(),
            provider_type.as_str()
        )));
    }
    Ok(())
}

/// Checks and completes `ProviderDetails` for a type: required keys present, no unknown key,
/// methods and URLs well formed, `openid` among an OIDC provider's scopes; fills in the keys
/// Cognito describes for social providers.
pub fn check_details(
    provider_type: ProviderType,
    details: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut details = details.clone();
    for key in details.keys() {
        if !provider_type.accepted().contains(&key.as_str()) {
            return Err(Error::invalid_parameter(format!(
                "The ProviderDetails key {key} is not valid for provider type {}.",
                provider_type.as_str()
            )));
        }
    }
    for key in provider_type.required() {
        if details.get(*key).is_none_or(|v| v.trim().is_empty()) {
            return Err(Error::invalid_parameter(format!(
                "The ProviderDetails key {key} is required for provider type {}.",
                provider_type.as_str()
            )));
        }
    }
    for key in [
        "authorize_url",
        "token_url",
        "attributes_url",
        "jwks_uri",
        "oidc_issuer",
        "MetadataURL",
    ] {
        if let Some(url) = details.get(key)
            && crate::codec::url_host(url).is_none()
        {
            return Err(Error::invalid_parameter(format!(
                "The ProviderDetails key {key} must be an http(s) URL."
            )));
        }
    }
    for key in ["attributes_request_method", "token_request_method"] {
        if let Some(method) = details.get(key)
            && method != "GET"
            && method != "POST"
        {
            return Err(Error::invalid_parameter(format!(
                "The ProviderDetails key {key} must be GET or POST."
            )));
        }
    }
    match provider_type {
        ProviderType::Saml => {
            let url = details.contains_key("MetadataURL");
            let file = details.contains_key("MetadataFile");
            if url == file {
                return Err(Error::invalid_parameter(
                    "A SAML provider needs exactly one of the ProviderDetails keys MetadataURL and MetadataFile.",
                ));
            }
        }
        ProviderType::Oidc => {
            let scopes = details
                .get("authorize_scopes")
                .map(String::as_str)
                .unwrap_or_default();
            if !scopes.split([' ', ',']).any(|s| s == "openid") {
                return Err(Error::invalid_parameter(
                    "The authorize_scopes of an OIDC provider must include openid.",
                ));
            }
            details
                .entry("attributes_url_add_attributes".into())
                .or_insert_with(|| "false".into());
        }
        ProviderType::Google => {
            for (k, v) in [
                (
                    "attributes_url",
                    "https://people.googleapis.com/v1/people/me?personFields=",
                ),
                ("attributes_url_add_attributes", "true"),
                (
                    "authorize_url",
                    "https://accounts.google.com/o/oauth2/v2/auth",
                ),
                ("oidc_issuer", "https://accounts.google.com"),
                ("token_request_method", "POST"),
                ("token_url", "https://www.googleapis.com/oauth2/v4/token"),
            ] {
                details.entry(k.into()).or_insert_with(|| v.into());
            }
        }
        ProviderType::Facebook => {
            let version = details
                .get("api_version")
                .cloned()
                .unwrap_or_else(|| "v17.0".into());
            for (k, v) in [
                (
                    "attributes_url",
                    format!("https://graph.facebook.com/{version}/me?fields="),
                ),
                ("attributes_url_add_attributes", "true".into()),
                (
                    "authorize_url",
                    format!("https://www.facebook.com/{version}/dialog/oauth"),
                ),
                ("token_request_method", "GET".into()),
                (
                    "token_url",
                    format!("https://graph.facebook.com/{version}/oauth/access_token"),
                ),
            ] {
                details.entry(k.into()).or_insert(v);
            }
        }
        ProviderType::LoginWithAmazon => {
            for (k, v) in [
                ("attributes_url", "https://api.amazon.com/user/profile"),
                ("attributes_url_add_attributes", "false"),
                ("authorize_url", "https://www.amazon.com/ap/oa"),
                ("token_request_method", "POST"),
                ("token_url", "https://api.amazon.com/auth/o2/token"),
            ] {
                details.entry(k.into()).or_insert_with(|| v.into());
            }
        }
        ProviderType::SignInWithApple => {
            for (k, v) in [
                ("attributes_url_add_attributes", "false"),
                ("authorize_url", "https://appleid.apple.com/auth/authorize"),
                ("oidc_issuer", "https://appleid.apple.com"),
                ("token_request_method", "POST"),
                ("token_url", "https://appleid.apple.com/auth/token"),
            ] {
                details.entry(k.into()).or_insert_with(|| v.into());
            }
        }
    }
    Ok(details)
}

/// Checks an `AttributeMapping` (keys are pool attributes, 1..=32 characters) and adds
/// Cognito's default `username` mapping (the provider's subject).
pub fn check_mapping(
    provider_type: ProviderType,
    mapping: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, Error> {
    let mut mapping = mapping.clone();
    for (key, value) in &mapping {
        if key.is_empty() || key.chars().count() > 32 || value.is_empty() {
            return Err(Error::invalid_parameter(format!(
                "Invalid AttributeMapping entry {key}."
            )));
        }
        if key == "sub" {
            return Err(Error::invalid_parameter(
                "The attribute sub cannot be mapped: it is the user pool's own identifier.",
            ));
        }
    }
    mapping
        .entry("username".into())
        .or_insert_with(|| provider_type.subject_claim().into());
    Ok(mapping)
}

/// A SAML provider's metadata XML: `MetadataFile`, or the document at `MetadataURL`
/// ([`super::upstream::saml_metadata`]; `force` fetches it now instead of using the cache).
pub async fn saml_metadata(
    env: &dyn Env,
    provider: &IdentityProvider,
    force: bool,
) -> Result<String, Error> {
    if let Some(file) = provider.detail("MetadataFile") {
        return Ok(file.to_string());
    }
    let url = provider.detail("MetadataURL").ok_or_else(|| {
        Error::invalid_parameter("The SAML provider has neither MetadataFile nor MetadataURL.")
    })?;
    super::upstream::saml_metadata(env, url, force).await
}

/// Checks a SAML provider's metadata when it is created or updated, as Cognito does: the
/// document (`MetadataFile`, or fetched now from `MetadataURL`) must be an IdP's
/// `EntityDescriptor` with an entity id, a signing certificate and an HTTP-Redirect
/// `SingleSignOnService`. Malformed or incomplete metadata, or a `MetadataURL` that does not
/// answer it, is `InvalidParameterException`; a runtime without an XML-DSig verifier (the edge)
/// refuses SAML providers with `UnsupportedOperationException`.
pub async fn check_saml_metadata(env: &dyn Env, provider: &IdentityProvider) -> Result<(), Error> {
    let xml = saml_metadata(env, provider, true).await.map_err(|e| {
        if e.kind == ErrorKind::InvalidParameter {
            e
        } else {
            Error::invalid_parameter(format!(
                "Could not retrieve the SAML metadata from MetadataURL: {}",
                e.message
            ))
        }
    })?;
    match crate::saml::idp_metadata(env, &xml).await {
        Ok(_) => Ok(()),
        // InvalidParameterException: the operation's own refusal (UnsupportedOperationException
        // is not among CreateIdentityProvider's errors).
        Err(crate::saml::SamlError::Unsupported) => {
            Err(Error::invalid_parameter(crate::saml::UNSUPPORTED))
        }
        Err(e) => Err(e.into()),
    }
}

/// Loads a pool's provider by name.
pub async fn load(
    env: &dyn Env,
    pool_id: &str,
    name: &str,
) -> Result<Option<(IdentityProvider, u64)>, Error> {
    if name.is_empty() || name.len() > 128 || name.contains('/') {
        return Ok(None);
    }
    match env
        .store()
        .get(&keys::identity_provider(pool_id, name))
        .await?
    {
        Some(item) => Ok(Some((serde_json::from_slice(&item.value)?, item.version))),
        None => Ok(None),
    }
}

/// Every provider of a pool (Cognito allows at most 300), in name order.
pub async fn list_all(env: &dyn Env, pool_id: &str) -> Result<Vec<IdentityProvider>, Error> {
    let prefix = keys::identity_providers(pool_id);
    let mut out = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let page = env.store().scan(&prefix, after.as_deref(), 100).await?;
        for (_, item) in &page.items {
            out.push(serde_json::from_slice(&item.value)?);
        }
        match page.next {
            Some(next) if out.len() < 1000 => after = Some(next),
            _ => break,
        }
    }
    Ok(out)
}

/// The provider with identifier `identifier` (case-insensitive, as Cognito matches them).
pub async fn by_identifier(
    env: &dyn Env,
    pool_id: &str,
    identifier: &str,
) -> Result<Option<IdentityProvider>, Error> {
    Ok(list_all(env, pool_id).await?.into_iter().find(|p| {
        p.idp_identifiers
            .iter()
            .any(|i| i.eq_ignore_ascii_case(identifier))
    }))
}

/// Where a sign-in through a provider goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoints {
    /// The OpenID issuer, for providers that issue ID tokens.
    pub issuer: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub token_request_method: String,
    pub attributes_url: Option<String>,
    pub attributes_request_method: String,
    pub jwks_uri: Option<String>,
}

/// Where Apple publishes the keys its ID tokens are signed with (Cognito does not use a
/// discovery document for Apple; `jwks_uri` in ProviderDetails overrides it).
pub const APPLE_JWKS_URI: &str = "https://appleid.apple.com/auth/keys";

/// The endpoints of an OAuth 2.0 / OIDC provider: its configured URLs, the rest from the
/// issuer's discovery document. A SAML provider is refused (it has no such endpoints).
pub async fn endpoints(env: &dyn Env, provider: &IdentityProvider) -> Result<Endpoints, Error> {
    if provider.provider_type == ProviderType::Saml {
        return Err(Error::new(
            ErrorKind::UnsupportedIdentityProvider,
            "SAML identity providers have no OAuth 2.0 endpoints.",
        ));
    }
    let issuer = provider.detail("oidc_issuer").map(ToString::to_string);
    let configured = |k: &str| provider.detail(k).map(ToString::to_string);
    let discovered = match (&issuer, provider.provider_type) {
        (Some(issuer), ProviderType::Oidc)
            if configured("authorize_url").is_none()
                || configured("token_url").is_none()
                || configured("jwks_uri").is_none() =>
        {
            Some(super::upstream::discover(env, issuer).await?)
        }
        _ => None,
    };
    let pick = |key: &str, found: Option<&String>| configured(key).or_else(|| found.cloned());
    let authorize_url = pick(
        "authorize_url",
        discovered.as_ref().map(|d| &d.authorization_endpoint),
    )
    .ok_or_else(|| Error::invalid_parameter("The provider has no authorize_url."))?;
    let token_url = pick(
        "token_url",
        discovered.as_ref().and_then(|d| d.token_endpoint.as_ref()),
    )
    .ok_or_else(|| Error::invalid_parameter("The provider has no token_url."))?;
    let jwks_uri = pick("jwks_uri", discovered.as_ref().map(|d| &d.jwks_uri)).or_else(|| {
        (provider.provider_type == ProviderType::SignInWithApple).then(|| APPLE_JWKS_URI.into())
    });
    let attributes_url = pick(
        "attributes_url",
        discovered
            .as_ref()
            .and_then(|d| d.userinfo_endpoint.as_ref()),
    );
    Ok(Endpoints {
        issuer,
        authorize_url,
        token_url,
        token_request_method: configured("token_request_method").unwrap_or_else(|| "POST".into()),
        attributes_url,
        attributes_request_method: configured("attributes_request_method")
            .unwrap_or_else(|| "GET".into()),
        jwks_uri,
    })
}
