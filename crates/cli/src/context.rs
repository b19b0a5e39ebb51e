//! What every store-backed command needs: the framework, the store, and
//! whether to keep quiet.

use anyhow::{Context as _, Result};
use std::path::PathBuf;
use std::sync::Arc;
use vitalcore_app::reports::{IntakeConfig, Reports};
use vitalcore_classify::{Classifier, Model};
use vitalcore_framework::Framework;
use vitalcore_intake::{CategoryMap, ContactKey};
use vitalcore_store::Store;
use vitalcore_store::reports::ReportStore;
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
    /// The operator's contact key file (64 hex digits), used to seal and open
    /// reporters' contacts. Make one with `vitalcore users keygen --out FILE`.
    #[arg(long, global = true, env = "VITALCORE_KEY_FILE")]
    pub key_file: Option<PathBuf>,
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
            None => Ok(Arc::new(self.open_sqlite()?)),
        }
    }

    /// The SQLite database, telling the operator when its files were open
    /// to other users and have just been made owner-only.
    fn open_sqlite(&self) -> Result<SqliteStore> {
        let store = SqliteStore::open(&self.db)?;
        for (file, mode) in store.permissions_tightened() {
            eprintln!(
                "{} could be read by other users (mode {mode:04o}): it is now readable by its owner only (0600)",
                file.display()
            );
        }
        Ok(store)
    }

    /// The contact key, when one is configured. A key file other users
    /// could read is refused: whoever reads it can read every reporter's
    /// contact.
    pub fn load_key(&self) -> Result<Option<ContactKey>> {
        let Some(path) = &self.key_file else { return Ok(None) };
        check_private(path)?;
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("cannot read the key file {} (make one with `vitalcore users keygen --out FILE`)", path.display())
        })?;
        Ok(Some(ContactKey::from_text(&text).with_context(|| format!("the key file {}", path.display()))?))
    }

    /// The event store and the report store (community reports, users,
    /// sessions, tokens, alert steps, the contact audit log): one database.
    pub fn open_stores(&self) -> Result<(Arc<dyn Store>, Arc<dyn ReportStore>)> {
        match &self.database_url {
            Some(url) => {
                let store = Arc::new(PostgresStore::connect(url)?);
                Ok((store.clone(), store))
            }
            None => {
                let store = Arc::new(self.open_sqlite()?);
                Ok((store.clone(), store))
            }
        }
    }

    /// The report store alone.
    pub fn open_reports(&self) -> Result<Arc<dyn ReportStore>> {
        Ok(self.open_stores()?.1)
    }

    /// The intake service (validation, text reading, placement, duplicates)
    /// over the report store, placing reports with the stored boundaries.
    pub fn reports_service(
        &self,
        events: &dyn Store,
        reports: Arc<dyn ReportStore>,
        config: IntakeConfig,
        model: Option<&std::path::Path>,
    ) -> Result<Reports> {
        let classifier = match model {
            Some(path) => Classifier::Model(Box::new(
                Model::load(path).with_context(|| format!("cannot load the classifier model {}", path.display()))?,
            )),
            None => Classifier::lexicon_only(),
        };
        let areas = events.areas()?;
        Ok(Reports::new(
            reports,
            self.load_key()?,
            CategoryMap::built_in(),
            classifier,
            &areas,
            config,
            jiff::Timestamp::now(),
        )?)
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

/// Refuses a key file with any permission for group or others.
#[cfg(unix)]
fn check_private(path: &std::path::Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).with_context(|| {
        format!("cannot read the key file {} (make one with `vitalcore users keygen --out FILE`)", path.display())
    })?;
    let mode = meta.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        anyhow::bail!(
            "the key file {path} can be read by other users (mode {mode:04o}), and whoever reads it can read every              reporter's contact; make it yours alone with `chmod 600 {path}` (and check who may have copied it)",
            path = path.display()
        );
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_private(_path: &std::path::Path) -> Result<()> {
    Ok(())
}
