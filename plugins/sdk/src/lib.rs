//! # cognate-plugin
//!
//! The guest SDK for Cognate trigger plugins: Cognito's Lambda trigger events as typed structs,
//! and [`export_handler!`], which exports a handler with the plugin contract
//! (`memory`, `alloc(len) -> ptr`, `handle(ptr, len) -> i64`; see `plugins/README.md`).
//!
//! ```
//! use cognate_plugin::{Event, PreSignUpRequest, PreSignUpResponse};
//!
//! fn pre_sign_up(event: Event<PreSignUpRequest, PreSignUpResponse>) -> Result<PreSignUpResponse, String> {
//!     let email = event.request.user_attributes.get("email").cloned().unwrap_or_default();
//!     if !email.ends_with("@example.com") {
//!         return Err("Only example.com addresses may sign up".into());
//!     }
//!     Ok(PreSignUpResponse { auto_confirm_user: true, auto_verify_email: true, ..event.response })
//! }
//! cognate_plugin::export_handler!(pre_sign_up);
//! # fn main() {
//! # let out = cognate_plugin::run_json(br#"{"version":"1","triggerSource":"PreSignUp_SignUp","region":"us-east-1","userPoolId":"us-east-1_x","userName":"a","callerContext":{"awsSdkVersion":"v","clientId":"c"},"request":{"userAttributes":{"email":"a@example.com"}},"response":{}}"#, pre_sign_up);
//! # assert!(String::from_utf8(out).unwrap().contains("\"autoConfirmUser\":true"));
//! # }
//! ```
//!
//! The handler gets the whole event and returns the trigger's `response` (or an error message:
//! the caller sees `UserLambdaValidationException` "<Trigger> failed with error <message>.").
//! A handler for several triggers takes `Event<serde_json::Value, serde_json::Value>` and
//! dispatches on [`Event::trigger_source`], converting with [`Event::typed`].
//!
//! ## Security
//! A plugin runs in a fresh instance per call with a CPU, wall-clock, memory and output budget;
//! it has no network, file system or clock. Only [`log`] reaches the host.
#![no_std]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

pub use serde;
pub use serde_json;

/// A string map (`userAttributes`, `clientMetadata`, `validationData`, challenge parameters).
pub type Strings = BTreeMap<String, String>;

/// Who called: the SDK version and the app client.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallerContext {
    #[serde(default)]
    pub aws_sdk_version: String,
    #[serde(default)]
    pub client_id: String,
}

/// A Cognito trigger event, field for field.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event<Req, Res> {
    pub version: String,
    pub trigger_source: String,
    pub region: String,
    pub user_pool_id: String,
    pub user_name: String,
    pub caller_context: CallerContext,
    pub request: Req,
    pub response: Res,
}

impl Event<serde_json::Value, serde_json::Value> {
    /// Converts an untyped event into a trigger's typed event.
    pub fn typed<Req: DeserializeOwned, Res: DeserializeOwned + Default>(
        self,
    ) -> Result<Event<Req, Res>, String> {
        Ok(Event {
            version: self.version,
            trigger_source: self.trigger_source,
            region: self.region,
            user_pool_id: self.user_pool_id,
            user_name: self.user_name,
            caller_context: self.caller_context,
            request: serde_json::from_value(self.request)
                .map_err(|e| format!("unexpected request: {e}"))?,
            response: if self.response.is_null() {
                Res::default()
            } else {
                serde_json::from_value(self.response)
                    .map_err(|e| format!("unexpected response: {e}"))?
            },
        })
    }
}

/// The response of triggers that return nothing (post confirmation, pre/post authentication).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Empty {}

// -- pre sign-up --------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreSignUpRequest {
    pub user_attributes: Strings,
    pub validation_data: Option<Strings>,
    pub client_metadata: Option<Strings>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreSignUpResponse {
    pub auto_confirm_user: bool,
    pub auto_verify_email: bool,
    pub auto_verify_phone: bool,
}

