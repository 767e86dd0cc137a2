//! Where sign-in fires triggers: pre authentication (before the password or the first custom
//! challenge is checked) and post authentication (a proved, confirmed user).

use serde_json::{Value, json};

use super::{Invocation, TriggerKind, run, user_attributes};
use crate::error::Error;
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::user::UserRecord;

/// Runs pre authentication (`PreAuthentication_Authentication`): an error refuses the sign-in.
pub async fn pre_authentication(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client_id: &str,
    validation_data: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PreAuthentication,
            source: "PreAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": user_attributes(user),
                "validationData": validation_data,
                "userNotFound": false,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}

/// Runs post authentication (`PostAuthentication_Authentication`): an error refuses the tokens.
pub async fn post_authentication(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client_id: &str,
    client_metadata: Value,
) -> Result<(), Error> {
    run(
        env,
        pool,
        Invocation {
            kind: TriggerKind::PostAuthentication,
            source: "PostAuthentication_Authentication",
            user_name: &user.username,
            client_id: Some(client_id),
            request: json!({
                "userAttributes": user_attributes(user),
                "newDeviceUsed": false,
                "clientMetadata": client_metadata,
            }),
            response: json!({}),
        },
    )
    .await?;
    Ok(())
}
