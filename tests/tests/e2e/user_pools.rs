//! Pool and app-client management through the AWS SDK, signed with the admin keys.

use std::collections::HashSet;

use cognate_tests::cognito::types::{
    AttributeDataType, ExplicitAuthFlowsType, PasswordPolicyType, UserPoolPolicyType,
    VerifiedAttributeType,
};
use cognate_tests::{PASSWORD, Target, ok, service_error, unique, unique_email};

fn is_pool_id(id: &str) -> bool {
    id.strip_prefix("us-east-1_")
        .is_some_and(|rest| rest.len() == 9 && rest.chars().all(|c| c.is_ascii_alphanumeric()))
}

fn is_client_id(id: &str) -> bool {
    id.len() == 26
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
}

#[tokio::test]
async fn create_user_pool_returns_a_cognito_pool_id_and_describe_shows_its_settings() {
    let target = Target::shared();
    let admin = target.admin_client();
    let name = unique("settings");
    let created = ok(
        admin
            .create_user_pool()
            .pool_name(&name)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(10)
                            .require_uppercase(true)
                            .require_lowercase(true)
                            .require_numbers(true)
                            .require_symbols(false)
                            .build(),
                    )
                    .build(),
            )
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .schema(
                cognate_tests::cognito::types::SchemaAttributeType::builder()
                    .name("tier")
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .build(),
            )
            .send()
            .await,
        "CreateUserPool",
    );
    let pool = created.user_pool().expect("UserPool in the response");
    let pool_id = pool.id().expect("pool Id").to_owned();
    assert!(
        is_pool_id(&pool_id),
        "pool id {pool_id:?} is not us-east-1_ + 9 alphanumerics"
    );
    assert_eq!(pool.name(), Some(name.as_str()));

    let described = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    let pool = described.user_pool().expect("UserPool in the response");
    assert_eq!(pool.id(), Some(pool_id.as_str()));
    assert_eq!(pool.name(), Some(name.as_str()));
    if let Some(arn) = pool.arn() {
        assert!(arn.starts_with("arn:aws:cognito-idp:us-east-1:"), "{arn}");
        assert!(arn.ends_with(&format!(":userpool/{pool_id}")), "{arn}");
    }
    let policy = pool
        .policies()
        .and_then(|p| p.password_policy())
        .expect("PasswordPolicy in the description");
    assert_eq!(policy.minimum_length(), Some(10));
    assert!(policy.require_uppercase());
    assert!(policy.require_lowercase());
    assert!(policy.require_numbers());
    assert!(!policy.require_symbols());
    assert_eq!(
        pool.auto_verified_attributes(),
        &[VerifiedAttributeType::Email]
    );
    let tier = pool
        .schema_attributes()
        .iter()
        .find(|a| a.name() == Some("custom:tier"))
        .unwrap_or_else(|| {
            panic!(
                "custom:tier not in SchemaAttributes: {:?}",
                pool.schema_attributes()
            )
        });
    assert_eq!(tier.attribute_data_type(), Some(&AttributeDataType::String));
}

#[tokio::test]
async fn update_user_pool_changes_the_password_policy_that_sign_up_enforces() {
    let target = Target::shared();
    let admin = target.admin_client();
    let client = target.standard_setup("update").await;
    let pool_id = client.pool_id.clone();

    ok(
        admin
            .update_user_pool()
            .user_pool_id(&pool_id)
            .policies(
                UserPoolPolicyType::builder()
                    .password_policy(
                        PasswordPolicyType::builder()
                            .minimum_length(14)
                            .require_uppercase(false)
                            .require_lowercase(true)
                            .require_numbers(false)
                            .require_symbols(false)
                            .build(),
                    )
                    .build(),
            )
            .auto_verified_attributes(VerifiedAttributeType::Email)
            .send()
            .await,
        "UpdateUserPool",
    );
    let described = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    let policy = described
        .user_pool()
        .and_then(|p| p.policies())
        .and_then(|p| p.password_policy())
        .expect("PasswordPolicy");
    assert_eq!(policy.minimum_length(), Some(14));
    assert!(!policy.require_symbols());
    assert!(!policy.require_numbers());

    // A 12-character password that met the old policy no longer does; a long lowercase one does.
    let short = "Abcdef-12345";
    let err = service_error(
        target
            .public_client()
            .sign_up()
            .client_id(&client.id)
            .username(unique("short"))
            .password(short)
            .send()
            .await,
        "SignUp with a password shorter than the new minimum",
    );
    assert!(err.is_invalid_password_exception(), "{err:?}");
    target
        .sign_up(
            &client,
            &unique("long"),
            "only-lowercase-long-enough",
            &unique_email("u"),
        )
        .await;
}

