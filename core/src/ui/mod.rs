//! The hosted UI: server-side rendered pages that work without JavaScript, at Cognito's paths.
//!
//! | path | page |
//! |---|---|
//! | `/login` | sign in (and the NEW_PASSWORD_REQUIRED step, posted to `/newPassword`) |
//! | `/customAuth` | sign in without a password: CUSTOM_AUTH through the pool's auth challenge plugins (each round posted to `/customChallenge`) |
//! | `/signup` | sign up |
//! | `/confirm` | confirm sign-up with the code |
//! | `/forgotPassword` | request a reset code |
//! | `/confirmForgotPassword` | set a new password with the code |
//!
//! Every page carries the authorization request in its query string and validates it first
//! ([`crate::oidc::authorize::parse`]), so a page can only ever send the browser to a callback URL
//! the client registered. Every form carries a CSRF token ([`session`]). Sign-in runs the core's
//! password sign-in ([`crate::auth::authenticate_password`]: lockout, user status, challenges);
//! the other pages call the same operations as the Cognito API.
//!
//! ## Security
//! - Pages are sent with a strict Content-Security-Policy (no scripts at all, styles inline,
//!   images only as `data:`), `X-Frame-Options: DENY` and `Cache-Control: no-store`.
//! - Everything interpolated into HTML is escaped; the pool's custom CSS is checked when it is
//!   set (no `<`, `@import`, `url()`).

pub mod session;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::auth::{Authenticated, ClientProof, SignInOutcome};
use crate::error::ErrorKind;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::{self, AuthRequest};
use crate::oidc::error::OAuthError;
use crate::oidc::form::Params;
use crate::pool::AppClient;

/// The hosted UI's paths.
pub fn is_ui_path(path: &str) -> bool {
    matches!(
        path,
        "/login"
            | "/signup"
            | "/confirm"
            | "/forgotPassword"
            | "/confirmForgotPassword"
            | "/newPassword"
            | "/customAuth"
            | "/customChallenge"
    )
}

/// Escapes text for HTML element content and double-quoted attribute values.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

const BASE_CSS: &str = "\
*{box-sizing:border-box}body{margin:0;font:16px/1.5 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;background:#f3f4f6;color:#111827}\
main{max-width:26rem;margin:3rem auto;background:#fff;border-radius:.75rem;padding:2rem;box-shadow:0 1px 3px rgba(0,0,0,.12)}\
.banner{text-align:center;margin-bottom:1rem}.logo{max-width:12rem;max-height:5rem}\
h1{font-size:1.4rem;margin:0 0 1rem}label{display:block;font-weight:600;margin:.75rem 0 .25rem}\
input{width:100%;padding:.6rem .7rem;border:1px solid #9ca3af;border-radius:.4rem;font:inherit}\
input:focus{outline:3px solid #93c5fd;border-color:#2563eb}\
button{width:100%;margin-top:1.25rem;padding:.7rem;border:0;border-radius:.4rem;background:#1d4ed8;color:#fff;font:inherit;font-weight:600;cursor:pointer}\
button:focus{outline:3px solid #93c5fd}.error{background:#fef2f2;color:#991b1b;border:1px solid #fecaca;padding:.6rem .8rem;border-radius:.4rem}\
.notice{background:#eff6ff;color:#1e3a8a;border:1px solid #bfdbfe;padding:.6rem .8rem;border-radius:.4rem}\
nav{margin-top:1.25rem;display:flex;flex-direction:column;gap:.35rem}a{color:#1d4ed8}.hint{font-size:.85rem;color:#4b5563}";

/// One input of a form.
struct Field<'a> {
    name: &'a str,
    label: &'a str,
    kind: &'a str,
    value: &'a str,
    autocomplete: &'a str,
    required: bool,
}

impl<'a> Field<'a> {
    fn new(name: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Self {
        Self {
            name,
            label,
            kind,
            value: "",
            autocomplete,
            required: true,
        }
    }
    fn value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }
    fn optional(mut self) -> Self {
        self.required = false;
        self
    }
}

