//! Steps the directory scenarios share: SDK calls cut down to the arguments that vary (returning
//! the SDK's result, so a scenario still says with [`ok`] or [`service_error`] what it expects and
//! why), and the checks several scenarios make the same way.

use std::collections::BTreeSet;
use std::future::Future;

use serde_json::{Map, Value};

use crate::cognito::config::http::HttpResponse;
use crate::cognito::error::{ProvideErrorMetadata, SdkError};
use crate::cognito::operation::admin_create_user::builders::AdminCreateUserFluentBuilder;
use crate::cognito::operation::admin_create_user::{AdminCreateUserError, AdminCreateUserOutput};
use crate::cognito::operation::admin_delete_user::{AdminDeleteUserError, AdminDeleteUserOutput};
use crate::cognito::operation::admin_delete_user_attributes::{
    AdminDeleteUserAttributesError, AdminDeleteUserAttributesOutput,
};
use crate::cognito::operation::admin_disable_user::{
    AdminDisableUserError, AdminDisableUserOutput,
};
use crate::cognito::operation::admin_enable_user::{AdminEnableUserError, AdminEnableUserOutput};
use crate::cognito::operation::admin_get_user::{AdminGetUserError, AdminGetUserOutput};
use crate::cognito::operation::admin_list_groups_for_user::{
    AdminListGroupsForUserError, AdminListGroupsForUserOutput,
};
use crate::cognito::operation::admin_list_user_auth_events::{
    AdminListUserAuthEventsError, AdminListUserAuthEventsOutput,
};
use crate::cognito::operation::admin_remove_user_from_group::{
    AdminRemoveUserFromGroupError, AdminRemoveUserFromGroupOutput,
};
use crate::cognito::operation::admin_reset_user_password::{
    AdminResetUserPasswordError, AdminResetUserPasswordOutput,
};
use crate::cognito::operation::admin_set_user_password::{
    AdminSetUserPasswordError, AdminSetUserPasswordOutput,
};
use crate::cognito::operation::admin_update_user_attributes::{
    AdminUpdateUserAttributesError, AdminUpdateUserAttributesOutput,
};
use crate::cognito::operation::admin_user_global_sign_out::{
    AdminUserGlobalSignOutError, AdminUserGlobalSignOutOutput,
};
use crate::cognito::operation::change_password::{ChangePasswordError, ChangePasswordOutput};
use crate::cognito::operation::confirm_forgot_password::{
    ConfirmForgotPasswordError, ConfirmForgotPasswordOutput,
};
use crate::cognito::operation::create_user_pool::builders::CreateUserPoolFluentBuilder;
use crate::cognito::operation::delete_group::{DeleteGroupError, DeleteGroupOutput};
use crate::cognito::operation::forgot_password::{ForgotPasswordError, ForgotPasswordOutput};
use crate::cognito::operation::get_tokens_from_refresh_token::{
    GetTokensFromRefreshTokenError, GetTokensFromRefreshTokenOutput,
};
use crate::cognito::operation::get_user::{GetUserError, GetUserOutput};
use crate::cognito::operation::get_user_attribute_verification_code::{
    GetUserAttributeVerificationCodeError, GetUserAttributeVerificationCodeOutput,
};
use crate::cognito::operation::initiate_auth::{InitiateAuthError, InitiateAuthOutput};
use crate::cognito::operation::list_users::ListUsersOutput;
use crate::cognito::operation::respond_to_auth_challenge::builders::RespondToAuthChallengeFluentBuilder;
use crate::cognito::operation::revoke_token::{RevokeTokenError, RevokeTokenOutput};
use crate::cognito::operation::update_user_attributes::{
    UpdateUserAttributesError, UpdateUserAttributesOutput,
};
use crate::cognito::operation::verify_user_attribute::{
    VerifyUserAttributeError, VerifyUserAttributeOutput,
};
use crate::cognito::types::{
    AttributeDataType, AuthFlowType, AuthenticationResultType, ChallengeNameType,
    MessageActionType, SchemaAttributeType, UserStatusType, UserType,
};
use crate::{
    AppClient, PASSWORD, Target, attribute, attribute_value, ok, service_error, unique,
    unique_email,
};

