//! Abuse resistance (issue 24): request rate limits in Cognito's quota categories, per pool and
//! per source IP, and the HTTP limits that cut slow clients off.
//!
//! Cognito groups its operations into categories (UserAuthentication, UserCreation,
//! UserAccountRecovery, UserRead, UserUpdate, ...) and limits the requests per second of each
//! category ("Quotas in Amazon Cognito"). Cognate does the same with a token bucket per category
//! and pool (the request's `UserPoolId`, else its app client, which belongs to one pool) and per
//! category and source IP, each configured on its own; a category without a rate is not
//! limited. A request over a limit is answered as Cognito does, `TooManyRequestsException`
//! (HTTP 400); the OAuth endpoints and hosted UI answer 429 with an OAuth-style error.
//!
//! ```toml
//! [rate_limits.per_pool]     # requests per second per pool (burst: one second's worth)
//! UserAuthentication = 120
//! UserCreation = 50
//! [rate_limits.per_ip]       # ... per source IP
//! UserAuthentication = 10
//!
//! [http]
//! header_read_timeout_ms = 10000   # the request head must arrive within this; also the idle
//!                                  # time allowed between requests on a kept-alive connection
//! body_read_timeout_ms = 10000     # the longest wait for the next piece of a request body
//! max_header_bytes = 32768         # request line and headers: 431 past this
//! max_headers = 100                # header count: 431 past this
//! ```

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::bail;

use crate::metrics::Operation;

/// Cognito's quota categories for user pool operations.
pub const CATEGORIES: &[&str] = &[
    "UserAuthentication",
    "UserCreation",
    "UserFederation",
    "UserAccountRecovery",
    "UserRead",
    "UserUpdate",
    "UserList",
    "UserToken",
    "UserResourceRead",
    "UserResourceUpdate",
    "UserPoolRead",
    "UserPoolUpdate",
    "UserPoolResourceRead",
    "UserPoolResourceUpdate",
    "ClientAuthentication",
];

