//! `/confirm`: confirm a sign-up with the code sent to the user.

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
