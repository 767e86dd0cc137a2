//! `/customAuth` and `/customChallenge`: sign in without a password, CUSTOM_AUTH through the
//! pool's auth challenge plugins, one page per challenge round.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::{next_step, not_confirmed};
use super::{user_message, username_label};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::ui::render::{Field, Page, links, render};

/// Whether the sign-in page offers CUSTOM_AUTH: the pool runs auth challenge plugins and the
/// client may use the flow.
pub fn offered(request: &AuthRequest) -> bool {
    crate::trigger::configured(
        &request.pool,
        crate::trigger::TriggerKind::DefineAuthChallenge,
    )
    .is_some()
        && request
            .client
            .allows("ALLOW_CUSTOM_AUTH", Some("CUSTOM_AUTH_FLOW_ONLY"))
}

pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    let page = Page {
        title: "Sign in without a password",
        action: &alloc::format!("{}/customAuth", ctx.path_prefix),
        button: "Continue",
        fields: alloc::vec![
            Field::new("username", username_label(request), "text", "username").value(&hint),
        ],
        hidden: Vec::new(),
        notice: None,
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    if username.is_empty() {
        let message = alloc::format!("Enter your {}.", username_label(request).to_lowercase());
        return page(ctx, request, Some(&message), 400).await;
    }
    let origin = ctx.origin();
    let how = crate::auth::Begin::CustomAuth {
        login: username,
        client_metadata: json!({}),
    };
    let outcome = crate::auth::begin(&super::attempt(ctx, request, &origin), how).await;
    match outcome {
        Ok(authenticated) => next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, username).await
        }
        // Unknown users and refusals read alike: the page must not reveal who has an account.
        Err(e) => page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}

/// A CUSTOM_CHALLENGE: the plugin's public challenge parameters, and one answer field.
pub async fn challenge_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    session: &str,
    parameters: &serde_json::Map<String, Value>,
    error: Option<&str>,
) -> Response {
    // Cognito leaves the parameters' meaning to the app; a hosted page shows the conventional
    // human-readable ones.
    let prompt = ["hint", "question", "prompt", "message"]
        .iter()
        .find_map(|k| parameters.get(*k).and_then(Value::as_str))
        .unwrap_or("Answer the challenge to sign in.");
    let page = Page {
        title: "Verify it's you",
        action: &alloc::format!("{}/customChallenge", ctx.path_prefix),
        button: "Sign in",
        fields: alloc::vec![Field::new("answer", "Answer", "text", "one-time-code")],
        hidden: alloc::vec![("username", username), ("session", session)],
        notice: Some(prompt),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, 200).await
}

pub async fn post_challenge(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default();
    let session = form.first("session").unwrap_or_default();
    let answer = form.first("answer").unwrap_or_default().trim();
    let mut responses = alloc::collections::BTreeMap::new();
    responses.insert("USERNAME".to_string(), username.to_string());
    responses.insert("ANSWER".to_string(), answer.to_string());
    let origin = ctx.origin();
    let attempt = super::attempt(ctx, request, &origin);
    let outcome =
        crate::auth::custom_challenge::respond(&attempt, session, &responses, json!({})).await;
    match outcome {
        Ok((authenticated, answer_correct)) => {
            let error = (!answer_correct).then_some("That answer was not accepted. Try again.");
            next_step(ctx, request, username, authenticated, error).await
        }
        Err(e) if e.kind == ErrorKind::NotAuthorized => {
            page(
                ctx,
                request,
                Some("Sign-in failed or the challenge expired. Start again."),
                400,
            )
            .await
        }
        Err(e) => page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}
