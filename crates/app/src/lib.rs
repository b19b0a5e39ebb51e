//! vitalcore-app: the application layer. The use cases both front ends
//! call (the CLI and the HTTP server parse, call this, and render):
//!
//! - [`audit`]: the audit trail's hash chain verified (against itself,
//!   the audited tables and a written-down head) and listed; logins,
//!   failed logins and exports recorded.
//! - [`access`]: who may read and act on a report, its alert and its
//!   reporter's contact (permission, audit record, then the contact).
//! - [`outbox`]: feedback by SMS: exports that read phones through the audited
//!   reveal, status changes checked per area.
//! - [`reports`]: the intake service every channel goes through (validate,
//!   read the text, place, link likely duplicates, store), community reports
//!   as events for the analyses, and the small-count rule of published
//!   aggregates.
//!
//! Depends on the domain (`framework`, `intake`, `security`), the storage
//! interface and its two backends (`store`, `store-sqlite`,
//! `store-postgres`) and the analytics; never on the CLI or the server.

pub mod access;
pub mod audit;
pub mod outbox;
pub mod reports;
