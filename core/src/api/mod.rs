//! The Cognito user-pools wire layer: AWS JSON 1.1 over `POST /` with
//! `X-Amz-Target: AWSCognitoIdentityProviderService.<Operation>`.
//!
//! This layer parses and validates the request, authorises administrative operations with
//! SigV4, calls the domain modules, and maps every [`Error`] to Cognito's `__type` and status.

mod devices;
mod domains;
pub mod extension;
pub mod keys;
pub mod phc;
pub mod plugins;
pub(crate) mod pools;
mod resource_servers;
pub(crate) use pools::create_client;
mod groups;
pub mod identity;
mod identity_providers;
mod import_jobs;
pub use import_jobs::{is_upload as is_import_upload, upload as import_upload};
pub mod insights;
mod list_users;
mod mfa;
mod model;
mod passkeys;
mod sign_in;
mod sign_up;
mod ui_customization;
mod users;
pub mod wire;

use alloc::format;
use alloc::string::{String, ToString};

use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

use crate::config::Config;
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::ports::Env;

/// The target prefix of the user-pools API.
pub const TARGET_PREFIX: &str = "AWSCognitoIdentityProviderService.";
/// The content type AWS JSON 1.1 uses.
pub use crate::http::AWS_JSON as CONTENT_TYPE;
/// The SigV4 service name of the user-pools API.
pub const SIGNING_SERVICE: &str = "cognito-idp";

/// Operations callable without a signature, as in Cognito (the SDKs send them unsigned).
const PUBLIC_OPERATIONS: &[&str] = &[
    "SignUp",
    "ConfirmSignUp",
    "ResendConfirmationCode",
    "InitiateAuth",
    "RespondToAuthChallenge",
    "GetUser",
    "ForgotPassword",
    "ConfirmForgotPassword",
    "ChangePassword",
    "GlobalSignOut",
    "RevokeToken",
    "UpdateUserAttributes",
    "DeleteUser",
    "DeleteUserAttributes",
    "GetUserAttributeVerificationCode",
    "VerifyUserAttribute",
    "GetTokensFromRefreshToken",
    "AssociateSoftwareToken",
    "VerifySoftwareToken",
    "SetUserMFAPreference",
    "ConfirmDevice",
    "ForgetDevice",
    "GetDevice",
    "ListDevices",
    "UpdateDeviceStatus",
    "GetUserAuthFactors",
    "StartWebAuthnRegistration",
    "CompleteWebAuthnRegistration",
    "ListWebAuthnCredentials",
    "DeleteWebAuthnCredential",
];

/// What an operation handler gets.
pub(crate) struct Ctx<'a> {
    pub config: &'a Config,
    pub env: &'a dyn Env,
    pub region: String,
    /// Where the request came from (auth events).
    pub origin: crate::auth::Origin,
}

impl Ctx<'_> {
    /// The issuer of a pool's tokens.
    pub fn issuer(&self, pool_id: &str) -> String {
        format!("{}/{pool_id}", self.config.base_url)
    }
}

/// An error response in Cognito's shape ([`crate::http::AwsError`], as the service answers).
pub fn error_response(error: &Error) -> Response {
    let (name, status) = error.kind.wire();
    crate::http::AwsError::new(status, name, &error.message)
        .service()
        .response()
}

fn content_type_ok(request: &Request) -> bool {
    match request.header("content-type") {
        // Some clients omit it; the body must still be JSON.
        None => true,
        Some(ct) => {
            let mime = ct.split(';').next().unwrap_or_default().trim();
            mime.eq_ignore_ascii_case(CONTENT_TYPE)
                || mime.eq_ignore_ascii_case("application/json")
                || mime.eq_ignore_ascii_case("application/x-amz-json-1.0")
        }
    }
}

/// Handles one JSON 1.1 call.
pub async fn handle(config: &Config, env: &dyn Env, request: &Request) -> Response {
    match call(config, env, request).await {
        Ok(value) => Response::json(
            200,
            CONTENT_TYPE,
            serde_json::to_vec(&value).unwrap_or_else(|_| b"{}".to_vec()),
        ),
        Err(error) => error_response(&error),
    }
}

