//! Credentials: an identity's OpenID token exchanged at the STS (`AssumeRoleWithWebIdentity`,
//! the Query API, unsigned) for the role the pool's mappings chose. The core writes the request
//! and reads the answer; the [`crate::ports::Sts`] adapter only carries them. STS refusals map
//! to Cognito's errors: a role the token may not assume (trust policy, unknown role) is the
//! pool's configuration (`InvalidIdentityPoolConfigurationException`), a refused token is
//! `NotAuthorizedException`, throttling `TooManyRequestsException`, anything else
//! `ExternalServiceException`.

use alloc::format;
use alloc::string::String;

use crate::codec::url_encode;
use crate::error::{Error, ErrorKind};
use crate::ports::Env;

/// The session name Cognito gives the role session.
pub const SESSION_NAME: &str = "CognitoIdentityCredentials";
/// How long the credentials last, in seconds (Cognito: one hour).
pub const DURATION_SECONDS: u64 = 3600;

/// Temporary AWS credentials (Cognito's `Credentials`).
#[derive(Clone)]
pub struct Credentials {
    pub access_key_id: String,
    pub secret_key: crate::secret::Secret,
    pub session_token: crate::secret::Secret,
    /// Seconds since the epoch.
    pub expiration: i64,
}

impl core::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Credentials")
            .field("access_key_id", &self.access_key_id)
            .field("expiration", &self.expiration)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// Cognito's `Credentials` member.
    pub fn to_wire(&self) -> serde_json::Value {
        serde_json::json!({
            "AccessKeyId": self.access_key_id,
            "SecretKey": self.secret_key.expose(),
            "SessionToken": self.session_token.expose(),
            "Expiration": self.expiration,
        })
    }
}

/// The Query request's form body.
pub fn request_form(role_arn: &str, web_identity_token: &str) -> String {
    format!(
        "Action=AssumeRoleWithWebIdentity&Version=2011-06-15&RoleArn={}&RoleSessionName={}&WebIdentityToken={}&DurationSeconds={DURATION_SECONDS}",
        url_encode(role_arn),
        url_encode(SESSION_NAME),
        url_encode(web_identity_token)
    )
}

/// Exchanges `web_identity_token` for credentials of `role_arn`.
pub async fn assume_role(
    env: &dyn Env,
    role_arn: &str,
    web_identity_token: &str,
) -> Result<Credentials, Error> {
    let answer = env
        .sts()
        .post(&request_form(role_arn, web_identity_token))
        .await?;
    let body = String::from_utf8_lossy(&answer.body);
    if answer.status == 200 {
        return parse_credentials(&body).ok_or_else(|| {
            Error::new(
                ErrorKind::ExternalService,
                "The security token service answered without credentials.",
            )
        });
    }
    Err(map_error(answer.status, &body))
}

/// The text of the first `<tag>` element (entities decoded).
fn element<'a>(xml: &'a str, tag: &str) -> Option<String> {
    let open = format!("<{tag}>");
    let close = format!("</{tag}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml.get(start..)?.find(&close)?;
    let text: &'a str = xml.get(start..end)?;
    Some(
        text.trim()
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&quot;", "\"")
            .replace("&apos;", "'")
            .replace("&amp;", "&"),
    )
}

/// Reads an `AssumeRoleWithWebIdentityResponse`.
pub fn parse_credentials(xml: &str) -> Option<Credentials> {
    Some(Credentials {
        access_key_id: element(xml, "AccessKeyId")?,
        secret_key: crate::secret::Secret::new(element(xml, "SecretAccessKey")?),
        session_token: crate::secret::Secret::new(element(xml, "SessionToken")?),
        expiration: parse_iso8601(&element(xml, "Expiration")?)?,
    })
}

/// `YYYY-MM-DDTHH:MM:SS[.fff]Z` as seconds since the epoch.
pub fn parse_iso8601(text: &str) -> Option<i64> {
    let text = text.strip_suffix('Z').unwrap_or(text);
    let (date, time) = text.split_once('T')?;
    let mut d = date.split('-').map(|p| p.parse::<i64>().ok());
    let (y, m, day) = (d.next()??, d.next()??, d.next()??);
    let time = time.split('.').next()?;
    let mut t = time.split(':').map(|p| p.parse::<i64>().ok());
    let (hh, mm, ss) = (t.next()??, t.next()??, t.next()??);
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    // Howard Hinnant's days_from_civil.
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    Some(days * 86_400 + hh * 3600 + mm * 60 + ss)
}

/// Cognito's error for an STS refusal.
pub fn map_error(status: u16, xml: &str) -> Error {
    let code = element(xml, "Code").unwrap_or_default();
    let message = element(xml, "Message").unwrap_or_default();
    match code.as_str() {
        "AccessDenied"
        | "MalformedPolicyDocument"
        | "PackedPolicyTooLarge"
        | "RegionDisabledException"
        | "ValidationError"
        | "NoSuchEntity" => Error::new(
            ErrorKind::InvalidIdentityPoolConfiguration,
            "Invalid identity pool configuration. Check assigned IAM roles for this pool.",
        ),
        "InvalidIdentityToken" | "IDPRejectedClaim" | "ExpiredTokenException" => {
            Error::not_authorized(format!(
                "The security token service refused the token: {message}"
            ))
        }
        "Throttling" | "IDPCommunicationError" => Error::new(
            ErrorKind::TooManyRequests,
            "The security token service is throttling requests; try again.",
        ),
        _ => Error::new(
            ErrorKind::ExternalService,
            format!(
                "The security token service failed ({status}{}).",
                if code.is_empty() {
                    String::new()
                } else {
                    format!(" {code}")
                }
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;

    #[test]
    fn reads_sts_answers_and_refusals() {
        // The shape AWS documents for AssumeRoleWithWebIdentity (and moto answers).
        let xml = "<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleWithWebIdentityResult><Credentials><SessionToken>FQo&amp;x</SessionToken><SecretAccessKey>secret</SecretAccessKey><Expiration>2026-01-01T01:00:00Z</Expiration><AccessKeyId>ASIAEXAMPLE</AccessKeyId></Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>";
        let c = parse_credentials(xml).unwrap();
        assert_eq!(c.access_key_id, "ASIAEXAMPLE");
        assert_eq!(c.session_token.expose(), "FQo&x");
        assert_eq!(c.expiration, 1_767_229_200);
        assert_eq!(parse_iso8601("1970-01-01T00:00:00.000Z"), Some(0));
        assert_eq!(parse_iso8601("2000-03-01T00:00:01Z"), Some(951_868_801));
        let refused = "<ErrorResponse><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>Not authorized to perform sts:AssumeRoleWithWebIdentity</Message></Error></ErrorResponse>";
        assert_eq!(
            map_error(403, refused).kind,
            ErrorKind::InvalidIdentityPoolConfiguration
        );
        let token = "<ErrorResponse><Error><Code>InvalidIdentityToken</Code><Message>bad</Message></Error></ErrorResponse>";
        assert_eq!(map_error(400, token).kind, ErrorKind::NotAuthorized);
        assert_eq!(map_error(503, "oops").kind, ErrorKind::ExternalService);
        assert!(
            request_form("arn:aws:iam::1:role/a", "x.y.z")
                .contains("RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa")
        );
    }
}
