//! Telling duty officers at once (issue 17): who is on call, what triggers
//! a notification, and the worker that sends them.
//!
//! - **Triggers.** A new alert at or above the lowest configured urgency is
//!   queued with its report, in the report's own transaction
//!   ([`alert_notifications`], called by `Reports::submit`). An overdue
//!   alert (its escalation level rose) and an early warning are derived
//!   from stored state by [`Notifier::scan`]; their dedup keys
//!   (`alert.escalated:<ref>:<level>`, `warning.raised:<id>`) make a second
//!   scan, or a restart, queue nothing new.
//! - **Who.** Webhooks by their urgency and areas; staff by the rota
//!   ([`vitalcore_intake::notify::on_call`]: the area, then every area, then
//!   fallbacks), each through SMS and e-mail when they registered a phone or
//!   an address. New alerts and warnings go to the responder on call, an
//!   escalation to the supervisor.
//! - **Delivery.** The worker expands each notification into deliveries
//!   (unique per channel and recipient), claims due ones in a transaction
//!   that records the attempt before anything is sent, sends, and records
//!   the outcome; failures are retried with backoff (2 s doubling to 10
//!   min, [`MAX_ATTEMPTS`]). A restart loses nothing (all of it is in the
//!   database) and sends nothing twice, except an attempt cut short after
//!   the receiver took it and before the outcome was written: it is tried
//!   again once its claim runs out ([`LEASE`]), with the same idempotency key
//!   (`Idempotency-Key` header, the e-mail's Message-ID) so that the
//!   receiver can drop it.
//! - **Do no harm.** Messages are built in `vitalcore_intake::notify` from
//!   the reference, area, urgency, category, time and a link only; the
//!   report's text and the reporter's contact are never read here.

pub mod channels;
pub mod config;

use jiff::{SignedDuration, Timestamp};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;
use thiserror::Error;
use vitalcore_intake::Report;
use vitalcore_intake::notify::{
    AttemptOutcome, ChannelKind, Delivery, DeliveryDraft, Notification, NotificationDraft, NotifyKind, on_call,
};
use vitalcore_intake::workflow::{AlertState, Deadlines};
use vitalcore_store::StoreError;
use vitalcore_store::forecasts::{ForecastStore, WarningFilter, WarningStatus};
use vitalcore_store::reports::{ReportFilter, ReportStore};

pub use channels::{Channels, SendError};
pub use config::NotifyConfig;

/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: u32 = 8;
/// How long a claimed delivery is someone's: an attempt cut short (the
/// process killed) is tried again after this.
pub const LEASE: SignedDuration = SignedDuration::from_secs(60);
/// How far back the escalation scan looks for open alerts.
pub const SCAN_WINDOW: SignedDuration = SignedDuration::from_hours(7 * 24);
/// Each received-time window of an incremental escalation scan is widened
/// by this on both sides (the thresholds are fractions of deadlines,
/// rounded): an alert read twice is queued once (its dedup key).
const WINDOW_MARGIN: SignedDuration = SignedDuration::from_secs(2);

#[derive(Debug, Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Channel(String),
    /// A field of a request is wrong (the text names it).
    #[error("{0}")]
    Invalid(String),
    /// The caller may not do this (not an administrator).
    #[error("{0}")]
    Denied(String),
}

/// What a new alert queues: one `alert.new` when its urgency is at or
/// above `lowest` (the lowest urgency any channel takes).
pub fn alert_notifications(report: &Report, lowest: vitalcore_intake::Urgency) -> Vec<NotificationDraft> {
    let urgency = report.effective_urgency();
    if urgency < lowest {
        return Vec::new();
    }
    vec![NotificationDraft::alert_new(
        &report.reference,
        report.place.area_pcode.as_deref(),
        urgency,
        report.category.as_deref(),
        report.received_at,
    )]
}

/// Wakes the worker when something was queued, so that it does not wait
/// for its next round.
#[derive(Default)]
pub struct Wake {
    pending: Mutex<bool>,
    cv: Condvar,
}

impl Wake {
    pub fn wake(&self) {
        *self.pending.lock().unwrap_or_else(|p| p.into_inner()) = true;
        self.cv.notify_all();
    }

