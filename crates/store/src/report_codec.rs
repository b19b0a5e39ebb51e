//! Encodings the SQLite and PostgreSQL report stores share: how enums and
//! times are written as columns, and the append-only rule of alert steps.
//! One copy here so both backends store and check exactly the same way.

use jiff::Timestamp;

use crate::StoreError;
use vitalcore_intake::outbox::{OutboxChange, OutboxStatus};
use vitalcore_intake::report::{Channel, Reference, Report, Verification};
use vitalcore_intake::workflow::{Step, StepRecord};
use vitalcore_security::audit::{AuditAction, AuditEntry, AuditEvent};
use vitalcore_security::auth::Role;
use vitalcore_security::crypto::ContactRead;

/// A stored value that cannot be read back: the database was altered or damaged.
pub fn damaged(what: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(format!("the database holds a damaged {what}; restore it from a backup"))
}

/// Nanoseconds since 1970: exact and sortable. An i64 holds the years
/// 1678-2262; a receipt time outside them is refused with a clear message
/// (event times are stored as text and may be any date).
pub fn received_ns(report: &Report) -> Result<i64, StoreError> {
    i64::try_from(report.received_at.as_nanosecond()).map_err(|_| {
        StoreError::Backend(format!(
            "report {}: receipt time {} is outside the years 1678-2262 this store keeps; check the submission time",
            report.reference, report.received_at
        ))
    })
}

/// A filter bound in nanoseconds, clamped to what an i64 holds.
pub fn clamped_ns(t: Timestamp) -> i64 {
    t.as_nanosecond().clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

pub fn parse_time(text: &str, what: &str) -> Result<Timestamp, StoreError> {
    text.parse().map_err(|_| damaged(format!("{what} `{text}`")))
}

pub fn parse_role(text: &str) -> Result<Role, StoreError> {
    text.parse().map_err(|_| damaged(format!("role `{text}`")))
}

pub fn verification_text(v: Verification) -> &'static str {
    match v {
        Verification::Unverified => "unverified",
        Verification::Verified => "verified",
        Verification::Unfounded => "unfounded",
    }
}

pub fn verification_from(text: &str) -> Option<Verification> {
    match text {
        "unverified" => Some(Verification::Unverified),
        "verified" => Some(Verification::Verified),
        "unfounded" => Some(Verification::Unfounded),
        _ => None,
    }
}

/// The partner, gateway or form a channel names, if any.
pub fn channel_name(channel: &Channel) -> Option<&str> {
    match channel {
        Channel::Api { partner } => Some(partner),
        Channel::Sms { gateway } => Some(gateway),
        Channel::Kobo { form } => Some(form),
        Channel::WebForm | Channel::Cli => None,
    }
}

/// The (gateway, message id) an SMS report is known by, when it has one: a
/// store keeps each at most once (see [`crate::reports::ReportStore::sms_report`]).
pub fn sms_message_id(report: &Report) -> Option<(&str, &str)> {
    match (&report.channel, &report.source_id) {
        (Channel::Sms { gateway }, Some(id)) => Some((gateway, id)),
        _ => None,
    }
}

/// The conflict when an SMS gateway's message id is already stored.
pub fn sms_repeat_conflict(gateway: &str, message_id: &str) -> StoreError {
    StoreError::Conflict(format!(
        "the {gateway} message `{message_id}` is already stored as a report (a gateway delivers a message once; \
         a repeat is the same message again)"
    ))
}

pub fn channel_from(kind: &str, name: Option<String>) -> Option<Channel> {
    match (kind, name) {
        ("web_form", None) => Some(Channel::WebForm),
        ("cli", None) => Some(Channel::Cli),
        ("api", Some(partner)) => Some(Channel::Api { partner }),
        ("sms", Some(gateway)) => Some(Channel::Sms { gateway }),
        ("kobo", Some(form)) => Some(Channel::Kobo { form }),
        _ => None,
    }
}

