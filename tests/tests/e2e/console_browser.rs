//! The admin console (issue 25) in headless Chromium: an operator with a wrong key sees nothing
//! and changes nothing; with the admin key they create a pool and an app client, create a user,
//! find them by email, add them to a group, see a failed sign-in in the user's events and in the
//! pool's chart, disable the user and sign out. Every change is then checked through the API
//! (the console is only a client of it). Screenshots go to `target/browser/console/`.

use std::process::{Command, Stdio};

use cognate_tests::{PASSWORD, Target, unique, unique_email};
use serde_json::Value;

use crate::hosted_ui_browser::{browser_env, repo_root, screenshots};

#[tokio::test]
async fn an_operator_manages_a_pool_from_the_console_in_chromium() {
    let target = Target::shared();
    let pool_name = unique("console");
    let username = unique("operator-made");
    let email = unique_email("console");
    let shots = screenshots("console");
    let keys = target.admin_keys();

    let output = Command::new("node")
        .arg(repo_root().join("tests/browser/console.cjs"))
        .envs(browser_env())
        .env("BASE_URL", target.base_url())
        .env("ACCESS_KEY_ID", &keys.access_key_id)
        .env("SECRET_ACCESS_KEY", &keys.secret_access_key)
        .env("POOL_NAME", &pool_name)
        .env("USERNAME", &username)
        .env("EMAIL", &email)
        .env("PASSWORD", PASSWORD)
        .env("SCREENSHOTS", &shots)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .expect("node (run scripts/setup.sh)");
    let text = String::from_utf8_lossy(&output.stdout);
    let result: Value = serde_json::from_str(text.trim())
        .unwrap_or_else(|_| panic!("browser script said: {text:?}"));
    assert!(output.status.success(), "browser script failed: {result}");
    assert_eq!(result["done"], true, "{result}");

    // Refused: the API's error is shown, the key is not kept, nothing else is shown; an unsigned
    // change sent from the page is refused by the API.
    let refused = result["refused"].as_str().unwrap();
    assert!(
        refused.starts_with("InvalidSignatureException"),
        "{refused}"
    );
    assert_eq!(result["navHiddenWhenRefused"], true);
    assert_eq!(result["storedWhenRefused"], 0);
    assert_eq!(result["unsigned"]["status"], 400, "{result}");
    assert!(
        result["unsigned"]["body"]["__type"]
            .as_str()
            .unwrap()
            .contains("UnrecognizedClientException"),
        "{result}"
    );
    // Nothing but this server was asked for anything; no script error, no CSP violation.
    for url in result["requests"].as_array().unwrap() {
        assert!(
            url.as_str().unwrap().starts_with(target.base_url()),
            "{url}"
        );
    }
    assert_eq!(result["consoleErrors"], serde_json::json!([]), "{result}");
    // axe-core finds no WCAG 2.1 A/AA violation on the pages the operator saw.
    let audits = result["accessibility"].as_object().unwrap();
    assert_eq!(audits.len(), 6, "{result}");
    for (page, audit) in audits {
        assert_eq!(
            audit["violations"],
            serde_json::json!([]),
            "{page}: {audit}"
        );
        assert!(audit["passed"].as_u64().unwrap() >= 5, "{page}: {audit}");
    }

    // What the operator did, as the API sees it.
    let admin = target.admin_client();
    let pool_id = result["poolId"].as_str().unwrap();
    let pool = admin
        .describe_user_pool()
        .user_pool_id(pool_id)
        .send()
        .await
        .unwrap();
    assert_eq!(pool.user_pool().unwrap().name(), Some(pool_name.as_str()));
    let schema: Vec<&str> = pool
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert!(schema.contains(&"custom:tier"), "{schema:?}");
    let client_id = result["clientId"].as_str().unwrap();
    let client = admin
        .describe_user_pool_client()
        .user_pool_id(pool_id)
        .client_id(client_id)
        .send()
        .await
        .unwrap();
    let flows: Vec<&str> = client
        .user_pool_client()
        .unwrap()
        .explicit_auth_flows()
        .iter()
        .map(|f| f.as_str())
        .collect();
    assert!(flows.contains(&"ALLOW_USER_PASSWORD_AUTH"), "{flows:?}");

    let found = result["found"].as_array().unwrap();
    assert_eq!(found.len(), 1, "{result}");
    assert!(found[0].as_str().unwrap().contains(&username), "{result}");
    assert_eq!(result["groups"], serde_json::json!(["support"]), "{result}");
    assert_eq!(result["enabled"], "No");
    assert_eq!(result["userStatus"], "FORCE_CHANGE_PASSWORD");
    assert_eq!(
        result["failedSignIn"]["body"]["__type"], "NotAuthorizedException",
        "{result}"
    );
    let events = result["events"].as_array().unwrap();
    assert_eq!(events.len(), 1, "{result}");
    assert!(events[0].as_str().unwrap().contains("Fail"), "{result}");

    let user = admin
        .admin_get_user()
        .user_pool_id(pool_id)
        .username(&username)
        .send()
        .await
        .unwrap();
    assert!(!user.enabled());
    let attribute = |name: &str| {
        user.user_attributes()
            .iter()
            .find(|a| a.name() == name)
            .and_then(|a| a.value())
            .map(str::to_owned)
    };
    assert_eq!(attribute("email").as_deref(), Some(email.as_str()));
    let groups = admin
        .admin_list_groups_for_user()
        .user_pool_id(pool_id)
        .username(&username)
        .send()
        .await
        .unwrap();
    let names: Vec<&str> = groups
        .groups()
        .iter()
        .filter_map(|g| g.group_name())
        .collect();
    assert_eq!(names, ["support"]);

    // The overview counted the failed sign-in and drew the chart.
    assert_eq!(result["stats"]["failures"], "1", "{result}");
    assert_eq!(result["stats"]["users"], "1", "{result}");
    assert_eq!(result["stats"]["disabled"], "1", "{result}");
    assert_eq!(result["chartDrawn"], 1, "{result}");

    // The key rotated from the console is in the pool's JWKS.
    let rotated = result["rotatedKey"].as_str().unwrap();
    let jwks: Value = reqwest::get(format!(
        "{}/{pool_id}/.well-known/jwks.json",
        target.base_url()
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|k| k["kid"].as_str())
        .collect();
    assert!(kids.contains(&rotated), "{rotated} not in {kids:?}");
    assert!(result["keys"].as_u64().unwrap() >= 1, "{result}");

    assert_eq!(result["storedAfterSignOut"], 0);
    for name in [
        "console-1-refused",
        "console-2-new-pool",
        "console-3-new-client",
        "console-4-found-by-email",
        "console-5-user",
        "console-6-overview",
        "console-7-keys",
    ] {
        let shot = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_else(|_| panic!("no {}", shot.display()));
        assert!(bytes.starts_with(b"\x89PNG"), "{}", shot.display());
    }
}
