//! Sign-in: password authentication, token issuance and refresh.

use alloc::format;
use alloc::string::String;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::{Error, ErrorKind};
use crate::group::GroupRecord;
use crate::pool::{AppClient, PoolRecord};
use crate::ports::{Env, PasswordCheck};
use crate::store::{Expect, StoreError};
use crate::token::{self, KeySet};
use crate::user::{self, Step, UserRecord, UserStatus};

/// Failed sign-ins tolerated before the account is temporarily locked.
pub const LOCKOUT_THRESHOLD: u32 = 5;
/// The longest lockout.
pub const MAX_LOCKOUT_MILLIS: u64 = 15 * 60 * 1000;

/// Cognito's `AuthenticationResultType` (its wire shape is shared with clients).
pub use crate::api::wire::AuthenticationResult;

/// What an OAuth 2.0 authorization adds to a user's tokens (hosted UI, `/oauth2/token`). The
/// Cognito API's sign-ins use [`Grant::default`]: no nonce, scope `aws.cognito.signin.user.admin`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// The granted scopes, space-separated; `None` outside OAuth 2.0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The OIDC `nonce` the ID token echoes (authorization code grant only, never on refresh).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nonce: Option<String>,
}

impl Grant {
    /// The `scope` claim of the access token.
    pub fn access_scope(&self) -> &str {
        self.scope
            .as_deref()
            .unwrap_or("aws.cognito.signin.user.admin")
    }
    /// Whether an ID token is issued: always outside OAuth, with `openid` inside.
    pub fn issues_id_token(&self) -> bool {
        self.scope
            .as_deref()
            .is_none_or(|s| s.split(' ').any(|x| x == "openid"))
    }
}

/// A stored refresh token (under the SHA-256 of the token).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RefreshRecord {
    pub username_key: String,
    pub sub: String,
    pub client_id: String,
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
    pub issued_millis: u64,
    pub expires_millis: u64,
    /// Set when rotation replaced this token; it then works only within the grace period.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rotated_millis: Option<u64>,
    /// The OAuth 2.0 scopes of the sign-in (hosted UI); refreshed tokens keep them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
}

/// A sign-in session: every refresh token rotated from one sign-in shares it (the family), and
/// its `origin_jti` is in every token issued from it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct FamilyRecord {
    pub username_key: String,
    pub client_id: String,
    pub created_millis: u64,
    #[serde(default)]
    pub revoked: bool,
}

pub(crate) fn refresh_key(pool_id: &str, token: &str) -> String {
    format!("p/{pool_id}/rt/{}", token::sha256_hex(&[token.as_bytes()]))
}

pub(crate) fn family_key(pool_id: &str, origin_jti: &str) -> String {
    format!("p/{pool_id}/rf/{origin_jti}")
}

/// Which refresh token [`issue_tokens`] issues.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshIssue {
    /// None (a refresh without rotation).
    None,
    /// The first of a new sign-in session (writes the family record).
    NewSession,
    /// A rotated successor in an existing family.
    Rotated,
}

/// The session facts the tokens carry.
#[derive(Debug, Clone)]
pub struct Session {
    pub origin_jti: String,
    pub event_id: String,
    pub auth_time: u64,
}

#[allow(clippy::too_many_arguments)] // the claims' sources, each used once
fn id_claims(
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    groups: &[GroupRecord],
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    let readable = |name: &str| {
        client
            .settings
            .read_attributes
            .as_ref()
            .is_none_or(|allowed| allowed.iter().any(|a| a == name))
    };
    for (name, value) in &user.attributes {
        if !readable(name) {
            continue;
        }
        let is_bool = pool
            .schema_attribute(name)
            .is_some_and(|s| s.attribute_data_type == "Boolean");
        let v = if is_bool {
            Value::Bool(value == "true")
        } else {
            Value::String(value.clone())
        };
        c.insert(name.clone(), v);
    }
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("cognito:username".into(), json!(user.username));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("aud".into(), json!(client.client_id));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("id"));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.id_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    crate::group::claims(groups, true, &mut c);
    c
}

