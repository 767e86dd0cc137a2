//! Identity pools: their settings (Cognito's `IdentityPool` shape), creation, updates, deletion,
//! listing and tags. Everything an identity pool decides later (roles, role mappings, principal
//! tags) is kept on its record.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use super::roles::RoleMapping;
use crate::error::{Error, ErrorKind};
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};

/// The public login providers Cognito accepts in `SupportedLoginProviders`.
pub const SOCIAL_PROVIDERS: &[&str] = &[
    "graph.facebook.com",
    "accounts.google.com",
    "www.amazon.com",
    "appleid.apple.com",
    "api.twitter.com",
    "www.digits.com",
];

/// A Cognito user pool as a login provider of an identity pool (`CognitoIdentityProvider`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct CognitoProvider {
    /// `cognito-idp.<region>.amazonaws.com/<userPoolId>`, or the pool's Cognate issuer URL.
    pub provider_name: String,
    /// The app client whose ID tokens are accepted (their `aud`).
    pub client_id: String,
    /// Also check that the token was not revoked (sign-out, RevokeToken, disabled user).
    #[serde(default)]
    pub server_side_token_check: bool,
}

impl CognitoProvider {
    /// The user pool this provider names: the last path segment of its name.
    pub fn user_pool_id(&self) -> Option<&str> {
        let id = self.provider_name.rsplit('/').next()?;
        crate::ids::is_pool_id(id).then_some(id)
    }
}

/// What an administrator sets on an identity pool: Cognito's `IdentityPool` members except the
/// id and tags.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct IdentityPoolSettings {
    pub identity_pool_name: String,
    pub allow_unauthenticated_identities: bool,
    /// Unset when the creator left it out: then, as in Cognito, the pool describes no value and
    /// the basic flow works; `false` turns the basic flow off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow_classic_flow: Option<bool>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub supported_login_providers: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub developer_provider_name: Option<String>,
    #[serde(
        default,
        rename = "OpenIdConnectProviderARNs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub open_id_connect_provider_arns: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub cognito_identity_providers: Vec<CognitoProvider>,
    #[serde(
        default,
        rename = "SamlProviderARNs",
        skip_serializing_if = "Vec::is_empty"
    )]
    pub saml_provider_arns: Vec<String>,
}

fn chars_ok(text: &str, extra: &str) -> bool {
    text.chars()
        .all(|c| c.is_alphanumeric() || c == '_' || extra.contains(c))
}

impl IdentityPoolSettings {
    /// Cognito's checks beyond the service model's lengths: the `pattern`s of the model and the
    /// provider rules.
    pub fn validate(&self) -> Result<(), Error> {
        if self.identity_pool_name.is_empty() || !chars_ok(&self.identity_pool_name, " \t+=,.@-") {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'identityPoolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
                self.identity_pool_name
            )));
        }
        for (provider, app_id) in &self.supported_login_providers {
            if !SOCIAL_PROVIDERS.contains(&provider.as_str()) {
                return Err(Error::invalid_parameter(format!(
                    "Invalid login provider: {}",
                    provider.chars().take(128).collect::<String>()
                )));
            }
            if app_id.is_empty() || !chars_ok(app_id, ".;/-") {
                return Err(Error::invalid_parameter(format!(
                    "Invalid app id for {provider}."
                )));
            }
        }
        if let Some(name) = &self.developer_provider_name
            && (!chars_ok(name, ".-")
                || SOCIAL_PROVIDERS.contains(&name.as_str())
                || name.starts_with("cognito-"))
        {
            return Err(Error::invalid_parameter(format!(
                "Invalid developer provider name: {name}"
            )));
        }
        let mut seen = Vec::new();
        for p in &self.cognito_identity_providers {
            if p.user_pool_id().is_none() || !chars_ok(&p.provider_name, ".:/-") {
                return Err(Error::invalid_parameter(format!(
                    "Invalid Cognito Identity Provider name: {}",
                    p.provider_name.chars().take(128).collect::<String>()
                )));
            }
            if !crate::ids::is_client_id(&p.client_id) && !chars_ok(&p.client_id, "") {
                return Err(Error::invalid_parameter(format!(
                    "Invalid ClientId: {}",
                    p.client_id.chars().take(128).collect::<String>()
                )));
            }
            let pair = (p.provider_name.as_str(), p.client_id.as_str());
            if seen.contains(&pair) {
                return Err(Error::invalid_parameter(format!(
                    "Duplicate provider: {}",
                    p.provider_name
                )));
            }
            seen.push(pair);
        }
        for arn in self
            .open_id_connect_provider_arns
            .iter()
            .chain(&self.saml_provider_arns)
        {
            if !arn.starts_with("arn:aws:iam::") {
                return Err(Error::invalid_parameter(format!(
                    "Invalid provider ARN: {}",
                    arn.chars().take(2048).collect::<String>()
                )));
            }
        }
        Ok(())
    }
}

