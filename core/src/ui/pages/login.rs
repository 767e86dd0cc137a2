//! `/login`: sign in with a password; and what follows any sign-in step (the redirect with a
//! code, or the page of the next challenge).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

use super::{confirm, custom_auth, new_password, user_message, username_label};
use crate::auth::{Authenticated, SignInOutcome};
use crate::error::ErrorKind;
use crate::html::plain_error;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::{self, AuthRequest};
use crate::oidc::form::Params;
use crate::oidc::session;
use crate::ui::render::{Field, Page, links, render};

pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    let page = Page {
        title: "Sign in",
        action: &alloc::format!("{}/login", ctx.path_prefix),
        button: "Sign in",
        fields: alloc::vec![
            Field::new("username", username_label(request), "text", "username").value(&hint),
            Field::new("password", "Password", "password", "current-password"),
        ],
        hidden: Vec::new(),
        notice,
        error,
        links: if custom_auth::offered(request) {
            links(ctx, request, &["/forgotPassword", "/signup", "/customAuth"])
        } else {
            links(ctx, request, &["/forgotPassword", "/signup"])
        },
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let password = form.first("password").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return page(
            ctx,
            request,
            None,
            Some("Enter your username and password."),
            400,
        )
        .await;
    }
    let origin = ctx.origin();
    let how = crate::auth::Begin::Password {
        login: username,
        password,
    };
    let outcome = crate::auth::begin(&super::attempt(ctx, request, &origin), how).await;
    match outcome {
        Ok(authenticated) => next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, username).await
        }
        Err(e) => page(ctx, request, None, Some(&user_message(&e)), 400).await,
    }
}

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
        Authenticated::Challenge(SignInOutcome::Tokens(_)) => {
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
        _ => {
            page(
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
