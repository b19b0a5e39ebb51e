//! The community report: what was reported, where, when, by whom (a
//! pseudonym; the contact sealed), through which channel, and how far it has
//! been verified. [`Intake::accept`] turns a raw [`ReportDraft`] from any
//! channel into a validated [`Report`], or names every field to fix.

use crate::categories::CategoryMap;
use crate::crypto::{ContactKey, CryptoError, SealedContact};
use crate::duplicates::DuplicateLink;
use crate::text;
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;
use vitalcore_framework::Tags;
use vitalcore_security::crockford::CROCKFORD;
pub use vitalcore_security::crockford::crockford;

/// Value of a Crockford symbol, reading `O` as 0 and `I`/`L` as 1.
fn crockford_value(c: char) -> Option<u32> {
    let c = match c.to_ascii_uppercase() {
        'O' => '0',
        'I' | 'L' => '1',
        c => c,
    };
    CROCKFORD.iter().position(|&s| s as char == c).map(|p| p as u32)
}

/// The reference number a reporter quotes: `VC-7K3Q-9MX`, six random
/// Crockford symbols (30 bits) and a check symbol (weighted sum mod 31,
/// which catches any single wrong symbol and any swap of two neighbours).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Reference(String);

#[derive(Debug, Error, PartialEq)]
#[error(
    "`{0}` is not a report reference: it looks like VC-7K3Q-9MX (letters and digits after VC-; check for a typing mistake)"
)]
pub struct BadReference(pub String);

impl Reference {
    /// A new random reference.
    pub fn random() -> Result<Reference, CryptoError> {
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
        let n = u32::from_le_bytes(bytes) & ((1 << 30) - 1);
        Ok(Reference::from_number(n))
    }

    /// A new random reference whose first symbol is `space` (0-31), when
    /// given: each node of a synchronised mission draws from its own space,
    /// so two field offices never hand out the same reference while apart.
    pub fn random_in(space: Option<u8>) -> Result<Reference, CryptoError> {
        let Some(space) = space else { return Reference::random() };
        let mut bytes = [0u8; 4];
        getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
        let n = (u32::from_le_bytes(bytes) & ((1 << 25) - 1)) | (u32::from(space & 31) << 25);
        Ok(Reference::from_number(n))
    }

    /// The reference space (first symbol's value) of this reference.
    pub fn space(&self) -> u8 {
        self.0.as_bytes().get(3).and_then(|&c| crockford_value(c as char)).unwrap_or(0) as u8
    }

