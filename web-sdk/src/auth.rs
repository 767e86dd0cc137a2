//! One configured app client: the Cognito API calls, the sign-in state machine, the token
//! store and the one-refresh-at-a-time rule. `lib.rs` exposes it to JavaScript.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::rc::Rc;

use cognate_core::api::wire::{
    self, AccessTokenRequest, AttributeType, AuthResponse, ChangePasswordRequest,
    CodeDeliveryDetails, CodeDeliveryResponse, ConfirmForgotPasswordRequest, ConfirmSignUpRequest,
    ErrorBody, ForgotPasswordRequest, GetTokensFromRefreshTokenRequest, GetUserResponse,
    InitiateAuthRequest, ResendConfirmationCodeRequest, RespondToAuthChallengeRequest,
    RevokeTokenRequest, SignUpRequest, SignUpResponse, UpdateUserAttributesRequest,
    UpdateUserAttributesResponse, VerifyUserAttributeRequest,
};
use js_sys::{Function, Promise};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value, json};
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::{JsFuture, future_to_promise};

use crate::error::{AuthError, Result, from_js, names};
use crate::identity_pool::{IdentityPool, IdentityPoolConfig};
use crate::js;
use crate::jwt::{Expected, Jwt, KeyCache};
use crate::oauth::{self, OAuthConfig};
use crate::storage::{Backend, Device, TokenStore, Tokens};

/// Where every input keeps its trigger metadata.
const METADATA: &[&str] = &["options", "clientMetadata"];

/// Refresh this long before the access token expires, unless configured otherwise.
const DEFAULT_REFRESH_MARGIN_SECS: f64 = 60.0;

/// A configured client.
#[derive(Debug)]
pub struct Auth {
    pub(crate) endpoint: String,
    pub(crate) pool_id: String,
    pub(crate) client_id: String,
    pub(crate) issuer: String,
    refresh_margin_secs: f64,
    pub(crate) oauth: Option<OAuthConfig>,
    pub(crate) fetch: Option<Function>,
    /// The identity pool `fetchAuthSession` gets AWS credentials from, if configured.
    identity_pool: Option<IdentityPool>,
    store: TokenStore,
    keys: KeyCache,
    /// The refresh in flight, shared by every caller that needs fresh tokens meanwhile.
    refreshing: RefCell<Option<Promise>>,
    /// The challenge `confirmSignIn` answers.
    pending: RefCell<Option<Pending>>,
}

/// How a password SRP sign-in starts: InitiateAuth with this flow, or the PASSWORD_SRP answer
/// to SELECT_CHALLENGE in this session.
enum SrpStart {
    Initiate(&'static str),
    Select(Option<String>),
}

#[derive(Debug, Clone)]
struct Pending {
    username: String,
    challenge: String,
    session: Option<String>,
}

/// How each challenge is presented (Amplify's `signInStep`) and answered (its response key).
/// MFA and SRP challenges are listed so the server can start sending them without an SDK change.
const CHALLENGES: &[(&str, &str, &str)] = &[
    (
        "NEW_PASSWORD_REQUIRED",
        "CONFIRM_SIGN_IN_WITH_NEW_PASSWORD_REQUIRED",
        "NEW_PASSWORD",
    ),
    (
        "CUSTOM_CHALLENGE",
        "CONFIRM_SIGN_IN_WITH_CUSTOM_CHALLENGE",
        "ANSWER",
    ),
    ("SMS_MFA", "CONFIRM_SIGN_IN_WITH_SMS_CODE", "SMS_MFA_CODE"),
    // USER_AUTH's first factors: the choice, the one-time codes, and the password steps a
    // choice of PASSWORD or PASSWORD_SRP leads to (asked for here, answered to SELECT_CHALLENGE).
    (
        "SELECT_CHALLENGE",
        "CONTINUE_SIGN_IN_WITH_FIRST_FACTOR_SELECTION",
        "ANSWER",
    ),
    ("SMS_OTP", "CONFIRM_SIGN_IN_WITH_SMS_CODE", "SMS_OTP_CODE"),
    ("PASSWORD", "CONFIRM_SIGN_IN_WITH_PASSWORD", "PASSWORD"),
    ("PASSWORD_SRP", "CONFIRM_SIGN_IN_WITH_PASSWORD", ""),
    (
        "SOFTWARE_TOKEN_MFA",
        "CONFIRM_SIGN_IN_WITH_TOTP_CODE",
        "SOFTWARE_TOKEN_MFA_CODE",
    ),
    (
        "EMAIL_OTP",
        "CONFIRM_SIGN_IN_WITH_EMAIL_CODE",
        "EMAIL_OTP_CODE",
    ),
    (
        "SELECT_MFA_TYPE",
        "CONTINUE_SIGN_IN_WITH_MFA_SELECTION",
        "ANSWER",
    ),
    // Answered with a TOTP code: VerifySoftwareToken, then RespondToAuthChallenge (no key).
    ("MFA_SETUP", "CONTINUE_SIGN_IN_WITH_TOTP_SETUP", ""),
];

/// Amplify's MFA type names and Cognito's.
const MFA_TYPES: &[(&str, &str)] = &[
    ("SMS", "SMS_MFA"),
    ("TOTP", "SOFTWARE_TOKEN_MFA"),
    ("EMAIL", "EMAIL_OTP"),
];

fn amplify_mfa_type(cognito: &str) -> Option<&'static str> {
    MFA_TYPES
        .iter()
        .find(|(_, c)| *c == cognito)
        .map(|(a, _)| *a)
}

/// A JSON-string list of Cognito MFA names (`MFAS_CAN_CHOOSE`, `MFAS_CAN_SETUP`) as Amplify's.
fn mfa_types(parameters: &Map<String, Value>, key: &str) -> Vec<&'static str> {
    parameters
        .get(key)
        .and_then(Value::as_str)
        .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
        .unwrap_or_default()
        .iter()
        .filter_map(|c| amplify_mfa_type(c))
        .collect()
}

fn challenge_entry(name: &str) -> Result<&'static (&'static str, &'static str, &'static str)> {
    CHALLENGES
        .iter()
        .find(|(n, _, _)| *n == name)
        .ok_or_else(|| {
            AuthError::new(
                names::SIGN_IN_STATE,
                format!(
                    "the server asked for the {name} challenge, which this SDK does not answer yet"
                ),
            )
        })
}

