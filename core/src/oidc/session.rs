//! The hosted UI's session cookie and CSRF tokens.
//!
//! - Session: `cognate-session-<poolId>=<token>.<mac>`. The token is 32 random bytes; the store
//!   holds only its SHA-256 digest (`p/<poolId>/hs/<digest>`) with the user and the sign-in
//!   time; the MAC (HMAC-SHA256 under the pool's UI key) lets a forged cookie be refused without
//!   a store read. `HttpOnly; SameSite=Lax; Path=/` (`Secure` when the base URL is https) and the configured lifetime. Lax,
//!   not Strict: the relying party sends the browser to `/oauth2/authorize` with a top-level
//!   GET from its own site, and that request must carry the session.
//! - CSRF (double submit, signed): a random `cognate-csrf` cookie, and in every form the HMAC of
//!   that cookie under the pool's UI key. A POST whose field does not match its cookie is
//!   refused before anything else runs.
//!
//! The pool's UI key (`p/<poolId>/ui-key`, 32 random bytes) is created on first use with a
//! create-only write.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use hmac::{KeyInit, Mac};
use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::oidc::Ctx;
use crate::oidc::form;
use crate::pool::PoolRecord;
use crate::ports::Env;
use crate::store::{Expect, StoreError, keys};
use crate::user::{self, UserRecord};

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// The CSRF cookie's name.
pub const CSRF_COOKIE: &str = "cognate-csrf";
/// The CSRF form field's name.
pub const CSRF_FIELD: &str = "_csrf";

pub fn session_cookie_name(pool_id: &str) -> String {
    format!("cognate-session-{pool_id}")
}

/// The pool's UI key, created on first use.
pub async fn ui_key(env: &dyn Env, pool_id: &str) -> Result<Vec<u8>, Error> {
    let key = keys::hosted_ui_key(pool_id);
    for _ in 0..3 {
        if let Some(item) = env.store().get(&key).await? {
            return Ok(item.value);
        }
        let mut fresh = [0u8; 32];
        env.random().fill(&mut fresh);
        match env.store().put(&key, &fresh, Expect::Absent).await {
            Ok(_) => return Ok(fresh.to_vec()),
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(Error::internal("could not create the UI key"))
}

fn mac(key: &[u8], purpose: &str, value: &str) -> Option<HmacSha256> {
    let mut m = <HmacSha256 as KeyInit>::new_from_slice(key).ok()?;
    m.update(purpose.as_bytes());
    m.update(&[0]);
    m.update(value.as_bytes());
    Some(m)
}

fn mac_b64(key: &[u8], purpose: &str, value: &str) -> String {
    mac(key, purpose, value)
        .map(|m| crate::token::b64url(&m.finalize().into_bytes()))
        .unwrap_or_default()
}

fn is_https(ctx: &Ctx<'_>) -> bool {
    ctx.config
        .base_url
        .get(..8)
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case("https://"))
}

/// Verifies `given` (base64url) as the MAC of `value`, in constant time.
fn mac_ok(key: &[u8], purpose: &str, value: &str, given: &str) -> bool {
    let Some(bytes) = crate::token::b64url_decode(given) else {
        return false;
    };
    mac(key, purpose, value).is_some_and(|m| m.verify_slice(&bytes).is_ok())
}

/// `Secure` only when the public base URL is https: over plain http (a local run, a test) a
/// `Secure` cookie is kept by browsers on loopback alone, and every other client (curl, Python
/// requests, server-side OIDC libraries) drops it, so the sign-in form's CSRF check would fail.
fn cookie_attributes(ctx: &Ctx<'_>, max_age: Option<u64>) -> String {
    let mut attrs = String::from("; Path=/; HttpOnly");
    if is_https(ctx) {
        attrs.push_str("; Secure");
    }
    attrs.push_str("; SameSite=Lax");
    if let Some(age) = max_age {
        attrs.push_str(&format!("; Max-Age={age}"));
    }
    attrs
}

/// The CSRF state of a page view: the cookie value (new or presented) and the form token.
#[derive(Debug, Clone)]
pub struct Csrf {
    /// `Set-Cookie` to send, when the browser had no CSRF cookie yet.
    pub set_cookie: Option<String>,
    /// The hidden form field's value.
    pub token: String,
}

/// The CSRF cookie and form token for a page of `pool_id`.
pub async fn csrf(ctx: &Ctx<'_>, pool_id: &str) -> Result<Csrf, Error> {
    let key = ui_key(ctx.env, pool_id).await?;
    let presented = form::cookie(ctx.request.header("cookie"), CSRF_COOKIE)
        .filter(|v| (32..=64).contains(&v.len()))
        .map(ToString::to_string);
    let (value, set_cookie) = match presented {
        Some(v) => (v, None),
        None => {
            let v = crate::ids::random_token(ctx.env.random(), 32);
            let cookie = format!("{CSRF_COOKIE}={v}{}", cookie_attributes(ctx, None));
            (v, Some(cookie))
        }
    };
    Ok(Csrf {
        set_cookie,
        token: mac_b64(&key, "csrf", &value),
    })
}

/// Whether a POST's form token matches its CSRF cookie.
pub async fn csrf_ok(ctx: &Ctx<'_>, pool_id: &str, field: Option<&str>) -> Result<bool, Error> {
    let Some(cookie) = form::cookie(ctx.request.header("cookie"), CSRF_COOKIE) else {
        return Ok(false);
    };
    let Some(field) = field else {
        return Ok(false);
    };
    let key = ui_key(ctx.env, pool_id).await?;
    Ok(mac_ok(&key, "csrf", cookie, field))
}

/// A stored hosted-UI session (under the SHA-256 of the cookie's token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRecord {
    pub username_key: String,
    pub sub: String,
    pub auth_time: u64,
    pub created_millis: u64,
    pub expires_millis: u64,
    /// How the user signed in through a SAML IdP, for single logout (`IDPSignout`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub saml: Option<SamlSession>,
}

