//! The ports: everything the core needs from the outside world, as traits the adapters implement.
//!
//! Futures are boxed so the traits stay object-safe and usable from both a multi-threaded tokio
//! server (feature `send`: futures and ports are `Send + Sync`) and single-threaded runtimes
//! such as Cloudflare Workers or the Wasm guest, whose futures are `!Send`.

use alloc::string::String;
use alloc::vec::Vec;

use crate::error::Error;
use crate::secret::Secret;
use crate::store::Store;

pub use crate::future::{BoxFuture, MaybeSend, MaybeSync, boxed};

/// Wall-clock time.
pub trait Clock: MaybeSend + MaybeSync {
    /// Milliseconds since the Unix epoch.
    fn now_millis(&self) -> u64;
}

/// A cryptographically secure random source.
pub trait Random: MaybeSend + MaybeSync {
    fn fill(&self, buf: &mut [u8]);
}

/// How a message reaches a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Medium {
    Email,
    Sms,
}

/// A message for a user: a confirmation code, a verification code, a temporary password.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Message {
    pub pool_id: String,
    pub username: String,
    pub medium: Medium,
    /// The email address or phone number.
    pub destination: String,
    /// What the message is for, e.g. `SignUp`, `ResendCode`.
    pub purpose: String,
    pub subject: String,
    /// The text, placeholders filled in.
    pub body: String,
    /// Whether `body` is HTML (an email whose template is HTML): sent as HTML with a plain-text
    /// alternative ([`crate::delivery::html_to_text`]).
    #[serde(default)]
    pub html: bool,
    /// The code the message carries. Adapters that log messages must not log this field in
    /// production; the host's development outbox keeps it so tests and demos can read it.
    pub code: Secret,
    /// The confirmation link the message carries instead of a bare code (a pool whose
    /// `DefaultEmailOption` is `CONFIRM_WITH_LINK`): a custom message's `{##text##}` becomes it.
    #[serde(default)]
    pub link: Option<String>,
    /// How it leaves, from the pool's settings ([`crate::delivery::route`]).
    #[serde(default, with = "route_field")]
    pub route: Route,
}

/// Delivers email and SMS messages.
///
/// `send` delivers through `message.route` (the server's own transport, SES or SNS); a
/// transport that fails after its bounded retries answers
/// [`crate::delivery::delivery_failure`] (`CodeDeliveryFailureException`).
pub trait Sender: MaybeSend + MaybeSync {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>>;
    /// Performs a custom sender plugin's delivery request for `pool_id`. The adapter checks the
    /// URL's host against its operator's allow-list (`crate::trigger::check_delivery`) and
    /// applies a timeout. The default refuses: the adapter has no way to deliver.
    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        let _ = (pool_id, request);
        boxed(async {
            Err(Error::new(
                crate::error::ErrorKind::UnexpectedLambda,
                "This server cannot perform custom sender deliveries.",
            ))
        })
    }
}

/// JWS signature algorithms the core issues tokens with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JwsAlgorithm {
    RS256,
    /// ECDSA P-256 with SHA-256, signing only (Sign in with Apple's client secret, signed with
    /// the provider's PKCS#8 key); the signature is `r || s` (JWS, RFC 7518 §3.4).
    ES256,
}

impl JwsAlgorithm {
    pub fn name(self) -> &'static str {
        match self {
            Self::RS256 => "RS256",
            Self::ES256 => "ES256",
        }
    }
}

/// A freshly generated key pair.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct GeneratedKey {
    /// The private key: standard base64 of its PKCS#8 DER encoding.
    pub private_pkcs8_der: Secret,
    /// RSA modulus, big-endian bytes.
    #[serde(with = "crate::codec::bytes")]
    pub modulus: Vec<u8>,
    /// RSA public exponent, big-endian bytes.
    #[serde(with = "crate::codec::bytes")]
    pub exponent: Vec<u8>,
}

/// JWS signing and verification. The host uses a fast native library; the edge uses
/// WebCrypto, which is several times faster than RSA compiled to Wasm.
///
/// Keys are passed in on every call; implementations may cache parsed keys by `kid`.
pub trait Jws: MaybeSend + MaybeSync {
    /// Generates a new key pair for `alg`.
    fn generate<'a>(&'a self, alg: JwsAlgorithm) -> BoxFuture<'a, Result<GeneratedKey, Error>>;
    /// Signs `input` (the JWS signing input `header.payload`) with the PKCS#8 private key.
    /// `private_pkcs8_der` is standard base64 of the DER bytes.
    fn sign<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        private_pkcs8_der: &'a Secret,
        input: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, Error>>;
    /// Verifies `signature` over `input` with the RSA public key (`n`, `e`, big-endian bytes).
    fn verify<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: &'a str,
        modulus: &'a [u8],
        exponent: &'a [u8],
        input: &'a [u8],
        signature: &'a [u8],
    ) -> BoxFuture<'a, Result<bool, Error>>;
}

