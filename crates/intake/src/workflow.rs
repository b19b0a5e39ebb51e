//! The alert-to-response workflow.
//!
//! An alert moves new -> acknowledged -> verified | unfounded -> response
//! assigned (owner, unit) -> responded (action) -> closed (outcome). Each
//! step is appended to a log with its user and time and never changed; the
//! current state is a fold over the log, and a step the state does not allow
//! is refused with a message saying what may come next.
//!
//! Deadlines per urgency come from a TOML file (built-in default
//! `data/deadlines.toml`); [`Alert::overdue`] says at a given `now` which
//! deadline is missed, by how much, and at which escalation level.
//! [`metrics`] gives, per area and month, median and 90th-percentile times to
//! acknowledge and to respond, the share responded and the share whose
//! community was told what was done.

use crate::duration::{format_duration, parse_duration};
use crate::report::{Reference, Urgency};
use jiff::{SignedDuration, Timestamp};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use thiserror::Error;
use vitalcore_framework::Month;

const DEFAULT_DEADLINES: &str = include_str!("../data/deadlines.toml");

/// How far a step's time may lie before the previous step's (or the
/// report's receipt): steps and reports come from machines whose clocks can
/// be hours apart (a field office's laptop, headquarters' server), and the
/// log is folded in the order steps were recorded, so a step stamped a few
/// hours "early" by another clock is an ordinary step. One stamped more
/// than a day before is refused as out of order.
pub const CLOCK_SKEW: SignedDuration = SignedDuration::from_hours(24);

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    New,
    Acknowledged,
    Verified,
    Unfounded,
    ResponseAssigned,
    Responded,
    Closed,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::New => "new",
            AlertState::Acknowledged => "acknowledged",
            AlertState::Verified => "verified",
            AlertState::Unfounded => "unfounded",
            AlertState::ResponseAssigned => "response assigned",
            AlertState::Responded => "responded",
            AlertState::Closed => "closed",
        }
    }

    /// The steps this state allows, in words, for error messages.
    fn next_steps(self) -> &'static str {
        match self {
            AlertState::New => "acknowledge",
            AlertState::Acknowledged => "verify or mark unfounded",
            AlertState::Verified => "assign a response",
            AlertState::Unfounded => "close, or record feedback",
            AlertState::ResponseAssigned => "reassign, or record the response",
            AlertState::Responded => "record another response, record feedback, or close",
            AlertState::Closed => "record feedback (the alert is closed)",
        }
    }
}

impl fmt::Display for AlertState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What was said back to the reporter or community, how, and when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Feedback {
    pub message: String,
    /// `sms`, `web`, `community_meeting`, `phone`, `radio`, `focal_point`...
    pub channel: String,
    pub sent_at: Timestamp,
}

/// One step of the workflow.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
pub enum Step {
    Acknowledge,
    Verify { note: String },
    MarkUnfounded { reason: String },
    Assign { owner: String, unit: String },
    Respond { action: String, feedback: Option<Feedback> },
    GiveFeedback { feedback: Feedback },
    Close { outcome: String },
}

impl Step {
    pub fn name(&self) -> &'static str {
        match self {
            Step::Acknowledge => "acknowledge",
            Step::Verify { .. } => "verify",
            Step::MarkUnfounded { .. } => "mark unfounded",
            Step::Assign { .. } => "assign",
            Step::Respond { .. } => "respond",
            Step::GiveFeedback { .. } => "give feedback",
            Step::Close { .. } => "close",
        }
    }

    /// The step with its free text made safe ([`crate::text`]): control
    /// characters and bidi overrides stripped from notes, reasons, owner,
    /// unit, action, outcome and feedback; the feedback channel on one line.
    pub fn cleaned(self) -> Step {
        let text = |s: String| crate::text::clean_text(&s).into_owned();
        let feedback = |f: Feedback| Feedback {
            message: text(f.message),
            channel: crate::text::clean_line(&f.channel).into_owned(),
            sent_at: f.sent_at,
        };
        match self {
            Step::Acknowledge => Step::Acknowledge,
            Step::Verify { note } => Step::Verify { note: text(note) },
            Step::MarkUnfounded { reason } => Step::MarkUnfounded { reason: text(reason) },
            Step::Assign { owner, unit } => Step::Assign { owner: text(owner), unit: text(unit) },
            Step::Respond { action, feedback: f } => Step::Respond { action: text(action), feedback: f.map(feedback) },
            Step::GiveFeedback { feedback: f } => Step::GiveFeedback { feedback: feedback(f) },
            Step::Close { outcome } => Step::Close { outcome: text(outcome) },
        }
    }

    pub fn permission(&self) -> crate::auth::AlertAction {
        use crate::auth::AlertAction as A;
        match self {
            Step::Acknowledge => A::Acknowledge,
            Step::Verify { .. } | Step::MarkUnfounded { .. } => A::Verify,
            Step::Assign { .. } => A::Assign,
            Step::Respond { .. } => A::Respond,
            Step::GiveFeedback { .. } => A::GiveFeedback,
            Step::Close { .. } => A::Close,
        }
    }
}

