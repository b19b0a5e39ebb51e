//! Community reports, the alert step log, users, sessions, API tokens, the
//! contact audit log, KoBo submission uuids and the SMS outbox:
//! vitalcore-intake's [`ReportStore`] in this database (schema
//! `migrations/0002_reports.sql`, the outbox `0006_outbox_and_warning_notes.sql`,
//! SMS message ids stored once `0007_sms_message_ids.sql`).
//!
//! Every write is one `BEGIN IMMEDIATE` transaction on the writer
//! connection, so a check and the write it guards (the next step position, a
//! free username, the head of the audit chain) cannot interleave with
//! another thread or process. Reads use the read-only pool and never wait
//! for a write. Writes of security-relevant facts append their audit chain
//! entry in their own transaction (`audit.rs`).
//!
//! Single reports submitted at once share a commit ([`GroupCommit`]): with
//! `synchronous=FULL` each commit waits for an fsync (milliseconds on most
//! disks), and one fsync per report would cap intake at a few hundred a
//! second.
//!
//! Reports are stored column by column (no JSON): the columns are what
//! filters and a SQL shell need, and a float read back from a REAL column is
//! bit-exact. The contact is stored only as its sealed text.

use std::collections::{HashMap, HashSet};
use std::sync::{Condvar, Mutex, MutexGuard};

use jiff::Timestamp;
use rusqlite::types::Value;
use rusqlite::{Connection, OptionalExtension, Row, Transaction, TransactionBehavior, params, params_from_iter};
use vitalcore_framework::Tags;
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage};
use vitalcore_intake::report::{Reference, Report, ReportPlace, Urgency, Verification};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_intake::{ContactRead, SealedContact};
use vitalcore_security::audit::{AuditEntry, AuditEvent};
use vitalcore_security::auth::{ApiToken, Role, Session, TokenHash, User};
use vitalcore_store::StoreError;
use vitalcore_store::columns::{join_tags, split_tags};
use vitalcore_store::report_codec::{
    channel_from, channel_name, check_next_step, clamped_ns, damaged, parse_role, parse_time, received_ns,
    sms_message_id, sms_repeat_conflict, step_record, verification_from, verification_text,
};
use vitalcore_store::reports::{
    AccessEnded, ReportFilter, ReportStore, TagCorrection, TokenSelector, sort_by_creation,
};

use crate::SqliteStore;

/// The notification outbox, the on-call rota, staff contacts (migration 11).
mod notify;
/// The SMS outbox's tables (migration 6).
mod outbox;
/// Synchronisation between offices and HQ (migration 10).
mod sync;
/// What else flows up from field offices (migration 15).
mod sync_up;

/// The audit chain (migration 7).
pub(crate) mod audit;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn is_unique_violation(e: &rusqlite::Error) -> bool {
    e.sqlite_error().is_some_and(|e| e.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE)
}

fn db_ref(e: &rusqlite::Error) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// A report waiting for its group's commit.
pub(crate) struct Waiting {
    ticket: u64,
    report: Report,
    row: ReportRow,
    /// Notifications its alert gives rise to, queued with it.
    notes: Vec<vitalcore_intake::notify::NotificationDraft>,
}

/// Group commit of single reports. A thread with a report joins the queue;
/// when no group is being committed it takes the whole queue and commits
/// it (its own report included), then hands each waiting thread its
/// result. Reports arriving meanwhile form the next group. So a report's
/// caller returns only after the commit that holds it, and under load
/// one fsync serves every report that came in during the one before.
#[derive(Default)]
pub(crate) struct GroupCommit {
    state: Mutex<GroupState>,
    finished: Condvar,
}

#[derive(Default)]
struct GroupState {
    committing: bool,
    next_ticket: u64,
    queue: Vec<Waiting>,
    results: HashMap<u64, Result<(), StoreError>>,
}

impl GroupCommit {
    fn lock(&self) -> MutexGuard<'_, GroupState> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn submit(
        &self,
        report: &Report,
        row: ReportRow,
        notes: &[vitalcore_intake::notify::NotificationDraft],
        commit: impl Fn(&[Waiting]) -> Vec<Result<(), StoreError>>,
    ) -> Result<(), StoreError> {
        let mut state = self.lock();
        let ticket = state.next_ticket;
        state.next_ticket += 1;
        state.queue.push(Waiting { ticket, report: report.clone(), row, notes: notes.to_vec() });
        loop {
            if let Some(result) = state.results.remove(&ticket) {
                return result;
            }
            if !state.committing {
                state.committing = true;
                let batch = std::mem::take(&mut state.queue);
                drop(state);
                let mut leader = Leader { group: self, tickets: batch.iter().map(|w| w.ticket).collect() };
                let results = commit(&batch);
                state = leader.finish(results);
                continue;
            }
            state = self.finished.wait(state).unwrap_or_else(|p| p.into_inner());
        }
    }
}

/// The thread committing a group. If the commit panics, its reports get an
/// error instead of waiting forever, and the next group can start.
struct Leader<'a> {
    group: &'a GroupCommit,
    tickets: Vec<u64>,
}

