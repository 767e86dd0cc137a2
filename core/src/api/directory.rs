//! Reading the directory: ListUsers with Cognito's filters (served from index keys by prefix
//! scan), groups and their members, and the pool schema's custom attributes.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::list_wire;
use super::{Ctx, decode_token, encode_token, input};
use crate::error::{Error, ErrorKind};
use crate::group::{self, GroupRecord};
use crate::pool::{self, PoolRecord, SchemaAttribute};
use crate::store::{Expect, StoreError};
use crate::user::{self, Step, UserRecord};

/// A parsed ListUsers filter: `attribute = "value"` or `attribute ^= "value"`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    pub attribute: String,
    pub prefix: bool,
    pub value: String,
}

fn filter_error() -> Error {
    Error::invalid_parameter("Error while parsing filter.")
}

/// Parses Cognito's filter syntax. Quotes inside the value are escaped with a backslash.
pub fn parse_filter(text: &str) -> Result<Option<Filter>, Error> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 256 {
        return Err(filter_error());
    }
    let name_end = text
        .find(|c: char| c.is_whitespace() || c == '=' || c == '^')
        .ok_or_else(filter_error)?;
    let (attribute, rest) = text.split_at(name_end);
    let rest = rest.trim_start();
    let (prefix, rest) = if let Some(r) = rest.strip_prefix("^=") {
        (true, r)
    } else if let Some(r) = rest.strip_prefix('=') {
        (false, r)
    } else {
        return Err(filter_error());
    };
    let rest = rest.trim_start();
    let body = rest.strip_prefix('"').ok_or_else(filter_error)?;
    let mut value = String::new();
    let mut chars = body.chars();
    let mut closed = false;
    while let Some(c) = chars.next() {
        match c {
            '\\' => value.push(chars.next().ok_or_else(filter_error)?),
            '"' => {
                closed = true;
                break;
            }
            other => value.push(other),
        }
    }
    if !closed || !chars.as_str().trim().is_empty() {
        return Err(filter_error());
    }
    let searchable =
        attribute == "username" || user::index::INDEXED_ATTRIBUTES.contains(&attribute);
    if !searchable {
        return Err(Error::invalid_parameter(format!(
            "Invalid search attribute: {}",
            attribute.chars().take(64).collect::<String>()
        )));
    }
    Ok(Some(Filter {
        attribute: attribute.to_string(),
        prefix,
        value,
    }))
}

impl Filter {
    /// The value compared: `cognito:user_status` is case-insensitive, the rest exact.
    fn fold(&self, value: &str) -> String {
        if self.attribute == "cognito:user_status" {
            value.to_uppercase()
        } else {
            value.to_string()
        }
    }

    fn matches(&self, pool: &PoolRecord, user: &UserRecord) -> bool {
        let (have, want) = if self.attribute == "username" {
            (
                pool.normalize_username(&user.username),
                pool.normalize_username(&self.value),
            )
        } else {
            match user::index::indexed_value(user, &self.attribute) {
                Some(v) => (self.fold(&v), self.fold(&self.value)),
                None => return false,
            }
        };
        if self.prefix {
            have.starts_with(&want)
        } else {
            have == want
        }
    }

    /// The key prefix to scan, and whether entries are user records (else index entries).
    fn scan_prefix(&self, pool: &PoolRecord) -> (String, bool) {
        if self.attribute == "username" {
            // An exact username never gets here: ListUsers reads that one key directly.
            let p = crate::store::keys::user(&pool.id, &pool.normalize_username(&self.value));
            return (p, true);
        }
        let mut p = user::index::index_prefix(&pool.id, &self.attribute, &self.fold(&self.value));
        if !self.prefix {
            p.push(user::index::INDEX_SEPARATOR);
        }
        (p, false)
    }
}

/// What the entries under a listing's prefix are.
enum Entries<'a> {
    /// User records (`p/<pool>/u/...`).
    Records,
    /// ListUsers index entries naming a user after the separator.
    Index,
    /// Group member entries: the username key follows the prefix.
    Members { prefix: &'a str },
}

