//! The wire format between the host and the core's guest build: shared by both sides, so the
//! host's encoder and the guest's decoder are the same code.
//!
//! # Framing (version [`FRAME_VERSION`])
//! Everything is a compact binary encoding, little-endian, with no field names:
//! - integers: fixed width (`u8`, `u16`, `u32`, `u64`);
//! - byte strings and UTF-8 strings: a `u32` length, then the bytes;
//! - `Option<T>`: a `u8` tag (0 none, 1 some) then `T`; `Result<T, E>`: a `u8` tag (0 ok, 1 err)
//!   then `T` or `E`; lists: a `u32` count, then the items; enums: a `u8` tag (see each impl);
//! - structs: their fields in declaration order.
//!
//! A **request frame** is `[FRAME_VERSION][config][request]` ([`encode_request_frame`]); the
//! service configuration travels with every request because every request gets a fresh
//! instance. A **response frame** is `[FRAME_VERSION][status u16][headers][body]`.
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
//!
//! Why not serde (JSON or postcard)? The core's port types do not derive `Serialize`, JSON would
//! add a parse per call, and this format is a few lines per type with no dependency; a version
//! byte on every frame makes a host/guest mismatch an error, not garbage.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use cognate_core::delivery::{Route, SesRoute, SnsRoute};
use cognate_core::error::{Error, ErrorKind};
use cognate_core::ports::{
    DeliveryRequest, GeneratedKey, HashParams, InvocationError, JwsAlgorithm, Medium, Message,
    PasswordCheck,
};
use cognate_core::service::AdminKey;
use cognate_core::{Config, Expect, Page, Request, Response, Secret, StoreError, Versioned};

/// The framing version. Bump it on any change to an encoding below.
pub const FRAME_VERSION: u8 = 3;

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
    /// `(message: Message) -> Result<(), Error>`
    pub const SEND: &str = "send";
    /// `(pool id: str, request: DeliveryRequest) -> Result<(), Error>`
    pub const DELIVER: &str = "deliver";
    /// `(plugin: str, event: bytes) -> Result<bytes, InvocationError>`
    pub const TRIGGER_INVOKE: &str = "trigger_invoke";
    /// Every import taking `(args ptr, args len) -> answer len or -id`.
    pub const PORT_CALLS: [&str; 12] = [
        STORE_GET,
        STORE_PUT,
        STORE_DELETE,
        STORE_SCAN,
        JWS_GENERATE,
        JWS_SIGN,
        JWS_VERIFY,
        PASSWORD_HASH,
        PASSWORD_VERIFY,
        SEND,
        DELIVER,
        TRIGGER_INVOKE,
    ];
}

/// Bytes that do not decode as what they should be: a host/guest mismatch or a bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeError(pub &'static str);

impl core::fmt::Display for DecodeError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "malformed frame: {}", self.0)
    }
}

/// Appends encoded values to a buffer.
#[derive(Debug, Default)]
pub struct Writer {
    buf: Vec<u8>,
}

impl Writer {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            buf: Vec::with_capacity(capacity),
        }
    }
    pub fn u8(&mut self, v: u8) {
        self.buf.push(v);
    }
    pub fn u16(&mut self, v: u16) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u32(&mut self, v: u32) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    pub fn u64(&mut self, v: u64) {
        self.buf.extend_from_slice(&v.to_le_bytes());
    }
    /// A length or count. Nothing in a frame comes near 4 GiB (requests are capped at 1 MiB,
    /// store values at 400 KiB); a larger one saturates and fails to decode.
    pub fn count(&mut self, n: usize) {
        self.u32(u32::try_from(n).unwrap_or(u32::MAX));
    }
    pub fn bytes(&mut self, v: &[u8]) {
        self.count(v.len());
        self.buf.extend_from_slice(v);
    }
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }
    pub fn put<T: Wire>(&mut self, v: &T) {
        v.encode(self);
    }
    pub fn finish(self) -> Vec<u8> {
        self.buf
    }
}

