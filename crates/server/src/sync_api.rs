//! `POST /api/v1/sync`: headquarters' side of synchronisation with field
//! offices. The body is a bundle (`vitalcore-sync`), signed and encrypted
//! with the office's credential, which is what authenticates the office (no
//! user session: an office is a machine of the mission, not a person); the
//! answer is a bundle for that office alone. A refused bundle is answered
//! with a reason that says what to do, and nothing of it is applied.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use vitalcore_app::sync::{SyncFailure, hq_answer};
use vitalcore_sync::SyncError;

use crate::{ApiError, AppState};

/// Largest bundle accepted (a batch of 5,000 reports is a few MB).
pub const SYNC_BODY_LIMIT: usize = 256 << 20;

pub async fn exchange(State(state): State<Arc<AppState>>, body: Bytes) -> Result<Response, ApiError> {
    let Some(store) = state.sync.clone() else {
        return Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "this server does not serve synchronisation"));
    };
    let answer = tokio::task::spawn_blocking(move || hq_answer(&*store, &body, jiff::Timestamp::now()))
        .await
        .map_err(|e| ApiError::Internal { detail: format!("sync worker: {e}") })?;
    match answer {
        Ok(bytes) => Ok(([(header::CONTENT_TYPE, "application/vnd.vitalcore.sync")], bytes).into_response()),
        Err(e) => {
            let status = match &e {
                SyncFailure::Sync(SyncError::UnknownOffice(_) | SyncError::BadSignature) => StatusCode::UNAUTHORIZED,
                SyncFailure::Sync(SyncError::Revoked { .. }) => StatusCode::FORBIDDEN,
                SyncFailure::Sync(SyncError::NewerSchema { .. }) | SyncFailure::Usage(_) => StatusCode::CONFLICT,
                e if e.is_refusal() => StatusCode::BAD_REQUEST,
                _ => return Err(ApiError::Internal { detail: e.to_string() }),
            };
            tracing::warn!(%status, reason = %e, "sync bundle refused");
            Err(ApiError::new(status, e.to_string()))
        }
    }
}
