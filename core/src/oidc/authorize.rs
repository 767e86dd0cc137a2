//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) and authorization codes.
//!
//! The same validation runs for `/oauth2/authorize` and for every hosted-UI page that carries
//! the request along in its query string, so a page can never be made to redirect anywhere the
//! client did not register.

use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::client;
use crate::oidc::error::OAuthError;
use crate::oidc::form::{self, Params};
use crate::oidc::types::{CodeChallenge, Scopes, check_opaque};
use crate::pool::{AppClient, PoolRecord};
use crate::ports::Env;
use crate::store::Expect;
use crate::user::UserRecord;

/// How long an authorization code lives (RFC 6749 §4.1.2 recommends at most 10 minutes).
pub const CODE_LIFETIME_MILLIS: u64 = 5 * 60 * 1000;

/// OIDC `prompt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Prompt {
    /// Use a session if there is one, else show the sign-in page.
    Default,
    /// Always show the sign-in page.
    Login,
    /// Never show a page: a session, or `login_required`.
    None,
}

/// A validated authorization request.
#[derive(Debug, Clone)]
pub struct AuthRequest {
    pub pool: PoolRecord,
    pub client: AppClient,
    /// Exactly one of the client's `CallbackURLs`.
    pub redirect_uri: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub scopes: Scopes,
    pub code_challenge: Option<CodeChallenge>,
    pub prompt: Prompt,
    pub login_hint: Option<String>,
    /// The normalized query string that reproduces this request (the hosted UI's links and
    /// forms carry it).
    pub query: String,
}

/// Why an authorization request was refused, and where the refusal may go.
#[derive(Debug)]
pub enum Rejection {
    /// The client or the redirect URI cannot be trusted: show an error page, never redirect
    /// (RFC 6749 §4.1.2.1).
    Page(OAuthError),
    /// Redirect the error to the verified redirect URI.
    Redirect {
        redirect_uri: String,
        state: Option<String>,
        error: OAuthError,
    },
}

impl Rejection {
    pub fn into_response(self) -> Response {
        match self {
            Self::Page(error) => error.page(),
            Self::Redirect {
                redirect_uri,
                state,
                error,
            } => redirect(&form::append_query(
                &redirect_uri,
                &form::encode_pairs([
                    ("error", Some(error.code.as_str())),
                    ("error_description", Some(error.description.as_str())),
                    ("state", state.as_deref()),
                ]),
            )),
        }
    }
}

/// A `302 Found` to `location`, never cached.
pub fn redirect(location: &str) -> Response {
    Response::new(302)
        .with_header("location", location)
        .with_header("cache-control", "no-store")
}

