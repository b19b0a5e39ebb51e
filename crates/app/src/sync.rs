//! Synchronisation between field offices and headquarters, the use cases
//! (the protocol is `vitalcore-sync`; see its README for the design):
//!
//! - at HQ: register, list and revoke offices ([`add_office`],
//!   [`revoke_office`]); answer an office's bundle ([`hq_answer`], what
//!   `vitalcore serve` does for `POST /api/v1/sync`); export an office's
//!   changes to a file and import one from it;
//! - at an office: [`sync_office`] pushes what was made there (reports, alert
//!   steps, feedback and its delivery status, tag corrections, early-warning
//!   status changes), then
//!   pulls what lies in its areas, over any [`Transport`] (the CLI's is
//!   HTTPS); [`office_export`] and [`import_bundle`] do the same with files;
//! - anywhere: [`status`].
//!
//! Each push and pull is one batch of at most [`BATCH_LIMIT`] change-log
//! entries, applied in one transaction; a cursor moves only with or after
//! the data it covers, so a sync killed at any point and run again loses
//! nothing and duplicates nothing.

use std::sync::Arc;

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use thiserror::Error;
use vitalcore_store::StoreError;
use vitalcore_store::sync::{
    Direction, HQ_SPACE, MAX_SPACE, Node, NodeRole, Office, Origins, RecordKind, Scope, SyncRecord, SyncStore,
};
use vitalcore_sync::bundle::{self, BundleKeys, BundleKind, FORMAT, Header};
use vitalcore_sync::{Applied, Batch, CREDENTIAL_FORMAT, Credential, PullRequest, SyncError, apply_batch};

/// Change-log entries per batch (a few MB of reports before compression).
pub const BATCH_LIMIT: usize = 5_000;

/// The schema version this build writes into bundles (both backends share the numbering).
pub fn schema_version() -> i64 {
    vitalcore_store_sqlite::SCHEMA_VERSION.max(vitalcore_store_postgres::SCHEMA_VERSION)
}

/// Why a synchronisation use case failed; the message says what to do.
#[derive(Debug, Error)]
pub enum SyncFailure {
    #[error(transparent)]
    Sync(#[from] SyncError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Usage(String),
    #[error("headquarters refused the synchronisation: {0}")]
    Refused(String),
    #[error(
        "cannot reach headquarters: {0}. Nothing is lost: what was sent is applied whole or not at all; run the \
         same command again when the link is back"
    )]
    Unreachable(String),
}

impl SyncFailure {
    /// Whether the other side's input was refused (an HTTP 4xx), as opposed to a failure here.
    pub fn is_refusal(&self) -> bool {
        matches!(
            self,
            SyncFailure::Sync(
                SyncError::NotABundle
                    | SyncError::UnknownFormat(_)
                    | SyncError::BadSignature
                    | SyncError::UnknownOffice(_)
                    | SyncError::Revoked { .. }
                    | SyncError::NewerSchema { .. }
                    | SyncError::WrongNode(_)
                    | SyncError::BadBody(_)
            )
        )
    }
}

/// How an office reaches HQ: sends a bundle, returns HQ's answer.
pub trait Transport {
    fn exchange(&self, bundle: Vec<u8>) -> Result<Vec<u8>, SyncFailure>;
}

fn json<T: Serialize>(value: &T) -> Result<Vec<u8>, SyncFailure> {
    serde_json::to_vec(value).map_err(|e| SyncFailure::Sync(SyncError::Internal(e.to_string())))
}

fn parse<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, SyncFailure> {
    serde_json::from_slice(body).map_err(|e| SyncFailure::Sync(SyncError::BadBody(e.to_string())))
}

fn header(kind: BundleKind, office: &str, from: &str, to: &str, batch_id: String, now: Timestamp) -> Header {
    Header {
        format: FORMAT.into(),
        schema: schema_version(),
        kind,
        office: office.into(),
        from_node: from.into(),
        to_node: to.into(),
        batch_id,
        created_at: now,
    }
}

fn new_node_id() -> Result<String, SyncFailure> {
    Ok(vitalcore_sync::random_hex32()?[..32].to_string())
}

// --- headquarters ---

