//! User import jobs (Cognito's CSV import): GetCSVHeader, CreateUserImportJob,
//! StartUserImportJob, StopUserImportJob, DescribeUserImportJob, ListUserImportJobs, and the
//! upload URL (`PUT /user-import/<poolId>/<jobId>?token=...`) that CreateUserImportJob hands out
//! in place of Cognito's pre-signed S3 URL. The rules live in [`crate::user_import`].
//!
//! StartUserImportJob checks the file, then imports rows for up to five seconds; each
//! DescribeUserImportJob of a job still `InProgress` carries on for up to five seconds more
//! (one request at a time, under a lease), so no background worker is needed on any runtime and
//! no request outlives its timeout. A small file is done when StartUserImportJob answers.
//! StopUserImportJob stops a job that is `Created`, `Pending` or `InProgress`.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, input};
use crate::error::{Error, ErrorKind};
use crate::http::{Request, Response};
use crate::pool::{self, epoch_seconds};
use crate::ports::Env;
use crate::record::{get_json, modify_json};
use crate::store::{Expect, keys};
use crate::user_import::{self as rules, JobRecord, JobStatus};

/// The job-id alphabet (Cognito's ids look like `import-qQ0DCt2fRh`).
const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

fn job_wire(job: &JobRecord, base_url: &str, now: u64) -> Value {
    let mut out = json!({
        "JobName": job.job_name,
        "JobId": job.job_id,
        "UserPoolId": job.user_pool_id,
        "PreSignedUrl": job.upload_url(base_url),
        "CreationDate": epoch_seconds(job.created_millis),
        "Status": job.status_at(now).as_str(),
        "CloudWatchLogsRoleArn": job.cloud_watch_logs_role_arn,
        "ImportedUsers": job.imported_users,
        "SkippedUsers": job.skipped_users,
        "FailedUsers": job.failed_users,
    });
    if let Some(started) = job.started_millis {
        super::set(&mut out, "StartDate", epoch_seconds(started));
    }
    if let Some(completed) = job.completed_millis {
        super::set(&mut out, "CompletionDate", epoch_seconds(completed));
    }
    if let Some(message) = &job.completion_message {
        super::set(&mut out, "CompletionMessage", json!(message));
    }
    if let Some(algorithm) = &job.password_hashing_algorithm {
        super::set(&mut out, "PasswordHashingAlgorithm", json!(algorithm));
    }
    out
}

fn answer(ctx: &Ctx<'_>, job: &JobRecord) -> Value {
    json!({ "UserImportJob": job_wire(job, &ctx.config.base_url, ctx.env.clock().now_millis()) })
}

