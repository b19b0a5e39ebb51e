//! vitalcore-security: the security kernel, the part a security reviewer
//! reads first.
//!
//! - [`audit`]: the audit trail of security-relevant facts as a hash chain,
//!   its documented encoding and its verification.
//! - [`crypto`]: reporters' contacts sealed with XChaCha20-Poly1305 under the
//!   operator's key; every opening yields an audit record.
//! - [`auth`]: users and roles, argon2id passwords, session and API tokens,
//!   the permission policy, CSRF tokens.
//! - [`webhook`]: signatures of SMS gateway webhooks.
//! - [`crockford`]: the base32 alphabet of references and pseudonyms.
//!
//! No I/O: callers pass bytes, keys and the current time in; storing users,
//! tokens and audit records is the store's job.

pub mod audit;
pub mod auth;
pub mod crockford;
pub mod crypto;
pub mod webhook;

pub use crypto::{ContactKey, ContactRead, SealedContact};
