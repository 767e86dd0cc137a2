//! Groups and their members, the group claims in tokens, and AddCustomAttributes.

use std::collections::BTreeSet;

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{AttributeDataType, SchemaAttributeType};
use cognate_tests::scenarios::{
    TEMPORARY_PASSWORD, add_user_to_group, admin_create_quietly, admin_delete, admin_groups_page,
    admin_update_attributes, all_pages, assert_admin_attributes, confirmed_user, create_group,
    delete_group, groups_of, members, refresh_token_auth, remove_user_from_group, sign_in_claims,
    usernames, verified_claims,
};
use cognate_tests::{PASSWORD, Target, ok, service_error, unique};
use serde_json::json;

const ADMIN_ROLE: &str = "arn:aws:iam::123456789012:role/Admin";
const EDITOR_ROLE: &str = "arn:aws:iam::123456789012:role/Editor";

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
    let pool = pool_id.as_str();
    let listed = all_pages("ListGroups", |token| async move {
        let admin = target.admin_client();
        let request = admin.list_groups().user_pool_id(pool).limit(2);
        let output = ok(request.set_next_token(token).send().await, "ListGroups");
        let names = output.groups().iter().map(|g| g.group_name().unwrap());
        let next = output.next_token().map(str::to_owned);
        (names.map(str::to_owned).collect::<Vec<_>>(), next)
    })
    .await;
    assert!(listed.iter().all(|page| page.len() <= 2), "{listed:?}");
    let pages = listed.len();
    let seen: Vec<String> = listed.into_iter().flatten().collect();
    assert!(pages >= 3, "{pages} pages");
    let expected: BTreeSet<String> = ["admins", "team-0", "team-1", "team-2", "team-3"]
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);

    ok(
        delete_group(target, &pool_id, "team-0").await,
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
        delete_group(target, &pool_id, "team-0").await,
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
            .sign_up_confirmed(&client, name, PASSWORD, &cognate_tests::unique_email("m"))
            .await;
    }
    create_group(target, &pool_id, "readers", Some(10), None).await;
    create_group(target, &pool_id, "writers", Some(5), None).await;

    add_user_to_group(target, &pool_id, &ann, "readers").await;
    add_user_to_group(target, &pool_id, &ann, "writers").await;
    add_user_to_group(target, &pool_id, &bob, "readers").await;
    // Adding twice is harmless.
    add_user_to_group(target, &pool_id, &bob, "readers").await;

    let mut ann_groups = groups_of(target, &pool_id, &ann).await;
    ann_groups.sort();
    assert_eq!(ann_groups, vec!["readers", "writers"]);
    assert_eq!(groups_of(target, &pool_id, &bob).await, vec!["readers"]);
    // AdminListGroupsForUser pages.
    let first = ok(
        admin_groups_page(target, &pool_id, &ann, Some(1), None).await,
        "AdminListGroupsForUser Limit 1",
    );
    assert_eq!(first.groups().len(), 1);
    let next = first.next_token().expect("NextToken").to_owned();
    let second = ok(
        admin_groups_page(target, &pool_id, &ann, Some(1), Some(next)).await,
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
        remove_user_from_group(target, &pool_id, &ann, "readers").await,
        "AdminRemoveUserFromGroup",
    );
    assert_eq!(groups_of(target, &pool_id, &ann).await, vec!["writers"]);
    assert_eq!(
        members(target, &pool_id, "readers").await,
        [bob.to_lowercase()].into_iter().collect()
    );

    // A deleted user leaves every group.
    ok(
        admin_delete(target, &pool_id, &bob).await,
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
        remove_user_from_group(target, &pool_id, &ann, "no-such-group").await,
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
        admin_create_quietly(target, &pool_id, &name, TEMPORARY_PASSWORD, &[]).await;
        add_user_to_group(target, &pool_id, &name, "crowd").await;
        expected.insert(name.to_lowercase());
    }
    let pool = pool_id.as_str();
    let listed = all_pages("ListUsersInGroup", |token| async move {
        let admin = target.admin_client();
        let request = admin.list_users_in_group().user_pool_id(pool);
        let request = request.group_name("crowd").limit(2).set_next_token(token);
        let output = ok(request.send().await, "ListUsersInGroup page");
        let next = output.next_token().map(str::to_owned);
        (
            usernames(output.users()).into_iter().collect::<Vec<_>>(),
            next,
        )
    })
    .await;
    assert!(listed.iter().all(|page| page.len() <= 2), "{listed:?}");
    let seen: Vec<String> = listed.into_iter().flatten().collect();
    assert_eq!(seen.len(), expected.len(), "{seen:?}");
    assert_eq!(seen.into_iter().collect::<BTreeSet<_>>(), expected);
}

#[tokio::test]
async fn tokens_carry_groups_by_precedence_and_the_preferred_role() {
    let target = Target::shared();
    let client = target.standard_setup("groups-claims").await;
    let pool_id = client.pool_id.clone();
    let username = confirmed_user(target, &client, "member").await;

    // No groups: no group claims.
    let (id, access) = sign_in_claims(target, &client, &username).await;
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
        add_user_to_group(target, &pool_id, &username, group).await;
    }

    let (id, access) = sign_in_claims(target, &client, &username).await;
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
        remove_user_from_group(target, &pool_id, &username, "alpha-readers").await,
        "AdminRemoveUserFromGroup",
    );
    let refreshed = ok(
        refresh_token_auth(target, &client, tokens.refresh_token().unwrap()).await,
        "REFRESH_TOKEN_AUTH",
    );
    let (id, _) =
        verified_claims(target, &client, refreshed.authentication_result().unwrap()).await;
    assert_eq!(
        id.get("cognito:groups"),
        Some(&json!(["admins", "zeta-editors"])),
        "{id:?}"
    );

    // A deleted group disappears from new tokens and from the user's groups.
    ok(
        delete_group(target, &pool_id, "admins").await,
        "DeleteGroup",
    );
    assert_eq!(
        groups_of(target, &pool_id, &username).await,
        vec!["zeta-editors"]
    );
    let (id, access) = sign_in_claims(target, &client, &username).await;
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
    let (id, _) = sign_in_claims(target, &client, &username).await;
    assert_eq!(id.get("cognito:groups"), Some(&json!(["zeta-editors"])));

    // Updating a group's precedence reorders the claims.
    add_user_to_group(target, &pool_id, &username, "admins").await;
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
    let (id, _) = sign_in_claims(target, &client, &username).await;
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
    admin_create_quietly(target, &pool_id, &username, TEMPORARY_PASSWORD, &[]).await;

    // Before: unknown to the schema.
    let err = service_error(
        admin_update_attributes(target, &pool_id, &username, &[("custom:department", "R&D")]).await,
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
        admin_update_attributes(
            target,
            &pool_id,
            &username,
            &[("custom:department", "R&D"), ("custom:badge", "42")],
        )
        .await,
        "AdminUpdateUserAttributes of the new attributes",
    );
    let expected = [
        ("custom:department", Some("R&D")),
        ("custom:badge", Some("42")),
    ];
    assert_admin_attributes(target, &pool_id, &username, &expected).await;
    // A Number attribute takes numbers only.
    let err = service_error(
        admin_update_attributes(
            target,
            &pool_id,
            &username,
            &[("custom:badge", "forty-two")],
        )
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