    /// The reference for a 30-bit number (tests and imports use it to be deterministic).
    pub fn from_number(n: u32) -> Reference {
        let values: Vec<u32> = (0..6).rev().map(|i| (n >> (i * 5)) & 31).collect();
        let symbols: String = values.iter().map(|&v| CROCKFORD[v as usize] as char).collect();
        let check = CROCKFORD[check_value(&values) as usize] as char;
        Reference(format!("VC-{}-{}{}", &symbols[..4], &symbols[4..], check))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn check_value(values: &[u32]) -> u32 {
    values.iter().enumerate().map(|(i, v)| (i as u32 + 1) * v).sum::<u32>() % 31
}

impl FromStr for Reference {
    type Err = BadReference;
    /// Reads a reference as a reporter may type it: any case, with or
    /// without `VC` and dashes or spaces, `O` for 0 and `I`/`L` for 1.
    fn from_str(raw: &str) -> Result<Reference, BadReference> {
        let bad = || BadReference(raw.trim().to_string());
        let compact: String =
            raw.trim().chars().filter(|c| !matches!(c, '-' | ' ' | '.' | '_')).collect::<String>().to_ascii_uppercase();
        let body = compact.strip_prefix("VC").unwrap_or(&compact);
        if body.chars().count() != 7 {
            return Err(bad());
        }
        let values: Vec<u32> = body.chars().map(crockford_value).collect::<Option<_>>().ok_or_else(bad)?;
        if check_value(&values[..6]) != values[6] {
            return Err(bad());
        }
        let n = values[..6].iter().fold(0u32, |acc, v| (acc << 5) | v);
        Ok(Reference::from_number(n))
    }
}

impl TryFrom<String> for Reference {
    type Error = BadReference;
    fn try_from(s: String) -> Result<Reference, BadReference> {
        s.parse()
    }
}

impl From<Reference> for String {
    fn from(r: Reference) -> String {
        r.0
    }
}

impl fmt::Display for Reference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How urgent the reporter (or a triaging officer) says a report is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Urgency {
    Low,
    Medium,
    High,
    Critical,
}

impl Urgency {
    pub const ALL: [Urgency; 4] = [Urgency::Low, Urgency::Medium, Urgency::High, Urgency::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Urgency::Low => "low",
            Urgency::Medium => "medium",
            Urgency::High => "high",
            Urgency::Critical => "critical",
        }
    }
}

impl fmt::Display for Urgency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Urgency {
    type Err = String;
    /// English and French words, and 1-4 (1 = low).
    fn from_str(s: &str) -> Result<Urgency, String> {
        match s.trim().to_lowercase().as_str() {
            "low" | "faible" | "basse" | "bas" | "1" => Ok(Urgency::Low),
            "medium" | "moyen" | "moyenne" | "normal" | "normale" | "2" => Ok(Urgency::Medium),
            "high" | "haute" | "élevée" | "elevee" | "urgent" | "urgente" | "3" => Ok(Urgency::High),
            "critical" | "critique" | "très urgent" | "4" => Ok(Urgency::Critical),
            other => Err(format!("`{other}` is not an urgency: use low, medium, high or critical")),
        }
    }
}

/// Through which channel a report came.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Channel {
    WebForm,
    /// A partner system posting to the JSON API with its own token.
    Api {
        partner: String,
    },
    /// An SMS gateway webhook (`twilio`, `rapidpro`).
    Sms {
        gateway: String,
    },
    /// A KoBoToolbox/ODK export; `form` names the mapping used.
    Kobo {
        form: String,
    },
    Cli,
}

impl Channel {
    pub fn kind(&self) -> &'static str {
        match self {
            Channel::WebForm => "web_form",
            Channel::Api { .. } => "api",
            Channel::Sms { .. } => "sms",
            Channel::Kobo { .. } => "kobo",
            Channel::Cli => "cli",
        }
    }
}

/// How far a report has been checked. Set by the alert workflow.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verification {
    #[default]
    Unverified,
    Verified,
    Unfounded,
}

/// Where: as the reporter named it, the point if given, and the area
/// (admin P-code) it was resolved to.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportPlace {
    pub name: Option<String>,
    pub latitude: Option<f64>,
    pub longitude: Option<f64>,
    pub area_pcode: Option<String>,
}

impl ReportPlace {
    pub fn point(&self) -> Option<(f64, f64)> {
        Some((self.latitude?, self.longitude?))
    }
}

/// A validated community report.
///
/// The contact is sealed and is skipped by `Serialize`: a serialised report
/// (an export, an API answer) never carries it, not even encrypted. Stores
/// read and write it through [`Report::contact`] and [`SealedContact::as_stored`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    pub reference: Reference,
    /// As written, in whatever language.
    pub text: String,
    /// Language the reporter wrote or wants replies in (`en`, `fr`, ...), when known.
    pub language: Option<String>,
    /// Reporter category id (see [`CategoryMap`]).
    pub category: Option<String>,
    pub urgency: Option<Urgency>,
    pub place: ReportPlace,
    /// When it happened, when the reporter said so.
    pub event_time: Option<Timestamp>,
    /// When the system (or the KoBo server) received it.
    pub received_at: Timestamp,
    /// Pseudonymous reporter id (never the contact itself).
    pub reporter_id: Option<String>,
    #[serde(skip)]
    pub contact: Option<SealedContact>,
    pub channel: Channel,
    /// The channel's own id: KoBo `_uuid`, SMS `MessageSid`, a partner's id.
    pub source_id: Option<String>,
    pub verification: Verification,
    /// Dimensions and themes from the category and the text reader.
    pub tags: Tags,
    pub duplicates: Vec<DuplicateLink>,
}

impl Report {
    /// Urgency used for deadlines: the reporter's, or medium when not given.
    pub fn effective_urgency(&self) -> Urgency {
        self.urgency.unwrap_or(Urgency::Medium)
    }