    /// Waits until woken or `timeout` passed.
    fn wait(&self, timeout: Duration) {
        let guard = self.pending.lock().unwrap_or_else(|p| p.into_inner());
        let (mut guard, _) =
            self.cv.wait_timeout_while(guard, timeout, |pending| !*pending).unwrap_or_else(|p| p.into_inner());
        *guard = false;
    }
}

/// What one round of the worker did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Round {
    pub expanded: usize,
    pub sent: usize,
    pub retried: usize,
    pub failed: usize,
}

/// The worker: expands notifications, sends deliveries, scans for
/// escalations and warnings.
pub struct Notifier {
    pub store: Arc<dyn ReportStore>,
    pub forecasts: Option<Arc<dyn ForecastStore>>,
    pub config: Arc<NotifyConfig>,
    pub channels: Channels,
    pub deadlines: Deadlines,
    pub wake: Arc<Wake>,
    /// When the escalation scan last ran (in this process): the next reads
    /// only the alerts whose escalation level can have risen since.
    last_escalation_scan: Mutex<Option<Timestamp>>,
}

impl Notifier {
    pub fn new(store: Arc<dyn ReportStore>, config: Arc<NotifyConfig>, channels: Channels) -> Notifier {
        Notifier {
            store,
            forecasts: None,
            config,
            channels,
            deadlines: Deadlines::built_in(),
            wake: Arc::new(Wake::default()),
            last_escalation_scan: Mutex::new(None),
        }
    }

    /// Who a notification goes to, through which channels.
    pub fn targets(&self, n: &Notification) -> Result<Vec<DeliveryDraft>, NotifyError> {
        let d = &n.draft;
        let mut out = Vec::new();
        if let Some(only) = &d.only_channel {
            let (channel, target) = only.split_once(':').unwrap_or((only.as_str(), ""));
            if let Some(kind) = ChannelKind::parse(channel) {
                out.push(DeliveryDraft { channel: kind, target: target.to_string() });
            }
            return Ok(out);
        }
        for w in &self.config.webhooks {
            if w.wants(d.area_pcode.as_deref(), d.urgency) {
                out.push(DeliveryDraft { channel: ChannelKind::Webhook, target: w.name.clone() });
            }
        }
        let staff_wanted = d.kind != NotifyKind::AlertNew || d.urgency.is_none_or(|u| u >= self.config.min_urgency);
        if staff_wanted && (self.config.sms.is_some() || self.config.email.is_some()) {
            let rota = self.store.rota()?;
            let mut told: Vec<String> = Vec::new();
            for &role in d.kind.duty_roles() {
                for user in on_call(&rota, d.area_pcode.as_deref(), role, d.queued_at) {
                    if !told.contains(&user) {
                        told.push(user);
                    }
                }
            }
            for user in told {
                let Some(contact) = self.store.staff_contact(&user)? else { continue };
                if self.config.sms.is_some() && contact.phone.is_some() {
                    out.push(DeliveryDraft { channel: ChannelKind::Sms, target: user.clone() });
                }
                if self.config.email.is_some() && contact.email.is_some() {
                    out.push(DeliveryDraft { channel: ChannelKind::Email, target: user.clone() });
                }
            }
        }
        Ok(out)
    }

    /// One round: expand what is pending, then send what is due.
    pub fn run_once(&self, now: Timestamp) -> Result<Round, NotifyError> {
        let mut round = Round::default();
        // Each batch in one transaction: under load one durable commit
        // serves many notifications, not one each.
        loop {
            let pending = self.store.pending_notifications(200)?;
            if pending.is_empty() {
                break;
            }
            let mut batch = Vec::with_capacity(pending.len());
            for n in &pending {
                batch.push((n.id, self.targets(n)?));
            }
            self.store.expand_notifications(&batch, now)?;
            round.expanded += batch.len();
        }
        // One clock for the round (claims, retry times, history): the
        // caller's `now`. What falls due during the round waits for the next.
        loop {
            let lease = now.checked_add(LEASE).unwrap_or(now);
            let claimed = self.store.claim_deliveries(now, lease, 64)?;
            if claimed.is_empty() {
                break;
            }
            // Sent at once, each; their outcomes written together (an
            // outcome lost to a crash means one more attempt after the lease).
            let mut outcomes = Vec::with_capacity(claimed.len());
            for (delivery, n) in claimed {
                let outcome = self.attempt(&delivery, &n, now);
                match &outcome {
                    AttemptOutcome::Sent(_) => round.sent += 1,
                    AttemptOutcome::Retry { .. } => round.retried += 1,
                    AttemptOutcome::Failed(_) => round.failed += 1,
                }
                outcomes.push((delivery.id, outcome));
            }
            self.store.finish_deliveries(&outcomes, now)?;
        }
        Ok(round)
    }