/// What a page shows.
struct Page<'a> {
    title: &'a str,
    action: &'a str,
    button: &'a str,
    fields: Vec<Field<'a>>,
    hidden: Vec<(&'a str, &'a str)>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    links: Vec<(String, &'a str)>,
}

/// Renders a page with the pool's or client's branding.
async fn render(ctx: &Ctx<'_>, request: &AuthRequest, page: Page<'_>, status: u16) -> Response {
    let csrf = match session::csrf(ctx, &request.pool.id).await {
        Ok(c) => c,
        Err(_) => return plain_error(500, "The server could not render this page."),
    };
    let branding = crate::oidc::admin::ui_customization(
        ctx.env,
        &request.pool.id,
        Some(&request.client.client_id),
    )
    .await
    .ok()
    .flatten()
    .map(|(_, b)| b);
    let mut html = String::with_capacity(4096);
    html.push_str("<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">");
    html.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">");
    html.push_str(&format!(
        "<title>{} – {}</title><style>{BASE_CSS}</style>",
        escape(page.title),
        escape(&request.pool.name)
    ));
    if let Some(css) = branding.as_ref().and_then(|b| b.css.as_deref()) {
        // Checked when set (no '<'): it cannot end the element.
        html.push_str(&format!("<style>{css}</style>"));
    }
    html.push_str("</head><body><main>");
    html.push_str("<div class=\"banner\">");
    match branding.as_ref().and_then(|b| b.image_url()) {
        Some(url) => html.push_str(&format!(
            "<img class=\"logo\" src=\"{}\" alt=\"{}\">",
            escape(&url),
            escape(&request.pool.name)
        )),
        None => html.push_str(&format!(
            "<div class=\"pool-name\">{}</div>",
            escape(&request.client.client_name)
        )),
    }
    html.push_str("</div>");
    html.push_str(&format!("<h1>{}</h1>", escape(page.title)));
    if let Some(notice) = page.notice {
        html.push_str(&format!(
            "<p class=\"notice\" role=\"status\">{}</p>",
            escape(notice)
        ));
    }
    if let Some(error) = page.error {
        html.push_str(&format!(
            "<p class=\"error\" id=\"form-error\" role=\"alert\">{}</p>",
            escape(error)
        ));
    }
    html.push_str(&format!(
        "<form method=\"post\" action=\"{}?{}\" novalidate>",
        escape(page.action),
        escape(&request.query)
    ));
    html.push_str(&format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
        session::CSRF_FIELD,
        escape(&csrf.token)
    ));
    for (name, value) in &page.hidden {
        html.push_str(&format!(
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            escape(name),
            escape(value)
        ));
    }
    for f in &page.fields {
        let id = format!("f-{}", f.name.replace(['.', ':'], "-"));
        html.push_str(&format!(
            "<label for=\"{id}\">{}</label><input id=\"{id}\" name=\"{}\" type=\"{}\" value=\"{}\" autocomplete=\"{}\"{}{}>",
            escape(f.label),
            escape(f.name),
            f.kind,
            escape(f.value),
            f.autocomplete,
            if f.required { " required aria-required=\"true\"" } else { "" },
            if page.error.is_some() { " aria-describedby=\"form-error\"" } else { "" },
        ));
    }
    html.push_str(&format!(
        "<button type=\"submit\">{}</button></form>",
        escape(page.button)
    ));
    if !page.links.is_empty() {
        html.push_str("<nav aria-label=\"Other options\">");
        for (href, text) in &page.links {
            html.push_str(&format!(
                "<a href=\"{}\">{}</a>",
                escape(href),
                escape(text)
            ));
        }
        html.push_str("</nav>");
    }
    html.push_str("</main></body></html>\n");
    let mut response = html_response(status, html);
    if let Some(cookie) = csrf.set_cookie {
        response = response.with_header("set-cookie", &cookie);
    }
    response
}

fn html_response(status: u16, html: String) -> Response {
    Response::new(status)
        .with_header("content-type", "text/html; charset=utf-8")
        .with_header("cache-control", "no-store")
        .with_header(
            "content-security-policy",
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
        )
        .with_header("x-frame-options", "DENY")
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
        .with_body(html.into_bytes())
}

