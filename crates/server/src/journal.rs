//! A durable [`ReportStore`] for the embedded setup until the SQLite store
//! keeps reports itself: the in-memory store, replayed at start from an
//! append-only JSON-lines journal next to the database.
//!
//! Durability: every write is appended to the journal and the file is
//! `fsync`ed before the call returns, so nothing is acknowledged that a crash
//! could lose. Writes from many requests are committed together by one
//! writer thread (group commit: one `fsync` for every write waiting at that
//! moment), which is what makes a thousand submissions a second possible on
//! an ordinary disk. A torn last line (a crash mid-write) is ignored on replay.
//!
//! Limits: one process at a time owns the journal (a second process sees
//! only what was written before it started).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Mutex, MutexGuard};
use thiserror::Error;
use vitalcore_intake::auth::{ApiToken, Session, TokenHash, User};
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::report::Verification;
use vitalcore_intake::store::{MemoryStore, ReportFilter, ReportStore, StoreError};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_intake::{ContactRead, Reference, Report, SealedContact};

#[derive(Debug, Error)]
pub enum JournalError {
    #[error("cannot open the report journal {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the report journal {path} is damaged at line {line}: {reason}")]
    Damaged { path: String, line: usize, reason: String },
}

/// One line of the journal.
#[derive(Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
enum Record {
    Report { report: Report, contact: Option<String> },
    Verification { reference: Reference, state: Verification },
    Links { reference: Reference, links: Vec<DuplicateLink> },
    Step { record: StepRecord },
    User { user: User, password_hash: String },
    Session { session: Session },
    EndSession { hash: TokenHash },
    ApiToken { token: ApiToken },
    Revoke { hash: TokenHash, at: Timestamp },
    ContactRead { read: ContactRead },
    Kobo { form: String, uuids: Vec<(String, Reference)> },
}

type Ack = SyncSender<Result<(), String>>;

pub struct JournalStore {
    memory: MemoryStore,
    /// Held from the in-memory change until the line is queued, so the
    /// journal holds changes in the order they were made.
    order: Mutex<Sender<(Vec<u8>, Ack)>>,
    path: PathBuf,
}

impl std::fmt::Debug for JournalStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "JournalStore({})", self.path.display())
    }
}

impl JournalStore {
    /// Opens (or creates) the journal at `path` and replays it.
    pub fn open(path: &Path) -> Result<JournalStore, JournalError> {
        let open_err = |e: std::io::Error| JournalError::Open { path: path.display().to_string(), reason: e.to_string() };
        let memory = MemoryStore::new();
        if path.exists() {
            replay(path, &memory)?;
        }
        let file = OpenOptions::new().create(true).append(true).open(path).map_err(open_err)?;
        let (tx, rx) = channel();
        std::thread::Builder::new().name("report-journal".into()).spawn(move || writer(file, rx)).map_err(open_err)?;
        Ok(JournalStore { memory, order: Mutex::new(tx), path: path.to_path_buf() })
    }

    fn lock(&self) -> MutexGuard<'_, Sender<(Vec<u8>, Ack)>> {
        self.order.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Applies `change` in memory and, if it succeeds, makes `record` durable.
    fn write(&self, record: Record, change: impl FnOnce(&MemoryStore) -> Result<(), StoreError>) -> Result<(), StoreError> {
        let mut line = serde_json::to_vec(&record).map_err(|e| StoreError::Backend(e.to_string()))?;
        line.push(b'\n');
        let (ack_tx, ack_rx) = sync_channel(1);
        {
            let queue = self.lock();
            change(&self.memory)?;
            queue.send((line, ack_tx)).map_err(|_| StoreError::Backend("the journal writer stopped".into()))?;
        }
        ack_rx
            .recv()
            .map_err(|_| StoreError::Backend("the journal writer stopped".into()))?
            .map_err(|e| StoreError::Backend(format!("writing the report journal failed: {e}")))
    }
}

/// Group commit: takes every line waiting, writes them, one `fsync`, then
/// acknowledges them all.
fn writer(mut file: File, rx: Receiver<(Vec<u8>, Ack)>) {
    while let Ok(first) = rx.recv() {
        let mut batch = vec![first];
        while let Ok(more) = rx.try_recv() {
            batch.push(more);
            if batch.len() >= 4096 {
                break;
            }
        }
        let mut buf = Vec::with_capacity(batch.iter().map(|(l, _)| l.len()).sum());
        for (line, _) in &batch {
            buf.extend_from_slice(line);
        }
        let result = file.write_all(&buf).and_then(|_| file.sync_data()).map_err(|e| e.to_string());
        for (_, ack) in batch {
            let _ = ack.send(result.clone());
        }
    }
}

/// Replays the journal; a torn last line is cut off so new lines start clean.
fn replay(path: &Path, memory: &MemoryStore) -> Result<(), JournalError> {
    let text = std::fs::read(path).map_err(|e| JournalError::Open { path: path.display().to_string(), reason: e.to_string() })?;
    let complete = text.iter().rposition(|&b| b == b'\n').map(|i| i + 1).unwrap_or(0);
    for (i, line) in text[..complete].split(|&b| b == b'\n').enumerate() {
        let damaged = |reason: String| JournalError::Damaged { path: path.display().to_string(), line: i + 1, reason };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        let record: Record = serde_json::from_slice(line).map_err(|e| damaged(e.to_string()))?;
        apply(memory, record).map_err(|e| damaged(e.to_string()))?;
    }
    if complete < text.len() {
        // A crash mid-write leaves at most the last line torn; it was never acknowledged.
        let file = OpenOptions::new().write(true).open(path).map_err(|e| JournalError::Open { path: path.display().to_string(), reason: e.to_string() })?;
        file.set_len(complete as u64).and_then(|_| file.sync_all()).map_err(|e| JournalError::Open { path: path.display().to_string(), reason: e.to_string() })?;
    }
    Ok(())
}