/// How a step reached the system: the web pages, the command line, the
/// partner API, or an SMS from the staff member's registered phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepChannel {
    Web,
    Cli,
    Api,
    Sms,
    /// A step recorded before the channel was (schema version 14), or
    /// synchronised from an office that does not say it.
    #[default]
    Unknown,
}

impl StepChannel {
    pub const ALL: [StepChannel; 5] =
        [StepChannel::Web, StepChannel::Cli, StepChannel::Api, StepChannel::Sms, StepChannel::Unknown];

    pub fn as_str(self) -> &'static str {
        match self {
            StepChannel::Web => "web",
            StepChannel::Cli => "cli",
            StepChannel::Api => "api",
            StepChannel::Sms => "sms",
            StepChannel::Unknown => "unknown",
        }
    }

    pub fn parse(s: &str) -> Option<StepChannel> {
        StepChannel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for StepChannel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A step as logged: which alert, its position in the log, who, when, and
/// through which channel.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
    pub alert: Reference,
    /// 0-based position in the alert's log; a store refuses a duplicate.
    pub seq: u32,
    pub step: Step,
    pub user_id: String,
    pub at: Timestamp,
    #[serde(default)]
    pub channel: StepChannel,
}

impl StepRecord {
    /// Its entry in the audit chain: who moved which alert to which step,
    /// and when (`#seq step`; the notes stay in the step log).
    pub fn audit_event(&self) -> vitalcore_security::audit::AuditEvent {
        vitalcore_security::audit::AuditEvent::alert_step(
            self.alert.as_str(),
            self.seq,
            self.step.name(),
            &self.user_id,
            self.at,
        )
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum WorkflowError {
    #[error("alert {alert}: cannot {step} an alert that is {state}; next you can {allowed}")]
    IllegalTransition { alert: String, step: &'static str, state: AlertState, allowed: &'static str },
    #[error("alert {alert}: `{field}` is required to {step}")]
    MissingField { alert: String, step: &'static str, field: &'static str },
    #[error("alert {alert}: a step at {at} cannot come more than a day before the previous step at {previous}")]
    OutOfOrder { alert: String, at: Timestamp, previous: Timestamp },
    #[error("alert {alert}: the step log is not in sequence (expected step #{expected}, found #{found})")]
    BrokenLog { alert: String, expected: u32, found: u32 },
}

/// Where an alert stands, folded from its log.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AlertStatus {
    pub state: AlertState,
    pub acknowledged_at: Option<Timestamp>,
    pub verified_at: Option<Timestamp>,
    pub unfounded_at: Option<Timestamp>,
    pub assigned: Option<(String, String)>,
    pub assigned_at: Option<Timestamp>,
    /// First response.
    pub responded_at: Option<Timestamp>,
    pub actions: Vec<String>,
    pub closed_at: Option<Timestamp>,
    pub outcome: Option<String>,
    pub feedback: Vec<Feedback>,
}

impl AlertStatus {
    fn new() -> AlertStatus {
        AlertStatus {
            state: AlertState::New,
            acknowledged_at: None,
            verified_at: None,
            unfounded_at: None,
            assigned: None,
            assigned_at: None,
            responded_at: None,
            actions: Vec::new(),
            closed_at: None,
            outcome: None,
            feedback: Vec::new(),
        }
    }