/// Argon2id parameters (memory in KiB, iterations, parallelism).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HashParams {
    pub memory_kib: u32,
    pub iterations: u32,
    pub parallelism: u32,
}

impl Default for HashParams {
    /// OWASP's recommended minimum for argon2id.
    fn default() -> Self {
        Self {
            memory_kib: 19_456,
            iterations: 2,
            parallelism: 1,
        }
    }
}

/// The outcome of a password verification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum PasswordCheck {
    Mismatch,
    Match,
    /// Correct, but hashed with other parameters than the current ones: rehash and store.
    MatchNeedsRehash,
}

/// Password hashing (argon2id). A port so a server can run it off its request threads and a
/// Wasm guest can call the host's native implementation.
/// [`crate::password::Argon2Hasher`] is the reference implementation.
pub trait PasswordHasher: MaybeSend + MaybeSync {
    /// Hashes `password` with a fresh 16-byte `salt`, returning a PHC string.
    fn hash<'a>(
        &'a self,
        password: &'a str,
        salt: [u8; 16],
        params: HashParams,
    ) -> BoxFuture<'a, Result<String, Error>>;
    /// Checks `password` against a PHC string; reports whether it should be rehashed with `params`.
    fn verify<'a>(
        &'a self,
        password: &'a str,
        phc: &'a str,
        params: HashParams,
    ) -> BoxFuture<'a, Result<PasswordCheck, Error>>;
    /// Whether [`verify`](Self::verify) checks hashes of `phc`'s scheme. Every runtime verifies
    /// argon2id; the host also verifies the bcrypt, scrypt and PBKDF2 hashes that PHC import
    /// accepts ([`crate::api::phc::acceptable_hash`]), so only it may import them.
    fn verifies(&self, phc: &str) -> bool {
        phc.starts_with("$argon2id$")
    }
    /// Whether `password` is in the operator's list of breached passwords (the host's
    /// `--breached-passwords` file). Runtimes without such a list answer `false`.
    fn breached<'a>(&'a self, password: &'a str) -> BoxFuture<'a, bool> {
        let _ = password;
        crate::future::boxed(async { false })
    }
}

/// SRP's 3072-bit modular exponentiations ([`crate::srp`]): B and the server's key for
/// USER_SRP_AUTH and DEVICE_SRP_AUTH, and the verifier stored wherever a password is set. The
/// default, [`InCoreSrp`], runs the core's own code where the core runs; the host's Wasm engine
/// answers with the same code compiled natively, about five times faster than the guest's
/// 32-bit Wasm arithmetic (host/benches/engines.rs, `srp_*`).
pub trait SrpMath: MaybeSend + MaybeSync {
    /// [`crate::srp::verifier`].
    fn verifier<'a>(
        &'a self,
        pool_name: &'a str,
        user_id: &'a str,
        password: &'a str,
        salt: [u8; 16],
    ) -> BoxFuture<'a, crate::srp::Verifier>;
    /// [`crate::srp::server_hello`].
    fn server_hello<'a>(
        &'a self,
        v_hex: &'a str,
        b: [u8; 32],
    ) -> BoxFuture<'a, Result<crate::srp::ServerHello, crate::srp::SrpError>>;
    /// [`crate::srp::server_key`].
    fn server_key<'a>(
        &'a self,
        a_hex: &'a str,
        hello: &'a crate::srp::ServerHello,
        v_hex: &'a str,
    ) -> BoxFuture<'a, Result<[u8; 16], crate::srp::SrpError>>;
}

/// [`SrpMath`] in the core itself.
#[derive(Debug, Clone, Copy, Default)]
pub struct InCoreSrp;

impl SrpMath for InCoreSrp {
    fn verifier<'a>(
        &'a self,
        pool_name: &'a str,
        user_id: &'a str,
        password: &'a str,
        salt: [u8; 16],
    ) -> BoxFuture<'a, crate::srp::Verifier> {
        boxed(async move { crate::srp::verifier(pool_name, user_id, password, salt) })
    }
    fn server_hello<'a>(
        &'a self,
        v_hex: &'a str,
        b: [u8; 32],
    ) -> BoxFuture<'a, Result<crate::srp::ServerHello, crate::srp::SrpError>> {
        boxed(async move { crate::srp::server_hello(v_hex, b) })
    }
    fn server_key<'a>(
        &'a self,
        a_hex: &'a str,
        hello: &'a crate::srp::ServerHello,
        v_hex: &'a str,
    ) -> BoxFuture<'a, Result<[u8; 16], crate::srp::SrpError>> {
        boxed(async move { crate::srp::server_key(a_hex, hello, v_hex) })
    }
}

/// A decoded record, of the type its reader asked for.
pub type Decoded = alloc::sync::Arc<dyn core::any::Any + Send + Sync>;

/// A decoding's outcome.
pub type Decoding = Result<Decoded, serde_json::Error>;