/// This database as HQ: its node, made on first use. A database that is an
/// office is refused.
pub fn hq_node(store: &dyn SyncStore, now: Timestamp) -> Result<Node, SyncFailure> {
    let node = match store.node()? {
        Some(node) => node,
        None => store.init_node(&Node {
            node_id: new_node_id()?,
            name: "hq".into(),
            role: NodeRole::Hq,
            space: HQ_SPACE,
            hq_node: None,
            credential_hash: None,
            created_at: now,
            last_sync: None,
            pending_down: 0,
        })?,
    };
    if node.role != NodeRole::Hq {
        return Err(SyncFailure::Usage(format!(
            "this database is the field office `{}`; offices are registered and served at headquarters",
            node.name
        )));
    }
    Ok(node)
}

/// A new office and its credential (write it to a file only the office gets).
pub struct OfficeAdded {
    pub office: Office,
    pub credential: Credential,
}

/// Registers office `name` for `areas` (P-codes) at HQ.
pub fn add_office(
    store: &dyn SyncStore,
    name: &str,
    areas: &[String],
    now: Timestamp,
) -> Result<OfficeAdded, SyncFailure> {
    let name = name.trim();
    if name.is_empty()
        || name == "hq"
        || !name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        return Err(SyncFailure::Usage(format!(
            "`{name}` cannot name an office: use letters, digits, - _ or . (and not `hq`), e.g. bambari"
        )));
    }
    let areas: Vec<String> = areas.iter().map(|a| a.trim().to_string()).filter(|a| !a.is_empty()).collect();
    if areas.is_empty() {
        return Err(SyncFailure::Usage("give the office's areas as P-codes: --areas CF32,CF43".into()));
    }
    let hq = hq_node(store, now)?;
    let offices = store.offices()?;
    let space = (1..=MAX_SPACE).find(|s| offices.iter().all(|o| o.space != *s)).ok_or_else(|| {
        SyncFailure::Usage(format!("headquarters already has {MAX_SPACE} offices, as many as reference spaces"))
    })?;
    let credential = Credential {
        format: CREDENTIAL_FORMAT.into(),
        office: name.to_string(),
        node_id: new_node_id()?,
        space,
        areas: areas.clone(),
        hq_node: hq.node_id.clone(),
        secret: vitalcore_sync::random_hex32()?,
    };
    let office = Office {
        name: name.to_string(),
        node_id: credential.node_id.clone(),
        areas,
        space,
        credential_hash: credential.hash()?.to_vec(),
        created_at: now,
        revoked_at: None,
        last_sync: None,
        pending_up: 0,
    };
    store.add_office(&office)?;
    Ok(OfficeAdded { office, credential })
}

pub fn offices(store: &dyn SyncStore) -> Result<Vec<Office>, SyncFailure> {
    Ok(store.offices()?)
}

pub fn revoke_office(store: &dyn SyncStore, name: &str, now: Timestamp) -> Result<(), SyncFailure> {
    store.revoke_office(name, now).map_err(|e| match e {
        StoreError::NotFound(_) => {
            SyncFailure::Usage(format!("no office is named `{name}`; `vitalcore sync office list` shows them"))
        }
        e => e.into(),
    })
}

/// What HQ sends an office: its areas, from HQ and the other offices.
fn down_scope(office: &Office) -> Scope {
    Scope {
        origins: Origins::Except(office.node_id.clone()),
        areas: Some(office.areas.clone()),
        kinds: vec![
            RecordKind::Area,
            RecordKind::Report,
            RecordKind::Step,
            RecordKind::Event,
            RecordKind::Forecast,
            RecordKind::Warning,
            RecordKind::WarningChange,
            RecordKind::User,
        ],
    }
}

/// What an office sends HQ: what was made there.
fn up_scope() -> Scope {
    Scope {
        origins: Origins::Local,
        areas: None,
        kinds: vec![
            RecordKind::Report,
            RecordKind::Step,
            RecordKind::Outbox,
            RecordKind::Correction,
            RecordKind::WarningChange,
        ],
    }
}

