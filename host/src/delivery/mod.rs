//! Delivery on the host: the `Sender` port over SMTP, Amazon SES and SNS (SigV4-signed over the
//! outbound-HTTP port), custom sender plugin deliveries performed, and the development outbox.
//!
//! The core decides what a message says and which transport a pool wants
//! (`cognate_core::delivery`); this module performs it:
//!
//! | message route | transport |
//! | --- | --- |
//! | email, `Server` | SMTP when `[delivery.smtp]` is set, else the outbox (if on) |
//! | email, `Ses` (pool's `EmailSendingAccount = DEVELOPER`) | SES v2 `SendEmail` with `[delivery.aws]`, else the outbox (if on) |
//! | SMS, `Sns` (pool's `SmsConfiguration`) | SNS `Publish` with `[delivery.aws]`, else the outbox (if on) |
//! | SMS, `Server` | the outbox (if on): Cognate has no SMS transport of its own |
//! | custom sender plugin delivery | performed (allow-list, timeout, size cap); recorded in the outbox instead while the outbox is on |
//!
//! The outbox is on by default only while no real transport (SMTP, AWS) is configured; set
//! `outbox = true` to keep it next to one. A transport error is retried with exponential backoff
//! up to `max_attempts` times; then the request fails with Cognito's
//! `CodeDeliveryFailureException`. Log lines name the pool, medium, purpose, transport and the
//! error's kind, never the code, the text or the destination.
//!
//! ```toml
//! [delivery]
//! outbox = false            # default: on only when neither smtp nor aws is set
//! max_attempts = 3          # per message
//! retry_base_ms = 200       # backoff: 200 ms, 400 ms, ...
//! http_timeout_ms = 10000   # SES, SNS and plugin deliveries
//! http_max_answer_kib = 64
//! [delivery.smtp]
//! host = "smtp.example.com"
//! port = 587                # default 587 (starttls), 465 (implicit), 25 (none)
//! tls = "starttls"          # "starttls" (required), "implicit" or "none"
//! username = "cognate"
//! password = "..."
//! from = "Example <no-reply@example.com>"
//! ca_file = "/etc/cognate/smtp-ca.pem"   # an extra trusted root (a private CA)
//! timeout_ms = 10000
//! [delivery.aws]            # SES and SNS; the pool names the identity, region and options
//! access_key_id = "AKIA..."
//! secret_access_key = "..."
//! session_token = "..."     # optional
//! ses_endpoint = "https://email.eu-west-1.amazonaws.com"   # default: per region
//! sns_endpoint = "https://sns.eu-west-1.amazonaws.com"     # default: per region
//! ```
//!
//! Environment (over the file): `COGNATE_OUTBOX`, `COGNATE_SMTP_HOST`, `COGNATE_SMTP_PORT`,
//! `COGNATE_SMTP_TLS`, `COGNATE_SMTP_USERNAME`, `COGNATE_SMTP_PASSWORD`, `COGNATE_SMTP_FROM`,
//! `COGNATE_SMTP_CA_FILE`, `COGNATE_DELIVERY_AWS_ACCESS_KEY_ID`,
//! `COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY`, `COGNATE_DELIVERY_AWS_SESSION_TOKEN`,
//! `COGNATE_SES_ENDPOINT`, `COGNATE_SNS_ENDPOINT`, `COGNATE_DELIVERY_MAX_ATTEMPTS`,
//! `COGNATE_DELIVERY_RETRY_BASE_MS`.

pub mod http;
pub mod smtp;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, bail};
use cognate_core::delivery::{Outcome, Route};
use cognate_core::ports::{BoxFuture, Clock, Medium, Message, Sender, boxed};
use cognate_core::sigv4::Credentials;
use cognate_core::{DeliveryRequest, Error, Secret};

use crate::ports::OutboxSender;

/// `[delivery]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeliveryConfig {
    pub outbox: Option<bool>,
    pub max_attempts: Option<u32>,
    pub retry_base_ms: Option<u64>,
    pub http_timeout_ms: Option<u64>,
    pub http_max_answer_kib: Option<usize>,
    pub smtp: Option<SmtpConfig>,
    pub aws: Option<AwsConfig>,
}