/// Amplify's `codeDeliveryDetails`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Delivery {
    destination: String,
    delivery_medium: String,
    attribute_name: String,
}

fn delivery(details: Option<CodeDeliveryDetails>) -> Option<Delivery> {
    details.map(|d| Delivery {
        destination: d.destination,
        delivery_medium: d.delivery_medium,
        attribute_name: d.attribute_name,
    })
}

fn attributes(map: BTreeMap<String, String>) -> Vec<AttributeType> {
    map.into_iter()
        .map(|(name, value)| AttributeType {
            name,
            value: Some(value),
        })
        .collect()
}

fn unauthenticated() -> AuthError {
    AuthError::new(
        names::UNAUTHENTICATED,
        "User needs to be authenticated to call this API.",
    )
}

impl Auth {
    /// From `configure`'s argument.
    pub fn configure(config: &JsValue) -> Result<Rc<Self>> {
        let input = js::Input::new(config, "configure")?;
        let text = |name| input.string(&[name]).unwrap_or_default();
        let (endpoint, user_pool_id, client_id) = (
            text("endpoint"),
            text("userPoolId"),
            text("userPoolClientId"),
        );
        if endpoint.is_empty() || user_pool_id.is_empty() || client_id.is_empty() {
            return Err(AuthError::new(
                names::CONFIG,
                "endpoint, userPoolId and userPoolClientId are required",
            ));
        }
        let endpoint = endpoint.trim_end_matches('/').to_owned();
        let backend = Backend::from_option(&js::get(config, "storage"))?;
        let fetch = js::get(config, "fetch").dyn_into::<Function>().ok();
        let oauth = OAuthConfig::from_input(&input, &js::get(config, "oauth"))?;
        let identity_pool =
            IdentityPoolConfig::from_input(&input, &endpoint)?.map(IdentityPool::new);
        Ok(Rc::new(Self {
            identity_pool,
            issuer: input
                .string(&["issuer"])
                .unwrap_or_else(|| format!("{endpoint}/{user_pool_id}")),
            store: TokenStore::new(backend, &client_id),
            refresh_margin_secs: input
                .number(&["tokenRefreshMarginSeconds"])
                .unwrap_or(DEFAULT_REFRESH_MARGIN_SECS),
            endpoint,
            pool_id: user_pool_id,
            client_id,
            oauth,
            fetch,
            keys: KeyCache::default(),
            refreshing: RefCell::new(None),
            pending: RefCell::new(None),
        }))
    }

    /// One user-pools call; errors carry Cognito's `__type` and message.
    pub(crate) async fn call<Q: Serialize, R: DeserializeOwned>(
        &self,
        operation: &str,
        request: &Q,
    ) -> Result<R> {
        aws_json_call(
            self.fetch.as_ref(),
            &self.endpoint,
            &wire::target(operation),
            operation,
            request,
        )
        .await
    }

    pub(crate) fn jwks_url(&self) -> String {
        format!("{}/{}/.well-known/jwks.json", self.endpoint, self.pool_id)
    }

    /// Verifies the ID token (if any) and stores what the server issued.
    pub(crate) async fn accept_tokens(&self, tokens: Tokens, nonce: Option<&str>) -> Result<()> {
        if let Some(id_token) = &tokens.id_token {
            let expected = Expected {
                issuer: &self.issuer,
                client_id: &self.client_id,
                nonce,
            };
            self.keys
                .verify_id_token(self.fetch.as_ref(), &self.jwks_url(), id_token, &expected)
                .await?;
        }
        self.store.save(&tokens).await
    }

    // -- sign-up --------------------------------------------------------------------------------

