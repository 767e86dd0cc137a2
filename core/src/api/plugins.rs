//! The `CognatePlugins.*` admin API: `POST /` with `X-Amz-Target: CognatePlugins.<Operation>`,
//! AWS JSON 1.1, SigV4-signed (service `cognito-idp`) with an admin key like every
//! administrative call. Routed, authorised, parsed and rendered here for every runtime; the
//! runtime's [`PluginRegistry`] port does the work (the host compiles and stores the modules it
//! is sent, the edge only names modules bundled with it).
//!
//! - `RegisterPlugin` `{"Name": "...", "Wasm": "<base64 module or WAT>"}` -> the plugin
//! - `ListPlugins` `{}` -> `{"Plugins": [...]}`
//! - `DeletePlugin` `{"Name": "..."}` or `{"Reference": "sha256:..."}` -> `{}`

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::config::Config;
use crate::http::{AWS_JSON, AwsError, Request, Response};
use crate::ports::{Env, PluginInfo, RegistryError};

/// The admin API's target prefix.
pub const TARGET_PREFIX: &str = "CognatePlugins.";

/// The operation of a `CognatePlugins.*` call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    super::extension::operation(request, TARGET_PREFIX)
}

/// Answers one `CognatePlugins.<operation>` call: SigV4 first, then the registry port.
pub async fn handle(
    config: &Config,
    env: &dyn Env,
    request: &Request,
    operation: &str,
) -> Response {
    if let Err(e) = crate::sigv4::verify(
        request,
        super::SIGNING_SERVICE,
        &config.admin_keys,
        env.clock().now_millis(),
    ) {
        let (name, status) = e.kind.wire();
        return AwsError::new(status, name, &e.message).response();
    }
    match call(env, operation, &request.body).await {
        Ok(value) => Response::json(
            200,
            AWS_JSON,
            serde_json::to_vec(&value).unwrap_or_default(),
        ),
        Err((name, message)) => {
            let status = if name == "InternalErrorException" {
                500
            } else {
                400
            };
            AwsError::new(status, name, &message).response()
        }
    }
}

/// Parses and runs one call (already authorised).
async fn call(env: &dyn Env, operation: &str, body: &[u8]) -> Result<Value, WireError> {
    let registry = env.plugins();
    match parse(operation, body)? {
        PluginAdminCall::Register { name, wasm } => {
            if let Some(name) = name.as_deref()
                && !crate::trigger::is_plugin_name(name)
            {
                return Err(invalid(&format!(
                    "plugin names are 1 to 64 of A-Z a-z 0-9 - _ . (got {name:?})"
                )));
            }
            let info = registry
                .register(name.as_deref(), &wasm)
                .await
                .map_err(registry_error)?;
            Ok(render(&info))
        }
        PluginAdminCall::List => {
            let list = registry.list().await.map_err(registry_error)?;
            let plugins: Vec<Value> = list.iter().map(render).collect();
            Ok(json!({ "Plugins": plugins }))
        }
        PluginAdminCall::Delete { reference } => match registry.delete(&reference).await {
            Ok(true) => Ok(json!({})),
            Ok(false) => Err(not_found(&reference)),
            Err(e) => Err(registry_error(e)),
        },
    }
}

/// A plugin as the API lists it: `Problem` only when there is one.
fn render(info: &PluginInfo) -> Value {
    let mut value = json!({
        "Names": info.names,
        "Sha256": info.sha256,
        "Reference": info.reference,
        "Size": info.size,
    });
    if let (Some(problem), Some(object)) = (&info.problem, value.as_object_mut()) {
        object.insert("Problem".into(), Value::String(problem.clone()));
    }
    value
}

fn registry_error(error: RegistryError) -> WireError {
    match error {
        RegistryError::Refused(message) => ("InvalidParameterException", message),
        RegistryError::Failed(message) => ("InternalErrorException", message),
        RegistryError::Unsupported => (
            "UnsupportedOperationException",
            "This server has no plugin runtime.".to_string(),
        ),
    }
}