    /// When the report's events took place, or were received if not said.
    pub fn when(&self) -> Timestamp {
        self.event_time.unwrap_or(self.received_at)
    }
}

/// A report as it arrives from a channel, before validation. Every field is
/// optional or raw so that validation can name what is wrong.
#[derive(Debug, Default, Deserialize)]
pub struct ReportDraft {
    pub text: String,
    #[serde(default)]
    pub language: Option<String>,
    #[serde(default)]
    pub category: Option<String>,
    #[serde(default)]
    pub urgency: Option<String>,
    #[serde(default)]
    pub place_name: Option<String>,
    #[serde(default)]
    pub latitude: Option<f64>,
    #[serde(default)]
    pub longitude: Option<f64>,
    #[serde(default)]
    pub area_pcode: Option<String>,
    #[serde(default)]
    pub event_time: Option<String>,
    /// When the channel received it (KoBo `_submission_time`); `now` if absent.
    #[serde(skip)]
    pub received_at: Option<Timestamp>,
    #[serde(default)]
    pub reporter_id: Option<String>,
    /// Phone number, e-mail or other way to reach the reporter. Redacted in `Debug`.
    #[serde(default)]
    pub contact: Option<SecretString>,
    #[serde(default)]
    pub source_id: Option<String>,
}

/// One problem with one field of a draft, in the reporter's terms: a
/// message of the message table (`data/messages.toml`) with its values, so
/// the form can show it in the reporter's language; `message` is the
/// English text (the API's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The draft field (`text`, `latitude`, `event_time`, ...).
    pub field: &'static str,
    /// The message's key in the message table (`invalid.text_empty`, ...).
    pub code: &'static str,
    pub message: String,
    /// The values the message is filled with.
    #[serde(skip)]
    pub values: Vec<(&'static str, String)>,
}

impl FieldError {
    /// The error `code` on `field`, its English message filled with `values`.
    /// The values are made one-line text without control characters
    /// ([`crate::text::clean_line`]): a message quotes what was sent, and
    /// is shown in terminals, pages and files.
    pub fn new(field: &'static str, code: &'static str, values: Vec<(&'static str, String)>) -> FieldError {
        let values = values.into_iter().map(|(k, v)| (k, crate::text::clean_line(&v).into_owned())).collect::<Vec<_>>();
        let mut e = FieldError { field, code, message: String::new(), values };
        e.message = e.message_in(crate::messages::FALLBACK);
        e
    }

    /// The message in `lang` (English when the table has no such language).
    pub fn message_in(&self, lang: &str) -> String {
        let values: Vec<(&str, &str)> = self.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
        crate::messages::Messages::built_in().render(lang, self.code, &values)
    }

    /// The field's name in `lang`, as the form shows it.
    pub fn field_in(&self, lang: &str) -> &'static str {
        crate::messages::Messages::built_in().get(lang, &format!("field.{}", self.field)).unwrap_or(self.field)
    }

    /// `Field: message` in `lang`, naming the field the way the form does.
    pub fn describe_in(&self, lang: &str) -> String {
        crate::messages::Messages::built_in().render(
            lang,
            "form.field_error",
            &[("field", self.field_in(lang)), ("message", &self.message_in(lang))],
        )
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

/// Everything wrong with a draft (all fields are checked, not just the first).
#[derive(Debug, Clone, PartialEq, Error, Serialize)]
pub struct InvalidReport {
    pub errors: Vec<FieldError>,
}

impl fmt::Display for InvalidReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> = self.errors.iter().map(FieldError::to_string).collect();
        write!(f, "the report cannot be accepted: {}", parts.join("; "))
    }
}

impl InvalidReport {
    pub fn has(&self, field: &str) -> bool {
        self.errors.iter().any(|e| e.field == field)
    }
}

/// Limits applied to every incoming report.
#[derive(Debug, Clone, PartialEq)]
pub struct IntakeRules {
    /// Longest text accepted, in characters (1,600 = ten concatenated SMS).
    pub max_text_chars: usize,
    pub max_place_chars: usize,
    /// How far in the future an event time may lie (clock skew between phones and server).
    pub future_tolerance: SignedDuration,
}

