//! `cognate admin ...`: the CLI binary against a running server, with human output and `--json`,
//! credentials from the environment and the endpoint from `--endpoint`.

use std::process::Command;

use cognate_host::config::ServeArgs;
use serde_json::Value;

use crate::harness::{ACCESS_KEY_ID, Host, SECRET, repo_file};

/// Runs `cognate admin ARGS`; returns stdout, failing the test with stderr if it failed.
fn admin(host: &Host, args: &[&str]) -> String {
    let output = run(host, args);
    assert!(
        output.status.success(),
        "cognate admin {args:?} failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

fn run(host: &Host, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_cognate"))
        .arg("admin")
        .args(["--endpoint", &host.base])
        .args(args)
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", SECRET)
        .env_remove("COGNATE_ENDPOINT")
        .env_remove("COGNATE_ADMIN_ACCESS_KEY_ID")
        .env_remove("COGNATE_ADMIN_SECRET_ACCESS_KEY")
        .output()
        .unwrap()
}

fn json(host: &Host, args: &[&str]) -> Value {
    let mut all = vec!["--json"];
    all.extend_from_slice(args);
    serde_json::from_str(&admin(host, &all)).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_cli_manages_pools_clients_users_groups_and_plugins() {
    let host = Host::start("", ServeArgs::default()).await;

    // Pools.
    let created = json(
        &host,
        &["pools", "create", "cli-pool", "--auto-verify", "email"],
    );
    let pool = created["UserPool"]["Id"].as_str().unwrap().to_owned();
    assert_eq!(created["UserPool"]["Name"], "cli-pool");
    let listed = admin(&host, &["pools", "list"]);
    let header = listed.lines().next().unwrap();
    assert!(
        header.starts_with("ID") && header.contains("NAME"),
        "{listed}"
    );
    assert!(
        listed
            .lines()
            .any(|l| l.starts_with(&pool) && l.ends_with("cli-pool")),
        "{listed}"
    );
    let described = admin(&host, &["pools", "describe", &pool]);
    assert!(
        described.contains(&format!("Id:                    {pool}")),
        "{described}"
    );
    assert!(
        described.contains("Auto-verified:         email"),
        "{described}"
    );
    let as_json = json(&host, &["pools", "list"]);
    assert!(
        as_json["UserPools"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["Id"] == pool.as_str()),
        "{as_json}"
    );

    // App clients.
    let client = json(
        &host,
        &[
            "clients",
            "create",
            &pool,
            "web",
            "--flow",
            "ALLOW_USER_SRP_AUTH",
            "--flow",
            "ALLOW_REFRESH_TOKEN_AUTH",
        ],
    );
    let client_id = client["UserPoolClient"]["ClientId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        client["UserPoolClient"]["ExplicitAuthFlows"],
        serde_json::json!(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"])
    );
    let clients = admin(&host, &["clients", "list", &pool]);
    assert!(
        clients
            .lines()
            .any(|l| l.starts_with(&client_id) && l.ends_with("web")),
        "{clients}"
    );
    let shown = admin(&host, &["clients", "describe", &pool, &client_id]);
    assert!(shown.contains("Secret:       no"), "{shown}");
    assert!(
        shown.contains("Auth flows:   ALLOW_USER_SRP_AUTH, ALLOW_REFRESH_TOKEN_AUTH"),
        "{shown}"
    );
    let with_secret = admin(&host, &["clients", "create", &pool, "backend", "--secret"]);
    assert!(with_secret.contains("Client secret: "), "{with_secret}");
    let deleted = admin(&host, &["clients", "delete", &pool, &client_id]);
    assert_eq!(
        deleted.trim(),
        format!("Deleted app client {client_id} of {pool}")
    );
    assert!(!admin(&host, &["clients", "list", &pool]).contains(&client_id));

    // Users.
    let made = admin(
        &host,
        &[
            "users",
            "create",
            &pool,
            "alice",
            "--attribute",
            "email=alice@example.com",
            "--suppress",
        ],
    );
    assert_eq!(
        made.trim(),
        format!("Created user alice in {pool} (FORCE_CHANGE_PASSWORD)")
    );
    let users = admin(&host, &["users", "list", &pool]);
    let alice = users.lines().find(|l| l.starts_with("alice")).unwrap();
    let cells: Vec<&str> = alice.split_whitespace().collect();
    assert_eq!(
        cells,
        [
            "alice",
            "FORCE_CHANGE_PASSWORD",
            "enabled",
            "alice@example.com"
        ]
    );
    admin(&host, &["users", "disable", &pool, "alice"]);
    let shown = json(&host, &["users", "describe", &pool, "alice"]);
    assert_eq!(shown["Enabled"], false);
    let text = admin(&host, &["users", "describe", &pool, "alice"]);
    assert!(text.contains("Enabled:   no"), "{text}");
    assert!(text.contains("  email = alice@example.com"), "{text}");
    admin(&host, &["users", "enable", &pool, "alice"]);
    assert_eq!(
        json(&host, &["users", "describe", &pool, "alice"])["Enabled"],
        true
    );

    // Groups.
    admin(
        &host,
        &[
            "groups",
            "create",
            &pool,
            "admins",
            "--description",
            "The admins",
            "--precedence",
            "1",
        ],
    );
    let groups = admin(&host, &["groups", "list", &pool]);
    let row: Vec<&str> = groups
        .lines()
        .find(|l| l.starts_with("admins"))
        .unwrap()
        .split_whitespace()
        .collect();
    assert_eq!(row, ["admins", "1", "The", "admins"]);
    admin(&host, &["groups", "add-user", &pool, "admins", "alice"]);
    let members = json(&host, &["groups", "members", &pool, "admins"]);
    assert_eq!(members["Users"][0]["Username"], "alice");
    admin(&host, &["groups", "remove-user", &pool, "admins", "alice"]);
    let members = json(&host, &["groups", "members", &pool, "admins"]);
    assert_eq!(members["Users"], serde_json::json!([]));
    admin(&host, &["groups", "delete", &pool, "admins"]);
    assert_eq!(
        json(&host, &["groups", "list", &pool])["Groups"],
        serde_json::json!([])
    );

    // Plugins.
    let wat = repo_file("plugins/examples/minimal.wat");
    let registered = admin(
        &host,
        &["plugins", "add", "cli-minimal", wat.to_str().unwrap()],
    );
    assert!(
        registered.starts_with("Registered plugin cli-minimal (sha256:"),
        "{registered}"
    );
    let plugins = admin(&host, &["plugins", "list"]);
    assert!(
        plugins.lines().any(|l| l.starts_with("cli-minimal")),
        "{plugins}"
    );
    admin(&host, &["plugins", "delete", "cli-minimal"]);
    assert!(!admin(&host, &["plugins", "list"]).contains("cli-minimal"));

    // Errors are the server's, on stderr, with a failing exit status.
    admin(&host, &["users", "delete", &pool, "alice"]);
    let missing = run(&host, &["users", "describe", &pool, "alice"]);
    assert!(!missing.status.success());
    let stderr = String::from_utf8_lossy(&missing.stderr);
    assert!(
        stderr.contains("UserNotFoundException: User does not exist."),
        "{stderr}"
    );
    admin(&host, &["pools", "delete", &pool]);
    assert!(!admin(&host, &["pools", "list"]).contains(&pool));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_key_is_refused_with_the_servers_error() {
    let host = Host::start("", ServeArgs::default()).await;
    let output = Command::new(env!("CARGO_BIN_EXE_cognate"))
        .args(["admin", "pools", "list", "--endpoint", &host.base])
        .env("AWS_ACCESS_KEY_ID", ACCESS_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", "not-the-secret")
        .env_remove("COGNATE_ENDPOINT")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("InvalidSignatureException"), "{stderr}");
}