// -- post confirmation, pre / post authentication ------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PostConfirmationRequest {
    pub user_attributes: Strings,
    pub client_metadata: Option<Strings>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreAuthenticationRequest {
    pub user_attributes: Strings,
    pub validation_data: Option<Strings>,
    pub user_not_found: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PostAuthenticationRequest {
    pub user_attributes: Strings,
    pub new_device_used: bool,
    pub client_metadata: Option<Strings>,
}

// -- pre token generation ------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupConfiguration {
    pub groups_to_override: Vec<String>,
    pub iam_roles_to_override: Vec<String>,
    pub preferred_role: Option<String>,
}

/// The request of pre token generation V1 and V2 (`scopes` only in V2).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreTokenGenerationRequest {
    pub user_attributes: Strings,
    pub group_configuration: GroupConfiguration,
    pub client_metadata: Option<Strings>,
    pub scopes: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GroupOverrideDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub groups_to_override: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iam_roles_to_override: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub preferred_role: Option<String>,
}

/// V1: `claimsOverrideDetails` (ID token claims, string values; groups).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClaimsOverrideDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_to_add_or_override: Option<Strings>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_to_suppress: Option<Vec<String>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_override_details: Option<GroupOverrideDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreTokenGenerationV1Response {
    pub claims_override_details: Option<ClaimsOverrideDetails>,
}

/// V2: one token's claims (any JSON values).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TokenGeneration {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_to_add_or_override: Option<BTreeMap<String, serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub claims_to_suppress: Option<Vec<String>>,
    /// Access token only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_to_add: Option<Vec<String>>,
    /// Access token only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scopes_to_suppress: Option<Vec<String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClaimsAndScopeOverrideDetails {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token_generation: Option<TokenGeneration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub access_token_generation: Option<TokenGeneration>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group_override_details: Option<GroupOverrideDetails>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PreTokenGenerationV2Response {
    pub claims_and_scope_override_details: Option<ClaimsAndScopeOverrideDetails>,
}

// -- custom message ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomMessageRequest {
    pub user_attributes: Strings,
    /// `{####}`: put it where the code goes.
    pub code_parameter: String,
    pub link_parameter: Option<String>,
    /// `{username}` (AdminCreateUser only).
    pub username_parameter: Option<String>,
    pub client_metadata: Option<Strings>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomMessageResponse {
    pub sms_message: Option<String>,
    pub email_message: Option<String>,
    pub email_subject: Option<String>,
}

// -- user migration ------------------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserMigrationRequest {
    /// The password typed (`UserMigration_Authentication` only).
    pub password: Option<String>,
    pub validation_data: Option<Strings>,
    pub client_metadata: Option<Strings>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserMigrationResponse {
    /// `None`: the plugin does not know this user.
    pub user_attributes: Option<Strings>,
    /// `CONFIRMED` or `RESET_REQUIRED`.
    pub final_user_status: Option<String>,
    /// `SUPPRESS`
    pub message_action: Option<String>,
    pub desired_delivery_mediums: Option<Vec<String>>,
    pub force_alias_creation: Option<bool>,
    #[serde(rename = "enableSMSMFA")]
    pub enable_sms_mfa: Option<bool>,
}

// -- custom authentication challenges -----------------------------------------------------------

