//! Fixtures: pools, app clients and users made through the SDK, and the names they get.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::create_user_pool_client::builders::CreateUserPoolClientFluentBuilder;
use aws_sdk_cognitoidentityprovider::operation::sign_up::SignUpOutput;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeDataType, AttributeType, AuthFlowType, AuthenticationResultType,
    ExplicitAuthFlowsType, PasswordPolicyType, SchemaAttributeType, StringAttributeConstraintsType,
    UserPoolPolicyType, VerifiedAttributeType,
};
use base64ct::{Base64, Encoding as _};

use crate::{Target, cognito, ok};

impl Target {
    /// Creates a pool named `<prefix>-<unique>` after `customize` adds its settings; returns its id.
    pub async fn create_pool(
        &self,
        prefix: &str,
        customize: impl FnOnce(CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder,
    ) -> String {
        let builder = self
            .admin_client()
            .create_user_pool()
            .pool_name(unique(prefix));
        let output = customize(builder).send().await;
        let output = ok(output, "CreateUserPool");
        let pool = output
            .user_pool
            .expect("CreateUserPool returned no UserPool");
        pool.id.expect("CreateUserPool returned a pool without Id")
    }

    /// The usual pool: Cognito's default password policy spelt out, email auto-verified, a
    /// `custom:tier` string attribute.
    pub async fn create_standard_pool(&self, prefix: &str) -> String {
        self.create_pool(prefix, standard_pool).await
    }

    /// Creates an app client after `customize` adds its settings.
    pub async fn create_client(
        &self,
        pool_id: &str,
        customize: impl FnOnce(CreateUserPoolClientFluentBuilder) -> CreateUserPoolClientFluentBuilder,
    ) -> AppClient {
        let builder = self
            .admin_client()
            .create_user_pool_client()
            .user_pool_id(pool_id)
            .client_name(unique("client"));
        let output = ok(customize(builder).send().await, "CreateUserPoolClient");
        let client = output
            .user_pool_client
            .expect("CreateUserPoolClient returned no UserPoolClient");
        AppClient {
            pool_id: pool_id.to_owned(),
            id: client.client_id.expect("client without ClientId"),
            secret: client.client_secret,
        }
    }

    /// Every pool's `(id, name)`, following `NextToken` to the end.
    pub async fn all_pools(&self) -> Vec<(String, String)> {
        let admin = self.admin_client();
        let mut pools = Vec::new();
        let mut next_token: Option<String> = None;
        for _ in 0..10_000 {
            let output = ok(
                admin
                    .list_user_pools()
                    .max_results(60)
                    .set_next_token(next_token.take())
                    .send()
                    .await,
                "ListUserPools",
            );
            pools.extend(output.user_pools().iter().map(|p| {
                (
                    p.id().unwrap_or_default().to_owned(),
                    p.name().unwrap_or_default().to_owned(),
                )
            }));
            match output.next_token() {
                Some(token) => next_token = Some(token.to_owned()),
                None => return pools,
            }
        }
        panic!("ListUserPools never stopped returning NextToken");
    }

    /// A client without a secret allowing password, refresh and admin password sign-in.
    pub async fn create_password_client(&self, pool_id: &str) -> AppClient {
        self.create_client(pool_id, password_flows).await
    }

    /// A standard pool and a password client in it.
    pub async fn standard_setup(&self, prefix: &str) -> AppClient {
        let pool_id = self.create_standard_pool(prefix).await;
        self.create_password_client(&pool_id).await
    }

    /// `SignUp` with an email attribute through the public client (with `SECRET_HASH` when the
    /// client has a secret).
    pub async fn sign_up(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
        email: &str,
    ) -> SignUpOutput {
        let request = self
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(username)
            .password(password)
            .user_attributes(attribute("email", email))
            .set_secret_hash(client.secret_hash(username));
        ok(request.send().await, "SignUp")
    }

    /// Signs up and confirms with the code from the outbox; returns the code used.
    pub async fn sign_up_confirmed(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
        email: &str,
    ) -> String {
        self.sign_up(client, username, password, email).await;
        let code = self.latest_code(&client.pool_id, username).await;
        let confirm = self
            .public_client()
            .confirm_sign_up()
            .client_id(&client.id)
            .username(username)
            .confirmation_code(&code)
            .set_secret_hash(client.secret_hash(username));
        ok(confirm.send().await, "ConfirmSignUp");
        code
    }

    /// `InitiateAuth` `USER_PASSWORD_AUTH`, expecting tokens.
    pub async fn password_sign_in(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> AuthenticationResultType {
        let output = ok(
            self.password_auth(client, username, password).send().await,
            "InitiateAuth USER_PASSWORD_AUTH",
        );
        output
            .authentication_result
            .expect("InitiateAuth returned no AuthenticationResult")
    }

    /// An `InitiateAuth` `USER_PASSWORD_AUTH` request, ready to send (with `SECRET_HASH` when
    /// the client has a secret).
    pub fn password_auth(
        &self,
        client: &AppClient,
        username: &str,
        password: &str,
    ) -> cognito::operation::initiate_auth::builders::InitiateAuthFluentBuilder {
        let mut request = self
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(AuthFlowType::UserPasswordAuth)
            .auth_parameters("USERNAME", username)
            .auth_parameters("PASSWORD", password);
        if let Some(hash) = client.secret_hash(username) {
            request = request.auth_parameters("SECRET_HASH", hash);
        }
        request
    }
}

/// An app client as the scenarios need it.
#[derive(Debug, Clone)]
pub struct AppClient {
    pub pool_id: String,
    pub id: String,
    pub secret: Option<String>,
}

impl AppClient {
    /// `SECRET_HASH` for `username`, if this client has a secret.
    pub fn secret_hash(&self, username: &str) -> Option<String> {
        self.secret
            .as_deref()
            .map(|secret| secret_hash(secret, username, &self.id))
    }
}

/// Cognito's `SECRET_HASH`: base64(HMAC-SHA256(key = client secret, message = username + client id)).
pub fn secret_hash(client_secret: &str, username: &str, client_id: &str) -> String {
    use hmac::{KeyInit, Mac as _};
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(username.as_bytes());
    mac.update(client_id.as_bytes());
    Base64::encode_string(&mac.finalize().into_bytes())
}

/// Cognito's default password policy, email auto-verified, and a `custom:tier` attribute.
pub fn standard_pool(builder: CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder {
    builder
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(8)
                        .require_uppercase(true)
                        .require_lowercase(true)
                        .require_numbers(true)
                        .require_symbols(true)
                        .build(),
                )
                .build(),
        )
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .schema(
            SchemaAttributeType::builder()
                .name("tier")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .string_attribute_constraints(
                    StringAttributeConstraintsType::builder()
                        .min_length("1")
                        .max_length("32")
                        .build(),
                )
                .build(),
        )
}

/// Explicit auth flows: password, refresh and admin password sign-in.
pub fn password_flows(
    builder: CreateUserPoolClientFluentBuilder,
) -> CreateUserPoolClientFluentBuilder {
    builder
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowAdminUserPasswordAuth)
}

/// A user attribute.
pub fn attribute(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .expect("attribute with a name")
}

/// The value of `name` among `attributes`.
pub fn attribute_value<'a>(attributes: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attributes
        .iter()
        .find(|a| a.name() == name)
        .and_then(|a| a.value())
}

/// A name no other scenario (in this or another test binary, now or in an earlier run against
/// the same remote target) uses: `<prefix>-<pid><time><counter>`, lowercase alphanumerics.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_nanos())
        .unwrap_or(0);
    format!(
        "{prefix}-{:x}{:x}{n}",
        std::process::id(),
        nanos % 0xffff_ffff
    )
}

/// A unique email address at example.com.
pub fn unique_email(prefix: &str) -> String {
    format!("{}@example.com", unique(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_hash_matches_an_independent_computation() {
        // base64(HMAC-SHA256(key "secret", "user" + "client")), computed with Python's hmac.
        assert_eq!(
            secret_hash("secret", "user", "client"),
            "wvW87lzZoI+qQCVGmWVBJLlucdJ65huAVP1z+0MgA6E="
        );
    }
}