fn plain_error(status: u16, message: &str) -> Response {
    html_response(
        status,
        format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title><style>{BASE_CSS}</style></head><body><main><h1>Something went wrong</h1><p class=\"error\" role=\"alert\">{}</p></main></body></html>\n",
            escape(message)
        ),
    )
}

/// The page for an authorization error that must not be redirected (unknown client, redirect URI
/// not registered).
pub fn error_page(_ctx: &Ctx<'_>, error: &OAuthError) -> Response {
    plain_error(
        400,
        &format!("{}: {}", error.code.as_str(), error.description),
    )
}

fn links(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    which: &[&'static str],
) -> Vec<(String, &'static str)> {
    which
        .iter()
        .map(|w| {
            let text = match *w {
                "/login" => "Back to sign in",
                "/signup" => "Need an account? Sign up",
                "/forgotPassword" => "Forgot your password?",
                "/confirm" => "Have a confirmation code? Confirm your account",
                "/customAuth" => "Sign in without a password",
                _ => "",
            };
            (format!("{}{w}?{}", ctx.path_prefix, request.query), text)
        })
        .collect()
}

/// The message a failed operation shows: the same for "no such user" and "wrong password".
fn user_message(error: &crate::Error) -> String {
    match error.kind {
        ErrorKind::UserNotFound => "Incorrect username or password.".to_string(),
        ErrorKind::Internal => "Something went wrong; please try again.".to_string(),
        _ => error.message.clone(),
    }
}

/// Cognito's `SECRET_HASH` for a client with a secret: the hosted UI is the server itself, so it
/// computes what an app would send.
fn secret_hash(client: &AppClient, username: &str) -> Option<String> {
    use hmac::{KeyInit, Mac};
    let secret = client.client_secret.as_ref()?;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes()).ok()?;
    mac.update(username.as_bytes());
    mac.update(client.client_id.as_bytes());
    Some(crate::token::b64(&mac.finalize().into_bytes()))
}

async fn call(
    ctx: &Ctx<'_>,
    operation: &str,
    mut body: Value,
    client: &AppClient,
    username: &str,
) -> Result<Value, crate::Error> {
    if let Some(hash) = secret_hash(client, username) {
        let field = if operation == "RespondToAuthChallenge" {
            None
        } else {
            Some("SecretHash")
        };
        match field {
            Some(f) => crate::api::set(&mut body, f, Value::String(hash)),
            None => {
                if let Some(Value::Object(responses)) = body.get_mut("ChallengeResponses") {
                    responses.insert("SECRET_HASH".into(), Value::String(hash));
                }
            }
        }
    }
    crate::api::dispatch(&ctx.api(), operation, body).await
}

/// Routes a hosted-UI request.
pub async fn handle(ctx: &Ctx<'_>, path: &str) -> Response {
    let params = Params::parse(&ctx.request.query);
    let request = match authorize::parse(ctx, &params).await {
        Ok(r) => r,
        Err(rejection) => return rejection.into_response(ctx),
    };
    let method = ctx.request.method.as_str();
    if method == "GET" || method == "HEAD" {
        return match path {
            "/login" => login_page(ctx, &request, None, None, 200).await,
            "/signup" => signup_page(ctx, &request, None, &Params::default(), 200).await,
            "/confirm" => confirm_page(ctx, &request, "", None, None, 200).await,
            "/forgotPassword" => forgot_page(ctx, &request, None, 200).await,
            "/customAuth" if offers_custom_auth(&request) => {
                custom_auth_page(ctx, &request, None, 200).await
            }
            _ => login_page(ctx, &request, None, None, 200).await,
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
        "/login" => post_login(ctx, &request, &form).await,
        "/newPassword" => post_new_password(ctx, &request, &form).await,
        "/customAuth" if offers_custom_auth(&request) => {
            post_custom_auth(ctx, &request, &form).await
        }
        "/customChallenge" if offers_custom_auth(&request) => {
            post_custom_challenge(ctx, &request, &form).await
        }
        "/signup" => post_signup(ctx, &request, &form).await,
        "/confirm" => post_confirm(ctx, &request, &form).await,
        "/forgotPassword" => post_forgot(ctx, &request, &form).await,
        "/confirmForgotPassword" => post_confirm_forgot(ctx, &request, &form).await,
        _ => plain_error(404, "No such page."),
    }
}

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

async fn login_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    let page = Page {
        title: "Sign in",
        action: &format!("{}/login", ctx.path_prefix),
        button: "Sign in",
        fields: alloc::vec![
            Field::new("username", username_label(request), "text", "username").value(&hint),
            Field::new("password", "Password", "password", "current-password"),
        ],
        hidden: Vec::new(),
        notice,
        error,
        links: if offers_custom_auth(request) {
            links(ctx, request, &["/forgotPassword", "/signup", "/customAuth"])
        } else {
            links(ctx, request, &["/forgotPassword", "/signup"])
        },
    };
    render(ctx, request, page, status).await
}

