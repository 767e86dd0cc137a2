//! A server in this process, with raw JSON 1.1 calls (signed with the admin key, or not).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;

use cognate_core::Secret;
use cognate_core::ports::DeliveryRequest;
use cognate_core::sigv4::{Credentials, sign};
use cognate_host::config::{FileConfig, ServeArgs, Settings};
use serde_json::Value;

pub const ACCESS_KEY_ID: &str = "AKIAOPSTESTOPSTEST00";
pub const SECRET: &str = "ops-test-secret-access-key";
pub const REGION: &str = "us-east-1";

/// A running server; stopped when dropped.
#[allow(dead_code)] // not every test module reads every field
pub struct Host {
    pub base: String,
    pub addr: SocketAddr,
    pub metrics_addr: Option<SocketAddr>,
    pub data: tempfile::TempDir,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Host {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// A repository file, absolute.
pub fn repo_file(relative: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative)
}

impl Host {
    /// Starts a server with `config` (TOML; the admin key is added) and `args`.
    pub async fn start(config: &str, args: ServeArgs) -> Host {
        let data = tempfile::tempdir().unwrap();
        let config = format!(
            "{config}\n[[admin_keys]]\naccess_key_id = \"{ACCESS_KEY_ID}\"\nsecret_access_key = \"{SECRET}\"\n"
        );
        let file: FileConfig = toml::from_str(&config).unwrap();
        let args = ServeArgs {
            listen: Some("127.0.0.1:0".parse().unwrap()),
            data: Some(data.path().to_path_buf()),
            no_demo: true,
            // The compiled core, shared by the tests (compiled once).
            cache_dir: Some(PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("ops-wasm-cache")),
            ..args
        };
        let settings = Settings::resolve(args, file, |_| None).unwrap();
        let prepared = cognate_host::server::prepare(settings).await.unwrap();
        // The Wasm core's metrics are the engine's: wait until requests run in it. A core that
        // never compiles (its error is in the log) fails the test instead of hanging it.
        let waiting = std::time::Instant::now();
        while prepared.engine.kind() == cognate_host::engine::EngineKind::Wasm
            && !prepared.engine.is_wasm_ready()
        {
            assert!(
                waiting.elapsed() < std::time::Duration::from_secs(300),
                "the Wasm core was not ready after 300 s; the log says why"
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        let addr = prepared.local_addr;
        let metrics_addr = prepared.metrics_addr;
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = prepared
                .serve(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        Host {
            base: format!("http://{addr}"),
            addr,
            metrics_addr,
            data,
            stop: Some(stop),
            task: Some(task),
        }
    }

    /// A SigV4-signed request with the admin key.
    fn signed(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> DeliveryRequest {
        let mut request = DeliveryRequest {
            method: method.to_owned(),
            url: format!("{}{path}", self.base),
            headers: headers
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect::<BTreeMap<_, _>>(),
            body: body.to_owned(),
        };
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as u64;
        sign(
            &mut request,
            &Credentials {
                access_key_id: ACCESS_KEY_ID.to_owned(),
                secret_access_key: Secret::new(SECRET),
                session_token: None,
            },
            REGION,
            "cognito-idp",
            now,
        )
        .unwrap();
        request
    }

    async fn send(&self, request: DeliveryRequest) -> (u16, String) {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(request.method.as_bytes()).unwrap();
        let mut builder = client.request(method, &request.url);
        for (name, value) in &request.headers {
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        let response = builder.body(request.body).send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.text().await.unwrap())
    }

    /// An administrative JSON 1.1 call: (status, body).
    pub async fn admin(&self, operation: &str, body: &Value) -> (u16, Value) {
        self.admin_target(
            &format!("AWSCognitoIdentityProviderService.{operation}"),
            body,
        )
        .await
    }

    /// A signed JSON 1.1 call with `target` as sent: (status, body).
    pub async fn admin_target(&self, target: &str, body: &Value) -> (u16, Value) {
        let request = self.signed(
            "POST",
            "/",
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", target),
            ],
            &body.to_string(),
        );
        let (status, text) = self.send(request).await;
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// An administrative call that must succeed.
    pub async fn admin_ok(&self, operation: &str, body: &Value) -> Value {
        let (status, answer) = self.admin(operation, body).await;
        assert_eq!(status, 200, "{operation}: {answer}");
        answer
    }

    /// An unsigned JSON 1.1 call with `target` as sent: (status, body).
    pub async fn public_target(&self, target: &str, body: &Value) -> (u16, Value) {
        let response = reqwest::Client::new()
            .post(format!("{}/", self.base))
            .header("content-type", "application/x-amz-json-1.1")
            .header("x-amz-target", target)
            .body(body.to_string())
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// An unsigned Cognito call.
    pub async fn public(&self, operation: &str, body: &Value) -> (u16, Value) {
        self.public_target(
            &format!("AWSCognitoIdentityProviderService.{operation}"),
            body,
        )
        .await
    }

    /// A signed `GET path`: (status, body text).
    pub async fn signed_get(&self, path: &str) -> (u16, String) {
        let request = self.signed("GET", path, &[], "");
        self.send(request).await
    }
}

/// A metric's value in an OpenMetrics text: the sample `name` whose labels include `labels`
/// (all of them, exactly), summed over the samples that match; `None` when none does.
pub fn sample(text: &str, name: &str, labels: &[(&str, &str)]) -> Option<f64> {
    let mut total = None;
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(name) else {
            continue;
        };
        let (label_text, value) = if let Some(rest) = rest.strip_prefix('{') {
            let Some((inside, value)) = rest.split_once("} ") else {
                continue;
            };
            (inside, value)
        } else if let Some(value) = rest.strip_prefix(' ') {
            ("", value)
        } else {
            continue;
        };
        let present: Vec<(&str, &str)> = label_text
            .split(',')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| pair.split_once('='))
            .map(|(k, v)| (k, v.trim_matches('"')))
            .collect();
        if labels.iter().all(|wanted| present.contains(wanted)) {
            let value: f64 = value.split(' ').next().unwrap().parse().unwrap();
            total = Some(total.unwrap_or(0.0) + value);
        }
    }
    total
}
