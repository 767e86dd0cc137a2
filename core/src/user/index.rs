//! ListUsers' secondary indexes: one key per indexed attribute value, naming the user, written
//! before the record and removed after it (an entry may dangle; readers re-check the record).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::UserRecord;
use crate::pool::PoolRecord;
use crate::store::keys;

/// Attributes ListUsers can filter on through index keys (Cognito's searchable set), with the
/// names the index uses for the two status filters.
pub const INDEXED_ATTRIBUTES: &[&str] = &[
    "email",
    "phone_number",
    "name",
    "given_name",
    "family_name",
    "preferred_username",
    "sub",
    "cognito:user_status",
    "status",
];

/// Index values longer than this are cut (at a character boundary); reads re-check the record.
const INDEX_VALUE_MAX_BYTES: usize = 256;

/// Separates the value from the username key; usernames never contain control characters.
pub const INDEX_SEPARATOR: char = '\u{1}';

/// The prefix of a ListUsers index for `attribute` and a value prefix.
pub fn index_prefix(pool_id: &str, attribute: &str, value_prefix: &str) -> String {
    keys::user_index(
        pool_id,
        attribute,
        truncate_at_char(value_prefix, INDEX_VALUE_MAX_BYTES),
    )
}

fn truncate_at_char(value: &str, max: usize) -> &str {
    if value.len() <= max {
        return value;
    }
    let mut end = max;
    while !value.is_char_boundary(end) {
        end -= 1;
    }
    value.get(..end).unwrap_or_default()
}

/// The value a user has for an indexed attribute (the two statuses are derived).
pub fn indexed_value(user: &UserRecord, attribute: &str) -> Option<String> {
    match attribute {
        "cognito:user_status" => Some(user.status.as_str().to_string()),
        "status" => Some(if user.enabled { "Enabled" } else { "Disabled" }.to_string()),
        other => user.attribute(other).map(str::to_string),
    }
}

pub(super) fn keys_of(pool: &PoolRecord, user: &UserRecord) -> Vec<String> {
    let username_key = pool.normalize_username(&user.username);
    INDEXED_ATTRIBUTES
        .iter()
        .filter_map(|attribute| {
            indexed_value(user, attribute).map(|value| {
                let mut key = index_prefix(&pool.id, attribute, &value);
                key.push(INDEX_SEPARATOR);
                key.push_str(&username_key);
                key
            })
        })
        .collect()
}

/// The username key an index entry points at.
pub fn username_key_of_index_entry(key: &str) -> Option<&str> {
    key.rsplit_once(INDEX_SEPARATOR).map(|(_, user)| user)
}