#[tokio::test]
async fn update_or_describe_of_an_unknown_pool_is_resource_not_found() {
    let target = Target::shared();
    let admin = target.admin_client();
    let err = service_error(
        admin
            .describe_user_pool()
            .user_pool_id("us-east-1_Zz9Zz9Zz9")
            .send()
            .await,
        "DescribeUserPool of an unknown pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        admin
            .update_user_pool()
            .user_pool_id("us-east-1_Zz9Zz9Zz9")
            .send()
            .await,
        "UpdateUserPool of an unknown pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn list_user_pools_pages_through_every_pool_with_max_results_and_next_token() {
    let target = Target::shared();
    let admin = target.admin_client();
    let mut mine = HashSet::new();
    for _ in 0..3 {
        mine.insert(target.create_pool("listed", |b| b).await);
    }

    let mut seen = Vec::new();
    let mut next_token: Option<String> = None;
    for page in 0.. {
        assert!(
            page < 1000,
            "ListUserPools never stopped returning NextToken"
        );
        let output = ok(
            admin
                .list_user_pools()
                .max_results(2)
                .set_next_token(next_token.clone())
                .send()
                .await,
            "ListUserPools",
        );
        assert!(
            output.user_pools().len() <= 2,
            "page larger than MaxResults: {output:?}"
        );
        seen.extend(
            output
                .user_pools()
                .iter()
                .filter_map(|p| p.id().map(str::to_owned)),
        );
        next_token = output.next_token().map(str::to_owned);
        if next_token.is_none() {
            break;
        }
    }
    let unique_seen: HashSet<&String> = seen.iter().collect();
    assert_eq!(
        unique_seen.len(),
        seen.len(),
        "a pool was listed twice: {seen:?}"
    );
    for id in &mine {
        assert!(
            unique_seen.contains(id),
            "pool {id} missing from the listing {seen:?}"
        );
    }
}

#[tokio::test]
async fn list_user_pools_rejects_max_results_out_of_range() {
    let target = Target::shared();
    for max in [0, 61] {
        let err = service_error(
            target
                .admin_client()
                .list_user_pools()
                .max_results(max)
                .send()
                .await,
            "ListUserPools with MaxResults out of 1..=60",
        );
        assert!(
            err.is_invalid_parameter_exception(),
            "MaxResults {max}: {err:?}"
        );
    }
}

#[tokio::test]
async fn delete_user_pool_removes_it_and_its_clients() {
    let target = Target::shared();
    let admin = target.admin_client();
    let client = target.standard_setup("deleted").await;
    let pool_id = client.pool_id.clone();

    ok(
        admin.delete_user_pool().user_pool_id(&pool_id).send().await,
        "DeleteUserPool",
    );
    let err = service_error(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool after delete",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        admin
            .describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .send()
            .await,
        "DescribeUserPoolClient after the pool was deleted",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        target
            .password_auth(&client, "nobody", PASSWORD)
            .send()
            .await,
        "InitiateAuth with a client of a deleted pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        admin.delete_user_pool().user_pool_id(&pool_id).send().await,
        "DeleteUserPool twice",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn create_user_pool_client_returns_a_26_character_id_and_a_secret_only_when_asked() {
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("clients").await;

    let plain = ok(
        admin
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("plain")
            .send()
            .await,
        "CreateUserPoolClient",
    );
    let plain = plain.user_pool_client().expect("UserPoolClient");
    let plain_id = plain.client_id().expect("ClientId");
    assert!(
        is_client_id(plain_id),
        "client id {plain_id:?} is not 26 lowercase alphanumerics"
    );
    assert_eq!(plain.user_pool_id(), Some(pool_id.as_str()));
    assert_eq!(plain.client_name(), Some("plain"));
    assert_eq!(plain.client_secret(), None);

    let secret = ok(
        admin
            .create_user_pool_client()
            .user_pool_id(&pool_id)
            .client_name("confidential")
            .generate_secret(true)
            .send()
            .await,
        "CreateUserPoolClient with GenerateSecret",
    );
    let secret = secret.user_pool_client().expect("UserPoolClient");
    let secret_id = secret.client_id().expect("ClientId");
    assert!(is_client_id(secret_id), "{secret_id:?}");
    assert_ne!(secret_id, plain_id);
    let client_secret = secret
        .client_secret()
        .expect("ClientSecret for GenerateSecret");
    assert!(
        client_secret.len() >= 32,
        "a short client secret: {client_secret:?}"
    );

    let described = ok(
        admin
            .describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(secret_id)
            .send()
            .await,
        "DescribeUserPoolClient",
    );
    let described = described.user_pool_client().expect("UserPoolClient");
    assert_eq!(described.client_id(), Some(secret_id));
    assert_eq!(described.client_name(), Some("confidential"));
    assert_eq!(described.client_secret(), Some(client_secret));
}

#[tokio::test]
async fn update_user_pool_client_changes_its_name_and_auth_flows() {
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("client-update").await;
    let client = target
        .create_client(&pool_id, |b| b.generate_secret(true))
        .await;

    // Without ALLOW_USER_PASSWORD_AUTH, password sign-in is refused ...
    let username = unique("flows");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("flows"))
        .await;
    let err = service_error(
        target
            .password_auth(&client, &username, PASSWORD)
            .send()
            .await,
        "USER_PASSWORD_AUTH before the client allows it",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    let updated = ok(
        admin
            .update_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .client_name("renamed")
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
            .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
            .send()
            .await,
        "UpdateUserPoolClient",
    );
    let updated = updated.user_pool_client().expect("UserPoolClient");
    assert_eq!(updated.client_name(), Some("renamed"));

    let described = ok(
        admin
            .describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&client.id)
            .send()
            .await,
        "DescribeUserPoolClient",
    );
    let described = described.user_pool_client().expect("UserPoolClient");
    assert_eq!(described.client_name(), Some("renamed"));
    let flows: HashSet<&ExplicitAuthFlowsType> = described.explicit_auth_flows().iter().collect();
    assert!(
        flows.contains(&ExplicitAuthFlowsType::AllowUserPasswordAuth),
        "{flows:?}"
    );
    assert!(
        flows.contains(&ExplicitAuthFlowsType::AllowRefreshTokenAuth),
        "{flows:?}"
    );
    // The secret survives an update.
    assert_eq!(described.client_secret(), client.secret.as_deref());

    // ... and allowed after the update.
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    assert!(tokens.access_token().is_some());
}

#[tokio::test]
async fn list_user_pool_clients_pages_and_delete_user_pool_client_removes_one() {
    let target = Target::shared();
    let admin = target.admin_client();
    let pool_id = target.create_standard_pool("client-list").await;
    let mut ids = HashSet::new();
    for _ in 0..3 {
        ids.insert(target.create_client(&pool_id, |b| b).await.id);
    }

    let list_all = || async {
        let mut seen = Vec::new();
        let mut next_token: Option<String> = None;
        for page in 0.. {
            assert!(
                page < 100,
                "ListUserPoolClients never stopped returning NextToken"
            );
            let output = ok(
                admin
                    .list_user_pool_clients()
                    .user_pool_id(&pool_id)
                    .max_results(2)
                    .set_next_token(next_token.clone())
                    .send()
                    .await,
                "ListUserPoolClients",
            );
            assert!(output.user_pool_clients().len() <= 2, "{output:?}");
            for c in output.user_pool_clients() {
                assert_eq!(c.user_pool_id(), Some(pool_id.as_str()), "{c:?}");
                seen.push(c.client_id().expect("ClientId").to_owned());
            }
            next_token = output.next_token().map(str::to_owned);
            if next_token.is_none() {
                break;
            }
        }
        seen
    };
    let listed = list_all().await;
    assert_eq!(
        listed.iter().collect::<HashSet<_>>(),
        ids.iter().collect(),
        "{listed:?}"
    );
    assert_eq!(listed.len(), 3, "{listed:?}");

    let victim = ids.iter().next().expect("three clients").clone();
    ok(
        admin
            .delete_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&victim)
            .send()
            .await,
        "DeleteUserPoolClient",
    );
    let err = service_error(
        admin
            .describe_user_pool_client()
            .user_pool_id(&pool_id)
            .client_id(&victim)
            .send()
            .await,
        "DescribeUserPoolClient after delete",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let listed = list_all().await;
    assert_eq!(listed.len(), 2, "{listed:?}");
    assert!(!listed.contains(&victim), "{listed:?}");

    // A client id is only found in its own pool.
    let other_pool = target.create_standard_pool("client-list-other").await;
    let survivor = listed.first().expect("two clients left");
    let err = service_error(
        admin
            .describe_user_pool_client()
            .user_pool_id(&other_pool)
            .client_id(survivor)
            .send()
            .await,
        "DescribeUserPoolClient in the wrong pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}
