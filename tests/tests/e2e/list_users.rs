//! ListUsers: Cognito's filter syntax on each searchable attribute, AttributesToGet, and
//! pagination to the end.

use std::collections::BTreeSet;

use cognate_tests::cognito::types::UserType;
use cognate_tests::scenarios::{
    TEMPORARY_PASSWORD, admin_create_quietly, admin_delete, admin_disable, admin_set_password,
    admin_update_attributes, all_pages, list_users, update_own_attributes, usernames,
};
use cognate_tests::{Target, attribute_value, ok, service_error, unique};

/// ListUsers with a filter, expecting one page.
async fn list(target: &Target, pool_id: &str, filter: &str) -> Vec<UserType> {
    let output = list_users(target, pool_id, Some(filter)).await;
    assert!(output.pagination_token().is_none(), "{filter}: {output:?}");
    output.users().to_vec()
}

fn set(names: &[&str]) -> BTreeSet<String> {
    names.iter().map(|n| n.to_lowercase()).collect()
}

#[tokio::test]
async fn list_users_filters_on_every_searchable_attribute() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("list-filters").await;
    let tag = unique("t");
    let ada = format!("ada-{tag}");
    let alan = format!("alan-{tag}");
    let grace = format!("grace-{tag}");
    let ada_email = format!("ada.{tag}@example.com");
    let alan_email = format!("alan.{tag}@example.com");
    let grace_email = format!("grace.{tag}@example.org");
    admin_create_quietly(
        target,
        &pool_id,
        &ada,
        TEMPORARY_PASSWORD,
        &[
            ("email", &ada_email),
            ("given_name", "Ada"),
            ("family_name", "Lovelace"),
            ("name", "Ada Lovelace"),
            ("preferred_username", "countess"),
            ("phone_number", "+15550000001"),
        ],
    )
    .await;
    admin_create_quietly(
        target,
        &pool_id,
        &alan,
        TEMPORARY_PASSWORD,
        &[
            ("email", &alan_email),
            ("given_name", "Alan"),
            ("family_name", "Turing"),
            ("name", "Alan Turing"),
            ("phone_number", "+15550000002"),
        ],
    )
    .await;
    admin_create_quietly(
        target,
        &pool_id,
        &grace,
        TEMPORARY_PASSWORD,
        &[
            ("email", &grace_email),
            ("given_name", "Grace"),
            ("family_name", "Hopper"),
            ("name", "Grace Hopper"),
        ],
    )
    .await;

    // No filter: everyone.
    let all = list_users(target, &pool_id, None).await;
    assert_eq!(usernames(all.users()), set(&[&ada, &alan, &grace]));
    let ada_sub = all
        .users()
        .iter()
        .find(|u| u.username().unwrap().eq_ignore_ascii_case(&ada))
        .and_then(|u| attribute_value(u.attributes(), "sub"))
        .unwrap()
        .to_owned();

    let cases: Vec<(String, BTreeSet<String>)> = vec![
        (format!("username = \"{ada}\""), set(&[&ada])),
        ("username ^= \"a\"".to_owned(), set(&[&ada, &alan])),
        ("username ^= \"al\"".to_owned(), set(&[&alan])),
        (format!("email = \"{grace_email}\""), set(&[&grace])),
        ("email ^= \"a\"".to_owned(), set(&[&ada, &alan])),
        (format!("email ^= \"ada.{tag}\""), set(&[&ada])),
        ("given_name = \"Alan\"".to_owned(), set(&[&alan])),
        ("given_name ^= \"A\"".to_owned(), set(&[&ada, &alan])),
        ("family_name = \"Hopper\"".to_owned(), set(&[&grace])),
        ("family_name ^= \"T\"".to_owned(), set(&[&alan])),
        ("name = \"Ada Lovelace\"".to_owned(), set(&[&ada])),
        ("name ^= \"Grace\"".to_owned(), set(&[&grace])),
        ("preferred_username = \"countess\"".to_owned(), set(&[&ada])),
        ("phone_number = \"+15550000002\"".to_owned(), set(&[&alan])),
        ("phone_number ^= \"+1555\"".to_owned(), set(&[&ada, &alan])),
        (format!("sub = \"{ada_sub}\""), set(&[&ada])),
        (
            "cognito:user_status = \"FORCE_CHANGE_PASSWORD\"".to_owned(),
            set(&[&ada, &alan, &grace]),
        ),
        ("cognito:user_status = \"UNCONFIRMED\"".to_owned(), set(&[])),
        (
            "status = \"Enabled\"".to_owned(),
            set(&[&ada, &alan, &grace]),
        ),
        ("status = \"Disabled\"".to_owned(), set(&[])),
        ("given_name = \"Nobody\"".to_owned(), set(&[])),
        // An exact filter is exact: a prefix of a value does not match.
        ("given_name = \"Al\"".to_owned(), set(&[])),
    ];
    for (filter, expected) in &cases {
        let users = list(target, &pool_id, filter).await;
        assert_eq!(&usernames(&users), expected, "{filter}");
    }

    // Statuses follow the users.
    ok(
        admin_disable(target, &pool_id, &grace).await,
        "AdminDisableUser",
    );
    ok(
        admin_set_password(target, &pool_id, &alan, "Permanent-Pass-9", true).await,
        "AdminSetUserPassword",
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "status = \"Disabled\"").await),
        set(&[&grace])
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "status = \"Enabled\"").await),
        set(&[&ada, &alan])
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "cognito:user_status = \"CONFIRMED\"").await),
        set(&[&alan])
    );
    assert_eq!(
        usernames(
            &list(
                target,
                &pool_id,
                "cognito:user_status = \"FORCE_CHANGE_PASSWORD\""
            )
            .await
        ),
        set(&[&ada, &grace])
    );

    // A changed attribute no longer matches its old value.
    let ada_new = format!("countess.{tag}@example.net");
    ok(
        admin_update_attributes(
            target,
            &pool_id,
            &ada,
            &[("email", &ada_new), ("given_name", "Augusta")],
        )
        .await,
        "AdminUpdateUserAttributes",
    );
    assert!(
        list(target, &pool_id, &format!("email = \"{ada_email}\""))
            .await
            .is_empty()
    );
    assert_eq!(
        usernames(&list(target, &pool_id, &format!("email = \"{ada_new}\"")).await),
        set(&[&ada])
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "given_name ^= \"A\"").await),
        set(&[&ada, &alan])
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "given_name = \"Ada\"").await),
        set(&[])
    );

    // A deleted user is gone from every filter.
    ok(
        admin_delete(target, &pool_id, &alan).await,
        "AdminDeleteUser",
    );
    assert!(
        list(target, &pool_id, "given_name = \"Alan\"")
            .await
            .is_empty()
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "username ^= \"a\"").await),
        set(&[&ada])
    );
}