async fn call(config: &Config, env: &dyn Env, request: &Request) -> Result<Value, Error> {
    let target = request.header("x-amz-target").unwrap_or_default();
    let operation = target.strip_prefix(TARGET_PREFIX).ok_or_else(|| {
        Error::new(
            ErrorKind::UnknownOperation,
            if target.is_empty() {
                "Missing X-Amz-Target header".to_string()
            } else {
                format!(
                    "Unknown target {}",
                    target.chars().take(200).collect::<String>()
                )
            },
        )
    })?;
    if !content_type_ok(request) {
        return Err(Error::new(
            ErrorKind::UnsupportedMediaType,
            "Content-Type must be application/x-amz-json-1.1",
        ));
    }
    let mut body = parse_body(request)?;
    drop_nulls(&mut body);
    let region = if PUBLIC_OPERATIONS.contains(&operation) {
        crate::sigv4::credential_region(request).unwrap_or_else(|| config.default_region.clone())
    } else {
        if !is_known(operation) {
            return Err(unknown(operation));
        }
        let signed = crate::sigv4::verify(
            request,
            SIGNING_SERVICE,
            &config.admin_keys,
            env.clock().now_millis(),
        )?;
        signed.region
    };
    // After authentication, before the operation: types, required members, bounds and enums,
    // as Cognito's own front end checks them.
    model::check(operation, &body)?;
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

/// The request body as a JSON object (an empty body is `{}`).
fn parse_body(request: &Request) -> Result<Value, Error> {
    let body: Value = if request.body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(Map::new())
    } else {
        serde_json::from_slice(&request.body).map_err(|e| {
            Error::new(
                ErrorKind::Serialization,
                format!("Request body is not valid JSON: {e}"),
            )
        })?
    };
    if !body.is_object() {
        return Err(Error::new(
            ErrorKind::Serialization,
            "Request body must be a JSON object",
        ));
    }
    Ok(body)
}

/// Cognito treats a member whose value is JSON `null` as absent, at every depth (the SDKs of
/// several languages send `null` for unset optional members: amazon-cognito-identity-js sends
/// `"ValidationData": null` on SignUp). Dropping them once here (in place) gives every operation that rule.
/// `null` inside a list stays, and fails to decode as the element type it is not.
pub(crate) fn drop_nulls(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.retain(|_, v| !v.is_null());
            map.values_mut().for_each(drop_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(drop_nulls),
        _ => {}
    }
}

fn unknown(operation: &str) -> Error {
    Error::new(
        ErrorKind::UnknownOperation,
        format!(
            "Operation {} is not supported by this server",
            operation.chars().take(100).collect::<String>()
        ),
    )
}

const ADMIN_OPERATIONS: &[&str] = &[
    "CreateUserPool",
    "DescribeUserPool",
    "UpdateUserPool",
    "ListUserPools",
    "DeleteUserPool",
    "CreateUserPoolClient",
    "DescribeUserPoolClient",
    "UpdateUserPoolClient",
    "ListUserPoolClients",
    "DeleteUserPoolClient",
    "AdminConfirmSignUp",
    "AdminGetUser",
    "AdminInitiateAuth",
    "AdminRespondToAuthChallenge",
    "AdminCreateUser",
    "AdminDeleteUser",
    "AdminDisableUser",
    "AdminEnableUser",
    "AdminSetUserPassword",
    "AdminResetUserPassword",
    "AdminUpdateUserAttributes",
    "AdminDeleteUserAttributes",
    "AdminUserGlobalSignOut",
    "AdminListUserAuthEvents",
    "ListUsers",
    "CreateGroup",
    "GetGroup",
    "UpdateGroup",
    "DeleteGroup",
    "ListGroups",
    "AdminAddUserToGroup",
    "AdminRemoveUserFromGroup",
    "AdminListGroupsForUser",
    "ListUsersInGroup",
    "AddCustomAttributes",
    "AdminGetDevice",
    "AdminListDevices",
    "AdminForgetDevice",
    "AdminUpdateDeviceStatus",
    "SetUserPoolMfaConfig",
    "GetUserPoolMfaConfig",
    "AdminSetUserMFAPreference",
    "GetCSVHeader",
    "CreateUserImportJob",
    "StartUserImportJob",
    "StopUserImportJob",
    "DescribeUserImportJob",
    "ListUserImportJobs",
];