/// An error on the wire: the `__type` name and the message.
pub type WireError = (&'static str, String);

/// One `CognatePlugins.<operation>` call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginAdminCall {
    /// `RegisterPlugin`: a module (decoded from `Wasm`, standard base64) and an optional `Name`.
    Register { name: Option<String>, wasm: Vec<u8> },
    /// `ListPlugins`.
    List,
    /// `DeletePlugin`: a `Reference` or a `Name`.
    Delete { reference: String },
}

fn invalid(message: &str) -> WireError {
    ("InvalidParameterException", message.to_string())
}

/// Parses a call; an empty body is `{}`.
pub fn parse(operation: &str, body: &[u8]) -> Result<PluginAdminCall, WireError> {
    let body: Value = if body.iter().all(u8::is_ascii_whitespace) {
        Value::Object(serde_json::Map::new())
    } else {
        serde_json::from_slice(body).map_err(|e| {
            (
                "SerializationException",
                format!("Request body is not valid JSON: {e}"),
            )
        })?
    };
    let field = |name: &str| body.get(name).and_then(Value::as_str);
    match operation {
        "RegisterPlugin" => {
            let wasm = field("Wasm").ok_or_else(|| invalid("Wasm (base64) is required"))?;
            let wasm = <base64ct::Base64 as base64ct::Encoding>::decode_vec(wasm)
                .map_err(|_| invalid("Wasm must be standard base64"))?;
            Ok(PluginAdminCall::Register {
                name: field("Name").map(ToString::to_string),
                wasm,
            })
        }
        "ListPlugins" => Ok(PluginAdminCall::List),
        "DeletePlugin" => {
            let reference = field("Reference")
                .or_else(|| field("Name"))
                .ok_or_else(|| invalid("Name or Reference is required"))?;
            Ok(PluginAdminCall::Delete {
                reference: reference.to_string(),
            })
        }
        other => Err((
            "UnknownOperationException",
            format!(
                "Unknown operation {}",
                other.chars().take(64).collect::<String>()
            ),
        )),
    }
}

