//! Mandates: the JSON routes (`/api/v1/mandates/...`: the missions, a
//! mission's timeline with its coverage matrix, a resolution with its tagged
//! paragraphs, the gaps for a month) and the page (`/mandates`), for
//! signed-in users as the dashboard is. Resolutions come from the folder
//! given to `serve --mandates`, else from those stored by `vitalcore
//! mandate import` (see [`crate::state::MandateSource`]). The rules live in
//! `vitalcore_app::mandates`; this module parses, calls and renders.
//!
//! The page is `templates/mandates.html`, its style `/static/dashboard.css`
//! (no inline style or script): the mission picker, its timeline, a
//! dimensions x resolutions table, the gaps for the chosen month, and a
//! resolution's text with its operative verbs and tasks marked.

use crate::ctx::Ctx;
use crate::error::{ApiError, PageError};
use crate::html::{page, redirect};
use crate::i18n;
use crate::shell::{Section, Shell};
use crate::state::MandateSource;
use askama::Template;
use axum::Json;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::Response;
use serde::Deserialize;
use serde_json::{Value, json};
use vitalcore_app::disclosure::{Audience, Disclosed};
use vitalcore_app::mandates::{self as app, Cell, Gaps, MandatesError, Target};
use vitalcore_app::mandates::{Kind, Point, Resolution, Timeline};
use vitalcore_framework::Month;

fn source(ctx: &Ctx) -> Result<MandateSource, ApiError> {
    source_of(&ctx.state)
}

fn source_of(state: &crate::state::AppState) -> Result<MandateSource, ApiError> {
    state.mandate_source().ok_or_else(|| {
        ApiError::unavailable(
            "no resolutions: import them with `vitalcore mandate import DIR`, or start the server with `--mandates DIR`",
        )
    })
}

fn api_error(e: MandatesError) -> ApiError {
    match e {
        MandatesError::UnknownMission { .. }
        | MandatesError::UnknownCountry { .. }
        | MandatesError::NoMandate { .. }
        | MandatesError::NothingStored => ApiError::not_found(e.to_string()),
        MandatesError::Store(e) => ApiError::from(e),
        other => ApiError::internal(other),
    }
}

/// `GET /api/v1/mandates/missions`: the missions the resolutions name.
pub async fn missions(ctx: Ctx) -> Result<Json<Value>, ApiError> {
    let (from, fw) = (source(&ctx)?, ctx.state.framework.clone());
    let list = ctx.analyse("mandate_missions", move || app::missions(&fw, from.borrow())).await?.map_err(api_error)?;
    Ok(Json(json!({ "missions": list })))
}

/// `GET /api/v1/mandates/missions/{mission}`: the mission's timeline (the
/// resolutions that mandate it, what each added and dropped) and its
/// dimensions x resolutions coverage matrix.
pub async fn timeline(ctx: Ctx, Path(mission): Path<String>) -> Result<Json<Value>, ApiError> {
    let (from, fw) = (source(&ctx)?, ctx.state.framework.clone());
    ctx.analyse("mandate_timeline", move || {
        let (line, _) = app::mission_from(&fw, from.borrow(), &mission).map_err(api_error)?;
        let coverage = app::coverage(&fw, &line);
        Ok(Json(json!({ "timeline": line, "coverage": coverage })))
    })
    .await?
}

/// `GET /api/v1/mandates/resolutions/{number}`: a resolution with its
/// tagged paragraphs (the `mandate tag` shape) and, when stored, its provenance.
pub async fn resolution(ctx: Ctx, Path(number): Path<String>) -> Result<Json<Value>, ApiError> {
    let number: u32 = number
        .trim()
        .parse()
        .map_err(|_| ApiError::bad_request(format!("resolution `{number}`: give its number, e.g. 2100")))?;
    let (from, fw) = (source(&ctx)?, ctx.state.framework.clone());
    ctx.analyse("mandate_resolution", move || {
        let found = app::resolution(&fw, from.borrow(), number).map_err(api_error)?;
        let (res, provenance) = found.ok_or_else(|| ApiError::not_found(format!("resolution {number}")))?;
        Ok(Json(json!({ "resolution": res, "provenance": provenance })))
    })
    .await?
}

/// The query of `GET /api/v1/mandates/gaps`: `mission` or `country`, and `month`.
#[derive(Debug, Deserialize)]
pub struct GapsQuery {
    pub mission: Option<String>,
    pub country: Option<String>,
    pub month: Option<String>,
}

