//! Telling reporters what was done, by SMS: the outbox.
//!
//! When feedback on an alert is recorded with channel `sms` and the report
//! has a contact, one message is queued for its reporter with the step (in
//! the same transaction): their own reference and the officer's message, in
//! the reporter's language (`feedback.sms` of the message table), at most
//! two SMS long. A feedback text that names another report, a phone number
//! or an e-mail address is refused: an SMS carries nothing about anyone but
//! its reporter.
//!
//! Nothing here sends anything, and nothing is sent unless the operator
//! acts: `vitalcore_app::outbox::prepare_export` gives the rows of a CSV file (phone, message,
//! outbox id) for a bulk-send tool, reading each contact through
//! `reveal_contact` (permission, then the audit record, then
//! the contact); the operator records what went out with `change_status`.
//! When a gateway is configured ([`GatewayConfig`]), [`GatewayConfig::request`]
//! builds the HTTP request for Twilio's Messages API or a RapidPro broadcast
//! and [`GatewayConfig::read_reply`] reads the answer; the caller does the I/O.
//!
//! Each message has an append-only status history (like alert steps, each
//! change takes the next position, so two operators at once cannot both
//! move a message): queued, exported, sent, failed (with its reason),
//! cancelled (with its reason). A failed message may be queued again.

use crate::messages::Messages;
use crate::report::{Reference, Report};
use crate::workflow::{Feedback, Step, StepRecord};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use thiserror::Error;
use vitalcore_framework::spreadsheet_record;

/// Longest message queued: two concatenated GSM-7 segments (2 x 153
/// characters). Accented French letters outside GSM-7 make a phone send
/// shorter (UCS-2) segments; two segments is still what a basic phone shows
/// as one message.
pub const MAX_CHARS: usize = 306;

/// Where a message stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OutboxStatus {
    /// Waiting to be exported or sent.
    Queued,
    /// Written to an export file for a bulk-send tool; not known to be sent.
    Exported,
    Sent,
    /// Could not be sent (the detail says why).
    Failed,
    /// Will not be sent (the detail says why).
    Cancelled,
}

impl OutboxStatus {
    pub const ALL: [OutboxStatus; 5] = [
        OutboxStatus::Queued,
        OutboxStatus::Exported,
        OutboxStatus::Sent,
        OutboxStatus::Failed,
        OutboxStatus::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            OutboxStatus::Queued => "queued",
            OutboxStatus::Exported => "exported",
            OutboxStatus::Sent => "sent",
            OutboxStatus::Failed => "failed",
            OutboxStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<OutboxStatus> {
        OutboxStatus::ALL.into_iter().find(|st| st.as_str() == s.trim().to_ascii_lowercase())
    }

    /// Whether a message in this status may move to `to`. Exporting again
    /// is allowed (a lost file); sent and cancelled are final.
    pub fn allows(self, to: OutboxStatus) -> bool {
        use OutboxStatus as S;
        matches!(
            (self, to),
            (S::Queued, S::Exported | S::Sent | S::Failed | S::Cancelled)
                | (S::Exported, S::Exported | S::Sent | S::Failed | S::Cancelled)
                | (S::Failed, S::Queued | S::Cancelled)
        )
    }

    /// Failing and cancelling say why.
    pub fn needs_reason(self) -> bool {
        matches!(self, OutboxStatus::Failed | OutboxStatus::Cancelled)
    }
}

impl fmt::Display for OutboxStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A message to queue, as the workflow produces it; the store assigns the id
/// and writes its first status, `queued`, by `queued_by` at `queued_at`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxDraft {
    /// The report whose reporter the message goes to.
    pub report: Reference,
    /// The alert step that recorded the feedback.
    pub step_seq: u32,
    /// The language the message is written in (`en`, `fr`).
    pub language: String,
    /// The message as it will be sent. Never the contact.
    pub body: String,
    pub queued_by: String,
    pub queued_at: Timestamp,
}

/// One entry of a message's status history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxChange {
    pub message_id: i64,
    /// 0-based position in the message's history (0 is `queued`); a store
    /// refuses a position already taken.
    pub seq: u32,
    pub status: OutboxStatus,
    pub user_id: String,
    pub at: Timestamp,
    /// The reason (failed, cancelled), the gateway's message id (sent) or
    /// the export file (exported).
    pub detail: Option<String>,
}