/// Validates an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3, OIDC Core §3.1.2.1),
/// in the order that decides where errors may go.
pub async fn parse(ctx: &Ctx<'_>, params: &Params) -> Result<AuthRequest, Rejection> {
    let page = |e: OAuthError| Rejection::Page(e);
    let repeated_page = |r: form::Repeated| {
        page(OAuthError::invalid_request(alloc::format!(
            "The parameter {} is repeated.",
            r.0
        )))
    };
    // 1. The client: present, known, in the domain's pool. Otherwise an error page.
    let client_id = params
        .get("client_id")
        .map_err(repeated_page)?
        .ok_or_else(|| page(OAuthError::invalid_request("client_id is required.")))?;
    let (client, _) = crate::pool::load_client(ctx.env, client_id)
        .await
        .map_err(|_| page(OAuthError::invalid_request("The client does not exist.")))?;
    if ctx
        .pinned_pool
        .as_deref()
        .is_some_and(|p| p != client.user_pool_id)
    {
        return Err(page(OAuthError::invalid_request(
            "The client does not exist.",
        )));
    }
    let (pool, _) = crate::pool::load_pool(ctx.env, &client.user_pool_id)
        .await
        .map_err(|_| page(OAuthError::invalid_request("The client does not exist.")))?;
    // 2. The redirect URI: present and exactly registered (§3.1.2.3). Otherwise an error page.
    let redirect_uri = params
        .get("redirect_uri")
        .map_err(repeated_page)?
        .ok_or_else(|| page(OAuthError::invalid_request("redirect_uri is required.")))?
        .to_string();
    if !client::is_callback(&client, &redirect_uri) {
        return Err(page(OAuthError::invalid_request(
            "redirect_mismatch: redirect_uri is not one of the client's callback URLs.",
        )));
    }
    // From here on, errors go back to the client's redirect URI.
    let state = params.get("state").ok().flatten().map(ToString::to_string);
    let fail = |error: OAuthError| Rejection::Redirect {
        redirect_uri: redirect_uri.clone(),
        state: state.clone(),
        error,
    };
    let get = |name: &str| {
        params.get(name).map_err(|r| {
            fail(OAuthError::invalid_request(alloc::format!(
                "The parameter {} is repeated.",
                r.0
            )))
        })
    };
    get("state")?;
    if let Some(s) = &state {
        check_opaque("state", s).map_err(|e| fail(OAuthError::invalid_request(e)))?;
    }
    // 3. response_type=code, and the client may use the code flow.
    match get("response_type")? {
        Some("code") => {}
        None => {
            return Err(fail(OAuthError::invalid_request(
                "response_type is required.",
            )));
        }
        Some(_) => {
            return Err(fail(OAuthError::unsupported_response_type(
                "Only response_type=code is supported.",
            )));
        }
    }
    if !client::allows_flow(&client, "code") {
        return Err(fail(OAuthError::unauthorized_client(
            "The client is not allowed the authorization code flow.",
        )));
    }
    // 4. Scopes: a subset of the client's; all of them when none are asked for.
    let allowed = client::allowed_scopes(&client);
    let scopes = match get("scope")? {
        Some(s) => Scopes::parse(s).map_err(|e| fail(OAuthError::invalid_scope(e)))?,
        None => allowed.clone(),
    };
    if let Some(bad) = scopes.first_not_in(&allowed) {
        return Err(fail(OAuthError::invalid_scope(alloc::format!(
            "The scope {bad} is not allowed for this client."
        ))));
    }
    if scopes.is_empty() {
        return Err(fail(OAuthError::invalid_scope("The client has no scopes.")));
    }
    // 5. PKCE (RFC 7636 §4.3): S256 only; required for public clients.
    let challenge = get("code_challenge")?;
    let method = get("code_challenge_method")?;
    let code_challenge = match (challenge, method) {
        (Some(c), Some("S256")) => {
            Some(CodeChallenge::parse(c).map_err(|e| fail(OAuthError::invalid_request(e)))?)
        }
        (Some(_), Some("plain")) | (Some(_), None) => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method must be S256; plain is not allowed.",
            )));
        }
        (Some(_), Some(_)) => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method must be S256.",
            )));
        }
        (None, Some(_)) => {
            return Err(fail(OAuthError::invalid_request(
                "code_challenge_method without code_challenge.",
            )));
        }
        (None, None) => None,
    };
    if code_challenge.is_none() && client.client_secret.is_none() {
        return Err(fail(OAuthError::invalid_request(
            "PKCE is required for public clients: send code_challenge with code_challenge_method=S256.",
        )));
    }
    // 6. nonce, prompt, login_hint.
    let nonce = get("nonce")?.map(ToString::to_string);
    if let Some(n) = &nonce {
        check_opaque("nonce", n).map_err(|e| fail(OAuthError::invalid_request(e)))?;
    }
    let prompt_text = get("prompt")?;
    let mut prompt = Prompt::Default;
    for p in prompt_text
        .unwrap_or_default()
        .split(' ')
        .filter(|p| !p.is_empty())
    {
        match p {
            "login" => prompt = Prompt::Login,
            "none" if prompt_text.is_some_and(|t| t.trim() == "none") => prompt = Prompt::None,
            "consent" | "select_account" => {}
            _ => {
                return Err(fail(OAuthError::invalid_request(
                    "prompt must be login or none (none alone).",
                )));
            }
        }
    }
    let login_hint = get("login_hint")?.map(ToString::to_string);
    if let Some(h) = &login_hint {
        check_opaque("login_hint", h).map_err(|e| fail(OAuthError::invalid_request(e)))?;
    }
    let scope_param = scopes.to_param();
    let query = form::encode_pairs([
        ("client_id", Some(client.client_id.as_str())),
        ("response_type", Some("code")),
        ("redirect_uri", Some(redirect_uri.as_str())),
        ("scope", Some(scope_param.as_str())),
        ("state", state.as_deref()),
        ("nonce", nonce.as_deref()),
        (
            "code_challenge",
            code_challenge.as_ref().map(CodeChallenge::as_str),
        ),
        (
            "code_challenge_method",
            code_challenge.as_ref().map(|_| "S256"),
        ),
        ("login_hint", login_hint.as_deref()),
    ]);
    Ok(AuthRequest {
        pool,
        client,
        redirect_uri,
        state,
        nonce,
        scopes,
        code_challenge,
        prompt,
        login_hint,
        query,
    })
}

