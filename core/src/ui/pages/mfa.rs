//! `/mfa`: the second factor on the hosted UI, after the password (or any first factor): set up
//! an authenticator app (MFA_SETUP), choose a method (SELECT_MFA_TYPE), or enter the code from
//! the app, the SMS or the email (SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP). The pages drive the
//! same machine as RespondToAuthChallenge (`crate::auth::mfa`).

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Map, Value};

use super::{login, next_step, user_message};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::ui::render::{Field, Page, links, render, render_with_image};

/// The page of an MFA challenge the machine set.
pub async fn challenge_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    name: &str,
    session: &str,
    parameters: &Map<String, Value>,
    error: Option<&str>,
) -> Response {
    match name {
        "MFA_SETUP" => match crate::auth::mfa::associate(ctx.env, session).await {
            Ok((secret, next)) => {
                setup_page(ctx, request, username, &next, &secret, error, 200).await
            }
            Err(e) => login::page(ctx, request, None, Some(&user_message(&e)), 400).await,
        },
        "SELECT_MFA_TYPE" => {
            let choices = parameters
                .get("MFAS_CAN_CHOOSE")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str::<alloc::vec::Vec<String>>(s).ok())
                .unwrap_or_default()
                .join(", ");
            select_page(ctx, request, username, session, &choices, error, 200).await
        }
        _ => {
            let destination = parameters
                .get("CODE_DELIVERY_DESTINATION")
                .and_then(Value::as_str)
                .unwrap_or_default();
            code_page(
                ctx,
                request,
                username,
                name,
                session,
                destination,
                error,
                200,
            )
            .await
        }
    }
}

/// MFA_SETUP: the key to add to an authenticator app (base32, and as an `otpauth://` URI), and
/// the first code it shows.
async fn setup_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    session: &str,
    secret: &str,
    error: Option<&str>,
    status: u16,
) -> Response {
    let issuer = percent_encoding::utf8_percent_encode(
        &request.pool.name,
        percent_encoding::NON_ALPHANUMERIC,
    )
    .to_string();
    let account =
        percent_encoding::utf8_percent_encode(username, percent_encoding::NON_ALPHANUMERIC)
            .to_string();
    let uri = format!("otpauth://totp/{issuer}:{account}?secret={secret}&issuer={issuer}");
    let notice = format!(
        "Scan the QR code with your authenticator app, or add this key to it: {secret} (or open {uri}), then enter the 6-digit code it shows."
    );
    let qr = crate::qr::svg_data_uri(&uri);
    let page = Page {
        title: "Set up an authenticator app",
        action: &format!("{}/mfa", ctx.path_prefix),
        button: "Verify and sign in",
        fields: alloc::vec![Field::new("code", "Code", "text", "one-time-code")],
        hidden: alloc::vec![
            ("username", username),
            ("session", session),
            ("challenge", "MFA_SETUP"),
            ("secret", secret),
        ],
        notice: Some(&notice),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render_with_image(ctx, request, page, qr.as_deref(), status).await
}

/// SELECT_MFA_TYPE.
async fn select_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    session: &str,
    choices: &str,
    error: Option<&str>,
    status: u16,
) -> Response {
    let notice = format!("Choose how to get your sign-in code: {choices}.");
    let page = Page {
        title: "Choose a sign-in method",
        action: &format!("{}/mfa", ctx.path_prefix),
        button: "Continue",
        fields: alloc::vec![Field::new("answer", "Method", "text", "off")],
        hidden: alloc::vec![
            ("username", username),
            ("session", session),
            ("challenge", "SELECT_MFA_TYPE"),
            ("choices", choices),
        ],
        notice: Some(&notice),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

/// SOFTWARE_TOKEN_MFA, SMS_MFA, EMAIL_OTP: a code.
#[allow(clippy::too_many_arguments)]
async fn code_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    challenge: &str,
    session: &str,
    destination: &str,
    error: Option<&str>,
    status: u16,
) -> Response {
    let notice = match challenge {
        "SOFTWARE_TOKEN_MFA" => "Enter the code from your authenticator app.".to_string(),
        _ => format!("We sent a code to {destination}. Enter it to sign in."),
    };
    let page = Page {
        title: "Enter your sign-in code",
        action: &format!("{}/mfa", ctx.path_prefix),
        button: "Sign in",
        fields: alloc::vec![Field::new("code", "Code", "text", "one-time-code")],
        hidden: alloc::vec![
            ("username", username),
            ("session", session),
            ("challenge", challenge),
            ("destination", destination),
        ],
        notice: Some(&notice),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, status).await
}

fn expired() -> &'static str {
    "Your session expired. Sign in again."
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let field = |name: &str| form.first(name).unwrap_or_default().trim().to_string();
    let (username, session, challenge) = (field("username"), field("session"), field("challenge"));
    let origin = ctx.origin();
    let attempt = super::attempt(ctx, request, &origin);
    let mut responses = BTreeMap::new();
    responses.insert("USERNAME".to_string(), username.clone());
    let (session, challenge_name) = match challenge.as_str() {
        "MFA_SETUP" => {
            let secret = field("secret");
            match crate::auth::mfa::verify(ctx.env, &session, &field("code"), None).await {
                Ok(next) => (next, "MFA_SETUP"),
                Err(e) if e.kind == ErrorKind::EnableSoftwareTokenMfa => {
                    let message = "That code is not right. Check the key and try again.";
                    return setup_page(
                        ctx,
                        request,
                        &username,
                        &session,
                        &secret,
                        Some(message),
                        400,
                    )
                    .await;
                }
                Err(_) => return login::page(ctx, request, None, Some(expired()), 400).await,
            }
        }
        "SELECT_MFA_TYPE" => {
            responses.insert("ANSWER".to_string(), field("answer"));
            (session, "SELECT_MFA_TYPE")
        }
        "SOFTWARE_TOKEN_MFA" | "SMS_MFA" | "EMAIL_OTP" | "SMS_OTP" => {
            let name = match challenge.as_str() {
                "SOFTWARE_TOKEN_MFA" => "SOFTWARE_TOKEN_MFA",
                "SMS_MFA" => "SMS_MFA",
                "SMS_OTP" => "SMS_OTP",
                _ => "EMAIL_OTP",
            };
            responses.insert(format!("{name}_CODE"), field("code"));
            (session, name)
        }
        _ => return login::page(ctx, request, None, Some(expired()), 400).await,
    };
    let answered = crate::auth::respond(
        &attempt,
        challenge_name,
        Some(&session),
        &responses,
        Value::Object(Map::new()),
    )
    .await;
    match answered {
        Ok(authenticated) => next_step(ctx, request, &username, authenticated, None).await,
        Err(e)
            if matches!(
                e.kind,
                ErrorKind::CodeMismatch | ErrorKind::InvalidParameter
            ) =>
        {
            let message = user_message(&e);
            if challenge_name == "SELECT_MFA_TYPE" {
                select_page(
                    ctx,
                    request,
                    &username,
                    &session,
                    &field("choices"),
                    Some(&message),
                    400,
                )
                .await
            } else {
                code_page(
                    ctx,
                    request,
                    &username,
                    challenge_name,
                    &session,
                    &field("destination"),
                    Some(&message),
                    400,
                )
                .await
            }
        }
        Err(e) => login::page(ctx, request, None, Some(&user_message(&e)), 400).await,
    }
}
