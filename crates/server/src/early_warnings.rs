//! Early warnings in the staff alert queue (`/alerts`): the open warnings
//! `vitalcore warnings run` raised (a forecast probability at or above its
//! threshold, or community reports bursting above their recent level), shown
//! above the community alerts with their kind, area, month, level and when
//! they were raised, and the forms to acknowledge or close them, with an
//! optional note, for the roles that may; the latest note is shown with the
//! status. The status change is the one the API and the CLI make
//! ([`move_warning`] over the forecast store); the forms carry the page's
//! CSRF token like every other form of the page.

use crate::auth::{Caller, blocking, caller, reports};
use crate::error::ApiError;
use crate::forecast_api::{may_move_warnings, move_warning, target_status};
use crate::state::AppState;
use crate::web::{Form, check_csrf, error_page, esc, redirect};
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;
use std::fmt::Write as _;
use std::sync::Arc;
use vitalcore_app::reports::Reports;
use vitalcore_security::auth::Role;
use vitalcore_spatial::AreaIndex;
use vitalcore_store::forecasts::{
    EarlyWarning, ForecastStore, MAX_NOTE_CHARS, WarningFilter, WarningKind, WarningStatus,
};

/// Rows shown; the count above the table covers them all.
const SHOWN: usize = 50;

/// The open early warnings `caller` sees on the alert page: new ones first,
/// then acknowledged, newest first within each. A focal point sees those of
/// their community's area only (the area itself, the admin-1 area containing
/// it, or an admin-2 area inside it), as with community alerts.
pub(crate) fn open_warnings(
    store: &dyn ForecastStore,
    areas: &AreaIndex,
    caller: &Caller,
) -> Result<Vec<EarlyWarning>, ApiError> {
    let filter = WarningFilter { open_only: true, ..WarningFilter::default() };
    let mut list = store.warnings(&filter).map_err(|e| ApiError::internal(e.to_string()))?;
    if caller.user.role == Role::FocalPoint {
        let community = caller.user.community.as_deref().unwrap_or("");
        list.retain(|w| same_or_nested(areas, &w.unit, community));
    }
    // A stable sort keeps the store's newest-first order within each status.
    list.sort_by_key(|w| w.status != WarningStatus::New);
    Ok(list)
}

/// Whether area `a` is `b`, contains it, or lies inside it (one level apart).
fn same_or_nested(areas: &AreaIndex, a: &str, b: &str) -> bool {
    if a.is_empty() || b.is_empty() {
        return false;
    }
    let parent = |p: &str| areas.by_pcode(p).and_then(|x| x.parent_pcode.clone());
    a == b || parent(a).as_deref() == Some(b) || parent(b).as_deref() == Some(a)
}

/// `62%`, `4.5%`, `5%`: probabilities to a person, one decimal under 10%
/// when it is not zero.
fn percent(p: f64) -> String {
    let v = p * 100.0;
    let text = if v >= 10.0 { format!("{v:.0}") } else { format!("{v:.1}") };
    format!("{}%", text.strip_suffix(".0").unwrap_or(&text))
}

/// An RFC 3339 time as `YYYY-MM-DD HH:MM` (UTC), or as stored if unreadable.
fn minute(rfc3339: &str) -> String {
    rfc3339
        .parse::<Timestamp>()
        .map(|t| t.strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_else(|_| rfc3339.to_string())
}

fn kind_label(kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::ForecastThreshold => "Forecast threshold",
        WarningKind::ReportBurst => "Report burst",
    }
}

/// The level that raised the warning: a probability against its threshold,
/// or a monthly report count against its control limit. The exact count is
/// shown here (unlike the public API, which hides counts under 5): the roles
/// that see this page read the reports of these areas themselves.
fn level(w: &EarlyWarning) -> String {
    match w.kind {
        WarningKind::ForecastThreshold => format!("{} (threshold {})", percent(w.value), percent(w.threshold)),
        WarningKind::ReportBurst => format!("{} reports (limit {:.1})", w.value, w.threshold),
    }
}