/// The quota category of an operation, after AWS's table of user pool operations by category
/// (operations it does not list, and Cognate's own, are not limited).
pub fn category_of(operation: &Operation, body: &[u8]) -> Option<&'static str> {
    let name = match operation {
        Operation::Target(name) => name.as_str(),
        Operation::Known(endpoint) => {
            return match endpoint.as_str() {
                "POST /oauth2/token" => {
                    let client_credentials = form_urlencoded::parse(body)
                        .any(|(k, v)| k == "grant_type" && v == "client_credentials");
                    Some(if client_credentials {
                        "ClientAuthentication"
                    } else {
                        "UserAuthentication"
                    })
                }
                "GET /oauth2/authorize"
                | "GET /login"
                | "POST /login"
                | "GET /mfa"
                | "POST /mfa" => Some("UserAuthentication"),
                "GET /oauth2/idpresponse"
                | "POST /oauth2/idpresponse"
                | "POST /saml2/idpresponse" => Some("UserFederation"),
                "POST /oauth2/revoke" | "GET /logout" => Some("UserToken"),
                "GET /oauth2/userInfo" | "GET /oauth2/userinfo" | "POST /oauth2/userInfo" => {
                    Some("UserRead")
                }
                "GET /signup" | "POST /signup" | "GET /confirm" | "POST /confirm"
                | "GET /confirmUser" => Some("UserCreation"),
                "GET /forgotPassword"
                | "POST /forgotPassword"
                | "GET /confirmForgotPassword"
                | "POST /confirmForgotPassword" => Some("UserAccountRecovery"),
                _ => None,
            };
        }
    };
    Some(match name {
        "InitiateAuth"
        | "AdminInitiateAuth"
        | "RespondToAuthChallenge"
        | "AdminRespondToAuthChallenge" => "UserAuthentication",
        "SignUp" | "ConfirmSignUp" | "AdminCreateUser" | "AdminConfirmSignUp" => "UserCreation",
        "ForgotPassword" | "ConfirmForgotPassword" | "AdminResetUserPassword" => {
            "UserAccountRecovery"
        }
        "AdminLinkProviderForUser" | "AdminDisableProviderForUser" => "UserFederation",
        "GetUser"
        | "AdminGetUser"
        | "AdminListGroupsForUser"
        | "AdminListDevices"
        | "ListDevices"
        | "GetDevice"
        | "AdminGetDevice"
        | "AdminListUserAuthEvents"
        | "GetUserAuthFactors"
        | "ListWebAuthnCredentials"
        | "GetUserAttributeVerificationCode" => "UserRead",
        "ListUsers" | "ListUsersInGroup" => "UserList",
        "AdminAddUserToGroup"
        | "AdminRemoveUserFromGroup"
        | "AdminDeleteUser"
        | "DeleteUser"
        | "AdminDeleteUserAttributes"
        | "DeleteUserAttributes"
        | "AdminUpdateUserAttributes"
        | "UpdateUserAttributes"
        | "AdminSetUserPassword"
        | "ChangePassword"
        | "AdminSetUserMFAPreference"
        | "SetUserMFAPreference"
        | "AdminSetUserSettings"
        | "SetUserSettings"
        | "AssociateSoftwareToken"
        | "VerifySoftwareToken"
        | "VerifyUserAttribute"
        | "AdminEnableUser"
        | "AdminDisableUser"
        | "ResendConfirmationCode"
        | "ConfirmDevice"
        | "ForgetDevice"
        | "AdminForgetDevice"
        | "UpdateDeviceStatus"
        | "AdminUpdateDeviceStatus"
        | "AdminUserGlobalSignOut"
        | "GlobalSignOut"
        | "AdminUpdateAuthEventFeedback"
        | "UpdateAuthEventFeedback"
        | "StartWebAuthnRegistration"
        | "CompleteWebAuthnRegistration"
        | "DeleteWebAuthnCredential" => "UserUpdate",
        "RevokeToken" | "GetTokensFromRefreshToken" => "UserToken",
        "DescribeUserPoolClient"
        | "ListUserPoolClients"
        | "GetGroup"
        | "ListGroups"
        | "DescribeIdentityProvider"
        | "ListIdentityProviders"
        | "GetIdentityProviderByIdentifier"
        | "DescribeResourceServer"
        | "ListResourceServers"
        | "GetUICustomization"
        | "GetSigningCertificate"
        | "GetCSVHeader"
        | "DescribeUserImportJob"
        | "ListUserImportJobs" => "UserResourceRead",
        "CreateUserPoolClient"
        | "UpdateUserPoolClient"
        | "DeleteUserPoolClient"
        | "CreateGroup"
        | "UpdateGroup"
        | "DeleteGroup"
        | "CreateIdentityProvider"
        | "UpdateIdentityProvider"
        | "DeleteIdentityProvider"
        | "CreateResourceServer"
        | "UpdateResourceServer"
        | "DeleteResourceServer"
        | "SetUICustomization"
        | "CreateUserImportJob"
        | "StartUserImportJob"
        | "StopUserImportJob"
        | "AddCustomAttributes" => "UserResourceUpdate",
        "DescribeUserPool"
        | "ListUserPools"
        | "GetUserPoolMfaConfig"
        | "DescribeUserPoolDomain" => "UserPoolRead",
        "CreateUserPool"
        | "UpdateUserPool"
        | "DeleteUserPool"
        | "SetUserPoolMfaConfig"
        | "CreateUserPoolDomain"
        | "UpdateUserPoolDomain"
        | "DeleteUserPoolDomain" => "UserPoolUpdate",
        _ => return None,
    })
}

/// `[rate_limits]` in the config file: requests per second by category.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RateLimitConfig {
    #[serde(default)]
    pub per_pool: BTreeMap<String, f64>,
    #[serde(default)]
    pub per_ip: BTreeMap<String, f64>,
}

