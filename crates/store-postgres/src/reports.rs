//! Community reports, the alert step log, users, sessions, API tokens, the
//! contact audit log, KoBo submission uuids and the SMS outbox:
//! vitalcore-intake's [`ReportStore`] in PostgreSQL (schema
//! `migrations/0002_reports.sql`, the outbox `0006_outbox_and_warning_notes.sql`,
//! SMS message ids stored once `0007_sms_message_ids.sql`;
//! the same tables and encodings as the SQLite store).
//!
//! Every write is one transaction. Checks that guard a write lock what they
//! check: a step or a duplicate link locks its report's row (`FOR UPDATE`),
//! so two people acting on one alert at once get one success and one
//! conflict, never a gap or a doubled position. Unique constraints back the
//! checks up (a username taken by a concurrent transaction is a conflict).
//! Writes of security-relevant facts append their audit chain entry in
//! their own transaction, under the chain's advisory lock (`audit.rs`).
//!
//! Reports are stored column by column (no JSON), the contact only as its
//! sealed text.

use std::collections::{HashMap, HashSet};

use jiff::Timestamp;
use postgres::types::{ToSql, Type};
use postgres::{GenericClient, Row, Transaction};
use vitalcore_framework::Tags;
use vitalcore_intake::duplicates::DuplicateLink;
use vitalcore_intake::outbox::{OutboxChange, OutboxDraft, OutboxFilter, OutboxMessage};
use vitalcore_intake::report::{Reference, Report, ReportPlace, Urgency, Verification};
use vitalcore_intake::workflow::StepRecord;
use vitalcore_intake::{ContactRead, SealedContact};
use vitalcore_security::audit::{AuditEntry, AuditEvent};
use vitalcore_security::auth::{ApiToken, Session, TokenHash, User};
use vitalcore_store::StoreError;
use vitalcore_store::columns::{join_tags, split_tags};
use vitalcore_store::report_codec::{
    channel_from, channel_name, check_next_step, clamped_ns, damaged, parse_role, parse_time, received_ns,
    sms_message_id, sms_repeat_conflict, step_record, verification_from, verification_text,
};
use vitalcore_store::reports::{
    AccessEnded, ReportFilter, ReportStore, TagCorrection, TokenSelector, sort_by_creation,
};

use crate::{PostgresStore, describe};

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

/// PostgreSQL's code for a unique constraint violated.
const UNIQUE_VIOLATION: &str = "23505";

fn db(e: postgres::Error) -> StoreError {
    StoreError::Backend(describe(&e))
}

fn is_unique_violation(e: &postgres::Error) -> bool {
    e.as_db_error().is_some_and(|d| d.code().code() == UNIQUE_VIOLATION)
}

impl PostgresStore {
    /// Runs `write` in one transaction on a pooled connection; an error
    /// rolls everything back.
    fn report_tx<T>(&self, write: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>) -> Result<T, StoreError> {
        let mut client = self.client().map_err(|e| StoreError::Backend(e.to_string()))?;
        let mut tx = client.transaction().map_err(db)?;
        let out = write(&mut tx)?;
        tx.commit().map_err(db)?;
        Ok(out)
    }

    fn report_read<T>(
        &self,
        read: impl FnOnce(&mut postgres::Client) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let mut client = self.client().map_err(|e| StoreError::Backend(e.to_string()))?;
        read(&mut client)
    }
}

impl ReportStore for PostgresStore {
    fn insert_report(&self, report: &Report) -> Result<(), StoreError> {
        let received_ns = received_ns(report)?;
        self.report_tx(|tx| insert_report(tx, report, received_ns))
    }

    fn report(&self, reference: &Reference) -> Result<Option<Report>, StoreError> {
        self.report_read(|client| {
            let sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE reference = $1");
            let Some(row) = client.query_opt(&sql, &[&reference.as_str()]).map_err(db)? else { return Ok(None) };
            let (id, mut report) = read_report(&row)?;
            report.duplicates = links_of(client, &[id])?.remove(&id).unwrap_or_default();
            Ok(Some(report))
        })
    }

    fn reports(&self, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
        self.report_read(|client| list_reports(client, filter))
    }

    fn sms_report(&self, gateway: &str, message_id: &str) -> Result<Option<Report>, StoreError> {
        self.report_read(|client| {
            // The partial unique index `reports_sms_message_id` answers this.
            let sql = format!(
                "SELECT {REPORT_COLUMNS} FROM reports WHERE channel = 'sms' AND channel_name = $1 AND source_id = $2"
            );
            let Some(row) = client.query_opt(&sql, &[&gateway, &message_id]).map_err(db)? else { return Ok(None) };
            let (id, mut report) = read_report(&row)?;
            report.duplicates = links_of(client, &[id])?.remove(&id).unwrap_or_default();
            Ok(Some(report))
        })
    }

