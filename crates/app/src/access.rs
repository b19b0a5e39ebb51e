//! Who may read and act on what: every use of a report, its alert and its
//! reporter's contact goes through here, so the permission policy, the
//! order "check, audit, then reveal" and the workflow rules hold the same in
//! the CLI and the server.

use jiff::Timestamp;
use thiserror::Error;
use vitalcore_intake::outbox::OutboxError;
use vitalcore_intake::report::{Reference, Report};
use vitalcore_intake::workflow::{Alert, Step, StepChannel, WorkflowError};
use vitalcore_security::auth::{Action, Resource, User, authorize};
use vitalcore_security::crypto::{ContactKey, CryptoError, RevealedContact};
use vitalcore_store::StoreError;
use vitalcore_store::reports::{ReportFilter, ReportStore, TagCorrection};

/// Who may correct tags: analysts and admins, in the report's area (the
/// policy's read check still applies, so a deactivated account is refused).
fn authorize_correction(user: &User, area: Option<&str>) -> Result<(), vitalcore_security::auth::Denied> {
    authorize(user, Action::ReadReport, Resource::Area(area))?;
    match user.role {
        vitalcore_security::auth::Role::Analyst | vitalcore_security::auth::Role::Admin => Ok(()),
        role => Err(vitalcore_security::auth::Denied {
            message: format!("a {role} cannot correct the dimensions of reports"),
        }),
    }
}

/// An analyst confirms or corrects the dimensions (and, when given, the
/// themes) of report `reference`: checks the role, records the correction
/// with the previous tags, and updates the report. `themes: None` keeps them.
pub fn correct_report_tags(
    store: &dyn ReportStore,
    framework: &vitalcore_framework::Framework,
    user: &User,
    reference: &Reference,
    dimensions: Vec<String>,
    themes: Option<Vec<String>>,
    now: Timestamp,
) -> Result<TagCorrection, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize_correction(user, report.place.area_pcode.as_deref())?;
    let correction = TagCorrection {
        report: reference.clone(),
        user_id: user.id.clone(),
        at: now,
        previous_dimensions: report.tags.dimensions.clone(),
        previous_themes: report.tags.themes.clone(),
        dimensions: normalise_tags(dimensions),
        themes: normalise_tags(themes.unwrap_or_else(|| report.tags.themes.clone())),
    };
    check_known(&correction.dimensions, &framework.dimensions, "dimension")?;
    check_known(&correction.themes, &framework.themes, "theme")?;
    store.correct_tags(&correction)?;
    Ok(correction)
}

/// Every id is one of the framework's, or the error lists the known ones.
fn check_known(
    ids: &[String],
    known: &[vitalcore_framework::taxonomy::Category],
    what: &str,
) -> Result<(), AccessError> {
    match ids.iter().find(|id| !known.iter().any(|k| &k.id == *id)) {
        None => Ok(()),
        Some(id) => Err(AccessError::UnknownTag(format!(
            "`{id}` is not a {what} of the framework; use one of: {}",
            known.iter().map(|k| k.id.as_str()).collect::<Vec<_>>().join(", ")
        ))),
    }
}

/// Trimmed, non-empty, de-duplicated, in the order given.
fn normalise_tags(tags: Vec<String>) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for t in tags.into_iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()) {
        if !out.contains(&t) {
            out.push(t);
        }
    }
    out
}

