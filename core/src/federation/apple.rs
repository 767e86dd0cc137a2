//! Sign in with Apple's client secret: instead of a fixed secret, the token request carries an
//! ES256 JWT the app signs with the private key Apple issued it (`private_key`, PKCS#8 PEM, its
//! `key_id` as `kid`): `iss` the `team_id`, `sub` the `client_id` (the Services ID), `aud`
//! `https://appleid.apple.com`, `iat` now and a short `exp`. Signed by the `Jws` port (ES256;
//! the host's AWS-LC), never here.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::json;

use super::provider::IdentityProvider;
use crate::error::Error;
use crate::ports::{Env, JwsAlgorithm};
use crate::secret::Secret;

/// The client secret's audience.
pub const AUDIENCE: &str = "https://appleid.apple.com";
/// How long a client secret lives (Apple accepts up to six months; one request needs minutes).
pub const LIFETIME_SECONDS: u64 = 5 * 60;

/// The base64 body of a PEM `PRIVATE KEY` (PKCS#8), or of bare base64.
fn pkcs8_base64(private_key: &str) -> Option<String> {
    let body: String = if private_key.contains("-----BEGIN") {
        private_key
            .lines()
            .map(str::trim)
            .skip_while(|l| *l != "-----BEGIN PRIVATE KEY-----")
            .skip(1)
            .take_while(|l| *l != "-----END PRIVATE KEY-----")
            .collect()
    } else {
        private_key.split_whitespace().collect()
    };
    crate::codec::b64_decode(&body).map(|_| body)
}

/// Adds the names in Apple's `user` form member (`{"name":{"firstName":..,"lastName":..},
/// "email":..}`, sent with the first sign-in only) to the claims the attribute mapping reads:
/// `firstName`, `lastName` and `name` (both, space-separated), as Cognito names Apple's
/// attributes. The email is not taken from it: the ID token's is the verified one. Anything
/// that is not that JSON is ignored (the sign-in does not depend on it).
pub fn add_user_names(claims: &mut serde_json::Map<String, serde_json::Value>, user: &str) {
    use serde_json::Value;
    let Ok(Value::Object(user)) = serde_json::from_str::<Value>(user) else {
        return;
    };
    let Some(Value::Object(name)) = user.get("name") else {
        return;
    };
    let part = |k: &str| {
        name.get(k)
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.chars().count() <= 256)
    };
    let (first, last) = (part("firstName"), part("lastName"));
    for (claim, value) in [("firstName", first), ("lastName", last)] {
        if let Some(value) = value {
            claims
                .entry(claim)
                .or_insert_with(|| Value::String(value.to_string()));
        }
    }
    let full: alloc::vec::Vec<&str> = [first, last].into_iter().flatten().collect();
    if !full.is_empty() {
        claims
            .entry("name")
            .or_insert_with(|| Value::String(full.join(" ")));
    }
}

