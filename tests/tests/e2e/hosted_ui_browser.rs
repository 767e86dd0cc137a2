//! The hosted UI in a real browser: headless Chromium (Debian's `chromium`, driven by
//! playwright-core; both installed by scripts/setup-browser.sh) signs up, confirms with the code
//! from the outbox, signs in and lands on the redirect URI with a code, which this test then
//! exchanges like the app's back end would. A screenshot of each page is kept under
//! `target/browser/hosted-ui/`.
//!
//! The browser script (tests/browser/hosted-ui.cjs) talks to this test over stdio: it asks for
//! the confirmation code, and reports where it landed and which cookies it holds. The redirect
//! URI is a small loopback listener standing in for the web app.

use std::io::{BufRead as _, BufReader, Write as _};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

use cognate_tests::cognito::types::OAuthFlowType;
use cognate_tests::form_browser::{no_redirects, query_param};
use cognate_tests::{PASSWORD, Target, unique, unique_email};
use serde_json::{Value, json};

/// The repository root (this crate is `<root>/tests`).
pub(crate) fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// `NAME=value` lines from `scripts/setup-browser.sh --env`: where Chromium and playwright-core
/// are. (Run scripts/setup.sh once to install them.)
pub(crate) fn browser_env() -> Vec<(String, String)> {
    let output = Command::new("bash")
        .arg(repo_root().join("scripts/setup-browser.sh"))
        .arg("--env")
        .output()
        .expect("scripts/setup-browser.sh --env");
    assert!(output.status.success(), "{output:?}");
    let vars: Vec<(String, String)> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    for (name, value) in &vars {
        if name == "CHROMIUM" || name == "NODE_PATH" {
            assert!(
                Path::new(value).exists(),
                "{name}={value} does not exist: run scripts/setup.sh (it installs the browser tools)"
            );
        }
    }
    vars
}

/// The web app behind the redirect URI: a loopback listener that answers every request with a
/// small page and records each request line.
pub(crate) struct FakeApp {
    pub(crate) base_url: String,
    arrivals: Arc<Mutex<Vec<String>>>,
}

impl FakeApp {
    pub(crate) fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base_url = format!("http://{}", listener.local_addr().unwrap());
        let arrivals = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&arrivals);
        // Ends with the test process.
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut request_line = String::new();
                if reader.read_line(&mut request_line).is_err() {
                    continue;
                }
                // The rest of the head, up to the blank line.
                let mut header = String::new();
                while reader.read_line(&mut header).is_ok_and(|n| n > 2) {
                    header.clear();
                }
                seen.lock()
                    .unwrap()
                    .push(request_line.trim_end().to_owned());
                let body = "<!doctype html><title>App</title><h1>Signed in to the app</h1>";
                let _ = write!(
                    stream,
                    "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { base_url, arrivals }
    }

    pub(crate) fn arrivals(&self) -> Vec<String> {
        self.arrivals.lock().unwrap().clone()
    }
}

/// `target/browser/hosted-ui/`, next to the test executable's profile directory.
pub(crate) fn screenshot_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe.parent().unwrap().parent().unwrap().parent().unwrap();
    let dir = target.join("browser").join("hosted-ui");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[tokio::test]
async fn a_person_signs_up_confirms_and_signs_in_through_the_hosted_ui_in_chromium() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("chromium").await;
    let app = FakeApp::start();
    let callback = format!("{}/app/callback", app.base_url);
    let callback = callback.as_str();
    let web = target
        .create_client(&pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .allowed_o_auth_scopes("email")
                .callback_urls(callback)
                .supported_identity_providers("COGNITO")
        })
        .await;
    let username = unique("chromium");
    let email = unique_email("chromium");
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={callback}&scope=openid+email&state=browser-state",
        target.base_url(),
        web.id
    );
    let shots = screenshot_dir();

    let mut script = Command::new("node");
    script
        .arg(repo_root().join("tests/browser/hosted-ui.cjs"))
        .envs(browser_env())
        .env("AUTHORIZE_URL", &authorize)
        .env("USERNAME", &username)
        .env("EMAIL", &email)
        .env("PASSWORD", PASSWORD)
        .env("SCREENSHOTS", &shots)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = script.spawn().expect("node (run scripts/setup.sh)");
    let mut stdin = child.stdin.take().unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut read = || -> Value {
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        serde_json::from_str(&line).unwrap_or_else(|_| panic!("browser script said: {line:?}"))
    };

    let asked = read();
    assert_eq!(asked["need"], "code", "{asked}");
    let code = target.latest_code(&pool_id, &username).await;
    writeln!(stdin, "{}", json!({ "code": code })).unwrap();
    let result = read();
    let status = child.wait().unwrap();
    assert!(status.success(), "browser script failed: {result}");
    assert_eq!(result["done"], true, "{result}");

    // Each page rendered (its title names the step), and a screenshot of each was taken.
    let titles: Vec<&str> = result["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(titles[0].starts_with("Sign in"), "{titles:?}");
    assert!(titles[1].starts_with("Sign up"), "{titles:?}");
    assert!(titles[2].starts_with("Confirm"), "{titles:?}");
    assert!(titles[3].starts_with("Sign in"), "{titles:?}");
    assert_eq!(titles[4], "App", "{titles:?}");
    for name in [
        "1-sign-in",
        "2-sign-up",
        "3-confirm",
        "4-confirmed-sign-in",
        "5-redirected-to-app",
    ] {
        let shot = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_else(|_| panic!("no {}", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            shot.display()
        );
    }

    // The browser landed on the redirect URI with the state and a code.
    let landed = result["callback"].as_str().unwrap();
    assert!(landed.starts_with(callback), "{landed}");
    assert_eq!(
        query_param(landed, "state").as_deref(),
        Some("browser-state")
    );
    let code = query_param(landed, "code").expect("an authorization code");

    // Chromium kept the HttpOnly session cookie and used it: the second authorization went
    // straight to the app. `Secure` exactly when the server's base URL is https.
    let cookies = result["cookies"].as_array().unwrap();
    assert!(!cookies.is_empty(), "{result}");
    let https = target.base_url().starts_with("https://");
    for cookie in cookies {
        assert_eq!(cookie["secure"], https, "{cookie}");
        assert_eq!(cookie["httpOnly"], true, "{cookie}");
        assert_ne!(cookie["sameSite"], "None", "{cookie}");
    }
    let second = result["second"].as_str().unwrap();
    assert!(second.starts_with(callback), "{result}");
    let arrivals = app.arrivals();
    assert_eq!(
        arrivals
            .iter()
            .filter(|line| line.starts_with("GET /app/callback?"))
            .count(),
        2,
        "{arrivals:?}"
    );

    // The app's back end exchanges the code for tokens about this person.
    let response = no_redirects()
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&web.id, web.secret.as_deref())
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", callback),
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
    assert_eq!(id["email"], email.as_str());
    assert_eq!(id["email_verified"], true);
}