impl<'a> Leader<'a> {
    fn finish(&mut self, results: Vec<Result<(), StoreError>>) -> MutexGuard<'a, GroupState> {
        let mut state = self.group.lock();
        for (ticket, result) in self.tickets.drain(..).zip(results) {
            state.results.insert(ticket, result);
        }
        state.committing = false;
        self.group.finished.notify_all();
        state
    }
}

impl Drop for Leader<'_> {
    fn drop(&mut self) {
        if self.tickets.is_empty() {
            return;
        }
        let mut state = self.group.lock();
        for ticket in self.tickets.drain(..) {
            state.results.insert(ticket, Err(StoreError::Backend("the commit of this report was interrupted".into())));
        }
        state.committing = false;
        self.group.finished.notify_all();
    }
}

impl SqliteStore {
    /// Runs `write` in one immediate transaction on the writer connection;
    /// an error rolls everything back.
    fn report_tx<T>(&self, write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.writer();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db)?;
        let out = write(&tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    /// Like [`report_tx`](Self::report_tx), but the commit does not wait
    /// for the disk (`synchronous=NORMAL`), for what can be recomputed:
    /// the links back from older reports to a new likely duplicate (the
    /// new report keeps its own links, committed durably with it). A power
    /// cut can lose such a commit only until the next durable commit, whose
    /// fsync of the WAL takes it along. The intake worker writes one per
    /// older report: with an fsync each they held the write lock long
    /// enough to stall submissions.
    fn relaxed_tx<T>(&self, write: impl FnOnce(&Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut conn = self.writer();
        conn.pragma_update(None, "synchronous", "NORMAL").map_err(db)?;
        let result = conn.transaction_with_behavior(TransactionBehavior::Immediate).map_err(db).and_then(|tx| {
            let out = write(&tx)?;
            tx.commit().map_err(db)?;
            Ok(out)
        });
        let reset = conn.pragma_update(None, "synchronous", "FULL").map_err(db);
        let out = result?;
        reset?;
        Ok(out)
    }

    /// Commits one group of reports in one transaction: each report under a
    /// savepoint, so that one refused report does not take the others down.
    fn commit_group(&self, batch: &[Waiting]) -> Vec<Result<(), StoreError>> {
        let mut conn = self.writer();
        let all_fail =
            |e: rusqlite::Error| -> Vec<Result<(), StoreError>> { batch.iter().map(|_| Err(db_ref(&e))).collect() };
        let mut tx = match conn.transaction_with_behavior(TransactionBehavior::Immediate) {
            Ok(tx) => tx,
            Err(e) => return all_fail(e),
        };
        let mut results = Vec::with_capacity(batch.len());
        for w in batch {
            let one = tx.savepoint().map_err(db).and_then(|sp| {
                insert_report(&sp, &w.report, &w.row)?;
                notify::queue(&sp, &w.notes)?;
                sp.commit().map_err(db)
            });
            results.push(one);
        }
        match tx.commit() {
            Ok(()) => results,
            Err(e) => all_fail(e),
        }
    }

    fn report_read<T>(&self, read: impl FnOnce(&Connection) -> Result<T, StoreError>) -> Result<T, StoreError> {
        self.read(|conn| Ok(read(conn))).map_err(|e| StoreError::Backend(e.to_string()))?
    }
}

impl ReportStore for SqliteStore {
    /// Returns once the report is committed and on disk. Reports submitted
    /// while another group is being committed wait for it and then go in
    /// one transaction of their own, each under a savepoint (a reference
    /// already used fails that report alone).
    fn insert_report(&self, report: &Report) -> Result<(), StoreError> {
        let row = ReportRow::of(report)?;
        self.group.submit(report, row, &[], |batch| self.commit_group(batch))
    }

    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        self.report_read(|conn| {
            let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reference = ?1");
            let found = conn
                .prepare_cached(&sql)
                .map_err(db)?
                .query_row([reference.as_str()], read_report)
                .optional()
                .map_err(db)?;
            match found {
                None => Ok(None),
                Some(row) => row.and_then(|(id, report)| with_links(conn, id, report)).map(Some),
            }
        })
    }

    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
        self.report_read(|conn| list_reports(conn, filter))
    }

