//! Identity providers (federation): CreateIdentityProvider, DescribeIdentityProvider,
//! UpdateIdentityProvider, DeleteIdentityProvider, ListIdentityProviders,
//! GetIdentityProviderByIdentifier, AdminLinkProviderForUser, AdminDisableProviderForUser.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, decode_token, encode_token, input};
use crate::error::{Error, ErrorKind};
use crate::federation::provider::{self, IdentityProvider, ProviderType, provider_missing};
use crate::store::{Expect, StoreError, keys};

/// Cognito's limit of identity providers per pool.
const MAX_PROVIDERS: usize = 300;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateProvider {
    user_pool_id: String,
    provider_name: String,
    provider_type: ProviderType,
    provider_details: BTreeMap<String, String>,
    #[serde(default)]
    attribute_mapping: BTreeMap<String, String>,
    #[serde(default)]
    idp_identifiers: Vec<String>,
    #[serde(default)]
    acr_mapping: Option<Value>,
}

fn check_identifiers(list: &[String]) -> Result<(), Error> {
    for (i, id) in list.iter().enumerate() {
        let ok = (1..=40).contains(&id.chars().count())
            && id.chars().all(|c| {
                c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=.@-".contains(c)
            });
        if !ok {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value at 'idpIdentifiers.{}.member' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=.@-]+",
                i + 1
            )));
        }
        if list.iter().take(i).any(|o| o.eq_ignore_ascii_case(id)) {
            return Err(Error::invalid_parameter(format!(
                "Duplicate identifier {id}."
            )));
        }
    }
    Ok(())
}

/// Refuses identifiers another provider of the pool already has.
async fn identifiers_free(
    ctx: &Ctx<'_>,
    pool_id: &str,
    name: &str,
    list: &[String],
) -> Result<usize, Error> {
    let all = provider::list_all(ctx.env, pool_id).await?;
    for other in all.iter().filter(|p| p.provider_name != name) {
        if let Some(id) = list.iter().find(|id| {
            other
                .idp_identifiers
                .iter()
                .any(|o| o.eq_ignore_ascii_case(id))
        }) {
            return Err(Error::new(
                ErrorKind::DuplicateProvider,
                format!(
                    "The identifier {id} is already used by provider {}.",
                    other.provider_name
                ),
            ));
        }
    }
    Ok(all.len())
}

/// `EncryptedResponses` `true` needs the server's SAML encryption key (its certificate is what
/// the IdP encrypts to); `true` or `false` only.
fn check_encryption(ctx: &Ctx<'_>, record: &IdentityProvider) -> Result<(), Error> {
    match record.detail("EncryptedResponses") {
        None => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("true") => {
            if ctx.config.saml_encryption_certificate.is_some() {
                Ok(())
            } else {
                Err(Error::invalid_parameter(
                    "EncryptedResponses needs a SAML encryption key, and this server has none (see [federation] saml_encryption_key).",
                ))
            }
        }
        Some(_) => Err(Error::invalid_parameter(
            "The ProviderDetails key EncryptedResponses must be true or false.",
        )),
    }
}

/// `IDPSignout` `true` needs the server's SAML signing key (it signs the `LogoutRequest`);
/// `true` or `false` only.
fn check_signout(ctx: &Ctx<'_>, record: &IdentityProvider) -> Result<(), Error> {
    match record.detail("IDPSignout") {
        None => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("false") => Ok(()),
        Some(v) if v.eq_ignore_ascii_case("true") => {
            if ctx.config.saml_signing_certificate.is_some() {
                Ok(())
            } else {
                Err(Error::invalid_parameter(
                    "IDPSignout needs a SAML signing key, and this server has none (see [federation] saml_signing_key).",
                ))
            }
        }
        Some(_) => Err(Error::invalid_parameter(
            "The ProviderDetails key IDPSignout must be true or false.",
        )),
    }
}

