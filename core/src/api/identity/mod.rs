//! The identity-pools wire layer: AWS JSON 1.1 over `POST /` with
//! `X-Amz-Target: AWSCognitoIdentityService.<Operation>`. GetId, GetOpenIdToken,
//! GetCredentialsForIdentity and UnlinkIdentity are public, as in Cognito; every other operation
//! is SigV4-signed (service `cognito-identity`) with an operator key. Requests are checked
//! against botocore's model of the service (`model::check_identity`) before they run; the
//! decisions are `crate::identity`'s.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{Ctx, decode_token, encode_token, input, output};
use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::identity::identities::{self, IdentityRecord};
use crate::identity::logins::{self, Proof};
use crate::identity::open_id::{self, TokenRequest};
use crate::identity::pools::{self, IdentityPoolRecord, IdentityPoolSettings, PrincipalTagMap};
use crate::identity::roles::{self, RoleMapping};
use crate::identity::{developer, principal_tags};
use crate::ports::Env;
use crate::store::keys;

/// The target prefix of the identity-pools API.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityService.";
/// The SigV4 service name of the identity-pools API.
pub const SIGNING_SERVICE: &str = "cognito-identity";

/// Operations callable without a signature, as in Cognito.
pub(super) const PUBLIC_OPERATIONS: &[&str] = &[
    "GetId",
    "GetOpenIdToken",
    "GetCredentialsForIdentity",
    "UnlinkIdentity",
];

/// The signed operations.
pub(super) const ADMIN_OPERATIONS: &[&str] = &[
    "CreateIdentityPool",
    "DescribeIdentityPool",
    "UpdateIdentityPool",
    "DeleteIdentityPool",
    "ListIdentityPools",
    "TagResource",
    "UntagResource",
    "ListTagsForResource",
    "DescribeIdentity",
    "ListIdentities",
    "DeleteIdentities",
    "SetIdentityPoolRoles",
    "GetIdentityPoolRoles",
    "SetPrincipalTagAttributeMap",
    "GetPrincipalTagAttributeMap",
    "GetOpenIdTokenForDeveloperIdentity",
    "LookupDeveloperIdentity",
    "MergeDeveloperIdentities",
    "UnlinkDeveloperIdentity",
];

/// The operation of an identity-pools call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
}

/// Answers one `AWSCognitoIdentityService.<operation>` call.
pub async fn handle(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Response {
    match call(config, env, request, operation).await {
        Ok(value) => Response::json(
            200,
            super::CONTENT_TYPE,
            serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec()),
        ),
        Err(error) => super::error_response(&error),
    }
}

async fn call(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Result<Value, Error> {
    if !super::content_type_ok(request) {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            "Content-Type must be application/x-amz-json-1.1",
        ));
    }
    let mut body = super::parse_body(request)?;
    super::drop_nulls(&mut body);
    let region = if PUBLIC_OPERATIONS.contains(&operation) {
        config.default_region.clone()
    } else {
        if !ADMIN_OPERATIONS.contains(&operation) {
            return Err(super::unknown(operation));
        }
        crate::sigv4::verify(
            request,
            SIGNING_SERVICE,
            &config.admin_keys,
            env.clock().now_millis(),
        )?
        .region
    };
    super::model::check_identity(operation, &body)?;
    let ctx = Ctx {
        config,
        env,
        region,
        origin: crate::auth::Origin {
            ip_address: request.remote_addr.clone(),
            user_agent: request.header("user-agent").map(str::to_string),
        },
    };
    dispatch(&ctx, operation, body).await
}

