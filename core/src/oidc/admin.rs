//! The Cognito API operations that configure the authorization server: resource servers (custom
//! scopes), user-pool domains, and hosted-UI customization.
//!
//! Key layout: `p/<poolId>/rs/<identifier>` a resource server; `dom/<domain>` a domain (looked up
//! by host name or path prefix, without knowing the pool); `p/<poolId>/domain` and
//! `p/<poolId>/custom-domain` the pool's one prefix domain and one custom domain;
//! `p/<poolId>/ui/<clientId | ALL>` a UI customization.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::api::{Ctx, decode_token, encode_token, input};
use crate::error::Error;
use crate::http::Request;
use crate::pool;
use crate::ports::Env;
use crate::service::Config;
use crate::store::{Expect, StoreError};

/// The operations this module answers (all administrative: SigV4-signed).
pub const OPERATIONS: &[&str] = &[
    "CreateResourceServer",
    "DescribeResourceServer",
    "UpdateResourceServer",
    "ListResourceServers",
    "DeleteResourceServer",
    "CreateUserPoolDomain",
    "DescribeUserPoolDomain",
    "UpdateUserPoolDomain",
    "DeleteUserPoolDomain",
    "SetUICustomization",
    "GetUICustomization",
];

pub(crate) async fn dispatch(ctx: &Ctx<'_>, operation: &str, body: Value) -> Result<Value, Error> {
    match operation {
        "CreateResourceServer" => put_resource_server(ctx, body, true).await,
        "UpdateResourceServer" => put_resource_server(ctx, body, false).await,
        "DescribeResourceServer" => describe_resource_server(ctx, body).await,
        "ListResourceServers" => list_resource_servers(ctx, body).await,
        "DeleteResourceServer" => delete_resource_server(ctx, body).await,
        "CreateUserPoolDomain" => create_domain(ctx, body).await,
        "DescribeUserPoolDomain" => describe_domain(ctx, body).await,
        "UpdateUserPoolDomain" => update_domain(ctx, body).await,
        "DeleteUserPoolDomain" => delete_domain(ctx, body).await,
        "SetUICustomization" => set_ui_customization(ctx, body).await,
        "GetUICustomization" => get_ui_customization(ctx, body).await,
        other => Err(Error::new(
            crate::error::ErrorKind::UnknownOperation,
            format!("Operation {other} is not supported by this server"),
        )),
    }
}

// ---------------------------------------------------------------------------------------------
// Resource servers

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

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PutResourceServer {
    user_pool_id: String,
    identifier: String,
    name: String,
    #[serde(default)]
    scopes: Vec<ResourceServerScope>,
}

