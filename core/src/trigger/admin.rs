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

use crate::http::{AWS_JSON, AwsError, Request, Response};
use crate::ports::{Env, PluginInfo, RegistryError};
use crate::service::Config;

/// The admin API's target prefix.
pub const TARGET_PREFIX: &str = "CognatePlugins.";

/// The operation of a `CognatePlugins.*` call, if `request` is one.
pub fn operation(request: &Request) -> Option<&str> {
    if request.method != "POST" || !(request.path == "/" || request.path.is_empty()) {
        return None;
    }
    request
        .header("x-amz-target")
        .and_then(|t| t.strip_prefix(TARGET_PREFIX))
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
        crate::api::SIGNING_SERVICE,
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