impl Default for IntakeRules {
    fn default() -> Self {
        IntakeRules { max_text_chars: 5_000, max_place_chars: 200, future_tolerance: SignedDuration::from_hours(2) }
    }
}

/// Reads text into dimensions and themes. The classifier plugs in here;
/// until then [`NoReader`] adds nothing to what the category gives.
pub trait Reader: Send + Sync {
    fn read(&self, text: &str, language: Option<&str>) -> Tags;
}

/// The reader that reads nothing.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoReader;

impl Reader for NoReader {
    fn read(&self, _text: &str, _language: Option<&str>) -> Tags {
        Tags::default()
    }
}

/// What the loaded areas say about a P-code a channel sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AreaCheck {
    /// A loaded area's P-code, spelt as stored (`cf32` is `CF32`).
    Known(String),
    /// Areas are loaded and none has this P-code.
    Unknown,
    /// No areas are loaded: only the P-code's shape can be checked.
    NoAreas,
}

/// Resolves a point or place name to an area P-code, and checks a P-code
/// given with a report. The spatial crate plugs in here (point in polygon
/// against loaded boundaries).
pub trait AreaResolver: Send + Sync {
    fn resolve(&self, point: Option<(f64, f64)>, place_name: Option<&str>) -> Option<String>;

    /// Whether `pcode` is a loaded area. The default knows no areas.
    fn check(&self, _pcode: &str) -> AreaCheck {
        AreaCheck::NoAreas
    }
}

/// Turns drafts from any channel into validated, sealed reports.
pub struct Intake {
    pub rules: IntakeRules,
    pub categories: CategoryMap,
    key: ContactKey,
    reader: Box<dyn Reader>,
    resolver: Option<Box<dyn AreaResolver>>,
    /// The first symbol of the references drawn here (see [`Reference::random_in`]).
    reference_space: Option<u8>,
}

impl fmt::Debug for Intake {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Intake").field("rules", &self.rules).field("key", &self.key).finish_non_exhaustive()
    }
}

impl Intake {
    pub fn new(key: ContactKey, categories: CategoryMap) -> Intake {
        Intake {
            rules: IntakeRules::default(),
            categories,
            key,
            reader: Box::new(NoReader),
            resolver: None,
            reference_space: None,
        }
    }

    pub fn with_rules(mut self, rules: IntakeRules) -> Intake {
        self.rules = rules;
        self
    }

    pub fn with_reader(mut self, reader: Box<dyn Reader>) -> Intake {
        self.reader = reader;
        self
    }

    pub fn with_resolver(mut self, resolver: Box<dyn AreaResolver>) -> Intake {
        self.resolver = Some(resolver);
        self
    }

    /// Draws references from `space` (a synchronised node's; `None`: anywhere).
    pub fn with_reference_space(mut self, space: Option<u8>) -> Intake {
        self.reference_space = space;
        self
    }

    /// A new reference from this node's space.
    pub fn draw_reference(&self) -> Result<Reference, CryptoError> {
        Reference::random_in(self.reference_space)
    }

    pub fn key(&self) -> &ContactKey {
        &self.key
    }

    /// Validates a draft received through `channel` at `now` and returns the
    /// report with a new random reference and its contact sealed.
    pub fn accept(&self, draft: &ReportDraft, channel: Channel, now: Timestamp) -> Result<Report, InvalidReport> {
        let reference = self.draw_reference().map_err(|e| single("reference", e.to_string()))?;
        self.accept_as(draft, channel, now, reference)
    }