/// `[delivery.smtp]`.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    pub host: String,
    pub port: Option<u16>,
    pub tls: Option<SmtpTls>,
    pub username: Option<String>,
    pub password: Option<Secret>,
    pub from: String,
    pub ca_file: Option<PathBuf>,
    pub timeout_ms: Option<u64>,
}

/// How the SMTP connection is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain connection upgraded with STARTTLS; a server that does not offer it is refused.
    #[default]
    Starttls,
    /// TLS from the first byte (SMTPS, port 465).
    Implicit,
    /// No TLS: only for a relay on the same machine.
    None,
}

/// `[delivery.aws]`: the operator's credentials for SES and SNS.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsConfig {
    pub access_key_id: String,
    pub secret_access_key: Secret,
    pub session_token: Option<Secret>,
    pub ses_endpoint: Option<String>,
    pub sns_endpoint: Option<String>,
}

impl DeliveryConfig {
    /// The file's settings with the environment's over them.
    pub fn with_env(mut self, env: &impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let var = |name: &str| env(name).filter(|v| !v.is_empty());
        if let Some(v) = var("COGNATE_OUTBOX") {
            self.outbox = Some(matches!(v.as_str(), "1" | "true" | "yes" | "on"));
        }
        if let Some(v) = var("COGNATE_DELIVERY_MAX_ATTEMPTS") {
            self.max_attempts = Some(v.parse().context("COGNATE_DELIVERY_MAX_ATTEMPTS")?);
        }
        if let Some(v) = var("COGNATE_DELIVERY_RETRY_BASE_MS") {
            self.retry_base_ms = Some(v.parse().context("COGNATE_DELIVERY_RETRY_BASE_MS")?);
        }
        if let Some(host) = var("COGNATE_SMTP_HOST") {
            let mut smtp = self.smtp.take().unwrap_or_default();
            smtp.host = host;
            self.smtp = Some(smtp);
        }
        if let Some(smtp) = &mut self.smtp {
            if let Some(v) = var("COGNATE_SMTP_PORT") {
                smtp.port = Some(v.parse().context("COGNATE_SMTP_PORT")?);
            }
            if let Some(v) = var("COGNATE_SMTP_TLS") {
                smtp.tls = Some(match v.as_str() {
                    "starttls" => SmtpTls::Starttls,
                    "implicit" => SmtpTls::Implicit,
                    "none" => SmtpTls::None,
                    _ => bail!("COGNATE_SMTP_TLS must be starttls, implicit or none"),
                });
            }
            if let Some(v) = var("COGNATE_SMTP_USERNAME") {
                smtp.username = Some(v);
            }
            if let Some(v) = var("COGNATE_SMTP_PASSWORD") {
                smtp.password = Some(Secret::new(v));
            }
            if let Some(v) = var("COGNATE_SMTP_FROM") {
                smtp.from = v;
            }
            if let Some(v) = var("COGNATE_SMTP_CA_FILE") {
                smtp.ca_file = Some(PathBuf::from(v));
            }
            if smtp.host.is_empty() || smtp.from.is_empty() {
                bail!(
                    "SMTP delivery needs a host and a from address ([delivery.smtp] or COGNATE_SMTP_*)"
                );
            }
        }
        match (
            var("COGNATE_DELIVERY_AWS_ACCESS_KEY_ID"),
            var("COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY"),
        ) {
            (Some(id), Some(secret)) => {
                let mut aws = self.aws.take().unwrap_or_default();
                aws.access_key_id = id;
                aws.secret_access_key = Secret::new(secret);
                aws.session_token = var("COGNATE_DELIVERY_AWS_SESSION_TOKEN").map(Secret::new);
                self.aws = Some(aws);
            }
            (None, None) => {}
            _ => bail!(
                "set both COGNATE_DELIVERY_AWS_ACCESS_KEY_ID and COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY, or neither"
            ),
        }
        if let Some(aws) = &mut self.aws {
            if let Some(v) = var("COGNATE_SES_ENDPOINT") {
                aws.ses_endpoint = Some(v);
            }
            if let Some(v) = var("COGNATE_SNS_ENDPOINT") {
                aws.sns_endpoint = Some(v);
            }
            if aws.access_key_id.is_empty() || aws.secret_access_key.expose().is_empty() {
                bail!("[delivery.aws] needs access_key_id and secret_access_key");
            }
        }
        Ok(self)
    }

