//! Delivery: what a message to a user says, and how it leaves.
//!
//! - **Composition**, as Cognito composes it: the pool's verification template (sign-up,
//!   resent codes, attribute verification and password reset share it, as in Cognito, where only
//!   a custom message plugin tells them apart), the invitation template of AdminCreateUser, the
//!   placeholders `{####}` (the code or temporary password) and `{username}`; an email whose
//!   text is HTML is sent as HTML (with a plain-text alternative).
//! - **Routing**, from the pool's own Cognito settings ([`route`]): `EmailConfiguration`
//!   with `EmailSendingAccount = DEVELOPER` sends through Amazon SES (v2 `SendEmail`);
//!   `SmsConfiguration` with an `SnsCallerArn` through Amazon SNS (`Publish`); anything else
//!   through the server's own transport (SMTP on the host, or the development outbox).
//! - **The AWS calls** ([`ses_send_email`], [`sns_publish`]) are built here, pure, so the host
//!   and the edge send exactly the same requests; the adapter signs them with the operator's
//!   credentials ([`crate::sigv4::sign`]) and performs them through its outbound HTTP client
//!   (allow-list, timeout, size cap). [`aws_outcome`] reads the answer: sent, worth a retry
//!   (throttling, 5xx), or refused.
//! - **Flood control** ([`check_rate`]): at most [`RATE_LIMIT_MESSAGES`] messages to one
//!   destination per [`RATE_LIMIT_WINDOW_MILLIS`], counted in the store (so every host and the
//!   edge share the count); beyond it Cognito's `LimitExceededException`.
//!
//! # Security
//! The code travels in [`Message::code`] and in the composed text; nothing here logs either.

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Value, json};

use crate::error::Error;
use crate::pool::PoolRecord;
use crate::ports::{DeliveryRequest, Medium, Message};

mod aws;
mod rate;

/// The routes are the `Sender` port's vocabulary; here is where they are chosen.
pub use crate::ports::{Route, SesRoute, SnsRoute};

pub use aws::{
    Outcome, aws_outcome, delivery_failure, ses_endpoint, ses_send_email, sns_endpoint, sns_publish,
};
pub use rate::{RATE_LIMIT_MESSAGES, RATE_LIMIT_WINDOW_MILLIS, check_rate, rate_key};

/// Cognito's default verification subject and message (email and SMS).
pub const DEFAULT_VERIFICATION_SUBJECT: &str = "Your verification code";

pub const DEFAULT_VERIFICATION_MESSAGE: &str = "Your verification code is {####}.";

/// Cognito's default invitation (AdminCreateUser) subject and message.
pub const DEFAULT_INVITATION_SUBJECT: &str = "Your temporary password";

pub const DEFAULT_INVITATION_MESSAGE: &str =
    "Your username is {username} and temporary password is {####}.";

/// Cognito's default confirmation-link subject and message (`CONFIRM_WITH_LINK`); `{##text##}`
/// becomes a link titled `text`.
pub const DEFAULT_LINK_SUBJECT: &str = "Your verification link";

pub const DEFAULT_LINK_MESSAGE: &str =
    "Please click the link below to verify your email address. {##Verify Email##}";

