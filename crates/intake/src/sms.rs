//! SMS gateway webhooks: Twilio's inbound message webhook (form-encoded
//! `From`, `To`, `Body`, `MessageSid`, ...) and RapidPro/TextIt (the
//! external-channel form `from`/`text`, or a flow webhook's JSON with
//! `contact.urn` and `input.text`). Each becomes a [`ReportDraft`]; the reply
//! carries the reference number in the reporter's language.
//!
//! Errors are typed and carry the HTTP status a server should answer with.

use crate::report::{Reference, ReportDraft};
use secrecy::SecretString;
use serde_json::Value;
use thiserror::Error;

/// Largest webhook body accepted (Twilio's own bodies are about 1 KB).
pub const MAX_BODY_BYTES: usize = 16 * 1024;
/// Longest message text accepted: 10 concatenated SMS segments of 160.
pub const MAX_TEXT_CHARS: usize = 1_600;

#[derive(Debug, Clone, Error, PartialEq)]
pub enum SmsError {
    #[error("the request body is {size} bytes; the limit is {limit}")]
    TooLarge { size: usize, limit: usize },
    #[error("the request body is not valid form data: {0}")]
    Malformed(String),
    #[error("the request body is not valid JSON: {0}")]
    BadJson(String),
    #[error("the field `{0}` is missing")]
    MissingField(&'static str),
    #[error("the message text is {chars} characters; the limit is {limit}")]
    TextTooLong { chars: usize, limit: usize },
}

impl SmsError {
    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            SmsError::TooLarge { .. } | SmsError::TextTooLong { .. } => 413,
            SmsError::Malformed(_) | SmsError::BadJson(_) => 400,
            SmsError::MissingField(_) => 422,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Gateway {
    Twilio,
    RapidPro,
}

impl Gateway {
    pub fn as_str(self) -> &'static str {
        match self {
            Gateway::Twilio => "twilio",
            Gateway::RapidPro => "rapidpro",
        }
    }
}

/// One inbound message. The sender's number is a secret (redacted in `Debug`).
#[derive(Debug)]
pub struct InboundSms {
    pub gateway: Gateway,
    pub from: SecretString,
    pub to: Option<String>,
    /// As written; may be empty (the reply then asks for a description).
    pub body: String,
    /// The gateway's message id (`MessageSid`, RapidPro `id`/`input.uuid`).
    pub message_id: Option<String>,
    /// ISO country of the sender when the gateway says (Twilio `FromCountry`).
    pub from_country: Option<String>,
}

impl InboundSms {
    /// The draft report: text as written, the number as contact (sealed on
    /// acceptance; the reporter id becomes its pseudonym), the message id as
    /// source id, and `URGENT`/`URGENCE` at the start read as high urgency.
    pub fn to_draft(&self, default_language: &str) -> ReportDraft {
        ReportDraft {
            text: self.body.clone(),
            language: Some(self.reply_language(default_language).to_string()),
            urgency: leading_urgency(&self.body).map(str::to_string),
            contact: Some(self.from.clone()),
            source_id: self.message_id.clone(),
            ..ReportDraft::default()
        }
    }

    /// `fr` when the message reads as French, `en` when as English, else `default`.
    pub fn reply_language<'a>(&self, default: &'a str) -> &'a str {
        guess_language(&self.body).unwrap_or(default)
    }
}

fn leading_urgency(body: &str) -> Option<&'static str> {
    let first = body.trim_start().split(|c: char| !c.is_alphabetic()).next()?.to_lowercase();
    matches!(first.as_str(), "urgent" | "urgence" | "urgente" | "sos").then_some("high")
}

/// Parses Twilio's form-encoded inbound webhook body.
pub fn parse_twilio(body: &[u8]) -> Result<InboundSms, SmsError> {
    check_size(body)?;
    let form = parse_form(body)?;
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let from = get("From").filter(|f| !f.trim().is_empty()).ok_or(SmsError::MissingField("From"))?;
    let text = get("Body").ok_or(SmsError::MissingField("Body"))?;
    let sid = get("MessageSid").or_else(|| get("SmsSid")).ok_or(SmsError::MissingField("MessageSid"))?;
    check_text(&text)?;
    Ok(InboundSms {
        gateway: Gateway::Twilio,
        from: SecretString::from(from),
        to: get("To"),
        body: text,
        message_id: Some(sid),
        from_country: get("FromCountry").filter(|c| !c.is_empty()),
    })
}

/// Parses a RapidPro/TextIt webhook: JSON (a flow webhook with
/// `contact.urn` and `input.text`, or a flat `urn`/`from` and `text`), or the
/// external channel's form-encoded `from`/`text` (also `urn`).
pub fn parse_rapidpro(body: &[u8]) -> Result<InboundSms, SmsError> {
    check_size(body)?;
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'{') {
        return parse_rapidpro_json(body);
    }
    let form = parse_form(body)?;
    let get = |k: &str| form.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
    let from =
        get("from").or_else(|| get("urn")).filter(|f| !f.trim().is_empty()).ok_or(SmsError::MissingField("from"))?;
    let text = get("text").ok_or(SmsError::MissingField("text"))?;
    check_text(&text)?;
    Ok(InboundSms {
        gateway: Gateway::RapidPro,
        from: SecretString::from(strip_urn_scheme(&from)),
        to: None,
        body: text,
        message_id: get("id"),
        from_country: None,
    })
}

