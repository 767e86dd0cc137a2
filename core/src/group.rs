//! Groups: named sets of users with a precedence and an IAM role, carried in tokens as
//! `cognito:groups`, `cognito:roles` and `cognito:preferred_role`.
//!
//! Keys: `p/<poolId>/g/<group name>` holds a [`GroupRecord`]. Membership lives on the user record
//! (one conditional write decides it); `p/<poolId>/gm/<group>/<username key>` is an index entry
//! for ListUsersInGroup, written before the membership and re-checked on read.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::{Error, ErrorKind};
use crate::pool::{PoolRecord, epoch_seconds};
use crate::ports::Env;
use crate::user::UserRecord;

/// A stored group.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GroupRecord {
    pub group_name: String,
    /// Distinguishes this group from an earlier, deleted group of the same name.
    pub uid: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub role_arn: Option<String>,
    #[serde(default)]
    pub precedence: Option<u64>,
    pub created_millis: u64,
    pub modified_millis: u64,
}

impl GroupRecord {
    /// Cognito's `GroupType`.
    pub fn to_wire(&self, pool_id: &str) -> Value {
        let mut out = json!({
            "GroupName": self.group_name,
            "UserPoolId": pool_id,
            "CreationDate": epoch_seconds(self.created_millis),
            "LastModifiedDate": epoch_seconds(self.modified_millis),
        });
        if let Value::Object(map) = &mut out {
            if let Some(d) = &self.description {
                map.insert("Description".into(), json!(d));
            }
            if let Some(r) = &self.role_arn {
                map.insert("RoleArn".into(), json!(r));
            }
            if let Some(p) = self.precedence {
                map.insert("Precedence".into(), json!(p));
            }
        }
        out
    }
}

/// Checks a group name (Cognito: `[\p{L}\p{M}\p{S}\p{N}\p{P}]+`, 1..=128).
pub fn check_name(name: &str) -> Result<(), Error> {
    let len = name.chars().count();
    if len == 0 || len > 128 || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'groupName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\p{L}\\p{M}\\p{S}\\p{N}\\p{P}]+",
        ));
    }
    Ok(())
}

/// Checks a role ARN's form (`arn:<partition>:iam::<account>:role/<name>`).
pub fn check_role_arn(arn: &str) -> Result<(), Error> {
    let ok = arn.len() >= 20
        && arn.len() <= 2048
        && arn.starts_with("arn:")
        && arn.contains(":iam::")
        && arn.contains(":role/");
    if ok {
        Ok(())
    } else {
        Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
        ))
    }
}

pub async fn load(env: &dyn Env, pool_id: &str, name: &str) -> Result<(GroupRecord, u64), Error> {
    check_name(name)?;
    crate::record::get_json(env.store(), &crate::store::keys::group(pool_id, name))
        .await?
        .ok_or_else(group_not_found)
}

fn group_not_found() -> Error {
    Error::resource_not_found("Group not found.")
}

/// Changes a group with `change` (compare-and-set, retried on a concurrent write).
pub async fn modify(
    env: &dyn Env,
    pool_id: &str,
    name: &str,
    mut change: impl FnMut(&mut GroupRecord),
) -> Result<GroupRecord, Error> {
    check_name(name)?;
    crate::record::modify_json(
        env.store(),
        &crate::store::keys::group(pool_id, name),
        group_not_found,
        || {
            Error::new(
                crate::error::ErrorKind::TooManyRequests,
                "The group is being updated concurrently; try again.",
            )
        },
        |record: &mut GroupRecord| {
            change(record);
            record.modified_millis = env.clock().now_millis();
            Ok(())
        },
    )
    .await
}

pub fn group_exists(name: &str) -> Error {
    Error::new(
        ErrorKind::GroupExists,
        format!("A group with the name {name} already exists."),
    )
}

/// The groups a user really belongs to (memberships of deleted or re-created groups are
/// ignored), ordered as Cognito orders them in tokens: by precedence, lowest first, then name.
pub async fn memberships(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
) -> Result<Vec<GroupRecord>, Error> {
    let mut out = Vec::with_capacity(user.groups.len());
    for (name, uid) in &user.groups {
        if let Some(item) = env
            .store()
            .get(&crate::store::keys::group(&pool.id, name))
            .await?
        {
            let group: GroupRecord = serde_json::from_slice(&item.value)?;
            if &group.uid == uid {
                out.push(group);
            }
        }
    }
    out.sort_by(|a, b| {
        a.precedence
            .unwrap_or(u64::MAX)
            .cmp(&b.precedence.unwrap_or(u64::MAX))
            .then_with(|| a.group_name.cmp(&b.group_name))
    });
    Ok(out)
}

/// The group claims of a token: `cognito:groups` always (when any), and for ID tokens the roles
/// and the preferred role (the role of the group with the lowest precedence that has one).
pub fn claims(groups: &[GroupRecord], id_token: bool, claims: &mut serde_json::Map<String, Value>) {
    if groups.is_empty() {
        return;
    }
    let names: Vec<&str> = groups.iter().map(|g| g.group_name.as_str()).collect();
    claims.insert("cognito:groups".into(), json!(names));
    if !id_token {
        return;
    }
    let roles: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    if roles.is_empty() {
        return;
    }
    // The preferred role is the role of the group with the lowest precedence; when that
    // precedence is shared (or absent) among groups with roles, there is none, as in Cognito.
    let with_roles: Vec<&GroupRecord> = groups.iter().filter(|g| g.role_arn.is_some()).collect();
    let best = with_roles.first().map(|g| g.precedence);
    let shared = with_roles
        .iter()
        .filter(|g| Some(g.precedence) == best)
        .count()
        > 1;
    if let Some(first) = with_roles.first().filter(|_| !shared) {
        claims.insert("cognito:preferred_role".into(), json!(first.role_arn));
    }
    claims.insert("cognito:roles".into(), json!(roles));
}
