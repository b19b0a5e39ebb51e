//! Accounts an administrator controls, logins and who is calling: the
//! rules the CLI (`vitalcore users ...`) and the server (login, every
//! authenticated request) share.
//!
//! - Disabling an account or changing its password ends its sessions and
//!   revokes its API tokens in one transaction: the next request with any of
//!   them gets 401. Enabling an account again gives nothing back: its owner
//!   logs in anew and partners get new tokens.
//! - A session ends `session_hours` after login, or earlier when left
//!   unused for `session_idle_minutes`; its last use is recorded at most
//!   once a minute ([`SessionPolicy::touch_every`]). Sessions past either
//!   limit are deleted when met and at every login.
//! - An API token works until revoked, or until it expires when given an
//!   expiry (`vitalcore users token NAME --partner P --expires 90d`).
//! - A login goes through the throttle first ([`Logins`],
//!   `vitalcore_security::ratelimit`): a throttled attempt is answered
//!   without checking the password, right or wrong.

use crate::audit;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;
use std::net::IpAddr;
use std::sync::{Mutex, OnceLock};
use thiserror::Error;
use vitalcore_security::auth::{
    Action, ApiToken, PasswordError, Resource, Role, Session, Token, TokenHash, TokenKind, User, UserError, authorize,
    hash_password, verify_password,
};
use vitalcore_security::crypto::CryptoError;
use vitalcore_security::ratelimit::{LoginThrottle, Throttled};
use vitalcore_store::StoreError;
use vitalcore_store::reports::{AccessEnded, ReportStore, TokenSelector};

use crate::reports::IntakeConfig;

