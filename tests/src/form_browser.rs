//! A browser minus the rendering, for hosted-UI scenarios over plain HTTP: it follows redirects
//! by hand (to see each hop), keeps cookies and submits a page's form with its hidden fields.
//! (The real-browser test of the hosted UI drives Chromium; see tests/browser/.)

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;

use crate::Target;

/// An HTTP client that never follows redirects: the relying party's (the library requires it)
/// and the "browser" below, which follows them by hand to see each hop.
pub fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(60))
        .build()
        .unwrap()
}

/// A browser, minus the rendering: follows redirects by hand, keeps cookies, submits forms.
/// Cookies are `Secure`; like a browser on `localhost`/`127.0.0.1` (a secure context) it sends
/// them over plain HTTP to the loopback target.
#[derive(Debug)]
pub struct Browser {
    base: String,
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

#[derive(Debug)]
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Browser {
    pub fn new(target: &Target) -> Self {
        Self {
            base: target.base_url().to_owned(),
            http: no_redirects(),
            cookies: BTreeMap::new(),
        }
    }

    fn absolute(&self, url: &str) -> String {
        if url.starts_with('/') {
            format!("{}{url}", self.base)
        } else {
            url.to_owned()
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let request = if self.cookies.is_empty() {
            request
        } else {
            let jar: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            request.header("cookie", jar.join("; "))
        };
        let response = request.send().await.expect("request");
        for cookie in response.headers().get_all("set-cookie") {
            let text = cookie.to_str().unwrap();
            assert!(
                text.contains("HttpOnly") && text.contains("SameSite=Lax"),
                "cookie without HttpOnly/SameSite: {text}"
            );
            // Secure exactly when the server is reached over https (a Secure cookie over http
            // is dropped by every client but a browser on loopback).
            assert_eq!(
                text.contains("; Secure"),
                self.base.starts_with("https://"),
                "Secure does not match the scheme of {}: {text}",
                self.base
            );
            let (k, v) = text.split(';').next().unwrap().split_once('=').unwrap();
            if v.is_empty() {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_owned(), v.to_owned());
            }
        }
        Page {
            status: response.status().as_u16(),
            location: response
                .headers()
                .get("location")
                .map(|l| l.to_str().unwrap().to_owned()),
            body: response.text().await.unwrap_or_default(),
        }
    }

    pub async fn get(&mut self, url: &str) -> Page {
        let url = self.absolute(url);
        let request = self.http.get(url);
        self.send(request).await
    }

    /// Submits the page's form with `fields` (plus its hidden fields).
    pub async fn submit(&mut self, page: &Page, fields: &[(&str, &str)]) -> Page {
        let action = attribute_after(&page.body, "<form", "action").expect("a form");
        let mut form: Vec<(String, String)> = hidden_fields(&page.body);
        for (k, v) in fields {
            form.retain(|(fk, _)| fk != k);
            form.push(((*k).to_owned(), (*v).to_owned()));
        }
        let url = self.absolute(&action);
        let request = self.http.post(url).form(&form);
        self.send(request).await
    }
}

pub fn unescape(s: &str) -> String {
    s.replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn attribute_after(html: &str, element: &str, attribute: &str) -> Option<String> {
    let start = html.find(element)?;
    let rest = &html[start..];
    let needle = format!("{attribute}=\"");
    let at = rest.find(&needle)? + needle.len();
    let end = rest[at..].find('"')?;
    Some(unescape(&rest[at..at + end]))
}

pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input type=\"hidden\"")
        .skip(1)
        .filter_map(|chunk| {
            let name = attribute_after(chunk, "", "name")?;
            let value = attribute_after(chunk, "", "value")?;
            Some((name, value))
        })
        .collect()
}

pub fn query_param(url: &str, name: &str) -> Option<String> {
    let parsed = reqwest::Url::parse(url).ok()?;
    parsed
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}
