//! Custom message (every `CustomMessage_*` source) and the custom email / SMS senders.
//!
//! Every message the core sends goes through [`deliver`]: a custom sender plugin for its medium
//! (if configured) decides the delivery; else a custom message plugin (if configured) rewrites
//! the text; then the `Sender` port sends it.
//!
//! Plugins never do I/O. A sender plugin answers with a delivery request
//! (`{"delivery": {"method", "url", "headers", "body"}}`) that the runtime performs, only to
//! hosts on the operator's allow-list ([`check_delivery`]); no `delivery` sends nothing.
//! Cognito encrypts the code it gives sender Lambdas with KMS; Cognate has no KMS, so `code`
//! is the plain code (the plugin runs inside the server's trust boundary).

use alloc::format;
use alloc::string::String;

use serde_json::{Map, Value, json};

use super::{Invocation, TriggerKind, configured, run_plugin, user_attributes};
use crate::error::{Error, ErrorKind};
use crate::pool::PoolRecord;
use crate::ports::{DeliveryRequest, Env, Medium, Message};
use crate::user::UserRecord;

/// Why a message is sent: the `CustomMessage_<source>` / `Custom...Sender_<source>` suffix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageSource {
    SignUp,
    AdminCreateUser,
    ResendCode,
    ForgotPassword,
    UpdateUserAttribute,
    VerifyUserAttribute,
    Authentication,
}

impl MessageSource {
    pub fn suffix(self) -> &'static str {
        match self {
            Self::SignUp => "SignUp",
            Self::AdminCreateUser => "AdminCreateUser",
            Self::ResendCode => "ResendCode",
            Self::ForgotPassword => "ForgotPassword",
            Self::UpdateUserAttribute => "UpdateUserAttribute",
            Self::VerifyUserAttribute => "VerifyUserAttribute",
            Self::Authentication => "Authentication",
        }
    }
}

/// The custom message plugin's `linkParameter`: where the confirmation link goes.
const LINK_PARAMETER: &str = "{##Click Here##}";

fn invalid(what: &str) -> Error {
    Error::new(
        ErrorKind::InvalidLambdaResponse,
        format!("Invalid lambda response: {what}"),
    )
}

/// Sends `message` to `user`, through the pool's custom sender or custom message plugins when
/// configured.
pub async fn deliver(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    mut message: Message,
    source: MessageSource,
    client_id: Option<&str>,
) -> Result<(), Error> {
    // Flood control (`crate::delivery::check_rate`) is counted by the caller before it stores
    // the code the message carries, so a refused message leaves the previous code valid.
    let sender_kind = match message.medium {
        Medium::Email => TriggerKind::CustomEmailSender,
        Medium::Sms => TriggerKind::CustomSmsSender,
    };
    if let Some((reference, version)) = configured(pool, sender_kind) {
        let (prefix, request_type) = match message.medium {
            Medium::Email => ("CustomEmailSender", "customEmailSenderRequestV1"),
            Medium::Sms => ("CustomSMSSender", "customSMSSenderRequestV1"),
        };
        let source_name = format!("{prefix}_{}", source.suffix());
        let answer = run_plugin(
            env,
            pool,
            &reference,
            version,
            Invocation {
                kind: sender_kind,
                source: &source_name,
                user_name: &user.username,
                client_id,
                request: json!({
                    "type": request_type,
                    "code": message.code.expose(),
                    "clientMetadata": {},
                    "userAttributes": user_attributes(user),
                }),
                response: json!({}),
            },
        )
        .await?;
        if let Some(request) = delivery_request(&answer)? {
            env.sender().deliver(&pool.id, request).await?;
        }
        return Ok(());
    }
    if configured(pool, TriggerKind::CustomMessage).is_some() {
        custom_message(env, pool, user, &mut message, source, client_id).await?;
        message.html = message.medium == Medium::Email && crate::delivery::is_html(&message.body);
    }
    env.sender().send(message).await
}