/// Reads encoded values from a buffer.
#[derive(Debug)]
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let (head, tail) = self
            .buf
            .split_at_checked(n)
            .ok_or(DecodeError("truncated"))?;
        self.buf = tail;
        Ok(head)
    }
    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        let mut out = [0u8; N];
        out.copy_from_slice(self.take(N)?);
        Ok(out)
    }
    pub fn u8(&mut self) -> Result<u8, DecodeError> {
        Ok(u8::from_le_bytes(self.array()?))
    }
    pub fn u16(&mut self) -> Result<u16, DecodeError> {
        Ok(u16::from_le_bytes(self.array()?))
    }
    pub fn u32(&mut self) -> Result<u32, DecodeError> {
        Ok(u32::from_le_bytes(self.array()?))
    }
    pub fn u64(&mut self) -> Result<u64, DecodeError> {
        Ok(u64::from_le_bytes(self.array()?))
    }
    pub fn count(&mut self) -> Result<usize, DecodeError> {
        let n = usize::try_from(self.u32()?).map_err(|_| DecodeError("length"))?;
        // Every item takes at least one byte: a count past the rest is corrupt, and checking
        // here keeps a corrupt count from reserving gigabytes.
        if n > self.buf.len() {
            return Err(DecodeError("length past the end"));
        }
        Ok(n)
    }
    pub fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let n = self.count()?;
        self.take(n)
    }
    pub fn str(&mut self) -> Result<&'a str, DecodeError> {
        core::str::from_utf8(self.bytes()?).map_err(|_| DecodeError("not UTF-8"))
    }
    pub fn get<T: Wire>(&mut self) -> Result<T, DecodeError> {
        T::decode(self)
    }
    /// Fails unless everything was read.
    pub fn end(&self) -> Result<(), DecodeError> {
        if self.buf.is_empty() {
            Ok(())
        } else {
            Err(DecodeError("trailing bytes"))
        }
    }
}

/// A value with a wire encoding.
pub trait Wire: Sized {
    fn encode(&self, w: &mut Writer);
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError>;
}

/// Encodes one value.
pub fn encode<T: Wire>(value: &T) -> Vec<u8> {
    let mut w = Writer::with_capacity(64);
    value.encode(&mut w);
    w.finish()
}

/// Decodes one value that must fill `bytes` exactly.
pub fn decode<T: Wire>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut r = Reader::new(bytes);
    let value = T::decode(&mut r)?;
    r.end()?;
    Ok(value)
}

fn list<T>(
    r: &mut Reader<'_>,
    mut item: impl FnMut(&mut Reader<'_>) -> Result<T, DecodeError>,
) -> Result<Vec<T>, DecodeError> {
    let n = r.count()?;
    let mut out = Vec::with_capacity(n);
    for _ in 0..n {
        out.push(item(r)?);
    }
    Ok(out)
}

macro_rules! wire_int {
    ($($t:ident),*) => {$(
        impl Wire for $t {
            fn encode(&self, w: &mut Writer) {
                w.$t(*self);
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                r.$t()
            }
        }
    )*};
}
wire_int!(u8, u16, u32, u64);

impl Wire for bool {
    fn encode(&self, w: &mut Writer) {
        w.u8(u8::from(*self));
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(DecodeError("bool")),
        }
    }
}

impl Wire for () {
    fn encode(&self, _w: &mut Writer) {}
    fn decode(_r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(())
    }
}

impl Wire for String {
    fn encode(&self, w: &mut Writer) {
        w.str(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.str().map(String::from)
    }
}

impl Wire for Vec<u8> {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.bytes().map(<[u8]>::to_vec)
    }
}

impl Wire for [u8; 16] {
    fn encode(&self, w: &mut Writer) {
        w.bytes(self);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.bytes()?
            .try_into()
            .map_err(|_| DecodeError("expected 16 bytes"))
    }
}

impl Wire for Secret {
    fn encode(&self, w: &mut Writer) {
        w.str(self.expose());
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        r.str().map(Secret::new)
    }
}

