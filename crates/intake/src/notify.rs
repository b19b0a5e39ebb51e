//! Telling duty officers at once: what a notification is, who is on call,
//! and the messages each channel carries (no I/O; the worker that sends is
//! `vitalcore_app::notify`).
//!
//! A [`NotificationDraft`] is queued in the same transaction as what causes
//! it (a new alert at or above the configured urgency), or, for what is
//! derived from stored state (an overdue alert's escalation, an early
//! warning), under a dedup key that makes queueing it again a no-op. The
//! worker expands each notification into [`Delivery`] rows, one per channel
//! and recipient (unique, so never twice), and sends them with retries.
//!
//! **Do no harm.** Every message built here carries the reference, the
//! area, the urgency, the category, the time and a link, and nothing else:
//! never the reporter's contact and never the report's text. Staff open the
//! link, which checks their role. The types hold no field for either, so no
//! caller can put them in.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

use crate::report::{Reference, Urgency};

/// What happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum NotifyKind {
    /// A new alert at or above the configured urgency.
    AlertNew,
    /// An alert's deadline passed (the escalation level rose): the supervisor is told.
    AlertEscalated,
    /// An early warning was raised for an area.
    WarningRaised,
    /// Applying a field-office sync batch kept a conflict on an alert (two
    /// offices acted on it while apart): analysts and supervisors are told.
    SyncConflict,
    /// `vitalcore notify test`: a message that says it is a test.
    Test,
}

impl NotifyKind {
    pub const ALL: [NotifyKind; 5] = [
        NotifyKind::AlertNew,
        NotifyKind::AlertEscalated,
        NotifyKind::WarningRaised,
        NotifyKind::SyncConflict,
        NotifyKind::Test,
    ];

    /// As the webhook's `kind` field writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            NotifyKind::AlertNew => "alert.new",
            NotifyKind::AlertEscalated => "alert.escalated",
            NotifyKind::WarningRaised => "warning.raised",
            NotifyKind::SyncConflict => "sync.conflict",
            NotifyKind::Test => "test",
        }
    }

    pub fn parse(s: &str) -> Option<NotifyKind> {
        NotifyKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// Who on the rota is told: responders of new alerts and warnings, the
    /// supervisor of an escalation, analysts and supervisors of a sync
    /// conflict (someone has to decide which office's steps stand).
    pub fn duty_roles(self) -> &'static [DutyRole] {
        match self {
            NotifyKind::AlertEscalated => &[DutyRole::Supervisor],
            NotifyKind::SyncConflict => &[DutyRole::Analyst, DutyRole::Supervisor],
            _ => &[DutyRole::Responder],
        }
    }
}

impl fmt::Display for NotifyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role on the on-call rota.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum DutyRole {
    Responder,
    Analyst,
    Supervisor,
}

impl DutyRole {
    pub const ALL: [DutyRole; 3] = [DutyRole::Responder, DutyRole::Analyst, DutyRole::Supervisor];

    pub fn as_str(self) -> &'static str {
        match self {
            DutyRole::Responder => "responder",
            DutyRole::Analyst => "analyst",
            DutyRole::Supervisor => "supervisor",
        }
    }
}

impl fmt::Display for DutyRole {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for DutyRole {
    type Err = String;
    fn from_str(s: &str) -> Result<DutyRole, String> {
        let s = s.trim().to_ascii_lowercase();
        DutyRole::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| format!("`{s}` is not a duty role; known: responder, analyst, supervisor"))
    }
}

/// A channel a delivery goes through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ChannelKind {
    /// A signed HTTP POST to a configured URL (`[[notify.webhook]]`).
    Webhook,
    /// An SMS to the staff member's registered phone, through the SMS gateway.
    Sms,
    /// An e-mail to the staff member's registered address, through SMTP.
    Email,
}

impl ChannelKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChannelKind::Webhook => "webhook",
            ChannelKind::Sms => "sms",
            ChannelKind::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<ChannelKind> {
        [ChannelKind::Webhook, ChannelKind::Sms, ChannelKind::Email].into_iter().find(|c| c.as_str() == s)
    }
}

