//! The hosted UI: authorization code grant with PKCE (S256), `state` and `nonce` checked.
//!
//! The verifier, state and nonce must outlive the navigation to the hosted UI and back, so they
//! wait in `sessionStorage` (this tab only) under `cognate.<clientId>.oauth` and are removed as
//! soon as the redirect is handled, whatever its outcome.

use base64ct::{Base64UrlUnpadded, Encoding as _};
use js_sys::Function;
use serde::{Deserialize, Serialize};
use serde_json::json;
use wasm_bindgen::{JsCast as _, JsValue};

use crate::auth::Auth;
use crate::error::{AuthError, Result, from_js, names};
use crate::js;
use crate::storage::Tokens;

/// `configure`'s `oauth` member.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// The URL the hosted UI sends the browser back to (one of the client's callback URLs).
    /// Amplify takes a list; the first entry is used.
    pub redirect_sign_in: String,
    pub scopes: Vec<String>,
    /// Where `/oauth2/authorize` and `/oauth2/token` live; the endpoint by default.
    pub domain: Option<String>,
    /// Opens the authorize URL; `location.assign` by default.
    pub url_opener: Option<Function>,
}

impl OAuthConfig {
    /// From `configure`'s input; `None` without an `oauth` member.
    pub fn from_input(input: &js::Input, oauth: &JsValue) -> Result<Option<Self>> {
        if !input.has(&["oauth"]) {
            return Ok(None);
        }
        let redirect_sign_in = input
            .first_string(&["oauth", "redirectSignIn"])
            .ok_or_else(|| AuthError::new(names::CONFIG, "oauth.redirectSignIn is required"))?;
        Ok(Some(Self {
            redirect_sign_in,
            scopes: input
                .string_list(&["oauth", "scopes"])
                .unwrap_or_else(|| vec!["openid".into(), "email".into(), "profile".into()]),
            domain: input.string(&["oauth", "domain"]),
            url_opener: js::get(oauth, "urlOpener").dyn_into::<Function>().ok(),
        }))
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Pending {
    state: String,
    verifier: String,
    nonce: String,
    redirect_uri: String,
}

#[derive(Debug, Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    id_token: Option<String>,
    #[serde(default)]
    refresh_token: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
struct OAuthErrorBody {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: Option<String>,
}

fn config(auth: &Auth) -> Result<&OAuthConfig> {
    auth.oauth
        .as_ref()
        .ok_or_else(|| AuthError::new(names::CONFIG, "configure has no oauth settings"))
}

fn base(auth: &Auth, config: &OAuthConfig) -> String {
    config
        .domain
        .as_deref()
        .unwrap_or(&auth.endpoint)
        .trim_end_matches('/')
        .to_owned()
}

fn session_storage() -> Result<web_sys::Storage> {
    js::get(&js_sys::global(), "sessionStorage")
        .dyn_into()
        .map_err(|_| AuthError::new(names::CONFIG, "sessionStorage is not available here"))
}

fn pending_key(auth: &Auth) -> String {
    format!("cognate.{}.oauth", auth.client_id)
}

fn random_token(bytes: usize) -> Result<String> {
    Ok(Base64UrlUnpadded::encode_string(&js::random_bytes(bytes)?))
}

fn encode(value: &str) -> String {
    String::from(js_sys::encode_uri_component(value))
}

/// The pool's name for Amplify's `provider` option: `'Google'`, `'Facebook'`, `'Amazon'`,
/// `'Apple'`, or `{ custom: '<ProviderName>' }` (an OIDC or SAML provider of the pool).
fn identity_provider(input: &JsValue) -> Option<String> {
    if input.is_undefined() || input.is_null() {
        return None;
    }
    let provider = js::get(input, "provider");
    if let Some(name) = provider.as_string() {
        return Some(
            match name.as_str() {
                "Amazon" => "LoginWithAmazon",
                "Apple" => "SignInWithApple",
                other => other,
            }
            .to_owned(),
        );
    }
    if provider.is_object() {
        return js::get(&provider, "custom").as_string();
    }
    None
}

/// `signInWithRedirect`: remembers a fresh verifier, state and nonce, then opens the hosted UI
/// (or, with `provider`, goes straight to that identity provider: `identity_provider=`).
pub async fn start(auth: &Auth, input: &JsValue) -> Result<JsValue> {
    let config = config(auth)?;
    let verifier = random_token(32)?;
    let challenge = Base64UrlUnpadded::encode_string(&js::sha256(verifier.as_bytes()).await?);
    let pending = Pending {
        state: random_token(16)?,
        verifier,
        nonce: random_token(16)?,
        redirect_uri: config.redirect_sign_in.clone(),
    };
    let mut url = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={}&scope={}&state={}&nonce={}&code_challenge={}&code_challenge_method=S256",
        base(auth, config),
        encode(&auth.client_id),
        encode(&pending.redirect_uri),
        encode(&config.scopes.join(" ")),
        encode(&pending.state),
        encode(&pending.nonce),
        encode(&challenge),
    );
    if let Some(provider) = identity_provider(input) {
        url.push_str("&identity_provider=");
        url.push_str(&encode(&provider));
    }
    let text = serde_json::to_string(&pending)
        .map_err(|e| AuthError::new(names::CONFIG, e.to_string()))?;
    session_storage()?
        .set_item(&pending_key(auth), &text)
        .map_err(|e| from_js(names::CONFIG, e))?;
    let url_value = JsValue::from_str(&url);
    match &config.url_opener {
        Some(opener) => {
            let opened = opener
                .call1(&JsValue::UNDEFINED, &url_value)
                .map_err(|e| from_js(names::CONFIG, e))?;
            js::settle(opened)
                .await
                .map_err(|e| from_js(names::CONFIG, e))?;
        }
        None => {
            let location = js::get(&js_sys::global(), "location");
            js::call_method(&location, "assign", &[url_value]).await?;
        }
    }
    Ok(JsValue::UNDEFINED)
}

/// The query parameters of `url`.
fn query(url: &str) -> Result<web_sys::UrlSearchParams> {
    let parsed = web_sys::Url::new(url)
        .map_err(|_| AuthError::new(names::VALIDATION, "handleRedirect: not a URL"))?;
    Ok(parsed.search_params())
}

/// `handleRedirect`: on the redirect URL, checks `state`, exchanges the code with the verifier,
/// verifies the ID token's `nonce`, stores the tokens and removes `code` and `state` from the
/// address bar. A URL without `code` or `error` is not a redirect: `{ isSignedIn: false }`.
pub async fn finish(auth: &Auth, url: Option<String>) -> Result<JsValue> {
    let current = url.is_none();
    let url = match url {
        Some(url) => url,
        None => js::get(&js::get(&js_sys::global(), "location"), "href")
            .as_string()
            .unwrap_or_default(),
    };
    let params = query(&url)?;
    let (code, error) = (params.get("code"), params.get("error"));
    if code.is_none() && error.is_none() {
        return Ok(js::to_value(&json!({"isSignedIn": false})));
    }
    let storage = session_storage()?;
    let key = pending_key(auth);
    let pending = storage
        .get_item(&key)
        .map_err(|e| from_js(names::CONFIG, e))?
        .and_then(|text| serde_json::from_str::<Pending>(&text).ok());
    // Single use, whatever happens next.
    let _ = storage.remove_item(&key);
    if current {
        strip_query();
    }
    if let Some(error) = error {
        let description = params.get("error_description").unwrap_or_default();
        return Err(AuthError::new(
            names::OAUTH,
            format!("{error}: {description}"),
        ));
    }
    let pending = pending
        .ok_or_else(|| AuthError::new(names::OAUTH, "no sign-in was started from this tab"))?;
    if params.get("state").as_deref() != Some(pending.state.as_str()) {
        return Err(AuthError::new(
            names::OAUTH,
            "state does not match the sign-in request",
        ));
    }
    let config = config(auth)?;
    let body = format!(
        "grant_type=authorization_code&client_id={}&code={}&redirect_uri={}&code_verifier={}",
        encode(&auth.client_id),
        encode(&code.unwrap_or_default()),
        encode(&pending.redirect_uri),
        encode(&pending.verifier),
    );
    let response = js::post(
        auth.fetch.as_ref(),
        &format!("{}/oauth2/token", base(auth, config)),
        &[("content-type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await?;
    if response.status != 200 {
        let error: OAuthErrorBody = serde_json::from_str(&response.body).unwrap_or_default();
        return Err(AuthError::new(
            names::OAUTH,
            format!(
                "{}: {}",
                error.error,
                error.error_description.unwrap_or_default()
            ),
        ));
    }
    let tokens: TokenResponse = serde_json::from_str(&response.body)
        .map_err(|e| AuthError::new(names::NETWORK, format!("/oauth2/token: {e}")))?;
    auth.store_tokens_from_oauth(
        Tokens {
            access_token: tokens.access_token,
            id_token: tokens.id_token,
            refresh_token: tokens.refresh_token,
        },
        &pending.nonce,
    )
    .await?;
    Ok(js::to_value(
        &json!({"isSignedIn": true, "nextStep": {"signInStep": "DONE"}}),
    ))
}

/// Removes `code`, `state` and the other grant parameters from the address bar.
fn strip_query() {
    let global = js_sys::global();
    let location = js::get(&global, "location");
    let (Some(origin), Some(path)) = (
        js::get(&location, "origin").as_string(),
        js::get(&location, "pathname").as_string(),
    ) else {
        return;
    };
    let history = js::get(&global, "history");
    if let Ok(replace) = js::get(&history, "replaceState").dyn_into::<Function>() {
        let clean = JsValue::from_str(&format!("{origin}{path}"));
        let _ = replace.call3(&history, &JsValue::NULL, &JsValue::from_str(""), &clean);
    }
}
