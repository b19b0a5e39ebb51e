//! A PostgreSQL schema of its own per test, dropped with everything in it.

use postgres::{Client, NoTls};
use std::sync::atomic::{AtomicU32, Ordering};
use vitalcore_store_postgres::PostgresStore;

fn pg_url() -> String {
    std::env::var("VITALCORE_PG_URL").unwrap_or_else(|_| "host=127.0.0.1 user=postgres dbname=test".to_string())
}

pub struct Schema {
    name: String,
}

impl Schema {
    /// `None` (skip) only when PostgreSQL is unreachable and `VITALCORE_SKIP_PG=1`.
    pub fn new() -> Option<Schema> {
        if let Err(e) = Client::connect(&pg_url(), NoTls) {
            if std::env::var("VITALCORE_SKIP_PG").as_deref() == Ok("1") {
                eprintln!("skipped: PostgreSQL unreachable ({e}) and VITALCORE_SKIP_PG=1");
                return None;
            }
            panic!("PostgreSQL is unreachable at `{}`: {e}", pg_url());
        }
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        Some(Schema { name: format!("vc_app_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed)) })
    }

    pub fn store(&self) -> PostgresStore {
        PostgresStore::connect_with_schema(&pg_url(), &self.name).unwrap()
    }

    /// Runs `sql` in the schema through a connection of its own (past the store).
    pub fn exec(&self, sql: &str) {
        let mut client = Client::connect(&pg_url(), NoTls).unwrap();
        client.batch_execute(&format!("SET search_path TO {}; {sql}", self.name)).unwrap();
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        if let Ok(mut client) = Client::connect(&pg_url(), NoTls) {
            let _ = client.batch_execute(&format!("DROP SCHEMA IF EXISTS {} CASCADE", self.name));
        }
    }
}