    fn attempt(&self, delivery: &Delivery, n: &Notification, now: Timestamp) -> AttemptOutcome {
        let contact = match delivery.channel {
            ChannelKind::Webhook => None,
            _ => match self.store.staff_contact(&delivery.target) {
                Ok(c) => c,
                Err(e) => return retry(delivery, format!("cannot read the staff contact: {e}"), now),
            },
        };
        match self.channels.send(delivery, &n.draft, contact.as_ref()) {
            Ok(id) => AttemptOutcome::Sent(id),
            Err(SendError::Permanent(reason)) => AttemptOutcome::Failed(reason),
            Err(SendError::Retry(reason)) => retry(delivery, reason, now),
        }
    }

    /// Queues escalations of overdue alerts (the supervisor is told once
    /// per level) and raised early warnings; returns how many were new.
    pub fn scan(&self, now: Timestamp) -> Result<usize, NotifyError> {
        let mut drafts = Vec::new();
        if self.config.escalations {
            let last = *self.last_escalation_scan.lock().unwrap_or_else(|p| p.into_inner());
            for report in self.escalation_candidates(last, now)? {
                let alert = crate::access::load_alert(&*self.store, &report)
                    .map_err(|e| NotifyError::Channel(e.to_string()))?;
                if matches!(alert.state(), AlertState::Closed) {
                    continue;
                }
                if let Some(overdue) = alert.overdue(&self.deadlines, now)
                    && overdue.level > 0
                {
                    drafts.push(NotificationDraft::alert_escalated(
                        &report.reference,
                        report.place.area_pcode.as_deref(),
                        report.effective_urgency(),
                        report.category.as_deref(),
                        overdue.level,
                        overdue.due,
                        now,
                    ));
                }
            }
        }
        if self.config.warnings
            && let Some(forecasts) = &self.forecasts
        {
            let filter = WarningFilter { status: Some(WarningStatus::New), open_only: true, unit: None };
            for w in forecasts.warnings(&filter)? {
                let at: Timestamp = w.created.parse().unwrap_or(now);
                if now.duration_since(at) > SCAN_WINDOW {
                    continue;
                }
                drafts.push(NotificationDraft {
                    dedup_key: format!("warning.raised:{}", w.id),
                    kind: NotifyKind::WarningRaised,
                    reference: format!("warning-{}", w.id),
                    area_pcode: Some(w.unit.clone()),
                    urgency: None,
                    category: Some(w.kind.as_str().to_string()),
                    level: 0,
                    at,
                    queued_at: now,
                    only_channel: None,
                });
            }
        }
        let queued = if drafts.is_empty() { 0 } else { self.store.queue_notifications(&drafts)?.len() };
        if self.config.escalations {
            // Only once what this scan found is queued: a failed scan is redone whole.
            *self.last_escalation_scan.lock().unwrap_or_else(|p| p.into_inner()) = Some(now);
        }
        Ok(queued)
    }

