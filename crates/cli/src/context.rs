//! What every store-backed command needs: the framework, the store, and
//! whether to keep quiet.

use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_framework::Framework;
use vitalcore_store::Store;
use vitalcore_store_postgres::PostgresStore;
use vitalcore_store_sqlite::SqliteStore;

#[derive(clap::Args, Clone, Debug)]
pub struct Global {
    /// The embedded database file (SQLite). Created if missing.
    #[arg(long, global = true, env = "VITALCORE_DB", default_value = "vitalcore.db")]
    pub db: PathBuf,
    /// Use a PostgreSQL database instead of the embedded one, e.g.
    /// postgres://user@host/dbname or "host=... dbname=...".
    #[arg(long, global = true, env = "VITALCORE_DATABASE_URL")]
    pub database_url: Option<String>,
    /// A framework file replacing the built-in taxonomy and mappings.
    #[arg(long, global = true, env = "VITALCORE_FRAMEWORK")]
    pub framework: Option<PathBuf>,
    /// No progress bars or summaries on stderr (for scripts).
    #[arg(long, short, global = true)]
    pub quiet: bool,
}

impl Global {
    pub fn load_framework(&self) -> Result<Framework> {
        let Some(path) = &self.framework else { return Ok(Framework::built_in()) };
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read the framework file {}", path.display()))?;
        Framework::from_toml(&text).with_context(|| format!("the framework file {} needs fixing", path.display()))
    }

    pub fn open_store(&self) -> Result<Arc<dyn Store>> {
        match &self.database_url {
            Some(url) => Ok(Arc::new(PostgresStore::connect(url)?)),
            None => Ok(Arc::new(SqliteStore::open(&self.db)?)),
        }
    }

    /// Where the data lives, for messages.
    pub fn location(&self) -> String {
        match &self.database_url {
            Some(_) => "the PostgreSQL database".to_string(),
            None => self.db.display().to_string(),
        }
    }

    pub fn note(&self, message: impl AsRef<str>) {
        if !self.quiet {
            eprintln!("{}", message.as_ref());
        }
    }
}
