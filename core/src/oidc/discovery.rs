//! OpenID Connect Discovery 1.0 §3 (and RFC 8414's additions): what the pool's authorization
//! server supports, listing exactly what this module implements.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::config::Config;
use crate::http::Response;
use crate::ports::Env;

/// The discovery document of a pool (`None` when the pool does not exist).
pub async fn document(
    config: &Config,
    env: &dyn Env,
    pool_id: &str,
) -> Result<Value, crate::Error> {
    let (pool, _) = crate::pool::load_pool(env, pool_id).await?;
    let base = &config.base_url;
    let issuer = alloc::format!("{base}/{pool_id}");
    let mut claims: Vec<String> = [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "at_hash",
        "cognito:username",
        "cognito:groups",
        "token_use",
        "origin_jti",
        "jti",
        "event_id",
    ]
    .iter()
    .map(|s| String::from(*s))
    .collect();
    for attr in &pool.schema {
        if !claims.contains(&attr.name) && !attr.developer_only_attribute {
            claims.push(attr.name.clone());
        }
    }
    Ok(json!({
        "issuer": issuer,
        "authorization_endpoint": alloc::format!("{base}/oauth2/authorize"),
        "token_endpoint": alloc::format!("{base}/oauth2/token"),
        "userinfo_endpoint": alloc::format!("{base}/oauth2/userInfo"),
        "revocation_endpoint": alloc::format!("{base}/oauth2/revoke"),
        "end_session_endpoint": alloc::format!("{base}/logout"),
        "jwks_uri": alloc::format!("{issuer}/.well-known/jwks.json"),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "email", "phone", "profile", "aws.cognito.signin.user.admin"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "none"],
        "code_challenge_methods_supported": ["S256"],
        "prompt_values_supported": ["none", "login"],
        "claims_supported": claims,
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    }))
}

pub async fn respond(config: &Config, env: &dyn Env, pool_id: &str) -> Response {
    match document(config, env, pool_id).await {
        Ok(doc) => Response::json(
            200,
            "application/json",
            serde_json::to_vec(&doc).unwrap_or_default(),
        )
        .with_header("cache-control", "public, max-age=300"),
        Err(e) => {
            let body = json!({"__type": "ResourceNotFoundException", "message": e.message});
            Response::json(
                404,
                "application/json",
                serde_json::to_vec(&body).unwrap_or_default(),
            )
        }
    }
}