impl fmt::Display for ChannelKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A notification to queue. The store assigns the id; a second draft with
/// the same `dedup_key` is ignored (already queued).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotificationDraft {
    /// `alert.new:VC-7K3Q-9MX`, `alert.escalated:VC-7K3Q-9MX:2`, `warning.raised:17`, `test:<time>:<channel>`.
    pub dedup_key: String,
    pub kind: NotifyKind,
    /// The alert's reference, or `warning-<id>` for an early warning.
    pub reference: String,
    pub area_pcode: Option<String>,
    pub urgency: Option<Urgency>,
    pub category: Option<String>,
    /// Escalation level (0 for anything but an escalation).
    pub level: u8,
    /// When what it tells happened (the report received, the deadline passed).
    pub at: Timestamp,
    pub queued_at: Timestamp,
    /// Only this configured channel (`vitalcore notify test --channel NAME`); else every channel that applies.
    pub only_channel: Option<String>,
}

impl NotificationDraft {
    /// A new alert.
    pub fn alert_new(
        reference: &Reference,
        area: Option<&str>,
        urgency: Urgency,
        category: Option<&str>,
        at: Timestamp,
    ) -> Self {
        NotificationDraft {
            dedup_key: format!("alert.new:{reference}"),
            kind: NotifyKind::AlertNew,
            reference: reference.to_string(),
            area_pcode: area.map(str::to_string),
            urgency: Some(urgency),
            category: category.map(str::to_string),
            level: 0,
            at,
            queued_at: at,
            only_channel: None,
        }
    }

    /// A conflict kept on alert `reference` while applying a sync batch
    /// (`conflict_key` names the conflict: one notification each).
    pub fn sync_conflict(
        reference: &Reference,
        area: Option<&str>,
        urgency: Option<Urgency>,
        category: Option<&str>,
        conflict_key: &str,
        at: Timestamp,
    ) -> Self {
        NotificationDraft {
            dedup_key: format!("sync.conflict:{reference}:{conflict_key}"),
            kind: NotifyKind::SyncConflict,
            reference: reference.to_string(),
            area_pcode: area.map(str::to_string),
            urgency,
            category: category.map(str::to_string),
            level: 0,
            at,
            queued_at: at,
            only_channel: None,
        }
    }

    /// An alert escalated to `level` (its deadline passed at `due`).
    pub fn alert_escalated(
        reference: &Reference,
        area: Option<&str>,
        urgency: Urgency,
        category: Option<&str>,
        level: u8,
        due: Timestamp,
        now: Timestamp,
    ) -> Self {
        NotificationDraft {
            dedup_key: format!("alert.escalated:{reference}:{level}"),
            kind: NotifyKind::AlertEscalated,
            level,
            queued_at: now,
            ..NotificationDraft::alert_new(reference, area, urgency, category, due)
        }
    }
}

/// A queued notification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notification {
    pub id: i64,
    pub draft: NotificationDraft,
    /// Whether the worker has written its deliveries.
    pub expanded: bool,
}

/// Where a delivery stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum DeliveryStatus {
    /// Waiting for its (next) attempt.
    Queued,
    /// An attempt was recorded and is under way (or was cut short: it is
    /// tried again when its claim runs out).
    Sending,
    Sent,
    /// Given up (the last reason in the history says why).
    Failed,
}

impl DeliveryStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryStatus::Queued => "queued",
            DeliveryStatus::Sending => "sending",
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Failed => "failed",
        }
    }

    pub fn parse(s: &str) -> Option<DeliveryStatus> {
        [DeliveryStatus::Queued, DeliveryStatus::Sending, DeliveryStatus::Sent, DeliveryStatus::Failed]
            .into_iter()
            .find(|d| d.as_str() == s)
    }
}

