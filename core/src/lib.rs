//! # cognate-core
//!
//! Cognate's identity engine: Cognito-compatible user pools, sign-in and token issuance, written
//! sans-IO. The engine never touches the network, the disk, the clock or the random source
//! itself; an adapter (the `cognate` host server, the Cloudflare Worker, a test) hands it a
//! [`Request`] and an [`Env`] of ports and gets a [`Response`] back.
//!
//! ```
//! # #[cfg(feature = "std")] {
//! use cognate_core::{Config, Request, Service, testing::TestEnv};
//! let service = Service::new(Config::new("http://127.0.0.1:9229", "us-east-1"));
//! let env = TestEnv::new();
//! let response = futures_util::FutureExt::now_or_never(service.handle(
//!     Request::new("GET", "/health"),
//!     &env,
//! ));
//! assert_eq!(response.map(|r| r.status), Some(200));
//! # }
//! ```
//!
//! ## Security
//! - Passwords are stored only as argon2id PHC strings, plus, where the pool allows
//!   USER_SRP_AUTH, an SRP verifier (far cheaper to attack offline: see [`srp`] and the pool's
//!   `CognateSrp` switch); confirmation codes and refresh tokens only as SHA-256 digests; secrets
//!   are compared in constant time.
//! - Secret values ([`Secret`]) print `[redacted]` in `Debug` and are never logged.
//! - Sign-in answers the same error, after comparable work, for an unknown user and a wrong
//!   password.
//! - Every invariant (unique usernames and aliases, single-use codes) rests on the store's
//!   single-key conditional writes, never on read-then-write.
#![no_std]
#![cfg_attr(
    not(test),
    deny(clippy::unwrap_used, clippy::expect_used, clippy::panic)
)]

extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

pub mod account;
pub mod activity;
pub mod api;
pub mod audit;
pub mod auth;
pub mod code;
pub mod codec;
pub mod config;
pub mod console;
// Email and SMS: composition, routing (SMTP/SES/SNS), flood control (issue 22).
pub mod decoded;
pub mod delivery;
pub mod device;
pub mod error;
pub mod federation;
pub mod future;
pub mod group;
pub mod html;
pub mod http;
pub mod identity;
pub mod ids;
pub mod janitor;
pub mod message;
// OAuth 2.0 / OpenID Connect and the hosted UI (issue 6).
pub mod oidc;
pub mod password;
pub mod pool;
pub mod ports;
pub mod profile;
pub mod qr;
pub mod record;
pub mod recovery;
pub mod registration;
// SAML 2.0 service provider (issue 20): requests, SP metadata, and the checks of responses whose
// signatures the `Saml` port verified.
pub mod saml;
pub mod secret;
pub mod service;
pub mod sigv4;
// Secure Remote Password, Cognito's variant (issue 17): the math of USER_SRP_AUTH and DEVICE_SRP_AUTH.
pub mod srp;
pub mod store;
pub mod token;
pub mod totp;
pub mod trigger;
pub mod ui;
pub mod user;
pub mod user_import;

#[cfg(feature = "std")]
pub mod testing;

pub use error::Error;
pub use http::{Request, Response};
pub use ports::{BoxFuture, Clock, Env, Jws, MaybeSend, MaybeSync, PasswordHasher, Random, Sender};
// Trigger plugins.
pub use ports::{DeliveryRequest, InvocationError, Triggers};
pub use secret::Secret;
pub use service::{AdminKey, Config, Service};
pub use store::{Expect, Page, Store, StoreError, Versioned};