    /// The alerts whose escalation level can have risen after `last` (the
    /// previous scan) and by `now`. A level rises when the lateness passes
    /// a threshold, at `received + deadline x (1 + threshold)`: for each
    /// urgency, deadline and threshold, the alerts received in one window
    /// (as long as the time between scans, a minute) crossed it since. The
    /// first scan of a process (or one after a long pause) reads every
    /// alert of the last [`SCAN_WINDOW`], as each scan did before.
    pub fn escalation_candidates(&self, last: Option<Timestamp>, now: Timestamp) -> Result<Vec<Report>, NotifyError> {
        let window_start = now.checked_sub(SCAN_WINDOW).unwrap_or(now);
        let Some(last) = last.filter(|l| *l > window_start && *l <= now) else {
            let filter = ReportFilter { received_from: Some(window_start), ..ReportFilter::default() };
            return Ok(self.store.reports(&filter)?);
        };
        let mut windows = Vec::new();
        for urgency in vitalcore_intake::Urgency::ALL {
            let rule = self.deadlines.for_urgency(urgency);
            for limit in [rule.acknowledge, rule.respond] {
                for threshold in self.deadlines.escalation_thresholds() {
                    let crossing = SignedDuration::from_secs_f64(limit.as_secs_f64() * (1.0 + threshold));
                    let from = last.checked_sub(crossing + WINDOW_MARGIN).unwrap_or(last);
                    let until = now.checked_sub(crossing).unwrap_or(now).checked_add(WINDOW_MARGIN).unwrap_or(now);
                    if until > window_start {
                        windows.push((from.max(window_start), until));
                    }
                }
            }
        }
        let mut reports = Vec::new();
        for (from, until) in merge_windows(windows) {
            let filter =
                ReportFilter { received_from: Some(from), received_until: Some(until), ..ReportFilter::default() };
            reports.extend(self.store.reports(&filter)?);
        }
        Ok(reports)
    }

    /// Runs the worker on a thread of its own until `stop` is set: a round
    /// when woken or every `poll`, a scan every `scan_every`. Errors are
    /// handed to `log` and the worker goes on.
    pub fn spawn(
        self: Arc<Self>,
        poll: Duration,
        scan_every: Duration,
        stop: Arc<AtomicBool>,
        log: impl Fn(&str) + Send + 'static,
    ) -> std::io::Result<std::thread::JoinHandle<()>> {
        std::thread::Builder::new().name("notify".into()).spawn(move || {
            let mut last_scan: Option<std::time::Instant> = None;
            while !stop.load(Ordering::Relaxed) {
                if last_scan.is_none_or(|t| t.elapsed() >= scan_every) {
                    last_scan = Some(std::time::Instant::now());
                    match self.scan(Timestamp::now()) {
                        Ok(_) => {}
                        Err(e) => log(&format!("notification scan failed: {e}")),
                    }
                }
                match self.run_once(Timestamp::now()) {
                    Ok(round) if round.retried + round.failed > 0 => log(&format!(
                        "notifications: {} sent, {} to retry, {} failed (vitalcore notify list)",
                        round.sent, round.retried, round.failed
                    )),
                    Ok(_) => {}
                    Err(e) => log(&format!("notification worker: {e}")),
                }
                self.wake.wait(poll);
            }
        })
    }
}

/// Overlapping or touching windows `[from, until)` made one, in order.
fn merge_windows(mut windows: Vec<(Timestamp, Timestamp)>) -> Vec<(Timestamp, Timestamp)> {
    windows.sort();
    let mut merged: Vec<(Timestamp, Timestamp)> = Vec::with_capacity(windows.len());
    for (from, until) in windows {
        match merged.last_mut() {
            Some(last) if from <= last.1 => last.1 = last.1.max(until),
            _ => merged.push((from, until)),
        }
    }
    merged
}

fn retry(delivery: &Delivery, reason: String, now: Timestamp) -> AttemptOutcome {
    if delivery.attempts >= MAX_ATTEMPTS {
        return AttemptOutcome::Failed(format!("{reason} (gave up after {} attempts)", delivery.attempts));
    }
    let next_at = now.checked_add(vitalcore_intake::notify::backoff(delivery.attempts)).unwrap_or(now);
    AttemptOutcome::Retry { reason, next_at }
}

/// Queues a test notification through one configured channel (a webhook's
/// name, or `sms`/`email` to `user_id`). Returns its id.
pub fn queue_test(
    store: &dyn ReportStore,
    config: &NotifyConfig,
    channel: &str,
    user_id: Option<&str>,
    now: Timestamp,
) -> Result<i64, NotifyError> {
    let only = match channel {
        "sms" | "email" => {
            let user = user_id
                .ok_or_else(|| NotifyError::Channel(format!("a test by {channel} goes to a person: add --to USER")))?;
            let configured = if channel == "sms" { config.sms.is_some() } else { config.email.is_some() };
            if !configured {
                return Err(NotifyError::Channel(format!(
                    "the config file sets up no {channel} channel under [notify]"
                )));
            }
            format!("{channel}:{user}")
        }
        name => {
            if !config.webhooks.iter().any(|w| w.name == name) {
                return Err(NotifyError::Channel(format!(
                    "no channel `{name}` in the config file; configured: {}",
                    config.channel_names().join(", ")
                )));
            }
            format!("webhook:{name}")
        }
    };
    let draft = NotificationDraft {
        dedup_key: format!("test:{}:{only}", now.as_millisecond()),
        kind: NotifyKind::Test,
        reference: "test".into(),
        area_pcode: None,
        urgency: None,
        category: None,
        level: 0,
        at: now,
        queued_at: now,
        only_channel: Some(only),
    };
    let ids = store.queue_notifications(&[draft])?;
    ids.first().copied().ok_or_else(|| NotifyError::Channel("the test was queued already".into()))
}