    /// The state after `step`, or why it is not allowed.
    fn apply(&mut self, alert: &Reference, step: &Step, at: Timestamp) -> Result<(), WorkflowError> {
        use AlertState as S;
        let illegal = || WorkflowError::IllegalTransition {
            alert: alert.to_string(),
            step: step.name(),
            state: self.state,
            allowed: self.state.next_steps(),
        };
        let missing = |field| WorkflowError::MissingField { alert: alert.to_string(), step: step.name(), field };
        let blank = |s: &str| s.trim().is_empty();
        match (self.state, step) {
            (S::New, Step::Acknowledge) => {
                self.state = S::Acknowledged;
                self.acknowledged_at = Some(at);
            }
            (S::Acknowledged, Step::Verify { .. }) => {
                self.state = S::Verified;
                self.verified_at = Some(at);
            }
            (S::Acknowledged, Step::MarkUnfounded { reason }) => {
                if blank(reason) {
                    return Err(missing("reason"));
                }
                self.state = S::Unfounded;
                self.unfounded_at = Some(at);
            }
            (S::Verified | S::ResponseAssigned, Step::Assign { owner, unit }) => {
                if blank(owner) {
                    return Err(missing("owner"));
                }
                if blank(unit) {
                    return Err(missing("unit"));
                }
                self.state = S::ResponseAssigned;
                self.assigned = Some((owner.trim().to_string(), unit.trim().to_string()));
                self.assigned_at = Some(at);
            }
            (S::ResponseAssigned | S::Responded, Step::Respond { action, feedback }) => {
                if blank(action) {
                    return Err(missing("action"));
                }
                self.record_feedback(alert, step, feedback.as_ref())?;
                self.state = S::Responded;
                self.responded_at.get_or_insert(at);
                self.actions.push(action.trim().to_string());
            }
            (S::Responded | S::Unfounded | S::Closed, Step::GiveFeedback { feedback }) => {
                self.record_feedback(alert, step, Some(feedback))?;
            }
            (S::Responded | S::Unfounded, Step::Close { outcome }) => {
                if blank(outcome) {
                    return Err(missing("outcome"));
                }
                self.state = S::Closed;
                self.closed_at = Some(at);
                self.outcome = Some(outcome.trim().to_string());
            }
            _ => return Err(illegal()),
        }
        Ok(())
    }

    /// The report's verification state implied by the log.
    pub fn verification(&self) -> crate::report::Verification {
        use crate::report::Verification;
        if self.unfounded_at.is_some() {
            Verification::Unfounded
        } else if self.verified_at.is_some() {
            Verification::Verified
        } else {
            Verification::Unverified
        }
    }

    fn record_feedback(
        &mut self,
        alert: &Reference,
        step: &Step,
        feedback: Option<&Feedback>,
    ) -> Result<(), WorkflowError> {
        if let Some(f) = feedback {
            let missing = |field| WorkflowError::MissingField { alert: alert.to_string(), step: step.name(), field };
            if f.message.trim().is_empty() {
                return Err(missing("feedback message"));
            }
            if f.channel.trim().is_empty() {
                return Err(missing("feedback channel"));
            }
            self.feedback.push(f.clone());
        }
        Ok(())
    }
}

/// An alert: one community report under the workflow, with its log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Alert {
    pub reference: Reference,
    pub area_pcode: Option<String>,
    pub urgency: Urgency,
    pub received_at: Timestamp,
    steps: Vec<StepRecord>,
    status: AlertStatus,
}

impl Alert {
    pub fn new(reference: Reference, area_pcode: Option<String>, urgency: Urgency, received_at: Timestamp) -> Alert {
        Alert { reference, area_pcode, urgency, received_at, steps: Vec::new(), status: AlertStatus::new() }
    }

    pub fn for_report(report: &crate::report::Report) -> Alert {
        Alert::new(
            report.reference.clone(),
            report.place.area_pcode.clone(),
            report.effective_urgency(),
            report.received_at,
        )
    }

    /// Rebuilds an alert from its stored log, checking every step again.
    pub fn replay(mut self, steps: Vec<StepRecord>) -> Result<Alert, WorkflowError> {
        for record in steps {
            if record.seq != self.steps.len() as u32 {
                return Err(WorkflowError::BrokenLog {
                    alert: self.reference.to_string(),
                    expected: self.steps.len() as u32,
                    found: record.seq,
                });
            }
            self.check_order(record.at)?;
            self.status.apply(&self.reference, &record.step, record.at)?;
            self.steps.push(record);
        }
        Ok(self)
    }

