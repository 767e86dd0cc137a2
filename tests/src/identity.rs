//! Identity pools (`AWSCognitoIdentityService.*`) as a client calls them: signed admin calls,
//! unsigned public calls, and the identity service's keys.

use jsonwebtoken::jwk::JwkSet;
use serde_json::Value;

use crate::{Jwks, RawResponse, Target};

impl Target {
    /// A `AWSCognitoIdentityService.<operation>` call, SigV4-signed (service
    /// `cognito-identity`) with the admin key when `signed`.
    pub async fn identity_call(&self, operation: &str, body: &Value, signed: bool) -> RawResponse {
        let target = format!("AWSCognitoIdentityService.{operation}");
        if signed {
            return self.signed_call_as("cognito-identity", &target, body).await;
        }
        self.post_raw(
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
            ],
            body.to_string().into_bytes(),
        )
        .await
    }

    /// A signed identity-pools call that must succeed; its JSON answer.
    pub async fn identity_admin(&self, operation: &str, body: &Value) -> Value {
        let response = self.identity_call(operation, body, true).await;
        assert_eq!(response.status, 200, "{operation}: {response}");
        response.json().unwrap_or(Value::Null)
    }

    /// An unsigned identity-pools call that must succeed; its JSON answer.
    pub async fn identity_public(&self, operation: &str, body: &Value) -> Value {
        let response = self.identity_call(operation, body, false).await;
        assert_eq!(response.status, 200, "{operation}: {response}");
        response.json().unwrap_or(Value::Null)
    }

    /// The identity service's issuer and keys, found through its discovery document.
    pub async fn identity_jwks(&self) -> Jwks {
        let discovery_url = format!(
            "{}/cognito-identity/.well-known/openid-configuration",
            self.base_url()
        );
        let get = |url: String| async move {
            let response = self.http().get(&url).send().await;
            let response = response.unwrap_or_else(|e| panic!("GET {url}: {e}"));
            assert_eq!(response.status().as_u16(), 200, "GET {url}");
            response.text().await.unwrap_or_default()
        };
        let discovery: Value =
            serde_json::from_str(&get(discovery_url).await).expect("a discovery document");
        let issuer = discovery["issuer"].as_str().expect("issuer").to_owned();
        let jwks_uri = discovery["jwks_uri"].as_str().expect("jwks_uri").to_owned();
        let keys: JwkSet = serde_json::from_str(&get(jwks_uri).await).expect("a JWK set");
        Jwks { issuer, keys }
    }
}