/// Signs the user in on the hosted UI: a session cookie, a code, the redirect.
async fn signed_in(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    user: &crate::user::UserRecord,
) -> Response {
    let cookie = match session::start(ctx, &request.pool, user).await {
        Ok(c) => c,
        Err(_) => return plain_error(500, "Something went wrong; please try again."),
    };
    let _ = crate::auth::events::record(
        ctx.env,
        &request.pool,
        user,
        &request.client,
        "SignIn",
        true,
        &ctx.origin(),
    )
    .await;
    let auth_time = ctx.env.clock().now_millis() / 1000;
    match authorize::issue_code(ctx.env, request, user, auth_time).await {
        Ok(response) => response.with_header("set-cookie", &cookie),
        Err(_) => plain_error(500, "Something went wrong; please try again."),
    }
}

/// A sign-in step on the hosted UI: the server is the user agent's client (the OAuth 2.0 client
/// authenticates later, at the token endpoint), and no tokens are issued here.
fn hosted_attempt<'a>(
    ctx: &'a Ctx<'_>,
    request: &'a AuthRequest,
    origin: &'a crate::auth::Origin,
    issuer: &'a str,
) -> crate::auth::Attempt<'a> {
    crate::auth::Attempt {
        env: ctx.env,
        issuer,
        pool: &request.pool,
        client: &request.client,
        origin,
        proof: ClientProof::HostedUi,
    }
}

async fn post_login(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let password = form.first("password").unwrap_or_default();
    if username.is_empty() || password.is_empty() {
        return login_page(
            ctx,
            request,
            None,
            Some("Enter your username and password."),
            400,
        )
        .await;
    }
    let outcome = crate::auth::authenticate_password(
        ctx.env,
        &request.pool,
        &request.client,
        username,
        password,
        ClientProof::HostedUi,
        &ctx.origin(),
    )
    .await;
    match outcome {
        Ok(authenticated) => next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, username).await
        }
        Err(e) => login_page(ctx, request, None, Some(&user_message(&e)), 400).await,
    }
}

/// A sign-in by a user who has not confirmed the account yet: the confirm page.
async fn not_confirmed(ctx: &Ctx<'_>, request: &AuthRequest, username: &str) -> Response {
    confirm_page(
        ctx,
        request,
        username,
        None,
        Some("Your account is not confirmed yet. Enter the code we sent you."),
        400,
    )
    .await
}