#[allow(clippy::too_many_arguments)] // the claims' sources, each used once
fn access_claims(
    issuer: &str,
    grant: &Grant,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    groups: &[GroupRecord],
    now: u64,
    jti: String,
) -> Map<String, Value> {
    let mut c = Map::new();
    c.insert("sub".into(), json!(user.sub));
    c.insert("iss".into(), json!(issuer));
    c.insert("client_id".into(), json!(client.client_id));
    c.insert("origin_jti".into(), json!(session.origin_jti));
    c.insert("event_id".into(), json!(session.event_id));
    c.insert("token_use".into(), json!("access"));
    c.insert("scope".into(), json!(grant.access_scope()));
    c.insert("auth_time".into(), json!(session.auth_time));
    c.insert("exp".into(), json!(now + client.access_token_seconds()));
    c.insert("iat".into(), json!(now));
    c.insert("jti".into(), json!(jti));
    c.insert("username".into(), json!(user.username));
    crate::group::claims(groups, false, &mut c);
    c
}

/// Issues ID and access tokens, and the refresh token `refresh` asks for (a sign-in: the pre
/// token generation trigger sees `TokenGeneration_Authentication`).
pub async fn issue_tokens(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    refresh: RefreshIssue,
) -> Result<AuthenticationResult, Error> {
    issue_tokens_for(
        env,
        issuer,
        pool,
        client,
        user,
        session,
        refresh,
        &Grant::default(),
        crate::trigger::TokenSource::Authentication,
    )
    .await
}

/// [`issue_tokens`] for an OAuth 2.0 grant (the access token carries the granted scopes, the ID
/// token the `nonce` and `at_hash`, OIDC Core 3.1.3.6), naming why the tokens are issued (the pre
/// token generation trigger's source).
#[allow(clippy::too_many_arguments)]
pub async fn issue_tokens_for(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    session: &Session,
    refresh: RefreshIssue,
    grant: &Grant,
    source: crate::trigger::TokenSource,
) -> Result<AuthenticationResult, Error> {
    let (keys, groups) = futures_util::future::join(
        token::load_key_set(env, &pool.id),
        crate::group::memberships(env, pool, user),
    )
    .await;
    let (keys, groups): (KeySet, _) = (keys?, groups?);
    let now_millis = env.clock().now_millis();
    let now = now_millis / 1000;
    let mut id_claims = id_claims(
        issuer,
        pool,
        client,
        user,
        session,
        &groups,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    if let Some(nonce) = &grant.nonce {
        id_claims.insert("nonce".into(), json!(nonce));
    }
    let mut access_claims = access_claims(
        issuer,
        grant,
        client,
        user,
        session,
        &groups,
        now,
        crate::ids::uuid_v4(env.random()),
    );
    crate::trigger::apply_pre_token(
        env,
        pool,
        client,
        user,
        &groups,
        source,
        &mut id_claims,
        &mut access_claims,
    )
    .await?;
    let username_key = pool.normalize_username(&user.username);
    let mut writes: alloc::vec::Vec<(String, alloc::vec::Vec<u8>)> = alloc::vec::Vec::new();
    let refresh_token = if refresh == RefreshIssue::None {
        None
    } else {
        let secret = crate::ids::random_token(env.random(), 48);
        let record = RefreshRecord {
            username_key: username_key.clone(),
            sub: user.sub.clone(),
            client_id: client.client_id.clone(),
            origin_jti: session.origin_jti.clone(),
            event_id: session.event_id.clone(),
            auth_time: session.auth_time,
            issued_millis: now_millis,
            expires_millis: now_millis.saturating_add(client.refresh_token_seconds() * 1000),
            rotated_millis: None,
            scope: grant.scope.clone(),
        };
        writes.push((refresh_key(&pool.id, &secret), serde_json::to_vec(&record)?));
        if refresh == RefreshIssue::NewSession {
            let family = FamilyRecord {
                username_key,
                client_id: client.client_id.clone(),
                created_millis: now_millis,
                revoked: false,
            };
            writes.push((
                family_key(&pool.id, &session.origin_jti),
                serde_json::to_vec(&family)?,
            ));
        }
        Some(secret)
    };
    // The two signatures and the session writes are independent: run them together, so an
    // adapter whose ports work off-thread (the host) overlaps them.
    let store_writes = futures_util::future::try_join_all(
        writes
            .iter()
            .map(|(key, bytes)| env.store().put(key, bytes, Expect::Absent)),
    );
    let (id, access) = if grant.scope.is_none() {
        let (id, access, stored) = futures_util::future::join3(
            token::sign(env, &keys, &id_claims),
            token::sign(env, &keys, &access_claims),
            store_writes,
        )
        .await;
        stored?;
        (Some(id?), access?)
    } else {
        // OAuth 2.0: the ID token's `at_hash` covers the signed access token, so it comes second.
        let (access, stored) =
            futures_util::future::join(token::sign(env, &keys, &access_claims), store_writes).await;
        stored?;
        let access = access?;
        let id = if grant.issues_id_token() {
            id_claims.insert("at_hash".into(), json!(token::at_hash(&access)));
            Some(token::sign(env, &keys, &id_claims).await?)
        } else {
            None
        };
        (id, access)
    };
    Ok(AuthenticationResult {
        access_token: access,
        expires_in: client.access_token_seconds(),
        token_type: "Bearer".into(),
        refresh_token,
        id_token: id,
    })
}

/// What a password sign-in produced.
#[derive(Debug)]
pub enum SignInOutcome {
    Tokens(AuthenticationResult),
    /// The user must answer a challenge first (`ChallengeName`, `Session`, `ChallengeParameters`).
    Challenge {
        name: &'static str,
        session: String,
        parameters: Map<String, Value>,
    },
}

/// Where a sign-in came from, for auth events.
#[derive(Debug, Clone, Default)]
pub struct Origin {
    pub ip_address: Option<String>,
    pub user_agent: Option<String>,
}

/// How a client proves itself to password authentication.
#[derive(Debug, Clone, Copy)]
pub enum ClientProof<'a> {
    /// The Cognito API: `SECRET_HASH` when the client has a secret.
    SecretHash(Option<&'a str>),
    /// The hosted UI: the server itself is the user agent's client; the OAuth 2.0 client
    /// authenticates later, at the token endpoint.
    HostedUi,
}

impl ClientProof<'_> {
    fn check(self, client: &AppClient, usernames: &[&str]) -> Result<(), Error> {
        match self {
            Self::SecretHash(hash) => crate::pool::check_secret_hash(client, hash, usernames),
            Self::HostedUi => Ok(()),
        }
    }
}