/// A stored authorization code (under the SHA-256 of the code), bound to everything the token
/// request must match.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CodeRecord {
    pub client_id: String,
    pub redirect_uri: String,
    #[serde(default)]
    pub code_challenge: Option<String>,
    #[serde(default)]
    pub nonce: Option<String>,
    pub scope: String,
    pub username_key: String,
    pub sub: String,
    pub auth_time: u64,
    pub expires_millis: u64,
    /// Set when redeemed: the `origin_jti` of the tokens issued from it (revoked on reuse).
    #[serde(default)]
    pub redeemed_origin_jti: Option<String>,
}

/// Issues a code for a signed-in user and answers with the redirect that carries it
/// (RFC 6749 §4.1.2).
pub async fn issue_code(
    env: &dyn Env,
    request: &AuthRequest,
    user: &UserRecord,
    auth_time: u64,
) -> Result<Response, Error> {
    let code = crate::ids::random_token(env.random(), 32);
    let record = CodeRecord {
        client_id: request.client.client_id.clone(),
        redirect_uri: request.redirect_uri.clone(),
        code_challenge: request
            .code_challenge
            .as_ref()
            .map(|c| c.as_str().to_string()),
        nonce: request.nonce.clone(),
        scope: request.scopes.to_param(),
        username_key: request.pool.normalize_username(&user.username),
        sub: user.sub.clone(),
        auth_time,
        expires_millis: env.clock().now_millis() + CODE_LIFETIME_MILLIS,
        redeemed_origin_jti: None,
    };
    let digest = crate::codec::sha256_hex(&[code.as_bytes()]);
    env.store()
        .put(
            &crate::store::keys::authorization_code(&request.pool.id, &digest),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await?;
    Ok(redirect(&form::append_query(
        &request.redirect_uri,
        &form::encode_pairs([
            ("code", Some(code.as_str())),
            ("state", request.state.as_deref()),
        ]),
    )))
}

/// `GET /oauth2/authorize` for a request that names no identity provider (those go to the
/// provider first: `super::federation::authorize`): an active hosted-UI session gets its code,
/// anyone else the sign-in page.
pub async fn sign_in(ctx: &Ctx<'_>, request: AuthRequest) -> Response {
    // An active hosted-UI session skips the sign-in page, unless the client asks for it.
    let session = if request.prompt == Prompt::Login {
        None
    } else {
        super::session::current(ctx, &request.pool).await
    };
    match (session, request.prompt) {
        (Some((user, auth_time)), _) => match issue_code(ctx.env, &request, &user, auth_time).await
        {
            Ok(response) => response,
            Err(e) => Rejection::Redirect {
                redirect_uri: request.redirect_uri.clone(),
                state: request.state.clone(),
                error: e.into(),
            }
            .into_response(),
        },
        // OIDC Core §3.1.2.6: no session and no page allowed.
        (None, Prompt::None) => Rejection::Redirect {
            redirect_uri: request.redirect_uri.clone(),
            state: request.state.clone(),
            error: OAuthError::login_required("The user is not signed in."),
        }
        .into_response(),
        (None, _) => redirect(&alloc::format!(
            "{}/login?{}",
            ctx.path_prefix,
            request.query
        )),
    }
}
