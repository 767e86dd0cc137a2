//! Roles: an identity pool's authenticated and unauthenticated roles, and the role mappings that
//! let a provider's claims choose another (`Token`: the `cognito:preferred_role` and
//! `cognito:roles` claims; `Rules`: the first rule that matches; no answer: the
//! `AmbiguousRoleResolution`, the authenticated role or a refusal).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, ErrorKind};

/// The most rules a mapping holds.
pub const MAX_RULES: usize = 25;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MappingType {
    Token,
    Rules,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AmbiguousRoleResolution {
    AuthenticatedRole,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MatchType {
    Equals,
    Contains,
    StartsWith,
    NotEqual,
}

/// One rule (`MappingRule`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct MappingRule {
    pub claim: String,
    pub match_type: MatchType,
    pub value: String,
    #[serde(rename = "RoleARN")]
    pub role_arn: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RulesConfiguration {
    pub rules: Vec<MappingRule>,
}

/// How one provider's logins choose a role (`RoleMapping`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RoleMapping {
    #[serde(rename = "Type")]
    pub mapping_type: MappingType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ambiguous_role_resolution: Option<AmbiguousRoleResolution>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rules_configuration: Option<RulesConfiguration>,
}

fn is_role_arn(arn: &str) -> bool {
    arn.starts_with("arn:") && arn.contains(":role/")
}

/// SetIdentityPoolRoles' checks; `has_provider` tells the identity pool's login providers
/// (`IdentityPoolRecord::has_provider`), `pool_id` names it in messages.
pub fn validate(
    pool_id: &str,
    has_provider: impl Fn(&str) -> bool,
    roles: &BTreeMap<String, String>,
    mappings: &BTreeMap<String, RoleMapping>,
) -> Result<(), Error> {
    for (kind, arn) in roles {
        if kind != "authenticated" && kind != "unauthenticated" {
            return Err(Error::invalid_parameter(format!(
                "Invalid role type: {}. Valid values are: authenticated, unauthenticated.",
                kind.chars().take(128).collect::<String>()
            )));
        }
        if !is_role_arn(arn) {
            return Err(Error::invalid_parameter(format!(
                "Invalid role ARN: {}",
                arn.chars().take(2048).collect::<String>()
            )));
        }
    }
    for (provider, mapping) in mappings {
        if !has_provider(provider) {
            return Err(Error::invalid_parameter(format!(
                "{} is not a login provider of identity pool {}.",
                provider.chars().take(128).collect::<String>(),
                pool_id
            )));
        }
        if mapping.ambiguous_role_resolution.is_none() {
            return Err(Error::invalid_parameter(
                "AmbiguousRoleResolution must be specified for a role mapping.",
            ));
        }
        match (mapping.mapping_type, &mapping.rules_configuration) {
            (MappingType::Rules, None) => {
                return Err(Error::invalid_parameter(
                    "RulesConfiguration must be specified for role mappings of type Rules.",
                ));
            }
            (MappingType::Rules, Some(rules)) => {
                if rules.rules.is_empty() || rules.rules.len() > MAX_RULES {
                    return Err(Error::invalid_parameter(format!(
                        "A role mapping holds 1 to {MAX_RULES} rules."
                    )));
                }
                if let Some(rule) = rules.rules.iter().find(|r| !is_role_arn(&r.role_arn)) {
                    return Err(Error::invalid_parameter(format!(
                        "Invalid role ARN: {}",
                        rule.role_arn.chars().take(2048).collect::<String>()
                    )));
                }
            }
            (MappingType::Token, Some(_)) => {
                return Err(Error::invalid_parameter(
                    "RulesConfiguration applies only to role mappings of type Rules.",
                ));
            }
            (MappingType::Token, None) => {}
        }
    }
    Ok(())
}

/// The strings a claim holds: a string, or each string of a list.
fn claim_values(claims: &Map<String, Value>, claim: &str) -> Vec<String> {
    match claims.get(claim) {
        Some(Value::String(s)) => alloc::vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| match v {
                Value::String(s) => Some(s.clone()),
                Value::Number(n) => Some(n.to_string()),
                Value::Bool(b) => Some(b.to_string()),
                _ => None,
            })
            .collect(),
        Some(Value::Number(n)) => alloc::vec![n.to_string()],
        Some(Value::Bool(b)) => alloc::vec![b.to_string()],
        _ => Vec::new(),
    }
}

/// Whether `rule` matches `claims`. A list claim (`cognito:groups`) matches `Equals`,
/// `Contains` and `StartsWith` when one of its members does, and `NotEqual` when none equals.
pub fn rule_matches(rule: &MappingRule, claims: &Map<String, Value>) -> bool {
    let values = claim_values(claims, &rule.claim);
    match rule.match_type {
        MatchType::Equals => values.contains(&rule.value),
        MatchType::Contains => values.iter().any(|v| v.contains(rule.value.as_str())),
        MatchType::StartsWith => values.iter().any(|v| v.starts_with(rule.value.as_str())),
        MatchType::NotEqual => !values.is_empty() && values.iter().all(|v| *v != rule.value),
    }
}

/// What a role choice comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoleChoice {
    Role(String),
    /// Nothing matched and the mapping says `Deny`.
    Denied,
}

fn no_role() -> Error {
    Error::new(
        ErrorKind::InvalidIdentityPoolConfiguration,
        "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
    )
}

/// The roles and role mappings of an identity pool.
#[derive(Debug, Clone, Copy)]
pub struct PoolRoles<'a> {
    /// `authenticated` / `unauthenticated` -> role ARN.
    pub roles: &'a BTreeMap<String, String>,
    /// Provider name -> mapping.
    pub mappings: &'a BTreeMap<String, RoleMapping>,
}

/// The role for an identity: `login` is the provider and claims of the login that authenticated
/// this call (`None`: a guest). `custom_role_arn` is GetCredentialsForIdentity's
/// `CustomRoleArn`, honoured only when the token mapping allows it (one of `cognito:roles`).
pub fn choose(
    pool: PoolRoles<'_>,
    login: Option<(&str, &Map<String, Value>)>,
    custom_role_arn: Option<&str>,
) -> Result<RoleChoice, Error> {
    let Some((provider, claims)) = login else {
        return pool
            .roles
            .get("unauthenticated")
            .map(|r| RoleChoice::Role(r.clone()))
            .ok_or_else(no_role);
    };
    let authenticated = || {
        pool.roles
            .get("authenticated")
            .map(|r| RoleChoice::Role(r.clone()))
            .ok_or_else(no_role)
    };
    let Some(mapping) = pool.mappings.get(provider) else {
        return authenticated();
    };
    let chosen = match mapping.mapping_type {
        MappingType::Token => {
            let roles = claim_values(claims, "cognito:roles");
            let preferred = claim_values(claims, "cognito:preferred_role");
            match custom_role_arn {
                Some(custom) if roles.iter().any(|r| r == custom) => Some(custom.to_string()),
                Some(_) => None,
                None => preferred
                    .first()
                    .cloned()
                    .or_else(|| (roles.len() == 1).then(|| roles.first().cloned()).flatten()),
            }
        }
        MappingType::Rules => mapping
            .rules_configuration
            .as_ref()
            .and_then(|c| c.rules.iter().find(|r| rule_matches(r, claims)))
            .map(|r| r.role_arn.clone()),
    };
    match chosen {
        Some(role) => Ok(RoleChoice::Role(role)),
        None => match mapping.ambiguous_role_resolution {
            Some(AmbiguousRoleResolution::Deny) => Ok(RoleChoice::Denied),
            _ => authenticated(),
        },
    }
}
