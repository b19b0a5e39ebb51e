//! The `ReportStore` contract on PostgreSQL: the shared suite of
//! `vitalcore_store::testing::reports`, each test in a fresh schema, and the checks
//! on the database itself (reconnect, every row searched for a plaintext
//! contact, raw SQL against the append-only logs).

use postgres::Client;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::reports::Backend;

use crate::Schema;

/// A fresh schema, seen from outside the store through an admin connection.
struct PgBackend {
    schema: Schema,
}

fn pg_backend() -> Option<PgBackend> {
    Some(PgBackend { schema: Schema::new()? })
}

impl PgBackend {
    fn admin(&self) -> Client {
        vitalcore_test_postgres::connect()
    }
}

impl Backend for PgBackend {
    fn open(&self) -> Box<dyn ReportStore> {
        Box::new(self.schema.store())
    }

    /// Searches every row of every table of the schema, as text.
    fn holds(&self, needle: &str) -> bool {
        let mut client = self.admin();
        let tables = client
            .query(
                "SELECT table_name::text FROM information_schema.tables
                 WHERE table_schema = $1 AND table_type = 'BASE TABLE'",
                &[&self.schema.name],
            )
            .unwrap();
        assert!(tables.len() >= 8, "the report tables are in the schema");
        tables.iter().any(|t| {
            let table: String = t.get(0);
            let sql = format!("SELECT count(*) FROM {}.{table} t WHERE strpos(t::text, $1) > 0", self.schema.name);
            client.query_one(&sql, &[&needle]).unwrap().get::<_, i64>(0) > 0
        })
    }

    fn tamper(&self) -> Vec<Result<(), String>> {
        let mut client = self.admin();
        let schema = &self.schema.name;
        [
            format!("UPDATE {schema}.alert_steps SET user_id = 'someone else'"),
            format!("DELETE FROM {schema}.alert_steps"),
            format!("UPDATE {schema}.contact_reads SET purpose = 'nothing to see'"),
            format!("DELETE FROM {schema}.contact_reads"),
            format!("UPDATE {schema}.outbox_messages SET body = 'something else'"),
            format!("DELETE FROM {schema}.outbox_messages"),
            format!("UPDATE {schema}.outbox_status SET status = 'sent'"),
            format!("DELETE FROM {schema}.outbox_status"),
            format!("UPDATE {schema}.audit_log SET actor = 'someone else'"),
            format!("DELETE FROM {schema}.audit_log"),
            format!("TRUNCATE {schema}.audit_log"),
            format!("TRUNCATE {schema}.contact_reads"),
            format!("TRUNCATE {schema}.alert_steps"),
        ]
        .iter()
        .map(|sql| client.batch_execute(sql).map_err(|e| e.to_string()))
        .collect()
    }
}

mod on_postgres {
    use super::*;
    vitalcore_store::report_conformance_tests!(crate::fresh());
    vitalcore_store::report_backend_tests!(pg_backend());
}

/// Migration 7 on a schema that holds one SMS message stored three times
/// (before webhooks were authenticated, or a gateway repeating): every
/// copy keeps its report, the first keeps the message id, each later one's
/// source id names the first and itself; from then on the id is stored once.
#[test]
fn migration_7_keeps_repeated_sms_and_stores_message_ids_once_from_then_on() {
    use vitalcore_intake::report::Reference;
    use vitalcore_store::StoreError;
    use vitalcore_store::reports::ReportFilter;
    use vitalcore_store::testing::reports::sms_at;
    let Some(schema) = Schema::new() else { return };
    {
        let store = schema.store();
        for r in [
            sms_at(1, "twilio", Some("SM1")),
            sms_at(2, "twilio", Some("SM1-b")),
            sms_at(3, "twilio", Some("SM1-c")),
            sms_at(4, "rapidpro", Some("SM1")),
            sms_at(5, "twilio", Some("SM2")),
        ] {
            store.insert_report(&r).unwrap();
        }
    }
    // Back to version 6 as it was: no index, and the copies it allowed.
    vitalcore_test_postgres::connect()
        .batch_execute(&format!(
            "SET search_path TO {0};
             DROP INDEX reports_sms_message_id;
             UPDATE reports SET source_id = 'SM1' WHERE source_id IN ('SM1-b', 'SM1-c');
             DELETE FROM schema_migrations WHERE version >= 7;
             RESET search_path;",
            schema.name
        ))
        .unwrap();
    let store = schema.store();
    assert_eq!(store.schema_version().unwrap(), vitalcore_store_postgres::SCHEMA_VERSION);
    let source = |n| store.report(&Reference::from_number(n)).unwrap().unwrap().source_id.unwrap();
    let first = Reference::from_number(1);
    assert_eq!(source(1), "SM1");
    let stored_as = |n| Reference::from_number(n);
    assert_eq!(source(2), format!("SM1 (repeat of {first}, stored as {})", stored_as(2)));
    assert_eq!(source(3), format!("SM1 (repeat of {first}, stored as {})", stored_as(3)));
    assert_eq!((source(4), source(5)), ("SM1".to_string(), "SM2".to_string()), "other ids are untouched");
    assert_eq!(store.reports(&ReportFilter::default()).unwrap().len(), 5);
    assert_eq!(store.sms_report("twilio", "SM1").unwrap().unwrap().reference, first);
    assert!(matches!(store.insert_report(&sms_at(6, "twilio", Some("SM1"))), Err(StoreError::Conflict(_))));
}

