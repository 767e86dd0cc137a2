//! The wire format between the host and the core's guest build: shared by both sides, so the
//! host's encoder and the guest's decoder are the same code.
//!
//! # Framing (version [`FRAME_VERSION`])
//! Values are [postcard](https://docs.rs/postcard) (serde's compact binary format: varint
//! integers and lengths, no field names, enum variants by index) of the core's own types, which
//! derive `Serialize`/`Deserialize`: each type and enum is defined once, in the core, and a new
//! variant needs no codec change here. Byte buffers travel as byte strings
//! ([`cognate_core::codec::bytes`], [`ByteBuf`]).
//!
//! A **request frame** is `[FRAME_VERSION][config][request]` ([`encode_request_frame`]); the
//! service configuration travels with every request because every request gets a fresh
//! instance. A **response frame** is `[FRAME_VERSION][response]`. The guest also exports
//! [`exports::ABI_VERSION`], which the host checks when it loads the module: a guest built for
//! another version is refused at start-up with an error that says so, not at the first request.
//!
//! A **port call** (a guest import, see [`imports`]) takes its arguments as one encoded tuple
//! at `(ptr, len)` in guest memory and starts the call on the host. When the answer is there at
//! once, it returns the answer's length (`>= 0`); otherwise it returns `-id` and the call stays
//! in flight while the guest polls its other futures: `call_poll(id)` returns the length once
//! the answer is there (`-1` before), and `call_wait()` suspends the guest until at least one
//! call in flight has its answer. The host holds a reported answer (`Result` or plain value,
//! per import) until the guest copies it out with `take_result(ptr)` into a buffer of that
//! length. So the core's concurrent futures (two signatures, racing writes) run concurrently on
//! the host, as they do natively.

use alloc::vec::Vec;

use serde::Serialize;
use serde::de::DeserializeOwned;

use cognate_core::{Config, Request, Response};

pub use cognate_core::ports::ByteBuf;

/// The framing version. Bump it on any change to the encoding or to a type that crosses (a new
/// field, a reordered variant). 3 was the hand-written codec; 4 is postcard, with the plugin
/// registry imports; 5 adds `Message::link` (confirmation links); 6 the outbound-HTTP port
/// ([`imports::HTTP_REQUEST`]); 7 the SAML and WebAuthn ports and `store_get_many`; 8
/// `password_breached` and `ErrorKind::PreconditionNotMet`.
pub const FRAME_VERSION: u8 = 8;

/// The guest's exports besides `memory`, `handle` and `store_contract`.
pub mod exports {
    /// `() -> i32`: the [`FRAME_VERSION`](super::FRAME_VERSION) the guest was built with.
    pub const ABI_VERSION: &str = "abi_version";
}

