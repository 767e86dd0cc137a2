//! SAML 2.0 service provider (issue 20): the decisions of Web SSO with the HTTP-Redirect binding
//! out (the `AuthnRequest`, [`request`]) and the HTTP-POST binding back (the `SAMLResponse`),
//! and the SP metadata an IdP is given ([`metadata`]).
//!
//! XML signatures are not verified here: the [`crate::ports::Saml`] port does that with a
//! maintained XML-DSig library (the host: samael over libxmlsec1) and answers only what the
//! signature covers, as a [`SignedAssertion`]. This module then decides everything else, the
//! same on every runtime, with the core's clock: the issuer, the audience, the recipient and
//! `Destination`, `InResponseTo` (SP-initiated) or its absence (IdP-initiated), the validity
//! window with [`CLOCK_SKEW_MILLIS`] of tolerance, and one-time use of each assertion id
//! (a create-only store record kept until the assertion has expired).
//!
//! What a caller (the `/saml2/idpresponse` flow) does:
//! 1. SP-initiated: [`request::redirect`] gives the IdP URL (with `SAMLRequest` and
//!    `RelayState`) and the request id, which the caller keeps in its state record.
//! 2. At `/saml2/idpresponse`: [`accept`] with the form's `SAMLResponse`, the provider's
//!    metadata XML and the [`Expectations`] (the request id kept in 1, or `None` when the
//!    provider allows IdP-initiated sign-in and no request was made). It answers the
//!    [`Assertion`] (NameID, SessionIndex, attributes) or a [`SamlError`].

pub mod metadata;
pub mod request;

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind};
use crate::ports::Env;
use crate::store::{Expect, StoreError};

/// How far the IdP's clock may be from ours (five minutes), both ways: `NotBefore` may be up to
/// this far in our future, `NotOnOrAfter` up to this far in our past.
pub const CLOCK_SKEW_MILLIS: u64 = 5 * 60 * 1000;

/// The SAML 2.0 bearer subject confirmation method.
pub const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// The HTTP-POST binding (how responses reach the ACS).
pub const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// The HTTP-Redirect binding (how requests reach the IdP).
pub const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
/// The only status a response carrying an assertion may have.
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";

/// The SP entity id Cognito gives a user pool (the audience IdPs must put in assertions).
pub fn sp_entity_id(pool_id: &str) -> String {
    format!("urn:amazon:cognito:sp:{pool_id}")
}

/// The assertion consumer service URL of a deployment (`<base>/saml2/idpresponse`).
pub fn acs_url(base_url: &str) -> String {
    format!("{}/saml2/idpresponse", base_url.trim_end_matches('/'))
}

// ---------------------------------------------------------------------------------------------
// What the port answers (defined with the port, `crate::ports`, so the modules form no cycle)

pub use crate::ports::{
    SamlAttribute as Attribute, SamlConfirmation as Confirmation, SamlError,
    SamlIdpMetadata as IdpMetadata, SamlLogoutResponse as LogoutResponse, SignedAssertion,
    UNSUPPORTED,
};

/// What a response must match, decided by the caller.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Expectations {
    /// Our SP entity id ([`sp_entity_id`]): an audience of every `AudienceRestriction`.
    pub sp_entity_id: String,
    /// Our ACS URL ([`acs_url`]): the confirmation's `Recipient` and the `Destination`.
    pub acs_url: String,
    /// The id of the `AuthnRequest` this answers (SP-initiated), or `None` for an IdP-initiated
    /// response, which must then carry no `InResponseTo`.
    pub in_response_to: Option<String>,
    /// Now, in milliseconds since the Unix epoch.
    pub now_millis: u64,
}

/// A verified assertion, accepted once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    pub id: String,
    pub issuer: String,
    pub name_id: String,
    pub name_id_format: Option<String>,
    pub session_index: Option<String>,
    /// Attribute name → values, in the order the IdP sent them.
    pub attributes: Vec<Attribute>,
    /// The assertion's `IssueInstant`.
    pub issue_instant_millis: u64,
    /// Whether it came encrypted (`EncryptedAssertion`).
    pub encrypted: bool,
    /// When the assertion stops being usable (the earliest `NotOnOrAfter` that applies).
    pub not_on_or_after_millis: u64,
}

impl Assertion {
    /// The values of the attribute called `name`, if the IdP sent it.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.values.as_slice())
    }
}