fn resource_server_key(pool_id: &str, identifier: &str) -> String {
    format!("p/{pool_id}/rs/{identifier}")
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

async fn put_resource_server(ctx: &Ctx<'_>, body: Value, create: bool) -> Result<Value, Error> {
    let req: PutResourceServer = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    validate_resource_server(&req)?;
    let key = resource_server_key(&req.user_pool_id, &req.identifier);
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

fn resource_server_missing(identifier: &str) -> Error {
    Error::resource_not_found(format!("Resource server {identifier} does not exist."))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ResourceServerRef {
    user_pool_id: String,
    identifier: String,
}

pub async fn load_resource_server(
    env: &dyn Env,
    pool_id: &str,
    identifier: &str,
) -> Result<Option<ResourceServer>, Error> {
    if !crate::oidc::types::is_scope_token(identifier) {
        return Ok(None);
    }
    match env
        .store()
        .get(&resource_server_key(pool_id, identifier))
        .await?
    {
        Some(item) => Ok(Some(serde_json::from_slice(&item.value)?)),
        None => Ok(None),
    }
}

/// Whether `<server>/<name>` is a scope of one of the pool's resource servers.
pub async fn scope_exists(
    env: &dyn Env,
    pool_id: &str,
    server: &str,
    name: &str,
) -> Result<bool, Error> {
    Ok(load_resource_server(env, pool_id, server)
        .await?
        .is_some_and(|r| r.scopes.iter().any(|s| s.scope_name == name)))
}

async fn describe_resource_server(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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

async fn list_resource_servers(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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
    let prefix = format!("p/{}/rs/", list.user_pool_id);
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

async fn delete_resource_server(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ResourceServerRef = input(body)?;
    pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let key = resource_server_key(&r.user_pool_id, &r.identifier);
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

// ---------------------------------------------------------------------------------------------
// Domains

/// A domain: a prefix (`my-app`, served as `<base>/my-app/login` or on the host
/// `my-app.<base host>`) or a custom host name (`auth.example.com`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainRecord {
    pub user_pool_id: String,
    pub domain: String,
    pub custom: bool,
    #[serde(default)]
    pub certificate_arn: Option<String>,
    pub managed_login_version: u32,
    pub created_millis: u64,
}

fn domain_key(domain: &str) -> String {
    format!("dom/{domain}")
}
fn pool_domain_key(pool_id: &str, custom: bool) -> String {
    if custom {
        format!("p/{pool_id}/custom-domain")
    } else {
        format!("p/{pool_id}/domain")
    }
}

/// The pool's prefix domain and custom domain, if it has them (DescribeUserPool shows them).
pub async fn pool_domains(
    env: &dyn Env,
    pool_id: &str,
) -> Result<(Option<String>, Option<String>), Error> {
    let read = |custom| async move {
        Ok::<_, Error>(
            env.store()
                .get(&pool_domain_key(pool_id, custom))
                .await?
                .and_then(|entry| String::from_utf8(entry.value).ok()),
        )
    };
    let (prefix, custom) = futures_util::future::join(read(false), read(true)).await;
    Ok((prefix?, custom?))
}

/// A prefix: `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$` (Cognito's rule).
fn is_prefix_domain(d: &str) -> bool {
    (1..=63).contains(&d.len())
        && d.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !d.starts_with('-')
        && !d.ends_with('-')
}

/// A host name of dot-separated prefixes.
fn is_host_name(d: &str) -> bool {
    d.len() <= 253 && d.contains('.') && d.split('.').all(is_prefix_domain)
}

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

async fn create_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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
    let slot = pool_domain_key(&req.user_pool_id, custom);
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
            &domain_key(&domain),
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

/// Paths the service itself uses; a prefix domain may not shadow them.
fn reserved(domain: &str) -> bool {
    matches!(
        domain,
        "oauth2" | "login" | "logout" | "health" | "signup" | "confirm"
    )
}

fn domain_host(config: &Config) -> String {
    authority(&config.base_url).to_string()
}

fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default()
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct DomainRef {
    domain: String,
    #[serde(default)]
    user_pool_id: Option<String>,
}

pub async fn load_domain(env: &dyn Env, domain: &str) -> Result<Option<DomainRecord>, Error> {
    let domain = domain.to_ascii_lowercase();
    if !(is_prefix_domain(&domain) || is_host_name(&domain)) {
        return Ok(None);
    }
    match env.store().get(&domain_key(&domain)).await? {
        Some(item) => Ok(Some(serde_json::from_slice(&item.value)?)),
        None => Ok(None),
    }
}

async fn describe_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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

async fn update_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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
            &domain_key(&record.domain),
            &serde_json::to_vec(&updated)?,
            Expect::Any,
        )
        .await?;
    Ok(json!({ "ManagedLoginVersion": updated.managed_login_version }))
}

async fn delete_domain(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
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
        .delete(&domain_key(&record.domain), Expect::Any)
        .await?;
    ctx.env
        .store()
        .delete(&pool_domain_key(&pool_id, record.custom), Expect::Any)
        .await?;
    Ok(json!({}))
}

/// The pool a request's domain pins, and the path below the domain: a custom domain or
/// `<prefix>.<base host>` in the `Host` header, or a prefix as the first path segment
/// (`/<prefix>/login`). Looks anything up only when the host is not the base URL's or the path
/// is not one of ours as it stands, so the plain paths cost no extra read.
pub async fn split_domain_prefix(
    env: &dyn Env,
    config: &Config,
    request: &Request,
) -> Option<(String, String)> {
    let path = request.path.as_str();
    let base = authority(&config.base_url);
    if let Some(host) = request.header("host")
        && !host.eq_ignore_ascii_case(base)
        && crate::oidc::is_oauth_path(path)
    {
        let host_name = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let base_name = base.rsplit_once(':').map_or(base, |(h, _)| h);
        let candidate = match host_name
            .len()
            .checked_sub(base_name.len() + 1)
            .and_then(|cut| host_name.get(..cut).zip(host_name.get(cut..)))
        {
            Some((prefix, rest))
                if rest
                    .get(1..)
                    .is_some_and(|r| r.eq_ignore_ascii_case(base_name))
                    && rest.starts_with('.')
                    && is_prefix_domain(prefix) =>
            {
                prefix
            }
            _ => host_name,
        };
        if let Ok(Some(record)) = load_domain(env, candidate).await
            && pool::load_pool(env, &record.user_pool_id).await.is_ok()
        {
            return Some((path.to_string(), record.user_pool_id));
        }
        return None;
    }
    if crate::oidc::is_oauth_path(path) {
        return None;
    }
    let rest = path.strip_prefix('/')?;
    let (prefix, below) = rest.split_once('/')?;
    let below = format!("/{below}");
    if !crate::oidc::is_oauth_path(&below) || !is_prefix_domain(prefix) {
        return None;
    }
    let record = load_domain(env, prefix).await.ok()??;
    if record.custom {
        return None;
    }
    pool::load_pool(env, &record.user_pool_id).await.ok()?;
    Some((below, record.user_pool_id))
}

// ---------------------------------------------------------------------------------------------
// UI customization

/// A stored UI customization (per pool: client `ALL`; or per client).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UiCustomization {
    pub css: Option<String>,
    /// The logo, standard base64 of a PNG or JPEG.
    pub image: Option<String>,
    pub image_type: Option<String>,
    pub css_version: String,
    pub created_millis: u64,
    pub modified_millis: u64,
}

impl UiCustomization {
    /// The logo as a `data:` URL (pages inline it: no extra request, nothing external).
    pub fn image_url(&self) -> Option<String> {
        Some(format!(
            "data:{};base64,{}",
            self.image_type.as_deref()?,
            self.image.as_deref()?
        ))
    }
}

fn ui_key(pool_id: &str, client: &str) -> String {
    format!("p/{pool_id}/ui/{client}")
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUi {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default, rename = "CSS")]
    css: Option<String>,
    #[serde(default)]
    image_file: Option<String>,
}

/// The largest CSS and logo accepted (Cognito: 100 KB logo).
const MAX_CSS: usize = 128 * 1024;
const MAX_IMAGE: usize = 100 * 1024;

/// CSS goes into a `<style>` element: nothing that ends it, imports or fetches.
fn check_css(css: &str) -> Result<(), Error> {
    let lower = css.to_ascii_lowercase();
    if css.len() > MAX_CSS
        || lower.contains('<')
        || lower.contains("@import")
        || lower.contains("url(")
        || lower.contains("expression(")
        || lower.contains('\\')
    {
        return Err(Error::invalid_parameter(
            "CSS must be at most 128 KiB and may not contain '<', '\\', @import, url() or expression().",
        ));
    }
    Ok(())
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

async fn set_ui_customization(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SetUi = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let client = match req.client_id.as_deref() {
        None | Some("ALL") => "ALL".to_string(),
        Some(id) => {
            pool::load_pool_client(ctx.env, &req.user_pool_id, id).await?;
            id.to_string()
        }
    };
    if let Some(css) = &req.css {
        check_css(css)?;
    }
    let (image, kind) = match &req.image_file {
        Some(b64) => {
            let bytes = crate::codec::b64_decode(b64)
                .ok_or_else(|| Error::invalid_parameter("ImageFile is not valid base64."))?;
            if bytes.len() > MAX_IMAGE {
                return Err(Error::invalid_parameter(
                    "ImageFile must be at most 100 KB.",
                ));
            }
            let kind = image_type(&bytes).ok_or_else(|| {
                Error::invalid_parameter("ImageFile must be a PNG or JPEG image.")
            })?;
            (Some(crate::codec::b64(&bytes)), Some(kind.to_string()))
        }
        None => (None, None),
    };
    let now = ctx.env.clock().now_millis();
    let key = ui_key(&req.user_pool_id, &client);
    let created = match ctx.env.store().get(&key).await? {
        Some(item) => serde_json::from_slice::<UiCustomization>(&item.value)?.created_millis,
        None => now,
    };
    let record = UiCustomization {
        css: req.css,
        image,
        image_type: kind,
        css_version: crate::ids::random_token(ctx.env.random(), 8),
        created_millis: created,
        modified_millis: now,
    };
    ctx.env
        .store()
        .put(&key, &serde_json::to_vec(&record)?, Expect::Any)
        .await?;
    Ok(json!({ "UICustomization": ui_wire(&req.user_pool_id, &client, Some(&record)) }))
}

fn ui_wire(pool_id: &str, client: &str, record: Option<&UiCustomization>) -> Value {
    let mut v = json!({ "UserPoolId": pool_id, "ClientId": client });
    if let Some(r) = record {
        if let Some(css) = &r.css {
            crate::api::set(&mut v, "CSS", Value::String(css.clone()));
        }
        if let Some(url) = r.image_url() {
            crate::api::set(&mut v, "ImageUrl", Value::String(url));
        }
        crate::api::set(&mut v, "CSSVersion", Value::String(r.css_version.clone()));
        crate::api::set(
            &mut v,
            "CreationDate",
            crate::pool::epoch_seconds(r.created_millis),
        );
        crate::api::set(
            &mut v,
            "LastModifiedDate",
            crate::pool::epoch_seconds(r.modified_millis),
        );
    }
    v
}

/// The customization that applies to a client: its own, else the pool's.
pub async fn ui_customization(
    env: &dyn Env,
    pool_id: &str,
    client_id: Option<&str>,
) -> Result<Option<(String, UiCustomization)>, Error> {
    if let Some(id) = client_id
        && let Some(item) = env.store().get(&ui_key(pool_id, id)).await?
    {
        return Ok(Some((id.to_string(), serde_json::from_slice(&item.value)?)));
    }
    match env.store().get(&ui_key(pool_id, "ALL")).await? {
        Some(item) => Ok(Some((
            "ALL".to_string(),
            serde_json::from_slice(&item.value)?,
        ))),
        None => Ok(None),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUi {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
}

async fn get_ui_customization(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GetUi = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let client = req.client_id.as_deref().filter(|c| *c != "ALL");
    if let Some(id) = client {
        pool::load_pool_client(ctx.env, &req.user_pool_id, id).await?;
    }
    let found = ui_customization(ctx.env, &req.user_pool_id, client).await?;
    let wire = match &found {
        Some((which, record)) => ui_wire(&req.user_pool_id, which, Some(record)),
        None => ui_wire(&req.user_pool_id, client.unwrap_or("ALL"), None),
    };
    Ok(json!({ "UICustomization": wire }))
}
