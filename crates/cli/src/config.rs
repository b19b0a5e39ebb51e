//! The operator's config file (`--config FILE`, or `VITALCORE_CONFIG`): one
//! TOML file for the SMS webhooks' secrets (`[webhooks]`, read by `serve`)
//! and the gateway the outbox sends through (`[sms_gateway]`, read by
//! `feedback outbox send`). Secrets come from here or from the environment,
//! never from the command line, where every user of the computer sees them
//! (`ps`) and the shell history keeps them.
//!
//! ```toml
//! [webhooks]
//! twilio_auth_token = "..."              # the Twilio account's auth token
//! rapidpro_secret = "..."                # at least 16 characters: openssl rand -hex 24
//! public_url = "https://alerts.example.org"   # as Twilio signs it
//! ```
//!
//! A file holding a secret (a webhook secret, or the gateway's `auth_token`
//! or `token`) must be readable by its owner only: otherwise it is refused
//! with the `chmod 600` that fixes it.

use anyhow::{Context as _, Result, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use vitalcore_security::webhook::MIN_SHARED_SECRET_CHARS;

pub const TWILIO_TOKEN_ENV: &str = "VITALCORE_TWILIO_AUTH_TOKEN";
pub const RAPIDPRO_SECRET_ENV: &str = "VITALCORE_RAPIDPRO_SECRET";

/// A config file's text, read after its permissions were checked.
pub struct ConfigFile {
    pub path: PathBuf,
    pub text: String,
}

/// Where a secret came from, for the start-up message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    File(PathBuf),
    Env(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::File(path) => write!(f, "the config file {}", path.display()),
            Origin::Env(name) => write!(f, "{name}"),
        }
    }
}

/// The webhook settings: each secret with where it came from.
#[derive(Default)]
pub struct Webhooks {
    pub twilio_auth_token: Option<(SecretString, Origin)>,
    pub rapidpro_secret: Option<(SecretString, Origin)>,
    pub public_url: Option<String>,
}

#[derive(Deserialize, Default)]
struct RawFile {
    webhooks: Option<RawWebhooks>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWebhooks {
    twilio_auth_token: Option<SecretString>,
    rapidpro_secret: Option<SecretString>,
    public_url: Option<String>,
}

impl ConfigFile {
    /// Reads `path`, refusing it when it holds a secret and other users of
    /// this computer may read it.
    pub fn read(path: &Path) -> Result<ConfigFile> {
        let cannot = || format!("cannot read the config file {}", path.display());
        let mut file = std::fs::File::open(path).with_context(cannot)?;
        let mut text = String::new();
        file.read_to_string(&mut text).with_context(cannot)?;
        let table: toml::Table =
            toml::from_str(&text).with_context(|| format!("the config file {} is not valid TOML", path.display()))?;
        if holds_secret(&table) {
            check_private(&file, path)?;
        }
        Ok(ConfigFile { path: path.to_path_buf(), text })
    }

    /// The `[webhooks]` table (all unset when the file has none).
    pub fn webhooks(&self) -> Result<Webhooks> {
        let raw: RawFile = toml::from_str(&self.text)
            .with_context(|| format!("the config file {}, [webhooks]", self.path.display()))?;
        let raw = raw.webhooks.unwrap_or_default();
        let origin = || Origin::File(self.path.clone());
        let key = |name: &str| format!("the config file {}, [webhooks] `{name}`", self.path.display());
        Ok(Webhooks {
            twilio_auth_token: checked_token(raw.twilio_auth_token, &key("twilio_auth_token"))?.map(|s| (s, origin())),
            rapidpro_secret: checked_shared(raw.rapidpro_secret, &key("rapidpro_secret"))?.map(|s| (s, origin())),
            public_url: raw.public_url.map(|u| u.trim().to_string()).filter(|u| !u.is_empty()),
        })
    }
}

impl Webhooks {
    /// The config file's settings (if any file), each secret replaced by its
    /// environment variable when that is set and not empty.
    pub fn load(config: Option<&Path>) -> Result<Webhooks> {
        let mut webhooks = match config {
            Some(path) => ConfigFile::read(path)?.webhooks()?,
            None => Webhooks::default(),
        };
        if let Some(token) = env_secret(TWILIO_TOKEN_ENV) {
            webhooks.twilio_auth_token =
                checked_token(Some(token), TWILIO_TOKEN_ENV)?.map(|s| (s, Origin::Env(TWILIO_TOKEN_ENV)));
        }
        if let Some(secret) = env_secret(RAPIDPRO_SECRET_ENV) {
            webhooks.rapidpro_secret =
                checked_shared(Some(secret), RAPIDPRO_SECRET_ENV)?.map(|s| (s, Origin::Env(RAPIDPRO_SECRET_ENV)));
        }
        Ok(webhooks)
    }
}

fn env_secret(name: &str) -> Option<SecretString> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(SecretString::from)
}

fn checked_token(token: Option<SecretString>, what: &str) -> Result<Option<SecretString>> {
    match token {
        Some(t) if t.expose_secret().trim().is_empty() => {
            bail!(
                "{what} is empty: give the Twilio account's auth token, or remove the line to keep SMS through Twilio closed"
            )
        }
        Some(t) => Ok(Some(SecretString::from(t.expose_secret().trim()))),
        None => Ok(None),
    }
}