/// The operations that configure the authorization server (all administrative).
const OAUTH_OPERATIONS: &[&str] = &[
    "CreateResourceServer",
    "DescribeResourceServer",
    "UpdateResourceServer",
    "ListResourceServers",
    "DeleteResourceServer",
    "CreateUserPoolDomain",
    "DescribeUserPoolDomain",
    "UpdateUserPoolDomain",
    "DeleteUserPoolDomain",
    "SetUICustomization",
    "GetUICustomization",
    "CreateIdentityProvider",
    "DescribeIdentityProvider",
    "UpdateIdentityProvider",
    "DeleteIdentityProvider",
    "ListIdentityProviders",
    "GetIdentityProviderByIdentifier",
    "AdminLinkProviderForUser",
    "AdminDisableProviderForUser",
];

fn is_known(operation: &str) -> bool {
    ADMIN_OPERATIONS.contains(&operation)
        || PUBLIC_OPERATIONS.contains(&operation)
        || OAUTH_OPERATIONS.contains(&operation)
}

/// Runs an operation on an already authorised call (also used for pools declared as code).
pub(crate) async fn dispatch(ctx: &Ctx<'_>, operation: &str, body: Value) -> Result<Value, Error> {
    match operation {
        "CreateUserPool" => pools::create_user_pool(ctx, body).await,
        "DescribeUserPool" => pools::describe_user_pool(ctx, body).await,
        "UpdateUserPool" => pools::update_user_pool(ctx, body).await,
        "ListUserPools" => pools::list_user_pools(ctx, body).await,
        "DeleteUserPool" => pools::delete_user_pool(ctx, body).await,
        "CreateUserPoolClient" => pools::create_user_pool_client(ctx, body).await,
        "DescribeUserPoolClient" => pools::describe_user_pool_client(ctx, body).await,
        "UpdateUserPoolClient" => pools::update_user_pool_client(ctx, body).await,
        "ListUserPoolClients" => pools::list_user_pool_clients(ctx, body).await,
        "DeleteUserPoolClient" => pools::delete_user_pool_client(ctx, body).await,
        "SignUp" => sign_up::sign_up(ctx, body).await,
        "ConfirmSignUp" => sign_up::confirm_sign_up(ctx, body).await,
        "ResendConfirmationCode" => sign_up::resend_confirmation_code(ctx, body).await,
        "AdminConfirmSignUp" => sign_up::admin_confirm_sign_up(ctx, body).await,
        "GetUser" => users::get_user(ctx, body).await,
        "ConfirmDevice" => devices::confirm_device(ctx, body, false).await,
        "GetDevice" => devices::get_device(ctx, body, false).await,
        "AdminGetDevice" => devices::get_device(ctx, body, true).await,
        "ListDevices" => devices::list_devices(ctx, body, false).await,
        "AdminListDevices" => devices::list_devices(ctx, body, true).await,
        "ForgetDevice" => devices::forget_device(ctx, body, false).await,
        "AdminForgetDevice" => devices::forget_device(ctx, body, true).await,
        "UpdateDeviceStatus" => devices::update_device_status(ctx, body, false).await,
        "AdminUpdateDeviceStatus" => devices::update_device_status(ctx, body, true).await,
        "AdminGetUser" => users::admin_get_user(ctx, body).await,
        "InitiateAuth" => sign_in::initiate_auth(ctx, body).await,
        "AdminInitiateAuth" => sign_in::admin_initiate_auth(ctx, body).await,
        "RespondToAuthChallenge" => sign_in::respond_to_auth_challenge(ctx, body, false).await,
        "AdminRespondToAuthChallenge" => sign_in::respond_to_auth_challenge(ctx, body, true).await,
        "AdminCreateUser" => sign_up::admin_create_user(ctx, body).await,
        "AdminDeleteUser" => users::admin_delete_user(ctx, body).await,
        "AdminDisableUser" => users::admin_set_enabled(ctx, body, false).await,
        "AdminEnableUser" => users::admin_set_enabled(ctx, body, true).await,
        "AdminSetUserPassword" => users::admin_set_user_password(ctx, body).await,
        "AdminResetUserPassword" => users::admin_reset_user_password(ctx, body).await,
        "AdminUpdateUserAttributes" => users::admin_update_user_attributes(ctx, body).await,
        "AdminDeleteUserAttributes" => users::admin_delete_user_attributes(ctx, body).await,
        "AdminUserGlobalSignOut" => sign_in::admin_user_global_sign_out(ctx, body).await,
        "AdminListUserAuthEvents" => sign_in::admin_list_user_auth_events(ctx, body).await,
        "DeleteUser" => users::delete_user(ctx, body).await,
        "UpdateUserAttributes" => users::update_user_attributes(ctx, body).await,
        "DeleteUserAttributes" => users::delete_user_attributes(ctx, body).await,
        "GetUserAttributeVerificationCode" => {
            users::get_user_attribute_verification_code(ctx, body).await
        }
        "VerifyUserAttribute" => users::verify_user_attribute(ctx, body).await,
        "ChangePassword" => users::change_password(ctx, body).await,
        "ForgotPassword" => users::forgot_password(ctx, body).await,
        "ConfirmForgotPassword" => users::confirm_forgot_password(ctx, body).await,
        "GlobalSignOut" => sign_in::global_sign_out(ctx, body).await,
        "RevokeToken" => sign_in::revoke_token(ctx, body).await,
        "GetTokensFromRefreshToken" => sign_in::get_tokens_from_refresh_token(ctx, body).await,
        "ListUsers" => list_users::list_users(ctx, body).await,
        "CreateGroup" => groups::create_group(ctx, body).await,
        "GetGroup" => groups::get_group(ctx, body).await,
        "UpdateGroup" => groups::update_group(ctx, body).await,
        "DeleteGroup" => groups::delete_group(ctx, body).await,
        "ListGroups" => groups::list_groups(ctx, body).await,
        "AdminAddUserToGroup" => groups::admin_add_user_to_group(ctx, body).await,
        "AdminRemoveUserFromGroup" => groups::admin_remove_user_from_group(ctx, body).await,
        "AdminListGroupsForUser" => groups::admin_list_groups_for_user(ctx, body).await,
        "ListUsersInGroup" => groups::list_users_in_group(ctx, body).await,
        "AddCustomAttributes" => pools::add_custom_attributes(ctx, body).await,
        // CSV user import (issue 24).
        "GetCSVHeader" => import_jobs::get_csv_header(ctx, body).await,
        "CreateUserImportJob" => import_jobs::create_user_import_job(ctx, body).await,
        "StartUserImportJob" => import_jobs::start_user_import_job(ctx, body).await,
        "StopUserImportJob" => import_jobs::stop_user_import_job(ctx, body).await,
        "DescribeUserImportJob" => import_jobs::describe_user_import_job(ctx, body).await,
        "ListUserImportJobs" => import_jobs::list_user_import_jobs(ctx, body).await,
        // MFA (issue 17).
        "SetUserPoolMfaConfig" => mfa::set_user_pool_mfa_config(ctx, body).await,
        "GetUserPoolMfaConfig" => mfa::get_user_pool_mfa_config(ctx, body).await,
        "AssociateSoftwareToken" => mfa::associate_software_token(ctx, body).await,
        "VerifySoftwareToken" => mfa::verify_software_token(ctx, body).await,
        "SetUserMFAPreference" => mfa::set_user_mfa_preference(ctx, body).await,
        "AdminSetUserMFAPreference" => mfa::admin_set_user_mfa_preference(ctx, body).await,
        "GetUserAuthFactors" => passkeys::get_user_auth_factors(ctx, body).await,
        "StartWebAuthnRegistration" => passkeys::start_registration(ctx, body).await,
        "CompleteWebAuthnRegistration" => passkeys::complete_registration(ctx, body).await,
        "ListWebAuthnCredentials" => passkeys::list_credentials(ctx, body).await,
        "DeleteWebAuthnCredential" => passkeys::delete_credential(ctx, body).await,
        // Resource servers, domains, UI customization (issue 6).
        "CreateResourceServer" => resource_servers::put_resource_server(ctx, body, true).await,
        "UpdateResourceServer" => resource_servers::put_resource_server(ctx, body, false).await,
        "DescribeResourceServer" => resource_servers::describe_resource_server(ctx, body).await,
        "ListResourceServers" => resource_servers::list_resource_servers(ctx, body).await,
        "DeleteResourceServer" => resource_servers::delete_resource_server(ctx, body).await,
        "CreateUserPoolDomain" => domains::create_domain(ctx, body).await,
        "DescribeUserPoolDomain" => domains::describe_domain(ctx, body).await,
        "UpdateUserPoolDomain" => domains::update_domain(ctx, body).await,
        "DeleteUserPoolDomain" => domains::delete_domain(ctx, body).await,
        "SetUICustomization" => ui_customization::set_ui_customization(ctx, body).await,
        "GetUICustomization" => ui_customization::get_ui_customization(ctx, body).await,
        // Federation (issue 20).
        "CreateIdentityProvider" => identity_providers::create_identity_provider(ctx, body).await,
        "DescribeIdentityProvider" => {
            identity_providers::describe_identity_provider(ctx, body).await
        }
        "UpdateIdentityProvider" => identity_providers::update_identity_provider(ctx, body).await,
        "DeleteIdentityProvider" => identity_providers::delete_identity_provider(ctx, body).await,
        "ListIdentityProviders" => identity_providers::list_identity_providers(ctx, body).await,
        "GetIdentityProviderByIdentifier" => {
            identity_providers::get_identity_provider_by_identifier(ctx, body).await
        }
        "AdminLinkProviderForUser" => {
            identity_providers::admin_link_provider_for_user(ctx, body).await
        }
        "AdminDisableProviderForUser" => {
            identity_providers::admin_disable_provider_for_user(ctx, body).await
        }
        other => Err(unknown(other)),
    }
}