/// What follows a step of sign-in: the redirect with a code for a proved user, else the page of
/// the challenge the user must answer.
async fn next_step(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    authenticated: Authenticated,
    error: Option<&str>,
) -> Response {
    let (name, session, parameters) = match authenticated {
        Authenticated::User(user) | Authenticated::NewPasswordSet(user) => {
            return signed_in(ctx, request, &user).await;
        }
        Authenticated::Challenge(SignInOutcome::Challenge {
            name,
            session,
            parameters,
        }) => (name, session, parameters),
        Authenticated::Challenge(SignInOutcome::Tokens(_)) => {
            return plain_error(500, "Something went wrong; please try again.");
        }
    };
    // The challenge names the user by their username, which may differ from the alias typed in.
    let username = parameters
        .get("USERNAME")
        .or_else(|| parameters.get("USER_ID_FOR_SRP"))
        .and_then(Value::as_str)
        .unwrap_or(username)
        .to_string();
    match name {
        "NEW_PASSWORD_REQUIRED" => {
            let required: Vec<String> = parameters
                .get("requiredAttributes")
                .and_then(Value::as_str)
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or_default();
            new_password_page(ctx, request, &username, &session, &required, error, 200).await
        }
        "CUSTOM_CHALLENGE" => {
            custom_challenge_page(ctx, request, &username, &session, &parameters, error).await
        }
        _ => {
            login_page(
                ctx,
                request,
                None,
                Some("This account needs a sign-in step the hosted UI does not offer yet."),
                400,
            )
            .await
        }
    }
}

/// Whether the sign-in page offers CUSTOM_AUTH: the pool runs auth challenge plugins and the
/// client may use the flow.
fn offers_custom_auth(request: &AuthRequest) -> bool {
    crate::trigger::configured(
        &request.pool,
        crate::trigger::TriggerKind::DefineAuthChallenge,
    )
    .is_some()
        && request
            .client
            .allows("ALLOW_CUSTOM_AUTH", Some("CUSTOM_AUTH_FLOW_ONLY"))
}