/// A queued message with its history, oldest change first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutboxMessage {
    pub id: i64,
    pub report: Reference,
    pub step_seq: u32,
    pub language: String,
    pub body: String,
    pub history: Vec<OutboxChange>,
    /// The node (field office or HQ) that queued it, when it came here by
    /// synchronisation: that node sends it (it holds the key to the
    /// reporter's contact), this one only follows its status. `None`: queued here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

impl OutboxMessage {
    pub fn status(&self) -> OutboxStatus {
        self.history.last().map(|c| c.status).unwrap_or(OutboxStatus::Queued)
    }

    /// The last change (when it moved to its current status, who, why).
    pub fn last_change(&self) -> Option<&OutboxChange> {
        self.history.last()
    }

    /// The change moving this message to `to`, or why it may not move.
    pub fn change(
        &self,
        to: OutboxStatus,
        user_id: &str,
        at: Timestamp,
        detail: Option<String>,
    ) -> Result<OutboxChange, OutboxError> {
        let from = self.status();
        if !from.allows(to) {
            return Err(OutboxError::NotAllowed { id: self.id, from, to });
        }
        // The detail may quote a gateway's answer: one line, no control characters.
        let detail = detail.map(|d| crate::text::clean_line(&d).trim().to_string()).filter(|d| !d.is_empty());
        if to.needs_reason() && detail.is_none() {
            return Err(OutboxError::ReasonNeeded { id: self.id, to });
        }
        Ok(OutboxChange {
            message_id: self.id,
            seq: self.history.len() as u32,
            status: to,
            user_id: user_id.to_string(),
            at,
            detail,
        })
    }
}

/// Which messages to list; empty = all, oldest first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OutboxFilter {
    pub ids: Option<Vec<i64>>,
    pub report: Option<Reference>,
    /// Only messages whose current status is one of these.
    pub statuses: Option<Vec<OutboxStatus>>,
    /// Only messages queued here (not those that came from another node).
    pub queued_here: bool,
}

impl OutboxFilter {
    pub fn with_statuses(statuses: &[OutboxStatus]) -> OutboxFilter {
        OutboxFilter { statuses: Some(statuses.to_vec()), ..OutboxFilter::default() }
    }

    /// The messages in `statuses` this node sends: those queued here. A
    /// message from another node is sent there, never twice.
    pub fn to_send(statuses: &[OutboxStatus]) -> OutboxFilter {
        OutboxFilter { queued_here: true, ..OutboxFilter::with_statuses(statuses) }
    }

    pub fn matches(&self, m: &OutboxMessage) -> bool {
        self.ids.as_ref().is_none_or(|ids| ids.contains(&m.id))
            && self.report.as_ref().is_none_or(|r| *r == m.report)
            && self.statuses.as_ref().is_none_or(|s| s.contains(&m.status()))
            && (!self.queued_here || m.origin.is_none())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum OutboxError {
    #[error("outbox message #{id} is {from}; it cannot become {to}")]
    NotAllowed { id: i64, from: OutboxStatus, to: OutboxStatus },
    #[error("outbox message #{id}: say why it is {to} (--reason)")]
    ReasonNeeded { id: i64, to: OutboxStatus },
    #[error("the SMS to the reporter would be {chars} characters; the limit is {max} (two SMS): shorten the feedback")]
    TooLong { chars: usize, max: usize },
    #[error("the feedback is empty: say what was done")]
    Empty,
    #[error(
        "the feedback goes to the reporter by SMS and must concern only them, but it contains {0}: take it out (or record the feedback through another channel)"
    )]
    OtherPeoplesData(String),
    #[error("{0}")]
    BadFile(String),
}

/// `sms`, however written, is the channel that queues a message.
pub fn is_sms_channel(channel: &str) -> bool {
    channel.trim().eq_ignore_ascii_case("sms")
}

/// The feedback a step records, if any.
pub fn feedback_of(step: &Step) -> Option<&Feedback> {
    match step {
        Step::Respond { feedback, .. } => feedback.as_ref(),
        Step::GiveFeedback { feedback } => Some(feedback),
        _ => None,
    }
}