/// Decoded records kept between requests, by key and version ([`crate::decoded`]).
pub trait DecodedRecords: MaybeSend + MaybeSync {
    /// The form of type `type_id` kept for `key` at `version`, or else `decode`'s (kept when
    /// it succeeds). `bytes` is the encoded record's length, what a bounded table charges for
    /// it. `decode` runs without any lock held.
    fn get_or_decode(
        &self,
        key: &str,
        type_id: core::any::TypeId,
        version: u64,
        bytes: usize,
        decode: &mut dyn FnMut() -> Decoding,
    ) -> Decoding;
}

/// Keeps nothing: every read decodes (adapters without a table).
#[derive(Debug, Clone, Copy, Default)]
pub struct NoDecodedRecords;

impl DecodedRecords for NoDecodedRecords {
    fn get_or_decode(
        &self,
        _key: &str,
        _type_id: core::any::TypeId,
        _version: u64,
        _bytes: usize,
        decode: &mut dyn FnMut() -> Decoding,
    ) -> Decoding {
        decode()
    }
}

/// Everything the core needs for one request.
pub trait Env: MaybeSend + MaybeSync {
    fn store(&self) -> &dyn Store;
    fn clock(&self) -> &dyn Clock;
    fn random(&self) -> &dyn Random;
    fn sender(&self) -> &dyn Sender;
    fn jws(&self) -> &dyn Jws;
    fn passwords(&self) -> &dyn PasswordHasher;
    /// The trigger plugin runtime. Adapters without one keep the default, which knows no
    /// plugin: a pool that names a trigger then fails that trigger's calls.
    fn triggers(&self) -> &dyn Triggers {
        &NoTriggers
    }
    /// The plugin registry behind the `CognatePlugins.*` admin API. Adapters without one keep
    /// the default, which answers every call `UnsupportedOperationException`.
    fn plugins(&self) -> &dyn PluginRegistry {
        &NoPluginRegistry
    }
    /// SRP's arithmetic. Adapters that run the core natively keep the default.
    fn srp(&self) -> &dyn SrpMath {
        &InCoreSrp
    }
    /// The security token service identity pools get credentials from. Adapters without one
    /// keep the default, which answers `ExternalServiceException`.
    fn sts(&self) -> &dyn Sts {
        &NoSts
    }
    /// Outbound HTTP to other services (upstream identity providers and their JWKS). Adapters
    /// without one keep the default, which refuses every request.
    fn http(&self) -> &dyn Http {
        &NoHttp
    }
    /// The SAML 2.0 verifier (XML signatures). Adapters without one keep the default, which
    /// refuses SAML identity providers ([`UNSUPPORTED`]).
    fn saml(&self) -> &dyn Saml {
        &NoSaml
    }
    /// Passkey attestation and assertion verification. Adapters without a verifier keep the
    /// default, which refuses every passkey (`WebAuthnCredentialNotSupportedException`).
    fn webauthn(&self) -> &dyn WebAuthnVerifier {
        &NoWebAuthn
    }
    /// Decoded records kept between requests ([`crate::decoded`]). Adapters without a table
    /// keep the default, which decodes at every read.
    fn decoded_records(&self) -> &dyn DecodedRecords {
        &NoDecodedRecords
    }
}

// ---------------------------------------------------------------------------------------------
// Outbound HTTP (upstream identity providers: discovery, JWKS, token and userInfo endpoints)

/// An outbound HTTP request, as the core writes it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpRequest {
    /// `GET` or `POST` (upper case).
    pub method: String,
    /// An absolute `http(s)` URL.
    pub url: String,
    /// Header names in lower case.
    pub headers: Vec<(String, String)>,
    #[serde(with = "crate::codec::bytes")]
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// A `GET` of `url` that accepts JSON.
    pub fn get(url: &str) -> Self {
        Self {
            method: "GET".into(),
            url: url.into(),
            headers: alloc::vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        }
    }
    /// A `POST` of a form (`application/x-www-form-urlencoded`) to `url` that accepts JSON.
    pub fn post_form(url: &str, form: String) -> Self {
        Self {
            method: "POST".into(),
            url: url.into(),
            headers: alloc::vec![
                (
                    "content-type".into(),
                    "application/x-www-form-urlencoded".into()
                ),
                ("accept".into(), "application/json".into()),
            ],
            body: form.into_bytes(),
        }
    }
    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.to_ascii_lowercase(), value.into()));
        self
    }
}

/// An outbound HTTP answer: any status (the core reads it), headers with lower-case names, the
/// body (never larger than the adapter's cap).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct HttpResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    #[serde(with = "crate::codec::bytes")]
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Performs outbound HTTP requests for the core. The adapter enforces the operator's policy:
/// only hosts on its allow-list ([`host_allowed`]), no redirects followed (a redirect could
/// leave the list), a timeout, and a cap on the answer's size. A request refused by policy or
/// that gets no answer (refused connection, timeout, oversized answer) is an
/// `ExternalServiceException` [`Error`] whose message names the host, never the full URL.
pub trait Http: MaybeSend + MaybeSync {
    fn request<'a>(&'a self, request: HttpRequest) -> BoxFuture<'a, Result<HttpResponse, Error>>;
}

