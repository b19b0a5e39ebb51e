//! The permission policy: one function decides every access.
//!
//! | action            | admin | analyst | responder | focal point        | viewer |
//! |-------------------|-------|---------|-----------|--------------------|--------|
//! | submit report     | yes   | yes     | yes       | own community      | no     |
//! | read report       | yes   | yes     | yes       | own community      | no     |
//! | read contact      | yes   | no      | yes       | own community      | no     |
//! | acknowledge/verify| yes   | yes     | yes       | no                 | no     |
//! | assign/respond/close | yes | no     | yes       | no                 | no     |
//! | give feedback     | yes   | no      | yes       | own community      | no     |
//! | manage users      | yes   | no      | no        | no                 | no     |
//! | read aggregates   | yes   | yes     | yes       | yes                | yes    |
//!
//! A report with no resolved area is outside every community, so a focal
//! point is denied it. Deactivated accounts are denied everything.

use super::user::{Role, User};
use serde::Serialize;
use std::fmt;
use thiserror::Error;

/// A step of the alert workflow, as a permission.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertAction {
    Acknowledge,
    /// Verify, or mark unfounded.
    Verify,
    Assign,
    Respond,
    Close,
    GiveFeedback,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    SubmitReport,
    ReadReport,
    ReadContact,
    Alert(AlertAction),
    ManageUsers,
    ReadAggregates,
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Action::SubmitReport => "submit reports",
            Action::ReadReport => "read reports",
            Action::ReadContact => "read reporters' contacts",
            Action::Alert(AlertAction::Acknowledge) => "acknowledge alerts",
            Action::Alert(AlertAction::Verify) => "verify alerts",
            Action::Alert(AlertAction::Assign) => "assign responses",
            Action::Alert(AlertAction::Respond) => "record responses",
            Action::Alert(AlertAction::Close) => "close alerts",
            Action::Alert(AlertAction::GiveFeedback) => "record feedback to communities",
            Action::ManageUsers => "manage users",
            Action::ReadAggregates => "read aggregate figures",
        };
        f.write_str(s)
    }
}

/// What an action is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resource<'a> {
    /// Nothing community-specific (users, aggregates).
    Global,
    /// A report or alert in the given area (P-code), `None` when unresolved.
    Area(Option<&'a str>),
}

/// Why access was refused. The server answers 403 with this message.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[error("{message}")]
pub struct Denied {
    pub message: String,
}

fn deny(message: String) -> Result<(), Denied> {
    Err(Denied { message })
}

/// Decides whether `user` may do `action` on `resource`.
pub fn authorize(user: &User, action: Action, resource: Resource<'_>) -> Result<(), Denied> {
    if !user.active {
        return deny(format!("the account `{}` is deactivated", user.username));
    }
    use AlertAction as A;
    let allowed_by_role = match user.role {
        Role::Admin => true,
        Role::Analyst => matches!(
            action,
            Action::SubmitReport
                | Action::ReadReport
                | Action::ReadAggregates
                | Action::Alert(A::Acknowledge | A::Verify)
        ),
        Role::Responder => !matches!(action, Action::ManageUsers),
        Role::FocalPoint => matches!(
            action,
            Action::SubmitReport
                | Action::ReadReport
                | Action::ReadContact
                | Action::ReadAggregates
                | Action::Alert(A::GiveFeedback)
        ),
        Role::Viewer => matches!(action, Action::ReadAggregates),
    };
    if !allowed_by_role {
        return deny(format!("a {} cannot {action}", user.role));
    }
    if user.role == Role::FocalPoint && action != Action::ReadAggregates {
        return check_own_community(user, action, resource);
    }
    Ok(())
}

/// A focal point acts only within the community they are bound to. A
/// submission without an area is allowed: the server files it under the
/// focal point's community.
fn check_own_community(user: &User, action: Action, resource: Resource<'_>) -> Result<(), Denied> {
    let own = user.community.as_deref().unwrap_or("");
    match resource {
        Resource::Area(Some(area)) if !own.is_empty() && area == own => Ok(()),
        Resource::Area(None) if action == Action::SubmitReport => Ok(()),
        Resource::Area(Some(_)) => {
            deny(format!("a focal point of community {own} cannot {action} of another community"))
        }
        Resource::Area(None) | Resource::Global => {
            deny(format!("a focal point of community {own} cannot {action} that belong to no community"))
        }
    }
}
