//! The hosted UI: server-side rendered pages that work without JavaScript, at Cognito's paths.
//!
//! | path | page |
//! |---|---|
//! | `/login` | sign in (and the NEW_PASSWORD_REQUIRED step, posted to `/newPassword`) |
//! | `/mfa` | the second factor after sign-in: set up an authenticator app, choose a method, enter a code (posted only) |
//! | `/customAuth` | sign in without a password: CUSTOM_AUTH through the pool's auth challenge plugins (each round posted to `/customChallenge`) |
//! | `/signup` | sign up |
//! | `/confirm` | confirm sign-up with the code |
//! | `/confirmUser` | the confirmation link a pool that confirms by link mails (no authorization request) |
//! | `/passkeySignIn` | sign in with a passkey (USER_AUTH's WEB_AUTHN; the page runs `/passkeys.js`) |
//! | `/codeSignIn` | sign in with a one-time code by email or SMS (USER_AUTH's EMAIL_OTP, SMS_OTP) |
//! | `/passkeys/add` | a signed-in user adds a passkey (Cognito's managed login path) |
//! | `/forgotPassword` | request a reset code |
//! | `/confirmForgotPassword` | set a new password with the code |
//!
//! Every page carries the authorization request in its query string and validates it first
//! ([`crate::oidc::authorize::parse`]), so a page can only ever send the browser to a callback URL
//! the client registered. Every form carries a CSRF token ([`session`]). Sign-in runs the core's
//! sign-in machine ([`crate::auth`]: lockout, user status, challenges), and the other pages the
//! same domain operations as the Cognito API (registration, recovery), directly.
//!
//! | module | what |
//! |---|---|
//! | this one | the paths and the routing |
//! | `pages` | one module per page: what it shows and what its POST does |
//! | `render` | the page kit: compile-time templates (`templates/`, askama), the escaper, the response |
//! | [`session`] | the hosted-UI session cookie and the CSRF tokens |
//!
//! ## Security
//! - Pages are sent with a strict Content-Security-Policy (no scripts at all, styles inline,
//!   images only as `data:`), `X-Frame-Options: DENY` and `Cache-Control: no-store`. The
//!   passkey pages alone load one script, Cognate's `/passkeys.js` (`script-src 'self'`, nothing
//!   inline): WebAuthn has no form-only ceremony.
//! - Everything interpolated into HTML is escaped by the templates; the pool's custom CSS is
//!   checked when it is set (no `<`, `@import`, `url()`).

pub(crate) mod pages;
pub(crate) mod render;

use crate::html::plain_error;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize;
use crate::oidc::form::Params;
use crate::oidc::session;
use pages::{confirm, custom_auth, forgot, login, mfa, new_password, passwordless, signup};

/// The hosted UI's paths.
pub fn is_ui_path(path: &str) -> bool {
    crate::oidc::HOSTED_UI_PATHS.contains(&path)
}

/// Routes a hosted-UI request.
pub async fn handle(ctx: &Ctx<'_>, path: &str) -> Response {
    if matches!(path, "/confirmUser" | "/confirmUser/") {
        return confirm::link(ctx).await;
    }
    if path == passwordless::SCRIPT_PATH {
        return passwordless::script();
    }
    let params = Params::parse(&ctx.request.query);
    let request = match authorize::parse(ctx, &params).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(),
    };
    let method = ctx.request.method.as_str();
    if method == "GET" || method == "HEAD" {
        return match path {
            "/login" => login::page(ctx, &request, None, None, 200).await,
            "/signup" => signup::page(ctx, &request, None, &Params::default(), 200).await,
            "/confirm" => confirm::page(ctx, &request, "", None, None, 200).await,
            "/forgotPassword" => forgot::page(ctx, &request, None, 200).await,
            "/customAuth" if custom_auth::offered(&request) => {
                custom_auth::page(ctx, &request, None, 200).await
            }
            "/passkeySignIn" if pages::passkey_offered(&request) => {
                passwordless::username_page(ctx, &request, path, None, 200).await
            }
            "/codeSignIn" if !pages::code_factors(&request).is_empty() => {
                passwordless::username_page(ctx, &request, path, None, 200).await
            }
            "/passkeys/add" => passwordless::add_page(ctx, &request, None).await,
            _ => login::page(ctx, &request, None, None, 200).await,
        };
    }
    if method != "POST" {
        return plain_error(405, "This page accepts GET and POST only.");
    }
    let form = Params::parse_body(&ctx.request.body);
    match session::csrf_ok(ctx, &request.pool.id, form.first(session::CSRF_FIELD)).await {
        Ok(true) => {}
        Ok(false) => {
            return plain_error(
                403,
                "The form expired or was not sent from this site. Go back, reload the page and try again.",
            );
        }
        Err(_) => return plain_error(500, "Something went wrong; please try again."),
    }
    match path {
        "/login" => login::post(ctx, &request, &form).await,
        "/newPassword" => new_password::post(ctx, &request, &form).await,
        "/mfa" => mfa::post(ctx, &request, &form).await,
        "/customAuth" if custom_auth::offered(&request) => {
            custom_auth::post(ctx, &request, &form).await
        }
        "/customChallenge" if custom_auth::offered(&request) => {
            custom_auth::post_challenge(ctx, &request, &form).await
        }
        "/passkeySignIn" => passwordless::post_passkey(ctx, &request, &form).await,
        "/codeSignIn" => passwordless::post_code(ctx, &request, &form).await,
        "/passkeys/add" => passwordless::post_add(ctx, &request, &form).await,
        "/signup" => signup::post(ctx, &request, &form).await,
        "/confirm" => confirm::post(ctx, &request, &form).await,
        "/forgotPassword" => forgot::post(ctx, &request, &form).await,
        "/confirmForgotPassword" => forgot::post_confirm(ctx, &request, &form).await,
        _ => plain_error(404, "No such page."),
    }
}