/// `GET /api/v1/mandates/gaps?mission=UNMIL&month=2014-08`: the mandate in
/// force that month against the threats stored for the mission's countries
/// (see `vitalcore_app::mandates::gaps`), community-report counts as the
/// caller may see them.
pub async fn gaps(ctx: Ctx, Query(q): Query<GapsQuery>) -> Result<Json<Value>, ApiError> {
    let from = source(&ctx)?;
    let target = match (q.mission, q.country) {
        (Some(m), _) => Target::Mission(m),
        (None, Some(c)) => Target::Country(c),
        (None, None) => return Err(ApiError::bad_request("give mission=ACRONYM or country=ISO3")),
    };
    let month: Month = q
        .month
        .as_deref()
        .ok_or_else(|| ApiError::bad_request("give month=YYYY-MM"))?
        .parse()
        .map_err(|e| ApiError::bad_request(format!("month: {e}")))?;
    let audience = ctx.audience().await?;
    let state = ctx.state.clone();
    ctx.analyse("mandate_gaps", move || {
        let g = gaps_for(&state, &from, &target, month, &audience)?;
        serde_json::to_value(Disclosed::new(g, &audience)).map(Json).map_err(ApiError::internal)
    })
    .await?
}

fn gaps_for(
    state: &crate::state::AppState,
    from: &MandateSource,
    target: &Target,
    month: Month,
    audience: &Audience,
) -> Result<Gaps, ApiError> {
    let reports = state.reports.as_ref().map(|r| r.store.clone());
    app::gaps(&state.framework, &*state.store, reports.as_deref(), from.borrow(), target, month, audience)
        .map_err(api_error)
}

/// The page's query.
#[derive(Debug, Default, Deserialize)]
pub struct PageQuery {
    mission: Option<String>,
    month: Option<String>,
    resolution: Option<String>,
}

struct MissionOption {
    id: String,
    label: String,
    selected: bool,
}

struct StepView {
    symbol: String,
    link: String,
    date: String,
    restates: bool,
    mandating: String,
    added: String,
    dropped: String,
}

struct CellView {
    /// `added`, `in-force`, `dropped`, `none` (the CSS class).
    class: &'static str,
    /// The same in words (the table is read without colour).
    label: &'static str,
}

struct MatrixRow {
    dimension: String,
    cells: Vec<CellView>,
}

struct ThreatView {
    name: String,
    priority: bool,
    covered: bool,
    critical: String,
    indicators: u64,
    reports: String,
}

struct UncoveredView {
    name: String,
    later: String,
}

struct GapsView {
    in_force: String,
    in_force_date: String,
    tasks: String,
    threats: Vec<ThreatView>,
    uncovered: Vec<UncoveredView>,
    idle: String,
}

/// A piece of a paragraph's text, marked when it is an operative verb.
struct Segment {
    text: String,
    verb: bool,
}

struct ParagraphView {
    depth: usize,
    num: String,
    operative: bool,
    segments: Vec<Segment>,
    tasks: Vec<String>,
    strength: String,
}

struct ResolutionView {
    symbol: String,
    date: String,
    provenance: String,
    paragraphs: Vec<ParagraphView>,
}

#[derive(Template)]
#[template(path = "mandates.html")]
struct MandatesPage {
    shell: Shell,
    missions: Vec<MissionOption>,
    mission: String,
    month: String,
    steps: Vec<StepView>,
    columns: Vec<String>,
    matrix: Vec<MatrixRow>,
    gaps: Option<GapsView>,
    gaps_note: String,
    resolution: Option<ResolutionView>,
}

fn words(id: &str) -> String {
    id.replace('_', " ")
}

fn list(ids: &[String]) -> String {
    if ids.is_empty() { "–".to_string() } else { ids.iter().map(|t| words(t)).collect::<Vec<_>>().join(", ") }
}

/// The number of `S/RES/2100 (2013)`.
fn number_of(symbol: &str) -> Option<u32> {
    symbol.strip_prefix("S/RES/")?.split_whitespace().next()?.parse().ok()
}

fn link(mission: &str, month: &str, number: Option<u32>) -> String {
    let mut out = format!("/mandates?mission={mission}");
    if !month.is_empty() {
        out.push_str(&format!("&month={month}"));
    }
    if let Some(n) = number {
        out.push_str(&format!("&resolution={n}#text"));
    }
    out
}