/// Every connection of the store commits synchronously (a commit returns
/// once it is on disk), even when the connection string or the server says
/// otherwise.
#[test]
fn commits_wait_for_the_disk_whatever_the_default() {
    let Some(schema) = Schema::new() else { return };
    let url = vitalcore_test_postgres::database_url();
    let lax = if url.starts_with("postgres") {
        format!("{url}{}options=-c%20synchronous_commit%3Doff", if url.contains('?') { '&' } else { '?' })
    } else {
        format!("{url} options='-c synchronous_commit=off'")
    };
    let mut plain = Client::connect(&lax, postgres::NoTls).unwrap();
    let setting: String = plain.query_one("SHOW synchronous_commit", &[]).unwrap().get(0);
    assert_eq!(setting, "off", "the control: this connection string turns it off");
    let store = vitalcore_store_postgres::PostgresStore::connect_with_schema(&lax, &schema.name).unwrap();
    assert_eq!(store.synchronous_commit().unwrap(), "on");
}

/// A version 8 schema with contact reads and alert steps: migration 9
/// starts the chain with them (after a `chain_started` entry), so the chain
/// verifies and matches the tables from the first connect on.
#[test]
fn migration_9_starts_the_chain_with_the_reads_and_steps_already_logged() {
    use vitalcore_store::testing::reports::{assert_chain_intact, write_everything};
    let Some(schema) = Schema::new() else { return };
    write_everything(&schema.store());
    // Back to version 8: no chain, no synchronisation tables (the rows the store wrote stay).
    vitalcore_test_postgres::connect()
        .batch_execute(&format!(
            "SET search_path TO {}; DROP TABLE audit_log; \
             DROP TABLE sync_node, sync_offices, sync_cursors, sync_applied, sync_conflicts, sync_log CASCADE; \
             DELETE FROM schema_migrations WHERE version >= 9; \
             RESET search_path;",
            schema.name
        ))
        .unwrap();
    let store = schema.store();
    let chain = assert_chain_intact(&store);
    let actions: Vec<_> = chain.iter().map(|e| e.event.action.as_str()).collect();
    assert_eq!(actions, ["chain_started", "alert_step", "alert_step", "contact_read"], "oldest first");
    drop(store);
    assert_eq!(assert_chain_intact(&schema.store()), chain, "connecting again changes nothing");
}

/// A version 11 schema (steps without a channel, notification kinds without
/// `sync.conflict`): migration 14 gives the steps already there the channel
/// `unknown` and takes `sync.conflict` from then on.
#[test]
fn migration_14_gives_old_steps_an_unknown_channel_and_takes_sync_conflicts() {
    use vitalcore_intake::notify::NotificationDraft;
    use vitalcore_intake::workflow::StepChannel;
    use vitalcore_store::notify::NotifyStore;
    use vitalcore_store::testing::reports::write_everything;
    let Some(schema) = Schema::new() else { return };
    let report = write_everything(&schema.store());
    vitalcore_test_postgres::connect()
        .batch_execute(&format!(
            "SET search_path TO {}; ALTER TABLE alert_steps DROP COLUMN channel; \
             ALTER TABLE notifications DROP CONSTRAINT notifications_kind_check; \
             ALTER TABLE notifications ADD CONSTRAINT notifications_kind_check \
                 CHECK (kind IN ('alert.new', 'alert.escalated', 'warning.raised', 'test')); \
             DELETE FROM schema_migrations WHERE version >= 14; RESET search_path;",
            schema.name
        ))
        .unwrap();
    let store = schema.store();
    let steps = store.steps(&report.reference).unwrap();
    assert!(!steps.is_empty());
    assert!(steps.iter().all(|s| s.channel == StepChannel::Unknown), "steps from before the channel was recorded");
    let at = "2026-12-08T09:00:00Z".parse().unwrap();
    let conflict = NotificationDraft::sync_conflict(&report.reference, Some("CF32"), None, None, "abc", at);
    assert_eq!(store.queue_notifications(&[conflict]).unwrap().len(), 1);
}