/// A runtime that makes no outbound requests.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoHttp;

impl Http for NoHttp {
    fn request<'a>(&'a self, request: HttpRequest) -> BoxFuture<'a, Result<HttpResponse, Error>> {
        boxed(async move { Err(http_refused(&request.url)) })
    }
}

/// The error for a request to a host off the allow-list.
pub fn http_refused(url: &str) -> Error {
    let host = crate::codec::url_host(url).unwrap_or_else(|| "?".into());
    Error::new(
        crate::error::ErrorKind::ExternalService,
        alloc::format!("The host {host} is not on this server's list of upstream hosts."),
    )
}

/// Whether `url` (`http(s)://host[:port]/...`) may be requested under `allowed`: entries are
/// exact host names (`idp.example.com`, any port), `*.example.com` (its subdomains), or
/// `host:port` (that port only, e.g. `127.0.0.1:8443` for a provider started by a test). An
/// empty list allows nothing.
pub fn host_allowed(url: &str, allowed: &[String]) -> bool {
    let Some(host) = crate::codec::url_host(url) else {
        return false;
    };
    let port = url_port(url);
    allowed.iter().any(|entry| {
        let entry = entry.trim().to_ascii_lowercase();
        if let Some(domain) = entry.strip_prefix("*.") {
            return host.ends_with(&alloc::format!(".{domain}"));
        }
        match entry.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.ends_with(']') && p.parse::<u16>().is_ok() => {
                host == h.trim_start_matches('[').trim_end_matches(']')
                    && port == p.parse::<u16>().ok()
            }
            Some((h, p)) if h.ends_with(']') && p.parse::<u16>().is_ok() => {
                host == h.trim_start_matches('[').trim_end_matches(']')
                    && port == p.parse::<u16>().ok()
            }
            _ => host == entry.trim_start_matches('[').trim_end_matches(']'),
        }
    })
}

/// The port of an `http(s)` URL, explicit or the scheme's default.
fn url_port(url: &str) -> Option<u16> {
    let (default, rest) = if let Some(rest) = url.strip_prefix("https://") {
        (443, rest)
    } else {
        (80, url.strip_prefix("http://")?)
    };
    let authority = rest.split(['/', '?', '#']).next()?;
    let after_host = match authority.rsplit_once(']') {
        Some((_, after)) => after,
        None => authority,
    };
    match after_host.rsplit_once(':') {
        Some((_, p)) => p.parse().ok(),
        None => Some(default),
    }
}

// ---------------------------------------------------------------------------------------------
// SAML 2.0 (issue 20; the decisions are in `crate::saml`)

/// What an IdP's metadata says, as the port read it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SamlIdpMetadata {
    /// The IdP's `entityID` (the issuer its assertions must name).
    pub entity_id: String,
    /// `SingleSignOnService` locations by binding.
    pub sso_redirect: Option<String>,
    pub sso_post: Option<String>,
    /// `SingleLogoutService` location for the HTTP-Redirect binding (`IDPSignout`).
    pub slo_redirect: Option<String>,
    /// Whether the IdP wants signed `AuthnRequest`s (Cognate does not sign them yet).
    pub want_authn_requests_signed: bool,
    /// How many signing certificates the metadata names (at least one is needed).
    pub signing_certificates: usize,
}

/// An IdP's `LogoutResponse` (single logout), as its signature covers it.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SamlLogoutResponse {
    pub issuer: Option<String>,
    pub in_response_to: Option<String>,
    pub destination: Option<String>,
    /// The top-level `StatusCode`'s `Value`.
    pub status: Option<String>,
}

/// A bearer `SubjectConfirmationData`, as signed.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SamlConfirmation {
    /// The confirmation's `Method` (only [`crate::saml::BEARER`] counts).
    pub method: String,
    pub recipient: Option<String>,
    pub in_response_to: Option<String>,
    pub not_before_millis: Option<u64>,
    pub not_on_or_after_millis: Option<u64>,
}

/// One `Attribute` of an `AttributeStatement`: its `Name` and its values as text.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SamlAttribute {
    pub name: String,
    pub values: Vec<String>,
}

/// What the port found under a valid signature by one of the IdP's certificates, and nothing
/// that the signature does not cover. Times are milliseconds since the Unix epoch.
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct SignedAssertion {
    /// The IdP's entity id, from its metadata.
    pub idp_entity_id: String,
    /// The assertion's `ID`.
    pub id: String,
    /// The assertion's `Issuer`.
    pub issuer: String,
    pub issue_instant_millis: u64,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    pub confirmations: Vec<SamlConfirmation>,
    /// `Conditions`: `NotBefore`, `NotOnOrAfter`, and each `AudienceRestriction`'s audiences.
    pub not_before_millis: Option<u64>,
    pub not_on_or_after_millis: Option<u64>,
    pub audience_restrictions: Vec<Vec<String>>,
    /// The first `AuthnStatement`'s `SessionIndex` and `SessionNotOnOrAfter`.
    pub session_index: Option<String>,
    pub session_not_on_or_after_millis: Option<u64>,
    pub attributes: Vec<SamlAttribute>,
    /// The enclosing `Response`'s `Destination` and `InResponseTo`. Checked when present (they
    /// are only as trustworthy as the response's own signature; the assertion's confirmation
    /// is what counts).
    pub response_destination: Option<String>,
    pub response_in_response_to: Option<String>,
    /// Whether the assertion came encrypted (an `EncryptedAssertion` the port decrypted with
    /// the SP's encryption key) rather than in the clear.
    #[serde(default)]
    pub encrypted: bool,
}

