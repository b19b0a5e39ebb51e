//! `[notify]` of the operator's config file (`vitalcore serve --config
//! FILE`), checked whole at start-up: an unknown key or channel, a webhook
//! URL that is not http(s), a missing secret are refused naming the key to
//! fix. Secrets come from the file (which must then be private) or from the
//! environment, never from the command line.
//!
//! ```toml
//! [notify]
//! min_urgency = "high"                       # new alerts at or above this are pushed (default high)
//! base_url = "https://alerts.example.org"    # links in messages (default: [webhooks] public_url)
//! sms = true                                 # staff phones through [sms_gateway]
//! escalations = true                         # an overdue alert tells the supervisor on call
//! warnings = true                            # an early warning tells the responder on call
//!
//! [[notify.webhook]]
//! name = "ops-bridge"
//! url = "https://chat.example.org/hooks/vitalcore"
//! secret = "..."                             # or VITALCORE_NOTIFY_WEBHOOK_OPS_BRIDGE_SECRET
//! min_urgency = "critical"                   # default: [notify] min_urgency
//! areas = ["CF32", "CF71"]                   # empty or left out: every area
//!
//! [notify.email]
//! host = "smtp.example.org"
//! port = 587                                 # default 587 (starttls), 465 (tls), 25 (none)
//! security = "starttls"                      # or "tls"; "none" only to this computer
//! username = "alerts@example.org"
//! password = "..."                           # or VITALCORE_SMTP_PASSWORD
//! from = "vitalcore <alerts@example.org>"
//! ```

use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use thiserror::Error;
use vitalcore_intake::Urgency;
use vitalcore_intake::outbox::GatewayConfig;

/// Fewest characters a webhook secret may have (`openssl rand -hex 24` gives 48).
pub const MIN_SECRET_CHARS: usize = 16;
pub const SMTP_PASSWORD_ENV: &str = "VITALCORE_SMTP_PASSWORD";

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("config file, [notify]: {0}")]
    Syntax(String),
    #[error("config file, {key}: {reason}")]
    Invalid { key: String, reason: String },
}

fn invalid(key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
    ConfigError::Invalid { key: key.into(), reason: reason.into() }
}

/// The notification settings.
#[derive(Debug)]
pub struct NotifyConfig {
    pub min_urgency: Urgency,
    pub base_url: String,
    pub escalations: bool,
    pub warnings: bool,
    pub webhooks: Vec<WebhookConfig>,
    pub email: Option<SmtpConfig>,
    /// Staff phones through the SMS gateway (`[sms_gateway]`).
    pub sms: Option<GatewayConfig>,
}

#[derive(Debug)]
pub struct WebhookConfig {
    pub name: String,
    pub url: String,
    pub secret: SecretString,
    pub min_urgency: Urgency,
    /// Upper-case P-codes; empty = every area.
    pub areas: Vec<String>,
}