/// Federation in Chromium: the downstream pool's sign-in page shows the provider's button; the
/// person signs in on the upstream pool's hosted UI and lands on the app with a code of the
/// downstream pool, which the app's back end exchanges for tokens of the federated user.
/// Screenshots `federation-*.png` go to `target/browser/hosted-ui/`.
#[tokio::test]
async fn a_person_signs_in_through_an_upstream_provider_in_chromium() {
    let target = Target::shared();
    let app = FakeApp::start();
    let callback = format!("{}/app/callback", app.base_url);
    let s = crate::federation::setup_with(target, &callback).await;
    let (username, email, sub) = crate::federation::upstream_user(target, &s).await;
    let authorize = format!(
        "{}/oauth2/authorize?response_type=code&client_id={}&redirect_uri={callback}&scope=openid+email&state=federated-state",
        target.base_url(),
        s.app.id
    );
    let shots = screenshot_dir();
    let output = Command::new("node")
        .arg(repo_root().join("tests/browser/federation.cjs"))
        .envs(browser_env())
        .env("AUTHORIZE_URL", &authorize)
        .env("PROVIDER", crate::federation::PROVIDER)
        .env("USERNAME", &username)
        .env("PASSWORD", PASSWORD)
        .env("CALLBACK", &callback)
        .env("SCREENSHOTS", &shots)
        .stderr(Stdio::inherit())
        .output()
        .expect("node (run scripts/setup.sh)");
    let said = String::from_utf8(output.stdout).unwrap();
    let result: Value = serde_json::from_str(said.lines().last().unwrap_or_default())
        .unwrap_or_else(|_| panic!("browser script said: {said:?}"));
    assert!(output.status.success(), "browser script failed: {result}");
    let titles: Vec<&str> = result["titles"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t.as_str().unwrap())
        .collect();
    assert!(titles[0].starts_with("Sign in"), "{titles:?}");
    assert!(titles[1].starts_with("Sign in"), "{titles:?}");
    assert_eq!(titles[2], "App", "{titles:?}");
    // The second sign-in page was the upstream pool's.
    let upstream = result["upstream"].as_str().unwrap();
    assert!(
        upstream.contains("client_id=") && !upstream.contains(&s.app.id),
        "{upstream}"
    );
    for name in [
        "federation-1-sign-in-with-provider",
        "federation-2-upstream-sign-in",
        "federation-3-redirected-to-app",
    ] {
        let shot = shots.join(format!("{name}.png"));
        let bytes = std::fs::read(&shot).unwrap_or_else(|_| panic!("no {}", shot.display()));
        assert!(
            bytes.starts_with(b"\x89PNG"),
            "{} is not a PNG",
            shot.display()
        );
    }
    let landed = result["callback"].as_str().unwrap();
    assert_eq!(
        query_param(landed, "state").as_deref(),
        Some("federated-state")
    );
    let code = query_param(landed, "code").expect("an authorization code");
    let response = no_redirects()
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&s.app.id, s.app.secret.as_deref())
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
        .jwks(&s.pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &s.app.id)
        .expect("a valid ID token");
    assert_eq!(
        id["cognito:username"],
        format!("{}_{sub}", crate::federation::PROVIDER).as_str()
    );
    assert_eq!(id["email"], email.as_str());
}
