//! Cognito's CSV user import (CreateUserImportJob and friends): the CSV header a pool expects,
//! the parsing of an uploaded file (`csv-core`, no_std), the check of every row, and the job
//! record. Pure: the API layer (`crate::api::import_jobs`) reads and writes the store.
//!
//! The rules are the developer guide's ("Creating the user import CSV file"):
//! - the header is GetCSVHeader's columns (the pool's attributes but `sub`, then
//!   `cognito:mfa_enabled` and `cognito:username`), in any order; a column the pool does not have,
//!   a repeated column, or a missing `cognito:username` / `cognito:mfa_enabled` makes the file
//!   unreadable and the job fails;
//! - each row has a value for every column (possibly empty); `cognito:username` is set;
//!   `cognito:mfa_enabled` is `true` or `false`; at least one of the pool's auto-verified
//!   attributes (`email`, `phone_number`) is marked verified (`email_verified` / `phone_number_verified`
//!   `true`) and then has a value; every attribute the pool requires has a value.
//!
//! A row that breaks a rule is counted as failed; a row whose user exists is skipped; the others
//! are created with status `RESET_REQUIRED` and no password.
//!
//! ## Security
//! The upload URL carries a random token (32 bytes) that only admin-signed calls see; it works for
//! one job, only while the job is `Created`, and only until [`UPLOAD_URL_TTL_MILLIS`] after the
//! job was created.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use crate::pool::PoolRecord;

/// How long a job's upload URL works (the guide: "valid for 15 minutes").
pub const UPLOAD_URL_TTL_MILLIS: u64 = 15 * 60 * 1000;
/// The path prefix of upload URLs: `PUT /user-import/<poolId>/<jobId>?token=<token>`.
pub const UPLOAD_PATH_PREFIX: &str = "/user-import/";
/// The largest CSV file accepted (the store holds it in chunks until the job runs).
pub const MAX_CSV_BYTES: usize = 1024 * 1024;
/// The size of one stored chunk of an uploaded file.
pub const CHUNK_BYTES: usize = 64 * 1024;
/// The most rows one job takes (Cognito's limit is a 100 MB file; this one is smaller).
pub const MAX_ROWS: usize = 100_000;

/// The header columns Cognate adds to the pool's attributes.
pub const USERNAME_COLUMN: &str = "cognito:username";
pub const MFA_COLUMN: &str = "cognito:mfa_enabled";

/// `UserImportJobStatusType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum JobStatus {
    Created,
    Pending,
    InProgress,
    Stopping,
    Expired,
    Stopped,
    Failed,
    Succeeded,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Created => "Created",
            Self::Pending => "Pending",
            Self::InProgress => "InProgress",
            Self::Stopping => "Stopping",
            Self::Expired => "Expired",
            Self::Stopped => "Stopped",
            Self::Failed => "Failed",
            Self::Succeeded => "Succeeded",
        }
    }
}

/// A user import job as stored (`crate::store::keys::import_job`).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct JobRecord {
    pub job_id: String,
    pub job_name: String,
    pub user_pool_id: String,
    pub cloud_watch_logs_role_arn: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_hashing_algorithm: Option<String>,
    /// The secret part of the upload URL.
    pub upload_token: String,
    pub status: JobStatus,
    pub created_millis: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_millis: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completed_millis: Option<u64>,
    /// How many chunks of the uploaded file the store holds (0: nothing uploaded yet).
    #[serde(default)]
    pub uploaded_chunks: u32,
    #[serde(default)]
    pub imported_users: u64,
    #[serde(default)]
    pub skipped_users: u64,
    #[serde(default)]
    pub failed_users: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub completion_message: Option<String>,
    /// The data rows of the file (known once the job started).
    #[serde(default)]
    pub total_rows: u64,
    /// The rows before this one are done.
    #[serde(default)]
    pub next_row: u64,
    /// Until when a request works on the job (others leave it alone until then).
    #[serde(default)]
    pub lease_until_millis: u64,
}

impl JobRecord {
    /// The status as of `now`: a job whose file never arrived before its URL expired is
    /// `Expired`.
    pub fn status_at(&self, now_millis: u64) -> JobStatus {
        if self.status == JobStatus::Created
            && self.uploaded_chunks == 0
            && now_millis > self.created_millis.saturating_add(UPLOAD_URL_TTL_MILLIS)
        {
            JobStatus::Expired
        } else {
            self.status
        }
    }

