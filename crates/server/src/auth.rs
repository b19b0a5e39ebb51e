//! Who is calling: a partner's API token (`Authorization: Bearer vca_...`)
//! or a browser session cookie; cookies for sessions and CSRF bindings.
//! Handlers get the caller through [`crate::ctx::Ctx`].

use crate::error::ApiError;
use axum::http::HeaderMap;
use axum::http::header;
use jiff::Timestamp;
use tracing::Span;
use vitalcore_app::accounts::{SessionPolicy, caller_from_session, caller_from_token};
use vitalcore_app::reports::Reports;
use vitalcore_security::auth::{TokenHash, User};

pub const SESSION_COOKIE: &str = "vc_session";
/// Random value a form page sets when there is no session: the anonymous
/// form's CSRF token is an HMAC bound to it (signed double-submit cookie).
pub const FORM_COOKIE: &str = "vc_form";

/// An authenticated caller.
#[derive(Debug, Clone)]
pub struct Caller {
    pub user: User,
    /// The session, for browser callers.
    pub session: Option<TokenHash>,
    /// The partner name, for API-token callers.
    pub partner: Option<String>,
}

pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
}

pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// How the log names a token: the start of its hash, never the token.
pub fn token_id(hash: &TokenHash) -> String {
    hash.to_hex()[..12].to_string()
}

/// Resolves the caller (blocking: reads the store) and names them on the
/// request's span. A bearer token that is unknown, revoked or expired, or
/// whose account is disabled, is an error (401), not an anonymous call; an
/// expired, idle or unknown session cookie is anonymous.
pub fn caller(
    reports: &Reports,
    headers: &HeaderMap,
    now: Timestamp,
    request: &Span,
) -> Result<Option<Caller>, ApiError> {
    let store = &*reports.store;
    if let Some(token) = bearer(headers) {
        let hash = TokenHash::of(token);
        let invalid = || {
            tracing::warn!(token = %token_id(&hash), "API token refused");
            ApiError::unauthorized(
                "the API token is not valid: it is mistyped, revoked, expired, or from another server",
            )
        };
        let (user, stored) = caller_from_token(store, token, now)?.ok_or_else(invalid)?;
        request.record("user", tracing::field::display(&user.username));
        tracing::info!(token = %token_id(&hash), partner = %stored.partner, user = %user.username, "API token used");
        return Ok(Some(Caller { user, session: None, partner: Some(stored.partner) }));
    }
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        let policy = SessionPolicy::of(&reports.config);
        if let Some((user, session)) = caller_from_session(store, value, &policy, now)? {
            request.record("user", tracing::field::display(&user.username));
            return Ok(Some(Caller { user, session: Some(session.token_hash), partner: None }));
        }
    }
    Ok(None)
}

/// `Set-Cookie` value: HttpOnly, SameSite=Strict, path /; `Secure` when the
/// server's public URL is https.
pub fn set_cookie(reports: &Reports, name: &str, value: &str, max_age_secs: i64) -> String {
    let secure = reports.config.public_url.as_deref().is_some_and(|u| u.starts_with("https://"));
    format!(
        "{name}={value}; HttpOnly; SameSite=Strict; Path=/; Max-Age={max_age_secs}{}",
        if secure { "; Secure" } else { "" }
    )
}