#[derive(Debug, Error)]
pub enum AccountError {
    #[error("no user `{0}` (see `vitalcore users list`)")]
    NoSuchUser(String),
    #[error("the user `{0}` already exists")]
    Exists(String),
    #[error("the account `{0}` is disabled: enable it first (`vitalcore users enable {0}`)")]
    Disabled(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Invalid(String),
    /// The caller may not manage accounts (only admins may).
    #[error("{0}")]
    Denied(String),
    #[error(transparent)]
    User(#[from] UserError),
    #[error(transparent)]
    Password(#[from] PasswordError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl AccountError {
    /// The HTTP status a server answers with.
    pub fn http_status(&self) -> u16 {
        match self {
            AccountError::Password(PasswordError::Busy) => 503,
            AccountError::NoSuchUser(_) | AccountError::NotFound(_) => 404,
            AccountError::Exists(_) | AccountError::Store(StoreError::Conflict(_)) => 409,
            AccountError::Disabled(_) | AccountError::Denied(_) => 403,
            AccountError::Invalid(_) | AccountError::User(_) => 422,
            AccountError::Password(PasswordError::TooShort | PasswordError::TooLong) => 422,
            AccountError::Password(_) | AccountError::Crypto(_) | AccountError::Store(_) => 500,
        }
    }
}

/// How long sessions last and when their use is recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionPolicy {
    /// A session ends this long after login, however much it is used.
    pub hours: i64,
    /// A session unused this long ends.
    pub idle: SignedDuration,
    /// A session's last use is written at most this often (a write per
    /// request would be a write per page view).
    pub touch_every: SignedDuration,
}

impl SessionPolicy {
    pub fn of(config: &IntakeConfig) -> SessionPolicy {
        SessionPolicy {
            hours: config.session_hours,
            idle: SignedDuration::from_mins(config.session_idle_minutes.max(1)),
            touch_every: SignedDuration::from_mins(1),
        }
    }
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy::of(&IntakeConfig::default())
    }
}

/// Whether `user` may manage accounts, roles, sessions and API tokens
/// (the policy's `ManageUsers`: admins, on active accounts). The server's
/// administration pages check it before calling the functions below, which
/// the CLI calls directly (whoever runs it holds the database).
pub fn may_manage_accounts(user: &User) -> Result<(), AccountError> {
    authorize(user, Action::ManageUsers, Resource::Global)
        .map_err(|d| AccountError::Denied(format!("{}: only administrators manage accounts", d.message)))
}

fn user_named(store: &dyn ReportStore, username: &str) -> Result<User, AccountError> {
    store.user_by_username(username)?.ok_or_else(|| AccountError::NoSuchUser(username.to_string()))
}

/// A new active account with a hashed password. `by` (a user id, or
/// `system:cli` for the operator at the command line) is who did it, as
/// every function here records it in the audit chain.
pub fn create_user(
    store: &dyn ReportStore,
    username: &str,
    role: Role,
    community: Option<&str>,
    password: &str,
    by: &str,
) -> Result<User, AccountError> {
    if store.user_by_username(username)?.is_some() {
        return Err(AccountError::Exists(username.to_string()));
    }
    // Checked before the (slow) hash, so a bad name is told at once.
    User::new(&format!("u-{username}"), username, role, community, String::new())?;
    let user = User::new(&format!("u-{username}"), username, role, community, hash_password(password)?)?;
    store.save_user(&user, by)?;
    Ok(user)
}

/// Disables an account and ends its access (sessions and tokens), at once.
/// Disabling a disabled account ends whatever access is left.
pub fn disable_user(
    store: &dyn ReportStore,
    username: &str,
    now: Timestamp,
    by: &str,
) -> Result<(User, AccessEnded), AccountError> {
    let user = User { active: false, ..user_named(store, username)? };
    let ended = store.save_user_ending_access(&user, now, by)?;
    Ok((user, ended))
}

/// Enables an account again. Its old sessions and tokens stay ended.
pub fn enable_user(store: &dyn ReportStore, username: &str, by: &str) -> Result<User, AccountError> {
    let user = User { active: true, ..user_named(store, username)? };
    store.save_user(&user, by)?;
    Ok(user)
}

/// Sets a new password and ends the account's sessions and tokens, at once.
pub fn change_password(
    store: &dyn ReportStore,
    username: &str,
    password: &str,
    now: Timestamp,
    by: &str,
) -> Result<(User, AccessEnded), AccountError> {
    let user = user_named(store, username)?;
    let user = User { password_hash: hash_password(password)?, ..user };
    let ended = store.save_user_ending_access(&user, now, by)?;
    Ok((user, ended))
}

/// Gives an account another role (a focal point with its community, any
/// other role without one) and ends its sessions and API tokens at once, so
/// nothing goes on acting with the old role. The account stays enabled or
/// disabled as it was.
pub fn set_role(
    store: &dyn ReportStore,
    username: &str,
    role: Role,
    community: Option<&str>,
    now: Timestamp,
    by: &str,
) -> Result<(User, AccessEnded), AccountError> {
    let old = user_named(store, username)?;
    let checked = User::new(&old.id, &old.username, role, community, String::new())?;
    let user = User { role: checked.role, community: checked.community, ..old };
    let ended = store.save_user_ending_access(&user, now, by)?;
    Ok((user, ended))
}

/// An account as `vitalcore users list` shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AccountSummary {
    pub username: String,
    pub role: Role,
    pub community: Option<String>,
    pub active: bool,
    /// Sessions still valid now.
    pub sessions: usize,
    /// API tokens still valid now.
    pub tokens: usize,
    /// The latest use of any of its sessions.
    pub last_seen_at: Option<Timestamp>,
}

/// Every account, by username, with its live sessions and tokens.
pub fn list_users(
    store: &dyn ReportStore,
    policy: &SessionPolicy,
    now: Timestamp,
) -> Result<Vec<AccountSummary>, AccountError> {
    store
        .users()?
        .into_iter()
        .map(|u| {
            let sessions = store.sessions_of(&u.id)?;
            let live = sessions.iter().filter(|s| s.is_valid_at(now, policy.idle)).count();
            let tokens = store.api_tokens(&TokenSelector::User(u.id.clone()))?;
            Ok(AccountSummary {
                last_seen_at: sessions.iter().map(|s| s.last_seen_at).max(),
                sessions: live,
                tokens: tokens.iter().filter(|t| t.is_valid_at(now)).count(),
                username: u.username,
                role: u.role,
                community: u.community,
                active: u.active,
            })
        })
        .collect()
}