/// The message for `report`'s reporter for a step just recorded: one when
/// the step gives feedback by SMS and the report has a contact, else none.
pub fn drafts_for_step(report: &Report, record: &StepRecord) -> Result<Vec<OutboxDraft>, OutboxError> {
    let Some(feedback) = feedback_of(&record.step).filter(|f| is_sms_channel(&f.channel)) else { return Ok(vec![]) };
    if report.contact.is_none() {
        return Ok(vec![]);
    }
    let messages = Messages::built_in();
    let language = messages.language(report.language.as_deref()).to_string();
    let body = compose(&language, &report.reference, &feedback.message)?;
    Ok(vec![OutboxDraft {
        report: report.reference.clone(),
        step_seq: record.seq,
        language,
        body,
        queued_by: record.user_id.clone(),
        queued_at: record.at,
    }])
}

/// The SMS text for `reference`'s reporter in `lang`: the message table's
/// `feedback.sms` with the reference and the officer's words, checked.
pub fn compose(lang: &str, reference: &Reference, message: &str) -> Result<String, OutboxError> {
    let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if message.is_empty() {
        return Err(OutboxError::Empty);
    }
    check_concerns_only(reference, &message)?;
    let body =
        Messages::built_in().render(lang, "feedback.sms", &[("reference", reference.as_str()), ("message", &message)]);
    let chars = body.chars().count();
    if chars > MAX_CHARS {
        return Err(OutboxError::TooLong { chars, max: MAX_CHARS });
    }
    Ok(body)
}

/// Refuses a text that names another report, or holds something that reads
/// as a phone number (8 digits or more, not a date) or an e-mail address.
pub fn check_concerns_only(own: &Reference, text: &str) -> Result<(), OutboxError> {
    let found = other_reference(own, text)
        .map(|r| format!("another report's reference ({r})"))
        .or_else(|| phone_like(text).map(|p| format!("what looks like a phone number ({p})")))
        .or_else(|| email_like(text).map(|e| format!("what looks like an e-mail address ({e})")));
    match found {
        Some(what) => Err(OutboxError::OtherPeoplesData(what)),
        None => Ok(()),
    }
}

fn other_reference(own: &Reference, text: &str) -> Option<String> {
    text.split(|c: char| !(c.is_ascii_alphanumeric() || c == '-'))
        .filter(|w| w.len() >= 9 && w[..2].eq_ignore_ascii_case("vc"))
        .filter_map(|w| w.parse::<Reference>().ok())
        .find(|r| r != own)
        .map(|r| r.to_string())
}

/// A run of digits, `+`, and single separators between digits, with at least
/// 8 digits, that is not a date (2024-05-01, 01/05/2024).
fn phone_like(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        if !(chars[i].is_ascii_digit() || (chars[i] == '+' && chars.get(i + 1).is_some_and(char::is_ascii_digit))) {
            i += 1;
            continue;
        }
        let start = i;
        i += 1;
        while i < chars.len() {
            let separator = matches!(chars[i], ' ' | '-' | '.' | '/' | '(' | ')');
            if chars[i].is_ascii_digit() || (separator && chars.get(i + 1).is_some_and(char::is_ascii_digit)) {
                i += 1;
            } else {
                break;
            }
        }
        let run: String = chars[start..i].iter().collect();
        let groups: Vec<usize> =
            run.split(|c: char| !c.is_ascii_digit()).filter(|g| !g.is_empty()).map(str::len).collect();
        // A date at the start of the run ("2024-05-01 15 people") is not part of a number.
        let date = matches!(groups.as_slice(), [4, 2, 2, ..] | [1 | 2, 1 | 2, 4, ..]);
        let digits: usize = groups.iter().skip(if date { 3 } else { 0 }).sum();
        if digits >= 8 {
            return Some(run.trim().to_string());
        }
    }
    None
}