/// Collects up to `limit` users under `prefix` that pass `keep`, from `cursor` on. Entries are
/// hints (they may dangle), so each is checked against the user record, and a page may take
/// more than one scan. Returns the users and where the next page starts.
async fn users_page(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    prefix: &str,
    mut cursor: Option<String>,
    limit: usize,
    entries: Entries<'_>,
    keep: impl Fn(&UserRecord) -> bool,
) -> Result<(Vec<UserRecord>, Option<String>), Error> {
    let mut users = Vec::new();
    loop {
        let page = ctx
            .env
            .store()
            .scan(prefix, cursor.as_deref(), limit - users.len())
            .await?;
        for (key, item) in &page.items {
            let username_key = match &entries {
                Entries::Records => {
                    let record: UserRecord = serde_json::from_slice(&item.value)?;
                    if keep(&record) {
                        users.push(record);
                    }
                    continue;
                }
                Entries::Index => user::index::username_key_of_index_entry(key),
                Entries::Members { prefix } => key.strip_prefix(prefix),
            };
            let Some(username_key) = username_key else {
                continue;
            };
            if let Some((record, _)) = user::load(ctx.env, pool, username_key).await?
                && keep(&record)
            {
                users.push(record);
            }
        }
        match page.next {
            Some(next) if users.len() >= limit => return Ok((users, Some(next))),
            Some(next) => cursor = Some(next),
            None => return Ok((users, None)),
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListUsers {
    user_pool_id: String,
    #[serde(default)]
    attributes_to_get: Option<Vec<String>>,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    pagination_token: Option<String>,
    #[serde(default)]
    filter: Option<String>,
}

fn check_limit(limit: Option<u64>, default: u64) -> Result<usize, Error> {
    let limit = limit.unwrap_or(default);
    if limit > 60 {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60",
        ));
    }
    Ok(if limit == 0 {
        default as usize
    } else {
        limit as usize
    })
}

pub(super) async fn list_users(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ListUsers = input(body)?;
    let limit = check_limit(req.limit, 60)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let filter = parse_filter(req.filter.as_deref().unwrap_or_default())?;
    if let Some(names) = &req.attributes_to_get {
        for name in names {
            if name != "sub" && pool.schema_attribute(name).is_none() {
                return Err(Error::invalid_parameter(format!(
                    "One or more requested attributes do not exist: {}",
                    name.chars().take(64).collect::<String>()
                )));
            }
        }
    }
    // An exact username is one key: read it, rather than scan every username it prefixes.
    if let Some(f) = filter
        .as_ref()
        .filter(|f| f.attribute == "username" && !f.prefix)
    {
        decode_token(
            req.pagination_token.as_deref(),
            &crate::store::keys::user(&pool.id, ""),
        )?;
        let users: Vec<Value> = match user::load(ctx.env, &pool, &f.value).await? {
            Some((record, _)) if req.pagination_token.is_none() && f.matches(&pool, &record) => {
                alloc::vec![list_wire(&record, req.attributes_to_get.as_deref())]
            }
            _ => Vec::new(),
        };
        return Ok(json!({ "Users": users }));
    }
    let (prefix, records) = match &filter {
        Some(f) => f.scan_prefix(&pool),
        None => (crate::store::keys::user(&pool.id, ""), true),
    };
    let cursor = decode_token(req.pagination_token.as_deref(), &prefix)?;
    let entries = if records {
        Entries::Records
    } else {
        Entries::Index
    };
    let (found, next) = users_page(ctx, &pool, &prefix, cursor, limit, entries, |u| {
        filter.as_ref().is_none_or(|f| f.matches(&pool, u))
    })
    .await?;
    let users: Vec<Value> = found
        .iter()
        .map(|u| list_wire(u, req.attributes_to_get.as_deref()))
        .collect();
    let mut out = json!({ "Users": users });
    if let Some(next) = next {
        super::set(&mut out, "PaginationToken", json!(encode_token(&next)));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Groups

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupInput {
    group_name: String,
    user_pool_id: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    role_arn: Option<String>,
    #[serde(default)]
    precedence: Option<i64>,
}

fn check_group_fields(input: &GroupInput) -> Result<Option<u64>, Error> {
    group::check_name(&input.group_name)?;
    if let Some(d) = &input.description
        && d.chars().count() > 2048
    {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'description' failed to satisfy constraint: Member must have length less than or equal to 2048",
        ));
    }
    if let Some(arn) = &input.role_arn {
        group::check_role_arn(arn)?;
    }
    match input.precedence {
        None => Ok(None),
        Some(p) if (0..=2_147_483_647).contains(&p) => Ok(Some(p as u64)),
        Some(_) => Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'precedence' failed to satisfy constraint: Member must have value greater than or equal to 0",
        )),
    }
}

