//! The hosted UI's page kit: what a page shows ([`Page`], [`Field`]), its rendering through the
//! compile-time templates in `templates/` (askama, configured by `askama.toml`), and the HTML
//! response with the UI's security headers.
//!
//! Every value a template interpolates is escaped by [`Html`]; the one exception is the pool's
//! custom CSS (`|safe`), which is checked when it is set (no `<`, `@import`, `url()`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt;

use askama::Template;

use super::session;
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::error::OAuthError;

/// The templates' HTML escaper, for element content and double-quoted attribute values.
///
/// askama's own escaper writes numeric references (`&#38;`, `&#34;`); this one keeps the named
/// ones the hosted UI has always sent (`&amp;`, `&quot;`), which clients that scrape the forms
/// decode (tests/src/form_browser.rs reads the form's `action` that way).
#[derive(Debug, Clone, Copy, Default)]
pub struct Html;

impl askama::filters::Escaper for Html {
    fn write_escaped_str<W: fmt::Write>(&self, mut dest: W, text: &str) -> fmt::Result {
        let mut rest = text;
        while let Some(at) = rest.find(['&', '<', '>', '"', '\'']) {
            let (plain, tail) = rest.split_at(at);
            dest.write_str(plain)?;
            let mut chars = tail.chars();
            dest.write_str(match chars.next() {
                Some('&') => "&amp;",
                Some('<') => "&lt;",
                Some('>') => "&gt;",
                Some('"') => "&quot;",
                _ => "&#39;",
            })?;
            rest = chars.as_str();
        }
        dest.write_str(rest)
    }
}

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
#[template(path = "form.html", config = "src/ui/askama.toml")]
struct FormTemplate<'a> {
    title: &'a str,
    pool_name: &'a str,
    client_name: &'a str,
    css: Option<&'a str>,
    logo: Option<&'a str>,
    notice: Option<&'a str>,
    error: Option<&'a str>,
    action: &'a str,
    query: &'a str,
    csrf_field: &'a str,
    csrf_token: &'a str,
    hidden: &'a [(&'a str, &'a str)],
    fields: &'a [Field<'a>],
    button: &'a str,
    links: &'a [(String, &'a str)],
}

/// `templates/error.html`: an error and nothing to do.
#[derive(Template)]
#[template(path = "error.html", config = "src/ui/askama.toml")]
struct ErrorTemplate<'a> {
    message: &'a str,
}

/// Renders a page with the pool's or client's branding.
pub async fn render(ctx: &Ctx<'_>, request: &AuthRequest, page: Page<'_>, status: u16) -> Response {
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
        error: page.error,
        action: page.action,
        query: &request.query,
        csrf_field: session::CSRF_FIELD,
        csrf_token: &csrf.token,
        hidden: &page.hidden,
        fields: &page.fields,
        button: page.button,
        links: &page.links,
    }
    .render();
    let Ok(html) = html else {
        return plain_error(500, "The server could not render this page.");
    };
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

/// A page with `message` and nothing else, with `status`.
pub fn plain_error(status: u16, message: &str) -> Response {
    // Rendering into a String cannot fail but for a failing `Display`, which no field has.
    let html = ErrorTemplate { message }
        .render()
        .unwrap_or_else(|_| String::from("<!doctype html>\n<title>Error</title>\n"));
    html_response(status, html)
}

/// The page for an authorization error that must not be redirected (unknown client, redirect URI
/// not registered).
pub fn error_page(_ctx: &Ctx<'_>, error: &OAuthError) -> Response {
    plain_error(
        400,
        &format!("{}: {}", error.code.as_str(), error.description),
    )
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
            error: None,
            action: "/login",
            query: "a=1&b=2",
            csrf_field: "_csrf",
            csrf_token: "tok",
            hidden: &[("session", "s\"<")],
            fields: &fields,
            button: "Go",
            links: &links,
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

    #[test]
    fn the_error_page_escapes_its_message() {
        let html = ErrorTemplate { message: "<x>" }.render().unwrap();
        assert!(
            html.contains("<p class=\"error\" role=\"alert\">&lt;x&gt;</p>"),
            "{html}"
        );
    }
}
