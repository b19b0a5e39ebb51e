//! A PostgreSQL schema of its own per test (on the server
//! `vitalcore-test-postgres` provides), dropped with everything in it.

use std::sync::atomic::{AtomicU32, Ordering};
use vitalcore_store_postgres::PostgresStore;
use vitalcore_test_postgres as pg;

pub struct Schema {
    url: String,
    name: String,
}

impl Schema {
    /// `None` (skip) only when `VITALCORE_SKIP_PG=1`.
    pub fn new() -> Option<Schema> {
        let url = pg::database_url_or_skip()?;
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
        let name = format!("vc_app_{}_{}_{nanos}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed));
        Some(Schema { url, name })
    }

    pub fn store(&self) -> PostgresStore {
        PostgresStore::connect_with_schema(&self.url, &self.name).unwrap()
    }

    /// The test database's connection string with the schema (created by
    /// [`Schema::store`]) as the search path: what a user would pass.
    pub fn conninfo(&self) -> String {
        let url = self.url.clone();
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            let sep = if url.contains('?') { '&' } else { '?' };
            format!("{url}{sep}options=-c%20search_path%3D{}", self.name)
        } else {
            format!("{url} options='-c search_path={}'", self.name)
        }
    }

    /// Runs `sql` in the schema through a connection of its own (past the store).
    pub fn exec(&self, sql: &str) {
        let mut client = pg::connect();
        client.batch_execute(&format!("SET search_path TO {}; {sql}", self.name)).unwrap();
    }
}

impl Drop for Schema {
    fn drop(&mut self) {
        pg::drop_schema(&self.name);
    }
}