/// Opens a bundle from an office at HQ: the office registered and not
/// revoked, the signature good, the schema not newer, addressed to this HQ.
fn open_from_office(
    store: &dyn SyncStore,
    bytes: &[u8],
    now: Timestamp,
) -> Result<(Node, Office, Header, Vec<u8>), SyncFailure> {
    let hq = hq_node(store, now)?;
    let head = bundle::peek(bytes)?;
    let office = store
        .offices()?
        .into_iter()
        .find(|o| o.name == head.office)
        .ok_or_else(|| SyncError::UnknownOffice(head.office.clone()))?;
    if let Some(at) = office.revoked_at {
        return Err(SyncError::Revoked { office: office.name, at: at.to_string() }.into());
    }
    let (head, body) = bundle::open(bytes, &BundleKeys::from_credential_hash(&office.credential_hash))?;
    if head.schema > schema_version() {
        return Err(SyncError::NewerSchema { found: head.schema, known: schema_version() }.into());
    }
    if head.from_node != office.node_id || head.to_node != hq.node_id {
        return Err(SyncError::WrongNode(format!(
            "the bundle is addressed to another headquarters (node {}); nothing was applied",
            head.to_node
        ))
        .into());
    }
    Ok((hq, office, head, body))
}

fn strip_contacts(records: &mut [SyncRecord]) {
    for r in records {
        if let SyncRecord::Report(r) = r {
            r.contact = None;
            r.report.contact = None;
        }
    }
}

/// A batch of HQ's changes for `office` after `cursor` (contacts never go down).
fn down_batch(
    store: &dyn SyncStore,
    hq: &Node,
    office: &Office,
    cursor: i64,
    limit: usize,
) -> Result<Batch, SyncFailure> {
    let scope = down_scope(office);
    let mut changes = store.changes(cursor, &scope, limit)?;
    strip_contacts(&mut changes.records);
    let pending_after = store.pending(changes.next_cursor, &scope)?;
    Ok(Batch {
        batch_id: format!("{}:{}-{}:{}", hq.node_id, cursor, changes.next_cursor, office.node_id),
        from_cursor: cursor,
        to_cursor: changes.next_cursor,
        more: changes.more,
        pending_after,
        records: changes.records,
    })
}

/// HQ's answer to an office's bundle (`POST /api/v1/sync`): a push is
/// applied and acknowledged, a pull request answered with a batch.
pub fn hq_answer(store: &dyn SyncStore, bytes: &[u8], now: Timestamp) -> Result<Vec<u8>, SyncFailure> {
    let (hq, office, head, body) = open_from_office(store, bytes, now)?;
    let keys = BundleKeys::from_credential_hash(&office.credential_hash);
    match head.kind {
        BundleKind::Push => {
            let batch: Batch = parse(&body)?;
            let applied = apply_batch(store, &hq.node_id, &office.name, &batch, None, now)?;
            store.office_seen(&office.name, now, Some(batch.pending_after))?;
            let ack = Ack { batch_id: batch.batch_id.clone(), applied };
            let h = header(BundleKind::Ack, &office.name, &hq.node_id, &office.node_id, batch.batch_id, now);
            Ok(bundle::seal(&h, &json(&ack)?, &keys)?)
        }
        BundleKind::PullRequest => {
            let request: PullRequest = parse(&body)?;
            // The office holds everything up to its cursor: HQ's record of it.
            store.set_cursor(&office.node_id, Direction::Down, request.cursor, now)?;
            store.office_seen(&office.name, now, None)?;
            let batch = down_batch(store, &hq, &office, request.cursor, request.limit.clamp(1, BATCH_LIMIT))?;
            let h = header(BundleKind::Pull, &office.name, &hq.node_id, &office.node_id, batch.batch_id.clone(), now);
            Ok(bundle::seal(&h, &json(&batch)?, &keys)?)
        }
        other => Err(SyncError::BadBody(format!("headquarters does not take a `{other:?}` bundle")).into()),
    }
}

/// HQ's acknowledgement of a push.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Ack {
    pub batch_id: String,
    pub applied: Applied,
}

