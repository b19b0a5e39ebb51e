//! What a backend must persist for synchronisation between field offices and
//! headquarters (see `crates/sync/README.md`): this node's identity, the
//! offices HQ knows, cursors per peer and direction, the change log the
//! feeds are read from, batches already applied and conflicts kept for an
//! analyst.
//!
//! Contract every backend keeps:
//! - every new report, alert step and new or changed area is appended to
//!   the change log (`sync_log`) by the database itself, in the transaction
//!   that writes it, with the origin set by [`SyncTx::set_origin`] (none:
//!   made here); every event an import adds or revises is appended by the
//!   import's transaction (area: its admin-2 P-code, else admin-1); every
//!   forecast row and early warning stored (area: its unit), every
//!   account added or changed (area: a focal point's community);
//! - [`SyncStore::changes`] never returns a seq below one a concurrent
//!   transaction may still commit (PostgreSQL waits for writers first);
//! - [`SyncStore::apply`] runs the closure in one transaction and commits it
//!   only when the closure returns `Ok`: a batch lands whole or not at all.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use vitalcore_framework::Month;
use vitalcore_framework::{Area, Event, ImportFile};
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxMessage};
use vitalcore_intake::report::{Reference, Report};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_security::auth::User;

use crate::forecasts::{EarlyWarning, ForecastRow, ForecastRun, WarningKind, WarningStatus};
use crate::reports::TagCorrection;
use crate::{ImportCounts, StoreError};

/// The reference space of headquarters (offices get 1 to 31).
pub const HQ_SPACE: u8 = 0;
/// The highest reference space (the first reference symbol holds 5 bits).
pub const MAX_SPACE: u8 = 31;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum NodeRole {
    Hq,
    Office,
}

impl NodeRole {
    pub fn as_str(self) -> &'static str {
        match self {
            NodeRole::Hq => "hq",
            NodeRole::Office => "office",
        }
    }

    pub fn parse(text: &str) -> Option<NodeRole> {
        match text {
            "hq" => Some(NodeRole::Hq),
            "office" => Some(NodeRole::Office),
            _ => None,
        }
    }
}

/// This database as a node of the mission.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    /// Random, 32 hex digits.
    pub node_id: String,
    /// `hq`, or the office's name.
    pub name: String,
    pub role: NodeRole,
    /// The first symbol of the references drawn here.
    pub space: u8,
    /// At an office: HQ's node id.
    pub hq_node: Option<String>,
    /// At an office: the SHA-256 of its credential (the bundle keys derive from it).
    pub credential_hash: Option<Vec<u8>>,
    pub created_at: Timestamp,
    /// At an office: when the last sync completed both directions.
    pub last_sync: Option<Timestamp>,
    /// At an office: what HQ said was still waiting for it at the last pull.
    pub pending_down: u64,
}

/// An office as HQ knows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Office {
    pub name: String,
    pub node_id: String,
    /// P-codes; an area or record lies in the office's areas when its P-code starts with one.
    pub areas: Vec<String>,
    pub space: u8,
    /// SHA-256 of the credential.
    pub credential_hash: Vec<u8>,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// The office's last contact (a push or a pull).
    pub last_sync: Option<Timestamp>,
    /// What the office said was still waiting to go up at its last push.
    pub pending_up: u64,
}

/// Which way a cursor points, seen from this node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    Up,
    Down,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Up => "up",
            Direction::Down => "down",
        }
    }
}

