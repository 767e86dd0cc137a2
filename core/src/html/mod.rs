//! HTML responses: the compile-time templates in `templates/` (askama, configured by
//! `askama.toml`), the escaper every template uses, and the security headers every page carries.
//! The hosted UI's pages (`crate::ui`) and the authorization server's error pages
//! (`crate::oidc`) are both rendered here.

use alloc::string::String;
use core::fmt;

use askama::Template;

use crate::http::Response;

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

/// `templates/error.html`: an error and nothing to do.
#[derive(Template)]
#[template(path = "error.html", config = "src/html/askama.toml")]
struct ErrorTemplate<'a> {
    message: &'a str,
}

pub fn response(status: u16, html: String) -> Response {
    response_with_csp(
        status,
        html,
        "default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
    )
}

/// [`response`] for a page that runs Cognate's own scripts (the hosted UI's passkey pages):
/// scripts from this origin only, nothing inline.
pub fn response_with_scripts(status: u16, html: String) -> Response {
    response_with_csp(
        status,
        html,
        "default-src 'none'; script-src 'self'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'none'; base-uri 'none'",
    )
}

fn response_with_csp(status: u16, html: String, csp: &str) -> Response {
    Response::new(status)
        .with_header("content-type", "text/html; charset=utf-8")
        .with_header("cache-control", "no-store")
        .with_header("content-security-policy", csp)
        .with_header("x-frame-options", "DENY")
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
        .with_body(html.into_bytes())
}

/// `templates/notice.html`: news for the user and nothing to do.
#[derive(Template)]
#[template(path = "notice.html", config = "src/html/askama.toml")]
struct NoticeTemplate<'a> {
    title: &'a str,
    message: &'a str,
}

/// A page with a heading and `message`, nothing to do (200).
pub fn notice(title: &str, message: &str) -> Response {
    let html = NoticeTemplate { title, message }
        .render()
        .unwrap_or_else(|_| String::from("<!doctype html>\n<title>Done</title>\n"));
    response(200, html)
}

/// A page with `message` and nothing else, with `status`.
pub fn plain_error(status: u16, message: &str) -> Response {
    // Rendering into a String cannot fail but for a failing `Display`, which no field has.
    let html = ErrorTemplate { message }
        .render()
        .unwrap_or_else(|_| String::from("<!doctype html>\n<title>Error</title>\n"));
    response(status, html)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_page_escapes_its_message() {
        let html = ErrorTemplate { message: "<x>" }.render().unwrap();
        assert!(
            html.contains("<p class=\"error\" role=\"alert\">&lt;x&gt;</p>"),
            "{html}"
        );
    }
}