/// Why a SAML response (or an IdP's metadata) is refused.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum SamlError {
    /// This runtime has no XML-DSig verifier.
    Unsupported,
    /// The IdP's metadata is unusable (not XML, no IdP descriptor, no signing certificate).
    Metadata(String),
    /// The `SAMLResponse` is not base64, not XML, or not a SAML `Response`.
    Malformed(String),
    /// The IdP answered with a status other than Success.
    Status(String),
    /// No valid signature by the IdP's certificates covers the assertion (unsigned, signed by
    /// another key, modified, or its signed element moved or wrapped).
    Signature(String),
    /// The response carries an encrypted assertion, which this runtime cannot decrypt.
    Encrypted,
    Issuer {
        expected: String,
        found: String,
    },
    Audience {
        expected: String,
        found: Vec<String>,
    },
    Recipient {
        expected: String,
        found: Option<String>,
    },
    Destination {
        expected: String,
        found: String,
    },
    InResponseTo {
        expected: Option<String>,
        found: Option<String>,
    },
    /// `NotBefore` is still ahead (beyond the clock skew).
    NotYetValid,
    /// `NotOnOrAfter` has passed (beyond the clock skew), or the bearer confirmation has none.
    Expired,
    /// The assertion names no subject.
    NoSubject,
    /// This assertion id was accepted before.
    Replayed(String),
    /// The store failed.
    Store(String),
}

/// The message runtimes without a verifier answer.
pub const UNSUPPORTED: &str = "SAML identity providers are not supported on this runtime";

/// Verifies XML signatures of SAML 2.0 responses with a maintained XML-DSig library, and reads
/// IdP metadata. It decides nothing else: [`crate::saml::check`] applies the issuer, audience,
/// recipient, `InResponseTo` and time rules, [`crate::saml::remember`] one-time use.
pub trait Saml: MaybeSend + MaybeSync {
    /// Reads an IdP's metadata XML (`EntityDescriptor`).
    fn metadata<'a>(
        &'a self,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SamlIdpMetadata, SamlError>>;
    /// Verifies `saml_response` (a base64 `SAMLResponse`, HTTP-POST binding) against the signing
    /// certificates of `metadata_xml`, and answers what the signature covers. Refused
    /// ([`SamlError::Signature`]): no signature, a signature by another key, a
    /// modified signed element, and any response whose one assertion is not the signed element
    /// (or inside the signed `Response`) in its place, as XML signature wrapping produces.
    fn verify<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SignedAssertion, SamlError>>;
    /// Signs an HTTP-Redirect binding message (SAML bindings §3.4.4.1): `signed_query` is
    /// `SAMLRequest=…&RelayState=…&SigAlg=…` as sent, and the answer the base64 RSA-SHA256
    /// signature by the server's SAML signing key ([`SamlError::Unsupported`] without one).
    fn sign_redirect<'a>(
        &'a self,
        signed_query: &'a str,
    ) -> BoxFuture<'a, Result<String, SamlError>> {
        let _ = signed_query;
        boxed(async { Err(SamlError::Unsupported) })
    }
    /// Verifies a base64 `LogoutResponse` (HTTP-POST binding) signed by one of the signing
    /// certificates of `metadata_xml`: the root must be the signed element.
    fn verify_logout_response<'a>(
        &'a self,
        saml_response: &'a str,
        metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SamlLogoutResponse, SamlError>> {
        let _ = (saml_response, metadata_xml);
        boxed(async { Err(SamlError::Unsupported) })
    }
}

/// A runtime without an XML-DSig verifier (the edge): every SAML call is refused with
/// [`SamlError::Unsupported`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSaml;

impl Saml for NoSaml {
    fn metadata<'a>(
        &'a self,
        _metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SamlIdpMetadata, SamlError>> {
        boxed(async { Err(SamlError::Unsupported) })
    }
    fn verify<'a>(
        &'a self,
        _saml_response: &'a str,
        _metadata_xml: &'a str,
    ) -> BoxFuture<'a, Result<SignedAssertion, SamlError>> {
        boxed(async { Err(SamlError::Unsupported) })
    }
}

// ---------------------------------------------------------------------------------------------
// Passkeys (W3C WebAuthn Level 3; the core's side is `crate::auth::webauthn`)

