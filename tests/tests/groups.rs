//! Groups and their members, the group claims in tokens, and AddCustomAttributes.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::collections::BTreeSet;

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{AttributeDataType, SchemaAttributeType};
use cognate_tests::{
    AppClient, PASSWORD, Target, attribute, attribute_value, ok, service_error, unique,
    unique_email,
};
use serde_json::{Map, Value, json};

const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/Admin";
const EDITOR_ROLE: &str = "arn:aws:iam::123456789012:role/Editor";

async fn create_group(
    target: &Target,
    pool_id: &str,
    name: &str,
    precedence: Option<i32>,
    role: Option<&str>,
) {
    ok(
        target
            .admin_client()
            .create_group()
            .user_pool_id(pool_id)
            .group_name(name)
            .description(format!("the {name} group"))
            .set_precedence(precedence)
            .set_role_arn(role.map(str::to_owned))
            .send()
            .await,
        "CreateGroup",
    );
}

async fn add(target: &Target, pool_id: &str, username: &str, group: &str) {
    ok(
        target
            .admin_client()
            .admin_add_user_to_group()
            .user_pool_id(pool_id)
            .username(username)
            .group_name(group)
            .send()
            .await,
        "AdminAddUserToGroup",
    );
}

async fn groups_of(target: &Target, pool_id: &str, username: &str) -> Vec<String> {
    let output = ok(
        target
            .admin_client()
            .admin_list_groups_for_user()
            .user_pool_id(pool_id)
            .username(username)
            .send()
            .await,
        "AdminListGroupsForUser",
    );
    output
        .groups()
        .iter()
        .map(|g| g.group_name().unwrap().to_owned())
        .collect()
}

async fn members(target: &Target, pool_id: &str, group: &str) -> BTreeSet<String> {
    let output = ok(
        target
            .admin_client()
            .list_users_in_group()
            .user_pool_id(pool_id)
            .group_name(group)
            .send()
            .await,
        "ListUsersInGroup",
    );
    output
        .users()
        .iter()
        .map(|u| u.username().unwrap().to_lowercase())
        .collect()
}

/// Signs in and returns the verified (ID, access) claims.
async fn claims(
    target: &Target,
    client: &AppClient,
    username: &str,
) -> (Map<String, Value>, Map<String, Value>) {
    let tokens = target.password_sign_in(client, username, PASSWORD).await;
    let jwks = target.jwks(&client.pool_id).await;
    let id = jwks
        .verify_id_token(tokens.id_token().unwrap(), &client.id)
        .expect("ID token verifies");
    let access = jwks
        .verify_access_token(tokens.access_token().unwrap(), &client.id)
        .expect("access token verifies");
    (id, access)
}

