//! vitalcore-app: the application layer. The use cases both front ends
//! call (the CLI and the HTTP server parse, call this, and render):
//!
//! - [`accounts`]: accounts an administrator controls (disable, enable,
//!   passwords, API tokens with expiry and revocation, sessions with an idle
//!   timeout), logins through the throttle, and who is calling.
//! - [`backend`]: which database the data lives in (a SQLite file or a
//!   PostgreSQL connection string, told apart by one rule), the event,
//!   report and forecast stores opened on it, and the intake service set up
//!   over it (classifier model, boundaries, contact key).
//! - [`audit`]: the audit trail's hash chain verified (against itself,
//!   the audited tables and a written-down head) and listed; logins,
//!   failed logins and exports recorded.
//! - [`access`]: who may read and act on a report, its alert and its
//!   reporter's contact (permission, audit record, then the contact).
//! - [`outbox`]: feedback by SMS: exports that read phones through the audited
//!   reveal, status changes checked per area.
//! - [`reports`]: the intake service every channel goes through (validate,
//!   read the text, place, link likely duplicates, store) and community
//!   reports as events for the analyses.
//! - [`disclosure`]: what is published: the one rule every answer goes
//!   through before a caller sees a number counted from community reports.
//! - [`kobo`]: importing a KoBoToolbox/ODK export: rows read with the
//!   mapping, colliding references redrawn (contacts re-sealed as the
//!   system, with the audit record), duplicates linked, one transaction.
//! - [`mandates`]: Security Council resolutions read from files and tagged
//!   with the framework's mandate tasks; the share using a term over time.
//! - [`analysis`]: the events an analysis reads (stored events of a range
//!   with the community reports joined).
//! - [`briefing`]: what a situation report and the dashboard show for a
//!   period and area, to staff or the public (every report figure through
//!   [`disclosure`]).
//! - [`sync`]: field offices and headquarters: offices registered at HQ,
//!   push and pull of batches over any transport, bundles on files, status.
//! - [`notify`]: telling duty officers at once: the on-call rota, what
//!   triggers a notification, signed webhooks, SMS and e-mail, the worker
//!   that sends them from the persisted outbox, ACK by SMS.
//! - [`warnings`]: the early-warning rule: forecasts from the stored events
//!   chosen on their backtest skill, threshold and report-burst warnings
//!   into the queue, and moving a warning on.
//!
//! Depends on the domain (`framework`, `intake`, `security`), the storage
//! interface and its two backends (`store`, `store-sqlite`,
//! `store-postgres`) and the analytics; never on the CLI or the server.

pub mod access;
pub mod accounts;
pub mod analysis;
pub mod audit;
pub mod backend;
pub mod briefing;
pub mod disclosure;
pub mod kobo;
pub mod mandates;
pub mod notify;
pub mod outbox;
pub mod reports;
pub mod sync;
pub mod warnings;