    fn set_verification(&self, reference: &Reference, state: Verification) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let changed = tx
                .execute(
                    "UPDATE reports SET verification = $1 WHERE reference = $2",
                    &[&verification_text(state), &reference.as_str()],
                )
                .map_err(db)?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("report {reference}")));
            }
            Ok(())
        })
    }

    fn add_duplicate_links(&self, reference: &Reference, links: &[DuplicateLink]) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let id = lock_report(tx, reference)?.ok_or_else(|| StoreError::NotFound(format!("report {reference}")))?;
            let next: i64 = tx
                .query_one("SELECT coalesce(max(seq) + 1, 0) FROM report_duplicates WHERE report_id = $1", &[&id])
                .map_err(db)?
                .get(0);
            for (link, seq) in links.iter().zip(next..) {
                tx.execute(
                    "DELETE FROM report_duplicates WHERE report_id = $1 AND other = $2",
                    &[&id, &link.other.as_str()],
                )
                .map_err(db)?;
                insert_link(tx, id, seq, link)?;
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
        self.report_read(|client| outbox::list(client, filter))
    }

    fn append_outbox_changes(&self, changes: &[OutboxChange]) -> Result<(), StoreError> {
        self.report_tx(|tx| outbox::append_changes(tx, changes))
    }

    fn steps(&self, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
        self.report_read(|client| read_steps(client, alert))
    }

    fn save_user(&self, user: &User, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            // The row as it was, locked until the commit, so that what
            // changed is what this transaction changed.
            let before = find_user_in(tx, "id", &user.id, " FOR UPDATE")?;
            upsert_user(tx, user)?;
            for event in AuditEvent::user_saved(before.as_ref(), user, by, Timestamp::now()) {
                audit::append(tx, &event)?;
            }
            Ok(())
        })
    }

    fn user(&self, id: &str) -> Result<Option<User>, StoreError> {
        self.report_read(|client| find_user(client, "id", id))
    }

    fn user_by_username(&self, username: &str) -> Result<Option<User>, StoreError> {
        self.report_read(|client| find_user(client, "username", username))
    }

    fn save_session(&self, session: &Session) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, last_seen_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (token_hash) DO UPDATE SET user_id = excluded.user_id,
                     created_at = excluded.created_at, expires_at = excluded.expires_at,
                     last_seen_at = excluded.last_seen_at",
                &[
                    &&session.token_hash.0[..],
                    &session.user_id,
                    &session.created_at.to_string(),
                    &session.expires_at.to_string(),
                    &session.last_seen_at.to_string(),
                ],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn session(&self, hash: &TokenHash) -> Result<Option<Session>, StoreError> {
        self.report_read(|client| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE token_hash = $1");
            let row = client.query_opt(&sql, &[&&hash.0[..]]).map_err(db)?;
            row.as_ref().map(read_session).transpose()
        })
    }

    fn delete_session(&self, hash: &TokenHash) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute("DELETE FROM sessions WHERE token_hash = $1", &[&&hash.0[..]]).map_err(db)?;
            Ok(())
        })
    }

    fn save_api_token(&self, token: &ApiToken, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let before = find_api_token(tx, &token.token_hash, " FOR UPDATE")?;
            tx.execute(
                "INSERT INTO api_tokens (token_hash, partner, user_id, created_at, revoked_at, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (token_hash) DO UPDATE SET partner = excluded.partner, user_id = excluded.user_id,
                     created_at = excluded.created_at, revoked_at = excluded.revoked_at,
                     expires_at = excluded.expires_at",
                &[
                    &&token.token_hash.0[..],
                    &token.partner,
                    &token.user_id,
                    &token.created_at.to_string(),
                    &token.revoked_at.map(|t| t.to_string()),
                    &token.expires_at.map(|t| t.to_string()),
                ],
            )
            .map_err(db)?;
            for event in AuditEvent::token_saved(before.as_ref(), token, by, Timestamp::now()) {
                audit::append(tx, &event)?;
            }
            Ok(())
        })
    }

    fn api_token(&self, hash: &TokenHash) -> Result<Option<ApiToken>, StoreError> {
        self.report_read(|client| find_api_token(client, hash, ""))
    }

    fn revoke_api_token(&self, hash: &TokenHash, at: Timestamp, by: &str) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            let token =
                find_api_token(tx, hash, " FOR UPDATE")?.ok_or_else(|| StoreError::NotFound("API token".into()))?;
            if token.revoked_at.is_some() {
                return Ok(()); // the first revocation stays
            }
            tx.execute("UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = $2", &[&at.to_string(), &&hash.0[..]])
                .map_err(db)?;
            audit::append(tx, &AuditEvent::token_revoked(&token, by, at))?;
            Ok(())
        })
    }

    fn users(&self) -> Result<Vec<User>, StoreError> {
        self.report_read(|client| {
            let sql = format!("SELECT {USER_COLUMNS} FROM users ORDER BY username COLLATE \"C\"");
            client.query(&sql, &[]).map_err(db)?.iter().map(read_user).collect()
        })
    }

    fn save_user_ending_access(&self, user: &User, at: Timestamp, by: &str) -> Result<AccessEnded, StoreError> {
        self.report_tx(|tx| {
            let before = find_user_in(tx, "id", &user.id, " FOR UPDATE")?;
            let Some(before) = before else {
                ensure_username_free(tx, user)?;
                return Err(StoreError::NotFound(format!("user `{}`", user.username)));
            };
            upsert_user(tx, user)?;
            for event in AuditEvent::user_saved(Some(&before), user, by, at) {
                audit::append(tx, &event)?;
            }
            let sessions_ended = tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user.id]).map_err(db)?;
            let tokens_revoked = revoke_selected_tokens(tx, &TokenSelector::User(user.id.clone()), at, by)?.len();
            Ok(AccessEnded { sessions_ended: sessions_ended as usize, tokens_revoked })
        })
    }

    fn sessions_of(&self, user_id: &str) -> Result<Vec<Session>, StoreError> {
        self.report_read(|client| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions WHERE user_id = $1");
            let mut out =
                client.query(&sql, &[&user_id]).map_err(db)?.iter().map(read_session).collect::<Result<Vec<_>, _>>()?;
            sort_by_creation(&mut out, |s| (s.created_at, s.token_hash));
            Ok(out)
        })
    }

    fn delete_sessions_of(&self, user_id: &str) -> Result<usize, StoreError> {
        self.report_tx(
            |tx| Ok(tx.execute("DELETE FROM sessions WHERE user_id = $1", &[&user_id]).map_err(db)? as usize),
        )
    }

    fn touch_session(&self, hash: &TokenHash, at: Timestamp) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute("UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", &[&at.to_string(), &&hash.0[..]])
                .map_err(db)?;
            Ok(())
        })
    }

    fn delete_expired_sessions(&self, now: Timestamp, idle_since: Timestamp) -> Result<usize, StoreError> {
        // Times are exact RFC 3339 text (timestamptz would keep microseconds
        // only): read them, decide here, delete by hash. Nothing locks the
        // rows meanwhile: a session found ended stays ended (a caller checks
        // it before recording its use), and deleting twice is no error.
        self.report_tx(|tx| {
            let sql = format!("SELECT {SESSION_COLUMNS} FROM sessions");
            let mut gone: Vec<Vec<u8>> = Vec::new();
            for row in tx.query(&sql, &[]).map_err(db)? {
                let s = read_session(&row)?;
                if s.expires_at <= now || s.last_seen_at < idle_since {
                    gone.push(s.token_hash.0.to_vec());
                }
            }
            if !gone.is_empty() {
                tx.execute("DELETE FROM sessions WHERE token_hash = ANY($1)", &[&gone]).map_err(db)?;
            }
            Ok(gone.len())
        })
    }

    fn api_tokens(&self, which: &TokenSelector) -> Result<Vec<ApiToken>, StoreError> {
        self.report_read(|client| select_api_tokens(client, which, false))
    }

    fn revoke_api_tokens(&self, which: &TokenSelector, at: Timestamp, by: &str) -> Result<Vec<ApiToken>, StoreError> {
        self.report_tx(|tx| revoke_selected_tokens(tx, which, at, by))
    }

    fn append_contact_read(&self, read: &ContactRead) -> Result<(), StoreError> {
        self.report_tx(|tx| {
            tx.execute(
                "INSERT INTO contact_reads (report, user_id, role, purpose, at) VALUES ($1, $2, $3, $4, $5)",
                &[&read.report, &read.user_id, &read.role.as_str(), &read.purpose, &read.at.to_string()],
            )
            .map_err(db)?;
            audit::append(tx, &AuditEvent::contact_read(read))?;
            Ok(())
        })
    }

    fn append_audit(&self, event: &AuditEvent) -> Result<AuditEntry, StoreError> {
        self.report_tx(|tx| audit::append(tx, event))
    }

    fn audit_entries(&self, after_seq: u64, limit: usize) -> Result<Vec<AuditEntry>, StoreError> {
        self.report_read(|client| audit::entries(client, after_seq, limit))
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
        self.report_read(|client| {
            let rows = client
                .query(
                    "SELECT user_id, role, purpose, at FROM contact_reads WHERE report = $1 ORDER BY id",
                    &[&reference.as_str()],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    Ok(ContactRead {
                        report: reference.to_string(),
                        user_id: r.get(0),
                        role: parse_role(r.get(1))?,
                        purpose: r.get(2),
                        at: parse_time(r.get(3), "contact read time")?,
                    })
                })
                .collect()
        })
    }

    fn kobo_uuids(&self, form: &str) -> Result<HashSet<String>, StoreError> {
        self.report_read(|client| {
            let rows = client.query("SELECT uuid FROM kobo_submissions WHERE form = $1", &[&form]).map_err(db)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn record_kobo_uuids(&self, form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        if uuids.is_empty() {
            return Ok(());
        }
        let (ids, references): (Vec<&str>, Vec<&str>) = uuids.iter().map(|(u, r)| (u.as_str(), r.as_str())).unzip();
        self.report_tx(|tx| {
            // One statement for the whole batch; the first reference recorded
            // for a uuid stays (as within the batch: DISTINCT ON keeps the first).
            tx.execute(
                "INSERT INTO kobo_submissions (form, uuid, reference)
                 SELECT DISTINCT ON (u.uuid) $1, u.uuid, u.reference
                 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (uuid, reference, n)
                 ORDER BY u.uuid, u.n
                 ON CONFLICT (form, uuid) DO NOTHING",
                &[&form, &ids, &references],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn insert_reports(&self, reports: &[Report]) -> Result<(), StoreError> {
        let times = reports.iter().map(received_ns).collect::<Result<Vec<_>, _>>()?;
        self.report_tx(|tx| {
            let stmts = InsertStatements::prepare(tx, reports.iter().any(|r| !r.duplicates.is_empty()))?;
            reports.iter().zip(&times).try_for_each(|(r, &ns)| insert_prepared(tx, &stmts, r, ns))
        })
    }

    fn import_reports(&self, reports: &[Report], form: &str, uuids: &[(String, Reference)]) -> Result<(), StoreError> {
        let times = reports.iter().map(received_ns).collect::<Result<Vec<_>, _>>()?;
        let (ids, references): (Vec<&str>, Vec<&str>) = uuids.iter().map(|(u, r)| (u.as_str(), r.as_str())).unzip();
        self.report_tx(|tx| {
            let stmts = InsertStatements::prepare(tx, reports.iter().any(|r| !r.duplicates.is_empty()))?;
            reports.iter().zip(&times).try_for_each(|(r, &ns)| insert_prepared(tx, &stmts, r, ns))?;
            tx.execute(
                "INSERT INTO kobo_submissions (form, uuid, reference)
                 SELECT DISTINCT ON (u.uuid) $1, u.uuid, u.reference
                 FROM unnest($2::text[], $3::text[]) WITH ORDINALITY AS u (uuid, reference, n)
                 ORDER BY u.uuid, u.n
                 ON CONFLICT (form, uuid) DO NOTHING",
                &[&form, &ids, &references],
            )
            .map_err(db)?;
            Ok(())
        })
    }

    fn used_references(&self, references: &[Reference]) -> Result<HashSet<Reference>, StoreError> {
        let wanted: Vec<&str> = references.iter().map(Reference::as_str).collect();
        self.report_read(|client| {
            let rows = client
                .query("SELECT reference FROM reports WHERE reference = ANY($1::text[])", &[&wanted])
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let text: &str = r.get(0);
                    text.parse().map_err(|_| damaged(format!("report reference `{text}`")))
                })
                .collect()
        })
    }

    fn correct_tags(&self, c: &TagCorrection) -> Result<(), StoreError> {
        // The same write as a correction arriving from a field office, with the tags set.
        self.report_tx(|tx| sync_up::add_correction(tx, c, true))
    }

    fn tag_corrections(&self) -> Result<Vec<TagCorrection>, StoreError> {
        self.report_read(|client| {
            let rows = client
                .query(
                    "SELECT r.reference, c.user_id, c.at, c.previous_dimensions, c.previous_themes, c.dimensions,
                         c.themes
                     FROM report_tag_corrections c JOIN reports r ON r.id = c.report_id ORDER BY c.id",
                    &[],
                )
                .map_err(db)?;
            rows.iter()
                .map(|r| {
                    let reference: &str = r.get(0);
                    Ok(TagCorrection {
                        report: reference
                            .parse()
                            .map_err(|_| damaged(format!("corrected report reference `{reference}`")))?,
                        user_id: r.get(1),
                        at: parse_time(r.get(2), "correction time")?,
                        previous_dimensions: split_tags(r.get(3)),
                        previous_themes: split_tags(r.get(4)),
                        dimensions: split_tags(r.get(5)),
                        themes: split_tags(r.get(6)),
                    })
                })
                .collect()
        })
    }

    fn reference_space(&self) -> Result<Option<u8>, StoreError> {
        Ok(vitalcore_store::sync::SyncStore::node(self)?.map(|n| n.space))
    }
}

/// Columns of `reports` in the order [`read_report`] reads them.
const REPORT_COLUMNS: &str = "id, reference, received_ns, event_time, text, language, category, urgency, \
    place_name, lat, lon, area_pcode, reporter_id, contact, channel, channel_name, source_id, verification, \
    dimensions, themes, severity, rule";

fn insert_report(tx: &mut Transaction<'_>, r: &Report, received_ns: i64) -> Result<(), StoreError> {
    let stmts = InsertStatements::prepare(tx, !r.duplicates.is_empty())?;
    insert_prepared(tx, &stmts, r, received_ns)
}

/// The report and link inserts, prepared once per transaction (the link
/// insert only when some report has links).
struct InsertStatements {
    report: postgres::Statement,
    link: Option<postgres::Statement>,
}

impl InsertStatements {
    fn prepare(tx: &mut Transaction<'_>, with_links: bool) -> Result<InsertStatements, StoreError> {
        let report = tx.prepare(INSERT_REPORT).map_err(db)?;
        let link = if with_links { Some(tx.prepare(INSERT_LINK).map_err(db)?) } else { None };
        Ok(InsertStatements { report, link })
    }
}

const INSERT_REPORT: &str =
    "INSERT INTO reports (reference, received_ns, event_time, text, language, category, urgency,
                 place_name, lat, lon, area_pcode, reporter_id, contact, channel, channel_name, source_id,
                 verification, dimensions, themes, severity, rule)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
             ON CONFLICT (reference) DO NOTHING RETURNING id";

const INSERT_LINK: &str =
    "INSERT INTO report_duplicates (report_id, seq, other, score, text_similarity, hours_apart, km_apart)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

fn insert_prepared(
    tx: &mut Transaction<'_>,
    stmts: &InsertStatements,
    r: &Report,
    received_ns: i64,
) -> Result<(), StoreError> {
    let event_time = r.event_time.map(|t| t.to_string());
    let row = tx
        .query_opt(
            &stmts.report,
            &[
                &r.reference.as_str(),
                &received_ns,
                &event_time,
                &r.text,
                &r.language,
                &r.category,
                &r.urgency.map(Urgency::as_str),
                &r.place.name,
                &r.place.latitude,
                &r.place.longitude,
                &r.place.area_pcode,
                &r.reporter_id,
                &r.contact.as_ref().map(SealedContact::as_stored),
                &r.channel.kind(),
                &channel_name(&r.channel),
                &r.source_id,
                &verification_text(r.verification),
                &join_tags(&r.tags.dimensions),
                &join_tags(&r.tags.themes),
                &i16::from(r.tags.severity),
                &r.tags.rule,
            ],
        )
        .map_err(|e| match sms_message_id(r) {
            // A reference already used is `DO NOTHING` above, so the one
            // unique rule left to break is the SMS message id's (migration 7).
            Some((gateway, id)) if is_unique_violation(&e) => sms_repeat_conflict(gateway, id),
            _ => db(e),
        })?;
    let Some(row) = row else {
        return Err(StoreError::Conflict(format!("reference {} is already used", r.reference)));
    };
    let id: i64 = row.get(0);
    for (seq, link) in r.duplicates.iter().enumerate() {
        let stmt = stmts.link.as_ref().ok_or_else(|| StoreError::Backend("link insert not prepared".into()))?;
        tx.execute(
            stmt,
            &[
                &id,
                &(seq as i64),
                &link.other.as_str(),
                &link.score,
                &link.text_similarity,
                &link.hours_apart,
                &link.km_apart,
            ],
        )
        .map_err(db)?;
    }
    Ok(())
}

fn insert_link(tx: &mut Transaction<'_>, report_id: i64, seq: i64, link: &DuplicateLink) -> Result<(), StoreError> {
    tx.execute(
        INSERT_LINK,
        &[
            &report_id,
            &seq,
            &link.other.as_str(),
            &link.score,
            &link.text_similarity,
            &link.hours_apart,
            &link.km_apart,
        ],
    )
    .map_err(db)?;
    Ok(())
}

fn step_detail(record: &StepRecord) -> Result<String, StoreError> {
    serde_json::to_string(&record.step)
        .map_err(|e| StoreError::Backend(format!("cannot write step of alert {}: {e}", record.alert)))
}

/// Appends a step at its position, its report's row locked so that two
/// people acting at once get one success and one conflict.
fn insert_step(tx: &mut Transaction<'_>, record: &StepRecord, detail: &str) -> Result<(), StoreError> {
    let alert = &record.alert;
    let id = lock_report(tx, alert)?.ok_or_else(|| StoreError::NotFound(format!("alert {alert}")))?;
    let recorded: i64 = tx
        .query_typed_one("SELECT count(*) FROM alert_steps WHERE report_id = $1", &[(&id, Type::INT8)])
        .map_err(db)?
        .get(0);
    check_next_step(record, recorded)?;
    let inserted = tx.execute(
        "INSERT INTO alert_steps (report_id, seq, step, detail, user_id, at, channel) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        &[
            &id,
            &i64::from(record.seq),
            &record.step.name(),
            &detail,
            &record.user_id,
            &record.at.to_string(),
            &record.channel.as_str(),
        ],
    );
    match inserted {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Conflict(format!(
                "alert {alert} changed meanwhile (step #{} is already recorded); reload it and try again",
                record.seq
            )));
        }
        Err(e) => return Err(db(e)),
    }
    audit::append(tx, &record.audit_event())?;
    Ok(())
}

