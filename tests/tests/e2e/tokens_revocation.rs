//! Refresh tokens: RevokeToken, rotation with GetTokensFromRefreshToken, replay detection that
//! revokes the whole family, and racing refreshes.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{FeatureType, RefreshTokenRotationType};
use cognate_tests::scenarios::{
    assert_access_token_refused, assert_access_token_revoked, assert_refresh_refused,
    confirmed_user, get_user, refresh_token_auth, refresh_tokens, refresh_tokens_with_secret,
    revoke_token,
};
use cognate_tests::{AppClient, PASSWORD, Target, ok, password_flows, service_error};

/// A standard pool, a rotating client (grace period `grace` seconds) and a signed-up user.
async fn rotating_setup(target: &Target, prefix: &str, grace: i32) -> (AppClient, String) {
    let pool_id = target.create_standard_pool(prefix).await;
    let client = target
        .create_client(&pool_id, |b| {
            password_flows(b).refresh_token_rotation(
                RefreshTokenRotationType::builder()
                    .feature(FeatureType::Enabled)
                    .retry_grace_period_seconds(grace)
                    .build()
                    .unwrap(),
            )
        })
        .await;
    let username = confirmed_user(target, &client, "rotator").await;
    (client, username)
}

#[tokio::test]
async fn revoke_token_ends_one_sign_in_session_and_no_other() {
    let target = Target::shared();
    let client = target.standard_setup("revoke").await;
    let username = confirmed_user(target, &client, "revoker").await;
    let first = target.password_sign_in(&client, &username, PASSWORD).await;
    let second = target.password_sign_in(&client, &username, PASSWORD).await;

    // A refreshed access token of the first session, before revocation.
    let refreshed = ok(
        refresh_token_auth(target, &client, first.refresh_token().unwrap()).await,
        "REFRESH_TOKEN_AUTH",
    );
    let refreshed_access = refreshed
        .authentication_result()
        .unwrap()
        .access_token()
        .unwrap()
        .to_owned();

    ok(
        revoke_token(target, &client.id, first.refresh_token().unwrap()).await,
        "RevokeToken",
    );
    let what = "REFRESH_TOKEN_AUTH with a revoked refresh token";
    assert_refresh_refused(target, &client, first.refresh_token().unwrap(), what).await;
    for token in [first.access_token().unwrap(), refreshed_access.as_str()] {
        let what = "GetUser with an access token of the revoked session";
        assert_access_token_revoked(target, token, what).await;
    }

    // The second sign-in is untouched.
    ok(
        get_user(target, second.access_token().unwrap()).await,
        "GetUser of the other session",
    );
    ok(
        refresh_token_auth(target, &client, second.refresh_token().unwrap()).await,
        "REFRESH_TOKEN_AUTH of the other session",
    );

    // Revoking again, or an unknown token, is not an error; an access token cannot be revoked.
    ok(
        revoke_token(target, &client.id, first.refresh_token().unwrap()).await,
        "RevokeToken twice",
    );
    let err = service_error(
        revoke_token(target, &client.id, second.access_token().unwrap()).await,
        "RevokeToken of an access token",
    );
    assert!(err.is_unsupported_token_type_exception(), "{err:?}");
    // Another client of the pool cannot revoke this client's token.
    let other = target.create_password_client(&client.pool_id).await;
    let err = service_error(
        revoke_token(target, &other.id, second.refresh_token().unwrap()).await,
        "RevokeToken through another client",
    );
    assert!(
        err.is_unauthorized_exception() || err.code() == Some("NotAuthorizedException"),
        "{err:?}"
    );
    ok(
        get_user(target, second.access_token().unwrap()).await,
        "GetUser of the other session after a refused revocation",
    );
}

#[tokio::test]
async fn get_tokens_from_refresh_token_without_rotation_keeps_the_refresh_token() {
    let target = Target::shared();
    let client = target.standard_setup("no-rotation").await;
    let username = confirmed_user(target, &client, "steady").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    for _ in 0..2 {
        let output = ok(
            refresh_tokens(target, &client, refresh).await,
            "GetTokensFromRefreshToken",
        );
        let result = output.authentication_result().unwrap();
        assert!(result.access_token().is_some());
        assert!(result.id_token().is_some());
        assert!(
            result.refresh_token().is_none_or(|r| r == refresh),
            "no rotation: {result:?}"
        );
    }
}