/// A registration ceremony to verify (WebAuthn L3 §7.1, "Registering a New Credential"). The
/// core has already checked the client data's `type`, `challenge` and `origin` against its
/// single-use challenge and the pool's relying party; the verifier checks them again, and all
/// the rest: the RP ID hash, the UP flag (and UV where `user_verification_required`), the
/// attestation statement (formats `none` and `packed` at least) and the key's algorithm (ES256
/// and RS256 at least).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RegistrationCheck {
    pub rp_id: String,
    /// The one origin the client data must name.
    pub origin: String,
    /// The challenge the core issued (raw bytes).
    #[serde(with = "crate::codec::bytes")]
    pub challenge: Vec<u8>,
    pub user_verification_required: bool,
    /// The browser's RegistrationResponseJSON, as the client sent it.
    pub response_json: String,
}

/// A verified new passkey.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VerifiedPasskey {
    #[serde(with = "crate::codec::bytes")]
    pub credential_id: Vec<u8>,
    pub sign_count: u32,
    pub user_verified: bool,
    /// The attestation statement format (`none`, `packed`, ...).
    pub attestation_format: String,
    /// The verifier's own record of the public key, stored with the credential and handed back
    /// to [`WebAuthnVerifier::verify_assertion`]; the core does not read it.
    pub key: String,
}

/// An authentication ceremony to verify (WebAuthn L3 §7.2, "Verifying an Authentication
/// Assertion") for one stored credential: the signature over authenticatorData and the client
/// data hash with the stored key, the RP ID hash, UP (and UV where required); the credential
/// id must be `credential_id`. The signature counter is the core's to judge.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AssertionCheck {
    pub rp_id: String,
    pub origin: String,
    #[serde(with = "crate::codec::bytes")]
    pub challenge: Vec<u8>,
    pub user_verification_required: bool,
    #[serde(with = "crate::codec::bytes")]
    pub credential_id: Vec<u8>,
    /// [`VerifiedPasskey::key`].
    pub key: String,
    /// The browser's AuthenticationResponseJSON.
    pub response_json: String,
}

/// A verified assertion.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VerifiedAssertion {
    pub sign_count: u32,
    pub user_verified: bool,
}

/// Why a verifier refused a ceremony. The core maps each to Cognito's answer.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum WebAuthnRefusal {
    /// The authenticator data's RP ID hash is not the relying party's.
    RelyingParty,
    /// The client data's origin is not the expected one.
    Origin,
    /// The client data's challenge or type is not the expected one.
    Challenge,
    /// The ceremony failed: a bad signature, no user presence, no user verification where
    /// required, a credential that is not the expected one.
    Failed(String),
    /// The credential cannot be used: an attestation format, algorithm or key this verifier
    /// does not support, or a response that does not parse.
    Unsupported(String),
}

/// Verifies passkey ceremonies with a maintained WebAuthn library (the core decides what to
/// check and stores the credentials). CBOR, COSE, attestation statements and signatures are
/// the verifier's; the host implements it natively for both engines.
pub trait WebAuthnVerifier: MaybeSend + MaybeSync {
    fn verify_registration<'a>(
        &'a self,
        check: &'a RegistrationCheck,
    ) -> BoxFuture<'a, Result<VerifiedPasskey, WebAuthnRefusal>>;
    fn verify_assertion<'a>(
        &'a self,
        check: &'a AssertionCheck,
    ) -> BoxFuture<'a, Result<VerifiedAssertion, WebAuthnRefusal>>;
}

/// A runtime without a WebAuthn verifier: every passkey is refused.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoWebAuthn;

const NO_VERIFIER: &str = "This server has no passkey verifier.";

impl WebAuthnVerifier for NoWebAuthn {
    fn verify_registration<'a>(
        &'a self,
        _check: &'a RegistrationCheck,
    ) -> BoxFuture<'a, Result<VerifiedPasskey, WebAuthnRefusal>> {
        boxed(async { Err(WebAuthnRefusal::Unsupported(NO_VERIFIER.into())) })
    }
    fn verify_assertion<'a>(
        &'a self,
        _check: &'a AssertionCheck,
    ) -> BoxFuture<'a, Result<VerifiedAssertion, WebAuthnRefusal>> {
        boxed(async { Err(WebAuthnRefusal::Unsupported(NO_VERIFIER.into())) })
    }
}

// ---------------------------------------------------------------------------------------------
// The security token service (identity pools' GetCredentialsForIdentity)

/// An STS answer: the HTTP status and body, unparsed (the core reads them,
/// `crate::identity::credentials`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StsAnswer {
    pub status: u16,
    #[serde(with = "crate::codec::bytes")]
    pub body: Vec<u8>,
}

/// Posts STS Query API requests (`AssumeRoleWithWebIdentity`, unsigned) to the operator's STS
/// endpoint (AWS by default, or any STS-compatible service): the adapter's outbound HTTP, with
/// a timeout and a cap on the answer, to that endpoint only. A request that gets no answer
/// (refused connection, timeout, oversized answer) is `ExternalServiceException`.
pub trait Sts: MaybeSend + MaybeSync {
    /// POSTs `form` (`application/x-www-form-urlencoded`) to the STS endpoint.
    fn post<'a>(&'a self, form: &'a str) -> BoxFuture<'a, Result<StsAnswer, Error>>;
}