impl RateLimitConfig {
    /// Refuses unknown categories and rates that are not positive numbers.
    pub fn check(&self) -> anyhow::Result<()> {
        for (scope, rates) in [("per_pool", &self.per_pool), ("per_ip", &self.per_ip)] {
            for (category, rate) in rates {
                if !CATEGORIES.contains(&category.as_str()) {
                    bail!(
                        "[rate_limits.{scope}]: unknown category {category:?} (known: {})",
                        CATEGORIES.join(", ")
                    );
                }
                if !(rate.is_finite() && *rate > 0.0) {
                    bail!("[rate_limits.{scope}] {category}: the rate must be a positive number");
                }
            }
        }
        Ok(())
    }
}

/// `[http]` in the config file: how long and how much a client may take.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpConfig {
    pub header_read_timeout_ms: Option<u64>,
    pub body_read_timeout_ms: Option<u64>,
    pub max_header_bytes: Option<usize>,
    pub max_headers: Option<usize>,
}

/// The HTTP limits in force.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    pub header_read_timeout: Duration,
    pub body_read_timeout: Duration,
    pub max_header_bytes: usize,
    pub max_headers: usize,
}

impl HttpConfig {
    pub fn limits(&self) -> HttpLimits {
        HttpLimits {
            header_read_timeout: Duration::from_millis(
                self.header_read_timeout_ms.unwrap_or(10_000).max(1),
            ),
            body_read_timeout: Duration::from_millis(
                self.body_read_timeout_ms.unwrap_or(10_000).max(1),
            ),
            max_header_bytes: self.max_header_bytes.unwrap_or(32 * 1024).max(1024),
            max_headers: self.max_headers.unwrap_or(100).max(8),
        }
    }
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The buckets kept before idle (full) ones are forgotten.
const MAX_BUCKETS: usize = 100_000;

/// The rate limiter: token buckets by (category, scope).
#[derive(Debug)]
pub struct RateLimiter {
    config: RateLimitConfig,
    buckets: Mutex<HashMap<(&'static str, String), Bucket>>,
}

/// Who a request counts against.
#[derive(Debug, Clone, Default)]
pub struct Scope {
    /// `pool:<id>` or `client:<id>`.
    pub pool: Option<String>,
    pub ip: Option<String>,
}

impl Scope {
    /// The pool (or app client) a request names: JSON `UserPoolId` or `ClientId`, or the OAuth
    /// form's or query's `client_id`.
    pub fn of(target: &str, body: &[u8], query: &str, ip: Option<String>) -> Self {
        let pool = if target.is_empty() {
            form_urlencoded::parse(body)
                .chain(form_urlencoded::parse(query.as_bytes()))
                .find(|(k, _)| k == "client_id")
                .map(|(_, v)| format!("client:{v}"))
        } else {
            serde_json::from_slice::<serde_json::Value>(body)
                .ok()
                .and_then(|body| {
                    let get =
                        |name: &str| body.get(name).and_then(|v| v.as_str()).map(str::to_owned);
                    get("UserPoolId")
                        .map(|p| format!("pool:{p}"))
                        .or_else(|| get("ClientId").map(|c| format!("client:{c}")))
                })
        };
        Self {
            pool: pool.filter(|p| p.len() <= 200),
            ip,
        }
    }
}

impl RateLimiter {
    pub fn new(config: RateLimitConfig) -> Self {
        Self {
            config,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    pub fn is_active(&self) -> bool {
        !(self.config.per_pool.is_empty() && self.config.per_ip.is_empty())
    }

    /// Takes one token from each bucket the request counts against; `false` when one is empty
    /// (then none is taken).
    pub fn admit(&self, category: &'static str, scope: &Scope) -> bool {
        let mut wanted: Vec<((&'static str, String), f64)> = Vec::with_capacity(2);
        if let (Some(rate), Some(pool)) = (self.config.per_pool.get(category), &scope.pool) {
            wanted.push(((category, pool.clone()), *rate));
        }
        if let (Some(rate), Some(ip)) = (self.config.per_ip.get(category), &scope.ip) {
            wanted.push(((category, format!("ip:{ip}")), *rate));
        }
        if wanted.is_empty() {
            return true;
        }
        let now = Instant::now();
        let mut buckets = self
            .buckets
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if buckets.len() > MAX_BUCKETS {
            // Forget the buckets that have refilled: they hold no state worth keeping.
            let rates = &self.config;
            buckets.retain(|(category, key), bucket| {
                let rate = if key.starts_with("ip:") {
                    rates.per_ip.get(*category)
                } else {
                    rates.per_pool.get(*category)
                };
                rate.is_some_and(|rate| {
                    bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate
                        < rate.max(1.0)
                })
            });
        }
        let mut refilled = Vec::with_capacity(wanted.len());
        for (key, rate) in &wanted {
            let capacity = rate.max(1.0);
            let bucket = buckets.get(key).copied().unwrap_or(Bucket {
                tokens: capacity,
                at: now,
            });
            let tokens =
                (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
            if tokens < 1.0 {
                return false;
            }
            refilled.push(tokens);
        }
        for ((key, _), tokens) in wanted.into_iter().zip(refilled) {
            buckets.insert(
                key,
                Bucket {
                    tokens: tokens - 1.0,
                    at: now,
                },
            );
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    #[test]
    fn operations_map_to_cognito_categories() {
        let op = |name: &str| category_of(&Operation::Target(name.into()), b"{}");
        assert_eq!(op("InitiateAuth"), Some("UserAuthentication"));
        assert_eq!(op("SignUp"), Some("UserCreation"));
        assert_eq!(op("ForgotPassword"), Some("UserAccountRecovery"));
        assert_eq!(op("GetUser"), Some("UserRead"));
        assert_eq!(op("ListUsers"), Some("UserList"));
        assert_eq!(op("ChangePassword"), Some("UserUpdate"));
        assert_eq!(op("RegisterPlugin"), None);
        let token = Operation::Known("POST /oauth2/token".into());
        assert_eq!(
            category_of(&token, b"grant_type=client_credentials"),
            Some("ClientAuthentication")
        );
        assert_eq!(
            category_of(&token, b"grant_type=authorization_code"),
            Some("UserAuthentication")
        );
    }

    #[test]
    fn unknown_categories_and_bad_rates_are_refused() {
        let mut config = RateLimitConfig::default();
        config.per_pool.insert("UserAuthentication".into(), 5.0);
        assert!(config.check().is_ok());
        config.per_ip.insert("Nope".into(), 5.0);
        assert!(config.check().is_err());
        let mut config = RateLimitConfig::default();
        config.per_ip.insert("UserRead".into(), 0.0);
        assert!(config.check().is_err());
    }

    #[test]
    fn a_bucket_empties_per_pool_and_per_ip_separately() {
        let mut config = RateLimitConfig::default();
        // One request per hour: the test cannot refill it.
        config.per_pool.insert("UserCreation".into(), 1.0 / 3600.0);
        config
            .per_ip
            .insert("UserAuthentication".into(), 1.0 / 3600.0);
        let limiter = RateLimiter::new(config);
        let a = Scope {
            pool: Some("pool:a".into()),
            ip: Some("10.0.0.1".into()),
        };
        let b = Scope {
            pool: Some("pool:b".into()),
            ip: Some("10.0.0.1".into()),
        };
        assert!(limiter.admit("UserCreation", &a));
        assert!(!limiter.admit("UserCreation", &a));
        assert!(limiter.admit("UserCreation", &b));
        // Another category is not limited per pool; per IP it is, across pools.
        assert!(limiter.admit("UserAuthentication", &a));
        assert!(!limiter.admit("UserAuthentication", &b));
        assert!(limiter.admit("UserRead", &a));
    }
}
