//! The choice-based sign-in's pages (USER_AUTH, issue 18): `/passkeySignIn` (sign in with a
//! passkey), `/codeSignIn` (a one-time code by email or SMS), and `/passkeys/add` (a signed-in
//! user adds a passkey, Cognito's managed login path). The sign-in page links to them when the
//! client allows `ALLOW_USER_AUTH` and the pool allows the factor first.
//!
//! The passkey pages carry the options for `navigator.credentials.get`/`create` in a hidden
//! field and load [`SCRIPT_PATH`] (served by Cognate, [`script`]): on submit it runs the
//! ceremony and posts the browser's credential JSON in the `credential` field. Those pages
//! allow that one script (`script-src 'self'`); every other page still allows no script.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::{
    code_factors, next_step, not_confirmed, passkey_offered, user_message, username_label,
};
use crate::auth::Authenticated;
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::oidc::session;
use crate::ui::render::{Field, Page, links, render, render_with_script};

/// The passkey pages' script.
pub use crate::ui::render::SCRIPT_PATH;

/// The script: runs the WebAuthn ceremony of the page's form and posts the credential as JSON
/// (WebAuthn L3's RegistrationResponseJSON / AuthenticationResponseJSON).
const SCRIPT: &str = include_str!("passkeys.js");

/// `GET /passkeys.js`.
pub fn script() -> Response {
    Response::new(200)
        .with_header("content-type", "text/javascript; charset=utf-8")
        .with_header("cache-control", "public, max-age=300")
        .with_header("x-content-type-options", "nosniff")
        .with_body(SCRIPT.as_bytes().to_vec())
}

/// The username page of a passwordless sign-in (`/passkeySignIn` or `/codeSignIn`).
pub async fn username_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    path: &str,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    let codes = code_factors(request);
    let (title, fields) = if path == "/passkeySignIn" {
        ("Sign in with a passkey", Vec::new())
    } else if codes.len() > 1 {
        (
            "Sign in with a one-time code",
            alloc::vec![
                Field::new(
                    "factor",
                    "Send the code by (EMAIL_OTP or SMS_OTP)",
                    "text",
                    "off"
                )
                .value("EMAIL_OTP")
            ],
        )
    } else {
        ("Sign in with a one-time code", Vec::new())
    };
    let mut all = alloc::vec![
        Field::new(
            "username",
            username_label(request),
            "text",
            "username webauthn"
        )
        .value(&hint)
    ];
    all.extend(fields);
    let page = Page {
        title,
        action: &format!("{}{path}", ctx.path_prefix),
        button: "Continue",
        fields: all,
        hidden: Vec::new(),
        notice: None,
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

fn begin_error(e: &crate::Error) -> String {
    match e.kind {
        // USER_AUTH's own refusal of a factor this user cannot use reads like any other.
        ErrorKind::InvalidParameter | ErrorKind::NotAuthorized | ErrorKind::UserNotFound => {
            "That sign-in method is not available for this account.".to_string()
        }
        _ => user_message(e),
    }
}

/// `POST /passkeySignIn`: the username (USER_AUTH with WEB_AUTHN preferred: the passkey page),
/// or the passkey page's credential (the WEB_AUTHN answer).
pub async fn post_passkey(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let path = "/passkeySignIn";
    if !passkey_offered(request) {
        return super::login::page(ctx, request, None, None, 200).await;
    }
    let field = |name: &str| form.first(name).unwrap_or_default().trim().to_string();
    let username = field("username");
    let origin = ctx.origin();
    let attempt = super::attempt(ctx, request, &origin);
    let session = field("session");
    if !session.is_empty() {
        let mut responses = BTreeMap::new();
        responses.insert("USERNAME".to_string(), username.clone());
        responses.insert("CREDENTIAL".to_string(), field("credential"));
        let answered =
            crate::auth::respond(&attempt, "WEB_AUTHN", Some(&session), &responses, json!({}))
                .await;
        return match answered {
            Ok(authenticated) => next_step(ctx, request, &username, authenticated, None).await,
            Err(e) => {
                let message = format!("The passkey was not accepted: {}", user_message(&e));
                username_page(ctx, request, path, Some(&message), 400).await
            }
        };
    }
    if username.is_empty() {
        let message = format!("Enter your {}.", username_label(request).to_lowercase());
        return username_page(ctx, request, path, Some(&message), 400).await;
    }
    let how = crate::auth::Begin::UserAuth {
        login: &username,
        preferred: Some("WEB_AUTHN"),
        password: None,
        srp_a: None,
    };
    match crate::auth::begin(&attempt, how).await {
        Ok(Authenticated::Challenge(crate::auth::SignInOutcome::Challenge {
            name: "WEB_AUTHN",
            session,
            parameters,
        })) => {
            let options = parameters
                .get("CREDENTIAL_REQUEST_OPTIONS")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let username = parameters
                .get("USERNAME")
                .and_then(Value::as_str)
                .unwrap_or(&username);
            let page = Page {
                title: "Use your passkey",
                action: &format!("{}{path}", ctx.path_prefix),
                button: "Use passkey",
                fields: Vec::new(),
                hidden: alloc::vec![
                    ("username", username),
                    ("session", &session),
                    ("ceremony", "get"),
                    ("options", options),
                    ("credential", ""),
                ],
                notice: Some("Your browser will ask for your passkey."),
                error: None,
                links: links(ctx, request, &["/login"]),
            };
            render_with_script(ctx, request, page, 200).await
        }
        Ok(authenticated) => next_step(ctx, request, &username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, &username).await
        }
        Err(e) => username_page(ctx, request, path, Some(&begin_error(&e)), 400).await,
    }
}