#[tokio::test]
async fn group_crud_and_listing() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("groups-crud").await;
    let admin = target.admin_client();

    let created = ok(
        admin
            .create_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .description("Administrators")
            .precedence(1)
            .role_arn(ADMIN_ROLE)
            .send()
            .await,
        "CreateGroup",
    );
    let group = created.group().expect("Group");
    assert_eq!(group.group_name(), Some("admins"));
    assert_eq!(group.user_pool_id(), Some(pool_id.as_str()));
    assert_eq!(group.description(), Some("Administrators"));
    assert_eq!(group.precedence(), Some(1));
    assert_eq!(group.role_arn(), Some(ADMIN_ROLE));
    assert!(group.creation_date().is_some());

    let err = service_error(
        admin
            .create_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .send()
            .await,
        "CreateGroup of an existing name",
    );
    assert!(err.is_group_exists_exception(), "{err:?}");

    let got = ok(
        admin
            .get_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .send()
            .await,
        "GetGroup",
    );
    assert_eq!(got.group().and_then(|g| g.precedence()), Some(1));
    let err = service_error(
        admin
            .get_group()
            .user_pool_id(&pool_id)
            .group_name("nobody-here")
            .send()
            .await,
        "GetGroup of a missing group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    let updated = ok(
        admin
            .update_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .description("Root users")
            .precedence(5)
            .send()
            .await,
        "UpdateGroup",
    );
    let group = updated.group().expect("Group");
    assert_eq!(group.description(), Some("Root users"));
    assert_eq!(group.precedence(), Some(5));
    assert_eq!(group.role_arn(), Some(ADMIN_ROLE), "unchanged");
    let err = service_error(
        admin
            .update_group()
            .user_pool_id(&pool_id)
            .group_name("nobody-here")
            .description("x")
            .send()
            .await,
        "UpdateGroup of a missing group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // ListGroups pages through every group.
    for i in 0..4 {
        create_group(target, &pool_id, &format!("team-{i}"), None, None).await;
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    let mut pages = 0;
    loop {
        let output = ok(
            admin
                .list_groups()
                .user_pool_id(&pool_id)
                .limit(2)
                .set_next_token(token.take())
                .send()
                .await,
            "ListGroups",
        );
        pages += 1;
        assert!(output.groups().len() <= 2);
        seen.extend(
            output
                .groups()
                .iter()
                .map(|g| g.group_name().unwrap().to_owned()),
        );
        match output.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
        assert!(pages < 10, "ListGroups never ends");
    }
    assert!(pages >= 3, "{pages} pages");
    let expected: BTreeSet<String> = ["admins", "team-0", "team-1", "team-2", "team-3"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);

    ok(
        admin
            .delete_group()
            .user_pool_id(&pool_id)
            .group_name("team-0")
            .send()
            .await,
        "DeleteGroup",
    );
    let err = service_error(
        admin
            .get_group()
            .user_pool_id(&pool_id)
            .group_name("team-0")
            .send()
            .await,
        "GetGroup of a deleted group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        admin
            .delete_group()
            .user_pool_id(&pool_id)
            .group_name("team-0")
            .send()
            .await,
        "DeleteGroup twice",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");

    // A bad role ARN and a negative precedence are refused.
    let err = service_error(
        admin
            .create_group()
            .user_pool_id(&pool_id)
            .group_name("bad-role")
            .role_arn("not-an-arn")
            .send()
            .await,
        "CreateGroup with a bad role ARN",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
    let err = service_error(
        admin
            .create_group()
            .user_pool_id(&pool_id)
            .group_name("bad-precedence")
            .precedence(-1)
            .send()
            .await,
        "CreateGroup with a negative precedence",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn members_join_and_leave_groups() {
    let target = Target::shared();
    let client = target.standard_setup("groups-members").await;
    let pool_id = client.pool_id.clone();
    let ann = unique("ann");
    let bob = unique("bob");
    for name in [&ann, &bob] {
        target
            .sign_up_confirmed(&client, name, PASSWORD, &unique_email("m"))
            .await;
    }
    create_group(target, &pool_id, "readers", Some(10), None).await;
    create_group(target, &pool_id, "writers", Some(5), None).await;

    add(target, &pool_id, &ann, "readers").await;
    add(target, &pool_id, &ann, "writers").await;
    add(target, &pool_id, &bob, "readers").await;
    // Adding twice is harmless.
    add(target, &pool_id, &bob, "readers").await;

    let mut ann_groups = groups_of(target, &pool_id, &ann).await;
    ann_groups.sort();
    assert_eq!(ann_groups, vec!["readers", "writers"]);
    assert_eq!(groups_of(target, &pool_id, &bob).await, vec!["readers"]);
    // AdminListGroupsForUser pages.
    let first = ok(
        target
            .admin_client()
            .admin_list_groups_for_user()
            .user_pool_id(&pool_id)
            .username(&ann)
            .limit(1)
            .send()
            .await,
        "AdminListGroupsForUser Limit 1",
    );
    assert_eq!(first.groups().len(), 1);
    let second = ok(
        target
            .admin_client()
            .admin_list_groups_for_user()
            .user_pool_id(&pool_id)
            .username(&ann)
            .limit(1)
            .next_token(first.next_token().expect("NextToken"))
            .send()
            .await,
        "AdminListGroupsForUser second page",
    );
    assert_eq!(second.groups().len(), 1);
    assert!(second.next_token().is_none());
    let mut paged = vec![
        first.groups()[0].group_name().unwrap().to_owned(),
        second.groups()[0].group_name().unwrap().to_owned(),
    ];
    paged.sort();
    assert_eq!(paged, ann_groups);
    assert_eq!(
        members(target, &pool_id, "readers").await,
        [ann.to_lowercase(), bob.to_lowercase()]
            .into_iter()
            .collect()
    );
    assert_eq!(
        members(target, &pool_id, "writers").await,
        [ann.to_lowercase()].into_iter().collect()
    );

    ok(
        target
            .admin_client()
            .admin_remove_user_from_group()
            .user_pool_id(&pool_id)
            .username(&ann)
            .group_name("readers")
            .send()
            .await,
        "AdminRemoveUserFromGroup",
    );
    assert_eq!(groups_of(target, &pool_id, &ann).await, vec!["writers"]);
    assert_eq!(
        members(target, &pool_id, "readers").await,
        [bob.to_lowercase()].into_iter().collect()
    );

    // A deleted user leaves every group.
    ok(
        target
            .admin_client()
            .admin_delete_user()
            .user_pool_id(&pool_id)
            .username(&bob)
            .send()
            .await,
        "AdminDeleteUser",
    );
    assert!(members(target, &pool_id, "readers").await.is_empty());

    // Missing group, missing user.
    let err = service_error(
        target
            .admin_client()
            .admin_add_user_to_group()
            .user_pool_id(&pool_id)
            .username(&ann)
            .group_name("no-such-group")
            .send()
            .await,
        "AdminAddUserToGroup of a missing group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        target
            .admin_client()
            .admin_add_user_to_group()
            .user_pool_id(&pool_id)
            .username(unique("ghost"))
            .group_name("readers")
            .send()
            .await,
        "AdminAddUserToGroup of a missing user",
    );
    assert!(err.is_user_not_found_exception(), "{err:?}");
    let err = service_error(
        target
            .admin_client()
            .list_users_in_group()
            .user_pool_id(&pool_id)
            .group_name("no-such-group")
            .send()
            .await,
        "ListUsersInGroup of a missing group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        target
            .admin_client()
            .admin_remove_user_from_group()
            .user_pool_id(&pool_id)
            .username(&ann)
            .group_name("no-such-group")
            .send()
            .await,
        "AdminRemoveUserFromGroup of a missing group",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}

#[tokio::test]
async fn list_users_in_group_pages_to_the_end() {
    let target = Target::shared();
    let client = target.standard_setup("groups-pages").await;
    let pool_id = client.pool_id.clone();
    create_group(target, &pool_id, "crowd", None, None).await;
    let mut expected = BTreeSet::new();
    for _ in 0..5 {
        let name = unique("member");
        ok(
            target
                .admin_client()
                .admin_create_user()
                .user_pool_id(&pool_id)
                .username(&name)
                .message_action(cognate_tests::cognito::types::MessageActionType::Suppress)
                .temporary_password("Temporary-Pass-1")
                .send()
                .await,
            "AdminCreateUser",
        );
        add(target, &pool_id, &name, "crowd").await;
        expected.insert(name.to_lowercase());
    }
    let mut seen = Vec::new();
    let mut token: Option<String> = None;
    for _ in 0..10 {
        let output = ok(
            target
                .admin_client()
                .list_users_in_group()
                .user_pool_id(&pool_id)
                .group_name("crowd")
                .limit(2)
                .set_next_token(token.take())
                .send()
                .await,
            "ListUsersInGroup page",
        );
        assert!(output.users().len() <= 2);
        seen.extend(
            output
                .users()
                .iter()
                .map(|u| u.username().unwrap().to_lowercase()),
        );
        match output.next_token() {
            Some(next) => token = Some(next.to_owned()),
            None => break,
        }
    }
    assert!(token.is_none(), "never reached the end");
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn tokens_carry_groups_by_precedence_and_the_preferred_role() {
    let target = Target::shared();
    let client = target.standard_setup("groups-claims").await;
    let pool_id = client.pool_id.clone();
    let username = unique("member");
    target
        .sign_up_confirmed(&client, &username, PASSWORD, &unique_email("g"))
        .await;

    // No groups: no group claims.
    let (id, access) = claims(target, &client, &username).await;
    assert!(id.get("cognito:groups").is_none(), "{id:?}");
    assert!(access.get("cognito:groups").is_none(), "{access:?}");

    create_group(
        target,
        &pool_id,
        "zeta-editors",
        Some(20),
        Some(EDITOR_ROLE),
    )
    .await;
    create_group(target, &pool_id, "alpha-readers", Some(30), None).await;
    create_group(target, &pool_id, "admins", Some(1), Some(ADMIN_ROLE)).await;
    for group in ["alpha-readers", "zeta-editors", "admins"] {
        add(target, &pool_id, &username, group).await;
    }

    let (id, access) = claims(target, &client, &username).await;
    let by_precedence = json!(["admins", "zeta-editors", "alpha-readers"]);
    assert_eq!(id.get("cognito:groups"), Some(&by_precedence), "{id:?}");
    assert_eq!(
        access.get("cognito:groups"),
        Some(&by_precedence),
        "{access:?}"
    );
    assert_eq!(
        id.get("cognito:roles"),
        Some(&json!([ADMIN_ROLE, EDITOR_ROLE])),
        "{id:?}"
    );
    assert_eq!(
        id.get("cognito:preferred_role"),
        Some(&json!(ADMIN_ROLE)),
        "{id:?}"
    );

    // Refreshed tokens carry the current groups too.
    let tokens = target.password_sign_in(&client, &username, PASSWORD).await;
    ok(
        target
            .admin_client()
            .admin_remove_user_from_group()
            .user_pool_id(&pool_id)
            .username(&username)
            .group_name("alpha-readers")
            .send()
            .await,
        "AdminRemoveUserFromGroup",
    );
    let refreshed = ok(
        target
            .public_client()
            .initiate_auth()
            .client_id(&client.id)
            .auth_flow(cognate_tests::cognito::types::AuthFlowType::RefreshTokenAuth)
            .auth_parameters("REFRESH_TOKEN", tokens.refresh_token().unwrap())
            .send()
            .await,
        "REFRESH_TOKEN_AUTH",
    );
    let jwks = target.jwks(&pool_id).await;
    let id = jwks
        .verify_id_token(
            refreshed
                .authentication_result()
                .unwrap()
                .id_token()
                .unwrap(),
            &client.id,
        )
        .unwrap();
    assert_eq!(
        id.get("cognito:groups"),
        Some(&json!(["admins", "zeta-editors"])),
        "{id:?}"
    );

    // A deleted group disappears from new tokens and from the user's groups.
    ok(
        target
            .admin_client()
            .delete_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .send()
            .await,
        "DeleteGroup",
    );
    assert_eq!(
        groups_of(target, &pool_id, &username).await,
        vec!["zeta-editors"]
    );
    let (id, access) = claims(target, &client, &username).await;
    assert_eq!(
        id.get("cognito:groups"),
        Some(&json!(["zeta-editors"])),
        "{id:?}"
    );
    assert_eq!(access.get("cognito:groups"), Some(&json!(["zeta-editors"])));
    assert_eq!(id.get("cognito:roles"), Some(&json!([EDITOR_ROLE])));
    assert_eq!(id.get("cognito:preferred_role"), Some(&json!(EDITOR_ROLE)));

    // A new group with the deleted one's name does not inherit its members.
    create_group(target, &pool_id, "admins", Some(1), Some(ADMIN_ROLE)).await;
    assert_eq!(
        groups_of(target, &pool_id, &username).await,
        vec!["zeta-editors"]
    );
    assert!(members(target, &pool_id, "admins").await.is_empty());
    let (id, _) = claims(target, &client, &username).await;
    assert_eq!(id.get("cognito:groups"), Some(&json!(["zeta-editors"])));

    // Updating a group's precedence reorders the claims.
    add(target, &pool_id, &username, "admins").await;
    ok(
        target
            .admin_client()
            .update_group()
            .user_pool_id(&pool_id)
            .group_name("admins")
            .precedence(99)
            .send()
            .await,
        "UpdateGroup",
    );
    let (id, _) = claims(target, &client, &username).await;
    assert_eq!(
        id.get("cognito:groups"),
        Some(&json!(["zeta-editors", "admins"])),
        "{id:?}"
    );
    assert_eq!(id.get("cognito:preferred_role"), Some(&json!(EDITOR_ROLE)));
}

#[tokio::test]
async fn add_custom_attributes_extends_the_schema() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("custom-attrs").await;
    let admin = target.admin_client();
    let username = unique("custom");
    ok(
        admin
            .admin_create_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .temporary_password("Temporary-Pass-1")
            .message_action(cognate_tests::cognito::types::MessageActionType::Suppress)
            .send()
            .await,
        "AdminCreateUser",
    );

    // Before: unknown to the schema.
    let err = service_error(
        admin
            .admin_update_user_attributes()
            .user_pool_id(&pool_id)
            .username(&username)
            .user_attributes(attribute("custom:department", "R&D"))
            .send()
            .await,
        "AdminUpdateUserAttributes of an undeclared attribute",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    ok(
        admin
            .add_custom_attributes()
            .user_pool_id(&pool_id)
            .custom_attributes(
                SchemaAttributeType::builder()
                    .name("department")
                    .attribute_data_type(AttributeDataType::String)
                    .mutable(true)
                    .build(),
            )
            .custom_attributes(
                SchemaAttributeType::builder()
                    .name("badge")
                    .attribute_data_type(AttributeDataType::Number)
                    .mutable(true)
                    .build(),
            )
            .send()
            .await,
        "AddCustomAttributes",
    );
    let described = ok(
        admin
            .describe_user_pool()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "DescribeUserPool",
    );
    let schema: Vec<&str> = described
        .user_pool()
        .unwrap()
        .schema_attributes()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert!(schema.contains(&"custom:department"), "{schema:?}");
    assert!(schema.contains(&"custom:badge"), "{schema:?}");

    ok(
        admin
            .admin_update_user_attributes()
            .user_pool_id(&pool_id)
            .username(&username)
            .user_attributes(attribute("custom:department", "R&D"))
            .user_attributes(attribute("custom:badge", "42"))
            .send()
            .await,
        "AdminUpdateUserAttributes of the new attributes",
    );
    let user = ok(
        admin
            .admin_get_user()
            .user_pool_id(&pool_id)
            .username(&username)
            .send()
            .await,
        "AdminGetUser",
    );
    assert_eq!(
        attribute_value(user.user_attributes(), "custom:department"),
        Some("R&D")
    );
    assert_eq!(
        attribute_value(user.user_attributes(), "custom:badge"),
        Some("42")
    );
    // A Number attribute takes numbers only.
    let err = service_error(
        admin
            .admin_update_user_attributes()
            .user_pool_id(&pool_id)
            .username(&username)
            .user_attributes(attribute("custom:badge", "forty-two"))
            .send()
            .await,
        "AdminUpdateUserAttributes of a Number with text",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");

    // A name already in the schema (declared at creation or added) is refused.
    for existing in ["department", "tier"] {
        let err = service_error(
            admin
                .add_custom_attributes()
                .user_pool_id(&pool_id)
                .custom_attributes(
                    SchemaAttributeType::builder()
                        .name(existing)
                        .attribute_data_type(AttributeDataType::String)
                        .build(),
                )
                .send()
                .await,
            "AddCustomAttributes of an existing name",
        );
        assert!(err.is_invalid_parameter_exception(), "{existing}: {err:?}");
        assert!(err.message().is_some());
    }
    let err = service_error(
        admin
            .add_custom_attributes()
            .user_pool_id("us-east-1_NoSuchPool")
            .custom_attributes(
                SchemaAttributeType::builder()
                    .name("x")
                    .attribute_data_type(AttributeDataType::String)
                    .build(),
            )
            .send()
            .await,
        "AddCustomAttributes to an unknown pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
}