    fn sms_report(&self, gateway: &str, message_id: &str) -> Result<Option<Report>, StoreError> {
        self.report_read(|conn| {
            // The partial unique index `reports_sms_message_id` answers this.
            let sql = format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE channel = 'sms' AND channel_name = ?1 AND source_id = ?2"
            );
            let found = conn
                .prepare_cached(&sql)
                .map_err(db)?
                .query_row([gateway, message_id], read_report)
                .optional()
                .map_err(db)?;
            match found {
                None => Ok(None),
                Some(row) => row.and_then(|(id, report)| with_links(conn, id, report)).map(Some),
            }
        })
    }

    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let changed = tx
                .prepare_cached("UPDATE reports SET verification = ?1 WHERE reference = ?2")
                .map_err(db)?
                .execute(params![verification_text(state), reference.as_str()])
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("report {reference}")));
            }
            Ok(())
        })
    }

    /// Not durable on its own (see [`SqliteStore::relaxed_tx`]).
    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError> {
        self.relaxed_tx(|tx| {
            let id = report_id(tx, reference)?.ok_or_else(|| StoreError::NotFound(format!("report {reference}")))?;
            add_links(tx, id, links)
        })
    }

    /// One transaction for the whole batch: a page that many reports' links
    /// share (recent reports' links sit together) is written to the WAL
    /// once, not once per report. Not durable on its own either.
    fn add_duplicate_links_many(&self, links: &[(Reference, Vec<DuplicateLink>)]) -> Result<(), StoreError> {
        self.relaxed_tx(|tx| {
            for (reference, l) in links {
                if let Some(id) = report_id(tx, reference)? {
                    add_links(tx, id, l)?;
                }
            }
            Ok(())
        })
    }

    fn append_step(&self, record: &StepRecord) -> Result<(), StoreError> {
        let detail = step_detail(record)?;
        self.report_tx(|tx| insert_step(tx, record, &detail))
    }

    fn append_step_with_messages(&self, record: &StepRecord, messages: &[OutboxDraft]) -> Result<Vec<i64>, StoreError> {
        let detail = step_detail(record)?;
        self.report_tx(|tx| {
            insert_step(tx, record, &detail)?;
            messages.iter().map(|m| outbox::queue(tx, m)).collect()
        })
    }

    fn outbox(&self, filter: &OutboxFilter) -> Result<Vec<OutboxMessage>, StoreError> {
        self.report_read(|conn| outbox::list(conn, filter))
    }

    fn append_outbox_changes(&self, changes: &[OutboxChange]) -> Result<(), StoreError> {
        self.report_tx(|tx| outbox::append_changes(tx, changes))
    }

    fn steps(&self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        self.report_read(|conn| read_steps(conn, alert))
    }

    fn save_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let before = find_user(tx, "id", &user.id)?;
            ensure_username_free(tx, user)?;
            upsert_user(tx, user)?;
            for event in AuditEvent::user_saved(before.as_ref(), user, by, Timestamp::now()) {
                audit::append(tx, &event)?;
            }
            Ok(())
        })
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.report_read(|conn| find_user(conn, "id", id))
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.report_read(|conn| find_user(conn, "username", username))
    }

    fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.prepare_cached(
                "INSERT OR REPLACE INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db)?
            .execute(params![
                &session.token_hash.0[..],
                session.user_id,
                session.created_at.to_string(),
                session.expires_at.to_string(),
                session.last_seen_at.to_string()
            ])
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        self.report_read(|conn| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = ?1");
            let found = conn.prepare_cached(&sql).map_err(db)?.query_row([&hash.0[..]], read_session).optional();
            found.map_err(db)?.transpose()
        })
    }

    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1")
                .map_err(db)?
                .execute([&hash.0[..]])
                .map_err(db)?;
            Ok(())
        })
    }

    fn save_api_token(&self, token: &ApiToken, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let before = find_api_token(tx, &token.token_hash)?;
            tx.prepare_cached(
                "INSERT OR REPLACE INTO api_tokens (token_hash, partner, user_id, created_at, revoked_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .map_err(db)?
            .execute(params![
                &token.token_hash.0[..],
                token.partner,
                token.user_id,
                token.created_at.to_string(),
                token.revoked_at.map(|t| t.to_string()),
                token.expires_at.map(|t| t.to_string())
            ])
            .map_err(db)?;
            for event in AuditEvent::token_saved(before.as_ref(), token, by, Timestamp::now()) {
                audit::append(tx, &event)?;
            }
            Ok(())
        })
    }

    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        self.report_read(|conn| find_api_token(conn, hash))
    }

    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let token = find_api_token(tx, hash)?.ok_or_else(|| StoreError::NotFound("API token".into()))?;
            if token.revoked_at.is_some() {
                return Ok(()); // the first revocation stays
            }
            tx.prepare_cached("UPDATE api_tokens SET revoked_at = ?1 WHERE token_hash = ?2")
                .map_err(db)?
                .execute(params![at.to_string(), &hash.0[..]])
                .map_err(db)?;
            audit::append(tx, &AuditEvent::token_revoked(&token, by, at))?;
            Ok(())
        })
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.report_read(|conn| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username");
            let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt.query_map([], read_user).map_err(db)?;
            rows.map(|r| r.map_err(db)?).collect()
        })
    }

    fn save_user_ending_access(&self, user: &User, at: Timestamp, by: &str) -> Result<AccessEnded, StoreError> {
        self.report_tx(|tx| {
            ensure_username_free(tx, user)?;
            let before = find_user(tx, "id", &user.id)?
                .ok_or_else(|| StoreError::NotFound(format!("user `{}`", user.username)))?;
            upsert_user(tx, user)?;
            for event in AuditEvent::user_saved(Some(&before), user, by, at) {
                audit::append(tx, &event)?;
            }
            let sessions_ended = delete_sessions_of(tx, &user.id)?;
            let tokens_revoked = revoke_selected_tokens(tx, &TokenSelector::User(user.id.clone()), at, by)?.len();
            Ok(AccessEnded { sessions_ended, tokens_revoked })
        })
    }

    fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        self.report_read(|conn| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = ?1");
            let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
            let rows = stmt.query_map([user_id], read_session).map_err(db)?;
            let mut out = rows.map(|r| r.map_err(db)?).collect::<Result<Vec<_>, _>>()?;
            sort_by_creation(&mut out, |s| (s.created_at, s.token_hash));
            Ok(out)
        })
    }

    fn delete_sessions_of(&self, user_id: &str) -> Result<usize, StoreError> {
        self.report_tx(|tx| delete_sessions_of(tx, user_id))
    }

    fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.prepare_cached("UPDATE sessions SET last_seen_at = ?1 WHERE token_hash = ?2")
                .map_err(db)?
                .execute(params![at.to_string(), &hash.0[..]])
                .map_err(db)?;
            Ok(())
        })
    }

    fn delete_expired_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<usize, StoreError> {
        // Times are text with optional fractions, which do not sort as
        // text: read them, decide here, delete by hash.
        self.report_tx(|tx| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions");
            let mut stmt = tx.prepare_cached(&sql).map_err(db)?;
            let sessions = stmt.query_map([], read_session).map_err(db)?;
            let mut gone = Vec::new();
            for s in sessions {
                let s = s.map_err(db)??;
                if s.expires_at <= now || s.last_seen_at < idle_since {
                    gone.push(s.token_hash);
                }
            }
            let mut delete = tx.prepare_cached("DELETE FROM sessions WHERE token_hash = ?1").map_err(db)?;
            for hash in &gone {
                delete.execute([&hash.0[..]]).map_err(db)?;
            }
            Ok(gone.len())
        })
    }

    fn api_tokens(&self, which: &TokenSelector) -> Result<Vec<ApiToken>, StoreError> {
        self.report_read(|conn| select_api_tokens(conn, which))
    }

    fn revoke_api_tokens(&self, which: &TokenSelector, at: Timestamp, by: &str) -> Result<Vec<ApiToken>, StoreError> {
        self.report_tx(|tx| revoke_selected_tokens(tx, which, at, by))
    }

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.prepare_cached(
                "INSERT INTO contact_reads (report, user_id, role, purpose, at) VALUES (?1, ?2, ?3, ?4, ?5)",
            )
            .map_err(db)?
            .execute(params![read.report, read.user_id, read.role.as_str(), read.purpose, read.at.to_string()])
            .map_err(db)?;
            audit::append(tx, &AuditEvent::contact_read(read))?;
            Ok(())
        })
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        self.report_tx(|tx| audit::append(tx, event))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.report_read(|conn| audit::entries(conn, after_seq, limit))
    }

    fn audit_head(&self) -> Result<Option<AuditEntry>, StoreError> {
        self.report_read(audit::head)
    }

    fn contact_read_log(&self) -> Result<Vec<ContactRead>, StoreError> {
        self.report_read(audit::contact_read_log)
    }

    fn step_log(&self) -> Result<Vec<StepRecord>, StoreError> {
        self.report_read(audit::step_log)
    }

    fn contact_reads(&self, reference: &Reference) -> Result<Vec<ContactRead>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn
                .prepare_cached("SELECT user_id, role, purpose, at FROM contact_reads WHERE report = ?1 ORDER BY id")
                .map_err(db)?;
            let rows = stmt
                .query_map([reference.as_str()], |r| {
                    Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?, r.get::<_, String>(2)?, r.get::<_, String>(3)?))
                })
                .map_err(db)?;
            rows.map(|row| {
                let (user_id, role, purpose, at) = row.map_err(db)?;
                Ok(ContactRead {
                    report: reference.to_string(),
                    user_id,
                    role: parse_role(&role)?,
                    purpose,
                    at: parse_time(&at, "contact read time")?,
                })
            })
            .collect()
        })
    }

    fn kobo_uuids(&self, form: &str) -> Result<HashSet<String>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT uuid FROM kobo_submissions WHERE form = ?1").map_err(db)?;
            let rows = stmt.query_map([form], |r| r.get::<_, String>(0)).map_err(db)?;
            rows.collect::<Result<HashSet<_>, _>>().map_err(db)
        })
    }

    fn record_kobo_uuids(&self, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        self.report_tx(|tx| insert_kobo_uuids(tx, form, uuids))
    }

    fn insert_reports(&self, reports: &[Report]) -> Result<(), StoreError> {
        let rows = reports.iter().map(ReportRow::of).collect::<Result<Vec<_>, _>>()?;
        self.report_tx(|tx| insert_many(tx, reports, &rows))
    }

    fn import_reports(&self, reports: &[Report], form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        let rows = reports.iter().map(ReportRow::of).collect::<Result<Vec<_>, _>>()?;
        self.report_tx(|tx| {
            insert_many(tx, reports, &rows)?;
            insert_kobo_uuids(tx, form, uuids)
        })
    }

    fn used_references(&self, references: &[Reference]) -> Result<HashSet<Reference>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn.prepare_cached("SELECT 1 FROM reports WHERE reference = ?1").map_err(db)?;
            let mut used = HashSet::new();
            for r in references {
                if stmt.exists([r.as_str()]).map_err(db)? {
                    used.insert(r.clone());
                }
            }
            Ok(used)
        })
    }

    fn correct_tags(&self, c: &TagCorrection) -> Result<(), StoreError> {
        // The same write as a correction arriving from a field office, with the tags set.
        self.report_tx(|tx| sync_up::add_correction(tx, c, true))
    }

    fn tag_corrections(&self) -> Result<Vec<TagCorrection>, StoreError> {
        self.report_read(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT r.reference, c.user_id, c.at, c.previous_dimensions, c.previous_themes, c.dimensions,
                         c.themes
                     FROM report_tag_corrections c JOIN reports r ON r.id = c.report_id ORDER BY c.id",
                )
                .map_err(db)?;
            let rows = stmt
                .query_map([], |r| {
                    Ok((
                        r.get::<_, String>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        [
                            r.get::<_, String>(3)?,
                            r.get::<_, String>(4)?,
                            r.get::<_, String>(5)?,
                            r.get::<_, String>(6)?,
                        ],
                    ))
                })
                .map_err(db)?;
            rows.map(|row| {
                let (reference, user_id, at, [pd, pt, d, t]) = row.map_err(db)?;
                Ok(TagCorrection {
                    report: reference
                        .parse()
                        .map_err(|_| damaged(format!("corrected report reference `{reference}`")))?,
                    user_id,
                    at: parse_time(&at, "correction time")?,
                    previous_dimensions: split_tags(&pd),
                    previous_themes: split_tags(&pt),
                    dimensions: split_tags(&d),
                    themes: split_tags(&t),
                })
            })
            .collect()
        })
    }

    fn reference_space(&self) -> Result<Option<u8>, StoreError> {
        Ok(vitalcore_store::sync::SyncStore::node(self)?.map(|n| n.space))
    }
}

