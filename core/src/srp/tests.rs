//! Known-answer tests: `vectors/pycognito.json`, computed with pycognito 2024.5.1's AWSSRP by
//! `vectors/gen_pycognito.py` (its header says how), and the client's side as
//! amazon-cognito-identity-js computes it (`vectors/identity-js.json`, `vectors/gen_identity_js.cjs`).

use super::*;
use alloc::format;
use serde_json::Value;

fn vectors(text: &str) -> Value {
    serde_json::from_str(text).unwrap()
}

fn s<'a>(v: &'a Value, key: &str) -> &'a str {
    v[key].as_str().unwrap()
}

fn bytes32(hex_text: &str) -> [u8; 32] {
    hex::decode(hex_text).unwrap().try_into().unwrap()
}

fn salt16(v: &Verifier) -> [u8; 16] {
    // The canonical salt without PAD's 00 (the vectors' salts are 16 significant bytes).
    let raw = hex::decode(&v.salt).unwrap();
    raw[raw.len() - 16..].try_into().unwrap()
}

fn check_user_vectors(all: &Value) {
    for case in all["users"].as_array().unwrap() {
        let name = s(case, "name");
        let pool = pool_name(s(case, "pool_id"));
        let user = s(case, "user_id");
        let password = s(case, "password");
        let salt_hex = s(case, "salt");
        let stored = Verifier {
            salt: salt_hex.into(),
            v: s(case, "v").into(),
        };
        // The verifier from the canonical 16-byte salt.
        let v = verifier(pool, user, password, salt16(&stored));
        assert_eq!(v, stored, "{name}: verifier");
        // The client's A from a.
        let a = hex::decode(s(case, "a")).unwrap();
        assert_eq!(
            from_hex(&client_public(&a).unwrap()).unwrap(),
            from_hex(s(case, "A")).unwrap(),
            "{name}: A"
        );
        // The server's B from b and v.
        let hello = server_hello(&stored.v, bytes32(s(case, "b"))).unwrap();
        assert_eq!(
            from_hex(&hello.big_b).unwrap(),
            from_hex(s(case, "B")).unwrap(),
            "{name}: B"
        );
        // Both sides derive the client's key.
        let key = hex::decode(s(case, "key")).unwrap();
        assert_eq!(
            server_key(s(case, "A"), &hello, &stored.v)
                .unwrap()
                .as_slice(),
            key.as_slice(),
            "{name}: server key"
        );
        assert_eq!(
            client_key(&a, s(case, "B"), salt_hex, pool, user, password)
                .unwrap()
                .as_slice(),
            key.as_slice(),
            "{name}: client key"
        );
        // The signature over the secret block and timestamp.
        let block = crate::codec::b64_decode(s(case, "secret_block")).unwrap();
        let key: [u8; 16] = key.try_into().unwrap();
        let expected = signature(&key, pool, user, &block, s(case, "timestamp"));
        assert!(
            signature_matches(&expected, s(case, "signature")),
            "{name}: signature"
        );
        assert!(parse_timestamp(s(case, "timestamp")).is_some(), "{name}");
    }
}

#[test]
fn pycognito_vectors() {
    let all = vectors(include_str!("vectors/pycognito.json"));
    check_user_vectors(&all);
    for case in all["devices"].as_array().unwrap() {
        let stored = Verifier {
            salt: s(case, "salt").into(),
            v: s(case, "v").into(),
        };
        let v = device_verifier(
            s(case, "device_group_key"),
            s(case, "device_key"),
            s(case, "password"),
            salt16(&stored),
        );
        assert_eq!(v, stored);
    }
}

#[test]
fn identity_js_vectors() {
    check_user_vectors(&vectors(include_str!("vectors/identity-js.json")));
}

#[test]
fn pad_follows_pad_hex() {
    assert_eq!(pad_hex(&U3072::ZERO), "00");
    assert_eq!(pad_hex(&U3072::from_u8(0x14)), "14");
    assert_eq!(pad_hex(&U3072::from_u8(0xec)), "00ec");
    assert_eq!(pad_hex(&U3072::from_u32(0x1ff)), "01ff");
    assert_eq!(&pad_hex(&N)[..4], "00ff");
}

