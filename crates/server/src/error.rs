//! The one error type of the handlers, and how it reaches the client.
//!
//! A client error (bad input, not signed in, not allowed, not found, a
//! conflict) is answered with its status and a reason in plain words. A
//! failure of the server (the store, an analysis, a worker thread) is a
//! 500 that tells the client nothing but a request id: the detail goes to
//! the log with that id ([`conceal_internal_errors`]), so backend text never
//! leaves the server.

use crate::html::ErrorPage;
use axum::Json;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use thiserror::Error;
use vitalcore_app::access::AccessError;
use vitalcore_proto::api::{ErrorBody, FieldProblem};

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("server stopped: {0}")]
    Io(String),
}

/// Why a request was not answered as asked.
#[derive(Debug)]
pub enum ApiError {
    /// The request cannot be served: the client reads the status and reason
    /// (and for an invalid report, the problems field by field).
    Client { status: StatusCode, reason: String, fields: Option<Vec<FieldProblem>> },
    /// The server failed. `detail` is logged, never sent.
    Internal { detail: String },
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
            return ApiError::Internal { detail: reason.into() };
        }
        ApiError::Client { status, reason: reason.into(), fields: None }
    }
    pub fn bad_request(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, reason)
    }
    pub fn forbidden(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, reason)
    }
    pub fn not_found(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, reason)
    }
    pub fn unprocessable(reason: impl Into<String>, fields: Vec<FieldProblem>) -> Self {
        ApiError::Client { status: StatusCode::UNPROCESSABLE_ENTITY, reason: reason.into(), fields: Some(fields) }
    }
    /// The server runs without what the route needs (a configuration matter, not a failure).
    pub fn unavailable(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, reason)
    }
    /// A failure of the server: `detail` is for the log only.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        ApiError::Internal { detail: detail.to_string() }
    }
    /// A status another crate chose (400-599); 500 and above is internal.
    pub fn status(code: u16, reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), reason)
    }

    /// Logs a refusal (who was refused is on the request's span).
    fn log(&self) {
        if let ApiError::Client { status, reason, .. } = self {
            match *status {
                StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                    tracing::warn!(status = status.as_u16(), reason = %reason, "refused")
                }
                _ => tracing::debug!(status = status.as_u16(), reason = %reason, "client error"),
            }
        }
    }
}

/// The only text a client gets for a failure of the server.
const INTERNAL: &str = "internal error";

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError::status(e.http_status(), e.to_string())
    }
}

impl From<vitalcore_app::warnings::StatusError> for ApiError {
    fn from(e: vitalcore_app::warnings::StatusError) -> Self {
        match e.http_status() {
            500 => ApiError::internal(format!("early warnings: {e}")),
            status => ApiError::status(status, e.to_string()),
        }
    }
}

impl From<vitalcore_store::StoreError> for ApiError {
    fn from(e: vitalcore_store::StoreError) -> Self {
        ApiError::internal(format!("store: {e}"))
    }
}

impl From<crate::pool::Unfinished> for ApiError {
    fn from(e: crate::pool::Unfinished) -> Self {
        ApiError::internal(format!("analysis: {e}"))
    }
}

impl From<tokio::task::JoinError> for ApiError {
    fn from(e: tokio::task::JoinError) -> Self {
        ApiError::internal(format!("blocking task: {e}"))
    }
}

/// Marks a 500 whose answer [`conceal_internal_errors`] writes: the detail
/// to log, and whether the client reads HTML (a page) or JSON.
#[derive(Clone)]
pub(crate) struct InternalFailure {
    detail: String,
    page: bool,
}

impl ApiError {
    /// The answer as JSON ([`ErrorBody`]).
    fn json_response(self) -> Response {
        self.log();
        match self {
            ApiError::Client { status, reason, fields } => {
                (status, Json(ErrorBody { error: reason, fields, request_id: None })).into_response()
            }
            ApiError::Internal { detail } => internal_marker(detail, false),
        }
    }

    /// The answer as an HTML page (for the browser pages).
    pub(crate) fn page_response(self) -> Response {
        self.log();
        match self {
            ApiError::Client { status, reason, .. } => ErrorPage::client(status, &reason).response(),
            ApiError::Internal { detail } => internal_marker(detail, true),
        }
    }
}

fn internal_marker(detail: String, page: bool) -> Response {
    let mut response = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    response.extensions_mut().insert(InternalFailure { detail, page });
    response
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.json_response()
    }
}

/// An error of a browser page: answered as an HTML page.
#[derive(Debug)]
pub struct PageError(pub ApiError);

impl From<ApiError> for PageError {
    fn from(e: ApiError) -> Self {
        PageError(e)
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        self.0.page_response()
    }
}

/// Middleware: a 500 marked [`InternalFailure`] gets its answer here, where
/// the request id is known: the detail is logged with the id, the client
/// reads `{"error": "internal error", "request_id": ...}` (or the HTML
/// page saying the same).
pub(crate) async fn conceal_internal_errors(request: Request, next: Next) -> Response {
    let request_id =
        request.headers().get(crate::layers::REQUEST_ID).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let mut response = next.run(request).await;
    let Some(failure) = response.extensions_mut().remove::<InternalFailure>() else { return response };
    tracing::error!(request_id = %request_id, detail = %failure.detail, "internal error");
    if failure.page {
        ErrorPage::internal(&request_id).response()
    } else {
        let body = ErrorBody { error: INTERNAL.into(), fields: None, request_id: Some(request_id) };
        (StatusCode::INTERNAL_SERVER_ERROR, Json(body)).into_response()
    }
}