fn step_detail(record: &StepRecord) -> Result<String, StoreError> {
    serde_json::to_string(&record.step)
        .map_err(|e| StoreError::Backend(format!("cannot write step of alert {}: {e}", record.alert)))
}

/// Appends a step at its position (the append-only rule checked first).
fn insert_step(tx: &Transaction<'_>, record: &StepRecord, detail: &str) -> Result<(), StoreError> {
    let alert = &record.alert;
    let id = report_id(tx, alert)?.ok_or_else(|| StoreError::NotFound(format!("alert {alert}")))?;
    let recorded: i64 = tx
        .prepare_cached("SELECT count(*) FROM alert_steps WHERE report_id = ?1")
        .map_err(db)?
        .query_row([id], |r| r.get(0))
        .map_err(db)?;
    check_next_step(record, recorded)?;
    tx.prepare_cached(
        "INSERT INTO alert_steps (report_id, seq, step, detail, user_id, at, channel) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )
    .map_err(db)?
    .execute(params![
        id,
        record.seq,
        record.step.name(),
        detail,
        record.user_id,
        record.at.to_string(),
        record.channel.as_str()
    ])
    .map_err(db)?;
    audit::append(tx, &record.audit_event())?;
    Ok(())
}

fn insert_kobo_uuids(tx: &Transaction<'_>, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
    let mut insert = tx
        .prepare_cached(
            "INSERT INTO kobo_submissions (form, uuid, reference) VALUES (?1, ?2, ?3)
             ON CONFLICT (form, uuid) DO NOTHING",
        )
        .map_err(db)?;
    for (uuid, reference) in uuids {
        insert.execute(params![form, uuid, reference.as_str()]).map_err(db)?;
    }
    Ok(())
}

/// Columns of `reports` in the order [`read_report`] reads them.
const REPORT_COLUMNS: &str = "id, reference, received_ns, event_time, text, language, category, urgency, \
    place_name, lat, lon, area_pcode, reporter_id, contact, channel, channel_name, source_id, verification, \
    dimensions, themes, severity, rule";

/// What a report stores beyond its plain fields, computed before the
/// transaction opens (so a report the store cannot hold fails early).
struct ReportRow {
    received_ns: i64,
    event_time: Option<String>,
    dimensions: String,
    themes: String,
}

impl ReportRow {
    fn of(report: &Report) -> Result<ReportRow, StoreError> {
        Ok(ReportRow {
            received_ns: received_ns(report)?,
            event_time: report.event_time.map(|t| t.to_string()),
            dimensions: join_tags(&report.tags.dimensions),
            themes: join_tags(&report.tags.themes),
        })
    }
}

const INSERT_REPORT: &str =
    "INSERT INTO reports (reference, received_ns, event_time, text, language, category, urgency,
         place_name, lat, lon, area_pcode, reporter_id, contact, channel, channel_name, source_id,
         verification, dimensions, themes, severity, rule)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
     ON CONFLICT (reference) DO NOTHING";

