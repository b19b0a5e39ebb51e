//! Accounts and roles.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// What a person may do is decided by their role (see [`super::policy`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Everything, including managing users.
    Admin,
    /// Reads reports and aggregates, triages alerts (acknowledge, verify).
    Analyst,
    /// Acts on alerts end to end and may read reporter contacts to call back.
    Responder,
    /// A community's focal point: submits and follows that community's reports only.
    FocalPoint,
    /// Reads aggregates only.
    Viewer,
}

impl Role {
    pub const ALL: [Role; 5] = [Role::Admin, Role::Analyst, Role::Responder, Role::FocalPoint, Role::Viewer];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Analyst => "analyst",
            Role::Responder => "responder",
            Role::FocalPoint => "focal_point",
            Role::Viewer => "viewer",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;
    fn from_str(s: &str) -> Result<Role, String> {
        match s.trim().to_ascii_lowercase().replace('-', "_").as_str() {
            "admin" => Ok(Role::Admin),
            "analyst" => Ok(Role::Analyst),
            "responder" => Ok(Role::Responder),
            "focal_point" | "focalpoint" => Ok(Role::FocalPoint),
            "viewer" => Ok(Role::Viewer),
            other => Err(format!("`{other}` is not a role: use admin, analyst, responder, focal_point or viewer")),
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum UserError {
    #[error("username `{0}` is not valid: use 3-64 letters, digits, `.`, `-` or `_`")]
    BadUsername(String),
    #[error("a focal point must be bound to one community: give the community's area P-code")]
    FocalPointWithoutCommunity,
    #[error("only a focal point is bound to a community; a {0} sees every community")]
    CommunityForOtherRole(Role),
}

/// An account. The password hash is a PHC string (argon2id) and is not
/// serialised.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct User {
    pub id: String,
    pub username: String,
    pub display_name: String,
    pub role: Role,
    /// Area P-code of the community a focal point is bound to.
    pub community: Option<String>,
    #[serde(skip)]
    pub password_hash: String,
    pub active: bool,
}

impl User {
    /// A new active account, checked: a focal point has a community, no one else has.
    pub fn new(
        id: &str,
        username: &str,
        role: Role,
        community: Option<&str>,
        password_hash: String,
    ) -> Result<User, UserError> {
        let name_ok = (3..=64).contains(&username.len())
            && username.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
        if !name_ok {
            return Err(UserError::BadUsername(username.to_string()));
        }
        let community = community.map(str::trim).filter(|c| !c.is_empty()).map(str::to_string);
        match (role, &community) {
            (Role::FocalPoint, None) => return Err(UserError::FocalPointWithoutCommunity),
            (r, Some(_)) if r != Role::FocalPoint => return Err(UserError::CommunityForOtherRole(r)),
            _ => {}
        }
        Ok(User {
            id: id.to_string(),
            username: username.to_string(),
            display_name: username.to_string(),
            role,
            community,
            password_hash,
            active: true,
        })
    }

    pub fn accessor(&self) -> crate::crypto::Accessor {
        crate::crypto::Accessor { user_id: self.id.clone(), role: self.role }
    }
}