/// Runs the custom message plugin and rewrites `message` with its answer.
async fn custom_message(
    env: &dyn Env,
    pool: &PoolRecord,
    user: &UserRecord,
    message: &mut Message,
    source: MessageSource,
    client_id: Option<&str>,
) -> Result<(), Error> {
    let Some((reference, version)) = configured(pool, TriggerKind::CustomMessage) else {
        return Ok(());
    };
    let source_name = format!("CustomMessage_{}", source.suffix());
    let username_parameter = if source == MessageSource::AdminCreateUser {
        json!("{username}")
    } else {
        Value::Null
    };
    let link_parameter = if matches!(source, MessageSource::SignUp | MessageSource::ResendCode) {
        json!(LINK_PARAMETER)
    } else {
        Value::Null
    };
    let answer = run_plugin(
        env,
        pool,
        &reference,
        version,
        Invocation {
            kind: TriggerKind::CustomMessage,
            source: &source_name,
            user_name: &user.username,
            client_id,
            request: json!({
                "userAttributes": user_attributes(user),
                "codeParameter": "{####}",
                "linkParameter": link_parameter,
                "usernameParameter": username_parameter,
                "clientMetadata": {},
            }),
            response: json!({
                "smsMessage": null,
                "emailMessage": null,
                "emailSubject": null,
            }),
        },
    )
    .await?;
    apply_custom_message(&answer, message)
}

/// Applies a custom message answer: the text for the message's medium, with the code and
/// username filled in. A text without the code placeholder is refused (the user could never
/// see their code).
pub fn apply_custom_message(
    answer: &Map<String, Value>,
    message: &mut Message,
) -> Result<(), Error> {
    let text = |name: &str| -> Result<Option<String>, Error> {
        match answer.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(invalid(&format!("{name} must be a string"))),
        }
    };
    let (body_field, limit) = match message.medium {
        Medium::Email => ("emailMessage", 20_000),
        Medium::Sms => ("smsMessage", 1_600),
    };
    if let Some(body) = text(body_field)? {
        // A confirmation link carries the code: its message needs the link or the code.
        let has_link = message.link.is_some() && body.contains(LINK_PARAMETER);
        if !body.contains("{####}") && !has_link {
            return Err(invalid(&format!(
                "{body_field} must contain the code parameter {{####}}"
            )));
        }
        if body.chars().count() > limit {
            return Err(invalid(&format!(
                "{body_field} is longer than {limit} characters"
            )));
        }
        let filled = body
            .replace("{username}", &message.username)
            .replace("{####}", message.code.expose());
        message.body = match &message.link {
            Some(url) => crate::delivery::fill_link(&filled, url),
            None => filled.replace(LINK_PARAMETER, message.code.expose()),
        };
    }
    if message.medium == Medium::Email
        && let Some(subject) = text("emailSubject")?
    {
        if subject.chars().count() > 140 {
            return Err(invalid("emailSubject is longer than 140 characters"));
        }
        message.subject = subject;
    }
    Ok(())
}

/// A sender plugin's delivery request, validated (pure): `None` when it asks for none.
pub fn delivery_request(answer: &Map<String, Value>) -> Result<Option<DeliveryRequest>, Error> {
    let Some(value) = answer.get("delivery").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let request: DeliveryRequest = serde_json::from_value(value.clone())
        .map_err(|_| invalid("delivery must be {method, url, headers, body}"))?;
    if !matches!(request.method.as_str(), "GET" | "POST" | "PUT" | "PATCH") {
        return Err(invalid("delivery.method must be GET, POST, PUT or PATCH"));
    }
    if url_host(&request.url).is_none() {
        return Err(invalid("delivery.url must be an http(s) URL"));
    }
    if request.headers.len() > 32
        || request.headers.iter().any(|(k, v)| {
            k.is_empty()
                || k.len() > 256
                || v.len() > 8192
                || v.contains(['\r', '\n'])
                || k.contains(['\r', '\n', ':'])
        })
    {
        return Err(invalid("delivery.headers must be at most 32 plain headers"));
    }
    if request.body.len() > 256 * 1024 {
        return Err(invalid("delivery.body is larger than 256 KiB"));
    }
    Ok(Some(request))
}

pub use crate::codec::url_host;

/// Whether the runtime may perform `request`: its URL's host is on `allowed_hosts` (exact
/// names; `*.example.com` allows subdomains of example.com). An empty list allows nothing.
pub fn check_delivery(request: &DeliveryRequest, allowed_hosts: &[String]) -> Result<(), Error> {
    let host =
        url_host(&request.url).ok_or_else(|| invalid("delivery.url must be an http(s) URL"))?;
    let allowed = allowed_hosts.iter().any(|pattern| {
        let pattern = pattern.to_ascii_lowercase();
        match pattern.strip_prefix("*.") {
            Some(domain) => host.ends_with(&format!(".{domain}")),
            None => host == pattern,
        }
    });
    if allowed {
        Ok(())
    } else {
        Err(Error::new(
            ErrorKind::UnexpectedLambda,
            format!(
                "The custom sender's delivery host {host} is not on the operator's allow-list."
            ),
        ))
    }
}