/// What an SMS from a staff phone did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AckReply {
    /// Acknowledged (or already acknowledged): the confirmation to send back.
    Done(String),
    /// Refused: why, to send back.
    Refused(String),
}

/// `ACK <reference>` from `phone`: when the phone is a staff member's
/// registered number, acknowledges the alert as them (the step records the
/// channel `sms`) and answers the confirmation; from any other number it
/// acknowledges nothing and says so. `None` when the text is not an ACK
/// (the SMS is then a community report as before).
pub fn ack_by_sms(
    store: &dyn ReportStore,
    phone: &str,
    body: &str,
    now: Timestamp,
) -> Result<Option<AckReply>, NotifyError> {
    let Some(reference) = vitalcore_intake::notify::parse_ack(body) else { return Ok(None) };
    let normalised =
        vitalcore_intake::outbox::normalise_phone(phone, None).unwrap_or_else(|_| phone.trim().to_string());
    let not_staff = || {
        Ok(Some(AckReply::Refused(format!(
            "vitalcore: nothing acknowledged: this number is not a registered staff phone, so it cannot acknowledge {reference}"
        ))))
    };
    let Some(staff) = store.staff_by_phone(&normalised)? else { return not_staff() };
    let Some(user) = store.user(&staff.user_id)? else { return not_staff() };
    let step = vitalcore_intake::workflow::Step::Acknowledge;
    let reply = match crate::access::act_on_alert(
        store,
        &user,
        &reference,
        step,
        now,
        vitalcore_intake::workflow::StepChannel::Sms,
    ) {
        Ok(_) => AckReply::Done(format!("vitalcore: alert {reference} acknowledged by {} (sms)", user.username)),
        Err(crate::access::AccessError::Workflow(e)) => {
            AckReply::Refused(format!("vitalcore: alert {reference} not acknowledged: {e}"))
        }
        Err(crate::access::AccessError::NotFound(_)) | Err(crate::access::AccessError::Denied(_)) => {
            AckReply::Refused(format!("vitalcore: no alert {reference} you may acknowledge"))
        }
        Err(e) => return Err(NotifyError::Channel(e.to_string())),
    };
    Ok(Some(reply))
}

/// An on-call entry as an administrator gives it (`vitalcore oncall set`,
/// the administration page): names and times as typed.
#[derive(Debug, Clone, Default)]
pub struct OnCallRequest {
    /// A P-code, or `*` for every area.
    pub area: String,
    pub role: String,
    /// The staff member's user name.
    pub user: String,
    /// UTC `2026-12-08T08:00`, or an RFC 3339 time.
    pub from: String,
    /// The end (not included); empty only for a fallback.
    pub to: String,
    pub fallback: bool,
}

/// Puts someone on call as `by` (an administrator), the request checked
/// field by field (each error names the field); returns the entry's id and
/// what was stored.
pub fn put_on_call(
    store: &dyn ReportStore,
    by: &vitalcore_security::auth::User,
    request: &OnCallRequest,
    now: Timestamp,
) -> Result<(i64, vitalcore_store::notify::RotaDraft), NotifyError> {
    let invalid = NotifyError::Invalid;
    let area = request.area.trim().to_ascii_uppercase();
    if area.is_empty() {
        return Err(invalid("area: give an area P-code (CF32), or `*` for every area".into()));
    }
    let role: vitalcore_intake::notify::DutyRole = request.role.parse().map_err(|e| invalid(format!("role: {e}")))?;
    let user = store
        .user_by_username(request.user.trim())?
        .ok_or_else(|| invalid(format!("user: no user `{}`", request.user.trim())))?;
    let from = rota_time(&request.from, "from")?;
    let to = Some(request.to.trim()).filter(|t| !t.is_empty()).map(|t| rota_time(t, "to")).transpose()?;
    if to.is_none() && !request.fallback {
        return Err(invalid(
            "to: give the end of the shift, or make it a fallback (told when nobody else is on call)".into(),
        ));
    }
    let entry = vitalcore_store::notify::RotaDraft {
        area_pcode: area,
        role,
        user_id: user.id,
        from,
        to,
        fallback: request.fallback,
        set_by: by.id.clone(),
        set_at: now,
    };
    let id = set_on_call(store, by, &entry)?;
    Ok((id, entry))
}