fn status_cell(w: &EarlyWarning) -> String {
    let status = match (w.status, &w.status_by, &w.status_at) {
        (WarningStatus::New, ..) => "new".into(),
        (s, Some(by), Some(at)) => format!("{}<br><small>by {} {}</small>", s.as_str(), esc(by), esc(&minute(at))),
        (s, ..) => s.as_str().into(),
    };
    match &w.note {
        Some(n) => format!(
            "{status}<div class=\"ewn\">Note: {}<br><small>{} {}, {}</small></div>",
            esc(&n.text),
            esc(&n.by),
            esc(&minute(&n.at)),
            n.status.as_str()
        ),
        None => status,
    }
}

/// The forms a warning offers `caller`: acknowledge while new, close while
/// open; none for the roles that only read warnings.
fn actions(w: &EarlyWarning, caller: &Caller, csrf: &str) -> String {
    if may_move_warnings(&caller.user).is_err() {
        return String::new();
    }
    let form = |status: &str, label: &str| {
        format!(
            "<form class=\"i\" method=\"post\" action=\"/alerts/warnings/{}/status\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <input type=\"hidden\" name=\"status\" value=\"{status}\">\
             <input name=\"note\" maxlength=\"{MAX_NOTE_CHARS}\" placeholder=\"note (optional)\" aria-label=\"note\">\
             <button>{label}</button></form> ",
            w.id
        )
    };
    match w.status {
        WarningStatus::New => form("acknowledged", "Acknowledge") + &form("closed", "Close"),
        WarningStatus::Acknowledged => form("closed", "Close"),
        WarningStatus::Closed => String::new(),
    }
}

/// How many warnings are open and how many of them are new.
pub(crate) fn counts(list: &[EarlyWarning]) -> (usize, usize) {
    (list.len(), list.iter().filter(|w| w.status == WarningStatus::New).count())
}

/// The early-warning section of the alert page (`csrf` already escaped).
pub(crate) fn section(reports: &Reports, list: &[EarlyWarning], caller: &Caller, csrf: &str) -> String {
    let (open, new) = counts(list);
    let mut b = String::with_capacity(1024 + 600 * list.len().min(SHOWN));
    let _ = write!(
        b,
        "<h2 id=\"early-warnings\">Early warnings</h2><p>{open} open ({new} new): forecasts at or above their threshold \
         and bursts of community reports above their recent level, new first (at most {SHOWN} shown).</p>"
    );
    if list.is_empty() {
        return b;
    }
    b.push_str(
        "<table class=\"ewt\"><tr><th>Early warning</th><th>Area</th><th>Month</th><th>Level</th><th>Raised</th><th>Status</th><th>Actions</th></tr>",
    );
    for w in list.iter().take(SHOWN) {
        let name = reports.areas.by_pcode(&w.unit).map(|a| a.name.as_str()).unwrap_or("");
        let _ = write!(
            b,
            "<tr class=\"ew\" id=\"warning-{id}\"><td><span class=\"ewk\">{kind}</span><br><small>#{id} · {reason}</small></td>\
             <td>{unit}<br>{name}</td><td>{month}</td><td>{level}</td><td>{raised}</td><td>{status}</td><td>{actions}</td></tr>",
            id = w.id,
            kind = kind_label(w.kind),
            reason = esc(&w.reason),
            unit = esc(&w.unit),
            name = esc(name),
            month = w.month,
            level = level(w),
            raised = esc(&minute(&w.created)),
            status = status_cell(w),
            actions = actions(w, caller, csrf),
        );
    }
    b.push_str("</table>");
    b
}

