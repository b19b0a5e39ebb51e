//! An SMS is stored once per gateway message id, through the intake
//! service, on every backend: a delivery repeated by the gateway (or a
//! replayed request) returns the first report and stores nothing, also
//! when the deliveries race.

use secrecy::SecretString;
use std::sync::Arc;
use vitalcore_app::reports::{IntakeConfig, Reports};
use vitalcore_classify::Classifier;
use vitalcore_intake::{CategoryMap, Channel, ReportDraft};
use vitalcore_store::reports::{ReportFilter, ReportStore};

use crate::{key, ts};

macro_rules! on_every_backend_shared {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name(std::sync::Arc::new(vitalcore_store::testing::MemoryStore::new())); } )*
        }
        mod sqlite {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(std::sync::Arc::new(
                    vitalcore_store_sqlite::SqliteStore::open(dir.path().join("r.db")).unwrap(),
                ));
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                let Some(schema) = crate::pg::Schema::new() else { return };
                super::$name(std::sync::Arc::new(schema.store()));
            } )*
        }
    };
}

on_every_backend_shared!(a_repeated_sms_returns_the_first_report_and_stores_nothing);

fn service(store: Arc<dyn ReportStore>) -> Reports {
    let now = ts("2024-05-01T10:00:00Z");
    let config = IntakeConfig::default();
    Reports::new(store, Some(key()), CategoryMap::built_in(), Classifier::lexicon_only(), &[], config, now).unwrap()
}

fn sms(text: &str, message_id: Option<&str>) -> ReportDraft {
    ReportDraft {
        text: text.into(),
        contact: Some(SecretString::from("+23672000001")),
        source_id: message_id.map(str::to_string),
        ..ReportDraft::default()
    }
}

fn twilio() -> Channel {
    Channel::Sms { gateway: "twilio".into() }
}

pub fn a_repeated_sms_returns_the_first_report_and_stores_nothing(store: Arc<dyn ReportStore>) {
    let reports = service(store.clone());
    let count = || store.reports(&ReportFilter::default()).unwrap().len();
    let now = ts("2024-05-01T10:00:00Z");
    let first = reports.submit(&sms("Armed men attacked the market", Some("SM1")), twilio(), now).unwrap();
    let again = reports.submit(&sms("Armed men attacked the market", Some("SM1")), twilio(), now).unwrap();
    assert_eq!(again.reference, first.reference);
    // A replay carrying other words under the same id is still that message.
    let altered = reports.submit(&sms("Something else entirely", Some(" SM1 ")), twilio(), now).unwrap();
    assert_eq!((altered.reference, altered.text), (first.reference.clone(), first.text.clone()));
    assert_eq!(count(), 1);
    // Another gateway's id space, and messages without an id, are apart.
    let rapid = reports
        .submit(&sms("Armed men attacked the market", Some("SM1")), Channel::Sms { gateway: "rapidpro".into() }, now)
        .unwrap();
    assert_ne!(rapid.reference, first.reference);
    reports.submit(&sms("no id", None), twilio(), now).unwrap();
    reports.submit(&sms("no id", None), twilio(), now).unwrap();
    assert_eq!(count(), 4);
    // Four deliveries of one message at once: one report, every answer names it.
    let barrier = std::sync::Barrier::new(4);
    let answers: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..4)
            .map(|_| {
                let (reports, barrier) = (&reports, &barrier);
                scope.spawn(move || {
                    barrier.wait();
                    reports.submit(&sms("Houses burned", Some("SM-race")), twilio(), now).unwrap().reference.to_string()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert!(answers.iter().all(|a| *a == answers[0]), "{answers:?}");
    assert_eq!(count(), 5);
}