const INSERT_LINK: &str =
    "INSERT INTO report_duplicates (report_id, seq, other, score, text_similarity, hours_apart, km_apart)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";

fn insert_report(tx: &Connection, r: &Report, row: &ReportRow) -> Result<(), StoreError> {
    insert_many(tx, std::slice::from_ref(r), std::slice::from_ref(row))
}

/// Inserts reports with their links, each statement prepared once.
fn insert_many(tx: &Connection, reports: &[Report], rows: &[ReportRow]) -> Result<(), StoreError> {
    let mut insert = tx.prepare_cached(INSERT_REPORT).map_err(db)?;
    let mut link = tx.prepare_cached(INSERT_LINK).map_err(db)?;
    for (r, row) in reports.iter().zip(rows) {
        let inserted = insert
            .execute(params![
                r.reference.as_str(),
                row.received_ns,
                row.event_time,
                r.text,
                r.language,
                r.category,
                r.urgency.map(Urgency::as_str),
                r.place.name,
                r.place.latitude,
                r.place.longitude,
                r.place.area_pcode,
                r.reporter_id,
                r.contact.as_ref().map(SealedContact::as_stored),
                r.channel.kind(),
                channel_name(&r.channel),
                r.source_id,
                verification_text(r.verification),
                row.dimensions,
                row.themes,
                r.tags.severity,
                r.tags.rule,
            ])
            .map_err(|e| match sms_message_id(r) {
                // A reference already used is `DO NOTHING` above, so the one
                // unique rule left to break is the SMS message id's (migration 7).
                Some((gateway, id)) if is_unique_violation(&e) => sms_repeat_conflict(gateway, id),
                _ => db(e),
            })?;
        if inserted == 0 {
            return Err(StoreError::Conflict(format!("reference {} is already used", r.reference)));
        }
        let id = tx.last_insert_rowid();
        for (seq, l) in r.duplicates.iter().enumerate() {
            link.execute(params![
                id,
                seq as i64,
                l.other.as_str(),
                l.score,
                l.text_similarity,
                l.hours_apart,
                l.km_apart
            ])
            .map_err(db)?;
        }
    }
    Ok(())
}

