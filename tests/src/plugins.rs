//! Trigger plugins in the scenarios: where the example modules are, and registering them with
//! the server (`CognatePlugins.RegisterPlugin`, SigV4-signed with the admin key).
//!
//! The example `.wasm` files are built by `scripts/test.sh` into
//! `<target>/wasm32-unknown-unknown/plugin/` (`COGNATE_PLUGINS_DIR` overrides); the hostile
//! test plugins are WAT, compiled into this crate.

use std::path::PathBuf;
use std::time::SystemTime;

use base64ct::{Base64, Encoding as _};
use serde_json::{Value, json};

use crate::{RawResponse, Target};

/// The hostile test plugins (WAT).
pub const HOSTILE_LOOP: &str = include_str!("../../plugins/hostile/loop.wat");
pub const HOSTILE_MEMORY_BOMB: &str = include_str!("../../plugins/hostile/memory_bomb.wat");
pub const HOSTILE_TRAP: &str = include_str!("../../plugins/hostile/trap.wat");
pub const HOSTILE_GARBAGE: &str = include_str!("../../plugins/hostile/garbage.wat");
pub const HOSTILE_HUGE_OUTPUT: &str = include_str!("../../plugins/hostile/huge_output.wat");
pub const HOSTILE_MISSING_EXPORT: &str = include_str!("../../plugins/hostile/missing_export.wat");
/// The README's minimal plugin (WAT): a pre sign-up that confirms everyone.
pub const MINIMAL: &str = include_str!("../../plugins/examples/minimal.wat");

/// Fixed answers the scenarios register as [`constant_plugin`]s.
pub const ANSWER_BLOCK_SIGN_IN: &str = r#"{"error":"Sign-in is paused"}"#;
pub const ANSWER_PRE_TOKEN_V1: &str = r#"{"claimsOverrideDetails":{"claimsToAddOrOverride":{"plan":"v1-plan","iss":"https://evil"},"claimsToSuppress":["email"],"groupOverrideDetails":{"groupsToOverride":["v1-group"]}}}"#;
pub const ANSWER_EVIL_SENDER: &str = r#"{"delivery":{"method":"POST","url":"https://exfiltrate.example.net/c","headers":{},"body":"x"}}"#;
pub const ANSWER_EMPTY: &str = "{}";

/// Every WAT module the scenarios register, under the names they use: the edge cannot compile
/// at run time, so scripts/test-edge.sh bundles these (`write-test-plugins`) with the Worker.
pub fn wat_modules() -> Vec<(&'static str, String)> {
    vec![
        ("readme-minimal", MINIMAL.to_owned()),
        ("hostile-loop", HOSTILE_LOOP.to_owned()),
        ("hostile-memory-bomb", HOSTILE_MEMORY_BOMB.to_owned()),
        ("hostile-trap", HOSTILE_TRAP.to_owned()),
        ("hostile-garbage", HOSTILE_GARBAGE.to_owned()),
        ("hostile-huge-output", HOSTILE_HUGE_OUTPUT.to_owned()),
        ("hostile-missing-export", HOSTILE_MISSING_EXPORT.to_owned()),
        ("const-block-sign-in", constant_plugin(ANSWER_BLOCK_SIGN_IN)),
        ("const-pre-token-v1", constant_plugin(ANSWER_PRE_TOKEN_V1)),
        ("const-evil-sender", constant_plugin(ANSWER_EVIL_SENDER)),
        ("const-empty", constant_plugin(ANSWER_EMPTY)),
    ]
}

/// A plugin (WAT) that answers `answer` to every event: a fixed response, or `{"error": ...}`.
pub fn constant_plugin(answer: &str) -> String {
    let mut data = String::new();
    for byte in answer.bytes() {
        if byte.is_ascii_graphic() && byte != b'"' && byte != b'\\' || byte == b' ' {
            data.push(byte as char);
        } else {
            data.push_str(&format!("\\{byte:02x}"));
        }
    }
    format!(
        r#"(module
  (memory (export "memory") 1)
  (data (i32.const 0) "{data}")
  (global $next (mut i32) (i32.const 8192))
  (func (export "alloc") (param $len i32) (result i32)
    (local $ptr i32)
    (local.set $ptr (global.get $next))
    (global.set $next (i32.add (global.get $next) (local.get $len)))
    (if (i32.gt_u (global.get $next) (i32.mul (memory.size) (i32.const 65536)))
      (then (drop (memory.grow (i32.add (i32.div_u (local.get $len) (i32.const 65536)) (i32.const 1))))))
    (local.get $ptr))
  (func (export "handle") (param i32 i32) (result i64)
    (i64.const {len})))"#,
        len = answer.len()
    )
}

