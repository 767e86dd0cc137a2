//! A pool's activity (`CognateInsights.GetUserPoolActivity`, the console's charts): sign-ins
//! counted per day, users by status, MFA adoption and lockouts from the directory.

use alloc::string::ToString;

use futures_util::FutureExt;
use serde_json::{Value, json};

use super::World;

const DAY: u64 = 86_400_000;

fn activity(w: &World, pool: &str, days: u64) -> Value {
    crate::activity::of_pool(&w.env, pool, days)
        .now_or_never()
        .expect("memory ports never pend")
        .expect("activity")
}

#[test]
fn sign_ins_are_counted_per_day_and_users_by_state() {
    let w = World::new();
    let sms = json!({"SnsCallerArn": "arn:aws:iam::123456789012:role/sns", "ExternalId": "x"});
    let pool = w.pool(json!({"SmsConfiguration": sms}));
    w.ok(
        "SetUserPoolMfaConfig",
        json!({"UserPoolId": pool, "MfaConfiguration": "OPTIONAL",
               "SmsMfaConfiguration": {"SmsConfiguration": sms}}),
    );
    let client = w.client(&pool, json!({}));
    for name in ["ann", "bob", "cy"] {
        w.sign_up(&client, name, &alloc::format!("{name}@example.com"));
        w.ok(
            "AdminConfirmSignUp",
            json!({"UserPoolId": pool, "Username": name}),
        );
    }
    w.sign_up(&client, "dee", "dee@example.com");

    // Yesterday: one success, one failure.
    w.sign_in(&client, "ann", "Passw0rd!").unwrap();
    assert!(w.sign_in(&client, "bob", "wrong-Passw0rd!").is_err());
    w.env.clock.advance(DAY);
    // Today: two successes and enough failures to lock cy out.
    w.sign_in(&client, "ann", "Passw0rd!").unwrap();
    w.sign_in(&client, "bob", "Passw0rd!").unwrap();
    for _ in 0..crate::auth::lockout::LOCKOUT_THRESHOLD {
        assert!(w.sign_in(&client, "cy", "wrong-Passw0rd!").is_err());
    }
    w.ok(
        "AdminDisableUser",
        json!({"UserPoolId": pool, "Username": "bob"}),
    );
    w.ok(
        "AdminUpdateUserAttributes",
        json!({"UserPoolId": pool, "Username": "ann",
               "UserAttributes": [{"Name": "phone_number", "Value": "+15555550100"},
                                  {"Name": "phone_number_verified", "Value": "true"}]}),
    );
    w.ok(
        "AdminSetUserMFAPreference",
        json!({"UserPoolId": pool, "Username": "ann",
               "SMSMfaSettings": {"Enabled": true, "PreferredMfa": true}}),
    );

    let seen = activity(&w, &pool, 7);
    let days = seen["Days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    let counts: alloc::vec::Vec<(u64, u64)> = days
        .iter()
        .map(|d| {
            (
                d["SignIns"].as_u64().unwrap(),
                d["Failures"].as_u64().unwrap(),
            )
        })
        .collect();
    let lockout = crate::auth::lockout::LOCKOUT_THRESHOLD as u64;
    assert_eq!(&counts[5..], &[(1, 1), (2, lockout)], "{seen}");
    assert!(counts[..5].iter().all(|c| *c == (0, 0)), "{seen}");
    // Days start at midnight UTC, one day apart, the last one today.
    let now = crate::ports::Clock::now_millis(&w.env.clock);
    let last = days[6]["Start"].as_f64().unwrap() as u64 * 1000;
    assert_eq!(last, now / DAY * DAY);
    assert_eq!(
        seen["Users"],
        json!({"Total": 4, "ByStatus": {"CONFIRMED": 3, "UNCONFIRMED": 1},
               "Disabled": 1, "WithMfa": 1, "LockedOut": 1})
    );
    assert_eq!(seen["Truncated"], json!(false));
    assert_eq!(seen["UserPoolId"], json!(pool.to_string()));
}

#[test]
fn an_unknown_pool_is_not_found() {
    let w = World::new();
    let e = crate::activity::of_pool(&w.env, "us-east-1_Nope12345", 14)
        .now_or_never()
        .unwrap()
        .unwrap_err();
    assert_eq!(e.kind, crate::error::ErrorKind::ResourceNotFound);
}