/// At HQ: every change for `office` since what HQ last knew it held, as one
/// bundle for a USB stick; returns the bundle and how many records it holds.
pub fn hq_export(store: &dyn SyncStore, office: &str, now: Timestamp) -> Result<(Vec<u8>, usize), SyncFailure> {
    let hq = hq_node(store, now)?;
    let office = store.offices()?.into_iter().find(|o| o.name == office).ok_or_else(|| {
        SyncFailure::Usage(format!("no office is named `{office}`; `vitalcore sync office list` shows them"))
    })?;
    if let Some(at) = office.revoked_at {
        return Err(SyncError::Revoked { office: office.name, at: at.to_string() }.into());
    }
    let cursor = store.cursor(&office.node_id, Direction::Down)?;
    let batch = down_batch(store, &hq, &office, cursor, usize::MAX)?;
    let n = batch.records.len();
    let h = header(BundleKind::Pull, &office.name, &hq.node_id, &office.node_id, batch.batch_id.clone(), now);
    let keys = BundleKeys::from_credential_hash(&office.credential_hash);
    Ok((bundle::seal(&h, &json(&batch)?, &keys)?, n))
}

// --- field office ---

/// This database as the office the credential names: its node, made on
/// first use. A database that is HQ or another office is refused.
pub fn join(store: &dyn SyncStore, credential: &Credential, now: Timestamp) -> Result<Node, SyncFailure> {
    let wanted = Node {
        node_id: credential.node_id.clone(),
        name: credential.office.clone(),
        role: NodeRole::Office,
        space: credential.space,
        hq_node: Some(credential.hq_node.clone()),
        credential_hash: Some(credential.hash()?.to_vec()),
        created_at: now,
        last_sync: None,
        pending_down: 0,
    };
    let node = store.init_node(&wanted)?;
    if node.node_id != wanted.node_id {
        return Err(SyncFailure::Usage(match node.role {
            NodeRole::Hq => "this database is headquarters; run sync with the office's own database (--db FILE)".into(),
            NodeRole::Office => format!(
                "this database is the field office `{}`, and the credential is office `{}`'s; use that office's \
                 database (--db FILE) or its credential",
                node.name, credential.office
            ),
        }));
    }
    if node.credential_hash != wanted.credential_hash {
        return Err(SyncFailure::Usage(format!(
            "the credential file is not the one this office `{}` was set up with; use the office's own credential",
            node.name
        )));
    }
    Ok(node)
}

/// This database as an office (joined with a credential before).
fn office_node(store: &dyn SyncStore, credential: Option<&Credential>, now: Timestamp) -> Result<Node, SyncFailure> {
    match credential {
        Some(c) => join(store, c, now),
        None => match store.node()? {
            Some(n) if n.role == NodeRole::Office => Ok(n),
            _ => Err(SyncFailure::Usage(
                "this database is not a field office yet: give the office's credential (--credential FILE)".into(),
            )),
        },
    }
}

fn office_keys(node: &Node) -> Result<(BundleKeys, String), SyncFailure> {
    let hash =
        node.credential_hash.as_ref().ok_or_else(|| SyncFailure::Usage("the office has no credential".into()))?;
    let hq =
        node.hq_node.clone().ok_or_else(|| SyncFailure::Usage("the office does not know its headquarters".into()))?;
    Ok((BundleKeys::from_credential_hash(hash), hq))
}

/// Opens a bundle from HQ at an office.
fn open_from_hq(node: &Node, keys: &BundleKeys, hq: &str, bytes: &[u8]) -> Result<(Header, Vec<u8>), SyncFailure> {
    let (head, body) = bundle::open(bytes, keys)?;
    if head.schema > schema_version() {
        return Err(SyncError::NewerSchema { found: head.schema, known: schema_version() }.into());
    }
    if head.from_node != hq || head.to_node != node.node_id {
        return Err(SyncError::WrongNode(format!(
            "the bundle is for another office (`{}`); nothing was applied; import it at that office",
            head.office
        ))
        .into());
    }
    Ok((head, body))
}

/// The office's changes after its up cursor: one batch of at most `limit` entries.
fn up_batch(store: &dyn SyncStore, node: &Node, hq: &str, limit: usize) -> Result<Batch, SyncFailure> {
    let cursor = store.cursor(hq, Direction::Up)?;
    let changes = store.changes(cursor, &up_scope(), limit)?;
    let pending_after = store.pending(changes.next_cursor, &up_scope())?;
    Ok(Batch {
        batch_id: format!("{}:{}-{}", node.node_id, cursor, changes.next_cursor),
        from_cursor: cursor,
        to_cursor: changes.next_cursor,
        more: changes.more,
        pending_after,
        records: changes.records,
    })
}