#[derive(Debug, Error, PartialEq)]
pub enum AccessError {
    #[error(transparent)]
    Denied(#[from] vitalcore_security::auth::Denied),
    #[error("report {0} not found")]
    NotFound(String),
    #[error("report {0} has no contact")]
    NoContact(String),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Workflow(#[from] WorkflowError),
    #[error(transparent)]
    Outbox(#[from] OutboxError),
    /// A correction names a dimension or theme the framework does not have.
    #[error("{0}")]
    UnknownTag(String),
}

impl AccessError {
    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            AccessError::Denied(_) => 403,
            AccessError::NotFound(_) | AccessError::NoContact(_) => 404,
            AccessError::Workflow(_) | AccessError::Store(StoreError::Conflict(_)) => 409,
            AccessError::Crypto(vitalcore_security::crypto::CryptoError::NoPurpose)
            | AccessError::UnknownTag(_)
            | AccessError::Outbox(_) => 422,
            AccessError::Crypto(_) | AccessError::Store(_) => 500,
        }
    }
}

/// The alert of a report, rebuilt from its stored log.
pub fn load_alert(store: &dyn ReportStore, report: &Report) -> Result<Alert, AccessError> {
    Ok(Alert::for_report(report).replay(store.steps(&report.reference)?)?)
}

/// One workflow step by `user` on the alert of report `reference`: checks
/// the permission for the step in the report's area, replays the log, applies
/// the step, appends it (a concurrent step makes this a conflict) with the
/// SMS its feedback queues for the reporter (`vitalcore_intake::outbox`), and keeps
/// the report's verification state in line. The step records `channel`,
/// the way it came (web, command line, API, SMS).
pub fn act_on_alert(
    store: &dyn ReportStore,
    user: &User,
    reference: &Reference,
    step: Step,
    now: Timestamp,
    channel: StepChannel,
) -> Result<Alert, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::Alert(step.permission()), Resource::Area(report.place.area_pcode.as_deref()))?;
    let mut alert = load_alert(store, &report)?;
    let record = alert.apply_via(step, &user.id, now, channel)?.clone();
    let messages = vitalcore_intake::outbox::drafts_for_step(&report, &record)?;
    if messages.is_empty() {
        store.append_step(&record)?;
    } else {
        store.append_step_with_messages(&record, &messages)?;
    }
    let verification = alert.status().verification();
    if verification != report.verification {
        store.set_verification(reference, verification)?;
    }
    Ok(alert)
}

/// Reads a report for `user`, applying the permission policy to its area.
/// A focal point asking for another community's report by id gets `Denied`
/// (a server answers 404 instead, to not confirm the id exists). A user who
/// may read no report at all (a viewer, a deactivated account) is denied
/// before the reference is looked up, so that a known and an unknown
/// reference get the same answer.
pub fn report_for(store: &dyn ReportStore, user: &User, reference: &Reference) -> Result<Report, AccessError> {
    authorize(user, Action::ReadReport, Resource::Area(user.community.as_deref()))?;
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::ReadReport, Resource::Area(report.place.area_pcode.as_deref()))?;
    Ok(report)
}

/// Lists reports for `user`: a focal point sees only their community's
/// reports whatever the filter asks; roles that may not read reports get `Denied`.
pub fn reports_for(store: &dyn ReportStore, user: &User, filter: &ReportFilter) -> Result<Vec<Report>, AccessError> {
    let mut filter = filter.clone();
    if user.role == vitalcore_security::auth::Role::FocalPoint {
        filter.area_pcode = user.community.clone();
    }
    authorize(user, Action::ReadReport, Resource::Area(filter.area_pcode.as_deref()))?;
    Ok(store.reports(&filter)?)
}

/// Decrypts a report's contact for `user`: checks permission, decrypts, and
/// writes the audit record before handing the contact out. If the audit
/// record cannot be stored, the contact is not returned.
pub fn reveal_contact(
    store: &dyn ReportStore,
    key: &ContactKey,
    user: &User,
    reference: &Reference,
    purpose: &str,
    now: Timestamp,
) -> Result<RevealedContact, AccessError> {
    let report = store.report(reference)?.ok_or_else(|| AccessError::NotFound(reference.to_string()))?;
    authorize(user, Action::ReadContact, Resource::Area(report.place.area_pcode.as_deref()))?;
    let sealed = report.contact.as_ref().ok_or_else(|| AccessError::NoContact(reference.to_string()))?;
    let revealed = key.open(sealed, reference.as_str(), &user.accessor(), purpose, now)?;
    store.append_contact_read(&revealed.audit)?;
    Ok(revealed)
}