/// The guest's imports, all in the Wasm import module [`IMPORT_MODULE`].
pub mod imports {
    /// The Wasm import module every port lives in.
    pub const IMPORT_MODULE: &str = "cognate";
    /// `() -> i64`: milliseconds since the Unix epoch.
    pub const NOW_MILLIS: &str = "now_millis";
    /// `(ptr, len)`: fills guest memory with random bytes.
    pub const RANDOM_FILL: &str = "random_fill";
    /// `(ptr) `: copies the last port call's answer to `ptr`.
    pub const TAKE_RESULT: &str = "take_result";
    /// `(ptr, len)`: the guest's panic message, logged by the host before the trap.
    pub const PANIC: &str = "panic";
    /// `(id: i64) -> i64`: the answer's length once the port call `id` has one, else `-1`.
    pub const CALL_POLL: &str = "call_poll";
    /// `()`: returns once at least one port call in flight has its answer (at once if one has).
    pub const CALL_WAIT: &str = "call_wait";
    // Port calls: `(args ptr, args len) -> answer len, or -id while in flight`.
    /// `(key: str) -> Result<Option<Versioned>, StoreError>`
    pub const STORE_GET: &str = "store_get";
    /// `(key: str, value: bytes, expect: Expect) -> Result<u64, StoreError>`
    pub const STORE_PUT: &str = "store_put";
    /// `(key: str, expect: Expect) -> Result<(), StoreError>`
    pub const STORE_DELETE: &str = "store_delete";
    /// `(prefix: str, after: Option<str>, limit: u64) -> Result<Page, StoreError>`
    pub const STORE_SCAN: &str = "store_scan";
    /// `(keys: Vec<str>) -> Result<Vec<Option<Versioned>>, StoreError>`
    pub const STORE_GET_MANY: &str = "store_get_many";
    /// `(alg: JwsAlgorithm) -> Result<GeneratedKey, Error>`
    pub const JWS_GENERATE: &str = "jws_generate";
    /// `(alg, kid: str, private key: str, input: bytes) -> Result<bytes, Error>`
    pub const JWS_SIGN: &str = "jws_sign";
    /// `(alg, kid: str, modulus: bytes, exponent: bytes, input: bytes, signature: bytes)
    /// -> Result<bool, Error>`
    pub const JWS_VERIFY: &str = "jws_verify";
    /// `(password: str, salt: bytes(16), params: HashParams) -> Result<str, Error>`
    pub const PASSWORD_HASH: &str = "password_hash";
    /// `(password: str, phc: str, params: HashParams) -> Result<PasswordCheck, Error>`
    pub const PASSWORD_VERIFY: &str = "password_verify";
    /// `(password: str) -> bool`: whether the password is in the operator's breached list
    pub const PASSWORD_BREACHED: &str = "password_breached";
    /// `(pool name: str, user id: str, password: str, salt: bytes(16)) -> srp::Verifier`
    pub const SRP_VERIFIER: &str = "srp_verifier";
    /// `(v: str, b: bytes(32)) -> Result<srp::ServerHello, srp::SrpError>`
    pub const SRP_SERVER_HELLO: &str = "srp_server_hello";
    /// `(A: str, hello: srp::ServerHello, v: str) -> Result<bytes(16), srp::SrpError>`
    pub const SRP_SERVER_KEY: &str = "srp_server_key";
    /// `(message: Message) -> Result<(), Error>`
    pub const SEND: &str = "send";
    /// `(pool id: str, request: DeliveryRequest) -> Result<(), Error>`
    pub const DELIVER: &str = "deliver";
    /// `(plugin: str, event: bytes) -> Result<bytes, InvocationError>`
    pub const TRIGGER_INVOKE: &str = "trigger_invoke";
    /// `(name: Option<str>, module: bytes) -> Result<PluginInfo, RegistryError>`
    pub const PLUGINS_REGISTER: &str = "plugins_register";
    /// `() -> Result<Vec<PluginInfo>, RegistryError>`
    pub const PLUGINS_LIST: &str = "plugins_list";
    /// `(reference: str) -> Result<bool, RegistryError>`
    pub const PLUGINS_DELETE: &str = "plugins_delete";
    /// `(form: str) -> Result<StsAnswer, Error>`
    pub const STS_POST: &str = "sts_post";
    /// `(request: HttpRequest) -> Result<HttpResponse, Error>`
    pub const HTTP_REQUEST: &str = "http_request";
    /// `(metadata xml: str) -> Result<saml::IdpMetadata, saml::SamlError>`
    pub const SAML_METADATA: &str = "saml_metadata";
    /// `(SAMLResponse: str, metadata xml: str) -> Result<saml::SignedAssertion, saml::SamlError>`
    pub const SAML_VERIFY: &str = "saml_verify";
    /// `(signed query: str) -> Result<String, saml::SamlError>`
    pub const SAML_SIGN_REDIRECT: &str = "saml_sign_redirect";
    /// `(SAMLResponse: str, metadata xml: str) -> Result<saml::LogoutResponse, saml::SamlError>`
    pub const SAML_LOGOUT_RESPONSE: &str = "saml_logout_response";
    /// `(check: RegistrationCheck) -> Result<VerifiedPasskey, WebAuthnRefusal>`
    pub const WEBAUTHN_REGISTER: &str = "webauthn_register";
    /// `(check: AssertionCheck) -> Result<VerifiedAssertion, WebAuthnRefusal>`
    pub const WEBAUTHN_ASSERT: &str = "webauthn_assert";
    /// Every import taking `(args ptr, args len) -> answer len or -id`.
    pub const PORT_CALLS: [&str; 27] = [
        STORE_GET,
        STORE_PUT,
        STORE_DELETE,
        STORE_SCAN,
        STORE_GET_MANY,
        JWS_GENERATE,
        JWS_SIGN,
        JWS_VERIFY,
        PASSWORD_HASH,
        PASSWORD_VERIFY,
        SRP_VERIFIER,
        SRP_SERVER_HELLO,
        SRP_SERVER_KEY,
        SEND,
        DELIVER,
        TRIGGER_INVOKE,
        PLUGINS_REGISTER,
        PLUGINS_LIST,
        PLUGINS_DELETE,
        STS_POST,
        HTTP_REQUEST,
        SAML_METADATA,
        SAML_VERIFY,
        SAML_SIGN_REDIRECT,
        SAML_LOGOUT_RESPONSE,
        WEBAUTHN_REGISTER,
        WEBAUTHN_ASSERT,
    ];
}