    /// Whether the development outbox is on: as configured, else only without a real transport.
    pub fn outbox_on(&self) -> bool {
        self.outbox
            .unwrap_or(self.smtp.is_none() && self.aws.is_none())
    }
}

/// The host's `Sender`: routes each message to its transport (see the module docs).
pub struct DeliverySender {
    outbox: Option<OutboxSender>,
    smtp: Option<smtp::Smtp>,
    aws: Option<AwsConfig>,
    http: http::OutboundHttp,
    clock: Arc<dyn Clock>,
    /// Hosts custom sender plugins may deliver to (`[plugins] delivery_hosts`).
    plugin_hosts: Vec<String>,
    max_attempts: u32,
    retry_base: Duration,
}

impl std::fmt::Debug for DeliverySender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeliverySender")
            .field("outbox", &self.outbox.is_some())
            .field("smtp", &self.smtp.is_some())
            .field("aws", &self.aws.is_some())
            .finish_non_exhaustive()
    }
}

/// A failed attempt: worth another, or final.
enum Attempt {
    Retry(String),
    Final(String),
}

impl DeliverySender {
    /// The transports `config` names; `outbox` is the development outbox (used when on).
    pub fn new(
        config: &DeliveryConfig,
        outbox: OutboxSender,
        clock: Arc<dyn Clock>,
        plugin_hosts: Vec<String>,
    ) -> anyhow::Result<Self> {
        let smtp = config.smtp.as_ref().map(smtp::Smtp::new).transpose()?;
        let http = http::OutboundHttp::new(
            Duration::from_millis(config.http_timeout_ms.unwrap_or(10_000)),
            config
                .http_max_answer_kib
                .unwrap_or(64)
                .saturating_mul(1024),
        )?;
        Ok(Self {
            outbox: config.outbox_on().then_some(outbox),
            smtp,
            aws: config.aws.clone(),
            http,
            clock,
            plugin_hosts,
            max_attempts: config.max_attempts.unwrap_or(3).clamp(1, 10),
            retry_base: Duration::from_millis(config.retry_base_ms.unwrap_or(200)),
        })
    }

    /// A short description of the transports, for the start-up log.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if self.smtp.is_some() {
            parts.push("smtp");
        }
        if self.aws.is_some() {
            parts.push("ses+sns");
        }
        if self.outbox.is_some() {
            parts.push("outbox");
        }
        if parts.is_empty() {
            "none".into()
        } else {
            parts.join(", ")
        }
    }

    /// Runs `attempt` up to `max_attempts` times with exponential backoff.
    async fn with_retries<F, Fut>(
        &self,
        what: &Message,
        transport: &str,
        mut attempt: F,
    ) -> Result<(), Error>
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<(), Attempt>>,
    {
        let mut pause = self.retry_base;
        for n in 1..=self.max_attempts {
            let reason = match attempt().await {
                Ok(()) => {
                    tracing::info!(
                        pool_id = %what.pool_id,
                        medium = ?what.medium,
                        purpose = %what.purpose,
                        transport,
                        attempts = n,
                        "message delivered"
                    );
                    return Ok(());
                }
                Err(Attempt::Final(reason)) => {
                    tracing::warn!(pool_id = %what.pool_id, medium = ?what.medium, purpose = %what.purpose, transport, attempts = n, reason, "message refused");
                    return Err(cognate_core::delivery::delivery_failure());
                }
                Err(Attempt::Retry(reason)) => reason,
            };
            if n == self.max_attempts {
                tracing::warn!(pool_id = %what.pool_id, medium = ?what.medium, purpose = %what.purpose, transport, attempts = n, reason, "message not delivered; giving up");
                break;
            }
            tracing::info!(pool_id = %what.pool_id, transport, attempt = n, reason, "delivery failed; retrying");
            tokio::time::sleep(pause).await;
            pause = pause.saturating_mul(2);
        }
        Err(cognate_core::delivery::delivery_failure())
    }

    async fn via_outbox(&self, message: Message, missing: &str) -> Result<(), Error> {
        match &self.outbox {
            Some(outbox) => outbox.send(message).await,
            None => {
                tracing::warn!(
                    pool_id = %message.pool_id,
                    medium = ?message.medium,
                    purpose = %message.purpose,
                    "no transport for this message: {missing}"
                );
                Err(cognate_core::delivery::delivery_failure())
            }
        }
    }

    async fn via_aws(
        &self,
        message: &Message,
        aws: &AwsConfig,
        transport: &str,
        build: impl Fn() -> (DeliveryRequest, String, &'static str),
    ) -> Result<(), Error> {
        let credentials = Credentials {
            access_key_id: aws.access_key_id.clone(),
            secret_access_key: aws.secret_access_key.clone(),
            session_token: aws.session_token.clone(),
        };
        self.with_retries(message, transport, || {
            let (mut request, region, service) = build();
            let credentials = &credentials;
            async move {
                cognate_core::sigv4::sign(
                    &mut request,
                    credentials,
                    &region,
                    service,
                    self.clock.now_millis(),
                )
                .map_err(|e| Attempt::Final(e.message))?;
                // The endpoint is the operator's: its host is the allow-list.
                let host = reqwest::Url::parse(&request.url)
                    .ok()
                    .and_then(|u| u.host_str().map(str::to_ascii_lowercase))
                    .unwrap_or_default();
                match self.http.perform(&request, &[host]).await {
                    Ok(answer) => match cognate_core::delivery::aws_outcome(
                        answer.status,
                        answer.error_type.as_deref(),
                        &answer.body,
                    ) {
                        Outcome::Sent => Ok(()),
                        Outcome::Retry(code) => Err(Attempt::Retry(code)),
                        Outcome::Refused(code) => Err(Attempt::Final(code)),
                    },
                    Err(http::Failure::Transport(why)) => Err(Attempt::Retry(why)),
                    Err(http::Failure::TooLarge) => Err(Attempt::Final("answer too large".into())),
                    Err(http::Failure::NotAllowed(why)) => Err(Attempt::Final(why)),
                }
            }
        })
        .await
    }
}