#[test]
fn a_multiple_of_n_and_malformed_hex_are_refused() {
    assert_eq!(check_a("0"), Err(SrpError::Zero));
    assert_eq!(check_a("000"), Err(SrpError::Zero));
    assert_eq!(check_a(N_HEX), Err(SrpError::Zero));
    assert_eq!(check_a(&N_HEX.to_lowercase()), Err(SrpError::Zero));
    assert_eq!(check_a(""), Err(SrpError::Malformed));
    assert_eq!(check_a("12g4"), Err(SrpError::Malformed));
    assert_eq!(check_a("-1"), Err(SrpError::Malformed));
    // More than 3072 bits, and more than the length bound.
    assert_eq!(
        check_a(&format!("1{}", "0".repeat(768))),
        Err(SrpError::Malformed)
    );
    assert_eq!(
        check_a(&"0".repeat(MAX_HEX_LEN + 1)),
        Err(SrpError::Malformed)
    );
    // Leading zeros within the bound are fine; an odd length too.
    assert!(check_a(&format!("{}2", "0".repeat(900))).is_ok());
    assert!(check_a("abc").is_ok());
}

#[test]
fn a_wrong_password_gives_another_key() {
    let v = verifier("Pool", "bob", "right-1A!", [3; 16]);
    let hello = server_hello(&v.v, [9; 32]).unwrap();
    let a = [5u8; 32];
    let big_a = client_public(&a).unwrap();
    let server = server_key(&big_a, &hello, &v.v).unwrap();
    let right = client_key(&a, &hello.big_b, &v.salt, "Pool", "bob", "right-1A!").unwrap();
    let wrong = client_key(&a, &hello.big_b, &v.salt, "Pool", "bob", "wrong-1A!").unwrap();
    assert_eq!(server, right);
    assert_ne!(server, wrong);
    let sig = signature(
        &right,
        "Pool",
        "bob",
        b"block",
        "Tue Feb 1 03:04:05 UTC 2022",
    );
    let b64 = crate::codec::b64(&sig);
    assert!(signature_matches(&sig, &b64));
    let other = signature(
        &wrong,
        "Pool",
        "bob",
        b"block",
        "Tue Feb 1 03:04:05 UTC 2022",
    );
    assert!(!signature_matches(&other, &b64));
    assert!(!signature_matches(&sig, "not base64!"));
    assert!(!signature_matches(&sig, &crate::codec::b64(&sig[..31])));
}

#[test]
fn device_verifier_differs_from_user_verifier() {
    let user = verifier("grp", "dev", "pw", [1; 16]);
    let device = device_verifier("grp", "dev", "pw", [1; 16]);
    // The same composition, by design: x = H(salt ‖ H(prefix ‖ id ‖ ":" ‖ pw)).
    assert_eq!(user, device);
    assert_ne!(device, device_verifier("grp", "dev2", "pw", [1; 16]));
}

#[test]
fn salt_is_canonical_for_both_clients() {
    // A salt whose first byte is zero loses it as a number (identity-js) but not as text
    // (pycognito): the verifier's salt is the padded number, so both read the same bytes.
    let v = verifier(
        "P",
        "u",
        "p",
        [0, 0, 0x12, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13],
    );
    assert!(v.salt.starts_with("12"));
    assert_eq!(pad_hex(&from_hex(&v.salt).unwrap()), v.salt);
    let zero = verifier("P", "u", "p", [0; 16]);
    assert_eq!(zero.salt, "01");
}

#[test]
fn timestamps_follow_cognito_format() {
    assert_eq!(
        parse_timestamp("Tue Feb 1 03:04:05 UTC 2022"),
        Some(1_643_684_645)
    );
    assert_eq!(
        format_timestamp(1_643_684_645).as_deref(),
        Some("Tue Feb 1 03:04:05 UTC 2022")
    );
    assert_eq!(
        parse_timestamp("Wed Dec 16 23:59:09 UTC 2026"),
        Some(1_797_465_549)
    );
    for bad in [
        "",
        "Tue Feb 01 03:04:05 UTC 2022", // zero-padded day
        "Wed Feb 1 03:04:05 UTC 2022",  // wrong weekday
        "Tue Feb 1 3:04:05 UTC 2022",   // hour not padded
        "Tue Feb 1 03:04:05 GMT 2022",
        "Tue Feb  1 03:04:05 UTC 2022",
        "tue feb 1 03:04:05 UTC 2022",
        "Tue Feb 1 03:04:05 UTC 2022 ",
        "Tue Feb 30 03:04:05 UTC 2022",
        "2022-02-01T03:04:05Z",
    ] {
        assert_eq!(parse_timestamp(bad), None, "{bad:?}");
    }
}

#[test]
fn a_full_width_secret_reduces_its_exponent_modulo_n_minus_one() {
    let v = verifier("Pool", "zed", "pw-1A!", [5; 16]);
    let hello = server_hello(&v.v, [8; 32]).unwrap();
    let a = [0xfe_u8; 384];
    let big_a = client_public(&a).unwrap();
    let server = server_key(&big_a, &hello, &v.v).unwrap();
    let client = client_key(&a, &hello.big_b, &v.salt, "Pool", "zed", "pw-1A!").unwrap();
    assert_eq!(server, client);
}