/// What a correct password led to, before any token is issued.
#[derive(Debug)]
pub enum Authenticated {
    /// A confirmed, enabled user: issue tokens (or, on the hosted UI, a session).
    User(UserRecord),
    /// The user must answer a challenge first.
    Challenge(SignInOutcome),
}

/// Password sign-in (USER_PASSWORD_AUTH, ADMIN_USER_PASSWORD_AUTH). Unknown users and wrong
/// passwords get the same error after the same work (a verification against the pool's dummy
/// hash).
#[allow(clippy::too_many_arguments)]
pub async fn password_sign_in(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    login: &str,
    password: &str,
    secret_hash: Option<&str>,
    origin: &Origin,
) -> Result<SignInOutcome, Error> {
    let authenticated = authenticate_password(
        env,
        pool,
        client,
        login,
        password,
        ClientProof::SecretHash(secret_hash),
        origin,
    )
    .await?;
    sign_in_outcome(env, issuer, pool, client, authenticated, origin).await
}

/// The password check shared by every sign-in (the Cognito API and the hosted UI): the one
/// argon2id verification, lockout, user status and the NEW_PASSWORD_REQUIRED challenge. Records
/// failed sign-ins; the caller records the successful one with what it issues.
pub async fn authenticate_password(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    login: &str,
    password: &str,
    proof: ClientProof<'_>,
    origin: &Origin,
) -> Result<Authenticated, Error> {
    crate::password::check_input(password)?;
    let params = pool.hash_params();
    let found = user::resolve(env, pool, login).await?;
    let found = match found {
        Some(found) => Some(found),
        // Unknown here: a user migration plugin may know them (it checks the password).
        None if crate::trigger::configured(pool, crate::trigger::TriggerKind::UserMigration)
            .is_some() =>
        {
            proof.check(client, &[login])?;
            if let Some(migration) = crate::trigger::user_migration(
                env,
                pool,
                "UserMigration_Authentication",
                login,
                &client.client_id,
                Some(password),
                Value::Object(Map::new()),
            )
            .await?
            {
                let user = crate::trigger::store_migrated_user(
                    env,
                    pool,
                    login,
                    Some(password),
                    migration,
                )
                .await?;
                return admit(env, pool, client, user).await;
            }
            None
        }
        None => None,
    };
    let Some((user, _)) = found else {
        // Same work as a real check; the result does not matter.
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        proof.check(client, &[login])?;
        return Err(not_found_error(client));
    };
    proof.check(client, &[login, &user.username])?;
    let now = env.clock().now_millis();
    if user.locked_until_millis > now {
        crate::events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::not_authorized("Password attempts exceeded"));
    }
    let Some(hash) = user.password_hash.clone() else {
        let _ = env
            .passwords()
            .verify(password, &pool.dummy_password_hash, params)
            .await;
        return Err(Error::bad_credentials());
    };
    crate::trigger::pre_authentication(
        env,
        pool,
        &user,
        &client.client_id,
        Value::Object(Map::new()),
    )
    .await?;
    let check = env.passwords().verify(password, &hash, params).await?;
    if check == PasswordCheck::Mismatch {
        record_failure(env, pool, &user.username).await?;
        crate::events::record(env, pool, &user, client, "SignIn", false, origin).await?;
        return Err(Error::bad_credentials());
    }
    // A correct password. Statuses that can go on reset the failure count (an expired temporary
    // password cannot); `admit` decides the rest.
    if user.enabled
        && matches!(
            user.status,
            UserStatus::Confirmed | UserStatus::ForceChangePassword
        )
    {
        if user.status == UserStatus::ForceChangePassword
            && user
                .temporary_password_expires_millis
                .is_some_and(|expires| now >= expires)
        {
            return Err(Error::not_authorized(
                "Temporary password has expired and must be reset by an administrator.",
            ));
        }
        clear_failures(env, pool, &user, check, password).await?;
    }
    admit(env, pool, client, user).await
}

