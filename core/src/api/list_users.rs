//! ListUsers with Cognito's filters, served from index keys by prefix scan.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::list_wire;
use super::{Ctx, decode_token, encode_token, input};
use crate::error::Error;
use crate::pool::{self, PoolRecord};
use crate::user::{self, UserRecord};

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
pub(super) enum Entries<'a> {
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
pub(super) async fn users_page(
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

pub(super) fn check_limit(limit: Option<u64>, default: u64) -> Result<usize, Error> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

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
