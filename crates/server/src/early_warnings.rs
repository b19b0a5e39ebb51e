//! Early warnings in the staff alert queue (`/alerts`): the open warnings
//! `vitalcore warnings run` raised (a forecast probability at or above its
//! threshold, or community reports bursting above their recent level), shown
//! above the community alerts with their kind, area, month, level and when
//! they were raised, and the forms to acknowledge or close them, with an
//! optional note, for the roles that may; the latest note is shown with the
//! status. The status change is the one the API and the CLI make
//! ([`move_warning`] over the forecast store); the forms carry the page's
//! CSRF token like every other form of the page. The section's markup is
//! `templates/early_warnings.html`.

use crate::auth::Caller;
use crate::ctx::Ctx;
use crate::error::{ApiError, PageError};
use crate::forecast_api::{may_move_warnings, move_warning, target_status};
use crate::html::redirect;
use crate::i18n::{label, t, tf};
use crate::web::{Form, check_csrf};
use axum::body::Bytes;
use axum::extract::Path;
use axum::extract::rejection::BytesRejection;
use axum::response::Response;
use jiff::Timestamp;
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
    let mut list = store.warnings(&filter)?;
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

fn kind_label(lang: &str, kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::ForecastThreshold => t(lang, "warnings.forecast_threshold"),
        WarningKind::ReportBurst => t(lang, "warnings.report_burst"),
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

/// The latest note, as the status cell shows it.
pub(crate) struct NoteView {
    /// "Note:" in the page's language.
    pub(crate) said: &'static str,
    pub(crate) text: String,
    pub(crate) by: String,
    pub(crate) at: String,
    pub(crate) status: String,
}

/// One warning row of the section (`templates/early_warnings.html`; its
/// status cell is `templates/warning_status.html`).
pub(crate) struct WarningRow {
    pub(crate) id: i64,
    pub(crate) kind: &'static str,
    pub(crate) reason: String,
    pub(crate) unit: String,
    pub(crate) name: String,
    pub(crate) month: String,
    pub(crate) level: String,
    pub(crate) raised: String,
    pub(crate) status: String,
    /// "by NAME WHEN": who moved it and when, once it is no longer new.
    pub(crate) moved: Option<String>,
    pub(crate) note: Option<NoteView>,
    /// The status forms the caller may use: (status, button).
    pub(crate) actions: Vec<(&'static str, &'static str)>,
}

fn row(lang: &'static str, reports: &Reports, w: &EarlyWarning, may_move: bool) -> WarningRow {
    let moved = match (w.status, &w.status_by, &w.status_at) {
        (WarningStatus::New, ..) => None,
        (_, Some(by), Some(at)) => Some(tf(lang, "warnings.by", &[("name", by), ("at", &minute(at))])),
        _ => None,
    };
    let acknowledge = ("acknowledged", t(lang, "warnings.acknowledge"));
    let close = ("closed", t(lang, "warnings.close"));
    let actions = match w.status {
        _ if !may_move => vec![],
        WarningStatus::New => vec![acknowledge, close],
        WarningStatus::Acknowledged => vec![close],
        WarningStatus::Closed => vec![],
    };
    WarningRow {
        id: w.id,
        kind: kind_label(lang, w.kind),
        reason: w.reason.clone(),
        unit: w.unit.clone(),
        name: reports.areas.by_pcode(&w.unit).map(|a| a.name.clone()).unwrap_or_default(),
        month: w.month.to_string(),
        level: level(w),
        raised: minute(&w.created),
        status: label(lang, "state", w.status.as_str()),
        moved,
        note: w.note.as_ref().map(|n| NoteView {
            said: t(lang, "warnings.note_said"),
            text: n.text.clone(),
            by: n.by.clone(),
            at: minute(&n.at),
            status: label(lang, "state", n.status.as_str()),
        }),
        actions,
    }
}

/// The early-warning section of the alert page.
pub(crate) struct WarningSection {
    /// "N early warnings open (M new)", the alert page's link to the section.
    pub(crate) summary: String,
    /// The sentence under the section's heading.
    pub(crate) intro: String,
    pub(crate) max_note: usize,
    pub(crate) rows: Vec<WarningRow>,
}

/// The section for `caller`: their open warnings, the first [`SHOWN`] as rows.
pub(crate) fn section(
    lang: &'static str,
    reports: &Reports,
    store: &dyn ForecastStore,
    caller: &Caller,
) -> Result<WarningSection, ApiError> {
    let list = open_warnings(store, &reports.areas, caller)?;
    let may_move = may_move_warnings(&caller.user).is_ok();
    let open = list.len().to_string();
    let new = list.iter().filter(|w| w.status == WarningStatus::New).count().to_string();
    let counts = [("open", open.as_str()), ("new", new.as_str()), ("shown", &SHOWN.to_string())];
    Ok(WarningSection {
        summary: tf(lang, "alerts.warnings_open", &counts),
        intro: tf(lang, "warnings.intro", &counts),
        max_note: MAX_NOTE_CHARS,
        rows: list.iter().take(SHOWN).map(|w| row(lang, reports, w, may_move)).collect(),
    })
}

/// `POST /alerts/warnings/{id}/status` (form: `csrf`, `status` =
/// `acknowledged` or `closed`, `note` optional): moves an early warning on
/// from the alert page.
pub async fn set_status(
    ctx: Ctx,
    Path(raw): Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let forecasts = ctx.forecasts()?;
    let form = Form::parse(body)?;
    let answer = ctx
        .visit(&reports, "warnings.set_status", move |service, visit| {
            let caller = visit.caller.ok_or_else(|| ApiError::unauthorized("log in first"))?;
            check_csrf(service, Some(&caller), &visit.headers, &form)?;
            let id: i64 = raw.parse().map_err(|_| ApiError::not_found(format!("no early warning {raw}")))?;
            let wanted = form.text("status");
            let status = target_status(&wanted).ok_or_else(|| {
                ApiError::bad_request(format!("status `{wanted}`: an early warning is acknowledged or closed"))
            })?;
            let note = form.text("note");
            move_warning(&*forecasts, &caller.user, id, status, Some(&note), visit.now)?;
            Ok(redirect(&format!("/alerts#warning-{id}"), vec![]))
        })
        .await?;
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::*;
    use askama::Template;
    use vitalcore_store::forecasts::WarningNote;

    /// The status cell alone, as the section renders it.
    #[derive(Template)]
    #[template(path = "warning_status.html")]
    struct StatusCell<'a> {
        r: &'a WarningRow,
    }

    fn status_cell(w: &EarlyWarning) -> String {
        let reports = test_reports();
        StatusCell { r: &row("en", &reports, w, true) }.render().unwrap()
    }

    fn test_reports() -> Reports {
        Reports::new(
            std::sync::Arc::new(vitalcore_store::testing::MemoryStore::new()),
            None,
            vitalcore_intake::CategoryMap::built_in(),
            vitalcore_classify::Classifier::lexicon_only(),
            &[],
            vitalcore_app::reports::IntakeConfig::default(),
            Timestamp::now(),
        )
        .unwrap()
    }

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
