//! # cognate-web
//!
//! Cognate's browser SDK (npm `cognate-web`): sign-up, sign-in and session management against a
//! Cognito-compatible user pool, with the API shape of Amplify Auth v6. Built from Rust with
//! wasm-bindgen; the JSON it sends and reads is `cognate_core::api::wire`, the same types the
//! server uses. Signatures are checked with WebCrypto, so no crypto code ships in the module.
//!
//! Every exported function returns a promise; failures reject with an `Error` whose `name` is
//! Cognito's exception name (`NotAuthorizedException`, `UsernameExistsException`, ...).

mod auth;
mod error;
mod identity_pool;
mod js;
mod jwt;
mod oauth;
mod passkey;
mod storage;

use std::cell::RefCell;
use std::rc::Rc;

use serde_json::Value;
use wasm_bindgen::prelude::*;

pub use auth::Auth;
pub use error::AuthError;

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &'static str = include_str!("types.d.ts");

thread_local! {
    /// The client `configure` set up (a page has one, as with Amplify).
    static CURRENT: RefCell<Option<Rc<Auth>>> = const { RefCell::new(None) };
}

fn current() -> Result<Rc<Auth>, JsValue> {
    CURRENT.with(|c| c.borrow().clone()).ok_or_else(|| {
        AuthError::new(
            error::names::CONFIG,
            "Auth UserPool not configured: call configure first.",
        )
        .into()
    })
}

/// A JWT as Amplify presents it: `toString()` gives the compact token, `payload` its claims.
#[wasm_bindgen]
#[derive(Debug)]
pub struct JWT {
    raw: String,
    payload: JsValue,
}

impl JWT {
    fn new(raw: String, decoded: &jwt::Jwt) -> Self {
        Self {
            raw,
            payload: js::to_value(&Value::Object(decoded.claims.clone())),
        }
    }
}

#[wasm_bindgen]
impl JWT {
    #[wasm_bindgen(js_name = toString)]
    #[allow(clippy::inherent_to_string)]
    pub fn to_string(&self) -> String {
        self.raw.clone()
    }

    #[wasm_bindgen(getter)]
    pub fn payload(&self) -> JsValue {
        self.payload.clone()
    }
}

/// `configure({ endpoint, userPoolId, userPoolClientId, storage?, oauth?, fetch?, issuer?,
/// tokenRefreshMarginSeconds?, identityPoolId?, identityPoolEndpoint?, allowGuestAccess? })`.
#[wasm_bindgen]
pub fn configure(
    #[wasm_bindgen(unchecked_param_type = "AuthConfig")] config: JsValue,
) -> Result<(), JsValue> {
    let auth = Auth::configure(&config)?;
    CURRENT.with(|c| c.replace(Some(auth)));
    Ok(())
}

macro_rules! export {
    ($js:literal, $name:ident, $method:ident, input: $input:literal => $output:literal) => {
        #[wasm_bindgen(js_name = $js, unchecked_return_type = $output)]
        pub async fn $name(
            #[wasm_bindgen(unchecked_param_type = $input)] input: JsValue,
        ) -> Result<JsValue, JsValue> {
            Ok(current()?.$method(&input).await?)
        }
    };
    ($js:literal, $name:ident, $method:ident, optional: $input:literal => $output:literal) => {
        #[wasm_bindgen(js_name = $js, unchecked_return_type = $output)]
        pub async fn $name(
            #[wasm_bindgen(unchecked_param_type = $input)] input: Option<JsValue>,
        ) -> Result<JsValue, JsValue> {
            Ok(current()?
                .$method(&input.unwrap_or(JsValue::UNDEFINED))
                .await?)
        }
    };
    ($js:literal, $name:ident, $method:ident, => $output:literal) => {
        #[wasm_bindgen(js_name = $js, unchecked_return_type = $output)]
        pub async fn $name() -> Result<JsValue, JsValue> {
            Ok(current()?.$method().await?)
        }
    };
}