fn email_like(text: &str) -> Option<String> {
    text.split_whitespace()
        .map(|w| w.trim_matches(|c: char| !c.is_alphanumeric()))
        .find(|w| {
            w.split_once('@').is_some_and(|(user, domain)| {
                !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
        })
        .map(str::to_string)
}

/// Why a contact cannot receive an SMS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneProblem {
    /// Letters, an e-mail address, too few or too many digits.
    NotAPhone,
    /// A local number, and no country code was given to complete it.
    NeedsCountryCode,
}

/// A contact as an international number (`+23672000001`), as gateways and
/// bulk-send tools take it: spaces, dashes, dots and parentheses dropped, a
/// `tel:` prefix and a leading `00` read as `+`. A local number (no `+`)
/// gets `default_country_code` with its leading trunk 0 dropped.
pub fn normalise_phone(raw: &str, default_country_code: Option<&str>) -> Result<String, PhoneProblem> {
    let trimmed = raw.trim();
    let trimmed = trimmed.strip_prefix("tel:").unwrap_or(trimmed);
    if trimmed.chars().any(|c| !(c.is_ascii_digit() || matches!(c, '+' | ' ' | '-' | '.' | '(' | ')'))) {
        return Err(PhoneProblem::NotAPhone);
    }
    let compact: String = trimmed.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
    let international = if let Some(rest) = compact.strip_prefix('+') {
        rest.to_string()
    } else if let Some(rest) = compact.strip_prefix("00") {
        rest.to_string()
    } else {
        if !(6..=14).contains(&compact.len()) {
            return Err(PhoneProblem::NotAPhone);
        }
        let code = default_country_code.map(|c| c.trim().trim_start_matches('+')).filter(|c| !c.is_empty());
        let code = code.ok_or(PhoneProblem::NeedsCountryCode)?;
        format!("{code}{}", compact.trim_start_matches('0'))
    };
    // E.164: at most 15 digits; no country code starts with 0.
    if international.contains('+') || !(8..=15).contains(&international.len()) || international.starts_with('0') {
        return Err(PhoneProblem::NotAPhone);
    }
    Ok(format!("+{international}"))
}

/// Checks a `--default-country-code` value: 1 to 3 digits, `+` allowed.
pub fn check_country_code(code: &str) -> Result<String, OutboxError> {
    let digits = code.trim().trim_start_matches('+');
    if (1..=3).contains(&digits.len()) && digits.bytes().all(|b| b.is_ascii_digit()) && !digits.starts_with('0') {
        Ok(digits.to_string())
    } else {
        Err(OutboxError::BadFile(format!(
            "`{code}` is not a country calling code (236 for the Central African Republic)"
        )))
    }
}

/// How an export reads contacts and what it records.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// Also export messages exported before (a lost file).
    pub again: bool,
    /// Completes local numbers (`236`).
    pub default_country_code: Option<String>,
    /// Recorded with each message as the export's name (the file).
    pub label: String,
}

/// One line of the export file. The phone is a secret: `Debug` hides it.
pub struct ExportRow {
    pub id: i64,
    pub phone: SecretString,
    pub message: String,
}

impl fmt::Debug for ExportRow {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ExportRow")
            .field("id", &self.id)
            .field("phone", &"<redacted>")
            .field("message", &self.message)
            .finish()
    }
}

/// What an export found: the rows to write, the status changes to record
/// once the file is written, and what was left out and why.
#[derive(Debug, Default)]
pub struct ExportPlan {
    pub rows: Vec<ExportRow>,
    /// `exported` for each row; `failed` for contacts that are not phones.
    pub changes: Vec<OutboxChange>,
    /// Messages the user may not read the contact of (another community's).
    pub not_allowed: Vec<i64>,
    /// Local numbers that need `--default-country-code`; left queued.
    pub need_country_code: Vec<i64>,
}

/// The purpose recorded in the contact audit log when a message's contact
/// is read to send it.
pub fn purpose(id: i64, how: &str) -> String {
    format!("send the feedback by SMS (outbox message #{id}, {how})")
}

/// The export file: `phone,message,outbox_id`, one row per message, as bulk
/// SMS tools take a list (the extra column is ignored by them and read back
/// by [`read_sent_ids`]).
pub fn write_csv(rows: &[ExportRow], out: impl std::io::Write) -> Result<(), csv::Error> {
    let mut w = csv::Writer::from_writer(out);
    w.write_record(["phone", "message", "outbox_id"])?;
    for r in rows {
        // Spreadsheet-safe cells; a phone in international form is a plain
        // number and stays as the send tool needs it.
        let id = r.id.to_string();
        w.write_record(spreadsheet_record([r.phone.expose_secret(), r.message.as_str(), id.as_str()]))?;
    }
    w.flush()?;
    Ok(())
}