impl<T: Wire> Wire for Option<T> {
    fn encode(&self, w: &mut Writer) {
        match self {
            None => w.u8(0),
            Some(v) => {
                w.u8(1);
                v.encode(w);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(None),
            1 => T::decode(r).map(Some),
            _ => Err(DecodeError("option tag")),
        }
    }
}

impl<T: Wire, E: Wire> Wire for Result<T, E> {
    fn encode(&self, w: &mut Writer) {
        match self {
            Ok(v) => {
                w.u8(0);
                v.encode(w);
            }
            Err(e) => {
                w.u8(1);
                e.encode(w);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => T::decode(r).map(Ok),
            1 => E::decode(r).map(Err),
            _ => Err(DecodeError("result tag")),
        }
    }
}

macro_rules! wire_tuple {
    ($($name:ident),+) => {
        impl<$($name: Wire),+> Wire for ($($name,)+) {
            #[allow(non_snake_case)]
            fn encode(&self, w: &mut Writer) {
                let ($($name,)+) = self;
                $($name.encode(w);)+
            }
            fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
                Ok(($($name::decode(r)?,)+))
            }
        }
    };
}
wire_tuple!(A);
wire_tuple!(A, B);
wire_tuple!(A, B, C);
wire_tuple!(A, B, C, D);
wire_tuple!(A, B, C, D, E, F);

// ---------------------------------------------------------------------------------------------
// The core's types

impl Wire for Versioned {
    fn encode(&self, w: &mut Writer) {
        w.u64(self.version);
        w.bytes(&self.value);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u64()?;
        let value = r.bytes()?.to_vec();
        Ok(Self { value, version })
    }
}

impl Wire for Expect {
    /// 0 any, 1 absent, 2 version.
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Any => w.u8(0),
            Self::Absent => w.u8(1),
            Self::Version(v) => {
                w.u8(2);
                w.u64(*v);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Any),
            1 => Ok(Self::Absent),
            2 => r.u64().map(Self::Version),
            _ => Err(DecodeError("expect tag")),
        }
    }
}

impl Wire for Page {
    fn encode(&self, w: &mut Writer) {
        w.count(self.items.len());
        for (key, item) in &self.items {
            w.str(key);
            item.encode(w);
        }
        self.next.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let items = list(r, |r| Ok((r.get::<String>()?, r.get::<Versioned>()?)))?;
        let next = r.get()?;
        Ok(Self { items, next })
    }
}

impl Wire for StoreError {
    /// 0 conflict, 1 too large, 2 unavailable.
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Conflict => w.u8(0),
            Self::TooLarge => w.u8(1),
            Self::Unavailable(why) => {
                w.u8(2);
                w.str(why);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Conflict),
            1 => Ok(Self::TooLarge),
            2 => r.get().map(Self::Unavailable),
            _ => Err(DecodeError("store error tag")),
        }
    }
}

/// Every [`ErrorKind`], in tag order: the tag is the index. The exhaustive match in
/// [`kind_tag`] makes a new core variant a compile error here until it has a tag.
const ERROR_KINDS: [ErrorKind; 33] = [
    ErrorKind::Serialization,
    ErrorKind::UnknownOperation,
    ErrorKind::InvalidParameter,
    ErrorKind::UnrecognizedClient,
    ErrorKind::InvalidSignature,
    ErrorKind::NotAuthorized,
    ErrorKind::UserNotFound,
    ErrorKind::UserNotConfirmed,
    ErrorKind::UsernameExists,
    ErrorKind::AliasExists,
    ErrorKind::InvalidPassword,
    ErrorKind::CodeMismatch,
    ErrorKind::ExpiredCode,
    ErrorKind::TooManyFailedAttempts,
    ErrorKind::LimitExceeded,
    ErrorKind::TooManyRequests,
    ErrorKind::GroupExists,
    ErrorKind::RefreshTokenReuse,
    ErrorKind::UnsupportedTokenType,
    ErrorKind::Unauthorized,
    ErrorKind::UnsupportedOperation,
    ErrorKind::UnsupportedUserState,
    ErrorKind::ResourceNotFound,
    ErrorKind::PasswordResetRequired,
    ErrorKind::InvalidUserPoolConfiguration,
    ErrorKind::UnsupportedMediaType,
    ErrorKind::RequestTooLarge,
    ErrorKind::ScopeDoesNotExist,
    ErrorKind::Internal,
    ErrorKind::UserLambdaValidation,
    ErrorKind::UnexpectedLambda,
    ErrorKind::InvalidLambdaResponse,
    ErrorKind::CodeDeliveryFailure,
];

