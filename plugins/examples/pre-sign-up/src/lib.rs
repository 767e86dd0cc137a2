//! Pre sign-up: addresses in an allow-listed domain are confirmed at once (and their email
//! marked verified); everyone else is refused with a message the caller sees as
//! `UserLambdaValidationException: PreSignUp failed with error <message>.`

use cognate_plugin::{Event, PreSignUpRequest, PreSignUpResponse};

/// Domains whose users need no confirmation code.
pub const ALLOWED_DOMAINS: &[&str] = &["example.com", "cognate.test"];

pub fn pre_sign_up(
    event: Event<PreSignUpRequest, PreSignUpResponse>,
) -> Result<PreSignUpResponse, String> {
    let email = event
        .request
        .user_attributes
        .get("email")
        .map(|e| e.to_ascii_lowercase())
        .unwrap_or_default();
    let domain = email.rsplit_once('@').map(|(_, d)| d).unwrap_or_default();
    if !ALLOWED_DOMAINS.contains(&domain) {
        return Err(format!(
            "Sign-up is open to {} addresses only",
            ALLOWED_DOMAINS.join(" and ")
        ));
    }
    Ok(PreSignUpResponse {
        auto_confirm_user: true,
        auto_verify_email: true,
        ..event.response
    })
}

cognate_plugin::export_handler!(pre_sign_up);

#[cfg(test)]
mod tests {
    #[test]
    fn allows_and_refuses() {
        let event = |email: &str| {
            format!(
                r#"{{"version":"1","triggerSource":"PreSignUp_SignUp","region":"us-east-1","userPoolId":"p","userName":"u","callerContext":{{"awsSdkVersion":"x","clientId":"c"}},"request":{{"userAttributes":{{"email":"{email}"}}}},"response":{{"autoConfirmUser":false,"autoVerifyEmail":false,"autoVerifyPhone":false}}}}"#
            )
        };
        let ok = cognate_plugin::run_json(event("a@Example.com").as_bytes(), super::pre_sign_up);
        let ok: serde_json::Value = serde_json::from_slice(&ok).unwrap();
        assert_eq!(ok["autoConfirmUser"], true);
        let no = cognate_plugin::run_json(event("a@other.org").as_bytes(), super::pre_sign_up);
        let no: serde_json::Value = serde_json::from_slice(&no).unwrap();
        assert!(no["error"].as_str().unwrap().contains("only"));
    }
}