    pub async fn sign_up(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "signUp")?;
        let response: SignUpResponse = self
            .call(
                "SignUp",
                &SignUpRequest {
                    client_id: self.client_id.clone(),
                    username: input.required("username")?,
                    password: input.required("password")?,
                    user_attributes: attributes(input.strings(&["options", "userAttributes"])),
                    validation_data: attributes(input.strings(&["options", "validationData"])),
                    client_metadata: input.strings(METADATA),
                    ..Default::default()
                },
            )
            .await?;
        let next = if response.user_confirmed {
            json!({"signUpStep": "DONE"})
        } else {
            json!({
                "signUpStep": "CONFIRM_SIGN_UP",
                "codeDeliveryDetails": delivery(response.code_delivery_details),
            })
        };
        Ok(js::to_value(&json!({
            "isSignUpComplete": response.user_confirmed,
            "userId": response.user_sub,
            "nextStep": next,
        })))
    }

    pub async fn confirm_sign_up(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "confirmSignUp")?;
        let _: Value = self
            .call(
                "ConfirmSignUp",
                &ConfirmSignUpRequest {
                    client_id: self.client_id.clone(),
                    username: input.required("username")?,
                    confirmation_code: input.required("confirmationCode")?,
                    client_metadata: input.strings(METADATA),
                    ..Default::default()
                },
            )
            .await?;
        Ok(js::to_value(
            &json!({"isSignUpComplete": true, "nextStep": {"signUpStep": "DONE"}}),
        ))
    }

    pub async fn resend_sign_up_code(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "resendSignUpCode")?;
        let response: CodeDeliveryResponse = self
            .call(
                "ResendConfirmationCode",
                &ResendConfirmationCodeRequest {
                    client_id: self.client_id.clone(),
                    username: input.required("username")?,
                    secret_hash: None,
                },
            )
            .await?;
        Ok(js::to_value(&delivery(response.code_delivery_details)))
    }

    // -- sign-in --------------------------------------------------------------------------------

    pub async fn sign_in(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "signIn")?;
        let username = input.required("username")?;
        if self.store.load().await?.is_some() {
            return Err(AuthError::new(
                "UserAlreadyAuthenticatedException",
                "There is already a signed in user.",
            ));
        }
        // Amplify v6's default: USER_SRP_AUTH (the password never leaves the browser).
        let flow = input
            .string(&["options", "authFlowType"])
            .unwrap_or_else(|| "USER_SRP_AUTH".to_owned());
        let password = || {
            input.string(&["password"]).ok_or_else(|| {
                AuthError::new(names::VALIDATION, "password is required for this flow")
            })
        };
        // USER_AUTH: the server offers the first factors (SELECT_CHALLENGE) or starts the
        // preferred one; PASSWORD and PASSWORD_SRP need the password now (as in Amplify).
        let preferred = input.string(&["options", "preferredChallenge"]);
        if flow == "USER_SRP_AUTH"
            || (flow == "USER_AUTH" && preferred.as_deref() == Some("PASSWORD_SRP"))
        {
            return self
                .srp_sign_in(
                    &username,
                    &password()?,
                    input.strings(METADATA),
                    SrpStart::Initiate(if flow == "USER_AUTH" {
                        "USER_AUTH"
                    } else {
                        "USER_SRP_AUTH"
                    }),
                )
                .await;
        }
        let mut parameters = BTreeMap::new();
        parameters.insert("USERNAME".to_owned(), username.clone());
        if let Some(device) = self.store.device(&username).await? {
            parameters.insert("DEVICE_KEY".to_owned(), device.key);
        }
        let wire_flow = match flow.as_str() {
            "USER_AUTH" => {
                if let Some(preferred) = preferred {
                    if preferred == "PASSWORD" {
                        parameters.insert("PASSWORD".to_owned(), password()?);
                    }
                    parameters.insert("PREFERRED_CHALLENGE".to_owned(), preferred);
                }
                "USER_AUTH"
            }
            "USER_PASSWORD_AUTH" | "CUSTOM_WITH_PASSWORD" => {
                parameters.insert("PASSWORD".to_owned(), password()?);
                if flow == "USER_PASSWORD_AUTH" {
                    "USER_PASSWORD_AUTH"
                } else {
                    "CUSTOM_AUTH"
                }
            }
            "CUSTOM_WITHOUT_SRP" => "CUSTOM_AUTH",
            other => {
                return Err(AuthError::new(
                    names::VALIDATION,
                    format!("authFlowType {other} is not supported yet"),
                ));
            }
        };
        let response: AuthResponse = self
            .call(
                "InitiateAuth",
                &InitiateAuthRequest {
                    client_id: self.client_id.clone(),
                    auth_flow: wire_flow.to_owned(),
                    auth_parameters: parameters,
                    client_metadata: input.strings(METADATA),
                    user_pool_id: None,
                },
            )
            .await?;
        self.next_step(&username, response).await
    }

    /// Password SRP: USER_SRP_AUTH, USER_AUTH with PREFERRED_CHALLENGE PASSWORD_SRP, or the
    /// PASSWORD_SRP answer to SELECT_CHALLENGE, each with SRP_A; then the PASSWORD_VERIFIER
    /// answer computed with the core's `srp` module (Cognito's SRP, as
    /// amazon-cognito-identity-js computes it). One function for the three, so the module
    /// carries the verifier step once.
    async fn srp_sign_in(
        &self,
        username: &str,
        password: &str,
        metadata: BTreeMap<String, String>,
        start: SrpStart,
    ) -> Result<JsValue> {
        use cognate_core::srp;
        let failed = |e: srp::SrpError| {
            AuthError::new(
                names::NETWORK,
                format!("SRP: the server's values are unusable ({e:?})"),
            )
        };
        let a = js::random_bytes(32)?;
        let device = self.store.device(username).await?;
        let mut parameters = BTreeMap::new();
        parameters.insert("USERNAME".to_owned(), username.to_owned());
        parameters.insert("SRP_A".to_owned(), srp::client_public(&a).map_err(failed)?);
        if let Some(device) = &device {
            parameters.insert("DEVICE_KEY".to_owned(), device.key.clone());
        }
        let challenge: AuthResponse = match start {
            SrpStart::Select(session) => {
                parameters.insert("ANSWER".to_owned(), "PASSWORD_SRP".to_owned());
                self.call(
                    "RespondToAuthChallenge",
                    &RespondToAuthChallengeRequest {
                        client_id: self.client_id.clone(),
                        challenge_name: "SELECT_CHALLENGE".to_owned(),
                        session,
                        challenge_responses: parameters,
                        client_metadata: metadata.clone(),
                        user_pool_id: None,
                    },
                )
                .await?
            }
            SrpStart::Initiate(flow) => {
                if flow == "USER_AUTH" {
                    parameters.insert("PREFERRED_CHALLENGE".to_owned(), "PASSWORD_SRP".to_owned());
                }
                self.call(
                    "InitiateAuth",
                    &InitiateAuthRequest {
                        client_id: self.client_id.clone(),
                        auth_flow: flow.to_owned(),
                        auth_parameters: parameters,
                        client_metadata: metadata.clone(),
                        user_pool_id: None,
                    },
                )
                .await?
            }
        };
        if challenge.challenge_name.as_deref() != Some("PASSWORD_VERIFIER") {
            return self.next_step(username, challenge).await;
        }
        let p = |name: &str| {
            challenge
                .challenge_parameters
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    AuthError::new(names::NETWORK, format!("PASSWORD_VERIFIER without {name}"))
                })
        };
        let user_id = p("USER_ID_FOR_SRP")?;
        let block_b64 = p("SECRET_BLOCK")?;
        let pool_name = srp::pool_name(&self.pool_id).to_owned();
        let key = srp::client_key(
            &a,
            &p("SRP_B")?,
            &p("SALT")?,
            &pool_name,
            &user_id,
            password,
        )
        .map_err(failed)?;
        let timestamp = srp::format_timestamp((js_sys::Date::now() / 1000.0) as i64)
            .ok_or_else(|| AuthError::new(names::VALIDATION, "the clock is out of range"))?;
        let block = cognate_core::codec::b64_decode(&block_b64)
            .ok_or_else(|| AuthError::new(names::NETWORK, "SECRET_BLOCK is not base64"))?;
        let signature = srp::signature(&key, &pool_name, &user_id, &block, &timestamp);
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME".to_owned(), p("USERNAME").unwrap_or(user_id));
        responses.insert("PASSWORD_CLAIM_SECRET_BLOCK".to_owned(), block_b64);
        responses.insert("TIMESTAMP".to_owned(), timestamp);
        responses.insert(
            "PASSWORD_CLAIM_SIGNATURE".to_owned(),
            cognate_core::codec::b64(&signature),
        );
        if let Some(device) = device {
            responses.insert("DEVICE_KEY".to_owned(), device.key);
        }
        let response: AuthResponse = self
            .call(
                "RespondToAuthChallenge",
                &RespondToAuthChallengeRequest {
                    client_id: self.client_id.clone(),
                    challenge_name: "PASSWORD_VERIFIER".to_owned(),
                    session: challenge.session.clone(),
                    challenge_responses: responses,
                    client_metadata: metadata,
                    user_pool_id: None,
                },
            )
            .await?;
        self.next_step(username, response).await
    }

    pub async fn confirm_sign_in(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "confirmSignIn")?;
        let pending = self.pending.borrow().clone().ok_or_else(|| {
            AuthError::new(
                names::SIGN_IN_STATE,
                "there is no sign-in waiting for an answer",
            )
        })?;
        let (_, _, answer_key) = challenge_entry(&pending.challenge)?;
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME".to_owned(), pending.username.clone());
        let mut session = pending.session.clone();
        let answer = input.required("challengeResponse")?;
        // The challenge sent to the server: a password step answers SELECT_CHALLENGE.
        let mut challenge_name = pending.challenge.clone();
        match pending.challenge.as_str() {
            // A password factor: ask for the password first (no call yet), as Amplify does.
            "SELECT_CHALLENGE" if answer == "PASSWORD" || answer == "PASSWORD_SRP" => {
                self.pending.replace(Some(Pending {
                    challenge: answer,
                    ..pending
                }));
                return Ok(js::to_value(&json!({"isSignedIn": false,
                    "nextStep": {"signInStep": "CONFIRM_SIGN_IN_WITH_PASSWORD"}})));
            }
            "PASSWORD_SRP" => {
                return self
                    .srp_sign_in(
                        &pending.username,
                        &answer,
                        input.strings(METADATA),
                        SrpStart::Select(session),
                    )
                    .await;
            }
            "PASSWORD" => {
                challenge_name = "SELECT_CHALLENGE".to_owned();
                responses.insert("ANSWER".to_owned(), "PASSWORD".to_owned());
                responses.insert("PASSWORD".to_owned(), answer);
            }
            // The code from the authenticator: verify the token, then answer MFA_SETUP with
            // the session VerifySoftwareToken returns.
            "MFA_SETUP" => {
                let verified: Value = self
                    .call(
                        "VerifySoftwareToken",
                        &json!({"Session": session, "UserCode": answer,
                                "FriendlyDeviceName": input.string(&["options", "friendlyDeviceName"])}),
                    )
                    .await?;
                session = verified
                    .get("Session")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
            }
            "SELECT_MFA_TYPE" => {
                let cognito = MFA_TYPES
                    .iter()
                    .find(|(a, _)| *a == answer)
                    .map(|(_, c)| *c)
                    .ok_or_else(|| {
                        AuthError::new(
                            names::VALIDATION,
                            "challengeResponse must be SMS, TOTP or EMAIL",
                        )
                    })?;
                responses.insert("ANSWER".to_owned(), cognito.to_owned());
            }
            _ => {
                responses.insert((*answer_key).to_owned(), answer);
            }
        }
        for (name, value) in input.strings(&["options", "userAttributes"]) {
            responses.insert(format!("userAttributes.{name}"), value);
        }
        if let Some(device) = self.store.device(&pending.username).await? {
            responses.insert("DEVICE_KEY".to_owned(), device.key);
        }
        let response: AuthResponse = self
            .call(
                "RespondToAuthChallenge",
                &RespondToAuthChallengeRequest {
                    client_id: self.client_id.clone(),
                    challenge_name,
                    session,
                    challenge_responses: responses,
                    client_metadata: input.strings(METADATA),
                    user_pool_id: None,
                },
            )
            .await?;
        self.next_step(&pending.username, response).await
    }

    /// Tokens: signed in. A challenge: remembered for `confirmSignIn`, shown as `nextStep`.
    async fn next_step(&self, username: &str, mut response: AuthResponse) -> Result<JsValue> {
        // A passkey answers at once: navigator.credentials.get (as Amplify does).
        if response.challenge_name.as_deref() == Some("WEB_AUTHN") {
            let name = response
                .challenge_parameters
                .get("USERNAME")
                .and_then(Value::as_str)
                .unwrap_or(username)
                .to_owned();
            response = self.answer_web_authn(&name, response).await?;
        }
        // A remembered device proves itself without the user (as Amplify does).
        if response.challenge_name.as_deref() == Some("DEVICE_SRP_AUTH") {
            response = self.prove_device(username, response).await?;
        }
        if let Some(result) = response.authentication_result {
            self.pending.replace(None);
            let access_token = result.access_token.clone();
            self.accept_tokens(
                Tokens {
                    access_token: result.access_token,
                    id_token: result.id_token,
                    refresh_token: result.refresh_token,
                },
                None,
            )
            .await?;
            // A pool that tracks devices offered this browser a device key: confirm it, as
            // Amplify does, so later sign-ins can prove the device.
            if let Some(offered) = result.new_device_metadata {
                self.confirm_new_device(&access_token, offered).await?;
            }
            return Ok(js::to_value(
                &json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}}),
            ));
        }
        let challenge = response.challenge_name.ok_or_else(|| {
            AuthError::new(
                names::NETWORK,
                "the server answered neither tokens nor a challenge",
            )
        })?;
        let (_, step, _) = challenge_entry(&challenge)?;
        let parameters = response.challenge_parameters;
        // The server's name for the user (an alias may have been used to sign in).
        let username = parameters
            .get("USERNAME")
            .or_else(|| parameters.get("USER_ID_FOR_SRP"))
            .and_then(Value::as_str)
            .unwrap_or(username)
            .to_owned();
        let mut session = response.session;
        let mut next = Map::new();
        next.insert("signInStep".into(), (*step).into());
        match challenge.as_str() {
            // Software tokens only: the secret comes now (AssociateSoftwareToken with the
            // session), as Amplify does.
            "MFA_SETUP" => {
                if !mfa_types(&parameters, "MFAS_CAN_SETUP").contains(&"TOTP") {
                    return Err(AuthError::new(
                        names::SIGN_IN_STATE,
                        "the server asks to set up an MFA method this SDK cannot set up",
                    ));
                }
                let associated: Value = self
                    .call("AssociateSoftwareToken", &json!({ "Session": session }))
                    .await?;
                session = associated
                    .get("Session")
                    .and_then(Value::as_str)
                    .map(str::to_owned);
                let secret = associated
                    .get("SecretCode")
                    .and_then(Value::as_str)
                    .unwrap_or_default();
                next.insert("totpSetupDetails".into(), json!({ "sharedSecret": secret }));
            }
            "SELECT_MFA_TYPE" => {
                next.insert(
                    "allowedMFATypes".into(),
                    json!(mfa_types(&parameters, "MFAS_CAN_CHOOSE")),
                );
            }
            "SMS_MFA" | "SMS_OTP" | "EMAIL_OTP" => {
                let text = |k: &str| {
                    parameters
                        .get(k)
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                };
                next.insert(
                    "codeDeliveryDetails".into(),
                    json!({
                        "deliveryMedium": text("CODE_DELIVERY_DELIVERY_MEDIUM"),
                        "destination": text("CODE_DELIVERY_DESTINATION"),
                    }),
                );
            }
            _ => {}
        }
        self.pending.replace(Some(Pending {
            username,
            challenge: challenge.clone(),
            session,
        }));
        match challenge.as_str() {
            "NEW_PASSWORD_REQUIRED" => {
                // `requiredAttributes` is a JSON string: ["userAttributes.given_name", ...].
                let missing: Vec<String> = parameters
                    .get("requiredAttributes")
                    .and_then(Value::as_str)
                    .and_then(|s| serde_json::from_str::<Vec<String>>(s).ok())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| a.trim_start_matches("userAttributes.").to_owned())
                    .collect();
                next.insert("missingAttributes".into(), json!(missing));
            }
            "SELECT_CHALLENGE" => {
                next.insert(
                    "availableChallenges".into(),
                    json!(response.available_challenges.unwrap_or_default()),
                );
            }
            _ => {
                let info: Map<String, Value> = parameters
                    .into_iter()
                    .filter(|(k, _)| k != "USERNAME" && k != "USER_ID_FOR_SRP")
                    .map(|(k, v)| match v {
                        Value::String(_) => (k, v),
                        other => (k, Value::String(other.to_string())),
                    })
                    .collect();
                next.insert("additionalInfo".into(), Value::Object(info));
            }
        }
        Ok(js::to_value(
            &json!({"isSignedIn": false, "nextStep": next}),
        ))
    }

    // -- session --------------------------------------------------------------------------------

    /// The stored tokens, refreshed first if the access token expires within the margin (or
    /// `force`). Concurrent callers share one refresh.
    pub async fn tokens(self: &Rc<Self>, force: bool) -> Result<Option<Tokens>> {
        let Some(tokens) = self.store.load().await? else {
            return Ok(None);
        };
        if !force && !self.expiring(&tokens) {
            return Ok(Some(tokens));
        }
        let in_flight = self.refreshing.borrow().clone();
        let promise = match in_flight {
            Some(promise) => promise,
            None => {
                let this = Rc::clone(self);
                let promise = future_to_promise(async move {
                    let outcome = this.refresh(force).await;
                    this.refreshing.replace(None);
                    outcome.map(|()| JsValue::UNDEFINED).map_err(JsValue::from)
                });
                self.refreshing.replace(Some(promise.clone()));
                promise
            }
        };
        JsFuture::from(promise)
            .await
            .map_err(|e| from_js(names::NETWORK, e))?;
        self.store.load().await
    }

    fn expiring(&self, tokens: &Tokens) -> bool {
        let exp = Jwt::decode(&tokens.access_token).map_or(0.0, |jwt| jwt.exp());
        exp - js::now_millis() / 1000.0 <= self.refresh_margin_secs
    }

    /// Exchanges the refresh token. Reads the tokens again first: a caller that looked before
    /// another refresh finished must not spend the refresh token twice.
    async fn refresh(&self, force: bool) -> Result<()> {
        let tokens = self.store.load().await?.ok_or_else(unauthenticated)?;
        if !force && !self.expiring(&tokens) {
            return Ok(());
        }
        let refresh_token = tokens.refresh_token.clone().ok_or_else(unauthenticated)?;
        let response: std::result::Result<AuthResponse, AuthError> = self
            .call(
                "GetTokensFromRefreshToken",
                &GetTokensFromRefreshTokenRequest {
                    refresh_token: refresh_token.clone(),
                    client_id: self.client_id.clone(),
                    client_secret: None,
                    device_key: None,
                },
            )
            .await;
        let result = match response {
            Ok(AuthResponse {
                authentication_result: Some(result),
                ..
            }) => result,
            Ok(_) => {
                return Err(AuthError::new(
                    names::NETWORK,
                    "the refresh answered no tokens",
                ));
            }
            Err(error) => {
                // A revoked or expired refresh token ends the session.
                if error.name == "NotAuthorizedException" {
                    self.store.clear().await?;
                }
                return Err(error);
            }
        };
        self.accept_tokens(
            Tokens {
                access_token: result.access_token,
                id_token: result.id_token.or(tokens.id_token),
                // Without rotation the server sends no new refresh token: keep the old one.
                refresh_token: result.refresh_token.or(Some(refresh_token)),
            },
            None,
        )
        .await
    }

    pub async fn fetch_auth_session(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "fetchAuthSession")?;
        let force = input.flag(&["forceRefresh"]);
        let Some(tokens) = self.tokens(force).await? else {
            let out = js_sys::Object::new();
            if let Some(pool) = &self.identity_pool
                && let Some(session) = pool
                    .session(&pool.caller(self.fetch.as_ref()), &self.store, None, force)
                    .await?
            {
                session.write_to(&out);
            }
            return Ok(out.into());
        };
        let access = Jwt::decode(&tokens.access_token)?;
        let out = js_sys::Object::new();
        if let Some(pool) = &self.identity_pool
            && let Some(id_token) = &tokens.id_token
            && let Some(session) = pool
                .session(
                    &pool.caller(self.fetch.as_ref()),
                    &self.store,
                    Some((id_token, &self.issuer)),
                    force,
                )
                .await?
        {
            session.write_to(&out);
        }
        let token_object = js_sys::Object::new();
        js::set(
            &token_object,
            "accessToken",
            &crate::JWT::new(tokens.access_token.clone(), &access).into(),
        );
        if let Some(id_token) = &tokens.id_token {
            let id = Jwt::decode(id_token)?;
            js::set(
                &token_object,
                "idToken",
                &crate::JWT::new(id_token.clone(), &id).into(),
            );
        }
        js::set(&out, "tokens", &token_object);
        if let Some(sub) = access.claim_str("sub") {
            js::set(&out, "userSub", &sub.into());
        }
        Ok(out.into())
    }

    /// A valid access token, or `UserUnAuthenticatedException`.
    pub(crate) async fn access_token(self: &Rc<Self>) -> Result<String> {
        Ok(self
            .tokens(false)
            .await?
            .ok_or_else(unauthenticated)?
            .access_token)
    }

    pub async fn get_current_user(self: &Rc<Self>) -> Result<JsValue> {
        let tokens = self.store.load().await?.ok_or_else(unauthenticated)?;
        let access = Jwt::decode(&tokens.access_token)?;
        Ok(js::to_value(&json!({
            "username": access.claim_str("username"),
            "userId": access.claim_str("sub"),
        })))
    }

    pub async fn sign_out(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let global = js::Input::new(input, "signOut")?.flag(&["global"]);
        // Signed in or a guest, the next AWS session is a new guest's (as Amplify does).
        if let Some(pool) = &self.identity_pool {
            pool.forget(&self.store).await?;
        }
        let Some(tokens) = self.store.load().await? else {
            return Ok(JsValue::UNDEFINED);
        };
        self.pending.replace(None);
        let outcome = if global {
            self.call::<_, Value>(
                "GlobalSignOut",
                &AccessTokenRequest {
                    access_token: tokens.access_token.clone(),
                },
            )
            .await
            .map(drop)
        } else if let Some(refresh_token) = tokens.refresh_token.clone() {
            self.call::<_, Value>(
                "RevokeToken",
                &RevokeTokenRequest {
                    token: refresh_token,
                    client_id: self.client_id.clone(),
                    client_secret: None,
                },
            )
            .await
            .map(drop)
        } else {
            Ok(())
        };
        // The local session ends even if the server could not be told (Amplify does the same);
        // an expired session is already over on the server.
        self.store.clear().await?;
        match outcome {
            Err(error) if error.name != "NotAuthorizedException" => Err(error),
            _ => Ok(JsValue::UNDEFINED),
        }
    }

    // -- the signed-in user ---------------------------------------------------------------------

    pub async fn fetch_user_attributes(self: &Rc<Self>) -> Result<JsValue> {
        let access_token = self.access_token().await?;
        let response: GetUserResponse = self
            .call("GetUser", &AccessTokenRequest { access_token })
            .await?;
        let map: BTreeMap<String, String> = response
            .user_attributes
            .into_iter()
            .filter_map(|a| a.value.map(|v| (a.name, v)))
            .collect();
        Ok(js::to_value(&map))
    }

    pub async fn update_user_attributes(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "updateUserAttributes")?;
        let wanted = input.strings(&["userAttributes"]);
        let access_token = self.access_token().await?;
        let names_sent: Vec<String> = wanted.keys().cloned().collect();
        let response: UpdateUserAttributesResponse = self
            .call(
                "UpdateUserAttributes",
                &UpdateUserAttributesRequest {
                    access_token,
                    user_attributes: attributes(wanted),
                },
            )
            .await?;
        let mut out = Map::new();
        for name in names_sent {
            let pending = response
                .code_delivery_details_list
                .iter()
                .find(|d| d.attribute_name == name)
                .cloned();
            let value = match pending {
                Some(details) => json!({
                    "isUpdated": false,
                    "nextStep": {
                        "updateAttributeStep": "CONFIRM_ATTRIBUTE_WITH_CODE",
                        "codeDeliveryDetails": delivery(Some(details)),
                    },
                }),
                None => json!({"isUpdated": true, "nextStep": {"updateAttributeStep": "DONE"}}),
            };
            out.insert(name, value);
        }
        Ok(js::to_value(&out))
    }

    // -- remembered devices -------------------------------------------------------------------

    /// Answers DEVICE_SRP_AUTH and DEVICE_PASSWORD_VERIFIER with the device this browser
    /// confirmed (the core's `srp`, device variant); returns the server's next answer.
    async fn prove_device(&self, username: &str, challenge: AuthResponse) -> Result<AuthResponse> {
        use cognate_core::srp;
        let failed = |e: srp::SrpError| {
            AuthError::new(
                names::NETWORK,
                format!("device SRP: the server's values are unusable ({e:?})"),
            )
        };
        let server_name = challenge
            .challenge_parameters
            .get("USERNAME")
            .and_then(Value::as_str)
            .unwrap_or(username)
            .to_owned();
        let device = match self.store.device(username).await? {
            Some(device) => device,
            None => self
                .store
                .device(&server_name)
                .await?
                .ok_or_else(|| AuthError::new(names::SIGN_IN_STATE, "no device is stored"))?,
        };
        let a = js::random_bytes(32)?;
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME".to_owned(), server_name.clone());
        responses.insert("DEVICE_KEY".to_owned(), device.key.clone());
        responses.insert("SRP_A".to_owned(), srp::client_public(&a).map_err(failed)?);
        let verifier: AuthResponse = self
            .call(
                "RespondToAuthChallenge",
                &RespondToAuthChallengeRequest {
                    client_id: self.client_id.clone(),
                    challenge_name: "DEVICE_SRP_AUTH".to_owned(),
                    session: challenge.session.clone(),
                    challenge_responses: responses,
                    client_metadata: BTreeMap::new(),
                    user_pool_id: None,
                },
            )
            .await?;
        let p = |name: &str| {
            verifier
                .challenge_parameters
                .get(name)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .ok_or_else(|| {
                    AuthError::new(
                        names::NETWORK,
                        format!("DEVICE_PASSWORD_VERIFIER without {name}"),
                    )
                })
        };
        let key = srp::client_key(
            &a,
            &p("SRP_B")?,
            &p("SALT")?,
            &device.group_key,
            &device.key,
            &device.secret,
        )
        .map_err(failed)?;
        let block_b64 = p("SECRET_BLOCK")?;
        let block = cognate_core::codec::b64_decode(&block_b64)
            .ok_or_else(|| AuthError::new(names::NETWORK, "SECRET_BLOCK is not base64"))?;
        let timestamp = srp::format_timestamp((js_sys::Date::now() / 1000.0) as i64)
            .ok_or_else(|| AuthError::new(names::VALIDATION, "the clock is out of range"))?;
        let signature = srp::signature(&key, &device.group_key, &device.key, &block, &timestamp);
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME".to_owned(), server_name);
        responses.insert("DEVICE_KEY".to_owned(), device.key.clone());
        responses.insert("PASSWORD_CLAIM_SECRET_BLOCK".to_owned(), block_b64);
        responses.insert("TIMESTAMP".to_owned(), timestamp);
        responses.insert(
            "PASSWORD_CLAIM_SIGNATURE".to_owned(),
            cognate_core::codec::b64(&signature),
        );
        self.call(
            "RespondToAuthChallenge",
            &RespondToAuthChallengeRequest {
                client_id: self.client_id.clone(),
                challenge_name: "DEVICE_PASSWORD_VERIFIER".to_owned(),
                session: verifier.session.clone(),
                challenge_responses: responses,
                client_metadata: BTreeMap::new(),
                user_pool_id: None,
            },
        )
        .await
    }

    /// ConfirmDevice for a device key the pool offered: a fresh secret only this browser keeps,
    /// and its SRP verifier for the server; stored under the signed-in user's name.
    async fn confirm_new_device(
        &self,
        access_token: &str,
        offered: cognate_core::api::wire::NewDeviceMetadata,
    ) -> Result<()> {
        let secret = cognate_core::codec::b64(&js::random_bytes(40)?);
        let salt: [u8; 16] = js::random_bytes(16)?
            .try_into()
            .map_err(|_| AuthError::new(names::CONFIG, "no randomness"))?;
        let verifier = cognate_core::srp::device_verifier(
            &offered.device_group_key,
            &offered.device_key,
            &secret,
            salt,
        );
        let bytes = |hex_text: &str| {
            hex::decode(hex_text)
                .map(|b| cognate_core::codec::b64(&b))
                .map_err(|_| AuthError::new(names::VALIDATION, "device verifier"))
        };
        let _: Value = self
            .call(
                "ConfirmDevice",
                &json!({
                    "AccessToken": access_token,
                    "DeviceKey": offered.device_key,
                    "DeviceName": "cognate-web",
                    "DeviceSecretVerifierConfig": {
                        "Salt": bytes(&verifier.salt)?,
                        "PasswordVerifier": bytes(&verifier.v)?,
                    },
                }),
            )
            .await?;
        let username = Jwt::decode(access_token)?
            .claim_str("username")
            .unwrap_or_default()
            .to_owned();
        self.store
            .save_device(
                &username,
                &Device {
                    key: offered.device_key,
                    group_key: offered.device_group_key,
                    secret,
                },
            )
            .await
    }

    /// The signed-in user's name and this browser's device for them.
    async fn current_device(self: &Rc<Self>) -> Result<(String, String, Option<Device>)> {
        let access_token = self.access_token().await?;
        let username = Jwt::decode(&access_token)?
            .claim_str("username")
            .unwrap_or_default()
            .to_owned();
        let device = self.store.device(&username).await?;
        Ok((access_token, username, device))
    }

    /// `rememberDevice()`: this browser's device is remembered (UpdateDeviceStatus).
    pub async fn remember_device(self: &Rc<Self>) -> Result<JsValue> {
        let (access_token, _, device) = self.current_device().await?;
        let device = device.ok_or_else(|| {
            AuthError::new(
                names::SIGN_IN_STATE,
                "this browser has no device to remember",
            )
        })?;
        let _: Value = self
            .call(
                "UpdateDeviceStatus",
                &json!({"AccessToken": access_token, "DeviceKey": device.key,
                        "DeviceRememberedStatus": "remembered"}),
            )
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    /// `forgetDevice({device?: {id}})`: forgets a device of the user (by default this
    /// browser's, which then forgets its keys too).
    pub async fn forget_device(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "forgetDevice")?;
        let (access_token, username, device) = self.current_device().await?;
        let own = device.as_ref().map(|d| d.key.clone());
        let key = input
            .string(&["device", "id"])
            .or_else(|| own.clone())
            .ok_or_else(|| {
                AuthError::new(names::SIGN_IN_STATE, "this browser has no device to forget")
            })?;
        let _: Value = self
            .call(
                "ForgetDevice",
                &json!({"AccessToken": access_token, "DeviceKey": key}),
            )
            .await?;
        if own.as_deref() == Some(key.as_str()) {
            self.store.forget_device(&username).await?;
        }
        Ok(JsValue::UNDEFINED)
    }

    /// `fetchDevices()`: the user's devices as Amplify v6 lists them (`id`, `name`,
    /// `attributes`, and the dates as `Date`s).
    pub async fn fetch_devices(self: &Rc<Self>) -> Result<JsValue> {
        let access_token = self.access_token().await?;
        let listed: Value = self
            .call(
                "ListDevices",
                &json!({"AccessToken": access_token, "Limit": 60}),
            )
            .await?;
        let out = js_sys::Array::new();
        for device in listed
            .get("Devices")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let attributes: Map<String, Value> = device
                .get("DeviceAttributes")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(|a| {
                    Some((
                        a.get("Name")?.as_str()?.to_owned(),
                        a.get("Value").cloned().unwrap_or(Value::Null),
                    ))
                })
                .collect();
            let entry = js_sys::Object::new();
            js::set(&entry, "id", &js::to_value(&device.get("DeviceKey")));
            js::set(
                &entry,
                "name",
                &js::to_value(&attributes.get("device_name")),
            );
            js::set(&entry, "attributes", &js::to_value(&attributes));
            for (name, field) in [
                ("createDate", "DeviceCreateDate"),
                ("lastAuthenticatedDate", "DeviceLastAuthenticatedDate"),
                ("lastModifiedDate", "DeviceLastModifiedDate"),
            ] {
                if let Some(seconds) = device.get(field).and_then(Value::as_f64) {
                    let date = js_sys::Date::new(&JsValue::from_f64(seconds * 1000.0));
                    js::set(&entry, name, &date.into());
                }
            }
            out.push(&entry);
        }
        Ok(out.into())
    }

    // -- MFA ----------------------------------------------------------------------------------

    /// `setUpTOTP()`: a new software-token secret for the signed-in user (`sharedSecret`).
    pub async fn set_up_totp(self: &Rc<Self>) -> Result<JsValue> {
        let access_token = self.access_token().await?;
        let associated: Value = self
            .call(
                "AssociateSoftwareToken",
                &json!({ "AccessToken": access_token }),
            )
            .await?;
        Ok(js::to_value(
            &json!({ "sharedSecret": associated.get("SecretCode") }),
        ))
    }

    /// `verifyTOTPSetup({code, options?: {friendlyDeviceName}})`.
    pub async fn verify_totp_setup(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "verifyTOTPSetup")?;
        let access_token = self.access_token().await?;
        let _: Value = self
            .call(
                "VerifySoftwareToken",
                &json!({"AccessToken": access_token, "UserCode": input.required("code")?,
                        "FriendlyDeviceName": input.string(&["options", "friendlyDeviceName"])}),
            )
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    /// `updateMFAPreference({sms?, totp?, email?})`, each `ENABLED`, `DISABLED`, `PREFERRED` or
    /// `NOT_PREFERRED`.
    pub async fn update_mfa_preference(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "updateMFAPreference")?;
        let access_token = self.access_token().await?;
        let mut request = Map::new();
        request.insert("AccessToken".into(), json!(access_token));
        for (key, member) in [
            ("sms", "SMSMfaSettings"),
            ("totp", "SoftwareTokenMfaSettings"),
            ("email", "EmailMfaSettings"),
        ] {
            let Some(value) = input.string(&[key]) else {
                continue;
            };
            let setting = match value.as_str() {
                "ENABLED" => json!({"Enabled": true}),
                "DISABLED" => json!({"Enabled": false}),
                "PREFERRED" => json!({"Enabled": true, "PreferredMfa": true}),
                "NOT_PREFERRED" => json!({"Enabled": true, "PreferredMfa": false}),
                other => {
                    return Err(AuthError::new(
                        names::VALIDATION,
                        format!(
                            "{key}: {other} is not ENABLED, DISABLED, PREFERRED or NOT_PREFERRED"
                        ),
                    ));
                }
            };
            request.insert(member.into(), setting);
        }
        let _: Value = self
            .call("SetUserMFAPreference", &Value::Object(request))
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    /// `fetchMFAPreference()`: `{enabled?: ['SMS'|'TOTP'|'EMAIL'], preferred?}`.
    pub async fn fetch_mfa_preference(self: &Rc<Self>) -> Result<JsValue> {
        let access_token = self.access_token().await?;
        let response: GetUserResponse = self
            .call("GetUser", &AccessTokenRequest { access_token })
            .await?;
        let mut out = Map::new();
        let enabled: Vec<&str> = response
            .user_mfa_setting_list
            .iter()
            .filter_map(|m| amplify_mfa_type(m))
            .collect();
        if !enabled.is_empty() {
            out.insert("enabled".into(), json!(enabled));
        }
        if let Some(preferred) = response
            .preferred_mfa_setting
            .as_deref()
            .and_then(amplify_mfa_type)
        {
            out.insert("preferred".into(), json!(preferred));
        }
        Ok(js::to_value(&Value::Object(out)))
    }

    pub async fn confirm_user_attribute(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "confirmUserAttribute")?;
        let access_token = self.access_token().await?;
        let _: Value = self
            .call(
                "VerifyUserAttribute",
                &VerifyUserAttributeRequest {
                    access_token,
                    attribute_name: input.required("userAttributeKey")?,
                    code: input.required("confirmationCode")?,
                },
            )
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    pub async fn reset_password(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "resetPassword")?;
        let response: CodeDeliveryResponse = self
            .call(
                "ForgotPassword",
                &ForgotPasswordRequest {
                    client_id: self.client_id.clone(),
                    username: input.required("username")?,
                    client_metadata: input.strings(METADATA),
                    secret_hash: None,
                },
            )
            .await?;
        Ok(js::to_value(&json!({
            "isPasswordReset": false,
            "nextStep": {
                "resetPasswordStep": "CONFIRM_RESET_PASSWORD_WITH_CODE",
                "codeDeliveryDetails": delivery(response.code_delivery_details),
            },
        })))
    }

    pub async fn confirm_reset_password(&self, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "confirmResetPassword")?;
        let _: Value = self
            .call(
                "ConfirmForgotPassword",
                &ConfirmForgotPasswordRequest {
                    client_id: self.client_id.clone(),
                    username: input.required("username")?,
                    confirmation_code: input.required("confirmationCode")?,
                    password: input.required("newPassword")?,
                    client_metadata: input.strings(METADATA),
                    secret_hash: None,
                },
            )
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    pub async fn update_password(self: &Rc<Self>, input: &JsValue) -> Result<JsValue> {
        let input = js::Input::new(input, "updatePassword")?;
        let access_token = self.access_token().await?;
        let _: Value = self
            .call(
                "ChangePassword",
                &ChangePasswordRequest {
                    access_token,
                    previous_password: Some(input.required("oldPassword")?),
                    proposed_password: input.required("newPassword")?,
                },
            )
            .await?;
        Ok(JsValue::UNDEFINED)
    }

    pub async fn delete_user(self: &Rc<Self>) -> Result<JsValue> {
        let access_token = self.access_token().await?;
        let _: Value = self
            .call("DeleteUser", &AccessTokenRequest { access_token })
            .await?;
        self.store.clear().await?;
        Ok(JsValue::UNDEFINED)
    }

    // -- hosted UI ------------------------------------------------------------------------------

    pub async fn sign_in_with_redirect(&self, input: &JsValue) -> Result<JsValue> {
        if self.store.load().await?.is_some() {
            return Err(AuthError::new(
                "UserAlreadyAuthenticatedException",
                "There is already a signed in user.",
            ));
        }
        oauth::start(self, input).await
    }

    pub async fn handle_redirect(&self, url: Option<String>) -> Result<JsValue> {
        oauth::finish(self, url).await
    }

    pub(crate) async fn store_tokens_from_oauth(&self, tokens: Tokens, nonce: &str) -> Result<()> {
        self.accept_tokens(tokens, Some(nonce)).await
    }
}

/// One AWS JSON 1.1 call to `endpoint` (`target` is its `X-Amz-Target`); errors carry the
/// service's `__type` and message.
pub(crate) async fn aws_json_call<Q: Serialize, R: DeserializeOwned>(
    fetch: Option<&Function>,
    endpoint: &str,
    target: &str,
    operation: &str,
    request: &Q,
) -> Result<R> {
    let body = serde_json::to_string(request)
        .map_err(|e| AuthError::new(names::VALIDATION, e.to_string()))?;
    let response = js::post(
        fetch,
        &format!("{endpoint}/"),
        &[
            ("content-type", cognate_core::api::CONTENT_TYPE),
            ("x-amz-target", target),
        ],
        &body,
    )
    .await?;
    if response.status == 200 {
        return serde_json::from_str(&response.body).map_err(|e| {
            AuthError::new(
                names::NETWORK,
                format!("{operation}: unexpected answer: {e}"),
            )
        });
    }
    Err(match serde_json::from_str::<ErrorBody>(&response.body) {
        Ok(error) if !error.kind.is_empty() => AuthError::new(error.name(), error.message.clone()),
        _ => AuthError::new(
            names::NETWORK,
            format!("{operation}: HTTP {}", response.status),
        ),
    })
}
