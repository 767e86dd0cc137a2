//! Passkeys on the hosted UI in headless Chromium with the DevTools virtual authenticator
//! (tests/browser/passkeys.cjs, playwright-core): sign in with a password, add a passkey at
//! `/passkeys/add`, sign out, sign in with the passkey, and the app's back end exchanges the code
//! for tokens of that person. Screenshots `passkeys-*.png` go to `target/browser/hosted-ui/`.
//!
//! WebAuthn needs a secure context whose host is the relying party id or under it: the browser
//! opens the target's pages on `http://localhost:<port>` (Chromium maps `localhost` to
//! 127.0.0.1), and the pool's `RelyingPartyId` is `localhost`.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};

use cognate_tests::cognito::types::{
    AuthFactorType, ExplicitAuthFlowsType, OAuthFlowType, SignInPolicyType, UserPoolPolicyType,
    UserVerificationType, WebAuthnConfigurationType,
};
use cognate_tests::form_browser::{no_redirects, query_param};
use cognate_tests::{PASSWORD, Target, ok, standard_pool, unique, unique_email};
use serde_json::Value;

use super::hosted_ui_browser::{FakeApp, browser_env, repo_root, screenshot_dir};

/// The target's base URL on `localhost` (a secure context for WebAuthn over http).
fn localhost_base(target: &Target) -> String {
    target.base_url().replace("://127.0.0.1:", "://localhost:")
}

#[tokio::test]
async fn a_person_adds_a_passkey_on_the_hosted_ui_and_signs_in_with_it_in_chromium() {
    let target = Target::shared();
    let policy = SignInPolicyType::builder()
        .allowed_first_auth_factors(AuthFactorType::Password)
        .allowed_first_auth_factors(AuthFactorType::WebAuthn)
        .build();
    let pool_id = target
        .create_pool("passkeys-chromium", |b| {
            standard_pool(b).policies(UserPoolPolicyType::builder().sign_in_policy(policy).build())
        })
        .await;
    ok(
        target
            .admin_client()
            .set_user_pool_mfa_config()
            .user_pool_id(&pool_id)
            .web_authn_configuration(
                WebAuthnConfigurationType::builder()
                    .relying_party_id("localhost")
                    .user_verification(UserVerificationType::Required)
                    .build(),
            )
            .send()
            .await,
        "SetUserPoolMfaConfig",
    );
    let app = FakeApp::start();
    let callback = format!("{}/app/callback", app.base_url);
    let signed_out = format!("{}/app/signed-out", app.base_url);
    let web = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserAuth)
                .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .callback_urls(&callback)
                .logout_urls(&signed_out)
                .supported_identity_providers("COGNITO")
        })
        .await;
    let username = unique("chromium-pk");
    target
        .sign_up_confirmed(&web, &username, PASSWORD, &unique_email("chromium-pk"))
        .await;
    let base = localhost_base(target);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={callback}&scope=openid&state=pk-state",
        web.id
    );

    let output = Command::new("node")
        .arg(repo_root().join("tests/browser/passkeys.cjs"))
        .envs(browser_env())
        .env("AUTHORIZE_URL", format!("{base}/oauth2/authorize?{query}"))
        .env("ADD_URL", format!("{base}/passkeys/add?{query}"))
        .env(
            "LOGOUT_URL",
            format!("{base}/logout?client_id={}&logout_uri={signed_out}", web.id),
        )
        .env("APP_URL", &app.base_url)
        .env("USERNAME", &username)
        .env("PASSWORD", PASSWORD)
        .env("SCREENSHOTS", screenshot_dir())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("node (run scripts/setup.sh)");
    let line = BufReader::new(output.stdout.as_slice())
        .lines()
        .map_while(Result::ok)
        .last()
        .unwrap_or_default();
    let result: Value =
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("browser script said: {line:?}"));
    assert!(output.status.success(), "browser script failed: {result}");
    assert_eq!(result["done"], true, "{result}");
    assert_eq!(result["errors"], serde_json::json!([]), "{result}");

    // A code after the password, after adding the passkey (the session rides on), none after
    // signing out, and a code after the passkey.
    for step in ["afterPassword", "afterAdd", "afterPasskey"] {
        let landed = result[step].as_str().unwrap();
        assert!(landed.starts_with(&callback), "{step}: {result}");
        assert_eq!(query_param(landed, "state").as_deref(), Some("pk-state"));
        assert!(query_param(landed, "code").is_some(), "{step}: {landed}");
    }
    assert!(
        result["afterLogout"]
            .as_str()
            .unwrap()
            .starts_with(&signed_out),
        "{result}"
    );
    // The virtual authenticator holds one discoverable credential for `localhost`, used once.
    let credentials = result["credentials"].as_array().unwrap();
    assert_eq!(credentials.len(), 1, "{result}");
    assert_eq!(credentials[0]["isResidentCredential"], true);
    assert_eq!(credentials[0]["rpId"], "localhost");
    let before = credentials[0]["signCount"].as_u64().unwrap();
    let after = result["signCountAfter"][0].as_u64().unwrap();
    assert!(after > before, "{result}");
    let titles: Vec<&str> = result["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(titles[0].starts_with("Sign in"), "{titles:?}");
    assert!(titles[1].starts_with("Add a passkey"), "{titles:?}");
    assert!(
        titles[2].starts_with("Sign in with a passkey"),
        "{titles:?}"
    );
    assert!(titles[3].starts_with("Use your passkey"), "{titles:?}");
    assert_eq!(titles[4], "App", "{titles:?}");

    // The app's back end exchanges the passkey sign-in's code for this person's tokens.
    let code = query_param(result["afterPasskey"].as_str().unwrap(), "code").unwrap();
    let response = no_redirects()
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&web.id, web.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback.as_str()),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 200);
    let tokens: Value = response.json().await.unwrap();
    let id = target
        .jwks(&pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &web.id)
        .expect("a valid ID token");
    assert_eq!(id["cognito:username"], username.as_str());
}