fn steps(lang: &str, line: &Timeline, month: &str) -> Vec<StepView> {
    line.resolutions
        .iter()
        .map(|s| StepView {
            symbol: s.symbol.clone(),
            link: link(&line.mission, month, number_of(&s.symbol)),
            date: s.date.clone(),
            restates: s.kind == "restates",
            mandating: i18n::tf(lang, "mandates.paragraphs", &[("list", &s.mandating.join(", "))]),
            added: list(&s.added.tasks),
            dropped: list(&s.dropped.tasks),
        })
        .collect()
}

fn matrix(lang: &str, fw: &vitalcore_framework::Framework, line: &Timeline) -> Vec<MatrixRow> {
    app::coverage(fw, line)
        .rows
        .into_iter()
        .map(|r| MatrixRow {
            dimension: words(&r.dimension),
            cells: r
                .cells
                .into_iter()
                .map(|c| match c {
                    Cell::Added => CellView { class: "added", label: i18n::t(lang, "mandates.cell_added") },
                    Cell::InForce => CellView { class: "in-force", label: i18n::t(lang, "mandates.cell_in_force") },
                    Cell::Dropped => CellView { class: "dropped", label: i18n::t(lang, "mandates.cell_dropped") },
                    Cell::None => CellView { class: "none", label: i18n::t(lang, "mandates.cell_none") },
                })
                .collect(),
        })
        .collect()
}

fn gaps_view(lang: &str, g: &Gaps) -> GapsView {
    let name = |kind: &str, id: &str| {
        i18n::tf(lang, if kind == "dimension" { "mandates.dimension" } else { "mandates.theme" }, &[("id", &words(id))])
    };
    GapsView {
        in_force: g.in_force.symbol.clone(),
        in_force_date: g.in_force.date.clone(),
        tasks: list(&g.in_force.tasks),
        threats: g
            .threats
            .iter()
            .map(|t| ThreatView {
                name: name(&t.kind, &t.id),
                priority: t.priority,
                covered: t.covered,
                critical: format!("{:.1}", t.critical.max(t.pervasive)),
                indicators: t.indicators,
                reports: t.reports.to_string(),
            })
            .collect(),
        uncovered: g
            .uncovered
            .iter()
            .map(|u| UncoveredView {
                name: name(&u.kind, &u.id),
                later: match &u.later {
                    Some(l) => {
                        let mut said = i18n::tf(
                            lang,
                            "mandates.later",
                            &[("symbol", &l.symbol), ("date", &l.date), ("tasks", &list(&l.tasks))],
                        );
                        if !l.mandates_mission {
                            said.push_str(i18n::t(lang, "mandates.not_mandating"));
                        }
                        said
                    }
                    None => i18n::t(lang, "mandates.no_later").to_string(),
                },
            })
            .collect(),
        idle: list(&g.tasks_without_threat),
    }
}

/// `text` cut at its emphasised spans (the operative verbs printed in italics).
fn segments(text: &str, spans: &[(usize, usize)]) -> Vec<Segment> {
    let mut out = Vec::new();
    let mut at = 0;
    for &(s, e) in spans {
        let (Some(before), Some(verb)) = (text.get(at..s), text.get(s..e)) else { continue };
        if !before.is_empty() {
            out.push(Segment { text: before.to_string(), verb: false });
        }
        out.push(Segment { text: verb.to_string(), verb: true });
        at = e;
    }
    if let Some(rest) = text.get(at..).filter(|r| !r.is_empty()) {
        out.push(Segment { text: rest.to_string(), verb: false });
    }
    out
}

fn point_views(points: &[Point], depth: usize, out: &mut Vec<ParagraphView>) {
    for p in points {
        out.push(ParagraphView {
            depth,
            num: p.num.clone().unwrap_or_default(),
            operative: true,
            segments: segments(&p.text, &p.emphasis),
            tasks: p.tasks.iter().map(|t| words(t)).collect(),
            strength: p.strength.as_deref().map(words).unwrap_or_default(),
        });
        point_views(&p.points, depth + 1, out);
    }
}