/// A runtime without an STS.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoSts;

impl Sts for NoSts {
    fn post<'a>(&'a self, _form: &'a str) -> BoxFuture<'a, Result<StsAnswer, Error>> {
        boxed(async {
            Err(Error::new(
                crate::error::ErrorKind::ExternalService,
                "This server has no security token service configured.",
            ))
        })
    }
}

// ---------------------------------------------------------------------------------------------
// Trigger plugins (see `crate::trigger` for the events, dispatch and error mapping)

/// Why a plugin invocation produced no answer. The core maps each to Cognito's error
/// (`crate::trigger::invocation_error`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum InvocationError {
    /// No plugin is registered under this reference.
    NotFound,
    /// The module lacks an export the contract requires (`memory`, `alloc`, `handle`), or one
    /// has the wrong type.
    MissingExport(String),
    /// The plugin trapped (a Rust panic, `unreachable`, an out-of-bounds access...).
    Trap(String),
    /// The plugin ran past its CPU (fuel) or wall-clock (epoch) budget.
    Timeout,
    /// The plugin tried to grow its memory past the cap.
    OutOfMemory,
    /// The result pointer/length is out of bounds or otherwise not a readable answer.
    BadOutput(String),
    /// The answer is larger than the output cap.
    OutputTooLarge,
    /// The runtime could not run the plugin (no free instance slot, engine failure).
    Unavailable(String),
}

/// Runs trigger plugins: `plugin` is a normalised reference (a registered name, or
/// `sha256:<64 lower-case hex>`), `event` the Cognito trigger event as JSON. The answer is the
/// plugin's output bytes, unparsed (the core validates them).
///
/// The host implements it with wasmtime; the edge with the JS WebAssembly API over modules
/// bundled at deploy time. Both run the same contract (`plugins/README.md`): a fresh instance
/// per call, a CPU and wall-clock budget, a memory cap and an output cap.
pub trait Triggers: MaybeSend + MaybeSync {
    fn invoke<'a>(
        &'a self,
        plugin: &'a str,
        event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>>;
}

/// A runtime with no plugins.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTriggers;

impl Triggers for NoTriggers {
    fn invoke<'a>(
        &'a self,
        _plugin: &'a str,
        _event: &'a [u8],
    ) -> BoxFuture<'a, Result<Vec<u8>, InvocationError>> {
        boxed(async { Err(InvocationError::NotFound) })
    }
}

/// What a custom email or SMS sender plugin asks the runtime to send: one HTTP request, which the
/// runtime performs only to an operator-allowed host (see `crate::trigger::check_delivery`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct DeliveryRequest {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: alloc::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub body: String,
}

// ---------------------------------------------------------------------------------------------
// The trigger plugin registry (the `CognatePlugins.*` admin API; `crate::api::plugins` routes,
// authorises and renders it)

/// A registered plugin, as the admin API lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct PluginInfo {
    /// The names that refer to it.
    pub names: Vec<String>,
    /// SHA-256 of the module (lower-case hex).
    pub sha256: String,
    /// The reference to put in a pool's `LambdaConfig` (`sha256:<hex>`).
    pub reference: String,
    /// The module's size in bytes.
    pub size: usize,
    /// Why it will fail every call, if it will. (Not skipped when absent for the guest ABI's
    /// sake; the admin API leaves it out, see `crate::api::plugins`.)
    pub problem: Option<String>,
}

/// Why a registry operation failed; the core maps each to the admin API's error.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum RegistryError {
    /// The runtime refuses this request (a module that does not compile, one the edge did not
    /// bundle, a deploy-time name): `InvalidParameterException`, 400.
    Refused(String),
    /// The registry failed (its store or files): `InternalErrorException`, 500.
    Failed(String),
    /// This runtime has no plugin registry: `UnsupportedOperationException`, 400.
    Unsupported,
}

/// Manages trigger plugins: the port behind `CognatePlugins.*`. The core parses, authorises
/// (SigV4 with an admin key), validates names and renders; the runtime stores and checks
/// modules (the host compiles them with wasmtime into its store or data directory; the edge
/// only names modules bundled at deploy time). Names are checked by the core
/// ([`crate::trigger::is_plugin_name`]) before a call.
pub trait PluginRegistry: MaybeSend + MaybeSync {
    /// Registers (or replaces) `module` (a binary module or WAT text), under `name` if given
    /// and always under its hash.
    fn register<'a>(
        &'a self,
        name: Option<&'a str>,
        module: &'a [u8],
    ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>>;
    /// Every registered module.
    fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>>;
    /// Removes a name, or (`sha256:<hex>`) a module and every name of it. `Ok(false)`: nothing
    /// was registered under `reference`.
    fn delete<'a>(&'a self, reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>>;
}