#[tokio::test]
async fn rotation_issues_a_new_refresh_token_and_a_replay_revokes_the_family() {
    let target = Target::shared();
    let (client, username) = rotating_setup(target, "rotation", 0).await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let original = tokens.refresh_token().unwrap().to_owned();
    let jwks = target.jwks(&client.pool_id).await;

    let rotated = ok(
        refresh_tokens(target, &client, &original).await,
        "GetTokensFromRefreshToken",
    );
    let result = rotated.authentication_result().unwrap();
    let second = result
        .refresh_token()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(second, original);
    let access = jwks
        .verify_access_token(result.access_token().unwrap(), &client.id)
        .expect("access token verifies");
    let first_access = jwks
        .verify_access_token(tokens.access_token().unwrap(), &client.id)
        .unwrap();
    assert_eq!(access["origin_jti"], first_access["origin_jti"]);

    // The new one works (and rotates again).
    let again = ok(
        refresh_tokens(target, &client, &second).await,
        "GetTokensFromRefreshToken with the rotated token",
    );
    let third = again
        .authentication_result()
        .unwrap()
        .refresh_token()
        .expect("a new refresh token")
        .to_owned();
    assert_ne!(third, second);

    // Replaying the original: reuse detected.
    let err = service_error(
        refresh_tokens(target, &client, &original).await,
        "GetTokensFromRefreshToken with a replayed token",
    );
    assert!(err.is_refresh_token_reuse_exception(), "{err:?}");

    // The whole family is revoked: the newest token and the session's access tokens too.
    let err = service_error(
        refresh_tokens(target, &client, &third).await,
        "GetTokensFromRefreshToken after the family was revoked",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    let what = "GetUser with an access token of the revoked family";
    assert_access_token_refused(target, tokens.access_token().unwrap(), what).await;

    // Another sign-in is unaffected.
    let fresh = target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        refresh_tokens(target, &client, fresh.refresh_token().unwrap()).await,
        "GetTokensFromRefreshToken of a new sign-in",
    );
}