async fn custom_auth_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    status: u16,
) -> Response {
    let hint = request.login_hint.clone().unwrap_or_default();
    let page = Page {
        title: "Sign in without a password",
        action: &format!("{}/customAuth", ctx.path_prefix),
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

async fn post_custom_auth(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    if username.is_empty() {
        let message = format!("Enter your {}.", username_label(request).to_lowercase());
        return custom_auth_page(ctx, request, Some(&message), 400).await;
    }
    let origin = ctx.origin();
    let attempt = hosted_attempt(ctx, request, &origin, "");
    let how = crate::auth::Begin::CustomAuth {
        login: username,
        client_metadata: json!({}),
    };
    let outcome = crate::auth::begin(&attempt, how).await;
    match outcome {
        Ok(authenticated) => next_step(ctx, request, username, authenticated, None).await,
        Err(e) if e.kind == ErrorKind::UserNotConfirmed => {
            not_confirmed(ctx, request, username).await
        }
        // Unknown users and refusals read alike: the page must not reveal who has an account.
        Err(e) => custom_auth_page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}

/// A CUSTOM_CHALLENGE: the plugin's public challenge parameters, and one answer field.
async fn custom_challenge_page(
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
        action: &format!("{}/customChallenge", ctx.path_prefix),
        button: "Sign in",
        fields: alloc::vec![Field::new("answer", "Answer", "text", "one-time-code")],
        hidden: alloc::vec![("username", username), ("session", session)],
        notice: Some(prompt),
        error,
        links: links(ctx, request, &["/login"]),
    };
    render(ctx, request, page, 200).await
}

async fn post_custom_challenge(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default();
    let session = form.first("session").unwrap_or_default();
    let answer = form.first("answer").unwrap_or_default().trim();
    let mut responses = alloc::collections::BTreeMap::new();
    responses.insert("USERNAME".to_string(), username.to_string());
    responses.insert("ANSWER".to_string(), answer.to_string());
    let origin = ctx.origin();
    let attempt = hosted_attempt(ctx, request, &origin, "");
    let outcome =
        crate::auth::custom_challenge::respond(&attempt, session, &responses, json!({})).await;
    match outcome {
        Ok((authenticated, answer_correct)) => {
            let error = (!answer_correct).then_some("That answer was not accepted. Try again.");
            next_step(ctx, request, username, authenticated, error).await
        }
        Err(e) if e.kind == ErrorKind::NotAuthorized => {
            custom_auth_page(
                ctx,
                request,
                Some("Sign-in failed or the challenge expired. Start again."),
                400,
            )
            .await
        }
        Err(e) => custom_auth_page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}

#[allow(clippy::too_many_arguments)]
async fn new_password_page(
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
        action: &format!("{}/newPassword", ctx.path_prefix),
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

async fn post_new_password(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
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
        return new_password_page(
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
    let mut responses = serde_json::Map::new();
    responses.insert("USERNAME".into(), json!(username));
    responses.insert("NEW_PASSWORD".into(), json!(new_password));
    for attr in &required {
        if let Some(v) = form.first(attr) {
            responses.insert(attr.clone(), json!(v));
        }
    }
    let body = json!({
        "ClientId": request.client.client_id,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": session,
        "ChallengeResponses": responses,
    });
    // The challenge answer issues Cognito API tokens, which the hosted UI does not hand out:
    // it signs the user in with a session and a code instead.
    match call(
        ctx,
        "RespondToAuthChallenge",
        body,
        &request.client,
        username,
    )
    .await
    {
        Ok(_) => match crate::user::resolve(ctx.env, &request.pool, username).await {
            Ok(Some((user, _))) => signed_in(ctx, request, &user).await,
            _ => login_page(ctx, request, Some("Password changed. Sign in."), None, 200).await,
        },
        Err(e) if e.kind == ErrorKind::NotAuthorized => {
            login_page(
                ctx,
                request,
                None,
                Some("Your session expired. Sign in again."),
                400,
            )
            .await
        }
        Err(e) => {
            new_password_page(
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

/// The sign-up fields: the username (unless the pool signs up with email or phone), the
/// required attributes, email, and the password.
async fn signup_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    form: &Params,
    status: u16,
) -> Response {
    let pool = &request.pool;
    let mut fields = Vec::new();
    let email_is_username = pool.username_attributes.iter().any(|a| a == "email");
    if pool.username_attributes.is_empty() {
        fields.push(
            Field::new("username", "Username", "text", "username")
                .value(form.first("username").unwrap_or_default()),
        );
    }
    let mut wanted: Vec<&str> = pool
        .schema
        .iter()
        .filter(|a| a.required && a.name != "sub")
        .map(|a| a.name.as_str())
        .collect();
    if !wanted.contains(&"email") && (email_is_username || pool.auto_verifies("email")) {
        wanted.insert(0, "email");
    }
    let mut owned: Vec<(String, String)> = Vec::new();
    for name in &wanted {
        let label = match *name {
            "email" => "Email",
            "phone_number" => "Phone number (+15551234567)",
            "name" => "Name",
            "given_name" => "Given name",
            "family_name" => "Family name",
            other => other,
        };
        owned.push((name.to_string(), label.to_string()));
    }
    for (name, label) in &owned {
        let (kind, auto) = match name.as_str() {
            "email" => ("email", "email"),
            "phone_number" => ("tel", "tel"),
            _ => ("text", "off"),
        };
        let f = Field::new(name, label, kind, auto).value(form.first(name).unwrap_or_default());
        fields.push(
            if pool.schema_attribute(name).is_some_and(|a| a.required) || name == "email" {
                f
            } else {
                f.optional()
            },
        );
    }
    fields.push(Field::new(
        "password",
        "Password",
        "password",
        "new-password",
    ));
    let page = Page {
        title: "Sign up",
        action: &format!("{}/signup", ctx.path_prefix),
        button: "Sign up",
        fields,
        hidden: Vec::new(),
        notice: None,
        error,
        links: links(ctx, request, &["/login", "/confirm"]),
    };
    render(ctx, request, page, status).await
}

async fn post_signup(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let pool = &request.pool;
    let email = form.first("email").unwrap_or_default().trim().to_string();
    let username = if pool.username_attributes.is_empty() {
        form.first("username")
            .unwrap_or_default()
            .trim()
            .to_string()
    } else if pool.username_attributes.iter().any(|a| a == "email") && !email.is_empty() {
        email.clone()
    } else {
        form.first("phone_number")
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut attributes = Vec::new();
    for (name, value) in form.iter() {
        if matches!(name, "username" | "password" | "_csrf") || value.trim().is_empty() {
            continue;
        }
        if pool.schema_attribute(name).is_some() {
            attributes.push(json!({"Name": name, "Value": value.trim()}));
        }
    }
    let body = json!({
        "ClientId": request.client.client_id,
        "Username": username,
        "Password": form.first("password").unwrap_or_default(),
        "UserAttributes": attributes,
    });
    match call(ctx, "SignUp", body, &request.client, &username).await {
        Ok(out) if out.get("UserConfirmed").and_then(Value::as_bool) == Some(true) => {
            login_page(
                ctx,
                request,
                Some("Your account is ready. Sign in."),
                None,
                200,
            )
            .await
        }
        Ok(out) => {
            let destination = out
                .pointer("/CodeDeliveryDetails/Destination")
                .and_then(Value::as_str)
                .unwrap_or("you");
            let notice = format!("We sent a confirmation code to {destination}. Enter it below.");
            confirm_page(ctx, request, &username, Some(&notice), None, 200).await
        }
        Err(e) => signup_page(ctx, request, Some(&user_message(&e)), form, 400).await,
    }
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
        title: "Confirm your account",
        action: &format!("{}/confirm", ctx.path_prefix),
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

async fn post_confirm(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let body = json!({
        "ClientId": request.client.client_id,
        "Username": username,
        "ConfirmationCode": form.first("code").unwrap_or_default().trim(),
    });
    match call(ctx, "ConfirmSignUp", body, &request.client, username).await {
        Ok(_) => {
            login_page(
                ctx,
                request,
                Some("Your account is confirmed. Sign in."),
                None,
                200,
            )
            .await
        }
        Err(e) => confirm_page(ctx, request, username, None, Some(&user_message(&e)), 400).await,
    }
}

async fn forgot_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    status: u16,
) -> Response {
    let page = Page {
        title: "Reset your password",
        action: &format!("{}/forgotPassword", ctx.path_prefix),
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

async fn confirm_forgot_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    username: &str,
    notice: Option<&str>,
    error: Option<&str>,
    status: u16,
) -> Response {
    let page = Page {
        title: "Set a new password",
        action: &format!("{}/confirmForgotPassword", ctx.path_prefix),
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

async fn post_forgot(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    if username.is_empty() {
        return forgot_page(ctx, request, Some("Enter your username."), 400).await;
    }
    let body = json!({"ClientId": request.client.client_id, "Username": username});
    match call(ctx, "ForgotPassword", body, &request.client, username).await {
        Ok(out) => {
            let destination = out
                .pointer("/CodeDeliveryDetails/Destination")
                .and_then(Value::as_str);
            let notice = match destination {
                Some(d) => format!("If the account exists, we sent a code to {d}."),
                None => "If the account exists, we sent it a code.".to_string(),
            };
            confirm_forgot_page(ctx, request, username, Some(&notice), None, 200).await
        }
        Err(e) if e.kind == ErrorKind::UserNotFound => {
            // Never tell whether the account exists.
            confirm_forgot_page(
                ctx,
                request,
                username,
                Some("If the account exists, we sent it a code."),
                None,
                200,
            )
            .await
        }
        Err(e) => forgot_page(ctx, request, Some(&user_message(&e)), 400).await,
    }
}

async fn post_confirm_forgot(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let username = form.first("username").unwrap_or_default().trim();
    let body = json!({
        "ClientId": request.client.client_id,
        "Username": username,
        "ConfirmationCode": form.first("code").unwrap_or_default().trim(),
        "Password": form.first("password").unwrap_or_default(),
    });
    match call(
        ctx,
        "ConfirmForgotPassword",
        body,
        &request.client,
        username,
    )
    .await
    {
        Ok(_) => {
            login_page(
                ctx,
                request,
                Some("Your password is reset. Sign in."),
                None,
                200,
            )
            .await
        }
        Err(e) => {
            confirm_forgot_page(ctx, request, username, None, Some(&user_message(&e)), 400).await
        }
    }
}