/// Bytes that do not decode as what they should be: a host/guest mismatch or a bug.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecodeError(pub alloc::string::String);

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "malformed frame: {}", self.0)
    }
}

impl From<postcard::Error> for DecodeError {
    fn from(e: postcard::Error) -> Self {
        Self(alloc::format!("{e}"))
    }
}

/// A value with a wire encoding: anything serde can write and read back owned.
pub trait Wire: Serialize + DeserializeOwned {}
impl<T: Serialize + DeserializeOwned> Wire for T {}

/// Encodes one value. The core's types always encode (no maps with non-string keys, no
/// unsized sequences); a failure would be a bug and yields an empty buffer, which then fails
/// to decode on the other side.
pub fn encode<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    postcard::to_allocvec(value).unwrap_or_default()
}

/// Decodes one value that must fill `bytes` exactly.
pub fn decode<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let (value, rest) = postcard::take_from_bytes(bytes)?;
    end(rest)?;
    Ok(value)
}

fn end(rest: &[u8]) -> Result<(), DecodeError> {
    if rest.is_empty() {
        Ok(())
    } else {
        Err(DecodeError("trailing bytes".into()))
    }
}

/// The configuration part of a request frame: encoded once by the host, copied into every
/// request frame.
pub fn encode_config(config: &Config) -> Vec<u8> {
    encode(config)
}

/// `[FRAME_VERSION][config][request]`; `config` from [`encode_config`].
pub fn encode_request_frame(config: &[u8], request: &Request) -> Vec<u8> {
    let mut frame = Vec::with_capacity(
        1 + config.len()
            + 64
            + request.path.len()
            + request.query.len()
            + request.body.len()
            + request
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 4)
                .sum::<usize>(),
    );
    frame.push(FRAME_VERSION);
    frame.extend_from_slice(config);
    postcard::to_extend(request, frame).unwrap_or_default()
}

fn check_version(frame: &[u8]) -> Result<&[u8], DecodeError> {
    match frame.split_first() {
        Some((&FRAME_VERSION, rest)) => Ok(rest),
        Some((other, _)) => Err(DecodeError(alloc::format!(
            "unsupported frame version {other} (this side speaks {FRAME_VERSION}): the host and \
             the guest were built from different sources"
        ))),
        None => Err(DecodeError("empty frame".into())),
    }
}

pub fn decode_request_frame(frame: &[u8]) -> Result<(Config, Request), DecodeError> {
    let rest = check_version(frame)?;
    let (config, rest) = postcard::take_from_bytes(rest)?;
    let (request, rest) = postcard::take_from_bytes(rest)?;
    end(rest)?;
    Ok((config, request))
}

/// `[FRAME_VERSION][response]`.
pub fn encode_response_frame(response: &Response) -> Vec<u8> {
    let mut frame = Vec::with_capacity(64 + response.body.len());
    frame.push(FRAME_VERSION);
    postcard::to_extend(response, frame).unwrap_or_default()
}

pub fn decode_response_frame(frame: &[u8]) -> Result<Response, DecodeError> {
    decode(check_version(frame)?)
}

