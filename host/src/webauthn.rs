//! The host's passkey verifier (the core's `WebAuthnVerifier` port) on kanidm's webauthn-rs-core
//! 0.6 (OpenSSL-free: RustCrypto through crypto-glue). It serves both engines: the native core
//! calls it directly, the Wasm guest through its `webauthn_register` / `webauthn_assert` port
//! calls.
//!
//! The core has chosen the challenge, the relying party id and the one origin to accept; this
//! file hands them to the library, which parses the CBOR attestation object, the COSE key and
//! the attestation statement (`none`, `packed` with or without a certificate chain, `tpm`,
//! `android-key`, `apple`, `fido-u2f`; no CA list: Cognito accepts any authenticator) and checks
//! the client data, the RP ID hash, the UP and UV flags and the signatures. The library's
//! registration and authentication states are built through its own serde form (their fields
//! are private): a state the library generated, with the core's challenge put in its place.
//!
//! The signature counter is left to the core (which keeps the counter up to date): the stored
//! credential's counter is zeroed here so the library does not judge a stale one.

use std::time::Duration;

use cognate_core::ports::{
    AssertionCheck, BoxFuture, RegistrationCheck, VerifiedAssertion, VerifiedPasskey,
    WebAuthnRefusal, WebAuthnVerifier, boxed,
};
use serde_json::Value;
use url::Url;
use webauthn_rs_core::WebauthnCore;
use webauthn_rs_core::error::WebauthnError;
use webauthn_rs_core::proto::{
    AuthenticationState, COSEAlgorithm, Credential, PublicKeyCredential,
    RegisterPublicKeyCredential, RegistrationState, UserVerificationPolicy,
};

/// The verifier (stateless).
#[derive(Debug, Clone, Copy, Default)]
pub struct HostWebAuthn;

fn b64url(bytes: &[u8]) -> String {
    use base64ct::{Base64UrlUnpadded, Encoding};
    Base64UrlUnpadded::encode_string(bytes)
}

fn relying_party(rp_id: &str, origin: &str) -> Result<WebauthnCore, WebAuthnRefusal> {
    let origin = Url::parse(origin).map_err(|_| WebAuthnRefusal::Origin)?;
    Ok(WebauthnCore::new_unsafe_experts_only(
        rp_id,
        rp_id,
        vec![origin],
        Duration::from_secs(300),
        Some(false),
        Some(false),
    ))
}

fn policy(required: bool) -> UserVerificationPolicy {
    if required {
        UserVerificationPolicy::Required
    } else {
        UserVerificationPolicy::Preferred
    }
}

fn refusal(e: WebauthnError) -> WebAuthnRefusal {
    match e {
        WebauthnError::InvalidRPIDHash => WebAuthnRefusal::RelyingParty,
        WebauthnError::InvalidRPOrigin | WebauthnError::CredentialCrossOrigin => {
            WebAuthnRefusal::Origin
        }
        WebauthnError::MismatchedChallenge | WebauthnError::InvalidClientDataType => {
            WebAuthnRefusal::Challenge
        }
        WebauthnError::UserNotPresent => WebAuthnRefusal::Failed("user not present".into()),
        WebauthnError::UserNotVerified => WebAuthnRefusal::Failed("user not verified".into()),
        WebauthnError::AuthenticationFailure => {
            WebAuthnRefusal::Failed("signature does not verify".into())
        }
        WebauthnError::CredentialNotFound => {
            WebAuthnRefusal::Failed("not the expected credential".into())
        }
        WebauthnError::CredentialPossibleCompromise => {
            WebAuthnRefusal::Failed("signature counter did not grow".into())
        }
        other => WebAuthnRefusal::Unsupported(other.to_string()),
    }
}

/// A registration state of the library's own making, with `challenge` in place of its own.
fn registration_state(
    core: &WebauthnCore,
    challenge: &[u8],
    uv_required: bool,
) -> Result<RegistrationState, WebAuthnRefusal> {
    let builder = core
        .new_challenge_register_builder(b"cognate", "cognate", "cognate")
        .map_err(refusal)?
        .user_verification_policy(policy(uv_required))
        .credential_algorithms(vec![COSEAlgorithm::ES256, COSEAlgorithm::RS256])
        .reject_synchronised_authenticators(false);
    let (_, state) = core.generate_challenge_register(builder).map_err(refusal)?;
    with_challenge(&state, challenge)
}

