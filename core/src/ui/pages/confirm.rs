//! `/confirm`: confirm a sign-up with the code sent to the user; `/confirmUser`: the link a
//! pool that confirms by link (`CONFIRM_WITH_LINK`) mails instead.

use alloc::vec::Vec;

use super::{login, user_message, username_label};
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::pool::ClientProof;
use crate::ui::render::{Field, Page, links, render};

pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let page = Page {
        title: "Confirm your account",
        action: &alloc::format!("{}/confirm", ctx.path_prefix),
        button: "Confirm account",
        fields: alloc::vec![
            Field::new("username", username_label(request), "text", "username").value(username),
            Field::new("code", "Confirmation code", "text", "one-time-code"),
        ],
        hidden: Vec::new(),
        notice,
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let code = form.first("code").unwrap_or_default().trim();
    let confirmed = crate::registration::sign_up::confirm(
        ctx.env,
        &request.pool,
        &request.client,
        username,
        code,
        ClientProof::HostedUi,
        false,
        serde_json::json!({}),
    )
    .await;
    match confirmed {
        Ok(()) => {
            login::page(
                ctx,
                request,
                Some("Your account is confirmed. Sign in."),
                None,
                200,
            )
            .await
        }
        Err(e) => page(ctx, request, username, None, Some(&user_message(&e)), 400).await,
    }
}

/// `GET /confirmUser?client_id=&user_name=&confirmation_code=`: the link in a confirmation
/// email. It carries no authorization request (Cognito's link has none), so it confirms and
/// says so; `HEAD` (link checkers) confirms nothing.
pub async fn link(ctx: &Ctx<'_>) -> Response {
    use crate::html::{notice, plain_error};
    let method = ctx.request.method.as_str();
    if method != "GET" && method != "HEAD" {
        return plain_error(405, "This link accepts GET only.");
    }
    let params = Params::parse(&ctx.request.query);
    let field = |name: &str| params.get(name).ok().flatten().map(str::trim);
    let (Some(client_id), Some(username), Some(code)) = (
        field("client_id"),
        field("user_name"),
        field("confirmation_code"),
    ) else {
        return plain_error(400, "This confirmation link is incomplete.");
    };
    let Ok((client, _)) = crate::pool::load_client(ctx.env, client_id).await else {
        return plain_error(400, "This confirmation link is not valid.");
    };
    if ctx
        .pinned_pool
        .as_deref()
        .is_some_and(|p| p != client.user_pool_id)
    {
        return plain_error(400, "This confirmation link is not valid.");
    }
    let Ok((pool, _)) = crate::pool::load_pool(ctx.env, &client.user_pool_id).await else {
        return plain_error(400, "This confirmation link is not valid.");
    };
    if method == "HEAD" {
        return notice("Confirm your account", "Open this link in a browser.");
    }
    if crate::user::check_username(username).is_err() || crate::code::check_input(code).is_err() {
        return plain_error(400, "This confirmation link is not valid.");
    }
    let confirmed = crate::registration::sign_up::confirm(
        ctx.env,
        &pool,
        &client,
        username,
        code,
        ClientProof::HostedUi,
        false,
        serde_json::json!({}),
    )
    .await;
    match confirmed {
        Ok(()) => notice(
            "Registration confirmed",
            "Your registration has been confirmed. You can close this page and sign in.",
        ),
        Err(e) if e.kind == crate::error::ErrorKind::Internal => {
            plain_error(500, "Something went wrong; please try again.")
        }
        Err(e) => plain_error(400, &user_message(&e)),
    }
}