/// Refuses a guest built for another ABI version; `exported` is what its [`exports::ABI_VERSION`]
/// returned, `None` when it has no such export (a guest from before version 4).
pub fn check_guest_version(exported: Option<i32>) -> Result<(), alloc::string::String> {
    match exported {
        Some(v) if v == i32::from(FRAME_VERSION) => Ok(()),
        Some(v) => Err(alloc::format!(
            "the core's Wasm guest speaks ABI version {v}, this host speaks {FRAME_VERSION}: \
             rebuild the guest with this host (cargo build -p cognate-host)"
        )),
        None => Err(alloc::format!(
            "the core's Wasm guest exports no `{}`: it predates ABI version {FRAME_VERSION} \
             (the hand-written codec of version 3); rebuild it with this host",
            exports::ABI_VERSION
        )),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use alloc::collections::BTreeMap;
    use alloc::string::String;
    use alloc::vec;
    use cognate_core::error::{Error, ErrorKind};
    use cognate_core::ports::{
        DeliveryRequest, HashParams, InvocationError, Medium, Message, PluginInfo, RegistryError,
    };
    use cognate_core::{Expect, Page, Secret, StoreError, Versioned};

    fn round_trip<T: Wire + core::fmt::Debug>(value: T) -> T {
        let bytes = encode(&value);
        decode(&bytes).unwrap()
    }

    #[test]
    fn request_frames_round_trip_with_their_config() {
        let config = Config::new("http://h.example/", "eu-west-1").with_admin_key("AK", "SK");
        let request = Request::new("POST", "/")
            .with_header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
            .with_body(b"{\"AccessToken\":\"t\"}".to_vec());
        let mut request = request;
        request.query = "a=b".into();
        request.remote_addr = Some("127.0.0.1".into());
        let frame = encode_request_frame(&encode_config(&config), &request);
        let (c, r) = decode_request_frame(&frame).unwrap();
        assert_eq!(c.base_url, "http://h.example");
        assert_eq!(c.default_region, "eu-west-1");
        assert_eq!(c.admin_keys.len(), 1);
        assert!(c.admin_keys[0].secret_access_key.ct_eq("SK"));
        assert_eq!(r.method, "POST");
        assert_eq!(r.query, "a=b");
        assert_eq!(r.headers, request.headers);
        assert_eq!(r.body, request.body);
        assert_eq!(r.remote_addr.as_deref(), Some("127.0.0.1"));
    }

    #[test]
    fn response_frames_round_trip() {
        let response = Response::json(400, "application/json", b"{}".to_vec())
            .with_header("x-amzn-errortype", "NotAuthorizedException");
        let back = decode_response_frame(&encode_response_frame(&response)).unwrap();
        assert_eq!(back.status, 400);
        assert_eq!(back.headers, response.headers);
        assert_eq!(back.body, b"{}");
    }

    #[test]
    fn a_frame_of_another_version_or_truncated_is_refused() {
        let mut frame = encode_response_frame(&Response::new(200));
        frame[0] = FRAME_VERSION - 1;
        let e = decode_response_frame(&frame).unwrap_err().to_string();
        let expected = alloc::format!(
            "unsupported frame version {} (this side speaks {FRAME_VERSION})",
            FRAME_VERSION - 1
        );
        assert!(e.contains(&expected), "{e}");
        let frame = encode_request_frame(
            &encode_config(&Config::new("http://x", "us-east-1")),
            &Request::new("GET", "/health"),
        );
        for cut in 0..frame.len() {
            assert!(decode_request_frame(&frame[..cut]).is_err(), "cut at {cut}");
        }
        let mut long = frame.clone();
        long.push(0);
        assert_eq!(
            decode_request_frame(&long).unwrap_err(),
            DecodeError("trailing bytes".into())
        );
    }

    #[test]
    fn a_stale_guest_is_refused_with_a_clear_error() {
        assert!(check_guest_version(Some(i32::from(FRAME_VERSION))).is_ok());
        let stale = i32::from(FRAME_VERSION) - 1;
        let e = check_guest_version(Some(stale)).unwrap_err();
        let expected = alloc::format!("ABI version {stale}, this host speaks {FRAME_VERSION}");
        assert!(e.contains(&expected), "{e}");
        let e = check_guest_version(None).unwrap_err();
        assert!(e.contains("exports no `abi_version`"), "{e}");
    }

    #[test]
    fn a_huge_count_is_refused_without_allocating() {
        // A varint count of u32::MAX items, then nothing.
        assert!(decode::<Page>(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
        assert!(decode::<Vec<u8>>(&[0xff, 0xff, 0xff, 0xff, 0x0f]).is_err());
    }

    #[test]
    fn every_error_kind_keeps_its_identity() {
        // Every kind, by its wire name: the serde derive on the core's enum is the only list.
        let mut index = 0u32;
        while let Ok((kind, _)) = postcard::take_from_bytes::<ErrorKind>(&encode(&index)) {
            assert_eq!(round_trip(kind), kind);
            assert_eq!(encode(&kind), encode(&index));
            index += 1;
        }
        assert!(index >= 33, "{index} kinds");
        let e = round_trip(Error::new(ErrorKind::CodeMismatch, "nope"));
        assert_eq!(
            (e.kind, e.message.as_str()),
            (ErrorKind::CodeMismatch, "nope")
        );
    }

    #[test]
    fn port_values_round_trip() {
        let page = Page {
            items: vec![(
                "k".into(),
                Versioned {
                    value: vec![0, 1, 255],
                    version: 7,
                },
            )],
            next: Some("k".into()),
        };
        assert_eq!(round_trip(page.clone()), page);
        for expect in [Expect::Any, Expect::Absent, Expect::Version(u64::MAX)] {
            assert_eq!(round_trip(expect), expect);
        }
        let errors = [
            StoreError::Conflict,
            StoreError::TooLarge,
            StoreError::Unavailable("disk".into()),
        ];
        for e in errors {
            assert_eq!(round_trip(e.clone()), e);
        }
        let r: Result<Option<Versioned>, StoreError> = Ok(None);
        assert_eq!(round_trip(r.clone()), r);
        for e in [
            InvocationError::NotFound,
            InvocationError::MissingExport("m".into()),
            InvocationError::Trap("t".into()),
            InvocationError::Timeout,
            InvocationError::OutOfMemory,
            InvocationError::BadOutput("b".into()),
            InvocationError::OutputTooLarge,
            InvocationError::Unavailable("u".into()),
        ] {
            assert_eq!(round_trip(e.clone()), e);
        }
        let mut headers = BTreeMap::new();
        headers.insert("h".into(), "v".into());
        let delivery = DeliveryRequest {
            method: "POST".into(),
            url: "https://mail.example.com/x".into(),
            headers,
            body: "b".into(),
        };
        assert_eq!(round_trip(delivery.clone()), delivery);
        let params = HashParams::default();
        assert_eq!(round_trip(params), params);
        let info = PluginInfo {
            names: vec!["n".into()],
            sha256: "ab".into(),
            reference: "sha256:ab".into(),
            size: 7,
            problem: Some("p".into()),
        };
        let answer: Result<Vec<PluginInfo>, RegistryError> = Ok(vec![info]);
        assert_eq!(round_trip(answer.clone()), answer);
        for e in [
            RegistryError::Refused("r".into()),
            RegistryError::Failed("f".into()),
            RegistryError::Unsupported,
        ] {
            assert_eq!(round_trip(e.clone()), e);
        }
        let bytes = ByteBuf(vec![0, 1, 2, 255]);
        assert_eq!(round_trip(bytes.clone()), bytes);
        // One length byte, then the bytes as they are.
        assert_eq!(encode(&bytes), [4, 0, 1, 2, 255]);
        let args = (String::from("pw"), [9u8; 16], params);
        let (pw, salt, p) = round_trip(args);
        assert_eq!((pw.as_str(), salt, p), ("pw", [9u8; 16], params));
        let message = Message {
            pool_id: "p".into(),
            username: "u".into(),
            medium: Medium::Sms,
            destination: "+1".into(),
            purpose: "SignUp".into(),
            subject: "s".into(),
            body: "b".into(),
            html: true,
            code: Secret::new("123456"),
            link: Some("https://auth.example/confirmUser?x=1".into()),
            route: cognate_core::delivery::Route::Sns(cognate_core::delivery::SnsRoute {
                caller_arn: "arn:aws:iam::123456789012:role/sns".into(),
                region: "eu-west-1".into(),
                external_id: None,
            }),
        };
        let route = message.route.clone();
        // The outbox's JSON keeps the route's tagged form.
        let json = serde_json::to_value(&message).unwrap();
        assert_eq!(json["route"]["transport"], "SNS");
        let back = round_trip(message);
        assert_eq!(back.route, route);
        assert!(back.html);
        assert_eq!(back.medium, Medium::Sms);
        assert!(back.code.ct_eq("123456"));
    }
}

/// Property tests of the frames between host and guest (issue 24): whatever bytes arrive, a
/// decoder answers a value or an error, never a panic; a frame cut or flipped anywhere is
/// either refused or decodes to something (the guest and host are built from one source, so a
/// corrupted frame is a bug, but it must not crash either side).
#[cfg(test)]
mod properties {
    #![allow(clippy::unwrap_used)]

    use proptest::prelude::*;

    use super::*;

    fn cases() -> u32 {
        std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(500)
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(cases()))]

        #[test]
        fn arbitrary_bytes_never_panic_a_decoder(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
            let _ = decode_request_frame(&bytes);
            let _ = decode_response_frame(&bytes);
            let _ = decode::<Request>(&bytes);
            let _ = decode::<Response>(&bytes);
            let _ = decode::<cognate_core::error::Error>(&bytes);
        }

        #[test]
        fn a_request_frame_flipped_anywhere_never_panics(
            path in "/[a-z0-9/._-]{0,40}",
            body in prop::collection::vec(any::<u8>(), 0..200),
            at in any::<prop::sample::Index>(),
            bit in 0u8..8,
        ) {
            let request = Request::new("POST", &path)
                .with_header("x-amz-target", "AWSCognitoIdentityProviderService.GetUser")
                .with_body(body);
            let mut frame = encode_request_frame(
                &encode_config(&Config::new("http://h.example", "us-east-1")),
                &request,
            );
            let (_, back) = decode_request_frame(&frame).unwrap();
            prop_assert_eq!(&back.path, &path);
            let i = at.index(frame.len());
            if let Some(byte) = frame.get_mut(i) {
                *byte ^= 1 << bit;
            }
            let _ = decode_request_frame(&frame);
        }
    }
}
