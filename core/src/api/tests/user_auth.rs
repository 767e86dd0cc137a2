//! Choice-based sign-in in-process: the pool's first factors and passkey settings, USER_AUTH's
//! SELECT_CHALLENGE and its answers (PASSWORD, PASSWORD_SRP, EMAIL_OTP, SMS_OTP).

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde_json::{Value, json};

use super::World;
use crate::error::ErrorKind;

#[test]
fn sign_in_policy_and_webauthn_configuration_round_trip() {
    let w = World::new();
    let pool = w.pool(json!({}));
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["Policies"]["SignInPolicy"],
        json!({"AllowedFirstAuthFactors": ["PASSWORD"]})
    );
    let mfa = w.ok("GetUserPoolMfaConfig", json!({"UserPoolId": pool}));
    assert_eq!(
        mfa["WebAuthnConfiguration"],
        json!({"UserVerification": "preferred", "FactorConfiguration": "SINGLE_FACTOR"})
    );

    w.ok(
        "UpdateUserPool",
        json!({"UserPoolId": pool, "AutoVerifiedAttributes": ["email"],
               "Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"]}}}),
    );
    let described = w.ok("DescribeUserPool", json!({"UserPoolId": pool}));
    assert_eq!(
        described["UserPool"]["Policies"]["SignInPolicy"]["AllowedFirstAuthFactors"],
        json!(["PASSWORD", "EMAIL_OTP", "WEB_AUTHN"])
    );
    let set = w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "WebAuthnConfiguration": {"RelyingPartyId": "auth.example.com", "UserVerification": "required"}}),
    );
    assert_eq!(
        set["WebAuthnConfiguration"],
        json!({"RelyingPartyId": "auth.example.com", "UserVerification": "required", "FactorConfiguration": "SINGLE_FACTOR"})
    );
    // Left out of a later call, the passkey settings stay.
    let later = w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "SoftwareTokenMfaConfiguration": {"Enabled": true}}),
    );
    assert_eq!(
        later["WebAuthnConfiguration"]["RelyingPartyId"],
        json!("auth.example.com")
    );

    let refused: Vec<(Value, &str)> = alloc::vec![
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["EMAIL_OTP"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SOFTWARE_TOKEN"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "SMS_OTP"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": []}}}),
            "UpdateUserPool"
        ),
        (
            json!({"Policies": {"SignInPolicy": {"AllowedFirstAuthFactors": ["PASSWORD", "FACE"]}}}),
            "UpdateUserPool"
        ),
        (
            json!({"WebAuthnConfiguration": {"RelyingPartyId": "https://auth.example.com"}}),
            "SetUserPoolMfaConfig"
        ),
        (
            json!({"WebAuthnConfiguration": {"UserVerification": "discouraged"}}),
            "SetUserPoolMfaConfig"
        ),
    ];
    for (extra, op) in refused {
        let mut body = json!({"UserPoolId": pool});
        if let (Value::Object(b), Value::Object(e)) = (&mut body, extra.clone()) {
            b.extend(e);
        }
        assert_eq!(w.err(op, body).kind, ErrorKind::InvalidParameter, "{extra}");
    }
    let _ = String::new().to_string();
}
