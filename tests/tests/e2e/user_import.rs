//! Cognito's CSV user import: GetCSVHeader, CreateUserImportJob, the upload to the job's
//! PreSignedUrl (served by Cognate itself, on the host and on the Worker), StartUserImportJob,
//! DescribeUserImportJob, ListUserImportJobs and StopUserImportJob; imported users are
//! RESET_REQUIRED and get their password through ForgotPassword.

use cognate_tests::cognito::error::ProvideErrorMetadata;
use cognate_tests::cognito::types::{UserImportJobStatusType, UserImportJobType, UserStatusType};
use cognate_tests::scenarios::{confirm_forgot_password, forgot_password, user_status};
use cognate_tests::{Target, ok, password_flows, service_error, unique, unique_email};

const ROLE: &str = "arn:aws:iam::123456789012:role/CognitoImport";
const NEW_PASSWORD: &str = "Imported-Pass-42";

/// A CSV file: the header and rows, quoted where needed, one value per header column.
fn csv(header: &[String], rows: &[Vec<(&str, String)>]) -> String {
    let mut out = header.join(",");
    out.push_str("\r\n");
    for row in rows {
        let cells: Vec<String> = header
            .iter()
            .map(|column| {
                let value = row
                    .iter()
                    .find(|(name, _)| name == column)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default();
                if value.contains(',') || value.contains('"') {
                    format!("\"{}\"", value.replace('"', "\"\""))
                } else {
                    value
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push_str("\r\n");
    }
    out
}

fn user_row(username: &str, email: &str) -> Vec<(&'static str, String)> {
    vec![
        ("cognito:username", username.to_owned()),
        ("email", email.to_owned()),
        ("email_verified", "true".to_owned()),
        ("cognito:mfa_enabled", "false".to_owned()),
        ("name", "Imported, Person".to_owned()),
        ("custom:tier", "gold".to_owned()),
    ]
}

async fn create_job(target: &Target, pool_id: &str) -> UserImportJobType {
    let created = ok(
        target
            .admin_client()
            .create_user_import_job()
            .user_pool_id(pool_id)
            .job_name(unique("import"))
            .cloud_watch_logs_role_arn(ROLE)
            .send()
            .await,
        "CreateUserImportJob",
    );
    created.user_import_job.expect("UserImportJob")
}

/// PUTs the file as the guide's `curl -T` does; returns the status.
async fn upload(target: &Target, url: &str, body: String) -> u16 {
    target
        .http()
        .put(url)
        .header("x-amz-server-side-encryption", "aws:kms")
        .body(body)
        .send()
        .await
        .expect("PUT to the PreSignedUrl")
        .status()
        .as_u16()
}

async fn start(target: &Target, pool_id: &str, job_id: &str) -> UserImportJobType {
    ok(
        target
            .admin_client()
            .start_user_import_job()
            .user_pool_id(pool_id)
            .job_id(job_id)
            .send()
            .await,
        "StartUserImportJob",
    )
    .user_import_job
    .expect("UserImportJob")
}

async fn describe(target: &Target, pool_id: &str, job_id: &str) -> UserImportJobType {
    ok(
        target
            .admin_client()
            .describe_user_import_job()
            .user_pool_id(pool_id)
            .job_id(job_id)
            .send()
            .await,
        "DescribeUserImportJob",
    )
    .user_import_job
    .expect("UserImportJob")
}

/// DescribeUserImportJob until the job leaves Pending/InProgress (bounded).
async fn finished(target: &Target, pool_id: &str, job_id: &str) -> UserImportJobType {
    for _ in 0..100 {
        let job = describe(target, pool_id, job_id).await;
        match job.status() {
            Some(UserImportJobStatusType::Pending | UserImportJobStatusType::InProgress) => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            _ => return job,
        }
    }
    panic!("the import job {job_id} did not finish");
}

#[tokio::test]
async fn a_csv_import_creates_reset_required_users_who_set_a_password_with_forgot_password() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("import").await;
    let client = target.create_client(&pool_id, password_flows).await;

    let header = ok(
        target
            .admin_client()
            .get_csv_header()
            .user_pool_id(&pool_id)
            .send()
            .await,
        "GetCSVHeader",
    );
    assert_eq!(header.user_pool_id(), Some(pool_id.as_str()));
    let columns: Vec<String> = header.csv_header().to_vec();
    // The pool's attributes (but `sub`), the custom one included, then Cognito's two columns.
    assert_eq!(
        &columns[columns.len() - 2..],
        ["cognito:mfa_enabled", "cognito:username"]
    );
    for expected in [
        "name",
        "email",
        "email_verified",
        "phone_number",
        "custom:tier",
    ] {
        assert!(
            columns.iter().any(|c| c == expected),
            "{expected} in {columns:?}"
        );
    }
    assert!(!columns.iter().any(|c| c == "sub"), "{columns:?}");

    let job = create_job(target, &pool_id).await;
    let job_id = job.job_id().expect("JobId").to_owned();
    assert!(job_id.starts_with("import-"), "{job_id}");
    assert_eq!(job.status(), Some(&UserImportJobStatusType::Created));
    assert_eq!(job.cloud_watch_logs_role_arn(), Some(ROLE));
    let url = job.pre_signed_url().expect("PreSignedUrl").to_owned();
    assert!(url.starts_with(target.base_url()), "{url}");

    let alice = unique("alice");
    let alice_email = unique_email("alice");
    let bob = unique("bob");
    let file = csv(
        &columns,
        &[
            user_row(&alice, &alice_email),
            user_row(&bob, &unique_email("bob")),
            // No auto-verified attribute marked verified: failed.
            vec![
                ("cognito:username", unique("unverified")),
                ("email", unique_email("unverified")),
                ("email_verified", "false".to_owned()),
                ("cognito:mfa_enabled", "false".to_owned()),
            ],
            // cognito:mfa_enabled is not a boolean: failed.
            vec![
                ("cognito:username", unique("badmfa")),
                ("email", unique_email("badmfa")),
                ("email_verified", "true".to_owned()),
                ("cognito:mfa_enabled", "maybe".to_owned()),
            ],
            // The same username again: skipped.
            user_row(&alice, &unique_email("alice-again")),
        ],
    );
    // A wrong token is refused; the right one is accepted.
    let forged = format!("{}x", url);
    assert_eq!(upload(target, &forged, file.clone()).await, 403);
    assert_eq!(upload(target, &url, file).await, 200);

    let started = start(target, &pool_id, &job_id).await;
    assert!(started.start_date().is_some());
    let done = finished(target, &pool_id, &job_id).await;
    assert_eq!(done.status(), Some(&UserImportJobStatusType::Succeeded));
    assert_eq!(done.imported_users(), 2);
    assert_eq!(done.failed_users(), 2);
    assert_eq!(done.skipped_users(), 1);
    assert!(done.completion_date().is_some());
    assert!(done.completion_message().is_some());

    // The URL works only while the job is Created.
    assert_eq!(upload(target, &url, "x".to_owned()).await, 403);
    // A started job does not start again.
    let again = service_error(
        target
            .admin_client()
            .start_user_import_job()
            .user_pool_id(&pool_id)
            .job_id(&job_id)
            .send()
            .await,
        "StartUserImportJob again",
    );
    assert_eq!(again.code(), Some("InvalidParameterException"));

    assert_eq!(
        user_status(target, &pool_id, &alice).await,
        UserStatusType::ResetRequired
    );
    let sign_in = service_error(
        target
            .password_auth(&client, &alice, NEW_PASSWORD)
            .send()
            .await,
        "InitiateAuth of an imported user",
    );
    assert_eq!(sign_in.code(), Some("PasswordResetRequiredException"));
    ok(
        forgot_password(target, &client.id, &alice).await,
        "ForgotPassword",
    );
    let code = target.latest_code(&pool_id, &alice_email).await;
    ok(
        confirm_forgot_password(target, &client, &alice, &code, NEW_PASSWORD).await,
        "ConfirmForgotPassword",
    );
    let tokens = ok(
        target
            .password_auth(&client, &alice, NEW_PASSWORD)
            .send()
            .await,
        "InitiateAuth after the reset",
    );
    assert!(tokens.authentication_result().is_some());
    assert_eq!(
        user_status(target, &pool_id, &alice).await,
        UserStatusType::Confirmed
    );

    let listed = ok(
        target
            .admin_client()
            .list_user_import_jobs()
            .user_pool_id(&pool_id)
            .max_results(10)
            .send()
            .await,
        "ListUserImportJobs",
    );
    let ids: Vec<&str> = listed
        .user_import_jobs()
        .iter()
        .filter_map(|j| j.job_id())
        .collect();
    assert_eq!(ids, [job_id.as_str()]);
}

#[tokio::test]
async fn a_bad_csv_header_fails_the_job_and_unstarted_jobs_stop() {
    let target = Target::shared();
    let pool_id = target.create_standard_pool("import-bad").await;

    // Starting before anything was uploaded.
    let job = create_job(target, &pool_id).await;
    let job_id = job.job_id().unwrap().to_owned();
    let early = service_error(
        target
            .admin_client()
            .start_user_import_job()
            .user_pool_id(&pool_id)
            .job_id(&job_id)
            .send()
            .await,
        "StartUserImportJob without a file",
    );
    assert_eq!(early.code(), Some("PreconditionNotMetException"));

    // A column the pool does not have.
    let url = job.pre_signed_url().unwrap().to_owned();
    let body = "cognito:username,cognito:mfa_enabled,email,email_verified,shoe_size\r\n\
                u1,false,u1@example.com,true,42\r\n"
        .to_owned();
    assert_eq!(upload(target, &url, body).await, 200);
    let refused = service_error(
        target
            .admin_client()
            .start_user_import_job()
            .user_pool_id(&pool_id)
            .job_id(&job_id)
            .send()
            .await,
        "StartUserImportJob with a bad header",
    );
    assert_eq!(refused.code(), Some("InvalidParameterException"));
    assert!(
        refused.message().unwrap_or_default().contains("shoe_size"),
        "{refused:?}"
    );
    let failed = describe(target, &pool_id, &job_id).await;
    assert_eq!(failed.status(), Some(&UserImportJobStatusType::Failed));
    assert_eq!(failed.imported_users(), 0);

    // A job that has not started stops; a stopped one does not stop again.
    let other = create_job(target, &pool_id).await;
    let other_id = other.job_id().unwrap();
    let stopped = ok(
        target
            .admin_client()
            .stop_user_import_job()
            .user_pool_id(&pool_id)
            .job_id(other_id)
            .send()
            .await,
        "StopUserImportJob",
    );
    assert_eq!(
        stopped.user_import_job().and_then(|j| j.status()),
        Some(&UserImportJobStatusType::Stopped)
    );
    let again = service_error(
        target
            .admin_client()
            .stop_user_import_job()
            .user_pool_id(&pool_id)
            .job_id(other_id)
            .send()
            .await,
        "StopUserImportJob again",
    );
    assert_eq!(again.code(), Some("InvalidParameterException"));
    let missing = service_error(
        target
            .admin_client()
            .describe_user_import_job()
            .user_pool_id(&pool_id)
            .job_id("import-doesnotexist")
            .send()
            .await,
        "DescribeUserImportJob of no job",
    );
    assert_eq!(missing.code(), Some("ResourceNotFoundException"));
}