impl fmt::Display for DeliveryStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of a delivery's history: `queued`, `attempt` (recorded before
/// each send), `sent` (the receiver's id), `retry` (a failed attempt and
/// why; tried again later), `failed` (given up, and why).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryEvent {
    pub seq: u32,
    pub what: String,
    pub at: Timestamp,
    pub detail: Option<String>,
}

/// One recipient of one notification through one channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Delivery {
    pub id: i64,
    pub notification_id: i64,
    pub channel: ChannelKind,
    /// The webhook's name, or the staff member's user id (SMS, e-mail).
    pub target: String,
    pub status: DeliveryStatus,
    pub attempts: u32,
    pub next_attempt_at: Timestamp,
    pub history: Vec<DeliveryEvent>,
}

impl Delivery {
    /// The key a receiver can drop repeats by (`Idempotency-Key` header, the
    /// e-mail's Message-ID): the same for every attempt of this delivery.
    pub fn idempotency_key(&self) -> String {
        format!("vitalcore-notify-{}", self.id)
    }
}

/// Who to tell through which channel, as the worker works it out.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeliveryDraft {
    pub channel: ChannelKind,
    pub target: String,
}

/// How an attempt ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttemptOutcome {
    /// Accepted; the receiver's id or answer.
    Sent(String),
    /// Failed; tried again at `next_at`.
    Retry { reason: String, next_at: Timestamp },
    /// Failed for good.
    Failed(String),
}

/// Waits between attempts: 2, 4, 8 ... seconds, at most 10 minutes.
pub fn backoff(attempts: u32) -> jiff::SignedDuration {
    let secs = 2u64.saturating_pow(attempts.clamp(1, 20)).min(600);
    jiff::SignedDuration::from_secs(secs as i64)
}

/// One entry of the on-call rota: `user_id` is on call as `role` for
/// `area_pcode` (`*` for every area) from `from` until `to`. A fallback
/// entry is used only when nobody is on call for the area and role at that
/// time (its window may be open-ended).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RotaEntry {
    pub id: i64,
    pub area_pcode: String,
    pub role: DutyRole,
    pub user_id: String,
    pub from: Timestamp,
    pub to: Option<Timestamp>,
    pub fallback: bool,
    pub set_by: String,
    pub set_at: Timestamp,
}

impl RotaEntry {
    pub fn covers(&self, area: Option<&str>, role: DutyRole, at: Timestamp) -> bool {
        let area_ok = self.area_pcode == "*" || area.is_some_and(|a| a.eq_ignore_ascii_case(&self.area_pcode));
        area_ok && self.role == role && self.from <= at && self.to.is_none_or(|to| at < to)
    }
}

/// Who is on call for `area` as `role` at `at`: the entries for the area
/// itself, else for every area (`*`); fallbacks only when no regular entry
/// covers it. User ids, each once, in rota order.
pub fn on_call(rota: &[RotaEntry], area: Option<&str>, role: DutyRole, at: Timestamp) -> Vec<String> {
    let pick = |fallback: bool, any_area: bool| -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for e in rota.iter().filter(|e| e.fallback == fallback && (e.area_pcode == "*") == any_area) {
            if e.covers(area, role, at) && !out.contains(&e.user_id) {
                out.push(e.user_id.clone());
            }
        }
        out
    };
    for (fallback, any_area) in [(false, false), (false, true), (true, false), (true, true)] {
        let found = pick(fallback, any_area);
        if !found.is_empty() {
            return found;
        }
    }
    Vec::new()
}

/// A staff member's work phone and e-mail, where they are told.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct StaffContact {
    pub user_id: String,
    /// International form (`+23672000001`).
    pub phone: Option<String>,
    pub email: Option<String>,
}

/// The link staff open (the page checks their role): the alert's row on
/// the alerts page, `<base>/alerts#<reference>`, or the warning's,
/// `<base>/alerts#warning-<id>` (the page has no other address per alert).
pub fn link(base_url: &str, n: &NotificationDraft) -> String {
    let base = base_url.trim_end_matches('/');
    match n.kind {
        NotifyKind::Test => format!("{base}/alerts"),
        _ => format!("{base}/alerts#{}", n.reference),
    }
}