    /// Appends a step by `user_id` at `at`, returning the record a store
    /// must persist, its free text cleaned ([`Step::cleaned`]). On error
    /// the alert is unchanged. Its channel is unknown: a step someone takes
    /// goes through [`Alert::apply_via`], which names it.
    pub fn apply(&mut self, step: Step, user_id: &str, at: Timestamp) -> Result<&StepRecord, WorkflowError> {
        self.apply_via(step, user_id, at, StepChannel::Unknown)
    }

    /// [`Alert::apply`], recording the channel the step came through.
    pub fn apply_via(
        &mut self,
        step: Step,
        user_id: &str,
        at: Timestamp,
        channel: StepChannel,
    ) -> Result<&StepRecord, WorkflowError> {
        let step = step.cleaned();
        self.check_order(at)?;
        let mut next = self.status.clone();
        next.apply(&self.reference, &step, at)?;
        self.status = next;
        self.steps.push(StepRecord {
            alert: self.reference.clone(),
            seq: self.steps.len() as u32,
            step,
            user_id: user_id.to_string(),
            at,
            channel,
        });
        Ok(self.steps.last().expect("just pushed"))
    }

    fn check_order(&self, at: Timestamp) -> Result<(), WorkflowError> {
        let previous = self.steps.last().map(|s| s.at).unwrap_or(self.received_at);
        if at < previous - CLOCK_SKEW {
            return Err(WorkflowError::OutOfOrder { alert: self.reference.to_string(), at, previous });
        }
        Ok(())
    }

    pub fn state(&self) -> AlertState {
        self.status.state
    }

    pub fn status(&self) -> &AlertStatus {
        &self.status
    }

    pub fn steps(&self) -> &[StepRecord] {
        &self.steps
    }

    /// Which deadline the alert has missed at `now`, if any.
    pub fn overdue(&self, deadlines: &Deadlines, now: Timestamp) -> Option<Overdue> {
        let rule = deadlines.for_urgency(self.urgency);
        let (kind, limit) = match self.status.state {
            AlertState::New => (DeadlineKind::Acknowledge, rule.acknowledge),
            AlertState::Acknowledged | AlertState::Verified | AlertState::ResponseAssigned => {
                (DeadlineKind::Respond, rule.respond)
            }
            AlertState::Unfounded | AlertState::Responded | AlertState::Closed => return None,
        };
        let due = self.received_at.checked_add(limit).ok()?;
        let late_by = now.duration_since(due);
        if late_by <= SignedDuration::ZERO {
            return None;
        }
        Some(Overdue { kind, due, late_by, level: deadlines.escalation_level(late_by, limit) })
    }
}

/// The alert queue at `now`: every overdue alert, highest escalation level
/// first, then the longest overdue.
pub fn overdue_queue<'a>(alerts: &'a [Alert], deadlines: &Deadlines, now: Timestamp) -> Vec<(&'a Alert, Overdue)> {
    let mut queue: Vec<(&Alert, Overdue)> =
        alerts.iter().filter_map(|a| a.overdue(deadlines, now).map(|o| (a, o))).collect();
    queue.sort_by(|(_, x), (_, y)| y.level.cmp(&x.level).then(y.late_by.cmp(&x.late_by)));
    queue
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    Acknowledge,
    Respond,
}

/// A missed deadline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Overdue {
    pub kind: DeadlineKind,
    pub due: Timestamp,
    pub late_by: SignedDuration,
    /// 1 = late; each higher level is a further threshold passed (see [`Deadlines`]).
    pub level: u8,
}

/// The deadlines for one urgency.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline {
    pub acknowledge: SignedDuration,
    pub respond: SignedDuration,
}

/// Deadlines per urgency and escalation thresholds.
#[derive(Debug, Clone, PartialEq)]
pub struct Deadlines {
    per_urgency: BTreeMap<Urgency, Deadline>,
    /// Escalation level `i + 1` starts when lateness exceeds `levels[i]` x the missed deadline.
    levels: Vec<f64>,
}

