//! Which user a name means: the username, an alias the pool allows (a verified email or phone
//! number, a preferred username), or the `sub`.

use alloc::string::String;
use alloc::vec::Vec;

use super::{UserRecord, check_username, index, load, looks_like_email, looks_like_phone};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::Env;

/// The attributes a sign-in name may stand for in this pool, in lookup order.
fn alias_attributes_for(pool: &PoolRecord, name: &str) -> Vec<&'static str> {
    let configured: &[String] = if pool.username_attributes.is_empty() {
        &pool.alias_attributes
    } else {
        &pool.username_attributes
    };
    let mut out = Vec::new();
    for (attr, fits) in [
        ("email", looks_like_email(name)),
        ("phone_number", looks_like_phone(name)),
        ("preferred_username", true),
    ] {
        if fits && configured.iter().any(|c| c == attr) {
            out.push(attr);
        }
    }
    out
}

/// Finds the user a sign-in name refers to: the username, or an alias the pool allows.
pub async fn resolve(
    env: &dyn Env,
    pool: &PoolRecord,
    name: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    if check_username(name).is_err() {
        return Ok(None);
    }
    if let Some(found) = load(env, pool, name).await? {
        return Ok(Some(found));
    }
    for attribute in alias_attributes_for(pool, name) {
        if let Some(found) = super::alias::load_holder(env, pool, attribute, name).await? {
            return Ok(Some(found));
        }
    }
    if looks_like_sub(name) {
        return load_by_sub(env, pool, name).await;
    }
    Ok(None)
}

/// Whether `name` has the shape of a `sub` (a UUID), which Cognito accepts wherever it
/// documents "the username, an alias, or the sub" (the Admin* user operations, ConfirmSignUp,
/// ForgotPassword, ...).
fn looks_like_sub(name: &str) -> bool {
    name.len() == 36
        && name.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_hexdigit(),
        })
}

/// The user whose `sub` is `sub`, through the ListUsers index (one short prefix scan).
async fn load_by_sub(
    env: &dyn Env,
    pool: &PoolRecord,
    sub: &str,
) -> Result<Option<(UserRecord, u64)>, Error> {
    let mut prefix = index::index_prefix(&pool.id, "sub", sub);
    prefix.push(index::INDEX_SEPARATOR);
    // An entry may dangle (a deleted user); the record decides.
    let page = env.store().scan(&prefix, None, 4).await?;
    for (key, _) in &page.items {
        let Some(username_key) = index::username_key_of_index_entry(key) else {
            continue;
        };
        if let Some(found) = load(env, pool, username_key).await?
            && found.0.sub == sub
        {
            return Ok(Some(found));
        }
    }
    Ok(None)
}

/// Like [`resolve`], but a missing user is `UserNotFoundException`.
pub async fn resolve_existing(
    env: &dyn Env,
    pool: &PoolRecord,
    name: &str,
) -> Result<(UserRecord, u64), Error> {
    resolve(env, pool, name)
        .await?
        .ok_or_else(|| Error::new(ErrorKind::UserNotFound, "User does not exist."))
}