fn job_not_found(job_id: &str) -> Error {
    Error::resource_not_found(format!(
        "Import job {} does not exist.",
        job_id.chars().take(64).collect::<String>()
    ))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct PoolOnly {
    user_pool_id: String,
}

pub(super) async fn get_csv_header(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: PoolOnly = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    Ok(json!({ "UserPoolId": pool.id, "CSVHeader": rules::csv_header(&pool) }))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CreateJob {
    job_name: String,
    user_pool_id: String,
    cloud_watch_logs_role_arn: String,
    #[serde(default)]
    password_hashing_algorithm: Option<String>,
}

pub(super) async fn create_user_import_job(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: CreateJob = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    if req.password_hashing_algorithm.is_some() {
        // Cognito's hash import is its own feature; Cognate's is CognateUsers.ImportUser.
        return Err(Error::invalid_parameter(
            "PasswordHashingAlgorithm is not supported: import password hashes with \
             CognateUsers.ImportUser.",
        ));
    }
    let now = ctx.env.clock().now_millis();
    let job = JobRecord {
        job_id: format!(
            "import-{}",
            crate::ids::random_string(ctx.env.random(), ID_ALPHABET, 10)
        ),
        job_name: req.job_name,
        user_pool_id: pool.id.clone(),
        cloud_watch_logs_role_arn: req.cloud_watch_logs_role_arn,
        password_hashing_algorithm: None,
        upload_token: crate::ids::random_token(ctx.env.random(), 32),
        status: JobStatus::Created,
        created_millis: now,
        started_millis: None,
        completed_millis: None,
        uploaded_chunks: 0,
        imported_users: 0,
        skipped_users: 0,
        failed_users: 0,
        completion_message: None,
        total_rows: 0,
        next_row: 0,
        lease_until_millis: 0,
    };
    let bytes = serde_json::to_vec(&job)?;
    ctx.env
        .store()
        .put(
            &keys::import_job(&pool.id, &job.job_id),
            &bytes,
            Expect::Absent,
        )
        .await?;
    Ok(answer(ctx, &job))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct JobRef {
    user_pool_id: String,
    job_id: String,
}

async fn load_job(ctx: &Ctx<'_>, req: &JobRef) -> Result<(pool::PoolRecord, JobRecord), Error> {
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let (job, _) = get_json::<JobRecord>(ctx.env.store(), &keys::import_job(&pool.id, &req.job_id))
        .await?
        .ok_or_else(|| job_not_found(&req.job_id))?;
    Ok((pool, job))
}

async fn update_job(
    env: &dyn Env,
    pool_id: &str,
    job_id: &str,
    change: impl FnMut(&mut JobRecord) -> Result<(), Error>,
) -> Result<JobRecord, Error> {
    modify_json(
        env.store(),
        &keys::import_job(pool_id, job_id),
        || job_not_found(job_id),
        || {
            Error::new(
                ErrorKind::TooManyRequests,
                "Too many concurrent changes to this import job.",
            )
        },
        change,
    )
    .await
}

pub(super) async fn describe_user_import_job(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: JobRef = input(body)?;
    let (pool, job) = load_job(ctx, &req).await?;
    // A job in progress moves on while someone watches it (no background worker is needed,
    // on the host or on the Worker).
    let job = if job.status == JobStatus::InProgress {
        advance(ctx, &pool, &req.job_id).await?
    } else {
        job
    };
    Ok(answer(ctx, &job))
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ListJobs {
    user_pool_id: String,
    max_results: usize,
    #[serde(default)]
    pagination_token: Option<String>,
}

pub(super) async fn list_user_import_jobs(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: ListJobs = input(body)?;
    let (pool, _) = pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let prefix = keys::import_jobs(&pool.id);
    let after = super::decode_token(req.pagination_token.as_deref(), &prefix)?;
    let page = ctx
        .env
        .store()
        .scan(&prefix, after.as_deref(), req.max_results.clamp(1, 60))
        .await?;
    let now = ctx.env.clock().now_millis();
    let mut jobs = Vec::with_capacity(page.items.len());
    for (_, item) in &page.items {
        let job: JobRecord = serde_json::from_slice(&item.value)?;
        jobs.push(job_wire(&job, &ctx.config.base_url, now));
    }
    let mut out = json!({ "UserImportJobs": jobs });
    if let Some(next) = page.next {
        super::set(
            &mut out,
            "PaginationToken",
            json!(super::encode_token(&next)),
        );
    }
    Ok(out)
}

pub(super) async fn stop_user_import_job(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: JobRef = input(body)?;
    let (pool, _) = load_job(ctx, &req).await?;
    let now = ctx.env.clock().now_millis();
    let job = update_job(ctx.env, &pool.id, &req.job_id, |job| {
        match job.status_at(now) {
            JobStatus::Created | JobStatus::Pending | JobStatus::InProgress => {
                job.status = JobStatus::Stopped;
                job.completed_millis = Some(now);
                job.completion_message = Some("The import job was stopped.".to_string());
                Ok(())
            }
            other => Err(Error::invalid_parameter(format!(
                "The import job cannot be stopped in status {}.",
                other.as_str()
            ))),
        }
    })
    .await?;
    delete_file(ctx.env, &pool.id, &job).await?;
    Ok(answer(ctx, &job))
}

/// Deletes a job's uploaded file.
async fn delete_file(env: &dyn Env, pool_id: &str, job: &JobRecord) -> Result<(), Error> {
    for index in 0..job.uploaded_chunks {
        env.store()
            .delete(
                &keys::import_chunk(pool_id, &job.job_id, index),
                Expect::Any,
            )
            .await?;
    }
    Ok(())
}

/// Reads a job's uploaded file back from its chunks.
async fn read_file(env: &dyn Env, pool_id: &str, job: &JobRecord) -> Result<Vec<u8>, Error> {
    let mut file = Vec::new();
    for index in 0..job.uploaded_chunks {
        let chunk = env
            .store()
            .get(&keys::import_chunk(pool_id, &job.job_id, index))
            .await?
            .ok_or_else(|| Error::internal("an import job's uploaded file is incomplete"))?;
        file.extend_from_slice(&chunk.value);
    }
    Ok(file)
}

pub(super) async fn start_user_import_job(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: JobRef = input(body)?;
    let (pool, _) = load_job(ctx, &req).await?;
    let now = ctx.env.clock().now_millis();
    // Created → Pending, once: a second start finds the job started.
    let job = update_job(ctx.env, &pool.id, &req.job_id, |job| {
        match job.status_at(now) {
            JobStatus::Created if job.uploaded_chunks == 0 => Err(Error::new(
                ErrorKind::PreconditionNotMet,
                "No CSV file was uploaded to the job's PreSignedUrl.",
            )),
            JobStatus::Created => {
                job.status = JobStatus::Pending;
                job.started_millis = Some(now);
                Ok(())
            }
            other => Err(Error::invalid_parameter(format!(
                "The import job cannot be started in status {}.",
                other.as_str()
            ))),
        }
    })
    .await?;
    let file = read_file(ctx.env, &pool.id, &job).await?;
    let parsed = rules::parse(&file).and_then(|csv| {
        rules::check_header(&pool, &csv.header)?;
        if !rules::pool_can_import(&pool) {
            return Err(
                "The user pool has no auto-verified attribute (email or phone_number): \
                 imported users could not reset their passwords."
                    .to_string(),
            );
        }
        Ok(csv)
    });
    let rows = match parsed {
        Ok(csv) => u64::try_from(csv.rows.len()).unwrap_or(u64::MAX),
        Err(reason) => {
            let failed_at = ctx.env.clock().now_millis();
            let job = update_job(ctx.env, &pool.id, &req.job_id, |job| {
                job.status = JobStatus::Failed;
                job.completed_millis = Some(failed_at);
                job.completion_message = Some(reason.chars().take(128).collect());
                Ok(())
            })
            .await?;
            delete_file(ctx.env, &pool.id, &job).await?;
            return Err(Error::invalid_parameter(reason));
        }
    };
    update_job(ctx.env, &pool.id, &req.job_id, |job| {
        if job.status == JobStatus::Pending {
            job.status = JobStatus::InProgress;
            job.total_rows = rows;
            job.next_row = 0;
        }
        Ok(())
    })
    .await?;
    let job = advance(ctx, &pool, &req.job_id).await?;
    Ok(answer(ctx, &job))
}

/// How long one request works on a job before it answers (the next DescribeUserImportJob
/// carries on): well inside every runtime's request timeout.
const WORK_BUDGET_MILLIS: u64 = 5_000;
/// How long a request's claim on a job lasts: a request that died mid-job is replaced after
/// this (the rows of its last unsaved batch are then imported again, and count as skipped).
const LEASE_MILLIS: u64 = 20_000;
/// Rows between two saves of a job's progress.
const BATCH_ROWS: u64 = 50;

/// Works on an `InProgress` job for up to [`WORK_BUDGET_MILLIS`], if no other request holds
/// its lease: the rows after `next_row`, in batches whose counts are saved as they finish; the
/// last batch completes the job. Answers the job as it then is.
async fn advance(ctx: &Ctx<'_>, pool: &pool::PoolRecord, job_id: &str) -> Result<JobRecord, Error> {
    let env = ctx.env;
    let started = env.clock().now_millis();
    let mut claimed = false;
    let job = update_job(env, &pool.id, job_id, |job| {
        claimed = job.status == JobStatus::InProgress && job.lease_until_millis < started;
        if claimed {
            job.lease_until_millis = started.saturating_add(LEASE_MILLIS);
        }
        Ok(())
    })
    .await?;
    if !claimed {
        return Ok(job);
    }
    let file = read_file(env, &pool.id, &job).await?;
    let csv = rules::parse(&file).map_err(Error::internal)?;
    let mut job = job;
    loop {
        let from = job.next_row;
        let to = from.saturating_add(BATCH_ROWS).min(job.total_rows);
        let (mut imported, mut skipped, mut failed) = (0u64, 0u64, 0u64);
        let rows = csv
            .rows
            .iter()
            .skip(usize::try_from(from).unwrap_or(usize::MAX))
            .take(usize::try_from(to - from).unwrap_or(0));
        for (_line, row) in rows {
            let outcome = match rules::check_row(pool, &csv.header, row) {
                Ok(user) => crate::registration::invite::import_user(env, pool, user)
                    .await
                    .map_err(|e| e.message),
                Err(reason) => Err(reason),
            };
            match outcome {
                Ok(crate::registration::invite::Imported::Created) => imported += 1,
                Ok(crate::registration::invite::Imported::Exists) => skipped += 1,
                Err(_) => failed += 1,
            }
        }
        let now = env.clock().now_millis();
        let finished = to >= job.total_rows;
        let more_time = now.saturating_sub(started) < WORK_BUDGET_MILLIS;
        job = update_job(env, &pool.id, job_id, |job| {
            // Stopped meanwhile: the counts still count, the job stays stopped.
            job.imported_users += imported;
            job.skipped_users += skipped;
            job.failed_users += failed;
            job.next_row = job.next_row.max(to);
            if job.status != JobStatus::InProgress {
                return Ok(());
            }
            if finished {
                job.completed_millis = Some(now);
                job.lease_until_millis = 0;
                if job.imported_users == 0 && (job.skipped_users > 0 || job.failed_users > 0) {
                    job.status = JobStatus::Failed;
                    job.completion_message = Some(
                        "Too many users have failed or been skipped during the import.".to_string(),
                    );
                } else {
                    job.status = JobStatus::Succeeded;
                    job.completion_message = Some("Import Job Completed Successfully.".to_string());
                }
            } else if more_time {
                job.lease_until_millis = now.saturating_add(LEASE_MILLIS);
            } else {
                // Let the next request carry on at once.
                job.lease_until_millis = 0;
            }
            Ok(())
        })
        .await?;
        if job.status != JobStatus::InProgress {
            delete_file(env, &pool.id, &job).await?;
            return Ok(job);
        }
        if finished || !more_time {
            return Ok(job);
        }
    }
}

/// Whether `request` is an upload to a job's URL.
pub fn is_upload(request: &Request) -> bool {
    request.path.starts_with(rules::UPLOAD_PATH_PREFIX)
}

fn upload_error(status: u16, code: &str, message: &str) -> Response {
    crate::http::AwsError::new(status, code, message)
        .content_type("application/json")
        .response()
}

/// `PUT /user-import/<poolId>/<jobId>?token=<token>`: stores the job's CSV file (replacing one
/// uploaded before), as an S3 pre-signed PUT does. Any other method is 405; a wrong or expired
/// token, or a job that is no longer `Created`, is 403 `AccessDenied`.
pub async fn upload(env: &dyn Env, request: &Request) -> Response {
    if request.method != "PUT" {
        return upload_error(405, "MethodNotAllowed", "Upload the CSV file with PUT.");
    }
    let rest = request
        .path
        .strip_prefix(rules::UPLOAD_PATH_PREFIX)
        .unwrap_or_default();
    let Some((pool_id, job_id)) = rest.split_once('/') else {
        return upload_error(404, "NoSuchKey", "No such upload URL.");
    };
    let token = request
        .query
        .split('&')
        .find_map(|pair| pair.strip_prefix("token="))
        .unwrap_or_default();
    let denied = || upload_error(403, "AccessDenied", "The upload URL is not valid.");
    if !crate::ids::is_pool_id(pool_id) || job_id.contains('/') || token.is_empty() {
        return denied();
    }
    if request.body.len() > rules::MAX_CSV_BYTES {
        return upload_error(
            413,
            "EntityTooLarge",
            &format!("The CSV file exceeds {} bytes.", rules::MAX_CSV_BYTES),
        );
    }
    let now = env.clock().now_millis();
    let key = keys::import_job(pool_id, job_id);
    let job = match get_json::<JobRecord>(env.store(), &key).await {
        Ok(Some((job, _))) if job.accepts_upload(token, now) => job,
        Ok(_) => return denied(),
        Err(e) => return super::error_response(&e),
    };
    let chunks: Vec<&[u8]> = request.body.chunks(rules::CHUNK_BYTES).collect();
    let count = u32::try_from(chunks.len()).unwrap_or(u32::MAX);
    for (index, chunk) in (0u32..).zip(chunks) {
        if let Err(e) = env
            .store()
            .put(
                &keys::import_chunk(pool_id, job_id, index),
                chunk,
                Expect::Any,
            )
            .await
        {
            return super::error_response(&e.into());
        }
    }
    let before = job.uploaded_chunks;
    let written = update_job(env, pool_id, job_id, |job| {
        if !job.accepts_upload(token, now) {
            return Err(Error::not_authorized("The upload URL is not valid."));
        }
        job.uploaded_chunks = count.max(u32::from(request.body.is_empty()));
        Ok(())
    })
    .await;
    if let Err(e) = written {
        return if e.kind == ErrorKind::NotAuthorized {
            denied()
        } else {
            super::error_response(&e)
        };
    }
    // An empty file is one empty chunk; a shorter file than before leaves no stale chunks.
    if request.body.is_empty() {
        let _ = env
            .store()
            .put(&keys::import_chunk(pool_id, job_id, 0), b"", Expect::Any)
            .await;
    }
    for index in count.max(1)..before {
        let _ = env
            .store()
            .delete(&keys::import_chunk(pool_id, job_id, index), Expect::Any)
            .await;
    }
    Response::new(200).with_header(
        "etag",
        &format!("\"{}\"", crate::codec::sha256_hex_of(&request.body)),
    )
}
