//! Passkeys (WebAuthn) as Amplify v6 offers them: `associateWebAuthnCredential`,
//! `listWebAuthnCredentials`, `deleteWebAuthnCredential`, and the `WEB_AUTHN` sign-in step,
//! answered with `navigator.credentials` straight away (Amplify asks the user nothing between).
//! The browser calls live in `passkey.js`; the server's JSON passes through unchanged.

use std::rc::Rc;

use cognate_core::api::wire::{AuthResponse, RespondToAuthChallengeRequest};
use serde_json::{Map, Value, json};
use wasm_bindgen::prelude::*;

use crate::auth::Auth;
use crate::error::{AuthError, Result, from_js, names};
use crate::js;

#[wasm_bindgen(module = "/src/passkey.js")]
extern "C" {
    #[wasm_bindgen(js_name = passkeyCreate, catch)]
    async fn passkey_create(options: &str) -> std::result::Result<JsValue, JsValue>;
    #[wasm_bindgen(js_name = passkeyGet, catch)]
    async fn passkey_get(options: &str) -> std::result::Result<JsValue, JsValue>;
}

/// The browser's answer (a JSON string) as JSON.
fn credential(answer: std::result::Result<JsValue, JsValue>) -> Result<Value> {
    let text = answer
        .map_err(|e| from_js("Unknown", e))?
        .as_string()
        .unwrap_or_default();
    serde_json::from_str(&text).map_err(|e| AuthError::new("Unknown", e.to_string()))
}

impl Auth {
    /// The signed-in user's passkeys, one function for the three calls (they share the token
    /// and call plumbing, which keeps the module small):
    /// - `StartWebAuthnRegistration` (`associateWebAuthnCredential()`): then
    ///   `navigator.credentials.create` with its options and CompleteWebAuthnRegistration with
    ///   the RegistrationResponseJSON;
    /// - `ListWebAuthnCredentials` (`listWebAuthnCredentials({pageSize?, nextToken?})`):
    ///   `{credentials, nextToken?}`, each credential as Amplify lists it (`createdAt` a `Date`);
    /// - `DeleteWebAuthnCredential` (`deleteWebAuthnCredential({credentialId})`).
    pub async fn web_authn(self: &Rc<Self>, operation: &str, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "passkeys")?;
        let mut request = Map::new();
        request.insert("AccessToken".into(), self.access_token().await?.into());
        if operation == "DeleteWebAuthnCredential" {
            request.insert(
                "CredentialId".into(),
                input.required("credentialId")?.into(),
            );
        } else if operation == "ListWebAuthnCredentials" {
            // An integer member (a JS number arrives as a float).
            let page_size = input.number(&["pageSize"]).map(|n| n as i64);
            request.insert("MaxResults".into(), json!(page_size));
            request.insert("NextToken".into(), json!(input.string(&["nextToken"])));
        }
        let answer: Value = self.call(operation, &request).await?;
        if operation == "StartWebAuthnRegistration" {
            let options = answer
                .get("CredentialCreationOptions")
                .filter(|o| o.is_object())
                .ok_or_else(|| {
                    AuthError::new(
                        "InvalidPasskeyRegistrationOptions",
                        "StartWebAuthnRegistration answered no CredentialCreationOptions",
                    )
                })?;
            let registration = credential(passkey_create(&options.to_string()).await)?;
            request.insert("Credential".into(), registration);
            let _: Value = self.call("CompleteWebAuthnRegistration", &request).await?;
        }
        if operation != "ListWebAuthnCredentials" {
            return Ok(JsValue::UNDEFINED);
        }
        let out = js_sys::Array::new();
        for item in answer
            .get("Credentials")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let entry = js_sys::Object::new();
            for (name, member) in [
                ("credentialId", "CredentialId"),
                ("friendlyCredentialName", "FriendlyCredentialName"),
                ("relyingPartyId", "RelyingPartyId"),
                ("authenticatorAttachment", "AuthenticatorAttachment"),
                ("authenticatorTransports", "AuthenticatorTransports"),
            ] {
                if let Some(value) = item.get(member) {
                    js::set(&entry, name, &js::to_value(value));
                }
            }
            if let Some(seconds) = item.get("CreatedAt").and_then(Value::as_f64) {
                let date = js_sys::Date::new(&JsValue::from_f64(seconds * 1000.0));
                js::set(&entry, "createdAt", &date.into());
            }
            out.push(&entry);
        }
        let result = js_sys::Object::new();
        js::set(&result, "credentials", &out.into());
        if let Some(token) = answer.get("NextToken") {
            js::set(&result, "nextToken", &js::to_value(token));
        }
        Ok(result.into())
    }

    /// Answers a `WEB_AUTHN` challenge: `navigator.credentials.get` with its
    /// `CREDENTIAL_REQUEST_OPTIONS`, the AuthenticationResponseJSON as `CREDENTIAL`.
    pub(crate) async fn answer_web_authn(
        &self,
        username: &str,
        challenge: AuthResponse,
    ) -> Result<AuthResponse> {
        let options = challenge
            .challenge_parameters
            .get("CREDENTIAL_REQUEST_OPTIONS")
            .and_then(Value::as_str)
            .ok_or_else(|| {
                AuthError::new(
                    "InvalidPasskeyAuthenticationOptions",
                    "WEB_AUTHN without CREDENTIAL_REQUEST_OPTIONS",
                )
            })?;
        let assertion = credential(passkey_get(options).await)?;
        let mut responses = std::collections::BTreeMap::new();
        responses.insert("USERNAME".to_owned(), username.to_owned());
        responses.insert("CREDENTIAL".to_owned(), assertion.to_string());
        let response: AuthResponse = self
            .call(
                "RespondToAuthChallenge",
                &RespondToAuthChallengeRequest {
                    client_id: self.client_id.clone(),
                    challenge_name: "WEB_AUTHN".to_owned(),
                    session: challenge.session,
                    challenge_responses: responses,
                    client_metadata: Default::default(),
                    user_pool_id: None,
                },
            )
            .await?;
        if response.challenge_name.as_deref() == Some("WEB_AUTHN") {
            return Err(AuthError::new(
                names::SIGN_IN_STATE,
                "Sequential WEB_AUTHN challenges returned from underlying service cannot be handled.",
            ));
        }
        Ok(response)
    }
}
