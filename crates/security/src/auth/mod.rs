//! Users, roles, passwords, tokens, the permission policy and CSRF tokens.
//!
//! Nothing is stored here: the report store (`vitalcore_store::ReportStore`) keeps users,
//! password hashes and token hashes; the server sets cookies and headers.

pub mod csrf;
pub mod password;
pub mod policy;
pub mod token;
pub mod user;

pub use csrf::CsrfKey;
pub use password::{HashingGate, PasswordError, hash_password, verify_password};
pub use policy::{Action, AlertAction, Denied, Resource, authorize};
pub use token::{ApiToken, Session, Token, TokenHash, TokenKind};
pub use user::{Role, User, UserError};