fn template_field(template: Option<&Value>, name: &str) -> Option<String> {
    template
        .and_then(|t| t.get(name))
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// The verification template (subject, text) for `medium`: `VerificationMessageTemplate`
/// first, then the older `EmailVerificationSubject`/`EmailVerificationMessage`/
/// `SmsVerificationMessage`, then Cognito's defaults. SMS has no subject.
pub fn verification_template(pool: &PoolRecord, medium: Medium) -> (String, String) {
    let settings = &pool.settings;
    let template = settings.verification_message_template.as_ref();
    match medium {
        Medium::Email => (
            template_field(template, "EmailSubject")
                .or_else(|| settings.email_verification_subject.clone())
                .unwrap_or_else(|| DEFAULT_VERIFICATION_SUBJECT.to_string()),
            template_field(template, "EmailMessage")
                .or_else(|| settings.email_verification_message.clone())
                .unwrap_or_else(|| DEFAULT_VERIFICATION_MESSAGE.to_string()),
        ),
        Medium::Sms => (
            String::new(),
            template_field(template, "SmsMessage")
                .or_else(|| settings.sms_verification_message.clone())
                .unwrap_or_else(|| DEFAULT_VERIFICATION_MESSAGE.to_string()),
        ),
    }
}

/// The invitation template (subject, text) for `medium`:
/// `AdminCreateUserConfig.InviteMessageTemplate` (`EmailSubject`, `EmailMessage`,
/// `SMSMessage`), then Cognito's defaults.
pub fn invitation_template(pool: &PoolRecord, medium: Medium) -> (String, String) {
    let template = pool
        .settings
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.get("InviteMessageTemplate"));
    match medium {
        Medium::Email => (
            template_field(template, "EmailSubject")
                .unwrap_or_else(|| DEFAULT_INVITATION_SUBJECT.to_string()),
            template_field(template, "EmailMessage")
                .unwrap_or_else(|| DEFAULT_INVITATION_MESSAGE.to_string()),
        ),
        Medium::Sms => (
            String::new(),
            template_field(template, "SMSMessage")
                .unwrap_or_else(|| DEFAULT_INVITATION_MESSAGE.to_string()),
        ),
    }
}

/// The confirmation-link email template (subject, text): `VerificationMessageTemplate`'s
/// `EmailSubjectByLink`/`EmailMessageByLink`, then Cognito's defaults.
pub fn link_template(pool: &PoolRecord) -> (String, String) {
    let template = pool.settings.verification_message_template.as_ref();
    (
        template_field(template, "EmailSubjectByLink")
            .unwrap_or_else(|| DEFAULT_LINK_SUBJECT.to_string()),
        template_field(template, "EmailMessageByLink")
            .unwrap_or_else(|| DEFAULT_LINK_MESSAGE.to_string()),
    )
}