/// One answered challenge in a CUSTOM_AUTH `session`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ChallengeResult {
    pub challenge_name: String,
    pub challenge_result: bool,
    pub challenge_metadata: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DefineAuthChallengeRequest {
    pub user_attributes: Strings,
    pub session: Vec<ChallengeResult>,
    pub client_metadata: Option<Strings>,
    pub user_not_found: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DefineAuthChallengeResponse {
    pub challenge_name: Option<String>,
    pub issue_tokens: bool,
    pub fail_authentication: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateAuthChallengeRequest {
    pub user_attributes: Strings,
    pub challenge_name: String,
    pub session: Vec<ChallengeResult>,
    pub client_metadata: Option<Strings>,
    pub user_not_found: bool,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CreateAuthChallengeResponse {
    pub public_challenge_parameters: Strings,
    pub private_challenge_parameters: Strings,
    pub challenge_metadata: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifyAuthChallengeResponseRequest {
    pub user_attributes: Strings,
    pub private_challenge_parameters: Strings,
    pub challenge_answer: String,
    pub client_metadata: Option<Strings>,
    pub user_not_found: bool,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct VerifyAuthChallengeResponseResponse {
    pub answer_correct: bool,
}

// -- custom email / SMS senders ------------------------------------------------------------------

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CustomSenderRequest {
    /// `customEmailSenderRequestV1` or `customSMSSenderRequestV1`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The code (plain: Cognate has no KMS; Cognito encrypts it).
    pub code: Option<String>,
    pub client_metadata: Option<Strings>,
    pub user_attributes: Strings,
}

/// What a sender plugin asks the runtime to send: one HTTP request, performed only to hosts on
/// the operator's allow-list.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Delivery {
    pub method: String,
    pub url: String,
    pub headers: Strings,
    pub body: String,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct CustomSenderResponse {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub delivery: Option<Delivery>,
}

// -- running a handler ---------------------------------------------------------------------------

/// Runs `handler` on an event's JSON and returns the answer's JSON: the response, or
/// `{"error": "..."}`. What the exported `handle` does; also the way to test a handler natively.
pub fn run_json<E, R, F>(event: &[u8], handler: F) -> Vec<u8>
where
    E: DeserializeOwned,
    R: Serialize,
    F: FnOnce(E) -> Result<R, String>,
{
    let answer = match serde_json::from_slice::<E>(event) {
        Err(e) => Err(format!("cannot read the event: {e}")),
        Ok(event) => handler(event),
    };
    let encoded = match answer {
        Ok(response) => serde_json::to_vec(&response).map_err(|e| format!("{e}")),
        Err(message) => Err(message),
    };
    match encoded {
        Ok(bytes) => bytes,
        Err(message) => {
            serde_json::to_vec(&serde_json::json!({ "error": message })).unwrap_or_default()
        }
    }
}

/// Writes a line to the host's log (target `cognate::plugin`). At most 4 KiB a line.
pub fn log(message: &str) {
    #[cfg(target_arch = "wasm32")]
    {
        #[link(wasm_import_module = "cognate")]
        unsafe extern "C" {
            #[link_name = "log"]
            fn host_log(ptr: i32, len: i32);
        }
        // SAFETY: the host reads `len` bytes at `ptr` from this instance's memory.
        unsafe { host_log(message.as_ptr() as i32, message.len() as i32) }
    }
    #[cfg(not(target_arch = "wasm32"))]
    let _ = message;
}

#[doc(hidden)]
pub mod __private {
    use super::*;

    /// `alloc(len) -> ptr`: a buffer the host writes the event into. Never freed: the
    /// instance lives for one call.
    pub fn alloc(len: i32) -> i32 {
        let mut buffer: Vec<u8> = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
        let ptr = buffer.as_mut_ptr();
        core::mem::forget(buffer);
        ptr as usize as i32
    }

    /// `handle(ptr, len) -> (answer ptr << 32) | answer len`.
    pub fn handle<E, R, F>(ptr: i32, len: i32, handler: F) -> i64
    where
        E: DeserializeOwned,
        R: Serialize,
        F: FnOnce(E) -> Result<R, String>,
    {
        let len = usize::try_from(len).unwrap_or(0);
        // SAFETY: `ptr` is the buffer `alloc(len)` returned, which the host filled with `len`
        // bytes.
        let event = unsafe { core::slice::from_raw_parts(ptr as usize as *const u8, len) };
        let answer = run_json(event, handler);
        let packed =
            ((answer.as_ptr() as usize as u64) << 32) | (answer.len() as u64 & 0xffff_ffff);
        core::mem::forget(answer);
        packed as i64
    }
}

/// Exports `handler` as the plugin's `handle`, with `alloc`. `handler` is a
/// `fn(Event<Req, Res>) -> Result<Res, String>` (or any event and response types that
/// deserialize / serialize). On targets other than `wasm32` nothing is exported, so the crate
/// still builds and tests natively.
#[macro_export]
macro_rules! export_handler {
    ($handler:path) => {
        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn alloc(len: i32) -> i32 {
            $crate::__private::alloc(len)
        }

        #[cfg(target_arch = "wasm32")]
        #[unsafe(no_mangle)]
        pub extern "C" fn handle(ptr: i32, len: i32) -> i64 {
            $crate::__private::handle(ptr, len, $handler)
        }
    };
}
