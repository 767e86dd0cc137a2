//! Pool and app-client management operations.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, decode_token, encode_token, input};
use crate::error::Error;
use crate::pool::{
    self, AppClient, ClientSettings, CreatePool, PoolRecord, PoolSettings, SchemaAttribute,
};
use crate::store::{Expect, StoreError, keys};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolIdInput {
    user_pool_id: String,
}

pub(super) async fn create_user_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let create: CreatePool = input(body)?;
    let record = create_pool(ctx.env, &ctx.region, None, create).await?;
    Ok(json!({ "UserPool": record.to_wire() }))
}

/// Creates a pool and its signing keys (keys first: a pool record is never visible without
/// them).
pub(crate) async fn create_pool(
    env: &dyn crate::ports::Env,
    region: &str,
    fixed_id: Option<&str>,
    create: CreatePool,
) -> Result<PoolRecord, Error> {
    let record = pool::new_record(env, region, fixed_id, create).await?;
    crate::token::create_key_set(env, &record.id).await?;
    pool::insert(env, &record).await?;
    Ok(record)
}

pub(super) async fn describe_user_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolIdInput { user_pool_id } = input(body)?;
    let (record, _) = pool::load_pool(ctx.env, &user_pool_id).await?;
    let mut wire = record.to_wire();
    let (domain, custom_domain) = crate::oidc::domain::pool_domains(ctx.env, &user_pool_id).await?;
    if let Value::Object(map) = &mut wire {
        if let Some(d) = domain {
            map.insert("Domain".into(), Value::String(d));
        }
        if let Some(d) = custom_domain {
            map.insert("CustomDomain".into(), Value::String(d));
        }
    }
    Ok(json!({ "UserPool": wire }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdatePool {
    user_pool_id: String,
    #[serde(default)]
    pool_name: Option<String>,
    #[serde(flatten)]
    settings: PoolSettings,
}

/// As in Cognito, settings left out of the request return to their defaults.
pub(super) async fn update_user_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let mut update: UpdatePool = input(body)?;
    update.settings.validate()?;
    if let Some(name) = &update.pool_name {
        pool::validate_pool_name(name)?;
    }
    for _ in 0..8 {
        let (mut record, version) = pool::load_pool(ctx.env, &update.user_pool_id).await?;
        let params_changed = record.hash_params()
            != update
                .settings
                .cognate_password_hashing
                .unwrap_or_default()
                .params();
        record.settings = update.settings.clone();
        pool::mfa::reconcile(&mut record)?;
        pool::factors::check_pool(&record)?;
        if let Some(name) = &update.pool_name {
            record.name = name.clone();
        }
        record.modified_millis = ctx.env.clock().now_millis();
        if params_changed {
            let mut salt = [0u8; 16];
            ctx.env.random().fill(&mut salt);
            let dummy = crate::ids::random_token(ctx.env.random(), 24);
            record.dummy_password_hash = ctx
                .env
                .passwords()
                .hash(&dummy, salt, record.hash_params())
                .await?;
        }
        let bytes = serde_json::to_vec(&record)?;
        match ctx
            .env
            .store()
            .put(&keys::pool(&record.id), &bytes, Expect::Version(version))
            .await
        {
            Ok(_) => return Ok(json!({})),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        crate::error::ErrorKind::LimitExceeded,
        "The user pool is being updated concurrently; try again.",
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListPools {
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) async fn list_user_pools(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let list: ListPools = input(body)?;
    let max = list.max_results.ok_or_else(|| {
        Error::invalid_parameter(
            "1 validation error detected: Value null at 'maxResults' failed to satisfy constraint: Member must not be null",
        )
    })?;
    if !(1..=60).contains(&max) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60",
        ));
    }
    // Pool ids start with their region, so a region's pools are one key range.
    let prefix = keys::pools_of_region(&ctx.region);
    let after = decode_token(list.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), max as usize)
        .await?;
    let mut pools = Vec::with_capacity(page.items.len());
    for (_, item) in &page.items {
        let record: PoolRecord = serde_json::from_slice(&item.value)?;
        pools.push(record.to_description());
    }
    let mut out = json!({ "UserPools": pools });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

/// Deletes the pool record first (so the pool disappears at once), then everything under it.
pub(super) async fn delete_user_pool(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let PoolIdInput { user_pool_id } = input(body)?;
    let (record, version) = pool::load_pool(ctx.env, &user_pool_id).await?;
    if record.settings.deletion_protection == "ACTIVE" {
        return Err(Error::invalid_parameter(
            "The user pool cannot be deleted because deletion protection is activated. Deletion protection must be inactivated first.",
        ));
    }
    match ctx
        .env
        .store()
        .delete(&keys::pool(&user_pool_id), Expect::Version(version))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::resource_not_found(format!(
                "User pool {user_pool_id} does not exist."
            )));
        }
        Err(e) => return Err(e.into()),
    }
    let prefix = keys::pool_prefix(&user_pool_id);
    let clients_prefix = keys::pool_clients(&user_pool_id);
    loop {
        let page = ctx.env.store().scan(&prefix, None, 500).await?;
        if page.items.is_empty() {
            break;
        }
        for (key, _) in &page.items {
            if let Some(client_id) = key.strip_prefix(&clients_prefix) {
                ctx.env
                    .store()
                    .delete(&keys::client(client_id), Expect::Any)
                    .await?;
            }
            ctx.env.store().delete(key, Expect::Any).await?;
        }
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateClient {
    user_pool_id: String,
    client_name: String,
    #[serde(default)]
    generate_secret: bool,
    #[serde(flatten)]
    settings: ClientSettings,
}

/// Checks client attribute lists against the pool's schema.
fn check_client_attributes(pool: &PoolRecord, settings: &ClientSettings) -> Result<(), Error> {
    for list in [&settings.read_attributes, &settings.write_attributes]
        .into_iter()
        .flatten()
    {
        for name in list {
            if pool.schema_attribute(name).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "Invalid read/write attributes specified while creating a client: {name}"
                )));
            }
        }
    }
    Ok(())
}

