//! Email over SMTP (lettre, rustls with ring): STARTTLS (required, never silently skipped),
//! implicit TLS, or plain (loopback relays only); AUTH with the configured account.

use std::time::Duration;

use anyhow::Context as _;
use cognate_core::ports::Message;
use lettre::message::{Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Certificate, Tls, TlsParameters};
use lettre::{AsyncSmtpTransport, AsyncTransport as _, Tokio1Executor};

use super::{SmtpConfig, SmtpTls};

/// Whether a failed send is worth another attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpFailure {
    /// Connection refused or dropped, a timeout, a 4xx answer: try again later.
    Transient(String),
    /// The server refused for good (5xx: no such mailbox, authentication failed), or the
    /// message cannot be built (a malformed address).
    Permanent(String),
}

/// A configured SMTP relay.
pub struct Smtp {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    /// The bound on one whole attempt (connect, TLS, AUTH, the message): lettre's own timeout
    /// covers connecting only.
    timeout: Duration,
}

impl std::fmt::Debug for Smtp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Smtp").field("from", &self.from).finish()
    }
}

impl Smtp {
    pub fn new(config: &SmtpConfig) -> anyhow::Result<Self> {
        let from: Mailbox = config.from.parse().with_context(|| {
            format!("[delivery.smtp] from = {:?} is not an address", config.from)
        })?;
        let mode = config.tls.unwrap_or_default();
        let timeout = Duration::from_millis(config.timeout_ms.unwrap_or(10_000));
        let tls_parameters = || -> anyhow::Result<TlsParameters> {
            let mut builder = TlsParameters::builder(config.host.clone());
            if let Some(path) = &config.ca_file {
                let pem = std::fs::read(path).with_context(|| {
                    format!("cannot read [delivery.smtp] ca_file {}", path.display())
                })?;
                builder = builder.add_root_certificate(
                    Certificate::from_pem(&pem)
                        .context("[delivery.smtp] ca_file is not a PEM certificate")?,
                );
            }
            builder.build_rustls().context("cannot set up TLS for SMTP")
        };
        let (tls, default_port) = match mode {
            SmtpTls::Starttls => (Tls::Required(tls_parameters()?), 587),
            SmtpTls::Implicit => (Tls::Wrapper(tls_parameters()?), 465),
            SmtpTls::None => (Tls::None, 25),
        };
        let mut builder =
            AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(config.host.as_str())
                .port(config.port.unwrap_or(default_port))
                .tls(tls)
                .timeout(Some(timeout));
        match (&config.username, &config.password) {
            (Some(user), Some(password)) => {
                builder = builder.credentials(Credentials::new(
                    user.clone(),
                    password.expose().to_string(),
                ));
            }
            (None, None) => {}
            _ => anyhow::bail!("[delivery.smtp] needs both username and password, or neither"),
        }
        Ok(Self {
            transport: builder.build(),
            from,
            timeout,
        })
    }

    /// Sends one message: plain text, or HTML with a plain-text alternative.
    pub async fn send(&self, message: &Message, reply_to: Option<&str>) -> Result<(), SmtpFailure> {
        let to: Mailbox = message.destination.parse().map_err(|_| {
            SmtpFailure::Permanent("the destination is not an email address".into())
        })?;
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(message.subject.clone());
        if let Some(reply_to) = reply_to {
            let reply_to: Mailbox = reply_to.parse().map_err(|_| {
                SmtpFailure::Permanent("ReplyToEmailAddress is not an address".into())
            })?;
            builder = builder.reply_to(reply_to);
        }
        let mail = if message.html {
            builder.multipart(MultiPart::alternative_plain_html(
                cognate_core::delivery::html_to_text(&message.body),
                message.body.clone(),
            ))
        } else {
            builder.singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(message.body.clone()),
            )
        }
        .map_err(|e| SmtpFailure::Permanent(format!("cannot build the message: {e}")))?;
        match tokio::time::timeout(self.timeout, self.transport.send(mail)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SmtpFailure::Permanent(describe(&e))),
            Ok(Err(e)) => Err(SmtpFailure::Transient(describe(&e))),
            Err(_) => Err(SmtpFailure::Transient("timed out".into())),
        }
    }
}

/// The error without the message (lettre's errors name the SMTP answer, never the body).
fn describe(error: &lettre::transport::smtp::Error) -> String {
    let kind = if error.is_timeout() {
        "timed out"
    } else if error.is_permanent() {
        "refused"
    } else if error.is_transient() {
        "deferred"
    } else if error.is_tls() {
        "TLS failed"
    } else {
        "failed"
    };
    match error.status() {
        Some(code) => format!("{kind} (SMTP {code})"),
        None => kind.to_string(),
    }
}
