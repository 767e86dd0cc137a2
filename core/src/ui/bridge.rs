//! The hosted UI's bridge into the Cognito API, until the pages call the domain directly: each
//! function builds its operation's JSON body and runs it through [`crate::api::dispatch`] as an
//! app would, with the `SECRET_HASH` of a client with a secret ([`call`], [`secret_hash`]).
//!
//! The pages use only the typed functions below (and [`secret_hash`] for CUSTOM_AUTH, whose
//! steps are already domain calls); each is to be swapped for the domain call it stands for.

use alloc::string::String;
use alloc::vec::Vec;

use serde_json::{Value, json};

use crate::oidc::Ctx;
use crate::pool::AppClient;

/// Cognito's `SECRET_HASH` for a client with a secret: the hosted UI is the server itself, so it
/// computes what an app would send.
pub fn secret_hash(client: &AppClient, username: &str) -> Option<String> {
    use hmac::{KeyInit, Mac};
    let secret = client.client_secret.as_ref()?;
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret.expose().as_bytes()).ok()?;
    mac.update(username.as_bytes());
    mac.update(client.client_id.as_bytes());
    Some(crate::token::b64(&mac.finalize().into_bytes()))
}

async fn call(
    ctx: &Ctx<'_>,
    operation: &str,
    mut body: Value,
    client: &AppClient,
    username: &str,
) -> Result<Value, crate::Error> {
    if let Some(hash) = secret_hash(client, username) {
        let field = if operation == "RespondToAuthChallenge" {
            None
        } else {
            Some("SecretHash")
        };
        match field {
            Some(f) => crate::api::set(&mut body, f, Value::String(hash)),
            None => {
                if let Some(Value::Object(responses)) = body.get_mut("ChallengeResponses") {
                    responses.insert("SECRET_HASH".into(), Value::String(hash));
                }
            }
        }
    }
    crate::api::dispatch(&ctx.api(), operation, body).await
}

/// The `CodeDeliveryDetails.Destination` of an operation's output.
fn destination(out: &Value) -> Option<String> {
    out.pointer("/CodeDeliveryDetails/Destination")
        .and_then(Value::as_str)
        .map(String::from)
}

/// What [`sign_up`] did.
#[derive(Debug)]
pub struct SignedUp {
    /// The account is confirmed (a pre sign-up plugin confirmed it): no code was sent.
    pub confirmed: bool,
    /// Where the confirmation code went (masked), when one was sent.
    pub destination: Option<String>,
}

/// `SignUp`, with `attributes` as `(name, value)`.
pub async fn sign_up(
    ctx: &Ctx<'_>,
    client: &AppClient,
    username: &str,
    password: &str,
    attributes: &[(&str, &str)],
) -> Result<SignedUp, crate::Error> {
    let attributes: Vec<Value> = attributes
        .iter()
        .map(|(name, value)| json!({"Name": name, "Value": value}))
        .collect();
    let body = json!({
        "ClientId": client.client_id,
        "Username": username,
        "Password": password,
        "UserAttributes": attributes,
    });
    let out = call(ctx, "SignUp", body, client, username).await?;
    Ok(SignedUp {
        confirmed: out.get("UserConfirmed").and_then(Value::as_bool) == Some(true),
        destination: destination(&out),
    })
}

/// `ConfirmSignUp`.
pub async fn confirm_sign_up(
    ctx: &Ctx<'_>,
    client: &AppClient,
    username: &str,
    code: &str,
) -> Result<(), crate::Error> {
    let body = json!({
        "ClientId": client.client_id,
        "Username": username,
        "ConfirmationCode": code,
    });
    call(ctx, "ConfirmSignUp", body, client, username)
        .await
        .map(drop)
}

/// `ForgotPassword`: where the code went (masked), if the output says.
pub async fn forgot_password(
    ctx: &Ctx<'_>,
    client: &AppClient,
    username: &str,
) -> Result<Option<String>, crate::Error> {
    let body = json!({"ClientId": client.client_id, "Username": username});
    let out = call(ctx, "ForgotPassword", body, client, username).await?;
    Ok(destination(&out))
}

/// `ConfirmForgotPassword`.
pub async fn confirm_forgot_password(
    ctx: &Ctx<'_>,
    client: &AppClient,
    username: &str,
    code: &str,
    password: &str,
) -> Result<(), crate::Error> {
    let body = json!({
        "ClientId": client.client_id,
        "Username": username,
        "ConfirmationCode": code,
        "Password": password,
    });
    call(ctx, "ConfirmForgotPassword", body, client, username)
        .await
        .map(drop)
}

/// `RespondToAuthChallenge` to NEW_PASSWORD_REQUIRED, with the required attributes as
/// `(userAttributes.<name>, value)`. The answer issues Cognito API tokens, which the hosted UI
/// does not hand out (it signs the user in with a session and a code): they are dropped.
pub async fn respond_new_password(
    ctx: &Ctx<'_>,
    client: &AppClient,
    username: &str,
    session: &str,
    new_password: &str,
    attributes: &[(&str, &str)],
) -> Result<(), crate::Error> {
    let mut responses = serde_json::Map::new();
    responses.insert("USERNAME".into(), json!(username));
    responses.insert("NEW_PASSWORD".into(), json!(new_password));
    for (name, value) in attributes {
        responses.insert((*name).into(), json!(value));
    }
    let body = json!({
        "ClientId": client.client_id,
        "ChallengeName": "NEW_PASSWORD_REQUIRED",
        "Session": session,
        "ChallengeResponses": responses,
    });
    call(ctx, "RespondToAuthChallenge", body, client, username)
        .await
        .map(drop)
}
