//! Sending one delivery: a signed webhook (HTTP POST), an SMS through the
//! operator's gateway, an e-mail through SMTP. The bodies come from
//! `vitalcore_intake::notify` (reference, area, urgency, category, time,
//! link: never a report's text or a reporter's contact).

use super::config::{NotifyConfig, SmtpConfig, SmtpSecurity};
use lettre::Transport as _;
use lettre::message::{Mailbox, header::ContentType};
use lettre::transport::smtp::SmtpTransport;
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use vitalcore_intake::notify::{
    ChannelKind, Delivery, NotificationDraft, StaffContact, email_text, sms_text, webhook_body,
};
use vitalcore_security::webhook::{SIGNATURE_HEADER, vitalcore_signature};

/// Why an attempt failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendError {
    /// Worth trying again (the receiver is down, busy, or timed out).
    Retry(String),
    /// Trying again would fail the same way (refused, gone, no address).
    Permanent(String),
}

/// The configured channels, ready to send.
pub struct Channels {
    config: Arc<NotifyConfig>,
    agent: ureq::Agent,
    smtp: Option<SmtpTransport>,
}

impl Channels {
    pub fn new(config: Arc<NotifyConfig>) -> Result<Channels, SendError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            .proxy(None)
            .build()
            .into();
        let smtp = config.email.as_ref().map(smtp_transport).transpose()?;
        Ok(Channels { config, agent, smtp })
    }

    /// Connects to the SMTP server and logs in (refused login, unknown
    /// host, failed TLS named), so that a bad setting is found at start-up.
    pub fn check_smtp(&self) -> Result<(), String> {
        let (Some(smtp), Some(cfg)) = (&self.smtp, &self.config.email) else { return Ok(()) };
        match smtp.test_connection() {
            Ok(true) => Ok(()),
            Ok(false) => Err(format!("the SMTP server {}:{} did not answer NOOP", cfg.host, cfg.port)),
            Err(e) => Err(format!(
                "config file, [notify.email]: the SMTP server {}:{} refused us ({}); check `host`, `port`, `security`, `username` and `password`",
                cfg.host,
                cfg.port,
                describe_smtp(&e)
            )),
        }
    }

    pub fn send(
        &self,
        d: &Delivery,
        n: &NotificationDraft,
        contact: Option<&StaffContact>,
    ) -> Result<String, SendError> {
        match d.channel {
            ChannelKind::Webhook => self.webhook(d, n),
            ChannelKind::Sms => self.sms(d, n, contact),
            ChannelKind::Email => self.email(d, n, contact),
        }
    }

    fn webhook(&self, d: &Delivery, n: &NotificationDraft) -> Result<String, SendError> {
        let hook =
            self.config.webhooks.iter().find(|w| w.name == d.target).ok_or_else(|| {
                SendError::Permanent(format!("no webhook `{}` in the config file any more", d.target))
            })?;
        let body = webhook_body(n, &self.config.base_url);
        let signature = vitalcore_signature(hook.secret.expose_secret(), body.as_bytes());
        let response = self
            .agent
            .post(&hook.url)
            .header("Content-Type", "application/json")
            .header(SIGNATURE_HEADER, &signature)
            .header("Idempotency-Key", &d.idempotency_key())
            .header("User-Agent", "vitalcore-notify")
            .send(body.as_bytes());
        let mut response =
            response.map_err(|e| SendError::Retry(format!("{} could not be reached: {e}", hook.name)))?;
        let status = response.status().as_u16();
        let answer: String = response.body_mut().read_to_string().unwrap_or_default().chars().take(200).collect();
        classify_http(&hook.name, status, &answer)
    }

    fn sms(&self, d: &Delivery, n: &NotificationDraft, contact: Option<&StaffContact>) -> Result<String, SendError> {
        let gateway =
            self.config.sms.as_ref().ok_or_else(|| SendError::Permanent("no SMS channel in the config file".into()))?;
        let phone = contact
            .and_then(|c| c.phone.clone())
            .ok_or_else(|| SendError::Permanent(format!("user {} has no registered phone", d.target)))?;
        self.send_sms(gateway, &phone, &sms_text(n, &self.config.base_url))
    }

    /// Sends `text` to `phone` through the gateway (also the ACK confirmation).
    pub fn send_sms(
        &self,
        gateway: &vitalcore_intake::outbox::GatewayConfig,
        phone: &str,
        text: &str,
    ) -> Result<String, SendError> {
        let request = gateway.request(&SecretString::from(phone.to_string()), text);
        let response = self
            .agent
            .post(&request.url)
            .header("Authorization", request.authorization.expose_secret())
            .header("Content-Type", request.content_type)
            .header("Accept", "application/json")
            .send(&request.body[..]);
        let mut response =
            response.map_err(|e| SendError::Retry(format!("{} could not be reached: {e}", gateway.kind.as_str())))?;
        let status = response.status().as_u16();
        let body = response.body_mut().read_to_string().unwrap_or_default();
        match gateway.read_reply(status, &body) {
            Ok(id) => Ok(id),
            Err(reason) if status >= 500 || status == 429 || status == 408 => Err(SendError::Retry(reason)),
            Err(reason) => Err(SendError::Permanent(reason)),
        }
    }

    /// The SMS gateway staff notifications go through, if any.
    pub fn sms_gateway(&self) -> Option<&vitalcore_intake::outbox::GatewayConfig> {
        self.config.sms.as_ref()
    }

    fn email(&self, d: &Delivery, n: &NotificationDraft, contact: Option<&StaffContact>) -> Result<String, SendError> {
        let (Some(smtp), Some(cfg)) = (&self.smtp, &self.config.email) else {
            return Err(SendError::Permanent("no e-mail channel in the config file".into()));
        };
        let to = contact
            .and_then(|c| c.email.clone())
            .ok_or_else(|| SendError::Permanent(format!("user {} has no registered e-mail address", d.target)))?;
        let to: Mailbox = to
            .parse()
            .map_err(|_| SendError::Permanent(format!("user {}: `{to}` is not an e-mail address", d.target)))?;
        let from: Mailbox =
            cfg.from.parse().map_err(|e| SendError::Permanent(format!("[notify.email] `from`: {e}")))?;
        let (subject, body) = email_text(n, &self.config.base_url);
        let domain = from.email.domain().to_string();
        let message = lettre::Message::builder()
            .from(from)
            .to(to)
            .subject(subject)
            .message_id(Some(format!("<{}@{domain}>", d.idempotency_key())))
            .header(ContentType::TEXT_PLAIN)
            .body(body)
            .map_err(|e| SendError::Permanent(format!("cannot build the e-mail: {e}")))?;
        match smtp.send(&message) {
            Ok(response) => Ok(format!("smtp {}", response.code())),
            Err(e) if e.is_permanent() => Err(SendError::Permanent(format!("SMTP: {}", describe_smtp(&e)))),
            Err(e) => Err(SendError::Retry(format!("SMTP: {}", describe_smtp(&e)))),
        }
    }
}