/// The client-name index entry the pool's client listing reads.
#[derive(serde::Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientIndex {
    client_name: String,
}

/// Creates an app client with a generated or fixed id.
pub(crate) async fn create_client(
    ctx: &Ctx<'_>,
    body: Value,
    fixed_id: Option<&str>,
) -> Result<AppClient, Error> {
    let mut create: CreateClient = input(body)?;
    pool::validate_client_name(&create.client_name)?;
    let (pool_record, _) = pool::load_pool(ctx.env, &create.user_pool_id).await?;
    create.settings.normalize()?;
    check_client_attributes(&pool_record, &create.settings)?;
    crate::oidc::client::check_settings(
        ctx.env,
        &pool_record,
        &create.settings,
        create.generate_secret,
    )
    .await?;
    let client_id = match fixed_id {
        Some(id) if crate::ids::is_client_id(id) => id.to_string(),
        Some(id) => return Err(Error::invalid_parameter(format!("Invalid client id {id}."))),
        None => crate::ids::client_id(ctx.env.random()),
    };
    let now = crate::pool::epoch_seconds(ctx.env.clock().now_millis())
        .as_f64()
        .unwrap_or_default();
    let client = AppClient {
        user_pool_id: create.user_pool_id.clone(),
        client_name: create.client_name.clone(),
        client_id: client_id.clone(),
        client_secret: create
            .generate_secret
            .then(|| crate::secret::Secret::new(crate::ids::client_secret(ctx.env.random()))),
        settings: create.settings,
        creation_date: now,
        last_modified_date: now,
    };
    ctx.env
        .store()
        .put(
            &keys::client(&client_id),
            &serde_json::to_vec(&client)?,
            Expect::Absent,
        )
        .await
        .map_err(|e| match e {
            StoreError::Conflict => {
                Error::invalid_parameter(format!("Client {client_id} already exists."))
            }
            other => other.into(),
        })?;
    let index = ClientIndex {
        client_name: client.client_name.clone(),
    };
    ctx.env
        .store()
        .put(
            &keys::pool_client(&create.user_pool_id, &client_id),
            &serde_json::to_vec(&index)?,
            Expect::Any,
        )
        .await?;
    Ok(client)
}