fn checked_shared(secret: Option<SecretString>, what: &str) -> Result<Option<SecretString>> {
    let Some(secret) = secret else { return Ok(None) };
    let trimmed = secret.expose_secret().trim();
    if trimmed.chars().count() < MIN_SHARED_SECRET_CHARS {
        bail!(
            "{what} has {} characters; a shared secret needs at least {MIN_SHARED_SECRET_CHARS} random ones \
             (make one with `openssl rand -hex 24`)",
            trimmed.chars().count()
        );
    }
    if trimmed.chars().any(char::is_whitespace) {
        bail!("{what} holds a space: it travels in an HTTP header as `Token <secret>`, so use letters and digits");
    }
    Ok(Some(SecretString::from(trimmed)))
}

/// Whether the file sets any secret this program reads from it.
fn holds_secret(table: &toml::Table) -> bool {
    let set = |section: &str, key: &str| table.get(section).and_then(|s| s.get(key)).is_some();
    let notify = table.get("notify");
    let webhook_secret = notify
        .and_then(|n| n.get("webhook"))
        .and_then(|w| w.as_array())
        .is_some_and(|hooks| hooks.iter().any(|h| h.get("secret").is_some()));
    let smtp_password = notify.and_then(|n| n.get("email")).and_then(|e| e.get("password")).is_some();
    set("webhooks", "twilio_auth_token")
        || set("webhooks", "rapidpro_secret")
        || set("sms_gateway", "auth_token")
        || set("sms_gateway", "token")
        || webhook_secret
        || smtp_password
}

/// The `[notify]` settings of the config file (none without a file or a
/// `[notify]` table), checked whole: a bad key is refused here, at
/// start-up, naming it. Staff SMS go through the file's `[sms_gateway]`.
pub fn notify(path: Option<&Path>) -> Result<Option<vitalcore_app::notify::NotifyConfig>> {
    let Some(path) = path else { return Ok(None) };
    let file = ConfigFile::read(path)?;
    let in_file = || format!("the config file {}", path.display());
    let table: toml::Table = toml::from_str(&file.text).with_context(in_file)?;
    let gateway = if table.get("notify").and_then(|n| n.get("sms")).and_then(|s| s.as_bool()) == Some(true) {
        vitalcore_intake::outbox::GatewayConfig::from_toml(&file.text).with_context(in_file)?
    } else {
        None
    };
    let env = |name: &str| std::env::var(name).ok();
    vitalcore_app::notify::NotifyConfig::from_toml(&file.text, &env, gateway).with_context(in_file)
}

#[cfg(unix)]
fn check_private(file: &std::fs::File, path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = file
        .metadata()
        .with_context(|| format!("cannot read the config file {}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        bail!(
            "the config file {} holds secrets and other users of this computer may read it (mode {:04o}): \
             make it readable by its owner only with `chmod 600 {}`, then start again",
            path.display(),
            mode & 0o7777,
            path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_file: &std::fs::File, _path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(text: &str) -> ConfigFile {
        ConfigFile { path: "vitalcore.toml".into(), text: text.into() }
    }

    #[test]
    fn webhooks_table_is_read_checked_and_typos_are_named() {
        let w = file(
            "[sms_gateway]\nkind = \"twilio\"\n[webhooks]\ntwilio_auth_token = \" tok \"\n\
             rapidpro_secret = \"0123456789abcdef\"\npublic_url = \"https://a.example.org\"\n",
        )
        .webhooks()
        .unwrap();
        let (token, origin) = w.twilio_auth_token.unwrap();
        assert_eq!((token.expose_secret(), origin), ("tok", Origin::File("vitalcore.toml".into())));
        assert_eq!(w.rapidpro_secret.unwrap().0.expose_secret(), "0123456789abcdef");
        assert_eq!(w.public_url.as_deref(), Some("https://a.example.org"));
        assert!(file("").webhooks().unwrap().twilio_auth_token.is_none());
        let typo = file("[webhooks]\nrapidpro_token = \"x\"\n").webhooks().err().unwrap();
        assert!(format!("{typo:#}").contains("rapidpro_token"), "{typo:#}");
        let short = file("[webhooks]\nrapidpro_secret = \"short\"\n").webhooks().err().unwrap();
        assert!(short.to_string().contains("openssl rand"), "{short}");
        let empty = file("[webhooks]\ntwilio_auth_token = \"\"\n").webhooks().err().unwrap();
        assert!(empty.to_string().contains("empty"), "{empty}");
    }

    #[test]
    fn secrets_anywhere_in_the_file_are_seen() {
        let table = |t: &str| -> toml::Table { toml::from_str(t).unwrap() };
        assert!(holds_secret(&table("[webhooks]\nrapidpro_secret = \"x\"\n")));
        assert!(holds_secret(&table("[sms_gateway]\ntoken = \"x\"\n")));
        assert!(!holds_secret(&table("[webhooks]\npublic_url = \"https://a.example.org\"\n")));
        assert!(holds_secret(&table("[notify]\n[[notify.webhook]]\nname = \"a\"\nsecret = \"x\"\n")));
        assert!(holds_secret(&table("[notify.email]\npassword = \"x\"\n")));
        assert!(!holds_secret(&table("[notify]\n[[notify.webhook]]\nname = \"a\"\n")));
    }
}