/// A new API token for a partner system acting as `username`, valid until
/// revoked or, with `expires_in`, until then. The token is in the returned
/// [`Token`] only: show it once.
pub fn issue_api_token(
    store: &dyn ReportStore,
    username: &str,
    partner: &str,
    expires_in: Option<SignedDuration>,
    now: Timestamp,
    by: &str,
) -> Result<(Token, ApiToken), AccountError> {
    let user = user_named(store, username)?;
    if !user.active {
        return Err(AccountError::Disabled(user.username));
    }
    let partner = partner.trim();
    if partner.is_empty() {
        return Err(AccountError::Invalid("name the partner system with --partner".into()));
    }
    let expires_at = match expires_in {
        None => None,
        Some(d) if d.is_positive() => Some(now.checked_add(d).map_err(|e| AccountError::Invalid(e.to_string()))?),
        Some(_) => return Err(AccountError::Invalid("a token's expiry must be in the future".into())),
    };
    let token = Token::generate(TokenKind::Api)?;
    let stored = ApiToken {
        token_hash: token.hash(),
        partner: partner.to_string(),
        user_id: user.id,
        created_at: now,
        revoked_at: None,
        expires_at,
    };
    store.save_api_token(&stored, by)?;
    Ok((token, stored))
}

/// Every API token of an account, revoked and expired ones included, oldest first.
pub fn tokens_of(store: &dyn ReportStore, username: &str) -> Result<Vec<ApiToken>, AccountError> {
    let user = user_named(store, username)?;
    Ok(store.api_tokens(&TokenSelector::User(user.id))?)
}

/// Revokes the tokens of a partner or the one with a public id. Returns
/// the tokens revoked now (empty when all were revoked before); naming no
/// token at all is `NotFound`.
pub fn revoke_tokens(
    store: &dyn ReportStore,
    which: &TokenSelector,
    now: Timestamp,
    by: &str,
) -> Result<Vec<ApiToken>, AccountError> {
    if let TokenSelector::PublicId(id) = which
        && TokenHash::public_id_bytes(id).is_none()
    {
        return Err(AccountError::Invalid(format!(
            "`{id}` is not a token id: ids are the 10 hex digits `vitalcore users tokens NAME` lists"
        )));
    }
    if store.api_tokens(which)?.is_empty() {
        return Err(AccountError::NotFound(match which {
            TokenSelector::Partner(p) => format!("no API token for partner `{p}`"),
            TokenSelector::PublicId(id) => format!("no API token with id `{id}`"),
            TokenSelector::User(u) => format!("no API token of `{u}`"),
        }));
    }
    Ok(store.revoke_api_tokens(which, now, by)?)
}

/// An account's sessions, oldest first (ended ones not yet swept included).
pub fn sessions_of(store: &dyn ReportStore, username: &str) -> Result<Vec<Session>, AccountError> {
    let user = user_named(store, username)?;
    Ok(store.sessions_of(&user.id)?)
}

/// Ends every session of an account, or the one with public id `id`;
/// returns how many ended.
pub fn end_sessions(store: &dyn ReportStore, username: &str, id: Option<&str>) -> Result<usize, AccountError> {
    let user = user_named(store, username)?;
    let Some(id) = id else { return Ok(store.delete_sessions_of(&user.id)?) };
    let wanted = id.trim().to_ascii_lowercase();
    let session = store
        .sessions_of(&user.id)?
        .into_iter()
        .find(|s| s.public_id() == wanted)
        .ok_or_else(|| AccountError::NotFound(format!("`{username}` has no session with id `{id}`")))?;
    store.delete_session(&session.token_hash)?;
    Ok(1)
}

/// Deletes the sessions past their end or idle too long; returns how many.
pub fn sweep_sessions(store: &dyn ReportStore, policy: &SessionPolicy, now: Timestamp) -> Result<usize, StoreError> {
    let idle_since = now.checked_sub(policy.idle).unwrap_or(now);
    store.delete_expired_sessions(now, idle_since)
}

/// The caller of a request bearing an API token: its account, when the token
/// is known, neither revoked nor expired, and the account is active. `None`
/// means 401.
pub fn caller_from_token(
    store: &dyn ReportStore,
    presented: &str,
    now: Timestamp,
) -> Result<Option<(User, ApiToken)>, StoreError> {
    let Some(token) = store.api_token(&TokenHash::of(presented))? else { return Ok(None) };
    if !token.is_valid_at(now) {
        return Ok(None);
    }
    Ok(store.user(&token.user_id)?.filter(|u| u.active).map(|u| (u, token)))
}