pub(super) async fn create_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupInput = input(body)?;
    let precedence = check_group_fields(&req)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let now = ctx.env.clock().now_millis();
    let record = GroupRecord {
        group_name: req.group_name.clone(),
        uid: crate::ids::random_token(ctx.env.random(), 16),
        description: req.description.clone(),
        role_arn: req.role_arn.clone(),
        precedence,
        created_millis: now,
        modified_millis: now,
    };
    match ctx
        .env
        .store()
        .put(
            &group::group_key(&pool.id, &req.group_name),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await
    {
        Ok(_) => Ok(json!({ "Group": record.to_wire(&pool.id) })),
        Err(StoreError::Conflict) => Err(group::group_exists(&req.group_name)),
        Err(e) => Err(e.into()),
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupRef {
    group_name: String,
    user_pool_id: String,
}

pub(super) async fn get_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupRef = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (record, _) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    Ok(json!({ "Group": record.to_wire(&pool.id) }))
}

pub(super) async fn update_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupInput = input(body)?;
    let precedence = check_group_fields(&req)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    for _ in 0..8 {
        let (mut record, version) = group::load(ctx.env, &pool.id, &req.group_name).await?;
        if let Some(d) = &req.description {
            record.description = Some(d.clone());
        }
        if let Some(r) = &req.role_arn {
            record.role_arn = Some(r.clone());
        }
        if precedence.is_some() {
            record.precedence = precedence;
        }
        record.modified_millis = ctx.env.clock().now_millis();
        match ctx
            .env
            .store()
            .put(
                &group::group_key(&pool.id, &req.group_name),
                &serde_json::to_vec(&record)?,
                Expect::Version(version),
            )
            .await
        {
            Ok(_) => return Ok(json!({ "Group": record.to_wire(&pool.id) })),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "The group is being updated concurrently; try again.",
    ))
}