fn resolution_view(
    lang: &str,
    res: &Resolution,
    from: Option<&vitalcore_store::mandates::Provenance>,
) -> ResolutionView {
    let mut paragraphs = Vec::new();
    for p in &res.paragraphs {
        paragraphs.push(ParagraphView {
            depth: 0,
            num: p.num.clone().unwrap_or_default(),
            operative: p.kind == Kind::Operative,
            segments: segments(&p.text, &p.emphasis),
            // A paragraph's own tasks are those its points do not give.
            tasks: if p.points.is_empty() { p.tasks.iter().map(|t| words(t)).collect() } else { Vec::new() },
            strength: p.strength.as_deref().map(words).unwrap_or_default(),
        });
        point_views(&p.points, 1, &mut paragraphs);
    }
    let provenance = match from {
        Some(f) => i18n::tf(
            lang,
            "mandates.provenance",
            &[("file", &f.file), ("sha", &f.sha256), ("at", &f.imported_at), ("by", &f.imported_by)],
        ),
        None => res.source_file.clone(),
    };
    ResolutionView { symbol: res.symbol.clone(), date: res.date.clone(), provenance, paragraphs }
}

/// `GET /mandates?mission=UNMIL&month=2014-08&resolution=2116`.
pub async fn page_handler(ctx: Ctx, Query(q): Query<PageQuery>) -> Result<Response, PageError> {
    let reports = ctx.reports()?;
    let state = ctx.state.clone();
    let view = ctx
        .visit(&reports, "mandates.page", move |service, visit| {
            let Some(caller) = visit.caller else { return Ok(Err(redirect("/login", vec![]))) };
            let from = source_of(&state)?;
            let lang = i18n::language(&visit.headers);
            let fw = &state.framework;
            let audience = Audience::of(Some(&caller.user));
            let mission = q.mission.as_deref().map(str::trim).unwrap_or_default().to_uppercase();
            let month = q.month.as_deref().map(str::trim).unwrap_or_default().to_string();
            let wanted: Option<Month> = match month.as_str() {
                "" => None,
                m => Some(m.parse().map_err(|e| ApiError::bad_request(format!("month: {e}")))?),
            };
            let known = app::missions(fw, from.borrow()).map_err(api_error)?;
            let missions = known
                .iter()
                .map(|m| MissionOption {
                    id: m.mission.clone(),
                    label: i18n::tf(
                        lang,
                        "mandates.mission_option",
                        &[
                            ("id", &m.mission),
                            ("first", &m.first[..4.min(m.first.len())]),
                            ("last", &m.last[..4.min(m.last.len())]),
                        ],
                    ),
                    selected: m.mission == mission,
                })
                .collect();
            let (mut steps_view, mut columns, mut rows) = (Vec::new(), Vec::new(), Vec::new());
            let (mut gaps, mut gaps_note) = (None, String::new());
            if !mission.is_empty() {
                let (line, _) = app::mission_from(fw, from.borrow(), &mission).map_err(|e| match e {
                    MandatesError::UnknownMission { .. } => ApiError::bad_request(e.to_string()),
                    other => api_error(other),
                })?;
                steps_view = steps(lang, &line, &month);
                columns = line.resolutions.iter().map(|s| s.symbol.clone()).collect();
                rows = matrix(lang, fw, &line);
                if let Some(m) = wanted {
                    match gaps_for(&state, &from, &Target::Mission(mission.clone()), m, &audience) {
                        Ok(g) => gaps = Some(gaps_view(lang, &g)),
                        Err(ApiError::Client { status: StatusCode::NOT_FOUND, reason, .. }) => gaps_note = reason,
                        Err(e) => return Err(e),
                    }
                }
            }
            let resolution = match q.resolution.as_deref().map(str::trim).filter(|r| !r.is_empty()) {
                None => None,
                Some(n) => {
                    let number: u32 = n.parse().map_err(|_| ApiError::bad_request(format!("resolution `{n}`")))?;
                    let found = app::resolution(fw, from.borrow(), number).map_err(api_error)?;
                    let (res, provenance) = found.ok_or_else(|| ApiError::not_found(format!("resolution {number}")))?;
                    Some(resolution_view(lang, &res, provenance.as_ref()))
                }
            };
            let title = if mission.is_empty() {
                i18n::t(lang, "mandates.title").to_string()
            } else {
                i18n::tf(lang, "mandates.title_mission", &[("mission", &mission)])
            };
            let shell = Shell::new(lang, Section::Mandates, title, "/mandates", Some(&caller), Some(service));
            Ok(Ok(MandatesPage {
                shell,
                missions,
                mission,
                month,
                steps: steps_view,
                columns,
                matrix: rows,
                gaps,
                gaps_note,
                resolution,
            }))
        })
        .await?;
    match view {
        Ok(v) => Ok(page(StatusCode::OK, vec![], &v)?),
        Err(redirect) => Ok(redirect),
    }
}