/// Adds links to report `id` after its last one (a link to a report already
/// linked is replaced and moves last).
fn add_links(tx: &Transaction<'_>, id: i64, links: &[DuplicateLink]) -> Result<(), StoreError> {
    let next: i64 = tx
        .prepare_cached("SELECT coalesce(max(seq) + 1, 0) FROM report_duplicates WHERE report_id = ?1")
        .map_err(db)?
        .query_row([id], |r| r.get(0))
        .map_err(db)?;
    for (link, seq) in links.iter().zip(next..) {
        tx.prepare_cached("DELETE FROM report_duplicates WHERE report_id = ?1 AND other = ?2")
            .map_err(db)?
            .execute(params![id, link.other.as_str()])
            .map_err(db)?;
        insert_link(tx, id, seq, link)?;
    }
    Ok(())
}

fn insert_link(tx: &Transaction<'_>, report_id: i64, seq: i64, link: &DuplicateLink) -> Result<(), StoreError> {
    tx.prepare_cached(INSERT_LINK)
        .map_err(db)?
        .execute(params![
            report_id,
            seq,
            link.other.as_str(),
            link.score,
            link.text_similarity,
            link.hours_apart,
            link.km_apart
        ])
        .map_err(db)?;
    Ok(())
}

fn report_id(conn: &Connection, reference: &Reference) -> Result<Option<i64>, StoreError> {
    conn.prepare_cached("SELECT id FROM reports WHERE reference = ?1")
        .map_err(db)?
        .query_row([reference.as_str()], |r| r.get(0))
        .optional()
        .map_err(db)
}

/// One `reports` row (columns [`REPORT_COLUMNS`]) as (row id, report
/// without its duplicate links). The outer error is SQLite's, the inner one
/// a stored value this build cannot read.
fn read_report(r: &Row<'_>) -> rusqlite::Result<Result<(i64, Report), StoreError>> {
    let id: i64 = r.get(0)?;
    let reference: String = r.get(1)?;
    let received_ns: i64 = r.get(2)?;
    let event_time: Option<String> = r.get(3)?;
    let urgency: Option<String> = r.get(7)?;
    let contact: Option<String> = r.get(13)?;
    let channel: String = r.get(14)?;
    let channel_name: Option<String> = r.get(15)?;
    let verification: String = r.get(17)?;
    let dimensions: String = r.get(18)?;
    let themes: String = r.get(19)?;
    let severity: i64 = r.get(20)?;
    let plain = (
        r.get::<_, String>(4)?,
        r.get::<_, Option<String>>(5)?,
        r.get::<_, Option<String>>(6)?,
        ReportPlace { name: r.get(8)?, latitude: r.get(9)?, longitude: r.get(10)?, area_pcode: r.get(11)? },
        r.get::<_, Option<String>>(12)?,
        r.get::<_, Option<String>>(16)?,
        r.get::<_, String>(21)?,
    );
    let decode = || -> Result<(i64, Report), StoreError> {
        let (text, language, category, place, reporter_id, source_id, rule) = plain;
        let reference: Reference = reference.parse().map_err(|_| damaged(format!("report reference `{reference}`")))?;
        let what = |field: &str| damaged(format!("{field} of report {reference}"));
        let report = Report {
            text,
            language,
            category,
            urgency: urgency.map(|u| u.parse::<Urgency>()).transpose().map_err(|_| what("urgency"))?,
            place,
            event_time: event_time.map(|t| t.parse::<Timestamp>()).transpose().map_err(|_| what("event time"))?,
            received_at: Timestamp::from_nanosecond(i128::from(received_ns)).map_err(|_| what("receipt time"))?,
            reporter_id,
            contact: contact.map(|c| SealedContact::from_stored(&c)).transpose().map_err(|_| what("sealed contact"))?,
            channel: channel_from(&channel, channel_name).ok_or_else(|| what("channel"))?,
            source_id,
            verification: verification_from(&verification).ok_or_else(|| what("verification state"))?,
            tags: Tags {
                dimensions: split_tags(&dimensions),
                themes: split_tags(&themes),
                severity: u8::try_from(severity).map_err(|_| what("severity"))?,
                rule,
            },
            duplicates: Vec::new(),
            reference: reference.clone(),
        };
        Ok((id, report))
    };
    Ok(decode())
}