    /// As [`Intake::accept`], with the reference given (for a store that
    /// retries on a reference collision, and for tests).
    pub fn accept_as(
        &self,
        draft: &ReportDraft,
        channel: Channel,
        now: Timestamp,
        reference: Reference,
    ) -> Result<Report, InvalidReport> {
        let mut errors = Vec::new();
        let text = check_text(&draft.text, self.rules.max_text_chars, &mut errors);
        let language = check_language(draft.language.as_deref(), &mut errors);
        let category = self.check_category(draft.category.as_deref(), &mut errors);
        let urgency = check_urgency(draft.urgency.as_deref(), &mut errors);
        let mut place = check_place(draft, self.rules.max_place_chars, &mut errors);
        place.area_pcode = self.check_area(place.area_pcode.take(), &mut errors);
        let event_time = check_event_time(draft.event_time.as_deref(), now, self.rules.future_tolerance, &mut errors);
        let reporter_id = check_reporter_id(draft.reporter_id.as_deref(), &mut errors);
        let contact = draft
            .contact
            .as_ref()
            .map(|c| SecretString::from(text::clean_line(c.expose_secret()).trim().to_string()))
            .filter(|c| !c.expose_secret().is_empty());
        if let Some(c) = &contact
            && c.expose_secret().chars().count() > 200
        {
            errors.push(FieldError::new("contact", "invalid.too_long", vec![("max", "200".into())]));
        }
        let source_id = check_source_id(draft.source_id.as_deref(), &mut errors);
        if !errors.is_empty() {
            return Err(InvalidReport { errors });
        }
        if place.area_pcode.is_none()
            && let Some(resolver) = &self.resolver
        {
            place.area_pcode = resolver.resolve(place.point(), place.name.as_deref());
        }
        let reporter_id = reporter_id.or_else(|| contact.as_ref().map(|c| self.key.pseudonym(c.expose_secret())));
        let sealed = match &contact {
            Some(c) => Some(self.key.seal(c, reference.as_str()).map_err(|e| single("contact", e.to_string()))?),
            None => None,
        };
        let tags = self.tags_for(category.as_deref(), &text, language.as_deref());
        Ok(Report {
            reference,
            text,
            language,
            category,
            urgency,
            place,
            event_time,
            received_at: draft.received_at.unwrap_or(now),
            reporter_id,
            contact: sealed,
            channel,
            source_id,
            verification: Verification::Unverified,
            tags,
            duplicates: Vec::new(),
        })
    }

    /// A P-code sent with the report: one of the loaded areas (as stored),
    /// or, with no areas loaded, of P-code shape ([`text::is_pcode`]);
    /// anything else is refused naming `area_pcode`.
    fn check_area(&self, pcode: Option<String>, errors: &mut Vec<FieldError>) -> Option<String> {
        let pcode = pcode?;
        let check = self.resolver.as_ref().map_or(AreaCheck::NoAreas, |r| r.check(&pcode));
        match check {
            AreaCheck::Known(stored) => Some(stored),
            AreaCheck::Unknown => {
                errors.push(FieldError::new("area_pcode", "invalid.area_unknown", vec![("value", pcode)]));
                None
            }
            AreaCheck::NoAreas if text::is_pcode(&pcode) => Some(pcode),
            AreaCheck::NoAreas => {
                errors.push(FieldError::new(
                    "area_pcode",
                    "invalid.area_pcode",
                    vec![("value", pcode), ("max", text::MAX_PCODE_CHARS.to_string())],
                ));
                None
            }
        }
    }

    fn check_category(&self, raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
        let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
        match self.categories.find(raw) {
            Some(c) => Some(c.id.clone()),
            None => {
                let ids: Vec<&str> = self.categories.ids().collect();
                errors.push(FieldError::new(
                    "category",
                    "invalid.category",
                    vec![("value", raw.to_string()), ("choices", ids.join(", "))],
                ));
                None
            }
        }
    }

    /// Category tags merged with what the reader finds in the text.
    fn tags_for(&self, category: Option<&str>, text: &str, language: Option<&str>) -> Tags {
        let mut tags =
            category.and_then(|c| self.categories.find(c)).map(|c| self.categories.tags(c)).unwrap_or_default();
        let read = self.reader.read(text, language);
        for d in read.dimensions {
            if !tags.dimensions.contains(&d) {
                tags.dimensions.push(d);
            }
        }
        for t in read.themes {
            if !tags.themes.contains(&t) {
                tags.themes.push(t);
            }
        }
        tags.severity = tags.severity.max(read.severity);
        if !read.rule.is_empty() {
            tags.rule = if tags.rule.is_empty() { read.rule } else { format!("{}; {}", tags.rule, read.rule) };
        }
        tags
    }
}