impl Sender for DeliverySender {
    fn send<'a>(&'a self, message: Message) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            match (&message.route, message.medium) {
                (Route::Ses(ses), Medium::Email) => match &self.aws {
                    Some(aws) => {
                        let endpoint = aws
                            .ses_endpoint
                            .clone()
                            .unwrap_or_else(|| cognate_core::delivery::ses_endpoint(&ses.region));
                        self.via_aws(&message, aws, "ses", || {
                            (
                                cognate_core::delivery::ses_send_email(&message, ses, &endpoint),
                                ses.region.clone(),
                                "ses",
                            )
                        })
                        .await
                    }
                    None => {
                        self.via_outbox(
                            message,
                            "the pool sends with SES and [delivery.aws] is not set",
                        )
                        .await
                    }
                },
                (Route::Sns(sns), Medium::Sms) => match &self.aws {
                    Some(aws) => {
                        let endpoint = aws
                            .sns_endpoint
                            .clone()
                            .unwrap_or_else(|| cognate_core::delivery::sns_endpoint(&sns.region));
                        self.via_aws(&message, aws, "sns", || {
                            (
                                cognate_core::delivery::sns_publish(&message, &endpoint),
                                sns.region.clone(),
                                "sns",
                            )
                        })
                        .await
                    }
                    None => {
                        self.via_outbox(
                            message,
                            "the pool sends with SNS and [delivery.aws] is not set",
                        )
                        .await
                    }
                },
                (_, Medium::Email) => match &self.smtp {
                    Some(smtp) => {
                        let reply_to = match &message.route {
                            Route::Server { reply_to } => reply_to.clone(),
                            _ => None,
                        };
                        self.with_retries(&message, "smtp", || async {
                            smtp.send(&message, reply_to.as_deref())
                                .await
                                .map_err(|e| match e {
                                    smtp::SmtpFailure::Transient(why) => Attempt::Retry(why),
                                    smtp::SmtpFailure::Permanent(why) => Attempt::Final(why),
                                })
                        })
                        .await
                    }
                    None => {
                        self.via_outbox(message, "no SMTP relay ([delivery.smtp]) is set")
                            .await
                    }
                },
                (_, Medium::Sms) => {
                    self.via_outbox(message, "the pool has no SmsConfiguration (SNS)")
                        .await
                }
            }
        })
    }

    /// A custom sender plugin's delivery: checked against the allow-list, then performed
    /// (timeout, size cap, retried on a transport error or a 5xx/429), or recorded in the
    /// outbox while the outbox is on.
    fn deliver<'a>(
        &'a self,
        pool_id: &'a str,
        request: DeliveryRequest,
    ) -> BoxFuture<'a, Result<(), Error>> {
        boxed(async move {
            cognate_core::trigger::check_delivery(&request, &self.plugin_hosts)?;
            if let Some(outbox) = &self.outbox {
                return outbox.deliver(pool_id, request).await;
            }
            let mut pause = self.retry_base;
            for n in 1..=self.max_attempts {
                let reason = match self.http.perform(&request, &self.plugin_hosts).await {
                    Ok(answer) if (200..300).contains(&answer.status) => {
                        tracing::info!(pool_id, attempts = n, "custom sender delivery performed");
                        return Ok(());
                    }
                    Ok(answer) if answer.status == 429 || answer.status >= 500 => {
                        format!("HTTP {}", answer.status)
                    }
                    Ok(answer) => {
                        tracing::warn!(
                            pool_id,
                            status = answer.status,
                            "custom sender delivery refused"
                        );
                        return Err(cognate_core::delivery::delivery_failure());
                    }
                    Err(http::Failure::Transport(why)) => why,
                    Err(failure) => {
                        tracing::warn!(pool_id, ?failure, "custom sender delivery failed");
                        return Err(cognate_core::delivery::delivery_failure());
                    }
                };
                if n == self.max_attempts {
                    tracing::warn!(
                        pool_id,
                        attempts = n,
                        reason,
                        "custom sender delivery not performed; giving up"
                    );
                    break;
                }
                tokio::time::sleep(pause).await;
                pause = pause.saturating_mul(2);
            }
            Err(cognate_core::delivery::delivery_failure())
        })
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;

    fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.clone())
        }
    }

    #[test]
    fn the_outbox_is_the_default_only_without_a_transport() {
        let none = DeliveryConfig::default().with_env(&env(&[])).unwrap();
        assert!(none.outbox_on());
        let smtp = DeliveryConfig::default()
            .with_env(&env(&[
                ("COGNATE_SMTP_HOST", "smtp.example.com"),
                ("COGNATE_SMTP_FROM", "no-reply@example.com"),
                ("COGNATE_SMTP_TLS", "implicit"),
                ("COGNATE_SMTP_PORT", "2465"),
            ]))
            .unwrap();
        assert!(!smtp.outbox_on());
        let smtp_config = smtp.smtp.as_ref().unwrap();
        assert_eq!(smtp_config.tls, Some(SmtpTls::Implicit));
        assert_eq!(smtp_config.port, Some(2465));
        let both = smtp.with_env(&env(&[("COGNATE_OUTBOX", "1")])).unwrap();
        assert!(both.outbox_on());
        let aws = DeliveryConfig::default()
            .with_env(&env(&[
                ("COGNATE_DELIVERY_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
                ("COGNATE_DELIVERY_AWS_SECRET_ACCESS_KEY", "secret"),
                ("COGNATE_SES_ENDPOINT", "http://127.0.0.1:5000"),
            ]))
            .unwrap();
        assert!(!aws.outbox_on());
        assert_eq!(
            aws.aws.as_ref().unwrap().ses_endpoint.as_deref(),
            Some("http://127.0.0.1:5000")
        );
    }

    #[test]
    fn incomplete_settings_are_refused() {
        for pairs in [
            &[("COGNATE_SMTP_HOST", "smtp.example.com")][..],
            &[("COGNATE_DELIVERY_AWS_ACCESS_KEY_ID", "AKIDEXAMPLE")][..],
            &[
                ("COGNATE_SMTP_HOST", "smtp.example.com"),
                ("COGNATE_SMTP_FROM", "a@example.com"),
                ("COGNATE_SMTP_TLS", "maybe"),
            ][..],
        ] {
            assert!(
                DeliveryConfig::default().with_env(&env(pairs)).is_err(),
                "{pairs:?}"
            );
        }
        let file: DeliveryConfig = toml::from_str(
            "[smtp]\nhost = \"smtp.example.com\"\nfrom = \"a@example.com\"\nusername = \"u\"\n",
        )
        .unwrap();
        // A username without a password is refused when the relay is set up.
        let outbox = OutboxSender::open(tempfile::tempdir().unwrap().path()).unwrap();
        let refused = DeliverySender::new(
            &file,
            outbox,
            Arc::new(crate::ports::SystemClock),
            Vec::new(),
        );
        assert!(refused.is_err());
    }
}