/// The outbox ids of an export file (its `outbox_id` column), in file order.
pub fn read_sent_ids(bytes: &[u8]) -> Result<Vec<i64>, OutboxError> {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(bytes);
    let headers = reader.headers().map_err(|e| OutboxError::BadFile(e.to_string()))?.clone();
    let column = headers.iter().position(|h| h.trim().eq_ignore_ascii_case("outbox_id")).ok_or_else(|| {
        OutboxError::BadFile(
            "the file has no outbox_id column: give the file `vitalcore feedback outbox export` wrote".into(),
        )
    })?;
    let mut ids = Vec::new();
    for (i, record) in reader.records().enumerate() {
        let record = record.map_err(|e| OutboxError::BadFile(e.to_string()))?;
        let raw = record.get(column).unwrap_or("").trim();
        if raw.is_empty() {
            continue;
        }
        let id = raw
            .parse()
            .map_err(|_| OutboxError::BadFile(format!("line {}: outbox_id `{raw}` is not a number", i + 2)))?;
        ids.push(id);
    }
    Ok(ids)
}

/// Which SMS gateway the operator configured.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum GatewayKind {
    /// Twilio's Messages API.
    Twilio,
    /// A RapidPro or TextIt workspace (API v2 broadcasts).
    RapidPro,
}

