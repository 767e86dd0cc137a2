//! The `CognatePlugins.*` admin API's requests, parsed the same way for every runtime: the host
//! compiles and stores the modules it is sent, the edge only names modules bundled with it.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::Value;

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