/// Principal tags of one provider (`SetPrincipalTagAttributeMap`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PrincipalTagMap {
    pub use_defaults: bool,
    /// Tag key -> claim name.
    pub tags: BTreeMap<String, String>,
}

/// An identity pool as stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct IdentityPoolRecord {
    pub id: String,
    pub region: String,
    pub settings: IdentityPoolSettings,
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// `authenticated` / `unauthenticated` -> role ARN.
    #[serde(default)]
    pub roles: BTreeMap<String, String>,
    /// Provider name -> how its logins choose a role.
    #[serde(default)]
    pub role_mappings: BTreeMap<String, RoleMapping>,
    /// Provider name -> principal tags.
    #[serde(default)]
    pub principal_tags: BTreeMap<String, PrincipalTagMap>,
    pub created_millis: u64,
    pub modified_millis: u64,
}

impl IdentityPoolRecord {
    /// The pool's ARN (tags name it).
    pub fn arn(&self) -> String {
        arn(&self.region, &self.id)
    }

    /// Cognito's `IdentityPool` shape (Create/Describe/UpdateIdentityPool).
    pub fn to_wire(&self) -> serde_json::Value {
        let mut value = serde_json::to_value(&self.settings).unwrap_or_default();
        if let serde_json::Value::Object(map) = &mut value {
            map.insert("IdentityPoolId".into(), self.id.clone().into());
            map.insert(
                "IdentityPoolTags".into(),
                serde_json::to_value(&self.tags).unwrap_or_default(),
            );
        }
        value
    }

    /// Its roles and role mappings, for [`super::roles::choose`].
    pub fn role_config(&self) -> super::roles::PoolRoles<'_> {
        super::roles::PoolRoles {
            roles: &self.roles,
            mappings: &self.role_mappings,
        }
    }

    /// The Cognito user-pool provider named `provider_name` (by name, or by its pool).
    pub fn cognito_providers_of(&self, user_pool_id: &str) -> Vec<&CognitoProvider> {
        self.settings
            .cognito_identity_providers
            .iter()
            .filter(|p| p.user_pool_id() == Some(user_pool_id))
            .collect()
    }

    /// Whether `provider` is one of the pool's login providers (as a role-mapping or principal
    /// tag key).
    pub fn has_provider(&self, provider: &str) -> bool {
        self.settings
            .cognito_identity_providers
            .iter()
            .any(|p| p.provider_name == provider)
            || self
                .settings
                .supported_login_providers
                .contains_key(provider)
            || self
                .settings
                .open_id_connect_provider_arns
                .iter()
                .any(|arn| arn.split_once(":oidc-provider/").map(|(_, i)| i) == Some(provider))
            || self
                .settings
                .saml_provider_arns
                .iter()
                .any(|arn| arn == provider)
    }
}

/// An identity pool's ARN.
pub fn arn(region: &str, identity_pool_id: &str) -> String {
    format!(
        "arn:aws:cognito-identity:{region}:{}:identitypool/{identity_pool_id}",
        crate::pool::ACCOUNT_ID
    )
}

/// The identity pool an ARN names (tags).
pub fn id_from_arn(resource_arn: &str) -> Option<&str> {
    let rest = resource_arn.strip_prefix("arn:aws:cognito-identity:")?;
    let (region, rest) = rest.split_once(':')?;
    let (account, id) = rest.split_once(":identitypool/")?;
    (account == crate::pool::ACCOUNT_ID
        && super::is_identity_id(id)
        && id.split_once(':').map(|(r, _)| r) == Some(region))
    .then_some(id)
}

/// Creates an identity pool.
pub async fn create(
    env: &dyn Env,
    region: &str,
    settings: IdentityPoolSettings,
    tags: BTreeMap<String, String>,
) -> Result<IdentityPoolRecord, Error> {
    settings.validate()?;
    let now = env.clock().now_millis();
    let record = IdentityPoolRecord {
        id: super::new_id(env.random(), region),
        region: region.to_string(),
        settings,
        tags,
        roles: BTreeMap::new(),
        role_mappings: BTreeMap::new(),
        principal_tags: BTreeMap::new(),
        created_millis: now,
        modified_millis: now,
    };
    let bytes = serde_json::to_vec(&record)?;
    match env
        .store()
        .put(&keys::identity_pool(&record.id), &bytes, Expect::Absent)
        .await
    {
        Ok(_) => Ok(record),
        Err(StoreError::Conflict) => Err(Error::new(
            ErrorKind::ResourceConflict,
            "An identity pool with this id exists.",
        )),
        Err(e) => Err(e.into()),
    }
}

/// Loads an identity pool and its version.
pub async fn load(
    env: &dyn Env,
    identity_pool_id: &str,
) -> Result<(IdentityPoolRecord, u64), Error> {
    if !super::is_identity_id(identity_pool_id) {
        return Err(super::pool_not_found(identity_pool_id));
    }
    crate::record::get_json(env.store(), &keys::identity_pool(identity_pool_id))
        .await?
        .ok_or_else(|| super::pool_not_found(identity_pool_id))
}