/// The answer to deleting a reference nobody registered.
pub fn not_found(reference: &str) -> WireError {
    (
        "ResourceNotFoundException",
        format!("No plugin {reference}."),
    )
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use alloc::vec;
    use core::sync::atomic::{AtomicUsize, Ordering};

    use futures_util::FutureExt as _;

    use super::*;
    use crate::ports::{
        BoxFuture, Clock, Jws, PasswordHasher, PluginRegistry, Random, Sender, Triggers, boxed,
    };
    use crate::store::Store;
    use crate::testing::TestEnv;

    fn run<T>(future: impl core::future::Future<Output = T>) -> T {
        future.now_or_never().expect("completes at once")
    }

    /// A registry that answers from a script and counts the registrations it gets.
    #[derive(Default)]
    struct Scripted {
        registrations: AtomicUsize,
        fail: Option<RegistryError>,
    }

    impl PluginRegistry for Scripted {
        fn register<'a>(
            &'a self,
            name: Option<&'a str>,
            module: &'a [u8],
        ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>> {
            self.registrations.fetch_add(1, Ordering::Relaxed);
            let answer = match &self.fail {
                Some(e) => Err(e.clone()),
                None => Ok(PluginInfo {
                    names: name.map(String::from).into_iter().collect(),
                    sha256: "ab".into(),
                    reference: "sha256:ab".into(),
                    size: module.len(),
                    problem: None,
                }),
            };
            boxed(async move { answer })
        }
        fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>> {
            let broken = PluginInfo {
                names: vec![],
                sha256: "cd".into(),
                reference: "sha256:cd".into(),
                size: 1,
                problem: Some("no handle export".into()),
            };
            let answer = match &self.fail {
                Some(e) => Err(e.clone()),
                None => Ok(vec![broken]),
            };
            boxed(async move { answer })
        }
        fn delete<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>> {
            let answer = match &self.fail {
                Some(e) => Err(e.clone()),
                None => Ok(reference == "known"),
            };
            boxed(async move { answer })
        }
    }

    /// The test ports, with `registry` as the plugin registry.
    struct WithRegistry {
        env: TestEnv,
        registry: Scripted,
    }

    impl Env for WithRegistry {
        fn store(&self) -> &dyn Store {
            self.env.store()
        }
        fn clock(&self) -> &dyn Clock {
            self.env.clock()
        }
        fn random(&self) -> &dyn Random {
            self.env.random()
        }
        fn sender(&self) -> &dyn Sender {
            self.env.sender()
        }
        fn jws(&self) -> &dyn Jws {
            self.env.jws()
        }
        fn passwords(&self) -> &dyn PasswordHasher {
            self.env.passwords()
        }
        fn triggers(&self) -> &dyn Triggers {
            self.env.triggers()
        }
        fn plugins(&self) -> &dyn PluginRegistry {
            &self.registry
        }
    }

    fn with(fail: Option<RegistryError>) -> WithRegistry {
        WithRegistry {
            env: TestEnv::new(),
            registry: Scripted {
                fail,
                ..Scripted::default()
            },
        }
    }

    #[test]
    fn the_service_routes_the_admin_api_and_requires_a_signature() {
        let service = crate::Service::new(Config::new("http://h", "us-east-1"));
        let request = Request::new("POST", "/")
            .with_header("x-amz-target", "CognatePlugins.ListPlugins")
            .with_body(b"{}".to_vec());
        let env = with(None);
        let response = run(service.handle(request, &env));
        assert_eq!(response.status, 400);
        assert_eq!(
            response.header("x-amzn-errortype"),
            Some("UnrecognizedClientException")
        );
        assert_eq!(response.header("content-type"), Some(AWS_JSON));
        let body: Value = serde_json::from_slice(&response.body).unwrap();
        assert_eq!(body["__type"], "UnrecognizedClientException");
        // Refused before the registry is asked.
        assert_eq!(env.registry.registrations.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn calls_go_to_the_registry_and_its_answers_are_rendered() {
        let env = with(None);
        let module = <base64ct::Base64 as base64ct::Encoding>::encode_string(b"\0asm");
        let body = format!(r#"{{"Name": "n1", "Wasm": "{module}"}}"#);
        let info = run(call(&env, "RegisterPlugin", body.as_bytes())).unwrap();
        assert_eq!(
            info,
            json!({"Names": ["n1"], "Sha256": "ab", "Reference": "sha256:ab", "Size": 4})
        );
        let list = run(call(&env, "ListPlugins", b"")).unwrap();
        assert_eq!(list["Plugins"][0]["Problem"], "no handle export");
        assert_eq!(
            run(call(&env, "DeletePlugin", br#"{"Name": "known"}"#)).unwrap(),
            json!({})
        );
        let (name, message) = run(call(&env, "DeletePlugin", br#"{"Name": "other"}"#)).unwrap_err();
        assert_eq!(
            (name, message.as_str()),
            ("ResourceNotFoundException", "No plugin other.")
        );
        // A bad name is refused by the core: the registry never sees it.
        let body = format!(r#"{{"Name": "no spaces", "Wasm": "{module}"}}"#);
        let (name, _) = run(call(&env, "RegisterPlugin", body.as_bytes())).unwrap_err();
        assert_eq!(name, "InvalidParameterException");
        assert_eq!(env.registry.registrations.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn registry_failures_map_to_the_admin_api_errors() {
        let cases = [
            (
                RegistryError::Refused("r".into()),
                "InvalidParameterException",
            ),
            (RegistryError::Failed("f".into()), "InternalErrorException"),
            (RegistryError::Unsupported, "UnsupportedOperationException"),
        ];
        for (error, expected) in cases {
            let env = with(Some(error));
            let (name, _) = run(call(&env, "ListPlugins", b"{}")).unwrap_err();
            assert_eq!(name, expected);
        }
        // Without a registry: every call is unsupported.
        let (name, message) = run(call(&TestEnv::new(), "ListPlugins", b"{}")).unwrap_err();
        assert_eq!(
            (name, message.as_str()),
            (
                "UnsupportedOperationException",
                "This server has no plugin runtime."
            )
        );
    }
}
