//! Resource servers: an app's own OAuth 2.0 scopes (`<identifier>/<scope>`), which clients may
//! be allowed and access tokens may carry.

use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ports::Env;
use crate::store::keys;

/// Cognito's `ResourceServerScopeType`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServerScope {
    pub scope_name: String,
    pub scope_description: String,
}

/// Cognito's `ResourceServerType`, stored as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ResourceServer {
    pub user_pool_id: String,
    pub identifier: String,
    pub name: String,
    #[serde(default)]
    pub scopes: Vec<ResourceServerScope>,
}

pub fn resource_server_missing(identifier: &str) -> Error {
    Error::resource_not_found(format!("Resource server {identifier} does not exist."))
}

pub async fn load_resource_server(
    env: &dyn Env,
    pool_id: &str,
    identifier: &str,
) -> Result<Option<ResourceServer>, Error> {
    Ok(load_kept(env, pool_id, identifier)
        .await?
        .map(Arc::unwrap_or_clone))
}

/// [`load_resource_server`] as kept decoded ([`crate::decoded`]): a token request checks each
/// custom scope it asks for against its server.
async fn load_kept(
    env: &dyn Env,
    pool_id: &str,
    identifier: &str,
) -> Result<Option<Arc<ResourceServer>>, Error> {
    if !crate::oidc::types::is_scope_token(identifier) {
        return Ok(None);
    }
    Ok(
        crate::decoded::get_kept(env, &keys::resource_server(pool_id, identifier))
            .await?
            .map(|(server, _)| server),
    )
}

/// Whether `<server>/<name>` is a scope of one of the pool's resource servers.
pub async fn scope_exists(
    env: &dyn Env,
    pool_id: &str,
    server: &str,
    name: &str,
) -> Result<bool, Error> {
    Ok(load_kept(env, pool_id, server)
        .await?
        .is_some_and(|r| r.scopes.iter().any(|s| s.scope_name == name)))
}
