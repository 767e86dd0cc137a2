//! Two `cognate` hosts on one PostgreSQL database, as behind a load balancer (issue 21): every
//! guarantee one host gives holds across both. Each test starts its own two hosts on a fresh
//! database of the server named by `COGNATE_TEST_POSTGRES` (scripts/with-postgres.sh sets it);
//! without it they are ignored, and `scripts/test-postgres.sh` runs them with `--ignored`.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use cognate_tests::cognito::error::ProvideErrorMetadata as _;
use cognate_tests::cognito::types::{FeatureType, LambdaConfigType, RefreshTokenRotationType};
use cognate_tests::scenarios::{
    admin_delete, assert_access_token_refused, assert_user_not_found, confirmed_user, get_user,
    refresh_tokens,
};
use cognate_tests::{
    PASSWORD, Target, attribute, fresh_postgres_database, ok, password_flows, plugins,
    service_error, unique, unique_email,
};

/// Two hosts, each with its own port and data directory, on one new database.
fn two_hosts() -> (Target, Target) {
    let admin = match std::env::var("COGNATE_TEST_POSTGRES") {
        Ok(url) if !url.trim().is_empty() => url,
        _ => panic!(
            "set COGNATE_TEST_POSTGRES to a PostgreSQL URL whose role may create databases \
             (scripts/with-postgres.sh)"
        ),
    };
    let url = fresh_postgres_database(admin.trim()).unwrap_or_else(|e| panic!("{e}"));
    let a = Target::start_local_on_store(&url).unwrap_or_else(|e| panic!("host A: {e}"));
    let b = Target::start_local_on_store(&url).unwrap_or_else(|e| panic!("host B: {e}"));
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_hundred_racing_sign_ups_of_one_name_over_two_hosts_make_one_user() {
    let (a, b) = two_hosts();
    let client = a.standard_setup("race").await;
    let username = unique("racer");
    let mut racers = tokio::task::JoinSet::new();
    for i in 0..100 {
        let host = if i % 2 == 0 { &a } else { &b };
        let request = host
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(&username)
            .password(PASSWORD)
            .user_attributes(attribute("email", &unique_email("racer")));
        racers.spawn(async move { (i % 2, request.send().await) });
    }
    let mut won = Vec::new();
    let mut lost = 0;
    while let Some(joined) = racers.join_next().await {
        let (host, result) = joined.unwrap();
        match result {
            Ok(out) => won.push((host, out.user_sub)),
            Err(e) => {
                let e = e.into_service_error();
                assert!(
                    e.is_username_exists_exception(),
                    "a losing sign-up failed otherwise: {e:?}"
                );
                lost += 1;
            }
        }
    }
    assert_eq!(won.len(), 1, "sign-ups that succeeded: {won:?}");
    assert_eq!(lost, 99);
    for host in [&a, &b] {
        let users = ok(
            host.admin_client()
                .list_users()
                .user_pool_id(&client.pool_id)
                .send()
                .await,
            "ListUsers",
        );
        let names: Vec<_> = users.users().iter().filter_map(|u| u.username()).collect();
        assert_eq!(names, [username.as_str()], "the pool's users on one host");
        let sub = users.users()[0]
            .attributes()
            .iter()
            .find(|at| at.name() == "sub")
            .and_then(|at| at.value())
            .unwrap();
        assert_eq!(sub, won[0].1, "the user is the winner's");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_refresh_token_rotated_on_one_host_and_replayed_on_the_other_revokes_the_family() {
    let (a, b) = two_hosts();
    let pool_id = a.create_standard_pool("rotation").await;
    let client = a
        .create_client(&pool_id, |builder| {
            password_flows(builder).refresh_token_rotation(
                RefreshTokenRotationType::builder()
                    .feature(FeatureType::Enabled)
                    .retry_grace_period_seconds(0)
                    .build()
                    .unwrap(),
            )
        })
        .await;
    let username = confirmed_user(&a, &client, "rotator").await;
    let tokens = b.password_sign_in(&client, &username, PASSWORD).await;
    let original = tokens.refresh_token().unwrap().to_owned();

    let rotated = ok(
        refresh_tokens(&a, &client, &original).await,
        "GetTokensFromRefreshToken on host A",
    );
    let newest = rotated
        .authentication_result()
        .unwrap()
        .refresh_token()
        .expect("a rotated refresh token")
        .to_owned();
    assert_ne!(newest, original);

    // The original, replayed through the other host: reuse detected there.
    let err = service_error(
        refresh_tokens(&b, &client, &original).await,
        "GetTokensFromRefreshToken with the replayed token on host B",
    );
    assert!(err.is_refresh_token_reuse_exception(), "{err:?}");
    // The family is revoked on both hosts: the newest refresh token and the access tokens.
    for host in [&a, &b] {
        let err = service_error(
            refresh_tokens(host, &client, &newest).await,
            "GetTokensFromRefreshToken with the newest token of a revoked family",
        );
        assert!(err.is_not_authorized_exception(), "{err:?}");
        let what = "GetUser with an access token of the revoked family";
        assert_access_token_refused(host, tokens.access_token().unwrap(), what).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_user_deleted_through_one_host_cannot_sign_in_through_the_other() {
    let (a, b) = two_hosts();
    let client = a.standard_setup("deleted").await;
    let username = confirmed_user(&a, &client, "leaver").await;
    // Signed in on B first, so B has seen the user (and any cache it keeps is warm).
    let tokens = b.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        get_user(&b, tokens.access_token().unwrap()).await,
        "GetUser on host B",
    );

    ok(
        admin_delete(&a, &client.pool_id, &username).await,
        "AdminDeleteUser on host A",
    );

    // B refuses the deleted user exactly as it refuses a name that never existed.
    let err = service_error(
        b.password_auth(&client, &username, PASSWORD).send().await,
        "InitiateAuth on host B for the deleted user",
    );
    let never = service_error(
        b.password_auth(&client, &unique("never"), PASSWORD)
            .send()
            .await,
        "InitiateAuth on host B for a user that never existed",
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    assert_eq!((err.code(), err.message()), (never.code(), never.message()));
    assert_user_not_found(&b, &client.pool_id, &username, "AdminGetUser on host B").await;
    let what = "GetUser on host B with the deleted user's access token";
    assert_access_token_refused(&b, tokens.access_token().unwrap(), what).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_plugin_registered_on_one_host_runs_on_the_other() {
    let (a, b) = two_hosts();
    let name = unique("shared-minimal").replace('-', "_");
    a.register_plugin(&name, plugins::MINIMAL.as_bytes())
        .await
        .unwrap_or_else(|r| panic!("RegisterPlugin on host A: {r}"));
    let pool_id = a
        .create_pool("plugin", |builder| {
            cognate_tests::standard_pool(builder)
                .lambda_config(LambdaConfigType::builder().pre_sign_up(&name).build())
        })
        .await;
    let client = a.create_password_client(&pool_id).await;

    // The minimal plugin confirms everyone: a sign-up on B that comes back confirmed ran it.
    let out = b
        .sign_up(
            &client,
            &unique("joiner"),
            PASSWORD,
            &unique_email("joiner"),
        )
        .await;
    assert!(
        out.user_confirmed,
        "host B did not run A's pre sign-up plugin"
    );

    // B lists it, and a removal on B stops it on A.
    let listed = b.plugin_admin("ListPlugins", &serde_json::json!({})).await;
    assert_eq!(listed.status, 200, "{listed}");
    let listed = listed.json().unwrap();
    let names: Vec<&str> = listed["Plugins"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["Names"].as_array().unwrap().iter())
        .filter_map(|n| n.as_str())
        .collect();
    assert!(names.contains(&name.as_str()), "{listed}");
    let removed = b
        .plugin_admin("DeletePlugin", &serde_json::json!({"Name": name}))
        .await;
    assert_eq!(removed.status, 200, "{removed}");
    let err = service_error(
        a.public_client()
            .sign_up()
            .client_id(&client.id)
            .username(unique("late"))
            .password(PASSWORD)
            .user_attributes(attribute("email", &unique_email("late")))
            .send()
            .await,
        "SignUp on host A after the plugin was removed on host B",
    );
    assert!(err.is_unexpected_lambda_exception(), "{err:?}");
}
