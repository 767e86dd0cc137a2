//! The command line's client of a running server's administrative API: SigV4-signed AWS JSON
//! 1.1 calls with an admin key, as the AWS CLI makes them. Used by `cognate keys ...`.
//!
//! Credentials, first found: `AWS_ACCESS_KEY_ID` + `AWS_SECRET_ACCESS_KEY`,
//! `COGNATE_ADMIN_ACCESS_KEY_ID` + `COGNATE_ADMIN_SECRET_ACCESS_KEY`, the data directory's
//! generated `admin-credentials.toml`. The secret is never printed.

use anyhow::{Context as _, bail};
use clap::{Args, Subcommand};
use cognate_core::Secret;
use cognate_core::ports::DeliveryRequest;
use cognate_core::service::AdminKey;
use serde_json::{Value, json};

use crate::config::DataDirArg;

/// Where the server is and who calls it.
#[derive(Debug, Clone, Args)]
pub struct ClientArgs {
    /// The server's URL [default: http://127.0.0.1:9229].
    #[arg(long, value_name = "URL", env = "COGNATE_ENDPOINT")]
    pub endpoint: Option<String>,
    /// The region to sign for [default: us-east-1].
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
    /// Print the answer as JSON.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub data: DataDirArg,
}

/// `cognate keys ...`: a pool's token signing keys.
#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Rotate a pool's signing key without downtime: the new key is published at once and
    /// signs after PUBLISH_AHEAD seconds; the old ones verify until LONGEST_TOKEN seconds
    /// after that.
    Rotate {
        /// The user pool id.
        #[arg(long)]
        pool: String,
        /// Seconds between publishing the new key and signing with it [default: 3600].
        #[arg(long, value_name = "SECONDS")]
        publish_ahead: Option<u64>,
        /// Lifetime of the longest token an old key may have signed [default: 86400].
        #[arg(long, value_name = "SECONDS")]
        longest_token: Option<u64>,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// List a pool's live signing keys.
    List {
        #[arg(long)]
        pool: String,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// A SigV4 client of one server.
#[derive(Debug)]
pub struct AdminClient {
    endpoint: String,
    region: String,
    key: AdminKey,
    http: reqwest::Client,
}

fn env_pair(id: &str, secret: &str) -> Option<AdminKey> {
    let id = std::env::var(id).ok().filter(|v| !v.is_empty())?;
    let secret = std::env::var(secret).ok().filter(|v| !v.is_empty())?;
    Some(AdminKey {
        access_key_id: id,
        secret_access_key: Secret::new(secret),
    })
}

impl AdminClient {
    pub fn new(args: &ClientArgs) -> anyhow::Result<Self> {
        let key = match env_pair("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY").or_else(|| {
            env_pair(
                "COGNATE_ADMIN_ACCESS_KEY_ID",
                "COGNATE_ADMIN_SECRET_ACCESS_KEY",
            )
        }) {
            Some(key) => key,
            None => {
                let dir = args.data.dir();
                if !dir.join(crate::credentials::FILE_NAME).exists() {
                    bail!(
                        "no admin credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, \
                         or name the server's data directory with --data"
                    );
                }
                crate::credentials::load_or_create(&dir)?.0
            }
        };
        let endpoint = args
            .endpoint
            .clone()
            .unwrap_or_else(|| format!("http://{}", crate::config::DEFAULT_LISTEN))
            .trim_end_matches('/')
            .to_owned();
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            bail!("the endpoint must start with http:// or https://");
        }
        Ok(Self {
            endpoint,
            region: args
                .region
                .clone()
                .unwrap_or_else(|| crate::config::DEFAULT_REGION.to_owned()),
            key,
            http: reqwest::Client::builder()
                .timeout(std::time::Duration::from_secs(60))
                .build()
                .context("HTTP client")?,
        })
    }

    /// One call: the answer's JSON, or the server's error as `Type: message`.
    pub async fn call(&self, target: &str, body: &Value) -> anyhow::Result<Value> {
        use cognate_core::Clock as _;
        let mut request = DeliveryRequest {
            method: "POST".into(),
            url: format!("{}/", self.endpoint),
            headers: [
                (
                    "content-type".to_owned(),
                    "application/x-amz-json-1.1".to_owned(),
                ),
                ("x-amz-target".to_owned(), target.to_owned()),
            ]
            .into_iter()
            .collect(),
            body: body.to_string(),
        };
        cognate_core::sigv4::sign(
            &mut request,
            &cognate_core::sigv4::Credentials {
                access_key_id: self.key.access_key_id.clone(),
                secret_access_key: self.key.secret_access_key.clone(),
                session_token: None,
            },
            &self.region,
            "cognito-idp",
            crate::ports::SystemClock.now_millis(),
        )
        .map_err(|e| anyhow::anyhow!("cannot sign the request: {}", e.message))?;
        let mut builder = self.http.post(&request.url);
        for (name, value) in &request.headers {
            if name != "host" {
                builder = builder.header(name, value);
            }
        }
        let response = builder
            .body(request.body)
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.endpoint))?;
        let status = response.status();
        let answer: Value = response.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!(
                "{}: {}",
                at(&answer, "__type").as_str().unwrap_or("Error"),
                at(&answer, "message").as_str().unwrap_or("(no message)")
            );
        }
        Ok(answer)
    }
}

fn print_keys(answer: &Value) {
    if let Some(keys) = at(answer, "Keys").as_array() {
        for key in keys {
            let mut line = format!("  {}", at(key, "KeyId").as_str().unwrap_or("?"));
            if at(key, "Signing") == true {
                line.push_str("  signing");
            }
            if let Some(t) = at(key, "SignsFrom").as_f64() {
                line.push_str(&format!("  signs from {}", t as u64));
            }
            if let Some(t) = at(key, "Retires").as_f64() {
                line.push_str(&format!("  retires at {}", t as u64));
            }
            println!("{line}");
        }
    }
}