fn with_challenge<T: serde::Serialize + serde::de::DeserializeOwned>(
    state: &T,
    challenge: &[u8],
) -> Result<T, WebAuthnRefusal> {
    let internal = |_| WebAuthnRefusal::Unsupported("verifier state".into());
    let mut value = serde_json::to_value(state).map_err(internal)?;
    match value.get_mut("challenge") {
        Some(slot) => *slot = Value::String(b64url(challenge)),
        None => return Err(WebAuthnRefusal::Unsupported("verifier state".into())),
    }
    serde_json::from_value(value).map_err(internal)
}

fn register(check: &RegistrationCheck) -> Result<VerifiedPasskey, WebAuthnRefusal> {
    let core = relying_party(&check.rp_id, &check.origin)?;
    let response: RegisterPublicKeyCredential = serde_json::from_str(&check.response_json)
        .map_err(|e| WebAuthnRefusal::Unsupported(format!("RegistrationResponseJSON: {e}")))?;
    let state = registration_state(&core, &check.challenge, check.user_verification_required)?;
    let credential = core
        .register_credential(&response, &state, None)
        .map_err(refusal)?;
    let key = serde_json::to_string(&credential)
        .map_err(|_| WebAuthnRefusal::Unsupported("credential".into()))?;
    let format = serde_json::to_value(credential.attestation_format)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_else(|| "unknown".into());
    Ok(VerifiedPasskey {
        credential_id: credential.cred_id.to_vec(),
        sign_count: credential.counter,
        user_verified: credential.user_verified,
        attestation_format: format,
        key,
    })
}

fn assert(check: &AssertionCheck) -> Result<VerifiedAssertion, WebAuthnRefusal> {
    let core = relying_party(&check.rp_id, &check.origin)?;
    let response: PublicKeyCredential = serde_json::from_str(&check.response_json)
        .map_err(|e| WebAuthnRefusal::Unsupported(format!("AuthenticationResponseJSON: {e}")))?;
    if response.raw_id != check.credential_id {
        return Err(WebAuthnRefusal::Failed(
            "not the expected credential".into(),
        ));
    }
    let mut credential: Credential = serde_json::from_str(&check.key)
        .map_err(|_| WebAuthnRefusal::Unsupported("stored key".into()))?;
    // The core judges the counter against the one it keeps up to date.
    credential.counter = 0;
    let builder = core
        .new_challenge_authenticate_builder(
            vec![credential.clone()],
            Some(policy(check.user_verification_required)),
        )
        .map_err(refusal)?
        .allow_backup_eligible_upgrade(true);
    let (_, state) = core
        .generate_challenge_authenticate(builder)
        .map_err(refusal)?;
    let state: AuthenticationState = with_challenge(&state, &check.challenge)?;
    let result = core
        .authenticate_single_credential(&response, &state, &credential)
        .map_err(refusal)?;
    Ok(VerifiedAssertion {
        sign_count: result.counter(),
        user_verified: result.user_verified(),
    })
}

impl WebAuthnVerifier for HostWebAuthn {
    fn verify_registration<'a>(
        &'a self,
        check: &'a RegistrationCheck,
    ) -> BoxFuture<'a, Result<VerifiedPasskey, WebAuthnRefusal>> {
        boxed(async move { register(check) })
    }
    fn verify_assertion<'a>(
        &'a self,
        check: &'a AssertionCheck,
    ) -> BoxFuture<'a, Result<VerifiedAssertion, WebAuthnRefusal>> {
        boxed(async move { assert(check) })
    }
}

#[cfg(test)]
mod tests {
    //! Known answers: browser responses recorded from real authenticators, as published in
    //! webauthn-rs-core 0.6.2's own tests (`test_registration_packed_attestation`: Touch ID in
    //! Chrome 77, `packed` self attestation, ES256; `test_win_hello_attest_none`: Windows Hello,
    //! `none` attestation, RS256, and an assertion of the same key). The software authenticator
    //! scenarios (ES256, `none`) are in tests/tests/e2e/passkeys.rs.
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use base64ct::{Base64UrlUnpadded, Encoding};
    use cognate_core::ports::{AssertionCheck, RegistrationCheck, WebAuthnRefusal};
    use serde_json::json;

    fn b64(s: &str) -> Vec<u8> {
        Base64UrlUnpadded::decode_vec(s).unwrap()
    }

