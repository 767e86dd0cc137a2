//! Small bridges to JavaScript: values through JSON, the global `fetch` and `crypto`, WebCrypto.

use js_sys::{Array, Function, Object, Promise, Reflect, Uint8Array};
use serde::Serialize;
use wasm_bindgen::{JsCast as _, JsValue};
use wasm_bindgen_futures::JsFuture;

use crate::error::{AuthError, Result, from_js, names};

/// A call's input object (plain data), read field by field. Inputs go through one generic JSON
/// value rather than a derived deserializer per input type: that keeps the module small.
#[derive(Debug)]
pub struct Input {
    value: serde_json::Value,
    what: &'static str,
}

impl Input {
    pub fn new(value: &JsValue, what: &'static str) -> Result<Self> {
        let value = if value.is_undefined() || value.is_null() {
            serde_json::Value::Null
        } else {
            let text = js_sys::JSON::stringify(value)
                .map_err(|e| from_js(names::VALIDATION, e))?
                .as_string()
                .unwrap_or_default();
            serde_json::from_str(&text)
                .map_err(|e| AuthError::new(names::VALIDATION, format!("{what}: {e}")))?
        };
        Ok(Self { value, what })
    }

    fn at(&self, path: &[&str]) -> Option<&serde_json::Value> {
        path.iter().try_fold(&self.value, |v, key| v.get(key))
    }

    /// A string member (`options.authFlowType`: `&["options", "authFlowType"]`).
    pub fn string(&self, path: &[&str]) -> Option<String> {
        self.at(path).and_then(|v| v.as_str()).map(str::to_owned)
    }

    /// A string member that must be there.
    pub fn required(&self, name: &str) -> Result<String> {
        self.string(&[name]).ok_or_else(|| {
            AuthError::new(
                names::VALIDATION,
                format!("{}: {name} is required", self.what),
            )
        })
    }

    pub fn flag(&self, path: &[&str]) -> bool {
        self.at(path).and_then(|v| v.as_bool()).unwrap_or(false)
    }

    pub fn number(&self, path: &[&str]) -> Option<f64> {
        self.at(path).and_then(|v| v.as_f64())
    }