fn kind_tag(kind: ErrorKind) -> u8 {
    use ErrorKind as K;
    match kind {
        K::Serialization => 0,
        K::UnknownOperation => 1,
        K::InvalidParameter => 2,
        K::UnrecognizedClient => 3,
        K::InvalidSignature => 4,
        K::NotAuthorized => 5,
        K::UserNotFound => 6,
        K::UserNotConfirmed => 7,
        K::UsernameExists => 8,
        K::AliasExists => 9,
        K::InvalidPassword => 10,
        K::CodeMismatch => 11,
        K::ExpiredCode => 12,
        K::TooManyFailedAttempts => 13,
        K::LimitExceeded => 14,
        K::TooManyRequests => 15,
        K::GroupExists => 16,
        K::RefreshTokenReuse => 17,
        K::UnsupportedTokenType => 18,
        K::Unauthorized => 19,
        K::UnsupportedOperation => 20,
        K::UnsupportedUserState => 21,
        K::ResourceNotFound => 22,
        K::PasswordResetRequired => 23,
        K::InvalidUserPoolConfiguration => 24,
        K::UnsupportedMediaType => 25,
        K::RequestTooLarge => 26,
        K::ScopeDoesNotExist => 27,
        K::Internal => 28,
        K::UserLambdaValidation => 29,
        K::UnexpectedLambda => 30,
        K::InvalidLambdaResponse => 31,
        K::CodeDeliveryFailure => 32,
    }
}

impl Wire for ErrorKind {
    fn encode(&self, w: &mut Writer) {
        w.u8(kind_tag(*self));
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        ERROR_KINDS
            .get(usize::from(r.u8()?))
            .copied()
            .ok_or(DecodeError("error kind tag"))
    }
}

impl Wire for Error {
    fn encode(&self, w: &mut Writer) {
        self.kind.encode(w);
        w.str(&self.message);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let kind = r.get()?;
        let message: String = r.get()?;
        Ok(Error::new(kind, message))
    }
}

impl Wire for JwsAlgorithm {
    /// 0 RS256.
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::RS256 => w.u8(0),
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::RS256),
            _ => Err(DecodeError("JWS algorithm tag")),
        }
    }
}

impl Wire for GeneratedKey {
    fn encode(&self, w: &mut Writer) {
        self.private_pkcs8_der.encode(w);
        w.bytes(&self.modulus);
        w.bytes(&self.exponent);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            private_pkcs8_der: r.get()?,
            modulus: r.get()?,
            exponent: r.get()?,
        })
    }
}

impl Wire for HashParams {
    fn encode(&self, w: &mut Writer) {
        w.u32(self.memory_kib);
        w.u32(self.iterations);
        w.u32(self.parallelism);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            memory_kib: r.u32()?,
            iterations: r.u32()?,
            parallelism: r.u32()?,
        })
    }
}

impl Wire for PasswordCheck {
    /// 0 mismatch, 1 match, 2 match needing a rehash.
    fn encode(&self, w: &mut Writer) {
        w.u8(match self {
            Self::Mismatch => 0,
            Self::Match => 1,
            Self::MatchNeedsRehash => 2,
        });
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Mismatch),
            1 => Ok(Self::Match),
            2 => Ok(Self::MatchNeedsRehash),
            _ => Err(DecodeError("password check tag")),
        }
    }
}

impl Wire for Medium {
    /// 0 email, 1 SMS.
    fn encode(&self, w: &mut Writer) {
        w.u8(match self {
            Self::Email => 0,
            Self::Sms => 1,
        });
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Email),
            1 => Ok(Self::Sms),
            _ => Err(DecodeError("medium tag")),
        }
    }
}