/// A failure that is no fault of the reporter's (no randomness, sealing failed).
fn single(field: &'static str, reason: String) -> InvalidReport {
    InvalidReport { errors: vec![FieldError::new(field, "invalid.internal", vec![("reason", reason)])] }
}

/// The report's text without control characters ([`text::clean_text`]):
/// stripped, so a stray one does not cost the report.
fn check_text(raw: &str, max: usize, errors: &mut Vec<FieldError>) -> String {
    let cleaned = text::clean_text(raw);
    let text = cleaned.trim();
    let n = text.chars().count();
    if n == 0 {
        errors.push(FieldError::new("text", "invalid.text_empty", vec![]));
    } else if n > max {
        errors.push(FieldError::new(
            "text",
            "invalid.text_too_long",
            vec![("n", n.to_string()), ("max", max.to_string())],
        ));
    }
    text.to_string()
}

fn check_language(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let lang = raw.map(|s| s.trim().to_ascii_lowercase()).filter(|s| !s.is_empty())?;
    let base = lang.split(['-', '_']).next().unwrap_or("");
    if (2..=3).contains(&base.len()) && base.bytes().all(|b| b.is_ascii_lowercase()) {
        Some(base.to_string())
    } else {
        errors.push(FieldError::new("language", "invalid.language", vec![("value", lang)]));
        None
    }
}

fn check_urgency(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<Urgency> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    raw.parse()
        .map_err(|_: String| {
            errors.push(FieldError::new("urgency", "invalid.urgency", vec![("value", raw.to_string())]))
        })
        .ok()
}

fn check_place(draft: &ReportDraft, max: usize, errors: &mut Vec<FieldError>) -> ReportPlace {
    let name = draft.place_name.as_deref().map(|n| text::clean_line(n).trim().to_string()).filter(|s| !s.is_empty());
    if let Some(n) = &name
        && n.chars().count() > max
    {
        errors.push(FieldError::new("place_name", "invalid.too_long", vec![("max", max.to_string())]));
    }
    let (mut latitude, mut longitude) = (draft.latitude, draft.longitude);
    match (latitude, longitude) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
                errors.push(FieldError::new("latitude", "invalid.latitude_range", vec![("value", lat.to_string())]));
            }
            if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
                errors.push(FieldError::new("longitude", "invalid.longitude_range", vec![("value", lon.to_string())]));
            }
            if lat == 0.0 && lon == 0.0 {
                errors.push(FieldError::new("latitude", "invalid.zero_point", vec![]));
            }
        }
        (Some(_), None) => {
            errors.push(FieldError::new("longitude", "invalid.longitude_missing", vec![]));
            latitude = None;
        }
        (None, Some(_)) => {
            errors.push(FieldError::new("latitude", "invalid.latitude_missing", vec![]));
            longitude = None;
        }
        (None, None) => {}
    }
    let area_pcode = draft.area_pcode.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string);
    ReportPlace { name, latitude, longitude, area_pcode }
}

fn check_event_time(
    raw: Option<&str>,
    now: Timestamp,
    tolerance: SignedDuration,
    errors: &mut Vec<FieldError>,
) -> Option<Timestamp> {
    let raw = raw.map(str::trim).filter(|s| !s.is_empty())?;
    match parse_time(raw) {
        Ok(t) if t.duration_since(now) > tolerance => {
            errors.push(FieldError::new(
                "event_time",
                "invalid.future",
                vec![("value", raw.to_string()), ("now", now.to_string())],
            ));
            None
        }
        Ok(t) => Some(t),
        Err(_) => {
            errors.push(FieldError::new("event_time", "invalid.time", vec![("value", raw.to_string())]));
            None
        }
    }
}

/// The channel's own id (KoBo `_uuid`, an SMS id, a partner's id): one
/// line without control characters, at most 200 characters.
fn check_source_id(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let id = text::clean_line(raw?).trim().to_string();
    if id.chars().count() > 200 {
        errors.push(FieldError::new("source_id", "invalid.too_long", vec![("max", "200".into())]));
        return None;
    }
    Some(id).filter(|s| !s.is_empty())
}

