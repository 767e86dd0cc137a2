//! A software authenticator behind a WebAuthn client (1Password's passkey-rs: a CTAP2
//! authenticator with ES256 keys and `none` attestation, and the WebAuthn Level 3 client that
//! builds the client data), standing in for a browser and its platform authenticator. It takes
//! the server's options as JSON and answers the browser's RegistrationResponseJSON and
//! AuthenticationResponseJSON.

use passkey::authenticator::{Authenticator, UiHint, UserCheck, UserValidationMethod};
use passkey::client::{Client, DefaultClientData};
use passkey::crypto::rust_crypto::RustCryptoBackend;
use passkey::types::Passkey;
use passkey::types::ctap2::{Aaguid, Ctap2Error};
use passkey::types::webauthn::{CredentialCreationOptions, CredentialRequestOptions};
use serde_json::{Value, json};
use url::Url;

/// The user says yes (presence and verification).
#[derive(Debug, Clone, Copy)]
pub struct Consent;

#[async_trait::async_trait]
impl UserValidationMethod for Consent {
    type PasskeyItem = Passkey;

    async fn check_user<'a>(
        &self,
        _hint: UiHint<'a, Self::PasskeyItem>,
        presence: bool,
        verification: bool,
    ) -> Result<UserCheck, Ctap2Error> {
        Ok(UserCheck {
            presence,
            verification,
        })
    }
    fn is_verification_enabled(&self) -> Option<bool> {
        Some(true)
    }
    fn is_presence_enabled(&self) -> bool {
        true
    }
}

/// One authenticator holding (at most) one passkey, with a signature counter.
pub struct SoftAuthenticator {
    client:
        Client<Option<Passkey>, Consent, RustCryptoBackend, public_suffix::PublicSuffixList, ()>,
}

impl std::fmt::Debug for SoftAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SoftAuthenticator")
    }
}

impl Default for SoftAuthenticator {
    fn default() -> Self {
        Self::new()
    }
}

impl SoftAuthenticator {
    pub fn new() -> Self {
        Self::holding(None)
    }

    fn holding(passkey: Option<Passkey>) -> Self {
        let mut authenticator =
            Authenticator::new(Aaguid::new_empty(), passkey, Consent, RustCryptoBackend);
        authenticator.set_make_credentials_with_signature_counter(true);
        Self {
            client: Client::new(authenticator),
        }
    }

    /// A second authenticator with a copy of this one's key and counter: a clone.
    pub fn cloned(&self) -> Self {
        Self::holding(self.client.authenticator().store().clone())
    }

    /// `navigator.credentials.create({publicKey: options})` on `origin`.
    pub async fn register(&mut self, origin: &str, options: &Value) -> Value {
        let request: CredentialCreationOptions =
            serde_json::from_value(json!({ "publicKey": options })).expect("creation options");
        let origin = Url::parse(origin).expect("origin");
        let created = self
            .client
            .register(&origin, request, DefaultClientData)
            .await
            .expect("the authenticator registers");
        serde_json::to_value(created).expect("RegistrationResponseJSON")
    }

    /// `navigator.credentials.get({publicKey: options})` on `origin`.
    pub async fn authenticate(&mut self, origin: &str, options: &Value) -> Value {
        let request: CredentialRequestOptions =
            serde_json::from_value(json!({ "publicKey": options })).expect("request options");
        let origin = Url::parse(origin).expect("origin");
        let asserted = self
            .client
            .authenticate(&origin, request, DefaultClientData)
            .await
            .expect("the authenticator signs");
        serde_json::to_value(asserted).expect("AuthenticationResponseJSON")
    }
}

/// The credential with its client data rewritten by `edit` (the signature no longer covers it:
/// for checks the server makes before any signature).
pub fn with_client_data(credential: &Value, edit: impl FnOnce(&mut Value)) -> Value {
    use base64ct::{Base64UrlUnpadded, Encoding};
    let mut credential = credential.clone();
    let encoded = credential["response"]["clientDataJSON"]
        .as_str()
        .expect("clientDataJSON")
        .trim_end_matches('=')
        .to_string();
    let bytes = Base64UrlUnpadded::decode_vec(&encoded).expect("base64url");
    let mut data: Value = serde_json::from_slice(&bytes).expect("client data JSON");
    edit(&mut data);
    credential["response"]["clientDataJSON"] = json!(Base64UrlUnpadded::encode_string(
        &serde_json::to_vec(&data).expect("json")
    ));
    credential
}
