//! Custom message: a branded text for every message Cognito sends, naming why it is sent.

use cognate_plugin::{CustomMessageRequest, CustomMessageResponse, Event};

pub fn custom_message(
    event: Event<CustomMessageRequest, CustomMessageResponse>,
) -> Result<CustomMessageResponse, String> {
    let code = &event.request.code_parameter;
    let name = event
        .request
        .user_attributes
        .get("name")
        .cloned()
        .unwrap_or_else(|| event.user_name.clone());
    let (subject, what) = match event.trigger_source.as_str() {
        "CustomMessage_SignUp" => ("Welcome to Cognate", "confirm your sign-up"),
        "CustomMessage_ResendCode" => ("Your new Cognate code", "confirm your sign-up"),
        "CustomMessage_ForgotPassword" => ("Reset your Cognate password", "reset your password"),
        "CustomMessage_UpdateUserAttribute" => ("Confirm your new address", "verify the change"),
        "CustomMessage_VerifyUserAttribute" => ("Verify your address", "verify your address"),
        "CustomMessage_Authentication" => ("Your sign-in code", "sign in"),
        "CustomMessage_AdminCreateUser" => {
            let username = event
                .request
                .username_parameter
                .as_deref()
                .unwrap_or("{username}");
            return Ok(CustomMessageResponse {
                email_subject: Some("Your Cognate account".into()),
                email_message: Some(format!(
                    "[{}] Hello {name}, sign in as {username} with the temporary password {code}.",
                    event.trigger_source
                )),
                sms_message: Some(format!("Cognate: user {username}, password {code}")),
            });
        }
        other => return Err(format!("unexpected trigger {other}")),
    };
    Ok(CustomMessageResponse {
        email_subject: Some(subject.into()),
        email_message: Some(format!(
            "[{}] Hello {name}, use {code} to {what}.",
            event.trigger_source
        )),
        sms_message: Some(format!("Cognate: {code} to {what}")),
    })
}

cognate_plugin::export_handler!(custom_message);