/// The caller of a request bearing a session cookie: its account, when the
/// session is known, not past its end, not idle too long, and the account is
/// active. An ended session is deleted; a live one's use is recorded (at most
/// every [`SessionPolicy::touch_every`]).
pub fn caller_from_session(
    store: &dyn ReportStore,
    presented: &str,
    policy: &SessionPolicy,
    now: Timestamp,
) -> Result<Option<(User, Session)>, StoreError> {
    let hash = TokenHash::of(presented);
    let Some(mut session) = store.session(&hash)? else { return Ok(None) };
    if !session.is_valid_at(now, policy.idle) {
        store.delete_session(&hash)?;
        return Ok(None);
    }
    let Some(user) = store.user(&session.user_id)?.filter(|u| u.active) else { return Ok(None) };
    if now.duration_since(session.last_seen_at) >= policy.touch_every {
        store.touch_session(&hash, now)?;
        session.last_seen_at = now;
    }
    Ok(Some((user, session)))
}

/// The login throttle a server keeps (see `vitalcore_security::ratelimit`).
#[derive(Debug, Default)]
pub struct Logins {
    throttle: Mutex<LoginThrottle>,
}

impl Logins {
    pub fn new(throttle: LoginThrottle) -> Logins {
        Logins { throttle: Mutex::new(throttle) }
    }

    fn with<T>(&self, f: impl FnOnce(&mut LoginThrottle) -> T) -> T {
        f(&mut self.throttle.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

/// A session a login started; `token` is the cookie value, shown once.
#[derive(Debug)]
pub struct NewSession {
    pub user: User,
    pub token: Token,
    pub session: Session,
}

/// What a login attempt came to.
#[derive(Debug)]
pub enum LoginOutcome {
    LoggedIn(Box<NewSession>),
    /// Wrong user name or password. `locks` are the throttle locks this
    /// failure started (for the log).
    Refused {
        locks: Vec<Throttled>,
    },
    /// The right password of a disabled account.
    Disabled,
    /// Too many failures: answered 429 with `Retry-After`, the password unchecked.
    Throttled(Throttled),
}

/// A hash to check unknown and disabled accounts' passwords against, so the
/// answer takes as long whether or not the name exists.
fn dummy_hash() -> &'static str {
    static HASH: OnceLock<String> = OnceLock::new();
    HASH.get_or_init(|| hash_password("not a password of anyone").unwrap_or_default())
}

/// Checks a login: the throttle first, then the password (argon2id, in the
/// bounded hashing gate), then a new session. Sessions past their end are
/// swept at each successful login. `client` is the caller's address when known.
pub fn login(
    store: &dyn ReportStore,
    logins: &Logins,
    username: &str,
    password: &str,
    client: Option<IpAddr>,
    policy: &SessionPolicy,
    now: Timestamp,
) -> Result<LoginOutcome, AccountError> {
    let attempt = match logins.with(|t| t.begin(username, client, now)) {
        Ok(attempt) => attempt,
        Err(wait) => return Ok(LoginOutcome::Throttled(wait)),
    };
    let user = match store.user_by_username(username.trim()) {
        Ok(user) => user,
        Err(e) => {
            logins.with(|t| t.abandoned(attempt));
            return Err(e.into());
        }
    };
    let stored = user.as_ref().map(|u| u.password_hash.as_str()).unwrap_or_else(|| dummy_hash());
    let right = match verify_password(password, stored) {
        Ok(right) => right && user.is_some(),
        // A damaged stored hash is a wrong password for the caller (and the
        // administrator resets it); being busy decides nothing.
        Err(PasswordError::BadStoredHash(_)) => false,
        Err(e) => {
            logins.with(|t| t.abandoned(attempt));
            return Err(e.into());
        }
    };
    let Some(user) = user.filter(|_| right) else {
        let locks = logins.with(|t| t.failed(attempt, now));
        audit::record_login_failed(store, username.trim(), now)?;
        return Ok(LoginOutcome::Refused { locks });
    };
    logins.with(|t| t.succeeded(attempt));
    if !user.active {
        audit::record_login_failed(store, &user.username, now)?;
        return Ok(LoginOutcome::Disabled);
    }
    let token = Token::generate(TokenKind::Session)?;
    let session = Session::start(token.hash(), &user.id, now, policy.hours);
    sweep_sessions(store, policy, now)?;
    store.save_session(&session)?;
    audit::record_login(store, &user, now)?;
    Ok(LoginOutcome::LoggedIn(Box::new(NewSession { user, token, session })))
}