pub(super) async fn create_identity_provider(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: CreateProvider = input(body)?;
    crate::pool::load_pool(ctx.env, &req.user_pool_id).await?;
    provider::check_name(&req.provider_name, req.provider_type)?;
    let details = provider::check_details(req.provider_type, &req.provider_details)?;
    let mapping = provider::check_mapping(req.provider_type, &req.attribute_mapping)?;
    check_identifiers(&req.idp_identifiers)?;
    let count = identifiers_free(
        ctx,
        &req.user_pool_id,
        &req.provider_name,
        &req.idp_identifiers,
    )
    .await?;
    if count >= MAX_PROVIDERS {
        return Err(Error::new(
            ErrorKind::LimitExceeded,
            "The user pool has the most identity providers it may have.",
        ));
    }
    let now = ctx.env.clock().now_millis();
    let record = IdentityProvider {
        user_pool_id: req.user_pool_id.clone(),
        provider_name: req.provider_name.clone(),
        provider_type: req.provider_type,
        provider_details: details,
        attribute_mapping: mapping,
        idp_identifiers: req.idp_identifiers,
        acr_mapping: req.acr_mapping,
        created_millis: now,
        modified_millis: now,
    };
    if record.provider_type == ProviderType::Saml {
        check_encryption(ctx, &record)?;
        check_signout(ctx, &record)?;
        provider::check_saml_metadata(ctx.env, &record).await?;
    }
    match ctx
        .env
        .store()
        .put(
            &keys::identity_provider(&req.user_pool_id, &req.provider_name),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await
    {
        Ok(_) => Ok(json!({ "IdentityProvider": record.to_wire() })),
        Err(StoreError::Conflict) => Err(Error::new(
            ErrorKind::DuplicateProvider,
            format!(
                "A provider with the name {} already exists in this user pool.",
                req.provider_name
            ),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderRef {
    user_pool_id: String,
    provider_name: String,
}

async fn existing(
    ctx: &Ctx<'_>,
    pool_id: &str,
    name: &str,
) -> Result<(IdentityProvider, u64), Error> {
    crate::pool::load_pool(ctx.env, pool_id).await?;
    provider::load(ctx.env, pool_id, name)
        .await?
        .ok_or_else(|| provider_missing(pool_id, name))
}

pub(super) async fn describe_identity_provider(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ProviderRef = input(body)?;
    let (record, _) = existing(ctx, &r.user_pool_id, &r.provider_name).await?;
    Ok(json!({ "IdentityProvider": record.to_wire() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateProvider {
    user_pool_id: String,
    provider_name: String,
    #[serde(default)]
    provider_details: Option<BTreeMap<String, String>>,
    #[serde(default)]
    attribute_mapping: Option<BTreeMap<String, String>>,
    #[serde(default)]
    idp_identifiers: Option<Vec<String>>,
    #[serde(default)]
    acr_mapping: Option<Value>,
}

fn is_cognito(name: &str) -> bool {
    name.eq_ignore_ascii_case("cognito")
}

fn cognito_unsupported() -> Error {
    Error::new(
        ErrorKind::UnsupportedIdentityProvider,
        "The user pool itself (Cognito) is not an identity provider that can be changed.",
    )
}

pub(super) async fn update_identity_provider(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: UpdateProvider = input(body)?;
    if is_cognito(&req.provider_name) {
        return Err(cognito_unsupported());
    }
    let (mut record, version) = existing(ctx, &req.user_pool_id, &req.provider_name).await?;
    if let Some(details) = &req.provider_details {
        // Keys not named keep their values, as Cognito merges ProviderDetails on update.
        let mut merged = record.provider_details.clone();
        // A SAML provider's metadata source is replaced, not doubled: a new MetadataURL drops
        // the MetadataFile, and the other way round.
        if record.provider_type == ProviderType::Saml {
            for (named, other) in [
                ("MetadataURL", "MetadataFile"),
                ("MetadataFile", "MetadataURL"),
            ] {
                if details.contains_key(named) && !details.contains_key(other) {
                    merged.remove(other);
                }
            }
        }
        merged.extend(details.iter().map(|(k, v)| (k.clone(), v.clone())));
        record.provider_details = provider::check_details(record.provider_type, &merged)?;
        if record.provider_type == ProviderType::Saml {
            check_encryption(ctx, &record)?;
            check_signout(ctx, &record)?;
            provider::check_saml_metadata(ctx.env, &record).await?;
        }
    }
    if let Some(mapping) = &req.attribute_mapping {
        record.attribute_mapping = provider::check_mapping(record.provider_type, mapping)?;
    }
    if let Some(list) = req.idp_identifiers {
        check_identifiers(&list)?;
        identifiers_free(ctx, &req.user_pool_id, &req.provider_name, &list).await?;
        record.idp_identifiers = list;
    }
    if let Some(acr) = req.acr_mapping {
        record.acr_mapping = Some(acr);
    }
    record.modified_millis = ctx.env.clock().now_millis().max(record.modified_millis);
    ctx.env
        .store()
        .put(
            &keys::identity_provider(&req.user_pool_id, &req.provider_name),
            &serde_json::to_vec(&record)?,
            Expect::Version(version),
        )
        .await
        .map_err(changed_concurrently)?;
    Ok(json!({ "IdentityProvider": record.to_wire() }))
}

pub(super) async fn delete_identity_provider(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ProviderRef = input(body)?;
    if is_cognito(&r.provider_name) {
        return Err(cognito_unsupported());
    }
    let (_, version) = existing(ctx, &r.user_pool_id, &r.provider_name).await?;
    ctx.env
        .store()
        .delete(
            &keys::identity_provider(&r.user_pool_id, &r.provider_name),
            Expect::Version(version),
        )
        .await
        .map_err(changed_concurrently)?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListProviders {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) async fn list_identity_providers(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let list: ListProviders = input(body)?;
    let max = list.max_results.unwrap_or(60);
    if !(1..=60).contains(&max) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60",
        ));
    }
    crate::pool::load_pool(ctx.env, &list.user_pool_id).await?;
    let prefix = keys::identity_providers(&list.user_pool_id);
    let after = decode_token(list.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(
            &prefix,
            after.as_deref(),
            usize::try_from(max).unwrap_or(60),
        )
        .await?;
    let mut providers = Vec::with_capacity(page.items.len());
    for (_, item) in &page.items {
        let record: IdentityProvider = serde_json::from_slice(&item.value)?;
        providers.push(record.description());
    }
    let mut out = json!({ "Providers": providers });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ByIdentifier {
    user_pool_id: String,
    idp_identifier: String,
}

pub(super) async fn get_identity_provider_by_identifier(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let r: ByIdentifier = input(body)?;
    crate::pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let record = provider::by_identifier(ctx.env, &r.user_pool_id, &r.idp_identifier)
        .await?
        .ok_or_else(|| {
            Error::resource_not_found(format!(
                "No identity provider has the identifier {}.",
                r.idp_identifier
            ))
        })?;
    Ok(json!({ "IdentityProvider": record.to_wire() }))
}

/// Cognito's `ProviderUserIdentifierType`.
#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ProviderUser {
    #[serde(default)]
    provider_name: Option<String>,
    #[serde(default)]
    provider_attribute_name: Option<String>,
    #[serde(default)]
    provider_attribute_value: Option<String>,
}

fn member<'a>(value: &'a Option<String>, name: &str) -> Result<&'a str, Error> {
    value
        .as_deref()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| Error::invalid_parameter(format!("{name} is required.")))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LinkProvider {
    user_pool_id: String,
    destination_user: ProviderUser,
    source_user: ProviderUser,
}

pub(super) async fn admin_link_provider_for_user(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: LinkProvider = input(body)?;
    let (pool, _) = crate::pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let destination_provider = member(
        &req.destination_user.provider_name,
        "DestinationUser.ProviderName",
    )?;
    let destination = member(
        &req.destination_user.provider_attribute_value,
        "DestinationUser.ProviderAttributeValue",
    )?;
    if !is_cognito(destination_provider) {
        return Err(Error::invalid_parameter(
            "Linking to a federated destination user is not supported; name a user of the pool (ProviderName Cognito).",
        ));
    }
    let source_provider = member(&req.source_user.provider_name, "SourceUser.ProviderName")?;
    let attribute = member(
        &req.source_user.provider_attribute_name,
        "SourceUser.ProviderAttributeName",
    )?;
    let value = member(
        &req.source_user.provider_attribute_value,
        "SourceUser.ProviderAttributeValue",
    )?;
    if is_cognito(source_provider) {
        return Err(Error::invalid_parameter(
            "The source user must be a federated user, not a user of the pool.",
        ));
    }
    let (source, _) = provider::load(ctx.env, &pool.id, source_provider)
        .await?
        .ok_or_else(|| provider_missing(&pool.id, source_provider))?;
    if source.provider_type.is_social()
        && attribute != crate::federation::federated::COGNITO_SUBJECT
    {
        return Err(Error::invalid_parameter(
            "For a social identity provider, SourceUser.ProviderAttributeName must be Cognito_Subject.",
        ));
    }
    crate::user::check_username(destination)?;
    crate::federation::federated::link(ctx.env, &pool, destination, &source, attribute, value)
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DisableProvider {
    user_pool_id: String,
    user: ProviderUser,
}

pub(super) async fn admin_disable_provider_for_user(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: DisableProvider = input(body)?;
    let (pool, _) = crate::pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let name = member(&req.user.provider_name, "User.ProviderName")?;
    let attribute = member(
        &req.user.provider_attribute_name,
        "User.ProviderAttributeName",
    )?;
    let value = member(
        &req.user.provider_attribute_value,
        "User.ProviderAttributeValue",
    )?;
    if is_cognito(name) {
        // A native user: it may no longer sign in (as AdminDisableUser does).
        crate::user::check_username(value)?;
        crate::user::modify(ctx.env, &pool, value, |u| {
            if !u.enabled {
                return Ok(crate::user::Step::Keep(()));
            }
            u.enabled = false;
            Ok(crate::user::Step::Save(()))
        })
        .await?;
        return Ok(json!({}));
    }
    provider::load(ctx.env, &pool.id, name)
        .await?
        .ok_or_else(|| provider_missing(&pool.id, name))?;
    crate::federation::federated::disable(ctx.env, &pool, name, attribute, value).await?;
    Ok(json!({}))
}

/// A conditional write on a provider lost to another writer.
fn changed_concurrently(e: StoreError) -> Error {
    match e {
        StoreError::Conflict => Error::new(
            ErrorKind::ConcurrentModification,
            "The identity provider changed concurrently; try again.",
        ),
        other => other.into(),
    }
}
