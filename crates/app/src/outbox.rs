//! Feedback by SMS, the parts that read reporters' phones or change the
//! outbox: each phone is read through [`reveal_contact`] (permission, audit
//! record, then the contact), and status changes are checked per area.

use crate::access::{AccessError, reveal_contact};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use vitalcore_intake::outbox::{
    ExportOptions, ExportPlan, ExportRow, OutboxFilter, OutboxMessage, OutboxStatus, PhoneProblem, normalise_phone,
    purpose,
};
use vitalcore_security::auth::{Action, AlertAction, Resource, User, authorize};
use vitalcore_security::crypto::ContactKey;
use vitalcore_store::reports::ReportStore;

/// Reads the contacts of the messages waiting (queued; exported too when
/// `again`), oldest first, for `user`: each read is permission-checked and
/// in the audit log before its phone is in the plan. Nothing is marked
/// exported here: the caller writes the file, then appends `plan.changes`.
pub fn prepare_export(
    store: &dyn ReportStore,
    key: &ContactKey,
    user: &User,
    options: &ExportOptions,
    now: Timestamp,
) -> Result<ExportPlan, AccessError> {
    let statuses: &[OutboxStatus] =
        if options.again { &[OutboxStatus::Queued, OutboxStatus::Exported] } else { &[OutboxStatus::Queued] };
    let mut plan = ExportPlan::default();
    for message in store.outbox(&OutboxFilter::to_send(statuses))? {
        let how = format!("export {}", options.label);
        match read_phone(store, key, user, &message, &how, options.default_country_code.as_deref(), now)? {
            PhoneRead::Phone(phone) => {
                let detail = Some(options.label.clone());
                plan.changes.push(message.change(OutboxStatus::Exported, &user.id, now, detail)?);
                plan.rows.push(ExportRow { id: message.id, phone, message: message.body.clone() });
            }
            PhoneRead::NotAllowed => plan.not_allowed.push(message.id),
            PhoneRead::Problem(PhoneProblem::NeedsCountryCode) => plan.need_country_code.push(message.id),
            PhoneRead::Problem(PhoneProblem::NotAPhone) => {
                let reason = Some("the reporter's contact is not a phone number".to_string());
                plan.changes.push(message.change(OutboxStatus::Failed, &user.id, now, reason)?);
            }
        }
    }
    Ok(plan)
}

/// What reading a message's contact gave.
pub enum PhoneRead {
    Phone(SecretString),
    /// The user may not read this report's contact (nothing was read or logged).
    NotAllowed,
    /// Read (and logged), but no SMS can reach it.
    Problem(PhoneProblem),
}

/// Reads the phone of `message`'s reporter for `user` through
/// [`reveal_contact`] (permission, audit record, then the contact), with the
/// purpose naming the message and `how` it is sent.
pub fn read_phone(
    store: &dyn ReportStore,
    key: &ContactKey,
    user: &User,
    message: &OutboxMessage,
    how: &str,
    default_country_code: Option<&str>,
    now: Timestamp,
) -> Result<PhoneRead, AccessError> {
    let revealed = match reveal_contact(store, key, user, &message.report, &purpose(message.id, how), now) {
        Ok(r) => r,
        Err(AccessError::Denied(_)) => return Ok(PhoneRead::NotAllowed),
        Err(AccessError::NoContact(_)) => return Ok(PhoneRead::Problem(PhoneProblem::NotAPhone)),
        Err(e) => return Err(e),
    };
    Ok(match normalise_phone(revealed.contact.expose_secret(), default_country_code) {
        Ok(phone) => PhoneRead::Phone(SecretString::from(phone)),
        Err(problem) => PhoneRead::Problem(problem),
    })
}

/// What [`change_status`] did.
#[derive(Debug, Default, PartialEq)]
pub struct ChangeOutcome {
    pub changed: Vec<i64>,
    /// Already in the status asked for (running the same command twice changes nothing).
    pub unchanged: Vec<i64>,
    /// Not allowed from their status, or not the user's to change.
    pub refused: Vec<(i64, String)>,
    pub missing: Vec<i64>,
}

/// Moves messages `ids` to `to` for `user` (who must be allowed to give
/// feedback in each report's area), all in one transaction. Messages already
/// in `to` are left as they are; ones that may not move are listed in
/// `refused` and the others still move.
pub fn change_status(
    store: &dyn ReportStore,
    user: &User,
    ids: &[i64],
    to: OutboxStatus,
    detail: Option<String>,
    now: Timestamp,
) -> Result<ChangeOutcome, AccessError> {
    let found = store.outbox(&OutboxFilter { ids: Some(ids.to_vec()), ..OutboxFilter::default() })?;
    let mut outcome = ChangeOutcome::default();
    let mut changes = Vec::new();
    for &id in ids {
        let Some(message) = found.iter().find(|m| m.id == id) else {
            outcome.missing.push(id);
            continue;
        };
        if outcome.changed.contains(&id) || outcome.unchanged.contains(&id) {
            continue;
        }
        if message.status() == to && to != OutboxStatus::Exported {
            outcome.unchanged.push(id);
            continue;
        }
        let report = store.report(&message.report)?;
        let area = report.as_ref().and_then(|r| r.place.area_pcode.as_deref());
        if let Err(denied) = authorize(user, Action::Alert(AlertAction::GiveFeedback), Resource::Area(area)) {
            outcome.refused.push((id, denied.message));
            continue;
        }
        match message.change(to, &user.id, now, detail.clone()) {
            Ok(change) => {
                changes.push(change);
                outcome.changed.push(id);
            }
            Err(e) => outcome.refused.push((id, e.to_string())),
        }
    }
    store.append_outbox_changes(&changes)?;
    Ok(outcome)
}