/// The webhook body, exactly the fields of the issue in this order:
/// `{"kind","reference","area_pcode","urgency","category","at","link"}`.
pub fn webhook_body(n: &NotificationDraft, base_url: &str) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        kind: &'a str,
        reference: &'a str,
        area_pcode: Option<&'a str>,
        urgency: Option<&'a str>,
        category: Option<&'a str>,
        at: String,
        link: String,
    }
    let body = Body {
        kind: n.kind.as_str(),
        reference: &n.reference,
        area_pcode: n.area_pcode.as_deref(),
        urgency: n.urgency.map(Urgency::as_str),
        category: n.category.as_deref(),
        at: n.at.to_string(),
        link: link(base_url, n),
    };
    serde_json::to_string(&body).unwrap_or_default()
}

/// One line saying what happened, for an SMS or an e-mail subject.
pub fn headline(n: &NotificationDraft) -> String {
    let area = n.area_pcode.as_deref().unwrap_or("area unknown");
    let urgency = n.urgency.map(Urgency::as_str).unwrap_or("-");
    let category = n.category.as_deref().unwrap_or("-");
    match n.kind {
        NotifyKind::AlertNew => format!("vitalcore: new {urgency} alert {} in {area} ({category})", n.reference),
        NotifyKind::AlertEscalated => format!(
            "vitalcore: alert {} in {area} ({urgency}, {category}) is overdue, escalation level {}",
            n.reference, n.level
        ),
        NotifyKind::WarningRaised => format!("vitalcore: early warning {} raised for {area}", n.reference),
        NotifyKind::SyncConflict => format!(
            "vitalcore: alert {} in {area} ({urgency}, {category}) was acted on by two offices while apart; check its steps",
            n.reference
        ),
        NotifyKind::Test => "vitalcore: test notification, nothing happened".to_string(),
    }
}

/// The SMS to a staff member: the headline, the link, and how to acknowledge.
pub fn sms_text(n: &NotificationDraft, base_url: &str) -> String {
    let ack = match n.kind {
        NotifyKind::AlertNew | NotifyKind::AlertEscalated => format!(" Reply ACK {} to acknowledge.", n.reference),
        _ => String::new(),
    };
    format!("{} {}{ack}", headline(n), link(base_url, n))
}

/// The e-mail to a staff member: (subject, plain-text body).
pub fn email_text(n: &NotificationDraft, base_url: &str) -> (String, String) {
    let mut body = String::new();
    body.push_str(&format!("{}\n\n", headline(n)));
    body.push_str(&format!("kind:      {}\n", n.kind));
    body.push_str(&format!("reference: {}\n", n.reference));
    body.push_str(&format!("area:      {}\n", n.area_pcode.as_deref().unwrap_or("-")));
    body.push_str(&format!("urgency:   {}\n", n.urgency.map(Urgency::as_str).unwrap_or("-")));
    body.push_str(&format!("category:  {}\n", n.category.as_deref().unwrap_or("-")));
    body.push_str(&format!("at:        {}\n\n", n.at));
    body.push_str(&format!("Open it (sign-in required): {}\n", link(base_url, n)));
    body.push_str("\nThis message never carries the report's text or the reporter's contact.\n");
    (headline(n), body)
}

