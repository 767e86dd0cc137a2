//! Remembered devices: ConfirmDevice, GetDevice, ListDevices, ForgetDevice, UpdateDeviceStatus
//! (authorised by the user's access token) and their `Admin*` forms (SigV4). The devices
//! themselves are `crate::device`'s.

use alloc::string::String;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, admin_target, input};
use crate::device::{self, DeviceVerifier};
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::token;
use crate::user::UserRecord;

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DeviceRequest {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    user_pool_id: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    device_key: Option<String>,
    #[serde(default)]
    device_name: Option<String>,
    #[serde(default)]
    device_secret_verifier_config: Option<VerifierConfig>,
    #[serde(default)]
    device_remembered_status: Option<String>,
    #[serde(default)]
    limit: Option<i64>,
    #[serde(default)]
    pagination_token: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct VerifierConfig {
    #[serde(default)]
    password_verifier: Option<String>,
    #[serde(default)]
    salt: Option<String>,
}

/// The user a device operation is about: the access token's (the user operations, which are
/// unsigned) or the named user of the named pool (the `Admin*` operations, SigV4-authorised
/// before they get here).
async fn whose(
    ctx: &Ctx<'_>,
    req: &DeviceRequest,
    admin: bool,
) -> Result<(PoolRecord, UserRecord), Error> {
    let missing = |member: &str| {
        Error::invalid_parameter(alloc::format!(
            "1 validation error detected: Value null at '{member}' failed to satisfy constraint: Member must not be null"
        ))
    };
    if admin {
        let pool_id = req
            .user_pool_id
            .as_deref()
            .ok_or_else(|| missing("userPoolId"))?;
        let username = req.username.as_deref().ok_or_else(|| missing("username"))?;
        return admin_target(ctx, pool_id, username).await;
    }
    let token = req
        .access_token
        .as_deref()
        .ok_or_else(|| missing("accessToken"))?;
    let (pool, user, _, _) =
        token::authorize_access_token(ctx.env, &ctx.config.base_url, token).await?;
    Ok((pool, user))
}

fn device_key(req: &DeviceRequest) -> Result<&str, Error> {
    req.device_key.as_deref().ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'deviceKey' failed to satisfy constraint: Member must not be null",
        )
    })
}

pub(super) async fn confirm_device(
    ctx: &Ctx<'_>,
    body: Value,
    admin: bool,
) -> Result<Value, Error> {
    let req: DeviceRequest = input(body)?;
    let (pool, user) = whose(ctx, &req, admin).await?;
    let verifier = match &req.device_secret_verifier_config {
        Some(VerifierConfig {
            password_verifier: Some(verifier),
            salt: Some(salt),
        }) => DeviceVerifier {
            salt: salt.clone(),
            verifier: verifier.clone(),
        },
        _ => {
            return Err(Error::invalid_parameter(
                "DeviceSecretVerifierConfig with PasswordVerifier and Salt is required.",
            ));
        }
    };
    let necessary = device::confirm(
        ctx.env,
        &pool,
        &user,
        device_key(&req)?,
        verifier,
        req.device_name.clone(),
        ctx.origin.ip_address.clone(),
    )
    .await?;
    Ok(json!({ "UserConfirmationNecessary": necessary }))
}

pub(super) async fn get_device(ctx: &Ctx<'_>, body: Value, admin: bool) -> Result<Value, Error> {
    let req: DeviceRequest = input(body)?;
    let (pool, user) = whose(ctx, &req, admin).await?;
    let record = device::get(ctx.env, &pool, &user, device_key(&req)?).await?;
    Ok(json!({ "Device": record.to_wire() }))
}

pub(super) async fn list_devices(ctx: &Ctx<'_>, body: Value, admin: bool) -> Result<Value, Error> {
    let req: DeviceRequest = input(body)?;
    let (pool, user) = whose(ctx, &req, admin).await?;
    let (devices, next) = device::list(
        ctx.env,
        &pool,
        &user,
        req.limit,
        req.pagination_token.as_deref(),
    )
    .await?;
    let mut out = json!({
        "Devices": devices.iter().map(device::DeviceRecord::to_wire).collect::<alloc::vec::Vec<_>>(),
    });
    if let Some(next) = next {
        super::set(&mut out, "PaginationToken", json!(next));
    }
    Ok(out)
}

pub(super) async fn forget_device(ctx: &Ctx<'_>, body: Value, admin: bool) -> Result<Value, Error> {
    let req: DeviceRequest = input(body)?;
    let (pool, user) = whose(ctx, &req, admin).await?;
    device::forget(ctx.env, &pool, &user, device_key(&req)?).await?;
    Ok(json!({}))
}

pub(super) async fn update_device_status(
    ctx: &Ctx<'_>,
    body: Value,
    admin: bool,
) -> Result<Value, Error> {
    let req: DeviceRequest = input(body)?;
    let (pool, user) = whose(ctx, &req, admin).await?;
    device::set_remembered(
        ctx.env,
        &pool,
        &user,
        device_key(&req)?,
        req.device_remembered_status.as_deref(),
    )
    .await?;
    Ok(json!({}))
}
