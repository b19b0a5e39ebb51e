//! The audit trail over the store on every backend: what the use cases
//! record, `audit::verify` on an intact chain, and (SQLite and PostgreSQL)
//! raw SQL around the store and its triggers: a contact read deleted, a
//! chain entry altered, removed from the middle or cut off the end. Each is
//! named by the entry it broke.

use vitalcore_app::access::{act_on_alert, reveal_contact};
use vitalcore_app::audit::{CLI_ACTOR, list, record_export, record_login, record_login_failed, verify};
use vitalcore_intake::report::Reference;
use vitalcore_intake::workflow::Step;
use vitalcore_intake::workflow::StepChannel;
use vitalcore_security::audit::{AuditAction, AuditProblem};
use vitalcore_security::auth::Role;
use vitalcore_store::reports::ReportStore;
use vitalcore_store::testing::reports::{full_report, key, ts, user};

/// Raw SQL on the store's database, past the store.
pub struct Raw {
    exec: Box<dyn Fn(&str)>,
    /// Statements dropping the append-only triggers of `contact_reads`.
    unguard_reads: &'static str,
    /// Statements dropping the append-only triggers of `audit_log`.
    unguard_chain: &'static str,
}

mod memory {
    #[test]
    fn what_the_use_cases_do_is_chained_and_verifies() {
        super::what_the_use_cases_do_is_chained_and_verifies(&vitalcore_store::testing::MemoryStore::new());
    }
}

macro_rules! on_sql_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("a.db");
                let store = vitalcore_store_sqlite::SqliteStore::open(&path).unwrap();
                let raw = super::Raw {
                    exec: Box::new(move |sql| rusqlite::Connection::open(&path).unwrap().execute_batch(sql).unwrap()),
                    unguard_reads: "DROP TRIGGER contact_reads_no_update; DROP TRIGGER contact_reads_no_delete;",
                    unguard_chain: "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
                };
                super::$name(&store, &raw);
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                let Some(schema) = crate::pg::Schema::new() else { return };
                let store = schema.store();
                let raw = super::Raw {
                    exec: Box::new(move |sql| schema.exec(sql)),
                    unguard_reads: "DROP TRIGGER contact_reads_append_only ON contact_reads;",
                    unguard_chain: "DROP TRIGGER audit_log_append_only ON audit_log;",
                };
                super::$name(&store, &raw);
            } )*
        }
    };
}

on_sql_backends!(
    what_the_use_cases_do_is_chained_and_verifies_on_sql,
    a_contact_read_deleted_behind_the_stores_back_is_named_by_its_entry,
    an_altered_entry_is_named,
    a_removed_entry_is_named_and_a_cut_end_is_caught_by_the_written_down_head,
);

/// The seq of the entry for each fact written, and the head then.
struct Written {
    read: u64,
    login: u64,
    head: String,
}

/// A contact read, two alert steps, a failed and a good login and an
/// export, through the use cases.
fn write(store: &dyn ReportStore) -> Written {
    let report = full_report(1);
    store.insert_report(&report).unwrap();
    let responder = user("u-r1", "responder1", Role::Responder, None);
    store.save_user(&responder, CLI_ACTOR).unwrap();
    let reference = Reference::from_number(1);
    let now = ts("2024-05-02T10:00:00Z");
    act_on_alert(store, &responder, &reference, Step::Acknowledge, now, StepChannel::Web).unwrap();
    reveal_contact(store, &key(), &responder, &reference, "call back", now).unwrap();
    act_on_alert(
        store,
        &responder,
        &reference,
        Step::Verify { note: "the reporter confirmed".into() },
        now,
        StepChannel::Web,
    )
    .unwrap();
    record_login_failed(store, "responder1", now).unwrap();
    let login = record_login(store, &responder, now).unwrap();
    let export = record_export(store, "u-r1", "outbox.csv", "1 phone number", now).unwrap();
    let entries = list(store, 100).unwrap();
    let read = entries.iter().find(|e| e.event.action == AuditAction::ContactRead).unwrap().seq;
    Written { read, login: login.seq, head: format!("{}:{}", export.seq, export.hash) }
}