/// The client secret JWT for a Sign in with Apple provider.
pub async fn client_secret(env: &dyn Env, provider: &IdentityProvider) -> Result<String, Error> {
    let detail = |k: &str| {
        provider
            .detail(k)
            .filter(|v| !v.is_empty())
            .ok_or_else(|| Error::invalid_parameter(format!("The provider has no {k}.")))
    };
    let (client_id, team_id, key_id) =
        (detail("client_id")?, detail("team_id")?, detail("key_id")?);
    let key = pkcs8_base64(detail("private_key")?).ok_or_else(|| {
        Error::invalid_parameter("The private_key is not a PKCS#8 PEM private key.")
    })?;
    let now = env.clock().now_millis() / 1000;
    let header = json!({ "alg": JwsAlgorithm::ES256.name(), "kid": key_id });
    let claims = json!({
        "iss": team_id,
        "iat": now,
        "exp": now.saturating_add(LIFETIME_SECONDS),
        "aud": AUDIENCE,
        "sub": client_id,
    });
    let input = format!(
        "{}.{}",
        crate::codec::b64url(header.to_string().as_bytes()),
        crate::codec::b64url(claims.to_string().as_bytes())
    );
    let signature = env
        .jws()
        .sign(
            JwsAlgorithm::ES256,
            key_id,
            &Secret::new(key),
            input.as_bytes(),
        )
        .await?;
    Ok(format!("{input}.{}", crate::codec::b64url(&signature)))
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
    use crate::federation::provider::ProviderType;
    use crate::testing::TestEnv;
    use alloc::collections::BTreeMap;
    use alloc::vec::Vec;
    use futures_util::FutureExt;
    use serde_json::Value;

    fn run<T>(f: impl core::future::Future<Output = T>) -> T {
        f.now_or_never().expect("the test env never waits")
    }

    fn apple(private_key: &str) -> IdentityProvider {
        let mut details = BTreeMap::new();
        for (k, v) in [
            ("client_id", "com.example.web"),
            ("team_id", "TEAM123456"),
            ("key_id", "KEY1234567"),
            ("private_key", private_key),
            ("authorize_scopes", "email name"),
        ] {
            details.insert(k.to_string(), v.to_string());
        }
        IdentityProvider {
            user_pool_id: "us-east-1_x".into(),
            provider_name: "SignInWithApple".into(),
            provider_type: ProviderType::SignInWithApple,
            provider_details: details,
            attribute_mapping: BTreeMap::new(),
            idp_identifiers: Vec::new(),
            acr_mapping: None,
            created_millis: 0,
            modified_millis: 0,
        }
    }

    #[test]
    fn the_client_secret_is_an_es256_jwt_with_apples_claims() {
        let env = TestEnv::new();
        env.clock.set(1_700_000_000_000);
        // The test Jws is an HMAC double keyed by the "private key" bytes.
        let key = crate::codec::b64(b"0123456789abcdef0123456789abcdef");
        let pem = format!("-----BEGIN PRIVATE KEY-----\n{key}\n-----END PRIVATE KEY-----\n");
        let jwt = run(client_secret(&env, &apple(&pem))).unwrap();
        let parts: Vec<&str> = jwt.split('.').collect();
        assert_eq!(parts.len(), 3);
        let json = |p: &str| -> Value {
            serde_json::from_slice(&crate::codec::b64url_decode(p).unwrap()).unwrap()
        };
        assert_eq!(json(parts[0]), json!({"alg": "ES256", "kid": "KEY1234567"}));
        assert_eq!(
            json(parts[1]),
            json!({
                "iss": "TEAM123456",
                "iat": 1_700_000_000u64,
                "exp": 1_700_000_300u64,
                "aud": "https://appleid.apple.com",
                "sub": "com.example.web",
            })
        );
        let input = format!("{}.{}", parts[0], parts[1]);
        let signature = crate::codec::b64url_decode(parts[2]).unwrap();
        let verified = run(env.jws().verify(
            JwsAlgorithm::ES256,
            "KEY1234567",
            b"0123456789abcdef0123456789abcdef",
            &[],
            input.as_bytes(),
            &signature,
        ))
        .unwrap();
        assert!(verified, "signed with the provider's private key");

        let bad = run(client_secret(&env, &apple("not base64!")));
        assert!(bad.is_err());
    }

    #[test]
    fn the_user_member_adds_names_and_anything_else_is_ignored() {
        let names = |user: &str| {
            let mut claims = serde_json::Map::new();
            claims.insert("name".into(), json!("From the ID token"));
            add_user_names(&mut claims, user);
            claims
        };
        let c = names(r#"{"name":{"firstName":" Kim ","lastName":"Lee"}}"#);
        assert_eq!(c["firstName"], "Kim");
        assert_eq!(c["lastName"], "Lee");
        assert_eq!(
            c["name"], "From the ID token",
            "claims already there are kept"
        );
        let only_first = names(r#"{"name":{"firstName":"Kim"},"email":"x@y"}"#);
        assert_eq!(only_first["firstName"], "Kim");
        assert!(!only_first.contains_key("lastName") && !only_first.contains_key("email"));
        for ignored in [
            "not json",
            "[]",
            r#"{"name":"Kim"}"#,
            r#"{"name":{"firstName":""}}"#,
        ] {
            assert_eq!(names(ignored).len(), 1, "{ignored}");
        }
    }
}
