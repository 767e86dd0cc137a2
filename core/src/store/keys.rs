//! The key layout: every store key the core reads or writes is built here, so the layout can be
//! read in one place (and an adapter's cache can tell which keys are read-mostly).
//!
//! Global keys: `pool/<id>` (a pool), `c/<client>` (a client, found by id alone),
//! `dom/<domain>` (a hosted-UI domain). Everything else lives under its pool, `p/<pool>/`,
//! so deleting a pool is one prefix. Keys that would carry a secret (refresh tokens, sessions,
//! codes) carry its SHA-256 instead.

use alloc::format;
use alloc::string::String;

use crate::codec::sha256_hex;

/// An upstream identity provider's cached document (discovery or JWKS), under the SHA-256 of
/// its URL: shared by every pool that trusts the issuer, refreshed when it expires.
/// The key `GET /health` reads to check the store (never written).
pub const HEALTH_PROBE: &str = "health/probe";

pub fn upstream_document(url: &str) -> String {
    format!("upstream/{}", sha256_hex(&[url.as_bytes()]))
}
/// A pool's identity provider (federation).
pub fn identity_provider(pool_id: &str, name: &str) -> String {
    format!("p/{pool_id}/idp/{name}")
}
/// The prefix of a pool's identity providers.
pub fn identity_providers(pool_id: &str) -> String {
    format!("p/{pool_id}/idp/")
}
/// A federated identity linked to a user (AdminLinkProviderForUser): provider, attribute name
/// and value (under its digest) → the user's normalized username.
pub fn provider_link(pool_id: &str, provider: &str, attribute: &str, value: &str) -> String {
    format!(
        "p/{pool_id}/fl/{provider}/{}",
        sha256_hex(&[attribute.as_bytes(), b"\0", value.as_bytes()])
    )
}
/// A sign-in through an upstream provider in progress (under the SHA-256 of its `state`).
pub fn federation_state(pool_id: &str, state: &str) -> String {
    format!(
        "p/{pool_id}/{FEDERATION_STATES}/{}",
        sha256_hex(&[state.as_bytes()])
    )
}
/// A SAML single logout in progress (`IDPSignout`; under the SHA-256 of its `RelayState`).
pub fn saml_logout(pool_id: &str, relay_state: &str) -> String {
    format!("p/{pool_id}/slo/{}", sha256_hex(&[relay_state.as_bytes()]))
}
/// A user import job (CreateUserImportJob).
pub fn import_job(pool_id: &str, job_id: &str) -> String {
    format!("p/{pool_id}/ij/{job_id}")
}
/// The prefix of a pool's user import jobs.
pub fn import_jobs(pool_id: &str) -> String {
    format!("p/{pool_id}/ij/")
}
/// One chunk of a user import job's uploaded CSV file.
pub fn import_chunk(pool_id: &str, job_id: &str, index: u32) -> String {
    format!("p/{pool_id}/ijf/{job_id}/{index:05}")
}
/// A pool's record.
pub fn pool(pool_id: &str) -> String {
    format!("pool/{pool_id}")
}
/// Whether a key holds a read-mostly record that is not secret (pool records), which an adapter
/// may serve from a replicated cache (the edge's KV) and drop on write.
pub fn is_read_mostly(key: &str) -> bool {
    key.starts_with("pool/")
}
/// The prefix of every pool of a region.
pub fn pools_of_region(region: &str) -> String {
    format!("pool/{region}_")
}
/// Everything a pool owns.
pub fn pool_prefix(pool_id: &str) -> String {
    format!("p/{pool_id}/")
}
/// An app client, found by its id alone (public operations name only the client).
pub fn client(client_id: &str) -> String {
    format!("c/{client_id}")
}
/// A pool's index entry for one of its clients.
pub fn pool_client(pool_id: &str, client_id: &str) -> String {
    format!("p/{pool_id}/c/{client_id}")
}
/// The prefix of a pool's client index.
pub fn pool_clients(pool_id: &str) -> String {
    format!("p/{pool_id}/c/")
}
/// An accepted SAML assertion (`crate::saml::remember`), by issuer and assertion id, hashed
/// (both are the IdP's text). Created only once: a replay finds it.
pub fn saml_assertion(pool_id: &str, issuer: &str, assertion_id: &str) -> String {
    format!(
        "p/{pool_id}/sa/{}",
        sha256_hex(&[issuer.as_bytes(), assertion_id.as_bytes()])
    )
}
/// A pool's signing keys: the public halves (what verifying a token reads).
pub fn signing_keys(pool_id: &str) -> String {
    format!("p/{pool_id}/keys")
}
/// The private half of a pool's signing key `kid` (what signing reads).
pub fn signing_key_secret(pool_id: &str, kid: &str) -> String {
    format!("p/{pool_id}/kp/{kid}")
}

