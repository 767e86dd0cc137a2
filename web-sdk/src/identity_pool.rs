//! Identity pools: `fetchAuthSession`'s `identityId` and `credentials`, obtained as Amplify v6
//! obtains them. GetId names the identity, GetCredentialsForIdentity (the enhanced flow) returns
//! temporary AWS credentials; a signed-in user's ID token goes in `Logins` under its issuer
//! without the scheme (`<host>/<userPoolId>`), which Cognate accepts like
//! `cognito-idp.<region>.amazonaws.com/<userPoolId>`.
//!
//! A guest's identity id is kept in storage, so a guest stays one identity across page loads and
//! that identity becomes the user's on sign-in (Cognito links the login to it). A signed-in
//! user's identity id is kept in memory only; sign-out forgets both. Credentials are cached in
//! memory until shortly before they expire, per ID token.

use std::cell::RefCell;

use serde::{Deserialize, Serialize};
use wasm_bindgen::JsValue;

use crate::error::{AuthError, Result, names};
use crate::js;
use crate::storage::TokenStore;

/// The identity-pools API's `X-Amz-Target` prefix.
const TARGET_PREFIX: &str = "AWSCognitoIdentityService.";

/// Fetch new credentials this long before the cached ones expire.
const CREDENTIALS_MARGIN_MILLIS: f64 = 5.0 * 60.0 * 1000.0;

/// `configure`'s identity-pool settings.
#[derive(Debug)]
pub struct IdentityPoolConfig {
    pool_id: String,
    /// Where the identity-pools API is served: `identityPoolEndpoint`, else `endpoint`.
    endpoint: String,
    /// `allowGuestAccess`: a visitor who is not signed in gets guest credentials.
    allow_guest: bool,
}

impl IdentityPoolConfig {
    /// From `configure`'s input: `identityPoolId`, `identityPoolEndpoint?`, `allowGuestAccess?`.
    pub fn from_input(input: &js::Input, endpoint: &str) -> Result<Option<Self>> {
        let Some(pool_id) = input.string(&["identityPoolId"]) else {
            return Ok(None);
        };
        if !pool_id.contains(':') {
            return Err(AuthError::new(
                names::CONFIG,
                "identityPoolId must look like <region>:<uuid>",
            ));
        }
        Ok(Some(Self {
            pool_id,
            endpoint: input.string(&["identityPoolEndpoint"]).map_or_else(
                || endpoint.to_owned(),
                |e| e.trim_end_matches('/').to_owned(),
            ),
            allow_guest: input.flag(&["allowGuestAccess"]),
        }))
    }
}

/// Temporary AWS credentials, as Cognito's `Credentials` member.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
struct Credentials {
    access_key_id: String,
    secret_key: String,
    session_token: String,
    /// Seconds since the epoch.
    expiration: f64,
}

/// What a fetch answers, and what is cached.
#[derive(Debug, Clone)]
pub struct AwsSession {
    identity_id: String,
    credentials: Credentials,
    /// The ID token the credentials were obtained with; `None` for a guest.
    id_token: Option<String>,
}