/// `POST /alerts/warnings/{id}/status` (form: `csrf`, `status` =
/// `acknowledged` or `closed`, `note` optional): moves an early warning on
/// from the alert page.
pub async fn set_status(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let result = async {
        let reports = reports(&state)?;
        let forecasts = crate::forecast_api::store(&state)?;
        let form = Form::parse(body)?;
        blocking(move || {
            let now = Timestamp::now();
            let caller = caller(&reports, &headers, now)?.ok_or_else(|| ApiError::unauthorized("log in first"))?;
            check_csrf(&reports, Some(&caller), &headers, &form)?;
            let id: i64 = raw.parse().map_err(|_| ApiError::not_found(format!("no early warning {raw}")))?;
            let wanted = form.text("status");
            let status = target_status(&wanted).ok_or_else(|| {
                ApiError::bad_request(format!("status `{wanted}`: an early warning is acknowledged or closed"))
            })?;
            let note = form.text("note");
            move_warning(&*forecasts, &caller.user, id, status, Some(&note), now)?;
            Ok(redirect(&format!("/alerts#warning-{id}"), vec![]))
        })
        .await?
    }
    .await;
    result.unwrap_or_else(error_page)
}

#[cfg(test)]
mod tests {
    use super::*;
    use vitalcore_store::forecasts::WarningNote;

    fn warning(kind: WarningKind, value: f64, threshold: f64, status: WarningStatus) -> EarlyWarning {
        EarlyWarning {
            id: 7,
            created: "2026-01-02T03:04:05Z".into(),
            unit: "CF32".into(),
            month: "2023-01".parse().unwrap(),
            kind,
            value,
            threshold,
            reason: "6 community reports against a recent level of 0.0 <b>".into(),
            run_id: None,
            status,
            status_by: (status != WarningStatus::New).then(|| "ana".into()),
            status_at: (status != WarningStatus::New).then(|| "2026-01-03T00:00:00Z".into()),
            note: None,
        }
    }

    #[test]
    fn levels_read_as_a_probability_against_its_threshold_or_a_count_against_its_limit() {
        assert_eq!(
            level(&warning(WarningKind::ForecastThreshold, 0.62, 0.5, WarningStatus::New)),
            "62% (threshold 50%)"
        );
        assert_eq!(
            level(&warning(WarningKind::ForecastThreshold, 0.0123, 0.005, WarningStatus::New)),
            "1.2% (threshold 0.5%)"
        );
        assert_eq!(
            level(&warning(WarningKind::ForecastThreshold, 0.999, 0.05, WarningStatus::New)),
            "100% (threshold 5%)"
        );
        assert_eq!(level(&warning(WarningKind::ReportBurst, 6.0, 3.0, WarningStatus::New)), "6 reports (limit 3.0)");
    }

    #[test]
    fn status_names_who_moved_it_and_when_escaped() {
        assert_eq!(status_cell(&warning(WarningKind::ReportBurst, 6.0, 3.0, WarningStatus::New)), "new");
        let mut w = warning(WarningKind::ReportBurst, 6.0, 3.0, WarningStatus::Acknowledged);
        w.status_by = Some("<ana>".into());
        assert_eq!(status_cell(&w), "acknowledged<br><small>by &lt;ana&gt; 2026-01-03 00:00</small>");
        w.note = Some(WarningNote {
            text: "checked with <b>the</b> focal point".into(),
            by: "ben".into(),
            at: "2026-01-03T04:05:00Z".into(),
            status: WarningStatus::Acknowledged,
        });
        assert_eq!(
            status_cell(&w),
            "acknowledged<br><small>by &lt;ana&gt; 2026-01-03 00:00</small><div class=\"ewn\">Note: checked with \
             &lt;b&gt;the&lt;/b&gt; focal point<br><small>ben 2026-01-03 04:05, acknowledged</small></div>"
        );
    }

    #[test]
    fn unreadable_times_are_shown_as_stored() {
        assert_eq!(minute("2026-01-02T03:04:05Z"), "2026-01-02 03:04");
        assert_eq!(minute("yesterday"), "yesterday");
    }
}
