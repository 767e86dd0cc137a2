//! Pre token generation, V1 (`claimsOverrideDetails`: ID token claims and groups), V2
//! (`claimsAndScopeOverrideDetails`: ID and access token claims, access token scopes, groups) and
//! V3 (V2's event, also sent for machine-to-machine `client_credentials` access tokens).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Map, Value, json};

use super::{Invocation, TriggerKind, configured, protected_claim, run_plugin, user_attributes};
use crate::error::{Error, ErrorKind};
use crate::group::GroupRecord;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::user::UserRecord;

/// Why tokens are being issued: the pre token generation event's `triggerSource`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenSource {
    /// A sign-in (password, custom challenge).
    Authentication,
    /// The NEW_PASSWORD_REQUIRED challenge answered.
    NewPasswordChallenge,
    /// A refresh.
    RefreshTokens,
    /// The hosted UI / OAuth2 authorization code flow.
    HostedAuth,
    /// OAuth2 `client_credentials`: a machine's access token (V3 only).
    ClientCredentials,
}

impl TokenSource {
    pub fn trigger_source(self) -> &'static str {
        match self {
            Self::Authentication => "TokenGeneration_Authentication",
            Self::NewPasswordChallenge => "TokenGeneration_NewPasswordChallenge",
            Self::RefreshTokens => "TokenGeneration_RefreshTokens",
            Self::HostedAuth => "TokenGeneration_HostedAuth",
            Self::ClientCredentials => "TokenGeneration_ClientCredentials",
        }
    }
}

fn invalid(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponse,
        alloc::format!("Invalid lambda response: {what}"),
    )
}

/// Runs the pool's pre token generation plugin, if any, and applies its answer to the claims
/// about to be signed.
#[allow(clippy::too_many_arguments)]
pub async fn apply_pre_token(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    groups: &[GroupRecord],
    source: TokenSource,
    id_claims: &mut Map<String, Value>,
    access_claims: &mut Map<String, Value>,
) -> Result<(), Error> {
    let Some((reference, version)) = configured(pool, TriggerKind::PreTokenGeneration) else {
        return Ok(());
    };
    let group_names: Vec<&str> = groups.iter().map(|g| g.group_name.as_str()).collect();
    let roles: Vec<&str> = groups
        .iter()
        .filter_map(|g| g.role_arn.as_deref())
        .collect();
    let mut request = json!({
        "userAttributes": user_attributes(user),
        "groupConfiguration": {
            "groupsToOverride": group_names,
            "iamRolesToOverride": roles,
            "preferredRole": id_claims.get("cognito:preferred_role").cloned().unwrap_or(Value::Null),
        },
        "clientMetadata": {},
    });
    // V3's event and answer are V2's; V3 also runs for machine tokens.
    let v2 = version != "1";
    if v2 && let Value::Object(map) = &mut request {
        let scopes: Vec<&str> = access_claims
            .get("scope")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect();
        map.insert("scopes".into(), json!(scopes));
    }
    let response = if v2 {
        json!({ "claimsAndScopeOverrideDetails": null })
    } else {
        json!({ "claimsOverrideDetails": null })
    };
    let answer = run_plugin(
        env,
        pool,
        &reference,
        version,
        Invocation {
            kind: TriggerKind::PreTokenGeneration,
            source: source.trigger_source(),
            user_name: &user.username,
            client_id: Some(&client.client_id),
            request,
            response,
        },
    )
    .await?;
    apply_answer(&answer, v2, id_claims, access_claims)
}

/// V3 for a `client_credentials` access token: the plugin sees the client and the scopes, and may
/// change the access token's claims and scopes (there is no user, ID token or group).
pub async fn apply_pre_token_client_credentials(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    client_metadata: Value,
    access_claims: &mut Map<String, Value>,
) -> Result<(), Error> {
    let Some((reference, "3")) = configured(pool, TriggerKind::PreTokenGeneration) else {
        return Ok(());
    };
    let granted: Vec<&str> = access_claims
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .collect();
    let request = json!({
        "userAttributes": {},
        "groupConfiguration": {
            "groupsToOverride": [],
            "iamRolesToOverride": [],
            "preferredRole": null,
        },
        "scopes": granted,
        "clientMetadata": client_metadata,
    });
    let answer = run_plugin(
        env,
        pool,
        &reference,
        "3",
        Invocation {
            kind: TriggerKind::PreTokenGeneration,
            source: TokenSource::ClientCredentials.trigger_source(),
            // A machine has no user name; Cognito's event names the client.
            user_name: &client.client_id,
            client_id: Some(&client.client_id),
            request,
            response: json!({ "claimsAndScopeOverrideDetails": null }),
        },
    )
    .await?;
    let details = match answer.get("claimsAndScopeOverrideDetails") {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::Object(d)) => d,
        Some(_) => return Err(invalid("claimsAndScopeOverrideDetails must be an object")),
    };
    if let Some(access) = object(details, "accessTokenGeneration")? {
        claims(access, access_claims, true)?;
        scopes(access, access_claims)?;
    }
    Ok(())
}

