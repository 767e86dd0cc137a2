//! Trigger plugins in the OAuth 2.0 / hosted-UI paths: CUSTOM_AUTH on the hosted UI (the pool's
//! define/create/verify auth challenge plugins, page by page, ending in an authorization code),
//! and pre token generation V3 for machine-to-machine `client_credentials` tokens.

use cognate_tests::cognito::types::{
    ExplicitAuthFlowsType, LambdaConfigType, OAuthFlowType, PreTokenGenerationLambdaVersionType,
    PreTokenGenerationVersionConfigType, ResourceServerScopeType,
};
use cognate_tests::form_browser::{Browser, no_redirects, query_param, unescape};
use cognate_tests::scenarios::{admin_create_quietly, admin_set_password};
use cognate_tests::{AppClient, PASSWORD, Target, ok, unique, unique_email};
use serde_json::Value;

const CALLBACK: &str = "http://localhost:8977/callback";

/// A pool whose LambdaConfig is `lambda`, with a resource server (`https://api.example.com/read`).
async fn pool(target: &Target, prefix: &str, lambda: LambdaConfigType) -> String {
    let pool_id = target
        .create_pool(prefix, |b| {
            cognate_tests::standard_pool(b).lambda_config(lambda)
        })
        .await;
    ok(
        target
            .admin_client()
            .create_resource_server()
            .user_pool_id(&pool_id)
            .identifier("https://api.example.com")
            .name("API")
            .scopes(
                ResourceServerScopeType::builder()
                    .scope_name("read")
                    .scope_description("Read things")
                    .build()
                    .unwrap(),
            )
            .send()
            .await,
        "CreateResourceServer",
    );
    pool_id
}

/// A confidential machine-to-machine client.
async fn machine_client(target: &Target, pool_id: &str) -> AppClient {
    target
        .create_client(pool_id, |b| {
            b.generate_secret(true)
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::ClientCredentials)
                .allowed_o_auth_scopes("https://api.example.com/read")
        })
        .await
}

/// A pool running the custom-auth example for all three auth challenge triggers.
async fn custom_auth_pool(target: &Target, prefix: &str) -> String {
    let plugin = target.register_example("custom-auth").await;
    pool(
        target,
        prefix,
        LambdaConfigType::builder()
            .define_auth_challenge(&plugin)
            .create_auth_challenge(&plugin)
            .verify_auth_challenge_response(&plugin)
            .build(),
    )
    .await
}

/// A confidential client allowed the code flow to [`CALLBACK`], with `flows` as its explicit
/// auth flows.
async fn code_flow_client(
    target: &Target,
    pool_id: &str,
    flows: &[ExplicitAuthFlowsType],
) -> AppClient {
    target
        .create_client(pool_id, |b| {
            flows
                .iter()
                .fold(b.generate_secret(true), |b, flow| {
                    b.explicit_auth_flows(flow.clone())
                })
                .allowed_o_auth_flows_user_pool_client(true)
                .allowed_o_auth_flows(OAuthFlowType::Code)
                .allowed_o_auth_scopes("openid")
                .callback_urls(CALLBACK)
                .supported_identity_providers("COGNITO")
        })
        .await
}

fn pre_token(version: PreTokenGenerationLambdaVersionType, reference: &str) -> LambdaConfigType {
    LambdaConfigType::builder()
        .pre_token_generation_config(
            PreTokenGenerationVersionConfigType::builder()
                .lambda_version(version)
                .lambda_arn(reference)
                .build()
                .unwrap(),
        )
        .build()
}

/// `POST /oauth2/token` with `client_secret_basic`: the status and the JSON answer.
async fn token_request(target: &Target, client: &AppClient, form: &[(&str, &str)]) -> (u16, Value) {
    let response = no_redirects()
        .post(format!("{}/oauth2/token", target.base_url()))
        .basic_auth(&client.id, client.secret.as_deref())
        .form(form)
        .send()
        .await
        .expect("token request");
    let status = response.status().as_u16();
    (status, response.json().await.expect("a JSON answer"))
}