impl fmt::Display for SamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Unsupported => f.write_str(UNSUPPORTED),
            Self::Metadata(m) => write!(f, "Invalid SAML metadata: {m}"),
            Self::Malformed(m) => write!(f, "Invalid SAML response: {m}"),
            Self::Status(s) => write!(f, "The identity provider refused the sign-in: {s}"),
            Self::Signature(m) => write!(f, "Invalid SAML response signature: {m}"),
            Self::Encrypted => f.write_str(
                "The SAML assertion is encrypted, and this server has no SAML encryption key to decrypt it",
            ),
            Self::Issuer { expected, found } => {
                write!(f, "Invalid SAML issuer {found}, expected {expected}")
            }
            Self::Audience { expected, found } => write!(
                f,
                "Invalid SAML audience [{}], expected {expected}",
                found.join(", ")
            ),
            Self::Recipient { expected, found } => write!(
                f,
                "Invalid SAML recipient {}, expected {expected}",
                found.as_deref().unwrap_or("(none)")
            ),
            Self::Destination { expected, found } => {
                write!(f, "Invalid SAML destination {found}, expected {expected}")
            }
            Self::InResponseTo { expected, found } => write!(
                f,
                "Invalid SAML InResponseTo {}, expected {}",
                found.as_deref().unwrap_or("(none)"),
                expected.as_deref().unwrap_or("(none)")
            ),
            Self::NotYetValid => f.write_str("The SAML assertion is not yet valid"),
            Self::Expired => f.write_str("The SAML assertion has expired"),
            Self::NoSubject => f.write_str("The SAML assertion names no subject"),
            Self::Replayed(id) => write!(f, "The SAML assertion {id} was already used"),
            Self::Store(m) => write!(f, "store: {m}"),
        }
    }
}