/// Changes an identity pool with `change` (compare-and-set, retried on a concurrent write).
pub async fn modify(
    env: &dyn Env,
    identity_pool_id: &str,
    mut change: impl FnMut(&mut IdentityPoolRecord) -> Result<(), Error>,
) -> Result<IdentityPoolRecord, Error> {
    if !super::is_identity_id(identity_pool_id) {
        return Err(super::pool_not_found(identity_pool_id));
    }
    crate::record::modify_json(
        env.store(),
        &keys::identity_pool(identity_pool_id),
        || super::pool_not_found(identity_pool_id),
        || {
            Error::new(
                ErrorKind::ConcurrentModification,
                "The identity pool is being updated concurrently; try again.",
            )
        },
        |record: &mut IdentityPoolRecord| {
            change(record)?;
            record.modified_millis = env.clock().now_millis();
            Ok(())
        },
    )
    .await
}

/// UpdateIdentityPool: the settings are replaced as a whole (members left out return to their
/// defaults, as in Cognito); tags are replaced only when given. A developer provider name,
/// once set, cannot change.
pub async fn update(
    env: &dyn Env,
    identity_pool_id: &str,
    settings: IdentityPoolSettings,
    tags: Option<BTreeMap<String, String>>,
) -> Result<IdentityPoolRecord, Error> {
    settings.validate()?;
    modify(env, identity_pool_id, |record| {
        if let Some(old) = &record.settings.developer_provider_name
            && settings.developer_provider_name.as_ref() != Some(old)
        {
            return Err(Error::invalid_parameter(
                "Cannot change or remove the developer provider name of an identity pool.",
            ));
        }
        record.settings = settings.clone();
        if let Some(tags) = &tags {
            record.tags = tags.clone();
        }
        Ok(())
    })
    .await
}

/// Deletes an identity pool and everything it owns: its identities, their logins, its index.
pub async fn delete(env: &dyn Env, identity_pool_id: &str) -> Result<(), Error> {
    let (_, version) = load(env, identity_pool_id).await?;
    // The pool first: from now on nothing can create identities in it.
    match env
        .store()
        .delete(
            &keys::identity_pool(identity_pool_id),
            Expect::Version(version),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::ConcurrentModification,
                "The identity pool is being updated concurrently; try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    let prefix = keys::identity_pool_prefix(identity_pool_id);
    let index = keys::pool_identities(identity_pool_id);
    loop {
        let page = env
            .store()
            .scan(&prefix, None, crate::store::MAX_SCAN_LIMIT)
            .await?;
        if page.items.is_empty() {
            break;
        }
        for (key, _) in &page.items {
            if let Some(identity_id) = key.strip_prefix(&index) {
                env.store()
                    .delete(&keys::identity(identity_id), Expect::Any)
                    .await?;
            }
            env.store().delete(key, Expect::Any).await?;
        }
    }
    Ok(())
}

/// A page of a region's identity pools.
pub async fn list(
    env: &dyn Env,
    region: &str,
    after: Option<&str>,
    limit: usize,
) -> Result<(Vec<IdentityPoolRecord>, Option<String>), Error> {
    let page = env
        .store()
        .scan(&keys::identity_pools_of_region(region), after, limit)
        .await?;
    let mut pools = Vec::new();
    for (_, item) in &page.items {
        pools.push(serde_json::from_slice(&item.value)?);
    }
    Ok((pools, page.next))
}

/// The most tags an identity pool carries.
pub const MAX_TAGS: usize = 50;

/// TagResource / UntagResource: the pool an ARN names, changed by `change`.
pub async fn change_tags(
    env: &dyn Env,
    resource_arn: &str,
    change: impl Fn(&mut BTreeMap<String, String>),
) -> Result<(), Error> {
    let id = id_from_arn(resource_arn).ok_or_else(|| {
        Error::resource_not_found(format!(
            "Resource '{}' not found.",
            resource_arn.chars().take(256).collect::<String>()
        ))
    })?;
    modify(env, id, |record| {
        change(&mut record.tags);
        if record.tags.len() > MAX_TAGS {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                format!("An identity pool can have at most {MAX_TAGS} tags."),
            ));
        }
        Ok(())
    })
    .await
    .map(|_| ())
}

/// ListTagsForResource.
pub async fn tags(env: &dyn Env, resource_arn: &str) -> Result<BTreeMap<String, String>, Error> {
    let not_found = || {
        Error::resource_not_found(format!(
            "Resource '{}' not found.",
            resource_arn.chars().take(256).collect::<String>()
        ))
    };
    let id = id_from_arn(resource_arn).ok_or_else(not_found)?;
    let (record, _) = load(env, id).await.map_err(|_| not_found())?;
    Ok(record.tags)
}