#[tokio::test]
async fn pre_token_generation_v3_changes_machine_tokens_and_sees_cognitos_event() {
    let target = Target::shared();
    let pre_token_plugin = target.register_example("pre-token-generation").await;
    let pool_id = pool(
        target,
        "v3",
        pre_token(PreTokenGenerationLambdaVersionType::V30, &pre_token_plugin),
    )
    .await;
    let machine = machine_client(target, &pool_id).await;
    let (status, answer) =
        token_request(target, &machine, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{answer}");
    let claims = target
        .jwks(&pool_id)
        .await
        .verify_access_token(answer["access_token"].as_str().unwrap(), &machine.id)
        .expect("a valid access token");
    // The example adds a claim and a scope to every access token.
    assert_eq!(claims["tier"], "standard", "{claims:?}");
    let scopes: Vec<&str> = claims["scope"].as_str().unwrap().split(' ').collect();
    assert!(
        scopes.contains(&"https://api.example.com/read"),
        "{claims:?}"
    );
    assert!(scopes.contains(&"cognate/plugins.read"), "{claims:?}");
    // The claims that say who the token is for stay the server's.
    assert_eq!(claims["client_id"], machine.id.as_str());
    assert_eq!(claims["sub"], machine.id.as_str());

    // The event, through the echo plugin: Cognito's V3 shape for a machine.
    let echo = target.register_example("echo-event").await;
    let pool_id = pool(
        target,
        "v3echo",
        pre_token(PreTokenGenerationLambdaVersionType::V30, &echo),
    )
    .await;
    let machine = machine_client(target, &pool_id).await;
    let (status, answer) = token_request(
        target,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("aws_client_metadata", r#"{"environment":"test"}"#),
        ],
    )
    .await;
    assert_eq!(status, 400, "{answer}");
    assert_eq!(answer["error"], "invalid_request", "{answer}");
    let description = answer["error_description"].as_str().unwrap();
    let event: Value = serde_json::from_str(
        description
            .strip_prefix("PreTokenGeneration failed with error ")
            .and_then(|d| d.strip_suffix('.'))
            .unwrap_or_else(|| panic!("not Cognito's trigger error format: {description}")),
    )
    .unwrap();
    assert_eq!(event["version"], "3", "{event}");
    assert_eq!(
        event["triggerSource"], "TokenGeneration_ClientCredentials",
        "{event}"
    );
    assert_eq!(event["userPoolId"], pool_id.as_str(), "{event}");
    assert_eq!(event["callerContext"]["clientId"], machine.id.as_str());
    assert_eq!(
        event["request"]["scopes"],
        serde_json::json!(["https://api.example.com/read"])
    );
    assert_eq!(event["request"]["clientMetadata"]["environment"], "test");
    assert_eq!(event["request"]["userAttributes"], serde_json::json!({}));

    // Metadata that is not a JSON object of strings is the caller's error.
    let (status, answer) = token_request(
        target,
        &machine,
        &[
            ("grant_type", "client_credentials"),
            ("aws_client_metadata", "[1,2]"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(answer["error"], "invalid_request", "{answer}");
}

#[tokio::test]
async fn pre_token_generation_v2_leaves_machine_tokens_alone() {
    let target = Target::shared();
    // V2 runs for users only: an echo plugin that refuses everything does not stop a machine.
    let echo = target.register_example("echo-event").await;
    let pool_id = pool(
        target,
        "v2m2m",
        pre_token(PreTokenGenerationLambdaVersionType::V20, &echo),
    )
    .await;
    let machine = machine_client(target, &pool_id).await;
    let (status, answer) =
        token_request(target, &machine, &[("grant_type", "client_credentials")]).await;
    assert_eq!(status, 200, "{answer}");
}

#[tokio::test]
async fn the_hosted_ui_signs_in_through_custom_auth_challenges() {
    let target = Target::shared();
    let pool_id = custom_auth_pool(target, "uicustom").await;
    let web = code_flow_client(
        target,
        &pool_id,
        &[
            ExplicitAuthFlowsType::AllowCustomAuth,
            ExplicitAuthFlowsType::AllowRefreshTokenAuth,
        ],
    )
    .await;
    let username = unique("uica");
    admin_create_quietly(
        target,
        &pool_id,
        &username,
        PASSWORD,
        &[("email", &unique_email("uica")), ("email_verified", "true")],
    )
    .await;
    ok(
        admin_set_password(target, &pool_id, &username, PASSWORD, true).await,
        "AdminSetUserPassword",
    );

    let mut browser = Browser::new(target);
    let hop = browser
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid&state=st8",
            web.id
        ))
        .await;
    assert_eq!(hop.status, 302);
    let login = browser.get(hop.location.as_deref().unwrap()).await;
    // The sign-in page offers the password-less way because the pool and client allow it.
    let text_at = login
        .body
        .find("\">Sign in without a password</a>")
        .expect("a link to the password-less sign-in");
    let href_at = login.body[..text_at].rfind("href=\"").unwrap() + "href=\"".len();
    let custom_href = unescape(&login.body[href_at..text_at]);
    assert!(custom_href.starts_with("/customAuth?"), "{custom_href}");
    let start = browser.get(&custom_href).await;
    assert_eq!(start.status, 200);

    // An unknown user reads like any refusal.
    let unknown = browser
        .submit(&start, &[("username", "nobody-at-all")])
        .await;
    assert_eq!(unknown.status, 400);
    assert!(unknown.body.contains("Incorrect username or password."));

    let challenge = browser.submit(&start, &[("username", &username)]).await;
    assert_eq!(challenge.status, 200, "{}", challenge.body);
    // The plugin's public `hint` is the page's prompt; its private code is nowhere.
    assert!(
        challenge
            .body
            .contains("Enter the 6-digit code from your token"),
        "{}",
        challenge.body
    );
    let round0 = cognate_example_custom_auth::expected_code(&username, 0);
    assert!(!challenge.body.contains(&round0));

    // A wrong answer: the plugin asks again (round 1) and the page says so.
    let again = browser.submit(&challenge, &[("answer", "000000")]).await;
    assert_eq!(again.status, 200);
    assert!(
        again.body.contains("That answer was not accepted."),
        "{}",
        again.body
    );
    // The used round's session is gone: replaying the first form fails.
    let replay = browser.submit(&challenge, &[("answer", &round0)]).await;
    assert_eq!(replay.status, 400);
    assert!(replay.body.contains("Start again"), "{}", replay.body);

    let round1 = cognate_example_custom_auth::expected_code(&username, 1);
    let done = browser.submit(&again, &[("answer", &round1)]).await;
    assert_eq!(done.status, 302, "{}", done.body);
    let location = done.location.unwrap();
    assert!(location.starts_with(CALLBACK), "{location}");
    assert_eq!(query_param(&location, "state").as_deref(), Some("st8"));
    let code = query_param(&location, "code").expect("an authorization code");

    let (status, tokens) = token_request(
        target,
        &web,
        &[
            ("grant_type", "authorization_code"),
            ("code", &code),
            ("redirect_uri", CALLBACK),
        ],
    )
    .await;
    assert_eq!(status, 200, "{tokens}");
    let id = target
        .jwks(&pool_id)
        .await
        .verify_id_token(tokens["id_token"].as_str().unwrap(), &web.id)
        .expect("a valid ID token");
    assert_eq!(id["cognito:username"], username.as_str());

    // The hosted-UI session now skips the sign-in page.
    let again = browser
        .get(&format!(
            "/oauth2/authorize?response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid",
            web.id
        ))
        .await;
    assert_eq!(again.status, 302);
    assert!(again.location.unwrap().starts_with(CALLBACK));
}

#[tokio::test]
async fn the_hosted_ui_offers_custom_auth_only_when_the_pool_and_client_allow_it() {
    let target = Target::shared();
    let pool_id = custom_auth_pool(target, "uinocustom").await;
    // The client may use the code flow but not CUSTOM_AUTH.
    let web = code_flow_client(
        target,
        &pool_id,
        &[ExplicitAuthFlowsType::AllowUserPasswordAuth],
    )
    .await;
    let mut browser = Browser::new(target);
    let query = format!(
        "response_type=code&client_id={}&redirect_uri={CALLBACK}&scope=openid",
        web.id
    );
    let login = browser.get(&format!("/login?{query}")).await;
    assert_eq!(login.status, 200);
    assert!(!login.body.contains("Sign in without a password"));
    // Asking for the page directly shows the ordinary sign-in page instead.
    let page = browser.get(&format!("/customAuth?{query}")).await;
    assert_eq!(page.status, 200);
    assert!(page.body.contains("name=\"password\""));
}
