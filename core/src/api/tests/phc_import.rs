//! PHC import on a runtime whose hasher verifies only argon2id (the Worker, and these tests):
//! a bcrypt, scrypt or PBKDF2 hash is refused at import, never accepted only to fail sign-in.

use alloc::string::ToString;

use futures_util::FutureExt;
use serde_json::json;

use super::World;
use crate::error::ErrorKind;
use crate::http::Request;

fn import(
    w: &World,
    pool: &str,
    username: &str,
    hash: &str,
) -> Result<serde_json::Value, crate::Error> {
    let body = json!({"UserPoolId": pool, "Username": username, "PasswordHash": hash});
    let request = Request::new("POST", "/").with_body(body.to_string());
    crate::api::phc::call(
        &w.config,
        &w.env,
        &request,
        "ImportUser",
        "us-east-1".to_string(),
    )
    .now_or_never()
    .expect("memory ports never pend")
}

#[test]
fn hashes_this_runtime_cannot_verify_are_refused_at_import() {
    let w = World::new();
    let pool = w.pool(json!({}));
    for foreign in [
        "$2b$12$R9h/cIPz0gi.URNNX3kh2OPST9/PgBkqquzi.Ss7KIUgO2t0jWMUW",
        "$scrypt$ln=15,r=8,p=1$c2FsdHNhbHQ$dGVzdGhhc2h0ZXN0aGFzaHRlc3RoYXNodGVzdGhhc2g",
        "$pbkdf2-sha256$i=600000,l=32$c2FsdHNhbHQ$dGVzdGhhc2h0ZXN0aGFzaHRlc3RoYXNodGVzdGg",
    ] {
        let e = import(&w, &pool, "zed", foreign).unwrap_err();
        assert_eq!(e.kind, ErrorKind::InvalidParameter, "{foreign}: {e}");
        assert!(e.message.contains("argon2id"), "{e}");
    }
    // Nothing was created by the refused imports.
    let e = w.err(
        "AdminGetUser",
        json!({"UserPoolId": pool, "Username": "zed"}),
    );
    assert_eq!(e.kind, ErrorKind::UserNotFound);

    let argon2 =
        crate::password::hash_argon2id("Passw0rd!", [7; 16], crate::ports::HashParams::default())
            .unwrap();
    import(&w, &pool, "zed", &argon2).unwrap();
    let client = w.client(&pool, json!({}));
    assert!(w.sign_in(&client, "zed", "Passw0rd!").is_ok());
}
