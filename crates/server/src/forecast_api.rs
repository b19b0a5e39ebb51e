//! Stored forecasts and early warnings (written by `vitalcore warnings run`).
//!
//! `GET /api/v1/forecasts?unit=admin1[&area=ID]`: the newest run of that unit
//! kind, its rows with their uncertainty (P(any), P(>= N), 5-50-95%
//! quantiles) and the backtest skill the model was chosen on.
//! `GET /api/v1/warnings[?open=true][&status=new][&area=ID]`: the
//! early-warning queue, newest first, as the caller may see it
//! ([`vitalcore_app::disclosure::publish_warnings`]): staff see it whole;
//! others get no notes and not who acted, and report bursts with their
//! count published as in exports, without the control limit.
//! `POST /api/v1/warnings/{id}/status` with `{"status": "acknowledged"}` or
//! `{"status": "closed"}`, and optionally `"note": "..."` (what was checked
//! or decided): an admin, analyst or responder moves a warning on; the
//! caller, the time and the note are recorded.

use crate::error::ApiError;
use crate::state::AppState;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, header};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use vitalcore_app::disclosure::{Audience, publish_warning, publish_warnings};
use vitalcore_security::auth::{Role, User};
use vitalcore_store::forecasts::{EarlyWarning, ForecastRow, ForecastStore, WarningFilter, WarningStatus, clean_note};

#[derive(Debug, Default, Deserialize)]
pub struct ForecastQuery {
    /// admin1 (default), admin2, grid or country
    unit: Option<String>,
    /// Only this area's rows
    area: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct WarningQuery {
    /// new, acknowledged or closed
    status: Option<String>,
    /// true: leave out closed warnings
    open: Option<bool>,
    area: Option<String>,
}

pub(crate) fn store(state: &AppState) -> Result<Arc<dyn ForecastStore>, ApiError> {
    state.forecasts.clone().ok_or_else(|| ApiError::unavailable("this server was started without the forecast store"))
}

async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, vitalcore_store::StoreError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(|e| ApiError::internal(e.to_string()))
}

fn row_json(r: &ForecastRow, origin: vitalcore_framework::Month) -> Value {
    let p_ge: serde_json::Map<String, Value> = r.p_ge.iter().map(|(n, p)| (n.to_string(), json!(p))).collect();
    json!({
        "unit": r.unit,
        "name": r.name,
        "month": r.month.to_string(),
        "horizon": r.month.index() - origin.index(),
        "mean": r.mean,
        "p_any": r.p_any,
        "p_ge": p_ge,
        "q05": r.quantile(0.05),
        "q50": r.quantile(0.5),
        "q95": r.quantile(0.95),
    })
}

pub async fn forecasts(
    State(state): State<Arc<AppState>>,
    Query(q): Query<ForecastQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = store(&state)?;
    let unit = q.unit.unwrap_or_else(|| "admin1".into());
    let kind = unit.clone();
    let found = blocking(move || {
        let Some(run) = store.latest_forecast_run(Some(&kind))? else { return Ok(None) };
        let rows = store.forecast_rows(run.id)?;
        Ok(Some((run, rows)))
    })
    .await?;
    let Some((run, rows)) = found else {
        return Err(ApiError::not_found(format!(
            "no {unit} forecasts stored yet: run `vitalcore warnings run --unit {unit}`"
        )));
    };
    let rows: Vec<Value> = rows
        .iter()
        .filter(|r| q.area.as_deref().is_none_or(|a| a == r.unit))
        .map(|r| row_json(r, run.origin))
        .collect();
    let skill: Value = serde_json::from_str(&run.skill).unwrap_or(Value::Null);
    let parameters: Value = serde_json::from_str(&run.parameters).unwrap_or(Value::Null);
    Ok(Json(json!({
        "run": {
            "id": run.id,
            "created": run.created,
            "model": run.model,
            "unit": run.unit_kind,
            "target": run.target,
            "origin": run.origin.to_string(),
            "horizons": run.horizons,
            "parameters": parameters,
        },
        "model_skill": skill["models"][&run.model],
        "skill": skill,
        "rows": rows,
    })))
}

pub async fn warnings(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Query(q): Query<WarningQuery>,
) -> Result<Json<Value>, ApiError> {
    let store = store(&state)?;
    let audience = crate::auth::audience(&state, &headers).await?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            WarningStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("status `{s}`: use new, acknowledged or closed")))?,
        ),
        None => None,
    };
    let filter = WarningFilter { status, open_only: q.open.unwrap_or(false), unit: q.area };
    let list = blocking(move || store.warnings(&filter)).await?;
    Ok(Json(json!({ "warnings": publish_warnings(list, &audience) })))
}

#[derive(Debug, Deserialize)]
struct StatusBody {
    status: String,
    #[serde(default)]
    note: Option<String>,
}

/// The statuses a person may move a warning to (a warning is raised `new`).
pub(crate) fn target_status(raw: &str) -> Option<WarningStatus> {
    match WarningStatus::parse(raw.trim()) {
        Some(s @ (WarningStatus::Acknowledged | WarningStatus::Closed)) => Some(s),
        _ => None,
    }
}

/// Who moves early warnings on: admins, analysts and responders, the roles
/// that triage community alerts. Focal points and viewers only read them.
pub(crate) fn may_move_warnings(user: &User) -> Result<(), ApiError> {
    if !user.active {
        return Err(ApiError::forbidden(format!("the account `{}` is deactivated", user.username)));
    }
    if !matches!(user.role, Role::Admin | Role::Analyst | Role::Responder) {
        return Err(ApiError::forbidden("only admins, analysts and responders move early warnings on"));
    }
    Ok(())
}

/// Moves warning `id` to `status` for `user` (checked first); the user name,
/// `now` and the note are recorded. Blocking: call it on the blocking pool.
pub(crate) fn move_warning(
    store: &dyn ForecastStore,
    user: &User,
    id: i64,
    status: WarningStatus,
    note: Option<&str>,
    now: Timestamp,
) -> Result<EarlyWarning, ApiError> {
    may_move_warnings(user)?;
    let note = clean_note(note).map_err(ApiError::bad_request)?;
    store
        .set_warning_status(id, status, &user.username, &now.to_string(), note.as_deref())
        .map_err(|e| ApiError::internal(e.to_string()))?
        .ok_or_else(|| ApiError::not_found(format!("no early warning {id}")))
}

pub async fn set_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(id): Path<i64>,
    body: Bytes,
) -> Result<Json<Value>, ApiError> {
    let forecasts = store(&state)?;
    let reports = crate::auth::reports(&state)?;
    let usage = "send {\"status\": \"acknowledged\"} or {\"status\": \"closed\"} (optionally with \"note\": \"...\")";
    let parsed: StatusBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("{e}: {usage}")))?;
    let status = target_status(&parsed.status)
        .ok_or_else(|| ApiError::bad_request(format!("status `{}`: {usage}", parsed.status)))?;
    let caller = crate::auth::require_caller(&reports, &headers, Timestamp::now())?;
    let json_body = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim().to_ascii_lowercase().starts_with("application/json"));
    if caller.session.is_some() && !json_body {
        return Err(ApiError::forbidden("send Content-Type: application/json (or use an API token)"));
    }
    let note = parsed.note;
    let audience = Audience::of(Some(&caller.user));
    let warning = crate::auth::blocking(move || {
        move_warning(&*forecasts, &caller.user, id, status, note.as_deref(), Timestamp::now())
    })
    .await??;
    Ok(Json(json!(publish_warning(warning, &audience))))
}
