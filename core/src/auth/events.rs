//! Auth events: each sign-in attempt of a user, newest first, for AdminListUserAuthEvents.
//!
//! Keys: `p/<poolId>/ev/<username key>/<inverted millis><event id>`: the inverted time makes a
//! forward prefix scan return the newest events first.

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::Origin;
use crate::error::Error;
use crate::pool::{AppClient, PoolRecord, epoch_seconds};
use crate::ports::Env;
use crate::store::Expect;
use crate::user::UserRecord;

/// A stored auth event.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthEvent {
    pub event_id: String,
    pub event_type: String,
    pub created_millis: u64,
    pub success: bool,
    pub client_id: String,
    #[serde(default)]
    pub ip_address: Option<String>,
    #[serde(default)]
    pub user_agent: Option<String>,
    /// Why a sign-in failed where the client is not told (Cognate's `CognateReason` member).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl AuthEvent {
    /// Cognito's `AuthEventType`.
    pub fn to_wire(&self) -> Value {
        let mut context = serde_json::Map::new();
        if let Some(ip) = &self.ip_address {
            context.insert("IpAddress".into(), json!(ip));
        }
        if let Some(agent) = &self.user_agent {
            context.insert("DeviceName".into(), json!(agent));
        }
        json!({
            "EventId": self.event_id,
            "EventType": self.event_type,
            "CreationDate": epoch_seconds(self.created_millis),
            "EventResponse": if self.success { "Pass" } else { "Fail" },
            "EventRisk": {"RiskDecision": "NoRisk", "CompromisedCredentialsDetected": false},
            "ChallengeResponses": [{"ChallengeName": "Password", "ChallengeResponse": if self.success { "Success" } else { "Failure" }}],
            "EventContextData": context,
            "EventFeedback": null,
            "ClientId": self.client_id,
        })
        .as_object()
        .cloned()
        .map(|mut wire| {
            if let Some(reason) = &self.reason {
                wire.insert("CognateReason".into(), json!(reason));
            }
            Value::Object(wire)
        })
        .unwrap_or(Value::Null)
    }
}

/// Records one event.
pub async fn record(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client: &AppClient,
    event_type: &str,
    success: bool,
    origin: &Origin,
) -> Result<(), Error> {
    record_why(env, pool, user, client, event_type, success, origin, None).await
}

/// Records one event, with why it failed where the client is not told.
#[allow(clippy::too_many_arguments)]
pub async fn record_why(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    client: &AppClient,
    event_type: &str,
    success: bool,
    origin: &Origin,
    reason: Option<&str>,
) -> Result<(), Error> {
    let now = env.clock().now_millis();
    let event = AuthEvent {
        event_id: crate::ids::uuid_v4(env.random()),
        event_type: event_type.into(),
        created_millis: now,
        success,
        client_id: client.client_id.clone(),
        ip_address: origin.ip_address.clone(),
        user_agent: origin
            .user_agent
            .as_ref()
            .map(|a| a.chars().take(256).collect()),
        reason: reason.map(Into::into),
    };
    let key = format!(
        "{}{:020}{}",
        crate::store::keys::auth_events(&pool.id, &pool.normalize_username(&user.username)),
        u64::MAX - now,
        event.event_id
    );
    env.store()
        .put(&key, &serde_json::to_vec(&event)?, Expect::Absent)
        .await?;
    Ok(())
}
