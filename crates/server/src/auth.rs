//! Who is calling: a partner's API token (`Authorization: Bearer vca_...`)
//! or a browser session cookie; cookies and CSRF bindings for forms.

use crate::error::ApiError;
use crate::state::AppState;
use axum::http::HeaderMap;
use axum::http::header;
use jiff::Timestamp;
use std::sync::Arc;
use vitalcore_app::disclosure::Audience;
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

/// The reports service, or 503 when the server runs without it.
pub fn reports(state: &AppState) -> Result<Arc<Reports>, ApiError> {
    state.reports.clone().ok_or_else(|| {
        ApiError::unavailable("community reports are not enabled on this server (start it with `vitalcore serve`)")
    })
}

/// Runs store work on the blocking pool.
pub async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f).await.map_err(|e| ApiError::internal(e.to_string()))
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

/// Resolves the caller (blocking: reads the store). A bearer token that is
/// unknown or revoked is an error (401), not an anonymous call; an expired or
/// unknown session cookie is anonymous.
pub fn caller(reports: &Reports, headers: &HeaderMap, now: Timestamp) -> Result<Option<Caller>, ApiError> {
    let store = &*reports.store;
    let backend = |e: vitalcore_store::StoreError| ApiError::internal(e.to_string());
    if let Some(token) = bearer(headers) {
        let invalid = || {
            ApiError::unauthorized(
                "the API token is not valid: it is mistyped, revoked, expired, or from another server",
            )
        };
        let (user, stored) =
            vitalcore_app::accounts::caller_from_token(store, token, now).map_err(backend)?.ok_or_else(invalid)?;
        return Ok(Some(Caller { user, session: None, partner: Some(stored.partner) }));
    }
    if let Some(value) = cookie(headers, SESSION_COOKIE) {
        let policy = vitalcore_app::accounts::SessionPolicy::of(&reports.config);
        if let Some((user, session)) =
            vitalcore_app::accounts::caller_from_session(store, value, &policy, now).map_err(backend)?
        {
            return Ok(Some(Caller { user, session: Some(session.token_hash), partner: None }));
        }
    }
    Ok(None)
}

/// What the caller may see of figures from community reports
/// ([`vitalcore_app::disclosure`]): anonymous without the reports service.
pub async fn audience(state: &AppState, headers: &HeaderMap) -> Result<Audience, ApiError> {
    let Some(reports) = state.reports.clone() else { return Ok(Audience::public()) };
    let headers = headers.clone();
    let caller = blocking(move || caller(&reports, &headers, Timestamp::now())).await??;
    Ok(Audience::of(caller.as_ref().map(|c| &c.user)))
}

/// Like [`caller`], but a missing caller is 401.
pub fn require_caller(reports: &Reports, headers: &HeaderMap, now: Timestamp) -> Result<Caller, ApiError> {
    caller(reports, headers, now)?.ok_or_else(|| {
        ApiError::unauthorized(
            "sign in first: send `Authorization: Bearer <token>` (see `vitalcore users token`) or log in at /login",
        )
    })
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