/// Runs an already authorised identity-pools operation.
pub(crate) async fn dispatch(ctx: &Ctx<'_>, operation: &str, body: Value) -> Result<Value, Error> {
    match operation {
        "CreateIdentityPool" => create_identity_pool(ctx, body).await,
        "DescribeIdentityPool" => describe_identity_pool(ctx, body).await,
        "UpdateIdentityPool" => update_identity_pool(ctx, body).await,
        "DeleteIdentityPool" => delete_identity_pool(ctx, body).await,
        "ListIdentityPools" => list_identity_pools(ctx, body).await,
        "TagResource" => tag_resource(ctx, body).await,
        "UntagResource" => untag_resource(ctx, body).await,
        "ListTagsForResource" => list_tags_for_resource(ctx, body).await,
        "GetId" => get_id(ctx, body).await,
        "DescribeIdentity" => describe_identity(ctx, body).await,
        "ListIdentities" => list_identities(ctx, body).await,
        "DeleteIdentities" => delete_identities(ctx, body).await,
        "UnlinkIdentity" => unlink_identity(ctx, body).await,
        "GetOpenIdToken" => get_open_id_token(ctx, body).await,
        "GetCredentialsForIdentity" => get_credentials_for_identity(ctx, body).await,
        "SetIdentityPoolRoles" => set_identity_pool_roles(ctx, body).await,
        "GetIdentityPoolRoles" => get_identity_pool_roles(ctx, body).await,
        "SetPrincipalTagAttributeMap" => set_principal_tag_attribute_map(ctx, body).await,
        "GetPrincipalTagAttributeMap" => get_principal_tag_attribute_map(ctx, body).await,
        "GetOpenIdTokenForDeveloperIdentity" => {
            get_open_id_token_for_developer_identity(ctx, body).await
        }
        "LookupDeveloperIdentity" => lookup_developer_identity(ctx, body).await,
        "MergeDeveloperIdentities" => merge_developer_identities(ctx, body).await,
        "UnlinkDeveloperIdentity" => unlink_developer_identity(ctx, body).await,
        other => Err(super::unknown(other)),
    }
}

// ---------------------------------------------------------------------------------------------
// Identity pools and tags

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolInput {
    #[serde(flatten)]
    settings: IdentityPoolSettings,
    #[serde(default)]
    identity_pool_tags: Option<BTreeMap<String, String>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolId {
    identity_pool_id: String,
}

async fn create_identity_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolInput {
        settings,
        identity_pool_tags,
    } = input(body)?;
    let record = pools::create(
        ctx.env,
        &ctx.region,
        settings,
        identity_pool_tags.unwrap_or_default(),
    )
    .await?;
    Ok(record.to_wire())
}

async fn describe_identity_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolId { identity_pool_id } = input(body)?;
    Ok(pools::load(ctx.env, &identity_pool_id).await?.0.to_wire())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateInput {
    identity_pool_id: String,
    #[serde(flatten)]
    pool: PoolInput,
}

async fn update_identity_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let UpdateInput {
        identity_pool_id,
        pool,
    } = input(body)?;
    let record = pools::update(
        ctx.env,
        &identity_pool_id,
        pool.settings,
        pool.identity_pool_tags,
    )
    .await?;
    Ok(record.to_wire())
}

async fn delete_identity_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolId { identity_pool_id } = input(body)?;
    pools::delete(ctx.env, &identity_pool_id).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Paged {
    max_results: i64,
    #[serde(default)]
    next_token: Option<String>,
}

fn page_size(max_results: i64) -> usize {
    usize::try_from(max_results.clamp(1, 60)).unwrap_or(60)
}

