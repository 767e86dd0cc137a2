//! The hosted UI's page kit: what a page shows ([`Page`], [`Field`]), its rendering through the
//! compile-time templates in `templates/` (askama, configured by `askama.toml`), and the HTML
//! response with the UI's security headers.
//!
//! Every value a template interpolates is escaped by [`crate::html::Html`]; the one exception is the pool's
//! custom CSS (`|safe`), which is checked when it is set (no `<`, `@import`, `url()`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use askama::Template;

use crate::html::{plain_error, response as html_response};
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::session;

/// The passkey pages' script (`crate::ui::pages::passwordless` serves it).
pub const SCRIPT_PATH: &str = "/passkeys.js";

/// One input of a form.
#[derive(Debug)]
pub struct Field<'a> {
    pub name: &'a str,
    pub label: &'a str,
    /// The input's `type`.
    pub kind: &'a str,
    pub value: &'a str,
    pub autocomplete: &'a str,
    pub required: bool,
}

impl<'a> Field<'a> {
    pub fn new(name: &'a str, label: &'a str, kind: &'a str, autocomplete: &'a str) -> Self {
        Self {
            name,
            label,
            kind,
            value: "",
            autocomplete,
            required: true,
        }
    }
    pub fn value(mut self, value: &'a str) -> Self {
        self.value = value;
        self
    }
    pub fn optional(mut self) -> Self {
        self.required = false;
        self
    }
    /// The input's `id` (and its label's `for`).
    pub fn id(&self) -> String {
        format!("f-{}", self.name.replace(['.', ':'], "-"))
    }
}

/// What a page shows.
#[derive(Debug)]
pub struct Page<'a> {
    pub title: &'a str,
    /// The form's path; the authorization request's query string follows it.
    pub action: &'a str,
    pub button: &'a str,
    pub fields: Vec<Field<'a>>,
    pub hidden: Vec<(&'a str, &'a str)>,
    pub notice: Option<&'a str>,
    pub error: Option<&'a str>,
    /// `(href, text)`, from [`links`].
    pub links: Vec<(String, &'a str)>,
}

/// `templates/form.html`: a page of the hosted UI.
#[derive(Template)]
#[template(path = "form.html", config = "src/html/askama.toml")]
struct FormTemplate<'a> {
    title: &'a str,
    pool_name: &'a str,
    client_name: &'a str,
    css: Option<&'a str>,
    logo: Option<&'a str>,
    notice: Option<&'a str>,
    /// An image under the notice (a `data:` URI, as the CSP allows: the TOTP key's QR code).
    image: Option<&'a str>,
    error: Option<&'a str>,
    action: &'a str,
    query: &'a str,
    csrf_field: &'a str,
    csrf_token: &'a str,
    hidden: &'a [(&'a str, &'a str)],
    fields: &'a [Field<'a>],
    button: &'a str,
    links: &'a [(String, &'a str)],
    /// A script of Cognate's to load (the passkey pages' `/passkeys.js`).
    script: Option<&'a str>,
}

/// Renders a page with the pool's or client's branding.
pub async fn render(ctx: &Ctx<'_>, request: &AuthRequest, page: Page<'_>, status: u16) -> Response {
    render_with_image(ctx, request, page, None, status).await
}

/// [`render`], with the passkey pages' script (and a CSP that lets it, and only it, run).
pub async fn render_with_script(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    page: Page<'_>,
    status: u16,
) -> Response {
    let src = format!("{}{SCRIPT_PATH}", ctx.path_prefix);
    render_page(ctx, request, page, None, Some(&src), status).await
}

/// [`render`], with an image (a `data:` URI) under the page's notice.
pub async fn render_with_image(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    page: Page<'_>,
    image: Option<&str>,
    status: u16,
) -> Response {
    render_page(ctx, request, page, image, None, status).await
}

