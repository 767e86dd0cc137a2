//! The hosted UI's pages: each shows a form ([`super::render::Page`]) and handles its POST; this
//! module holds what leads from one page to the next after a sign-in step (the redirect with a
//! code, or the page of the next challenge).

pub mod confirm;
pub mod custom_auth;
pub mod forgot;
pub mod login;
pub mod mfa;
pub mod new_password;
pub mod passwordless;
pub mod signup;

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use crate::auth::{Authenticated, SignInOutcome};
use crate::error::ErrorKind;
use crate::html::plain_error;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::{self, AuthRequest};
use crate::oidc::session;
use crate::pool::factors::FirstFactor;

/// A sign-in step on the hosted UI: the server is the user agent's client (the OAuth 2.0 client
/// authenticates later, at the token endpoint), and no tokens are issued here (a proved user gets
/// a session and an authorization code).
fn attempt<'a>(
    ctx: &'a crate::oidc::Ctx<'_>,
    request: &'a AuthRequest,
    origin: &'a crate::auth::Origin,
) -> crate::auth::Attempt<'a> {
    crate::auth::Attempt {
        env: ctx.env,
        pool: &request.pool,
        client: &request.client,
        origin,
        proof: crate::pool::ClientProof::HostedUi,
        device_key: None,
    }
}

/// The label of the username field: what the pool signs in with.
fn username_label(request: &AuthRequest) -> &'static str {
    let attrs = &request.pool.username_attributes;
    if attrs.iter().any(|a| a == "email") && attrs.iter().any(|a| a == "phone_number") {
        "Email or phone number"
    } else if attrs.iter().any(|a| a == "email") {
        "Email"
    } else if attrs.iter().any(|a| a == "phone_number") {
        "Phone number"
    } else {
        "Username"
    }
}

/// Whether the client may use USER_AUTH (the sign-in page's passwordless factors).
fn user_auth(request: &AuthRequest) -> bool {
    request.client.allows("ALLOW_USER_AUTH", None)
}

/// Whether the sign-in page offers a passkey.
pub fn passkey_offered(request: &AuthRequest) -> bool {
    user_auth(request) && request.pool.allows_first(FirstFactor::WebAuthn)
}

/// The one-time code factors the sign-in page offers (`EMAIL_OTP`, `SMS_OTP`).
pub fn code_factors(request: &AuthRequest) -> Vec<&'static str> {
    if !user_auth(request) {
        return Vec::new();
    }
    let mut out = Vec::new();
    if request.pool.allows_first(FirstFactor::EmailOtp) {
        out.push("EMAIL_OTP");
    }
    if request.pool.allows_first(FirstFactor::SmsOtp) {
        out.push("SMS_OTP");
    }
    out
}

/// The message a failed operation shows: the same for "no such user" and "wrong password".
fn user_message(error: &crate::Error) -> String {
    match error.kind {
        ErrorKind::UserNotFound => "Incorrect username or password.".to_string(),
        ErrorKind::Internal => "Something went wrong; please try again.".to_string(),
        _ => error.message.clone(),
    }
}

// ------------------------------------------------------------ between pages

/// Signs the user in on the hosted UI: a session cookie, a code, the redirect.
pub async fn signed_in(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    user: &crate::user::UserRecord,
) -> Response {
    let cookie = match session::start(ctx, &request.pool, user).await {
        Ok(c) => c,
        Err(_) => return plain_error(500, "Something went wrong; please try again."),
    };
    let _ = crate::auth::events::record(
        ctx.env,
        &request.pool,
        user,
        &request.client,
        "SignIn",
        true,
        &ctx.origin(),
    )
    .await;
    let auth_time = ctx.env.clock().now_millis() / 1000;
    match authorize::issue_code(ctx.env, request, user, auth_time).await {
        Ok(response) => response.with_header("set-cookie", &cookie),
        Err(_) => plain_error(500, "Something went wrong; please try again."),
    }
}

/// A sign-in by a user who has not confirmed the account yet: the confirm page.
pub async fn not_confirmed(ctx: &Ctx<'_>, request: &AuthRequest, username: &str) -> Response {
    confirm::page(
        ctx,
        request,
        username,
        None,
        Some("Your account is not confirmed yet. Enter the code we sent you."),
        400,
    )
    .await
}

/// What follows a step of sign-in: the redirect with a code for a proved user, else the page of
/// the challenge the user must answer.
pub async fn next_step(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    authenticated: Authenticated,
    error: Option<&str>,
) -> Response {
    let (name, session, parameters) = match authenticated {
        Authenticated::User(user) | Authenticated::NewPasswordSet(user) => {
            return signed_in(ctx, request, &user).await;
        }
        Authenticated::Challenge(SignInOutcome::Challenge {
            name,
            session,
            parameters,
        }) => (name, session, parameters),
        Authenticated::Challenge(SignInOutcome::Tokens(_) | SignInOutcome::Select { .. }) => {
            return plain_error(500, "Something went wrong; please try again.");
        }
    };
    // The challenge names the user by their username, which may differ from the alias typed in.
    let username = parameters
        .get("USERNAME")
        .or_else(|| parameters.get("USER_ID_FOR_SRP"))
        .and_then(Value::as_str)
        .unwrap_or(username)
        .to_string();
    match name {
        "NEW_PASSWORD_REQUIRED" => {
            let required: Vec<String> = parameters
                .get("requiredAttributes")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            new_password::page(ctx, request, &username, &session, &required, error, 200).await
        }
        "CUSTOM_CHALLENGE" => {
            custom_auth::challenge_page(ctx, request, &username, &session, &parameters, error).await
        }
        // EMAIL_OTP is an MFA challenge and a first factor (USER_AUTH) alike; SMS_OTP is
        // USER_AUTH's. Both are answered with a code, as MFA codes are.
        "MFA_SETUP" | "SELECT_MFA_TYPE" | "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP"
        | "SMS_OTP" => {
            mfa::challenge_page(ctx, request, &username, name, &session, &parameters, error).await
        }
        _ => {
            login::page(
                ctx,
                request,
                None,
                Some("This account needs a sign-in step the hosted UI does not offer yet."),
                400,
            )
            .await
        }
    }
}
