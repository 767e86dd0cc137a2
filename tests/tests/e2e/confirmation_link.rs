//! Confirmation by link (`VerificationMessageTemplate.DefaultEmailOption = CONFIRM_WITH_LINK`):
//! the sign-up email carries a link to the hosted UI's `/confirmUser`, under the pool's domain,
//! and following it confirms the user once.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{
    DefaultEmailOptionType, UserStatusType, VerificationMessageTemplateType, VerifiedAttributeType,
};
use cognate_tests::scenarios::{admin_attribute, user_status};
use cognate_tests::{PASSWORD, Target, unique, unique_email};

const LINK_MESSAGE: &str = "<p>Welcome {username}. {##Confirm my account##}</p>";
const LINK_SUBJECT: &str = "Confirm your sign-up";

/// The link a message body carries: the `href` of its first anchor, HTML entities decoded.
fn link_in(body: &str) -> String {
    let start = body.find("href=\"").expect("the message holds a link") + "href=\"".len();
    let end = body[start..].find('"').expect("the href is closed") + start;
    body[start..end].replace("&amp;", "&")
}

/// A pool that confirms email by link, with a prefix domain; returns (pool id, domain).
async fn link_pool(target: &Target) -> (String, String) {
    let template = VerificationMessageTemplateType::builder()
        .default_email_option(DefaultEmailOptionType::ConfirmWithLink)
        .email_message_by_link(LINK_MESSAGE)
        .email_subject_by_link(LINK_SUBJECT)
        .build();
    let pool_id = target
        .create_pool("link", |b| {
            b.auto_verified_attributes(VerifiedAttributeType::Email)
                .verification_message_template(template)
        })
        .await;
    let domain = unique("lnk").to_lowercase().replace('_', "-");
    cognate_tests::ok(
        target
            .admin_client()
            .create_user_pool_domain()
            .user_pool_id(&pool_id)
            .domain(&domain)
            .send()
            .await,
        "CreateUserPoolDomain",
    );
    (pool_id, domain)
}

#[tokio::test]
async fn the_sign_up_email_carries_a_link_that_confirms_once() {
    let target = Target::shared();
    let (pool_id, domain) = link_pool(target).await;
    let client = target.create_password_client(&pool_id).await;
    let username = unique("linda");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("linda"))
        .await;

    let messages = target.messages(&pool_id, &username).await;
    let message = messages.last().expect("the sign-up email");
    assert_eq!(message.subject, LINK_SUBJECT);
    assert_eq!(message.medium, "EMAIL");
    assert!(
        message
            .body
            .starts_with(&format!("<p>Welcome {username}. <a href=")),
        "{}",
        message.body
    );
    assert!(
        message.body.ends_with(">Confirm my account</a></p>"),
        "{}",
        message.body
    );
    let link = link_in(&message.body);
    let code = message.code.clone().expect("the message carries its code");
    assert_eq!(
        link,
        format!(
            "{}/{domain}/confirmUser?client_id={}&user_name={username}&confirmation_code={code}",
            target.base_url(),
            client.id
        )
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Unconfirmed
    );

    // A link checker's HEAD confirms nothing.
    let head = target.http().head(&link).send().await.unwrap();
    assert_eq!(head.status(), 200);
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Unconfirmed
    );

    let page = target.http().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    assert!(
        html.contains("Your registration has been confirmed"),
        "{html}"
    );
    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Confirmed
    );
    assert_eq!(
        admin_attribute(target, &pool_id, &username, "email_verified").await,
        Some("true".to_owned())
    );

    // The code inside the link is single-use: following it again confirms nothing new.
    let again = target.http().get(&link).send().await.unwrap();
    assert_eq!(again.status(), 400);
    let html = again.text().await.unwrap();
    assert!(html.contains("Current status is CONFIRMED"), "{html}");
}

#[tokio::test]
async fn a_link_with_a_wrong_code_or_missing_parts_confirms_nobody() {
    let target = Target::shared();
    let (pool_id, _) = link_pool(target).await;
    let client = target.create_password_client(&pool_id).await;
    let username = unique("lindy");
    target
        .sign_up(&client, &username, PASSWORD, &unique_email("lindy"))
        .await;
    let messages = target.messages(&pool_id, &username).await;
    let link = link_in(&messages.last().expect("the sign-up email").body);
    let code = messages.last().unwrap().code.clone().unwrap();
    let wrong = if code == "000000" { "111111" } else { "000000" };

    let tampered = link.replace(
        &format!("confirmation_code={code}"),
        &format!("confirmation_code={wrong}"),
    );
    let page = target.http().get(&tampered).send().await.unwrap();
    assert_eq!(page.status(), 400);
    assert!(
        page.text()
            .await
            .unwrap()
            .contains("Invalid verification code provided")
    );

    let cut = link.split("&confirmation_code=").next().unwrap().to_owned();
    let page = target.http().get(&cut).send().await.unwrap();
    assert_eq!(page.status(), 400);

    let page = target.http().post(&link).send().await.unwrap();
    assert_eq!(page.status(), 405);

    assert_eq!(
        user_status(target, &pool_id, &username).await,
        UserStatusType::Unconfirmed
    );
    // The right link still works after the wrong one.
    let page = target.http().get(&link).send().await.unwrap();
    assert_eq!(page.status(), 200);
}

#[tokio::test]
async fn a_link_template_without_a_link_placeholder_is_refused() {
    let target = Target::shared();
    let template = VerificationMessageTemplateType::builder()
        .default_email_option(DefaultEmailOptionType::ConfirmWithLink)
        .email_message_by_link("Click the link below, if you can find it.")
        .build();
    let err = target
        .admin_client()
        .create_user_pool()
        .pool_name(unique("nolink"))
        .verification_message_template(template)
        .send()
        .await
        .expect_err("a link template without {##...##}");
    assert_eq!(err.code(), Some("InvalidParameterException"), "{err:?}");
}