/// Replaces each `{##text##}` of a template with a link to `url` titled `text` (the template is
/// the operator's HTML; the URL is escaped for the attribute).
pub fn fill_link(template: &str, url: &str) -> String {
    let mut href = String::new();
    // Writing into a String cannot fail.
    let _ = askama::filters::Escaper::write_escaped_str(&crate::html::Html, &mut href, url);
    let mut out = String::with_capacity(template.len() + href.len());
    let mut rest = template;
    while let Some(start) = rest.find("{##") {
        let Some(len) = rest.get(start + 3..).and_then(|r| r.find("##}")) else {
            break;
        };
        let title = rest.get(start + 3..start + 3 + len).unwrap_or_default();
        let end = start + 3 + len + 3;
        if title.is_empty() {
            // `{####}` is the code's placeholder, not an untitled link.
            out.push_str(rest.get(..end).unwrap_or_default());
        } else {
            out.push_str(rest.get(..start).unwrap_or_default());
            out.push_str(&format!("<a href=\"{href}\">{title}</a>"));
        }
        rest = rest.get(end..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Fills a template: `{username}` and `{####}` (the code or temporary password).
pub fn fill(template: &str, username: &str, code: &str) -> String {
    template
        .replace("{username}", username)
        .replace("{####}", code)
}

/// Whether an email text is HTML: it holds an element tag (`<p>`, `<br/>`, `<a href=...>`,
/// `</div>`, `<!DOCTYPE ...>`), not merely a `<` sign.
pub fn is_html(text: &str) -> bool {
    let bytes = text.as_bytes();
    bytes.iter().enumerate().any(|(i, &b)| {
        if b != b'<' {
            return false;
        }
        let rest = bytes.get(i + 1..).unwrap_or_default();
        let name_start = match rest.first() {
            Some(b'/') | Some(b'!') => rest.get(1),
            other => other,
        };
        name_start.is_some_and(u8::is_ascii_alphabetic)
            && rest
                .iter()
                .take(2048)
                .position(|&c| c == b'>')
                .is_some_and(|end| !rest.get(..end).unwrap_or_default().contains(&b'<'))
    })
}

/// A plain-text rendering of an HTML email for its text/plain alternative: tags dropped,
/// `<br>`, `</p>` and `</div>` as line breaks, the common entities decoded.
pub fn html_to_text(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        out.push_str(rest.get(..start).unwrap_or_default());
        let after = rest.get(start..).unwrap_or_default();
        let Some(end) = after.find('>') else {
            out.push_str(after);
            rest = "";
            break;
        };
        let tag = after.get(1..end).unwrap_or_default().to_ascii_lowercase();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_ascii_whitespace() || c == '/')
            .next()
            .unwrap_or_default()
            .to_string();
        if matches!(
            name.as_str(),
            "br" | "p" | "div" | "tr" | "li" | "h1" | "h2" | "h3"
        ) && (name == "br" || tag.starts_with('/'))
        {
            out.push('\n');
        }
        rest = after.get(end + 1..).unwrap_or_default();
    }
    out.push_str(rest);
    out.replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&amp;", "&")
}

/// A message for a user from a template, the transport chosen from the pool's settings.
#[allow(clippy::too_many_arguments)] // each is one field of the message
pub fn compose(
    pool: &PoolRecord,
    username: &str,
    medium: Medium,
    destination: &str,
    purpose: &str,
    subject: String,
    template: &str,
    code: crate::Secret,
) -> Message {
    let body = fill(template, username, code.expose());
    Message {
        pool_id: pool.id.clone(),
        username: username.to_string(),
        medium,
        destination: destination.to_string(),
        purpose: purpose.to_string(),
        subject,
        html: medium == Medium::Email && is_html(&body),
        body,
        code,
        link: None,
        route: route(pool, medium),
    }
}

// ------------------------------------------------------------------ routing

/// The reply-to address of a pool's email (`EmailConfiguration.ReplyToEmailAddress`).
pub fn reply_to(pool: &PoolRecord) -> Option<String> {
    template_field(
        pool.settings.email_configuration.as_ref(),
        "ReplyToEmailAddress",
    )
}

/// The transport for `medium` from the pool's `EmailConfiguration` / `SmsConfiguration`.
pub fn route(pool: &PoolRecord, medium: Medium) -> Route {
    match medium {
        Medium::Email => {
            let config = pool.settings.email_configuration.as_ref();
            let developer =
                template_field(config, "EmailSendingAccount").as_deref() == Some("DEVELOPER");
            match (developer, template_field(config, "SourceArn")) {
                (true, Some(source_arn)) => {
                    let region = source_arn.split(':').nth(3).unwrap_or_default().to_string();
                    let identity = source_arn
                        .split_once(":identity/")
                        .map(|(_, id)| id.to_string())
                        .unwrap_or_default();
                    Route::Ses(SesRoute {
                        from: template_field(config, "From").unwrap_or(identity),
                        region: if region.is_empty() {
                            pool.region.clone()
                        } else {
                            region
                        },
                        source_arn,
                        reply_to: reply_to(pool),
                        configuration_set: template_field(config, "ConfigurationSet"),
                    })
                }
                _ => Route::Server {
                    reply_to: reply_to(pool),
                },
            }
        }
        Medium::Sms => {
            let config = pool.settings.sms_configuration.as_ref();
            match template_field(config, "SnsCallerArn") {
                Some(caller_arn) => Route::Sns(SnsRoute {
                    caller_arn,
                    region: template_field(config, "SnsRegion")
                        .unwrap_or_else(|| pool.region.clone()),
                    external_id: template_field(config, "ExternalId"),
                }),
                None => Route::default(),
            }
        }
    }
}

/// One line of the development outbox (the host's `outbox.jsonl`, the edge's `__outbox/`
/// records): the message as JSON, code included, without the trailing newline. Every runtime
/// writes this one format; the test harness and demos read it.
pub fn outbox_line(message: &Message) -> Result<alloc::vec::Vec<u8>, Error> {
    serde_json::to_vec(message)
        .map_err(|e| Error::internal(format!("outbox: cannot encode the message: {e}")))
}

/// The outbox line of a custom sender plugin's delivery request for `pool_id`: `delivery`
/// (method, url, headers, body), `destination` = the URL, `medium` = `HTTP`, `purpose` =
/// `Delivery`, `subject` = the method.
pub fn outbox_delivery_line(
    pool_id: &str,
    request: &DeliveryRequest,
) -> Result<alloc::vec::Vec<u8>, Error> {
    let line = json!({
        "pool_id": pool_id,
        "username": "",
        "medium": "HTTP",
        "destination": request.url,
        "purpose": "Delivery",
        "subject": request.method,
        "body": request.body,
        "delivery": request,
    });
    serde_json::to_vec(&line)
        .map_err(|e| Error::internal(format!("outbox: cannot encode the delivery: {e}")))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing, clippy::panic)]
    use super::*;
    use crate::error::ErrorKind;
    use crate::pool::messages::{normalize_templates, validate_templates};

    #[test]
    fn recognises_html() {
        assert!(is_html("<p>Your code is {####}</p>"));
        assert!(is_html("Hello<br/>code {####}"));
        assert!(is_html("<!DOCTYPE html><html>{####}</html>"));
        assert!(!is_html("Your code is {####} < 5 minutes"));
        assert!(!is_html("a <- b {####}"));
        assert!(!is_html("Your code is {####}."));
    }

    #[test]
    fn fills_each_link_placeholder_with_an_escaped_link() {
        let url = "https://a.example/confirmUser?client_id=c&user_name=u\"x";
        assert_eq!(
            fill_link("Hi. {##Verify Email##} or {##here##}.", url),
            "Hi. <a href=\"https://a.example/confirmUser?client_id=c&amp;user_name=u&quot;x\">Verify Email</a> \
             or <a href=\"https://a.example/confirmUser?client_id=c&amp;user_name=u&quot;x\">here</a>."
        );
        // An unclosed placeholder, and the code's `{####}`, stay as written.
        assert_eq!(fill_link("open {## only", url), "open {## only");
        assert_eq!(fill_link("code {####}", url), "code {####}");
        assert!(crate::pool::messages::has_link_placeholder(
            "x {##Click##} y"
        ));
        assert!(crate::pool::messages::has_link_placeholder("{####}"));
        assert!(!crate::pool::messages::has_link_placeholder("{##click}"));
        assert!(!crate::pool::messages::has_link_placeholder(
            "no link ##}{##"
        ));
    }

    #[test]
    fn renders_html_as_text() {
        assert_eq!(
            html_to_text("<p>Hello &amp; welcome</p><p>Code: <b>123456</b></p>"),
            "Hello & welcome\nCode: 123456\n"
        );
        assert_eq!(html_to_text("a<br>b<br/>c"), "a\nb\nc");
    }

    #[test]
    fn reads_aws_answers() {
        assert_eq!(aws_outcome(200, None, b"{}"), Outcome::Sent);
        assert_eq!(
            aws_outcome(429, Some("TooManyRequestsException:http://internal"), b"{}"),
            Outcome::Retry("TooManyRequestsException".into())
        );
        assert_eq!(
            aws_outcome(
                400,
                None,
                br#"{"__type":"com.amazon#MessageRejected","message":"x"}"#
            ),
            Outcome::Refused("MessageRejected".into())
        );
        assert_eq!(
            aws_outcome(
                400,
                None,
                b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code></Error></ErrorResponse>"
            ),
            Outcome::Retry("Throttling".into())
        );
        assert_eq!(
            aws_outcome(503, None, b""),
            Outcome::Retry("HTTP 503".into())
        );
        assert_eq!(
            aws_outcome(400, None, b"<Error><Code>InvalidParameter</Code></Error>"),
            Outcome::Refused("InvalidParameter".into())
        );
    }

    fn pool(settings: serde_json::Value) -> PoolRecord {
        let mut settings: crate::pool::PoolSettings = serde_json::from_value(settings).unwrap();
        validate_templates(&settings).unwrap();
        normalize_templates(&mut settings);
        PoolRecord {
            id: "eu-west-1_Example01".into(),
            name: "p".into(),
            region: "eu-west-1".into(),
            created_millis: 0,
            modified_millis: 0,
            settings,
            schema: alloc::vec::Vec::new(),
            alias_attributes: alloc::vec::Vec::new(),
            username_attributes: alloc::vec::Vec::new(),
            username_configuration: Default::default(),
            dummy_password_hash: String::new(),
            mfa: Default::default(),
            webauthn: Default::default(),
        }
    }

    #[test]
    fn templates_follow_cognito_precedence_and_defaults() {
        let plain = pool(json!({}));
        assert_eq!(
            verification_template(&plain, Medium::Email),
            (
                DEFAULT_VERIFICATION_SUBJECT.into(),
                DEFAULT_VERIFICATION_MESSAGE.into()
            )
        );
        assert_eq!(
            plain.settings.verification_message_template,
            Some(json!({"DefaultEmailOption": "CONFIRM_WITH_CODE"}))
        );
        let older = pool(json!({
            "EmailVerificationMessage": "Old {####}",
            "EmailVerificationSubject": "Old subject",
            "SmsVerificationMessage": "Sms {####}",
        }));
        // Mirrored into the template, as DescribeUserPool shows.
        assert_eq!(
            older.settings.verification_message_template,
            Some(json!({
                "EmailMessage": "Old {####}",
                "EmailSubject": "Old subject",
                "SmsMessage": "Sms {####}",
                "DefaultEmailOption": "CONFIRM_WITH_CODE",
            }))
        );
        assert_eq!(verification_template(&older, Medium::Sms).1, "Sms {####}");
        let template = pool(json!({
            "EmailVerificationMessage": "Old {####}",
            "VerificationMessageTemplate": {"EmailMessage": "New {####}", "EmailSubject": "New"},
        }));
        assert_eq!(
            verification_template(&template, Medium::Email),
            ("New".into(), "New {####}".into())
        );
        assert_eq!(
            template.settings.email_verification_message.as_deref(),
            Some("New {####}")
        );
        let invite = pool(json!({"AdminCreateUserConfig": {"InviteMessageTemplate": {
            "EmailSubject": "Join", "EmailMessage": "Hi {username}: {####}", "SMSMessage": "{username} {####}"}}}));
        assert_eq!(
            invitation_template(&invite, Medium::Email),
            ("Join".into(), "Hi {username}: {####}".into())
        );
        assert_eq!(
            invitation_template(&invite, Medium::Sms).1,
            "{username} {####}"
        );
        assert_eq!(
            invitation_template(&plain, Medium::Email).0,
            DEFAULT_INVITATION_SUBJECT
        );
    }

    #[test]
    fn templates_are_validated_as_the_service_model_says() {
        for bad in [
            json!({"EmailVerificationMessage": "no code here"}),
            json!({"SmsVerificationMessage": format!("{{####}}{}", "x".repeat(135))}),
            json!({"VerificationMessageTemplate": {"EmailMessage": "nothing"}}),
            json!({"VerificationMessageTemplate": {"DefaultEmailOption": "CONFIRM_BY_PIGEON"}}),
            json!({"VerificationMessageTemplate": {"EmailSubject": ""}}),
            json!({"EmailConfiguration": {"EmailSendingAccount": "DEVELOPER"}}),
            json!({"EmailConfiguration": {"EmailSendingAccount": "MINE"}}),
            json!({"EmailConfiguration": {"SourceArn": "not-an-arn-at-all-really"}}),
        ] {
            let settings: crate::pool::PoolSettings = serde_json::from_value(bad.clone()).unwrap();
            let error = validate_templates(&settings).unwrap_err();
            assert_eq!(error.kind, ErrorKind::InvalidParameter, "{bad}");
        }
    }

    #[test]
    fn composes_and_routes_from_the_pool() {
        let ses = pool(json!({"EmailConfiguration": {
            "EmailSendingAccount": "DEVELOPER",
            "SourceArn": "arn:aws:ses:us-west-2:123456789012:identity/sender@example.com",
            "ReplyToEmailAddress": "help@example.com",
            "ConfigurationSet": "tracking",
        }, "SmsConfiguration": {"SnsCallerArn": "arn:aws:iam::123456789012:role/sms", "ExternalId": "x"}}));
        let message = compose(
            &ses,
            "ann",
            Medium::Email,
            "ann@example.com",
            "SignUp",
            "Hello".into(),
            "<p>Hi {username}, {####}</p>",
            crate::Secret::new("123456"),
        );
        assert_eq!(message.body, "<p>Hi ann, 123456</p>");
        assert!(message.html);
        let Route::Ses(ses_route) = &message.route else {
            panic!("{:?}", message.route)
        };
        assert_eq!(ses_route.region, "us-west-2");
        assert_eq!(ses_route.from, "sender@example.com");
        let request = ses_send_email(&message, ses_route, "http://127.0.0.1:5000/");
        assert_eq!(
            request.url,
            "http://127.0.0.1:5000/v2/email/outbound-emails"
        );
        let body: Value = serde_json::from_str(&request.body).unwrap();
        assert_eq!(
            body,
            json!({
                "FromEmailAddress": "sender@example.com",
                "FromEmailAddressIdentityArn": "arn:aws:ses:us-west-2:123456789012:identity/sender@example.com",
                "Destination": {"ToAddresses": ["ann@example.com"]},
                "ReplyToAddresses": ["help@example.com"],
                "ConfigurationSetName": "tracking",
                "Content": {"Simple": {
                    "Subject": {"Data": "Hello", "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": "Hi ann, 123456\n", "Charset": "UTF-8"},
                        "Html": {"Data": "<p>Hi ann, 123456</p>", "Charset": "UTF-8"},
                    },
                }},
            })
        );
        let sms = compose(
            &ses,
            "ann",
            Medium::Sms,
            "+15555550100",
            "SignUp",
            String::new(),
            "Code {####}",
            crate::Secret::new("654321"),
        );
        assert!(!sms.html);
        assert_eq!(
            sms.route,
            Route::Sns(SnsRoute {
                caller_arn: "arn:aws:iam::123456789012:role/sms".into(),
                region: "eu-west-1".into(),
                external_id: Some("x".into()),
            })
        );
        let publish = sns_publish(&sms, "https://sns.eu-west-1.amazonaws.com");
        assert_eq!(publish.url, "https://sns.eu-west-1.amazonaws.com/");
        assert_eq!(
            publish.body,
            "Action=Publish&PhoneNumber=%2B15555550100&Message=Code%20654321&MessageAttributes.entry.1.Name=AWS.SNS.SMS.SMSType&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=Transactional&Version=2010-03-31"
        );
        let plain = pool(json!({"EmailConfiguration": {
            "EmailSendingAccount": "COGNITO_DEFAULT", "ReplyToEmailAddress": "help@example.com"}}));
        assert_eq!(
            route(&plain, Medium::Email),
            Route::Server {
                reply_to: Some("help@example.com".into())
            }
        );
        assert_eq!(route(&plain, Medium::Sms), Route::default());
    }

    #[test]
    fn one_destination_gets_a_bounded_number_of_messages_per_window() {
        use futures_util::FutureExt as _;
        let env = crate::testing::TestEnv::new();
        let check = |dest: &str| check_rate(&env, "p1", dest).now_or_never().unwrap();
        for _ in 0..RATE_LIMIT_MESSAGES {
            check("Ann@Example.com").unwrap();
        }
        let refused = check("ann@example.com").unwrap_err();
        assert_eq!(refused.kind, ErrorKind::LimitExceeded);
        assert_eq!(
            refused.message,
            "Attempt limit exceeded, please try after some time."
        );
        check("bob@example.com").unwrap();
        env.clock.advance(RATE_LIMIT_WINDOW_MILLIS);
        check("ann@example.com").unwrap();
        // The key names no address.
        assert!(!rate_key("p1", "ann@example.com").contains("ann"));
    }

    #[test]
    fn form_encodes_as_aws_query() {
        assert_eq!(crate::codec::url_encode("+15555550100"), "%2B15555550100");
        assert_eq!(crate::codec::url_encode("a b&c=é"), "a%20b%26c%3D%C3%A9");
    }
}
