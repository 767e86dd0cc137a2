//! `/forgotPassword` and `/confirmForgotPassword`: request a reset code, then set a new password
//! with it. Neither page tells whether the account exists.

use alloc::vec::Vec;

use super::{login, user_message, username_label};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::pool::ClientProof;
use crate::ui::render::{Field, Page, links, render};

pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    status: u16,
) -> Response {
    let page = Page {
        title: "Reset your password",
        action: &alloc::format!("{}/forgotPassword", ctx.path_prefix),
        button: "Send reset code",
        fields: alloc::vec![Field::new(
            "username",
            username_label(request),
            "text",
            "username"
        )],
        hidden: Vec::new(),
        notice: Some("We will send a code to reset your password."),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

async fn confirm_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let page = Page {
        title: "Set a new password",
        action: &alloc::format!("{}/confirmForgotPassword", ctx.path_prefix),
        button: "Set password",
        fields: alloc::vec![
            Field::new("code", "Reset code", "text", "one-time-code"),
            Field::new("password", "New password", "password", "new-password"),
        ],
        hidden: alloc::vec![("username", username)],
        notice,
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    if username.is_empty() {
        return page(ctx, request, Some("Enter your username."), 400).await;
    }
    let sent = crate::recovery::forgot_password(
        ctx.env,
        &request.pool,
        &request.client,
        username,
        ClientProof::HostedUi,
        serde_json::json!({}),
    )
    .await;
    match sent {
        Ok(delivery) => {
            let notice = alloc::format!(
                "If the account exists, we sent a code to {}.",
                delivery.destination
            );
            confirm_page(ctx, request, username, Some(&notice), None, 200).await
        }
        Err(e) if e.kind == ErrorKind::UserNotFound => {
            // Never tell whether the account exists.
            confirm_page(
                ctx,
                request,
                username,
                Some("If the account exists, we sent it a code."),
                None,
                200,
            )
            .await
        }
        Err(e) => page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}

pub async fn post_confirm(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let code = form.first("code").unwrap_or_default().trim();
    let password = form.first("password").unwrap_or_default();
    let reset = crate::recovery::confirm_forgot_password(
        ctx.env,
        &request.pool,
        &request.client,
        username,
        code,
        password,
        ClientProof::HostedUi,
        serde_json::json!({}),
    )
    .await;
    match reset {
        Ok(()) => {
            login::page(
                ctx,
                request,
                Some("Your password is reset. Sign in."),
                None,
                200,
            )
            .await
        }
        Err(e) => confirm_page(ctx, request, username, None, Some(&user_message(&e)), 400).await,
    }
}