pub(super) async fn create_user_pool_client(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let client = create_client(ctx, body, None).await?;
    Ok(json!({ "UserPoolClient": client.to_wire() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ClientRef {
    user_pool_id: String,
    client_id: String,
}

pub(super) async fn describe_user_pool_client(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ClientRef = input(body)?;
    pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let (client, _) = pool::load_pool_client(ctx.env, &r.user_pool_id, &r.client_id).await?;
    Ok(json!({ "UserPoolClient": client.to_wire() }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UpdateClient {
    user_pool_id: String,
    client_id: String,
    #[serde(default)]
    client_name: Option<String>,
    #[serde(flatten)]
    settings: ClientSettings,
}

/// As in Cognito, settings left out of the request return to their defaults.
pub(super) async fn update_user_pool_client(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let mut update: UpdateClient = input(body)?;
    if let Some(name) = &update.client_name {
        pool::validate_client_name(name)?;
    }
    let (pool_record, _) = pool::load_pool(ctx.env, &update.user_pool_id).await?;
    update.settings.normalize()?;
    check_client_attributes(&pool_record, &update.settings)?;
    for _ in 0..8 {
        let (mut client, version) =
            pool::load_pool_client(ctx.env, &update.user_pool_id, &update.client_id).await?;
        crate::oidc::client::check_settings(
            ctx.env,
            &pool_record,
            &update.settings,
            client.client_secret.is_some(),
        )
        .await?;
        client.settings = update.settings.clone();
        if let Some(name) = &update.client_name {
            client.client_name = name.clone();
        }
        client.last_modified_date = crate::pool::epoch_seconds(ctx.env.clock().now_millis())
            .as_f64()
            .unwrap_or_default();
        match ctx
            .env
            .store()
            .put(
                &keys::client(&client.client_id),
                &serde_json::to_vec(&client)?,
                Expect::Version(version),
            )
            .await
        {
            Ok(_) => {
                let index = ClientIndex {
                    client_name: client.client_name.clone(),
                };
                ctx.env
                    .store()
                    .put(
                        &keys::pool_client(&client.user_pool_id, &client.client_id),
                        &serde_json::to_vec(&index)?,
                        Expect::Any,
                    )
                    .await?;
                return Ok(json!({ "UserPoolClient": client.to_wire() }));
            }
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        crate::error::ErrorKind::LimitExceeded,
        "The app client is being updated concurrently; try again.",
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListClients {
    user_pool_id: String,
    max_results: Option<i64>,
    next_token: Option<String>,
}

pub(super) async fn list_user_pool_clients(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let list: ListClients = input(body)?;
    let max = list.max_results.unwrap_or(60);
    if !(1..=60).contains(&max) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value between 1 and 60",
        ));
    }
    pool::load_pool(ctx.env, &list.user_pool_id).await?;
    let prefix = keys::pool_clients(&list.user_pool_id);
    let after = decode_token(list.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), max as usize)
        .await?;
    let mut clients = Vec::with_capacity(page.items.len());
    for (key, item) in &page.items {
        let index: ClientIndex = serde_json::from_slice(&item.value)?;
        clients.push(json!({
            "ClientId": key.strip_prefix(&prefix).unwrap_or_default(),
            "UserPoolId": list.user_pool_id,
            "ClientName": index.client_name,
        }));
    }
    let mut out = json!({ "UserPoolClients": clients });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", Value::String(encode_token(&next)));
    }
    Ok(out)
}

pub(super) async fn delete_user_pool_client(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let r: ClientRef = input(body)?;
    pool::load_pool(ctx.env, &r.user_pool_id).await?;
    let (_, version) = pool::load_pool_client(ctx.env, &r.user_pool_id, &r.client_id).await?;
    match ctx
        .env
        .store()
        .delete(&keys::client(&r.client_id), Expect::Version(version))
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::resource_not_found(format!(
                "User pool client {} does not exist.",
                r.client_id
            )));
        }
        Err(e) => return Err(e.into()),
    }
    ctx.env
        .store()
        .delete(
            &keys::pool_client(&r.user_pool_id, &r.client_id),
            Expect::Any,
        )
        .await?;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct AddCustomAttributes {
    user_pool_id: String,
    custom_attributes: Vec<SchemaAttribute>,
}

pub(super) async fn add_custom_attributes(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: AddCustomAttributes = input(body)?;
    if req.custom_attributes.is_empty() || req.custom_attributes.len() > 25 {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'customAttributes' failed to satisfy constraint: Member must have length between 1 and 25",
        ));
    }
    pool::modify_pool(ctx.env, &req.user_pool_id, |record| {
        for attr in &req.custom_attributes {
            if attr.required {
                return Err(Error::invalid_parameter(
                    "Required custom attributes are not supported currently.",
                ));
            }
            pool::add_custom_attribute(&mut record.schema, attr)?;
        }
        Ok(())
    })
    .await?;
    Ok(json!({}))
}