/// Decodes an operation's input. A missing required member is `InvalidParameterException` with
/// AWS's validation wording; a member of the wrong JSON type is a `SerializationException`.
/// A typed response body as the JSON the handlers return.
pub(crate) fn output<T: serde::Serialize>(value: &T) -> Result<Value, Error> {
    serde_json::to_value(value)
        .map_err(|e| Error::internal(format!("cannot encode the response: {e}")))
}

pub(crate) fn input<T: DeserializeOwned>(body: Value) -> Result<T, Error> {
    serde_json::from_value(body).map_err(|e| {
        let text = e.to_string();
        if let Some(rest) = text.strip_prefix("missing field `") {
            let field = rest.split('`').next().unwrap_or_default();
            let mut chars = field.chars();
            let camel: String = chars
                .next()
                .map(|c| c.to_lowercase().chain(chars).collect())
                .unwrap_or_default();
            Error::invalid_parameter(format!(
                "1 validation error detected: Value null at '{camel}' failed to satisfy constraint: Member must not be null"
            ))
        } else {
            Error::new(ErrorKind::Serialization, format!("Invalid request: {text}"))
        }
    })
}

/// Sets a member of a JSON object (no-op on non-objects: outputs are always objects).
pub(crate) fn set(target: &mut Value, key: &str, value: Value) {
    if let Value::Object(map) = target {
        map.insert(key.to_string(), value);
    }
}