/// What sending an SDK request gives back.
pub type Sent<O, E> = Result<O, SdkError<E, HttpResponse>>;

/// Cognito's message for an access token whose session was signed out or revoked.
pub const ACCESS_TOKEN_REVOKED: &str = "Access Token has been revoked";

/// The temporary password the scenarios give users an administrator creates.
pub const TEMPORARY_PASSWORD: &str = "Temporary-Pass-1";

// -- pools and users ---------------------------------------------------------------------------

/// A pool `<prefix>-…` with the settings `customize` adds, and a password client in it.
pub async fn password_client_in_pool(
    target: &Target,
    prefix: &str,
    customize: impl FnOnce(CreateUserPoolFluentBuilder) -> CreateUserPoolFluentBuilder,
) -> AppClient {
    let pool_id = target.create_pool(prefix, customize).await;
    target.create_password_client(&pool_id).await
}

/// A String schema attribute, required and mutable or not.
pub fn string_attribute(name: &str, required: bool, mutable: bool) -> SchemaAttributeType {
    let data_type = AttributeDataType::String;
    let builder = SchemaAttributeType::builder().name(name);
    builder
        .attribute_data_type(data_type)
        .required(required)
        .mutable(mutable)
        .build()
}

/// Signs up and confirms a user `<prefix>-…` with [`PASSWORD`] and a unique email; returns the username.
pub async fn confirmed_user(target: &Target, client: &AppClient, prefix: &str) -> String {
    let username = unique(prefix);
    target
        .sign_up_confirmed(client, &username, PASSWORD, &unique_email(prefix))
        .await;
    username
}

/// AdminCreateUser of `username` in the pool, with whatever else `customize` adds.
pub async fn admin_create_user(
    target: &Target,
    pool_id: &str,
    username: &str,
    customize: impl FnOnce(AdminCreateUserFluentBuilder) -> AdminCreateUserFluentBuilder,
) -> Sent<AdminCreateUserOutput, AdminCreateUserError> {
    let admin = target.admin_client();
    let request = admin.admin_create_user().user_pool_id(pool_id);
    customize(request.username(username)).send().await
}

/// AdminCreateUser with a temporary password, these attributes and no message sent.
pub async fn admin_create_quietly(
    target: &Target,
    pool_id: &str,
    username: &str,
    temporary_password: &str,
    attributes: &[(&str, &str)],
) -> AdminCreateUserOutput {
    let created = admin_create_user(target, pool_id, username, |mut request| {
        for (name, value) in attributes {
            request = request.user_attributes(attribute(name, value));
        }
        let request = request.temporary_password(temporary_password);
        request.message_action(MessageActionType::Suppress)
    });
    ok(created.await, "AdminCreateUser with TemporaryPassword")
}

