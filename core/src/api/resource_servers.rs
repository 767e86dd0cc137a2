//! Resource servers: CreateResourceServer, UpdateResourceServer, DescribeResourceServer,
//! ListResourceServers, DeleteResourceServer.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, decode_token, encode_token, input};
use crate::error::Error;
use crate::oidc::resource_server::{
    ResourceServer, ResourceServerScope, load_resource_server, resource_server_missing,
};
use crate::pool;
use crate::store::{Expect, StoreError, keys};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutResourceServer {
    user_pool_id: String,
    identifier: String,
    name: String,
    #[serde(default)]
    scopes: Vec<ResourceServerScope>,
}

fn validate_resource_server(r: &PutResourceServer) -> Result<(), Error> {
    // Identifier: [\x21\x23-\x5B\x5D-\x7E]+, 1..=256.
    if !crate::oidc::types::is_scope_token(&r.identifier) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'identifier' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21\\x23-\\x5B\\x5D-\\x7E]+",
        ));
    }
    let name_ok = (1..=256).contains(&r.name.chars().count())
        && r.name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '_' || c.is_whitespace() || "+=,.@-".contains(c));
    if !name_ok {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+",
        ));
    }
    if r.scopes.len() > 100 {
        return Err(Error::invalid_parameter(
            "A resource server can have at most 100 scopes.",
        ));
    }
    for (i, s) in r.scopes.iter().enumerate() {
        // ScopeName: [\x21\x23-\x2E\x30-\x5B\x5D-\x7E]+ (no '/'), 1..=256.
        if !crate::oidc::types::is_scope_token(&s.scope_name) || s.scope_name.contains('/') {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'scopes.{}.member.scopeName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\x21\\x23-\\x2E\\x30-\\x5B\\x5D-\\x7E]+",
                s.scope_name,
                i + 1
            )));
        }
        if !(1..=256).contains(&s.scope_description.chars().count()) {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value at 'scopes.{}.member.scopeDescription' failed to satisfy constraint: Member must have length between 1 and 256",
                i + 1
            )));
        }
        if r.scopes
            .iter()
            .take(i)
            .any(|o| o.scope_name == s.scope_name)
        {
            return Err(Error::invalid_parameter(format!(
                "Duplicate scope name {}.",
                s.scope_name
            )));
        }
    }
    Ok(())
}

pub(super) async fn put_resource_server(
    ctx: &Ctx<'_>,
    body: Value,
    create: bool,
) -> Result<Value, Error> {
    let req: PutResourceServer = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    validate_resource_server(&req)?;
    let key = keys::resource_server(&req.user_pool_id, &req.identifier);
    let record = ResourceServer {
        user_pool_id: req.user_pool_id.clone(),
        identifier: req.identifier.clone(),
        name: req.name,
        scopes: req.scopes,
    };
    let bytes = serde_json::to_vec(&record)?;
    if create {
        match ctx.env.store().put(&key, &bytes, Expect::Absent).await {
            Ok(_) => {}
            Err(StoreError::Conflict) => {
                return Err(Error::invalid_parameter(format!(
                    "{} already exists in user pool {}.",
                    req.identifier, req.user_pool_id
                )));
            }
            Err(e) => return Err(e.into()),
        }
    } else {
        let item = ctx
            .env
            .store()
            .get(&key)
            .await?
            .ok_or_else(|| resource_server_missing(&req.identifier))?;
        ctx.env
            .store()
            .put(&key, &bytes, Expect::Version(item.version))
            .await
            .map_err(|e| match e {
                StoreError::Conflict => Error::new(
                    crate::error::ErrorKind::TooManyRequests,
                    "The resource server changed concurrently; try again.",
                ),
                other => other.into(),
            })?;
    }
    Ok(json!({ "ResourceServer": record }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceServerRef {
    user_pool_id: String,
    identifier: String,
}

pub(super) async fn describe_resource_server(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ResourceServerRef = input(body)?;
    pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let record = load_resource_server(ctx.env, &r.user_pool_id, &r.identifier)
        .await?
        .ok_or_else(|| resource_server_missing(&r.identifier))?;
    Ok(json!({ "ResourceServer": record }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListResourceServers {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) async fn list_resource_servers(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let list: ListResourceServers = input(body)?;
    let max = list.max_results.ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if !(1..=50).contains(&max) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 50",
        ));
    }
    pool::load_pool(ctx.env, &list.user_pool_id).await?;
    let prefix = keys::resource_servers(&list.user_pool_id);
    let after = decode_token(list.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(
            &prefix,
            after.as_deref(),
            usize::try_from(max).unwrap_or(50),
        )
        .await?;
    let mut servers = Vec::with_capacity(page.items.len());
    for (_, item) in &page.items {
        let record: ResourceServer = serde_json::from_slice(&item.value)?;
        servers.push(record);
    }
    let mut out = json!({ "ResourceServers": servers });
    if let Some(next) = page.next {
        crate::api::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

pub(super) async fn delete_resource_server(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ResourceServerRef = input(body)?;
    pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let key = keys::resource_server(&r.user_pool_id, &r.identifier);
    let item = ctx
        .env
        .store()
        .get(&key)
        .await?
        .ok_or_else(|| resource_server_missing(&r.identifier))?;
    ctx.env
        .store()
        .delete(&key, Expect::Version(item.version))
        .await?;
    Ok(json!({}))
}