fn with_links(conn: &Connection, id: i64, mut report: Report) -> Result<Report, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT other, score, text_similarity, hours_apart, km_apart FROM report_duplicates
             WHERE report_id = ?1 ORDER BY seq",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?, r.get::<_, f64>(2)?, r.get::<_, f64>(3)?, r.get(4)?))
        })
        .map_err(db)?;
    for row in rows {
        let (other, score, text_similarity, hours_apart, km_apart) = row.map_err(db)?;
        let other =
            other.parse().map_err(|_| damaged(format!("duplicate link `{other}` of report {}", report.reference)))?;
        report.duplicates.push(DuplicateLink { other, score, text_similarity, hours_apart, km_apart });
    }
    Ok(report)
}

/// Reports matching `filter`, oldest received first (ties by reference, as
/// the in-memory store orders them).
fn list_reports(conn: &Connection, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
    let mut sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE 1 = 1");
    let mut args: Vec<Value> = Vec::new();
    if let Some(area) = &filter.area_pcode {
        args.push(Value::Text(area.clone()));
        sql.push_str(&format!(" AND area_pcode = ?{}", args.len()));
    }
    if let Some(from) = filter.received_from {
        args.push(Value::Integer(clamped_ns(from)));
        sql.push_str(&format!(" AND received_ns >= ?{}", args.len()));
    }
    if let Some(until) = filter.received_until {
        args.push(Value::Integer(clamped_ns(until)));
        sql.push_str(&format!(" AND received_ns < ?{}", args.len()));
    }
    sql.push_str(" ORDER BY received_ns, reference");
    if let Some(limit) = filter.limit {
        args.push(Value::Integer(i64::try_from(limit).unwrap_or(i64::MAX)));
        sql.push_str(&format!(" LIMIT ?{}", args.len()));
    }
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map(params_from_iter(args), read_report).map_err(db)?;
    let mut out = Vec::new();
    for row in rows {
        let (id, report) = row.map_err(db)??;
        out.push(with_links(conn, id, report)?);
    }
    Ok(out)
}

fn find_user(conn: &Connection, column: &str, value: &str) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = ?1");
    let found = conn.prepare_cached(&sql).map_err(db)?.query_row([value], read_user).optional().map_err(db)?;
    found.transpose()
}

const USER_COLUMNS: &str = "id, username, display_name, role, community, password_hash, active";

fn read_user(r: &Row<'_>) -> rusqlite::Result<Result<User, StoreError>> {
    let role: String = r.get(3)?;
    let user = User {
        id: r.get(0)?,
        username: r.get(1)?,
        display_name: r.get(2)?,
        role: Role::Viewer,
        community: r.get(4)?,
        password_hash: r.get(5)?,
        active: r.get(6)?,
    };
    Ok(parse_role(&role).map(|role| User { role, ..user }))
}

const SESSION_COLUMNS: &str = "token_hash, user_id, created_at, expires_at, last_seen_at";

fn read_session(r: &Row<'_>) -> rusqlite::Result<Result<Session, StoreError>> {
    let hash: Vec<u8> = r.get(0)?;
    let (user_id, created, expires, seen): (String, String, String, String) =
        (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?);
    Ok((|| {
        Ok(Session {
            token_hash: token_hash(&hash)?,
            user_id,
            created_at: parse_time(&created, "session time")?,
            expires_at: parse_time(&expires, "session time")?,
            last_seen_at: parse_time(&seen, "session time")?,
        })
    })())
}

const TOKEN_COLUMNS: &str = "token_hash, partner, user_id, created_at, revoked_at, expires_at";