/// `ACK VC-7K3Q-9MX` (any case, spaces around) as sent by a staff member:
/// the reference it acknowledges.
pub fn parse_ack(body: &str) -> Option<Reference> {
    let mut words = body.split_whitespace();
    let first = words.next()?;
    if !first.eq_ignore_ascii_case("ack") {
        return None;
    }
    let reference = words.next()?.parse::<Reference>().ok()?;
    words.next().is_none().then_some(reference)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn entry(area: &str, role: DutyRole, user: &str, from: &str, to: Option<&str>, fallback: bool) -> RotaEntry {
        RotaEntry {
            id: 0,
            area_pcode: area.into(),
            role,
            user_id: user.into(),
            from: ts(from),
            to: to.map(ts),
            fallback,
            set_by: "admin".into(),
            set_at: ts("2026-12-01T00:00:00Z"),
        }
    }

    #[test]
    fn on_call_prefers_the_area_then_every_area_then_fallbacks() {
        let rota = vec![
            entry("CF32", DutyRole::Responder, "amina", "2026-12-08T08:00:00Z", Some("2026-12-08T20:00:00Z"), false),
            entry("*", DutyRole::Responder, "joseph", "2026-12-08T00:00:00Z", Some("2026-12-09T00:00:00Z"), false),
            entry("CF32", DutyRole::Responder, "fallback", "2026-01-01T00:00:00Z", None, true),
            entry("*", DutyRole::Supervisor, "sup", "2026-01-01T00:00:00Z", None, true),
        ];
        let r = DutyRole::Responder;
        assert_eq!(on_call(&rota, Some("cf32"), r, ts("2026-12-08T09:00:00Z")), ["amina"]);
        assert_eq!(on_call(&rota, Some("CF32"), r, ts("2026-12-08T21:00:00Z")), ["joseph"]);
        assert_eq!(on_call(&rota, Some("CF32"), r, ts("2026-12-09T01:00:00Z")), ["fallback"]);
        assert_eq!(on_call(&rota, Some("CF11"), r, ts("2026-12-09T01:00:00Z")), Vec::<String>::new());
        assert_eq!(on_call(&rota, None, DutyRole::Supervisor, ts("2026-12-09T01:00:00Z")), ["sup"]);
        // The window's end is not in it.
        assert_eq!(on_call(&rota, Some("CF32"), r, ts("2026-12-08T20:00:00Z")), ["joseph"]);
    }

    fn draft() -> NotificationDraft {
        NotificationDraft::alert_new(
            &Reference::from_number(12345),
            Some("CF32"),
            Urgency::Critical,
            Some("armed_attack"),
            ts("2026-12-08T09:00:00Z"),
        )
    }

    #[test]
    fn webhook_body_has_exactly_the_issue_fields_in_order() {
        let d = draft();
        let body = webhook_body(&d, "https://alerts.example.org/");
        let r = Reference::from_number(12345);
        assert_eq!(
            body,
            format!(
                r#"{{"kind":"alert.new","reference":"{r}","area_pcode":"CF32","urgency":"critical","category":"armed_attack","at":"2026-12-08T09:00:00Z","link":"https://alerts.example.org/alerts#{r}"}}"#
            )
        );
    }

    #[test]
    fn texts_name_reference_area_urgency_and_link_only() {
        let d = draft();
        let sms = sms_text(&d, "https://a.example.org");
        assert!(sms.contains("critical") && sms.contains("CF32") && sms.contains(&d.reference), "{sms}");
        assert!(sms.contains(&format!("ACK {}", d.reference)), "{sms}");
        let (subject, body) = email_text(&d, "https://a.example.org");
        assert!(subject.contains(&d.reference));
        assert!(body.contains(&format!("https://a.example.org/alerts#{}", d.reference)), "{body}");
    }

    #[test]
    fn ack_is_the_word_and_one_reference() {
        let r = Reference::from_number(12345);
        assert_eq!(parse_ack(&format!(" ack {} ", r.as_str().to_lowercase())), Some(r.clone()));
        assert_eq!(parse_ack(&format!("ACK {r}")), Some(r.clone()));
        assert_eq!(parse_ack(&format!("ACK {r} please")), None);
        assert_eq!(parse_ack("ACK"), None);
        assert_eq!(parse_ack(&format!("armed men ACK {r}")), None);
    }

    #[test]
    fn backoff_doubles_up_to_ten_minutes() {
        assert_eq!(backoff(1).as_secs(), 2);
        assert_eq!(backoff(3).as_secs(), 8);
        assert_eq!(backoff(30).as_secs(), 600);
    }
}