/// Opaque pagination tokens: the store cursor, base64url-encoded, checked against its prefix.
pub(crate) fn encode_token(cursor: &str) -> String {
    crate::codec::b64url(cursor.as_bytes())
}

pub(crate) fn decode_token(token: Option<&str>, prefix: &str) -> Result<Option<String>, Error> {
    let Some(token) = token else { return Ok(None) };
    let invalid = || Error::invalid_parameter("Invalid pagination token.");
    let bytes = crate::codec::b64url_decode(token).ok_or_else(invalid)?;
    let cursor = String::from_utf8(bytes).map_err(|_| invalid())?;
    if !cursor.starts_with(prefix) {
        return Err(invalid());
    }
    Ok(Some(cursor))
}

/// Loads the client and its pool for a public operation, as kept decoded.
pub(crate) async fn client_and_pool(
    ctx: &Ctx<'_>,
    client_id: &str,
) -> Result<
    (
        alloc::sync::Arc<crate::pool::AppClient>,
        alloc::sync::Arc<crate::pool::PoolRecord>,
    ),
    Error,
> {
    let (client, _) = crate::pool::load_client_shared(ctx.env, client_id).await?;
    let (pool, _) = crate::pool::load_pool_shared(ctx.env, &client.user_pool_id).await?;
    Ok((client, pool))
}

