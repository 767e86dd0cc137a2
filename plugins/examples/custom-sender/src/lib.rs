//! Custom email sender: instead of sending the message itself (plugins do no I/O), it returns a
//! delivery request to a mail API, which the runtime performs if the operator allowed its host.

use cognate_plugin::{CustomSenderRequest, CustomSenderResponse, Delivery, Event, Strings};
use serde_json::json;

/// The mail API this example posts to.
pub const MAIL_API: &str = "https://mail.example.com/v1/send";

pub fn custom_sender(
    event: Event<CustomSenderRequest, CustomSenderResponse>,
) -> Result<CustomSenderResponse, String> {
    let to = event
        .request
        .user_attributes
        .get("email")
        .or_else(|| event.request.user_attributes.get("phone_number"))
        .cloned()
        .ok_or("the user has no email or phone number")?;
    let mut headers = Strings::new();
    headers.insert("content-type".into(), "application/json".into());
    let body = json!({
        "to": to,
        "template": event.trigger_source,
        "code": event.request.code,
    });
    Ok(CustomSenderResponse {
        delivery: Some(Delivery {
            method: "POST".into(),
            url: MAIL_API.into(),
            headers,
            body: body.to_string(),
        }),
    })
}

cognate_plugin::export_handler!(custom_sender);