/// Runs `cognate keys ...`.
pub async fn keys_cli(command: KeysCommand) -> anyhow::Result<()> {
    let (target, body, client) = match &command {
        KeysCommand::Rotate {
            pool,
            publish_ahead,
            longest_token,
            client,
        } => {
            let mut body = json!({"UserPoolId": pool});
            if let Some(s) = publish_ahead {
                put(&mut body, "PublishAheadSeconds", json!(s));
            }
            if let Some(s) = longest_token {
                put(&mut body, "LongestTokenSeconds", json!(s));
            }
            ("CognateKeys.RotateSigningKey", body, client)
        }
        KeysCommand::List { pool, client } => (
            "CognateKeys.ListSigningKeys",
            json!({"UserPoolId": pool}),
            client,
        ),
    };
    let answer = AdminClient::new(client)?.call(target, &body).await?;
    if client.json {
        println!("{}", serde_json::to_string_pretty(&answer)?);
        return Ok(());
    }
    if let KeysCommand::Rotate { pool, .. } = &command {
        println!(
            "Rotated the signing key of {pool}: new key {} signs from {} (Unix time).",
            at(&answer, "KeyId").as_str().unwrap_or("?"),
            at(&answer, "SignsFrom").as_f64().map_or(0, |t| t as u64)
        );
    }
    println!("Live keys, newest first:");
    print_keys(&answer);
    Ok(())
}

/// `cognate users ...`: moving users with their password hashes.
#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// Write a pool's users, with their password hashes (argon2id PHC strings), to FILE as
    /// JSON lines (created with mode 0600; an existing file is refused). The hashes are
    /// secrets: keep the file like a database backup.
    Export {
        #[arg(long)]
        pool: String,
        /// The file to create.
        #[arg(long, value_name = "FILE")]
        out: std::path::PathBuf,
        #[command(flatten)]
        client: ClientArgs,
    },
    /// Create the users of FILE (an export, or JSON lines of `{"Username", "Attributes",
    /// "PasswordHash"}` with argon2id, bcrypt, scrypt or PBKDF2 hashes) in a pool; they sign in
    /// with the same passwords.
    Import {
        #[arg(long)]
        pool: String,
        /// The JSON lines file.
        file: std::path::PathBuf,
        #[command(flatten)]
        client: ClientArgs,
    },
}

/// Runs `cognate users ...`.
pub async fn users_cli(command: UsersCommand) -> anyhow::Result<()> {
    use std::io::Write as _;
    match command {
        UsersCommand::Export { pool, out, client } => {
            let api = AdminClient::new(&client)?;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create_new(true);
            #[cfg(unix)]
            {
                use std::os::unix::fs::OpenOptionsExt as _;
                options.mode(0o600);
            }
            let file = options
                .open(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let mut file = std::io::BufWriter::new(file);
            let mut token: Option<String> = None;
            let mut count = 0usize;
            loop {
                let mut body = json!({"UserPoolId": pool, "Limit": 500});
                if let Some(t) = &token {
                    put(&mut body, "PaginationToken", json!(t));
                }
                let page = api.call("CognateUsers.ExportUsers", &body).await?;
                for user in at(&page, "Users").as_array().into_iter().flatten() {
                    serde_json::to_writer(&mut file, user)?;
                    file.write_all(b"\n")?;
                    count += 1;
                }
                match at(&page, "PaginationToken").as_str() {
                    Some(next) => token = Some(next.to_owned()),
                    None => break,
                }
            }
            file.flush()?;
            println!("Exported {count} users of {pool} to {}", out.display());
            Ok(())
        }
        UsersCommand::Import { pool, file, client } => {
            let api = AdminClient::new(&client)?;
            let text = std::fs::read_to_string(&file)
                .with_context(|| format!("cannot read {}", file.display()))?;
            let (mut imported, mut failed) = (0usize, 0usize);
            for (number, line) in text.lines().enumerate() {
                if line.trim().is_empty() {
                    continue;
                }
                let Ok(user) = serde_json::from_str::<Value>(line) else {
                    eprintln!("line {}: not JSON; skipped", number + 1);
                    failed += 1;
                    continue;
                };
                let mut attributes = at(&user, "Attributes").clone();
                if let Some(map) = attributes.as_object_mut() {
                    map.remove("sub");
                }
                let body = json!({
                    "UserPoolId": pool,
                    "Username": at(&user, "Username"),
                    "Attributes": if attributes.is_object() { attributes } else { json!({}) },
                    "PasswordHash": at(&user, "PasswordHash"),
                });
                match api.call("CognateUsers.ImportUser", &body).await {
                    Ok(_) => imported += 1,
                    Err(e) => {
                        // The error names the user, never the hash.
                        eprintln!(
                            "line {} ({}): {e}",
                            number + 1,
                            at(&user, "Username").as_str().unwrap_or("?")
                        );
                        failed += 1;
                    }
                }
            }
            println!("Imported {imported} users into {pool}; {failed} failed");
            if failed > 0 {
                bail!("{failed} users were not imported");
            }
            Ok(())
        }
    }
}

/// A member of a JSON answer, `null` when absent.
fn at<'a>(value: &'a Value, name: &str) -> &'a Value {
    value.get(name).unwrap_or(&Value::Null)
}

/// Sets a member of a JSON object (no-op on anything else).
fn put(value: &mut Value, name: &str, member: Value) {
    if let Some(map) = value.as_object_mut() {
        map.insert(name.to_owned(), member);
    }
}
