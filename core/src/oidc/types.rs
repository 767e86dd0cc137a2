//! Protocol values as validated newtypes. Secret ones print `[redacted]` and have no
//! `PartialEq`; single-use ones are consumed by value.

use alloc::string::{String, ToString};
use alloc::vec::Vec;
use core::fmt;

use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// RFC 7636 §4.1 `unreserved` characters.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~')
}

/// A redirect URI registered with a client (Cognito's `CallbackURLs`, `LogoutURLs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectUri(String);

impl RedirectUri {
    /// Cognito's rules: absolute, at most 1024 characters, no fragment (RFC 6749 §3.1.2), and
    /// HTTPS unless the host is the loopback (`http://localhost`, `127.0.0.1`, `[::1]`). Other
    /// schemes (apps' custom schemes, `myapp://callback`) are allowed, except the ones a
    /// browser would execute.
    pub fn parse(text: &str) -> Result<Self, String> {
        let invalid = |why: &str| alloc::format!("Invalid redirect URI {text}: {why}.");
        if text.is_empty() || text.len() > 1024 {
            return Err(invalid("it must be 1 to 1024 characters"));
        }
        if text.contains('#') {
            return Err(invalid("it must not have a fragment"));
        }
        if text.bytes().any(|b| b.is_ascii_control() || b == b' ') {
            return Err(invalid("it must not contain spaces or control characters"));
        }
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| invalid("it must be absolute"))?;
        let scheme_ok = scheme
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_alphabetic())
            && scheme
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
        if !scheme_ok {
            return Err(invalid("the scheme is malformed"));
        }
        let scheme = scheme.to_ascii_lowercase();
        if matches!(scheme.as_str(), "javascript" | "data" | "vbscript" | "file") {
            return Err(invalid("the scheme is not allowed"));
        }
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let host = authority.rsplit('@').next().unwrap_or_default();
        let host_only = if host.starts_with('[') {
            host.split(']')
                .next()
                .map(|h| alloc::format!("{h}]"))
                .unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or_default().to_string()
        };
        if authority.contains('@') {
            return Err(invalid("it must not carry user information"));
        }
        if scheme == "http" {
            let loopback = matches!(
                host_only.to_ascii_lowercase().as_str(),
                "localhost" | "127.0.0.1" | "[::1]"
            );
            if !loopback {
                return Err(invalid("http is allowed only for localhost; use https"));
            }
        }
        if (scheme == "http" || scheme == "https") && host_only.is_empty() {
            return Err(invalid("it has no host"));
        }
        Ok(Self(text.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// One scope token (RFC 6749 §3.3: `%x21 / %x23-5B / %x5D-7E`).
pub fn is_scope_token(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 256
        && s.bytes()
            .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
}

/// The OIDC and Cognito scopes that need no resource server.
pub const STANDARD_SCOPES: &[&str] = &[
    "openid",
    "email",
    "phone",
    "profile",
    "aws.cognito.signin.user.admin",
];

/// A set of scopes, in the order first given, without repeats.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a space-delimited `scope` parameter.
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut out: Vec<String> = Vec::new();
        for s in text.split(' ').filter(|s| !s.is_empty()) {
            if !is_scope_token(s) {
                return Err(alloc::format!("Invalid scope {s}."));
            }
            if !out.iter().any(|o| o == s) {
                out.push(s.to_string());
            }
        }
        Ok(Self(out))
    }
    pub fn from_list(list: &[String]) -> Self {
        let mut out: Vec<String> = Vec::new();
        for s in list {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
        Self(out)
    }
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    pub fn iter(&self) -> impl Iterator<Item = &str> {
        self.0.iter().map(String::as_str)
    }
    /// The first scope not in `allowed`, if any.
    pub fn first_not_in(&self, allowed: &Scopes) -> Option<&str> {
        self.iter().find(|s| !allowed.contains(s))
    }
    /// Space-delimited, as the `scope` parameter and claim.
    pub fn to_param(&self) -> String {
        self.0.join(" ")
    }
}

/// A PKCE `code_challenge` (RFC 7636 §4.2): S256 of the verifier, base64url, 43 characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CodeChallenge(String);

impl CodeChallenge {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if (43..=128).contains(&text.len()) && text.bytes().all(is_unreserved) {
            Ok(Self(text.to_string()))
        } else {
            Err("code_challenge must be 43 to 128 unreserved characters.")
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// RFC 7636 §4.6: `BASE64URL(SHA256(ASCII(code_verifier))) == code_challenge`, compared in
    /// constant time.
    pub fn verify(&self, verifier: &CodeVerifier) -> bool {
        use subtle::ConstantTimeEq;
        let computed = crate::codec::b64url(&Sha256::digest(verifier.0.expose().as_bytes()));
        computed.as_bytes().ct_eq(self.0.as_bytes()).into()
    }
}

/// A PKCE `code_verifier` (RFC 7636 §4.1): 43 to 128 unreserved characters. Secret.
pub struct CodeVerifier(Secret);

impl CodeVerifier {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if (43..=128).contains(&text.len()) && text.bytes().all(is_unreserved) {
            Ok(Self(Secret::new(text)))
        } else {
            Err("code_verifier must be 43 to 128 unreserved characters.")
        }
    }
}

impl fmt::Debug for CodeVerifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeVerifier([redacted])")
    }
}

