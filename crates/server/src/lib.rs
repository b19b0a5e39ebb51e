//! The HTTP server: a JSON API over the store and the assessment, one web
//! page (map of areas coloured by score, area profile), and the community
//! intake channels (report form, partner API, SMS webhooks), login and the
//! alert queue. Everything the pages need is served from the binary: no
//! CDN, no tile server, no JavaScript needed for the report form.
//!
//! The server is an HTTP layer: each handler takes a [`ctx::Ctx`] (state,
//! headers, the caller read on the blocking pool), calls the reports service
//! or the store, and answers a `vitalcore_proto::api` type or a page
//! ([`html`]). Errors are one type ([`ApiError`]) with its status; a
//! failure of the server is logged with a request id that is all the
//! client sees. Every request gets a `tracing` span ([`layers`]).

mod admin;
mod api;
mod auth;
mod briefings;
mod ctx;
mod early_warnings;
mod error;
mod forecast_api;
mod freshness;
mod html;
mod i18n;
mod intake_api;
mod layers;
mod mandates;
mod pages;
mod pool;
mod shell;
mod snapshot;
mod state;
mod sync_api;
mod web;

pub use error::{ApiError, ServerError};
pub use layers::{CONTENT_SECURITY_POLICY, cacheable};
pub use state::AppState;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use std::net::SocketAddr;
use std::sync::Arc;

/// All routes, with the layers every request goes through ([`layers`]).
/// `/api/v1/...` is JSON; `/` is the web application.
pub fn router(state: Arc<AppState>) -> Router {
    let api_limit = state.reports.as_ref().map(|r| r.config.max_api_body).unwrap_or(64 * 1024);
    let api_writes = Router::new()
        .route("/api/v1/reports", post(intake_api::submit).get(intake_api::list))
        .route("/api/v1/alerts/{reference}/steps", post(intake_api::step))
        .route("/api/v1/reports/{reference}/dimensions", post(intake_api::correct_dimensions))
        .route("/api/v1/warnings/{id}/status", post(forecast_api::set_status))
        .layer(DefaultBodyLimit::max(api_limit));
    let sms = Router::new()
        .route("/sms/twilio", post(intake_api::twilio))
        .route("/sms/rapidpro", post(intake_api::rapidpro))
        .layer(DefaultBodyLimit::max(intake_api::SMS_BODY_LIMIT));
    let forms = Router::new()
        .route("/report", get(web::report_page).post(web::report_post))
        .route("/login", get(web::login_page).post(web::login_post))
        .route("/logout", post(web::logout))
        .route("/alerts", get(web::alerts_page))
        .route("/alerts/{reference}/step", post(web::alert_step))
        .route("/alerts/warnings/{id}/status", post(early_warnings::set_status))
        .route("/admin", get(admin::users_page))
        .route("/admin/users", post(admin::create))
        .route("/admin/users/{name}", get(admin::user))
        .route("/admin/users/{name}/tokens", post(admin::issue_token))
        .route("/admin/users/{name}/sessions/end", post(admin::end_sessions))
        .route("/admin/users/{name}/role", post(admin::change_role))
        .route("/admin/users/{name}/{action}", post(admin::set_active))
        .route("/admin/tokens/{id}/revoke", post(admin::revoke_token))
        .route("/admin/oncall", get(admin::oncall_page).post(admin::oncall_add))
        .route("/admin/oncall/{id}/remove", post(admin::oncall_remove))
        .layer(DefaultBodyLimit::max(web::FORM_BODY_LIMIT));
    let sync = Router::new()
        .route("/api/v1/sync", post(sync_api::exchange))
        .layer(DefaultBodyLimit::max(sync_api::SYNC_BODY_LIMIT));
    let routes = Router::new()
        .route("/", get(pages::index))
        .route("/static/app.js", get(pages::app_js))
        .route("/static/app.css", get(pages::app_css))
        .route("/static/pages.css", get(pages::pages_css))
        .route("/static/back.js", get(pages::back_js))
        .route("/static/dashboard.css", get(briefings::dashboard_css))
        .route("/dashboard", get(briefings::dashboard))
        .route("/sitrep", get(briefings::sitrep))
        .route("/lang/{code}", get(i18n::choose))
        .route("/api/v1/health", get(api::health))
        .route("/api/v1/framework", get(api::framework))
        .route("/api/v1/areas", get(api::areas))
        .route("/api/v1/boundaries", get(api::boundaries))
        .route("/api/v1/assessment", get(api::assessment))
        .route("/mandates", get(mandates::page_handler))
        .route("/api/v1/mandates/gaps", get(mandates::gaps))
        .route("/api/v1/mandates/missions", get(mandates::missions))
        .route("/api/v1/mandates/missions/{mission}", get(mandates::timeline))
        .route("/api/v1/mandates/resolutions/{number}", get(mandates::resolution))
        .route("/api/v1/areas/{id}/profile", get(api::profile))
        .route("/api/v1/reports/{reference}", get(intake_api::show))
        .route("/api/v1/reports/{reference}/contact", get(intake_api::contact))
        .route("/api/v1/alerts", get(intake_api::alerts))
        .route("/api/v1/alerts/metrics", get(intake_api::alert_metrics))
        .route("/api/v1/forecasts", get(forecast_api::forecasts))
        .route("/api/v1/warnings", get(forecast_api::warnings))
        .merge(api_writes)
        .merge(sms)
        .merge(forms)
        .merge(sync)
        .fallback(pages::not_found)
        .with_state(state);
    layers::around(routes)
}

/// Logs to standard error through `tracing`: `VITALCORE_LOG` when set (a
/// level, or `target=level,...`: `info,tower_http=debug`), else `default`
/// (`info`, `warn`, `error`). The log names requests, callers and refusals,
/// never report text, contacts, passwords or tokens. Call it once, before
/// serving; a second call changes nothing.
pub fn init_logging(default: &str) {
    use tracing_subscriber::filter::Targets;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;
    let wanted = std::env::var("VITALCORE_LOG").ok().filter(|v| !v.trim().is_empty());
    let filter: Targets = wanted
        .as_deref()
        .and_then(|v| v.parse().ok())
        .or_else(|| default.parse().ok())
        .unwrap_or_else(|| Targets::new().with_default(tracing::Level::INFO));
    let format = tracing_subscriber::fmt::layer().with_writer(std::io::stderr).with_target(false);
    let _ = tracing_subscriber::registry().with(format).with(filter).try_init();
}

/// Serves until Ctrl-C. `on_ready` gets the bound address (port 0 picks one).
pub async fn serve(
    state: Arc<AppState>,
    addr: SocketAddr,
    on_ready: impl FnOnce(SocketAddr),
) -> Result<(), ServerError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| ServerError::Bind { addr: addr.to_string(), reason: e.to_string() })?;
    let local =
        listener.local_addr().map_err(|e| ServerError::Bind { addr: addr.to_string(), reason: e.to_string() })?;
    on_ready(local);
    tracing::info!(addr = %local, "listening");
    axum::serve(listener, router(state).into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
        .map_err(|e| ServerError::Io(e.to_string()))
}
