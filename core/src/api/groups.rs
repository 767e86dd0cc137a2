//! Groups and their members: CreateGroup, GetGroup, UpdateGroup, DeleteGroup, ListGroups,
//! AdminAddUserToGroup, AdminRemoveUserFromGroup, AdminListGroupsForUser, ListUsersInGroup.

use alloc::string::String;
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::list_users::{Entries, check_limit, users_page};
use super::list_wire;
use super::{Ctx, decode_token, encode_token, input};
use crate::error::{Error, ErrorKind};
use crate::group::{self, GroupRecord};
use crate::pool;
use crate::store::{Expect, StoreError};
use crate::user::{self, Step};

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
            &crate::store::keys::group(&pool.id, &req.group_name),
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
    let record = group::modify(ctx.env, &pool.id, &req.group_name, |record| {
        if let Some(d) = &req.description {
            record.description = Some(d.clone());
        }
        if let Some(r) = &req.role_arn {
            record.role_arn = Some(r.clone());
        }
        if precedence.is_some() {
            record.precedence = precedence;
        }
    })
    .await?;
    Ok(json!({ "Group": record.to_wire(&pool.id) }))
}

pub(super) async fn delete_group(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GroupRef = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (record, version) = group::load(ctx.env, &pool.id, &req.group_name).await?;
    match ctx
        .env
        .store()
        .delete(
            &crate::store::keys::group(&pool.id, &req.group_name),
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
    let prefix = crate::store::keys::group_members(&pool.id, &req.group_name);
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
    let prefix = crate::store::keys::groups(&pool.id);
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
            &crate::store::keys::group_member(&pool.id, &group.group_name, &username_key),
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
            &crate::store::keys::group_member(&pool.id, &group.group_name, &username_key),
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
    let prefix = crate::store::keys::group_members(&pool.id, &group.group_name);
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