impl AwsSession {
    /// Sets Amplify's `identityId` and `credentials` members on `out`.
    pub fn write_to(&self, out: &js_sys::Object) {
        let c = &self.credentials;
        let credentials = js_sys::Object::new();
        js::set(
            &credentials,
            "accessKeyId",
            &c.access_key_id.as_str().into(),
        );
        js::set(
            &credentials,
            "secretAccessKey",
            &c.secret_key.as_str().into(),
        );
        js::set(
            &credentials,
            "sessionToken",
            &c.session_token.as_str().into(),
        );
        let expiration = js_sys::Date::new(&JsValue::from_f64(c.expiration * 1000.0));
        js::set(&credentials, "expiration", &expiration.into());
        js::set(out, "identityId", &self.identity_id.as_str().into());
        js::set(out, "credentials", &credentials.into());
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct GetIdRequest<'a> {
    identity_pool_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    logins: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsRequest<'a> {
    identity_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    logins: Option<&'a serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetIdResponse {
    identity_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CredentialsResponse {
    identity_id: String,
    credentials: Credentials,
}

/// One identity pool's state in this page.
#[derive(Debug)]
pub struct IdentityPool {
    config: IdentityPoolConfig,
    /// The signed-in user's identity id (memory only, as Amplify keeps it).
    primary: RefCell<Option<String>>,
    cached: RefCell<Option<AwsSession>>,
}

impl IdentityPool {
    pub fn new(config: IdentityPoolConfig) -> Self {
        Self {
            config,
            primary: RefCell::new(None),
            cached: RefCell::new(None),
        }
    }

    fn guest_key(&self) -> String {
        format!("identityId.{}", self.config.pool_id)
    }

    /// The session for the signed-in user (`id_token` and its issuer) or, when allowed, a guest.
    /// `None` when a guest asks and the configuration allows no guests.
    pub async fn session(
        &self,
        call: &Caller<'_>,
        store: &TokenStore,
        signed_in: Option<(&str, &str)>,
        force: bool,
    ) -> Result<Option<AwsSession>> {
        if signed_in.is_none() && !self.config.allow_guest {
            return Ok(None);
        }
        let id_token = signed_in.map(|(token, _)| token.to_owned());
        if let Some(cached) = self.cached.borrow().as_ref()
            && !force
            && cached.id_token == id_token
            && cached.credentials.expiration * 1000.0 - js::now_millis() > CREDENTIALS_MARGIN_MILLIS
        {
            return Ok(Some(cached.clone()));
        }
        let logins = signed_in.map(|(token, issuer)| {
            let provider = issuer.split_once("://").map_or(issuer, |(_, rest)| rest);
            let mut map = serde_json::Map::new();
            map.insert(provider.to_owned(), token.into());
            map
        });
        let stored_guest = store.get_item(&self.guest_key()).await?;
        let known = if signed_in.is_some() {
            self.primary.borrow().clone().or(stored_guest)
        } else {
            stored_guest
        };
        let identity_id = match known {
            Some(id) => id,
            None => {
                let request = GetIdRequest {
                    identity_pool_id: &self.config.pool_id,
                    logins: logins.as_ref(),
                };
                call.call::<_, GetIdResponse>("GetId", &request)
                    .await?
                    .identity_id
            }
        };
        let request = CredentialsRequest {
            identity_id: &identity_id,
            logins: logins.as_ref(),
        };
        let answer: CredentialsResponse = call.call("GetCredentialsForIdentity", &request).await?;
        if signed_in.is_some() {
            self.primary.replace(Some(answer.identity_id.clone()));
            store.remove_item(&self.guest_key()).await?;
        } else {
            store
                .set_item(&self.guest_key(), &answer.identity_id)
                .await?;
        }
        let session = AwsSession {
            identity_id: answer.identity_id,
            credentials: answer.credentials,
            id_token,
        };
        self.cached.replace(Some(session.clone()));
        Ok(Some(session))
    }

    /// Sign-out: the next session is a new guest's.
    pub async fn forget(&self, store: &TokenStore) -> Result<()> {
        self.primary.replace(None);
        self.cached.replace(None);
        store.remove_item(&self.guest_key()).await
    }

    /// Where and how its calls go.
    pub fn caller<'a>(&'a self, fetch: Option<&'a js_sys::Function>) -> Caller<'a> {
        Caller {
            endpoint: &self.config.endpoint,
            fetch,
        }
    }
}

/// Makes identity-pools calls (unsigned, as Cognito allows for these operations).
pub struct Caller<'a> {
    endpoint: &'a str,
    fetch: Option<&'a js_sys::Function>,
}

impl Caller<'_> {
    async fn call<Q: Serialize, R: serde::de::DeserializeOwned>(
        &self,
        operation: &str,
        request: &Q,
    ) -> Result<R> {
        crate::auth::aws_json_call(
            self.fetch,
            self.endpoint,
            &format!("{TARGET_PREFIX}{operation}"),
            operation,
            request,
        )
        .await
    }
}