#[tokio::test]
async fn a_self_service_email_change_moves_the_user_in_list_users() {
    let target = Target::shared();
    let client = target.standard_setup("list-self-change").await;
    let pool_id = client.pool_id.clone();
    let username = unique("changer");
    let old_email = cognate_tests::unique_email("old");
    target
        .sign_up_confirmed(&client, &username, cognate_tests::PASSWORD, &old_email)
        .await;
    let tokens = target
        .password_sign_in(&client, &username, cognate_tests::PASSWORD)
        .await;
    let new_email = cognate_tests::unique_email("new");
    let access = tokens.access_token().unwrap();
    ok(
        update_own_attributes(target, access, &[("email", &new_email)]).await,
        "UpdateUserAttributes",
    );
    assert!(
        list(target, &pool_id, &format!("email = \"{old_email}\""))
            .await
            .is_empty()
    );
    assert_eq!(
        usernames(&list(target, &pool_id, &format!("email = \"{new_email}\"")).await),
        set(&[&username])
    );
    assert_eq!(
        usernames(&list(target, &pool_id, "cognito:user_status = \"CONFIRMED\"").await),
        set(&[&username])
    );
}

#[tokio::test]
async fn list_users_returns_only_the_attributes_asked_for() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("list-attrs").await;
    let username = unique("attrs");
    admin_create_quietly(
        target,
        &pool_id,
        &username,
        TEMPORARY_PASSWORD,
        &[
            ("email", &cognate_tests::unique_email("attrs")),
            ("given_name", "Ada"),
            ("custom:tier", "gold"),
        ],
    )
    .await;
    let output = ok(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&pool_id)
            .attributes_to_get("given_name")
            .attributes_to_get("custom:tier")
            .send()
            .await,
        "ListUsers AttributesToGet",
    );
    let user = &output.users()[0];
    let mut got: Vec<&str> = user.attributes().iter().map(|a| a.name()).collect();
    got.sort_unstable();
    assert_eq!(got, vec!["custom:tier", "given_name"]);
    assert!(user.username().is_some());
    assert!(user.user_status().is_some());

    let err = service_error(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&pool_id)
            .attributes_to_get("custom:undeclared")
            .send()
            .await,
        "ListUsers with an unknown attribute to get",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn list_users_pages_to_the_end() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("list-pages").await;
    let tag = unique("p");
    let mut created = BTreeSet::new();
    for i in 0..7 {
        let username = format!("page{i}-{tag}");
        admin_create_quietly(
            target,
            &pool_id,
            &username,
            TEMPORARY_PASSWORD,
            &[
                ("email", &format!("page{i}.{tag}@example.com")),
                ("family_name", "Pager"),
            ],
        )
        .await;
        created.insert(username.to_lowercase());
    }
    // An unrelated user that the filtered listing must skip.
    admin_create_quietly(
        target,
        &pool_id,
        &format!("other-{tag}"),
        TEMPORARY_PASSWORD,
        &[("family_name", "Other")],
    )
    .await;

    for filter in [
        None,
        Some("family_name = \"Pager\""),
        Some("email ^= \"page\""),
    ] {
        let pool = pool_id.as_str();
        let listed = all_pages("ListUsers", |token| async move {
            let admin = target.admin_client();
            let request = admin.list_users().user_pool_id(pool).limit(3);
            let request = request.set_filter(filter.map(str::to_owned));
            let output = ok(
                request.set_pagination_token(token).send().await,
                "ListUsers page",
            );
            let next = output.pagination_token().map(str::to_owned);
            let names = output
                .users()
                .iter()
                .map(|u| u.username().unwrap().to_lowercase());
            (names.collect::<Vec<_>>(), next)
        })
        .await;
        let sizes: Vec<usize> = listed.iter().map(Vec::len).collect();
        let seen: Vec<String> = listed.into_iter().flatten().collect();
        let unique_seen: BTreeSet<String> = seen.iter().cloned().collect();
        assert_eq!(
            unique_seen.len(),
            seen.len(),
            "{filter:?}: duplicates {seen:?}"
        );
        let mut expected = created.clone();
        if filter.is_none() {
            expected.insert(format!("other-{tag}"));
        }
        assert_eq!(unique_seen, expected, "{filter:?}");
        assert!(sizes.iter().all(|&n| n <= 3), "{filter:?}: {sizes:?}");
        let full_pages = sizes.iter().filter(|&&n| n == 3).count();
        assert!(full_pages >= 2, "{filter:?}: more than one page: {sizes:?}");
        if filter.is_some() {
            assert_eq!(sizes[..3], [3, 3, 1], "{filter:?}: {sizes:?}");
        }
    }

    // A token of another pool's listing, or garbage, is refused.
    let err = service_error(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&pool_id)
            .pagination_token("bm90LWEtdG9rZW4")
            .send()
            .await,
        "ListUsers with a bad pagination token",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn list_users_refuses_bad_filters() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("list-bad").await;
    for filter in [
        "email = alice",
        "email == \"a\"",
        "email = \"unterminated",
        "email = \"a\" and name = \"b\"",
        "= \"a\"",
        "custom:tier = \"gold\"",
        "nickname = \"x\"",
    ] {
        let err = service_error(
            target
                .admin_client()
                .list_users()
                .user_pool_id(&pool_id)
                .filter(filter)
                .send()
                .await,
            filter,
        );
        assert!(err.is_invalid_parameter_exception(), "{filter}: {err:?}");
    }
    let err = service_error(
        target
            .admin_client()
            .list_users()
            .user_pool_id("us-east-1_NoSuchPool")
            .send()
            .await,
        "ListUsers of an unknown pool",
    );
    assert!(err.is_resource_not_found_exception(), "{err:?}");
    let err = service_error(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&pool_id)
            .limit(61)
            .send()
            .await,
        "ListUsers with Limit 61",
    );
    assert!(err.is_invalid_parameter_exception(), "{err:?}");
}

#[tokio::test]
async fn an_exact_username_filter_finds_one_user_and_no_next_page() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("list-exact").await;
    let sam = unique("sam");
    let longer = format!("{sam}2");
    admin_create_quietly(target, &pool_id, &sam, TEMPORARY_PASSWORD, &[]).await;
    admin_create_quietly(target, &pool_id, &longer, TEMPORARY_PASSWORD, &[]).await;
    let output = ok(
        target
            .admin_client()
            .list_users()
            .user_pool_id(&pool_id)
            .filter(format!("username = \"{sam}\""))
            .limit(1)
            .send()
            .await,
        "ListUsers exact username, Limit 1",
    );
    assert_eq!(usernames(output.users()), set(&[&sam]));
    assert!(output.pagination_token().is_none(), "{output:?}");
    assert_eq!(
        usernames(&list(target, &pool_id, &format!("username ^= \"{sam}\"")).await),
        set(&[&sam, &longer])
    );
    assert!(
        list(target, &pool_id, &format!("username = \"{sam}3\""))
            .await
            .is_empty()
    );
}
