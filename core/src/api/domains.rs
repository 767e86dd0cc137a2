//! User-pool domains: CreateUserPoolDomain, DescribeUserPoolDomain, UpdateUserPoolDomain,
//! DeleteUserPoolDomain.

use alloc::format;
use alloc::string::{String, ToString};

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, input};
use crate::error::Error;
use crate::oidc::domain::{
    DomainRecord, domain_host, is_host_name, is_prefix_domain, load_domain, reserved,
};
use crate::pool;
use crate::store::{Expect, StoreError, keys};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateDomain {
    domain: String,
    user_pool_id: String,
    #[serde(default)]
    custom_domain_config: Option<Value>,
    #[serde(default)]
    managed_login_version: Option<u32>,
}

pub(super) async fn create_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: CreateDomain = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let custom = req.custom_domain_config.is_some();
    let domain = req.domain.to_ascii_lowercase();
    let valid = if custom {
        is_host_name(&domain)
    } else {
        is_prefix_domain(&domain) && !crate::ids::is_pool_id(&domain) && !reserved(&domain)
    };
    if !valid {
        return Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'domain' failed to satisfy constraint: Member must satisfy regular expression pattern: ^[a-z0-9](?:[a-z0-9\\-]{{0,61}}[a-z0-9])?$",
            req.domain
        )));
    }
    let version = req.managed_login_version.unwrap_or(1);
    let record = DomainRecord {
        user_pool_id: req.user_pool_id.clone(),
        domain: domain.clone(),
        custom,
        certificate_arn: req
            .custom_domain_config
            .as_ref()
            .and_then(|c| c.get("CertificateArn"))
            .and_then(Value::as_str)
            .map(ToString::to_string),
        managed_login_version: version,
        created_millis: ctx.env.clock().now_millis(),
    };
    // 1. The pool's slot first (one prefix and one custom domain per pool), then the global
    //    name; a failed name releases the slot.
    let slot = keys::pool_domain(&req.user_pool_id, custom);
    match ctx
        .env
        .store()
        .put(&slot, domain.as_bytes(), Expect::Absent)
        .await
    {
        Ok(_) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::invalid_parameter(format!(
                "User pool {} already has a domain configured.",
                req.user_pool_id
            )));
        }
        Err(e) => return Err(e.into()),
    }
    match ctx
        .env
        .store()
        .put(
            &keys::domain(&domain),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await
    {
        Ok(_) => {}
        Err(e) => {
            ctx.env.store().delete(&slot, Expect::Any).await?;
            return Err(match e {
                StoreError::Conflict => {
                    Error::invalid_parameter("Domain already associated with another user pool.")
                }
                other => other.into(),
            });
        }
    }
    let mut out = json!({ "ManagedLoginVersion": version });
    if custom {
        crate::api::set(
            &mut out,
            "CloudFrontDomain",
            Value::String(domain_host(ctx.config)),
        );
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainRef {
    domain: String,
    #[serde(default)]
    user_pool_id: Option<String>,
}

pub(super) async fn describe_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: DomainRef = input(body)?;
    let Some(record) = load_domain(ctx.env, &r.domain).await? else {
        // Cognito answers an unknown domain with an empty description.
        return Ok(json!({ "DomainDescription": {} }));
    };
    if pool::load_pool(ctx.env, &record.user_pool_id)
        .await
        .is_err()
    {
        return Ok(json!({ "DomainDescription": {} }));
    }
    let mut description = json!({
        "UserPoolId": record.user_pool_id,
        "AWSAccountId": crate::pool::ACCOUNT_ID,
        "Domain": record.domain,
        "CloudFrontDistribution": domain_host(ctx.config),
        "Version": "1",
        "Status": "ACTIVE",
        "ManagedLoginVersion": record.managed_login_version,
    });
    if record.custom {
        crate::api::set(
            &mut description,
            "CustomDomainConfig",
            json!({ "CertificateArn": record.certificate_arn }),
        );
    }
    Ok(json!({ "DomainDescription": description }))
}

pub(super) async fn update_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: CreateDomain = input(body)?;
    let record = load_domain(ctx.env, &req.domain)
        .await?
        .filter(|r| r.user_pool_id == req.user_pool_id)
        .ok_or_else(|| {
            Error::resource_not_found(format!("Domain {} does not exist.", req.domain))
        })?;
    let mut updated = record.clone();
    if let Some(v) = req.managed_login_version {
        updated.managed_login_version = v;
    }
    if let Some(arn) = req
        .custom_domain_config
        .as_ref()
        .and_then(|c| c.get("CertificateArn"))
        .and_then(Value::as_str)
    {
        updated.certificate_arn = Some(arn.to_string());
    }
    ctx.env
        .store()
        .put(
            &keys::domain(&record.domain),
            &serde_json::to_vec(&updated)?,
            Expect::Any,
        )
        .await?;
    Ok(json!({ "ManagedLoginVersion": updated.managed_login_version }))
}

pub(super) async fn delete_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: DomainRef = input(body)?;
    let pool_id = r.user_pool_id.ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null",
        )
    })?;
    pool::load_pool(ctx.env, &pool_id).await?;
    let record = load_domain(ctx.env, &r.domain)
        .await?
        .filter(|d| d.user_pool_id == pool_id)
        .ok_or_else(|| Error::invalid_parameter("No such domain or user pool exists."))?;
    ctx.env
        .store()
        .delete(&keys::domain(&record.domain), Expect::Any)
        .await?;
    ctx.env
        .store()
        .delete(&keys::pool_domain(&pool_id, record.custom), Expect::Any)
        .await?;
    Ok(json!({}))
}