    fn packed_es256() -> RegistrationCheck {
        let response = json!({
            "id": "ATk_7QKbi_ntSdp16LXeU6RDf9YnRLIDTCqEjJFzc6rKBhbqoSYccxNa",
            "rawId": "ATk_7QKbi_ntSdp16LXeU6RDf9YnRLIDTCqEjJFzc6rKBhbqoSYccxNa",
            "type": "public-key",
            "response": {
                "attestationObject": "o2NmbXRmcGFja2VkZ2F0dFN0bXSiY2FsZyZjc2lnWEcwRQIgLXPjBtVEhBH3KdUDFFk3LAd9EtHogllIf48vjX4wgfECIQCXOymmfg12FPMXEdwpSjjtmrvki4K8y0uYxqWN5Bw6DGhhdXRoRGF0YViuSZYN5YgOjGh0NBcPZHZgW4_krrmihjLHmVzzuoMdl2NFXaqejq3OAAI1vMYKZIsLJfHwVQMAKgE5P-0Cm4v57Unadei13lOkQ3_WJ0SyA0wqhIyRc3OqygYW6qEmHHMTWqUBAgMmIAEhWCDNRS_Gw52ow5PNrC9OdFTFNudDmZO6Y3wmM9N8e0tJICJYIC09iIH5_RrT5tbS0PIw3srdAxYDMGao7yWgu0JFIEzT",
                "clientDataJSON": "eyJjaGFsbGVuZ2UiOiJsUDZtV05BdEctX1Z2MTVpTTdsYl9YUmtkV012VlEtbFR5S3dadU9nMVZvIiwiZXh0cmFfa2V5c19tYXlfYmVfYWRkZWRfaGVyZSI6ImRvIG5vdCBjb21wYXJlIGNsaWVudERhdGFKU09OIGFnYWluc3QgYSB0ZW1wbGF0ZS4gU2VlIGh0dHBzOi8vZ29vLmdsL3lhYlBleCIsIm9yaWdpbiI6Imh0dHBzOi8vbG9jYWxob3N0Ojg0NDMiLCJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIn0"
            }
        });
        RegistrationCheck {
            rp_id: "localhost".into(),
            origin: "https://localhost:8443".into(),
            challenge: b64("lP6mWNAtG-_Vv15iM7lb_XRkdWMvVQ-lTyKwZuOg1Vo"),
            user_verification_required: false,
            response_json: response.to_string(),
        }
    }

    const HELLO_ORIGIN: &str = "https://etools-dev.example.com:8080";
    const HELLO_ID: &str = "KwlEDOBCBc9P1YU3NWihYLCeY-I9KGMhPap9vwHbVoI";

    fn hello_rs256() -> RegistrationCheck {
        let response = json!({
            "id": HELLO_ID, "rawId": HELLO_ID, "type": "public-key",
            "response": {
                "attestationObject": "o2NmbXRkbm9uZWdhdHRTdG10oGhhdXRoRGF0YVkBZ2wpgejnsqySxmYA_6D63eOJKMSO0N1z9i_GRS2layobRQAAAAAAAAAAAAAAAAAAAAAAAAAAACArCUQM4EIFz0_VhTc1aKFgsJ5j4j0oYyE9qn2_AdtWgqQBAwM5AQAgWQEApqOD6WFAiM9vJ1BQ5hMuOwz3l3GnnYzG46if0-hwdNE2lBqcOFg4G3Rm7VhjUUFPhfLAGRwtdIOB_blbI4EjwSxAVleJLBNK70iy8wvDh8LYbT5UrBC2UoyqAf9bUElkAXU9lLNfx6nk9K5FNrkPawUAbpsc83IgsNxdxKyeFgOaEpQUhF6mLRgbCP9sH-bEen3w19t2UOCSXFDbW9NYLRyFh1P01B15hGi9A2IqtAr56DuszG1AzotM9-YoJEdPC4tU05l9bGw3w80FWvhIKl4oiMFZA2ZtHkF1TGeWBCybaM9-XBChr9939ql_SA1TgQykZiqNrWaMNDkrcwzuWSFDAQAB",
                "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uY3JlYXRlIiwiY2hhbGxlbmdlIjoiRlFreTBGcW5tVjVLWXFGVTk2RTlhQXBTSVJ0alhpS2NWRlVmOEFtOGlEUSIsIm9yaWdpbiI6Imh0dHBzOi8vZXRvb2xzLWRldi5leGFtcGxlLmNvbTo4MDgwIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ"
            }
        });
        RegistrationCheck {
            rp_id: "etools-dev.example.com".into(),
            origin: HELLO_ORIGIN.into(),
            challenge: b64("FQky0FqnmV5KYqFU96E9aApSIRtjXiKcVFUf8Am8iDQ"),
            user_verification_required: true,
            response_json: response.to_string(),
        }
    }