/// The report's row id, its row locked until the transaction ends.
fn lock_report(tx: &mut Transaction<'_>, reference: &Reference) -> Result<Option<i64>, StoreError> {
    let row = tx
        .query_typed_opt("SELECT id FROM reports WHERE reference = $1 FOR UPDATE", &[(&reference.as_str(), Type::TEXT)])
        .map_err(db)?;
    Ok(row.map(|r| r.get(0)))
}

/// One `reports` row (columns [`REPORT_COLUMNS`]) as (row id, report
/// without its duplicate links).
fn read_report(r: &Row) -> Result<(i64, Report), StoreError> {
    let id: i64 = r.get(0);
    let raw_reference: &str = r.get(1);
    let reference: Reference =
        raw_reference.parse().map_err(|_| damaged(format!("report reference `{raw_reference}`")))?;
    let what = |field: &str| damaged(format!("{field} of report {reference}"));
    let received_ns: i64 = r.get(2);
    let severity: i16 = r.get(20);
    let report = Report {
        reference: reference.clone(),
        received_at: Timestamp::from_nanosecond(i128::from(received_ns)).map_err(|_| what("receipt time"))?,
        event_time: r
            .get::<_, Option<&str>>(3)
            .map(|t| t.parse::<Timestamp>())
            .transpose()
            .map_err(|_| what("event time"))?,
        text: r.get(4),
        language: r.get(5),
        category: r.get(6),
        urgency: r.get::<_, Option<&str>>(7).map(|u| u.parse::<Urgency>()).transpose().map_err(|_| what("urgency"))?,
        place: ReportPlace { name: r.get(8), latitude: r.get(9), longitude: r.get(10), area_pcode: r.get(11) },
        reporter_id: r.get(12),
        contact: r
            .get::<_, Option<&str>>(13)
            .map(SealedContact::from_stored)
            .transpose()
            .map_err(|_| what("sealed contact"))?,
        channel: channel_from(r.get(14), r.get(15)).ok_or_else(|| what("channel"))?,
        source_id: r.get(16),
        verification: verification_from(r.get(17)).ok_or_else(|| what("verification state"))?,
        tags: Tags {
            dimensions: split_tags(r.get(18)),
            themes: split_tags(r.get(19)),
            severity: u8::try_from(severity).map_err(|_| what("severity"))?,
            rule: r.get(21),
        },
        duplicates: Vec::new(),
    };
    Ok((id, report))
}