/// What one sync moved.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct SyncSummary {
    /// Records sent up, and how many of them HQ stored as new.
    pub pushed: u64,
    pub pushed_new: u64,
    /// Records received, new here, and already here.
    pub pulled: u64,
    pub pulled_new: u64,
    pub conflicts: u64,
    pub batches: u64,
    pub bytes_up: u64,
    pub bytes_down: u64,
}

/// At an office: pushes its changes, then pulls HQ's for its areas, in
/// batches. Returns only when both directions completed.
pub fn sync_office(
    store: &dyn SyncStore,
    credential: Option<&Credential>,
    transport: &dyn Transport,
    limit: usize,
    now: Timestamp,
) -> Result<SyncSummary, SyncFailure> {
    let node = office_node(store, credential, now)?;
    let (keys, hq) = office_keys(&node)?;
    let mut summary = SyncSummary::default();
    loop {
        let batch = up_batch(store, &node, &hq, limit)?;
        if batch.records.is_empty() {
            if batch.to_cursor > batch.from_cursor {
                store.set_cursor(&hq, Direction::Up, batch.to_cursor, now)?;
            }
            if batch.more {
                continue;
            }
            break;
        }
        let h = header(BundleKind::Push, &node.name, &node.node_id, &hq, batch.batch_id.clone(), now);
        let sent = bundle::seal(&h, &json(&batch)?, &keys)?;
        summary.bytes_up += sent.len() as u64;
        let answer = transport.exchange(sent)?;
        summary.bytes_down += answer.len() as u64;
        let (head, body) = open_from_hq(&node, &keys, &hq, &answer)?;
        let ack: Ack = parse(&body)?;
        if head.kind != BundleKind::Ack || ack.batch_id != batch.batch_id {
            return Err(SyncError::BadBody("headquarters acknowledged another batch".into()).into());
        }
        store.set_cursor(&hq, Direction::Up, batch.to_cursor, now)?;
        summary.pushed += batch.records.len() as u64;
        summary.pushed_new += ack.applied.new;
        summary.batches += 1;
        if !batch.more {
            break;
        }
    }
    let pending_down = loop {
        let cursor = store.cursor(&hq, Direction::Down)?;
        let request = PullRequest { cursor, limit };
        let h = header(
            BundleKind::PullRequest,
            &node.name,
            &node.node_id,
            &hq,
            format!("{}:pull:{cursor}", node.node_id),
            now,
        );
        let sent = bundle::seal(&h, &json(&request)?, &keys)?;
        summary.bytes_up += sent.len() as u64;
        let answer = transport.exchange(sent)?;
        summary.bytes_down += answer.len() as u64;
        let (head, body) = open_from_hq(&node, &keys, &hq, &answer)?;
        let batch: Batch = parse(&body)?;
        if head.kind != BundleKind::Pull || batch.from_cursor != cursor {
            return Err(SyncError::BadBody("headquarters answered another request".into()).into());
        }
        let applied =
            apply_batch(store, &node.node_id, "hq", &batch, Some((&hq, Direction::Down, batch.to_cursor)), now)?;
        summary.pulled += batch.records.len() as u64;
        summary.pulled_new += applied.new;
        summary.conflicts += applied.conflicts;
        summary.batches += 1;
        if !batch.more {
            break batch.pending_after;
        }
    };
    store.node_synced(now, pending_down)?;
    Ok(summary)
}

/// At an office: every change not yet acknowledged by HQ, as one bundle for
/// a USB stick (the cursor does not move: what HQ already has is harmless).
pub fn office_export(
    store: &dyn SyncStore,
    credential: Option<&Credential>,
    now: Timestamp,
) -> Result<(Vec<u8>, usize), SyncFailure> {
    let node = office_node(store, credential, now)?;
    let (keys, hq) = office_keys(&node)?;
    let batch = up_batch(store, &node, &hq, usize::MAX)?;
    let n = batch.records.len();
    let h = header(BundleKind::Push, &node.name, &node.node_id, &hq, batch.batch_id.clone(), now);
    Ok((bundle::seal(&h, &json(&batch)?, &keys)?, n))
}