/// Where the example plugins were built.
pub fn plugins_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("COGNATE_PLUGINS_DIR") {
        return PathBuf::from(dir);
    }
    // <target>/<profile>/deps/<test exe> -> <target>/wasm32-unknown-unknown/plugin
    let exe = std::env::current_exe().expect("current_exe");
    let target = exe
        .parent()
        .and_then(|p| p.parent())
        .and_then(|p| p.parent())
        .expect("test executable inside a target directory");
    target.join("wasm32-unknown-unknown").join("plugin")
}

/// An example plugin's module: `example` is its directory under `plugins/examples/`.
pub fn example_wasm(example: &str) -> Vec<u8> {
    let file = format!("cognate_example_{}.wasm", example.replace('-', "_"));
    let path = plugins_dir().join(&file);
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "example plugin {} is missing ({e}): build it with `cargo build --profile plugin \
             --target wasm32-unknown-unknown -p cognate-example-{example}` (scripts/test.sh does)",
            path.display()
        )
    })
}

impl Target {
    /// Registers `module` (Wasm or WAT) under `name`; the answer's JSON (`Names`, `Sha256`,
    /// `Reference`, `Size`), or the refusal.
    pub async fn register_plugin(&self, name: &str, module: &[u8]) -> Result<Value, RawResponse> {
        let body = json!({"Name": name, "Wasm": Base64::encode_string(module)});
        let response = self.plugin_admin("RegisterPlugin", &body).await;
        if response.status == 200 {
            Ok(response.json().unwrap_or(Value::Null))
        } else {
            Err(response)
        }
    }

    /// Registers an example plugin under its directory name; panics on refusal.
    pub async fn register_example(&self, example: &str) -> String {
        self.register_plugin(example, &example_wasm(example))
            .await
            .unwrap_or_else(|r| panic!("RegisterPlugin {example}: {r}"));
        example.to_owned()
    }

    /// A signed `CognatePlugins.<operation>` call.
    pub async fn plugin_admin(&self, operation: &str, body: &Value) -> RawResponse {
        self.signed_call(&format!("CognatePlugins.{operation}"), body)
            .await
    }

    /// A SigV4-signed call with the admin key to any `X-Amz-Target` (Cognate's extension members
    /// that the AWS SDK cannot send, e.g. `AWSCognitoIdentityProviderService.CreateUserPool`).
    pub async fn signed_call(&self, target: &str, body: &Value) -> RawResponse {
        self.signed_call_as("cognito-idp", target, body).await
    }

    /// A SigV4-signed call with the admin key for the signing service `service`
    /// (`cognito-idp`, `cognito-identity`).
    pub async fn signed_call_as(&self, service: &str, target: &str, body: &Value) -> RawResponse {
        let target = target.to_owned();
        let body = body.to_string().into_bytes();
        let host = self
            .base_url()
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let url = format!("{}/", self.base_url());
        let headers = [
            ("content-type", "application/x-amz-json-1.1"),
            ("host", host.as_str()),
            ("x-amz-target", target.as_str()),
        ];
        let signed = sigv4_headers(
            service,
            &self.admin_keys().access_key_id,
            &self.admin_keys().secret_access_key,
            crate::REGION,
            &url,
            &headers,
            &body,
        );
        self.post_raw(
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
                ("x-amz-date", &signed.amz_date),
                ("authorization", &signed.authorization),
            ],
            body,
        )
        .await
    }
}

/// The SigV4 headers of a request, from the AWS SDK's own signer (`aws-sigv4`).
pub(crate) struct Signed {
    pub amz_date: String,
    pub authorization: String,
}

/// Signs a `POST` for `service` (`cognito-idp`, `cognito-identity`).
pub(crate) fn sigv4_headers(
    service: &str,
    access_key_id: &str,
    secret: &str,
    region: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Signed {
    use aws_sigv4::http_request::{SignableBody, SignableRequest, SigningSettings, sign};
    use aws_sigv4::sign::v4;
    let identity =
        aws_credential_types::Credentials::new(access_key_id, secret, None, None, "tests").into();
    let params = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(SystemTime::now())
        .settings(SigningSettings::default())
        .build()
        .expect("signing parameters")
        .into();
    let signable = SignableRequest::new(
        "POST",
        url,
        headers.iter().copied(),
        SignableBody::Bytes(body),
    )
    .expect("signable request");
    let (instructions, _) = sign(signable, &params).expect("signature").into_parts();
    let header = |name: &str| {
        instructions
            .headers()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.to_string())
            .unwrap_or_default()
    };
    Signed {
        amz_date: header("x-amz-date"),
        authorization: header("authorization"),
    }
}