impl GatewayKind {
    pub fn as_str(self) -> &'static str {
        match self {
            GatewayKind::Twilio => "twilio",
            GatewayKind::RapidPro => "rapidpro",
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum GatewayError {
    #[error("config file: {0}")]
    Syntax(String),
    #[error("config file, [sms_gateway] `{key}`: {reason}")]
    Invalid { key: &'static str, reason: String },
}

#[derive(Deserialize)]
struct ConfigFile {
    sms_gateway: Option<RawGateway>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGateway {
    kind: GatewayKind,
    url: Option<String>,
    account_sid: Option<String>,
    auth_token: Option<SecretString>,
    from: Option<String>,
    messaging_service_sid: Option<String>,
    token: Option<SecretString>,
    proxy: Option<String>,
}

/// An SMS gateway the operator configured in the config file:
///
/// ```toml
/// [sms_gateway]
/// kind = "twilio"                  # Twilio's Messages API
/// account_sid = "AC..."
/// auth_token = "..."
/// from = "+15005550006"            # or messaging_service_sid = "MG..."
/// # url = "https://api.twilio.com" (the default)
///
/// # or
/// [sms_gateway]
/// kind = "rapidpro"                # RapidPro / TextIt broadcasts
/// url = "https://rapidpro.example.org"
/// token = "..."
/// ```
///
/// Credentials go over HTTPS only (plain HTTP is accepted for a gateway on
/// this computer, 127.0.0.1 or localhost, as in tests). `proxy =
/// "http://proxy:3128"` sends through a proxy; none is taken from the
/// environment.
#[derive(Debug)]
pub struct GatewayConfig {
    pub kind: GatewayKind,
    /// Base URL without a trailing `/`.
    pub url: String,
    /// Twilio: the account SID; RapidPro: unused.
    account: String,
    secret: SecretString,
    /// Twilio: `From` number, or `MessagingServiceSid` when it starts with `MG`.
    sender: Option<String>,
    /// An HTTP proxy to go through, when the operator names one.
    pub proxy: Option<String>,
}

impl GatewayConfig {
    /// The gateway of a config file, `None` when it configures none.
    pub fn from_toml(text: &str) -> Result<Option<GatewayConfig>, GatewayError> {
        let file: ConfigFile = toml::from_str(text).map_err(|e| GatewayError::Syntax(e.to_string()))?;
        let Some(raw) = file.sms_gateway else { return Ok(None) };
        let required = |value: Option<String>, key: &'static str| {
            value.map(|v| v.trim().to_string()).filter(|v| !v.is_empty()).ok_or(GatewayError::Invalid {
                key,
                reason: format!("missing: a {} gateway needs it", raw.kind.as_str()),
            })
        };
        let secret = |value: Option<SecretString>, key: &'static str| {
            value.filter(|v| !v.expose_secret().trim().is_empty()).ok_or(GatewayError::Invalid {
                key,
                reason: format!("missing: a {} gateway needs it", raw.kind.as_str()),
            })
        };
        let proxy = raw.proxy.clone().map(|p| p.trim().to_string()).filter(|p| !p.is_empty());
        let config = match raw.kind {
            GatewayKind::Twilio => {
                let sender = raw.messaging_service_sid.clone().or(raw.from.clone());
                GatewayConfig {
                    kind: GatewayKind::Twilio,
                    url: check_url(raw.url.clone().unwrap_or_else(|| "https://api.twilio.com".into()))?,
                    account: required(raw.account_sid.clone(), "account_sid")?,
                    secret: secret(raw.auth_token, "auth_token")?,
                    sender: Some(required(sender, "from")?),
                    proxy,
                }
            }
            GatewayKind::RapidPro => GatewayConfig {
                kind: GatewayKind::RapidPro,
                url: check_url(required(raw.url.clone(), "url")?)?,
                account: String::new(),
                secret: secret(raw.token, "token")?,
                sender: None,
                proxy,
            },
        };
        Ok(Some(config))
    }

    /// The HTTP request that sends `text` to `phone` (international form).
    pub fn request(&self, phone: &SecretString, text: &str) -> GatewayRequest {
        use base64::Engine;
        match self.kind {
            GatewayKind::Twilio => {
                let sender = self.sender.as_deref().unwrap_or("");
                let sender_field = if sender.starts_with("MG") { "MessagingServiceSid" } else { "From" };
                let body = form_encode(&[("To", phone.expose_secret()), (sender_field, sender), ("Body", text)]);
                let credentials = format!("{}:{}", self.account, self.secret.expose_secret());
                GatewayRequest {
                    url: format!("{}/2010-04-01/Accounts/{}/Messages.json", self.url, self.account),
                    authorization: SecretString::from(format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(credentials)
                    )),
                    content_type: "application/x-www-form-urlencoded",
                    body: body.into_bytes(),
                }
            }
            GatewayKind::RapidPro => {
                let body = serde_json::json!({ "urns": [format!("tel:{}", phone.expose_secret())], "text": text });
                GatewayRequest {
                    url: format!("{}/api/v2/broadcasts.json", self.url),
                    authorization: SecretString::from(format!("Token {}", self.secret.expose_secret())),
                    content_type: "application/json",
                    body: body.to_string().into_bytes(),
                }
            }
        }
    }

    /// Reads the gateway's answer: `Ok(what it calls the message)` on
    /// success, `Err(reason)` to record as the failure.
    pub fn read_reply(&self, status: u16, body: &str) -> Result<String, String> {
        let json: serde_json::Value = serde_json::from_str(body).unwrap_or(serde_json::Value::Null);
        let short: String = body.chars().take(200).collect();
        if !(200..300).contains(&status) {
            let said = json.get("message").and_then(|m| m.as_str()).map(str::to_string).unwrap_or(short);
            return Err(format!("{} answered HTTP {status}: {said}", self.kind.as_str()));
        }
        match self.kind {
            GatewayKind::Twilio => json
                .get("sid")
                .and_then(|s| s.as_str())
                .map(|sid| format!("twilio {sid}"))
                .ok_or_else(|| format!("twilio answered HTTP {status} without a message sid: {short}")),
            GatewayKind::RapidPro => match json.get("id") {
                Some(id) if !id.is_null() => Ok(format!("rapidpro broadcast {id}")),
                _ => Err(format!("rapidpro answered HTTP {status} without a broadcast id: {short}")),
            },
        }
    }
}

/// Only HTTPS, except to this computer.
fn check_url(url: String) -> Result<String, GatewayError> {
    let url = url.trim().trim_end_matches('/').to_string();
    let invalid = |reason: &str| GatewayError::Invalid { key: "url", reason: format!("`{url}`: {reason}") };
    if let Some(rest) = url.strip_prefix("https://") {
        return if rest.is_empty() { Err(invalid("no host")) } else { Ok(url) };
    }
    let Some(rest) = url.strip_prefix("http://") else { return Err(invalid("write https://...")) };
    let host = if rest.starts_with('[') {
        rest.split(']').next().map(|h| format!("{h}]")).unwrap_or_default()
    } else {
        rest.split(['/', ':']).next().unwrap_or("").to_string()
    };
    if matches!(host.as_str(), "127.0.0.1" | "localhost" | "[::1]") {
        Ok(url)
    } else {
        Err(invalid("credentials go over HTTPS only (plain http:// is for a gateway on this computer)"))
    }
}

/// `application/x-www-form-urlencoded`, spaces as `%20`.
fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| -> String {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
                b => format!("%{b:02X}"),
            })
            .collect()
    };
    pairs.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
}