/// The pool and user an administrative user operation names.
async fn admin_target(
    ctx: &Ctx<'_>,
    pool_id: &str,
    username: &str,
) -> Result<(crate::pool::PoolRecord, crate::user::UserRecord), Error> {
    crate::user::check_username(username)?;
    let (pool, _) = crate::pool::load_pool(ctx.env, pool_id).await?;
    let (record, _) = crate::user::resolve_existing(ctx.env, &pool, username).await?;
    Ok((pool, record))
}

/// The members of every `Admin*` operation on one user.
#[derive(serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUser {
    user_pool_id: String,
    username: String,
}

/// Cognito's `CodeDeliveryDetailsType`.
fn delivery_wire(delivery: &crate::message::CodeDelivery) -> Value {
    let details = wire::CodeDeliveryDetails {
        destination: delivery.destination.clone(),
        delivery_medium: match delivery.medium {
            crate::ports::Medium::Email => "EMAIL",
            crate::ports::Medium::Sms => "SMS",
        }
        .into(),
        attribute_name: delivery.attribute.clone(),
    };
    serde_json::to_value(details).unwrap_or_default()
}

/// ListUsers' and AdminCreateUser's `UserType` (attributes under `Attributes`).
pub(crate) fn list_wire(record: &crate::user::UserRecord, only: Option<&[String]>) -> Value {
    let mut out = record.to_admin_wire();
    if let Value::Object(map) = &mut out {
        let attributes = map.remove("UserAttributes").unwrap_or(Value::Null);
        let attributes = match (only, attributes) {
            (Some(names), Value::Array(list)) => Value::Array(
                list.into_iter()
                    .filter(|a| {
                        a.get("Name")
                            .and_then(Value::as_str)
                            .is_some_and(|n| names.iter().any(|x| x == n))
                    })
                    .collect(),
            ),
            (_, other) => other,
        };
        map.insert("Attributes".into(), attributes);
    }
    out
}

/// Cognito's `AttributeType` list as a map (later entries win).
pub(crate) fn attribute_map(
    list: &[wire::AttributeType],
) -> Result<alloc::collections::BTreeMap<String, String>, Error> {
    let mut map = alloc::collections::BTreeMap::new();
    for a in list {
        if a.name.is_empty() || a.name.chars().count() > 32 + 7 {
            return Err(Error::invalid_parameter(
                "1 validation error detected: Value at 'userAttributes.member.name' failed to satisfy constraint: Member must have length less than or equal to 32",
            ));
        }
        map.insert(a.name.clone(), a.value.clone().unwrap_or_default());
    }
    Ok(map)
}

#[cfg(test)]
pub(crate) mod properties;
#[cfg(test)]
mod tests;