#[tokio::test]
async fn rotation_is_configured_and_described_on_the_client() {
    let target = Target::shared();
    let (client, _) = rotating_setup(target, "rotation-describe", 0).await;
    let described = ok(
        target
            .admin_client()
            .describe_user_pool_client()
            .user_pool_id(&client.pool_id)
            .client_id(&client.id)
            .send()
            .await,
        "DescribeUserPoolClient",
    );
    let rotation = described
        .user_pool_client()
        .and_then(|c| c.refresh_token_rotation())
        .expect("RefreshTokenRotation");
    assert_eq!(rotation.feature(), &FeatureType::Enabled);
    assert_eq!(rotation.retry_grace_period_seconds(), Some(0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_racing_refreshes_with_one_token_have_one_winner() {
    let target = Target::shared();
    let (client, username) = rotating_setup(target, "rotation-race", 0).await;
    for round in 0..8 {
        let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
        let refresh = tokens.refresh_token().unwrap();
        let (a, b) = tokio::join!(
            refresh_tokens(target, &client, refresh),
            refresh_tokens(target, &client, refresh),
        );
        let outcomes = [a.is_ok(), b.is_ok()];
        assert_eq!(
            outcomes.iter().filter(|&&ok| ok).count(),
            1,
            "round {round}: exactly one refresh wins: {a:?} / {b:?}"
        );
        let loser = if a.is_ok() { b } else { a };
        let err = service_error(loser, "the losing refresh");
        assert!(
            err.is_refresh_token_reuse_exception() || err.is_not_authorized_exception(),
            "round {round}: {err:?}"
        );
    }
}

#[tokio::test]
async fn rotation_can_be_enabled_on_an_existing_client() {
    let target = Target::shared();
    let client = target.standard_setup("rotation-update").await;
    let username = confirmed_user(target, &client, "later").await;
    ok(
        target
            .admin_client()
            .update_user_pool_client()
            .user_pool_id(&client.pool_id)
            .client_id(&client.id)
            .explicit_auth_flows(
                cognate_tests::cognito::types::ExplicitAuthFlowsType::AllowUserPasswordAuth,
            )
            .explicit_auth_flows(
                cognate_tests::cognito::types::ExplicitAuthFlowsType::AllowAdminUserPasswordAuth,
            )
            .explicit_auth_flows(
                cognate_tests::cognito::types::ExplicitAuthFlowsType::AllowRefreshTokenAuth,
            )
            .refresh_token_rotation(
                RefreshTokenRotationType::builder()
                    .feature(FeatureType::Enabled)
                    .retry_grace_period_seconds(0)
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "UpdateUserPoolClient with RefreshTokenRotation",
    );
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let original = tokens.refresh_token().unwrap();
    let rotated = ok(
        refresh_tokens(target, &client, original).await,
        "GetTokensFromRefreshToken",
    );
    let second = rotated
        .authentication_result()
        .unwrap()
        .refresh_token()
        .expect("a new refresh token");
    assert_ne!(second, original);
}

#[tokio::test]
async fn a_rotating_client_refreshes_only_with_get_tokens_from_refresh_token() {
    let target = Target::shared();
    let (client, username) = rotating_setup(target, "rotation-flow", 0).await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    // Cognito: "You can't authenticate with REFRESH_TOKEN_AUTH in app clients with refresh
    // token rotation enabled."
    let err = service_error(
        refresh_token_auth(target, &client, refresh).await,
        "REFRESH_TOKEN_AUTH on a rotating client",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    // The refused attempt did not use the token up.
    let rotated = ok(
        refresh_tokens(target, &client, refresh).await,
        "GetTokensFromRefreshToken after a refused REFRESH_TOKEN_AUTH",
    );
    assert!(
        rotated
            .authentication_result()
            .and_then(|r| r.refresh_token())
            .is_some()
    );
}

#[tokio::test]
async fn within_the_grace_period_the_rotated_token_still_works() {
    let target = Target::shared();
    let (client, username) = rotating_setup(target, "rotation-grace", 60).await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let original = tokens.refresh_token().unwrap();
    let first = ok(
        refresh_tokens(target, &client, original).await,
        "GetTokensFromRefreshToken",
    );
    let second = first
        .authentication_result()
        .unwrap()
        .refresh_token()
        .unwrap()
        .to_owned();
    // A retry with the original (a lost response) within the 60 s grace period succeeds.
    let retried = ok(
        refresh_tokens(target, &client, original).await,
        "GetTokensFromRefreshToken retry within the grace period",
    );
    assert!(
        retried
            .authentication_result()
            .unwrap()
            .access_token()
            .is_some()
    );
    // And the token it was rotated to still works.
    ok(
        refresh_tokens(target, &client, &second).await,
        "GetTokensFromRefreshToken with the rotated token",
    );
}

#[tokio::test]
async fn a_client_with_a_secret_must_send_it_to_refresh_and_revoke() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("secret-refresh").await;
    let client = target
        .create_client(&pool_id, |b| password_flows(b).generate_secret(true))
        .await;
    let secret = client.secret.clone().expect("a client secret");
    let username = confirmed_user(target, &client, "secretive").await;
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    let refresh = tokens.refresh_token().unwrap();
    let public = target.public_client();

    let err = service_error(
        refresh_tokens(target, &client, refresh).await,
        "GetTokensFromRefreshToken without ClientSecret",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    let err = service_error(
        refresh_tokens_with_secret(
            target,
            &client,
            Some("wrong-secret-wrong-secret-wrong-secret"),
            refresh,
        )
        .await,
        "GetTokensFromRefreshToken with a wrong ClientSecret",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    ok(
        refresh_tokens_with_secret(target, &client, Some(&secret), refresh).await,
        "GetTokensFromRefreshToken with ClientSecret",
    );

    let err = service_error(
        revoke_token(target, &client.id, refresh).await,
        "RevokeToken without ClientSecret",
    );
    assert!(err.is_unauthorized_exception(), "{err:?}");
    ok(
        public
            .revoke_token()
            .client_id(&client.id)
            .client_secret(&secret)
            .token(refresh)
            .send()
            .await,
        "RevokeToken with ClientSecret",
    );
    let err = service_error(
        refresh_tokens_with_secret(target, &client, Some(&secret), refresh).await,
        "GetTokensFromRefreshToken after RevokeToken",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}
