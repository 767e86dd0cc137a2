//! Echo: refuses every call with the event it received as the error message, so the caller
//! sees `<Trigger> failed with error <event JSON>.` A debugging aid (and what the end-to-end
//! tests use to check each trigger's event, field for field).

use serde_json::Value;

pub fn echo(event: Value) -> Result<Value, String> {
    Err(event.to_string())
}

cognate_plugin::export_handler!(echo);