impl From<SamlError> for Error {
    /// `Unsupported` is `UnsupportedOperationException`; a store failure is internal; every
    /// refusal of a response is `NotAuthorizedException` with the precise reason.
    fn from(e: SamlError) -> Self {
        match e {
            SamlError::Unsupported => Error::new(ErrorKind::UnsupportedOperation, UNSUPPORTED),
            SamlError::Store(m) => Error::internal(m),
            SamlError::Metadata(_) => Error::invalid_parameter(e.to_string()),
            other => Error::not_authorized(other.to_string()),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// The decisions

/// Checks a signed assertion against the expectations (everything but replay).
pub fn check(signed: &SignedAssertion, expect: &Expectations) -> Result<Assertion, SamlError> {
    let now = expect.now_millis;
    if signed.issuer != signed.idp_entity_id {
        return Err(SamlError::Issuer {
            expected: signed.idp_entity_id.clone(),
            found: signed.issuer.clone(),
        });
    }
    if let Some(destination) = &signed.response_destination
        && *destination != expect.acs_url
    {
        return Err(SamlError::Destination {
            expected: expect.acs_url.clone(),
            found: destination.clone(),
        });
    }
    if let Some(found) = &signed.response_in_response_to
        && expect.in_response_to.as_deref() != Some(found.as_str())
    {
        return Err(SamlError::InResponseTo {
            expected: expect.in_response_to.clone(),
            found: Some(found.clone()),
        });
    }
    // The assertion was issued: not in the future (beyond the skew).
    if signed.issue_instant_millis > now.saturating_add(CLOCK_SKEW_MILLIS) {
        return Err(SamlError::NotYetValid);
    }
    // Conditions.
    if let Some(not_before) = signed.not_before_millis
        && not_before > now.saturating_add(CLOCK_SKEW_MILLIS)
    {
        return Err(SamlError::NotYetValid);
    }
    if let Some(not_on_or_after) = signed.not_on_or_after_millis
        && now >= not_on_or_after.saturating_add(CLOCK_SKEW_MILLIS)
    {
        return Err(SamlError::Expired);
    }
    // Every AudienceRestriction must name us, and there must be one (Web SSO profile).
    if signed.audience_restrictions.is_empty()
        || signed
            .audience_restrictions
            .iter()
            .any(|audiences| !audiences.contains(&expect.sp_entity_id))
    {
        return Err(SamlError::Audience {
            expected: expect.sp_entity_id.clone(),
            found: signed.audience_restrictions.concat(),
        });
    }
    let name_id = match &signed.name_id {
        Some(n) if !n.trim().is_empty() => n.trim().to_string(),
        _ => return Err(SamlError::NoSubject),
    };
    // One bearer confirmation must hold: recipient, window (NotOnOrAfter required), and
    // InResponseTo equal to the request's id, or absent when there was no request.
    let confirmation_not_on_or_after = confirm(&signed.confirmations, expect)?;
    let not_on_or_after = match signed.not_on_or_after_millis {
        Some(c) => c.min(confirmation_not_on_or_after),
        None => confirmation_not_on_or_after,
    };
    Ok(Assertion {
        id: signed.id.clone(),
        issuer: signed.issuer.clone(),
        name_id,
        name_id_format: signed.name_id_format.clone(),
        session_index: signed.session_index.clone(),
        attributes: signed.attributes.clone(),
        issue_instant_millis: signed.issue_instant_millis,
        encrypted: signed.encrypted,
        not_on_or_after_millis: not_on_or_after,
    })
}

/// The first bearer confirmation that holds, as its `NotOnOrAfter`; else the first reason one
/// did not.
fn confirm(confirmations: &[Confirmation], expect: &Expectations) -> Result<u64, SamlError> {
    let now = expect.now_millis;
    let mut first: Option<SamlError> = None;
    for c in confirmations.iter().filter(|c| c.method == BEARER) {
        let refusal = if c.recipient.as_deref() != Some(expect.acs_url.as_str()) {
            SamlError::Recipient {
                expected: expect.acs_url.clone(),
                found: c.recipient.clone(),
            }
        } else if c.in_response_to != expect.in_response_to {
            SamlError::InResponseTo {
                expected: expect.in_response_to.clone(),
                found: c.in_response_to.clone(),
            }
        } else if c
            .not_before_millis
            .is_some_and(|nb| nb > now.saturating_add(CLOCK_SKEW_MILLIS))
        {
            SamlError::NotYetValid
        } else {
            match c.not_on_or_after_millis {
                Some(end) if now < end.saturating_add(CLOCK_SKEW_MILLIS) => return Ok(end),
                _ => SamlError::Expired,
            }
        };
        first.get_or_insert(refusal);
    }
    Err(first.unwrap_or(SamlError::NoSubject))
}

/// The store record of an accepted assertion id (key [`crate::store::keys::saml_assertion`]).
#[derive(Debug, Serialize, Deserialize)]
struct Used {
    /// When the record may go (the janitor's `expires_millis`): once the assertion would be
    /// refused as expired anyway.
    expires_millis: u64,
}

/// Records `assertion` as used, once: a second call with the same issuer and id is
/// [`SamlError::Replayed`] until the assertion has expired (and is refused for that).
pub async fn remember(
    env: &dyn Env,
    pool_id: &str,
    assertion: &Assertion,
) -> Result<(), SamlError> {
    let key = crate::store::keys::saml_assertion(pool_id, &assertion.issuer, &assertion.id);
    let record = Used {
        expires_millis: assertion
            .not_on_or_after_millis
            .saturating_add(CLOCK_SKEW_MILLIS),
    };
    let value = serde_json::to_vec(&record).map_err(|e| SamlError::Store(e.to_string()))?;
    match env.store().put(&key, &value, Expect::Absent).await {
        Ok(_) => Ok(()),
        Err(StoreError::Conflict) => Err(SamlError::Replayed(assertion.id.clone())),
        Err(e) => Err(SamlError::Store(e.to_string())),
    }
}

/// The whole of `/saml2/idpresponse`'s verification: the port checks the signature of
/// `saml_response` (the form's base64 `SAMLResponse`) against the IdP's `metadata_xml`, then
/// [`check`] and [`remember`] decide. The caller still maps the assertion to a user.
pub async fn accept(
    env: &dyn Env,
    pool_id: &str,
    metadata_xml: &str,
    saml_response: &str,
    expect: &Expectations,
) -> Result<Assertion, SamlError> {
    let signed = env.saml().verify(saml_response, metadata_xml).await?;
    let assertion = check(&signed, expect)?;
    remember(env, pool_id, &assertion).await?;
    Ok(assertion)
}

/// Reads an IdP's metadata through the port (for `CreateIdentityProvider` with `MetadataFile`,
/// and for [`request::redirect`]'s SSO URL). Refuses metadata without a signing certificate or
/// an HTTP-Redirect SSO endpoint.
pub async fn idp_metadata(env: &dyn Env, metadata_xml: &str) -> Result<IdpMetadata, SamlError> {
    let metadata = env.saml().metadata(metadata_xml).await?;
    if metadata.entity_id.is_empty() {
        return Err(SamlError::Metadata("the metadata names no entityID".into()));
    }
    if metadata.signing_certificates == 0 {
        return Err(SamlError::Metadata(
            "the IdP descriptor has no signing certificate".into(),
        ));
    }
    if metadata.sso_redirect.is_none() {
        return Err(SamlError::Metadata(
            "the IdP descriptor has no SingleSignOnService for the HTTP-Redirect binding".into(),
        ));
    }
    Ok(metadata)
}

/// Escapes text for an XML attribute value or element content.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

/// An `xs:dateTime` in UTC to the second (`2026-12-06T04:50:00Z`), as SAML's instants are.
pub fn xml_time(millis: u64) -> String {
    let seconds = i64::try_from(millis / 1000).unwrap_or(i64::MAX);
    let t = time::OffsetDateTime::from_unix_timestamp(seconds)
        .unwrap_or(time::OffsetDateTime::UNIX_EPOCH);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

#[cfg(test)]
mod tests;