/// The kinds of record in the change log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordKind {
    Area,
    Report,
    Step,
    Outbox,
    Correction,
    WarningChange,
    /// An event imported at HQ (logged by the import's transaction).
    Event,
    /// The file record of an import, carried in a batch ahead of its
    /// events (never in the change log itself).
    Import,
    /// A forecast run's rows (one log entry per row, area = the row's unit).
    Forecast,
    /// An early warning (area = its unit).
    Warning,
    /// An account tied to an area: a focal point (area = its community).
    User,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Area => "area",
            RecordKind::Report => "report",
            RecordKind::Step => "step",
            RecordKind::Outbox => "outbox",
            RecordKind::Correction => "correction",
            RecordKind::WarningChange => "warning_change",
            RecordKind::Event => "event",
            RecordKind::Import => "import",
            RecordKind::Forecast => "forecast",
            RecordKind::Warning => "warning",
            RecordKind::User => "user",
        }
    }

    /// The kind a change-log entry names (`None`: a kind this build does not know).
    pub fn parse(text: &str) -> Option<RecordKind> {
        [
            RecordKind::Area,
            RecordKind::Report,
            RecordKind::Step,
            RecordKind::Outbox,
            RecordKind::Correction,
            RecordKind::WarningChange,
            RecordKind::Event,
            RecordKind::Import,
            RecordKind::Forecast,
            RecordKind::Warning,
            RecordKind::User,
        ]
        .into_iter()
        .find(|k| k.as_str() == text)
    }
}

/// Which origins a feed takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origins {
    /// Only records made at this node.
    Local,
    /// Every record except those that came from this node id.
    Except(String),
}

/// Which part of the change log a feed reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scope {
    pub origins: Origins,
    /// Area P-code prefixes; `None`: everywhere. A record with no area is
    /// outside every area list.
    pub areas: Option<Vec<String>>,
    pub kinds: Vec<RecordKind>,
}

impl Scope {
    /// Whether the area P-code `area` lies in the scope's areas.
    pub fn covers(&self, area: Option<&str>) -> bool {
        match (&self.areas, area) {
            (None, _) => true,
            (Some(_), None) => false,
            (Some(list), Some(a)) => list.iter().any(|p| a.starts_with(p.as_str())),
        }
    }
}

/// A report as it travels: the report, its sealed contact as stored (never
/// opened on the way) and the node that took it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReportRecord {
    pub origin: String,
    pub report: Report,
    /// The sealed text (`vc1.<key id>.<...>`), or none.
    pub contact: Option<String>,
}

/// An alert step as it travels, with the node that made it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOf {
    pub origin: String,
    pub step: StepRecord,
}

/// One entry of a feedback message's delivery history as it travels: the
/// message (its alert and the step that gave the feedback, by content, as
/// positions differ between nodes), and the change. Never the contact: the
/// message body is what goes out, the phone stays sealed on the report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutboxOf {
    pub origin: String,
    /// The feedback step of the message (its alert is the report).
    pub step: StepRecord,
    pub language: String,
    pub body: String,
    /// `message_id` and `seq` are the sender's; the receiver keeps its own.
    pub change: OutboxChange,
}

/// An analyst's correction of a report's tags as it travels.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CorrectionOf {
    pub origin: String,
    pub correction: TagCorrection,
}

/// An early warning's status change as it travels: the warning by its
/// natural key (one per unit, month and kind on every node).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningChangeOf {
    pub origin: String,
    pub unit: String,
    pub month: Month,
    pub warning: WarningKind,
    pub change: WarningChange,
}

/// One status change of an early warning (`early_warning_changes`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningChange {
    pub status: WarningStatus,
    pub by_user: String,
    /// RFC 3339, as the forecast store keeps it.
    pub at: String,
    pub note: Option<String>,
}

/// An import's file record as it travels ahead of its events: the node
/// that imported it, its import id there and when it was stored there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportOf {
    pub origin: String,
    pub id: i64,
    pub file: ImportFile,
    /// RFC 3339, UTC.
    pub imported_at: String,
}

/// An event as it travels: its current version at the origin and the
/// origin's import that stored that version ([`ImportOf::id`]).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventOf {
    pub origin: String,
    pub import: i64,
    pub event: Event,
}

/// A forecast run as it travels: the run (its id the origin's) and the
/// rows of it the receiver's areas hold.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ForecastOf {
    pub origin: String,
    pub run: ForecastRun,
    pub rows: Vec<ForecastRow>,
}

/// An early warning as it travels (its id and run id the origin's): as it
/// was raised when its status changes travel after it, else as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WarningOf {
    pub origin: String,
    pub warning: EarlyWarning,
}