    /// Whether an upload with `token` at `now` may replace the job's file.
    pub fn accepts_upload(&self, token: &str, now_millis: u64) -> bool {
        use subtle::ConstantTimeEq as _;
        let same: bool = self.upload_token.as_bytes().ct_eq(token.as_bytes()).into();
        same && self.status == JobStatus::Created
            && now_millis <= self.created_millis.saturating_add(UPLOAD_URL_TTL_MILLIS)
    }

    /// The upload URL under `base_url`.
    pub fn upload_url(&self, base_url: &str) -> String {
        format!(
            "{}{UPLOAD_PATH_PREFIX}{}/{}?token={}",
            base_url.trim_end_matches('/'),
            self.user_pool_id,
            self.job_id,
            self.upload_token
        )
    }
}

/// GetCSVHeader's columns for `pool`: its attributes but `sub` (custom ones included), then
/// `cognito:mfa_enabled` and `cognito:username`, as the guide's sample shows.
pub fn csv_header(pool: &PoolRecord) -> Vec<String> {
    let mut out: Vec<String> = pool
        .schema
        .iter()
        .filter(|a| a.name != "sub")
        .map(|a| a.name.clone())
        .collect();
    out.push(MFA_COLUMN.to_string());
    out.push(USERNAME_COLUMN.to_string());
    out
}

/// A parsed file: the header and the data rows with their line numbers (1 is the header).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Csv {
    pub header: Vec<String>,
    pub rows: Vec<(usize, Vec<String>)>,
}

/// Parses a CSV file (RFC 4180: `,`, `"` quoting, CRLF or LF). A file that is not UTF-8, has
/// no header, or has more than [`MAX_ROWS`] rows is refused with the reason.
pub fn parse(bytes: &[u8]) -> Result<Csv, String> {
    let text =
        core::str::from_utf8(bytes).map_err(|_| "The file is not UTF-8 text.".to_string())?;
    // A byte-order mark is not part of the first column's name.
    let input = text.strip_prefix('\u{feff}').unwrap_or(text).as_bytes();
    let mut reader = csv_core::Reader::new();
    let mut records: Vec<(usize, Vec<String>)> = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    let mut field: Vec<u8> = Vec::new();
    let mut buf = [0u8; 1024];
    let mut rest = input;
    let mut line = 1usize;
    loop {
        let (result, read, written) = reader.read_field(rest, &mut buf);
        rest = rest.get(read..).unwrap_or_default();
        field.extend_from_slice(buf.get(..written).unwrap_or_default());
        match result {
            // All input given; the next call, with nothing, tells the reader the input ended.
            csv_core::ReadFieldResult::InputEmpty | csv_core::ReadFieldResult::OutputFull => {}
            csv_core::ReadFieldResult::Field { record_end } => {
                fields.push(into_string(core::mem::take(&mut field))?);
                if record_end {
                    push_record(&mut records, &mut fields, line)?;
                    // The reader counts lines from 1: this is the next record's.
                    line = usize::try_from(reader.line()).unwrap_or(usize::MAX);
                }
            }
            csv_core::ReadFieldResult::End => break,
        }
    }
    let mut records = records.into_iter();
    let (_, header) = records
        .next()
        .ok_or_else(|| "The file has no header row.".to_string())?;
    let header = header.into_iter().map(|h| h.trim().to_string()).collect();
    Ok(Csv {
        header,
        rows: records.collect(),
    })
}

fn into_string(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|_| "The file is not UTF-8 text.".to_string())
}

fn push_record(
    records: &mut Vec<(usize, Vec<String>)>,
    fields: &mut Vec<String>,
    line: usize,
) -> Result<(), String> {
    let record = core::mem::take(fields);
    // A blank line is no record.
    if record.len() == 1 && record.first().is_some_and(String::is_empty) {
        return Ok(());
    }
    if records.len() > MAX_ROWS {
        return Err(format!("The file has more than {MAX_ROWS} users."));
    }
    records.push((line, record));
    Ok(())
}

/// Checks the header against the pool: every column is one of GetCSVHeader's, none repeats, and
/// `cognito:username` and `cognito:mfa_enabled` are there.
pub fn check_header(pool: &PoolRecord, header: &[String]) -> Result<(), String> {
    let known = csv_header(pool);
    let mut seen: Vec<&str> = Vec::with_capacity(header.len());
    for column in header {
        if !known.iter().any(|k| k == column) {
            return Err(format!(
                "The CSV header has a column that is not an attribute of the user pool: {}.",
                column.chars().take(64).collect::<String>()
            ));
        }
        if seen.contains(&column.as_str()) {
            return Err(format!("The CSV header repeats the column {column}."));
        }
        seen.push(column);
    }
    for required in [USERNAME_COLUMN, MFA_COLUMN] {
        if !seen.contains(&required) {
            return Err(format!("The CSV header has no {required} column."));
        }
    }
    Ok(())
}

