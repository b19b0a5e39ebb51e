//! What every handler starts from ([`Ctx`]): the shared state, the
//! request's headers and span, and the one way to run store work (on the
//! blocking pool, in a `store` span) with the caller resolved first.
//!
//! Handlers check what they can without the store (the body, the query)
//! and then hand the rest to [`Ctx::signed_in`] or [`Ctx::visit`]: the
//! caller is read from the store on the same blocking thread as the work,
//! in the order the API has always answered in (a malformed body is 400
//! before an unknown caller is 401).

use crate::auth::{self, Caller};
use crate::error::ApiError;
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::HeaderMap;
use axum::http::request::Parts;
use jiff::Timestamp;
use std::convert::Infallible;
use std::sync::Arc;
use tracing::Span;
use vitalcore_app::disclosure::Audience;
use vitalcore_app::reports::Reports;
use vitalcore_store::forecasts::ForecastStore;

/// The extractor every handler takes.
pub struct Ctx {
    pub state: Arc<AppState>,
    headers: Arc<HeaderMap>,
    /// The request's span (see [`crate::layers`]): the caller is recorded on it.
    span: Span,
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, state: &Arc<AppState>) -> Result<Ctx, Infallible> {
        Ok(Ctx { state: state.clone(), headers: Arc::new(parts.headers.clone()), span: Span::current() })
    }
}

/// A request by a signed-in caller, as the work sees it.
pub struct Call {
    pub caller: Caller,
    /// One reading of the clock for the whole request.
    pub now: Timestamp,
    pub headers: Arc<HeaderMap>,
}

/// A request to a page anyone may open; `caller` when someone is signed in.
pub struct Visit {
    pub caller: Option<Caller>,
    pub now: Timestamp,
    pub headers: Arc<HeaderMap>,
}

impl Call {
    /// The JSON API's writes from a browser session need a JSON content
    /// type, which a cross-site form cannot send (on top of SameSite=Strict
    /// cookies). API tokens are never sent by a browser on its own.
    pub fn check_api_write(&self) -> Result<(), ApiError> {
        let json = self
            .headers
            .get(axum::http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
        if self.caller.session.is_some() && !json {
            return Err(ApiError::forbidden("send Content-Type: application/json (or use an API token)"));
        }
        Ok(())
    }
}

impl Ctx {
    pub fn headers(&self) -> &HeaderMap {
        &self.headers
    }

    /// The reports service, or 503 when the server runs without it.
    pub fn reports(&self) -> Result<Arc<Reports>, ApiError> {
        self.state.reports.clone().ok_or_else(|| {
            ApiError::unavailable("community reports are not enabled on this server (start it with `vitalcore serve`)")
        })
    }

    /// The forecast store, or 503 when the server runs without it.
    pub fn forecasts(&self) -> Result<Arc<dyn ForecastStore>, ApiError> {
        self.state
            .forecasts
            .clone()
            .ok_or_else(|| ApiError::unavailable("this server was started without the forecast store"))
    }

    /// Runs store work on the blocking pool in a `store` span (`op` names
    /// it) under the request's span.
    pub async fn blocking<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let span = tracing::info_span!(parent: &self.span, "store", op);
        tokio::task::spawn_blocking(move || span.in_scope(work)).await?
    }

    /// Runs `work` with the reports service for the signed-in caller (401
    /// when nobody is signed in; an unknown or revoked API token is 401
    /// too), on the blocking pool.
    pub async fn signed_in<T: Send + 'static>(
        &self,
        reports: &Arc<Reports>,
        op: &'static str,
        work: impl FnOnce(&Reports, Call) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reports, headers, request) = (reports.clone(), self.headers.clone(), self.span.clone());
        self.blocking(op, move || {
            let now = Timestamp::now();
            let caller = auth::caller(&reports, &headers, now, &request)?.ok_or_else(|| {
                ApiError::unauthorized(
                    "sign in first: send `Authorization: Bearer <token>` (see `vitalcore users token`) or log in at /login",
                )
            })?;
            work(&reports, Call { caller, now, headers })
        })
        .await
    }

    /// Runs `work` with the reports service and the caller if someone is
    /// signed in (an unknown or revoked API token is still 401), on the
    /// blocking pool.
    pub async fn visit<T: Send + 'static>(
        &self,
        reports: &Arc<Reports>,
        op: &'static str,
        work: impl FnOnce(&Reports, Visit) -> Result<T, ApiError> + Send + 'static,
    ) -> Result<T, ApiError> {
        let (reports, headers, request) = (reports.clone(), self.headers.clone(), self.span.clone());
        self.blocking(op, move || {
            let now = Timestamp::now();
            let caller = auth::caller(&reports, &headers, now, &request)?;
            work(&reports, Visit { caller, now, headers })
        })
        .await
    }

    /// What the caller may see of figures counted from community reports
    /// ([`vitalcore_app::disclosure`]): the public's without the reports
    /// service.
    pub async fn audience(&self) -> Result<Audience, ApiError> {
        let Some(reports) = self.state.reports.clone() else { return Ok(Audience::public()) };
        self.visit(&reports, "caller", |_, visit| Ok(Audience::of(visit.caller.as_ref().map(|c| &c.user)))).await
    }

    /// Runs an analysis on the analysis threads, one per core (the others
    /// wait their turn: see [`crate::pool`]), in an `analysis` span.
    pub async fn analyse<T: Send + 'static>(
        &self,
        op: &'static str,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, ApiError> {
        let span = tracing::info_span!(parent: &self.span, "analysis", op);
        Ok(self.state.analyses.run(move || span.in_scope(work)).await?)
    }
}
