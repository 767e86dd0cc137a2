//! Where sign-up fires triggers: pre sign-up (SignUp, AdminCreateUser, migration) and post
//! confirmation (ConfirmSignUp, AdminConfirmSignUp, ConfirmForgotPassword).

use alloc::string::String;

use serde_json::{Value, json};

use super::{Invocation, TriggerKind, flag, run, string_map, user_attributes};
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::UserRecord;

/// Pre sign-up's decision.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PreSignUp {
    pub auto_confirm_user: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

/// Runs pre sign-up (`PreSignUp_SignUp`, `PreSignUp_AdminCreateUser`).
#[allow(clippy::too_many_arguments)]
pub async fn pre_sign_up(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    username: &str,
    client_id: Option<&str>,
    attributes: &alloc::collections::BTreeMap<String, String>,
    validation_data: Value,
    client_metadata: Value,
) -> Result<PreSignUp, Error> {
    let Some(response) = run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PreSignUp,
            source,
            user_name: username,
            client_id,
            request: json!({
                "userAttributes": string_map(attributes),
                "validationData": validation_data,
                "clientMetadata": client_metadata,
            }),
            response: json!({
                "autoConfirmUser": false,
                "autoVerifyEmail": false,
                "autoVerifyPhone": false,
            }),
        },
    )
    .await?
    else {
        return Ok(PreSignUp::default());
    };
    Ok(PreSignUp {
        auto_confirm_user: flag(&response, "autoConfirmUser")?,
        auto_verify_email: flag(&response, "autoVerifyEmail")?,
        auto_verify_phone: flag(&response, "autoVerifyPhone")?,
    })
}

/// Runs post confirmation (`PostConfirmation_ConfirmSignUp`,
/// `PostConfirmation_ConfirmForgotPassword`). The confirmation has happened; an error still
/// fails the call, as in Cognito.
pub async fn post_confirmation(
    env: &dyn Env,
    pool: &PoolRecord,
    source: &str,
    user: &UserRecord,
    client_id: Option<&str>,
    client_metadata: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PostConfirmation,
            source,
            user_name: &user.username,
            client_id,
            request: json!({
                "userAttributes": user_attributes(user),
                "clientMetadata": client_metadata,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}
