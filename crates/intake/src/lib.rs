//! vitalcore-intake: the I/O-free core of bottom-up intake and the
//! alert-to-response workflow.
//!
//! - [`report`]: the community report, its validation and the reference
//!   number a reporter quotes; [`categories`]: reporter categories mapped to
//!   the framework's dimensions and themes.
//! - [`crypto`]: reporter contacts sealed with XChaCha20-Poly1305; every
//!   decryption yields an audit record.
//! - [`auth`]: users and roles, argon2id passwords, session and API tokens,
//!   the permission policy, CSRF tokens.
//! - [`workflow`]: alert states as a fold over an append-only step log,
//!   deadlines, escalation, feedback and response metrics.
//! - [`sms`], [`kobo`]: the SMS gateway webhooks and KoBoToolbox/ODK exports.
//! - [`duplicates`]: likely duplicates, linked and never deleted.
//! - [`text`]: free text made safe to store and show (control characters
//!   and bidi overrides stripped) and the P-code shape.
//! - [`messages`]: what reporters read (form, validation, SMS replies), per
//!   language, from one message table; [`outbox`]: feedback queued for
//!   reporters by SMS, its status history, export and gateway requests.
//!
//! Nothing here opens a file, a socket or a database: callers pass bytes and
//! the current time in.

pub mod categories;
/// Re-exported from the security kernel (`vitalcore-security`).
pub use vitalcore_security::{auth, crypto};
pub mod duplicates;
pub mod duration;
pub mod kobo;
pub mod messages;
pub mod notify;
pub mod outbox;
pub mod report;
pub mod sms;
pub mod text;
pub mod workflow;
pub mod xlsform;

pub use categories::CategoryMap;
pub use crypto::{ContactKey, ContactRead, SealedContact};
pub use report::{Channel, Intake, InvalidReport, Reference, Report, ReportDraft, Urgency};