/// Duplicate links of the reports `ids`, in the order they were made.
fn links_of(client: &mut impl GenericClient, ids: &[i64]) -> Result<HashMap<i64, Vec<DuplicateLink>>, StoreError> {
    let rows = client
        .query(
            "SELECT report_id, other, score, text_similarity, hours_apart, km_apart FROM report_duplicates
             WHERE report_id = ANY($1) ORDER BY report_id, seq",
            &[&ids],
        )
        .map_err(db)?;
    let mut out: HashMap<i64, Vec<DuplicateLink>> = HashMap::new();
    for r in &rows {
        let other: &str = r.get(1);
        let other = other.parse().map_err(|_| damaged(format!("duplicate link `{other}`")))?;
        out.entry(r.get(0)).or_default().push(DuplicateLink {
            other,
            score: r.get(2),
            text_similarity: r.get(3),
            hours_apart: r.get(4),
            km_apart: r.get(5),
        });
    }
    Ok(out)
}

/// Reports matching `filter`, oldest received first (ties by reference, as
/// the in-memory store orders them).
fn list_reports(client: &mut postgres::Client, filter: &ReportFilter) -> Result<Vec<Report>, StoreError> {
    let from = filter.received_from.map(clamped_ns);
    let until = filter.received_until.map(clamped_ns);
    let limit = filter.limit.map(|l| i64::try_from(l).unwrap_or(i64::MAX));
    let mut sql = format!("SELECT {REPORT_COLUMNS} FROM reports WHERE true");
    let mut args: Vec<&(dyn ToSql + Sync)> = Vec::new();
    if let Some(area) = &filter.area_pcode {
        args.push(area);
        sql.push_str(&format!(" AND area_pcode = ${}", args.len()));
    }
    if let Some(from) = &from {
        args.push(from);
        sql.push_str(&format!(" AND received_ns >= ${}", args.len()));
    }
    if let Some(until) = &until {
        args.push(until);
        sql.push_str(&format!(" AND received_ns < ${}", args.len()));
    }
    sql.push_str(" ORDER BY received_ns, reference");
    if let Some(limit) = &limit {
        args.push(limit);
        sql.push_str(&format!(" LIMIT ${}", args.len()));
    }
    let rows = client.query(&sql, &args).map_err(db)?;
    let mut reports = rows.iter().map(read_report).collect::<Result<Vec<_>, _>>()?;
    let ids: Vec<i64> = reports.iter().map(|(id, _)| *id).collect();
    let mut links = links_of(client, &ids)?;
    Ok(reports
        .drain(..)
        .map(|(id, mut report)| {
            report.duplicates = links.remove(&id).unwrap_or_default();
            report
        })
        .collect())
}