export!("signUp", sign_up, sign_up, input: "SignUpInput" => "SignUpOutput");
export!("confirmSignUp", confirm_sign_up, confirm_sign_up, input: "ConfirmSignUpInput" => "SignUpOutput");
export!("resendSignUpCode", resend_sign_up_code, resend_sign_up_code, input: "UsernameInput" => "CodeDeliveryDetails");
export!("signIn", sign_in, sign_in, input: "SignInInput" => "SignInOutput");
export!("confirmSignIn", confirm_sign_in, confirm_sign_in, input: "ConfirmSignInInput" => "SignInOutput");
export!("signOut", sign_out, sign_out, optional: "SignOutInput | void" => "undefined");
export!("getCurrentUser", get_current_user, get_current_user, => "AuthUser");
export!("fetchAuthSession", fetch_auth_session, fetch_auth_session, optional: "FetchAuthSessionInput | void" => "AuthSession");
export!("fetchUserAttributes", fetch_user_attributes, fetch_user_attributes, => "UserAttributes");
export!("updateUserAttributes", update_user_attributes, update_user_attributes, input: "UpdateUserAttributesInput" => "UpdateUserAttributesOutput");
export!("confirmUserAttribute", confirm_user_attribute, confirm_user_attribute, input: "ConfirmUserAttributeInput" => "undefined");
export!("resetPassword", reset_password, reset_password, input: "UsernameInput" => "ResetPasswordOutput");
export!("confirmResetPassword", confirm_reset_password, confirm_reset_password, input: "ConfirmResetPasswordInput" => "undefined");
export!("updatePassword", update_password, update_password, input: "UpdatePasswordInput" => "undefined");
export!("deleteUser", delete_user, delete_user, => "undefined");
export!("setUpTOTP", set_up_totp, set_up_totp, => "{ sharedSecret: string }");
export!("verifyTOTPSetup", verify_totp_setup, verify_totp_setup, input: "VerifyTOTPSetupInput" => "undefined");
export!("updateMFAPreference", update_mfa_preference, update_mfa_preference, input: "UpdateMFAPreferenceInput" => "undefined");
export!("fetchMFAPreference", fetch_mfa_preference, fetch_mfa_preference, => "FetchMFAPreferenceOutput");
export!("rememberDevice", remember_device, remember_device, => "undefined");
export!("forgetDevice", forget_device, forget_device, optional: "ForgetDeviceInput | void" => "undefined");
export!("fetchDevices", fetch_devices, fetch_devices, => "FetchDevicesOutput");
export!("signInWithRedirect", sign_in_with_redirect, sign_in_with_redirect, optional: "object | void" => "undefined");

/// `handleRedirect(url?)`: call on the page the hosted UI redirects back to.
#[wasm_bindgen(js_name = handleRedirect, unchecked_return_type = "{ isSignedIn: boolean; nextStep?: SignInNextStep }")]
pub async fn handle_redirect(url: Option<String>) -> Result<JsValue, JsValue> {
    Ok(current()?.handle_redirect(url).await?)
}

/// `associateWebAuthnCredential()`: registers a passkey for the signed-in user.
#[wasm_bindgen(js_name = associateWebAuthnCredential, unchecked_return_type = "undefined")]
pub async fn associate_web_authn_credential() -> Result<JsValue, JsValue> {
    Ok(current()?
        .web_authn("StartWebAuthnRegistration", &JsValue::UNDEFINED)
        .await?)
}

/// `listWebAuthnCredentials({pageSize?, nextToken?})`.
#[wasm_bindgen(js_name = listWebAuthnCredentials, unchecked_return_type = "ListWebAuthnCredentialsOutput")]
pub async fn list_web_authn_credentials(
    #[wasm_bindgen(unchecked_param_type = "ListWebAuthnCredentialsInput | void")] input: Option<
        JsValue,
    >,
) -> Result<JsValue, JsValue> {
    Ok(current()?
        .web_authn(
            "ListWebAuthnCredentials",
            &input.unwrap_or(JsValue::UNDEFINED),
        )
        .await?)
}

/// `deleteWebAuthnCredential({credentialId})`.
#[wasm_bindgen(js_name = deleteWebAuthnCredential, unchecked_return_type = "undefined")]
pub async fn delete_web_authn_credential(
    #[wasm_bindgen(unchecked_param_type = "DeleteWebAuthnCredentialInput")] input: JsValue,
) -> Result<JsValue, JsValue> {
    Ok(current()?
        .web_authn("DeleteWebAuthnCredential", &input)
        .await?)
}