    /// An object of strings (attributes, client metadata); other values are written as JSON.
    pub fn strings(&self, path: &[&str]) -> std::collections::BTreeMap<String, String> {
        self.at(path)
            .and_then(|v| v.as_object())
            .map(|object| {
                object
                    .iter()
                    .map(|(k, v)| match v.as_str() {
                        Some(s) => (k.clone(), s.to_owned()),
                        None => (k.clone(), v.to_string()),
                    })
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A string, or the first of a list of strings (Amplify's `redirectSignIn`).
    pub fn first_string(&self, path: &[&str]) -> Option<String> {
        match self.at(path)? {
            serde_json::Value::Array(list) => list.first()?.as_str().map(str::to_owned),
            other => other.as_str().map(str::to_owned),
        }
    }

    pub fn string_list(&self, path: &[&str]) -> Option<Vec<String>> {
        self.at(path)?.as_array().map(|list| {
            list.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
    }

    pub fn has(&self, path: &[&str]) -> bool {
        self.at(path).is_some_and(|v| !v.is_null())
    }
}

/// A Rust value as a plain JS object, through `JSON.parse`.
pub fn to_value<T: Serialize>(value: &T) -> JsValue {
    serde_json::to_string(value)
        .ok()
        .and_then(|text| js_sys::JSON::parse(&text).ok())
        .unwrap_or(JsValue::UNDEFINED)
}

/// `object[key]`, `undefined` if absent or not an object.
pub fn get(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

pub fn set(object: &Object, key: &str, value: &JsValue) {
    // Setting a property on a fresh plain object cannot fail.
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// Awaits `value` if it is a promise (custom storage and fetch may be sync or async).
pub async fn settle(value: JsValue) -> std::result::Result<JsValue, JsValue> {
    match value.dyn_into::<Promise>() {
        Ok(promise) => JsFuture::from(promise).await,
        Err(plain) => Ok(plain),
    }
}

/// Calls `this[method](args...)`, awaiting a returned promise.
pub async fn call_method(this: &JsValue, method: &str, args: &[JsValue]) -> Result<JsValue> {
    let function: Function = get(this, method)
        .dyn_into()
        .map_err(|_| AuthError::new(names::CONFIG, format!("storage has no {method} method")))?;
    let array: Array = args.iter().collect();
    let value = function
        .apply(this, &array)
        .map_err(|e| from_js(names::CONFIG, e))?;
    settle(value).await.map_err(|e| from_js(names::CONFIG, e))
}

/// A response read in full.
#[derive(Debug)]
pub struct HttpResponse {
    pub status: u16,
    pub body: String,
}

/// `fetch(url, {method: "POST", headers, body})` with the configured (or the global) `fetch`.
pub async fn post(
    fetch: Option<&Function>,
    url: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Result<HttpResponse> {
    let init = Object::new();
    set(&init, "method", &"POST".into());
    let header_object = Object::new();
    for (name, value) in headers {
        set(&header_object, name, &JsValue::from_str(value));
    }
    set(&init, "headers", &header_object);
    set(&init, "body", &body.into());
    send(fetch, url, &init).await
}

/// `fetch(url)` (GET).
pub async fn get_url(fetch: Option<&Function>, url: &str) -> Result<HttpResponse> {
    send(fetch, url, &Object::new()).await
}

async fn send(fetch: Option<&Function>, url: &str, init: &Object) -> Result<HttpResponse> {
    let global = js_sys::global();
    let function: Function = match fetch {
        Some(f) => f.clone(),
        None => get(&global, "fetch")
            .dyn_into()
            .map_err(|_| AuthError::new(names::NETWORK, "no global fetch"))?,
    };
    let network = |e| from_js(names::NETWORK, e);
    let promise = function
        .call2(&global, &JsValue::from_str(url), init)
        .map_err(network)?;
    let response: web_sys::Response = settle(promise)
        .await
        .map_err(network)?
        .dyn_into()
        .map_err(|_| AuthError::new(names::NETWORK, "fetch did not return a Response"))?;
    let text = JsFuture::from(response.text().map_err(network)?)
        .await
        .map_err(network)?;
    Ok(HttpResponse {
        status: response.status(),
        body: text.as_string().unwrap_or_default(),
    })
}

/// `crypto.subtle` of the window or worker.
pub fn crypto() -> Result<web_sys::Crypto> {
    get(&js_sys::global(), "crypto")
        .dyn_into()
        .map_err(|_| AuthError::new(names::CONFIG, "WebCrypto is not available"))
}

/// `n` random bytes from `crypto.getRandomValues`.
pub fn random_bytes(n: usize) -> Result<Vec<u8>> {
    let mut bytes = vec![0u8; n];
    crypto()?
        .get_random_values_with_u8_array(&mut bytes)
        .map_err(|e| from_js(names::CONFIG, e))?;
    Ok(bytes)
}

/// SHA-256 by `crypto.subtle.digest`.
pub async fn sha256(data: &[u8]) -> Result<Vec<u8>> {
    let promise = crypto()?
        .subtle()
        .digest_with_str_and_u8_array("SHA-256", data)
        .map_err(|e| from_js(names::CONFIG, e))?;
    let digest = JsFuture::from(promise)
        .await
        .map_err(|e| from_js(names::CONFIG, e))?;
    Ok(Uint8Array::new(&digest).to_vec())
}

/// Imports an RSA public JWK for RS256 verification.
pub async fn import_rs256_key(jwk: &JsValue) -> Result<web_sys::CryptoKey> {
    let algorithm = Object::new();
    set(&algorithm, "name", &"RSASSA-PKCS1-v1_5".into());
    set(&algorithm, "hash", &"SHA-256".into());
    let usages: Array = std::iter::once(JsValue::from_str("verify")).collect();
    let jwk: Object = jwk.clone().unchecked_into();
    let promise = crypto()?
        .subtle()
        .import_key_with_object("jwk", &jwk, &algorithm, false, &usages)
        .map_err(|e| from_js(names::TOKEN, e))?;
    JsFuture::from(promise)
        .await
        .map_err(|e| from_js(names::TOKEN, e))?
        .dyn_into()
        .map_err(|_| AuthError::new(names::TOKEN, "importKey did not return a CryptoKey"))
}

/// Verifies an RS256 signature.
pub async fn verify_rs256(key: &web_sys::CryptoKey, signature: &[u8], data: &[u8]) -> Result<bool> {
    let promise = crypto()?
        .subtle()
        .verify_with_str_and_u8_array_and_u8_array("RSASSA-PKCS1-v1_5", key, signature, data)
        .map_err(|e| from_js(names::TOKEN, e))?;
    let verdict = JsFuture::from(promise)
        .await
        .map_err(|e| from_js(names::TOKEN, e))?;
    Ok(verdict.as_bool() == Some(true))
}

/// Milliseconds since the Unix epoch.
pub fn now_millis() -> f64 {
    js_sys::Date::now()
}
