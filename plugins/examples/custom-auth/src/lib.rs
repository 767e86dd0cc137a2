//! CUSTOM_AUTH with a one-time code: one plugin for the define / create / verify auth challenge
//! trio (point all three `LambdaConfig` fields at it; it dispatches on `triggerSource`).
//!
//! The code works like a hardware token: it is derived from a secret compiled into the plugin,
//! the user and the round (so each challenge has a new code), and the user's device computes the
//! same (see [`expected_code`]). Three wrong answers fail the sign-in.

use cognate_plugin::serde;
use cognate_plugin::{
    CreateAuthChallengeRequest, CreateAuthChallengeResponse, DefineAuthChallengeRequest,
    DefineAuthChallengeResponse, Event, Strings, VerifyAuthChallengeResponseRequest,
    VerifyAuthChallengeResponseResponse,
};
use serde_json::Value;

/// The shared secret (an example: a real deployment builds its own plugin with its own).
pub const SECRET: &str = "cognate-example-otp-secret";
/// Wrong answers allowed.
pub const MAX_ATTEMPTS: usize = 3;

/// FNV-1a, 64-bit.
fn fnv1a(data: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in data {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The 6-digit code for `username` in challenge round `round` (0, 1, 2...).
pub fn expected_code(username: &str, round: usize) -> String {
    let input = format!("{SECRET}:{username}:{round}");
    format!("{:06}", fnv1a(input.as_bytes()) % 1_000_000)
}

fn define(
    event: Event<DefineAuthChallengeRequest, DefineAuthChallengeResponse>,
) -> Result<DefineAuthChallengeResponse, String> {
    let session = &event.request.session;
    let mut response = DefineAuthChallengeResponse::default();
    match session.last() {
        Some(last) if last.challenge_name == "CUSTOM_CHALLENGE" && last.challenge_result => {
            response.issue_tokens = true;
        }
        _ if session.len() >= MAX_ATTEMPTS => response.fail_authentication = true,
        _ => response.challenge_name = Some("CUSTOM_CHALLENGE".into()),
    }
    Ok(response)
}

fn create(
    event: Event<CreateAuthChallengeRequest, CreateAuthChallengeResponse>,
) -> Result<CreateAuthChallengeResponse, String> {
    let round = event.request.session.len();
    let mut public = Strings::new();
    public.insert("round".into(), round.to_string());
    public.insert(
        "hint".into(),
        "Enter the 6-digit code from your token".into(),
    );
    let mut private = Strings::new();
    private.insert("code".into(), expected_code(&event.user_name, round));
    Ok(CreateAuthChallengeResponse {
        public_challenge_parameters: public,
        private_challenge_parameters: private,
        challenge_metadata: Some(format!("CODE-ROUND-{round}")),
    })
}

fn verify(
    event: Event<VerifyAuthChallengeResponseRequest, VerifyAuthChallengeResponseResponse>,
) -> Result<VerifyAuthChallengeResponseResponse, String> {
    let expected = event.request.private_challenge_parameters.get("code");
    Ok(VerifyAuthChallengeResponseResponse {
        answer_correct: expected.is_some_and(|c| *c == event.request.challenge_answer.trim()),
    })
}

/// Dispatches on `triggerSource`.
pub fn handler(event: Event<Value, Value>) -> Result<Value, String> {
    match event.trigger_source.as_str() {
        "DefineAuthChallenge_Authentication" => to_value(define(event.typed()?)),
        "CreateAuthChallenge_Authentication" => to_value(create(event.typed()?)),
        "VerifyAuthChallengeResponse_Authentication" => to_value(verify(event.typed()?)),
        other => Err(format!("unexpected trigger {other}")),
    }
}

fn to_value<T: serde::Serialize>(answer: Result<T, String>) -> Result<Value, String> {
    answer.and_then(|r| serde_json::to_value(r).map_err(|e| e.to_string()))
}

cognate_plugin::export_handler!(handler);
