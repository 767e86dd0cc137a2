//! User operations: a user's own (GetUser, UpdateUserAttributes, ChangePassword, ...) and an
//! administrator's (AdminGetUser, AdminSetUserPassword, AdminDeleteUser, ...), and password
//! recovery.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{
    AccessTokenRequest, AttributeType, ChangePasswordRequest, ConfirmForgotPasswordRequest,
    DeleteUserAttributesRequest, ForgotPasswordRequest, GetUserAttributeVerificationCodeRequest,
    UpdateUserAttributesRequest, VerifyUserAttributeRequest,
};
use super::{AdminUser, Ctx, admin_target, attribute_map, client_and_pool, delivery_wire, input};
use crate::error::Error;
use crate::{account, pool, profile, recovery, token, user};

/// The user an access token authorises, with its pool.
async fn token_user(
    ctx: &Ctx<'_>,
    access_token: &str,
) -> Result<(pool::PoolRecord, user::UserRecord), Error> {
    let (pool, record, _, _) =
        token::authorize_access_token(ctx.env, &ctx.config.base_url, access_token).await?;
    Ok((pool, record))
}

pub(super) async fn get_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (record, _, _) =
        token::authorize_access_token_user(ctx.env, &ctx.config.base_url, &req.access_token)
            .await?;
    let mut attributes = Vec::with_capacity(record.attributes.len() + 1);
    attributes.push(AttributeType {
        name: "sub".into(),
        value: Some(record.sub.clone()),
    });
    attributes.extend(record.attributes.iter().map(|(name, value)| AttributeType {
        name: name.clone(),
        value: Some(value.clone()),
    }));
    let mut out = super::output(&super::wire::GetUserResponse {
        username: record.username.clone(),
        user_attributes: attributes,
        ..Default::default()
    })?;
    super::mfa::add_user_members(&mut out, &record);
    Ok(out)
}

pub(super) async fn admin_get_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (record, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    // No MFA members for a user without MFA: Cognito leaves them out rather than send `[]`.
    let mut out = record.to_admin_wire();
    super::mfa::add_user_members(&mut out, &record);
    Ok(out)
}

pub(super) async fn admin_delete_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    account::delete(ctx.env, &pool, &found.username).await?;
    Ok(json!({}))
}

pub(super) async fn delete_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AccessTokenRequest = input(body)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    account::delete(ctx.env, &pool, &record.username).await?;
    Ok(json!({}))
}

pub(super) async fn admin_set_enabled(
    ctx: &Ctx<'_>,
    body: Value,
    enabled: bool,
) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    account::set_enabled(ctx.env, &pool, &found.username, enabled).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminSetUserPassword {
    user_pool_id: String,
    username: String,
    password: String,
    #[serde(default)]
    permanent: bool,
}

pub(super) async fn admin_set_user_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminSetUserPassword = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    account::set_password(
        ctx.env,
        &pool,
        &found.username,
        &req.password,
        req.permanent,
    )
    .await?;
    Ok(json!({}))
}

pub(super) async fn change_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ChangePasswordRequest = input(body)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    let previous = req.previous_password.as_deref().ok_or_else(|| {
        Error::invalid_parameter("PreviousPassword is required for users that have a password.")
    })?;
    account::change_password(ctx.env, &pool, &record, previous, &req.proposed_password).await?;
    Ok(json!({}))
}

pub(super) async fn admin_reset_user_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    recovery::admin_reset_password(ctx.env, &pool, &found).await?;
    Ok(json!({}))
}

pub(super) async fn forgot_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ForgotPasswordRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let delivery = recovery::forgot_password(
        ctx.env,
        &pool,
        &client,
        &req.username,
        pool::ClientProof::SecretHash(req.secret_hash.as_deref()),
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    Ok(json!({ "CodeDeliveryDetails": delivery_wire(&delivery) }))
}

pub(super) async fn confirm_forgot_password(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ConfirmForgotPasswordRequest = input(body)?;
    user::check_username(&req.username)?;
    crate::code::check_input(&req.confirmation_code)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    recovery::confirm_forgot_password(
        ctx.env,
        &pool,
        &client,
        &req.username,
        &req.confirmation_code,
        &req.password,
        pool::ClientProof::SecretHash(req.secret_hash.as_deref()),
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminUpdateUserAttributes {
    user_pool_id: String,
    username: String,
    user_attributes: Vec<AttributeType>,
}

pub(super) async fn admin_update_user_attributes(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminUpdateUserAttributes = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    let updates = attribute_map(&req.user_attributes)?;
    profile::update_attributes(ctx.env, &pool, &found.username, updates, true).await?;
    Ok(json!({}))
}

pub(super) async fn update_user_attributes(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: UpdateUserAttributesRequest = input(body)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    let updates = attribute_map(&req.user_attributes)?;
    let details =
        profile::update_attributes(ctx.env, &pool, &record.username, updates, false).await?;
    let details: Vec<Value> = details.iter().map(delivery_wire).collect();
    Ok(json!({ "CodeDeliveryDetailsList": details }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminDeleteUserAttributes {
    user_pool_id: String,
    username: String,
    user_attribute_names: Vec<String>,
}

pub(super) async fn admin_delete_user_attributes(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: AdminDeleteUserAttributes = input(body)?;
    let (pool, found) = admin_target(ctx, &req.user_pool_id, &req.username).await?;
    profile::delete_attributes(ctx.env, &pool, &found.username, &req.user_attribute_names).await?;
    Ok(json!({}))
}

pub(super) async fn delete_user_attributes(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: DeleteUserAttributesRequest = input(body)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    profile::delete_attributes(ctx.env, &pool, &record.username, &req.user_attribute_names).await?;
    Ok(json!({}))
}

pub(super) async fn get_user_attribute_verification_code(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: GetUserAttributeVerificationCodeRequest = input(body)?;
    profile::check_contact_attribute(&req.attribute_name)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    let delivery =
        profile::send_verification_code(ctx.env, &pool, &record, &req.attribute_name).await?;
    Ok(
        json!({ "CodeDeliveryDetails": delivery.as_ref().map(delivery_wire).unwrap_or(Value::Null) }),
    )
}

pub(super) async fn verify_user_attribute(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: VerifyUserAttributeRequest = input(body)?;
    profile::check_contact_attribute(&req.attribute_name)?;
    crate::code::check_input(&req.code)?;
    let (pool, record) = token_user(ctx, &req.access_token).await?;
    profile::verify_attribute(ctx.env, &pool, &record, &req.attribute_name, &req.code).await?;
    Ok(json!({}))
}
