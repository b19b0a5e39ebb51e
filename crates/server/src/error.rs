use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("server stopped: {0}")]
    Io(String),
}

/// An error answered to an HTTP client: a status and a reason in plain words.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
}

impl ApiError {
    pub fn bad_request(reason: impl Into<String>) -> Self {
        ApiError { status: StatusCode::BAD_REQUEST, reason: reason.into() }
    }
    pub fn not_found(reason: impl Into<String>) -> Self {
        ApiError { status: StatusCode::NOT_FOUND, reason: reason.into() }
    }
    pub fn internal(reason: impl Into<String>) -> Self {
        ApiError { status: StatusCode::INTERNAL_SERVER_ERROR, reason: reason.into() }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (self.status, Json(serde_json::json!({ "error": self.reason }))).into_response()
    }
}