/// A runtime without a plugin registry: every operation is [`RegistryError::Unsupported`].
#[derive(Debug, Clone, Copy, Default)]
pub struct NoPluginRegistry;

impl PluginRegistry for NoPluginRegistry {
    fn register<'a>(
        &'a self,
        _name: Option<&'a str>,
        _module: &'a [u8],
    ) -> BoxFuture<'a, Result<PluginInfo, RegistryError>> {
        boxed(async { Err(RegistryError::Unsupported) })
    }
    fn list<'a>(&'a self) -> BoxFuture<'a, Result<Vec<PluginInfo>, RegistryError>> {
        boxed(async { Err(RegistryError::Unsupported) })
    }
    fn delete<'a>(&'a self, _reference: &'a str) -> BoxFuture<'a, Result<bool, RegistryError>> {
        boxed(async { Err(RegistryError::Unsupported) })
    }
}

// ---------------------------------------------------------------------------------------------
// Serde helpers for the port types (the guest ABI encodes them with postcard)

/// A byte buffer that serializes as [`crate::codec::bytes`] does, for tuples of port arguments and answers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ByteBuf(#[serde(with = "crate::codec::bytes")] pub Vec<u8>);

/// `Message::route`: in JSON (the outbox), the route's own tagged form; in a compact binary
/// format (the guest ABI, which cannot read internally tagged enums), that same JSON as a byte
/// string. So [`Route`] keeps one definition and one JSON form.
mod route_field {
    use alloc::vec::Vec;

    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use super::Route;

    pub fn serialize<S: Serializer>(route: &Route, serializer: S) -> Result<S::Ok, S::Error> {
        if serializer.is_human_readable() {
            route.serialize(serializer)
        } else {
            let json = serde_json::to_vec(route).map_err(serde::ser::Error::custom)?;
            crate::codec::bytes::serialize(&json, serializer)
        }
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Route, D::Error> {
        if deserializer.is_human_readable() {
            Route::deserialize(deserializer)
        } else {
            let json: Vec<u8> = crate::codec::bytes::deserialize(deserializer)?;
            serde_json::from_slice(&json).map_err(serde::de::Error::custom)
        }
    }
}

/// How a message leaves, as the pool's Cognito settings say.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "transport", rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Route {
    /// The server's own transport for the medium: SMTP for email where the operator configured
    /// it, else the development outbox (if on). `reply_to` is `EmailConfiguration`'s
    /// `ReplyToEmailAddress` (Cognito honours it with `COGNITO_DEFAULT` too).
    Server {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reply_to: Option<String>,
    },
    /// Amazon SES v2 `SendEmail` (`EmailSendingAccount = DEVELOPER`).
    Ses(SesRoute),
    /// Amazon SNS `Publish` to the phone number (`SmsConfiguration`).
    Sns(SnsRoute),
}

impl Default for Route {
    fn default() -> Self {
        Self::Server { reply_to: None }
    }
}

impl Route {
    /// Whether the server's own transport carries the message.
    pub fn is_server(&self) -> bool {
        matches!(self, Self::Server { .. })
    }
}

/// The pool's `EmailConfiguration` for SES.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SesRoute {
    /// The verified identity's ARN (`arn:aws:ses:<region>:<account>:identity/<identity>`).
    pub source_arn: String,
    /// The SES region: the one in `source_arn`.
    pub region: String,
    /// `From` (e.g. `Example <no-reply@example.com>`), else the identity when it is an address.
    pub from: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reply_to: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub configuration_set: Option<String>,
}

/// The pool's `SmsConfiguration` for SNS.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct SnsRoute {
    pub caller_arn: String,
    /// `SnsRegion`, else the pool's region.
    pub region: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub external_id: Option<String>,
}

#[cfg(test)]
mod http_tests {
    use alloc::string::ToString;
    use alloc::vec;

    use super::host_allowed;

    #[test]
    fn the_upstream_allow_list_matches_hosts_subdomains_and_ports() {
        let allowed = vec![
            "accounts.google.com".to_string(),
            "*.okta.com".to_string(),
            "127.0.0.1:8443".to_string(),
        ];
        assert!(host_allowed("https://accounts.google.com/x", &allowed));
        assert!(host_allowed("https://accounts.google.com:444/x", &allowed));
        assert!(host_allowed("https://acme.okta.com/oauth2", &allowed));
        assert!(!host_allowed("https://okta.com/oauth2", &allowed));
        assert!(host_allowed("http://127.0.0.1:8443/jwks", &allowed));
        assert!(!host_allowed("http://127.0.0.1:8444/jwks", &allowed));
        assert!(!host_allowed("http://127.0.0.1/jwks", &allowed));
        assert!(!host_allowed("https://evil.example/x", &allowed));
        assert!(!host_allowed("ftp://accounts.google.com/x", &allowed));
        assert!(!host_allowed(
            "https://user@accounts.google.com/x",
            &allowed
        ));
        assert!(!host_allowed("https://accounts.google.com/x", &[]));
    }
}
