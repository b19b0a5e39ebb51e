//! Integration tests of vitalcore-app: one binary, one module per use case.

/// Runs each named test function (taking `&dyn ReportStore`) on every
/// backend: the in-memory reference, a SQLite file and a PostgreSQL schema
/// of its own. Defined before the modules so that each can use it.
macro_rules! on_every_backend {
    ($($name:ident),* $(,)?) => {
        mod memory {
            $( #[test] fn $name() { super::$name(&vitalcore_store::testing::MemoryStore::new()); } )*
        }
        mod sqlite {
            $( #[test] fn $name() {
                let dir = tempfile::tempdir().unwrap();
                super::$name(&vitalcore_store_sqlite::SqliteStore::open(dir.path().join("store.db")).unwrap());
            } )*
        }
        mod postgres {
            $( #[test] fn $name() {
                let Some(schema) = crate::pg::Schema::new() else { return };
                super::$name(&schema.store());
            } )*
        }
    };
}

mod access;
mod accounts;
mod analysis;
mod audit;
mod backends;
mod database;
mod kobo;
mod mandates;
mod notify;
mod pg;
mod sms_once;
mod warnings;

use jiff::Timestamp;
use vitalcore_intake::{CategoryMap, ContactKey, Intake};

pub fn ts(s: &str) -> Timestamp {
    s.parse().unwrap()
}

pub fn key() -> ContactKey {
    ContactKey::from_text("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f").unwrap()
}

pub fn intake() -> Intake {
    Intake::new(key(), CategoryMap::built_in())
}
