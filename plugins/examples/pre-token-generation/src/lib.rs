//! Pre token generation (V2): adds a claim to both tokens, suppresses one from the ID token,
//! adds an access-token scope (and drops one), and overrides the groups. It also copies what
//! it saw (`triggerSource`, `version`, the scopes it was given) into ID token claims, so a
//! caller can check the event without a debugger.

use std::collections::BTreeMap;

use cognate_plugin::{
    ClaimsAndScopeOverrideDetails, Event, GroupOverrideDetails, PreTokenGenerationRequest,
    PreTokenGenerationV2Response, TokenGeneration,
};
use serde_json::{Value, json};

pub fn pre_token_generation(
    event: Event<PreTokenGenerationRequest, PreTokenGenerationV2Response>,
) -> Result<PreTokenGenerationV2Response, String> {
    let tier = if event
        .request
        .user_attributes
        .get("email")
        .is_some_and(|e| e.ends_with("@example.com"))
    {
        "gold"
    } else {
        "standard"
    };
    let mut id_claims: BTreeMap<String, Value> = BTreeMap::new();
    id_claims.insert("tier".into(), json!(tier));
    id_claims.insert("seen_trigger_source".into(), json!(event.trigger_source));
    id_claims.insert("seen_version".into(), json!(event.version));
    id_claims.insert("seen_scopes".into(), json!(event.request.scopes));
    id_claims.insert(
        "seen_groups".into(),
        json!(event.request.group_configuration.groups_to_override),
    );
    id_claims.insert(
        "seen_client_id".into(),
        json!(event.caller_context.client_id),
    );
    let mut access_claims = BTreeMap::new();
    access_claims.insert("tier".into(), json!(tier));
    let mut groups = event.request.group_configuration.groups_to_override.clone();
    groups.retain(|g| g != "blocked");
    groups.push("plugin-users".into());
    Ok(PreTokenGenerationV2Response {
        claims_and_scope_override_details: Some(ClaimsAndScopeOverrideDetails {
            id_token_generation: Some(TokenGeneration {
                claims_to_add_or_override: Some(id_claims),
                claims_to_suppress: Some(vec!["email_verified".into()]),
                ..TokenGeneration::default()
            }),
            access_token_generation: Some(TokenGeneration {
                claims_to_add_or_override: Some(access_claims),
                claims_to_suppress: None,
                scopes_to_add: Some(vec!["cognate/plugins.read".into()]),
                scopes_to_suppress: Some(vec!["phone".into()]),
            }),
            group_override_details: Some(GroupOverrideDetails {
                groups_to_override: Some(groups),
                ..GroupOverrideDetails::default()
            }),
        }),
    })
}

cognate_plugin::export_handler!(pre_token_generation);