#[derive(Debug, Error, PartialEq)]
pub enum DeadlineError {
    #[error("deadline file: {0}")]
    Syntax(String),
    #[error("deadline file, `{key}`: {reason}")]
    Invalid { key: String, reason: String },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DeadlineFile {
    critical: Option<RawDeadline>,
    high: Option<RawDeadline>,
    medium: Option<RawDeadline>,
    low: Option<RawDeadline>,
    escalation: Option<RawEscalation>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDeadline {
    acknowledge: Option<String>,
    respond: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEscalation {
    levels: Vec<f64>,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines::built_in()
    }
}

impl Deadlines {
    pub fn built_in() -> Deadlines {
        Deadlines::from_toml(DEFAULT_DEADLINES).expect("the built-in deadlines are valid (tested)")
    }

    /// Reads a deadline file. Every urgency must be given, with both
    /// deadlines; respond may not come before acknowledge; a more urgent
    /// level may not have a longer deadline than a less urgent one.
    pub fn from_toml(text: &str) -> Result<Deadlines, DeadlineError> {
        let file: DeadlineFile = toml::from_str(text).map_err(|e| DeadlineError::Syntax(e.to_string()))?;
        let mut per_urgency = BTreeMap::new();
        for (urgency, raw) in [
            (Urgency::Critical, file.critical),
            (Urgency::High, file.high),
            (Urgency::Medium, file.medium),
            (Urgency::Low, file.low),
        ] {
            let name = urgency.as_str();
            let raw = raw.ok_or_else(|| DeadlineError::Invalid {
                key: name.into(),
                reason: format!("missing: add a [{name}] table with acknowledge and respond"),
            })?;
            let acknowledge = read_duration(name, "acknowledge", raw.acknowledge)?;
            let respond = read_duration(name, "respond", raw.respond)?;
            if respond < acknowledge {
                return Err(DeadlineError::Invalid {
                    key: format!("{name}.respond"),
                    reason: format!(
                        "{} is shorter than the acknowledge deadline {}",
                        format_duration(respond),
                        format_duration(acknowledge)
                    ),
                });
            }
            per_urgency.insert(urgency, Deadline { acknowledge, respond });
        }
        check_more_urgent_is_sooner(&per_urgency)?;
        let levels = file.escalation.map(|e| e.levels).unwrap_or_else(|| vec![0.0, 1.0, 3.0]);
        check_levels(&levels)?;
        Ok(Deadlines { per_urgency, levels })
    }

    pub fn for_urgency(&self, urgency: Urgency) -> Deadline {
        self.per_urgency[&urgency]
    }

    /// The escalation thresholds: level `i + 1` starts when the lateness
    /// exceeds `thresholds()[i]` x the missed deadline.
    pub fn escalation_thresholds(&self) -> &[f64] {
        &self.levels
    }

    /// Number of thresholds (multiples of the missed deadline) the lateness exceeds.
    pub fn escalation_level(&self, late_by: SignedDuration, deadline: SignedDuration) -> u8 {
        let ratio = late_by.as_secs_f64() / deadline.as_secs_f64().max(1.0);
        self.levels.iter().filter(|&&m| ratio > m).count() as u8
    }
}

fn read_duration(urgency: &str, field: &str, raw: Option<String>) -> Result<SignedDuration, DeadlineError> {
    let key = format!("{urgency}.{field}");
    let raw = raw.ok_or_else(|| DeadlineError::Invalid { key: key.clone(), reason: "missing".into() })?;
    let d = parse_duration(&raw).map_err(|reason| DeadlineError::Invalid { key: key.clone(), reason })?;
    if d <= SignedDuration::ZERO {
        return Err(DeadlineError::Invalid { key, reason: "must be longer than zero".into() });
    }
    Ok(d)
}

fn check_more_urgent_is_sooner(per: &BTreeMap<Urgency, Deadline>) -> Result<(), DeadlineError> {
    for pair in Urgency::ALL.windows(2) {
        let (less, more) = (per[&pair[0]], per[&pair[1]]);
        for (field, a, b) in
            [("acknowledge", less.acknowledge, more.acknowledge), ("respond", less.respond, more.respond)]
        {
            if b > a {
                return Err(DeadlineError::Invalid {
                    key: format!("{}.{field}", pair[1]),
                    reason: format!(
                        "{} is longer than the {} deadline for {} ({}): a more urgent alert must not wait longer",
                        format_duration(b),
                        field,
                        pair[0],
                        format_duration(a)
                    ),
                });
            }
        }
    }
    Ok(())
}

fn check_levels(levels: &[f64]) -> Result<(), DeadlineError> {
    let invalid = |reason: &str| DeadlineError::Invalid { key: "escalation.levels".into(), reason: reason.into() };
    if levels.is_empty() || levels.len() > 9 {
        return Err(invalid("give 1 to 9 thresholds, for example [0.0, 1.0, 3.0]"));
    }
    if levels.iter().any(|l| !l.is_finite() || *l < 0.0) {
        return Err(invalid("thresholds are multiples of the deadline and cannot be negative"));
    }
    if levels.windows(2).any(|w| w[1] <= w[0]) {
        return Err(invalid("thresholds must increase"));
    }
    Ok(())
}

/// Response figures for one area and month (the month the alert was received).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ResponseMetrics {
    pub area_pcode: Option<String>,
    pub month: Month,
    pub alerts: usize,
    pub unfounded: usize,
    pub acknowledged: usize,
    pub responded: usize,
    pub median_to_acknowledge: Option<SignedDuration>,
    pub p90_to_acknowledge: Option<SignedDuration>,
    pub median_to_respond: Option<SignedDuration>,
    pub p90_to_respond: Option<SignedDuration>,
    /// Responded / (alerts - unfounded): unfounded alerts need no response.
    pub share_responded: Option<f64>,
    /// Alerts whose reporter or community was told anything / all alerts
    /// (unfounded ones too: people should hear that as well).
    pub share_with_feedback: Option<f64>,
}

/// Figures per (area, month). Times run from receipt to the first
/// acknowledgement and to the first response. Median of an even count is the
/// mean of the two middle values; the 90th percentile is the nearest-rank one
/// (the ceil(0.9 n)-th smallest).
pub fn metrics(alerts: &[Alert]) -> Vec<ResponseMetrics> {
    let mut groups: BTreeMap<(Option<String>, Month), Vec<&Alert>> = BTreeMap::new();
    for a in alerts {
        let month = Month::of(a.received_at.to_zoned_datetime(jiff::tz::TimeZone::UTC).date());
        groups.entry((a.area_pcode.clone(), month)).or_default().push(a);
    }
    groups.into_iter().map(|((area, month), group)| group_metrics(area, month, &group)).collect()
}

/// From the alert's receipt to `t`; never below zero (two machines' clocks
/// can put a step a little before the receipt, see [`CLOCK_SKEW`]).
fn since_receipt(a: &Alert, t: Timestamp) -> SignedDuration {
    t.duration_since(a.received_at).max(SignedDuration::ZERO)
}

fn group_metrics(area_pcode: Option<String>, month: Month, group: &[&Alert]) -> ResponseMetrics {
    let mut to_ack: Vec<SignedDuration> =
        group.iter().filter_map(|a| a.status.acknowledged_at.map(|t| since_receipt(a, t))).collect();
    let mut to_respond: Vec<SignedDuration> =
        group.iter().filter_map(|a| a.status.responded_at.map(|t| since_receipt(a, t))).collect();
    to_ack.sort();
    to_respond.sort();
    let unfounded = group.iter().filter(|a| a.status.unfounded_at.is_some()).count();
    let with_feedback = group.iter().filter(|a| !a.status.feedback.is_empty()).count();
    let needing_response = group.len() - unfounded;
    ResponseMetrics {
        area_pcode,
        month,
        alerts: group.len(),
        unfounded,
        acknowledged: to_ack.len(),
        responded: to_respond.len(),
        median_to_acknowledge: median(&to_ack),
        p90_to_acknowledge: nearest_rank(&to_ack, 0.9),
        median_to_respond: median(&to_respond),
        p90_to_respond: nearest_rank(&to_respond, 0.9),
        share_responded: (needing_response > 0).then(|| to_respond.len() as f64 / needing_response as f64),
        share_with_feedback: (!group.is_empty()).then(|| with_feedback as f64 / group.len() as f64),
    }
}

/// The median of sorted durations (an even count: the mean of the two middle ones).
pub fn median(sorted: &[SignedDuration]) -> Option<SignedDuration> {
    let n = sorted.len();
    if n == 0 {
        return None;
    }
    if n % 2 == 1 {
        Some(sorted[n / 2])
    } else {
        Some(SignedDuration::from_nanos_i128((sorted[n / 2 - 1].as_nanos() + sorted[n / 2].as_nanos()) / 2))
    }
}

/// The nearest-rank percentile `p` of sorted durations (the ceil(p n)-th smallest).
pub fn nearest_rank(sorted: &[SignedDuration], p: f64) -> Option<SignedDuration> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p * sorted.len() as f64).ceil().max(1.0) as usize;
    Some(sorted[rank.min(sorted.len()) - 1])
}