pub(super) async fn delete_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupRef = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (record, version) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    match ctx
        .env
        .store()
        .delete(
            &group::group_key(&pool.id, &req.group_name),
            Expect::Version(version),
        )
        .await
    {
        Ok(()) => {}
        Err(StoreError::Conflict) => {
            return Err(Error::new(
                ErrorKind::TooManyRequests,
                "The group changed while it was being deleted; try again.",
            ));
        }
        Err(e) => return Err(e.into()),
    }
    // The group is gone, so tokens no longer carry it (memberships are checked against the
    // group's uid); tidy the members' records and the index. A crash here leaves only stale
    // entries that readers ignore.
    let prefix = group::members_prefix(&pool.id, &req.group_name);
    let mut cursor: Option<String> = None;
    loop {
        let page = ctx
            .env
            .store()
            .scan(&prefix, cursor.as_deref(), 100)
            .await?;
        for (key, _) in &page.items {
            if let Some(username_key) = key.strip_prefix(&prefix) {
                let outcome = user::modify(ctx.env, &pool, username_key, |u| {
                    if u.groups.get(&req.group_name) == Some(&record.uid) {
                        u.groups.remove(&req.group_name);
                        Ok(Step::Save(()))
                    } else {
                        Ok(Step::Keep(()))
                    }
                })
                .await;
                match outcome {
                    Ok(_) => {}
                    Err(e) if e.kind == ErrorKind::UserNotFound => {}
                    Err(e) => return Err(e),
                }
            }
            let _ = ctx.env.store().delete(key, Expect::Any).await;
        }
        match page.next {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListGroups {
    user_pool_id: String,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

pub(super) async fn list_groups(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ListGroups = input(body)?;
    let limit = check_limit(req.limit, 60)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let prefix = group::groups_prefix(&pool.id);
    let after = decode_token(req.next_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), limit)
        .await?;
    let mut groups = Vec::new();
    for (_, item) in &page.items {
        let record: GroupRecord = serde_json::from_slice(&item.value)?;
        groups.push(record.to_wire(&pool.id));
    }
    let mut out = json!({ "Groups": groups });
    if let Some(next) = page.next {
        super::set(&mut out, "NextToken", json!(encode_token(&next)));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Membership {
    user_pool_id: String,
    username: String,
    group_name: String,
}

pub(super) async fn admin_add_user_to_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: Membership = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (group, _) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    let (found, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    let username_key = pool.normalize_username(&found.username);
    // The index entry first: it may dangle, never be missing.
    ctx.env
        .store()
        .put(
            &group::member_key(&pool.id, &group.group_name, &username_key),
            username_key.as_bytes(),
            Expect::Any,
        )
        .await?;
    user::modify(ctx.env, &pool, &found.username, |u| {
        if u.groups.get(&group.group_name) == Some(&group.uid) {
            return Ok(Step::Keep(()));
        }
        u.groups.insert(group.group_name.clone(), group.uid.clone());
        Ok(Step::Save(()))
    })
    .await?;
    Ok(json!({}))
}

pub(super) async fn admin_remove_user_from_group(
    ctx: &Ctx<'_>,
    body: Value,
) -> Result<Value, Error> {
    let req: Membership = input(body)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (group, _) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    let (found, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    user::modify(ctx.env, &pool, &found.username, |u| {
        if u.groups.remove(&group.group_name).is_some() {
            Ok(Step::Save(()))
        } else {
            Ok(Step::Keep(()))
        }
    })
    .await?;
    let username_key = pool.normalize_username(&found.username);
    let _ = ctx
        .env
        .store()
        .delete(
            &group::member_key(&pool.id, &group.group_name, &username_key),
            Expect::Any,
        )
        .await;
    Ok(json!({}))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GroupsForUser {
    user_pool_id: String,
    username: String,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

pub(super) async fn admin_list_groups_for_user(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupsForUser = input(body)?;
    let limit = check_limit(req.limit, 60)?;
    user::check_username(&req.username)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (found, _) = user::resolve_existing(ctx.env, &pool, &req.username).await?;
    let mut groups = group::memberships(ctx.env, &pool, &found).await?;
    groups.sort_by(|a, b| a.group_name.cmp(&b.group_name));
    let after = decode_token(req.next_token.as_deref(), "")?;
    let rest: Vec<&GroupRecord> = groups
        .iter()
        .filter(|g| after.as_deref().is_none_or(|a| g.group_name.as_str() > a))
        .collect();
    let page: Vec<Value> = rest
        .iter()
        .take(limit)
        .map(|g| g.to_wire(&pool.id))
        .collect();
    let mut out = json!({ "Groups": page });
    if rest.len() > limit
        && let Some(last) = rest.get(limit - 1)
    {
        super::set(&mut out, "NextToken", json!(encode_token(&last.group_name)));
    }
    Ok(out)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct UsersInGroup {
    user_pool_id: String,
    group_name: String,
    #[serde(default)]
    limit: Option<u64>,
    #[serde(default)]
    next_token: Option<String>,
}

pub(super) async fn list_users_in_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: UsersInGroup = input(body)?;
    let limit = check_limit(req.limit, 60)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (group, _) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    let prefix = group::members_prefix(&pool.id, &group.group_name);
    let cursor = decode_token(req.next_token.as_deref(), &prefix)?;
    let (found, next) = users_page(
        ctx,
        &pool,
        &prefix,
        cursor,
        limit,
        Entries::Members {
            prefix: prefix.as_str(),
        },
        |u| u.groups.get(&group.group_name) == Some(&group.uid),
    )
    .await?;
    let users: Vec<Value> = found.iter().map(|u| list_wire(u, None)).collect();
    let mut out = json!({ "Users": users });
    if let Some(next) = next {
        super::set(&mut out, "NextToken", json!(encode_token(&next)));
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------------
// Schema

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
    for _ in 0..8 {
        let (mut record, version) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
        for attr in &req.custom_attributes {
            if attr.required {
                return Err(Error::invalid_parameter(
                    "Required custom attributes are not supported currently.",
                ));
            }
            pool::add_custom_attribute(&mut record.schema, attr)?;
        }
        record.modified_millis = ctx.env.clock().now_millis();
        match ctx
            .env
            .store()
            .put(
                &crate::store::keys::pool(&record.id),
                &serde_json::to_vec(&record)?,
                Expect::Version(version),
            )
            .await
        {
            Ok(_) => return Ok(json!({})),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "The user pool is being updated concurrently; try again.",
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse_like_cognito() {
        let f = parse_filter(r#"email ^= "ali""#).unwrap().unwrap();
        assert_eq!(
            (f.attribute.as_str(), f.prefix, f.value.as_str()),
            ("email", true, "ali")
        );
        let f = parse_filter(r#"family_name="Re\"ddy""#).unwrap().unwrap();
        assert_eq!((f.prefix, f.value.as_str()), (false, "Re\"ddy"));
        assert_eq!(parse_filter("  ").unwrap(), None);
        for bad in [
            r#"email = alice"#,
            r#"email == "a""#,
            r#"email = "a"#,
            r#"email = "a" extra"#,
            r#"custom:x = "a""#,
            r#"= "a""#,
        ] {
            assert_eq!(
                parse_filter(bad).unwrap_err().kind,
                ErrorKind::InvalidParameter,
                "{bad}"
            );
        }
    }
}