/// The user's status decides what a sign-in that proved the user (a migrated user, a custom
/// challenge answered) leads to; then the post authentication trigger.
pub(crate) async fn admit(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: UserRecord,
) -> Result<Authenticated, Error> {
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    match user.status {
        UserStatus::Confirmed => {}
        UserStatus::ResetRequired => {
            return Err(Error::new(
                ErrorKind::PasswordResetRequired,
                "Password reset required for the user",
            ));
        }
        UserStatus::Unconfirmed => {
            return Err(Error::new(
                ErrorKind::UserNotConfirmed,
                "User is not confirmed.",
            ));
        }
        UserStatus::ForceChangePassword => {
            return Ok(Authenticated::Challenge(
                new_password_challenge(env, pool, client, &user).await?,
            ));
        }
    }
    crate::trigger::post_authentication(
        env,
        pool,
        &user,
        &client.client_id,
        Value::Object(Map::new()),
    )
    .await?;
    Ok(Authenticated::User(user))
}

/// The Cognito API's answer to a proved user: a new session with tokens; a challenge passes
/// through. (The hosted UI answers a proved user with a UI session and a code instead.)
pub async fn sign_in_outcome(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    authenticated: Authenticated,
    origin: &Origin,
) -> Result<SignInOutcome, Error> {
    match authenticated {
        Authenticated::User(user) => start_session(env, issuer, pool, client, &user, origin).await,
        Authenticated::Challenge(challenge) => Ok(challenge),
    }
}

/// A new session for a signed-in user: its tokens and the successful auth event.
async fn start_session(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
    origin: &Origin,
) -> Result<SignInOutcome, Error> {
    let now = env.clock().now_millis();
    let session = Session {
        origin_jti: crate::ids::uuid_v4(env.random()),
        event_id: crate::ids::uuid_v4(env.random()),
        auth_time: now / 1000,
    };
    let (tokens, recorded) = futures_util::future::join(
        issue_tokens(
            env,
            issuer,
            pool,
            client,
            user,
            &session,
            RefreshIssue::NewSession,
        ),
        crate::events::record(env, pool, user, client, "SignIn", true, origin),
    )
    .await;
    recorded?;
    Ok(SignInOutcome::Tokens(tokens?))
}

