//! The AWS calls a delivery makes (SES v2 `SendEmail`, SNS `Publish`), built pure so host and
//! edge send the same requests, and how their answers read.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Value, json};

use super::html_to_text;
use crate::error::{Error, ErrorKind};
use crate::ports::{DeliveryRequest, Message, SesRoute};

/// The SES endpoint of a region (`https://email.<region>.amazonaws.com`).
pub fn ses_endpoint(region: &str) -> String {
    format!("https://email.{region}.amazonaws.com")
}

/// The SNS endpoint of a region (`https://sns.<region>.amazonaws.com`).
pub fn sns_endpoint(region: &str) -> String {
    format!("https://sns.{region}.amazonaws.com")
}

/// SES v2 `SendEmail` (`POST /v2/email/outbound-emails`) of `message` to `endpoint` (a base URL
/// without a trailing slash), unsigned.
pub fn ses_send_email(message: &Message, ses: &SesRoute, endpoint: &str) -> DeliveryRequest {
    let charset = |data: &str| json!({ "Data": data, "Charset": "UTF-8" });
    let body = if message.html {
        json!({
            "Text": charset(&html_to_text(&message.body)),
            "Html": charset(&message.body),
        })
    } else {
        json!({ "Text": charset(&message.body) })
    };
    let mut request = json!({
        "FromEmailAddress": ses.from,
        "FromEmailAddressIdentityArn": ses.source_arn,
        "Destination": { "ToAddresses": [message.destination] },
        "Content": { "Simple": { "Subject": charset(&message.subject), "Body": body } },
    });
    if let Some(object) = request.as_object_mut() {
        if let Some(reply_to) = &ses.reply_to {
            object.insert("ReplyToAddresses".into(), json!([reply_to]));
        }
        if let Some(set) = &ses.configuration_set {
            object.insert("ConfigurationSetName".into(), json!(set));
        }
    }
    let mut headers = alloc::collections::BTreeMap::new();
    headers.insert("content-type".to_string(), "application/json".to_string());
    DeliveryRequest {
        method: "POST".into(),
        url: format!(
            "{}/v2/email/outbound-emails",
            endpoint.trim_end_matches('/')
        ),
        headers,
        body: request.to_string(),
    }
}

/// SNS `Publish` of an SMS `message` to its phone number (AWS query protocol), unsigned. The
/// message is transactional (`AWS.SNS.SMS.SMSType`), as Cognito's codes are.
pub fn sns_publish(message: &Message, endpoint: &str) -> DeliveryRequest {
    let params: [(&str, &str); 6] = [
        ("Action", "Publish"),
        ("PhoneNumber", &message.destination),
        ("Message", &message.body),
        ("MessageAttributes.entry.1.Name", "AWS.SNS.SMS.SMSType"),
        ("MessageAttributes.entry.1.Value.DataType", "String"),
        (
            "MessageAttributes.entry.1.Value.StringValue",
            "Transactional",
        ),
    ];
    let mut body = String::new();
    for (name, value) in params.iter().chain([("Version", "2010-03-31")].iter()) {
        if !body.is_empty() {
            body.push('&');
        }
        body.push_str(&crate::codec::url_encode(name));
        body.push('=');
        body.push_str(&crate::codec::url_encode(value));
    }
    let mut headers = alloc::collections::BTreeMap::new();
    headers.insert(
        "content-type".to_string(),
        "application/x-www-form-urlencoded; charset=utf-8".to_string(),
    );
    DeliveryRequest {
        method: "POST".into(),
        url: format!("{}/", endpoint.trim_end_matches('/')),
        headers,
        body,
    }
}

/// What an answer from SES or SNS means.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Sent,
    /// Worth another attempt after a pause: throttling, a 5xx.
    Retry(String),
    /// Refused for good (a bad address, an unverified identity, bad credentials).
    Refused(String),
}

/// Reads an HTTP answer of SES (JSON errors, `x-amzn-ErrorType`) or SNS (XML errors). The
/// reason names the error code, never the request.
pub fn aws_outcome(status: u16, error_type_header: Option<&str>, body: &[u8]) -> Outcome {
    if (200..300).contains(&status) {
        return Outcome::Sent;
    }
    let text = core::str::from_utf8(body).unwrap_or_default();
    let code = error_type_header
        .map(|t| t.split(':').next().unwrap_or(t).trim().to_string())
        .filter(|t| !t.is_empty())
        .or_else(|| {
            serde_json::from_str::<Value>(text).ok().and_then(|v| {
                v.get("__type")
                    .or_else(|| v.get("code"))
                    .and_then(Value::as_str)
                    .map(|t| t.rsplit('#').next().unwrap_or(t).to_string())
            })
        })
        .or_else(|| {
            let start = text.find("<Code>")? + "<Code>".len();
            let end = text.get(start..)?.find("</Code>")? + start;
            text.get(start..end).map(str::to_string)
        })
        .unwrap_or_else(|| format!("HTTP {status}"));
    let code: String = code.chars().take(128).collect();
    let throttled = matches!(
        code.as_str(),
        "Throttling"
            | "ThrottlingException"
            | "TooManyRequestsException"
            | "ThrottledException"
            | "RequestLimitExceeded"
            | "LimitExceededException"
            | "ServiceUnavailable"
            | "InternalFailure"
            | "InternalError"
    );
    if throttled || status == 429 || status >= 500 {
        Outcome::Retry(code)
    } else {
        Outcome::Refused(code)
    }
}

/// The error a message that could not be delivered answers with.
pub fn delivery_failure() -> Error {
    Error::new(
        ErrorKind::CodeDeliveryFailure,
        "Unable to deliver the message to the user.",
    )
}
