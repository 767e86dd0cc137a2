//! `bench-store`: sign-up, password sign-in, refresh and GetUser per second against real `cognate`
//! hosts (the built binary, as the scenarios start it), side by side in one run: one host on
//! SQLite, one host on PostgreSQL, two hosts on one PostgreSQL database (requests alternate
//! between them). `COGNATE_TEST_POSTGRES` names the PostgreSQL server (scripts/bench-postgres.sh
//! starts a throwaway one). Prints a table; asserts nothing about speed.
//!
//! `BENCH_USERS` (default 200) sign-ups and sign-ins, twice that many refreshes, ten times that
//! many GetUser calls, `BENCH_CONCURRENCY` (default 16) requests in flight.

// A benchmark driver reports a failed call by panicking, like the harness it uses.
#![allow(clippy::expect_used, clippy::indexing_slicing)]

use std::sync::Arc;
use std::time::Instant;

use cognate_tests::cognito::types::AuthFlowType;
use cognate_tests::{PASSWORD, Target, attribute, fresh_postgres_database, unique};

fn env_number(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Runs `count` calls of `call(i)`, `concurrency` at a time; calls per second.
async fn rate<F, Fut>(count: usize, concurrency: usize, call: F) -> f64
where
    F: Fn(usize) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let call = Arc::new(call);
    let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let started = Instant::now();
    let mut workers = tokio::task::JoinSet::new();
    for _ in 0..concurrency {
        let call = Arc::clone(&call);
        let next = Arc::clone(&next);
        workers.spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= count {
                    return;
                }
                call(i).await;
            }
        });
    }
    while let Some(done) = workers.join_next().await {
        if let Err(e) = done {
            eprintln!("bench-store: a worker failed: {e}");
            std::process::exit(1);
        }
    }
    count as f64 / started.elapsed().as_secs_f64()
}

struct Row {
    name: &'static str,
    sign_up: f64,
    sign_in: f64,
    refresh: f64,
    get_user: f64,
}

async fn measure(name: &'static str, hosts: Vec<Target>, users: usize, concurrency: usize) -> Row {
    let first = &hosts[0];
    let client = first.standard_setup("bench").await;
    let prefix = unique("u");
    let publics: Arc<Vec<_>> = Arc::new(hosts.iter().map(Target::public_client).collect());
    let pick = {
        let publics = Arc::clone(&publics);
        move |i: usize| publics[i % publics.len()].clone()
    };

    let (p, c, id) = (pick.clone(), prefix.clone(), client.id.clone());
    let sign_up = rate(users, concurrency, move |i| {
        let request = p(i)
            .sign_up()
            .client_id(&id)
            .username(format!("{c}-{i}"))
            .password(PASSWORD)
            .user_attributes(attribute("email", &format!("{c}-{i}@example.com")));
        async move {
            request.send().await.expect("SignUp");
        }
    })
    .await;

    let admin = first.admin_client();
    for i in 0..users {
        admin
            .admin_confirm_sign_up()
            .user_pool_id(&client.pool_id)
            .username(format!("{prefix}-{i}"))
            .send()
            .await
            .expect("AdminConfirmSignUp");
    }

    let tokens = Arc::new(std::sync::Mutex::new(vec![
        (String::new(), String::new());
        users
    ]));
    let (p, c, id, t) = (
        pick.clone(),
        prefix.clone(),
        client.id.clone(),
        Arc::clone(&tokens),
    );
    let sign_in = rate(users, concurrency, move |i| {
        let request = p(i)
            .initiate_auth()
            .client_id(&id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", format!("{c}-{i}"))
            .auth_parameters("PASSWORD", PASSWORD);
        let t = Arc::clone(&t);
        async move {
            let out = request.send().await.expect("InitiateAuth");
            let result = out.authentication_result.expect("tokens");
            t.lock().expect("tokens")[i] = (
                result.access_token.expect("access token"),
                result.refresh_token.expect("refresh token"),
            );
        }
    })
    .await;
    let tokens: Arc<Vec<(String, String)>> =
        Arc::new(tokens.lock().expect("tokens").drain(..).collect());

    let (p, id, t) = (pick.clone(), client.id.clone(), Arc::clone(&tokens));
    let refresh = rate(users * 2, concurrency, move |i| {
        let request = p(i)
            .initiate_auth()
            .client_id(&id)
            .auth_flow(AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", &t[i % t.len()].1);
        async move {
            request.send().await.expect("REFRESH_TOKEN_AUTH");
        }
    })
    .await;

    let (p, t) = (pick, Arc::clone(&tokens));
    let get_user = rate(users * 10, concurrency, move |i| {
        let request = p(i).get_user().access_token(&t[i % t.len()].0);
        async move {
            request.send().await.expect("GetUser");
        }
    })
    .await;
    drop(hosts);
    Row {
        name,
        sign_up,
        sign_in,
        refresh,
        get_user,
    }
}

#[tokio::main]
async fn main() {
    let users = env_number("BENCH_USERS", 200);
    let concurrency = env_number("BENCH_CONCURRENCY", 16);
    let Some(admin) = std::env::var("COGNATE_TEST_POSTGRES")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        eprintln!("bench-store: set COGNATE_TEST_POSTGRES (scripts/bench-postgres.sh does)");
        std::process::exit(2);
    };
    let start = |store: &str| Target::start_local_on_store(store).expect("start a host");
    let mut rows = Vec::new();
    rows.push(measure("SQLite, 1 host", vec![start("sqlite")], users, concurrency).await);
    let url = fresh_postgres_database(&admin).expect("database");
    rows.push(measure("PostgreSQL, 1 host", vec![start(&url)], users, concurrency).await);
    let url = fresh_postgres_database(&admin).expect("database");
    rows.push(
        measure(
            "PostgreSQL, 2 hosts",
            vec![start(&url), start(&url)],
            users,
            concurrency,
        )
        .await,
    );
    println!(
        "{users} users, {concurrency} requests in flight; calls per second (ratio to SQLite, 1 host)"
    );
    println!(
        "{:<22} {:>16} {:>16} {:>16} {:>16}",
        "", "SignUp", "password sign-in", "refresh", "GetUser"
    );
    let base = (
        rows[0].sign_up,
        rows[0].sign_in,
        rows[0].refresh,
        rows[0].get_user,
    );
    for row in &rows {
        let cell = |v: f64, b: f64| format!("{v:.0} ({:.2}x)", v / b);
        println!(
            "{:<22} {:>16} {:>16} {:>16} {:>16}",
            row.name,
            cell(row.sign_up, base.0),
            cell(row.sign_in, base.1),
            cell(row.refresh, base.2),
            cell(row.get_user, base.3),
        );
    }
}