// Identity pools (`crate::identity`). An identity pool lives at `ipool/<id>`; what it owns
// under `ip/<id>/`; an identity at `ident/<identityId>` (operations name an identity without its
// pool); the identity service's signing keys at `identity/keys`.

/// An identity pool's record.
pub fn identity_pool(identity_pool_id: &str) -> String {
    format!("ipool/{identity_pool_id}")
}
/// The prefix of every identity pool of a region (ids are `<region>:<uuid>`).
pub fn identity_pools_of_region(region: &str) -> String {
    format!("ipool/{region}:")
}
/// Everything an identity pool owns.
pub fn identity_pool_prefix(identity_pool_id: &str) -> String {
    format!("ip/{identity_pool_id}/")
}
/// An identity's record.
pub fn identity(identity_id: &str) -> String {
    format!("ident/{identity_id}")
}
/// An identity pool's index entry for one of its identities (ListIdentities).
pub fn pool_identity(identity_pool_id: &str, identity_id: &str) -> String {
    format!("ip/{identity_pool_id}/i/{identity_id}")
}
/// The prefix of an identity pool's identity index.
pub fn pool_identities(identity_pool_id: &str) -> String {
    format!("ip/{identity_pool_id}/i/")
}
/// A login's reservation: which identity the `subject` of `provider` is (created only once, so
/// one login is one identity however many requests race). Hashed: subjects are arbitrary text.
pub fn identity_login(identity_pool_id: &str, provider: &str, subject: &str) -> String {
    format!(
        "ip/{identity_pool_id}/l/{}",
        sha256_hex(&[provider.as_bytes(), subject.as_bytes()])
    )
}
/// The identity service's signing keys (its OpenID tokens).
pub fn identity_signing_keys() -> String {
    String::from("identity/keys")
}

/// A user, under its normalized username.
pub fn user(pool_id: &str, username_key: &str) -> String {
    format!("p/{pool_id}/u/{username_key}")
}
/// The prefix of a pool's users.
pub fn users(pool_id: &str) -> String {
    format!("p/{pool_id}/u/")
}
/// An alias reservation (a unique email, phone number or preferred username).
pub fn alias(pool_id: &str, attribute: &str, normalized_value: &str) -> String {
    format!("p/{pool_id}/a/{attribute}/{normalized_value}")
}
/// The prefix of ListUsers' index of `attribute` for values starting with `value_prefix`.
pub fn user_index(pool_id: &str, attribute: &str, value_prefix: &str) -> String {
    format!("p/{pool_id}/i/{attribute}/{value_prefix}")
}

/// A group.
pub fn group(pool_id: &str, name: &str) -> String {
    format!("p/{pool_id}/g/{name}")
}
/// The prefix of a pool's groups.
pub fn groups(pool_id: &str) -> String {
    format!("p/{pool_id}/g/")
}
/// A user's membership of a group.
pub fn group_member(pool_id: &str, group: &str, username_key: &str) -> String {
    format!("p/{pool_id}/gm/{group}/{username_key}")
}
/// The prefix of a group's members.
pub fn group_members(pool_id: &str, group: &str) -> String {
    format!("p/{pool_id}/gm/{group}/")
}