/// An authorization code as presented at the token endpoint. Consumed by value when redeemed.
pub struct AuthorizationCode(Secret);

impl AuthorizationCode {
    pub fn parse(text: &str) -> Result<Self, &'static str> {
        if (16..=256).contains(&text.len()) && text.bytes().all(is_unreserved) {
            Ok(Self(Secret::new(text)))
        } else {
            Err("The authorization code is malformed.")
        }
    }
    /// The store key suffix: only the digest is ever stored.
    pub fn digest(&self) -> String {
        crate::codec::sha256_hex(&[self.0.expose().as_bytes()])
    }
    pub fn expose(&self) -> &str {
        self.0.expose()
    }
}

impl fmt::Debug for AuthorizationCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AuthorizationCode([redacted])")
    }
}

/// A client-chosen opaque value echoed back (`state`, `nonce`): printable ASCII, at most 2048.
pub fn check_opaque(name: &str, value: &str) -> Result<(), String> {
    if value.len() > 2048 || value.bytes().any(|b| !(0x20..=0x7e).contains(&b)) {
        return Err(alloc::format!(
            "{name} must be at most 2048 printable ASCII characters."
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7636 Appendix B: the verifier and challenge of the worked example.
    #[test]
    fn rfc7636_appendix_b_known_answer() {
        let verifier = CodeVerifier::parse("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        let challenge =
            CodeChallenge::parse("E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM").unwrap();
        assert!(challenge.verify(&verifier));
        let other = CodeVerifier::parse("eBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk").unwrap();
        assert!(!challenge.verify(&other));
        assert!(CodeVerifier::parse("short").is_err());
        assert!(CodeChallenge::parse(&"a".repeat(129)).is_err());
        assert_eq!(alloc::format!("{verifier:?}"), "CodeVerifier([redacted])");
    }

    #[test]
    fn redirect_uris_follow_cognitos_rules() {
        for ok in [
            "https://app.example.com/callback",
            "https://app.example.com/cb?x=1",
            "http://localhost:3000/cb",
            "http://127.0.0.1:8080/cb",
            "http://[::1]:8080/cb",
            "myapp://callback",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://example.com/cb",
            "https://app.example.com/cb#frag",
            "/relative",
            "javascript://alert(1)",
            "https://user@evil.example/cb",
            "http://localhost.evil.example/cb",
            "",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_parse_dedupe_and_refuse_bad_tokens() {
        let s = Scopes::parse("openid  email openid res/read").unwrap();
        assert_eq!(s.to_param(), "openid email res/read");
        assert!(Scopes::parse("a\"b").is_err());
        let allowed = Scopes::parse("openid email").unwrap();
        assert_eq!(s.first_not_in(&allowed), Some("res/read"));
    }
}