fn find_user(client: &mut postgres::Client, column: &str, value: &str) -> Result<Option<User>, StoreError> {
    find_user_in(client, column, value, "")
}

/// An account by `column`; `lock` is `""` or `" FOR UPDATE"`.
fn find_user_in(
    client: &mut impl GenericClient,
    column: &str,
    value: &str,
    lock: &str,
) -> Result<Option<User>, StoreError> {
    let sql = format!("SELECT {USER_COLUMNS} FROM users WHERE {column} = $1{lock}");
    let row = client.query_opt(&sql, &[&value]).map_err(db)?;
    row.as_ref().map(read_user).transpose()
}

const USER_COLUMNS: &str = "id, username, display_name, role, community, password_hash, active";

fn read_user(r: &Row) -> Result<User, StoreError> {
    Ok(User {
        id: r.get(0),
        username: r.get(1),
        display_name: r.get(2),
        role: parse_role(r.get(3))?,
        community: r.get(4),
        password_hash: r.get(5),
        active: r.get(6),
    })
}

const SESSION_COLUMNS: &str = "token_hash, user_id, created_at, expires_at, last_seen_at";

fn read_session(r: &Row) -> Result<Session, StoreError> {
    Ok(Session {
        token_hash: token_hash(r.get(0))?,
        user_id: r.get(1),
        created_at: parse_time(r.get(2), "session time")?,
        expires_at: parse_time(r.get(3), "session time")?,
        last_seen_at: parse_time(r.get(4), "session time")?,
    })
}

