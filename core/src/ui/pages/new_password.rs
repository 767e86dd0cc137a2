//! `/newPassword`: the NEW_PASSWORD_REQUIRED step of sign-in (a temporary password), with the
//! required attributes the user has no value for.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{login, user_message};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::ui::render::{Field, Page, links, render};

#[allow(clippy::too_many_arguments)]
pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    session: &str,
    required: &[String],
    error: Option<&str>,
    status: u16,
) -> Response {
    let required_list = required.join(",");
    let mut fields = alloc::vec![
        Field::new("new_password", "New password", "password", "new-password"),
        Field::new(
            "confirm_password",
            "Confirm new password",
            "password",
            "new-password"
        ),
    ];
    for attr in required {
        // `userAttributes.<name>`: the label is the attribute's name.
        let label = attr.strip_prefix("userAttributes.").unwrap_or(attr);
        fields.push(Field::new(attr, label, "text", "off"));
    }
    let page = Page {
        title: "Change your password",
        action: &alloc::format!("{}/newPassword", ctx.path_prefix),
        button: "Change password and sign in",
        fields,
        hidden: alloc::vec![
            ("username", username),
            ("session", session),
            ("required", required_list.as_str()),
        ],
        notice: Some("You signed in with a temporary password. Choose a new one to continue."),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default();
    let session = form.first("session").unwrap_or_default();
    let new_password = form.first("new_password").unwrap_or_default();
    let required: Vec<String> = form
        .first("required")
        .unwrap_or_default()
        .split(',')
        .filter(|s| s.starts_with("userAttributes."))
        .map(ToString::to_string)
        .collect();
    if new_password != form.first("confirm_password").unwrap_or_default() {
        return page(
            ctx,
            request,
            username,
            session,
            &required,
            Some("The passwords do not match."),
            400,
        )
        .await;
    }
    let mut responses = alloc::collections::BTreeMap::new();
    responses.insert("USERNAME".to_string(), username.to_string());
    responses.insert("NEW_PASSWORD".to_string(), new_password.to_string());
    for attr in &required {
        if let Some(value) = form.first(attr) {
            responses.insert(attr.clone(), value.to_string());
        }
    }
    let origin = ctx.origin();
    let attempt = super::attempt(ctx, request, &origin);
    let answered = crate::auth::new_password::respond(&attempt, session, &responses).await;
    // The hosted UI signs the user in with a session and a code.
    match answered {
        Ok(authenticated) => super::next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::NotAuthorized => {
            login::page(
                ctx,
                request,
                None,
                Some("Your session expired. Sign in again."),
                400,
            )
            .await
        }
        Err(e) => {
            page(
                ctx,
                request,
                username,
                session,
                &required,
                Some(&user_message(&e)),
                400,
            )
            .await
        }
    }
}