/// After a correct password: rehash with the pool's current parameters and reset the failure
/// count. Best effort: a concurrent update wins and the rehash happens next time.
async fn clear_failures(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    check: PasswordCheck,
    password: &str,
) -> Result<(), Error> {
    if check != PasswordCheck::MatchNeedsRehash && user.failed_sign_ins == 0 {
        return Ok(());
    }
    let rehashed = if check == PasswordCheck::MatchNeedsRehash {
        let mut salt = [0u8; 16];
        env.random().fill(&mut salt);
        Some(
            env.passwords()
                .hash(password, salt, pool.hash_params())
                .await?,
        )
    } else {
        None
    };
    let expected_hash = user.password_hash.clone();
    let outcome = user::modify(env, pool, &user.username, |u| {
        if u.password_hash != expected_hash {
            return Ok(Step::Keep(()));
        }
        if let Some(h) = &rehashed {
            u.password_hash = Some(h.clone());
        }
        u.failed_sign_ins = 0;
        u.locked_until_millis = 0;
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::TooManyRequests || e.kind == ErrorKind::UserNotFound => {
            Ok(())
        }
        Err(e) => Err(e),
    }
}

/// Starts the NEW_PASSWORD_REQUIRED challenge for a user with a temporary password.
pub async fn new_password_challenge(
    env: &dyn Env,
    pool: &PoolRecord,
    client: &AppClient,
    user: &UserRecord,
) -> Result<SignInOutcome, Error> {
    let session = crate::challenge::start(env, pool, client, user, "NEW_PASSWORD_REQUIRED").await?;
    let mut attributes = Map::new();
    for (name, value) in &user.attributes {
        // Cognito leaves out attributes the user cannot write in the challenge.
        if name.ends_with("_verified") {
            continue;
        }
        attributes.insert(name.clone(), Value::String(value.clone()));
    }
    let required: alloc::vec::Vec<String> = pool
        .schema
        .iter()
        .filter(|a| a.required && a.name != "sub" && user.attribute(&a.name).is_none())
        .map(|a| format!("userAttributes.{}", a.name))
        .collect();
    let mut parameters = Map::new();
    parameters.insert("USER_ID_FOR_SRP".into(), json!(user.username));
    parameters.insert(
        "requiredAttributes".into(),
        json!(serde_json::to_string(&required)?),
    );
    parameters.insert(
        "userAttributes".into(),
        json!(serde_json::to_string(&attributes)?),
    );
    Ok(SignInOutcome::Challenge {
        name: "NEW_PASSWORD_REQUIRED",
        session,
        parameters,
    })
}

fn not_found_error(client: &AppClient) -> Error {
    if client.prevents_user_existence_errors() {
        Error::bad_credentials()
    } else {
        Error::new(ErrorKind::UserNotFound, "User does not exist.")
    }
}

/// Counts a failed sign-in with compare-and-set (so racing failures all count) and locks the
/// account after [`LOCKOUT_THRESHOLD`] of them: 1 s, doubling up to [`MAX_LOCKOUT_MILLIS`].
pub async fn record_failure(env: &dyn Env, pool: &PoolRecord, username: &str) -> Result<(), Error> {
    let now = env.clock().now_millis();
    let outcome = user::modify(env, pool, username, |u| {
        u.failed_sign_ins = u.failed_sign_ins.saturating_add(1);
        if u.failed_sign_ins >= LOCKOUT_THRESHOLD {
            let exponent = (u.failed_sign_ins - LOCKOUT_THRESHOLD).min(20);
            u.locked_until_millis = now + (1000u64 << exponent).min(MAX_LOCKOUT_MILLIS);
        }
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::UserNotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// How a client rotates refresh tokens (Cognito's `RefreshTokenRotation`).
fn rotation(client: &AppClient) -> Option<u64> {
    let config = client.settings.refresh_token_rotation.as_ref()?;
    if config.get("Feature").and_then(Value::as_str) != Some("ENABLED") {
        return None;
    }
    Some(
        config
            .get("RetryGracePeriodSeconds")
            .and_then(Value::as_u64)
            .unwrap_or(0),
    )
}

/// Whether the client rotates refresh tokens.
pub fn rotates_refresh_tokens(client: &AppClient) -> bool {
    rotation(client).is_some()
}

/// A refresh: new ID and access tokens for a valid refresh token of this client, and, when the
/// client rotates refresh tokens, a new refresh token that replaces the one presented.
///
/// Rotation is decided by a compare-and-set on the presented token's record: of two racing
/// refreshes one wins; the other sees a token rotated moments ago, which passes only within the
/// client's grace period. A rotated token presented after its grace period is a replay: the whole
/// family (every token of that sign-in) is revoked.
pub async fn refresh(
    env: &dyn Env,
    issuer: &str,
    pool: &PoolRecord,
    client: &AppClient,
    refresh_token: &str,
    secret_hash: Option<&str>,
) -> Result<AuthenticationResult, Error> {
    let invalid = || Error::not_authorized("Invalid Refresh Token");
    if refresh_token.is_empty() || refresh_token.len() > 4096 {
        return Err(invalid());
    }
    let key = refresh_key(&pool.id, refresh_token);
    for _ in 0..8 {
        let item = env.store().get(&key).await?.ok_or_else(invalid)?;
        let record: RefreshRecord = serde_json::from_slice(&item.value)?;
        if record.client_id != client.client_id {
            return Err(invalid());
        }
        let now = env.clock().now_millis();
        if now >= record.expires_millis {
            return Err(Error::not_authorized("Refresh Token has expired"));
        }
        let (family, user_item) = futures_util::future::join(
            env.store().get(&family_key(&pool.id, &record.origin_jti)),
            env.store()
                .get(&user::user_key(&pool.id, &record.username_key)),
        )
        .await;
        let family: FamilyRecord = serde_json::from_slice(&family?.ok_or_else(invalid)?.value)?;
        let user: UserRecord = serde_json::from_slice(&user_item?.ok_or_else(invalid)?.value)?;
        if family.revoked
            || user.sub != record.sub
            || user.tokens_valid_after_millis >= family.created_millis
                && user.tokens_valid_after_millis > 0
            || user.session_revoked(&record.origin_jti)
        {
            return Err(Error::not_authorized("Refresh Token has been revoked"));
        }
        crate::pool::check_secret_hash(client, secret_hash, &[&user.username, &user.sub])?;
        if !user.enabled {
            return Err(Error::not_authorized("User is disabled."));
        }
        if user.status != UserStatus::Confirmed {
            return Err(invalid());
        }
        let issue = match (rotation(client), record.rotated_millis) {
            (None, _) => RefreshIssue::None,
            (Some(grace), Some(rotated)) => {
                // Valid for `grace` seconds after the rotation, and not at all with no grace
                // period: a refresh in the rotation's own millisecond is a replay too.
                if now >= rotated.saturating_add(grace * 1000) {
                    revoke_family(env, pool, &record, client).await?;
                    return Err(Error::new(
                        ErrorKind::RefreshTokenReuse,
                        "Refresh token has been rotated and reused; every token of this session is revoked.",
                    ));
                }
                RefreshIssue::Rotated
            }
            (Some(_), None) => {
                let mut rotated = record.clone();
                rotated.rotated_millis = Some(now);
                match env
                    .store()
                    .put(
                        &key,
                        &serde_json::to_vec(&rotated)?,
                        Expect::Version(item.version),
                    )
                    .await
                {
                    Ok(_) => RefreshIssue::Rotated,
                    // Someone rotated it first: decide again on what they wrote.
                    Err(StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
        };
        let session = Session {
            origin_jti: record.origin_jti,
            event_id: record.event_id,
            auth_time: record.auth_time,
        };
        let grant = Grant {
            scope: record.scope,
            nonce: None,
        };
        return issue_tokens_for(
            env,
            issuer,
            pool,
            client,
            &user,
            &session,
            issue,
            &grant,
            crate::trigger::TokenSource::RefreshTokens,
        )
        .await;
    }
    Err(Error::new(
        ErrorKind::TooManyRequests,
        "Too many concurrent refreshes of this token; try again.",
    ))
}

/// Revokes a sign-in session: its refresh tokens (through the family record) and its access
/// tokens (through the user record's revoked-session list, so checks need no extra read).
pub async fn revoke_family(
    env: &dyn Env,
    pool: &PoolRecord,
    record: &RefreshRecord,
    client: &AppClient,
) -> Result<(), Error> {
    let key = family_key(&pool.id, &record.origin_jti);
    for _ in 0..8 {
        let Some(item) = env.store().get(&key).await? else {
            break;
        };
        let mut family: FamilyRecord = serde_json::from_slice(&item.value)?;
        if family.revoked {
            break;
        }
        family.revoked = true;
        match env
            .store()
            .put(
                &key,
                &serde_json::to_vec(&family)?,
                Expect::Version(item.version),
            )
            .await
        {
            Ok(_) => break,
            Err(StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let now = env.clock().now_millis();
    let until = now.saturating_add(
        client
            .access_token_seconds()
            .max(client.id_token_seconds())
            .saturating_mul(1000),
    );
    let origin = record.origin_jti.clone();
    let sub = record.sub.clone();
    let outcome = user::modify(env, pool, &record.username_key, |u| {
        if u.sub != sub || u.session_revoked(&origin) {
            return Ok(Step::Keep(()));
        }
        u.revoke_session(&origin, until, now);
        Ok(Step::Save(()))
    })
    .await;
    match outcome {
        Ok(_) => Ok(()),
        Err(e) if e.kind == ErrorKind::UserNotFound => Ok(()),
        Err(e) => Err(e),
    }
}

/// Looks up a refresh token's record (RevokeToken).
pub async fn find_refresh(
    env: &dyn Env,
    pool: &PoolRecord,
    refresh_token: &str,
) -> Result<Option<RefreshRecord>, Error> {
    if refresh_token.is_empty() || refresh_token.len() > 4096 {
        return Ok(None);
    }
    match env
        .store()
        .get(&refresh_key(&pool.id, refresh_token))
        .await?
    {
        Some(item) => Ok(Some(serde_json::from_slice(&item.value)?)),
        None => Ok(None),
    }
}

/// Signs a user out everywhere: every token issued before now stops working.
pub async fn global_sign_out(
    env: &dyn Env,
    pool: &PoolRecord,
    username: &str,
) -> Result<(), Error> {
    let now = env.clock().now_millis();
    user::modify(env, pool, username, |u| {
        u.tokens_valid_after_millis = now;
        u.revoked_sessions.clear();
        Ok(Step::Save(()))
    })
    .await?;
    Ok(())
}

/// Checks an access token and loads its user (GetUser and every token-authorised operation):
/// one signature verification and O(1) store reads, whatever the number of tokens or
/// revocations. A token is revoked when its session was revoked (RevokeToken: a list on the user
/// record) or issued before a global sign-out (a time on the user record; only a token issued
/// in the very second of the sign-out needs its session's start time, one more read).
pub async fn authorize_access_token(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
) -> Result<(PoolRecord, UserRecord, u64, Map<String, Value>), Error> {
    authorize_access_token_scoped(
        env,
        issuer_base,
        access_token,
        Some("aws.cognito.signin.user.admin"),
    )
    .await
}

/// [`authorize_access_token`] requiring `scope` in the token's `scope` claim (`None`: any).
/// The Cognito API's user operations need `aws.cognito.signin.user.admin`, which an OAuth 2.0
/// token has only when the client was granted it.
pub async fn authorize_access_token_scoped(
    env: &dyn Env,
    issuer_base: &str,
    access_token: &str,
    scope: Option<&str>,
) -> Result<(PoolRecord, UserRecord, u64, Map<String, Value>), Error> {
    if access_token.is_empty() || access_token.len() > 16 * 1024 {
        return Err(Error::not_authorized("Invalid Access Token"));
    }
    let (pool_id, claims) = token::verify(env, issuer_base, access_token, "access").await?;
    if let Some(required) = scope
        && !claims
            .get("scope")
            .and_then(Value::as_str)
            .is_some_and(|s| s.split(' ').any(|x| x == required))
    {
        return Err(Error::not_authorized(
            "Access Token does not have required scopes",
        ));
    }
    let (pool, _) = crate::pool::load_pool(env, &pool_id)
        .await
        .map_err(|_| Error::not_authorized("Invalid Access Token"))?;
    let username = claims
        .get("username")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let sub = claims
        .get("sub")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let origin_jti = claims
        .get("origin_jti")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let revoked = || Error::not_authorized("Access Token has been revoked");
    let (user, version) = user::load(env, &pool, username)
        .await?
        .filter(|(u, _)| u.sub == sub)
        .ok_or_else(revoked)?;
    if user.session_revoked(origin_jti) {
        return Err(revoked());
    }
    let iat = claims.get("iat").and_then(Value::as_u64).unwrap_or(0);
    let signed_out_second = user.tokens_valid_after_millis / 1000;
    if user.tokens_valid_after_millis > 0 {
        if iat < signed_out_second {
            return Err(revoked());
        }
        if iat == signed_out_second {
            let started = env
                .store()
                .get(&family_key(&pool.id, origin_jti))
                .await?
                .map(|item| serde_json::from_slice::<FamilyRecord>(&item.value))
                .transpose()?
                .map(|f| f.created_millis);
            // Same millisecond: the session cannot be told apart from one begun before.
            if started.is_none_or(|t| t <= user.tokens_valid_after_millis) {
                return Err(revoked());
            }
        }
    }
    if !user.enabled {
        return Err(Error::not_authorized("User is disabled."));
    }
    Ok((pool, user, version, claims))
}