async fn render_page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    page: Page<'_>,
    image: Option<&str>,
    script: Option<&str>,
    status: u16,
) -> Response {
    let csrf = match session::csrf(ctx, &request.pool.id).await {
        Ok(c) => c,
        Err(_) => return plain_error(500, "The server could not render this page."),
    };
    let branding = crate::oidc::branding::ui_customization(
        ctx.env,
        &request.pool.id,
        Some(&request.client.client_id),
    )
    .await
    .ok()
    .flatten()
    .map(|(_, b)| b);
    let logo = branding.as_ref().and_then(|b| b.image_url());
    let html = FormTemplate {
        title: page.title,
        pool_name: &request.pool.name,
        client_name: &request.client.client_name,
        css: branding.as_ref().and_then(|b| b.css.as_deref()),
        logo: logo.as_deref(),
        notice: page.notice,
        image,
        error: page.error,
        action: page.action,
        query: &request.query,
        csrf_field: session::CSRF_FIELD,
        csrf_token: &csrf.token,
        hidden: &page.hidden,
        fields: &page.fields,
        button: page.button,
        links: &page.links,
        script,
    }
    .render();
    let Ok(html) = html else {
        return plain_error(500, "The server could not render this page.");
    };
    let mut response = if script.is_some() {
        crate::html::response_with_scripts(status, html)
    } else {
        html_response(status, html)
    };
    if let Some(cookie) = csrf.set_cookie {
        response = response.with_header("set-cookie", &cookie);
    }
    response
}

/// Links to other pages of the hosted UI (by path), each carrying the authorization request.
pub fn links(
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
                "/passkeySignIn" => "Sign in with a passkey",
                "/codeSignIn" => "Sign in with a one-time code",
                _ => "",
            };
            (format!("{}{w}?{}", ctx.path_prefix, request.query), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use crate::html::Html;

    fn escaped(text: &str) -> String {
        let mut out = String::new();
        askama::filters::Escaper::write_escaped_str(&Html, &mut out, text).unwrap();
        out
    }

    #[test]
    fn escapes_the_five_characters_with_named_references() {
        assert_eq!(
            escaped("a&b<c>d\"e'f – é"),
            "a&amp;b&lt;c&gt;d&quot;e&#39;f – é"
        );
        assert_eq!(escaped(""), "");
        assert_eq!(escaped("plain"), "plain");
    }

    #[test]
    fn interpolated_values_are_escaped_and_the_structure_is_kept() {
        let fields = [Field::new("userAttributes.custom:x", "<b>", "text", "off").value("\"v\"")];
        let links = [(String::from("/login?a=1&b=2"), "Back to sign in")];
        let html = FormTemplate {
            title: "T<",
            pool_name: "P&",
            client_name: "C\"",
            css: None,
            logo: None,
            notice: Some("n'"),
            image: None,
            error: None,
            action: "/login",
            query: "a=1&b=2",
            csrf_field: "_csrf",
            csrf_token: "tok",
            hidden: &[("session", "s\"<")],
            fields: &fields,
            button: "Go",
            links: &links,
            script: None,
        }
        .render()
        .unwrap();
        assert!(html.contains("<title>T&lt; – P&amp;</title>"), "{html}");
        assert!(
            html.contains("<div class=\"pool-name\">C&quot;</div>"),
            "{html}"
        );
        assert!(
            html.contains("<p class=\"notice\" role=\"status\">n&#39;</p>"),
            "{html}"
        );
        assert!(!html.contains("form-error"), "{html}");
        assert!(
            html.contains("<form method=\"post\" action=\"/login?a=1&amp;b=2\" novalidate>"),
            "{html}"
        );
        assert!(
            html.contains("<input type=\"hidden\" name=\"_csrf\" value=\"tok\">"),
            "{html}"
        );
        assert!(
            html.contains("<input type=\"hidden\" name=\"session\" value=\"s&quot;&lt;\">"),
            "{html}"
        );
        assert!(html.contains("<label for=\"f-userAttributes-custom-x\">&lt;b&gt;</label>"));
        assert!(html.contains("<input id=\"f-userAttributes-custom-x\" name=\"userAttributes.custom:x\" type=\"text\" value=\"&quot;v&quot;\" autocomplete=\"off\" required aria-required=\"true\">"), "{html}");
        assert!(
            html.contains("<a href=\"/login?a=1&amp;b=2\">Back to sign in</a>"),
            "{html}"
        );
    }
}
