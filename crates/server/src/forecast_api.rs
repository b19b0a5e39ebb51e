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

use crate::ctx::Ctx;
use crate::error::ApiError;
use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};
use vitalcore_app::disclosure::{Audience, publish_warning, publish_warnings};
use vitalcore_app::warnings;
use vitalcore_proto::api::{self, Forecasts, WarningStatusChange};
use vitalcore_security::auth::User;
use vitalcore_store::forecasts::{EarlyWarning, ForecastRow, ForecastStore, WarningFilter, WarningStatus};

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

fn row_view(r: &ForecastRow, origin: vitalcore_framework::Month) -> api::ForecastRow {
    api::ForecastRow {
        unit: r.unit.clone(),
        name: r.name.clone(),
        month: r.month.to_string(),
        horizon: r.month.index() - origin.index(),
        mean: r.mean,
        p_any: r.p_any,
        p_ge: r.p_ge.iter().map(|(n, p)| (n.to_string(), *p)).collect(),
        q05: r.quantile(0.05),
        q50: r.quantile(0.5),
        q95: r.quantile(0.95),
    }
}

/// `GET /api/v1/forecasts`.
pub async fn forecasts(ctx: Ctx, Query(q): Query<ForecastQuery>) -> Result<Json<Forecasts>, ApiError> {
    let store = ctx.forecasts()?;
    let unit = q.unit.unwrap_or_else(|| "admin1".into());
    let kind = unit.clone();
    let found = ctx
        .blocking("forecasts.latest", move || {
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
    let rows = rows
        .iter()
        .filter(|r| q.area.as_deref().is_none_or(|a| a == r.unit))
        .map(|r| row_view(r, run.origin))
        .collect();
    let skill: Value = serde_json::from_str(&run.skill).unwrap_or(Value::Null);
    let parameters: Value = serde_json::from_str(&run.parameters).unwrap_or(Value::Null);
    Ok(Json(Forecasts {
        model_skill: skill["models"][&run.model].clone(),
        skill,
        run: api::ForecastRun {
            id: run.id,
            created: run.created,
            model: run.model,
            unit: run.unit_kind,
            target: run.target,
            origin: run.origin.to_string(),
            horizons: run.horizons,
            parameters,
        },
        rows,
    }))
}

/// `GET /api/v1/warnings`: the queue as the caller may see it
/// ([`vitalcore_app::disclosure::publish_warnings`]).
pub async fn warnings(ctx: Ctx, Query(q): Query<WarningQuery>) -> Result<Json<Value>, ApiError> {
    let store = ctx.forecasts()?;
    let audience = ctx.audience().await?;
    let status = match q.status.as_deref().filter(|s| !s.is_empty()) {
        Some(s) => Some(
            WarningStatus::parse(s)
                .ok_or_else(|| ApiError::bad_request(format!("status `{s}`: use new, acknowledged or closed")))?,
        ),
        None => None,
    };
    let filter = WarningFilter { status, open_only: q.open.unwrap_or(false), unit: q.area };
    let list = ctx.blocking("warnings.list", move || Ok(store.warnings(&filter)?)).await?;
    Ok(Json(json!({ "warnings": publish_warnings(list, &audience) })))
}

/// The statuses a person may move a warning to (a warning is raised `new`).
pub(crate) fn target_status(raw: &str) -> Option<WarningStatus> {
    match WarningStatus::parse(raw.trim()) {
        Some(s @ (WarningStatus::Acknowledged | WarningStatus::Closed)) => Some(s),
        _ => None,
    }
}

/// Who moves early warnings on (the rule is `vitalcore_app::warnings`).
pub(crate) fn may_move_warnings(user: &User) -> Result<(), ApiError> {
    Ok(warnings::may_move_warnings(user)?)
}

/// Moves warning `id` to `status` for `user` (checked first); the user name,
/// `now` and the note are recorded. Blocking: the API and the alert page
/// both move warnings through it.
pub(crate) fn move_warning(
    store: &dyn ForecastStore,
    user: &User,
    id: i64,
    status: WarningStatus,
    note: Option<&str>,
    now: Timestamp,
) -> Result<EarlyWarning, ApiError> {
    let moved = warnings::StatusChange::by_user(status, user, note)?.apply(store, id, now)?;
    tracing::info!(warning = id, status = status.as_str(), "early warning moved");
    Ok(moved)
}

/// `POST /api/v1/warnings/{id}/status`.
pub async fn set_status(ctx: Ctx, Path(id): Path<i64>, body: Bytes) -> Result<Json<Value>, ApiError> {
    let forecasts = ctx.forecasts()?;
    let reports = ctx.reports()?;
    let usage = "send {\"status\": \"acknowledged\"} or {\"status\": \"closed\"} (optionally with \"note\": \"...\")";
    let change: WarningStatusChange =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request(format!("{e}: {usage}")))?;
    let status = target_status(&change.status)
        .ok_or_else(|| ApiError::bad_request(format!("status `{}`: {usage}", change.status)))?;
    let (warning, audience) = ctx
        .signed_in(&reports, "warnings.set_status", move |_, call| {
            call.check_api_write()?;
            let moved = move_warning(&*forecasts, &call.caller.user, id, status, change.note.as_deref(), call.now)?;
            Ok((moved, Audience::of(Some(&call.caller.user))))
        })
        .await?;
    Ok(Json(json!(publish_warning(warning, &audience))))
}