impl Wire for Message {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.pool_id);
        w.str(&self.username);
        self.medium.encode(w);
        w.str(&self.destination);
        w.str(&self.purpose);
        w.str(&self.subject);
        w.str(&self.body);
        self.html.encode(w);
        self.code.encode(w);
        self.route.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            pool_id: r.get()?,
            username: r.get()?,
            medium: r.get()?,
            destination: r.get()?,
            purpose: r.get()?,
            subject: r.get()?,
            body: r.get()?,
            html: r.get()?,
            code: r.get()?,
            route: r.get()?,
        })
    }
}

impl Wire for Route {
    /// 0 the server's transport (reply-to); 1 SES (source ARN, region, from, reply-to,
    /// configuration set); 2 SNS (caller ARN, region, external id).
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::Server { reply_to } => {
                w.u8(0);
                reply_to.encode(w);
            }
            Self::Ses(ses) => {
                w.u8(1);
                w.str(&ses.source_arn);
                w.str(&ses.region);
                w.str(&ses.from);
                ses.reply_to.encode(w);
                ses.configuration_set.encode(w);
            }
            Self::Sns(sns) => {
                w.u8(2);
                w.str(&sns.caller_arn);
                w.str(&sns.region);
                sns.external_id.encode(w);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        match r.u8()? {
            0 => Ok(Self::Server { reply_to: r.get()? }),
            1 => Ok(Self::Ses(SesRoute {
                source_arn: r.get()?,
                region: r.get()?,
                from: r.get()?,
                reply_to: r.get()?,
                configuration_set: r.get()?,
            })),
            2 => Ok(Self::Sns(SnsRoute {
                caller_arn: r.get()?,
                region: r.get()?,
                external_id: r.get()?,
            })),
            _ => Err(DecodeError("route tag")),
        }
    }
}

impl Wire for DeliveryRequest {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.method);
        w.str(&self.url);
        w.count(self.headers.len());
        for (name, value) in &self.headers {
            w.str(name);
            w.str(value);
        }
        w.str(&self.body);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let method = r.get()?;
        let url = r.get()?;
        let headers: BTreeMap<String, String> =
            list(r, |r| Ok((r.get()?, r.get()?)))?.into_iter().collect();
        let body = r.get()?;
        Ok(Self {
            method,
            url,
            headers,
            body,
        })
    }
}

impl Wire for InvocationError {
    /// 0 not found, 1 missing export, 2 trap, 3 timeout, 4 out of memory, 5 bad output,
    /// 6 output too large, 7 unavailable.
    fn encode(&self, w: &mut Writer) {
        match self {
            Self::NotFound => w.u8(0),
            Self::MissingExport(m) => {
                w.u8(1);
                w.str(m);
            }
            Self::Trap(m) => {
                w.u8(2);
                w.str(m);
            }
            Self::Timeout => w.u8(3),
            Self::OutOfMemory => w.u8(4),
            Self::BadOutput(m) => {
                w.u8(5);
                w.str(m);
            }
            Self::OutputTooLarge => w.u8(6),
            Self::Unavailable(m) => {
                w.u8(7);
                w.str(m);
            }
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(match r.u8()? {
            0 => Self::NotFound,
            1 => Self::MissingExport(r.get()?),
            2 => Self::Trap(r.get()?),
            3 => Self::Timeout,
            4 => Self::OutOfMemory,
            5 => Self::BadOutput(r.get()?),
            6 => Self::OutputTooLarge,
            7 => Self::Unavailable(r.get()?),
            _ => return Err(DecodeError("invocation error tag")),
        })
    }
}

fn encode_headers(w: &mut Writer, headers: &[(String, String)]) {
    w.count(headers.len());
    for (name, value) in headers {
        w.str(name);
        w.str(value);
    }
}

fn decode_headers(r: &mut Reader<'_>) -> Result<Vec<(String, String)>, DecodeError> {
    list(r, |r| Ok((r.get()?, r.get()?)))
}

impl Wire for Config {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.base_url);
        w.str(&self.default_region);
        w.u64(self.hosted_ui_session_seconds);
        w.count(self.admin_keys.len());
        for key in &self.admin_keys {
            w.str(&key.access_key_id);
            key.secret_access_key.encode(w);
        }
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        // `Config::new` normalises the base URL exactly as the host's did.
        let mut config = Config::new(r.str()?, r.str()?);
        config.hosted_ui_session_seconds = r.u64()?;
        config.admin_keys = list(r, |r| {
            Ok(AdminKey {
                access_key_id: r.get()?,
                secret_access_key: r.get()?,
            })
        })?;
        Ok(config)
    }
}

