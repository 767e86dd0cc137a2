//! The admin console (issue 25): a single-page app at `/console/` for operators, served by every
//! runtime from files built into the core (no build step, no external requests).
//!
//! It is a client of Cognate's own APIs and nothing else: every action is the SigV4-signed call
//! the AWS CLI would send (`AWSCognitoIdentityProviderService.*`, `AWSCognitoIdentityService.*`,
//! `CognatePlugins.*`, `CognateInsights.*`), signed in the browser with the admin key the
//! operator types in and the page keeps in `sessionStorage`. Serving these files grants nothing:
//! without a valid key every call is refused by the API itself.
//!
//! The pages carry a strict Content-Security-Policy: scripts, styles and API calls only from
//! this origin, no inline script or style, no frames.

use alloc::string::String;
use alloc::vec::Vec;

use crate::config::Config;
use crate::http::{Request, Response};

/// Where the console lives.
pub const PATH: &str = "/console";

/// The policy every console response carries.
const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; \
     form-action 'none'; frame-ancestors 'none'";

/// The placeholder in `index.html` replaced by the server's default region.
const REGION_PLACEHOLDER: &str = "{{REGION}}";

/// One file of the console.
struct Asset {
    name: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

#[cfg(feature = "console")]
macro_rules! asset {
    ($name:literal, $type:expr) => {
        Asset {
            name: $name,
            content_type: $type,
            body: include_bytes!(concat!("assets/", $name)),
        }
    };
}

#[cfg(feature = "console")]
const JS: &str = "text/javascript; charset=utf-8";

#[cfg(feature = "console")]
static ASSETS: &[Asset] = &[
    asset!("index.html", "text/html; charset=utf-8"),
    asset!("console.css", "text/css; charset=utf-8"),
    asset!("app.js", JS),
    asset!("api.js", JS),
    asset!("dom.js", JS),
    asset!("pools.js", JS),
    asset!("users.js", JS),
    asset!("clients.js", JS),
    asset!("settings.js", JS),
    asset!("identity.js", JS),
    asset!("plugins.js", JS),
    asset!("activity.js", JS),
    asset!("vendor/aws4fetch.esm.js", JS),
    asset!("vendor/uPlot.iife.min.js", JS),
    asset!("vendor/uPlot.min.css", "text/css; charset=utf-8"),
];

/// This build leaves the console out (the `console` feature): every path answers 404.
#[cfg(not(feature = "console"))]
static ASSETS: &[Asset] = &[];

/// Why a build without the console answers 404.
pub const NOT_SERVED: &str = "The admin console is not served by this build (it was built without \
     the console feature); open a host's /console/ instead.";

/// Whether `path` is the console's.
pub fn is_console_path(path: &str) -> bool {
    path == PATH || path.starts_with("/console/")
}

/// Serves one console file (`GET`/`HEAD`).
pub fn respond(config: &Config, request: &Request) -> Response {
    if request.method != "GET" && request.method != "HEAD" {
        return crate::http::AwsError::new(
            405,
            "MethodNotAllowed",
            "The console is read with GET.",
        )
        .content_type("application/json")
        .response();
    }
    // Relative links in the page resolve under `/console/`.
    if request.path == PATH {
        return Response::new(308).with_header("location", "/console/");
    }
    let name = request.path.strip_prefix("/console/").unwrap_or_default();
    let name = if name.is_empty() { "index.html" } else { name };
    let Some(asset) = ASSETS.iter().find(|a| a.name == name) else {
        let why = if ASSETS.is_empty() {
            NOT_SERVED
        } else {
            "No such console file."
        };
        return crate::http::AwsError::new(404, "NotFound", why)
            .content_type("application/json")
            .response();
    };
    let body: Vec<u8> = if asset.name == "index.html" {
        String::from_utf8_lossy(asset.body)
            .replace(
                REGION_PLACEHOLDER,
                &escape_attribute(&config.default_region),
            )
            .into_bytes()
    } else {
        asset.body.to_vec()
    };
    let body = if request.method == "HEAD" {
        Vec::new()
    } else {
        body
    };
    Response::new(200)
        .with_header("content-type", asset.content_type)
        .with_header("content-security-policy", CONTENT_SECURITY_POLICY)
        .with_header("x-content-type-options", "nosniff")
        .with_header("referrer-policy", "no-referrer")
        .with_header("cache-control", "no-cache")
        .with_body(body)
}

/// The region as an HTML attribute value (operators choose it; it is still escaped).
fn escape_attribute(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
        .collect()
}

#[cfg(all(test, feature = "console"))]
mod tests {
    use super::*;

    fn get(path: &str) -> Response {
        let config = Config::new("http://127.0.0.1:9229", "eu-west-1");
        respond(&config, &Request::new("GET", path))
    }

    #[test]
    fn every_page_and_script_carries_the_strict_policy() {
        for asset in ASSETS {
            let response = get(&alloc::format!("/console/{}", asset.name));
            assert_eq!(response.status, 200, "{}", asset.name);
            assert_eq!(
                response.header("content-security-policy"),
                Some(CONTENT_SECURITY_POLICY)
            );
            assert_eq!(response.header("content-type"), Some(asset.content_type));
        }
    }

    #[test]
    fn the_page_names_the_server_region_and_links_only_its_own_files() {
        let page = String::from_utf8(get("/console/").body).unwrap();
        assert!(page.contains("data-region=\"eu-west-1\""), "{page}");
        assert!(!page.contains(REGION_PLACEHOLDER));
        assert!(
            !page.contains("http://") && !page.contains("https://"),
            "{page}"
        );
    }

    #[test]
    fn the_bare_path_redirects_and_unknown_files_are_not_found() {
        let bare = get("/console");
        assert_eq!(
            (bare.status, bare.header("location")),
            (308, Some("/console/"))
        );
        assert_eq!(get("/console/../admin-credentials.toml").status, 404);
        assert_eq!(get("/console/nope.js").status, 404);
        let config = Config::new("http://127.0.0.1:9229", "eu-west-1");
        assert_eq!(
            respond(&config, &Request::new("POST", "/console/")).status,
            405
        );
    }
}