const TOKEN_COLUMNS: &str = "token_hash, partner, user_id, created_at, revoked_at, expires_at";

fn read_api_token(r: &Row) -> Result<ApiToken, StoreError> {
    let time = |t: &str| parse_time(t, "API token time");
    Ok(ApiToken {
        token_hash: token_hash(r.get(0))?,
        partner: r.get(1),
        user_id: r.get(2),
        created_at: time(r.get(3))?,
        revoked_at: r.get::<_, Option<&str>>(4).map(time).transpose()?,
        expires_at: r.get::<_, Option<&str>>(5).map(time).transpose()?,
    })
}

fn token_hash(bytes: &[u8]) -> Result<TokenHash, StoreError> {
    <[u8; 32]>::try_from(bytes).map(TokenHash).map_err(|_| damaged("token hash (not 32 bytes)"))
}

/// The tokens selected, oldest first (locked for update when `lock`). A
/// public id is matched on the hash's first bytes.
fn select_api_tokens(
    client: &mut impl GenericClient,
    which: &TokenSelector,
    lock: bool,
) -> Result<Vec<ApiToken>, StoreError> {
    // Locked in one order, so two revocations at once cannot deadlock.
    let lock = if lock { " ORDER BY token_hash FOR UPDATE" } else { "" };
    let rows = match which {
        TokenSelector::User(id) => {
            let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE user_id = $1{lock}");
            client.query(&sql, &[id])
        }
        TokenSelector::Partner(p) => {
            let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE partner = $1{lock}");
            client.query(&sql, &[p])
        }
        TokenSelector::PublicId(id) => {
            let Some(prefix) = TokenHash::public_id_bytes(id) else { return Ok(Vec::new()) };
            let sql =
                format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE substring(token_hash from 1 for 5) = $1{lock}");
            client.query(&sql, &[&&prefix[..]])
        }
    }
    .map_err(db)?;
    let mut out = rows.iter().map(read_api_token).collect::<Result<Vec<_>, _>>()?;
    sort_by_creation(&mut out, |t| (t.created_at, t.token_hash));
    Ok(out)
}

