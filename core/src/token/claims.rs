//! The claims of Cognito's ID and access tokens, and what an OAuth 2.0 grant adds to them.

use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::session::Session;
use crate::group::GroupRecord;
use crate::pool::{AppClient, PoolRecord};
use crate::user::UserRecord;

/// What an OAuth 2.0 authorization adds to a user's tokens (hosted UI, `/oauth2/token`). The
/// Cognito API's sign-ins use [`Grant::default`]: no nonce, scope `aws.cognito.signin.user.admin`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The granted scopes, space-separated; `None` outside OAuth 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The OIDC `nonce` the ID token echoes (authorization code grant only, never on refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl Grant {
    /// The `scope` claim of the access token.
    pub fn access_scope(&self) -> &str {
        self.scope
            .as_deref()
            .unwrap_or("aws.cognito.signin.user.admin")
    }
    /// Whether an ID token is issued: always outside OAuth, with `openid` inside.
    pub fn issues_id_token(&self) -> bool {
        self.scope
            .as_deref()
            .is_none_or(|s| s.split(' ').any(|x| x == "openid"))
    }
}

#[allow(clippy::too_many_arguments)] // the claims' sources, each used once
pub(super) fn id_claims(
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    groups: &[GroupRecord],
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    let readable = |name: &str| {
        client
            .settings
            .read_attributes
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == name))
    };
    for (name, value) in &user.attributes {
        if !readable(name) {
            continue;
        }
        let is_bool = pool
            .schema_attribute(name)
            .is_some_and(|s| s.attribute_data_type == "Boolean");
        let v = if name == "identities" {
            crate::federation::federated::identities_claim(value)
                .unwrap_or_else(|| Value::String(value.clone()))
        } else if is_bool {
            Value::Bool(value == "true")
        } else {
            Value::String(value.clone())
        };
        c.insert(name.clone(), v);
    }
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("cognito:username".into(), json!(user.username));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("aud".into(), json!(client.client_id));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.id_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    crate::group::claims(groups, true, &mut c);
    c
}

#[allow(clippy::too_many_arguments)] // the claims' sources, each used once
pub(super) fn access_claims(
    issuer: &str,
    grant: &Grant,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    groups: &[GroupRecord],
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("client_id".into(), json!(client.client_id));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("access"));
    c.insert("scope".into(), json!(grant.access_scope()));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.access_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    c.insert("username".into(), json!(user.username));
    if let Some(device_key) = &session.device_key {
        c.insert("device_key".into(), json!(device_key));
    }
    crate::group::claims(groups, false, &mut c);
    c
}
