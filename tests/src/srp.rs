//! The client's side of USER_SRP_AUTH, as pycognito and amazon-cognito-identity-js compute it,
//! from the core's `srp` module (whose known-answer vectors come from those two clients).

use std::collections::HashMap;

use cognate_core::srp;

use crate::cognito::operation::initiate_auth::InitiateAuthOutput;
use crate::cognito::operation::respond_to_auth_challenge::RespondToAuthChallengeOutput;
use crate::cognito::types::{AuthFlowType, ChallengeNameType};
use crate::{AppClient, Target};

/// One client-side SRP exchange: the secret `a` and the public A.
#[derive(Debug, Clone)]
pub struct SrpClient {
    a: Vec<u8>,
    pub big_a: String,
}

impl Default for SrpClient {
    fn default() -> Self {
        Self::new()
    }
}

impl SrpClient {
    /// A fresh random `a` (128 bytes, as identity-js and pycognito draw it).
    pub fn new() -> Self {
        use rand::RngCore;
        let mut a = vec![0u8; 128];
        rand::thread_rng().fill_bytes(&mut a);
        let big_a = srp::client_public(&a).expect("A");
        Self { a, big_a }
    }

    /// The PASSWORD_VERIFIER answer to a challenge's parameters, for `password`, timestamped
    /// now: `USERNAME`, `PASSWORD_CLAIM_SECRET_BLOCK`, `TIMESTAMP`, `PASSWORD_CLAIM_SIGNATURE`
    /// (and `SECRET_HASH` for a client with a secret).
    pub fn answer(
        &self,
        client: &AppClient,
        parameters: &HashMap<String, String>,
        password: &str,
    ) -> HashMap<String, String> {
        let p = |name: &str| {
            parameters
                .get(name)
                .unwrap_or_else(|| panic!("challenge parameter {name} missing: {parameters:?}"))
                .as_str()
        };
        let pool_name = srp::pool_name(&client.pool_id);
        let user_id = p("USER_ID_FOR_SRP");
        let key = srp::client_key(&self.a, p("SRP_B"), p("SALT"), pool_name, user_id, password)
            .expect("client key");
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_secs() as i64)
            .unwrap_or(0);
        let timestamp = srp::format_timestamp(now).expect("timestamp");
        let block = cognate_core::codec::b64_decode(p("SECRET_BLOCK")).expect("SECRET_BLOCK");
        let signature = srp::signature(&key, pool_name, user_id, &block, &timestamp);
        let mut out = HashMap::new();
        out.insert("USERNAME".to_owned(), p("USERNAME").to_owned());
        out.insert(
            "PASSWORD_CLAIM_SECRET_BLOCK".to_owned(),
            p("SECRET_BLOCK").to_owned(),
        );
        out.insert("TIMESTAMP".to_owned(), timestamp);
        out.insert(
            "PASSWORD_CLAIM_SIGNATURE".to_owned(),
            cognate_core::codec::b64(&signature),
        );
        if let Some(hash) = client.secret_hash(p("USERNAME")) {
            out.insert("SECRET_HASH".to_owned(), hash);
        }
        out
    }
}

impl Target {
    /// `InitiateAuth` `USER_SRP_AUTH` with this exchange's A.
    pub async fn srp_initiate(
        &self,
        client: &AppClient,
        login: &str,
        srp: &SrpClient,
    ) -> Result<
        InitiateAuthOutput,
        crate::cognito::error::SdkError<
            crate::cognito::operation::initiate_auth::InitiateAuthError,
        >,
    > {
        let mut request = self
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserSrpAuth)
            .auth_parameters("USERNAME", login)
            .auth_parameters("SRP_A", &srp.big_a);
        if let Some(hash) = client.secret_hash(login) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        request.send().await
    }

    /// `RespondToAuthChallenge` `PASSWORD_VERIFIER` with these responses (no `Session`, as
    /// pycognito and identity-js send none).
    pub async fn srp_respond(
        &self,
        client: &AppClient,
        responses: HashMap<String, String>,
    ) -> Result<
        RespondToAuthChallengeOutput,
        crate::cognito::error::SdkError<
            crate::cognito::operation::respond_to_auth_challenge::RespondToAuthChallengeError,
        >,
    > {
        self.public_client()
            .respond_to_auth_challenge()
            .client_id(&client.id)
            .challenge_name(ChallengeNameType::PasswordVerifier)
            .set_challenge_responses(Some(responses))
            .send()
            .await
    }

    /// Both calls of a USER_SRP_AUTH sign-in; the second call's answer.
    pub async fn srp_sign_in(
        &self,
        client: &AppClient,
        login: &str,
        password: &str,
    ) -> Result<
        RespondToAuthChallengeOutput,
        crate::cognito::error::SdkError<
            crate::cognito::operation::respond_to_auth_challenge::RespondToAuthChallengeError,
        >,
    > {
        let srp = SrpClient::new();
        let challenge = crate::ok(
            self.srp_initiate(client, login, &srp).await,
            "InitiateAuth USER_SRP_AUTH",
        );
        assert_eq!(
            challenge.challenge_name(),
            Some(&ChallengeNameType::PasswordVerifier)
        );
        let parameters = challenge
            .challenge_parameters()
            .cloned()
            .unwrap_or_default();
        self.srp_respond(client, srp.answer(client, &parameters, password))
            .await
    }
}