pub fn what_the_use_cases_do_is_chained_and_verifies(store: &dyn ReportStore) {
    let w = write(store);
    let entries = list(store, 100).unwrap();
    let actions: Vec<AuditAction> = entries.iter().map(|e| e.event.action).collect();
    assert_eq!(
        actions,
        vec![
            AuditAction::UserCreated,
            AuditAction::AlertStep,
            AuditAction::ContactRead,
            AuditAction::AlertStep,
            AuditAction::LoginFailed,
            AuditAction::Login,
            AuditAction::Export,
        ]
    );
    assert_eq!(entries[2].event.detail, "responder: call back");
    assert_eq!(entries[3].event.detail, "#1 verify");
    let report = verify(store, Some(&w.head)).unwrap();
    assert!(report.is_intact(), "{:?}", report.problems);
    assert_eq!((report.checked, report.contact_reads, report.alert_steps), (7, 1, 2));
    assert_eq!(format!("{}:{}", report.head.as_ref().unwrap().0, report.head.as_ref().unwrap().1), w.head);
}

pub fn what_the_use_cases_do_is_chained_and_verifies_on_sql(store: &dyn ReportStore, _raw: &Raw) {
    what_the_use_cases_do_is_chained_and_verifies(store);
}

pub fn a_contact_read_deleted_behind_the_stores_back_is_named_by_its_entry(store: &dyn ReportStore, raw: &Raw) {
    let w = write(store);
    (raw.exec)(&format!("{} DELETE FROM contact_reads;", raw.unguard_reads));
    assert!(store.contact_reads(&Reference::from_number(1)).unwrap().is_empty(), "the read is gone");
    let report = verify(store, Some(&w.head)).unwrap();
    assert!(
        matches!(
            &report.problems[..],
            [AuditProblem::EntryWithoutRow { seq, table: "contact_reads", .. }] if *seq == w.read
        ),
        "{:?}",
        report.problems
    );
    assert!(report.problems[0].to_string().starts_with(&format!("entry #{} (contact_read by u-r1 on ", w.read)));
}

pub fn an_altered_entry_is_named(store: &dyn ReportStore, raw: &Raw) {
    let w = write(store);
    (raw.exec)(&format!(
        "{} UPDATE audit_log SET actor = 'u-someone-else' WHERE seq = {};",
        raw.unguard_chain, w.login
    ));
    let report = verify(store, None).unwrap();
    assert_eq!(report.problems, vec![AuditProblem::Altered { seq: w.login }]);
    // The read's purpose changed in the chain (and its row left alone):
    // the entry is altered and no longer matches its row.
    (raw.exec)(&format!("UPDATE audit_log SET detail = 'responder: nothing' WHERE seq = {};", w.read));
    let report = verify(store, None).unwrap();
    assert_eq!(report.problems.first(), Some(&AuditProblem::Altered { seq: w.read }), "{:?}", report.problems);
    assert!(report.problems.iter().any(|p| matches!(p, AuditProblem::RowWithoutEntry { table: "contact_reads", .. })));
}

pub fn a_removed_entry_is_named_and_a_cut_end_is_caught_by_the_written_down_head(store: &dyn ReportStore, raw: &Raw) {
    let w = write(store);
    (raw.exec)(&format!("{} DELETE FROM audit_log WHERE seq = (SELECT max(seq) FROM audit_log);", raw.unguard_chain));
    assert!(verify(store, None).unwrap().is_intact(), "a cut chain is a chain");
    let report = verify(store, Some(&w.head)).unwrap();
    assert!(matches!(report.problems[..], [AuditProblem::HeadNotFound { .. }]), "{:?}", report.problems);
    (raw.exec)(&format!("DELETE FROM audit_log WHERE seq = {};", w.login - 1));
    let report = verify(store, None).unwrap();
    assert_eq!(report.problems, vec![AuditProblem::Missing { seq: w.login - 1, next: w.login }]);
}
