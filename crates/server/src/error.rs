use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use thiserror::Error;
use vitalcore_app::access::AccessError;

#[derive(Debug, Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {reason}")]
    Bind { addr: String, reason: String },
    #[error("server stopped: {0}")]
    Io(String),
}

/// An error answered to an HTTP client: a status and a reason in plain words,
/// and for invalid reports the field-by-field list.
#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub reason: String,
    pub fields: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, reason: impl Into<String>) -> Self {
        ApiError { status, reason: reason.into(), fields: None }
    }
    pub fn bad_request(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, reason)
    }
    pub fn not_found(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::NOT_FOUND, reason)
    }
    pub fn internal(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, reason)
    }
    pub fn unauthorized(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::UNAUTHORIZED, reason)
    }
    pub fn forbidden(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::FORBIDDEN, reason)
    }
    pub fn unavailable(reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, reason)
    }
    pub fn status(code: u16, reason: impl Into<String>) -> Self {
        ApiError::new(StatusCode::from_u16(code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), reason)
    }
}

impl From<AccessError> for ApiError {
    fn from(e: AccessError) -> Self {
        ApiError::status(e.http_status(), e.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = serde_json::json!({ "error": self.reason });
        if let Some(fields) = self.fields {
            body["fields"] = fields;
        }
        (self.status, Json(body)).into_response()
    }
}