/// `POST /codeSignIn`: USER_AUTH with EMAIL_OTP or SMS_OTP preferred; the code page follows
/// (answered at `/mfa`, as the MFA codes are).
pub async fn post_code(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let path = "/codeSignIn";
    let factors = code_factors(request);
    let Some(first) = factors.first() else {
        return super::login::page(ctx, request, None, None, 200).await;
    };
    let username = form.first("username").unwrap_or_default().trim();
    if username.is_empty() {
        let message = format!("Enter your {}.", username_label(request).to_lowercase());
        return username_page(ctx, request, path, Some(&message), 400).await;
    }
    let asked = form.first("factor").unwrap_or_default().trim();
    let factor = factors.iter().find(|f| **f == asked).unwrap_or(first);
    let origin = ctx.origin();
    let how = crate::auth::Begin::UserAuth {
        login: username,
        preferred: Some(factor),
        password: None,
        srp_a: None,
    };
    match crate::auth::begin(&super::attempt(ctx, request, &origin), how).await {
        Ok(authenticated) => next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, username).await
        }
        Err(e) => username_page(ctx, request, path, Some(&begin_error(&e)), 400).await,
    }
}

/// The passkey options for the signed-in user, or the page to show instead.
async fn registration_options(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
) -> Result<(crate::user::UserRecord, Value), Response> {
    let Some((user, _)) = session::current(ctx, &request.pool).await else {
        return Err(super::login::page(
            ctx,
            request,
            Some("Sign in first; then open this page again to add a passkey."),
            None,
            401,
        )
        .await);
    };
    let domains = crate::oidc::domain::pool_domains(ctx.env, &request.pool.id).await;
    let (prefix, custom) = domains.unwrap_or_default();
    let rp_id = crate::pool::factors::relying_party_id(
        &request.pool,
        prefix.as_deref(),
        custom.as_deref(),
        &ctx.config.base_url,
    );
    match crate::auth::webauthn::start_registration(
        ctx.env,
        &request.pool,
        &request.client.client_id,
        &user,
        rp_id,
    )
    .await
    {
        Ok(options) => Ok((user, options)),
        Err(e) => Err(crate::html::plain_error(400, &user_message(&e))),
    }
}

/// `GET /passkeys/add`: the signed-in user's passkey registration.
pub async fn add_page(ctx: &Ctx<'_>, request: &AuthRequest, error: Option<&str>) -> Response {
    let (_, options) = match registration_options(ctx, request).await {
        Ok(o) => o,
        Err(response) => return response,
    };
    let options = options.to_string();
    let page = Page {
        title: "Add a passkey",
        action: &format!("{}/passkeys/add", ctx.path_prefix),
        button: "Add passkey",
        fields: Vec::new(),
        hidden: alloc::vec![
            ("ceremony", "create"),
            ("options", &options),
            ("credential", ""),
        ],
        notice: Some("Your browser will ask you to create a passkey for this account."),
        error,
        links: Vec::new(),
    };
    render_with_script(ctx, request, page, if error.is_some() { 400 } else { 200 }).await
}

/// `POST /passkeys/add`: the browser's RegistrationResponseJSON.
pub async fn post_add(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let Some((user, _)) = session::current(ctx, &request.pool).await else {
        return registration_options(ctx, request)
            .await
            .err()
            .unwrap_or_else(|| crate::html::plain_error(401, "Sign in first."));
    };
    let credential: Value =
        serde_json::from_str(form.first("credential").unwrap_or_default()).unwrap_or(Value::Null);
    let completed = crate::auth::webauthn::complete_registration(
        ctx.env,
        &request.pool,
        &request.client.client_id,
        &user,
        &credential,
    )
    .await;
    match completed {
        // Back to the app: the authorization endpoint answers its callback with a code (the
        // user is signed in).
        Ok(()) => crate::oidc::authorize::redirect(&format!(
            "{}/oauth2/authorize?{}",
            ctx.path_prefix, request.query
        )),
        Err(e) => {
            let message = format!("The passkey was not added: {}", user_message(&e));
            add_page(ctx, request, Some(&message)).await
        }
    }
}