async fn list_identity_pools(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let Paged {
        max_results,
        next_token,
    } = input(body)?;
    let prefix = keys::identity_pools_of_region(&ctx.region);
    let after = decode_token(next_token.as_deref(), &prefix)?;
    let (list, next) = pools::list(
        ctx.env,
        &ctx.region,
        after.as_deref(),
        page_size(max_results),
    )
    .await?;
    let items: Vec<Value> = list
        .iter()
        .map(|p| json!({"IdentityPoolId": p.id, "IdentityPoolName": p.settings.identity_pool_name}))
        .collect();
    let mut out = json!({ "IdentityPools": items });
    if let Some(next) = next {
        super::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagInput {
    resource_arn: String,
    #[serde(default)]
    tags: BTreeMap<String, String>,
    #[serde(default)]
    tag_keys: Vec<String>,
}

async fn tag_resource(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let TagInput {
        resource_arn, tags, ..
    } = input(body)?;
    pools::change_tags(ctx.env, &resource_arn, |t| {
        t.extend(tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    })
    .await?;
    Ok(json!({}))
}

async fn untag_resource(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let TagInput {
        resource_arn,
        tag_keys,
        ..
    } = input(body)?;
    pools::change_tags(ctx.env, &resource_arn, |t| {
        t.retain(|k, _| !tag_keys.contains(k));
    })
    .await?;
    Ok(json!({}))
}

async fn list_tags_for_resource(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let TagInput { resource_arn, .. } = input(body)?;
    Ok(json!({ "Tags": pools::tags(ctx.env, &resource_arn).await? }))
}

// ---------------------------------------------------------------------------------------------
// Identities

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetIdInput {
    identity_pool_id: String,
    #[serde(default)]
    logins: BTreeMap<String, String>,
}

fn unauthenticated_refused() -> Error {
    Error::not_authorized("Unauthenticated access is not supported for this identity pool.")
}

async fn get_id(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let GetIdInput {
        identity_pool_id,
        logins,
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    let proof = logins::verify(ctx.env, ctx.config, &pool, &logins, false).await?;
    let record = if !proof.logins.is_empty() {
        let linked: Vec<_> = proof.logins.iter().map(|l| l.login.clone()).collect();
        let record = identities::identity_for_logins(ctx.env, &pool, &linked).await?;
        if let Some(id) = &proof.identity
            && *id != record.identity_id
        {
            return Err(identities::logins_do_not_match());
        }
        record
    } else if let Some(id) = &proof.identity {
        identities::load_in(ctx.env, &pool, id).await?.0
    } else {
        if !pool.settings.allow_unauthenticated_identities {
            return Err(unauthenticated_refused());
        }
        identities::create_guest(ctx.env, &pool).await?
    };
    Ok(json!({ "IdentityId": record.identity_id }))
}

/// What a public call on an identity proved.
struct Authenticated {
    pool: IdentityPoolRecord,
    identity: IdentityRecord,
    /// The provider and claims of the login that authenticated the call (None: a guest).
    login: Option<(String, Map<String, Value>)>,
    /// The `amr` entries after `authenticated` (None: a guest).
    amr: Option<Vec<String>>,
}

/// Proves a call on `identity_id` with its `Logins`: logins not yet linked are linked (a guest
/// becomes authenticated); an authenticated identity needs one of its logins, or the identity
/// service's token for it.
async fn authenticate(
    ctx: &Ctx<'_>,
    identity_id: &str,
    logins: &BTreeMap<String, String>,
) -> Result<Authenticated, Error> {
    let (identity, _) = identities::load(ctx.env, identity_id).await?;
    let (pool, _) = pools::load(ctx.env, &identity.identity_pool_id)
        .await
        .map_err(|_| crate::identity::identity_not_found(identity_id))?;
    let Proof {
        logins: verified,
        identity: proved,
    } = logins::verify(ctx.env, ctx.config, &pool, logins, false).await?;
    if let Some(proved) = &proved
        && proved != identity_id
    {
        return Err(identities::logins_do_not_match());
    }
    if let Some(first) = verified.first() {
        let linked: Vec<_> = verified.iter().map(|l| l.login.clone()).collect();
        let identity = identities::link_all(ctx.env, &pool, identity_id, &linked).await?;
        let amr = verified
            .iter()
            .flat_map(|l| l.amr.iter().cloned())
            .collect();
        return Ok(Authenticated {
            login: Some((first.login.provider.clone(), first.claims.clone())),
            pool,
            identity,
            amr: Some(amr),
        });
    }
    if identity.orphaned {
        return Err(identities::forbidden(identity_id));
    }
    if proved.is_some() && identity.is_authenticated() {
        // The identity service's own token (developer-authenticated identities): the identity's
        // developer login authenticates the call.
        let developer = pool.settings.developer_provider_name.clone();
        let login = identity
            .logins
            .iter()
            .find(|l| Some(&l.provider) == developer.as_ref())
            .or(identity.logins.first())
            .cloned();
        let amr = login.as_ref().map(|l| {
            alloc::vec![
                l.provider.clone(),
                format!("{}:{}:{}", l.provider, pool.id, l.subject)
            ]
        });
        return Ok(Authenticated {
            login: login.map(|l| (l.provider, Map::new())),
            pool,
            identity,
            amr,
        });
    }
    if identity.is_authenticated() {
        return Err(identities::forbidden(identity_id));
    }
    if !pool.settings.allow_unauthenticated_identities {
        return Err(unauthenticated_refused());
    }
    Ok(Authenticated {
        pool,
        identity,
        login: None,
        amr: None,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct IdentityInput {
    identity_id: String,
    #[serde(default)]
    logins: BTreeMap<String, String>,
    #[serde(default)]
    custom_role_arn: Option<String>,
    #[serde(default)]
    logins_to_remove: Vec<String>,
}

async fn describe_identity(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let IdentityInput { identity_id, .. } = input(body)?;
    Ok(identities::load(ctx.env, &identity_id).await?.0.to_wire())
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListIdentitiesInput {
    identity_pool_id: String,
    max_results: i64,
    #[serde(default)]
    next_token: Option<String>,
    #[serde(default)]
    hide_disabled: bool,
}

async fn list_identities(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let ListIdentitiesInput {
        identity_pool_id,
        max_results,
        next_token,
        hide_disabled,
    } = input(body)?;
    pools::load(ctx.env, &identity_pool_id).await?;
    let prefix = keys::pool_identities(&identity_pool_id);
    let after = decode_token(next_token.as_deref(), &prefix)?;
    let (list, next) = identities::list(
        ctx.env,
        &identity_pool_id,
        after.as_deref(),
        page_size(max_results),
    )
    .await?;
    // A disabled identity is one whose last login was unlinked: no login reaches it any more.
    // Hiding them can leave a page short; the token still points past it.
    let items: Vec<Value> = list
        .iter()
        .filter(|identity| !(hide_disabled && identity.orphaned))
        .map(IdentityRecord::to_wire)
        .collect();
    let mut out = json!({ "IdentityPoolId": identity_pool_id, "Identities": items });
    if let Some(next) = next {
        super::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeleteIdentitiesInput {
    identity_ids_to_delete: Vec<String>,
}

async fn delete_identities(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let DeleteIdentitiesInput {
        identity_ids_to_delete,
    } = input(body)?;
    let mut unprocessed = Vec::new();
    for id in &identity_ids_to_delete {
        match identities::delete(ctx.env, id).await {
            Ok(()) => {}
            // Already gone: nothing to do.
            Err(e) if e.kind == ErrorKind::ResourceNotFound => {}
            Err(_) => {
                unprocessed.push(json!({"IdentityId": id, "ErrorCode": "INTERNAL_SERVER_ERROR"}))
            }
        }
    }
    Ok(json!({ "UnprocessedIdentityIds": unprocessed }))
}

async fn unlink_identity(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let IdentityInput {
        identity_id,
        logins,
        logins_to_remove,
        ..
    } = input(body)?;
    let auth = authenticate(ctx, &identity_id, &logins).await?;
    if auth.amr.is_none() {
        return Err(identities::logins_do_not_match());
    }
    identities::unlink(ctx.env, &auth.identity.identity_id, |l| {
        logins_to_remove.contains(&l.provider)
    })
    .await?;
    Ok(json!({}))
}

// ---------------------------------------------------------------------------------------------
// Tokens and credentials

/// The session tags of the login that authenticated a call.
fn login_tags(auth: &Authenticated) -> BTreeMap<String, String> {
    match &auth.login {
        Some((provider, claims)) => principal_tags::tags_for(&auth.pool, provider, claims),
        None => BTreeMap::new(),
    }
}

/// GetOpenIdToken serves the basic (classic) flow, where the client assumes a role itself. As in
/// Cognito, a pool turns it off with `AllowClassicFlow: false`, and a pool with role mappings
/// refuses it (the mappings could not be applied to a client's own AssumeRoleWithWebIdentity).
fn basic_flow_allowed(pool: &IdentityPoolRecord) -> Result<(), Error> {
    if pool.settings.allow_classic_flow == Some(false) {
        return Err(Error::invalid_parameter(
            "Basic (classic) flow is not enabled, please use enhanced flow.",
        ));
    }
    if !pool.role_mappings.is_empty() {
        return Err(Error::invalid_parameter(
            "Basic (classic) flow is not supported with RoleMappings, please use enhanced flow.",
        ));
    }
    Ok(())
}

async fn get_open_id_token(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let IdentityInput {
        identity_id,
        logins,
        ..
    } = input(body)?;
    let auth = authenticate(ctx, &identity_id, &logins).await?;
    basic_flow_allowed(&auth.pool)?;
    let token = open_id::issue(
        ctx.env,
        &ctx.config.base_url,
        &TokenRequest {
            identity_pool_id: &auth.pool.id,
            identity_id: &auth.identity.identity_id,
            amr: auth.amr.clone(),
            principal_tags: login_tags(&auth),
            lifetime_seconds: open_id::TOKEN_SECONDS,
        },
    )
    .await?;
    Ok(json!({ "IdentityId": auth.identity.identity_id, "Token": token }))
}

async fn get_credentials_for_identity(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let IdentityInput {
        identity_id,
        logins,
        custom_role_arn,
        ..
    } = input(body)?;
    let auth = authenticate(ctx, &identity_id, &logins).await?;
    let login = auth.login.as_ref().map(|(p, c)| (p.as_str(), c));
    let role = match roles::choose(auth.pool.role_config(), login, custom_role_arn.as_deref())? {
        roles::RoleChoice::Role(role) => role,
        roles::RoleChoice::Denied => {
            return Err(Error::not_authorized(
                "The ambiguous role mapping rules denied this request.",
            ));
        }
    };
    let token = open_id::issue(
        ctx.env,
        &ctx.config.base_url,
        &TokenRequest {
            identity_pool_id: &auth.pool.id,
            identity_id: &auth.identity.identity_id,
            amr: auth.amr.clone(),
            principal_tags: login_tags(&auth),
            lifetime_seconds: open_id::TOKEN_SECONDS,
        },
    )
    .await?;
    let credentials = crate::identity::credentials::assume_role(ctx.env, &role, &token).await?;
    Ok(json!({
        "IdentityId": auth.identity.identity_id,
        "Credentials": credentials.to_wire(),
    }))
}

// ---------------------------------------------------------------------------------------------
// Roles and principal tags

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct RolesInput {
    identity_pool_id: String,
    roles: BTreeMap<String, String>,
    #[serde(default)]
    role_mappings: BTreeMap<String, RoleMapping>,
}

async fn set_identity_pool_roles(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let RolesInput {
        identity_pool_id,
        roles,
        role_mappings,
    } = input(body)?;
    pools::modify(ctx.env, &identity_pool_id, |record| {
        roles::validate(
            &record.id,
            |p| record.has_provider(p),
            &roles,
            &role_mappings,
        )?;
        record.roles = roles.clone();
        record.role_mappings = role_mappings.clone();
        Ok(())
    })
    .await?;
    Ok(json!({}))
}

async fn get_identity_pool_roles(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolId { identity_pool_id } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    let mut out = json!({ "IdentityPoolId": pool.id, "Roles": pool.roles });
    if !pool.role_mappings.is_empty() {
        super::set(&mut out, "RoleMappings", output(&pool.role_mappings)?);
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct TagMapInput {
    identity_pool_id: String,
    identity_provider_name: String,
    #[serde(default)]
    use_defaults: Option<bool>,
    #[serde(default)]
    principal_tags: Option<BTreeMap<String, String>>,
}

fn tag_map_wire(pool_id: &str, provider: &str, map: &PrincipalTagMap) -> Value {
    json!({
        "IdentityPoolId": pool_id,
        "IdentityProviderName": provider,
        "UseDefaults": map.use_defaults,
        "PrincipalTags": map.tags,
    })
}

async fn set_principal_tag_attribute_map(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let TagMapInput {
        identity_pool_id,
        identity_provider_name,
        use_defaults,
        principal_tags: tags,
    } = input(body)?;
    let map = PrincipalTagMap {
        use_defaults: use_defaults.unwrap_or(false),
        tags: tags.unwrap_or_default(),
    };
    pools::modify(ctx.env, &identity_pool_id, |record| {
        principal_tags::check_provider(record, &identity_provider_name)?;
        record
            .principal_tags
            .insert(identity_provider_name.clone(), map.clone());
        Ok(())
    })
    .await?;
    Ok(tag_map_wire(
        &identity_pool_id,
        &identity_provider_name,
        &map,
    ))
}

async fn get_principal_tag_attribute_map(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let TagMapInput {
        identity_pool_id,
        identity_provider_name,
        ..
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    principal_tags::check_provider(&pool, &identity_provider_name)?;
    let map = pool
        .principal_tags
        .get(&identity_provider_name)
        .cloned()
        .unwrap_or_default();
    Ok(tag_map_wire(&pool.id, &identity_provider_name, &map))
}

// ---------------------------------------------------------------------------------------------
// Developer-authenticated identities

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeveloperTokenInput {
    identity_pool_id: String,
    #[serde(default)]
    identity_id: Option<String>,
    logins: BTreeMap<String, String>,
    #[serde(default)]
    principal_tags: BTreeMap<String, String>,
    #[serde(default)]
    token_duration: Option<u64>,
}

async fn get_open_id_token_for_developer_identity(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let DeveloperTokenInput {
        identity_pool_id,
        identity_id,
        logins,
        principal_tags: request_tags,
        token_duration,
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    let proof = logins::verify(ctx.env, ctx.config, &pool, &logins, true).await?;
    if proof.logins.is_empty() {
        return Err(Error::invalid_parameter(
            "Logins must name at least one login provider of the identity pool.",
        ));
    }
    let linked: Vec<_> = proof.logins.iter().map(|l| l.login.clone()).collect();
    let developer_conflict = |e: Error| {
        if e.kind == ErrorKind::ResourceConflict {
            developer::already_registered()
        } else {
            e
        }
    };
    let record = match &identity_id {
        Some(id) => {
            identities::load_in(ctx.env, &pool, id).await?;
            identities::link_all(ctx.env, &pool, id, &linked)
                .await
                .map_err(developer_conflict)?
        }
        None => identities::identity_for_logins(ctx.env, &pool, &linked)
            .await
            .map_err(developer_conflict)?,
    };
    let mut tags = BTreeMap::new();
    for login in &proof.logins {
        tags.extend(principal_tags::tags_for(
            &pool,
            &login.login.provider,
            &login.claims,
        ));
    }
    tags.extend(request_tags);
    let amr = proof
        .logins
        .iter()
        .flat_map(|l| l.amr.iter().cloned())
        .collect();
    let token = open_id::issue(
        ctx.env,
        &ctx.config.base_url,
        &TokenRequest {
            identity_pool_id: &pool.id,
            identity_id: &record.identity_id,
            amr: Some(amr),
            principal_tags: tags,
            lifetime_seconds: token_duration.unwrap_or(open_id::DEVELOPER_TOKEN_SECONDS),
        },
    )
    .await?;
    Ok(json!({ "IdentityId": record.identity_id, "Token": token }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct LookupInput {
    identity_pool_id: String,
    #[serde(default)]
    identity_id: Option<String>,
    #[serde(default)]
    developer_user_identifier: Option<String>,
    #[serde(default)]
    max_results: Option<i64>,
    #[serde(default)]
    next_token: Option<String>,
}

async fn lookup_developer_identity(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let LookupInput {
        identity_pool_id,
        identity_id,
        developer_user_identifier,
        max_results,
        next_token,
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    developer::provider(&pool, None)?;
    let record = match (&identity_id, &developer_user_identifier) {
        (None, None) => {
            return Err(Error::invalid_parameter(
                "Either IdentityId or DeveloperUserIdentifier must be specified.",
            ));
        }
        (Some(id), user) => {
            let (record, _) = identities::load_in(ctx.env, &pool, id).await?;
            if let Some(user) = user
                && !developer::users_of(&pool, &record).contains(user)
            {
                return Err(Error::new(
                    ErrorKind::ResourceConflict,
                    "The developer user identifier is not linked to this identity.",
                ));
            }
            record
        }
        (None, Some(user)) => developer::find(ctx.env, &pool, user)
            .await?
            .ok_or_else(|| {
                Error::resource_not_found(format!(
                    "Developer user identifier '{}' not found.",
                    user.chars().take(128).collect::<String>()
                ))
            })?,
    };
    // The list pages by position in the identity's (sorted) developer user identifiers; the
    // token names the last identifier returned, under the identity's id.
    let mut users = developer::users_of(&pool, &record);
    users.sort();
    let prefix = format!("{}/", record.identity_id);
    let after = decode_token(next_token.as_deref(), &prefix)?;
    let start = after
        .as_deref()
        .and_then(|cursor| cursor.strip_prefix(&prefix))
        .map_or(0, |last| {
            users.partition_point(|user| user.as_str() <= last)
        });
    let limit = max_results.map_or(usize::MAX, page_size);
    let page: Vec<String> = users.iter().skip(start).take(limit).cloned().collect();
    let mut out = json!({
        "IdentityId": record.identity_id,
        "DeveloperUserIdentifierList": page,
    });
    if start.saturating_add(page.len()) < users.len()
        && let Some(last) = page.last()
    {
        super::set(
            &mut out,
            "NextToken",
            Value::String(encode_token(&format!("{prefix}{last}"))),
        );
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct MergeInput {
    source_user_identifier: String,
    destination_user_identifier: String,
    developer_provider_name: String,
    identity_pool_id: String,
}

async fn merge_developer_identities(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let MergeInput {
        source_user_identifier,
        destination_user_identifier,
        developer_provider_name,
        identity_pool_id,
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    developer::provider(&pool, Some(&developer_provider_name))?;
    let record = developer::merge(
        ctx.env,
        &pool,
        &source_user_identifier,
        &destination_user_identifier,
    )
    .await?;
    Ok(json!({ "IdentityId": record.identity_id }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UnlinkDeveloperInput {
    identity_id: String,
    identity_pool_id: String,
    developer_provider_name: String,
    developer_user_identifier: String,
}

async fn unlink_developer_identity(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let UnlinkDeveloperInput {
        identity_id,
        identity_pool_id,
        developer_provider_name,
        developer_user_identifier,
    } = input(body)?;
    let (pool, _) = pools::load(ctx.env, &identity_pool_id).await?;
    let provider = developer::provider(&pool, Some(&developer_provider_name))?.to_string();
    let (record, _) = identities::load_in(ctx.env, &pool, &identity_id).await?;
    if !developer::users_of(&pool, &record).contains(&developer_user_identifier) {
        return Err(Error::resource_not_found(
            "The developer user identifier is not linked to this identity.",
        ));
    }
    identities::unlink(ctx.env, &identity_id, |l| {
        l.provider == provider && l.subject == developer_user_identifier
    })
    .await?;
    Ok(json!({}))
}

#[cfg(test)]
mod tests;