/// 2xx sent; 408, 429 and 5xx retried; any other answer refused for good.
fn classify_http(name: &str, status: u16, answer: &str) -> Result<String, SendError> {
    match status {
        200..=299 => Ok(format!("{name} HTTP {status}")),
        408 | 429 | 500..=599 => Err(SendError::Retry(format!("{name} answered HTTP {status}: {answer}"))),
        _ => Err(SendError::Permanent(format!("{name} answered HTTP {status}: {answer}"))),
    }
}

fn describe_smtp(e: &lettre::transport::smtp::Error) -> String {
    let mut out = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn smtp_transport(cfg: &SmtpConfig) -> Result<SmtpTransport, SendError> {
    let tls = |host: &str| {
        TlsParameters::new(host.to_string()).map_err(|e| SendError::Permanent(format!("[notify.email] TLS: {e}")))
    };
    let tls = match cfg.security {
        SmtpSecurity::Starttls => Tls::Required(tls(&cfg.host)?),
        SmtpSecurity::Tls => Tls::Wrapper(tls(&cfg.host)?),
        SmtpSecurity::None => Tls::None,
    };
    let mut builder = SmtpTransport::builder_dangerous(cfg.host.clone())
        .port(cfg.port)
        .tls(tls)
        .timeout(Some(Duration::from_secs(20)));
    if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
        builder = builder.credentials(Credentials::new(user.clone(), password.expose_secret().to_string()));
    }
    Ok(builder.build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_answers_are_sent_retried_or_refused() {
        assert!(classify_http("ops", 204, "").is_ok());
        assert!(matches!(classify_http("ops", 503, "busy"), Err(SendError::Retry(_))));
        assert!(matches!(classify_http("ops", 429, ""), Err(SendError::Retry(_))));
        assert!(matches!(classify_http("ops", 401, "bad signature"), Err(SendError::Permanent(_))));
    }
}
