//! Principal tags: which claims of a provider's tokens become session tags
//! (SetPrincipalTagAttributeMap / GetPrincipalTagAttributeMap), and the tags a login carries.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value};

use super::pools::{IdentityPoolRecord, PrincipalTagMap};
use crate::error::Error;

/// Cognito's default mapping (tag key -> claim): the app client and the user's `sub`.
pub fn defaults() -> BTreeMap<String, String> {
    BTreeMap::from([
        ("client".to_string(), "aud".to_string()),
        ("username".to_string(), "sub".to_string()),
    ])
}

/// Checks that `provider` is one of the pool's providers (a map is set per provider).
pub fn check_provider(pool: &IdentityPoolRecord, provider: &str) -> Result<(), Error> {
    if pool.has_provider(provider) {
        Ok(())
    } else {
        Err(Error::invalid_parameter(format!(
            "{} is not a login provider of identity pool {}.",
            provider.chars().take(128).collect::<String>(),
            pool.id
        )))
    }
}

/// The tag key -> claim map in force for `provider` (defaults plus custom entries).
pub fn effective(map: &PrincipalTagMap) -> BTreeMap<String, String> {
    let mut out = if map.use_defaults {
        defaults()
    } else {
        BTreeMap::new()
    };
    out.extend(map.tags.iter().map(|(k, v)| (k.clone(), v.clone())));
    out
}

/// The session tags a login of `provider` with `claims` carries.
pub fn tags_for(
    pool: &IdentityPoolRecord,
    provider: &str,
    claims: &Map<String, Value>,
) -> BTreeMap<String, String> {
    let Some(map) = pool.principal_tags.get(provider) else {
        return BTreeMap::new();
    };
    effective(map)
        .into_iter()
        .filter_map(|(tag, claim)| {
            let value = match claims.get(&claim)? {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                Value::Bool(b) => b.to_string(),
                _ => return None,
            };
            Some((tag, value))
        })
        .collect()
}