/// One request to a gateway: POST `body` to `url` with these headers.
/// It carries a phone number and credentials: `Debug` shows neither.
pub struct GatewayRequest {
    pub url: String,
    pub authorization: SecretString,
    pub content_type: &'static str,
    pub body: Vec<u8>,
}

impl fmt::Debug for GatewayRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GatewayRequest")
            .field("url", &self.url)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference() -> Reference {
        Reference::from_number(12345)
    }

    #[test]
    fn the_message_carries_the_reference_and_the_words_in_the_reporters_language() {
        let r = reference();
        let en = compose("en", &r, "A  patrol went to the\nroad.").unwrap();
        assert_eq!(en, format!("Your report {r}: A patrol went to the road."));
        let fr = compose("fr", &r, "Une patrouille est passée.").unwrap();
        assert_eq!(fr, format!("Votre signalement {r} : Une patrouille est passée."));
        assert_eq!(compose("en", &r, "  \n"), Err(OutboxError::Empty));
        let long = "x".repeat(MAX_CHARS);
        assert!(matches!(compose("en", &r, &long), Err(OutboxError::TooLong { max: MAX_CHARS, .. })));
    }

    #[test]
    fn other_peoples_references_phones_and_emails_are_refused_dates_and_own_reference_are_not() {
        let own = reference();
        let other = Reference::from_number(999);
        let refused = |text: &str| matches!(check_concerns_only(&own, text), Err(OutboxError::OtherPeoplesData(_)));
        assert!(refused(&format!("Same as {other}")));
        assert!(refused(&format!("same as {}", other.as_str().to_lowercase())));
        assert!(refused("Call Jean on +236 72 00 00 01"));
        assert!(refused("call 72-00-00-01"));
        assert!(refused("write to jean.b@example.org please"));
        assert!(check_concerns_only(&own, &format!("About {own}: patrol on 2024-05-01 and 01/05/2024")).is_ok());
        assert!(check_concerns_only(&own, "The patrols came back at 14:30, 3 soldiers").is_ok());
        assert!(check_concerns_only(&own, "On 2024-05-01 15 people came back").is_ok());
        assert!(check_concerns_only(&own, "VCs and vocabulary are fine").is_ok());
    }

    #[test]
    fn phones_are_written_internationally_and_local_ones_need_a_country_code() {
        assert_eq!(normalise_phone("+236 72 00 00 01", None).unwrap(), "+23672000001");
        assert_eq!(normalise_phone("tel:+23672000001", None).unwrap(), "+23672000001");
        assert_eq!(normalise_phone("00236 (72) 00-00-01", None).unwrap(), "+23672000001");
        assert_eq!(normalise_phone("072 00 00 01", None), Err(PhoneProblem::NeedsCountryCode));
        assert_eq!(normalise_phone("072 00 00 01", Some("+236")).unwrap(), "+23672000001");
        assert_eq!(normalise_phone("jean@example.org", Some("236")), Err(PhoneProblem::NotAPhone));
        assert_eq!(normalise_phone("+12", None), Err(PhoneProblem::NotAPhone));
        assert_eq!(normalise_phone("+1234567890123456", None), Err(PhoneProblem::NotAPhone));
        assert!(check_country_code("+236").is_ok());
        assert!(check_country_code("0236").is_err() && check_country_code("23a").is_err());
    }

    #[test]
    fn statuses_move_only_forward_with_reasons_where_needed() {
        use OutboxStatus as S;
        let mut m = OutboxMessage {
            id: 4,
            report: reference(),
            step_seq: 3,
            language: "en".into(),
            body: "x".into(),
            history: vec![],
            origin: None,
        };
        let at: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        m.history.push(OutboxChange {
            message_id: 4,
            seq: 0,
            status: S::Queued,
            user_id: "u".into(),
            at,
            detail: None,
        });
        assert_eq!(
            m.change(S::Failed, "u", at, Some(" ".into())),
            Err(OutboxError::ReasonNeeded { id: 4, to: S::Failed })
        );
        let exported = m.change(S::Exported, "u", at, Some("out.csv".into())).unwrap();
        assert_eq!((exported.seq, exported.status), (1, S::Exported));
        m.history.push(exported);
        m.history.push(m.change(S::Sent, "u", at, None).unwrap());
        assert_eq!(m.status(), S::Sent);
        for to in S::ALL {
            assert!(m.change(to, "u", at, Some("why".into())).is_err(), "sent is final ({to})");
        }
        assert!(S::Failed.allows(S::Queued) && !S::Cancelled.allows(S::Queued) && !S::Queued.allows(S::Queued));
        assert_eq!(OutboxStatus::parse(" Sent "), Some(S::Sent));
    }

    #[test]
    fn the_export_file_reads_back_its_ids() {
        let rows = vec![
            ExportRow {
                id: 7,
                phone: SecretString::from("+23672000001"),
                message: "Votre signalement: a, \"b\"".into(),
            },
            ExportRow { id: 9, phone: SecretString::from("+23672000002"), message: "two".into() },
        ];
        let mut out = Vec::new();
        write_csv(&rows, &mut out).unwrap();
        let text = String::from_utf8(out.clone()).unwrap();
        assert!(text.starts_with("phone,message,outbox_id\n+23672000001,"), "{text}");
        assert_eq!(read_sent_ids(&out).unwrap(), vec![7, 9]);
        assert!(read_sent_ids(b"phone,message\n+1,x\n").is_err());
        assert!(read_sent_ids(b"outbox_id\nseven\n").unwrap_err().to_string().contains("line 2"));
        assert!(!format!("{:?}", rows[0]).contains("72000001"), "Debug hides the phone");
    }

    #[test]
    fn gateway_configs_need_their_credentials_and_https() {
        let twilio =
            "[sms_gateway]\nkind = \"twilio\"\naccount_sid = \"AC1\"\nauth_token = \"tok\"\nfrom = \"+15005550006\"\n";
        let g = GatewayConfig::from_toml(twilio).unwrap().unwrap();
        assert_eq!(g.url, "https://api.twilio.com");
        let req = g.request(&SecretString::from("+23672000001"), "Votre signalement : fait & vu");
        assert_eq!(req.url, "https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json");
        assert_eq!(req.authorization.expose_secret(), "Basic QUMxOnRvaw==");
        assert_eq!(
            String::from_utf8(req.body.clone()).unwrap(),
            "To=%2B23672000001&From=%2B15005550006&Body=Votre%20signalement%20%3A%20fait%20%26%20vu"
        );
        assert!(!format!("{req:?}").contains("2367200") && !format!("{g:?}").contains("tok\""));
        assert_eq!(g.read_reply(201, r#"{"sid":"SM123","status":"queued"}"#), Ok("twilio SM123".into()));
        let refused = g.read_reply(400, r#"{"code":21211,"message":"The 'To' number is not valid","status":400}"#);
        assert_eq!(refused, Err("twilio answered HTTP 400: The 'To' number is not valid".into()));

        let rapid = "[sms_gateway]\nkind = \"rapidpro\"\nurl = \"http://127.0.0.1:9/\"\ntoken = \"t\"\n";
        let g = GatewayConfig::from_toml(rapid).unwrap().unwrap();
        let req = g.request(&SecretString::from("+23672000001"), "hi");
        assert_eq!(req.url, "http://127.0.0.1:9/api/v2/broadcasts.json");
        assert_eq!(req.authorization.expose_secret(), "Token t");
        let body: serde_json::Value = serde_json::from_slice(&req.body).unwrap();
        assert_eq!(body, serde_json::json!({"urns": ["tel:+23672000001"], "text": "hi"}));
        assert_eq!(g.read_reply(201, r#"{"id": 42}"#), Ok("rapidpro broadcast 42".into()));

        assert_eq!(GatewayConfig::from_toml("[other]\nx = 1\n").unwrap().map(|g| g.kind), None);
        let plain = rapid.replace("127.0.0.1:9", "sms.example.org");
        assert!(GatewayConfig::from_toml(&plain).unwrap_err().to_string().contains("HTTPS"));
        let no_token = twilio.replace("auth_token = \"tok\"\n", "");
        assert!(GatewayConfig::from_toml(&no_token).unwrap_err().to_string().contains("auth_token"));
    }
}