/// The records an early warning goes down as: the warning as it was raised
/// (status `new`, no note), then each of its status changes in the order
/// they were recorded, so the receiver applies them by the one rule for
/// status changes (latest by time wins, every one kept) and a change it
/// already holds, or that follows in the change log, is found there and
/// changes nothing. A warning with no recorded change (its status set
/// before changes were kept) goes as it stands.
pub fn warning_with_history(origin: String, mut warning: EarlyWarning, history: Vec<WarningChange>) -> Vec<SyncRecord> {
    if history.is_empty() {
        return vec![SyncRecord::Warning(Box::new(WarningOf { origin, warning }))];
    }
    warning.status = WarningStatus::New;
    warning.status_by = None;
    warning.status_at = None;
    warning.note = None;
    let (unit, month, kind) = (warning.unit.clone(), warning.month, warning.kind);
    let mut out = vec![SyncRecord::Warning(Box::new(WarningOf { origin: origin.clone(), warning }))];
    out.extend(history.into_iter().map(|change| {
        SyncRecord::WarningChange(Box::new(WarningChangeOf {
            origin: origin.clone(),
            unit: unit.clone(),
            month,
            warning: kind,
            change,
        }))
    }));
    out
}

/// An account as it travels down to an office of its area, with its
/// password hash (argon2id PHC), so that its holder can log in at the
/// office while it is cut off. Only accounts tied to the office's areas
/// travel; the bundle is encrypted.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct UserOf {
    pub origin: String,
    pub user: User,
    pub password_hash: String,
}

impl std::fmt::Debug for UserOf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserOf").field("origin", &self.origin).field("user", &self.user).finish_non_exhaustive()
    }
}

/// One record of a feed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum SyncRecord {
    Area {
        origin: String,
        area: Area,
    },
    Report(Box<ReportRecord>),
    Step(Box<StepOf>),
    Outbox(Box<OutboxOf>),
    Correction(Box<CorrectionOf>),
    #[serde(rename = "warning_change")]
    WarningChange(Box<WarningChangeOf>),
    Import(Box<ImportOf>),
    Event(Box<EventOf>),
    Forecast(Box<ForecastOf>),
    Warning(Box<WarningOf>),
    User(Box<UserOf>),
}

impl SyncRecord {
    pub fn kind(&self) -> RecordKind {
        match self {
            SyncRecord::Area { .. } => RecordKind::Area,
            SyncRecord::Report(_) => RecordKind::Report,
            SyncRecord::Step(_) => RecordKind::Step,
            SyncRecord::Outbox(_) => RecordKind::Outbox,
            SyncRecord::Correction(_) => RecordKind::Correction,
            SyncRecord::WarningChange(_) => RecordKind::WarningChange,
            SyncRecord::Import(_) => RecordKind::Import,
            SyncRecord::Event(_) => RecordKind::Event,
            SyncRecord::Forecast(_) => RecordKind::Forecast,
            SyncRecord::Warning(_) => RecordKind::Warning,
            SyncRecord::User(_) => RecordKind::User,
        }
    }

    pub fn origin(&self) -> &str {
        match self {
            SyncRecord::Area { origin, .. } => origin,
            SyncRecord::Report(r) => &r.origin,
            SyncRecord::Step(s) => &s.origin,
            SyncRecord::Outbox(o) => &o.origin,
            SyncRecord::Correction(c) => &c.origin,
            SyncRecord::WarningChange(w) => &w.origin,
            SyncRecord::Import(i) => &i.origin,
            SyncRecord::Event(e) => &e.origin,
            SyncRecord::Forecast(f) => &f.origin,
            SyncRecord::Warning(w) => &w.origin,
            SyncRecord::User(u) => &u.origin,
        }
    }
}

/// What a feed read: records in log order, the cursor after them and
/// whether more lie beyond.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Changes {
    pub records: Vec<SyncRecord>,
    pub next_cursor: i64,
    pub more: bool,
}

/// A record that could not be applied as it came, kept whole for an analyst.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Conflict {
    /// The node it came from (office name or `hq`).
    pub peer: String,
    pub kind: RecordKind,
    /// The alert reference, report reference or P-code.
    pub key: String,
    pub reason: String,
    /// The record as JSON.
    pub record: String,
    pub at: Timestamp,
}