fn parse_rapidpro_json(body: &[u8]) -> Result<InboundSms, SmsError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| SmsError::BadJson(e.to_string()))?;
    let str_at = |path: &[&str]| {
        let mut cur = &v;
        for p in path {
            cur = cur.get(p)?;
        }
        cur.as_str().map(str::to_string)
    };
    let from = str_at(&["contact", "urn"])
        .or_else(|| str_at(&["urn"]))
        .or_else(|| str_at(&["from"]))
        .filter(|f| !f.trim().is_empty())
        .ok_or(SmsError::MissingField("contact.urn"))?;
    let text = str_at(&["input", "text"]).or_else(|| str_at(&["text"])).ok_or(SmsError::MissingField("input.text"))?;
    check_text(&text)?;
    let id = str_at(&["input", "uuid"])
        .or_else(|| str_at(&["id"]))
        .or_else(|| v.get("id").and_then(Value::as_i64).map(|n| n.to_string()));
    Ok(InboundSms {
        gateway: Gateway::RapidPro,
        from: SecretString::from(strip_urn_scheme(&from)),
        to: str_at(&["channel", "address"]),
        body: text,
        message_id: id,
        from_country: None,
    })
}

fn strip_urn_scheme(urn: &str) -> String {
    urn.trim().strip_prefix("tel:").unwrap_or(urn.trim()).to_string()
}

fn check_size(body: &[u8]) -> Result<(), SmsError> {
    if body.len() > MAX_BODY_BYTES {
        return Err(SmsError::TooLarge { size: body.len(), limit: MAX_BODY_BYTES });
    }
    Ok(())
}

fn check_text(text: &str) -> Result<(), SmsError> {
    let chars = text.chars().count();
    if chars > MAX_TEXT_CHARS {
        return Err(SmsError::TextTooLong { chars, limit: MAX_TEXT_CHARS });
    }
    Ok(())
}

/// Checks Twilio's `X-Twilio-Signature` header: base64 of HMAC-SHA1, keyed
/// with the account's auth token, over the full webhook URL followed by every
/// POST parameter name and value, sorted by name (Twilio's "Validating
/// requests" method). Compared in constant time. A server refuses (403) a
/// webhook whose signature does not match before parsing it as a report.
pub fn verify_twilio_signature(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let Ok(params) = parse_form(body) else { return false };
    vitalcore_security::webhook::twilio_signature_matches(auth_token, url, &params, signature)
}

/// Decodes `application/x-www-form-urlencoded` (`+` is a space, `%XX` a byte).
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, SmsError> {
    let text = std::str::from_utf8(body).map_err(|_| SmsError::Malformed("not UTF-8".into()))?;
    let mut out = Vec::new();
    for pair in text.trim_end_matches(['\r', '\n']).split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    if out.is_empty() {
        return Err(SmsError::Malformed("the body is empty".into()));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, SmsError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
                let byte = hex.and_then(|h| u8::from_str_radix(h, 16).ok()).ok_or_else(|| {
                    SmsError::Malformed(format!("bad percent escape at byte {i} of `{}`", shorten(s)))
                })?;
                out.push(byte);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| SmsError::Malformed(format!("`{}` does not decode to UTF-8", shorten(s))))
}

fn shorten(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A crude, language-agnostic-enough guess between English and French from
/// common function words; `None` when neither dominates.
pub fn guess_language(text: &str) -> Option<&'static str> {
    const FR: &[&str] = &[
        "le", "la", "les", "des", "un", "une", "est", "et", "dans", "sur", "nous", "il", "ils", "à", "au", "aux", "du",
        "de", "sont", "ont", "pas", "village", "hier", "attaque", "merci",
    ];
    const EN: &[&str] = &[
        "the",
        "a",
        "an",
        "is",
        "are",
        "and",
        "in",
        "on",
        "we",
        "he",
        "they",
        "to",
        "of",
        "was",
        "were",
        "have",
        "has",
        "not",
        "yesterday",
        "attack",
        "help",
        "please",
    ];
    let (mut fr, mut en) = (0, 0);
    for word in text.split(|c: char| !c.is_alphabetic()).filter(|w| !w.is_empty()) {
        let w = word.to_lowercase();
        fr += FR.contains(&w.as_str()) as i32;
        en += EN.contains(&w.as_str()) as i32;
    }
    match fr.cmp(&en) {
        std::cmp::Ordering::Greater => Some("fr"),
        std::cmp::Ordering::Less => Some("en"),
        std::cmp::Ordering::Equal => None,
    }
}

/// The confirmation sent back, with the reference, in `lang` (English when
/// the message table has no such language).
pub fn receipt_text(lang: &str, reference: &Reference) -> String {
    let m = crate::messages::Messages::built_in();
    m.render(m.language(Some(lang)), "sms.receipt", &[("reference", reference.as_str())])
}

/// The reply when a message could not be taken as a report (empty text).
pub fn rejection_text(lang: &str) -> String {
    let m = crate::messages::Messages::built_in();
    m.render(m.language(Some(lang)), "sms.empty", &[])
}

/// Twilio's reply format (TwiML) with one message.
pub fn twiml(message: &str) -> String {
    format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Message>{}</Message></Response>", xml_escape(message))
}

fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}