fn apply(m: &MemoryStore, record: Record) -> Result<(), StoreError> {
    match record {
        Record::Report { mut report, contact } => {
            report.contact = contact.map(|c| SealedContact::from_stored(&c)).transpose().map_err(|e| StoreError::Backend(e.to_string()))?;
            m.insert_report(&report)
        }
        Record::Verification { reference, state } => m.set_verification(&reference, state),
        Record::Links { reference, links } => m.add_duplicate_links(&reference, &links),
        Record::Step { record } => m.append_step(&record),
        Record::User { mut user, password_hash } => {
            user.password_hash = password_hash;
            m.save_user(&user)
        }
        Record::Session { session } => m.save_session(&session),
        Record::EndSession { hash } => m.delete_session(&hash),
        Record::ApiToken { token } => m.save_api_token(&token),
        Record::Revoke { hash, at } => m.revoke_api_token(&hash, at),
        Record::ContactRead { read } => m.append_contact_read(&read),
        Record::Kobo { form, uuids } => m.record_kobo_uuids(&form, &uuids),
    }
}

impl ReportStore for JournalStore {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError> {
        let contact = report.contact.as_ref().map(|c| c.as_stored().to_string());
        self.write(Record::Report { report: report.clone(), contact }, |m| m.insert_report(report))
    }

    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        self.memory.report(reference)
    }

    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
        self.memory.reports(filter)
    }

    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError> {
        self.write(Record::Verification { reference: reference.clone(), state }, |m| m.set_verification(reference, state))
    }

    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError> {
        self.write(Record::Links { reference: reference.clone(), links: links.to_vec() }, |m| {
            m.add_duplicate_links(reference, links)
        })
    }

    fn append_step(&self, record: &StepRecord) -> Result<(), StoreError> {
        self.write(Record::Step { record: record.clone() }, |m| m.append_step(record))
    }

    fn steps(&self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        self.memory.steps(alert)
    }

    fn save_user(&self, user: &User) -> Result<(), StoreError> {
        self.write(Record::User { user: user.clone(), password_hash: user.password_hash.clone() }, |m| m.save_user(user))
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.memory.user(id)
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.memory.user_by_username(username)
    }

    fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        self.write(Record::Session { session: session.clone() }, |m| m.save_session(session))
    }

    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        self.memory.session(hash)
    }

    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.write(Record::EndSession { hash: *hash }, |m| m.delete_session(hash))
    }

    fn save_api_token(&self, token: &ApiToken) -> Result<(), StoreError> {
        self.write(Record::ApiToken { token: token.clone() }, |m| m.save_api_token(token))
    }

    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        self.memory.api_token(hash)
    }

    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.write(Record::Revoke { hash: *hash, at }, |m| m.revoke_api_token(hash, at))
    }

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError> {
        self.write(Record::ContactRead { read: read.clone() }, |m| m.append_contact_read(read))
    }

    fn contact_reads(&self, reference: &Reference) -> Result<Vec<ContactRead>, StoreError> {
        self.memory.contact_reads(reference)
    }

    fn kobo_uuids(&self, form: &str) -> Result<HashSet<String>, StoreError> {
        self.memory.kobo_uuids(form)
    }

    fn record_kobo_uuids(&self, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        self.write(Record::Kobo { form: form.to_string(), uuids: uuids.to_vec() }, |m| m.record_kobo_uuids(form, uuids))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_intake::auth::Role;
    use vitalcore_intake::{CategoryMap, Channel, ContactKey, Intake, ReportDraft};

    #[test]
    fn reopening_replays_reports_contacts_users_and_steps() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.jsonl");
        let intake = Intake::new(ContactKey::from_bytes([4; 32]), CategoryMap::built_in());
        let now: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let draft = ReportDraft {
            text: "armed men at the market".into(),
            contact: Some(secrecy::SecretString::from("+236 1")),
            ..ReportDraft::default()
        };
        let report = intake.accept_as(&draft, Channel::Cli, now, Reference::from_number(7)).unwrap();
        {
            let s = JournalStore::open(&path).unwrap();
            s.insert_report(&report).unwrap();
            assert!(matches!(s.insert_report(&report), Err(StoreError::Conflict(_))), "a used reference is refused");
            let user = User::new("u1", "resp", Role::Responder, None, "$argon2id$x".into()).unwrap();
            s.save_user(&user).unwrap();
        }
        // A torn last line (crash mid-write) is ignored.
        std::fs::OpenOptions::new().append(true).open(&path).unwrap().write_all(b"{\"op\":\"repo").unwrap();
        let s = JournalStore::open(&path).unwrap();
        let back = s.report(&report.reference).unwrap().unwrap();
        assert_eq!(back.contact, report.contact, "the sealed contact survives");
        assert_eq!(back.text, report.text);
        assert_eq!(s.user_by_username("resp").unwrap().unwrap().password_hash, "$argon2id$x");
        assert_eq!(s.reports(&ReportFilter::default()).unwrap().len(), 1);
    }
}