impl Wire for Request {
    fn encode(&self, w: &mut Writer) {
        w.str(&self.method);
        w.str(&self.path);
        w.str(&self.query);
        encode_headers(w, &self.headers);
        w.bytes(&self.body);
        self.remote_addr.encode(w);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            method: r.get()?,
            path: r.get()?,
            query: r.get()?,
            headers: decode_headers(r)?,
            body: r.get()?,
            remote_addr: r.get()?,
        })
    }
}

impl Wire for Response {
    fn encode(&self, w: &mut Writer) {
        w.u16(self.status);
        encode_headers(w, &self.headers);
        w.bytes(&self.body);
    }
    fn decode(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(Self {
            status: r.u16()?,
            headers: decode_headers(r)?,
            body: r.get()?,
        })
    }
}

/// The configuration part of a request frame: encoded once by the host, copied into every
/// request frame.
pub fn encode_config(config: &Config) -> Vec<u8> {
    encode(config)
}

/// `[FRAME_VERSION][config][request]`; `config` from [`encode_config`].
pub fn encode_request_frame(config: &[u8], request: &Request) -> Vec<u8> {
    let mut w = Writer::with_capacity(
        1 + config.len()
            + 64
            + request.path.len()
            + request.query.len()
            + request.body.len()
            + request
                .headers
                .iter()
                .map(|(n, v)| n.len() + v.len() + 8)
                .sum::<usize>(),
    );
    w.u8(FRAME_VERSION);
    w.buf.extend_from_slice(config);
    request.encode(&mut w);
    w.finish()
}

fn check_version(r: &mut Reader<'_>) -> Result<(), DecodeError> {
    if r.u8()? == FRAME_VERSION {
        Ok(())
    } else {
        Err(DecodeError("unsupported frame version"))
    }
}

pub fn decode_request_frame(frame: &[u8]) -> Result<(Config, Request), DecodeError> {
    let mut r = Reader::new(frame);
    check_version(&mut r)?;
    let config = r.get()?;
    let request = r.get()?;
    r.end()?;
    Ok((config, request))
}

/// `[FRAME_VERSION][status][headers][body]`.
pub fn encode_response_frame(response: &Response) -> Vec<u8> {
    let mut w = Writer::with_capacity(64 + response.body.len());
    w.u8(FRAME_VERSION);
    response.encode(&mut w);
    w.finish()
}

pub fn decode_response_frame(frame: &[u8]) -> Result<Response, DecodeError> {
    let mut r = Reader::new(frame);
    check_version(&mut r)?;
    let response = r.get()?;
    r.end()?;
    Ok(response)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]

    use super::*;
    use alloc::vec;

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
        frame[0] = FRAME_VERSION + 1;
        assert_eq!(
            decode_response_frame(&frame).unwrap_err(),
            DecodeError("unsupported frame version")
        );
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
            DecodeError("trailing bytes")
        );
    }

    #[test]
    fn a_huge_count_is_refused_without_allocating() {
        let mut w = Writer::default();
        w.u32(u32::MAX);
        assert!(decode::<Page>(&w.finish()).is_err());
    }

    #[test]
    fn every_error_kind_keeps_its_identity() {
        for (tag, kind) in ERROR_KINDS.iter().enumerate() {
            assert_eq!(usize::from(kind_tag(*kind)), tag);
            assert_eq!(round_trip(*kind), *kind);
        }
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
            route: cognate_core::delivery::Route::Sns(cognate_core::delivery::SnsRoute {
                caller_arn: "arn:aws:iam::123456789012:role/sns".into(),
                region: "eu-west-1".into(),
                external_id: None,
            }),
        };
        let route = message.route.clone();
        let back = round_trip(message);
        assert_eq!(back.route, route);
        assert!(back.html);
        assert_eq!(back.medium, Medium::Sms);
        assert!(back.code.ct_eq("123456"));
    }
}