/// The prefix of a user's auth events (newest first: keys carry `u64::MAX - time`).
pub fn auth_events(pool_id: &str, username_key: &str) -> String {
    format!("p/{pool_id}/ev/{username_key}/")
}
/// The prefix of every auth event of a pool.
pub fn pool_auth_events(pool_id: &str) -> String {
    format!("p/{pool_id}/ev/")
}
/// A sign-in's challenge session (the `Session` string between InitiateAuth and
/// RespondToAuthChallenge).
pub fn auth_session(pool_id: &str, session: &str) -> String {
    format!(
        "p/{pool_id}/{AUTH_SESSIONS}/{}",
        sha256_hex(&[session.as_bytes()])
    )
}
/// A refresh token.
pub fn refresh_token(pool_id: &str, token: &str) -> String {
    format!(
        "p/{pool_id}/{REFRESH_TOKENS}/{}",
        sha256_hex(&[token.as_bytes()])
    )
}
/// A sign-in's family of refresh tokens (under its `origin_jti`).
pub fn refresh_family(pool_id: &str, origin_jti: &str) -> String {
    format!("p/{pool_id}/rf/{origin_jti}")
}
/// An OAuth 2.0 authorization code (under its digest).
pub fn authorization_code(pool_id: &str, digest: &str) -> String {
    format!("p/{pool_id}/{AUTHORIZATION_CODES}/{digest}")
}
/// A hosted-UI sign-in session (under the SHA-256 of its cookie).
pub fn hosted_session(pool_id: &str, token: &str) -> String {
    format!(
        "p/{pool_id}/{HOSTED_SESSIONS}/{}",
        sha256_hex(&[token.as_bytes()])
    )
}
/// The key that signs a pool's hosted-UI cookies.
pub fn hosted_ui_key(pool_id: &str) -> String {
    format!("p/{pool_id}/ui-key")
}
/// A pool's hosted-UI customization for a client (`ALL` for the pool's default).
pub fn ui_customization(pool_id: &str, client: &str) -> String {
    format!("p/{pool_id}/ui/{client}")
}
/// A resource server (custom OAuth 2.0 scopes).
pub fn resource_server(pool_id: &str, identifier: &str) -> String {
    format!("p/{pool_id}/rs/{identifier}")
}
/// The prefix of a pool's resource servers.
pub fn resource_servers(pool_id: &str) -> String {
    format!("p/{pool_id}/rs/")
}
/// A hosted-UI domain, pointing at its pool.
pub fn domain(domain: &str) -> String {
    format!("dom/{domain}")
}
/// A pool's domain (`custom`: its custom domain) pointing back at the domain record.
pub fn pool_domain(pool_id: &str, custom: bool) -> String {
    if custom {
        format!("p/{pool_id}/custom-domain")
    } else {
        format!("p/{pool_id}/domain")
    }
}
/// The delivery flood-control counter of one destination (under its digest).
pub fn delivery_rate(pool_id: &str, destination_digest: &str) -> String {
    format!("p/{pool_id}/{DELIVERY_RATES}/{destination_digest}")
}

/// A device key offered to a signing-in user (`NewDeviceMetadata`), until ConfirmDevice.
pub fn device_offer(pool_id: &str, device_key: &str) -> String {
    format!("p/{pool_id}/{DEVICE_OFFERS}/{device_key}")
}
/// A user's confirmed device.
pub fn device(pool_id: &str, username_key: &str, device_key: &str) -> String {
    format!("p/{pool_id}/dv/{username_key}/{device_key}")
}
/// The prefix of a user's confirmed devices.
pub fn devices(pool_id: &str, username_key: &str) -> String {
    format!("p/{pool_id}/dv/{username_key}/")
}

/// A user's passkey (`sub`: a user deleted and created again under the same name does not
/// inherit passkeys), under its credential id (base64url).
pub fn passkey(pool_id: &str, sub: &str, credential_id: &str) -> String {
    format!("p/{pool_id}/pk/{sub}/{credential_id}")
}
/// The prefix of a user's passkeys.
pub fn passkeys(pool_id: &str, sub: &str) -> String {
    format!("p/{pool_id}/pk/{sub}/")
}
/// Which user a credential id belongs to (create-only: one owner per credential in a pool).
pub fn passkey_owner(pool_id: &str, credential_id: &str) -> String {
    format!("p/{pool_id}/po/{credential_id}")
}
/// A user's passkey registration in progress (StartWebAuthnRegistration's challenge).
pub fn passkey_registration(pool_id: &str, sub: &str) -> String {
    format!("p/{pool_id}/{PASSKEY_REGISTRATIONS}/{sub}")
}

/// The kinds of pool records that expire (the janitor sweeps `p/<pool>/<kind>/`).
pub const AUTHORIZATION_CODES: &str = "oc";
pub const HOSTED_SESSIONS: &str = "hs";
pub const AUTH_SESSIONS: &str = "as";
pub const REFRESH_TOKENS: &str = "rt";
pub const DELIVERY_RATES: &str = "dr";
pub const DEVICE_OFFERS: &str = "nd";
pub const FEDERATION_STATES: &str = "fs";
pub const PASSKEY_REGISTRATIONS: &str = "wr";
/// Every expiring kind, in the janitor's sweep order.
pub const EXPIRING: [&str; 6] = [
    AUTHORIZATION_CODES,
    HOSTED_SESSIONS,
    AUTH_SESSIONS,
    REFRESH_TOKENS,
    DELIVERY_RATES,
    PASSKEY_REGISTRATIONS,
];
/// The prefix of one kind of a pool's records.
pub fn kind_prefix(pool_id: &str, kind: &str) -> String {
    format!("p/{pool_id}/{kind}/")
}