fn check_reporter_id(raw: Option<&str>, errors: &mut Vec<FieldError>) -> Option<String> {
    let id = raw.map(str::trim).filter(|s| !s.is_empty())?;
    let ok = id.len() <= 64 && id.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'));
    if ok {
        Some(id.to_string())
    } else {
        errors.push(FieldError::new("reporter_id", "invalid.reporter_id", vec![]));
        None
    }
}

/// Parses an event or receipt time: RFC 3339 with an offset
/// (`2021-07-05T10:58:34.147+03:00`), a local date-time without offset read
/// as UTC (`2021-07-05T09:34:15`, `2021-07-05 09:34`, as KoBo's
/// `_submission_time` is written), or a date alone (midnight UTC) in any
/// spelling `parse_date` reads.
pub fn parse_time(raw: &str) -> Result<Timestamp, String> {
    let s = raw.trim();
    if let Ok(t) = s.parse::<Timestamp>() {
        return Ok(t);
    }
    if let Ok(dt) = s.parse::<jiff::civil::DateTime>() {
        return jiff::tz::TimeZone::UTC.to_timestamp(dt).map_err(|e| e.to_string());
    }
    let date = vitalcore_framework::parse_date(s).map_err(|_| {
        format!("`{s}` is not a time this program reads: write 2024-05-01T14:30:00+01:00, 2024-05-01 14:30 (UTC) or 2024-05-01")
    })?;
    jiff::tz::TimeZone::UTC.to_timestamp(date.at(0, 0, 0, 0)).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_drawn_in_a_space_start_with_its_symbol() {
        for space in [0u8, 1, 7, 31] {
            for _ in 0..50 {
                let r = Reference::random_in(Some(space)).unwrap();
                assert_eq!(r.space(), space, "{r}");
                assert_eq!(r.as_str().parse::<Reference>().unwrap(), r);
            }
        }
        assert_eq!(Reference::from_number(0).space(), 0);
        assert_eq!(Reference::from_number((1 << 30) - 1).space(), 31);
    }

    #[test]
    fn reference_round_trips_and_catches_typos() {
        for n in [0u32, 1, 12345, (1 << 30) - 1] {
            let r = Reference::from_number(n);
            assert_eq!(r.as_str().len(), "VC-7K3Q-9MX".len());
            assert_eq!(r.as_str().parse::<Reference>().unwrap(), r);
            assert_eq!(r.as_str().to_lowercase().replace('-', " ").parse::<Reference>().unwrap(), r);
        }
        let r = Reference::from_number(0x2ABCDEF);
        let s = r.as_str().to_string();
        // change one symbol: the check symbol no longer matches
        let mut wrong: Vec<char> = s.chars().collect();
        wrong[4] = if wrong[4] == 'A' { 'B' } else { 'A' };
        assert!(wrong.iter().collect::<String>().parse::<Reference>().is_err());
        // swap two neighbours (when they differ)
        let mut swapped: Vec<char> = s.chars().collect();
        if swapped[3] != swapped[4] {
            swapped.swap(3, 4);
            assert!(swapped.iter().collect::<String>().parse::<Reference>().is_err());
        }
    }

    #[test]
    fn o_and_i_read_as_digits() {
        let r = Reference::from_number(0); // VC-0000-00?
        let typed = r.as_str().replace('0', "O");
        assert_eq!(typed.parse::<Reference>().unwrap(), r);
    }

    #[test]
    fn crockford_encodes_known_value() {
        // 0xFF -> 11111 111(00) -> Z, W
        assert_eq!(crockford(&[0xFF]), "ZW");
    }

    #[test]
    fn times_in_kobo_and_iso_spellings() {
        let a = parse_time("2021-07-05T10:58:34.147+03:00").unwrap();
        assert_eq!(a.to_string(), "2021-07-05T07:58:34.147Z");
        assert_eq!(parse_time("2021-07-05T09:34:15").unwrap().to_string(), "2021-07-05T09:34:15Z");
        assert_eq!(parse_time("2021-07-05").unwrap().to_string(), "2021-07-05T00:00:00Z");
        assert!(parse_time("yesterday").is_err());
    }
}
