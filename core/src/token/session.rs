//! A sign-in session as tokens see it: the facts every token of the session carries, and the
//! stored records of its refresh tokens and of the family they form.

use alloc::string::String;

use serde::{Deserialize, Serialize};

/// The session facts the tokens carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
    /// The remembered-devices device key the session's access tokens name (`device_key`).
    pub device_key: Option<String>,
}

/// A stored refresh token (under the SHA-256 of the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub username_key: String,
    pub sub: String,
    pub client_id: String,
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
    pub issued_millis: u64,
    pub expires_millis: u64,
    /// Set when rotation replaced this token; it then works only within the grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_millis: Option<u64>,
    /// The OAuth 2.0 scopes of the sign-in (hosted UI); refreshed tokens keep them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The device the sign-in named (`crate::device`): refreshed access tokens name it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_key: Option<String>,
}

/// A sign-in session: every refresh token rotated from one sign-in shares it (the family), and
/// its `origin_jti` is in every token issued from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FamilyRecord {
    pub username_key: String,
    pub client_id: String,
    pub created_millis: u64,
    #[serde(default)]
    pub revoked: bool,
}
