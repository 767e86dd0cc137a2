//! The hosted UI's pages: each shows a form ([`super::render::Page`]) and handles its POST.

pub mod confirm;
pub mod custom_auth;
pub mod forgot;
pub mod login;
pub mod new_password;
pub mod signup;

use alloc::string::{String, ToString};

use crate::error::ErrorKind;
use crate::oidc::authorize::AuthRequest;

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
        issuer: "",
        pool: &request.pool,
        client: &request.client,
        origin,
        proof: crate::pool::ClientProof::HostedUi,
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

/// The message a failed operation shows: the same for "no such user" and "wrong password".
fn user_message(error: &crate::Error) -> String {
    match error.kind {
        ErrorKind::UserNotFound => "Incorrect username or password.".to_string(),
        ErrorKind::Internal => "Something went wrong; please try again.".to_string(),
        _ => error.message.clone(),
    }
}
