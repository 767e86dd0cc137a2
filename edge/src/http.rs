//! Translation between the runtime's HTTP types and the core's, and the JWKS cache.

use cognate_core::{Request, Response, Service};
use worker::Headers;

use crate::EdgeEnv;

/// The largest request body accepted, as on the host (Cognito's requests are small).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

/// An error the adapter answers itself, shaped like the core's (Cognito JSON 1.1) errors, with
/// CORS like every response.
pub fn adapter_error(status: u16, error_type: &str, message: &str) -> Response {
    cognate_core::http::AwsError::new(status, error_type, message)
        .response()
        .with_header("access-control-allow-origin", "*")
}

fn too_large() -> Response {
    adapter_error(
        413,
        "RequestEntityTooLargeException",
        &format!("The request body exceeds {MAX_BODY_BYTES} bytes."),
    )
}

/// The core's request for a runtime request (whole body read), or the answer to a request
/// the adapter refuses itself (oversized or unreadable body).
pub async fn to_core(mut req: worker::Request) -> worker::Result<Result<Request, Response>> {
    let declared = req
        .headers()
        .get("content-length")?
        .and_then(|v| v.trim().parse::<u64>().ok());
    if declared.is_some_and(|len| len > MAX_BODY_BYTES as u64) {
        return Ok(Err(too_large()));
    }
    let url = req.url()?;
    let method = req.method().to_string();
    let mut headers = Vec::new();
    for (name, value) in req.headers().entries() {
        headers.push((name.to_ascii_lowercase(), value));
    }
    let remote_addr = req.headers().get("cf-connecting-ip")?;
    let body = match method.as_str() {
        "GET" | "HEAD" | "OPTIONS" => Vec::new(),
        _ => match req.bytes().await {
            Ok(body) => body,
            Err(_) => {
                return Ok(Err(adapter_error(
                    400,
                    "SerializationException",
                    "Could not read the request body.",
                )));
            }
        },
    };
    if body.len() > MAX_BODY_BYTES {
        return Ok(Err(too_large()));
    }
    Ok(Ok(Request {
        method,
        path: url.path().to_owned(),
        query: url.query().unwrap_or_default().to_owned(),
        headers,
        body,
        remote_addr,
    }))
}

/// The runtime's response for a core response.
pub fn from_core(response: Response) -> worker::Result<worker::Response> {
    let headers = Headers::new();
    for (name, value) in &response.headers {
        headers.append(name, value)?;
    }
    let builder = worker::ResponseBuilder::new()
        .with_status(response.status)
        .with_headers(headers);
    // Null-body statuses may not carry a body (the Response constructor refuses one).
    if matches!(response.status, 101 | 204 | 205 | 304) || response.body.is_empty() {
        Ok(builder.empty())
    } else {
        Ok(builder.fixed(response.body))
    }
}

/// The pool of a `GET /<poolId>/.well-known/jwks.json`.
pub fn jwks_pool(request: &Request) -> Option<String> {
    if request.method != "GET" {
        return None;
    }
    request
        .path
        .strip_prefix('/')
        .and_then(|p| p.strip_suffix("/.well-known/jwks.json"))
        .filter(|p| !p.is_empty() && !p.contains('/'))
        .map(str::to_owned)
}

/// The KV entry caching a pool's JWKS document (public keys only).
pub fn jwks_cache_key(pool_id: &str) -> String {
    format!("jwks/v1/{pool_id}")
}

/// How long a JWKS document stays in KV, in seconds (verifiers cache it for as long).
pub const JWKS_TTL_SECONDS: u64 = 300;

/// `GET /<poolId>/.well-known/jwks.json`, from KV when cached, else from the core (and then
/// cached). Only successful answers are cached.
pub async fn jwks_cached(
    service: &Service,
    edge: &EdgeEnv,
    env: &worker::Env,
    request: cognate_core::Request,
    pool_id: &str,
) -> worker::Result<worker::Response> {
    let kv = env.kv(crate::CACHE_BINDING).ok();
    if let Some(kv) = &kv
        && let Ok(Some(body)) = kv.get(&jwks_cache_key(pool_id)).text().await
    {
        let cached = Response::json(200, "application/json", body.into_bytes())
            .with_header("cache-control", "public, max-age=300")
            .with_header("access-control-allow-origin", "*")
            .with_header("x-cognate-cache", "hit");
        return from_core(cached);
    }
    let response = service.handle(request, edge).await;
    if response.status == 200
        && let Some(kv) = &kv
        && let Ok(text) = String::from_utf8(response.body.clone())
        && let Ok(put) = kv.put(&jwks_cache_key(pool_id), text)
    {
        let _ = put.expiration_ttl(JWKS_TTL_SECONDS).execute().await;
    }
    from_core(response)
}
