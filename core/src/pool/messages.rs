//! The pool's message settings as CreateUserPool / UpdateUserPool take them: the verification
//! and invitation templates, checked against the service model and normalised as Cognito shows
//! them. (Composing and sending messages is `crate::delivery`'s job.)

use alloc::format;
use alloc::string::{String, ToString};

use serde_json::{Value, json};

use super::PoolSettings;
use crate::error::{Error, ErrorKind};

/// Checks the message fields of CreateUserPool / UpdateUserPool against the service model's
/// constraints (botocore `cognito-idp` 2016-04-18: lengths, the `{####}` placeholder, the
/// `DefaultEmailOption` enum), with Cognito's validation message.
pub fn validate_templates(settings: &PoolSettings) -> Result<(), Error> {
    fn check(
        field: &str,
        value: Option<&str>,
        min: usize,
        max: usize,
        code: bool,
    ) -> Result<(), Error> {
        let Some(value) = value else { return Ok(()) };
        let len = value.chars().count();
        if len < min || len > max {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must have length between {min} and {max}"
            )));
        }
        if code && !value.contains("{####}") {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value at '{field}' failed to satisfy constraint: Member must contain the code placeholder {{####}}"
            )));
        }
        Ok(())
    }
    let str_of = |v: Option<&Value>, name: &str| -> Result<Option<String>, Error> {
        match v.and_then(|v| v.get(name)) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(Error::new(
                ErrorKind::Serialization,
                format!("{name} must be a string."),
            )),
        }
    };
    check(
        "emailVerificationMessage",
        settings.email_verification_message.as_deref(),
        6,
        20_000,
        true,
    )?;
    check(
        "emailVerificationSubject",
        settings.email_verification_subject.as_deref(),
        1,
        140,
        false,
    )?;
    check(
        "smsVerificationMessage",
        settings.sms_verification_message.as_deref(),
        6,
        140,
        true,
    )?;
    let template = settings.verification_message_template.as_ref();
    check(
        "verificationMessageTemplate.emailMessage",
        str_of(template, "EmailMessage")?.as_deref(),
        6,
        20_000,
        true,
    )?;
    check(
        "verificationMessageTemplate.emailSubject",
        str_of(template, "EmailSubject")?.as_deref(),
        1,
        140,
        false,
    )?;
    check(
        "verificationMessageTemplate.smsMessage",
        str_of(template, "SmsMessage")?.as_deref(),
        6,
        140,
        true,
    )?;
    check(
        "verificationMessageTemplate.emailMessageByLink",
        str_of(template, "EmailMessageByLink")?.as_deref(),
        6,
        20_000,
        false,
    )?;
    if let Some(text) = str_of(template, "EmailMessageByLink")?
        && !has_link_placeholder(&text)
    {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'verificationMessageTemplate.emailMessageByLink' failed to satisfy constraint: Member must contain the link placeholder {##text##}",
        ));
    }
    check(
        "verificationMessageTemplate.emailSubjectByLink",
        str_of(template, "EmailSubjectByLink")?.as_deref(),
        1,
        140,
        false,
    )?;
    if let Some(option) = str_of(template, "DefaultEmailOption")?
        && !matches!(option.as_str(), "CONFIRM_WITH_CODE" | "CONFIRM_WITH_LINK")
    {
        return Err(Error::invalid_parameter(format!(
            "1 validation error detected: Value '{}' at 'verificationMessageTemplate.defaultEmailOption' failed to satisfy constraint: Member must satisfy enum value set: [CONFIRM_WITH_LINK, CONFIRM_WITH_CODE]",
            option.chars().take(32).collect::<String>()
        )));
    }
    let invite = settings
        .admin_create_user_config
        .as_ref()
        .and_then(|c| c.get("InviteMessageTemplate"));
    check(
        "adminCreateUserConfig.inviteMessageTemplate.emailMessage",
        str_of(invite, "EmailMessage")?.as_deref(),
        6,
        20_000,
        false,
    )?;
    check(
        "adminCreateUserConfig.inviteMessageTemplate.emailSubject",
        str_of(invite, "EmailSubject")?.as_deref(),
        1,
        140,
        false,
    )?;
    check(
        "adminCreateUserConfig.inviteMessageTemplate.sMSMessage",
        str_of(invite, "SMSMessage")?.as_deref(),
        6,
        140,
        false,
    )?;
    let email = settings.email_configuration.as_ref();
    if let Some(account) = str_of(email, "EmailSendingAccount")? {
        if !matches!(account.as_str(), "COGNITO_DEFAULT" | "DEVELOPER") {
            return Err(Error::invalid_parameter(format!(
                "1 validation error detected: Value '{}' at 'emailConfiguration.emailSendingAccount' failed to satisfy constraint: Member must satisfy enum value set: [COGNITO_DEFAULT, DEVELOPER]",
                account.chars().take(32).collect::<String>()
            )));
        }
        if account == "DEVELOPER" && str_of(email, "SourceArn")?.is_none() {
            return Err(Error::new(
                ErrorKind::InvalidParameter,
                "SourceArn is required when EmailSendingAccount is DEVELOPER.",
            ));
        }
    }
    if let Some(arn) = str_of(email, "SourceArn")?
        && (arn.len() < 20
            || arn.len() > 2048
            || arn.split(':').count() < 6
            || !arn.starts_with("arn:"))
    {
        return Err(Error::invalid_parameter(
            "1 validation error detected: Value at 'emailConfiguration.sourceArn' failed to satisfy constraint: Member must satisfy regular expression pattern: arn:[\\w+=/,.@-]+:[\\w+=/,.@-]+:([\\w+=/,.@-]*)?:[0-9]+:[\\w+=/,.@-]+(:[\\w+=/,.@-]+)?(:[\\w+=/,.@-]+)?",
        ));
    }
    Ok(())
}

/// Cognito's view of the templates after CreateUserPool / UpdateUserPool: the older fields and
/// `VerificationMessageTemplate` mirror each other (a value given in one shows in both), and
/// `DefaultEmailOption` is `CONFIRM_WITH_CODE` unless set.
pub fn normalize_templates(settings: &mut PoolSettings) {
    let mut template = match settings.verification_message_template.take() {
        Some(Value::Object(map)) => map,
        _ => serde_json::Map::new(),
    };
    for (field, older) in [
        ("EmailMessage", &mut settings.email_verification_message),
        ("EmailSubject", &mut settings.email_verification_subject),
        ("SmsMessage", &mut settings.sms_verification_message),
    ] {
        match (template.get(field).and_then(Value::as_str), older.as_ref()) {
            (Some(value), _) => *older = Some(value.to_string()),
            (None, Some(value)) => {
                template.insert(field.into(), json!(value));
            }
            (None, None) => {}
        }
    }
    if !template.contains_key("DefaultEmailOption") {
        template.insert("DefaultEmailOption".into(), json!("CONFIRM_WITH_CODE"));
    }
    settings.verification_message_template = Some(Value::Object(template));
}

/// Whether a template holds a `{##text##}` link placeholder (`EmailMessageByLink`'s pattern:
/// `\{##…##\}`).
pub fn has_link_placeholder(template: &str) -> bool {
    template
        .find("{##")
        .is_some_and(|start| template.get(start + 3..).is_some_and(|r| r.contains("##}")))
}