/// The writes of one batch, inside one transaction (see [`SyncStore::apply`]).
pub trait SyncTx {
    /// Whether a batch with this id was applied before.
    fn applied(&mut self, batch_id: &str) -> Result<bool, StoreError>;
    /// The origin the change log records for the writes that follow (none: made here).
    fn set_origin(&mut self, origin: Option<&str>) -> Result<(), StoreError>;
    fn report(&mut self, reference: &Reference) -> Result<Option<Report>, StoreError>;
    /// Inserts a report (its contact as the sealed text it carries).
    fn insert_report(&mut self, report: &Report) -> Result<(), StoreError>;
    /// The stored reports among `references` (their duplicate links may be left out).
    fn reports_of(&mut self, references: &[Reference]) -> Result<Vec<Report>, StoreError> {
        let mut out = Vec::new();
        for r in references {
            out.extend(self.report(r)?);
        }
        Ok(out)
    }
    /// Inserts many reports, all or none: on an error nothing of them is
    /// stored and the transaction goes on (the caller may insert them one by one).
    fn insert_reports(&mut self, reports: &[Report]) -> Result<(), StoreError>;
    fn steps(&mut self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError>;
    /// The steps of every alert among `alerts`, each alert's in order.
    fn steps_of(&mut self, alerts: &[Reference]) -> Result<Vec<StepRecord>, StoreError> {
        let mut out = Vec::new();
        for alert in alerts {
            out.extend(self.steps(alert)?);
        }
        Ok(out)
    }
    /// Appends a step at `record.seq`, which must be the next position.
    fn append_step(&mut self, record: &StepRecord) -> Result<(), StoreError>;
    fn area(&mut self, pcode: &str) -> Result<Option<Area>, StoreError>;
    fn save_area(&mut self, area: &Area) -> Result<(), StoreError>;
    fn add_conflict(&mut self, conflict: &Conflict) -> Result<(), StoreError>;
    /// Queues notifications in this transaction (a conflict's, with its
    /// row); one whose dedup key is already queued is skipped.
    fn queue_notifications(&mut self, drafts: &[vitalcore_intake::notify::NotificationDraft])
    -> Result<(), StoreError>;
    /// Stores events of the origin's `import` under the import rule (an
    /// event equal to the stored one changes nothing, a revised one
    /// replaces it and the stored one is kept as a prior version), all under
    /// one new import row here that names the origin's import, made only
    /// when something changed. Events arriving this way are not appended to
    /// the change log here: nothing forwards them (an office sends up only
    /// what it made).
    fn put_events(&mut self, import: &ImportOf, events: &[Event]) -> Result<ImportCounts, StoreError>;
    /// Stores the rows of the origin's forecast run that are not here yet,
    /// under one run here that names the origin's (made on its first rows);
    /// returns how many rows were new.
    fn put_forecast(&mut self, forecast: &ForecastOf) -> Result<u64, StoreError>;
    /// Stores the origin's warning unless one is stored for its (unit,
    /// month, kind), with its status and latest note as they stand there
    /// (its run: the one here that names the origin's, if any); returns
    /// whether it was new.
    fn put_warning(&mut self, warning: &WarningOf) -> Result<bool, StoreError>;
    /// Stores the origin's account as it is there, password hash included,
    /// unless the one here is equal (returns whether it changed), with its
    /// audit chain entries by `by`; an account that is no longer active
    /// loses its sessions here. A username another account holds here is a
    /// `Conflict`, nothing overwritten.
    fn put_user(&mut self, user: &User, by: &str) -> Result<bool, StoreError>;
    /// Records the batch as applied (`records` of it were new) and, when
    /// given, moves a cursor: in this transaction.
    fn finish(
        &mut self,
        batch_id: &str,
        peer: &str,
        records: u64,
        at: Timestamp,
        cursor: Option<(&str, Direction, i64)>,
    ) -> Result<(), StoreError>;

    // Flows up from field offices beyond reports and steps.

    /// The feedback messages of `report`'s alert, with their histories.
    fn outbox_of(&mut self, report: &Reference) -> Result<Vec<OutboxMessage>, StoreError>;
    /// The feedback messages of every alert among `reports`, with their histories.
    fn outbox_of_many(&mut self, reports: &[Reference]) -> Result<Vec<OutboxMessage>, StoreError> {
        let mut out = Vec::new();
        for report in reports {
            out.extend(self.outbox_of(report)?);
        }
        Ok(out)
    }
    /// Stores a message and its `queued` change (as `OutboxDraft` says who and when).
    fn queue_message(&mut self, draft: &OutboxDraft) -> Result<(), StoreError>;
    /// Appends a status change at `change.seq`, which must be the message's next position.
    fn append_outbox_change(&mut self, change: &OutboxChange) -> Result<(), StoreError>;
    /// The corrections of `report`, oldest first.
    fn corrections_of(&mut self, report: &Reference) -> Result<Vec<TagCorrection>, StoreError>;
    /// The corrections of every report among `reports`, each report's oldest first.
    fn corrections_of_many(&mut self, reports: &[Reference]) -> Result<Vec<TagCorrection>, StoreError> {
        let mut out = Vec::new();
        for report in reports {
            out.extend(self.corrections_of(report)?);
        }
        Ok(out)
    }
    /// Appends a correction; when `set_tags`, the report's tags become the corrected ones.
    fn add_correction(&mut self, correction: &TagCorrection, set_tags: bool) -> Result<(), StoreError>;
    /// The status changes of the warning (`None`: no such warning here), oldest first.
    fn warning_changes(
        &mut self,
        unit: &str,
        month: Month,
        kind: WarningKind,
    ) -> Result<Option<Vec<WarningChange>>, StoreError>;
    /// Appends a status change to the warning; when `set_status`, the
    /// warning's status, who and when become the change's.
    fn add_warning_change(&mut self, change: &WarningChangeOf, set_status: bool) -> Result<(), StoreError>;
}

/// A closure run in one transaction by [`SyncStore::apply`].
pub type ApplyFn<'a> = dyn FnMut(&mut dyn SyncTx) -> Result<(), StoreError> + 'a;

pub trait SyncStore: Send + Sync {
    fn node(&self) -> Result<Option<Node>, StoreError>;
    /// Stores `node` as this database's identity unless one is stored;
    /// returns the stored one.
    fn init_node(&self, node: &Node) -> Result<Node, StoreError>;
    /// At an office: a sync completed at `at`; `pending_down` still waits at HQ.
    fn node_synced(&self, at: Timestamp, pending_down: u64) -> Result<(), StoreError>;

