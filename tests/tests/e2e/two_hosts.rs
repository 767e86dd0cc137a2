//! Two `cognate` hosts on one PostgreSQL database, as behind a load balancer (issue 21): every
//! guarantee one host gives holds across both. Each test starts its own two hosts on a fresh
//! database of the server named by `COGNATE_TEST_POSTGRES` (scripts/with-postgres.sh sets it);
//! without it they are ignored, and `scripts/test-postgres.sh` runs them with `--ignored`.

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

/// The admin URL of the test server.
fn admin_url() -> String {
    std::env::var("COGNATE_TEST_POSTGRES")
        .ok()
        .filter(|url| !url.trim().is_empty())
        .expect("set COGNATE_TEST_POSTGRES (scripts/with-postgres.sh)")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn a_host_whose_database_is_down_starts_answers_a_retryable_error_and_recovers() {
    let real = fresh_postgres_database(admin_url().trim()).unwrap();
    let real_port: u16 = real
        .rsplit_once(':')
        .and_then(|(_, rest)| rest.split('/').next())
        .and_then(|port| port.parse().ok())
        .expect("the test URL names a port");
    // A port nothing listens on: the database is down when the host starts.
    let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = probe.local_addr().unwrap().port();
    drop(probe);
    let down = real.replace(&format!(":{real_port}/"), &format!(":{port}/"));
    let host = Target::start_local_on_store(&down).unwrap_or_else(|e| panic!("{e}"));
    let log = host.server_log().unwrap();
    assert!(
        log.contains("the PostgreSQL database does not answer"),
        "the host did not report the database down: {log}"
    );
    assert!(log.contains(&format!("127.0.0.1:{port}")), "{log}");

    // Requests get Cognito's retryable internal error, not a hang or a crash.
    let err = service_error(
        host.admin_client()
            .list_user_pools()
            .max_results(10)
            .send()
            .await,
        "ListUserPools with the database down",
    );
    assert_eq!(err.code(), Some("InternalErrorException"), "{err:?}");
    // Where the database is stays in the host's log, not in the answer.
    let message = err.message().unwrap_or_default();
    assert!(!message.contains(&format!(":{port}")), "{message}");
    assert!(
        log.contains("connection refused") || log.contains("Connection refused"),
        "{log}"
    );
    // GET /health says the store is what is wrong (503), without saying where it is.
    let health = reqwest::get(format!("{}/health", host.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 503);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "unavailable", "{body}");
    assert!(!body.to_string().contains(&format!(":{port}")), "{body}");

    // The database comes back (a relay to the real server on that port): the same host serves.
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    let relay = tokio::spawn(async move {
        while let Ok((mut inbound, _)) = listener.accept().await {
            tokio::spawn(async move {
                if let Ok(mut outbound) =
                    tokio::net::TcpStream::connect(("127.0.0.1", real_port)).await
                {
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                }
            });
        }
    });
    let client = host.standard_setup("recovered").await;
    let username = confirmed_user(&host, &client, "after").await;
    host.password_sign_in(&client, &username, PASSWORD).await;
    let health = reqwest::get(format!("{}/health", host.base_url()))
        .await
        .unwrap();
    assert_eq!(health.status(), 200);
    relay.abort();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs COGNATE_TEST_POSTGRES (scripts/test-postgres.sh)"]
async fn killing_one_host_under_sign_up_load_loses_no_acknowledged_user() {
    let (a, b) = two_hosts();
    let client = a.standard_setup("crash").await;
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    // Sign-ups to both hosts, 8 at a time, until 200 were sent. A is killed after the 60th was
    // sent; from the 100th on, sign-ups wait until it is dead.
    let (killed_tx, killed) = tokio::sync::watch::channel(false);
    let mut load = tokio::task::JoinSet::new();
    let attempted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for worker in 0..8 {
        let clients = [a.public_client(), b.public_client()];
        let client_id = client.id.clone();
        let acknowledged = std::sync::Arc::clone(&acknowledged);
        let attempted = std::sync::Arc::clone(&attempted);
        let mut killed = killed.clone();
        load.spawn(async move {
            let (mut after_kill_on_b, mut refused_by_a) = (0, 0);
            loop {
                let n = attempted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                if n >= 200 {
                    return (after_kill_on_b, refused_by_a);
                }
                if n >= 100 {
                    killed.wait_for(|dead| *dead).await.unwrap();
                }
                let on_b = (n + worker) % 2 == 1;
                let username = format!("crash-{worker}-{n}");
                let sent = clients[usize::from(on_b)]
                    .sign_up()
                    .client_id(&client_id)
                    .username(&username)
                    .password(PASSWORD)
                    .user_attributes(attribute("email", &format!("{username}@example.com")))
                    .send()
                    .await;
                match sent {
                    Ok(_) => {
                        assert!(on_b || n < 100, "host A answered after it was killed");
                        acknowledged.lock().unwrap().push(username);
                        if on_b && n >= 100 {
                            after_kill_on_b += 1;
                        }
                    }
                    // Host A is gone (refused, or cut off mid-request): not acknowledged.
                    Err(_) if !on_b => refused_by_a += 1,
                    Err(e) => panic!("host B failed a sign-up: {e:?}"),
                }
            }
        });
    }
    // Kill A (SIGKILL: no graceful shutdown) while the load runs.
    while attempted.load(std::sync::atomic::Ordering::SeqCst) < 60 {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let killer = tokio::task::spawn_blocking(move || {
        a.kill_server();
        a
    });
    let a = killer.await.unwrap();
    killed_tx.send(true).unwrap();
    let (mut served_by_b_after_kill, mut refused_by_a) = (0, 0);
    while let Some(done) = load.join_next().await {
        let (served, refused) = done.unwrap();
        served_by_b_after_kill += served;
        refused_by_a += refused;
    }
    // The last 100 went to both hosts: B served every one of its share (a failure there
    // panicked above), the dead A none.
    assert!(
        served_by_b_after_kill > 0,
        "host B served nothing after the kill"
    );
    assert!(refused_by_a > 0, "no sign-up failed on the killed host A");
    drop(a);

    // Every acknowledged sign-up is there exactly once, as seen through the survivor.
    let mut listed = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = ok(
            b.admin_client()
                .list_users()
                .user_pool_id(&client.pool_id)
                .limit(60)
                .set_pagination_token(token.take())
                .send()
                .await,
            "ListUsers on host B",
        );
        listed.extend(
            page.users()
                .iter()
                .filter_map(|u| u.username().map(str::to_owned)),
        );
        match page.pagination_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    let unique_listed: std::collections::BTreeSet<&String> = listed.iter().collect();
    assert_eq!(unique_listed.len(), listed.len(), "a user is listed twice");
    let acknowledged = acknowledged.lock().unwrap().clone();
    for username in &acknowledged {
        assert!(
            unique_listed.contains(username),
            "the acknowledged sign-up {username} is lost"
        );
    }
    // Users beyond the acknowledged ones can only be sign-ups in flight on A when it died.
    assert!(listed.len() >= acknowledged.len());
    assert!(listed.len() <= 200);
}