/// The append-only rule: a step must take the next free position.
pub fn check_next_step(record: &StepRecord, recorded: i64) -> Result<(), StoreError> {
    let seq = i64::from(record.seq);
    if seq == recorded {
        return Ok(());
    }
    let alert = &record.alert;
    Err(StoreError::Conflict(if seq < recorded {
        format!("alert {alert} changed meanwhile (step #{seq} is already recorded); reload it and try again")
    } else {
        format!("alert {alert} has {recorded} steps, so the next is #{recorded}, not #{seq}; reload it and try again")
    }))
}

pub fn step_record(
    alert: &Reference,
    seq: i64,
    detail: &str,
    user_id: String,
    at: &str,
    channel: &str,
) -> Result<StepRecord, StoreError> {
    let what = || damaged(format!("step #{seq} of alert {alert}"));
    let step: Step = serde_json::from_str(detail).map_err(|_| what())?;
    let channel = vitalcore_intake::workflow::StepChannel::parse(channel).ok_or_else(what)?;
    Ok(StepRecord {
        alert: alert.clone(),
        seq: u32::try_from(seq).map_err(|_| what())?,
        step,
        user_id,
        at: at.parse().map_err(|_| what())?,
        channel,
    })
}

/// The append-only rule of an outbox message's status history: a change
/// must take the next free position.
pub fn check_next_change(change: &OutboxChange, recorded: i64) -> Result<(), StoreError> {
    let seq = i64::from(change.seq);
    if seq == recorded {
        return Ok(());
    }
    let id = change.message_id;
    Err(StoreError::Conflict(if seq < recorded {
        format!("outbox message #{id} changed meanwhile (change #{seq} is already recorded); list it again and retry")
    } else {
        format!("outbox message #{id} has {recorded} changes, so the next is #{recorded}, not #{seq}")
    }))
}

pub fn outbox_status_from(text: &str) -> Result<OutboxStatus, StoreError> {
    OutboxStatus::parse(text).ok_or_else(|| damaged(format!("outbox status `{text}`")))
}

/// An audit chain entry as both backends store it (`audit_log` columns).
#[allow(clippy::too_many_arguments)]
pub fn audit_entry(
    seq: i64,
    at: &str,
    actor: String,
    action: &str,
    subject: String,
    detail: String,
    prev_hash: String,
    hash: String,
) -> Result<AuditEntry, StoreError> {
    let what = |field: &str, value: &str| damaged(format!("audit entry #{seq}: {field} `{value}`"));
    Ok(AuditEntry {
        seq: u64::try_from(seq).map_err(|_| what("number", &seq.to_string()))?,
        event: AuditEvent {
            at: at.parse().map_err(|_| what("time", at))?,
            actor,
            action: action.parse::<AuditAction>().map_err(|_| what("action", action))?,
            subject,
            detail,
        },
        prev_hash,
        hash,
    })
}

/// The entries that start a chain on a database already holding contact
/// reads and alert steps (written before the chain existed): a
/// `chain_started` entry saying so, then one entry per read and step,
/// oldest first, exactly as the store would have chained them. Nothing when
/// there is nothing to enter.
pub fn chain_start_events(reads: &[ContactRead], steps: &[StepRecord], now: Timestamp) -> Vec<AuditEvent> {
    if reads.is_empty() && steps.is_empty() {
        return Vec::new();
    }
    let mut facts: Vec<AuditEvent> =
        reads.iter().map(AuditEvent::contact_read).chain(steps.iter().map(StepRecord::audit_event)).collect();
    facts.sort_by_key(|e| e.at);
    let started = AuditEvent::new(
        now,
        "system:migration",
        AuditAction::ChainStarted,
        "",
        format!(
            "schema 7: the {} contact reads and {} alert steps logged before the chain began follow, oldest first",
            reads.len(),
            steps.len()
        ),
    );
    std::iter::once(started).chain(facts).collect()
}