/// Whether the pool can take an import: it auto-verifies email or phone number (otherwise no
/// imported user could reset a password, and Cognito does not start the job).
pub fn pool_can_import(pool: &PoolRecord) -> bool {
    pool.auto_verifies("email") || pool.auto_verifies("phone_number")
}

/// A row that passed the rules: the user to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedUser {
    pub username: String,
    /// Attributes with a value (empty cells are left out), `email_verified` and friends as
    /// `true`/`false`.
    pub attributes: BTreeMap<String, String>,
    pub mfa_enabled: bool,
}

fn boolean(column: &str, value: &str) -> Result<Option<bool>, String> {
    match value.trim() {
        "" => Ok(None),
        v if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
        v if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
        _ => Err(format!("The value of {column} must be true or false.")),
    }
}

/// Applies the rules to one row (the header passed [`check_header`]).
pub fn check_row(
    pool: &PoolRecord,
    header: &[String],
    row: &[String],
) -> Result<ImportedUser, String> {
    if row.len() != header.len() {
        return Err(format!(
            "The row has {} values; the header has {} columns.",
            row.len(),
            header.len()
        ));
    }
    let mut username = String::new();
    let mut mfa_enabled = None;
    let mut attributes = BTreeMap::new();
    for (column, value) in header.iter().zip(row) {
        match column.as_str() {
            USERNAME_COLUMN => username = value.trim().to_string(),
            MFA_COLUMN => mfa_enabled = boolean(column, value)?,
            "email_verified" | "phone_number_verified" => {
                if let Some(b) = boolean(column, value)? {
                    attributes.insert(column.clone(), b.to_string());
                }
            }
            _ if value.is_empty() => {}
            _ => {
                attributes.insert(column.clone(), value.clone());
            }
        }
    }
    if username.is_empty() {
        return Err("The row has no cognito:username.".to_string());
    }
    let mfa_enabled =
        mfa_enabled.ok_or("The value of cognito:mfa_enabled must be true or false.")?;
    let verified = |attribute: &str| {
        attributes
            .get(&format!("{attribute}_verified"))
            .is_some_and(|v| v == "true")
    };
    let auto_verified: Vec<&str> = ["email", "phone_number"]
        .into_iter()
        .filter(|a| pool.auto_verifies(a))
        .collect();
    if !auto_verified.iter().any(|a| verified(a)) {
        return Err(
            "The User Record does not set any of the auto verified attributes to true.".to_string(),
        );
    }
    for attribute in ["email", "phone_number"] {
        if verified(attribute) && !attributes.contains_key(attribute) {
            return Err(format!(
                "{attribute}_verified is true but {attribute} has no value."
            ));
        }
    }
    if mfa_enabled && !attributes.contains_key("phone_number") {
        return Err("cognito:mfa_enabled is true but phone_number has no value.".to_string());
    }
    for attribute in pool.schema.iter().filter(|a| a.required && a.name != "sub") {
        if !attributes.contains_key(&attribute.name) {
            return Err(format!(
                "The required attribute {} has no value.",
                attribute.name
            ));
        }
    }
    Ok(ImportedUser {
        username,
        attributes,
        mfa_enabled,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::indexing_slicing)]

    use super::*;

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_quotes_crlf_blank_lines_and_a_bom() {
        let csv = parse(
            "\u{feff}cognito:username,name,email\r\n\"a,b\",\"say \"\"hi\"\"\",x@example.com\r\n\r\nc,,\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(csv.header, strings(&["cognito:username", "name", "email"]));
        assert_eq!(csv.rows.len(), 2);
        assert_eq!(
            csv.rows[0].1,
            strings(&["a,b", "say \"hi\"", "x@example.com"])
        );
        assert_eq!(csv.rows[1].1, strings(&["c", "", ""]));
        // Without a final newline, the last record still counts.
        let csv = parse(b"h1,h2\nv1,v2").unwrap();
        assert_eq!(csv.rows, alloc::vec![(2, strings(&["v1", "v2"]))]);
    }

    #[test]
    fn refuses_what_is_not_a_csv_file() {
        assert!(parse(b"").is_err());
        assert!(parse(&[0xff, 0xfe, 0x00]).is_err());
    }
}