fn read_api_token(r: &Row<'_>) -> rusqlite::Result<Result<ApiToken, StoreError>> {
    let hash: Vec<u8> = r.get(0)?;
    let (partner, user_id, created): (String, String, String) = (r.get(1)?, r.get(2)?, r.get(3)?);
    let (revoked, expires): (Option<String>, Option<String>) = (r.get(4)?, r.get(5)?);
    let time = |t: &str| parse_time(t, "API token time");
    Ok((|| {
        Ok(ApiToken {
            token_hash: token_hash(&hash)?,
            partner,
            user_id,
            created_at: time(&created)?,
            revoked_at: revoked.as_deref().map(time).transpose()?,
            expires_at: expires.as_deref().map(time).transpose()?,
        })
    })())
}

fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes).map(TokenHash).map_err(|_| damaged("token hash (not 32 bytes)"))
}

/// The tokens selected, oldest first. A public id is matched on the hash's
/// first bytes.
fn select_api_tokens(conn: &Connection, which: &TokenSelector) -> Result<Vec<ApiToken>, StoreError> {
    let (filter, value): (&str, Value) = match which {
        TokenSelector::User(id) => ("user_id = ?1", Value::Text(id.clone())),
        TokenSelector::Partner(p) => ("partner = ?1", Value::Text(p.clone())),
        TokenSelector::PublicId(id) => match TokenHash::public_id_bytes(id) {
            Some(prefix) => ("substr(token_hash, 1, 5) = ?1", Value::Blob(prefix.to_vec())),
            None => return Ok(Vec::new()),
        },
    };
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE {filter}");
    let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
    let rows = stmt.query_map([value], read_api_token).map_err(db)?;
    let mut out = rows.map(|r| r.map_err(db)?).collect::<Result<Vec<_>, _>>()?;
    sort_by_creation(&mut out, |t| (t.created_at, t.token_hash));
    Ok(out)
}

/// A username belongs to one account: saving another account under it is a conflict.
fn ensure_username_free(tx: &Transaction<'_>, user: &User) -> Result<(), StoreError> {
    let taken: Option<String> = tx
        .prepare_cached("SELECT id FROM users WHERE username = ?1 AND id <> ?2")
        .map_err(db)?
        .query_row(params![user.username, user.id], |r| r.get(0))
        .optional()
        .map_err(db)?;
    match taken {
        Some(_) => Err(StoreError::Conflict(format!("username `{}` is taken", user.username))),
        None => Ok(()),
    }
}

fn upsert_user(tx: &Transaction<'_>, user: &User) -> Result<(), StoreError> {
    tx.prepare_cached(
        "INSERT INTO users (id, username, display_name, role, community, password_hash, active)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username,
             display_name = excluded.display_name, role = excluded.role, community = excluded.community,
             password_hash = excluded.password_hash, active = excluded.active",
    )
    .map_err(db)?
    .execute(params![
        user.id,
        user.username,
        user.display_name,
        user.role.as_str(),
        user.community,
        user.password_hash,
        user.active
    ])
    .map_err(db)?;
    Ok(())
}

/// Revokes the selected tokens not yet revoked, each with its chain entry;
/// returns them as revoked.
fn revoke_selected_tokens(
    tx: &Transaction<'_>,
    which: &TokenSelector,
    at: Timestamp,
    by: &str,
) -> Result<Vec<ApiToken>, StoreError> {
    let mut revoked: Vec<ApiToken> =
        select_api_tokens(tx, which)?.into_iter().filter(|t| t.revoked_at.is_none()).collect();
    let mut update = tx
        .prepare_cached("UPDATE api_tokens SET revoked_at = ?1 WHERE token_hash = ?2 AND revoked_at IS NULL")
        .map_err(db)?;
    for t in &mut revoked {
        update.execute(params![at.to_string(), &t.token_hash.0[..]]).map_err(db)?;
        audit::append(tx, &AuditEvent::token_revoked(t, by, at))?;
        t.revoked_at = Some(at);
    }
    Ok(revoked)
}

fn delete_sessions_of(tx: &Transaction<'_>, user_id: &str) -> Result<usize, StoreError> {
    tx.prepare_cached("DELETE FROM sessions WHERE user_id = ?1").map_err(db)?.execute([user_id]).map_err(db)
}

fn find_api_token(conn: &Connection, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = ?1");
    let found = conn.prepare_cached(&sql).map_err(db)?.query_row([&hash.0[..]], read_api_token).optional();
    found.map_err(db)?.transpose()
}

// --- encodings (the PostgreSQL store writes the same values) ---

/// The steps of one alert, in order (the store's reads and synchronisation's apply).
pub(super) fn read_steps(conn: &Connection, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT s.seq, s.detail, s.user_id, s.at, s.channel FROM alert_steps s JOIN reports r ON r.id = s.report_id
             WHERE r.reference = ?1 ORDER BY s.seq",
        )
        .map_err(db)?;
    let rows = stmt
        .query_map([alert.as_str()], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })
        .map_err(db)?;
    rows.map(|row| {
        let (seq, detail, user_id, at, channel) = row.map_err(db)?;
        step_record(alert, seq, &detail, user_id, &at, &channel)
    })
    .collect()
}
