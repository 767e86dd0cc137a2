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
