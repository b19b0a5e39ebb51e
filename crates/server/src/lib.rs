//! The HTTP server: a JSON API over the store and the assessment, and one
//! web page (map of areas coloured by score, area profile). Everything the
//! page needs is served from the binary: no CDN, no tile server.

mod api;
mod error;
mod pages;
mod state;

pub use error::ServerError;
pub use state::AppState;

use axum::Router;
use axum::routing::get;
use std::net::SocketAddr;
use std::sync::Arc;

/// All routes. `/api/v1/...` is JSON; `/` is the web application.
pub fn router(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/", get(pages::index))
        .route("/static/app.js", get(pages::app_js))
        .route("/static/app.css", get(pages::app_css))
        .route("/api/v1/health", get(api::health))
        .route("/api/v1/framework", get(api::framework))
        .route("/api/v1/areas", get(api::areas))
        .route("/api/v1/boundaries", get(api::boundaries))
        .route("/api/v1/assessment", get(api::assessment))
        .route("/api/v1/areas/{id}/profile", get(api::profile))
        .with_state(state)
}

/// Serves until Ctrl-C. `on_ready` gets the bound address (port 0 picks one).
pub async fn serve(state: Arc<AppState>, addr: SocketAddr, on_ready: impl FnOnce(SocketAddr)) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Bind { addr: addr.to_string(), reason: e.to_string() })?;
    let local = listener.local_addr().map_err(|e| ServerError::Bind { addr: addr.to_string(), reason: e.to_string() })?;
    on_ready(local);
    axum::serve(listener, router(state))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| ServerError::Io(e.to_string()))
}