/// AdminGetUser.
pub async fn admin_get_user(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminGetUserOutput, AdminGetUserError> {
    target
        .admin_client()
        .admin_get_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// The user as AdminGetUser shows it; panics if the call fails.
pub async fn admin_user(target: &Target, pool_id: &str, username: &str) -> AdminGetUserOutput {
    ok(
        admin_get_user(target, pool_id, username).await,
        "AdminGetUser",
    )
}

/// The value of one attribute of the user as AdminGetUser shows it.
pub async fn admin_attribute(
    target: &Target,
    pool_id: &str,
    username: &str,
    name: &str,
) -> Option<String> {
    let user = admin_user(target, pool_id, username).await;
    attribute_value(user.user_attributes(), name).map(str::to_owned)
}

/// The user's status as AdminGetUser shows it.
pub async fn user_status(target: &Target, pool_id: &str, username: &str) -> UserStatusType {
    let user = admin_user(target, pool_id, username).await;
    user.user_status().cloned().expect("UserStatus")
}

/// Asserts the values of the user's attributes as AdminGetUser shows them (`None`: absent).
pub async fn assert_admin_attributes(
    target: &Target,
    pool_id: &str,
    username: &str,
    expected: &[(&str, Option<&str>)],
) {
    let user = admin_user(target, pool_id, username).await;
    for (name, value) in expected {
        let actual = attribute_value(user.user_attributes(), name);
        assert_eq!(actual, *value, "{name} of {username}: {user:?}");
    }
}

/// Asserts that AdminGetUser answers UserNotFoundException (`what` names the check).
pub async fn assert_user_not_found(target: &Target, pool_id: &str, username: &str, what: &str) {
    let err = service_error(admin_get_user(target, pool_id, username).await, what);
    assert!(err.is_user_not_found_exception(), "{err:?}");
}

/// AdminUpdateUserAttributes with these `(name, value)` pairs.
pub async fn admin_update_attributes(
    target: &Target,
    pool_id: &str,
    username: &str,
    attributes: &[(&str, &str)],
) -> Sent<AdminUpdateUserAttributesOutput, AdminUpdateUserAttributesError> {
    let mut request = target
        .admin_client()
        .admin_update_user_attributes()
        .user_pool_id(pool_id)
        .username(username);
    for (name, value) in attributes {
        request = request.user_attributes(attribute(name, value));
    }
    request.send().await
}

/// AdminDeleteUserAttributes of one attribute.
pub async fn admin_delete_attribute(
    target: &Target,
    pool_id: &str,
    username: &str,
    name: &str,
) -> Sent<AdminDeleteUserAttributesOutput, AdminDeleteUserAttributesError> {
    target
        .admin_client()
        .admin_delete_user_attributes()
        .user_pool_id(pool_id)
        .username(username)
        .user_attribute_names(name)
        .send()
        .await
}

/// AdminSetUserPassword, permanent or temporary.
pub async fn admin_set_password(
    target: &Target,
    pool_id: &str,
    username: &str,
    password: &str,
    permanent: bool,
) -> Sent<AdminSetUserPasswordOutput, AdminSetUserPasswordError> {
    target
        .admin_client()
        .admin_set_user_password()
        .user_pool_id(pool_id)
        .username(username)
        .password(password)
        .permanent(permanent)
        .send()
        .await
}

/// AdminResetUserPassword.
pub async fn admin_reset_password(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminResetUserPasswordOutput, AdminResetUserPasswordError> {
    target
        .admin_client()
        .admin_reset_user_password()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// AdminDisableUser.
pub async fn admin_disable(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminDisableUserOutput, AdminDisableUserError> {
    target
        .admin_client()
        .admin_disable_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// AdminEnableUser.
pub async fn admin_enable(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminEnableUserOutput, AdminEnableUserError> {
    target
        .admin_client()
        .admin_enable_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// AdminDeleteUser.
pub async fn admin_delete(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminDeleteUserOutput, AdminDeleteUserError> {
    target
        .admin_client()
        .admin_delete_user()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// AdminUserGlobalSignOut.
pub async fn admin_global_sign_out(
    target: &Target,
    pool_id: &str,
    username: &str,
) -> Sent<AdminUserGlobalSignOutOutput, AdminUserGlobalSignOutError> {
    target
        .admin_client()
        .admin_user_global_sign_out()
        .user_pool_id(pool_id)
        .username(username)
        .send()
        .await
}

/// AdminListUserAuthEvents, one page of at most `max_results` (all when `None`) from `next_token`.
pub async fn admin_auth_events(
    target: &Target,
    pool_id: &str,
    username: &str,
    max_results: Option<i32>,
    next_token: Option<String>,
) -> Sent<AdminListUserAuthEventsOutput, AdminListUserAuthEventsError> {
    target
        .admin_client()
        .admin_list_user_auth_events()
        .user_pool_id(pool_id)
        .username(username)
        .set_max_results(max_results)
        .set_next_token(next_token)
        .send()
        .await
}

/// The error code an SDK call failed with, `None` if it succeeded.
pub fn error_code<O, E: ProvideErrorMetadata>(sent: Sent<O, E>) -> Option<String> {
    sent.err().and_then(|e| e.code().map(str::to_owned))
}

// -- sign-in and tokens ------------------------------------------------------------------------

/// Asserts that USER_PASSWORD_AUTH with this password is refused with NotAuthorizedException;
/// returns the error for further checks.
pub async fn assert_sign_in_refused(
    target: &Target,
    client: &AppClient,
    username: &str,
    password: &str,
    what: &str,
) -> InitiateAuthError {
    let err = service_error(
        target
            .password_auth(client, username, password)
            .send()
            .await,
        what,
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
    err
}

/// A RespondToAuthChallenge NEW_PASSWORD_REQUIRED answer for `session`, ready to send (further
/// challenge responses may be added).
pub fn new_password_answer(
    target: &Target,
    client: &AppClient,
    session: &str,
    username: &str,
    new_password: &str,
) -> RespondToAuthChallengeFluentBuilder {
    target
        .public_client()
        .respond_to_auth_challenge()
        .client_id(&client.id)
        .challenge_name(ChallengeNameType::NewPasswordRequired)
        .session(session)
        .challenge_responses("USERNAME", username)
        .challenge_responses("NEW_PASSWORD", new_password)
}

/// The verified claims of one sign-in's (ID token, access token).
pub async fn verified_claims(
    target: &Target,
    client: &AppClient,
    tokens: &AuthenticationResultType,
) -> (Map<String, Value>, Map<String, Value>) {
    let jwks = target.jwks(&client.pool_id).await;
    let id = jwks
        .verify_id_token(tokens.id_token().expect("IdToken"), &client.id)
        .expect("ID token verifies");
    let access = jwks
        .verify_access_token(tokens.access_token().expect("AccessToken"), &client.id)
        .expect("access token verifies");
    (id, access)
}

/// Signs in with [`PASSWORD`] and returns the verified (ID, access) claims.
pub async fn sign_in_claims(
    target: &Target,
    client: &AppClient,
    username: &str,
) -> (Map<String, Value>, Map<String, Value>) {
    let tokens = target.password_sign_in(client, username, PASSWORD).await;
    verified_claims(target, client, &tokens).await
}

/// GetUser with an access token.
pub async fn get_user(target: &Target, access_token: &str) -> Sent<GetUserOutput, GetUserError> {
    target
        .public_client()
        .get_user()
        .access_token(access_token)
        .send()
        .await
}

/// Asserts that GetUser refuses the access token with NotAuthorizedException; returns the error.
pub async fn assert_access_token_refused(
    target: &Target,
    access_token: &str,
    what: &str,
) -> GetUserError {
    let err = service_error(get_user(target, access_token).await, what);
    assert!(err.is_not_authorized_exception(), "{err:?}");
    err
}

/// Asserts that GetUser refuses the access token as NotAuthorizedException "Access Token has been
/// revoked".
pub async fn assert_access_token_revoked(target: &Target, access_token: &str, what: &str) {
    let err = assert_access_token_refused(target, access_token, what).await;
    assert_eq!(err.message(), Some(ACCESS_TOKEN_REVOKED));
}

/// InitiateAuth REFRESH_TOKEN_AUTH with a refresh token.
pub async fn refresh_token_auth(
    target: &Target,
    client: &AppClient,
    refresh_token: &str,
) -> Sent<InitiateAuthOutput, InitiateAuthError> {
    target
        .public_client()
        .initiate_auth()
        .client_id(&client.id)
        .auth_flow(AuthFlowType::RefreshTokenAuth)
        .auth_parameters("REFRESH_TOKEN", refresh_token)
        .send()
        .await
}

/// Asserts that REFRESH_TOKEN_AUTH refuses the refresh token with NotAuthorizedException.
pub async fn assert_refresh_refused(
    target: &Target,
    client: &AppClient,
    refresh_token: &str,
    what: &str,
) {
    let err = service_error(
        refresh_token_auth(target, client, refresh_token).await,
        what,
    );
    assert!(err.is_not_authorized_exception(), "{err:?}");
}

/// GetTokensFromRefreshToken (without a client secret).
pub async fn refresh_tokens(
    target: &Target,
    client: &AppClient,
    refresh_token: &str,
) -> Sent<GetTokensFromRefreshTokenOutput, GetTokensFromRefreshTokenError> {
    refresh_tokens_with_secret(target, client, None, refresh_token).await
}

/// GetTokensFromRefreshToken, with `ClientSecret` when given.
pub async fn refresh_tokens_with_secret(
    target: &Target,
    client: &AppClient,
    client_secret: Option<&str>,
    refresh_token: &str,
) -> Sent<GetTokensFromRefreshTokenOutput, GetTokensFromRefreshTokenError> {
    target
        .public_client()
        .get_tokens_from_refresh_token()
        .client_id(&client.id)
        .set_client_secret(client_secret.map(str::to_owned))
        .refresh_token(refresh_token)
        .send()
        .await
}

/// RevokeToken through the client with this id (without a client secret).
pub async fn revoke_token(
    target: &Target,
    client_id: &str,
    token: &str,
) -> Sent<RevokeTokenOutput, RevokeTokenError> {
    target
        .public_client()
        .revoke_token()
        .client_id(client_id)
        .token(token)
        .send()
        .await
}

// -- self-service ------------------------------------------------------------------------------

/// UpdateUserAttributes of the signed-in user with these `(name, value)` pairs.
pub async fn update_own_attributes(
    target: &Target,
    access_token: &str,
    attributes: &[(&str, &str)],
) -> Sent<UpdateUserAttributesOutput, UpdateUserAttributesError> {
    let mut request = target
        .public_client()
        .update_user_attributes()
        .access_token(access_token);
    for (name, value) in attributes {
        request = request.user_attributes(attribute(name, value));
    }
    request.send().await
}

/// GetUserAttributeVerificationCode for the signed-in user's email.
pub async fn request_email_code(
    target: &Target,
    access_token: &str,
) -> Sent<GetUserAttributeVerificationCodeOutput, GetUserAttributeVerificationCodeError> {
    target
        .public_client()
        .get_user_attribute_verification_code()
        .access_token(access_token)
        .attribute_name("email")
        .send()
        .await
}

/// VerifyUserAttribute of the signed-in user's email with a code.
pub async fn verify_email(
    target: &Target,
    access_token: &str,
    code: &str,
) -> Sent<VerifyUserAttributeOutput, VerifyUserAttributeError> {
    target
        .public_client()
        .verify_user_attribute()
        .access_token(access_token)
        .attribute_name("email")
        .code(code)
        .send()
        .await
}

/// ChangePassword of the signed-in user.
pub async fn change_password(
    target: &Target,
    access_token: &str,
    previous: &str,
    proposed: &str,
) -> Sent<ChangePasswordOutput, ChangePasswordError> {
    target
        .public_client()
        .change_password()
        .access_token(access_token)
        .previous_password(previous)
        .proposed_password(proposed)
        .send()
        .await
}

/// ForgotPassword through the client with this id.
pub async fn forgot_password(
    target: &Target,
    client_id: &str,
    username: &str,
) -> Sent<ForgotPasswordOutput, ForgotPasswordError> {
    target
        .public_client()
        .forgot_password()
        .client_id(client_id)
        .username(username)
        .send()
        .await
}

/// ConfirmForgotPassword with a code and the new password.
pub async fn confirm_forgot_password(
    target: &Target,
    client: &AppClient,
    username: &str,
    code: &str,
    password: &str,
) -> Sent<ConfirmForgotPasswordOutput, ConfirmForgotPasswordError> {
    target
        .public_client()
        .confirm_forgot_password()
        .client_id(&client.id)
        .username(username)
        .confirmation_code(code)
        .password(password)
        .send()
        .await
}

/// A six-digit code other than `code`, to be refused.
pub fn wrong_code(code: &str) -> &'static str {
    if code == "000000" { "111111" } else { "000000" }
}

// -- groups ------------------------------------------------------------------------------------

/// CreateGroup with a description, and a precedence and role when given.
pub async fn create_group(
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

/// AdminAddUserToGroup, expecting success.
pub async fn add_user_to_group(target: &Target, pool_id: &str, username: &str, group: &str) {
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

/// AdminRemoveUserFromGroup.
pub async fn remove_user_from_group(
    target: &Target,
    pool_id: &str,
    username: &str,
    group: &str,
) -> Sent<AdminRemoveUserFromGroupOutput, AdminRemoveUserFromGroupError> {
    target
        .admin_client()
        .admin_remove_user_from_group()
        .user_pool_id(pool_id)
        .username(username)
        .group_name(group)
        .send()
        .await
}

/// DeleteGroup.
pub async fn delete_group(
    target: &Target,
    pool_id: &str,
    group: &str,
) -> Sent<DeleteGroupOutput, DeleteGroupError> {
    target
        .admin_client()
        .delete_group()
        .user_pool_id(pool_id)
        .group_name(group)
        .send()
        .await
}

/// AdminListGroupsForUser, one page of at most `limit` (all when `None`) from `next_token`.
pub async fn admin_groups_page(
    target: &Target,
    pool_id: &str,
    username: &str,
    limit: Option<i32>,
    next_token: Option<String>,
) -> Sent<AdminListGroupsForUserOutput, AdminListGroupsForUserError> {
    target
        .admin_client()
        .admin_list_groups_for_user()
        .user_pool_id(pool_id)
        .username(username)
        .set_limit(limit)
        .set_next_token(next_token)
        .send()
        .await
}

/// The names of the user's groups, as AdminListGroupsForUser lists them.
pub async fn groups_of(target: &Target, pool_id: &str, username: &str) -> Vec<String> {
    let output = ok(
        admin_groups_page(target, pool_id, username, None, None).await,
        "AdminListGroupsForUser",
    );
    output
        .groups()
        .iter()
        .map(|g| g.group_name().unwrap().to_owned())
        .collect()
}

/// The lowercased usernames ListUsersInGroup lists for a group.
pub async fn members(target: &Target, pool_id: &str, group: &str) -> BTreeSet<String> {
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
    usernames(output.users())
}

// -- listing -----------------------------------------------------------------------------------

/// The lowercased usernames of listed users.
pub fn usernames(users: &[UserType]) -> BTreeSet<String> {
    users
        .iter()
        .map(|u| u.username().unwrap().to_lowercase())
        .collect()
}

/// ListUsers of one page with a filter (none when `None`).
pub async fn list_users(target: &Target, pool_id: &str, filter: Option<&str>) -> ListUsersOutput {
    ok(
        target
            .admin_client()
            .list_users()
            .user_pool_id(pool_id)
            .set_filter(filter.map(str::to_owned))
            .send()
            .await,
        &format!("ListUsers {}", filter.unwrap_or_default()),
    )
}

/// Every page of a listing, following the next-page token that `page` returns with each page's
/// items; panics (naming `what`) if ten pages do not reach the end.
pub async fn all_pages<T, F, Fut>(what: &str, mut page: F) -> Vec<Vec<T>>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = (Vec<T>, Option<String>)>,
{
    let mut pages = Vec::new();
    let mut token = None;
    for _ in 0..10 {
        let (items, next) = page(token.take()).await;
        pages.push(items);
        match next {
            Some(next) => token = Some(next),
            None => return pages,
        }
    }
    panic!("{what} never reached the end");
}
