//! The demo pool: created on the first start (unless `--no-demo`) so a new user can sign up and
//! sign in right away; its ids are kept in `<data dir>/demo.json` and printed on every start.

use std::path::Path;

use anyhow::Context as _;
use cognate_core::Service;
use cognate_core::service::{ClientSpec, PoolSpec};
use serde_json::json;

use crate::ports::HostEnv;

pub const FILE_NAME: &str = "demo.json";
pub const POOL_NAME: &str = "cognate-demo";
pub const CLIENT_NAME: &str = "demo-app";

/// The demo pool's ids.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DemoIds {
    pub pool_id: String,
    pub client_id: String,
}

/// The demo pool: email auto-verified, usernames are plain usernames, one public app client
/// that allows password, SRP and refresh-token sign-in.
pub fn spec(region: &str) -> PoolSpec {
    PoolSpec {
        id: None,
        region: Some(region.to_owned()),
        create: json!({
            "PoolName": POOL_NAME,
            "AutoVerifiedAttributes": ["email"],
        }),
        clients: vec![ClientSpec {
            id: None,
            create: json!({
                "ClientName": CLIENT_NAME,
                "GenerateSecret": false,
                "ExplicitAuthFlows": [
                    "ALLOW_USER_PASSWORD_AUTH",
                    "ALLOW_REFRESH_TOKEN_AUTH",
                    "ALLOW_ADMIN_USER_PASSWORD_AUTH",
                    "ALLOW_USER_SRP_AUTH",
                ],
            }),
        }],
    }
}

/// The demo pool's ids: read from `demo.json`, or created now and saved there. `None` (after
/// logging why) when it cannot be created; the server runs on without it and tries again on
/// the next start.
pub async fn ensure(
    service: &Service,
    env: &HostEnv,
    data_dir: &Path,
    region: &str,
) -> Option<DemoIds> {
    let path = data_dir.join(FILE_NAME);
    match std::fs::read(&path) {
        Ok(bytes) => match serde_json::from_slice(&bytes) {
            Ok(ids) => return Some(ids),
            Err(e) => {
                tracing::error!(path = %path.display(), error = %e, "cannot read the demo pool's ids; delete the file to create a new demo pool");
                return None;
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => {
            tracing::error!(path = %path.display(), error = %e, "cannot read the demo pool's ids");
            return None;
        }
    }
    let applied = match service.apply_pool_spec(env, &spec(region)).await {
        Ok(applied) => applied,
        Err(e) => {
            tracing::error!(error = %e, "cannot create the demo pool");
            return None;
        }
    };
    let Some((_, client_id, _)) = applied.clients.first() else {
        tracing::error!(pool_id = %applied.pool_id, "the demo pool was created without its app client");
        return None;
    };
    let ids = DemoIds {
        pool_id: applied.pool_id.clone(),
        client_id: client_id.clone(),
    };
    if let Err(e) = save(&path, &ids) {
        tracing::error!(error = %e, "cannot save the demo pool's ids");
    }
    tracing::info!(pool_id = %ids.pool_id, client_id = %ids.client_id, "created the demo pool");
    Some(ids)
}

fn save(path: &Path, ids: &DemoIds) -> anyhow::Result<()> {
    let text = serde_json::to_vec_pretty(ids).context("encode demo ids")?;
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot write {}", path.display()))
}