/// The SAML IdP a session's user signed in through: what a `LogoutRequest` names.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SamlSession {
    pub provider_name: String,
    pub name_id: String,
    #[serde(default)]
    pub name_id_format: Option<String>,
    #[serde(default)]
    pub session_index: Option<String>,
}

/// Starts a session for a signed-in user; returns the `Set-Cookie` value.
pub async fn start(ctx: &Ctx<'_>, pool: &PoolRecord, user: &UserRecord) -> Result<String, Error> {
    start_with(ctx, pool, user, None).await
}

/// [`start`], remembering the SAML IdP the user signed in through.
pub async fn start_with(
    ctx: &Ctx<'_>,
    pool: &PoolRecord,
    user: &UserRecord,
    saml: Option<SamlSession>,
) -> Result<String, Error> {
    let key = ui_key(ctx.env, &pool.id).await?;
    let token = crate::ids::random_token(ctx.env.random(), 32);
    let now = ctx.env.clock().now_millis();
    let lifetime = ctx.config.hosted_ui_session_seconds;
    let record = SessionRecord {
        username_key: pool.normalize_username(&user.username),
        sub: user.sub.clone(),
        auth_time: now / 1000,
        created_millis: now,
        expires_millis: now.saturating_add(lifetime.saturating_mul(1000)),
        saml,
    };
    ctx.env
        .store()
        .put(
            &keys::hosted_session(&pool.id, &token),
            &serde_json::to_vec(&record)?,
            Expect::Absent,
        )
        .await?;
    let signature = mac_b64(&key, &format!("session:{}", pool.id), &token);
    Ok(format!(
        "{}={token}.{signature}{}",
        session_cookie_name(&pool.id),
        cookie_attributes(ctx, Some(lifetime))
    ))
}

/// The presented session's token, if its MAC is valid.
async fn presented_token(ctx: &Ctx<'_>, pool_id: &str) -> Option<String> {
    let value = form::cookie(ctx.request.header("cookie"), &session_cookie_name(pool_id))?;
    let (token, signature) = value.split_once('.')?;
    let key = ui_key(ctx.env, pool_id).await.ok()?;
    mac_ok(&key, &format!("session:{pool_id}"), token, signature).then(|| token.to_string())
}

/// The user of the request's live session, and when they signed in. A disabled, unconfirmed or
/// globally signed-out user has no session.
pub async fn current(ctx: &Ctx<'_>, pool: &PoolRecord) -> Option<(UserRecord, u64)> {
    let token = presented_token(ctx, &pool.id).await?;
    let item = ctx
        .env
        .store()
        .get(&keys::hosted_session(&pool.id, &token))
        .await
        .ok()??;
    let record: SessionRecord = serde_json::from_slice(&item.value).ok()?;
    if ctx.env.clock().now_millis() >= record.expires_millis {
        return None;
    }
    let (user, _) = user::load(ctx.env, pool, &record.username_key)
        .await
        .ok()??;
    let valid = user.sub == record.sub
        && user.enabled
        && user.status.is_active()
        && (user.tokens_valid_after_millis == 0
            || user.tokens_valid_after_millis < record.created_millis);
    valid.then_some((user, record.auth_time))
}

/// The SAML sign-in of the request's live session, if its user signed in through a SAML IdP.
pub async fn saml_session(ctx: &Ctx<'_>, pool: &PoolRecord) -> Option<SamlSession> {
    current(ctx, pool).await?;
    let token = presented_token(ctx, &pool.id).await?;
    let item = ctx
        .env
        .store()
        .get(&keys::hosted_session(&pool.id, &token))
        .await
        .ok()??;
    serde_json::from_slice::<SessionRecord>(&item.value)
        .ok()?
        .saml
}

/// Ends the request's session: deletes its record; returns the `Set-Cookie` that clears it.
pub async fn end(ctx: &Ctx<'_>, pool_id: &str) -> Vec<String> {
    if let Some(token) = presented_token(ctx, pool_id).await {
        let _ = ctx
            .env
            .store()
            .delete(&keys::hosted_session(pool_id, &token), Expect::Any)
            .await;
    }
    alloc::vec![format!(
        "{}={}",
        session_cookie_name(pool_id),
        cookie_attributes(ctx, Some(0))
    )]
}