/// Applies a pre token generation answer (pure: the unit tests drive it directly).
pub fn apply_answer(
    answer: &Map<String, Value>,
    v2: bool,
    id_claims: &mut Map<String, Value>,
    access_claims: &mut Map<String, Value>,
) -> Result<(), Error> {
    if v2 {
        let details = match answer.get("claimsAndScopeOverrideDetails") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Object(d)) => d,
            Some(_) => return Err(invalid("claimsAndScopeOverrideDetails must be an object")),
        };
        if let Some(id) = object(details, "idTokenGeneration")? {
            claims(id, id_claims, true)?;
        }
        if let Some(access) = object(details, "accessTokenGeneration")? {
            claims(access, access_claims, true)?;
            scopes(access, access_claims)?;
        }
        if let Some(groups) = object(details, "groupOverrideDetails")? {
            override_groups(groups, id_claims, access_claims)?;
        }
    } else {
        let details = match answer.get("claimsOverrideDetails") {
            None | Some(Value::Null) => return Ok(()),
            Some(Value::Object(d)) => d,
            Some(_) => return Err(invalid("claimsOverrideDetails must be an object")),
        };
        // V1 changes the ID token only; its values are strings.
        claims(details, id_claims, false)?;
        if let Some(groups) = object(details, "groupOverrideDetails")? {
            override_groups(groups, id_claims, access_claims)?;
        }
    }
    Ok(())
}

fn object<'a>(
    map: &'a Map<String, Value>,
    name: &str,
) -> Result<Option<&'a Map<String, Value>>, Error> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(invalid(&alloc::format!("{name} must be an object"))),
    }
}

fn strings(map: &Map<String, Value>, name: &str) -> Result<Option<Vec<String>>, Error> {
    match map.get(name) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| invalid(&alloc::format!("{name} must be a list of strings")))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some),
        Some(_) => Err(invalid(&alloc::format!("{name} must be a list of strings"))),
    }
}

/// `claimsToAddOrOverride` and `claimsToSuppress`. Protected claims are left as they are, as
/// Cognito does.
fn claims(
    details: &Map<String, Value>,
    target: &mut Map<String, Value>,
    any_json: bool,
) -> Result<(), Error> {
    if let Some(add) = object(details, "claimsToAddOrOverride")? {
        for (name, value) in add {
            if protected_claim(name) {
                continue;
            }
            if !any_json && !value.is_string() {
                return Err(invalid("claimsToAddOrOverride values must be strings (V1)"));
            }
            target.insert(name.clone(), value.clone());
        }
    }
    for name in strings(details, "claimsToSuppress")?.unwrap_or_default() {
        if !protected_claim(&name) {
            target.remove(&name);
        }
    }
    Ok(())
}

fn scopes(details: &Map<String, Value>, access: &mut Map<String, Value>) -> Result<(), Error> {
    let add = strings(details, "scopesToAdd")?.unwrap_or_default();
    let suppress = strings(details, "scopesToSuppress")?.unwrap_or_default();
    if add.is_empty() && suppress.is_empty() {
        return Ok(());
    }
    let mut current: Vec<String> = access
        .get("scope")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .split(' ')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    for scope in add {
        if scope.is_empty() || scope.contains(' ') {
            return Err(invalid("scopesToAdd must be scope names"));
        }
        if !current.contains(&scope) {
            current.push(scope);
        }
    }
    current.retain(|s| !suppress.contains(s));
    if current.is_empty() {
        access.remove("scope");
    } else {
        access.insert("scope".into(), json!(current.join(" ")));
    }
    Ok(())
}

fn override_groups(
    groups: &Map<String, Value>,
    id: &mut Map<String, Value>,
    access: &mut Map<String, Value>,
) -> Result<(), Error> {
    if let Some(names) = strings(groups, "groupsToOverride")? {
        for claims in [&mut *id, &mut *access] {
            if names.is_empty() {
                claims.remove("cognito:groups");
            } else {
                claims.insert("cognito:groups".into(), json!(names));
            }
        }
    }
    if let Some(roles) = strings(groups, "iamRolesToOverride")? {
        if roles.is_empty() {
            id.remove("cognito:roles");
        } else {
            id.insert("cognito:roles".into(), json!(roles));
        }
    }
    match groups.get("preferredRole") {
        None | Some(Value::Null) => {}
        Some(Value::String(role)) => {
            id.insert("cognito:preferred_role".into(), json!(role));
        }
        Some(_) => return Err(invalid("preferredRole must be a string")),
    }
    Ok(())
}
