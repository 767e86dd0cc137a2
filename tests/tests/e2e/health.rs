//! The server is up, and publishes a pool's signing keys where relying parties look for them.

use cognate_tests::Target;
use serde_json::Value;

#[tokio::test]
async fn health_answers_200() {
    let target = Target::shared();
    let response = target
        .http()
        .get(format!("{}/health", target.base_url()))
        .send()
        .await
        .expect("GET /health");
    assert_eq!(response.status().as_u16(), 200);
}

#[tokio::test]
async fn a_new_pool_publishes_an_rs256_signing_key_in_its_jwks() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("jwks").await;
    let url = format!("{}/{pool_id}/.well-known/jwks.json", target.base_url());
    let response = target.http().get(&url).send().await.expect("GET jwks");
    assert_eq!(response.status().as_u16(), 200);
    let body: Value = response.json().await.expect("JWKS is JSON");
    let keys = body["keys"].as_array().expect("JWKS has a keys array");
    assert!(!keys.is_empty(), "JWKS has no keys: {body}");
    for key in keys {
        assert_eq!(key["kty"], "RSA", "{key}");
        assert_eq!(key["alg"], "RS256", "{key}");
        assert_eq!(key["use"], "sig", "{key}");
        assert!(key["kid"].as_str().is_some_and(|k| !k.is_empty()), "{key}");
        assert!(
            key["n"].as_str().is_some_and(|n| n.len() >= 342),
            "at least 2048 bits: {key}"
        );
        assert_eq!(key["e"], "AQAB", "{key}");
        assert!(
            key.get("d").is_none(),
            "the JWKS must not publish private parts: {key}"
        );
    }
    // And the harness's verifier can load it.
    let jwks = target.jwks(&pool_id).await;
    assert_eq!(jwks.keys.keys.len(), keys.len());
}

#[tokio::test]
async fn jwks_of_an_unknown_pool_is_a_client_error() {
    let target = Target::shared();
    let url = format!(
        "{}/us-east-1_Zz9Zz9Zz9/.well-known/jwks.json",
        target.base_url()
    );
    let response = target.http().get(&url).send().await.expect("GET jwks");
    let status = response.status().as_u16();
    assert!((400..500).contains(&status), "GET {url} answered {status}");
}