fn taken(user: &User) -> StoreError {
    StoreError::Conflict(format!("username `{}` is taken", user.username))
}

/// A username belongs to one account: saving another account under it is a conflict.
fn ensure_username_free(tx: &mut impl GenericClient, user: &User) -> Result<(), StoreError> {
    let other = tx
        .query_opt("SELECT id FROM users WHERE username = $1 AND id <> $2", &[&user.username, &user.id])
        .map_err(db)?;
    match other {
        Some(_) => Err(taken(user)),
        None => Ok(()),
    }
}

/// Creates or updates an account; a username taken meanwhile (the unique
/// index) is the same conflict as one found taken.
fn upsert_user(tx: &mut impl GenericClient, user: &User) -> Result<(), StoreError> {
    ensure_username_free(tx, user)?;
    let saved = tx.execute(
        "INSERT INTO users (id, username, display_name, role, community, password_hash, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (id) DO UPDATE SET username = excluded.username,
             display_name = excluded.display_name, role = excluded.role, community = excluded.community,
             password_hash = excluded.password_hash, active = excluded.active",
        &[
            &user.id,
            &user.username,
            &user.display_name,
            &user.role.as_str(),
            &user.community,
            &user.password_hash,
            &user.active,
        ],
    );
    match saved {
        Ok(_) => Ok(()),
        Err(e) if is_unique_violation(&e) => Err(taken(user)),
        Err(e) => Err(db(e)),
    }
}