/// `2026-12-08T08:00` (UTC) or an RFC 3339 time.
fn rota_time(text: &str, field: &str) -> Result<Timestamp, NotifyError> {
    let text = text.trim();
    if let Ok(t) = text.parse::<Timestamp>() {
        return Ok(t);
    }
    let bad = || {
        NotifyError::Invalid(format!(
            "{field}: `{text}` is not a time; write 2026-12-08T08:00 (UTC) or 2026-12-08T08:00+01:00"
        ))
    };
    let civil: jiff::civil::DateTime = text.parse().map_err(|_| bad())?;
    jiff::tz::TimeZone::UTC.to_timestamp(civil).map_err(|_| bad())
}

/// Takes entry `id` off the on-call rota; only an administrator may. The
/// removal is on the audit chain, by them.
pub fn remove_on_call(
    store: &dyn ReportStore,
    by: &vitalcore_security::auth::User,
    id: i64,
    now: Timestamp,
) -> Result<vitalcore_intake::notify::RotaEntry, NotifyError> {
    if by.role != vitalcore_security::auth::Role::Admin {
        return Err(NotifyError::Denied(format!(
            "{} is not an administrator: only administrators change the rota",
            by.username
        )));
    }
    Ok(store.remove_rota_entry(id, &by.id, now)?)
}

/// Adds an entry to the on-call rota; only an administrator may.
pub fn set_on_call(
    store: &dyn ReportStore,
    by: &vitalcore_security::auth::User,
    entry: &vitalcore_store::notify::RotaDraft,
) -> Result<i64, NotifyError> {
    if by.role != vitalcore_security::auth::Role::Admin {
        return Err(NotifyError::Denied(format!(
            "{} is not an administrator: only administrators set the rota",
            by.username
        )));
    }
    if entry.to.is_some_and(|to| to <= entry.from) {
        return Err(NotifyError::Invalid("to: the end must come after the start (from)".into()));
    }
    Ok(store.add_rota_entry(entry)?)
}

/// Registers a staff member's phone (put in international form; a local
/// number needs `default_country_code`) and e-mail address, where they are
/// told and from which an `ACK` is theirs. Only an administrator may.
pub fn set_staff_contact(
    store: &dyn ReportStore,
    by: &vitalcore_security::auth::User,
    user_id: &str,
    phone: Option<&str>,
    email: Option<&str>,
    default_country_code: Option<&str>,
) -> Result<vitalcore_intake::notify::StaffContact, NotifyError> {
    if by.role != vitalcore_security::auth::Role::Admin {
        return Err(NotifyError::Channel(format!(
            "{} is not an administrator: only administrators set staff contacts",
            by.username
        )));
    }
    let phone = phone
        .map(|p| {
            vitalcore_intake::outbox::normalise_phone(p, default_country_code).map_err(|problem| {
                NotifyError::Channel(match problem {
                    vitalcore_intake::outbox::PhoneProblem::NeedsCountryCode => {
                        format!("--phone {p}: write it with its country code (+236...)")
                    }
                    vitalcore_intake::outbox::PhoneProblem::NotAPhone => format!("--phone {p}: not a phone number"),
                })
            })
        })
        .transpose()?;
    let email = email.map(str::trim).filter(|e| !e.is_empty()).map(str::to_string);
    if let Some(e) = &email
        && e.parse::<lettre::Address>().is_err()
    {
        return Err(NotifyError::Channel(format!("--email {e}: not an e-mail address")));
    }
    let contact = vitalcore_intake::notify::StaffContact { user_id: user_id.to_string(), phone, email };
    store.set_staff_contact(&contact)?;
    Ok(contact)
}
