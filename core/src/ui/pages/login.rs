//! `/login`: sign in with a password.

use alloc::string::String;
use alloc::vec::Vec;

use super::{custom_auth, next_step, not_confirmed, user_message, username_label};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::ui::render::{Field, Page, links, render};

pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    // The client's identity providers, each a link that signs in through it.
    let providers: Vec<(String, String)> = request
        .client
        .settings
        .supported_identity_providers
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|p| p.as_str() != "COGNITO")
        .map(|p| {
            (
                alloc::format!(
                    "{}/oauth2/authorize?{}&{}",
                    ctx.path_prefix,
                    request.query,
                    crate::oidc::form::encode_pairs([("identity_provider", Some(p.as_str()))])
                ),
                alloc::format!("Continue with {p}"),
            )
        })
        .collect();
    let mut page = Page {
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
    // USER_AUTH's passwordless first factors, where the client and the pool allow them.
    if super::passkey_offered(request) {
        page.links.extend(links(ctx, request, &["/passkeySignIn"]));
    }
    if !super::code_factors(request).is_empty() {
        page.links.extend(links(ctx, request, &["/codeSignIn"]));
    }
    page.links.extend(
        providers
            .iter()
            .map(|(href, text)| (href.clone(), text.as_str())),
    );
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