/// Revokes the selected tokens not yet revoked (locked in one order), each
/// with its chain entry; returns them as revoked.
fn revoke_selected_tokens(
    tx: &mut impl GenericClient,
    which: &TokenSelector,
    at: Timestamp,
    by: &str,
) -> Result<Vec<ApiToken>, StoreError> {
    let mut revoked: Vec<ApiToken> =
        select_api_tokens(tx, which, true)?.into_iter().filter(|t| t.revoked_at.is_none()).collect();
    let hashes: Vec<Vec<u8>> = revoked.iter().map(|t| t.token_hash.0.to_vec()).collect();
    if !hashes.is_empty() {
        tx.execute(
            "UPDATE api_tokens SET revoked_at = $1 WHERE token_hash = ANY($2) AND revoked_at IS NULL",
            &[&at.to_string(), &hashes],
        )
        .map_err(db)?;
    }
    for t in &mut revoked {
        audit::append(tx, &AuditEvent::token_revoked(t, by, at))?;
        t.revoked_at = Some(at);
    }
    Ok(revoked)
}

/// An API token by its hash; `lock` is `""` or `" FOR UPDATE"`.
fn find_api_token(
    client: &mut impl GenericClient,
    hash: &TokenHash,
    lock: &str,
) -> Result<Option<ApiToken>, StoreError> {
    let sql = format!("SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1{lock}");
    let row = client.query_opt(&sql, &[&&hash.0[..]]).map_err(db)?;
    row.as_ref().map(read_api_token).transpose()
}

// --- encodings (the same values as the SQLite store writes) ---

/// The steps of one alert, in order (the store's reads and synchronisation's apply).
/// The steps of every alert among `alerts` in one query, each alert's in order.
pub(super) fn read_steps_of(
    client: &mut impl GenericClient,
    alerts: &[Reference],
) -> Result<Vec<StepRecord>, StoreError> {
    let references: Vec<&str> = alerts.iter().map(Reference::as_str).collect();
    let rows = client
        .query_typed(
            "SELECT r.reference, s.seq, s.detail, s.user_id, s.at, s.channel
             FROM alert_steps s JOIN reports r ON r.id = s.report_id
             WHERE r.reference = ANY($1) ORDER BY r.reference, s.seq",
            &[(&references, Type::TEXT_ARRAY)],
        )
        .map_err(db)?;
    rows.iter()
        .map(|r| {
            let raw: &str = r.get(0);
            let alert: Reference = raw.parse().map_err(|_| damaged(format!("report reference `{raw}`")))?;
            step_record(&alert, r.get(1), r.get(2), r.get(3), r.get(4), r.get(5))
        })
        .collect()
}

pub(super) fn read_steps(client: &mut impl GenericClient, alert: &Reference) -> Result<Vec<StepRecord>, StoreError> {
    // Typed: one round trip, no prepare (read for every step a sync applies).
    let rows = client
        .query_typed(
            "SELECT s.seq, s.detail, s.user_id, s.at, s.channel FROM alert_steps s JOIN reports r ON r.id = s.report_id
             WHERE r.reference = $1 ORDER BY s.seq",
            &[(&alert.as_str(), Type::TEXT)],
        )
        .map_err(db)?;
    rows.iter().map(|r| step_record(alert, r.get(0), r.get(1), r.get(2), r.get(3), r.get(4))).collect()
}
