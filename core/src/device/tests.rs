#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use super::*;

#[test]
fn device_keys_have_cognitos_form() {
    assert!(is_device_key(
        "us-east-1_0b6d2f6e-7c1a-4d1e-9a57-0e4c7b6b1d2a"
    ));
    assert!(!is_device_key("us-east-1"));
    assert!(!is_device_key("_abc"));
    assert!(!is_device_key("us-east-1_XYZ"));
    assert!(!is_device_key("us-east-1_../../u/alice"));
    assert!(!is_device_key(&alloc::format!("r_{}", "a".repeat(60))));
}
