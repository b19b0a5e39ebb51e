//! vitalcore-sync: offline-first synchronisation between field offices and
//! headquarters, the protocol only (see `README.md` for the design): the
//! office credential ([`Credential`]), batches of changes read from a
//! node's change log and applied idempotently in one transaction
//! ([`batch`]), and bundles that carry them compressed, encrypted and signed
//! ([`bundle`]). No HTTP and no files here: `app::sync` runs the use cases,
//! the CLI and the server move the bytes.

pub mod batch;
pub mod bundle;
mod events;
mod follow_ups;
mod up;

use serde::{Deserialize, Serialize};
use thiserror::Error;
use vitalcore_store::StoreError;

pub use batch::{Applied, Batch, PullRequest, apply_batch};
pub use bundle::{BundleKeys, BundleKind, Header};

/// Why a bundle or a credential was refused, in words that say what to do.
/// Nothing of a refused bundle is applied.
#[derive(Debug, Error, PartialEq)]
pub enum SyncError {
    #[error("this is not a vitalcore synchronisation bundle (or it was cut short); export it again")]
    NotABundle,
    #[error("the bundle is in format `{0}`, which this vitalcore does not read; upgrade vitalcore here")]
    UnknownFormat(String),
    #[error(
        "the bundle's signature does not verify: it was altered on the way or made with another office's \
         credential; nothing was applied. Export it again with the right credential"
    )]
    BadSignature,
    #[error(
        "office `{0}` is not registered at this headquarters; nothing was applied. Register it with \
         `vitalcore sync office add {0} --areas ...` and give the office the credential file it writes"
    )]
    UnknownOffice(String),
    #[error(
        "the credential of office `{office}` was revoked at headquarters ({at}); nothing was applied. Ask \
         headquarters to register the office again (sync office add) and use the new credential file"
    )]
    Revoked { office: String, at: String },
    #[error(
        "the bundle comes from a newer vitalcore (schema version {found}; this one knows up to {known}); \
         nothing was applied. Upgrade vitalcore on this machine, then sync again"
    )]
    NewerSchema { found: i64, known: i64 },
    #[error("{0}")]
    WrongNode(String),
    #[error("the credential file is not usable: {0}")]
    BadCredential(String),
    #[error("the bundle's content cannot be read: {0}")]
    BadBody(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("internal error: {0}")]
    Internal(String),
}

/// An office's credential, as HQ writes it to a file (owner-only) for the
/// office. The secret never goes over the wire; HQ keeps its SHA-256.
#[derive(Clone, PartialEq, Serialize, Deserialize)]
pub struct Credential {
    pub format: String,
    pub office: String,
    pub node_id: String,
    pub space: u8,
    pub areas: Vec<String>,
    pub hq_node: String,
    /// 64 hex digits.
    pub secret: String,
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credential")
            .field("office", &self.office)
            .field("node_id", &self.node_id)
            .finish_non_exhaustive()
    }
}

/// The format named in credential files.
pub const CREDENTIAL_FORMAT: &str = "vitalcore-office-credential-v1";

impl Credential {
    pub fn parse(text: &str) -> Result<Credential, SyncError> {
        let c: Credential = serde_json::from_str(text).map_err(|e| {
            SyncError::BadCredential(format!("{e}; use the file `vitalcore sync office add` wrote at headquarters"))
        })?;
        if c.format != CREDENTIAL_FORMAT {
            return Err(SyncError::BadCredential(format!("format `{}` is not {CREDENTIAL_FORMAT}", c.format)));
        }
        c.secret_bytes()?;
        Ok(c)
    }

    pub fn to_text(&self) -> String {
        serde_json::to_string_pretty(self).expect("a credential serialises") + "\n"
    }

    fn secret_bytes(&self) -> Result<Vec<u8>, SyncError> {
        let s = self.secret.trim();
        if s.len() != 64 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(SyncError::BadCredential("the secret must be 64 hex digits".into()));
        }
        Ok((0..32).map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).expect("hex")).collect())
    }

    /// The SHA-256 of the secret: what HQ stores, and what the bundle keys derive from.
    pub fn hash(&self) -> Result<[u8; 32], SyncError> {
        Ok(bundle::credential_hash(&self.secret_bytes()?))
    }
}

/// 32 random bytes as 64 hex digits (node ids use the first 32).
pub fn random_hex32() -> Result<String, SyncError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| SyncError::Internal(format!("the random number generator failed: {e}")))?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}
