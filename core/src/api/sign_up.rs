//! Registration operations: SignUp, ConfirmSignUp, ResendConfirmationCode, AdminConfirmSignUp,
//! AdminCreateUser.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::wire::{
    AttributeType, ConfirmSignUpRequest, ResendConfirmationCodeRequest, SignUpRequest,
};
use super::{AdminUser, Ctx, attribute_map, client_and_pool, delivery_wire, input, list_wire};
use crate::error::Error;
use crate::pool::{self, ClientProof};
use crate::registration::{invite, sign_up as registration};
use crate::user;

pub(super) async fn sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SignUpRequest = input(body)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let hosted_ui = crate::oidc::domain::confirmation_link_base(ctx.env, ctx.config, &pool).await?;
    let signed_up = registration::sign_up(
        ctx.env,
        &pool,
        &client,
        registration::SignUp {
            username: &req.username,
            password: &req.password,
            proof: ClientProof::SecretHash(req.secret_hash.as_deref()),
            attributes: attribute_map(&req.user_attributes)?,
            validation_data: attribute_map(&req.validation_data)?,
            client_metadata: req.client_metadata.clone(),
            hosted_ui: hosted_ui.as_deref(),
        },
    )
    .await?;
    let mut out = json!({ "UserConfirmed": signed_up.confirmed, "UserSub": signed_up.sub });
    if let Some(delivery) = &signed_up.delivery {
        super::set(&mut out, "CodeDeliveryDetails", delivery_wire(delivery));
    }
    Ok(out)
}

pub(super) async fn confirm_sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ConfirmSignUpRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    crate::code::check_input(&req.confirmation_code)?;
    registration::confirm(
        ctx.env,
        &pool,
        &client,
        &req.username,
        &req.confirmation_code,
        ClientProof::SecretHash(req.secret_hash.as_deref()),
        req.force_alias_creation,
        crate::trigger::string_map(&req.client_metadata),
    )
    .await?;
    Ok(json!({}))
}

pub(super) async fn resend_confirmation_code(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ResendConfirmationCodeRequest = input(body)?;
    user::check_username(&req.username)?;
    let (client, pool) = client_and_pool(ctx, &req.client_id).await?;
    let hosted_ui = crate::oidc::domain::confirmation_link_base(ctx.env, ctx.config, &pool).await?;
    let delivery = registration::resend_code(
        ctx.env,
        &pool,
        &client,
        &req.username,
        ClientProof::SecretHash(req.secret_hash.as_deref()),
        hosted_ui.as_deref(),
    )
    .await?;
    Ok(json!({ "CodeDeliveryDetails": delivery_wire(&delivery) }))
}

pub(super) async fn admin_confirm_sign_up(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminUser = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    registration::admin_confirm(ctx.env, &pool, &req.username).await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AdminCreateUser {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    user_attributes: Vec<AttributeType>,
    #[serde(default)]
    temporary_password: Option<String>,
    #[serde(default)]
    message_action: Option<String>,
    #[serde(default)]
    desired_delivery_mediums: Vec<String>,
    #[serde(default)]
    force_alias_creation: bool,
    #[serde(default)]
    validation_data: Vec<AttributeType>,
    #[serde(default)]
    client_metadata: BTreeMap<String, String>,
}

pub(super) async fn admin_create_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AdminCreateUser = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let record = invite::create_user(
        ctx.env,
        &pool,
        invite::CreateUser {
            username: &req.username,
            attributes: attribute_map(&req.user_attributes)?,
            temporary_password: req.temporary_password.as_deref(),
            message_action: req.message_action.as_deref(),
            desired_delivery_mediums: req.desired_delivery_mediums.clone(),
            force_alias_creation: req.force_alias_creation,
            validation_data: attribute_map(&req.validation_data)?,
            client_metadata: req.client_metadata.clone(),
        },
    )
    .await?;
    Ok(json!({ "User": list_wire(&record, None) }))
}