/// Imports a bundle from a file: at HQ an office's push, at an office HQ's
/// export for it. Everything is checked before anything is applied.
pub fn import_bundle(
    store: &dyn SyncStore,
    credential: Option<&Credential>,
    bytes: &[u8],
    now: Timestamp,
) -> Result<Applied, SyncFailure> {
    let node = match (store.node()?, credential) {
        (Some(n), _) if n.role == NodeRole::Hq => n,
        (None, None) => {
            // A bundle for an office on a database that is nothing yet: it
            // must not become headquarters by mistake.
            if bundle::peek(bytes)?.kind != BundleKind::Push {
                return Err(SyncFailure::Usage(
                    "this database is not a field office yet: give the office's credential (--credential FILE)".into(),
                ));
            }
            hq_node(store, now)?
        }
        _ => office_node(store, credential, now)?,
    };
    match node.role {
        NodeRole::Hq => {
            let (hq, office, head, body) = open_from_office(store, bytes, now)?;
            if head.kind != BundleKind::Push {
                return Err(SyncError::BadBody(
                    "headquarters imports an office's export (sync export at the office)".into(),
                )
                .into());
            }
            let batch: Batch = parse(&body)?;
            let applied = apply_batch(store, &hq.node_id, &office.name, &batch, None, now)?;
            store.office_seen(&office.name, now, Some(batch.pending_after))?;
            Ok(applied)
        }
        NodeRole::Office => {
            let (keys, hq) = office_keys(&node)?;
            let (head, body) = open_from_hq(&node, &keys, &hq, bytes)?;
            if head.kind != BundleKind::Pull {
                return Err(SyncError::BadBody(
                    "an office imports headquarters' export for it (sync export --office at HQ)".into(),
                )
                .into());
            }
            let batch: Batch = parse(&body)?;
            let cursor = store.cursor(&hq, Direction::Down)?;
            // The cursor moves only when the bundle starts at or before it
            // (else changes in between are still missing here).
            let moves =
                (batch.from_cursor <= cursor).then_some((hq.as_str(), Direction::Down, cursor.max(batch.to_cursor)));
            Ok(apply_batch(store, &node.node_id, "hq", &batch, moves, now)?)
        }
    }
}

// --- status ---

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OfficeStatus {
    pub name: String,
    pub last_sync: Option<Timestamp>,
    pub pending_up: u64,
    pub pending_down: u64,
    pub conflicts: u64,
}

/// `vitalcore sync status --format json`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Status {
    pub node: Option<String>,
    pub offices: Vec<OfficeStatus>,
}

/// Per office (at HQ every office, at an office itself): the last contact,
/// what waits in each direction, and conflicts.
pub fn status(store: &dyn SyncStore) -> Result<Status, SyncFailure> {
    let Some(node) = store.node()? else { return Ok(Status { node: None, offices: Vec::new() }) };
    let conflicts = store.conflicts()?;
    let offices = match node.role {
        NodeRole::Hq => store
            .offices()?
            .into_iter()
            .map(|o| {
                let cursor = store.cursor(&o.node_id, Direction::Down)?;
                Ok(OfficeStatus {
                    pending_down: store.pending(cursor, &down_scope(&o))?,
                    conflicts: conflicts.iter().filter(|c| c.peer == o.name).count() as u64,
                    last_sync: o.last_sync,
                    pending_up: o.pending_up,
                    name: o.name,
                })
            })
            .collect::<Result<Vec<_>, SyncFailure>>()?,
        NodeRole::Office => {
            let hq = node.hq_node.clone().unwrap_or_default();
            let cursor = store.cursor(&hq, Direction::Up)?;
            vec![OfficeStatus {
                name: node.name.clone(),
                last_sync: node.last_sync,
                pending_up: store.pending(cursor, &up_scope())?,
                pending_down: node.pending_down,
                conflicts: conflicts.len() as u64,
            }]
        }
    };
    Ok(Status { node: Some(node.name), offices })
}

/// The stores' sync store, for callers holding [`crate::backend::Stores`].
pub fn store_of(stores: &crate::backend::Stores) -> Arc<dyn SyncStore> {
    stores.sync.clone()
}

/// How fresh each area's data is (the alert page).
pub mod staleness;