    fn hello_assertion(key: String) -> AssertionCheck {
        let response = json!({
            "id": HELLO_ID, "rawId": HELLO_ID, "type": "public-key",
            "response": {
                "authenticatorData": "bCmB6OeyrJLGZgD_oPrd44koxI7Q3XP2L8ZFLaVrKhsFAAAAAQ",
                "clientDataJSON": "eyJ0eXBlIjoid2ViYXV0aG4uZ2V0IiwiY2hhbGxlbmdlIjoidlhSLWEwb2QwclZqc3EzV3B0UjgyeDJwQ1RvYUczajJWNjJwMHZHWmxyMCIsIm9yaWdpbiI6Imh0dHBzOi8vZXRvb2xzLWRldi5leGFtcGxlLmNvbTo4MDgwIiwiY3Jvc3NPcmlnaW4iOmZhbHNlfQ",
                "signature": "Tf2YU7jGBRBEM7IF5BSUqLYDyTuitWDdQ4jmPfwAJvSPYmQO4t_qOkgJ5r4AvbBlrLCSGd11Tw2wY9DThw889Wrow9clRojGGbqc4k3YVWSLSUmt0vR0VGy0inMPu4zGbtpO7mOD0uXyuIXbsetgu49S81h41rZ2WMad6VPOpbtvU9NEk4mwHK0kQlfh_MNltSx3xjDSury-FE4OMUOQg0xVRl-CiYSoIcRxUzsmLgGna8io8gZqjct7yzJFrQa3dXblvCd4vDA2dd8PmXoEGNo4-62mcfDnrxUc5PgKAUneNDlIMyyDzgTzQmQ9ce3dc7Ylux36Z7JoRZkv1EzI8g",
                "userHandle": "bWNoYW4"
            }
        });
        AssertionCheck {
            rp_id: "etools-dev.example.com".into(),
            origin: HELLO_ORIGIN.into(),
            challenge: b64("vXR-a0od0rVjsq3WptR82x2pCToaG3j2V62p0vGZlr0"),
            user_verification_required: true,
            credential_id: b64(HELLO_ID),
            key,
            response_json: response.to_string(),
        }
    }

    #[test]
    fn packed_es256_registration_verifies_and_says_its_format() {
        let verified = super::register(&packed_es256()).unwrap();
        assert_eq!(verified.attestation_format, "packed");
        assert_eq!(
            verified.credential_id,
            b64("ATk_7QKbi_ntSdp16LXeU6RDf9YnRLIDTCqEjJFzc6rKBhbqoSYccxNa")
        );
        // Another challenge, another relying party, another origin: refused.
        let mut other = packed_es256();
        other.challenge[0] ^= 1;
        assert_eq!(super::register(&other), Err(WebAuthnRefusal::Challenge));
        let mut other = packed_es256();
        other.rp_id = "example.com".into();
        assert_eq!(super::register(&other), Err(WebAuthnRefusal::RelyingParty));
        let mut other = packed_es256();
        other.origin = "https://localhost:9443".into();
        assert_eq!(super::register(&other), Err(WebAuthnRefusal::Origin));
    }

    #[test]
    fn rs256_registration_and_assertion_verify_with_user_verification() {
        let verified = super::register(&hello_rs256()).unwrap();
        assert_eq!(verified.attestation_format, "none");
        assert!(verified.user_verified);
        let asserted = super::assert(&hello_assertion(verified.key.clone())).unwrap();
        assert_eq!(asserted.sign_count, 1);
        assert!(asserted.user_verified);
        // A tampered signature, a challenge that is not this one, another credential id.
        let mut check = hello_assertion(verified.key.clone());
        check.response_json = check.response_json.replace("Tf2YU7", "Tf2YU8");
        assert!(matches!(
            super::assert(&check),
            Err(WebAuthnRefusal::Failed(_) | WebAuthnRefusal::Unsupported(_))
        ));
        let mut check = hello_assertion(verified.key.clone());
        check.challenge[3] ^= 1;
        assert_eq!(super::assert(&check), Err(WebAuthnRefusal::Challenge));
        let mut check = hello_assertion(verified.key);
        check.credential_id[0] ^= 1;
        assert!(matches!(
            super::assert(&check),
            Err(WebAuthnRefusal::Failed(_))
        ));
    }

    #[test]
    fn garbage_is_unsupported_not_a_panic() {
        let mut check = packed_es256();
        check.response_json = "{\"id\": 1}".into();
        assert!(matches!(
            super::register(&check),
            Err(WebAuthnRefusal::Unsupported(_))
        ));
    }
}