    /// Registers an office; a name, node id or space already used is a conflict.
    fn add_office(&self, office: &Office) -> Result<(), StoreError>;
    /// Every office, by name.
    fn offices(&self) -> Result<Vec<Office>, StoreError>;
    /// Revokes an office's credential (an unknown name is `NotFound`).
    fn revoke_office(&self, name: &str, at: Timestamp) -> Result<(), StoreError>;
    /// Records an office's contact; `pending_up` when it said.
    fn office_seen(&self, name: &str, at: Timestamp, pending_up: Option<u64>) -> Result<(), StoreError>;

    /// The cursor for `peer` (0 when none).
    fn cursor(&self, peer: &str, direction: Direction) -> Result<i64, StoreError>;
    fn set_cursor(&self, peer: &str, direction: Direction, cursor: i64, at: Timestamp) -> Result<(), StoreError>;

    /// Records of the change log after `since` in `scope`, reading at most
    /// `limit` log entries; records of local origin carry this node's id.
    fn changes(&self, since: i64, scope: &Scope, limit: usize) -> Result<Changes, StoreError>;
    /// How many log entries after `since` lie in `scope`.
    fn pending(&self, since: i64, scope: &Scope) -> Result<u64, StoreError>;

    /// Runs `apply` in one transaction, committed only when it returns `Ok`.
    fn apply(&self, apply: &mut ApplyFn<'_>) -> Result<(), StoreError>;

    /// Every conflict kept, oldest first.
    fn conflicts(&self) -> Result<Vec<Conflict>, StoreError>;
}