impl WebhookConfig {
    /// Whether a notification about `area` at `urgency` goes to this webhook.
    pub fn wants(&self, area: Option<&str>, urgency: Option<Urgency>) -> bool {
        let area_ok =
            self.areas.is_empty() || area.is_some_and(|a| self.areas.iter().any(|x| x.eq_ignore_ascii_case(a)));
        area_ok && urgency.is_none_or(|u| u >= self.min_urgency)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpSecurity {
    /// Plain connection, then STARTTLS (required).
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
    /// No encryption: only to an SMTP server on this computer.
    None,
}

#[derive(Debug)]
pub struct SmtpConfig {
    pub host: String,
    pub port: u16,
    pub security: SmtpSecurity,
    pub username: Option<String>,
    pub password: Option<SecretString>,
    pub from: String,
}

#[derive(Deserialize)]
struct RawFile {
    notify: Option<RawNotify>,
    webhooks: Option<toml::Table>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNotify {
    min_urgency: Option<String>,
    base_url: Option<String>,
    #[serde(default)]
    sms: bool,
    escalations: Option<bool>,
    warnings: Option<bool>,
    #[serde(default)]
    webhook: Vec<RawWebhook>,
    email: Option<RawEmail>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawWebhook {
    name: Option<String>,
    url: Option<String>,
    secret: Option<SecretString>,
    min_urgency: Option<String>,
    #[serde(default)]
    areas: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEmail {
    host: Option<String>,
    port: Option<u16>,
    security: Option<SmtpSecurity>,
    username: Option<String>,
    password: Option<SecretString>,
    from: Option<String>,
}

fn urgency(raw: Option<String>, key: &str, default: Urgency) -> Result<Urgency, ConfigError> {
    match raw {
        None => Ok(default),
        Some(u) => {
            u.parse().map_err(|_| invalid(key, format!("`{u}` is not an urgency; write low, medium, high or critical")))
        }
    }
}

/// `VITALCORE_NOTIFY_WEBHOOK_<NAME>_SECRET`: the name upper-cased, anything
/// but letters and digits as `_`.
pub fn webhook_secret_env(name: &str) -> String {
    let name: String =
        name.chars().map(|c| if c.is_ascii_alphanumeric() { c.to_ascii_uppercase() } else { '_' }).collect();
    format!("VITALCORE_NOTIFY_WEBHOOK_{name}_SECRET")
}

fn is_local(host: &str) -> bool {
    matches!(host, "127.0.0.1" | "localhost" | "[::1]" | "::1")
}

/// `http://` or `https://` with a host; anything else names the key.
fn check_url(url: &str, key: &str) -> Result<String, ConfigError> {
    let url = url.trim().to_string();
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| invalid(key, format!("`{url}` is not an http(s) URL; write https://...")))?;
    if rest.split(['/', '?', '#']).next().unwrap_or("").is_empty() {
        return Err(invalid(key, format!("`{url}` has no host")));
    }
    Ok(url)
}

impl NotifyConfig {
    /// The `[notify]` table of a config file, `None` when it has none.
    /// `env` reads an environment variable (secrets there override the
    /// file); `gateway` is the file's `[sms_gateway]`, needed when `sms = true`.
    pub fn from_toml(
        text: &str,
        env: &dyn Fn(&str) -> Option<String>,
        gateway: Option<GatewayConfig>,
    ) -> Result<Option<NotifyConfig>, ConfigError> {
        let file: RawFile = toml::from_str(text).map_err(|e| ConfigError::Syntax(e.message().to_string()))?;
        let Some(raw) = file.notify else { return Ok(None) };
        let min_urgency = urgency(raw.min_urgency, "[notify] `min_urgency`", Urgency::High)?;
        let public_url =
            file.webhooks.as_ref().and_then(|w| w.get("public_url")).and_then(|v| v.as_str()).map(str::to_string);
        let base_url = match raw.base_url.or(public_url) {
            Some(u) => check_url(&u, "[notify] `base_url`")?.trim_end_matches('/').to_string(),
            None => "http://127.0.0.1:8080".to_string(),
        };
        let mut webhooks: Vec<WebhookConfig> = Vec::new();
        for (i, w) in raw.webhook.into_iter().enumerate() {
            let at = |k: &str| format!("[[notify.webhook]] #{} `{k}`", i + 1);
            let name = w.name.map(|n| n.trim().to_string()).filter(|n| !n.is_empty()).ok_or_else(|| {
                invalid(
                    at("name"),
                    "missing: give each webhook a name (used by `vitalcore notify test --channel NAME`)",
                )
            })?;
            let at = |k: &str| format!("[[notify.webhook]] `{name}` `{k}`");
            if !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
                return Err(invalid(at("name"), "use letters, digits, - and _"));
            }
            if webhooks.iter().any(|x| x.name == name) || matches!(name.as_str(), "sms" | "email") {
                return Err(invalid(at("name"), "already used: each channel needs its own name"));
            }
            let url = check_url(w.url.as_deref().ok_or_else(|| invalid(at("url"), "missing"))?, &at("url"))?;
            let env_name = webhook_secret_env(&name);
            let secret = env(&env_name).filter(|s| !s.trim().is_empty()).map(SecretString::from).or(w.secret);
            let secret = secret.filter(|s| !s.expose_secret().trim().is_empty()).ok_or_else(|| {
                invalid(
                    at("secret"),
                    format!("missing: the receiver checks each request's signature with it (or set {env_name})"),
                )
            })?;
            let chars = secret.expose_secret().trim().chars().count();
            if chars < MIN_SECRET_CHARS {
                return Err(invalid(
                    at("secret"),
                    format!("{chars} characters; use at least {MIN_SECRET_CHARS} random ones (openssl rand -hex 24)"),
                ));
            }
            webhooks.push(WebhookConfig {
                min_urgency: urgency(w.min_urgency, &at("min_urgency"), min_urgency)?,
                areas: w.areas.iter().map(|a| a.trim().to_ascii_uppercase()).filter(|a| !a.is_empty()).collect(),
                secret: SecretString::from(secret.expose_secret().trim()),
                name,
                url,
            });
        }
        let email = raw.email.map(|e| smtp(e, env)).transpose()?;
        let sms = if raw.sms {
            Some(gateway.ok_or_else(|| {
                invalid("[notify] `sms`", "true, but the file configures no [sms_gateway] to send through")
            })?)
        } else {
            None
        };
        Ok(Some(NotifyConfig {
            min_urgency,
            base_url,
            escalations: raw.escalations.unwrap_or(true),
            warnings: raw.warnings.unwrap_or(true),
            webhooks,
            email,
            sms,
        }))
    }

    /// The lowest urgency any channel takes: a new alert below it queues nothing.
    pub fn lowest_urgency(&self) -> Urgency {
        self.webhooks.iter().map(|w| w.min_urgency).chain([self.min_urgency]).min().unwrap_or(Urgency::High)
    }

    /// The channel names `vitalcore notify test --channel` takes.
    pub fn channel_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.webhooks.iter().map(|w| w.name.clone()).collect();
        if self.sms.is_some() {
            names.push("sms".into());
        }
        if self.email.is_some() {
            names.push("email".into());
        }
        names
    }
}

fn smtp(e: RawEmail, env: &dyn Fn(&str) -> Option<String>) -> Result<SmtpConfig, ConfigError> {
    let key = |k: &str| format!("[notify.email] `{k}`");
    let host = e
        .host
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .ok_or_else(|| invalid(key("host"), "missing"))?;
    let security = e.security.unwrap_or(SmtpSecurity::Starttls);
    if security == SmtpSecurity::None && !is_local(&host) {
        return Err(invalid(
            key("security"),
            format!(
                "\"none\" sends the password and messages in clear: only to this computer, not to {host}; write \"starttls\" or \"tls\""
            ),
        ));
    }
    let port = e.port.unwrap_or(match security {
        SmtpSecurity::Starttls => 587,
        SmtpSecurity::Tls => 465,
        SmtpSecurity::None => 25,
    });
    let from = e.from.map(|f| f.trim().to_string()).filter(|f| !f.is_empty()).ok_or_else(|| {
        invalid(key("from"), "missing: the sender address, such as \"vitalcore <alerts@example.org>\"")
    })?;
    if from.parse::<lettre::message::Mailbox>().is_err() {
        return Err(invalid(key("from"), format!("`{from}` is not an e-mail address")));
    }
    let password = env(SMTP_PASSWORD_ENV)
        .filter(|p| !p.is_empty())
        .map(SecretString::from)
        .or(e.password)
        .filter(|p| !p.expose_secret().is_empty());
    let username = e.username.map(|u| u.trim().to_string()).filter(|u| !u.is_empty());
    if username.is_some() && password.is_none() {
        return Err(invalid(
            key("password"),
            format!("missing: the username is given, so give its password (or set {SMTP_PASSWORD_ENV})"),
        ));
    }
    Ok(SmtpConfig { host, port, security, username, password, from })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Option<NotifyConfig>, ConfigError> {
        NotifyConfig::from_toml(text, &|_| None, None)
    }

    fn err(text: &str) -> String {
        parse(text).err().map(|e| e.to_string()).unwrap_or_else(|| "accepted".into())
    }

    const SECRET: &str = "0123456789abcdef0123";

    #[test]
    fn a_full_table_is_read() {
        let c = parse(&format!(
            "[webhooks]\npublic_url = \"https://alerts.example.org/\"\n[notify]\nmin_urgency = \"critical\"\n\
             [[notify.webhook]]\nname = \"ops\"\nurl = \"https://chat.example.org/h\"\nsecret = \"{SECRET}\"\n\
             min_urgency = \"medium\"\nareas = [\"cf32\"]\n\
             [notify.email]\nhost = \"127.0.0.1\"\nport = 2525\nsecurity = \"none\"\nfrom = \"vc <a@example.org>\"\n"
        ))
        .unwrap()
        .unwrap();
        assert_eq!(c.base_url, "https://alerts.example.org");
        assert_eq!((c.min_urgency, c.lowest_urgency()), (Urgency::Critical, Urgency::Medium));
        assert_eq!(c.webhooks[0].areas, ["CF32"]);
        assert!(c.webhooks[0].wants(Some("cf32"), Some(Urgency::High)));
        assert!(!c.webhooks[0].wants(Some("CF11"), Some(Urgency::Critical)));
        assert!(!c.webhooks[0].wants(Some("CF32"), Some(Urgency::Low)));
        assert_eq!(c.email.as_ref().unwrap().port, 2525);
        assert_eq!(c.channel_names(), ["ops", "email"]);
        assert!(parse("[webhooks]\npublic_url = \"x\"\n").unwrap().is_none());
    }

    #[test]
    fn bad_settings_name_the_key_to_fix() {
        let hook = |extra: &str| format!("[notify]\n[[notify.webhook]]\nname = \"ops\"\n{extra}");
        assert!(
            err("[notify]\n[notify.pager]\nurl = \"x\"\n").contains("unknown field `pager`"),
            "{}",
            err("[notify]\n[notify.pager]\n")
        );
        let e = err(&hook(&format!("url = \"ftp://x.example.org\"\nsecret = \"{SECRET}\"\n")));
        assert!(e.contains("`url`") && e.contains("not an http(s) URL"), "{e}");
        let e = err(&hook("url = \"https://x.example.org\"\n"));
        assert!(e.contains("`secret`") && e.contains("VITALCORE_NOTIFY_WEBHOOK_OPS_SECRET"), "{e}");
        let e = err(&hook("url = \"https://x.example.org\"\nsecret = \"short\"\n"));
        assert!(e.contains("openssl rand"), "{e}");
        let e =
            err(&hook(&format!("url = \"https://x.example.org\"\nsecret = \"{SECRET}\"\nmin_urgency = \"someday\"\n")));
        assert!(e.contains("`min_urgency`"), "{e}");
        let e = err(
            "[notify]\n[notify.email]\nhost = \"smtp.example.org\"\nsecurity = \"none\"\nfrom = \"a@example.org\"\n",
        );
        assert!(e.contains("`security`"), "{e}");
        let e =
            err("[notify]\n[notify.email]\nhost = \"smtp.example.org\"\nfrom = \"a@example.org\"\nusername = \"a\"\n");
        assert!(e.contains("`password`"), "{e}");
        let e = err("[notify]\nsms = true\n");
        assert!(e.contains("[sms_gateway]"), "{e}");
        // The environment gives the secret instead of the file.
        let env = |name: &str| (name == "VITALCORE_NOTIFY_WEBHOOK_OPS_SECRET").then(|| SECRET.to_string());
        let c = NotifyConfig::from_toml(&hook("url = \"http://127.0.0.1:9\"\n"), &env, None).unwrap().unwrap();
        assert_eq!(c.webhooks[0].secret.expose_secret(), SECRET);
    }
}
